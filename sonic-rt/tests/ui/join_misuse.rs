async fn f() {
    // Only `biased;` may come before the futures.
    let _ = sonic_rt::join!(fair; async {}, async {});
    let _: Result<((),), ()> = sonic_rt::try_join!(unbiased; async { Ok(()) });
}

fn main() {
    let _ = f();
}
