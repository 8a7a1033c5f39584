//! `sync::Notify` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::Notify;
use sonic_rt::task::yield_now;
use sonic_rt::time::{sleep, timeout};
use sonic_rt::{spawn, Runtime};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// Yields until `done` holds (other tasks get to run in between).
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

fn notify_one_wakes_a_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        let waiter = spawn({
            let notify = Rc::clone(&notify);
            async move { notify.notified().await }
        });
        yield_now().await;
        assert!(!waiter.is_finished());
        notify.notify_one();
        waiter.await.unwrap();
    });
}

fn permit_stored_before_the_wait(rt: &Runtime) {
    rt.block_on(async {
        let notify = Notify::new();
        notify.notify_one();
        notify.notified().await;
    });
}

fn notify_one_serves_tasks_in_wait_order(rt: &Runtime) {
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        let order = Rc::new(RefCell::new(Vec::new()));
        let started = Rc::new(Cell::new(0));
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let (notify, order, started) =
                    (Rc::clone(&notify), Rc::clone(&order), Rc::clone(&started));
                spawn(async move {
                    started.set(started.get() + 1);
                    notify.notified().await; // queued within the same poll
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        // Every waiter is queued, in spawn order.
        wait_until(|| started.get() == 5).await;
        for _ in 0..5 {
            notify.notify_one();
            yield_now().await;
        }
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

fn notify_waiters_wakes_every_waiting_task(rt: &Runtime) {
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        let (started, woken) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let waiters: Vec<_> = (0..100)
            .map(|i| {
                let (notify, started, woken) =
                    (Rc::clone(&notify), Rc::clone(&started), Rc::clone(&woken));
                spawn(async move {
                    let notified = notify.notified();
                    started.set(started.get() + 1);
                    if i % 2 == 0 {
                        // Half of them are queued; the other half are created but never polled
                        // before the call, and must be completed by it all the same.
                        yield_now().await;
                    }
                    notified.await;
                    woken.set(woken.get() + 1);
                })
            })
            .collect();
        wait_until(|| started.get() == 100).await;
        notify.notify_waiters();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(woken.get(), 100);
        // No permit was stored.
        assert!(timeout(Duration::from_millis(2), notify.notified())
            .await
            .is_err());
    });
}

fn notification_of_an_aborted_waiter_goes_to_the_next(rt: &Runtime) {
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        let started = Rc::new(Cell::new(0));
        let waiter = || {
            let (notify, started) = (Rc::clone(&notify), Rc::clone(&started));
            spawn(async move {
                started.set(started.get() + 1);
                notify.notified().await
            })
        };
        let (first, second) = (waiter(), waiter());
        wait_until(|| started.get() == 2).await;
        notify.notify_one(); // chosen: `first`, which is woken but has not run yet
        first.abort(); // its `Notified` is dropped and passes the notification on
        assert!(first.await.is_err());
        timeout(Duration::from_secs(5), second)
            .await
            .expect("notification lost")
            .unwrap();
    });
}

fn timed_out_waiter_loses_nothing(rt: &Runtime) {
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        assert!(timeout(Duration::from_micros(300), notify.notified())
            .await
            .is_err());
        let notifier = spawn({
            let notify = Rc::clone(&notify);
            async move {
                sleep(Duration::from_micros(200)).await;
                notify.notify_one();
            }
        });
        timeout(Duration::from_secs(5), notify.notified())
            .await
            .unwrap();
        notifier.await.unwrap();
    });
}

fn notify_as_a_condition_signal(rt: &Runtime) {
    // A producer bumps a counter and signals; a consumer sleeps until the counter moves.
    rt.block_on(async {
        let notify = Rc::new(Notify::new());
        let counter = Rc::new(Cell::new(0u32));
        let consumer = spawn({
            let (notify, counter) = (Rc::clone(&notify), Rc::clone(&counter));
            async move {
                let mut seen = 0;
                while seen < 1000 {
                    let notified = notify.notified();
                    if counter.get() == seen {
                        notified.await;
                    }
                    seen = counter.get();
                }
                seen
            }
        });
        for _ in 0..1000 {
            counter.set(counter.get() + 1);
            notify.notify_one();
            if counter.get() % 7 == 0 {
                yield_now().await;
            }
        }
        assert_eq!(consumer.await.unwrap(), 1000);
    });
}

/// tokio's `Notified::enable` pattern: a queue whose consumers register before they check, so a
/// notification sent between the check and the wait is never lost, and never turns into a
/// permit that would wake a consumer for a message another one already took.
fn enable_before_checking_loses_no_notification(rt: &Runtime) {
    rt.block_on(async {
        struct Channel {
            messages: RefCell<std::collections::VecDeque<u32>>,
            sent: Notify,
        }
        impl Channel {
            fn send(&self, message: u32) {
                self.messages.borrow_mut().push_back(message);
                self.sent.notify_one();
            }
            async fn recv(&self) -> u32 {
                let mut notified = std::pin::pin!(self.sent.notified());
                loop {
                    notified.as_mut().enable();
                    if let Some(message) = self.messages.borrow_mut().pop_front() {
                        return message;
                    }
                    notified.as_mut().await;
                    notified.set(self.sent.notified());
                }
            }
        }
        let channel = Rc::new(Channel {
            messages: RefCell::new(Default::default()),
            sent: Notify::new(),
        });
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let channel = Rc::clone(&channel);
                spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match channel.recv().await {
                            u32::MAX => return got,
                            message => got.push(message),
                        }
                        if got.len() % 5 == 0 {
                            yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for message in 0..400 {
            channel.send(message);
            if message % 3 == 0 {
                yield_now().await;
            }
        }
        for _ in 0..4 {
            channel.send(u32::MAX);
        }
        let mut all = Vec::new();
        for consumer in consumers {
            all.extend(
                timeout(Duration::from_secs(10), consumer)
                    .await
                    .expect("lost a wake")
                    .unwrap(),
            );
        }
        all.sort_unstable();
        assert_eq!(all, (0..400).collect::<Vec<_>>());
    });
}

each_mode!(
    enable_before_checking_loses_no_notification,
    notify_one_wakes_a_waiting_task,
    permit_stored_before_the_wait,
    notify_one_serves_tasks_in_wait_order,
    notify_waiters_wakes_every_waiting_task,
    notification_of_an_aborted_waiter_goes_to_the_next,
    timed_out_waiter_loses_nothing,
    notify_as_a_condition_signal,
);
