//! UDP multicast: [`Peer`] joins groups (any-source or source-specific) on chosen interfaces,
//! filters sources at run time, and sends and receives datagrams on the sonic-rt reactor.
//!
//! IPv4 and IPv6 are both complete: joins, source-specific joins (SSM), leave, block and
//! unblock, interface by name, index or address, loopback, TTL / hop limit, outgoing and incoming
//! interface, and the destination address of each datagram.
//!
//! # A receiver and a sender
//! ```
//! use sonic_net::multicast::Peer;
//! use std::net::Ipv4Addr;
//!
//! sonic_rt::block_on(async {
//!     let group = Ipv4Addr::new(239, 255, 70, 2);
//!     let source = Ipv4Addr::new(127, 0, 0, 1);
//!
//!     // Bind (usually to the group's port); accept only `source` (SSM) on the loopback
//!     // interface, named here by its address (`lo` on Linux, `lo0` on macOS).
//!     let rx = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
//!     let port = rx.local_addr().port();
//!     rx.join_source_on(group, source, source).unwrap(); // the interface with 127.0.0.1
//!
//!     // Senders bind a concrete source address and name their outgoing interface.
//!     let tx = Peer::bind((source, 0)).unwrap();
//!     tx.set_outbound(source).unwrap();
//!     tx.send_to(b"quote", (group, port).into()).await.unwrap();
//!
//!     let mut buf = [0u8; 1500];
//!     let (n, from) = rx.recv_from(&mut buf).await.unwrap();
//!     assert_eq!((&buf[..n], from.ip()), (&b"quote"[..], source.into()));
//! });
//! ```
//!
//! # Reading into the caller's buffer
//! Every receive takes the caller's buffer on every poll, and nothing is read before the kernel
//! has a datagram, so a caller may change the buffer between polls (rotate through a ring, hand
//! each datagram's region of a big buffer to a decoder) without losing a datagram. This is the
//! Rust form of the Go peer's `SetAsyncReadBuffer`. The receive futures are cancel safe.
//!
//! # How the operating systems differ
//! - **Which sockets receive a group.** On Linux, by default (`IP_MULTICAST_ALL` = 1), a socket
//!   bound to a port receives every group that *any* socket on the host joined on that port,
//!   whether it joined or not. BSD and macOS deliver only the groups a socket joined. [`Peer`]
//!   turns `IP(V6)_MULTICAST_ALL` off on Linux, so both behave the BSD way;
//!   [`Peer::set_multicast_all`] turns it back on.
//! - **Struct layouts.** `ip_mreq_source` holds (group, interface, source) on Linux and (group,
//!   source, interface) on BSD and macOS; `group_req` / `group_source_req` are packed to 4 bytes
//!   on Apple (260 bytes) and naturally aligned on Linux (264 bytes). Requests are built by field
//!   name from libc's per-OS definitions, never by position.
//! - **Option families.** IPv4 any-source joins use `IP_ADD_MEMBERSHIP` (`ip_mreq` by address,
//!   `ip_mreqn` by index); IPv4 SSM and blocking by address use `IP_ADD_SOURCE_MEMBERSHIP` and
//!   `IP_BLOCK_SOURCE`. IPv6 has no such options: SSM and blocking go through the
//!   protocol-independent `MCAST_JOIN_SOURCE_GROUP` / `MCAST_BLOCK_SOURCE` (RFC 3678), which
//!   the peer also uses for IPv4 requests that name the interface by index or name.
//! - **The interface of leave and block.** The kernel finds the membership of a leave or block
//!   request by the interface the request names; an unnamed interface is looked up by route,
//!   which fails (`ENODEV`) or finds another interface. The peer remembers the interface of each
//!   join and always names it again.
//! - **Outgoing interface by index.** Linux takes an `ip_mreqn` in `IP_MULTICAST_IF`; macOS has
//!   `IP_MULTICAST_IFINDEX`. IPv6 takes an index on both.
//! - **Incoming interface.** `SO_BINDTOIFINDEX` on Linux, `IP_BOUND_IF` / `IPV6_BOUND_IF` on
//!   macOS ([`Peer::set_inbound`]).
//! - **Loopback interface.** IPv4 multicast works over Linux's `lo` when the join names `lo` and
//!   the sender binds a 127.x address or names `lo` as its outgoing interface; there, loop and
//!   TTL make no difference (every datagram goes out and comes back in). IPv6 multicast does
//!   not work over Linux's `lo` at all (no route, then a reject route); use a real or virtual
//!   link (the tests use a veth pair between network namespaces). macOS's `lo0` carries
//!   multicast for both families.
//! - **TTL / hop limit 0.** Linux's IPv4 output never sends a TTL-0 multicast datagram on the
//!   wire. Its IPv6 output drops a hop-limit-0 datagram only where it makes the loopback copy
//!   (loop on and a member on this host, on that interface); with loop off it goes out on the
//!   link and the neighbours deliver it (tested over veth, `tests/multicast_netns.rs`).
//! - **IPv6 reception needs the interface's multicast route.** Linux adds `ff00::/8` to the local
//!   table when a link comes up (its link watcher runs up to a second after the carrier comes
//!   on); until then multicast arriving there is dropped as `Ip6InNoRoutes`, and sends fail
//!   with `ENETUNREACH`.
//! - **Kernel errors kept as they are.** Joining the same group twice on one interface is
//!   `EADDRINUSE` on Linux; mixing any-source and source-specific joins is `EADDRINUSE` or
//!   `EINVAL`. The peer catches these cases first and returns a descriptive
//!   [`AlreadyExists`](std::io::ErrorKind::AlreadyExists) or
//!   [`InvalidInput`](std::io::ErrorKind::InvalidInput) error.
//!
//! # Compared with the Go peer
//! Same operations (`Join`, `JoinOn`, `JoinSource`, `JoinSourceOn`, `Leave`, `LeaveSource`,
//! `BlockSource`, `UnblockSource`, `SetOutbound`, `SetInbound`, `SetLoop`, `SetTTL`, `SetAll`,
//! reads and writes), plus: IPv6 throughout; interfaces by index or address as well as name
//! (joins by index work on interfaces without an IPv4 address); leave and block on the
//! interface of the join; the loopback getter reports the kernel's value (the Go getter
//! inverts it); per-datagram destination address and truncation ([`Peer::recv_msg`]);
//! [`Peer::memberships`]; errors for bad input instead of panics; read statistics
//! ([`Peer::stats`]: the Go peer's immediate vs scheduled reads, plus datagrams, bytes,
//! truncations and the kernel's drops from `SO_RXQ_OVFL`).

mod interface;
mod membership;
mod peer;
mod recv;
mod stats;
mod sys;

pub use interface::Interface;
pub use membership::Membership;
pub use peer::Peer;
pub use recv::{RecvMeta, MAX_BATCH};
pub use stats::PeerStats;
