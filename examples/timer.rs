//! Timers: one-shot, periodic, cancel and reset, with sub-millisecond deadlines.
//!
//! Run: `cargo run -p sonic-examples --example timer`

use sonic_rt::time::{interval, sleep, timeout, Instant, MissedTickBehavior};
use std::time::Duration;

fn main() {
    sonic_rt::block_on(async {
        let start = Instant::now();

        // One-shot: a 250 µs sleep is not rounded up to a millisecond.
        sleep(Duration::from_micros(250)).await;
        println!("one-shot  250 µs sleep woke after {:?}", start.elapsed());

        // Periodic: five ticks 500 µs apart.
        let mut ticks = interval(Duration::from_micros(500));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let t0 = ticks.tick().await; // the first tick is immediate
        for i in 1..=5 {
            let t = ticks.tick().await;
            println!(
                "periodic  tick {i} scheduled at +{:?}, late by {:?}",
                t - t0,
                t.elapsed()
            );
        }

        // Cancel: a timer dropped before it fires costs O(log n) and never wakes anyone.
        let never = sleep(Duration::from_secs(3600));
        match timeout(Duration::from_micros(300), never).await {
            Ok(()) => unreachable!(),
            Err(elapsed) => println!("cancel    the one-hour sleep was dropped: {elapsed}"),
        }

        // Reset: move a pending timer's deadline (no allocation).
        let mut deadline = sleep(Duration::from_secs(60));
        let armed = Instant::now();
        deadline.reset_mut(Instant::now() + Duration::from_micros(400));
        deadline.await;
        println!(
            "reset     a 60 s timer reset to 400 µs fired after {:?}",
            armed.elapsed()
        );
    });
}
