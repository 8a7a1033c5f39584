//! The timer queue: a 4-ary min-heap of deadlines over a slab of entries.
//!
//! Rules:
//! - An entry is owned by exactly one `Sleep`, which removes it when dropped; a fired entry stays
//!   in the slab (out of the heap) until its `Sleep` is dropped or reset, so the `Sleep` can see
//!   that it fired without reading the clock.
//! - Each entry knows its heap position, so cancel and reset are O(log n) and allocate nothing:
//!   slots and heap capacity are reused.
//! - Deadlines are nanoseconds on the runtime clock; an entry fires only once `now >= deadline`,
//!   so a timer never fires early.

use crate::slab::{Key, Slab};
use std::task::Waker;

const FIRED: u32 = u32::MAX;
const ARITY: usize = 4;

struct Entry {
    deadline: u64,
    waker: Option<Waker>,
    heap_pos: u32,
}

#[derive(Clone, Copy)]
struct HeapItem {
    deadline: u64,
    key: Key,
}

pub(crate) struct TimerQueue {
    entries: Slab<Entry>,
    heap: Vec<HeapItem>,
}

impl TimerQueue {
    pub(crate) fn new() -> TimerQueue {
        TimerQueue {
            entries: Slab::with_capacity(64),
            heap: Vec::with_capacity(64),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.heap.first().map(|h| h.deadline)
    }

    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Key {
        let key = self.insert_fired(deadline, Some(waker));
        self.push_heap(deadline, key);
        key
    }

    /// An entry that is due already: it goes straight to the fired state (in the slab, out of
    /// the heap), so its `Sleep` reads as elapsed and can still be re-armed by `reset`.
    pub(crate) fn insert_fired(&mut self, deadline: u64, waker: Option<Waker>) -> Key {
        self.entries
            .insert(Entry {
                deadline,
                waker,
                heap_pos: FIRED,
            })
            .expect("sonic-rt: more than 2^32 live timers")
    }

    pub(crate) fn is_fired(&self, key: Key) -> bool {
        self.entries.get(key).is_none_or(|e| e.heap_pos == FIRED)
    }

    pub(crate) fn set_waker(&mut self, key: Key, waker: &Waker) {
        if let Some(entry) = self.entries.get_mut(key) {
            match &entry.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => entry.waker = Some(waker.clone()),
            }
        }
    }

    /// Moves an entry to a new deadline (re-arming it if it had fired).
    pub(crate) fn reset(&mut self, key: Key, deadline: u64) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.deadline = deadline;
        let pos = entry.heap_pos;
        if pos == FIRED {
            self.push_heap(deadline, key);
        } else {
            self.heap[pos as usize].deadline = deadline;
            let pos = self.sift_up(pos as usize);
            self.sift_down(pos);
        }
    }

    /// Moves an entry to a deadline that is already due: it fires now, out of the heap, without
    /// waiting for a turn. Returns the waker to wake, if one is stored.
    #[cold]
    pub(crate) fn expire(&mut self, key: Key, deadline: u64) -> Option<Waker> {
        let entry = self.entries.get_mut(key)?;
        entry.deadline = deadline;
        let pos = entry.heap_pos;
        entry.heap_pos = FIRED;
        let waker = entry.waker.take();
        if pos != FIRED {
            self.remove_at(pos as usize);
        }
        waker
    }

    pub(crate) fn remove(&mut self, key: Key) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        if entry.heap_pos != FIRED {
            self.remove_at(entry.heap_pos as usize);
        }
    }

    /// Fires every entry due at `now`, moving their wakers into `wake`. Returns how many fired.
    pub(crate) fn fire(&mut self, now: u64, wake: &mut Vec<Waker>) -> usize {
        let mut fired = 0;
        while let Some(top) = self.heap.first().copied() {
            if top.deadline > now {
                break;
            }
            self.remove_at(0);
            if let Some(entry) = self.entries.get_mut(top.key) {
                entry.heap_pos = FIRED;
                wake.extend(entry.waker.take());
            }
            fired += 1;
        }
        fired
    }

    fn push_heap(&mut self, deadline: u64, key: Key) {
        let pos = self.heap.len();
        self.heap.push(HeapItem { deadline, key });
        self.sift_up(pos);
    }

    fn remove_at(&mut self, pos: usize) {
        let last = self.heap.len() - 1;
        self.heap.swap(pos, last);
        self.heap.pop();
        if pos < self.heap.len() {
            let pos = self.sift_up(pos);
            self.sift_down(pos);
        }
    }

    fn set_pos(&mut self, pos: usize) {
        let key = self.heap[pos].key;
        if let Some(e) = self.entries.get_mut(key) {
            e.heap_pos = pos as u32;
        }
    }

    // A 4-ary heap: half the depth of a binary one, and the four children share a cache line.
    // Sifting moves a hole instead of swapping, so each level costs one write.

    fn sift_up(&mut self, mut pos: usize) -> usize {
        let item = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            if self.heap[parent].deadline <= item.deadline {
                break;
            }
            self.heap[pos] = self.heap[parent];
            self.set_pos(pos);
            pos = parent;
        }
        self.heap[pos] = item;
        self.set_pos(pos);
        pos
    }

    fn sift_down(&mut self, mut pos: usize) -> usize {
        let item = self.heap[pos];
        let len = self.heap.len();
        loop {
            let first = ARITY * pos + 1;
            if first >= len {
                break;
            }
            let mut child = first;
            for c in first + 1..(first + ARITY).min(len) {
                if self.heap[c].deadline < self.heap[child].deadline {
                    child = c;
                }
            }
            if item.deadline <= self.heap[child].deadline {
                break;
            }
            self.heap[pos] = self.heap[child];
            self.set_pos(pos);
            pos = child;
        }
        self.heap[pos] = item;
        self.set_pos(pos);
        pos
    }

    /// Drops every entry's waker (runtime shutdown).
    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        drop(self.entries.drain());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn fires_in_deadline_order_and_never_early() {
        let mut q = TimerQueue::new();
        let deadlines = [50u64, 10, 40, 10, 30, 20, 60, 0];
        let keys: Vec<_> = deadlines.iter().map(|d| q.insert(*d, noop())).collect();
        let mut wake = Vec::new();
        assert_eq!(q.fire(9, &mut wake), 1, "only the 0 deadline is due at 9");
        assert_eq!(q.fire(10, &mut wake), 2);
        assert!(q.is_fired(keys[1]) && q.is_fired(keys[3]));
        assert!(!q.is_fired(keys[5]));
        assert_eq!(q.next_deadline(), Some(20));
        q.remove(keys[5]);
        assert_eq!(q.next_deadline(), Some(30));
        q.reset(keys[0], 5);
        assert_eq!(q.next_deadline(), Some(5));
        q.reset(keys[1], 1000); // re-arm a fired one
        assert!(!q.is_fired(keys[1]));
        assert_eq!(q.fire(100, &mut wake), 4);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_deadline(), Some(1000));
    }

    #[test]
    fn expired_and_born_fired_entries_leave_the_heap_and_can_be_rearmed() {
        let mut q = TimerQueue::new();
        let a = q.insert(50, noop());
        let b = q.insert(10, noop());
        let c = q.insert_fired(5, None);
        assert!(q.is_fired(c) && !q.is_fired(a));
        assert_eq!(q.len(), 2, "a born-fired entry is not in the heap");
        // Moving a queued entry into the past fires it at once and hands back its waker.
        assert!(q.expire(b, 3).is_some());
        assert!(q.is_fired(b));
        assert_eq!(q.next_deadline(), Some(50));
        assert!(q.expire(b, 2).is_none(), "the waker was taken already");
        // Both can be re-armed like any fired entry.
        q.reset(b, 20);
        q.reset(c, 30);
        assert_eq!(q.len(), 3);
        let mut wake = Vec::new();
        assert_eq!(q.fire(30, &mut wake), 2);
        assert_eq!(q.next_deadline(), Some(50));
        q.remove(c);
        q.remove(a);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn heap_stays_ordered_under_random_ops() {
        // A small deterministic LCG drives inserts, removes and resets.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let mut q = TimerQueue::new();
        let mut live: Vec<(Key, u64)> = Vec::new();
        for _ in 0..2000 {
            match next() % 4 {
                0 | 1 => {
                    let d = next() % 1000;
                    live.push((q.insert(d, noop()), d));
                }
                2 if !live.is_empty() => {
                    let i = (next() as usize) % live.len();
                    q.remove(live.swap_remove(i).0);
                }
                _ if !live.is_empty() => {
                    let i = (next() as usize) % live.len();
                    let d = next() % 1000;
                    q.reset(live[i].0, d);
                    live[i].1 = d;
                }
                _ => {}
            }
            let min = live.iter().map(|l| l.1).min();
            assert_eq!(q.next_deadline(), min);
        }
    }
}
