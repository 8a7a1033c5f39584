//! The facade's own surface: tokio's names resolve, the runtime builder refuses multi-thread,
//! the macros expand through this crate's name, tokio's `AsyncWriteExt::shutdown` reaches
//! sonic streams, and `sync::mpsc` senders cross threads.

use sonic_tokio as tokio;

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

#[test]
fn multi_thread_builder_fails_naming_current_thread() {
    let err = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(err.to_string().contains("new_current_thread"), "{err}");
}

#[test]
fn current_thread_builder_runs_tasks() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    let out = rt.block_on(async {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let h = tokio::task::spawn_local(async { 7 });
                tokio::task::yield_now().await;
                h.await.unwrap()
            })
            .await
    });
    assert_eq!(out, 7);
}

#[tokio::test]
async fn test_attribute_runs_on_a_runtime() {
    assert!(tokio::runtime::Handle::try_current().is_ok());
}

#[tokio::test(start_paused = true)]
async fn start_paused_makes_sleeps_instant() {
    let t0 = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(t0.elapsed() < Duration::from_secs(60));
}

#[tokio::test(flavor = "current_thread", crate = "sonic_tokio")]
async fn crate_option_and_current_thread_flavor_are_accepted() {
    let (a, b) = tokio::join!(async { 1 }, async { 2 });
    assert_eq!(a + b, 3);
    let r: Result<(i32, i32), ()> = tokio::try_join!(async { Ok(1) }, async { Ok(2) });
    assert_eq!(r, Ok((1, 2)));
}

#[tokio::test]
async fn select_and_pin_resolve_through_the_facade() {
    let (tx, rx) = oneshot::channel::<u32>();
    tx.send(5).unwrap();
    let sleep = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(sleep);
    let got = tokio::select! {
        Ok(v) = rx => v,
        _ = &mut sleep => 0,
    };
    assert_eq!(got, 5);
}

#[tokio::test]
async fn async_shutdown_of_a_tcp_stream_sends_eof() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    client.write_all(b"bye").await.unwrap();
    // tokio's `AsyncWriteExt::shutdown`, not sonic-net's synchronous `shutdown(how)`.
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"bye");
}

#[tokio::test]
async fn mpsc_sender_feeds_a_task_from_a_std_thread() {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    let feeder = std::thread::spawn(move || {
        for i in 1..=10 {
            tx.blocking_send(i).unwrap();
        }
    });
    let mut sum = 0;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    feeder.join().unwrap();
    assert_eq!(sum, 55);
}

#[tokio::test]
async fn stdout_is_a_tokio_async_write() {
    fn is_async_write<W: tokio::io::AsyncWrite>(_: &W) {}
    is_async_write(&tokio::io::stdout());
}

#[test]
fn facade_types_are_the_sonic_ones() {
    // Thin aliases, no second implementation: the facade adds no cost.
    let _: fn() -> tokio::task::JoinSet<()> = sonic_rt::task::JoinSet::new;
    let _: Option<tokio::time::Sleep> = None::<sonic_rt::time::Sleep>;
}

/// `Send` (and `Sync`) where tokio's are: the facade's sync types are tokio's own or `remote_mpsc`
/// (checked here so a change is seen).
#[test]
fn send_bounds_match_the_documentation() {
    fn send<T: Send>() {}
    send::<mpsc::Sender<u8>>();
    send::<mpsc::UnboundedSender<u8>>();
    send::<mpsc::Receiver<u8>>();
    send::<oneshot::Sender<u8>>();
    send::<oneshot::Receiver<u8>>();
    // The other sync types are tokio's own: `Sync` too, so they may live in a `static`.
    fn sync<T: Send + Sync>() {}
    sync::<tokio::sync::Mutex<u8>>();
    sync::<tokio::sync::RwLock<u8>>();
    sync::<tokio::sync::Semaphore>();
    sync::<tokio::sync::Notify>();
    sync::<tokio::sync::Barrier>();
    sync::<tokio::sync::OnceCell<u8>>();
    sync::<tokio::sync::SetOnce<u8>>();
}

#[tokio::test]
async fn io_unix_async_fd_resolves_and_drives_a_pair_through_guards() {
    use std::io::{Read, Write};
    use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard};
    use tokio::io::unix::{AsyncFdRegisterError, TryIoError};

    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    // SAFETY: the streams own their fds and keep them open until dropped.
    let (a, mut b) = unsafe { (AsyncFd::register(a).unwrap(), AsyncFd::register(b).unwrap()) };
    let mut guard: AsyncFdReadyGuard<'_, _> = a.writable().await.unwrap();
    let sent = guard
        .try_io(|fd| fd.get_ref().write(b"hi"))
        .unwrap()
        .unwrap();
    assert_eq!(sent, 2);
    let mut guard: AsyncFdReadyMutGuard<'_, _> = b.readable_mut().await.unwrap();
    let mut buf = [0u8; 4];
    let n = guard
        .try_io(|fd| fd.get_mut().read(&mut buf))
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"hi");
    let again: Result<_, TryIoError> = guard.try_io(|fd| fd.get_mut().read(&mut buf));
    assert!(again.is_err(), "WouldBlock clears the readiness");
    // SAFETY: registration refuses -1 before it uses it.
    let err: AsyncFdRegisterError<i32> = unsafe { AsyncFd::register(-1) }.unwrap_err();
    assert_eq!(err.into_parts().0, -1);
}

/// The names of tokio programs written before tokio 1.54 deprecated them still resolve (and
/// are deprecated here too).
#[tokio::test]
#[allow(deprecated)]
async fn io_unix_async_fd_deprecated_constructors_resolve() {
    use tokio::io::unix::{AsyncFd, AsyncFdTryNewError};
    use tokio::io::Interest;

    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let a = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
    a.writable().await.unwrap().clear_ready();
    let err: AsyncFdTryNewError<i32> = AsyncFd::try_new(-1).unwrap_err();
    assert_eq!(err.into_parts().0, -1);
    assert!(AsyncFd::new(-1).is_err());
}

/// tokio's `TryFrom<std socket>` conversions, for every socket type.
#[tokio::test]
async fn std_sockets_convert_with_try_from() {
    use std::os::unix::net as unix;
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = TcpListener::try_from(std_listener).unwrap();
    let client = TcpStream::try_from(std::net::TcpStream::connect(addr).unwrap()).unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    (&*client).write_all(b"tcp").await.unwrap();
    let mut buf = [0u8; 3];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"tcp");

    let (a, b) = unix::UnixStream::pair().unwrap();
    let (mut a, mut b) = (
        tokio::net::UnixStream::try_from(a).unwrap(),
        tokio::net::UnixStream::try_from(b).unwrap(),
    );
    a.write_all(b"uds").await.unwrap();
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"uds");

    let dir = std::env::temp_dir().join(format!("sonic-tryfrom-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let ul = tokio::net::UnixListener::try_from(unix::UnixListener::bind(&dir).unwrap()).unwrap();
    let _c = tokio::net::UnixStream::connect(&dir).await.unwrap();
    ul.accept().await.unwrap();
    std::fs::remove_file(&dir).unwrap();

    let u =
        tokio::net::UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    u.send_to(b"udp", u.local_addr().unwrap()).await.unwrap();
    assert_eq!(u.recv(&mut buf).await.unwrap(), 3);
    let (x, y) = unix::UnixDatagram::pair().unwrap();
    let (x, y) = (
        tokio::net::UnixDatagram::try_from(x).unwrap(),
        tokio::net::UnixDatagram::try_from(y).unwrap(),
    );
    x.send(b"dgm").await.unwrap();
    assert_eq!(y.recv(&mut buf).await.unwrap(), 3);
    assert_eq!(&buf, b"dgm");
}

/// tokio's runtime identity: `Handle::id` (unique, stable), `name` (from the builder and the
/// attribute's `name` option), `runtime_flavor`.
#[tokio::test(name = "named by the attribute")]
async fn runtimes_have_ids_names_and_a_flavor() {
    let handle = tokio::runtime::Handle::current();
    assert_eq!(handle.name(), Some("named by the attribute"));
    assert_eq!(
        handle.runtime_flavor(),
        tokio::runtime::RuntimeFlavor::CurrentThread
    );
    let other = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .name("other")
            .build()
            .unwrap();
        (rt.handle().id(), rt.handle().name().map(str::to_owned))
    })
    .join()
    .unwrap();
    let here: tokio::runtime::Id = handle.id();
    assert_eq!(here, tokio::runtime::Handle::current().id());
    assert_ne!(here, other.0);
    assert_eq!(other.1.as_deref(), Some("other"));
    assert!(tokio::runtime::Builder::new_current_thread()
        .name("  ")
        .build()
        .is_err());
}

/// tokio's mpsc handles are unwind safe (its own tests assert it), so a program may use them
/// inside `catch_unwind`; so are the facade's.
#[test]
fn mpsc_handles_are_unwind_safe() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn both<T: UnwindSafe + RefUnwindSafe>() {}
    both::<mpsc::Sender<Vec<u8>>>();
    both::<mpsc::Receiver<Vec<u8>>>();
    both::<mpsc::UnboundedSender<Vec<u8>>>();
    both::<mpsc::UnboundedReceiver<Vec<u8>>>();
    both::<mpsc::WeakSender<Vec<u8>>>();
    both::<mpsc::WeakUnboundedSender<Vec<u8>>>();
    both::<mpsc::OwnedPermit<Vec<u8>>>();
    both::<mpsc::Permit<'static, Vec<u8>>>();
    both::<mpsc::PermitIterator<'static, Vec<u8>>>();
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let caught = std::panic::catch_unwind(|| {
        tx.send(1).unwrap();
        panic!("after a send");
    });
    assert!(caught.is_err());
    assert_eq!(rx.try_recv(), Ok(1));
}

/// tokio's `UnixListener::bind_addr` and `UnixStream::connect_addr` on the facade's wrappers.
#[tokio::test]
async fn unix_listener_and_stream_take_a_socket_addr() {
    let path = std::env::temp_dir().join(format!("sonic-bindaddr-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let addr = std::os::unix::net::SocketAddr::from_pathname(&path).unwrap();
    let listener = tokio::net::UnixListener::bind_addr(&addr).unwrap();
    let (accepted, client) = tokio::join!(
        listener.accept(),
        tokio::net::UnixStream::connect_addr(&addr)
    );
    let (mut server, _) = accepted.unwrap();
    client.unwrap().write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 2];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hi");
    std::fs::remove_file(&path).unwrap();
}
