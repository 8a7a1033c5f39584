//! Deadlines at the edges: already passed (ready at once, without a turn of the loop), moved into
//! the past, missed interval ticks, `Duration::MAX` and far-future deadlines (saturate, never
//! panic), and timers created before a runtime exists.

use sonic_test_support::each_mode;

use sonic_rt::task::yield_now;
use sonic_rt::time::{
    self, interval, interval_at, sleep, sleep_until, timeout, Instant, MissedTickBehavior,
};
use sonic_rt::Runtime;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn sleep_past_its_deadline_is_ready_on_first_poll(rt: &Runtime) {
    // A fresh runtime: no timer was ever queued.
    rt.block_on(async {
        let mut s = pin!(sleep_until(Instant::now() - ms(1)));
        assert!(poll_once(s.as_mut()).is_ready(), "deadline in the past");
        let mut s = pin!(sleep(Duration::ZERO));
        assert!(poll_once(s.as_mut()).is_ready(), "zero duration");
        // The deadline passes between creation and the first poll, with a turn of the loop in
        // between (the runtime's last clock reading is older than the deadline).
        let mut s = pin!(sleep(ms(1)));
        std::thread::sleep(ms(3));
        yield_now().await;
        assert!(
            poll_once(s.as_mut()).is_ready(),
            "deadline passed after creation"
        );
        // A deadline taken from the std clock, which the runtime never read.
        let deadline = std::time::Instant::now();
        std::thread::sleep(ms(1));
        yield_now().await;
        let mut s = pin!(sleep_until(deadline.into()));
        assert!(poll_once(s.as_mut()).is_ready(), "std deadline in the past");
    });
    assert_eq!(rt.pending_timers(), 0);
}

fn is_elapsed_is_false_before_the_first_poll(rt: &Runtime) {
    rt.block_on(async {
        // As tokio: the timer does not exist before the first poll, even for a past deadline.
        let mut s = pin!(sleep_until(Instant::now() - ms(1)));
        assert!(!s.is_elapsed());
        assert!(poll_once(s.as_mut()).is_ready());
        assert!(s.is_elapsed());
        let mut s = pin!(sleep(Duration::from_secs(3600)));
        assert!(!s.is_elapsed());
        assert!(poll_once(s.as_mut()).is_pending());
        assert!(!s.is_elapsed());
    });
}

fn sleep_reset_into_the_past_is_ready_without_a_turn(rt: &Runtime) {
    rt.block_on(async {
        let counting = Arc::new(CountingWaker::default());
        let waker = Waker::from(counting.clone());
        let mut s = pin!(sleep(Duration::from_secs(3600)));
        assert!(s
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        s.as_mut().reset(Instant::now() - ms(1));
        assert!(
            s.is_elapsed(),
            "a deadline moved into the past is due at once"
        );
        assert_eq!(
            counting.0.load(Ordering::SeqCst),
            1,
            "the waiting task is woken"
        );
        assert!(poll_once(s.as_mut()).is_ready());
        // Re-armed into the future after that, it waits again.
        s.as_mut().reset(Instant::now() + Duration::from_secs(3600));
        assert!(!s.is_elapsed());
        assert!(poll_once(s.as_mut()).is_pending());
        // A sleep that completed on its first poll can be re-armed too.
        let mut t = pin!(sleep(Duration::ZERO));
        assert!(poll_once(t.as_mut()).is_ready());
        t.as_mut().reset(Instant::now() + ms(1));
        assert!(poll_once(t.as_mut()).is_pending());
        t.await;
    });
    assert_eq!(rt.pending_timers(), 0);
}

fn interval_catch_up_ticks_are_ready_without_a_turn(rt: &Runtime) {
    rt.block_on(async {
        time::pause();
        let start = Instant::now();
        let mut iv = interval_at(start + ms(10), ms(10));
        time::advance(ms(35)).await; // ticks at 10, 20 and 30 are due
        let mut cx = Context::from_waker(Waker::noop());
        for due in [10, 20, 30] {
            match iv.poll_tick(&mut cx) {
                Poll::Ready(t) => assert_eq!(t - start, ms(due)),
                Poll::Pending => panic!("the tick at {due} ms is due, yet pending"),
            }
        }
        assert!(
            iv.poll_tick(&mut cx).is_pending(),
            "the tick at 40 ms is not due"
        );
        // The first tick of `interval` is due at once.
        let mut iv = interval(ms(10));
        assert!(iv.poll_tick(&mut cx).is_ready());
        time::resume();
    });
}

fn duration_max_and_far_deadlines_saturate(rt: &Runtime) {
    rt.block_on(async {
        let mut cx = Context::from_waker(Waker::noop());
        // Intervals whose next tick is beyond the end of time, with every missed-tick behaviour.
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let mut iv = interval(Duration::MAX);
            iv.set_missed_tick_behavior(behavior);
            iv.tick().await;
            assert!(iv.poll_tick(&mut cx).is_pending());
            iv.reset();
            assert!(iv.poll_tick(&mut cx).is_pending());
            let mut iv = interval_at(Instant::now() - ms(5), Duration::MAX);
            iv.set_missed_tick_behavior(behavior);
            iv.tick().await;
            assert!(iv.poll_tick(&mut cx).is_pending());
        }
        let mut s = pin!(sleep(Duration::MAX));
        assert!(poll_once(s.as_mut()).is_pending());
        assert!(timeout(Duration::MAX, async { 1 }).await.is_ok());
        assert!(timeout(ms(1), sleep(Duration::MAX)).await.is_err());
        // A deadline centuries away, if this platform's Instant reaches that far.
        if let Some(far) = Instant::now().checked_add(Duration::from_secs(86400 * 365 * 600)) {
            assert!(timeout(ms(1), sleep_until(far)).await.is_err());
        }
        // A paused clock jumps to a saturated deadline, and advances by Duration::MAX.
        time::pause();
        let start = Instant::now();
        sleep(Duration::MAX).await;
        assert!(Instant::now() - start >= Duration::from_secs(86400 * 365 * 29));
        time::advance(Duration::MAX).await;
        time::resume();
    });
    assert_eq!(rt.pending_timers(), 0);
}

each_mode!(
    sleep_past_its_deadline_is_ready_on_first_poll,
    is_elapsed_is_false_before_the_first_poll,
    sleep_reset_into_the_past_is_ready_without_a_turn,
    interval_catch_up_ticks_are_ready_without_a_turn,
    duration_max_and_far_deadlines_saturate,
);

/// tokio panics when a timer is *created* outside a runtime (its `Sleep` looks up the runtime
/// handle at creation). sonic binds a timer to the runtime that first polls it, so creating one
/// first and running it on a runtime works; only polling outside a runtime panics (see
/// `sleep_outside_runtime_panics_clearly` in time_sleep.rs).
#[test]
fn timers_created_outside_a_runtime_run_on_the_runtime_that_polls_them() {
    let t = timeout(Duration::from_secs(5), async { 5 });
    let s = sleep(ms(1));
    let mut iv = interval(ms(1));
    let now = Instant::now(); // the monotonic clock outside a runtime, as in tokio
    let rt = sonic_test_support::rt(false);
    assert_eq!(rt.block_on(t), Ok(5));
    rt.block_on(s);
    rt.block_on(async {
        iv.tick().await;
        iv.tick().await;
    });
    assert!(now.elapsed() >= ms(1));
}
