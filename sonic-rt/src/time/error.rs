//! Time errors.

use std::fmt;

/// A [`timeout`](super::timeout) expired before its future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub(crate) ());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// tokio's timer error (`time::error::Error`): the timer is shut down, at capacity, or given a
/// duration it cannot represent. No sonic timer operation fails, so sonic never returns one; the
/// type exists so that code naming it (in a `From` impl, an error enum) compiles unchanged.
///
/// # Examples
/// ```
/// use sonic_rt::time::error::Error;
/// let e = Error::at_capacity();
/// assert!(e.is_at_capacity() && !e.is_shutdown() && !e.is_invalid());
/// assert_eq!(e.to_string(), "timer is at capacity and cannot create a new entry");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shutdown,
    AtCapacity,
    Invalid,
}

impl Error {
    /// The timer's runtime is gone.
    pub fn shutdown() -> Error {
        Error(Kind::Shutdown)
    }

    /// Whether the timer's runtime is gone.
    pub fn is_shutdown(&self) -> bool {
        self.0 == Kind::Shutdown
    }

    /// The timer cannot take another entry.
    pub fn at_capacity() -> Error {
        Error(Kind::AtCapacity)
    }

    /// Whether the timer could not take another entry.
    pub fn is_at_capacity(&self) -> bool {
        self.0 == Kind::AtCapacity
    }

    /// The duration cannot be represented by the timer.
    pub fn invalid() -> Error {
        Error(Kind::Invalid)
    }

    /// Whether the duration could not be represented.
    pub fn is_invalid(&self) -> bool {
        self.0 == Kind::Invalid
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Kind::Shutdown => {
                "the timer is shutdown, must be called from the context of a sonic runtime"
            }
            Kind::AtCapacity => "timer is at capacity and cannot create a new entry",
            Kind::Invalid => "timer duration exceeds maximum duration",
        })
    }
}

impl std::error::Error for Error {}
