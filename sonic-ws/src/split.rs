//! Splitting a connection into a sender and a receiver for two tasks on one thread.
//!
//! Both halves hold an `Rc<RefCell<WebSocket<S>>>`. Single-threaded by design: the halves are
//! `!Send`, and no lock is needed because a `RefCell` borrow is only taken inside one poll and
//! dropped before it returns, so the other half can never find it borrowed. The receiver keeps
//! answering pings (its pongs and Close echo go through the shared output queue, never inside a
//! frame the sender is writing) and both halves' write wakers are kept (see `wake.rs`).

use crate::proto::close::CloseCode;
use crate::proto::frame::OpCode;
use crate::proto::message::{Message, MessageRef};
use crate::proto::write::Writer;
use crate::proto::Role;
use crate::stream::WebSocket;
use crate::Error;
use futures_io::{AsyncRead, AsyncWrite};
use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The sending half of a split [`WebSocket`].
#[derive(Debug)]
pub struct WsSender<S> {
    inner: Rc<RefCell<WebSocket<S>>>,
}

/// The receiving half of a split [`WebSocket`].
#[derive(Debug)]
pub struct WsReceiver<S> {
    inner: Rc<RefCell<WebSocket<S>>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Splits into a sender and a receiver usable from two tasks of the same thread.
    pub fn split(self) -> (WsSender<S>, WsReceiver<S>) {
        let inner = Rc::new(RefCell::new(self));
        (
            WsSender {
                inner: inner.clone(),
            },
            WsReceiver { inner },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsReceiver<S> {
    /// Receives the next message or control frame (see [`WebSocket::recv`]).
    ///
    /// # Errors
    /// As for [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Result<Message, Error> {
        self.recv_with(|m| m.to_owned()).await
    }

    /// Receives the next item and lets `f` look at it in place (zero-copy; the view cannot
    /// outlive the shared borrow, hence the closure).
    ///
    /// # Errors
    /// As for [`WebSocket::recv`].
    pub async fn recv_with<R>(&mut self, f: impl FnOnce(MessageRef<'_>) -> R) -> Result<R, Error> {
        let mut f = Some(f);
        poll_fn(|cx| {
            let mut ws = self.inner.borrow_mut();
            match ws.poll_recv_kind(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Ready(Ok(_)) => {
                    let view = ws.connection().view().ok_or(Error::Closed);
                    Poll::Ready(view.map(|v| (f.take().expect("polled after completion"))(v)))
                }
            }
        })
        .await
    }

    /// Whether both halves are from the same connection.
    pub fn is_pair_of(&self, other: &WsSender<S>) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for WsReceiver<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut ws = self.inner.borrow_mut();
        Pin::new(&mut *ws).poll_next(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsSender<S> {
    /// Sends a message (owned payloads are masked in place and written without a copy).
    ///
    /// # Errors
    /// As for [`WebSocket::send`].
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        match msg {
            Message::Text(s) => self.send_owned(OpCode::Text, s.into_bytes()).await,
            Message::Binary(b) => self.send_owned(OpCode::Binary, b).await,
            Message::Ping(p) => self.ping(&p).await,
            Message::Pong(p) => {
                self.inner.borrow_mut().conn_mut().send(OpCode::Pong, &p)?;
                self.flush().await
            }
            Message::Close(c) => {
                self.inner
                    .borrow_mut()
                    .conn_mut()
                    .close_with(c.as_ref().map(|c| (c.code, c.reason.as_str())))?;
                self.flush().await
            }
        }
    }

    /// Sends a text message from a borrowed string.
    ///
    /// # Errors
    /// As for [`WebSocket::send_text`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_borrowed(OpCode::Text, text.as_bytes()).await
    }

    /// Sends a binary message from a borrowed buffer.
    ///
    /// # Errors
    /// As for [`WebSocket::send_binary`].
    pub async fn send_binary(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_borrowed(OpCode::Binary, payload).await
    }

    async fn send_borrowed(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        let vectored = {
            let mut ws = self.inner.borrow_mut();
            let v = ws.is_vectored(payload.len()) && ws.connection().role() == Role::Server;
            if v {
                ws.conn_mut().begin_frame(opcode, payload.len())?;
            } else {
                ws.conn_mut().send(opcode, payload)?;
            }
            v
        };
        if vectored {
            self.write_payload(payload).await?;
        }
        self.flush().await
    }

    async fn send_owned(&mut self, opcode: OpCode, mut payload: Vec<u8>) -> Result<(), Error> {
        let vectored = {
            let mut ws = self.inner.borrow_mut();
            let v = ws.is_vectored(payload.len());
            if v {
                let h = ws.conn_mut().begin_frame(opcode, payload.len())?;
                Writer::mask_in_place(&h, &mut payload);
            } else {
                ws.conn_mut().send(opcode, &payload)?;
            }
            v
        };
        if vectored {
            self.write_payload(&payload).await?;
        }
        self.flush().await
    }

    async fn write_payload(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut pos = 0;
        poll_fn(|cx| {
            self.inner
                .borrow_mut()
                .poll_payload_timed(cx, payload, &mut pos)
        })
        .await?;
        self.inner.borrow_mut().conn_mut().end_frame();
        Ok(())
    }

    /// Sends a ping.
    ///
    /// # Errors
    /// As for [`WebSocket::ping`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.inner
            .borrow_mut()
            .conn_mut()
            .send(OpCode::Ping, payload)?;
        self.flush().await
    }

    /// Flushes queued frames.
    ///
    /// # Errors
    /// [`Error::Io`] on a stream error.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.inner.borrow_mut().poll_flush_timed(cx)).await
    }

    /// Sends Close and flushes; the receiver then sees the peer's Close (or an error).
    ///
    /// # Errors
    /// As for [`WebSocket::close`], without the wait.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.inner.borrow_mut().conn_mut().close(code, reason)?;
        self.flush().await
    }
}
