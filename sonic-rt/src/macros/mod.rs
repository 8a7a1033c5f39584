//! `select!`, `join!`, `try_join!`, `pin!` and what their expansions call.
//!
//! `select!`, `join!` and `try_join!` are thin `macro_rules!` wrappers that hand their input,
//! with `$crate` in front, to the code generators in `sonic-macros`; `pin!` is declarative.

mod join;
mod pin;
mod select;

/// Not public API: items the macro expansions refer to through `$crate::__private`.
#[doc(hidden)]
pub mod __private {
    pub use super::select::thread_rng_n;
    pub use sonic_macros::{join_impl, select_impl, try_join_impl};
}
