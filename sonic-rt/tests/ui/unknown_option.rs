#[sonic_rt::main(busy_pol)]
async fn main() {}
