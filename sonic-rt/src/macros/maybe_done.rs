//! `MaybeDone`: one `join!`/`try_join!` branch, holding its future and then, in the same
//! place, its output (so a branch costs no more than the larger of the two).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A future until it completes, then its output until that is taken.
    #[doc(hidden)]
    #[project = Proj]
    #[project_replace = ProjReplace]
    #[derive(Debug)]
    pub enum MaybeDone<F: Future> {
        /// Not finished yet.
        Future { #[pin] future: F },
        /// Finished; the output waits to be taken.
        Done { output: F::Output },
        /// The output was taken, or `try_join!` returned the error.
        Gone,
    }
}

/// Wraps anything that implements `IntoFuture` (what `join!` accepts).
#[doc(hidden)]
pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture> {
    MaybeDone::Future {
        future: future.into_future(),
    }
}

impl<F: Future> MaybeDone<F> {
    /// Polls the future unless it has finished; `Ready` once the output is stored.
    #[doc(hidden)]
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            Proj::Future { future } => std::task::ready!(future.poll(cx)),
            Proj::Done { .. } | Proj::Gone => return Poll::Ready(()),
        };
        self.set(MaybeDone::Done { output });
        Poll::Ready(())
    }

    /// Moves the output out, if it is there.
    #[doc(hidden)]
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        if !matches!(*self, MaybeDone::Done { .. }) {
            return None;
        }
        match self.project_replace(MaybeDone::Gone) {
            ProjReplace::Done { output } => Some(output),
            _ => None,
        }
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// `try_join!`'s poll: like [`poll_done`](Self::poll_done), but an `Err` output is handed
    /// back at once (the branch is then `Gone`).
    #[doc(hidden)]
    pub fn poll_ok(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let output = match self.as_mut().project() {
            Proj::Future { future } => std::task::ready!(future.poll(cx)),
            Proj::Done { .. } | Proj::Gone => return Poll::Ready(Ok(())),
        };
        match output {
            Ok(output) => {
                self.set(MaybeDone::Done { output: Ok(output) });
                Poll::Ready(Ok(()))
            }
            Err(e) => {
                self.set(MaybeDone::Gone);
                Poll::Ready(Err(e))
            }
        }
    }
}
