//! `OpenOptions`: how to open a file, as `std::fs::OpenOptions` (and tokio's) says it.

use super::io::Io;
use super::File;
use std::io;
use std::path::Path;

/// Options for opening a file, with std's (and tokio's) builder methods; `open` is async.
///
/// # Examples
/// ```
/// sonic_rt::block_on(async {
///     let path = std::env::temp_dir().join(format!("sonic-open-doc-{}", std::process::id()));
///     let file = sonic_rt::fs::OpenOptions::new()
///         .write(true)
///         .create_new(true)
///         .open(&path)
///         .await?;
///     drop(file);
///     sonic_rt::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
    custom_flags: i32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off; mode 0o666 (before the umask).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
            custom_flags: 0,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut OpenOptions {
        self.read = on;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut OpenOptions {
        self.write = on;
        self
    }

    /// Every write goes to the end of the file (implies writing).
    pub fn append(&mut self, on: bool) -> &mut OpenOptions {
        self.append = on;
        self
    }

    /// Truncate the file to zero length when opened (needs `write`).
    pub fn truncate(&mut self, on: bool) -> &mut OpenOptions {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, on: bool) -> &mut OpenOptions {
        self.create = on;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, on: bool) -> &mut OpenOptions {
        self.create_new = on;
        self
    }

    /// The permission bits of a file this creates (`std::os::unix::fs::OpenOptionsExt::mode`).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// Extra `open(2)` flags (`OpenOptionsExt::custom_flags`); the access mode bits are ignored.
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.custom_flags = flags;
        self
    }

    /// Opens `path` with these options on the runtime's file backend.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied`, `AlreadyExists` (`create_new`), `IsADirectory` (writing a
    /// directory), `InvalidInput` for contradictory options, as `std` reports them.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let io = Io::current();
        let std = io.open(path.as_ref().to_owned(), self).await?;
        Ok(File::with_io(std, io))
    }

    pub(crate) fn to_std(&self) -> std::fs::OpenOptions {
        use std::os::unix::fs::OpenOptionsExt;
        let mut o = std::fs::OpenOptions::new();
        o.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new)
            .mode(self.mode)
            .custom_flags(self.custom_flags);
        o
    }

    /// The `open(2)` flags and mode std would use, with std's validation.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn to_flags(&self) -> io::Result<(i32, u32)> {
        let invalid = || Err(io::Error::from_raw_os_error(libc::EINVAL));
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return invalid(),
        };
        if !self.write && !self.append && (self.truncate || self.create || self.create_new) {
            return invalid();
        }
        if self.append && self.truncate && !self.create_new {
            return invalid();
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (false, false, false) => 0,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
        };
        let flags = libc::O_CLOEXEC | access | creation | (self.custom_flags & !libc::O_ACCMODE);
        Ok((flags, self.mode))
    }
}
