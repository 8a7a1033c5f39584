//! WebSocket (RFC 6455) client and server for sonic (work in progress).
