//! Files without blocking the loop: tokio's `fs` surface on two backends.
//!
//! - **io_uring** (Linux, when the kernel allows it): one ring per runtime, opened at the
//!   runtime's first file operation. Opens, `sync_*`, and reads and writes of up to 64 KiB go
//!   through it; such a read of page-cached data completes inside the submitting syscall, with
//!   no thread hand-off. Larger reads and writes go to the blocking pool: on the ring their
//!   copy would run on the runtime's thread and stall every task for its length.
//!   Completions that come later are signalled through an eventfd the reactor watches, so the
//!   loop still waits in one `epoll_wait`. The ring is not used when
//!   `/proc/sys/kernel/io_uring_disabled` says 2, when creating it fails (1 without the group,
//!   seccomp, an old kernel), or when the runtime was built with
//!   [`Builder::io_uring(false)`](crate::Builder::io_uring).
//! - **the blocking pool** everywhere else, and for the operations io_uring does not cover here
//!   (metadata, directories, rename, copy...): each call runs the `std::fs` function on a pool
//!   thread ([`spawn_blocking`](crate::blocking::spawn_blocking)), as tokio does.
//!
//! [`backend`] tells which one the current runtime uses. Both give the same results and the
//! same errors (`io::Error`s with the kernel's errno).
//!
//! ```
//! sonic_rt::block_on(async {
//!     let dir = std::env::temp_dir().join(format!("sonic-fs-doc-{}", std::process::id()));
//!     sonic_rt::fs::create_dir_all(&dir).await?;
//!     let path = dir.join("greeting");
//!     sonic_rt::fs::write(&path, "hello").await?;
//!     assert_eq!(sonic_rt::fs::read_to_string(&path).await?, "hello");
//!     sonic_rt::fs::remove_file(&path).await?;
//!     sonic_rt::fs::remove_dir(&dir).await
//! })
//! .unwrap();
//! ```

mod file;
pub(crate) mod io;
mod open_options;
mod read_dir;
#[cfg(target_os = "linux")]
mod uring;

pub use file::File;
pub use io::Backend;
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use crate::blocking::run_io;
use std::fs::{Metadata, Permissions};
use std::io as stdio;
use std::path::{Path, PathBuf};

/// The file backend of the current runtime (deciding it, which opens the ring, on first use).
///
/// # Panics
/// Outside a sonic runtime.
pub fn backend() -> Backend {
    io::Io::current().backend()
}

/// Reads the whole file into a `Vec` (`std::fs::read`).
pub async fn read(path: impl AsRef<Path>) -> stdio::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    let io = io::Io::current();
    match io {
        io::Io::Pool => run_io(move || std::fs::read(path)).await,
        #[cfg(target_os = "linux")]
        io::Io::Uring(_) => {
            let std = io.open(path, OpenOptions::new().read(true)).await?;
            // fstat: an inode already in memory, no I/O.
            let meta = std.metadata()?;
            let seekable = meta.is_file();
            read_all(io, std, meta.len() as usize, seekable).await
        }
    }
}

/// Reads until end of file straight into the result (one operation per chunk; the size hint
/// plus one byte makes a file of known size two reads: its data, then the end).
#[cfg(target_os = "linux")]
async fn read_all(
    io: io::Io,
    std: std::fs::File,
    hint: usize,
    seekable: bool,
) -> stdio::Result<Vec<u8>> {
    let std = std::sync::Arc::new(std);
    let mut out: Vec<u8> = Vec::with_capacity(hint.saturating_add(1).max(8192));
    loop {
        if out.capacity() == out.len() {
            out.reserve(out.len().max(8192));
        }
        let want = (out.capacity() - out.len()).min(1 << 30);
        let at = seekable.then_some(out.len() as u64);
        let (res, buf) = io.read(&std, out, want, at).await;
        out = buf;
        if res? == 0 {
            return Ok(out);
        }
    }
}

/// Reads the whole file into a `String`; `InvalidData` if it is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> stdio::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|_| {
        stdio::Error::new(
            stdio::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Writes `contents` to the file, creating or truncating it (`std::fs::write`). Every byte is
/// written, or the error says why not (a full disk is `StorageFull`).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    let io = io::Io::current();
    match io {
        io::Io::Pool => run_io(move || std::fs::write(path, contents)).await,
        #[cfg(target_os = "linux")]
        io::Io::Uring(_) => {
            let opts = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .clone();
            let std = io.open(path, &opts).await?;
            if contents.is_empty() {
                return Ok(());
            }
            let at = std.metadata()?.is_file().then_some(0);
            let std = std::sync::Arc::new(std);
            io.write_all(&std, contents, at).await.0.map(drop)
        }
    }
}

/// Copies the contents and permissions of one file to another (`std::fs::copy`, which uses
/// `copy_file_range` on Linux); returns the bytes copied.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> stdio::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run_io(move || std::fs::copy(from, to)).await
}

/// Renames a file or directory, replacing `to` if it exists (`std::fs::rename`).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> stdio::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run_io(move || std::fs::rename(from, to)).await
}

/// Removes a file (`std::fs::remove_file`).
pub async fn remove_file(path: impl AsRef<Path>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::remove_file(path)).await
}

/// Creates a directory (`std::fs::create_dir`).
pub async fn create_dir(path: impl AsRef<Path>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::create_dir(path)).await
}

/// Creates a directory and all its missing parents (`std::fs::create_dir_all`).
pub async fn create_dir_all(path: impl AsRef<Path>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::create_dir_all(path)).await
}

/// Removes an empty directory (`std::fs::remove_dir`).
pub async fn remove_dir(path: impl AsRef<Path>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it (`std::fs::remove_dir_all`).
pub async fn remove_dir_all(path: impl AsRef<Path>) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::remove_dir_all(path)).await
}

/// The metadata of `path`, following symlinks (`std::fs::metadata`).
pub async fn metadata(path: impl AsRef<Path>) -> stdio::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::metadata(path)).await
}

/// The metadata of `path` itself, not following a symlink (`std::fs::symlink_metadata`).
pub async fn symlink_metadata(path: impl AsRef<Path>) -> stdio::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::symlink_metadata(path)).await
}

/// Whether `path` exists; an error if that cannot be told (`std::fs::exists`).
pub async fn try_exists(path: impl AsRef<Path>) -> stdio::Result<bool> {
    let path = path.as_ref().to_owned();
    run_io(move || path.try_exists()).await
}

/// The canonical, absolute form of `path` (`std::fs::canonicalize`).
pub async fn canonicalize(path: impl AsRef<Path>) -> stdio::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::canonicalize(path)).await
}

/// Changes the permissions of `path` (`std::fs::set_permissions`).
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> stdio::Result<()> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::set_permissions(path, perm)).await
}

/// Creates a hard link `dst` to `src` (`std::fs::hard_link`).
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> stdio::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    run_io(move || std::fs::hard_link(src, dst)).await
}

/// Reads the target of a symlink (`std::fs::read_link`).
pub async fn read_link(path: impl AsRef<Path>) -> stdio::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    run_io(move || std::fs::read_link(path)).await
}

/// Creates a symlink `dst` pointing to `src` (`std::os::unix::fs::symlink`).
#[cfg(unix)]
pub async fn symlink(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> stdio::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    run_io(move || std::os::unix::fs::symlink(src, dst)).await
}
