#[sonic_rt::test(pin_to_core = "zero")]
async fn pin_not_an_int() {}

#[sonic_rt::test(busy_poll = 1)]
async fn busy_poll_not_a_bool() {}

#[sonic_rt::test(event_interval = 0)]
async fn event_interval_zero() {}

#[sonic_rt::test(pin_to_core)]
async fn pin_without_value() {}

#[sonic_rt::test(busy_poll, busy_poll)]
async fn given_twice() {}

fn main() {}
