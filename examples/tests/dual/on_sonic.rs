//! The sonic build of the dual programs: sonic-rt for the runtime, sonic-net for `rt::net`.
use sonic as rt;

mod sonic {
    pub use sonic_net as net;
    pub use sonic_rt::*;
}

#[path = "../../dual/chat.rs"]
pub mod chat;
#[path = "../../dual/client.rs"]
pub mod client;
#[path = "../../dual/echo.rs"]
pub mod echo;
#[path = "../../dual/shutdown.rs"]
pub mod shutdown;

#[path = "checks.rs"]
mod checks;

pub const NAME: &str = "sonic";

pub use sonic_rt::block_on;
