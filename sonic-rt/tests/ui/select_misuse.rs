async fn f() {
    // No branch at all.
    sonic_rt::select! {};
    // An expression handler followed by another branch without a comma.
    sonic_rt::select! {
        _ = std::future::ready(1) => 1
        _ = std::future::ready(2) => 2,
    };
    // Two else branches.
    sonic_rt::select! {
        _ = std::future::ready(1) => (),
        else => (),
        else => (),
    };
}

fn main() {
    let _ = f();
}
