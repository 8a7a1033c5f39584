#[sonic_rt::main]
fn main() {}
