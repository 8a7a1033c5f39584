//! `sync::Semaphore` across real tasks, on both loop modes.

mod common;

use sonic_test_support::each_mode;

use sonic_rt::sync::Semaphore;
use sonic_rt::task::yield_now;
use sonic_rt::time::timeout;
use sonic_rt::{spawn, Runtime};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(10);

/// Yields until `done` holds (other tasks get to run in between).
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

fn permits_bound_the_tasks_inside(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(5));
        let (inside, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let (semaphore, inside, most) =
                    (Rc::clone(&semaphore), Rc::clone(&inside), Rc::clone(&most));
                spawn(async move {
                    let _permit = semaphore.acquire().await.unwrap();
                    inside.set(inside.get() + 1);
                    most.set(most.get().max(inside.get()));
                    if i % 3 == 0 {
                        yield_now().await;
                    }
                    inside.set(inside.get() - 1);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.get(), 5);
        assert_eq!(semaphore.available_permits(), 5);
        let held: Vec<_> = (0..5).map(|_| semaphore.try_acquire().unwrap()).collect();
        assert!(semaphore.try_acquire().is_err());
        drop(held);
    });
}

fn waiting_tasks_are_served_in_arrival_order(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(0));
        let order = Rc::new(RefCell::new(Vec::new()));
        let started = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..6u32)
            .map(|i| {
                let (semaphore, order, started) = (
                    Rc::clone(&semaphore),
                    Rc::clone(&order),
                    Rc::clone(&started),
                );
                spawn(async move {
                    started.set(started.get() + 1);
                    // Varying sizes: order is still arrival order.
                    let permit = semaphore.acquire_many(1 + i % 3).await.unwrap();
                    order.borrow_mut().push(i);
                    permit.forget();
                })
            })
            .collect();
        wait_until(|| started.get() == 6).await;
        for i in 0..6u32 {
            semaphore.add_permits(1 + i as usize % 3);
            yield_now().await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4, 5]);
    });
}

fn a_large_request_is_not_starved_by_a_stream_of_small_ones(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(4));
        let big_done = Rc::new(Cell::new(false));
        let small_after_big = Rc::new(Cell::new(0));
        // Four workers that take one permit, yield, and come back for another, forever.
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (semaphore, big_done, after) = (
                    Rc::clone(&semaphore),
                    Rc::clone(&big_done),
                    Rc::clone(&small_after_big),
                );
                spawn(async move {
                    for _ in 0..200 {
                        let _permit = semaphore.acquire().await.unwrap();
                        if big_done.get() {
                            after.set(after.get() + 1);
                        }
                        yield_now().await;
                    }
                })
            })
            .collect();
        yield_now().await;
        let big = {
            let (semaphore, big_done) = (Rc::clone(&semaphore), Rc::clone(&big_done));
            spawn(async move {
                let _all = semaphore.acquire_many(4).await.unwrap();
                big_done.set(true);
            })
        };
        timeout(GUARD, big).await.expect("starved").unwrap();
        for worker in workers {
            worker.await.unwrap();
        }
        assert!(small_after_big.get() > 0, "the workers went on afterwards");
    });
}

fn close_fails_waiting_tasks(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(0));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let semaphore = Rc::clone(&semaphore);
                spawn(async move { semaphore.acquire().await.map(|_| ()) })
            })
            .collect();
        yield_now().await;
        semaphore.close();
        for waiter in waiters {
            assert!(waiter.await.unwrap().is_err());
        }
        assert!(semaphore.acquire().await.is_err());
    });
}

fn an_aborted_waiter_passes_its_permit_on(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().unwrap();
        let started = Rc::new(Cell::new(0));
        let waiter = |id| {
            let (semaphore, started) = (Rc::clone(&semaphore), Rc::clone(&started));
            spawn(async move {
                started.set(started.get() + 1);
                let _permit = semaphore.acquire().await.unwrap();
                id
            })
        };
        let (first, second) = (waiter(1), waiter(2));
        wait_until(|| started.get() == 2).await;
        drop(held); // handed to `first`, which has not run since
        first.abort();
        assert!(first.await.is_err());
        assert_eq!(
            timeout(GUARD, second).await.expect("permit lost").unwrap(),
            2
        );
        assert_eq!(semaphore.available_permits(), 1);
    });
}

fn a_timed_out_acquire_loses_no_permit(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Semaphore::new(2);
        let one = semaphore.try_acquire().unwrap();
        // Takes the free permit while it waits for a second one, then times out.
        assert!(
            timeout(Duration::from_micros(300), semaphore.acquire_many(2))
                .await
                .is_err()
        );
        assert_eq!(semaphore.available_permits(), 1);
        drop(one);
        assert_eq!(semaphore.acquire_many(2).await.unwrap().num_permits(), 2);
    });
}

fn owned_permits_travel_between_tasks(rt: &Runtime) {
    rt.block_on(async {
        let semaphore = Rc::new(Semaphore::new(2));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let permit = Rc::clone(&semaphore).acquire_owned().await.unwrap();
            tasks.push(spawn(async move {
                yield_now().await;
                drop(permit);
                i
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
        assert_eq!(semaphore.available_permits(), 2);
    });
}

fn an_acquire_loop_that_never_waits_still_yields(rt: &Runtime) {
    rt.block_on(async {
        let other_ran = Rc::new(Cell::new(false));
        let other = spawn({
            let other_ran = Rc::clone(&other_ran);
            async move { other_ran.set(true) }
        });
        let semaphore = Semaphore::new(1);
        let mut rounds = 0;
        while !other_ran.get() {
            drop(semaphore.acquire().await.unwrap());
            rounds += 1;
            assert!(rounds < 100_000, "acquire never spent its budget");
        }
        other.await.unwrap();
    });
}

each_mode!(
    permits_bound_the_tasks_inside,
    waiting_tasks_are_served_in_arrival_order,
    a_large_request_is_not_starved_by_a_stream_of_small_ones,
    close_fails_waiting_tasks,
    an_aborted_waiter_passes_its_permit_on,
    a_timed_out_acquire_loses_no_permit,
    owned_permits_travel_between_tasks,
    an_acquire_loop_that_never_waits_still_yields,
);
