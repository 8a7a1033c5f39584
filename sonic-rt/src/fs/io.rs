//! The two file backends behind one set of primitive operations: the blocking pool everywhere,
//! and (Linux) the runtime's io_uring when the kernel allows it and the builder did not turn it
//! off. The choice is made once per runtime, at its first file operation.
//!
//! Every primitive owns its buffer and keeps the file open (`Arc<File>`) until it completes, so
//! a future dropped mid-way never leaves the kernel or a pool thread writing into freed memory.

use super::OpenOptions;
use crate::blocking::{run_io, Blocking, Failed};
use crate::runtime::core::Core;
use std::cell::RefCell;
use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

#[cfg(target_os = "linux")]
use super::uring::{Op, Ring};

/// Which backend a runtime's file operations use (see [`backend`](super::backend)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The runtime's io_uring (Linux).
    IoUring,
    /// The runtime's blocking pool.
    BlockingPool,
}

/// A runtime's file backend.
#[derive(Clone)]
pub(crate) enum Io {
    Pool,
    #[cfg(target_os = "linux")]
    Uring(Rc<Ring>),
}

#[derive(Clone)]
enum Choice {
    Pool,
    #[cfg(target_os = "linux")]
    Uring(Weak<Ring>),
}

thread_local! {
    /// Each runtime's backend, decided at its first file operation.
    static CHOICES: RefCell<Vec<(Weak<Core>, Choice)>> = const { RefCell::new(Vec::new()) };
}

impl Io {
    /// The current runtime's backend (deciding it on first use).
    ///
    /// # Panics
    /// Outside a sonic runtime.
    pub(crate) fn current() -> Io {
        let core = crate::context::expect_current("sonic_rt::fs");
        let found = CHOICES.with(|c| {
            let mut c = c.borrow_mut();
            c.retain(|(core, _)| core.strong_count() > 0);
            c.iter()
                .find(|(c, _)| std::ptr::eq(c.as_ptr(), Rc::as_ptr(&core)))
                .map(|(_, choice)| choice.clone())
        });
        match found {
            Some(Choice::Pool) => return Io::Pool,
            #[cfg(target_os = "linux")]
            Some(Choice::Uring(ring)) => {
                // Gone only while the runtime drops its tasks: the pool serves those calls.
                return ring.upgrade().map_or(Io::Pool, Io::Uring);
            }
            None => {}
        }
        let (io, choice) = decide(&core);
        CHOICES.with(|c| c.borrow_mut().push((Rc::downgrade(&core), choice)));
        io
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Io::Pool => Backend::BlockingPool,
            #[cfg(target_os = "linux")]
            Io::Uring(_) => Backend::IoUring,
        }
    }

    /// Reads at most `len` bytes at offset `at` (`None`: at the file's own position, advancing
    /// it, for append-mode and unseekable files), appended to `buf`.
    pub(crate) fn read(
        &self,
        file: &Arc<StdFile>,
        mut buf: Vec<u8>,
        len: usize,
        at: Option<u64>,
    ) -> BufOp {
        buf.reserve(len);
        #[cfg(target_os = "linux")]
        if let Io::Uring(ring) = self {
            if len <= INLINE_MAX {
                let start = buf.len();
                let entry = io_uring::opcode::Read::new(
                    io_uring::types::Fd(file.as_raw_fd()),
                    // SAFETY: `start` is the length, so the pointer is at most one past the end
                    // of the initialised part, inside the allocation (capacity >= start + len).
                    unsafe { buf.as_mut_ptr().add(start) },
                    len as u32,
                )
                // -1: the file's position, advanced as read(2) does (IORING_FEAT_RW_CUR_POS).
                .offset(at.unwrap_or(u64::MAX))
                .build();
                // SAFETY: the entry points into `buf`'s heap block (spare capacity >= len,
                // reserved above) and names the fd `file` keeps open; the Op keeps both.
                let op = unsafe { Op::submit(ring.clone(), entry, (buf, file.clone())) };
                return BufOp::UringRead { op, start };
            }
        }
        let file = file.clone();
        let op = Blocking::start(
            move || {
                let res = read_into_spare(&file, &mut buf, len, at);
                (res, buf)
            },
            false,
        );
        match op {
            Ok(op) => BufOp::Pool(op),
            Err(e) => BufOp::failed(e),
        }
    }

    /// Writes all of `buf` at offset `at` (`None`: at the file's position, for append-mode and
    /// unseekable files). A short write is continued; a write that makes no progress is
    /// `WriteZero`. A pool write is *mandatory*: it still runs if the runtime shuts down first.
    ///
    /// Seekable files are written at explicit offsets: the kernel's io_uring loses the file
    /// position after a short write with offset -1 (seen on 6.18: every continuation of a
    /// write cut short by a full disk landed at offset 0 again and "succeeded").
    pub(crate) fn write_all(&self, file: &Arc<StdFile>, buf: Vec<u8>, at: Option<u64>) -> BufOp {
        #[cfg(target_os = "linux")]
        if let Io::Uring(ring) = self {
            if buf.len() <= INLINE_MAX {
                return uring_write(ring, file.clone(), buf, 0, at);
            }
        }
        let file = file.clone();
        let op = Blocking::start(
            move || {
                let res = match at {
                    Some(at) => std::os::unix::fs::FileExt::write_all_at(&*file, &buf, at),
                    None => (&*file).write_all(&buf),
                };
                let res = res.map(|()| buf.len());
                (res, buf)
            },
            true,
        );
        match op {
            Ok(op) => BufOp::Pool(op),
            Err(e) => BufOp::failed(e),
        }
    }

    /// Opens `path` with `opts`.
    pub(crate) async fn open(&self, path: PathBuf, opts: &OpenOptions) -> io::Result<StdFile> {
        match self {
            Io::Pool => {
                let std = opts.to_std();
                run_io(move || std.open(path)).await
            }
            #[cfg(target_os = "linux")]
            Io::Uring(ring) => {
                use std::os::fd::FromRawFd;
                use std::os::unix::ffi::OsStrExt;
                let (flags, mode) = opts.to_flags()?;
                let path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "file name contained an unexpected NUL byte",
                    )
                })?;
                let entry = io_uring::opcode::OpenAt::new(
                    io_uring::types::Fd(libc::AT_FDCWD),
                    path.as_ptr(),
                )
                .flags(flags)
                .mode(mode)
                .build();
                // SAFETY: the entry points into `path`'s heap block, kept by the Op.
                let (res, _path) = unsafe { Op::submit(ring.clone(), entry, path) }.await;
                let fd = res? as libc::c_int;
                // SAFETY: the kernel just opened `fd` for us; nobody else owns it.
                Ok(unsafe { StdFile::from_raw_fd(fd) })
            }
        }
    }

    /// `fsync` (or `fdatasync` with `data_only`).
    pub(crate) async fn sync(&self, file: &Arc<StdFile>, data_only: bool) -> io::Result<()> {
        match self {
            Io::Pool => {
                let file = file.clone();
                run_io(move || {
                    if data_only {
                        file.sync_data()
                    } else {
                        file.sync_all()
                    }
                })
                .await
            }
            #[cfg(target_os = "linux")]
            Io::Uring(ring) => {
                let mut op = io_uring::opcode::Fsync::new(io_uring::types::Fd(file.as_raw_fd()));
                if data_only {
                    op = op.flags(io_uring::types::FsyncFlags::DATASYNC);
                }
                // SAFETY: the entry names the fd `file` keeps open, kept by the Op.
                let (res, _file) =
                    unsafe { Op::submit(ring.clone(), op.build(), file.clone()) }.await;
                res.map(drop)
            }
        }
    }
}

/// The largest read or write the ring takes. It completes inline, inside the submitting
/// syscall on the runtime's thread, when the data is in the page cache (a copy of 64 KiB takes
/// a few µs): the lowest latency there is. Larger ones go to the blocking pool, as tokio's do:
/// done on the ring they stalled the loop for their whole copy, and so did `IOSQE_ASYNC` ones
/// on 6.18 (the copy still ran in the submitting thread, `tests/fs_stall.rs`).
#[cfg(target_os = "linux")]
const INLINE_MAX: usize = 64 * 1024;

fn decide(core: &Core) -> (Io, Choice) {
    #[cfg(target_os = "linux")]
    if core.config().io_uring {
        let cpus = core.config().blocking.cpus.as_deref();
        if let Ok(ring) = Ring::new(256, cpus) {
            let choice = Choice::Uring(Rc::downgrade(&ring));
            return (Io::Uring(ring), choice);
        }
    }
    let _ = core;
    (Io::Pool, Choice::Pool)
}

/// `pread(2)` at `at` (`read(2)` for `None`) into `buf`'s spare capacity (at least `len`),
/// then `buf.len() += n`.
fn read_into_spare(
    file: &StdFile,
    buf: &mut Vec<u8>,
    len: usize,
    at: Option<u64>,
) -> io::Result<usize> {
    debug_assert!(buf.capacity() - buf.len() >= len);
    let fd = file.as_raw_fd();
    loop {
        // SAFETY: the pointer is just past the initialised part, inside the allocation.
        let dst = unsafe { buf.as_mut_ptr().add(buf.len()) }.cast();
        // SAFETY: writes at most `len` bytes into the spare capacity (reserved by the caller) of
        // a buffer this thread owns, from an fd `file` keeps open.
        let n = unsafe {
            match at {
                Some(at) => libc::pread(fd, dst, len, at as libc::off_t),
                None => libc::read(fd, dst, len),
            }
        };
        if n >= 0 {
            // SAFETY: the kernel initialised `n <= len` bytes after the current length.
            unsafe { buf.set_len(buf.len() + n as usize) };
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(target_os = "linux")]
fn uring_write(
    ring: &Rc<Ring>,
    file: Arc<StdFile>,
    buf: Vec<u8>,
    done: usize,
    at: Option<u64>,
) -> BufOp {
    let rest = &buf[done..];
    let entry = io_uring::opcode::Write::new(
        io_uring::types::Fd(file.as_raw_fd()),
        rest.as_ptr(),
        rest.len().min(u32::MAX as usize) as u32,
    )
    .offset(at.map_or(u64::MAX, |at| at + done as u64))
    .build();
    // SAFETY: the entry points into `buf`'s heap block and names the fd `file` keeps open; the
    // Op keeps both.
    let op = unsafe { Op::submit(ring.clone(), entry, (buf, file)) };
    BufOp::UringWrite {
        op,
        done,
        at,
        ring: ring.clone(),
    }
}

/// A read or write in flight on either backend; resolves to the count (or error) and the
/// buffer. A write resolves only when every byte is written or an error stops it.
pub(crate) enum BufOp {
    Pool(Blocking<(io::Result<usize>, Vec<u8>)>),
    #[cfg(target_os = "linux")]
    UringRead {
        op: Op<(Vec<u8>, Arc<StdFile>)>,
        start: usize,
    },
    #[cfg(target_os = "linux")]
    UringWrite {
        op: Op<(Vec<u8>, Arc<StdFile>)>,
        done: usize,
        at: Option<u64>,
        ring: Rc<Ring>,
    },
    Failed(Option<io::Error>),
}

impl BufOp {
    fn failed(e: io::Error) -> BufOp {
        BufOp::Failed(Some(e))
    }
}

impl Future for BufOp {
    type Output = (io::Result<usize>, Vec<u8>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut *self {
                BufOp::Pool(op) => {
                    return Poll::Ready(match ready!(Pin::new(op).poll(cx)) {
                        Ok(out) => out,
                        Err(f) => (Err(Failed::into_io(f)), Vec::new()),
                    })
                }
                #[cfg(target_os = "linux")]
                BufOp::UringRead { op, start } => {
                    let start = *start;
                    let (res, (mut buf, _file)) = ready!(Pin::new(op).poll(cx));
                    if let Ok(n) = res {
                        // SAFETY: the kernel initialised `n` bytes (at most the length asked
                        // for, which fits the spare capacity) right after the first `start`.
                        unsafe { buf.set_len(start + n) };
                    }
                    return Poll::Ready((res, buf));
                }
                #[cfg(target_os = "linux")]
                BufOp::UringWrite { op, done, at, ring } => {
                    let at = *at;
                    let (res, (buf, file)) = ready!(Pin::new(op).poll(cx));
                    let total = match res {
                        Ok(0) => {
                            let e = io::Error::new(
                                io::ErrorKind::WriteZero,
                                "failed to write whole buffer",
                            );
                            return Poll::Ready((Err(e), buf));
                        }
                        Ok(n) => *done + n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => *done,
                        Err(e) => return Poll::Ready((Err(e), buf)),
                    };
                    if total == buf.len() {
                        return Poll::Ready((Ok(total), buf));
                    }
                    // A short write: continue with the rest.
                    let ring = ring.clone();
                    *self = uring_write(&ring, file, buf, total, at);
                }
                BufOp::Failed(e) => {
                    let e = e
                        .take()
                        .unwrap_or_else(|| io::Error::other("polled after completion"));
                    return Poll::Ready((Err(e), Vec::new()));
                }
            }
        }
    }
}
