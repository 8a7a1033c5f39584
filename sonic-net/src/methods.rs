//! The methods the socket types share, written once as macros that put them on each type (as
//! `stream_halves!` does for the halves of a stream).
//!
//! Rules:
//! - A type that uses one of these keeps its registered socket in a field named `io` (an
//!   `Async<T>` around the `std` socket). The macros call methods of `self.io.get_ref()` by
//!   name, so they work for any `std` socket type that has them, and for `multicast::Peer` too.
//! - Each macro is one group of methods with one meaning everywhere; a type whose method must
//!   differ writes its own instead.
//! - Every wait goes through the waiter lists (`Async::ready`, `read_with`, `write_with`), so
//!   several tasks may wait on one socket; only the `poll_*_ready` methods keep a single waker.

/// `AsFd` and `AsRawFd` through the `io` field (or the field named).
macro_rules! impl_fd {
    ($ty:ty) => {
        $crate::methods::impl_fd!($ty, io);
    };
    ($ty:ty, $field:ident) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&self.$field)
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&self.$field)
            }
        }
    };
}

/// tokio's `BufMut` receives of a datagram socket (`recv_buf`, `recv_buf_from` and their `try_`
/// forms, with the `bytes` feature): into spare capacity, the sender's address mapped from
/// socket2's form by `$addr_of` (which may refuse it).
macro_rules! buf_recv_methods {
    ($ty:ident, $addr:ty, $addr_of:expr) => {
        #[cfg(feature = "bytes")]
        impl $ty {
            /// Receives one datagram from the connected peer into the spare capacity of
            /// `buf`, advancing it (tokio's `recv_buf`; the memory need not be initialised).
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub async fn recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                self.io
                    .read_with(|s| $crate::recv_buf::recv_into(s, buf))
                    .await
            }

            /// [`recv_buf`](Self::recv_buf) if a datagram is queued, without waiting:
            /// `WouldBlock` otherwise.
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                self.io.try_io(sonic_rt::io::Interest::READABLE, |s| {
                    $crate::recv_buf::recv_into(s, buf)
                })
            }

            /// Receives one datagram and its sender's address into the spare capacity of
            /// `buf`, advancing it (tokio's `recv_buf_from`).
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub async fn recv_buf_from<B: bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> std::io::Result<(usize, $addr)> {
                self.io
                    .read_with(|s| $crate::recv_buf::recv_from_into(s, buf, $addr_of))
                    .await
            }

            /// [`recv_buf_from`](Self::recv_buf_from) if a datagram is queued, without
            /// waiting: `WouldBlock` otherwise.
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub fn try_recv_buf_from<B: bytes::BufMut>(
                &self,
                buf: &mut B,
            ) -> std::io::Result<(usize, $addr)> {
                self.io.try_io(sonic_rt::io::Interest::READABLE, |s| {
                    $crate::recv_buf::recv_from_into(s, buf, $addr_of)
                })
            }
        }
    };
}

/// `TryFrom` the `std` socket, as tokio's types have: the type's `from_std`.
macro_rules! try_from_std {
    ($ty:ident, $std:ty) => {
        impl TryFrom<$std> for $ty {
            type Error = std::io::Error;

            /// [`from_std`](Self::from_std): tokio's conversion.
            fn try_from(socket: $std) -> std::io::Result<$ty> {
                $ty::from_std(socket)
            }
        }
    };
}

/// `Debug` as the `std` socket's.
macro_rules! impl_debug_as_std {
    ($ty:ty) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.io.get_ref(), f)
            }
        }
    };
}

/// Readiness, as tokio's socket types have it: `ready`, `readable`, `writable`, the two
/// `poll_*_ready` methods under the names the type uses (`poll_read_ready` for a stream,
/// `poll_recv_ready` for a datagram socket), `try_io` and `async_io`.
macro_rules! readiness_methods {
    ($ty:ty, $poll_read:ident, $poll_write:ident) => {
        impl $ty {
            /// Waits until the socket is ready for any of `interest` and returns what it is
            /// ready for (tokio's `ready`): for example, to read and write one socket from one
            /// task with [`try_io`](Self::try_io) or the `try_*` methods, without splitting it.
            ///
            /// Readiness is a hint: an operation may still return `WouldBlock` (which clears
            /// it), and the set returned may even be empty; check it and wait again. Several
            /// tasks may wait at once; an event wakes each one it concerns. Cancel safe. As in
            /// tokio, a new socket is ready for nothing until its first event (the next reactor
            /// turn), though its reads and writes go to the kernel at once.
            pub async fn ready(
                &self,
                interest: sonic_rt::io::Interest,
            ) -> std::io::Result<sonic_rt::io::Ready> {
                self.io.ready(interest).await
            }

            /// Waits until the socket is (probably) readable: `ready(Interest::READABLE)`.
            /// Several tasks may wait at once; each is woken. Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io.readable().await
            }

            /// Waits until the socket is (probably) writable: `ready(Interest::WRITABLE)`.
            /// Several tasks may wait at once; each is woken. Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io.writable().await
            }

            /// Polls for read readiness. Only the waker of the most recent call (to this, or
            /// to another `poll_*` read method) is woken, as in tokio: from several tasks,
            /// use [`readable`](Self::readable).
            pub fn $poll_read(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_readable(cx)
            }

            /// Polls for write readiness. Only the waker of the most recent call (to this, or
            /// to another `poll_*` write method) is woken, as in tokio: from several tasks,
            /// use [`writable`](Self::writable).
            pub fn $poll_write(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_writable(cx)
            }

            /// Runs `f`, an operation on the socket (a syscall on its fd), if the socket is
            /// ready for `interest`; `WouldBlock` without calling it otherwise. A `WouldBlock`
            /// from `f` clears the readiness until the next event. tokio's `try_io`; see
            /// [`Async::try_io`](sonic_rt::io::Async::try_io). `f` must return `WouldBlock`
            /// only when the kernel said so.
            pub fn try_io<R>(
                &self,
                interest: sonic_rt::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io(interest, |_| f())
            }

            /// Awaits `f`, an operation on the socket: runs it whenever the socket is ready
            /// for `interest` until it returns something other than `WouldBlock` (which
            /// clears the readiness before the next wait). tokio's `async_io`; several tasks
            /// may wait at once.
            pub async fn async_io<R>(
                &self,
                interest: sonic_rt::io::Interest,
                mut f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.async_io(interest, |_| f()).await
            }
        }
    };
}

/// Spin reads (busy-poll runtimes).
macro_rules! spin_reads_method {
    ($ty:ty) => {
        impl $ty {
            /// Spin reads for a busy-poll runtime: a read that would block is retried at every
            /// loop turn instead of waiting for the readiness event, which takes about a
            /// microsecond off the time from arrival to read, for one syscall per turn while
            /// idle. See [`Async::set_spin_reads`](sonic_rt::io::Async::set_spin_reads). No
            /// effect without busy-poll.
            pub fn set_spin_reads(&self, on: bool) {
                self.io.set_spin_reads(on);
            }
        }
    };
}

/// `SO_SNDBUF` and `SO_RCVBUF`.
macro_rules! buffer_size_methods {
    ($ty:ty) => {
        impl $ty {
            /// `SO_SNDBUF` (the kernel may round the value; Linux doubles it).
            pub fn set_send_buffer_size(&self, size: usize) -> std::io::Result<()> {
                socket2::SockRef::from(self.io.get_ref()).set_send_buffer_size(size)
            }

            /// The `SO_SNDBUF` value.
            pub fn send_buffer_size(&self) -> std::io::Result<usize> {
                socket2::SockRef::from(self.io.get_ref()).send_buffer_size()
            }

            /// `SO_RCVBUF` (the kernel may round the value; Linux doubles it, capped by
            /// `net.core.rmem_max`).
            pub fn set_recv_buffer_size(&self, size: usize) -> std::io::Result<()> {
                socket2::SockRef::from(self.io.get_ref()).set_recv_buffer_size(size)
            }

            /// The `SO_RCVBUF` value.
            pub fn recv_buffer_size(&self) -> std::io::Result<usize> {
                socket2::SockRef::from(self.io.get_ref()).recv_buffer_size()
            }
        }
    };
}

/// `SO_BUSY_POLL`.
macro_rules! busy_poll_methods {
    ($ty:ty) => {
        impl $ty {
            /// `SO_BUSY_POLL` (Linux): a blocking receive, or a poll, may busy-poll the NIC
            /// queue for up to `duration` (microsecond granularity) before sleeping. Pays off
            /// with NAPI-capable drivers; loopback has no device queue to poll. Values above
            /// `net.core.busy_read` need `CAP_NET_ADMIN`. Elsewhere: an
            /// [`Unsupported`](std::io::ErrorKind::Unsupported) error.
            pub fn set_busy_poll(&self, duration: std::time::Duration) -> std::io::Result<()> {
                $crate::sockopt::set_busy_poll(self.io.get_ref(), duration)
            }

            /// The `SO_BUSY_POLL` value (Linux;
            /// [`Unsupported`](std::io::ErrorKind::Unsupported) elsewhere).
            pub fn busy_poll(&self) -> std::io::Result<std::time::Duration> {
                $crate::sockopt::busy_poll(self.io.get_ref())
            }
        }
    };
}

/// `IP_TTL`, for the IP socket types.
macro_rules! ttl_methods {
    ($ty:ty) => {
        impl $ty {
            /// `IP_TTL`: the time-to-live of outgoing unicast packets.
            pub fn set_ttl(&self, ttl: u32) -> std::io::Result<()> {
                self.io.get_ref().set_ttl(ttl)
            }

            /// The `IP_TTL` value.
            pub fn ttl(&self) -> std::io::Result<u32> {
                self.io.get_ref().ttl()
            }
        }
    };
}

/// The IP header options and the interface binding (`IP_TOS`, `IPV6_TCLASS`,
/// `SO_BINDTODEVICE`), as tokio's `TcpSocket` and `UdpSocket` have them; `$fd` is the field
/// holding the socket.
macro_rules! ip_option_methods {
    ($ty:ty, $fd:ident) => {
        impl $ty {
            /// `IP_TOS` (an IPv4 socket): the type-of-service byte (DSCP and ECN bits) of
            /// outgoing packets.
            pub fn set_tos_v4(&self, tos: u32) -> std::io::Result<()> {
                socket2::SockRef::from(&self.$fd).set_tos_v4(tos)
            }

            /// The `IP_TOS` value.
            pub fn tos_v4(&self) -> std::io::Result<u32> {
                socket2::SockRef::from(&self.$fd).tos_v4()
            }

            /// The old name of `set_tos_v4`, deprecated as in tokio.
            #[deprecated(
                note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
            )]
            #[doc(hidden)]
            pub fn set_tos(&self, tos: u32) -> std::io::Result<()> {
                self.set_tos_v4(tos)
            }

            /// The old name of `tos_v4`, deprecated as in tokio.
            #[deprecated(
                note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific."
            )]
            #[doc(hidden)]
            pub fn tos(&self) -> std::io::Result<u32> {
                self.tos_v4()
            }

            /// `SO_BINDTODEVICE` (Linux, Android): the socket uses only the interface named
            /// `interface` (`b"eth0"`) to receive and to send; `None` removes the binding.
            /// Set on a socket before it connects, it picks the interface the connection
            /// leaves by.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn bind_device(&self, interface: Option<&[u8]>) -> std::io::Result<()> {
                socket2::SockRef::from(&self.$fd).bind_device(interface)
            }

            /// The interface the socket is bound to with `bind_device`, if any.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
            pub fn device(&self) -> std::io::Result<Option<Vec<u8>>> {
                socket2::SockRef::from(&self.$fd).device()
            }
        }

        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "freebsd",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        ))]
        impl $ty {
            /// `IPV6_TCLASS` (an IPv6 socket): the traffic class (DSCP and ECN bits) of
            /// outgoing packets.
            pub fn set_tclass_v6(&self, tclass: u32) -> std::io::Result<()> {
                socket2::SockRef::from(&self.$fd).set_tclass_v6(tclass)
            }

            /// The `IPV6_TCLASS` value.
            pub fn tclass_v6(&self) -> std::io::Result<u32> {
                socket2::SockRef::from(&self.$fd).tclass_v6()
            }
        }
    };
}

/// What a connected datagram socket and an unconnected one share, `UdpSocket` and
/// `UnixDatagram` alike (`$addr` is the address type): `send`, `recv`, `recv_from`, their
/// `try_*` forms and `poll_send`, and the peer's address. Each type keeps its own `poll_recv*`
/// (UDP's take tokio's `ReadBuf` too) and `send_to`.
macro_rules! datagram_methods {
    ($ty:ty, $addr:ty) => {
        impl $ty {
            /// The connected peer's address (`NotConnected` if not connected).
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.io.get_ref().peer_addr()
            }

            /// Sends one datagram to the connected peer.
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io.write_with(|s| s.send(buf)).await
            }

            /// Polls for [`send`](Self::send).
            pub fn poll_send(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_with(cx, |s| s.send(buf))
            }

            /// Sends one datagram to the connected peer if the socket is writable now,
            /// without waiting: `WouldBlock` otherwise, and then at once, without a syscall,
            /// until an event says it is writable again (tokio's rule).
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .try_io(sonic_rt::io::Interest::WRITABLE, |s| s.send(buf))
            }

            /// Receives one datagram from the connected peer. A datagram longer than `buf` is
            /// cut to it (the rest is dropped, as `recv(2)` does).
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io.read_with(|s| s.recv(buf)).await
            }

            /// Receives one datagram from the connected peer if one is queued, without
            /// waiting: `WouldBlock` otherwise, and then at once, without a syscall, until an
            /// event says it is readable again (tokio's rule).
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .try_io(sonic_rt::io::Interest::READABLE, |s| s.recv(buf))
            }

            /// Receives one datagram and the address it came from.
            pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                self.io.read_with(|s| s.recv_from(buf)).await
            }

            /// [`recv_from`](Self::recv_from) if a datagram is queued, without waiting:
            /// `WouldBlock` otherwise (as [`try_recv`](Self::try_recv)).
            pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                self.io
                    .try_io(sonic_rt::io::Interest::READABLE, |s| s.recv_from(buf))
            }
        }
    };
}

/// The local address and the pending error, through the `std` socket.
macro_rules! local_addr_methods {
    ($ty:ty, $addr:ty) => {
        impl $ty {
            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.io.get_ref().local_addr()
            }

            /// Reads and clears the socket's pending error (`SO_ERROR`).
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.io.get_ref().take_error()
            }
        }
    };
}

/// A byte stream's conversions (`from_std`, `into_std`), peer address, `shutdown` and
/// `split`s, its non-blocking reads and writes (`try_read` and its kin, tokio's), and its
/// read-ahead setting. Every read honours the read-ahead buffer (see `stream_io`). The halves'
/// names (`ReadHalf`, `OwnedReadHalf`...) resolve where the macro is invoked.
macro_rules! stream_methods {
    ($ty:ident, $inner:ty, $addr:ty) => {
        impl $ty {
            /// Wraps a connected `std` stream: makes it non-blocking and registers it with the
            /// current runtime. Errors outside a runtime.
            pub fn from_std(stream: $inner) -> std::io::Result<$ty> {
                Ok($ty {
                    io: sonic_rt::io::Async::new(stream)?,
                })
            }

            /// Deregisters the socket and gives the `std` stream back, still in non-blocking
            /// mode (call `set_nonblocking(false)` for blocking use).
            ///
            /// Fails with [`InvalidData`](std::io::ErrorKind::InvalidData) (and closes the
            /// socket) if read-ahead bytes are buffered
            /// ([`read_ahead_len`](Self::read_ahead_len) > 0): the `std` stream could not
            /// deliver them. Read them out first: [`try_read`](Self::try_read) serves them
            /// without a syscall.
            pub fn into_std(self) -> std::io::Result<$inner> {
                self.io.into_inner()
            }

            /// The remote address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.io.get_ref().peer_addr()
            }

            /// Shuts down the read side, the write side, or both (`shutdown(2)`). Shutting
            /// down the write side sends end-of-stream (TCP: FIN): the peer reads it and may
            /// keep writing back (a half-close).
            ///
            /// Synchronous, with `std`'s signature; tokio's async `shutdown()` is
            /// `AsyncWriteExt::shutdown` (or futures' `close`), which shuts the write side.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.io.get_ref().shutdown(how)
            }

            /// One non-blocking read (tokio's `try_read`): the bytes queued now, at most
            /// `buf.len()`; `Ok(0)` at the end of the stream (or for an empty `buf`).
            ///
            /// `WouldBlock` when nothing is queued, and then at once, without a syscall, until
            /// an event says the socket is readable again (await
            /// [`readable`](Self::readable) or [`ready`](Self::ready)): the same answers as
            /// tokio's at the same points. Read-ahead bytes, if any are buffered, are returned
            /// first without a syscall.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                $crate::stream_io::try_read(&self.io, buf)
            }

            /// [`try_read`](Self::try_read) into several buffers, filled in order (tokio's
            /// `try_read_vectored`). Read-ahead bytes, if any are buffered, come first.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                $crate::stream_io::try_read_vectored(&self.io, bufs)
            }

            /// [`try_read`](Self::try_read) into the spare capacity of `buf`, advancing it
            /// by what was read (tokio's `try_read_buf`; for example into a `Vec<u8>` with
            /// free capacity or a `BytesMut`). The memory need not be initialised.
            #[cfg(feature = "bytes")]
            #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                $crate::stream_io::try_read_buf(&self.io, buf)
            }

            /// One non-blocking write (tokio's `try_write`): as much of `buf` as the send
            /// buffer takes now. `WouldBlock` when it is full, and then at once, without a
            /// syscall, until an event says the socket is writable again.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                $crate::stream_io::try_write(&self.io, buf)
            }

            /// [`try_write`](Self::try_write) from several buffers in order (tokio's
            /// `try_write_vectored`).
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                $crate::stream_io::try_write_vectored(&self.io, bufs)
            }

            /// Read-ahead: a read smaller than `bytes` is served from one `recv` of `bytes`
            /// kept in this stream's buffer (0 turns it off; the default is the runtime's
            /// [`Builder::read_ahead`](sonic_rt::Builder::read_ahead), off unless set). A small
            /// `read_exact` then costs one `recv`, and a short `recv` proves the socket
            /// drained, so the next read waits for the event without an `EAGAIN` call: 3
            /// syscalls per message received and answered instead of 4. Reads of at least
            /// `bytes` go straight into the caller's buffer.
            ///
            /// Buffered bytes are read first by every read (futures-io and tokio `AsyncRead`,
            /// `try_read` and its vectored and `BufMut` forms, the split halves), make
            /// [`readable`](Self::readable) and [`ready`](Self::ready) ready, and are seen by
            /// `peek` where the type has it; an end of stream or a reset comes after them.
            /// `into_std` refuses to drop them. See
            /// [`Async::set_read_ahead`](sonic_rt::io::Async::set_read_ahead).
            pub fn set_read_ahead(&self, bytes: usize) {
                self.io.set_read_ahead(bytes);
            }

            #[doc = concat!("The read-ahead size (0: off); see [`", stringify!($ty), "::set_read_ahead`].")]
            pub fn read_ahead(&self) -> usize {
                self.io.read_ahead()
            }

            /// How many bytes have been read ahead from the kernel and not yet delivered.
            pub fn read_ahead_len(&self) -> usize {
                self.io.read_ahead_len()
            }

            /// Borrowed read and write halves, for use by two futures at once (for example
            /// under `join`). Free: no allocation, no reference count.
            ///
            #[doc = concat!("With futures' `AsyncReadExt` in scope, `stream.split()` on a `", stringify!($ty), "` value")]
            /// resolves to that trait's by-value `split` (a lock-based one); write
            #[doc = concat!("`", stringify!($ty), "::split(&mut s)` or `(&mut s).split()` to get this one.")]
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                $crate::split::split(self)
            }

            /// Owned read and write halves that can move into two tasks. One `Rc` allocation;
            /// no lock (the runtime is single-threaded). Dropping the write half shuts the
            /// write side down; [`OwnedReadHalf::reunite`] puts the stream back together.
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                $crate::split::into_split(self)
            }

            /// The registered socket, for the halves and the trait impls.
            pub(crate) fn as_async(&self) -> &sonic_rt::io::Async<$inner> {
                &self.io
            }
        }
    };
}

pub(crate) use buf_recv_methods;
pub(crate) use buffer_size_methods;
pub(crate) use busy_poll_methods;
pub(crate) use datagram_methods;
pub(crate) use impl_debug_as_std;
pub(crate) use impl_fd;
pub(crate) use ip_option_methods;
pub(crate) use local_addr_methods;
pub(crate) use readiness_methods;
pub(crate) use spin_reads_method;
pub(crate) use stream_methods;
pub(crate) use try_from_std;
pub(crate) use ttl_methods;
