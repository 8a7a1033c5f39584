//! Codec layer: length-prefixed frames through FramedRead / FramedWrite over every buffer,
//! random read sizes, oversized and truncated frames, frames that cannot fit.

mod common;

use std::io;

use common::{pattern, ChunkedReader, SlowWriter};
use futures::executor::block_on;
use proptest::prelude::*;
use sonic_buf::codec::{
    decode_next, encode_into, Decoder, Encoder, FrameError, FramedRead, FramedWrite, LengthPrefixed,
};
use sonic_buf::{BipBuffer, ByteBuffer, Fifo};

fn encode_all(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut codec = LengthPrefixed::new(1 << 20);
    let mut wire = ByteBuffer::new();
    for m in messages {
        assert!(encode_into(&mut codec, &m[..], &mut wire).unwrap());
    }
    wire.data().to_vec()
}

fn messages(sizes: &[usize]) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, n)| pattern(*n, i as u32))
        .collect()
}

fn frame_error(err: &io::Error) -> &FrameError {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<FrameError>())
        .expect("a FrameError")
}

/// Decodes `wire` through `buf` with reads of the given sizes; returns the messages.
fn read_all<B: Fifo>(
    wire: Vec<u8>,
    chunks: Vec<usize>,
    buf: B,
    max: usize,
) -> io::Result<Vec<Vec<u8>>> {
    let mut reader = ChunkedReader::new(wire, chunks);
    reader.pending_every = 11;
    let mut frames = FramedRead::new(reader, LengthPrefixed::new(max), buf).with_read_size(5000);
    block_on(async {
        let mut out = Vec::new();
        while let Some(msg) = frames.next().await? {
            out.push(msg.to_vec());
        }
        Ok(out)
    })
}

#[test]
fn round_trip_through_byte_buffer() {
    let msgs = messages(&[0, 1, 2, 3, 4, 5, 255, 256, 4096, 70_000, 13]);
    let got = read_all(
        encode_all(&msgs),
        vec![1, 2, 3, 1000, 7],
        ByteBuffer::new(),
        1 << 20,
    )
    .unwrap();
    assert_eq!(got, msgs);
}

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
#[test]
#[cfg_attr(miri, ignore)]
fn round_trip_through_mirrored_buffer() {
    let msgs = messages(&[0, 1, 100, 4096, 8000, 3, 12_000, 5]);
    let ring = sonic_buf::MirroredBuffer::new(16 * 1024).unwrap();
    let got = read_all(encode_all(&msgs), vec![1, 4095, 333, 8191], ring, 1 << 20).unwrap();
    assert_eq!(got, msgs);
}

#[test]
fn oversized_frame_is_rejected_from_its_header() {
    let wire = encode_all(&messages(&[10, 100, 10]));
    let err = read_all(wire, vec![4], ByteBuffer::new(), 50).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        frame_error(&err),
        &FrameError::TooLarge {
            len: 100,
            max: 50,
            encoding: false
        }
    );
}

#[test]
fn truncated_frame_is_unexpected_eof() {
    let mut wire = encode_all(&messages(&[10, 20]));
    wire.truncate(wire.len() - 5);
    let err = read_all(wire, vec![3], ByteBuffer::new(), 1000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(frame_error(&err), &FrameError::Truncated { buffered: 19 });
    // A half header counts as truncated too.
    let err = read_all(vec![0, 0], vec![1], ByteBuffer::new(), 1000).unwrap_err();
    assert_eq!(frame_error(&err), &FrameError::Truncated { buffered: 2 });
}

#[test]
fn frame_larger_than_fixed_buffer_is_buffer_full() {
    let wire = encode_all(&messages(&[100]));
    let err = read_all(wire, vec![7], BipBuffer::new(64), 1000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        frame_error(&err),
        &FrameError::BufferFull {
            buffered: 64,
            capacity: 64
        }
    );
}

#[test]
fn empty_stream_ends_cleanly() {
    assert!(read_all(Vec::new(), vec![1], ByteBuffer::new(), 10)
        .unwrap()
        .is_empty());
}

#[test]
fn framed_write_round_trip_with_partial_writes() {
    let msgs = messages(&[0, 5, 300, 1000, 2, 4000]);
    let writer = SlowWriter {
        max_write: 97,
        pending_every: 3,
        ..SlowWriter::default()
    };
    // A small fixed buffer forces writes while feeding.
    let mut out = FramedWrite::new(writer, LengthPrefixed::new(1 << 16), BipBuffer::new(4100));
    block_on(async {
        for m in &msgs {
            out.feed(&m[..]).await.unwrap();
        }
        out.flush().await.unwrap();
        out.close().await.unwrap();
    });
    let (writer, _, buf) = out.into_parts();
    assert!(buf.is_empty());
    assert!(writer.closed && writer.flushed >= 1);
    assert_eq!(writer.out, encode_all(&msgs));
}

#[test]
fn framed_write_rejects_oversized_and_unfittable_items() {
    let mut out = FramedWrite::new(
        SlowWriter::default(),
        LengthPrefixed::new(10),
        BipBuffer::new(8),
    );
    block_on(async {
        let err = out.send(&[0u8; 11][..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(matches!(
            frame_error(&err),
            FrameError::TooLarge {
                len: 11,
                max: 10,
                encoding: true
            }
        ));
        // 4 + 5 bytes cannot fit an 8-byte buffer even when empty.
        let err = out.send(&[0u8; 5][..]).await.unwrap_err();
        assert!(matches!(frame_error(&err), FrameError::BufferFull { .. }));
        out.send(&b"four"[..]).await.unwrap();
    });
    assert_eq!(out.get_ref().out, b"\0\0\0\x04four");
}

#[test]
fn encoder_refuses_short_destination() {
    let mut codec = LengthPrefixed::new(100);
    let mut dst = [0u8; 6];
    let err = codec.encode(&b"abc"[..], &mut dst).unwrap_err();
    assert_eq!(
        frame_error(&err),
        &FrameError::ShortDestination { need: 7, got: 6 }
    );
    assert_eq!(
        LengthPrefixed::new(usize::MAX).max_payload(),
        u32::MAX as usize
    );
}

#[test]
fn decode_rejects_a_bad_frame_slice() {
    let mut codec = LengthPrefixed::new(100);
    assert!(codec.decode(b"\0\0").is_err());
    assert!(codec.decode(b"\0\0\0\x05abc").is_err());
    assert_eq!(
        codec.decode(b"\0\0\0\x01a\0").unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
}

/// A decoder that breaks the `frame_len` contract.
struct Liar(usize);

impl Decoder for Liar {
    type Item<'a> = &'a [u8];
    type Error = io::Error;
    fn frame_len(&mut self, src: &[u8]) -> io::Result<Option<usize>> {
        Ok((!src.is_empty()).then_some(self.0))
    }
    fn decode<'a>(&mut self, frame: &'a [u8]) -> io::Result<&'a [u8]> {
        Ok(frame)
    }
}

#[test]
fn decoder_contract_violations_are_errors() {
    for lie in [0, 1000] {
        let err = decode_next(&mut Liar(lie), b"abc").unwrap_err();
        assert!(
            matches!(frame_error(&err), FrameError::BadLength { .. }),
            "{lie}"
        );
        let mut frames = FramedRead::new(&b"abc"[..], Liar(lie), ByteBuffer::new());
        let err = block_on(frames.next()).unwrap_err();
        assert!(matches!(frame_error(&err), FrameError::BadLength { .. }));
    }
}

/// A decoder with borrowed, structured items: `key=value` lines.
struct KeyValue;

impl Decoder for KeyValue {
    type Item<'a> = (&'a [u8], &'a [u8]);
    type Error = io::Error;
    fn frame_len(&mut self, src: &[u8]) -> io::Result<Option<usize>> {
        Ok(src.iter().position(|b| *b == b'\n').map(|i| i + 1))
    }
    fn decode<'a>(&mut self, frame: &'a [u8]) -> io::Result<Self::Item<'a>> {
        let line = &frame[..frame.len() - 1];
        let eq = line
            .iter()
            .position(|b| *b == b'=')
            .ok_or(io::ErrorKind::InvalidData)?;
        Ok((&line[..eq], &line[eq + 1..]))
    }
}

#[test]
fn custom_decoder_borrows_from_the_window() {
    let reader = ChunkedReader::new(b"a=1\nbb=22\nccc=333\n".to_vec(), vec![2, 5]);
    let mut frames = FramedRead::new(reader, KeyValue, ByteBuffer::new());
    block_on(async {
        let mut seen = Vec::new();
        while let Some((k, v)) = frames.next().await.unwrap() {
            seen.push((k.to_vec(), v.to_vec()));
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (b"ccc".to_vec(), b"333".to_vec()));
    });
    let (_, _, buf) = frames.into_parts();
    assert!(buf.is_empty());
}

/// The property tests' configuration: `PROPTEST_CASES` cases where it is set, else 64 (2 under
/// Miri, where one case takes half a minute; the native run covers the breadth).
fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES (and proptest's other variables).
    let from_env = std::env::var_os("PROPTEST_CASES").is_some();
    ProptestConfig {
        cases: if from_env {
            ProptestConfig::default().cases
        } else if cfg!(miri) {
            2
        } else {
            64
        },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Not a test of its own: prints the property tests' case count for `proptest_cases_env_is_honoured`,
/// which runs it in a child process with a chosen environment.
#[test]
#[ignore = "run by proptest_cases_env_is_honoured in a child process"]
fn print_proptest_cases() {
    println!("proptest cases = {}", config().cases);
}

/// `PROPTEST_CASES` sets how many cases the codec properties run (CI's valgrind and Miri steps
/// lower it, a soak run raises it); without it they run 64.
#[test]
#[cfg_attr(miri, ignore)] // Miri cannot spawn processes
fn proptest_cases_env_is_honoured() {
    let cases_with = |env: Option<&str>| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "print_proptest_cases",
            "--exact",
            "--ignored",
            "--nocapture",
        ]);
        cmd.env_remove("PROPTEST_CASES");
        if let Some(v) = env {
            cmd.env("PROPTEST_CASES", v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("proptest cases = "))
            .unwrap_or_else(|| panic!("no case count in {stdout:?}"));
        line.trim().parse::<u32>().unwrap()
    };
    assert_eq!(cases_with(None), 64);
    assert_eq!(cases_with(Some("3")), 3);
    assert_eq!(cases_with(Some("1000")), 1000);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn byte_buffer_frames_survive_any_read_sizes(
        sizes in proptest::collection::vec(0usize..3000, 0..40),
        chunks in proptest::collection::vec(1usize..5000, 1..8),
    ) {
        let msgs = messages(&sizes);
        let got = read_all(encode_all(&msgs), chunks, ByteBuffer::with_capacity(16), 1 << 20).unwrap();
        prop_assert_eq!(got, msgs);
    }

    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    #[test]
    #[cfg_attr(miri, ignore)]
    fn mirrored_frames_survive_any_read_sizes(
        sizes in proptest::collection::vec(0usize..3000, 0..40),
        chunks in proptest::collection::vec(1usize..5000, 1..8),
    ) {
        let msgs = messages(&sizes);
        let ring = sonic_buf::MirroredBuffer::new(4096).unwrap();
        let got = read_all(encode_all(&msgs), chunks, ring, 1 << 20).unwrap();
        prop_assert_eq!(got, msgs);
    }
}
