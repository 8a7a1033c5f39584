//! Unix signals. Signals are process-wide, so these tests live in their own test binary and
//! take a lock so that they run one at a time.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::signal::unix::{signal, SignalKind};
use sonic_rt::time::{sleep, timeout};
use sonic_rt::Runtime;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::Duration;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signum` to this thread (the handler runs before `raise` returns).
fn raise(signum: libc::c_int) {
    // SAFETY: raise takes a signal number; the tests install the handler first.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

/// Sends `signum` to the process: any thread that does not block it may run the handler.
fn kill_self(signum: libc::c_int) {
    // SAFETY: kill with our own pid and a signal number.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
}

const LIMIT: Duration = Duration::from_secs(5);

each_mode!(
    raise_wakes_a_waiting_task,
    kill_to_the_process_wakes_a_waiting_task,
    two_listeners_on_one_signal_both_wake,
    listener_created_after_a_processed_delivery_does_not_see_it,
    listener_created_before_the_runtime_processed_a_delivery_sees_it,
    sigint_while_busy_is_seen_by_a_later_ctrl_c,
    deliveries_coalesce,
    ctrl_c_resolves_on_sigint,
    last_listener_gone_frees_pipe_and_task,
);

fn raise_wakes_a_waiting_task(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let waiter = sonic_rt::spawn(async move { timeout(LIMIT, usr1.recv()).await });
        sleep(Duration::from_millis(5)).await; // the waiter is parked by now
        raise(libc::SIGUSR1);
        assert_eq!(waiter.await.unwrap(), Ok(Some(())));
    });
}

fn kill_to_the_process_wakes_a_waiting_task(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        let waiter = sonic_rt::spawn(async move { timeout(LIMIT, usr2.recv()).await });
        sleep(Duration::from_millis(5)).await;
        kill_self(libc::SIGUSR2);
        assert_eq!(waiter.await.unwrap(), Ok(Some(())));
    });
}

fn two_listeners_on_one_signal_both_wake(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut a = signal(SignalKind::hangup()).unwrap();
        let mut b = signal(SignalKind::hangup()).unwrap();
        let ta = sonic_rt::spawn(async move { timeout(LIMIT, a.recv()).await });
        let tb = sonic_rt::spawn(async move { timeout(LIMIT, b.recv()).await });
        sleep(Duration::from_millis(5)).await;
        raise(libc::SIGHUP);
        assert_eq!(ta.await.unwrap(), Ok(Some(())));
        assert_eq!(tb.await.unwrap(), Ok(Some(())));
    });
}

fn listener_created_after_a_processed_delivery_does_not_see_it(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut first = signal(SignalKind::window_change()).unwrap();
        raise(libc::SIGWINCH);
        // The runtime processes the delivery (the first listener sees it)...
        assert_eq!(timeout(LIMIT, first.recv()).await, Ok(Some(())));
        // ...so a listener created afterwards does not.
        let mut late = signal(SignalKind::window_change()).unwrap();
        let late_saw = sonic_rt::select! {
            biased;
            _ = late.recv() => true,
            _ = sleep(Duration::from_millis(30)) => false,
        };
        assert!(
            !late_saw,
            "a listener saw a signal the runtime processed before it existed"
        );
        // It does see the next one.
        raise(libc::SIGWINCH);
        assert_eq!(timeout(LIMIT, late.recv()).await, Ok(Some(())));
    });
}

/// tokio's semantics: a delivery the runtime has not processed yet (it came while the runtime
/// was busy) is seen by a listener created afterwards.
fn listener_created_before_the_runtime_processed_a_delivery_sees_it(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut first = signal(SignalKind::window_change()).unwrap();
        raise(libc::SIGWINCH);
        // No await in between: the runtime has not looked at the delivery yet.
        let mut late = signal(SignalKind::window_change()).unwrap();
        assert_eq!(timeout(LIMIT, first.recv()).await, Ok(Some(())));
        assert_eq!(timeout(LIMIT, late.recv()).await, Ok(Some(())));
    });
}

/// The case: after a first `ctrl_c()` returned (its listener, and the runtime's
/// signal driver with it, gone), a SIGINT arriving while the program is busy is seen by the
/// next `ctrl_c()`.
fn sigint_while_busy_is_seen_by_a_later_ctrl_c(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let first = sonic_rt::spawn(timeout(LIMIT, sonic_rt::signal::ctrl_c()));
        sleep(Duration::from_millis(5)).await; // listening by now
        raise(libc::SIGINT);
        assert!(matches!(first.await.unwrap(), Ok(Ok(()))));
        // Busy: no await between the delivery and the next ctrl_c.
        raise(libc::SIGINT);
        let second = timeout(Duration::from_secs(2), sonic_rt::signal::ctrl_c()).await;
        assert!(
            matches!(second, Ok(Ok(()))),
            "the SIGINT sent while busy was lost"
        );
    });
}

fn deliveries_coalesce(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let mut alarm = signal(SignalKind::alarm()).unwrap();
        raise(libc::SIGALRM);
        raise(libc::SIGALRM);
        assert_eq!(timeout(LIMIT, alarm.recv()).await, Ok(Some(())));
        assert!(timeout(Duration::from_millis(20), alarm.recv())
            .await
            .is_err());
    });
}

fn ctrl_c_resolves_on_sigint(rt: &Runtime) {
    let _serial = serial();
    rt.block_on(async {
        let waiter = sonic_rt::spawn(timeout(LIMIT, sonic_rt::signal::ctrl_c()));
        sleep(Duration::from_millis(5)).await; // the waiter is listening by now
        raise(libc::SIGINT);
        assert!(matches!(waiter.await.unwrap(), Ok(Ok(()))));
    });
}

fn last_listener_gone_frees_pipe_and_task(rt: &Runtime) {
    let _serial = serial();
    let (sources, tasks) = (rt.io_sources(), rt.live_tasks());
    rt.block_on(async {
        let a = signal(SignalKind::quit()).unwrap();
        let b = signal(SignalKind::terminate()).unwrap();
        assert_eq!(rt.io_sources(), sources + 1, "one pipe per runtime");
        drop((a, b));
        sonic_rt::task::yield_now().await;
    });
    rt.run_pending().unwrap();
    assert_eq!(rt.io_sources(), sources);
    assert_eq!(rt.live_tasks(), tasks);
}

#[test]
fn listeners_on_several_runtimes_each_see_each_delivery() {
    let _serial = serial();
    const THREADS: usize = 3;
    let ready = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                let rt = common::rt(i % 2 == 0);
                rt.block_on(async {
                    let mut a = signal(SignalKind::user_defined1()).unwrap();
                    let mut b = signal(SignalKind::user_defined1()).unwrap();
                    ready.wait();
                    let got = timeout(LIMIT, async { (a.recv().await, b.recv().await) }).await;
                    assert_eq!(got, Ok((Some(()), Some(()))), "runtime {i}");
                });
            })
        })
        .collect();
    ready.wait();
    kill_self(libc::SIGUSR1);
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn refused_signals_and_outside_a_runtime() {
    let rt = common::rt(false);
    rt.block_on(async {
        for bad in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -3, 1000] {
            let err = signal(SignalKind::from_raw(bad)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "signal {bad}");
        }
    });
    assert!(
        signal(SignalKind::user_defined2()).is_err(),
        "outside a runtime"
    );
}

#[test]
fn a_listener_may_outlive_its_runtime() {
    let _serial = serial();
    let rt = common::rt(false);
    let sig = rt.block_on(async { signal(SignalKind::user_defined2()).unwrap() });
    drop(rt);
    drop(sig); // deregisters nothing twice, closes the pipe, does not panic
}

/// Runtimes (and so self-pipes) come and go on several threads while the process is showered
/// with signals: pipe slots are claimed, released and reused under concurrent handlers.
#[test]
fn pipes_come_and_go_under_a_signal_storm() {
    let _serial = serial();
    // Install the handler before the first kill (SIGUSR1's default action ends the process).
    common::rt(false).block_on(async { drop(signal(SignalKind::user_defined1()).unwrap()) });
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn: Vec<_> = (0..2)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rounds = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || rounds < 20 {
                    let rt = common::rt(i == 0);
                    rt.block_on(async {
                        let mut s = signal(SignalKind::user_defined1()).unwrap();
                        let _ = timeout(Duration::from_micros(200), s.recv()).await;
                    });
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for _ in 0..300 {
        kill_self(libc::SIGUSR1);
        std::thread::sleep(Duration::from_micros(100));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in churn {
        assert!(t.join().unwrap() >= 20);
    }
}

static EARLIER_HANDLER_RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn earlier_handler(_: libc::c_int) {
    EARLIER_HANDLER_RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// A handler that other code installed before sonic listened for the signal keeps running:
/// sonic's chains to it (signal-hook-registry).
#[test]
fn a_handler_installed_before_still_runs() {
    let _serial = serial();
    // SIGURG: ignored by default, used by no other test here.
    // SAFETY: a plain `sigaction` with an async-signal-safe handler (one atomic add).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = earlier_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGURG, &sa, std::ptr::null_mut()), 0);
    }
    let rt = common::rt(false);
    rt.block_on(async {
        let mut urg = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
        raise(libc::SIGURG);
        assert_eq!(timeout(LIMIT, urg.recv()).await, Ok(Some(())));
    });
    assert_eq!(
        EARLIER_HANDLER_RAN.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the earlier handler was replaced, not chained"
    );
}
