//! `select!`, `join!`, `try_join!`, `pin!` and what their expansions call.
//!
//! `select!`, `join!` and `try_join!` are thin `macro_rules!` wrappers that hand their input,
//! with `$crate` in front, to the code generators in `sonic-macros`; `pin!` is declarative.

mod join;
mod maybe_done;
mod pin;
mod select;

/// Not public API: items the macro expansions refer to through `$crate::__private`.
#[doc(hidden)]
pub mod __private {
    pub use super::maybe_done::{maybe_done, MaybeDone};
    pub use super::select::thread_rng_n;
    pub use crate::executor::budget::poll_budget_available;
    pub use sonic_macros::{join_impl, select_impl, try_join_impl};
}
