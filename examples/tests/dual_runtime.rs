//! The program set of `examples/dual/` (echo server, chat server, client with timeouts and an
//! interval, graceful shutdown on Ctrl-C), compiled twice: in `dual/on_tokio.rs` with
//! `use tokio as rt;` and in `dual/on_sonic.rs` with `use sonic as rt;` (sonic-rt plus
//! sonic-net). The same checks (`dual/checks.rs`, also compiled twice) drive each build from
//! outside with blocking std sockets, so both must show the same observable behaviour.

// Loading the same files as two modules is the point of this test.
#![allow(clippy::duplicate_mod)]

#[path = "dual/on_tokio.rs"]
mod on_tokio;

#[path = "dual/on_sonic.rs"]
mod on_sonic;
