#[sonic_rt::test]
async fn takes_args(_x: u32) {}

#[sonic_rt::test]
#[test]
async fn double_test() {}

#[sonic_rt::test]
fn not_async() {}

#[sonic_rt::test]
async fn generic<T>() {}

fn main() {}
