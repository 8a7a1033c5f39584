//! The futures that `select!`, `join!` and `try_join!` generate are no larger than tokio's, both
//! measured here in the same binary, as tokio's own tests measure them: `size_of_val` of an async
//! block whose futures are locals moved into the macro.
#![forbid(unsafe_code)]

use std::future::ready;
use std::mem::size_of_val;

/// `(sonic, tokio)`: the size of the same async block expanded with each crate's macro.
macro_rules! sizes {
    (select: $($f:ident)+) => {
        (
            size_of_val(&async {
                $(let $f = ready(0i32);)+
                sonic_rt::select! { $(_ = $f => {},)+ }
            }),
            size_of_val(&async {
                $(let $f = ready(0i32);)+
                tokio::select! { $(_ = $f => {},)+ }
            }),
        )
    };
    ($mac:ident: $([$biased:ident])? $($f:ident)+) => {
        (
            size_of_val(&async {
                $(let $f = ready(Ok::<i32, ()>(0));)+
                let _ = sonic_rt::$mac!($($biased;)? $($f),+);
            }),
            size_of_val(&async {
                $(let $f = ready(Ok::<i32, ()>(0));)+
                let _ = tokio::$mac!($($biased;)? $($f),+);
            }),
        )
    };
}

#[test]
fn select_future_is_no_larger_than_tokios() {
    for (branches, (sonic, tokio)) in [
        (1, sizes!(select: a)),
        (2, sizes!(select: a b)),
        (3, sizes!(select: a b c)),
        (4, sizes!(select: a b c d)),
    ] {
        assert!(
            sonic <= tokio,
            "select! of {branches}: {sonic} bytes, tokio {tokio}"
        );
    }
}

#[test]
fn join_future_is_no_larger_than_tokios() {
    for (what, (sonic, tokio)) in [
        ("join! of 1", sizes!(join: a)),
        ("join! of 2", sizes!(join: a b)),
        ("join! of 3", sizes!(join: a b c)),
        ("join!(biased;) of 2", sizes!(join: [biased] a b)),
        ("try_join! of 1", sizes!(try_join: a)),
        ("try_join! of 2", sizes!(try_join: a b)),
        ("try_join! of 3", sizes!(try_join: a b c)),
        ("try_join!(biased;) of 2", sizes!(try_join: [biased] a b)),
    ] {
        assert!(sonic <= tokio, "{what}: {sonic} bytes, tokio {tokio}");
    }
}
