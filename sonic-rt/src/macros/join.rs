//! `join!` and `try_join!`.

/// Waits on several futures at once, on the current task, and returns all their outputs as a
/// tuple, in the order written. The futures are polled in place (no allocation, no spawn; no
/// more space than tokio's `join!`); each poll starts with the next branch, so a future that is
/// always ready cannot starve the others. With `biased;` first (`join!(biased; a, b)`), every
/// poll goes in the written order instead, as in tokio.
///
/// Unlike `spawn`, nothing runs concurrently with other tasks' threads: the futures interleave
/// on this task. Accepts anything that implements `IntoFuture`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use sonic_rt::time::{sleep, Instant};
///
/// sonic_rt::block_on(async {
///     let t0 = Instant::now();
///     let (a, b) = sonic_rt::join!(
///         async { sleep(Duration::from_millis(20)).await; 1 },
///         async { sleep(Duration::from_millis(20)).await; "two" },
///     );
///     assert_eq!((a, b), (1, "two"));
///     assert!(t0.elapsed() < Duration::from_millis(39)); // waited together, not one by one
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($tt:tt)*) => {
        $crate::__private::join_impl!(($crate) $($tt)*)
    };
}

/// Like [`join!`], for futures that return `Result<T, E>` (one `E` for all): returns
/// `Ok((t1, t2, ...))` when all succeed, or the first `Err` as soon as one fails, dropping the
/// others. Takes `biased;` like [`join!`].
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let ok: Result<_, &str> = sonic_rt::try_join!(async { Ok(1) }, async { Ok(2) });
///     assert_eq!(ok, Ok((1, 2)));
///
///     let err: Result<(i32, i32), &str> = sonic_rt::try_join!(
///         async { Err("boom") },
///         std::future::pending::<Result<i32, &str>>(), // never finishes; dropped
///     );
///     assert_eq!(err, Err("boom"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($tt:tt)*) => {
        $crate::__private::try_join_impl!(($crate) $($tt)*)
    };
}
