//! The tokio build of the dual programs (tokio's current-thread runtime).
use tokio as rt;

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

pub const NAME: &str = "tokio";

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}
