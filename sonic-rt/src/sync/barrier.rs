//! `Barrier`: tasks wait until a given number of them have arrived, then all go on.
//!
//! Rules:
//! - `arrived` counts the tasks of the current generation. The one that makes it `n` is the
//!   leader: it starts the next generation (count back to 0, `generation` + 1), wakes the others
//!   (`notify_waiters`) and returns at once.
//! - A waiter remembers its generation and returns once the generation has moved on, so a task
//!   that comes back for the next round cannot be let through by the round it already passed.
//! - As in tokio, `wait` is not cancellation safe: a task that gave up still counts as arrived.

use std::cell::Cell;
use std::fmt;

use super::notify::Notify;

/// A meeting point for a fixed number of tasks: each [`wait`](Barrier::wait) returns once `n`
/// tasks have called it; the local counterpart of `tokio::sync::Barrier`.
///
/// The barrier can be used again at once, for the next round of `n`. Exactly one task of each
/// round is told it is the leader.
///
/// # Examples
///
/// ```
/// use sonic_rt::sync::Barrier;
/// use std::rc::Rc;
///
/// sonic_rt::block_on(async {
///     let barrier = Rc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = Rc::clone(&barrier);
///             sonic_rt::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for task in tasks {
///         leaders += task.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    arrived: Cell<usize>,
    generation: Cell<u64>,
    released: Notify,
}

impl Barrier {
    /// Creates a barrier for `n` tasks. A barrier for 0 tasks behaves as one for 1 (every `wait`
    /// returns at once, as the leader), like std's and tokio's.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            arrived: Cell::new(0),
            generation: Cell::new(0),
            released: Notify::new(),
        }
    }

    /// Waits until `n` tasks (this one included) have called `wait` in this round.
    ///
    /// Not cancellation safe: a task that stops waiting still counts as arrived for the round.
    pub async fn wait(&self) -> BarrierWaitResult {
        let generation = self.generation.get();
        let arrived = self.arrived.get() + 1;
        if arrived == self.n {
            self.arrived.set(0);
            self.generation.set(generation.wrapping_add(1));
            self.released.notify_waiters();
            return BarrierWaitResult(true);
        }
        self.arrived.set(arrived);
        loop {
            let released = self.released.notified();
            if self.generation.get() != generation {
                return BarrierWaitResult(false);
            }
            released.await;
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &self.arrived.get())
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] returns: whether this task was the round's leader.
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Returns true for exactly one task of each round (the last to arrive).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

#[cfg(test)]
mod tests;
