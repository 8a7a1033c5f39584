//! Cooperative scheduling: each task poll gets a budget of operations (128 by default,
//! [`Builder::task_budget`](crate::Builder::task_budget)); sonic's I/O, channel receives and
//! `JoinSet` joins spend it, and once it is spent they return `Pending` and the task is queued
//! again, so an always-ready source cannot starve the other tasks, timers and I/O. tokio's
//! `task::coop`.

pub use super::consume_budget;
use crate::executor::budget;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Whether the running task has budget left: `false` once it is spent and the next budgeted
/// operation will yield. Always `true` outside a task or inside [`unconstrained`].
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     assert!(sonic_rt::task::coop::has_budget_remaining());
/// });
/// ```
pub fn has_budget_remaining() -> bool {
    budget::has_remaining()
}

pin_project_lite::pin_project! {
    /// The future returned by [`unconstrained`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        budget::with_unconstrained(|| inner.poll(cx))
    }
}

/// Turns off the cooperative budget for `inner`: inside its polls no budgeted operation ever
/// yields for lack of budget, and what it does is not taken from the task's budget. As in
/// tokio, such a future can starve the runtime if it never returns `Pending` on its own.
///
/// # Examples
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
///
/// sonic_rt::block_on(async {
///     let (tx, mut rx) = sonic_rt::sync::mpsc::unbounded_channel();
///     for i in 0..1000 {
///         tx.send(i).unwrap();
///     }
///     // 1000 receives in one poll: more than the budget of 128, none of them yields.
///     sonic_rt::task::unconstrained(poll_fn(|cx| {
///         for i in 0..1000 {
///             assert_eq!(rx.poll_recv(cx), Poll::Ready(Some(i)));
///         }
///         Poll::Ready(())
///     }))
///     .await;
/// });
/// ```
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}
