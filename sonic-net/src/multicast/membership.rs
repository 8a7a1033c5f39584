//! Group membership of a [`Peer`]: join, leave, block and unblock, with a table that remembers
//! how each group was joined.
//!
//! Rules the table keeps:
//! - One entry per (group, interface index). An entry is either any-source (with a list of
//!   blocked sources) or source-specific (with the list of included sources), never both: the
//!   kernel refuses to mix the two modes on one membership (`EADDRINUSE` / `EINVAL` on Linux),
//!   and the table says so first, with a clearer error.
//! - Every request about an existing membership (leave, leave a source, block, unblock) goes to
//!   the interface recorded at join time. The kernel would otherwise look the interface up by
//!   route, which fails (`ENODEV`) or picks another interface when the join named one.
//! - The table changes only after the kernel accepted the request, so it never claims a
//!   membership the socket does not have.

use super::interface::Interface;
use super::peer::Peer;
use super::sys;
use socket2::InterfaceIndexOrAddress;
use std::io;
use std::net::{IpAddr, Ipv4Addr};

/// A group membership, as [`Peer::memberships`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Membership {
    /// The multicast group.
    pub group: IpAddr,
    /// The index of the interface it was joined on (0: the kernel chose by route).
    pub interface: u32,
    /// `Some(sources)` for a source-specific join: only these senders are delivered.
    /// `None` for an any-source join.
    pub sources: Option<Vec<IpAddr>>,
    /// Senders blocked on an any-source join.
    pub blocked: Vec<IpAddr>,
}

/// How a membership was joined, so that later requests name the same interface the same way.
#[derive(Clone, Copy, Debug)]
pub(super) struct Via {
    /// Interface index; 0 lets the kernel choose by route.
    pub(super) index: u32,
    /// For IPv4 joins by address: that address, which selects the classic `ip_mreq` /
    /// `ip_mreq_source` options over the RFC 3678 ones that take an index.
    pub(super) v4: Option<Ipv4Addr>,
}

#[derive(Debug)]
pub(super) enum Filter {
    Any { blocked: Vec<IpAddr> },
    Sources(Vec<IpAddr>),
}

#[derive(Debug)]
pub(super) struct Joined {
    group: IpAddr,
    via: Via,
    filter: Filter,
}

/// The mode of an existing entry, as [`Peer::lookup`] reports it.
enum Found {
    Any,
    Sources { includes: bool },
}

#[derive(Clone, Copy)]
enum SourceOp {
    Join,
    Leave,
    Block,
    Unblock,
}

pub(super) fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn not_found(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, msg)
}

impl Peer {
    // ---- validation -----------------------------------------------------------------------

    fn check_family(&self, what: &str, addr: IpAddr) -> io::Result<()> {
        if addr.is_ipv6() != self.is_v6() {
            let (fam, peer) = if addr.is_ipv6() {
                ("IPv6", "IPv4")
            } else {
                ("IPv4", "IPv6")
            };
            return Err(invalid(format!(
                "{what} {addr} is an {fam} address but this peer is bound to {peer} address {}",
                self.local
            )));
        }
        Ok(())
    }

    fn check_group(&self, group: IpAddr) -> io::Result<()> {
        if !group.is_multicast() {
            return Err(invalid(format!("{group} is not a multicast address")));
        }
        self.check_family("group", group)
    }

    fn check_source(&self, source: IpAddr) -> io::Result<()> {
        if source.is_multicast() || source.is_unspecified() {
            return Err(invalid(format!(
                "{source} cannot be a multicast source: it must be a unicast sender address"
            )));
        }
        self.check_family("source", source)
    }

    pub(super) fn resolve(&self, iface: &Interface) -> io::Result<Via> {
        let index = iface.index()?;
        let v4 = match iface {
            Interface::Addr(IpAddr::V4(a)) if !self.is_v6() => Some(*a),
            _ => None,
        };
        Ok(Via { index, v4 })
    }

    // ---- kernel requests --------------------------------------------------------------------

    fn kernel_join(&self, group: IpAddr, via: Via) -> io::Result<()> {
        let s = self.sock();
        match (group, via.v4) {
            (IpAddr::V4(g), Some(a)) => s.join_multicast_v4(&g, &a),
            (IpAddr::V4(g), None) => {
                s.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(via.index))
            }
            (IpAddr::V6(g), _) => s.join_multicast_v6(&g, via.index),
        }
    }

    /// Leaves a membership of either mode: dropping the group drops its source filter too.
    fn kernel_leave(&self, group: IpAddr, via: Via) -> io::Result<()> {
        let s = self.sock();
        match (group, via.v4) {
            (IpAddr::V4(g), Some(a)) => s.leave_multicast_v4(&g, &a),
            (IpAddr::V4(g), None) => {
                s.leave_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(via.index))
            }
            (IpAddr::V6(g), _) => s.leave_multicast_v6(&g, via.index),
        }
    }

    fn kernel_source(
        &self,
        op: SourceOp,
        group: IpAddr,
        source: IpAddr,
        via: Via,
    ) -> io::Result<()> {
        if let (IpAddr::V4(g), IpAddr::V4(src), Some(a)) = (group, source, via.v4) {
            let s = self.sock();
            return match op {
                SourceOp::Join => s.join_ssm_v4(&src, &g, &a),
                SourceOp::Leave => s.leave_ssm_v4(&src, &g, &a),
                SourceOp::Block => sys::ip_source(self.fd(), libc::IP_BLOCK_SOURCE, g, a, src),
                SourceOp::Unblock => sys::ip_source(self.fd(), libc::IP_UNBLOCK_SOURCE, g, a, src),
            };
        }
        let opt = match op {
            SourceOp::Join => libc::MCAST_JOIN_SOURCE_GROUP,
            SourceOp::Leave => libc::MCAST_LEAVE_SOURCE_GROUP,
            SourceOp::Block => libc::MCAST_BLOCK_SOURCE,
            SourceOp::Unblock => libc::MCAST_UNBLOCK_SOURCE,
        };
        sys::mcast_source(self.fd(), opt, via.index, group, source)
    }

    // ---- membership -------------------------------------------------------------------------

    /// Joins `group` for any source on the interface the kernel picks by route.
    ///
    /// Prefer [`join_on`](Self::join_on): on a host with a default route the kernel picks the
    /// interface behind it, and on a host without a multicast route the join fails (`ENODEV`).
    pub fn join(&self, group: impl Into<IpAddr>) -> io::Result<()> {
        self.join_on(group, Interface::Unspecified)
    }

    /// Joins `group` for any source on `iface` (a name, an index or an address of it).
    ///
    /// IPv4 joins by address use `IP_ADD_MEMBERSHIP` with `ip_mreq`; by name or index
    /// `ip_mreqn`, which also works for an interface without an IPv4 address. IPv6 joins use
    /// `IPV6_JOIN_GROUP` by index.
    ///
    /// Errors: [`InvalidInput`](io::ErrorKind::InvalidInput) if `group` is not a multicast
    /// address of the peer's family, or if the group is already joined source-specifically on
    /// that interface; [`NotFound`](io::ErrorKind::NotFound) for an unknown interface;
    /// [`AlreadyExists`](io::ErrorKind::AlreadyExists) if already joined there.
    pub fn join_on(&self, group: impl Into<IpAddr>, iface: impl Into<Interface>) -> io::Result<()> {
        let (group, iface) = (group.into(), iface.into());
        self.check_group(group)?;
        let via = self.resolve(&iface)?;
        if let Some((_, found)) = self.lookup(group, via.index, None) {
            return Err(match found {
                Found::Any => io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("group {group} is already joined on {iface}"),
                ),
                Found::Sources { .. } => invalid(format!(
                    "group {group} is joined source-specifically on {iface}; leave it before \
                     joining it for any source"
                )),
            });
        }
        self.kernel_join(group, via)?;
        self.joined.borrow_mut().push(Joined {
            group,
            via,
            filter: Filter::Any {
                blocked: Vec::new(),
            },
        });
        Ok(())
    }

    /// Joins `group` for datagrams from `source` only (source-specific multicast, SSM), on the
    /// interface the kernel picks by route. See [`join_source_on`](Self::join_source_on).
    pub fn join_source(
        &self,
        group: impl Into<IpAddr>,
        source: impl Into<IpAddr>,
    ) -> io::Result<()> {
        self.join_source_on(group, source, Interface::Unspecified)
    }

    /// Joins `group` for datagrams from `source` only, on `iface`. Call it again with another
    /// source to accept that one too.
    ///
    /// IPv4 joins by address use `IP_ADD_SOURCE_MEMBERSHIP` (`ip_mreq_source`); joins by name or
    /// index, and all IPv6 joins, use `MCAST_JOIN_SOURCE_GROUP` (`group_source_req`).
    ///
    /// Errors: [`InvalidInput`](io::ErrorKind::InvalidInput) for a non-multicast group, a
    /// multicast or unspecified source, a family mismatch, or a group already joined for any
    /// source on that interface (use [`block_source`](Self::block_source) there);
    /// [`NotFound`](io::ErrorKind::NotFound) for an unknown interface;
    /// [`AlreadyExists`](io::ErrorKind::AlreadyExists) if that source is already joined.
    pub fn join_source_on(
        &self,
        group: impl Into<IpAddr>,
        source: impl Into<IpAddr>,
        iface: impl Into<Interface>,
    ) -> io::Result<()> {
        let (group, source, iface) = (group.into(), source.into(), iface.into());
        self.check_group(group)?;
        self.check_source(source)?;
        let via = self.resolve(&iface)?;
        let via_to_use = match self.lookup(group, via.index, Some(source)) {
            Some((_, Found::Any)) => {
                return Err(invalid(format!(
                    "group {group} is joined for any source on {iface}; leave it before a \
                     source-specific join, or block unwanted sources instead"
                )))
            }
            Some((_, Found::Sources { includes: true })) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("source {source} of group {group} is already joined on {iface}"),
                ))
            }
            // Same membership: keep addressing it the way it was first joined.
            Some((first, Found::Sources { includes: false })) => first,
            None => via,
        };
        self.kernel_source(SourceOp::Join, group, source, via_to_use)?;
        let mut joined = self.joined.borrow_mut();
        match joined
            .iter_mut()
            .find(|j| j.group == group && j.via.index == via.index)
        {
            Some(Joined {
                filter: Filter::Sources(sources),
                ..
            }) => sources.push(source),
            _ => joined.push(Joined {
                group,
                via,
                filter: Filter::Sources(vec![source]),
            }),
        }
        Ok(())
    }

    /// Leaves `group` on every interface it was joined on, whatever the mode.
    ///
    /// Errors with [`NotFound`](io::ErrorKind::NotFound) if the peer has not joined it.
    pub fn leave(&self, group: impl Into<IpAddr>) -> io::Result<()> {
        let group = group.into();
        self.check_group(group)?;
        let vias: Vec<Via> = self
            .joined
            .borrow()
            .iter()
            .filter(|j| j.group == group)
            .map(|j| j.via)
            .collect();
        if vias.is_empty() {
            return Err(not_found(format!("group {group} is not joined")));
        }
        for via in vias {
            self.leave_via(group, via)?;
        }
        Ok(())
    }

    /// Leaves `group` on `iface` only, whatever the mode.
    ///
    /// Errors with [`NotFound`](io::ErrorKind::NotFound) if the peer has not joined it there.
    pub fn leave_on(
        &self,
        group: impl Into<IpAddr>,
        iface: impl Into<Interface>,
    ) -> io::Result<()> {
        let (group, iface) = (group.into(), iface.into());
        self.check_group(group)?;
        let index = self.resolve(&iface)?.index;
        let (via, _) = self
            .lookup(group, index, None)
            .ok_or_else(|| not_found(format!("group {group} is not joined on {iface}")))?;
        self.leave_via(group, via)
    }

    fn leave_via(&self, group: IpAddr, via: Via) -> io::Result<()> {
        self.kernel_leave(group, via)?;
        self.joined
            .borrow_mut()
            .retain(|j| !(j.group == group && j.via.index == via.index));
        Ok(())
    }

    /// Stops accepting `source` on a source-specific join of `group` (on every interface where
    /// it was joined). Dropping the last source leaves the group.
    ///
    /// Errors with [`NotFound`](io::ErrorKind::NotFound) if `source` is not joined for `group`.
    pub fn leave_source(
        &self,
        group: impl Into<IpAddr>,
        source: impl Into<IpAddr>,
    ) -> io::Result<()> {
        let (group, source) = (group.into(), source.into());
        self.check_group(group)?;
        self.check_source(source)?;
        let vias = self.vias_where(
            group,
            |f| matches!(f, Filter::Sources(s) if s.contains(&source)),
        );
        if vias.is_empty() {
            return Err(not_found(format!(
                "source {source} is not joined for group {group}"
            )));
        }
        for via in vias {
            self.kernel_source(SourceOp::Leave, group, source, via)?;
            let mut joined = self.joined.borrow_mut();
            for j in joined
                .iter_mut()
                .filter(|j| j.group == group && j.via.index == via.index)
            {
                if let Filter::Sources(s) = &mut j.filter {
                    s.retain(|x| *x != source);
                }
            }
            // The kernel leaves the group with its last source; so does the table.
            joined.retain(|j| !matches!(&j.filter, Filter::Sources(s) if s.is_empty()));
        }
        Ok(())
    }

    /// Drops datagrams from `source` on an any-source join of `group` (on every interface where
    /// it was joined), until [`unblock_source`](Self::unblock_source).
    ///
    /// IPv4 joins by address use `IP_BLOCK_SOURCE`; the others `MCAST_BLOCK_SOURCE`. Either way
    /// the request names the interface of the join.
    ///
    /// Errors: [`NotFound`](io::ErrorKind::NotFound) if `group` is not joined;
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) if it is joined only source-specifically
    /// (blocking applies to any-source joins; there, leave the source instead);
    /// [`AlreadyExists`](io::ErrorKind::AlreadyExists) if `source` is already blocked.
    pub fn block_source(
        &self,
        group: impl Into<IpAddr>,
        source: impl Into<IpAddr>,
    ) -> io::Result<()> {
        self.block_op(group.into(), source.into(), true)
    }

    /// Accepts `source` again on an any-source join of `group`.
    ///
    /// Errors with [`NotFound`](io::ErrorKind::NotFound) if `source` is not blocked there.
    pub fn unblock_source(
        &self,
        group: impl Into<IpAddr>,
        source: impl Into<IpAddr>,
    ) -> io::Result<()> {
        self.block_op(group.into(), source.into(), false)
    }

    fn block_op(&self, group: IpAddr, source: IpAddr, block: bool) -> io::Result<()> {
        self.check_group(group)?;
        self.check_source(source)?;
        if self.vias_where(group, |_| true).is_empty() {
            return Err(not_found(format!("group {group} is not joined")));
        }
        let any = self.vias_where(group, |f| matches!(f, Filter::Any { .. }));
        if any.is_empty() {
            return Err(invalid(format!(
                "group {group} is joined source-specifically only; blocking applies to \
                 any-source joins (use leave_source instead)"
            )));
        }
        let vias = self.vias_where(
            group,
            |f| matches!(f, Filter::Any { blocked } if blocked.contains(&source) != block),
        );
        if vias.is_empty() {
            return Err(if block {
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("source {source} is already blocked for group {group}"),
                )
            } else {
                not_found(format!("source {source} is not blocked for group {group}"))
            });
        }
        let op = if block {
            SourceOp::Block
        } else {
            SourceOp::Unblock
        };
        for via in vias {
            self.kernel_source(op, group, source, via)?;
            let mut joined = self.joined.borrow_mut();
            for j in joined
                .iter_mut()
                .filter(|j| j.group == group && j.via.index == via.index)
            {
                if let Filter::Any { blocked } = &mut j.filter {
                    if block {
                        blocked.push(source);
                    } else {
                        blocked.retain(|x| *x != source);
                    }
                }
            }
        }
        Ok(())
    }

    /// The groups this peer has joined, with their interface and source filter.
    pub fn memberships(&self) -> Vec<Membership> {
        self.joined
            .borrow()
            .iter()
            .map(|j| Membership {
                group: j.group,
                interface: j.via.index,
                sources: match &j.filter {
                    Filter::Sources(s) => Some(s.clone()),
                    Filter::Any { .. } => None,
                },
                blocked: match &j.filter {
                    Filter::Any { blocked } => blocked.clone(),
                    Filter::Sources(_) => Vec::new(),
                },
            })
            .collect()
    }

    /// The table's entry for (`group`, interface `index`): how it was joined, and its mode
    /// (for a source-specific entry, whether it includes `source`).
    fn lookup(&self, group: IpAddr, index: u32, source: Option<IpAddr>) -> Option<(Via, Found)> {
        let joined = self.joined.borrow();
        let j = joined
            .iter()
            .find(|j| j.group == group && j.via.index == index)?;
        let found = match &j.filter {
            Filter::Any { .. } => Found::Any,
            Filter::Sources(s) => Found::Sources {
                includes: source.is_some_and(|src| s.contains(&src)),
            },
        };
        Some((j.via, found))
    }

    fn vias_where(&self, group: IpAddr, pred: impl Fn(&Filter) -> bool) -> Vec<Via> {
        self.joined
            .borrow()
            .iter()
            .filter(|j| j.group == group && pred(&j.filter))
            .map(|j| j.via)
            .collect()
    }
}
