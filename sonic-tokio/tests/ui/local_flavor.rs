#[sonic_tokio::main(flavor = "local")]
async fn main() {}
