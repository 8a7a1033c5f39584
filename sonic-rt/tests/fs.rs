//! `sonic_rt::fs` on both backends (io_uring and the blocking pool), in both loop modes: every
//! test below runs four times.

use futures_util::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use sonic_rt::fs::{self, Backend, File, OpenOptions};
use sonic_rt::{Builder, Runtime};
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};

/// For each `fn NAME(rt: &Runtime, dir: &Path)`, a module with the four combinations of file
/// backend and loop mode. Each run gets its own empty directory, removed afterwards.
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn io_uring_busy_poll() {
                super::run(true, true, stringify!($name), super::$name);
            }
            #[test]
            fn io_uring_parked() {
                super::run(true, false, stringify!($name), super::$name);
            }
            #[test]
            fn pool_busy_poll() {
                super::run(false, true, stringify!($name), super::$name);
            }
            #[test]
            fn pool_parked() {
                super::run(false, false, stringify!($name), super::$name);
            }
        }
    )*};
}

fn uring_allowed() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").map_or(true, |s| s.trim() != "2")
}

fn run(uring: bool, busy: bool, name: &str, test: fn(&Runtime, &Path)) {
    let rt = Builder::new()
        .io_uring(uring)
        .busy_poll(busy)
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "sonic-fs-{}-{name}-{}-{}",
        std::process::id(),
        if uring { "uring" } else { "pool" },
        if busy { "busy" } else { "parked" }
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let want = if uring && uring_allowed() {
        Backend::IoUring
    } else {
        Backend::BlockingPool
    };
    assert_eq!(
        rt.block_on(async { fs::backend() }),
        want,
        "the backend asked for"
    );
    test(&rt, &dir);
    drop(rt);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

each_backend!(
    write_then_read_round_trips,
    file_writes_and_reads_more_than_one_buffer,
    seek_accounts_for_read_ahead,
    write_after_partial_read_lands_at_the_logical_position,
    append_writes_at_the_end,
    missing_file_is_not_found,
    directory_where_a_file_is_expected_is_an_error,
    create_new_on_an_existing_file_is_already_exists,
    contradictory_options_are_invalid_input,
    read_to_string_rejects_invalid_utf8,
    directories_rename_copy_remove_and_metadata,
    read_dir_lists_every_entry,
    sync_all_and_set_len,
    many_concurrent_reads_all_complete,
    into_std_keeps_the_logical_position,
    max_buf_size_bounds_each_read_and_write,
    write_vectored_writes_every_slice,
    a_read_and_seek_loop_lets_other_tasks_run,
    try_clone_starts_at_the_logical_position_on_the_same_file,
    a_std_file_or_raw_fd_converts_into_a_file,
    file_dropped_with_a_read_in_flight_is_safe,
    permission_error_is_permission_denied,
    uncached_small_reads_all_complete,
);

/// Small reads of a file evicted from the page cache (so they complete later, not inside the
/// submitting syscall: the ring's eventfd path) all complete.
#[cfg(target_os = "linux")]
fn uncached_small_reads_all_complete(rt: &Runtime, dir: &Path) {
    use std::os::fd::AsRawFd;
    let path = dir.join("cold");
    std::fs::write(&path, pattern(8 << 20)).unwrap();
    let evict = || {
        let f = std::fs::File::open(&path).unwrap();
        f.sync_all().unwrap();
        // SAFETY: fadvise on an fd we own, integer arguments.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    };
    let want = pattern(8 << 20);
    for round in 0..3 {
        evict();
        rt.block_on(async {
            let mut f = File::open(&path).await.unwrap();
            let mut x = 12345u64 + round;
            let mut buf = [0u8; 4096];
            for _ in 0..300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let off = (x % 2048) * 4096;
                let read = async {
                    f.seek(SeekFrom::Start(off)).await?;
                    f.read_exact(&mut buf).await
                };
                sonic_rt::time::timeout(std::time::Duration::from_secs(20), read)
                    .await
                    .expect("a read never completed (lost wake-up)")
                    .unwrap();
                assert!(buf[..] == want[off as usize..off as usize + 4096]);
            }
        });
    }
}

/// Sets or clears the immutable attribute (root can write nothing to such a file, which makes a
/// permission error a root test can see). False if the file system or the process cannot.
#[cfg(target_os = "linux")]
fn set_immutable(path: &Path, on: bool) -> bool {
    use std::os::fd::AsRawFd;
    const FS_IMMUTABLE_FL: libc::c_long = 0x10;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut flags: libc::c_long = 0;
    // SAFETY: FS_IOC_GETFLAGS/SETFLAGS read and write one long through the pointer, on an fd
    // this function owns.
    unsafe {
        if libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) != 0 {
            return false;
        }
        flags = if on {
            flags | FS_IMMUTABLE_FL
        } else {
            flags & !FS_IMMUTABLE_FL
        };
        libc::ioctl(f.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) == 0
    }
}

#[cfg(target_os = "linux")]
fn permission_error_is_permission_denied(rt: &Runtime, dir: &Path) {
    let path = dir.join("locked");
    std::fs::write(&path, b"keep").unwrap();
    if !set_immutable(&path, true) {
        eprintln!("SKIPPED: cannot make a file immutable here");
        return;
    }
    // Cleared even if an assertion fails, so the directory can be removed.
    struct Unlock<'a>(&'a Path);
    impl Drop for Unlock<'_> {
        fn drop(&mut self) {
            set_immutable(self.0, false);
        }
    }
    let _unlock = Unlock(&path);
    rt.block_on(async {
        let e = File::create(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        let e = fs::write(&path, b"x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        let e = fs::remove_file(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert_eq!(fs::read(&path).await.unwrap(), b"keep");
    });
}

#[cfg(not(target_os = "linux"))]
fn permission_error_is_permission_denied(_rt: &Runtime, _dir: &Path) {}

#[cfg(not(target_os = "linux"))]
fn uncached_small_reads_all_complete(_rt: &Runtime, _dir: &Path) {}

/// A FIFO with a writer kept open (so opening it for reading does not block), as a file whose
/// read stays in flight until the test writes.
fn fifo(dir: &Path) -> (PathBuf, std::fs::File) {
    let path = dir.join("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    (path, writer)
}

fn file_dropped_with_a_read_in_flight_is_safe(rt: &Runtime, dir: &Path) {
    use std::io::Write;
    let (path, mut writer) = fifo(dir);
    rt.block_on(async {
        let mut f = File::open(&path).await.unwrap();
        let mut buf = [0u8; 16];
        let r =
            sonic_rt::time::timeout(std::time::Duration::from_millis(20), f.read(&mut buf)).await;
        assert!(r.is_err(), "no data yet: the read must still be in flight");
        // The read's buffer now belongs to the backend until the read completes.
        drop(f);
        writer.write_all(b"late").unwrap();
        // The runtime goes on working; the orphaned read completes into its own buffer.
        for _ in 0..20 {
            fs::write(dir.join("other"), b"x").await.unwrap();
            assert_eq!(fs::read(dir.join("other")).await.unwrap(), b"x");
        }
    });
}

/// Dropping a runtime whose ring still has a read in flight that nothing will complete cancels
/// it instead of waiting forever.
#[cfg(target_os = "linux")]
#[test]
fn runtime_drop_cancels_a_ring_read_that_never_completes() {
    if !uring_allowed() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sonic-fs-{}-cancel", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (path, writer) = fifo(&dir);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let rt = Builder::new().io_uring(true).build().unwrap();
        rt.block_on(async {
            assert_eq!(fs::backend(), Backend::IoUring);
            let mut f = File::open(&path).await.unwrap();
            let mut buf = [0u8; 16];
            let r = sonic_rt::time::timeout(std::time::Duration::from_millis(20), f.read(&mut buf))
                .await;
            assert!(r.is_err());
            drop(f);
        });
        drop(rt);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the runtime's drop hung on a read in flight");
    t.join().unwrap();
    drop(writer);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn write_then_read_round_trips(rt: &Runtime, dir: &Path) {
    let path = dir.join("a");
    rt.block_on(async {
        fs::write(&path, b"hello, sonic").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"hello, sonic");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello, sonic");
        fs::write(&path, b"").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"");
        let big = pattern(3 << 20);
        fs::write(&path, &big).await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), big);
    });
}

fn file_writes_and_reads_more_than_one_buffer(rt: &Runtime, dir: &Path) {
    let path = dir.join("big");
    let data = pattern(5 << 20 | 123);
    rt.block_on(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        f.write_all(&data).await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut back = Vec::new();
        f.read_to_end(&mut back).await.unwrap();
        assert!(back == data, "read back differs");
        assert_eq!(f.metadata().await.unwrap().len(), data.len() as u64);
    });
}

fn seek_accounts_for_read_ahead(rt: &Runtime, dir: &Path) {
    let path = dir.join("s");
    std::fs::write(&path, pattern(100_000)).unwrap();
    rt.block_on(async {
        let mut f = File::open(&path).await.unwrap();
        let mut ten = [0u8; 10];
        f.read_exact(&mut ten).await.unwrap();
        // The file read ahead (a larger buffer), but the logical position is 10.
        assert_eq!(f.seek(SeekFrom::Current(0)).await.unwrap(), 10);
        assert_eq!(f.seek(SeekFrom::Current(5)).await.unwrap(), 15);
        let mut b = [0u8; 1];
        f.read_exact(&mut b).await.unwrap();
        assert_eq!(b[0], pattern(16)[15]);
        assert_eq!(f.seek(SeekFrom::End(-1)).await.unwrap(), 99_999);
    });
}

fn write_after_partial_read_lands_at_the_logical_position(rt: &Runtime, dir: &Path) {
    let path = dir.join("w");
    std::fs::write(&path, b"0123456789").unwrap();
    rt.block_on(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut two = [0u8; 2];
        // A 2-byte read asks the kernel for 2 bytes only, so read 1 then 1 through a 4-byte
        // buffer to make the file read ahead.
        let mut four = [0u8; 4];
        f.read_exact(&mut four[..1]).await.unwrap();
        f.read_exact(&mut two[..1]).await.unwrap();
        f.write_all(b"ab").await.unwrap();
        f.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"01ab456789");
}

fn append_writes_at_the_end(rt: &Runtime, dir: &Path) {
    let path = dir.join("log");
    std::fs::write(&path, b"one\n").unwrap();
    rt.block_on(async {
        let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
        f.write_all(b"two\n").await.unwrap();
        f.write_all(b"three\n").await.unwrap();
        f.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"one\ntwo\nthree\n");
}

fn missing_file_is_not_found(rt: &Runtime, dir: &Path) {
    let path = dir.join("nope");
    rt.block_on(async {
        assert_eq!(
            fs::read(&path).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            File::open(&path).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::metadata(&path).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::remove_file(&path).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::read_dir(&path).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    });
}

fn directory_where_a_file_is_expected_is_an_error(rt: &Runtime, dir: &Path) {
    rt.block_on(async {
        let e = fs::read(dir).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR), "{e}");
        let e = File::create(dir).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR), "{e}");
        let e = fs::write(dir, b"x").await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR), "{e}");
    });
}

fn create_new_on_an_existing_file_is_already_exists(rt: &Runtime, dir: &Path) {
    let path = dir.join("x");
    std::fs::write(&path, b"").unwrap();
    rt.block_on(async {
        let e = File::create_new(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    });
}

fn contradictory_options_are_invalid_input(rt: &Runtime, dir: &Path) {
    let path = dir.join("x");
    rt.block_on(async {
        let e = OpenOptions::new().open(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = OpenOptions::new()
            .read(true)
            .create(true)
            .open(&path)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    });
}

fn read_to_string_rejects_invalid_utf8(rt: &Runtime, dir: &Path) {
    let path = dir.join("bin");
    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    rt.block_on(async {
        let e = fs::read_to_string(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData);
    });
}

fn directories_rename_copy_remove_and_metadata(rt: &Runtime, dir: &Path) {
    rt.block_on(async {
        let deep = dir.join("a/b/c");
        fs::create_dir_all(&deep).await.unwrap();
        assert!(fs::metadata(&deep).await.unwrap().is_dir());
        let f = deep.join("f");
        fs::write(&f, b"data").await.unwrap();
        let g = dir.join("g");
        fs::rename(&f, &g).await.unwrap();
        assert!(!fs::try_exists(&f).await.unwrap());
        assert_eq!(fs::copy(&g, dir.join("h")).await.unwrap(), 4);
        assert_eq!(fs::read(dir.join("h")).await.unwrap(), b"data");
        assert_eq!(fs::metadata(&g).await.unwrap().len(), 4);
        fs::remove_file(&g).await.unwrap();
        let e = fs::remove_dir(dir.join("a")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DirectoryNotEmpty);
        fs::remove_dir_all(dir.join("a")).await.unwrap();
        assert!(!fs::try_exists(dir.join("a")).await.unwrap());
    });
}

fn read_dir_lists_every_entry(rt: &Runtime, dir: &Path) {
    // More than one batch of 32.
    for i in 0..70 {
        std::fs::write(dir.join(format!("f{i:02}")), b"").unwrap();
    }
    std::fs::create_dir(dir.join("sub")).unwrap();
    rt.block_on(async {
        let mut rd = fs::read_dir(dir).await.unwrap();
        let mut names = Vec::new();
        let mut dirs = 0;
        while let Some(e) = rd.next_entry().await.unwrap() {
            if e.file_type().await.unwrap().is_dir() {
                dirs += 1;
            }
            assert_eq!(e.path(), dir.join(e.file_name()));
            names.push(e.file_name().into_string().unwrap());
        }
        assert!(rd.next_entry().await.unwrap().is_none());
        names.sort();
        assert_eq!(names.len(), 71);
        assert_eq!(names[0], "f00");
        assert_eq!(dirs, 1);
    });
}

fn sync_all_and_set_len(rt: &Runtime, dir: &Path) {
    let path = dir.join("sync");
    rt.block_on(async {
        let mut f = File::create(&path).await.unwrap();
        f.write_all(&pattern(10_000)).await.unwrap();
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();
        f.set_len(100).await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 100);
    });
}

fn many_concurrent_reads_all_complete(rt: &Runtime, dir: &Path) {
    let paths: Vec<PathBuf> = (0..40).map(|i| dir.join(format!("c{i}"))).collect();
    for (i, p) in paths.iter().enumerate() {
        std::fs::write(p, pattern(1000 + i)).unwrap();
    }
    rt.block_on(async {
        let tasks: Vec<_> = paths
            .iter()
            .cloned()
            .map(|p| sonic_rt::spawn(async move { fs::read(p).await.unwrap().len() }))
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), 1000 + i);
        }
    });
}

fn into_std_keeps_the_logical_position(rt: &Runtime, dir: &Path) {
    let path = dir.join("pos");
    std::fs::write(&path, pattern(5000)).unwrap();
    rt.block_on(async {
        let mut f = File::open(&path).await.unwrap();
        let mut b = [0u8; 7];
        f.read_exact(&mut b[..3]).await.unwrap();
        let mut std = f.into_std().await;
        assert_eq!(std::io::Seek::stream_position(&mut std).unwrap(), 3);
    });
}

fn max_buf_size_bounds_each_read_and_write(rt: &Runtime, dir: &Path) {
    let path = dir.join("maxbuf");
    rt.block_on(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        f.set_max_buf_size(3);
        assert_eq!(f.write(b"abcdefgh").await.unwrap(), 3);
        f.write_all(b"defgh").await.unwrap();
        f.flush().await.unwrap();
        f.seek(SeekFrom::Start(0)).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(f.read(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        // 0 acts as 1: still progress, never a false end of file.
        f.set_max_buf_size(0);
        assert_eq!(f.read(&mut buf).await.unwrap(), 1);
        assert_eq!(buf[0], b'd');
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdefgh");
}

/// tokio's `File` writes every slice of a vectored write into its buffer (tokio's fs_file.rs
/// `write_vectored`); the default would write the first one only.
fn write_vectored_writes_every_slice(rt: &Runtime, dir: &Path) {
    let path = dir.join("vectored");
    rt.block_on(async {
        let mut f = File::create(&path).await.unwrap();
        let slices = [
            std::io::IoSlice::new(b"hello "),
            std::io::IoSlice::new(b"world"),
        ];
        assert_eq!(f.write_vectored(&slices).await.unwrap(), 11);
        f.set_max_buf_size(8);
        assert_eq!(
            f.write_vectored(&slices).await.unwrap(),
            8,
            "at most one buffer"
        );
        f.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"hello worldhello wo");
}

/// Each read and seek spends the cooperative budget: on the ring a page-cached read is ready at
/// once, and a read + seek loop never yielded (tokio's fs_file.rs `coop` hung).
fn a_read_and_seek_loop_lets_other_tasks_run(rt: &Runtime, dir: &Path) {
    let path = dir.join("coop");
    std::fs::write(&path, pattern(64)).unwrap();
    rt.block_on(async {
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let counter = ticks.clone();
        let ticker = sonic_rt::spawn(async move {
            loop {
                counter.set(counter.get() + 1);
                sonic_rt::task::yield_now().await;
            }
        });
        let mut f = File::open(&path).await.unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..1000 {
            f.read_exact(&mut buf).await.unwrap();
            f.seek(SeekFrom::Start(0)).await.unwrap();
        }
        // 2000 budgeted operations: the budget of 128 ran out again and again.
        assert!(ticks.get() >= 10, "ticks: {}", ticks.get());
        ticker.abort();
    });
}

fn try_clone_starts_at_the_logical_position_on_the_same_file(rt: &Runtime, dir: &Path) {
    let path = dir.join("clone");
    std::fs::write(&path, pattern(100)).unwrap();
    rt.block_on(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut b = [0u8; 10];
        f.read_exact(&mut b).await.unwrap();
        let mut c = f.try_clone().await.unwrap();
        assert_ne!(
            std::os::fd::AsRawFd::as_raw_fd(&c),
            std::os::fd::AsRawFd::as_raw_fd(&f)
        );
        // The clone reads on from where the original's reader is (the original read ahead).
        c.read_exact(&mut b).await.unwrap();
        assert_eq!(b[..], pattern(100)[10..20]);
        // A write in flight counts: the clone starts past it.
        f.write_all(b"XY").await.unwrap();
        let mut d = f.try_clone().await.unwrap();
        let mut rest = Vec::new();
        d.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest[..], pattern(100)[12..]);
        // Both write the same file.
        c.write_all(b"Z").await.unwrap();
        c.flush().await.unwrap();
        f.flush().await.unwrap();
    });
    let mut want = pattern(100);
    want[10..12].copy_from_slice(b"XY");
    want[20] = b'Z';
    assert_eq!(std::fs::read(&path).unwrap(), want);
}

fn a_std_file_or_raw_fd_converts_into_a_file(rt: &Runtime, dir: &Path) {
    use std::os::fd::{FromRawFd, IntoRawFd};
    let path = dir.join("from");
    std::fs::write(&path, b"converted").unwrap();
    rt.block_on(async {
        let mut s = String::new();
        let mut f: File = std::fs::File::open(&path).unwrap().into();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "converted");
        let fd = std::fs::File::open(&path).unwrap().into_raw_fd();
        // SAFETY: `fd` was just opened and nothing else owns it.
        let mut g = unsafe { File::from_raw_fd(fd) };
        s.clear();
        g.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "converted");
    });
}

/// A write that cannot complete for lack of space is reported, never dropped: on a 64 KiB
/// tmpfs the test mounts (needs root; skipped otherwise).
#[cfg(target_os = "linux")]
mod enospc {
    use super::*;

    struct Mount(PathBuf);

    impl Drop for Mount {
        fn drop(&mut self) {
            let c = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
            // SAFETY: umount2 takes a NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    fn small_tmpfs(dir: &Path) -> Option<Mount> {
        let m = dir.join("small");
        std::fs::create_dir(&m).unwrap();
        let c = std::ffi::CString::new(m.to_str().unwrap()).unwrap();
        // SAFETY: mount with NUL-terminated strings and a NUL-terminated option string.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                c.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"size=64k".as_ptr().cast(),
            )
        };
        if rc != 0 {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs ({})",
                std::io::Error::last_os_error()
            );
            let _ = std::fs::remove_dir(&m);
            return None;
        }
        Some(Mount(m))
    }

    each_backend!(full_disk_is_reported_by_write_and_flush);

    fn full_disk_is_reported_by_write_and_flush(rt: &Runtime, dir: &Path) {
        let Some(mount) = small_tmpfs(dir) else {
            return;
        };
        let big = pattern(1 << 20);
        rt.block_on(async {
            let e = fs::write(mount.0.join("a"), &big).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::StorageFull, "{e}");
            fs::remove_file(mount.0.join("a")).await.unwrap();

            let mut f = File::create(mount.0.join("b")).await.unwrap();
            // `write` returns once the data is handed over; the error comes with the next
            // write or the flush.
            let res = async {
                f.write_all(&big).await?;
                f.flush().await
            }
            .await;
            let e = res.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::StorageFull, "{e}");
            drop(f);
            fs::remove_file(mount.0.join("b")).await.unwrap();

            // Small writes (the ring's size on the io_uring backend), flushed one by one: the
            // one that does not fit is reported, and what was reported written is there.
            let mut f = File::create(mount.0.join("c")).await.unwrap();
            let chunk = pattern(16 << 10);
            let mut written = 0;
            let e = loop {
                assert!(written < 1 << 20, "a 64 KiB file system took 1 MiB");
                let res = async {
                    f.write_all(&chunk).await?;
                    f.flush().await
                }
                .await;
                match res {
                    Ok(()) => written += chunk.len(),
                    Err(e) => break e,
                }
            };
            assert_eq!(e.kind(), ErrorKind::StorageFull, "{e}");
            let on_disk = fs::read(mount.0.join("c")).await.unwrap();
            assert!(on_disk.len() >= written, "reported written, then lost");
            assert_eq!(&on_disk[..chunk.len()], &chunk[..]);
        });
        drop(mount);
    }
}
