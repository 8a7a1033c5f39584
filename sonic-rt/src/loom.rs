//! The synchronisation primitives of the cross-thread protocols (the remote wake queue and the
//! task reference count): std's, or loom's when built with `--cfg sonic_loom`, so that loom can
//! model-check exactly the code that ships (see `executor/loom_tests.rs`).

#[cfg(not(sonic_loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicUsize, Ordering},
    Mutex,
};

#[cfg(sonic_loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicUsize, Ordering},
    Mutex,
};
