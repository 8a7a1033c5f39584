#[sonic_tokio::test(worker_threads = 2)]
async fn uses_two_workers() {}

fn main() {}
