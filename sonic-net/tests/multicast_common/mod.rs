//! Shared by the multicast tests: runtimes in both loop modes, receive helpers, and (Linux) a pair
//! of network namespaces joined by a veth pair, built by the test itself with netlink.
#![allow(dead_code)]

use sonic_net::multicast::Peer;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Runs `body` on a fresh runtime, once with busy-poll off and once with it on.
pub fn both_modes<F, Fut>(body: F)
where
    F: Fn(bool) -> Fut,
    Fut: Future<Output = ()>,
{
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        rt.block_on(body(busy));
    }
}

/// Receives until a datagram whose payload is `fence` arrives (or 2 s pass: a failure), then
/// waits `grace` more for anything that should not be there. Returns every datagram's sender
/// and payload, the fence included.
pub async fn collect_until(peer: &Peer, fence: &[u8], grace: Duration) -> Vec<(IpAddr, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let r = sonic_rt::time::timeout(Duration::from_secs(2), peer.recv_from(&mut buf)).await;
        let (n, from) = r
            .unwrap_or_else(|_| panic!("fence {:?} never arrived; got {got:?}", fence))
            .unwrap();
        got.push((from.ip(), buf[..n].to_vec()));
        if &buf[..n] == fence {
            break;
        }
    }
    got.extend(drain(peer, grace).await);
    got
}

/// Everything that arrives within `window` (a quiet period ends it).
pub async fn drain(peer: &Peer, window: Duration) -> Vec<(IpAddr, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(r) = sonic_rt::time::timeout(window, peer.recv_from(&mut buf)).await {
        let (n, from) = r.unwrap();
        got.push((from.ip(), buf[..n].to_vec()));
    }
    got
}

/// Number of datagrams from `src` in `got`.
pub fn count_from(got: &[(IpAddr, Vec<u8>)], src: IpAddr) -> usize {
    got.iter().filter(|(ip, _)| *ip == src).count()
}

/// Sends `n` datagrams `"{tag}-{i}"` from `tx` to `to`.
pub async fn send_n(tx: &Peer, to: SocketAddr, tag: &str, n: usize) {
    for i in 0..n {
        tx.send_to(format!("{tag}-{i}").as_bytes(), to)
            .await
            .unwrap();
    }
}

#[cfg(target_os = "linux")]
pub mod netns {
    //! Two network namespaces, A and B, joined by a veth pair (`va` in A, `vb` in B), owned by
    //! the calling thread: nothing is named under `/run/netns` and nothing outlives the thread
    //! and the fds. Traffic on the pair never reaches the host's interfaces.
    //!
    //! Addresses (IPv6 added with `nodad`, so they are usable at once):
    //! - B (`vb`): 10.77.0.1/24, 10.77.0.3/24, fdaa:77::1/64, fdaa:77::3/64 (two senders)
    //! - A (`va`): 10.77.0.2/24, fdaa:77::2/64

    use std::fs::File;
    use std::io;
    use std::net::{IpAddr, Ipv6Addr};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    const VETH_INFO_PEER: u16 = 1;

    /// The two namespaces. The calling thread sits in A after [`Pair::create`]. Interface names
    /// and addresses are looked up in the thread's namespace, so name A's interfaces while in A
    /// and B's while in B.
    pub struct Pair {
        pub a: File,
        pub b: File,
        pub va: u32,
        pub vb: u32,
    }

    /// Runs `body` on a new thread that owns a fresh [`Pair`]; prints a reason and returns
    /// without running it when the kernel says `EPERM` (not root, no CAP_SYS_ADMIN).
    pub fn with_pair(test: &str, body: impl FnOnce(&Pair) + Send + 'static) {
        let test = test.to_owned();
        let res = std::thread::spawn(move || match Pair::create() {
            Ok(p) => body(&p),
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                println!("SKIPPED {test}: creating network namespaces needs root (EPERM: {e})");
            }
            Err(e) => panic!("{test}: namespace setup failed: {e}"),
        })
        .join();
        if let Err(panic) = res {
            std::panic::resume_unwind(panic);
        }
    }

    impl Pair {
        /// Unshares two namespaces in turn, creates the veth pair from B with its peer moved to
        /// A, and configures both ends.
        pub fn create() -> io::Result<Pair> {
            unshare()?;
            let a = File::open("/proc/thread-self/ns/net")?;
            link_up(1)?; // lo
            unshare()?;
            let b = File::open("/proc/thread-self/ns/net")?;
            link_up(1)?;
            new_veth("vb", "va", &a)?;
            let vb = index("vb")?;
            for ip in ["10.77.0.1", "10.77.0.3", "fdaa:77::1", "fdaa:77::3"] {
                add_addr(vb, ip.parse().unwrap())?;
            }
            setns(&a)?;
            let va = index("va")?;
            add_addr(va, "10.77.0.2".parse().unwrap())?;
            add_addr(va, "fdaa:77::2".parse().unwrap())?;
            link_up(va)?;
            setns(&b)?;
            link_up(vb)?;
            wait_for_multicast_route("fdaa:77::1", vb)?;
            setns(&a)?;
            wait_for_multicast_route("fdaa:77::2", va)?;
            Ok(Pair { a, b, va, vb })
        }

        /// Sockets created after this call belong to A.
        pub fn enter_a(&self) {
            setns(&self.a).unwrap();
        }

        /// Sockets created after this call belong to B.
        pub fn enter_b(&self) {
            setns(&self.b).unwrap();
        }
    }

    /// IPv6 installs its `ff00::/8` route on a link only once the kernel's link watcher has seen
    /// the carrier come up, up to a second after `link_up` returns. Until then a multicast send
    /// is `ENETUNREACH` and received multicast is dropped (`Ip6InNoRoutes`). Probe with a
    /// datagram to all-nodes on the link (it stays on the veth) from the thread's namespace.
    fn wait_for_multicast_route(src: &str, index: u32) -> io::Result<()> {
        let src: Ipv6Addr = src.parse().unwrap();
        let probe = std::net::UdpSocket::bind((src, 0))?;
        let all_nodes =
            std::net::SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), 9, 0, index);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match probe.send_to(b"probe", all_nodes) {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.raw_os_error() == Some(libc::ENETUNREACH) && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn unshare() -> io::Result<()> {
        // SAFETY: unshare takes flags only; CLONE_NEWNET moves just this thread.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn setns(ns: &File) -> io::Result<()> {
        // SAFETY: `ns` is an open network-namespace fd for the duration of the call.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn index(name: &str) -> io::Result<u32> {
        sonic_net::multicast::Interface::from(name).index()
    }

    /// A netlink request under construction: header, fixed part, attributes.
    struct Msg {
        buf: Vec<u8>,
        nests: Vec<usize>,
    }

    impl Msg {
        fn new(ty: u16, flags: u16) -> Msg {
            let mut buf = Vec::with_capacity(256);
            buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set in `finish`
            buf.extend_from_slice(&ty.to_ne_bytes());
            let flags = flags | (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
            buf.extend_from_slice(&flags.to_ne_bytes());
            buf.extend_from_slice(&1u32.to_ne_bytes()); // seq
            buf.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
            Msg {
                buf,
                nests: Vec::new(),
            }
        }

        /// `struct ifinfomsg { family, pad, type, index, flags, change }`.
        fn ifinfo(&mut self, index: u32, flags: u32, change: u32) -> &mut Msg {
            self.buf
                .extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
            self.buf.extend_from_slice(&index.to_ne_bytes());
            self.buf.extend_from_slice(&flags.to_ne_bytes());
            self.buf.extend_from_slice(&change.to_ne_bytes());
            self
        }

        fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Msg {
            let len = 4 + data.len();
            self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
            self.buf.extend_from_slice(&ty.to_ne_bytes());
            self.buf.extend_from_slice(data);
            self.pad();
            self
        }

        fn attr_str(&mut self, ty: u16, s: &str) -> &mut Msg {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            self.attr(ty, &v)
        }

        fn begin(&mut self, ty: u16) -> &mut Msg {
            self.nests.push(self.buf.len());
            self.buf.extend_from_slice(&0u16.to_ne_bytes());
            self.buf.extend_from_slice(&ty.to_ne_bytes());
            self
        }

        fn end(&mut self) -> &mut Msg {
            let at = self.nests.pop().unwrap();
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
            self
        }

        fn pad(&mut self) {
            while self.buf.len() % 4 != 0 {
                self.buf.push(0);
            }
        }

        /// Sends the request and waits for the kernel's acknowledgement.
        fn send(&mut self) -> io::Result<()> {
            let len = self.buf.len() as u32;
            self.buf[..4].copy_from_slice(&len.to_ne_bytes());
            // SAFETY: plain socket(2) call; the fd is owned right away.
            let fd = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    libc::NETLINK_ROUTE,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a fresh descriptor nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: a zeroed sockaddr_nl addresses the kernel (pid 0).
            let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
            kernel.nl_family = libc::AF_NETLINK as u16;
            // SAFETY: buffer and address live across the call with the lengths given.
            let n = unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    self.buf.as_ptr().cast(),
                    self.buf.len(),
                    0,
                    (&kernel as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as u32,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut reply = [0u8; 4096];
            // SAFETY: `reply` is writable for its length.
            let n =
                unsafe { libc::recv(fd.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            // nlmsghdr (16 bytes) then, for NLMSG_ERROR, an i32 errno (0 = ack).
            let ty = u16::from_ne_bytes([reply[4], reply[5]]);
            if ty != libc::NLMSG_ERROR as u16 || n < 20 {
                return Err(io::Error::other(format!(
                    "unexpected netlink reply type {ty}"
                )));
            }
            let err = i32::from_ne_bytes(reply[16..20].try_into().unwrap());
            if err != 0 {
                return Err(io::Error::from_raw_os_error(-err));
            }
            Ok(())
        }
    }

    fn new_veth(name: &str, peer: &str, peer_ns: &File) -> io::Result<()> {
        let flags = (libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
        Msg::new(libc::RTM_NEWLINK, flags)
            .ifinfo(0, 0, 0)
            .attr_str(libc::IFLA_IFNAME, name)
            .begin(libc::IFLA_LINKINFO)
            .attr_str(libc::IFLA_INFO_KIND, "veth")
            .begin(libc::IFLA_INFO_DATA)
            .begin(VETH_INFO_PEER)
            .ifinfo(0, 0, 0)
            .attr_str(libc::IFLA_IFNAME, peer)
            .attr(
                libc::IFLA_NET_NS_FD,
                &(peer_ns.as_raw_fd() as u32).to_ne_bytes(),
            )
            .end()
            .end()
            .end()
            .send()
    }

    fn link_up(index: u32) -> io::Result<()> {
        let up = libc::IFF_UP as u32;
        Msg::new(libc::RTM_NEWLINK, 0).ifinfo(index, up, up).send()
    }

    fn add_addr(index: u32, ip: IpAddr) -> io::Result<()> {
        let flags = (libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
        let mut m = Msg::new(libc::RTM_NEWADDR, flags);
        // struct ifaddrmsg { family, prefixlen, flags, scope, index }
        let (family, prefix, bytes) = match ip {
            IpAddr::V4(a) => (libc::AF_INET, 24, a.octets().to_vec()),
            IpAddr::V6(a) => (libc::AF_INET6, 64, a.octets().to_vec()),
        };
        let nodad = libc::IFA_F_NODAD as u8;
        m.buf.extend_from_slice(&[family as u8, prefix, nodad, 0]);
        m.buf.extend_from_slice(&index.to_ne_bytes());
        m.attr(libc::IFA_LOCAL, &bytes)
            .attr(libc::IFA_ADDRESS, &bytes)
            .send()
    }
}
