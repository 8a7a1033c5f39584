//! Connection settings and the timer hook.

use crate::proto::extension::DeflateConfig;
use crate::proto::read::Limits;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Something that can sleep: the only thing this crate needs from a runtime.
///
/// sonic-ws does not depend on a runtime; give it sonic-rt's timer (or any other) so that
/// handshakes and close handshakes cannot hang on a silent peer. Any
/// `Fn(Duration) -> impl Future<Output = ()>` closure is a `Timer`:
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// let cfg = sonic_ws::Config::default().timer(Rc::new(|d: Duration| async move {
///     // e.g. sonic_rt::time::sleep(d).await
///     let _ = d;
/// }));
/// assert!(cfg.has_timer());
/// ```
pub trait Timer {
    /// A future that completes after `d`.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()>>>;

    /// The current time on this timer's clock (the keepalive and idle timeouts measure
    /// activity with it). The default is `std::time::Instant::now()`; a runtime with a
    /// pausable clock returns its own (as [`SonicRtTimer`](crate::SonicRtTimer) does).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl<F, Fut> Timer for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(self(d))
    }
}

/// Settings for one connection (both roles).
#[derive(Clone)]
pub struct Config {
    /// Frame, message and buffer limits.
    pub limits: Limits,
    /// permessage-deflate: offered by a client, accepted by a server; `None` disables it.
    pub deflate: Option<DeflateConfig>,
    /// Largest HTTP head accepted during the handshake.
    pub max_handshake_size: usize,
    /// Queued output above which `feed` flushes and reading waits for the peer to drain
    /// (backpressure: a peer that stops reading cannot make us buffer without bound).
    pub write_buffer_size: usize,
    /// Payloads at least this big are written with a vectored write next to their header
    /// instead of being copied into the output buffer.
    pub vectored_threshold: usize,
    /// Answer pings automatically.
    pub auto_pong: bool,
    /// Time allowed for the opening handshake (needs a timer).
    pub handshake_timeout: Duration,
    /// Time allowed for the peer's Close after ours (needs a timer).
    pub close_timeout: Duration,
    /// Keepalive: after this long without receiving anything, send a ping; `None` (the
    /// default) sends none. Pings go out, and every idle timeout is checked, while a receive
    /// ([`recv`](crate::WebSocket::recv), [`WsReceiver`](crate::WsReceiver)) is waiting: a
    /// connection that is read is kept alive.
    pub ping_interval: Option<Duration>,
    /// Keepalive: time allowed after our ping for the pong, or any other traffic, before the
    /// connection is failed with close code 1011 and [`Error::Timeout`](crate::Error::Timeout).
    /// Default 20 s; only used with `ping_interval`.
    pub ping_timeout: Duration,
    /// Read idle timeout: receiving nothing at all for this long fails the connection (close
    /// 1011, [`Error::Timeout`](crate::Error::Timeout)). `None` (the default): a connection may
    /// stay silent forever (use keepalive to detect dead peers instead).
    pub read_timeout: Option<Duration>,
    /// Send timeout: a send (or flush) whose stream accepts no byte for this long fails with
    /// [`Error::Timeout`](crate::Error::Timeout), so a peer that stopped reading cannot pin the
    /// sending task forever. The clock restarts whenever the stream takes bytes (a slow but
    /// moving peer is fine). After it fires a frame may be half written: close or drop the
    /// connection. `None` (the default) waits forever.
    pub send_timeout: Option<Duration>,
    /// The timer behind every timeout; without one, nothing times out.
    ///
    /// Default: with the `net` feature (on by default), [`SonicRtTimer`](crate::SonicRtTimer),
    /// sonic-rt's timer, so plain [`accept`](crate::accept) and [`client`](crate::client) are
    /// bounded by `handshake_timeout` and `close_timeout` when they run in a sonic-rt
    /// runtime. It cannot time out outside one: on another runtime, pass that runtime's sleep,
    /// e.g. `config.timer(Rc::new(|d| tokio::time::sleep(d)))`. Without `net`, `None`.
    pub timer: Option<Rc<dyn Timer>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            deflate: None,
            max_handshake_size: 16 << 10,
            write_buffer_size: 256 << 10,
            vectored_threshold: 16 << 10,
            auto_pong: true,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            ping_interval: None,
            ping_timeout: Duration::from_secs(20),
            read_timeout: None,
            send_timeout: None,
            timer: default_timer(),
        }
    }
}

#[cfg(feature = "net")]
fn default_timer() -> Option<Rc<dyn Timer>> {
    Some(Rc::new(crate::net::SonicRtTimer))
}

#[cfg(not(feature = "net"))]
fn default_timer() -> Option<Rc<dyn Timer>> {
    None
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("limits", &self.limits)
            .field("deflate", &self.deflate)
            .field("max_handshake_size", &self.max_handshake_size)
            .field("write_buffer_size", &self.write_buffer_size)
            .field("vectored_threshold", &self.vectored_threshold)
            .field("auto_pong", &self.auto_pong)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("timer", &self.timer.is_some())
            .finish()
    }
}

impl Config {
    /// Sets the timer used for handshake and close timeouts.
    pub fn timer(mut self, t: Rc<dyn Timer>) -> Self {
        self.timer = Some(t);
        self
    }

    /// Whether a timer is set.
    pub fn has_timer(&self) -> bool {
        self.timer.is_some()
    }

    /// Sends a keepalive ping after `interval` without traffic and fails the connection
    /// (close 1011, [`Error::Timeout`](crate::Error::Timeout)) when nothing answers within
    /// `timeout`.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = Some(interval);
        self.ping_timeout = timeout;
        self
    }

    /// Sets the read idle timeout (see the `read_timeout` field).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = Some(d);
        self
    }

    /// Sets the send timeout (see the `send_timeout` field).
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.send_timeout = Some(d);
        self
    }

    /// The configured timer's clock.
    pub(crate) fn now(&self) -> Option<Instant> {
        self.timer.as_ref().map(|t| t.now())
    }

    /// Enables permessage-deflate with these settings.
    pub fn deflate(mut self, d: DeflateConfig) -> Self {
        self.deflate = Some(d);
        self
    }

    /// A sleep future from the configured timer, if any.
    pub(crate) fn sleep(&self, d: Duration) -> Option<Pin<Box<dyn Future<Output = ()>>>> {
        self.timer.as_ref().map(|t| t.sleep(d))
    }
}
