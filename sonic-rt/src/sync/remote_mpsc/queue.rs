//! The lock-free queue under the channel: many producers on any threads, one consumer.
//!
//! Values live in blocks of [`BLOCK_CAP`] slots linked in a list. Producers claim positions
//! with a compare-and-swap on one tail index; the consumer walks the list with a head it alone
//! touches and hands every block it has emptied back for reuse, so a steady flow allocates
//! nothing: a new block is allocated only when the backlog grows beyond what it was before.
//!
//! Rules:
//! - The tail index counts positions in laps of `LAP = BLOCK_CAP + 1` per block, shifted left by
//!   one; bit 0 is `CLOSED`. Offsets `0..BLOCK_CAP` in a lap are slots; offset `BLOCK_CAP` means
//!   "the next block is being installed" and nobody can claim until the installer moves the
//!   index on to the next lap. Every write to the index is a read-modify-write, so an acquire
//!   load of it synchronizes with every earlier write (they form one release sequence).
//! - A producer loads the index, then the tail block pointer, and claims by a compare-and-swap
//!   of the index it loaded. Success means the index had not moved, so the pointer it loaded is
//!   the block of its slot (the pointer is stored before the index moves into its lap). It
//!   dereferences the block only after the claim succeeded: a block it merely looked at may have
//!   been recycled meanwhile, harmlessly.
//! - The producer that claims the last slot of a block installs the next one (taken from the
//!   spares, or allocated) before it writes its own slot: `next` of the old block, then the tail
//!   block pointer, then the index. So when the consumer sees the last slot of a block ready,
//!   `next` is set.
//! - A slot is written and then flagged `ready` (release). The consumer reads `ready` (acquire),
//!   takes the value and clears the flag. A claimed slot that is not ready yet stops the
//!   consumer (values come out in claim order): it reads as empty until the producer is done.
//! - The consumer recycles a block once it has taken its last slot: every producer that claimed
//!   a slot in it has finished with it (it saw all of them ready), and no other producer ever
//!   dereferences it. Recycled blocks are clean (flags cleared, `next` null) when they are put in
//!   the spares, which producers take with an acquire swap.
//! - `close` sets `CLOSED` in the index: no claim succeeds after it, and the position at which
//!   the index stopped is the end of the stream (claims made before it still get written).

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use super::primitives::{
    spin_wait, AtomicBool, AtomicPtr, AtomicUsize, Ordering, Padded, UnsafeCell,
};

/// Slots per block. Small under loom, so that models cross block boundaries with few values.
#[cfg(not(sonic_loom))]
pub(super) const BLOCK_CAP: usize = 32;
#[cfg(sonic_loom)]
pub(super) const BLOCK_CAP: usize = 2;

/// Index positions per block: the slots and the "installing" offset.
const LAP: usize = BLOCK_CAP + 1;
const CLOSED: usize = 1;
const SHIFT: usize = 1;
/// Emptied blocks kept for reuse (one cache line of pointers).
const SPARES: usize = 4;

struct Slot<T> {
    ready: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn allocate() -> *mut Block<T> {
        Box::into_raw(Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                ready: AtomicBool::new(false),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }))
    }

    /// # Safety
    /// `block` came from [`Block::allocate`], holds no value, and nothing else refers to it.
    unsafe fn free(block: *mut Block<T>) {
        // SAFETY: caller's contract; the slots hold `MaybeUninit`s, so no value is dropped.
        drop(unsafe { Box::from_raw(block) });
    }
}

/// The position (counting slots only) that a tail index stands for.
fn position(index: usize) -> usize {
    let lap_pos = index >> SHIFT;
    (lap_pos / LAP) * BLOCK_CAP + (lap_pos % LAP).min(BLOCK_CAP)
}

struct Tail<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// The consumer's end: touched only by the consumer (and by `drop`).
struct Head<T> {
    block: *mut Block<T>,
    pos: usize,
}

pub(super) struct Queue<T> {
    tail: Padded<Tail<T>>,
    spares: Padded<[AtomicPtr<Block<T>>; SPARES]>,
    head: Padded<UnsafeCell<Head<T>>>,
}

// SAFETY: values move between threads through the queue (hence `T: Send`); the raw block
// pointers are shared under the rules of the module doc, and the head is touched only by the one
// consumer, which callers of the `unsafe` consumer methods guarantee.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above; every shared field is an atomic or is reached under those rules.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T> Queue<T> {
    pub(super) fn new() -> Queue<T> {
        let first = Block::allocate();
        Queue {
            tail: Padded(Tail {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(first),
            }),
            spares: Padded(std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))),
            head: Padded(UnsafeCell::new(Head {
                block: first,
                pos: 0,
            })),
        }
    }

    /// Appends `value`; gives it back if the queue is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        // A block taken in advance by a producer that may have to install the next one.
        let mut next_block: *mut Block<T> = ptr::null_mut();
        let mut index = self.tail.index.load(Ordering::Acquire);
        let mut round = 0;
        loop {
            if index & CLOSED != 0 {
                self.put_spare(next_block);
                return Err(value);
            }
            let offset = (index >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another producer is installing the next block.
                spin_wait(&mut round);
                index = self.tail.index.load(Ordering::Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && next_block.is_null() {
                next_block = self.take_spare();
            }
            let block = self.tail.block.load(Ordering::Acquire);
            match self.tail.index.compare_exchange_weak(
                index,
                index + (1 << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: the claim succeeded, so `block` is the block of our slot (module
                    // rules), and it stays live until the consumer has taken our slot.
                    let block = unsafe { &*block };
                    if offset + 1 == BLOCK_CAP {
                        // The last slot: install the next block before our value is visible.
                        block.next.store(next_block, Ordering::Release);
                        self.tail.block.swap(next_block, Ordering::AcqRel);
                        // Past the "installing" offset to the next lap (keeps `CLOSED`).
                        self.tail.index.fetch_add(1 << SHIFT, Ordering::AcqRel);
                        next_block = ptr::null_mut();
                    }
                    let slot = &block.slots[offset];
                    // SAFETY: the slot is ours alone until it is flagged ready.
                    slot.value.with_mut(|p| unsafe { (*p).write(value) });
                    slot.ready.store(true, Ordering::Release);
                    self.put_spare(next_block);
                    return Ok(());
                }
                Err(current) => index = current,
            }
        }
    }

    /// Closes the queue: every later `push` fails. Returns false if it was closed already.
    pub(super) fn close(&self) -> bool {
        self.tail.index.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED == 0
    }

    pub(super) fn is_closed(&self) -> bool {
        self.tail.index.load(Ordering::Acquire) & CLOSED != 0
    }

    /// True if the value at the head is written and can be popped.
    ///
    /// # Safety
    /// Only the consumer calls the consumer methods (`head_ready`, `pop`, `len`, `is_drained`),
    /// never two threads at once.
    pub(super) unsafe fn head_ready(&self) -> bool {
        // SAFETY: the head is the consumer's (caller's contract); its block is live.
        self.head.with(|head| unsafe {
            let head = &*head;
            (*head.block).slots[head.pos % BLOCK_CAP]
                .ready
                .load(Ordering::Acquire)
        })
    }

    /// Takes the value at the head if it is written.
    ///
    /// # Safety
    /// As [`Queue::head_ready`].
    pub(super) unsafe fn pop(&self) -> Option<T> {
        // SAFETY: the head is the consumer's (caller's contract). Its block is live: blocks are
        // recycled only here, after the head has left them.
        let (value, emptied) = self.head.with_mut(|head| unsafe {
            let head = &mut *head;
            let block = &*head.block;
            let offset = head.pos % BLOCK_CAP;
            let slot = &block.slots[offset];
            if !slot.ready.load(Ordering::Acquire) {
                return (None, ptr::null_mut());
            }
            // The acquire load above saw the producer's write; the slot is then ours to read.
            let value = slot.value.with(|p| (*p).assume_init_read());
            slot.ready.store(false, Ordering::Relaxed);
            head.pos = head.pos.wrapping_add(1);
            let mut emptied = ptr::null_mut();
            if offset + 1 == BLOCK_CAP {
                // The producer of the last slot set `next` before flagging it (module rules).
                let next = block.next.load(Ordering::Acquire);
                debug_assert!(!next.is_null(), "a full block without a successor");
                block.next.store(ptr::null_mut(), Ordering::Relaxed);
                emptied = head.block;
                head.block = next;
            }
            (Some(value), emptied)
        });
        self.put_spare(emptied);
        value
    }

    /// The number of positions claimed and not yet popped (values being written included).
    ///
    /// # Safety
    /// As [`Queue::head_ready`].
    pub(super) unsafe fn len(&self) -> usize {
        let tail = position(self.tail.index.load(Ordering::Acquire));
        // SAFETY: the consumer's head (caller's contract).
        let head = self.head.with(|head| unsafe { (*head).pos });
        tail.wrapping_sub(head)
    }

    /// True if the queue is closed and every value claimed before the close was popped.
    ///
    /// # Safety
    /// As [`Queue::head_ready`].
    pub(super) unsafe fn is_drained(&self) -> bool {
        // SAFETY: caller's contract.
        self.is_closed() && unsafe { self.len() } == 0
    }

    /// A clean block: a spare if there is one, else a new one.
    fn take_spare(&self) -> *mut Block<T> {
        for spare in self.spares.iter() {
            if spare.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let block = spare.swap(ptr::null_mut(), Ordering::Acquire);
            if !block.is_null() {
                return block;
            }
        }
        Block::allocate()
    }

    /// Keeps a clean, unreferenced block (or null: nothing) for reuse, or frees it.
    fn put_spare(&self, block: *mut Block<T>) {
        if block.is_null() {
            return;
        }
        for spare in self.spares.iter() {
            if spare
                .compare_exchange(ptr::null_mut(), block, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
        // SAFETY: callers pass only clean blocks that nothing else refers to.
        unsafe { Block::free(block) };
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        // Every handle is gone (`&mut self`): no claim is in progress and nothing else refers to
        // any block.
        let end = position(self.tail.index.load(Ordering::Acquire));
        let (mut block, mut pos) = self.head.with(|head| {
            // SAFETY: exclusive access.
            let head = unsafe { &*head };
            (head.block, head.pos)
        });
        while pos != end {
            let offset = pos % BLOCK_CAP;
            // SAFETY: the blocks from the head on are live and exclusively ours; a slot between
            // head and end was written (its producer finished before its handle was dropped).
            unsafe {
                let slot = &(*block).slots[offset];
                if slot.ready.load(Ordering::Acquire) {
                    slot.value.with_mut(|p| (*p).assume_init_drop());
                }
                pos = pos.wrapping_add(1);
                if offset + 1 == BLOCK_CAP {
                    let next = (*block).next.load(Ordering::Acquire);
                    Block::free(block);
                    block = next;
                }
            }
        }
        while !block.is_null() {
            // SAFETY: the rest of the list holds no values; each block is freed once.
            unsafe {
                let next = (*block).next.load(Ordering::Acquire);
                Block::free(block);
                block = next;
            }
        }
        for spare in self.spares.iter() {
            let block = spare.swap(ptr::null_mut(), Ordering::Acquire);
            if !block.is_null() {
                // SAFETY: spares are clean and referenced by nobody else.
                unsafe { Block::free(block) };
            }
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
