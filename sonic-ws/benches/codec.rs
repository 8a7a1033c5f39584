//! Raw codec throughput: unmasking, masked copy, and frame decode + unmask + UTF-8 through the
//! receive path. `cargo bench -p sonic-ws --bench codec` (plain timing loop, no harness).
//!
//! The decode rows are also run through tungstenite's reader (`WebSocket::from_raw_socket` as
//! a server over an in-memory stream, `read()` per message) on the same client frames: both
//! copy the wire bytes into their read buffer (the stand-in for `read(2)`), parse, unmask, and
//! hand out each message (sonic a borrowed view, tungstenite an owned `Bytes`).

use sonic_ws::proto::conn::Connection;
use sonic_ws::proto::frame::OpCode;
use sonic_ws::proto::mask::{apply_mask, mask_copy};
use sonic_ws::{Limits, Role};
use std::hint::black_box;
use std::time::Instant;

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e9
}

fn bench_mask(len: usize) {
    let mut buf = vec![0x5Au8; len];
    let iters = (1usize << 31) / len.max(64);
    let t = Instant::now();
    for i in 0..iters {
        apply_mask(black_box(&mut buf), [1, 2, 3, 4], i & 3);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "unmask in place  {len:>8} B: {:>7.2} GB/s",
        gbps(len * iters, s)
    );
    let src = vec![0x33u8; len];
    let t = Instant::now();
    for _ in 0..iters {
        mask_copy(black_box(&mut buf), black_box(&src), [1, 2, 3, 4], 0);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "mask+copy        {len:>8} B: {:>7.2} GB/s",
        gbps(len * iters, s)
    );
}

fn bench_decode(len: usize, text: bool) {
    // A client's masked frames, decoded by a server connection.
    let mut client = Connection::new(Role::Client, Limits::default(), None);
    let payload = vec![b'a'; len];
    let batch = (4 << 20) / (len + 14).max(1) + 1;
    let op = if text { OpCode::Text } else { OpCode::Binary };
    for _ in 0..batch {
        client.send(op, &payload).unwrap();
    }
    let wire = client.output().to_vec();
    let rounds = ((1usize << 30) / wire.len()).max(1);
    let mut server = Connection::new(Role::Server, Limits::default(), None);
    let t = Instant::now();
    let mut msgs = 0usize;
    for _ in 0..rounds {
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let dst = server.read_buf();
            let n = dst.len().min(rest.len());
            dst[..n].copy_from_slice(&rest[..n]);
            server.commit(n);
            rest = &rest[n..];
            while let Some(_k) = server.advance().unwrap() {
                black_box(server.view());
                msgs += 1;
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "decode+unmask{} {len:>8} B: {:>7.2} GB/s {:>8.2} M msg/s  reader memory {} B",
        if text { "+utf8" } else { "     " },
        gbps(wire.len() * rounds, s),
        msgs as f64 / s / 1e6,
        server.reader().memory()
    );
}

/// The wire bytes, served to tungstenite's reader in `read` calls of at most `chunk` bytes
/// (sonic's reader gets them in pieces as large as the space it offers).
struct Wire<'a> {
    data: &'a [u8],
    pos: usize,
}

impl std::io::Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.data.len() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl std::io::Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bench_decode_tungstenite(len: usize, text: bool) {
    use tungstenite::protocol::{Role as TRole, WebSocket};
    use tungstenite::Message as TMessage;
    let mut client = Connection::new(Role::Client, Limits::default(), None);
    let payload = vec![b'a'; len];
    let batch = (4 << 20) / (len + 14).max(1) + 1;
    let op = if text { OpCode::Text } else { OpCode::Binary };
    for _ in 0..batch {
        client.send(op, &payload).unwrap();
    }
    let wire = client.output().to_vec();
    let rounds = ((1usize << 30) / wire.len()).max(1);
    let mut ws = WebSocket::from_raw_socket(
        Wire {
            data: &wire,
            pos: 0,
        },
        TRole::Server,
        None,
    );
    let t = Instant::now();
    let mut msgs = 0usize;
    for _ in 0..rounds {
        ws.get_mut().pos = 0;
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Binary(_) | TMessage::Text(_))) => {
                    black_box(&m);
                    msgs += 1;
                }
                Ok(m) => panic!("unexpected {m:?}"),
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break
                }
                Err(e) => panic!("tungstenite: {e}"),
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    assert_eq!(msgs, batch * rounds);
    println!(
        "  tungstenite{} {len:>8} B: {:>7.2} GB/s {:>8.2} M msg/s",
        if text { "+utf8" } else { "     " },
        gbps(wire.len() * rounds, s),
        msgs as f64 / s / 1e6
    );
}

fn main() {
    for len in [64, 1024, 16 << 10, 64 << 10, 1 << 20] {
        bench_mask(len);
    }
    for len in [64, 1024, 64 << 10] {
        bench_decode(len, false);
        bench_decode_tungstenite(len, false);
        bench_decode(len, true);
        bench_decode_tungstenite(len, true);
    }
}
