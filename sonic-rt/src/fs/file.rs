//! `File`: an open file with futures-io `AsyncRead`/`AsyncWrite`/`AsyncSeek` (and tokio's traits
//! with the `tokio` feature), tokio's `File` in behaviour.
//!
//! Rules (tokio's model):
//! - At most one operation is in flight. It owns the file's buffer while it runs; the file is
//!   then `Busy`, and every method first waits for it.
//! - The file keeps its own offset (`offset`: where the next operation starts) and reads and
//!   writes at explicit offsets; the kernel's file position is brought in line only when the
//!   `std::fs::File` is handed back. Files opened for appending, and unseekable ones (a FIFO),
//!   have no offset of their own (`None`): their operations use and advance the kernel's.
//! - A read fills the buffer with up to `min(len, MAX_BUF)` bytes and serves reads from it until
//!   it is empty. The offset is then ahead of the logical position by the bytes not yet
//!   consumed; a seek or a write first moves it back by that much.
//! - A write copies up to `MAX_BUF` bytes into the buffer, starts writing all of them and returns
//!   `Ok(n)` at once. Its error, if any, is reported by the next write, `flush` or `sync_*`, so
//!   nothing is lost silently; call `flush` (or `sync_all`) to know that the data reached the
//!   kernel. Dropping the file does not cancel a started write.

use super::io::{BufOp, Io};
use super::OpenOptions;
use crate::executor::budget;
use std::fmt;
use std::fs::{File as StdFile, Metadata};
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The most bytes one operation moves (tokio's default, 2 MiB).
const MAX_BUF: usize = 2 * 1024 * 1024;

enum State {
    Idle,
    Busy(Kind, BufOp),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    /// A write of this many bytes.
    Write(u64),
}

/// An open file on the runtime's file backend (io_uring or the blocking pool).
///
/// # Examples
/// ```
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
/// sonic_rt::block_on(async {
///     let path = std::env::temp_dir().join(format!("sonic-file-doc-{}", std::process::id()));
///     let mut f = sonic_rt::fs::File::create(&path).await?;
///     f.write_all(b"hello").await?;
///     f.flush().await?;
///     let mut s = String::new();
///     sonic_rt::fs::File::open(&path).await?.read_to_string(&mut s).await?;
///     assert_eq!(s, "hello");
///     sonic_rt::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<StdFile>,
    io: Io,
    state: State,
    /// The buffer when idle: unread data `buf[cursor..]` after a read, nothing after a write.
    buf: Vec<u8>,
    cursor: usize,
    /// Where the next read or write starts; `None`: at the kernel's file position.
    offset: Option<u64>,
    /// The error of a background write, for the next write/flush to report.
    write_err: Option<io::Error>,
    /// The most bytes one read or write moves (`set_max_buf_size`).
    max_buf: usize,
}

impl File {
    /// Opens `path` read-only (`OpenOptions::new().read(true)`).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates `path` (or truncates it) write-only.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file write-only; fails if `path` exists.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A new `OpenOptions` (tokio's `File::options`).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std::fs::File` (uses the current runtime's backend).
    ///
    /// # Panics
    /// Outside a sonic runtime.
    pub fn from_std(std: StdFile) -> File {
        File::with_io(std, Io::current())
    }

    /// A file read and written at the kernel's shared file position (stdio redirected to a
    /// file: other writers of the same description, `println!` say, must not be overwritten).
    pub(crate) fn with_io_stream(std: StdFile, io: Io) -> File {
        let mut f = File::with_io(std, io);
        f.offset = None;
        f
    }

    pub(crate) fn with_io(std: StdFile, io: Io) -> File {
        // SAFETY: F_GETFL on an fd `std` owns, no other argument.
        let flags = unsafe { libc::fcntl(std.as_raw_fd(), libc::F_GETFL) };
        let append = flags >= 0 && flags & libc::O_APPEND != 0;
        let offset = if append {
            None
        } else {
            lseek(&std, SeekFrom::Current(0)).ok()
        };
        File {
            std: Arc::new(std),
            io,
            state: State::Idle,
            buf: Vec::new(),
            cursor: 0,
            offset,
            write_err: None,
            max_buf: MAX_BUF,
        }
    }

    /// Sets the most bytes one read or write moves through the file's buffer (2 MiB by
    /// default, as tokio's): tokio's `set_max_buf_size`. A larger size means fewer operations
    /// for large transfers and a larger buffer held by the file. 0 acts as 1 (a zero-byte
    /// operation would read as the end of the file).
    ///
    /// # Examples
    /// ```
    /// use futures_util::AsyncWriteExt;
    /// sonic_rt::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("sonic-maxbuf-doc-{}", std::process::id()));
    ///     let mut f = sonic_rt::fs::File::create(&path).await?;
    ///     f.set_max_buf_size(4);
    ///     assert_eq!(f.write(b"hello").await?, 4, "one write moves at most 4 bytes");
    ///     f.flush().await?;
    ///     sonic_rt::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        self.max_buf = max_buf_size.max(1);
    }

    /// A second `File` on the same open file (a duplicated descriptor): tokio's `try_clone`.
    /// The clone starts at this file's position as its reader sees it (after a write still in
    /// flight, past it). From then on each `File` keeps its own position, because sonic reads
    /// and writes at explicit offsets; tokio's clones share the kernel's. Files opened for
    /// appending, and unseekable ones, use the kernel's position and so share it, as in tokio.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.try_clone()?;
        let mut clone = File::with_io(std, Io::current());
        clone.offset = self.offset.map(|o| match self.state {
            State::Busy(Kind::Write(n), _) => o + n,
            _ => o - (self.buf.len() - self.cursor) as u64,
        });
        Ok(clone)
    }

    /// Waits for the operation in flight, then gives the `std::fs::File` back.
    pub async fn into_std(mut self) -> StdFile {
        let _ = poll_fn(|cx| self.poll_idle(cx)).await;
        let _ = self.rewind_unread();
        let _ = self.sync_position();
        let std = self.std.clone();
        drop(self);
        // Unique once the last operation is gone (each holds a clone until it completes).
        Arc::try_unwrap(std).unwrap_or_else(|arc| {
            arc.try_clone().expect(
                "sonic_rt::fs::File::into_std: the file is still in use and cannot be duplicated",
            )
        })
    }

    /// Gives the `std::fs::File` back if no operation is in flight.
    // tokio's signature: the file itself comes back on failure.
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<StdFile, File> {
        if matches!(self.state, State::Busy(..))
            || self.write_err.is_some()
            || Arc::strong_count(&self.std) != 1
            || self.rewind_unread().is_err()
            || self.sync_position().is_err()
        {
            return Err(self);
        }
        let File { std, .. } = self;
        Ok(Arc::try_unwrap(std).expect("checked: the only reference"))
    }

    /// Waits for any write in flight and reports its error, then flushes all data and metadata
    /// to the device (`fsync`).
    pub async fn sync_all(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.io.sync(&self.std, false).await
    }

    /// Like [`File::sync_all`], but only the data (and the metadata needed to read it back):
    /// `fdatasync`.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.io.sync(&self.std, true).await
    }

    /// Truncates or extends the file to `size` bytes (on the blocking pool).
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        self.rewind_unread()?;
        let std = self.std.clone();
        crate::blocking::run_io(move || std.set_len(size)).await
    }

    /// The file's metadata (on the blocking pool).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        crate::blocking::run_io(move || std.metadata()).await
    }

    /// Changes the file's permissions (on the blocking pool).
    pub async fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        let std = self.std.clone();
        crate::blocking::run_io(move || std.set_permissions(perm)).await
    }

    /// Waits for the operation in flight (if any); a write's error is returned (once).
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Busy(kind, op) = &mut self.state {
            let kind = *kind;
            let (res, buf) = ready!(Pin::new(op).poll(cx));
            self.finish(kind, res, buf)?;
        }
        Poll::Ready(match self.write_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    /// The operation in flight completed: take the buffer back and move the offset. A read's
    /// error is returned; a write's is kept for the next write or flush. `Ok(n)`: bytes read.
    fn finish(&mut self, kind: Kind, res: io::Result<usize>, buf: Vec<u8>) -> io::Result<usize> {
        self.state = State::Idle;
        self.buf = buf;
        self.cursor = 0;
        match (kind, res) {
            (Kind::Read, Ok(n)) => {
                if let Some(o) = &mut self.offset {
                    *o += n as u64;
                }
                Ok(n)
            }
            (Kind::Read, Err(e)) => {
                self.buf.clear();
                Err(e)
            }
            (Kind::Write(len), res) => {
                self.buf.clear();
                match res {
                    // A failed write leaves the offset where it was: a retry writes there again.
                    Ok(_) => {
                        if let Some(o) = &mut self.offset {
                            *o += len;
                        }
                    }
                    Err(e) => self.write_err = Some(e),
                }
                Ok(0)
            }
        }
    }

    /// Read ahead but not consumed: move the offset back to the logical position.
    fn rewind_unread(&mut self) -> io::Result<()> {
        let unread = (self.buf.len() - self.cursor) as u64;
        self.buf.clear();
        self.cursor = 0;
        if unread > 0 {
            match &mut self.offset {
                Some(o) => *o -= unread,
                None => drop(lseek(&self.std, SeekFrom::Current(-(unread as i64)))?),
            }
        }
        Ok(())
    }

    /// Sets the kernel's file position to the file's own offset (before handing the std file
    /// back).
    fn sync_position(&self) -> io::Result<()> {
        if let Some(o) = self.offset {
            lseek(&self.std, SeekFrom::Start(o))?;
        }
        Ok(())
    }

    /// Seeks (the file is idle): forgets read-ahead data and computes the new offset; only
    /// `SeekFrom::End` (and files without an offset of their own) need `lseek`.
    fn seek_idle(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let unread = (self.buf.len() - self.cursor) as u64;
        self.buf.clear();
        self.cursor = 0;
        let Some(offset) = self.offset else {
            let pos = match pos {
                SeekFrom::Current(n) => SeekFrom::Current(n - unread as i64),
                other => other,
            };
            return lseek(&self.std, pos);
        };
        let logical = offset - unread;
        let new = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => logical.checked_add_signed(d),
            SeekFrom::End(_) => Some(lseek(&self.std, pos)?),
        };
        let Some(new) = new else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            ));
        };
        self.offset = Some(new);
        Ok(new)
    }

    /// A write of `len` bytes, `fill` copying the first `n` of them (at most the buffer size)
    /// into the file's buffer: tokio's rule, it returns `Ok(n)` once they are copied.
    fn poll_write_from(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        fill: impl FnOnce(&mut Vec<u8>, usize),
    ) -> Poll<io::Result<usize>> {
        ready!(budget::poll_proceed(cx));
        ready!(self.poll_idle(cx))?;
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        self.rewind_unread()?;
        let n = len.min(self.max_buf);
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        fill(&mut buf, n);
        debug_assert_eq!(buf.len(), n);
        let op = self.io.write_all(&self.std, buf, self.offset);
        self.state = State::Busy(Kind::Write(n as u64), op);
        Poll::Ready(Ok(n))
    }

    /// The logical position (the file is idle).
    #[cfg(feature = "tokio")]
    fn position(&self) -> io::Result<u64> {
        let unread = (self.buf.len() - self.cursor) as u64;
        match self.offset {
            Some(o) => Ok(o - unread),
            None => Ok(lseek(&self.std, SeekFrom::Current(0))? - unread),
        }
    }
}

/// Appends the first `n` bytes of `srcs`, in order, to `buf`.
fn gather(buf: &mut Vec<u8>, srcs: &[IoSlice<'_>], mut n: usize) {
    for src in srcs {
        let take = src.len().min(n);
        buf.extend_from_slice(&src[..take]);
        n -= take;
        if n == 0 {
            break;
        }
    }
}

/// `lseek` on the runtime's thread: it only moves the descriptor's offset (no I/O).
fn lseek(file: &StdFile, pos: SeekFrom) -> io::Result<u64> {
    std::io::Seek::seek(&mut &*file, pos)
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // Spent per read: a page-cached read on the ring (or from the buffer) is ready at once,
        // so a read loop would otherwise never yield.
        ready!(budget::poll_proceed(cx));
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Idle => {
                    if this.cursor < this.buf.len() {
                        let n = dst.len().min(this.buf.len() - this.cursor);
                        dst[..n].copy_from_slice(&this.buf[this.cursor..this.cursor + n]);
                        this.cursor += n;
                        return Poll::Ready(Ok(n));
                    }
                    if dst.is_empty() {
                        return Poll::Ready(Ok(0));
                    }
                    let mut buf = std::mem::take(&mut this.buf);
                    buf.clear();
                    let op = this
                        .io
                        .read(&this.std, buf, dst.len().min(this.max_buf), this.offset);
                    this.state = State::Busy(Kind::Read, op);
                }
                State::Busy(kind, op) => {
                    let kind = *kind;
                    let (res, buf) = ready!(Pin::new(op).poll(cx));
                    let n = this.finish(kind, res, buf)?;
                    if kind == Kind::Read && n == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
            }
        }
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_from(cx, src.len(), |buf, n| buf.extend_from_slice(&src[..n]))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = srcs.iter().map(|s| s.len()).sum();
        self.get_mut()
            .poll_write_from(cx, len, |buf, n| gather(buf, srcs, n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        ready!(budget::poll_proceed(cx));
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        Poll::Ready(this.seek_idle(pos))
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(futures_io::AsyncRead::poll_read(
            self,
            cx,
            buf.initialize_unfilled()
        ))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self, cx, src)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self, cx, srcs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self, cx)
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, pos: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        if matches!(this.state, State::Busy(..)) {
            return Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            ));
        }
        if let Some(e) = this.write_err.take() {
            return Err(e);
        }
        this.seek_idle(pos).map(drop)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(budget::poll_proceed(cx));
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        Poll::Ready(this.position())
    }
}

impl From<StdFile> for File {
    /// [`File::from_std`].
    fn from(std: StdFile) -> File {
        File::from_std(std)
    }
}

impl FromRawFd for File {
    /// Takes ownership of `fd` as [`File::from_std`] would of a `std::fs::File` made from it.
    ///
    /// # Safety
    /// `fd` must be an open file descriptor that nothing else owns (closes or wraps).
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller hands over an open fd it owned alone (this fn's contract), which
        // is what `std::fs::File::from_raw_fd` requires.
        File::from_std(unsafe { StdFile::from_raw_fd(fd) })
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("fd", &self.std.as_raw_fd())
            .field("backend", &self.io.backend())
            .field("busy", &matches!(self.state, State::Busy(..)))
            .finish()
    }
}
