//! The facade's `Send` channels other than mpsc (`tokio::sync::{oneshot, watch, broadcast}`
//! under sonic-tokio, tokio's own types): values and closing across threads on a sonic
//! runtime, in both loop modes, and tokio's termination rules.

use sonic_rt::Runtime;
use sonic_tokio::sync::oneshot::{self, error::TryRecvError};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

fn value_sent_from_a_std_thread_wakes_the_task(rt: &Runtime) {
    let (tx, rx) = oneshot::channel::<String>();
    let got = rt.block_on(async move {
        let sender = std::thread::spawn(move || {
            // Give the receiver a chance to wait first (not needed for correctness).
            std::thread::yield_now();
            tx.send("from the thread".to_string()).unwrap();
        });
        let got = rx.await;
        sender.join().unwrap();
        got
    });
    assert_eq!(got.as_deref(), Ok("from the thread"));
}

fn sender_dropped_on_a_thread_gives_recv_error(rt: &Runtime) {
    let (tx, rx) = oneshot::channel::<u8>();
    let got = rt.block_on(async move {
        let t = std::thread::spawn(move || drop(tx));
        let got = rx.await;
        t.join().unwrap();
        got
    });
    assert!(got.is_err());
}

fn closed_completes_when_the_receiver_is_dropped_elsewhere(rt: &Runtime) {
    let (mut tx, rx) = oneshot::channel::<u8>();
    rt.block_on(async move {
        let t = std::thread::spawn(move || drop(rx));
        tx.closed().await;
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        t.join().unwrap();
    });
}

fn watch_and_broadcast_senders_work_from_a_std_thread(rt: &Runtime) {
    use sonic_tokio::sync::{broadcast, watch};
    let (config, mut config_rx) = watch::channel(0u32);
    let (events, mut events_rx) = broadcast::channel::<u32>(4);
    let feeder = std::thread::spawn(move || {
        config.send(7).unwrap();
        events.send(8).unwrap();
    });
    let (level, event) = rt.block_on(async move {
        config_rx.changed().await.unwrap();
        let level = *config_rx.borrow_and_update();
        (level, events_rx.recv().await.unwrap())
    });
    feeder.join().unwrap();
    assert_eq!((level, event), (7, 8));
}

sonic_test_support::each_mode!(
    value_sent_from_a_std_thread_wakes_the_task,
    watch_and_broadcast_senders_work_from_a_std_thread,
    sender_dropped_on_a_thread_gives_recv_error,
    closed_completes_when_the_receiver_is_dropped_elsewhere,
);

#[test]
fn try_recv_follows_tokio_states() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(3));
    assert!(rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_terminated());
}

#[test]
fn close_refuses_later_sends_but_keeps_an_earlier_value() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn blocking_recv_on_a_plain_thread() {
    let (tx, rx) = oneshot::channel::<u32>();
    let t = std::thread::spawn(move || rx.blocking_recv());
    tx.send(9).unwrap();
    assert_eq!(t.join().unwrap(), Ok(9));
}

struct Flag(AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_waiting_receiver_is_woken_by_send_and_then_terminated() {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = oneshot::channel::<u8>();
    let mut rx = pin!(rx);
    assert!(rx.as_mut().poll(&mut cx).is_pending());
    tx.send(5).unwrap();
    assert!(flag.0.load(Ordering::SeqCst), "send wakes the receiver");
    assert_eq!(rx.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
    assert!(rx.is_terminated());
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = rx.as_mut().poll(&mut cx);
    }));
    assert!(
        again.is_err(),
        "polling after completion panics, as tokio's"
    );
}

#[test]
fn a_value_never_received_is_dropped_with_the_receiver() {
    let value = Arc::new(());
    let (tx, rx) = oneshot::channel::<Arc<()>>();
    tx.send(value.clone()).unwrap();
    assert_eq!(Arc::strong_count(&value), 2);
    drop(rx);
    assert_eq!(Arc::strong_count(&value), 1);
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<oneshot::Sender<Vec<u8>>>();
    send_sync::<oneshot::Receiver<Vec<u8>>>();
    send_sync::<sonic_tokio::sync::watch::Sender<Vec<u8>>>();
    send_sync::<sonic_tokio::sync::watch::Receiver<Vec<u8>>>();
    send_sync::<sonic_tokio::sync::broadcast::Sender<Vec<u8>>>();
    send_sync::<sonic_tokio::sync::broadcast::Receiver<Vec<u8>>>();
}
