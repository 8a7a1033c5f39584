//! Messages: a borrowed view into the receive buffers and an owned form.

use super::close::{CloseCode, CloseFrame};

/// A borrowed view of a received message or control frame (zero-copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// A text message (validated UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping (already answered when auto-pong is on).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame: code and reason, `None` when it had no payload.
    Close(Option<(CloseCode, &'a str)>),
}

impl MessageRef<'_> {
    /// Copies into an owned [`Message`].
    pub fn to_owned(&self) -> Message {
        match *self {
            MessageRef::Text(s) => Message::Text(s.to_owned()),
            MessageRef::Binary(b) => Message::Binary(b.to_vec()),
            MessageRef::Ping(b) => Message::Ping(b.to_vec()),
            MessageRef::Pong(b) => Message::Pong(b.to_vec()),
            MessageRef::Close(c) => Message::Close(c.map(|(code, reason)| CloseFrame {
                code,
                reason: reason.to_owned(),
            })),
        }
    }

    /// The payload bytes (for a close frame: the reason).
    pub fn as_bytes(&self) -> &[u8] {
        match *self {
            MessageRef::Text(s) => s.as_bytes(),
            MessageRef::Binary(b) | MessageRef::Ping(b) | MessageRef::Pong(b) => b,
            MessageRef::Close(c) => c.map_or(&[][..], |(_, r)| r.as_bytes()),
        }
    }
}

/// An owned message or control frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (at most 125 bytes).
    Ping(Vec<u8>),
    /// A pong (at most 125 bytes).
    Pong(Vec<u8>),
    /// A close frame with optional code and reason.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<String>) -> Self {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Vec<u8>>) -> Self {
        Message::Binary(b.into())
    }

    /// True for text and binary messages.
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// Borrows as a [`MessageRef`].
    pub fn as_ref(&self) -> MessageRef<'_> {
        match self {
            Message::Text(s) => MessageRef::Text(s),
            Message::Binary(b) => MessageRef::Binary(b),
            Message::Ping(b) => MessageRef::Ping(b),
            Message::Pong(b) => MessageRef::Pong(b),
            Message::Close(c) => MessageRef::Close(c.as_ref().map(|c| (c.code, c.reason.as_str()))),
        }
    }

    /// The close code, if this is a close frame with one.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Message::Close(Some(c)) => Some(c.code),
            _ => None,
        }
    }
}
