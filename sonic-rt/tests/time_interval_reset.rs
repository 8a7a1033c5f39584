//! `Interval::{reset, reset_immediately, reset_after, reset_at}` with tokio's semantics, under a
//! paused clock, and `time::Duration`.

mod common;

use sonic_rt::time::{self, Duration, Instant, Interval, MissedTickBehavior};
use sonic_rt::Runtime;
use sonic_test_support::each_mode;
use std::future::poll_fn;
use std::task::Poll;

/// Polls the interval once without waiting.
async fn poll_tick(iv: &mut Interval) -> Poll<Instant> {
    poll_fn(|cx| Poll::Ready(iv.poll_tick(cx))).await
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Asserts the next tick: `Some(offset)` ready at `start + offset` ms, `None` pending.
async fn expect(iv: &mut Interval, start: Instant, tick: Option<u64>) {
    match (poll_tick(iv).await, tick) {
        (Poll::Ready(at), Some(offset)) => assert_eq!(at, start + ms(offset)),
        (Poll::Pending, None) => {}
        (got, want) => panic!("tick: got {got:?}, want {want:?} (ms after start)"),
    }
}

/// The first two ticks of tokio's reset tests: ticks at 0 and 300, then 100 ms into the next
/// period (now = start + 401).
async fn start_300ms_interval() -> (Interval, Instant) {
    time::pause();
    let start = Instant::now();
    time::advance(ms(1)).await;
    let mut iv = time::interval_at(start, ms(300));
    expect(&mut iv, start, Some(0)).await;
    time::advance(ms(100)).await;
    expect(&mut iv, start, None).await;
    time::advance(ms(200)).await;
    expect(&mut iv, start, Some(300)).await;
    time::advance(ms(100)).await;
    expect(&mut iv, start, None).await;
    (iv, start)
}

fn reset_restarts_one_period_from_now(rt: &Runtime) {
    rt.block_on(async {
        let (mut iv, start) = start_300ms_interval().await;
        iv.reset();
        time::advance(ms(250)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(50)).await;
        expect(&mut iv, start, Some(701)).await;
        time::advance(ms(300)).await;
        expect(&mut iv, start, Some(1001)).await;
    });
}

fn reset_immediately_ticks_now(rt: &Runtime) {
    rt.block_on(async {
        let (mut iv, start) = start_300ms_interval().await;
        iv.reset_immediately();
        expect(&mut iv, start, Some(401)).await;
        time::advance(ms(100)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(200)).await;
        expect(&mut iv, start, Some(701)).await;
    });
}

fn reset_after_ticks_after_the_delay(rt: &Runtime) {
    rt.block_on(async {
        let (mut iv, start) = start_300ms_interval().await;
        iv.reset_after(ms(20));
        time::advance(ms(19)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(1)).await;
        expect(&mut iv, start, Some(421)).await;
        time::advance(ms(100)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(200)).await;
        expect(&mut iv, start, Some(721)).await;
    });
}

fn reset_at_ticks_at_the_deadline(rt: &Runtime) {
    rt.block_on(async {
        let (mut iv, start) = start_300ms_interval().await;
        iv.reset_at(Instant::now() + ms(40));
        time::advance(ms(40)).await;
        expect(&mut iv, start, Some(441)).await;
        time::advance(ms(100)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(200)).await;
        expect(&mut iv, start, Some(741)).await;
    });
}

fn reset_at_may_wait_longer_than_a_period(rt: &Runtime) {
    rt.block_on(async {
        let (mut iv, start) = start_300ms_interval().await;
        iv.reset_at(Instant::now() + ms(1000));
        for _ in 0..3 {
            time::advance(ms(300)).await;
            expect(&mut iv, start, None).await;
        }
        time::advance(ms(100)).await;
        expect(&mut iv, start, Some(1401)).await;
        time::advance(ms(300)).await;
        expect(&mut iv, start, Some(1701)).await;
    });
}

fn reset_at_in_the_past_catches_up_by_the_missed_tick_behavior(rt: &Runtime) {
    rt.block_on(async {
        // Burst: the deadline 700 ms ago ticks now, then the two missed ticks, then on time.
        let (mut iv, start) = start_300ms_interval().await;
        let past = start; // now = start + 401
        iv.reset_at(past + ms(1));
        expect(&mut iv, start, Some(1)).await;
        expect(&mut iv, start, Some(301)).await;
        expect(&mut iv, start, None).await;
        // Delay: the late tick now, the next one a period after now.
        let mut iv = time::interval_at(start, ms(300));
        iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
        iv.reset_at(start + ms(1));
        expect(&mut iv, start, Some(1)).await;
        expect(&mut iv, start, None).await;
        time::advance(ms(300)).await;
        expect(&mut iv, start, Some(701)).await;
    });
}

each_mode!(
    reset_restarts_one_period_from_now,
    reset_immediately_ticks_now,
    reset_after_ticks_after_the_delay,
    reset_at_ticks_at_the_deadline,
    reset_at_may_wait_longer_than_a_period,
    reset_at_in_the_past_catches_up_by_the_missed_tick_behavior,
);

#[test]
fn time_duration_is_std_duration() {
    let d: std::time::Duration = sonic_rt::time::Duration::from_millis(5);
    assert_eq!(d, ms(5));
}

#[test]
fn reset_after_duration_max_saturates() {
    common::rt(false).block_on(async {
        time::pause();
        let mut iv = time::interval(ms(10));
        iv.tick().await;
        iv.reset_after(Duration::MAX);
        assert_eq!(poll_tick(&mut iv).await, Poll::Pending);
    });
}
