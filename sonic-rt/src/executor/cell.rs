//! The task cell: one heap allocation holding a header, then the future or its output.
//!
//! Rules (who may touch what):
//! - `refs`, `shared` and `id` may be touched from any thread: wakers are `Send + Sync`, so a
//!   clone, a drop or a wake can come from anywhere. `refs` is atomic; `id` never changes.
//! - `shared` (the runtime the task runs on) is set at allocation, except for a task spawned on a
//!   `LocalSet` before any runtime was entered: that one is *unbound* until the `LocalSet` is
//!   first driven, when [`Header::bind`] sets it once, on the owner thread, before the task is
//!   queued. An unbound task is never polled, so no waker of it exists yet, and every other
//!   thread reaches `shared` only through a waker: it reads the value written by `bind`. It never
//!   changes after that.
//! - Everything else (`state`, `key`, `join_waker`, the stage) is touched only on the runtime's
//!   own thread. A wake from another thread never touches it: it sends a counted reference through
//!   the runtime's remote queue, and the owner thread does the rest.
//! - The stage is reached only through a [`StageLock`], which sets `RUNNING` while it lives and
//!   cannot be taken while `RUNNING` is set. User code runs while a lock is held (the future's
//!   poll, its destructor, the output's destructor); if that code reaches the task again (drops
//!   or polls its own `JoinHandle`, aborts itself), it finds the stage locked and leaves it alone,
//!   and the lock holder finishes the job when it releases. So a stage is never dropped twice, and
//!   never read while it is being dropped.
//! - `COMPLETE` is set only once the stage holds the output (or an error), by the lock holder,
//!   and never cleared.
//! - The future (and a non-`Send` output) is dropped only on the owner thread: when the task
//!   completes, is aborted, when its `JoinHandle` drops the output, or at runtime shutdown. So
//!   when the last reference goes away, possibly on another thread, the stage is already
//!   `Consumed` (or holds only a `Send` `JoinError`) and freeing the memory runs no user code.
//! - The future never moves: it is pinned inside the cell until dropped in place.

use super::join::JoinError;
use super::remote::Shared;
use crate::loom::{fence, AtomicUsize, Ordering};
use crate::slab::Key;
use crate::task::{CurrentTask, Id};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The task is in the local run queue.
pub(crate) const SCHEDULED: u8 = 1 << 0;
/// The stage is locked: the future is being polled, or the future or output is being dropped.
pub(crate) const RUNNING: u8 = 1 << 1;
/// The future is gone: the output (or error) is stored or already taken.
pub(crate) const COMPLETE: u8 = 1 << 2;
/// `abort` was called; the next time the executor sees the task it drops the future.
pub(crate) const CANCELLED: u8 = 1 << 3;
/// A `JoinHandle` exists and wants the output.
pub(crate) const JOIN_INTEREST: u8 = 1 << 4;

/// The type-specific half of a task. Every entry takes the header pointer of a task of the
/// vtable's own type (`TaskCell<F>`); the `# Safety` of each says what else the caller promises.
pub(crate) struct Vtable {
    /// # Safety
    /// The stage is locked by the caller (a live [`StageLock`]), on the owner thread.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// # Safety
    /// The stage is locked by the caller, on the owner thread.
    cancel: unsafe fn(NonNull<Header>),
    /// # Safety
    /// The stage is locked by the caller, on the owner thread.
    drop_stage: unsafe fn(NonNull<Header>),
    /// # Safety
    /// The stage is locked by the caller, on the owner thread, and `dst` points at a valid
    /// `Poll<Result<F::Output, JoinError>>` for this task's `F`.
    read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// # Safety
    /// The last reference is gone (nothing else can reach the cell), any thread.
    dealloc: unsafe fn(NonNull<Header>),
}

#[repr(C)]
pub(crate) struct Header {
    refs: AtomicUsize,
    vtable: &'static Vtable,
    /// `None` while the task is unbound (module rules).
    shared: UnsafeCell<Option<Arc<Shared>>>,
    id: Id,
    /// Where the task was spawned (for the slow-poll report); never changes.
    spawned_at: &'static Location<'static>,
    state: Cell<u8>,
    pub(crate) key: Cell<Key>,
    join_waker: UnsafeCell<Option<Waker>>,
}

impl Header {
    pub(crate) fn state(&self) -> u8 {
        self.state.get()
    }

    pub(crate) fn set_state(&self, state: u8) {
        self.state.set(state);
    }

    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// Where the task was spawned (`#[track_caller]` on the spawn functions).
    pub(crate) fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// The runtime the task runs on, or `None` while it is unbound (module rules).
    pub(crate) fn shared(&self) -> Option<&Arc<Shared>> {
        // SAFETY: `bind` writes the slot once, on the owner thread, while the task is unbound:
        // before it is queued, so before any waker of it exists. Readers on other threads got
        // here through a waker, made after that write and handed over by some synchronisation;
        // a reader on the owner thread is ordered with it by program order. No reference into
        // the slot is alive while `bind` writes: an unbound task has no waker, and its other
        // readers (`abort`) skip a queued task, which an unbound one is.
        unsafe { (*self.shared.get()).as_ref() }
    }

    /// Binds an unbound task to the runtime that will run it.
    ///
    /// # Safety
    /// On the owner thread; the task is unbound (allocated with no runtime and not bound since),
    /// so it has never been queued or polled and no waker of it exists.
    pub(crate) unsafe fn bind(&self, shared: Arc<Shared>) {
        // SAFETY: caller's contract: nothing else reads the slot now (see `shared`).
        let slot = unsafe { &mut *self.shared.get() };
        debug_assert!(slot.is_none(), "a task is bound to a runtime once");
        *slot = Some(shared);
    }

    /// Takes the join waker out of its slot. Owner thread only (module rules).
    pub(crate) fn take_join_waker(&self) -> Option<Waker> {
        // SAFETY: the slot is touched only on the owner thread, and only inside this method and
        // `set_join_waker`, whose borrows run no user code; so no other borrow overlaps this one.
        unsafe { (*self.join_waker.get()).take() }
    }

    /// Stores `waker` as the join waker unless the stored one already wakes the same task.
    /// Owner thread only (module rules).
    pub(crate) fn set_join_waker(&self, waker: &Waker) {
        // SAFETY: as in `take_join_waker`; `will_wake` compares pointers and runs no user code.
        if unsafe { &*self.join_waker.get() }
            .as_ref()
            .is_some_and(|w| w.will_wake(waker))
        {
            return;
        }
        // Cloned, and the old waker dropped, outside any borrow of the slot: both may run code.
        let new = waker.clone();
        // SAFETY: as above; `replace` runs no user code.
        let old = unsafe { (*self.join_waker.get()).replace(new) };
        drop(old);
    }
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// Allocates a task with two references (the executor's and the `JoinHandle`'s) and returns
/// its header pointer. The caller owns both references. `shared` is `None` for an unbound task
/// (module rules). `spawned_at` is where user code spawned it.
pub(crate) fn allocate<F: Future + 'static>(
    future: F,
    shared: Option<Arc<Shared>>,
    id: Id,
    spawned_at: &'static Location<'static>,
) -> NonNull<Header> {
    let cell = Box::new(TaskCell {
        header: Header {
            refs: AtomicUsize::new(2),
            vtable: &TaskCell::<F>::VTABLE,
            shared: UnsafeCell::new(shared),
            id,
            spawned_at,
            state: Cell::new(0),
            key: Cell::new(Key {
                index: 0,
                generation: 0,
            }),
            join_waker: UnsafeCell::new(None),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // `TaskCell` is `repr(C)` with the header first, so the cell pointer is a header pointer.
    NonNull::from(Box::leak(cell)).cast()
}

/// Drops a stage in place if the code that polls or drops the future unwinds, and leaves it
/// `Consumed`: the future's destructor runs while the panic is in flight (it sees
/// `std::thread::panicking()`), as in tokio.
struct ConsumeOnUnwind<F: Future>(*mut Stage<F>);

impl<F: Future> Drop for ConsumeOnUnwind<F> {
    fn drop(&mut self) {
        // SAFETY: the guard is made from the stage pointer of a locked stage and forgotten on
        // every path that returns normally, so this runs only during an unwind out of the
        // future's poll; the borrow of the future that the poll held has ended with its frame.
        // A second panic here aborts the process (as in tokio), so the write always follows.
        unsafe {
            ptr::drop_in_place(self.0);
            ptr::write(self.0, Stage::Consumed);
        }
    }
}

impl<F: Future + 'static> TaskCell<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        cancel: Self::cancel,
        drop_stage: Self::drop_stage,
        read_output: Self::read_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `ptr` is the header of a live `TaskCell<F>`.
    unsafe fn stage(ptr: NonNull<Header>) -> *mut Stage<F> {
        // SAFETY: the header is the first field of a repr(C) TaskCell<F> (caller's contract);
        // the field pointer is taken without making a reference.
        unsafe { UnsafeCell::raw_get(ptr::addr_of!((*ptr.cast::<TaskCell<F>>().as_ptr()).stage)) }
    }

    /// Drops the stage in place, catching a panicking destructor, and writes `with`.
    ///
    /// # Safety
    /// `ptr` is the header of a live `TaskCell<F>` whose stage the caller has locked.
    unsafe fn replace_stage(ptr: NonNull<Header>, with: Stage<F>) -> Option<Box<dyn Any + Send>> {
        // SAFETY: caller's contract; the stage is valid and dropped exactly once, in place, so a
        // pinned future is never moved. If its destructor panics, drop glue has still dropped
        // every field, so writing the new value over it does not leak or double-drop. The lock
        // keeps any code run by the destructor from reaching this stage.
        unsafe {
            let stage = Self::stage(ptr);
            let panic = catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(stage))).err();
            ptr::write(stage, with);
            panic
        }
    }

    /// # Safety
    /// As the `poll` entry of [`Vtable`].
    unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: caller's contract (a live cell of this type).
        let stage = unsafe { Self::stage(ptr) };
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let guard = ConsumeOnUnwind(stage);
            // SAFETY: the stage is locked by the caller, so this is the only borrow of it; it
            // ends before the guard can touch the stage (on unwind) or `forget` runs.
            let Stage::Running(future) = (unsafe { &mut *stage }) else {
                mem::forget(guard);
                return None;
            };
            // SAFETY: the future lives in the heap cell and is only ever dropped in place.
            let poll = unsafe { Pin::new_unchecked(future) }.poll(cx);
            mem::forget(guard);
            Some(poll)
        }));
        let result = match polled {
            Ok(None) => return Poll::Ready(()),
            Ok(Some(Poll::Pending)) => return Poll::Pending,
            Ok(Some(Poll::Ready(output))) => {
                // SAFETY: as above; the borrow of the future ended with the poll.
                match unsafe { Self::replace_stage(ptr, Stage::Consumed) } {
                    None => Ok(output),
                    // SAFETY: the caller keeps the task live.
                    Some(payload) => Err(JoinError::panic(unsafe { Self::id(ptr) }, payload)),
                }
            }
            // The guard has dropped the future and left the stage `Consumed`.
            // SAFETY: the caller keeps the task live.
            Err(payload) => Err(JoinError::panic(unsafe { Self::id(ptr) }, payload)),
        };
        // SAFETY: locked stage, now `Consumed`, so overwriting it drops nothing.
        unsafe { ptr::write(stage, Stage::Finished(result)) };
        Poll::Ready(())
    }

    /// # Safety
    /// `ptr` is a live task.
    unsafe fn id(ptr: NonNull<Header>) -> Id {
        // SAFETY: caller's contract; `id` never changes, so any thread may read it.
        unsafe { ptr.as_ref() }.id
    }

    /// # Safety
    /// As the `cancel` entry of [`Vtable`].
    unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: caller's contract.
        let panic = unsafe { Self::replace_stage(ptr, Stage::Consumed) };
        // SAFETY: caller's contract.
        let id = unsafe { Self::id(ptr) };
        let err = match panic {
            Some(payload) => JoinError::panic(id, payload),
            None => JoinError::cancelled(id),
        };
        // SAFETY: as above; the stage is `Consumed`.
        unsafe { ptr::write(Self::stage(ptr), Stage::Finished(Err(err))) };
    }

    /// # Safety
    /// As the `drop_stage` entry of [`Vtable`].
    unsafe fn drop_stage(ptr: NonNull<Header>) {
        // SAFETY: caller's contract. A panic in an output's destructor is swallowed: there is
        // nobody left to report it to.
        drop(unsafe { Self::replace_stage(ptr, Stage::Consumed) });
    }

    /// # Safety
    /// As the `read_output` entry of [`Vtable`].
    unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: caller's contract: a locked stage of this type, and `dst` of the matching type.
        // Moving the output out runs no user code; the old `*dst` is a `Poll::Pending`.
        unsafe {
            let stage = &mut *Self::stage(ptr);
            if let Stage::Finished(_) = stage {
                if let Stage::Finished(out) = mem::replace(stage, Stage::Consumed) {
                    *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(out);
                }
            }
        }
    }

    /// # Safety
    /// As the `dealloc` entry of [`Vtable`].
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the last reference is gone, so nothing else can reach the cell; it was made
        // by `Box::new` in `allocate`. The stage is `Consumed` or a `Send` error (module rules),
        // so this may run on any thread.
        drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
    }
}

/// Operations on a task through its header pointer, for code that holds a reference it counted
/// itself (a waker, the executor's queue entry kept alive by its slab).
pub(crate) mod raw {
    use super::*;

    /// # Safety
    /// `ptr` is a live task (the caller holds a counted reference or the executor's slab keeps
    /// it), and the returned reference does not outlive that. Off the owner thread only the
    /// atomic `refs`, `shared` (through [`Header::shared`]) and `id` may be read through it.
    pub(crate) unsafe fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
        // SAFETY: caller's contract.
        unsafe { ptr.as_ref() }
    }

    /// Counts one more reference.
    ///
    /// # Safety
    /// `ptr` is a live task and the caller holds a reference to it (so the count is not zero).
    pub(crate) unsafe fn ref_inc(ptr: NonNull<Header>) {
        // SAFETY: caller's contract. Relaxed suffices: a new reference is made from an existing
        // one, which already orders the task's memory for this thread.
        let old = unsafe { header(ptr) }.refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Releases one reference; the last one frees the cell.
    ///
    /// # Safety
    /// `ptr` is a live task and the caller gives up a reference it counted; it must not use
    /// `ptr` afterwards.
    pub(crate) unsafe fn ref_dec(ptr: NonNull<Header>) {
        // SAFETY: caller's contract: the reference being released keeps the cell alive here.
        let header = unsafe { header(ptr) };
        if header.refs.fetch_sub(1, Ordering::Release) == 1 {
            // Pairs with the Release of every other decrement: their uses of the cell happen
            // before it is freed.
            fence(Ordering::Acquire);
            let dealloc = header.vtable.dealloc;
            // SAFETY: that was the last reference.
            unsafe { dealloc(ptr) };
        }
    }

    /// Locks the stage, or `None` if it is locked already (code inside the task's own poll or
    /// destructor reached it: the lock holder will finish the job).
    ///
    /// # Safety
    /// `ptr` is a live task, on its owner thread, and stays live while the lock does.
    pub(crate) unsafe fn lock_stage<'a>(ptr: NonNull<Header>) -> Option<StageLock<'a>> {
        // SAFETY: caller's contract.
        let header = unsafe { header(ptr) };
        let state = header.state();
        if state & RUNNING != 0 {
            return None;
        }
        header.set_state(state | RUNNING);
        Some(StageLock {
            ptr,
            _header: PhantomData,
        })
    }
}

/// The right to touch a task's stage (see the module rules). While it lives, `RUNNING` is set.
/// Its operations that run user code (poll, drops) run it as the current task
/// ([`crate::task::try_id`]).
pub(crate) struct StageLock<'a> {
    ptr: NonNull<Header>,
    _header: PhantomData<&'a Header>,
}

impl StageLock<'_> {
    fn header(&self) -> &Header {
        // SAFETY: `lock_stage`'s caller keeps the task live while the lock exists.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls the future; on completion (or a panic) the output or error is stored and this
    /// returns `Ready`. `Ready` at once if the future is gone already.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let _current = CurrentTask::enter(self.header().id);
        // SAFETY: the stage is locked, on the owner thread (`lock_stage`'s contract); a panic
        // unwinding out of the future is caught inside.
        unsafe { (self.header().vtable.poll)(self.ptr, cx) }
    }

    /// Drops the future in place and stores a cancellation error (or the destructor's panic).
    pub(crate) fn cancel(&self) {
        let _current = CurrentTask::enter(self.header().id);
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    /// Drops whatever the stage holds and leaves it `Consumed`.
    pub(crate) fn drop_stage(&self) {
        let _current = CurrentTask::enter(self.header().id);
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.drop_stage)(self.ptr) }
    }

    /// Moves a finished output into `*dst`; leaves `*dst` alone if there is none.
    ///
    /// # Safety
    /// `dst` points at a valid `Poll<Result<T, JoinError>>` where `T` is the task's output type.
    pub(crate) unsafe fn read_output(&self, dst: *mut ()) {
        // SAFETY: the stage is locked on the owner thread; the type of `dst` is the caller's.
        unsafe { (self.header().vtable.read_output)(self.ptr, dst) }
    }
}

impl Drop for StageLock<'_> {
    fn drop(&mut self) {
        let header = self.header();
        header.set_state(header.state() & !RUNNING);
    }
}

/// A counted reference to a task. Dropping it releases the reference.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: off the owner thread a TaskRef only changes the atomic count or reads `shared` (module
// rules; its safe methods touch nothing else); the last release frees memory that holds no
// non-Send value.
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// Takes over one reference the caller already counted.
    ///
    /// # Safety
    /// `ptr` is a live task and the caller transfers one counted reference to the `TaskRef`.
    pub(crate) unsafe fn from_counted(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.0
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: the TaskRef owns one counted reference and is never used again.
        unsafe { raw::ref_dec(self.0) };
    }
}
