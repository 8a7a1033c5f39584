//! buf_decode: a stream of length-prefixed messages (4-byte big-endian length + payload) arrives
//! in random-sized reads and is decoded in place, side by side through `sonic_buf::MirroredBuffer`,
//! `sonic_buf::ByteBuffer` and `bytes::BytesMut`.
//!
//! Each round asks for up to 64 KiB (one socket read's worth); the source hands over a random
//! 1..=64 KiB, copied once into the buffer (the stand-in for the kernel's copy in `read(2)`). The
//! reader then parses every whole message from the readable window (zero-copy: payloads are
//! borrowed and their sequence numbers checked) and consumes them; the partial message stays.
//! What differs between the buffers is only how they make room for the next read:
//!
//! * MirroredBuffer: never moves data (the ring is mapped twice);
//! * ByteBuffer: moves the partial message to the front when the room there is at least as large,
//!   else grows (counted by `bytes_moved`);
//! * BytesMut: `reserve` reclaims the front the same way or reallocates (counted by watching the
//!   data pointer move).
//!
//! All three start with the same capacity; the run is repeated for two capacities. Times are the
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so time spent preempted on a shared machine is
//! not counted; each figure is the median of the repetitions. Output: bytes/s,
//! messages/s, bytes moved per message, and ratios. Run:
//! `CARGO_TARGET_DIR=/work/target-buf cargo bench -p sonic-benches --bench buf_decode`
//! (`-- --quick` for a short smoke run).

use std::hint::black_box;
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use sonic_buf::codec::{decode_next, LengthPrefixed};
use sonic_buf::io::poll_fill;
use sonic_buf::{ByteBuffer, Fifo, MirroredBuffer};

const READ_MAX: usize = 64 * 1024;
const STREAM_BYTES: usize = 2 << 20;
const MESSAGE_SIZES: [usize; 3] = [256, 4096, 64 * 1024];
const CAPACITIES: [usize; 2] = [128 * 1024, 1024 * 1024];

/// CPU time of this thread: unlike wall time it does not count the time the thread spends
/// preempted, which matters on a shared 2-core machine.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// xorshift64*: deterministic, good enough for read sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The sending side: a pre-encoded stream of whole frames handed out in random-sized pieces, and
/// wrapped around at the end (so framing and sequence numbers continue).
///
/// The stream is stored `SHIFTS` times at different offsets from a 64-byte boundary and each read
/// copies from the next copy in turn. Copy speed on this CPU depends strongly on how source and
/// destination are aligned relative to each other; a socket read's source (the packet data) has
/// no fixed alignment either, and without this a buffer could lock into a lucky or unlucky
/// alignment for a whole run.
struct Source {
    copies: Vec<u8>,
    stream_len: usize,
    frames_per_pass: u64,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

const SHIFTS: usize = 8;
const SHIFT_STEP: usize = 8;

impl Source {
    fn new(payload: usize, seed: u64) -> Self {
        let frame = 4 + payload;
        let frames = (STREAM_BYTES / frame).max(16);
        let mut stream = Vec::with_capacity(frames * frame);
        for seq in 0..frames as u64 {
            stream.extend_from_slice(&(payload as u32).to_be_bytes());
            let start = stream.len();
            stream.resize(start + payload, (seq % 251) as u8);
            stream[start..start + 8].copy_from_slice(&seq.to_le_bytes());
        }
        // Copy k starts at offset k * stride + k * SHIFT_STEP, with stride a multiple of 64.
        let stride = (stream.len() + SHIFTS * SHIFT_STEP).next_multiple_of(64);
        let mut copies = vec![0u8; stride * SHIFTS + 64];
        let base = copies.as_ptr().align_offset(64);
        for k in 0..SHIFTS {
            let at = base + k * stride + k * SHIFT_STEP;
            copies[at..at + stream.len()].copy_from_slice(&stream);
        }
        let mut rng = Rng(seed);
        let sizes = (0..8192)
            .map(|_| 1 + (rng.next() % READ_MAX as u64) as usize)
            .collect();
        Self {
            copies,
            stream_len: stream.len(),
            frames_per_pass: frames as u64,
            pos: 0,
            sizes,
            turn: 0,
        }
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.turn = 0;
    }

    /// The next arrival, at most `max` bytes.
    fn next_chunk(&mut self, max: usize) -> &[u8] {
        let want = self.sizes[self.turn % self.sizes.len()];
        let k = self.turn % SHIFTS;
        self.turn += 1;
        let n = want.min(max).min(self.stream_len - self.pos);
        let stride = (self.stream_len + SHIFTS * SHIFT_STEP).next_multiple_of(64);
        let at = self.copies.as_ptr().align_offset(64) + k * stride + k * SHIFT_STEP + self.pos;
        self.pos += n;
        if self.pos == self.stream_len {
            self.pos = 0;
        }
        &self.copies[at..at + n]
    }

    /// "read(2)": copies the next arrival into `dst`.
    fn read(&mut self, dst: &mut [u8]) -> usize {
        let chunk = self.next_chunk(dst.len());
        dst[..chunk.len()].copy_from_slice(chunk);
        chunk.len()
    }
}

#[derive(Default, Clone, Copy)]
struct Run {
    elapsed: Duration,
    bytes: u64,
    messages: u64,
    moved: u64,
    capacity: usize,
}

/// Decodes every whole frame in `data`; returns bytes used and checks sequence numbers.
fn parse(
    codec: &mut LengthPrefixed,
    data: &[u8],
    payload: usize,
    next_seq: &mut u64,
    frames: u64,
) -> (usize, u64) {
    let mut off = 0;
    let mut n = 0;
    while let Some((msg, len)) = decode_next(codec, &data[off..]).expect("valid stream") {
        assert_eq!(msg.len(), payload);
        let seq = u64::from_le_bytes(msg[..8].try_into().unwrap());
        assert_eq!(seq, *next_seq, "message lost or corrupted");
        *next_seq = (*next_seq + 1) % frames;
        black_box(msg[msg.len() - 1]);
        off += len;
        n += 1;
    }
    (off, n)
}

fn run_fifo<B: Fifo>(
    buf: &mut B,
    src: &mut Source,
    payload: usize,
    target: u64,
    moved: impl Fn(&B) -> u64,
) -> Run {
    let mut codec = LengthPrefixed::new(1 << 20);
    let mut next_seq = 0;
    let (mut bytes, mut messages) = (0u64, 0u64);
    let moved_before = moved(buf);
    let start = cpu_now();
    while bytes < target {
        let got = poll_fill(buf, READ_MAX, |space| Poll::Ready(Ok(src.read(space))));
        assert!(
            matches!(got, Poll::Ready(Ok(n)) if n > 0),
            "buffer too small"
        );
        let (used, n) = parse(
            &mut codec,
            buf.data(),
            payload,
            &mut next_seq,
            src.frames_per_pass,
        );
        buf.consume(used);
        bytes += used as u64;
        messages += n;
    }
    Run {
        elapsed: cpu_now() - start,
        bytes,
        messages,
        moved: moved(buf) - moved_before,
        capacity: buf.capacity(),
    }
}

fn run_bytes_mut(buf: &mut BytesMut, src: &mut Source, payload: usize, target: u64) -> Run {
    let mut codec = LengthPrefixed::new(1 << 20);
    let mut next_seq = 0;
    let (mut bytes, mut messages, mut moved) = (0u64, 0u64, 0u64);
    let start = cpu_now();
    while bytes < target {
        let before = buf.as_ptr();
        buf.reserve(READ_MAX);
        if buf.as_ptr() != before {
            // `reserve` moved the live bytes: to the front of the allocation or to a new one.
            moved += buf.len() as u64;
        }
        let chunk = src.next_chunk(READ_MAX);
        buf.extend_from_slice(chunk); // the one copy in, as `read(2)` into spare capacity
        let (used, n) = parse(
            &mut codec,
            &buf[..],
            payload,
            &mut next_seq,
            src.frames_per_pass,
        );
        buf.advance(used);
        bytes += used as u64;
        messages += n;
    }
    Run {
        elapsed: cpu_now() - start,
        bytes,
        messages,
        moved,
        capacity: buf.capacity(),
    }
}

fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| {
        let ra = a.bytes as f64 / a.elapsed.as_secs_f64();
        let rb = b.bytes as f64 / b.elapsed.as_secs_f64();
        ra.total_cmp(&rb)
    });
    runs[runs.len() / 2]
}

fn gbps(r: &Run) -> f64 {
    r.bytes as f64 / r.elapsed.as_secs_f64() / 1e9
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only = std::env::var("BUF_DECODE_ONLY").unwrap_or_default();
    let (target, reps) = if quick {
        (32u64 << 20, 3)
    } else {
        (512u64 << 20, 7)
    };
    println!("buf_decode: length-prefixed messages, random reads of 1..={} KiB, {} MiB decoded per run, median of {reps}", READ_MAX / 1024, target >> 20);
    println!("moved/msg = bytes moved inside the buffer per message (compaction + growth); the read copy itself (= message size) is the same for all three");
    for cap in CAPACITIES {
        println!();
        println!("initial capacity {} KiB", cap / 1024);
        println!(
            "{:>8} {:<15} {:>9} {:>12} {:>10} {:>10} {:>11}",
            "message", "buffer", "GB/s", "msgs/s", "moved/msg", "final cap", "mirror/this"
        );
        for payload in MESSAGE_SIZES {
            let mut src = Source::new(payload, 0x9E37_79B9_7F4A_7C15 ^ payload as u64);
            let mut results: [Vec<Run>; 3] = Default::default();
            // Warm-up, then interleaved repetitions so drift hits all three alike.
            for rep in 0..=reps {
                let mut mirrored = MirroredBuffer::builder()
                    .prefault(true)
                    .build(cap)
                    .expect("mmap");
                let mut byte = ByteBuffer::with_capacity(cap);
                let mut bytes_mut = BytesMut::with_capacity(cap);
                let mut m = Run::default();
                let mut b = Run::default();
                let mut x = Run::default();
                src.reset();
                if only.is_empty() || only == "mirrored" {
                    m = run_fifo(&mut mirrored, &mut src, payload, target, |_| 0);
                }
                src.reset();
                if only.is_empty() || only == "byte" {
                    b = run_fifo(&mut byte, &mut src, payload, target, |b| b.bytes_moved());
                }
                src.reset();
                if only.is_empty() || only == "bytesmut" {
                    x = run_bytes_mut(&mut bytes_mut, &mut src, payload, target);
                }
                if rep > 0 {
                    results[0].push(m);
                    results[1].push(b);
                    results[2].push(x);
                }
            }
            let [m, b, x] = results.map(median);
            for (name, r) in [("MirroredBuffer", &m), ("ByteBuffer", &b), ("BytesMut", &x)] {
                println!(
                    "{:>8} {:<15} {:>9.2} {:>12.0} {:>10.0} {:>9}K {:>10.2}x",
                    payload,
                    name,
                    gbps(r),
                    r.messages as f64 / r.elapsed.as_secs_f64(),
                    r.moved as f64 / r.messages as f64,
                    r.capacity / 1024,
                    gbps(&m) / gbps(r),
                );
            }
            if payload == 64 * 1024 {
                println!(
                    "{:>8} target: MirroredBuffer/ByteBuffer {:.2}x (goal >= 2x: {}), MirroredBuffer bytes moved: {}",
                    "",
                    gbps(&m) / gbps(&b),
                    if gbps(&m) >= 2.0 * gbps(&b) { "met" } else { "NOT met" },
                    m.moved
                );
            }
        }
    }
}
