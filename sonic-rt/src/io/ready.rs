//! [`Interest`] (what a task waits for) and [`Ready`] (what a source is ready for): tokio's
//! `tokio::io::{Interest, Ready}`, with the same constants, methods and meaning.
//!
//! Rules (as tokio's):
//! - `READABLE` interest is satisfied by `READABLE` or `READ_CLOSED` readiness, `WRITABLE` by
//!   `WRITABLE` or `WRITE_CLOSED`, `PRIORITY` (Linux, Android) by `PRIORITY` or `READ_CLOSED`,
//!   `ERROR` by `ERROR` only.
//! - `READ_CLOSED` and `WRITE_CLOSED` never go away; an operation that would block clears the
//!   other bits it was interested in, until the next event sets them again.
//! - `Ready` values use the reactor's own bit layout, so reading a source's readiness is a load
//!   and a mask, never a translation.

use crate::reactor;
use std::fmt;
use std::ops;

const I_READABLE: u8 = 1 << 0;
const I_WRITABLE: u8 = 1 << 1;
const I_ERROR: u8 = 1 << 2;
#[cfg(any(target_os = "linux", target_os = "android"))]
const I_PRIORITY: u8 = 1 << 3;

/// Readiness interest: what a task waits for in [`Async::ready`](crate::io::Async::ready) and
/// the sockets' `ready`, `try_io` and `async_io`. tokio's `tokio::io::Interest`.
///
/// Combine interests with `|`.
///
/// # Examples
/// ```
/// use sonic_rt::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable() && !both.is_error());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Interest in reading (and in the read side closing).
    pub const READABLE: Interest = Interest(I_READABLE);

    /// Interest in writing (and in the write side closing).
    pub const WRITABLE: Interest = Interest(I_WRITABLE);

    /// Interest in error readiness only (`EPOLLERR`; a UDP socket's ICMP error, an error queue
    /// message). Reading and writing readiness do not satisfy it.
    pub const ERROR: Interest = Interest(I_ERROR);

    /// Interest in urgent data (`EPOLLPRI`): TCP out-of-band data, a change in `/proc/mounts`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub const PRIORITY: Interest = Interest(I_PRIORITY);

    /// Whether the interest includes reading.
    pub const fn is_readable(self) -> bool {
        self.0 & I_READABLE != 0
    }

    /// Whether the interest includes writing.
    pub const fn is_writable(self) -> bool {
        self.0 & I_WRITABLE != 0
    }

    /// Whether the interest includes error readiness.
    pub const fn is_error(self) -> bool {
        self.0 & I_ERROR != 0
    }

    /// Whether the interest includes urgent data.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub const fn is_priority(self) -> bool {
        self.0 & I_PRIORITY != 0
    }

    /// Both interests (the same as `|`, usable in a `const`).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest without `other`; `None` if nothing is left.
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let rest = self.0 & !other.0;
        (rest != 0).then_some(Interest(rest))
    }

    /// The readiness bits that satisfy this interest (tokio's `Ready::from_interest`).
    pub(crate) const fn mask(self) -> u8 {
        let mut mask = 0;
        if self.is_readable() {
            mask |= reactor::READABLE | reactor::READ_CLOSED;
        }
        if self.is_writable() {
            mask |= reactor::WRITABLE | reactor::WRITE_CLOSED;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.is_priority() {
            mask |= reactor::PRIORITY | reactor::READ_CLOSED;
        }
        if self.is_error() {
            mask |= reactor::ERROR;
        }
        mask
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    #[inline]
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    #[inline]
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let priority = self.is_priority();
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let priority = false;
        let names = [
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            (priority, "PRIORITY"),
            (self.is_error(), "ERROR"),
        ];
        let mut sep = "";
        for (_, name) in names.iter().filter(|(set, _)| *set) {
            f.write_str(sep)?;
            f.write_str(name)?;
            sep = " | ";
        }
        Ok(())
    }
}

/// What an I/O source is ready for, as [`Async::ready`](crate::io::Async::ready) and the
/// sockets' `ready` report it. tokio's `tokio::io::Ready`.
///
/// # Examples
/// ```
/// use sonic_rt::io::Ready;
///
/// let r = Ready::READABLE | Ready::WRITE_CLOSED;
/// assert!(r.is_readable() && r.is_writable() && r.is_write_closed());
/// assert!(!r.is_read_closed());
/// assert!(Ready::READ_CLOSED.is_readable());
/// assert!((r - Ready::READABLE - Ready::WRITE_CLOSED).is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ready(u8);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);

    /// Readable: a read will (probably) not block.
    pub const READABLE: Ready = Ready(reactor::READABLE);

    /// Writable: a write will (probably) not block.
    pub const WRITABLE: Ready = Ready(reactor::WRITABLE);

    /// The read side is closed (the peer shut down its write side, or hung up): a read returns
    /// end of stream or an error at once.
    pub const READ_CLOSED: Ready = Ready(reactor::READ_CLOSED);

    /// The write side is closed (hang-up): a write fails at once.
    pub const WRITE_CLOSED: Ready = Ready(reactor::WRITE_CLOSED);

    /// Urgent data is waiting (`EPOLLPRI`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub const PRIORITY: Ready = Ready(reactor::PRIORITY);

    /// An error is pending (`EPOLLERR`).
    pub const ERROR: Ready = Ready(reactor::ERROR);

    /// Every readiness.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const ALL: Ready = Ready(
        reactor::READABLE
            | reactor::WRITABLE
            | reactor::READ_CLOSED
            | reactor::WRITE_CLOSED
            | reactor::ERROR
            | reactor::PRIORITY,
    );

    /// Every readiness.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub const ALL: Ready = Ready(
        reactor::READABLE
            | reactor::WRITABLE
            | reactor::READ_CLOSED
            | reactor::WRITE_CLOSED
            | reactor::ERROR,
    );

    /// The readiness of a source's bits (anything beyond [`Ready::ALL`] is dropped).
    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & Ready::ALL.0)
    }

    /// The reactor's bits of this readiness.
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self == Ready::EMPTY
    }

    /// Whether a read will (probably) not block: `READABLE` or `READ_CLOSED`.
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE) || self.is_read_closed()
    }

    /// Whether a write will (probably) not block: `WRITABLE` or `WRITE_CLOSED`.
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE) || self.is_write_closed()
    }

    /// Whether `READ_CLOSED` is set.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }

    /// Whether `WRITE_CLOSED` is set.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }

    /// Whether `PRIORITY` is set.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub fn is_priority(self) -> bool {
        self.contains(Ready::PRIORITY)
    }

    /// Whether `ERROR` is set.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }

    fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    #[inline]
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    #[inline]
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    #[inline]
    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    #[inline]
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Ready");
        d.field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        d.field("is_priority", &self.is_priority());
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_masks_follow_tokio() {
        let r = Ready::from_bits(Interest::READABLE.mask());
        assert_eq!(r, Ready::READABLE | Ready::READ_CLOSED);
        let w = Ready::from_bits(Interest::WRITABLE.mask());
        assert_eq!(w, Ready::WRITABLE | Ready::WRITE_CLOSED);
        assert_eq!(Ready::from_bits(Interest::ERROR.mask()), Ready::ERROR);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(
            Ready::from_bits(Interest::PRIORITY.mask()),
            Ready::PRIORITY | Ready::READ_CLOSED
        );
        assert_eq!(
            Ready::from_bits((Interest::READABLE | Interest::WRITABLE).mask()),
            r | w
        );
    }

    #[test]
    fn debug_lists_what_is_set() {
        assert_eq!(format!("{:?}", Interest::ERROR), "ERROR");
        assert_eq!(
            format!("{:?}", Interest::READABLE | Interest::ERROR),
            "READABLE | ERROR"
        );
        let s = format!("{:?}", Ready::WRITABLE);
        assert!(
            s.starts_with("Ready { is_readable: false, is_writable: true"),
            "{s}"
        );
    }

    #[test]
    fn ready_all_holds_every_constant_and_nothing_else() {
        let mut all = Ready::READABLE
            | Ready::WRITABLE
            | Ready::READ_CLOSED
            | Ready::WRITE_CLOSED
            | Ready::ERROR;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            all |= Ready::PRIORITY;
        }
        assert_eq!(all, Ready::ALL);
        assert_eq!(Ready::from_bits(0xff), Ready::ALL);
        assert!((Ready::ALL - all).is_empty());
        assert_eq!(Ready::ALL & Ready::ERROR, Ready::ERROR);
    }
}
