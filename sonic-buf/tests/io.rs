//! Reading from AsyncRead straight into claimed space and writing the readable window out.

mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{pattern, ChunkedReader, FailingReader, SlowWriter};
use futures::executor::block_on;
use futures::task::noop_waker;
use sonic_buf::io::{
    poll_fill, read_from_std, read_into, write_all_from, write_from, write_to_std,
};
use sonic_buf::{BipBuffer, ByteBuffer, Fifo};

/// Copies a stream through `buf` with random-sized reads and partial writes; checks the bytes.
fn pipe_through<B: Fifo>(mut buf: B) {
    let data = pattern(100_000, 7);
    let mut reader = ChunkedReader::new(data.clone(), vec![1, 700, 3000, 64, 9999]);
    reader.pending_every = 5;
    let mut writer = SlowWriter {
        max_write: 1234,
        pending_every: 7,
        ..SlowWriter::default()
    };
    block_on(async {
        loop {
            let n = read_into(&mut reader, &mut buf, 4096).await.unwrap();
            if n == 0 {
                break;
            }
            if buf.free() < 4096 || n % 2 == 0 {
                write_from(&mut writer, &mut buf).await.unwrap();
            }
        }
        write_all_from(&mut writer, &mut buf).await.unwrap();
    });
    assert!(buf.is_empty());
    assert_eq!(writer.out, data);
}

#[test]
fn pipe_through_byte_buffer() {
    pipe_through(ByteBuffer::new());
}

#[test]
fn pipe_through_bip_buffer() {
    pipe_through(BipBuffer::new(10_000));
}

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
#[test]
#[cfg_attr(miri, ignore)]
fn pipe_through_mirrored_buffer() {
    pipe_through(sonic_buf::MirroredBuffer::new(8192).unwrap());
}

#[test]
fn lying_reader_and_writer_are_clamped() {
    let mut buf = ByteBuffer::new();
    let mut reader = ChunkedReader::new(b"abc".to_vec(), vec![100]);
    reader.overreport = 1000;
    let n = block_on(read_into(&mut reader, &mut buf, 8)).unwrap();
    assert_eq!(n, 8, "clamped to the claim, never more");
    assert_eq!(buf.len(), 8);
    assert_eq!(&buf.data()[..3], b"abc");

    let mut writer = SlowWriter {
        overreport: 50,
        ..SlowWriter::default()
    };
    let n = block_on(write_from(&mut writer, &mut buf)).unwrap();
    assert_eq!(n, 8, "clamped to the window");
    assert!(buf.is_empty());
}

#[test]
fn pending_and_errors_commit_nothing() {
    let mut buf = ByteBuffer::new();
    buf.push(b"kept");
    let got = poll_fill(&mut buf, 10, |space| {
        space.fill(b'!');
        Poll::Pending
    });
    assert!(got.is_pending());
    let got = poll_fill(&mut buf, 10, |space| {
        space.fill(b'!');
        Poll::Ready(Err(io::ErrorKind::WouldBlock.into()))
    });
    assert!(matches!(got, Poll::Ready(Err(_))));
    let err = block_on(read_into(&mut FailingReader, &mut buf, 10)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(buf.data(), b"kept");
}

#[test]
fn full_buffer_is_an_error_not_eof() {
    let mut bip = BipBuffer::new(4);
    bip.push(b"full");
    let mut reader = ChunkedReader::new(b"more".to_vec(), vec![4]);
    let err = block_on(read_into(&mut reader, &mut bip, 10)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
    assert_eq!(reader.pos, 0, "the reader was not called");
    // max == 0 reads nothing.
    assert_eq!(block_on(read_into(&mut reader, &mut bip, 0)).unwrap(), 0);
}

#[test]
fn writer_accepting_nothing_is_write_zero() {
    let mut buf = ByteBuffer::new();
    buf.push(b"stuck");
    let mut writer = SlowWriter {
        accept_nothing: true,
        ..SlowWriter::default()
    };
    let err = block_on(write_all_from(&mut writer, &mut buf)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    assert_eq!(buf.data(), b"stuck");
    // Nothing readable: the writer is not called.
    let mut empty = ByteBuffer::new();
    assert_eq!(block_on(write_from(&mut writer, &mut empty)).unwrap(), 0);
}

#[test]
fn poll_functions_work_without_an_executor() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut reader: &[u8] = b"direct";
    let mut buf = BipBuffer::new(16);
    let got = sonic_buf::io::poll_read_into(Pin::new(&mut reader), &mut cx, &mut buf, 16);
    assert!(matches!(got, Poll::Ready(Ok(6))));
    let mut out = Vec::new();
    let got = sonic_buf::io::poll_write_from(
        Pin::new(&mut futures::io::Cursor::new(&mut out)),
        &mut cx,
        &mut buf,
    );
    assert!(matches!(got, Poll::Ready(Ok(6))));
    assert_eq!(out, b"direct");
}

#[test]
fn std_io_helpers() {
    let mut buf = ByteBuffer::new();
    let mut src: &[u8] = b"std bytes";
    assert_eq!(read_from_std(&mut src, &mut buf, 4).unwrap(), 4);
    assert_eq!(read_from_std(&mut src, &mut buf, 100).unwrap(), 5);
    assert_eq!(read_from_std(&mut src, &mut buf, 100).unwrap(), 0);
    let mut out = Vec::new();
    assert_eq!(write_to_std(&mut out, &mut buf).unwrap(), 9);
    assert_eq!(out, b"std bytes");
}
