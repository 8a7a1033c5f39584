//! sonic-rt: a single-thread runtime.

pub mod sync;
