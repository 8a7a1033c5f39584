#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod entry;
mod join;
mod select;

use proc_macro::TokenStream;

/// Marks `async fn main` (or any other `async fn`) as the entry point: the body runs on a new
/// sonic runtime with `block_on`. A function other than `main` may take arguments, `self`
/// included (as with tokio's attribute); the body then runs as an async block that owns them.
///
/// Options (all optional, comma-separated):
/// - `busy_poll` or `busy_poll = true|false`: never sleep in the kernel.
/// - `pin_to_core = N`: pin the thread to CPU `N` before building the runtime.
/// - `start_paused` or `start_paused = true|false`: start with a paused clock.
/// - `event_interval = N`, `event_capacity = N`, `task_budget = N`,
///   `spin_before_park_us = N`: the [`Builder`] options of the same names.
/// - `name = "..."`: the runtime's name (`Builder::name`, `Handle::name`), as tokio's option.
/// - `crate = "path"`: where sonic-rt is, if it was renamed.
/// - `flavor = "current_thread"` is accepted for tokio compatibility; other flavors and
///   `worker_threads` are refused (a sonic runtime is one thread).
///
/// [`Builder`]: https://docs.rs/sonic-rt/latest/sonic_rt/struct.Builder.html
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Marks an argument-less `async fn` as a test that runs on a new sonic runtime. Takes the same
/// options as `#[main]`. Other attributes (`#[should_panic]`, `#[ignore]`) are kept.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

/// The code generator of `sonic_rt::select!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn select_impl(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// The code generator of `sonic_rt::join!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn join_impl(input: TokenStream) -> TokenStream {
    join::expand(input.into(), false).into()
}

/// The code generator of `sonic_rt::try_join!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_impl(input: TokenStream) -> TokenStream {
    join::expand(input.into(), true).into()
}
