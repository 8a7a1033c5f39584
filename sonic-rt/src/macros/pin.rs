//! `pin!`: pin values to the stack.

/// Pins each named local in place: after `pin!(fut)`, `fut` is a `Pin<&mut F>` that can be
/// polled, awaited by `&mut`, or passed to `select!` in a loop. `pin! { let x = expr; }`
/// declares and pins in one go. No allocation and no `unsafe` in the caller.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// sonic_rt::block_on(async {
///     let sleep = sonic_rt::time::sleep(Duration::from_millis(1));
///     sonic_rt::pin!(sleep);
///     (&mut sleep).await; // awaited through a reference: `sleep` is still there
///     assert!(sleep.is_elapsed());
///
///     sonic_rt::pin! {
///         let ready = std::future::ready(7);
///     }
///     assert_eq!(ready.await, 7);
/// });
/// ```
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => {
        $(
            let mut $x = ::core::pin::pin!($x);
        )*
    };
    ($(let $x:ident = $init:expr;)*) => {
        $(
            let mut $x = ::core::pin::pin!($init);
        )*
    };
}
