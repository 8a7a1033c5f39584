//! What the local [`mpsc`](super::mpsc) and the `Send` [`remote_mpsc`](super::remote_mpsc)
//! share, written once: for now the tests of the behaviour tokio specifies for both bounded
//! channels (`tests.rs`), which each channel's unit tests expand.

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(super) use tests::bounded_reserve_many_tests;
