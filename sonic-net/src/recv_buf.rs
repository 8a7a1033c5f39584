//! [`RecvBuf`]: what the `poll_*` receive methods (`UdpSocket::poll_recv`, `poll_recv_from`,
//! `poll_peek`, `poll_peek_from`, `TcpStream::poll_peek`) receive into: a byte slice, whose
//! count they return, or, with the `tokio` feature, tokio's `ReadBuf`, which they fill and
//! advance as tokio's methods of the same names do. Code written for either compiles
//! unchanged, and enabling the feature changes nothing for slice users.
//!
//! Rules: the kernel writes into the unfilled part only; a `ReadBuf`'s uninitialised memory is
//! never read and never zeroed; nothing allocates.

use std::mem::MaybeUninit;

/// A buffer the `poll_*` receive methods fill: `[u8]` (and `[u8; N]`), or tokio's `ReadBuf`
/// with the `tokio` feature. Sealed.
///
/// # Examples
/// ```
/// use sonic_net::UdpSocket;
/// use std::future::poll_fn;
///
/// sonic_rt::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     // A slice (or an array): the count and the sender come back.
///     let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
/// });
/// ```
pub trait RecvBuf: sealed::Sealed {
    /// What a receive returns: the byte count for a slice, `()` for a `ReadBuf` (which keeps
    /// the count itself).
    type Len;
    /// What a receive that reports the sender (`A`) returns: `(usize, A)` for a slice, `A`
    /// for a `ReadBuf`.
    type LenFrom<A>;

    /// The room left, which the kernel may write into.
    ///
    /// # Safety
    /// The caller must not write uninitialised bytes through the returned slice.
    #[doc(hidden)]
    unsafe fn unfilled(&mut self) -> &mut [MaybeUninit<u8>];

    /// Records that the first `n` bytes of [`unfilled`](RecvBuf::unfilled) were written.
    ///
    /// # Safety
    /// Those `n` bytes must have been initialised.
    #[doc(hidden)]
    unsafe fn filled(&mut self, n: usize) -> Self::Len;

    /// [`filled`](RecvBuf::filled), for a receive that reports the sender.
    ///
    /// # Safety
    /// As for `filled`.
    #[doc(hidden)]
    unsafe fn filled_from<A>(&mut self, n: usize, from: A) -> Self::LenFrom<A>;

    /// The room left, initialised (a `ReadBuf` zeroes the part it never initialised), for a
    /// copy from memory rather than a receive.
    #[doc(hidden)]
    fn unfilled_init(&mut self) -> &mut [u8];
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for [u8] {}

impl RecvBuf for [u8] {
    type Len = usize;
    type LenFrom<A> = (usize, A);

    unsafe fn unfilled(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `MaybeUninit<u8>` has `u8`'s layout; the caller promises not to write
        // uninitialised bytes, so the slice stays initialised for its owner.
        unsafe { &mut *(self as *mut [u8] as *mut [MaybeUninit<u8>]) }
    }

    unsafe fn filled(&mut self, n: usize) -> usize {
        n
    }

    unsafe fn filled_from<A>(&mut self, n: usize, from: A) -> (usize, A) {
        (n, from)
    }

    fn unfilled_init(&mut self) -> &mut [u8] {
        self
    }
}

impl<const N: usize> sealed::Sealed for [u8; N] {}

impl<const N: usize> RecvBuf for [u8; N] {
    type Len = usize;
    type LenFrom<A> = (usize, A);

    unsafe fn unfilled(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: as for `[u8]`; the caller's promise is passed on.
        unsafe { self.as_mut_slice().unfilled() }
    }

    unsafe fn filled(&mut self, n: usize) -> usize {
        n
    }

    unsafe fn filled_from<A>(&mut self, n: usize, from: A) -> (usize, A) {
        (n, from)
    }

    fn unfilled_init(&mut self) -> &mut [u8] {
        self
    }
}

#[cfg(feature = "tokio")]
impl sealed::Sealed for tokio::io::ReadBuf<'_> {}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl RecvBuf for tokio::io::ReadBuf<'_> {
    type Len = ();
    type LenFrom<A> = A;

    unsafe fn unfilled(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `unfilled_mut` requires that no byte be de-initialised through the slice;
        // our caller promises exactly that.
        unsafe { self.unfilled_mut() }
    }

    unsafe fn filled(&mut self, n: usize) {
        // SAFETY: the caller guarantees the first `n` unfilled bytes were written.
        unsafe { self.assume_init(n) };
        self.advance(n);
    }

    unsafe fn filled_from<A>(&mut self, n: usize, from: A) -> A {
        // SAFETY: as for `filled`.
        unsafe { self.filled(n) };
        from
    }

    fn unfilled_init(&mut self) -> &mut [u8] {
        self.initialize_unfilled()
    }
}

/// One `recv` on `socket` into the spare capacity of `buf`, advancing it (the `recv_buf`
/// methods of the datagram sockets).
#[cfg(feature = "bytes")]
pub(crate) fn recv_into<S, B>(socket: &S, buf: &mut B) -> std::io::Result<usize>
where
    S: std::os::fd::AsFd,
    B: bytes::BufMut + ?Sized,
{
    let n = socket2::SockRef::from(socket).recv(chunk_uninit(buf))?;
    // SAFETY: `recv` returned `n`: the kernel initialised that many bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// One `recv_from` on `socket` into the spare capacity of `buf`: the sender's address goes
/// through `addr` (which may refuse it) before `buf` is advanced.
#[cfg(feature = "bytes")]
pub(crate) fn recv_from_into<S, B, A>(
    socket: &S,
    buf: &mut B,
    addr: impl FnOnce(socket2::SockAddr) -> std::io::Result<A>,
) -> std::io::Result<(usize, A)>
where
    S: std::os::fd::AsFd,
    B: bytes::BufMut + ?Sized,
{
    let (n, from) = socket2::SockRef::from(socket).recv_from(chunk_uninit(buf))?;
    let from = addr(from)?;
    // SAFETY: `recv_from` returned `n`: the kernel initialised that many bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok((n, from))
}

/// The spare capacity of `buf`, for the kernel to write into.
#[cfg(feature = "bytes")]
fn chunk_uninit<B: bytes::BufMut + ?Sized>(buf: &mut B) -> &mut [MaybeUninit<u8>] {
    // SAFETY: the slice is handed only to `recv`/`recv_from`, which write initialised bytes
    // and never de-initialise any.
    unsafe { buf.chunk_mut().as_uninit_slice_mut() }
}
