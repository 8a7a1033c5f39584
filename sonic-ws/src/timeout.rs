//! Racing a future against a sleep future from any timer.

use crate::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// Completes with the inner output, or `Err(Error::Timeout)` if `sleep` finishes first.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F, D> {
        #[pin]
        fut: F,
        #[pin]
        sleep: Option<D>,
    }
}

/// Runs `fut` with a deadline given as any future (e.g. `sonic_rt::time::sleep(d)`);
/// `None` means no deadline.
pub fn timeout<F, D, T>(fut: F, sleep: Option<D>) -> Timeout<F, D>
where
    F: Future<Output = Result<T, Error>>,
    D: Future<Output = ()>,
{
    Timeout { fut, sleep }
}

impl<F, D, T> Future for Timeout<F, D>
where
    F: Future<Output = Result<T, Error>>,
    D: Future<Output = ()>,
{
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(v);
        }
        match this.sleep.as_pin_mut() {
            Some(s) => s.poll(cx).map(|()| Err(Error::Timeout)),
            None => Poll::Pending,
        }
    }
}
