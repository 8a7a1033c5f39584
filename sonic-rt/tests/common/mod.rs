//! Shared test helpers: run each test on both loop modes (busy-poll on and off).
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

#[allow(unused_imports)]
pub use sonic_test_support::rt;

/// Counts how many times a value was dropped.
#[derive(Clone, Default)]
pub struct DropCounter(pub Rc<Cell<usize>>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }
    pub fn get(&self) -> usize {
        self.0.get()
    }
}

pub struct DropToken(Rc<Cell<usize>>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A future that stays pending until its waker (handed out through `slot`) is woken, possibly
/// from another thread.
pub struct WaitForWake {
    pub slot: Arc<Mutex<(bool, Option<Waker>)>>,
}

impl Future for WaitForWake {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.slot.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

pub fn fire(slot: &Arc<Mutex<(bool, Option<Waker>)>>) -> bool {
    let w = {
        let mut s = slot.lock().unwrap();
        s.0 = true;
        s.1.take()
    };
    match w {
        Some(w) => {
            w.wake();
            true
        }
        None => false,
    }
}
