//! `read_dir`: a directory's entries, read on the blocking pool in batches.

use crate::blocking::run_io;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Entries read per trip to the pool (tokio's batch size).
const BATCH: usize = 32;

type Batch = (std::fs::ReadDir, VecDeque<io::Result<DirEntry>>);

/// Opens `path` as a directory to list (`std::fs::read_dir`).
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let mut dir = sonic_rt::fs::read_dir(".").await?;
///     while let Some(entry) = dir.next_entry().await? {
///         let _ = entry.file_name();
///     }
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = run_io(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(Some(std), VecDeque::new()),
    })
}

enum State {
    Idle(Option<std::fs::ReadDir>, VecDeque<io::Result<DirEntry>>),
    Busy(Pin<Box<dyn std::future::Future<Output = io::Result<Batch>>>>),
}

/// A directory being listed: [`ReadDir::next_entry`] until `None`.
pub struct ReadDir {
    state: State,
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry (tokio's `poll_next_entry`).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(std, buf) => {
                    if let Some(next) = buf.pop_front() {
                        return Poll::Ready(next.map(Some));
                    }
                    let Some(mut std) = std.take() else {
                        return Poll::Ready(Ok(None));
                    };
                    let mut buf = std::mem::take(buf);
                    self.state = State::Busy(Box::pin(run_io(move || {
                        for entry in std.by_ref().take(BATCH) {
                            // The type comes with the listing on most file systems; where it does not,
                            // std stats, and this is the pool thread, so do it here.
                            buf.push_back(entry.map(|std| DirEntry {
                                file_type: std.file_type().ok(),
                                std,
                            }));
                        }
                        Ok((std, buf))
                    })));
                }
                State::Busy(op) => {
                    let (std, buf) = ready!(op.as_mut().poll(cx))?;
                    // A short batch means the end: no more trips to the pool.
                    let more = buf.len() == BATCH;
                    self.state = State::Idle(more.then_some(std), buf);
                    if let State::Idle(None, b) = &self.state {
                        if b.is_empty() {
                            return Poll::Ready(Ok(None));
                        }
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadDir")
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug)]
pub struct DirEntry {
    std: std::fs::DirEntry,
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The full path (the directory's path joined with the file name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The file name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number.
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&self.std)
    }

    /// The metadata, not following a symlink (on the blocking pool).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let path = self.std.path();
        run_io(move || std::fs::symlink_metadata(path)).await
    }

    /// The file type, not following a symlink (found while listing, on the pool thread; asked
    /// again on the pool if that failed).
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(t) = self.file_type {
            return Ok(t);
        }
        let path = self.std.path();
        run_io(move || std::fs::symlink_metadata(path).map(|m| m.file_type())).await
    }
}
