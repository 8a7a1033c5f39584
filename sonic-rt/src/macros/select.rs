//! `select!` and the thread-local random start it draws on.

use std::cell::Cell;

/// Waits on several futures at once and runs the handler of the first one to complete; the
/// others are dropped. tokio's syntax:
///
/// ```text
/// select! {
///     biased;                                   // optional: poll in the written order
///     pattern = future, if precondition => handler,
///     ...
///     else => handler,                           // optional: when every branch is disabled
/// }
/// ```
///
/// - Preconditions are evaluated first; a branch whose precondition is `false` is disabled.
///   Then every future expression is evaluated, in order (a disabled branch's future is created
///   but never polled). Anything that implements `IntoFuture` is accepted. Temporaries in a
///   future expression live as long as in tokio: `_ = &mut make_future()` works.
/// - The futures are kept in the `select!`'s own future and polled in place: no allocation, no
///   boxing, and no more space than tokio's. To keep a future across loop iterations, pin it
///   outside the loop (with [`pin!`](crate::pin)) and pass `&mut fut`.
/// - Each poll first checks the task's cooperative budget, as tokio's does: when it is spent,
///   `select!` yields before polling anything, so a loop whose branches are always ready still
///   lets timers and other tasks run.
/// - Each poll visits the branches from a pseudo-random start (a cheap thread-local xorshift),
///   so no branch starves another; with `biased;` it visits them in the written order.
/// - When a future completes, its output is tested against the branch's pattern. If it
///   matches, the other futures are dropped and the handler runs with the pattern's bindings
///   (`ref`, `mut` and `ref mut` bindings work; the handler may `.await`, `return`, `break` or
///   `continue`). If it does not match, the branch is disabled and the others keep going.
/// - When every branch is disabled the `else` handler runs; without one, `select!` panics. A
///   `select!` with only an `else` branch is that handler.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use sonic_rt::sync::oneshot;
/// use sonic_rt::time::sleep;
///
/// sonic_rt::block_on(async {
///     let (tx, rx) = oneshot::channel::<u32>();
///     let _sender = sonic_rt::spawn(async move { tx.send(7).unwrap() });
///     let got = sonic_rt::select! {
///         Ok(v) = rx => v,
///         _ = sleep(Duration::from_secs(5)) => 0,
///     };
///     assert_eq!(got, 7);
/// });
/// ```
///
/// In a loop, with a precondition and `else`:
/// ```
/// use sonic_rt::sync::mpsc;
///
/// sonic_rt::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
///     for i in 1..=3 {
///         tx.send(i).unwrap();
///     }
///     drop(tx);
///     let mut sum = 0;
///     let mut open = true;
///     loop {
///         sonic_rt::select! {
///             biased;
///             Some(v) = rx.recv(), if open => sum += v,
///             else => break, // the channel closed: `None` did not match `Some(v)`
///         }
///         open = sum < 100;
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tt:tt)*) => {
        $crate::__private::select_impl!(($crate) $($tt)*)
    };
}

thread_local! {
    /// xorshift32 state; 0 means "not seeded yet" (xorshift never reaches 0 from non-zero).
    static RNG: Cell<u32> = const { Cell::new(0) };
}

/// A pseudo-random number in `0..n` (`n >= 1`) from a thread-local xorshift32, seeded once per
/// thread from std's per-process random hasher keys. Not cryptographic: it only spreads
/// `select!`'s start branch.
#[doc(hidden)]
pub fn thread_rng_n(n: u32) -> u32 {
    RNG.with(|cell| {
        let mut x = cell.get();
        if x == 0 {
            x = seed();
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        cell.set(x);
        // Multiply-shift maps the 32-bit value onto 0..n without a division.
        ((u64::from(x) * u64::from(n)) >> 32) as u32
    })
}

fn seed() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(std::ptr::from_ref(&h).addr());
    let s = h.finish();
    ((s >> 32) as u32 ^ s as u32) | 1
}

#[cfg(test)]
mod tests {
    use super::thread_rng_n;

    #[test]
    fn rng_covers_the_range_and_stays_below_n() {
        let mut seen = [0u32; 5];
        for _ in 0..10_000 {
            let v = thread_rng_n(5);
            assert!(v < 5);
            seen[v as usize] += 1;
        }
        for count in seen {
            assert!(count > 1_000, "skewed: {seen:?}");
        }
        assert_eq!(thread_rng_n(1), 0);
    }
}
