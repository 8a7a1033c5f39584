//! Timers: sleeps never fire early, timeouts, intervals, reset, cancellation, the paused clock.

mod common;

use sonic_test_support::each_mode;

use common::DropCounter;
use sonic_rt::time::{
    self, interval, interval_at, sleep, sleep_until, timeout, Instant, MissedTickBehavior,
};
use sonic_rt::{spawn, Runtime};
use std::future::pending;
use std::time::Duration;

/// Generous: the machine is a shared VM. Precision belongs in benchmarks, not tests.
const SLACK: Duration = Duration::from_millis(500);

fn sleep_never_fires_early(rt: &Runtime) {
    rt.block_on(async {
        for us in [0u64, 1, 10, 50, 100, 300, 700, 1000, 1500, 3000] {
            let d = Duration::from_micros(us);
            let start = std::time::Instant::now();
            sleep(d).await;
            let took = start.elapsed();
            assert!(took >= d, "sleep({d:?}) returned after {took:?}");
            assert!(took < d + SLACK, "sleep({d:?}) took {took:?}");
        }
    });
}

fn many_concurrent_sleeps_fire_in_order(rt: &Runtime) {
    let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = [7u64, 3, 9, 1, 5, 2, 8, 4, 6, 0]
            .into_iter()
            .map(|i| {
                let order = order.clone();
                spawn(async move {
                    let deadline = start + Duration::from_micros(200 * i);
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline, "fired early");
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), (0..10).collect::<Vec<_>>());
}

fn sleep_until_past_is_ready(rt: &Runtime) {
    rt.block_on(async {
        let past = Instant::now() - Duration::from_millis(5);
        let start = std::time::Instant::now();
        sleep_until(past).await;
        assert!(start.elapsed() < SLACK);
    });
    assert_eq!(rt.pending_timers(), 0);
}

fn timeout_elapses_and_drops_inner_future(rt: &Runtime) {
    let drops = DropCounter::default();
    rt.block_on(async {
        let token = drops.token();
        let start = std::time::Instant::now();
        let res = timeout(Duration::from_millis(2), async move {
            let _t = token;
            pending::<()>().await
        })
        .await;
        assert!(res.is_err());
        assert!(start.elapsed() >= Duration::from_millis(2));
        let io: std::io::Error = res.unwrap_err().into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
    });
    assert_eq!(drops.get(), 1);
    assert_eq!(
        rt.pending_timers(),
        0,
        "the winning future's timer must be cancelled"
    );
}

fn dropping_sleeps_cancels_their_timers(rt: &Runtime) {
    rt.block_on(async {
        let mut sleeps: Vec<_> = (0..100)
            .map(|i| sleep(Duration::from_secs(10 + i)))
            .collect();
        // Register them all by polling once.
        for s in sleeps.iter_mut() {
            assert!(timeout(Duration::ZERO, s).await.is_err());
        }
    });
    assert_eq!(rt.pending_timers(), 0);
}

fn reset_moves_the_deadline(rt: &Runtime) {
    rt.block_on(async {
        let start = std::time::Instant::now();
        let mut s = sleep(Duration::from_secs(3600));
        // Register the long deadline, then pull it in.
        assert!(timeout(Duration::from_micros(10), &mut s).await.is_err());
        s.reset_mut(Instant::now() + Duration::from_micros(300));
        (&mut s).await;
        assert!(start.elapsed() < SLACK);
        assert!(s.is_elapsed());
        // Re-arm after it fired.
        let t = std::time::Instant::now();
        std::pin::Pin::new(&mut s).reset(Instant::now() + Duration::from_millis(1));
        assert!(!s.is_elapsed());
        (&mut s).await;
        assert!(t.elapsed() >= Duration::from_millis(1));
    });
}

fn interval_ticks_at_period(rt: &Runtime) {
    rt.block_on(async {
        let period = Duration::from_micros(500);
        let mut iv = interval(period);
        let first = iv.tick().await;
        let mut prev = first;
        for _ in 0..5 {
            let t = iv.tick().await;
            assert_eq!(
                t - prev,
                period,
                "scheduled instants are exactly one period apart"
            );
            assert!(Instant::now() >= t, "tick fired before its instant");
            prev = t;
        }
    });
}

fn missed_tick_behaviours_with_paused_clock(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let ms = Duration::from_millis;
        for (behavior, expect) in [
            (MissedTickBehavior::Burst, [10u64, 20, 30, 40]),
            (MissedTickBehavior::Delay, [10, 45, 55, 65]),
            (MissedTickBehavior::Skip, [10, 40, 50, 60]),
        ] {
            let start = Instant::now();
            let mut iv = interval_at(start + ms(10), ms(10));
            iv.set_missed_tick_behavior(behavior);
            time::advance(ms(35)).await; // busy for 35 ms: ticks at 10, 20, 30 are late
            let mut got = Vec::new();
            for _ in 0..4 {
                let _ = iv.tick().await;
                got.push((Instant::now() - start).as_millis() as u64);
            }
            // The first tick is observed at 35 (it was late); later ones follow the behaviour.
            let observed: Vec<u64> = expect.iter().map(|e| (*e).max(35)).collect();
            assert_eq!(got, observed, "{behavior:?}");
        }
        time::resume();
    });
}

fn paused_clock_jumps_to_next_timer(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let wall = std::time::Instant::now();
        let start = Instant::now();
        sleep(Duration::from_secs(3600)).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3600));
        assert!(
            wall.elapsed() < SLACK,
            "a paused clock must not wait for real"
        );
        time::advance(Duration::from_secs(5)).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3605));
        time::resume();
    });
}

each_mode!(
    sleep_never_fires_early,
    many_concurrent_sleeps_fire_in_order,
    sleep_until_past_is_ready,
    timeout_elapses_and_drops_inner_future,
    dropping_sleeps_cancels_their_timers,
    reset_moves_the_deadline,
    interval_ticks_at_period,
    missed_tick_behaviours_with_paused_clock,
    paused_clock_jumps_to_next_timer,
);

#[test]
fn sleep_outside_runtime_panics_clearly() {
    let err = std::panic::catch_unwind(|| {
        let mut s = std::pin::pin!(sleep(Duration::from_millis(1)));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = std::future::Future::poll(s.as_mut(), &mut cx);
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("inside a sonic runtime"), "{msg}");
}

#[test]
fn start_paused_builder_option() {
    let rt = sonic_rt::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let wall = std::time::Instant::now();
        sleep(Duration::from_secs(60)).await;
        assert!(wall.elapsed() < SLACK);
    });
}
