//! The tasks waiting for one direction of one source through an async fn (`readable`,
//! `read_with`, `accept`, `recv_from`...): a doubly linked list threaded through nodes that live
//! inside the waiting futures (an intrusive list), so parking allocates nothing, however many
//! tasks wait.
//!
//! Rules:
//! - Owner thread only: every field is a `Cell`, so neither type is `Sync`.
//! - A node is linked only while its owner is pinned, and the owner unlinks it in `Drop`
//!   (`push_back`'s contract; `Readiness` in `source.rs` is the one owner). Pinning promises the
//!   node's memory is neither moved nor reused before that `Drop` runs, so every pointer in the
//!   list names a live node.
//! - The list outlives its nodes: the owner borrows the source that holds the list.
//! - `pop_front` unlinks a node completely before its waker leaves it, and nothing here wakes,
//!   clones or drops a waker while the list is half updated: a waker may run any code, including
//!   code that parks or cancels on this list.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomPinned;
use std::ptr::NonNull;
use std::task::Waker;

type Link = Option<NonNull<Waiter>>;

/// One parked task, stored inline in its future.
pub(crate) struct Waiter {
    waker: Cell<Option<Waker>>,
    prev: Cell<Link>,
    next: Cell<Link>,
    linked: Cell<bool>,
    /// Linked nodes are pointed at: they must not move.
    _pin: PhantomPinned,
}

impl Waiter {
    #[inline]
    pub(crate) const fn new() -> Waiter {
        Waiter {
            waker: Cell::new(None),
            prev: Cell::new(None),
            next: Cell::new(None),
            linked: Cell::new(false),
            _pin: PhantomPinned,
        }
    }

    /// Whether the node is in a list (it leaves when woken or removed).
    #[inline]
    pub(crate) fn is_linked(&self) -> bool {
        self.linked.get()
    }

    /// Stores `waker` unless the stored one wakes the same task. The node may be linked: the
    /// list never touches a waker outside `pop_front`, which cannot run during this call.
    #[inline]
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let old = self.waker.take();
        match old {
            Some(w) if w.will_wake(waker) => self.waker.set(Some(w)),
            old => {
                self.waker.set(Some(waker.clone()));
                // The replaced waker is dropped with the node consistent.
                drop(old);
            }
        }
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("linked", &self.linked.get())
            .finish()
    }
}

/// The parked tasks of one direction of one source, oldest first.
#[derive(Default)]
pub(crate) struct WaiterList {
    head: Cell<Link>,
    tail: Cell<Link>,
}

impl WaiterList {
    pub(crate) const fn new() -> WaiterList {
        WaiterList {
            head: Cell::new(None),
            tail: Cell::new(None),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.get().is_none()
    }

    /// Links `node` at the back.
    ///
    /// # Safety
    /// `node` points at a live, unlinked `Waiter` that is pinned (it will not move) and whose
    /// owner calls [`WaiterList::remove`] on this list before the node is dropped or its memory
    /// reused, unless the node has left the list by then (`pop_front`).
    #[inline]
    pub(crate) unsafe fn push_back(&self, node: NonNull<Waiter>) {
        // SAFETY: the caller guarantees `node` is live.
        let n = unsafe { node.as_ref() };
        debug_assert!(!n.linked.get(), "waiter linked twice");
        n.prev.set(self.tail.get());
        n.next.set(None);
        n.linked.set(true);
        match self.tail.get() {
            // SAFETY: every linked node is live (this fn's contract, upheld for `tail`).
            Some(tail) => unsafe { tail.as_ref() }.next.set(Some(node)),
            None => self.head.set(Some(node)),
        }
        self.tail.set(Some(node));
    }

    /// Unlinks `node` if it is linked; its waker stays in it (the owner drops it).
    ///
    /// # Safety
    /// `node` is live and, if linked, linked in this list.
    #[inline]
    pub(crate) unsafe fn remove(&self, node: &Waiter) {
        if !node.linked.get() {
            return;
        }
        let (prev, next) = (node.prev.get(), node.next.get());
        match prev {
            // SAFETY: `prev` is linked in this list, so it is live.
            Some(p) => unsafe { p.as_ref() }.next.set(next),
            None => self.head.set(next),
        }
        match next {
            // SAFETY: `next` is linked in this list, so it is live.
            Some(n) => unsafe { n.as_ref() }.prev.set(prev),
            None => self.tail.set(prev),
        }
        node.prev.set(None);
        node.next.set(None);
        node.linked.set(false);
    }

    /// Unlinks the oldest waiter and takes its waker (`None` for a waiter that never stored
    /// one); `None` once the list is empty.
    pub(crate) fn pop_front(&self) -> Option<Option<Waker>> {
        let head = self.head.get()?;
        // SAFETY: `head` is linked, so live (`push_back`'s contract).
        let node = unsafe { head.as_ref() };
        // SAFETY: `node` is live and linked in this list.
        unsafe { self.remove(node) };
        Some(node.waker.take())
    }

    /// Moves the waker of every waiter queued now into `out`, oldest first, unlinking them all.
    pub(crate) fn drain_into(&self, out: &mut Vec<Waker>) {
        while let Some(waker) = self.pop_front() {
            out.extend(waker);
        }
    }
}

impl fmt::Debug for WaiterList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaiterList")
            .field("empty", &self.is_empty())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A node owner as `Readiness` is: removes itself on drop.
    struct Owner<'a> {
        list: &'a WaiterList,
        node: Waiter,
    }
    impl Drop for Owner<'_> {
        fn drop(&mut self) {
            // SAFETY: the node is live; if linked, then in `self.list`.
            unsafe { self.list.remove(&self.node) };
        }
    }

    fn link(owner: std::pin::Pin<&mut Owner<'_>>, waker: &Waker) {
        owner.node.set_waker(waker);
        // SAFETY: the owner is pinned and removes the node on drop.
        unsafe { owner.list.push_back(NonNull::from(&owner.node)) };
    }

    #[test]
    fn pops_in_order_and_removal_relinks_neighbours() {
        let list = WaiterList::new();
        let counts: Vec<_> = (0..4)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let mut a = pin!(Owner {
            list: &list,
            node: Waiter::new()
        });
        let mut b = pin!(Owner {
            list: &list,
            node: Waiter::new()
        });
        let mut c = pin!(Owner {
            list: &list,
            node: Waiter::new()
        });
        link(a.as_mut(), &wakers[0]);
        link(b.as_mut(), &wakers[1]);
        link(c.as_mut(), &wakers[2]);
        // Remove the middle one, then the tail, then re-add.
        // SAFETY: live and linked in `list`.
        unsafe { list.remove(&b.node) };
        assert!(!b.node.is_linked());
        // SAFETY: as above.
        unsafe { list.remove(&c.node) };
        link(c.as_mut(), &wakers[3]);
        let mut out = Vec::new();
        list.drain_into(&mut out);
        assert!(list.is_empty() && !a.node.is_linked() && !c.node.is_linked());
        for w in out {
            w.wake();
        }
        let woken: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::Relaxed)).collect();
        assert_eq!(woken, [1, 0, 0, 1]);
    }

    #[test]
    fn dropped_owner_leaves_the_list() {
        let list = WaiterList::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        {
            let mut a = pin!(Owner {
                list: &list,
                node: Waiter::new()
            });
            link(a.as_mut(), &waker);
            assert!(!list.is_empty());
        }
        assert!(list.is_empty());
        assert_eq!(
            Arc::strong_count(&count),
            2,
            "the dropped node kept its waker"
        );
    }
}
