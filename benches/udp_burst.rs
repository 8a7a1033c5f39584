//! udp_burst: draining a burst of queued datagrams, one syscall per datagram against one
//! `recvmmsg` per burst, side by side in one run: sonic's `multicast::Peer::recv_msg` (×N) and
//! `recv_batch`, sonic's and tokio's `UdpSocket::recv_from` (×N; tokio has no batch receive), and
//! the raw floor of each (`recvmsg` ×N, one `recvmmsg`, `recvfrom` ×N).
//!
//! `cargo bench -p sonic-benches --bench udp_burst` (options after `--`: `--bursts N`,
//! `--runs N`, `--size B`).
//!
//! A blocking std socket sends a burst of 32 datagrams (64 B by default) to the receiver on
//! loopback; the receiver then drains all 32 and only the drain is timed. Every mode gets the
//! same bursts on its own socket, interleaved run by run; the figure is ns per datagram, median
//! of the runs. One thread: a parked runtime never sleeps here (the datagrams are queued before
//! each drain starts).

use sonic_net::multicast::{Peer, RecvMeta, MAX_BATCH};
use std::hint::black_box;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const BURST: usize = MAX_BATCH;

#[derive(Clone, Copy)]
struct Opts {
    bursts: usize,
    runs: usize,
    size: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        bursts: 20_000,
        runs: 5,
        size: 64,
    };
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize| args.get(i + 1).and_then(|v| v.parse().ok());
    for (i, a) in args.iter().enumerate() {
        match a.as_str() {
            "--bursts" => o.bursts = num(i).unwrap_or(o.bursts),
            "--runs" => o.runs = num(i).unwrap_or(o.runs),
            "--size" => o.size = num(i).unwrap_or(o.size),
            _ => {}
        }
    }
    o
}

/// Sends one burst to `to` (blocking; loopback never drops while the receiver keeps up).
fn send_burst(tx: &UdpSocket, to: SocketAddr, payload: &[u8]) {
    for _ in 0..BURST {
        tx.send_to(payload, to).expect("send");
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    SonicEach,
    SonicBatch,
    SonicRecvFrom,
    TokioEach,
    RawEach,
    RawBatch,
    RawRecvFrom,
}

const MODES: [Mode; 7] = [
    Mode::RawBatch,
    Mode::SonicBatch,
    Mode::RawEach,
    Mode::SonicEach,
    Mode::RawRecvFrom,
    Mode::SonicRecvFrom,
    Mode::TokioEach,
];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::SonicEach => "sonic recv_msg x32",
            Mode::SonicBatch => "sonic recv_batch",
            Mode::SonicRecvFrom => "sonic recv_from x32",
            Mode::TokioEach => "tokio recv_from x32",
            Mode::RawEach => "raw recvmsg x32",
            Mode::RawBatch => "raw recvmmsg",
            Mode::RawRecvFrom => "raw recvfrom x32",
        }
    }
}

fn bound() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    // Room for a whole burst whatever the size.
    let buf = (BURST * 4096) as libc::c_int;
    // SAFETY: a plain int option on a socket we own.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&buf as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let a = s.local_addr().expect("addr");
    (s, a)
}

/// Sends `$o.bursts` bursts; times only `$drain` (which receives one burst) after each.
/// A macro so that `$drain` may `.await` inside any runtime's `block_on`.
macro_rules! timed_bursts {
    ($o:expr, $tx:expr, $to:expr, $payload:expr, $drain:block) => {{
        let mut total = Duration::ZERO;
        for _ in 0..$o.bursts {
            send_burst($tx, $to, $payload);
            let t = Instant::now();
            $drain
            total += t.elapsed();
        }
        total
    }};
}

/// Runs `o.bursts` bursts through `mode`; returns the total time spent draining.
fn run(mode: Mode, o: Opts, tx: &UdpSocket, payload: &[u8]) -> Duration {
    let (rx, to) = bound();
    let mut total = Duration::ZERO;
    match mode {
        Mode::SonicEach | Mode::SonicBatch => {
            let rt = sonic_rt::Builder::new().build().expect("runtime");
            rt.block_on(async {
                let peer = Peer::from_std(rx).expect("peer");
                let mut one = [0u8; 2048];
                let mut bufs = [[0u8; 2048]; BURST];
                let mut metas = [RecvMeta::default(); BURST];
                total = timed_bursts!(o, tx, to, payload, {
                    if mode == Mode::SonicEach {
                        for _ in 0..BURST {
                            black_box(peer.recv_msg(&mut one).await.expect("recv"));
                        }
                    } else {
                        let mut got = 0;
                        while got < BURST {
                            got += peer
                                .recv_batch(&mut bufs[got..], &mut metas[got..])
                                .await
                                .expect("recv");
                        }
                    }
                });
            });
        }
        Mode::SonicRecvFrom => {
            let rt = sonic_rt::Builder::new().build().expect("runtime");
            rt.block_on(async {
                let sock = sonic_net::UdpSocket::from_std(rx).expect("socket");
                let mut one = [0u8; 2048];
                total = timed_bursts!(o, tx, to, payload, {
                    for _ in 0..BURST {
                        black_box(sock.recv_from(&mut one).await.expect("recv"));
                    }
                });
            });
        }
        Mode::RawRecvFrom => {
            let mut one = [0u8; 2048];
            total = timed_bursts!(o, tx, to, payload, {
                for _ in 0..BURST {
                    black_box(rx.recv_from(&mut one).expect("recv"));
                }
            });
        }
        Mode::TokioEach => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                rx.set_nonblocking(true).expect("nonblocking");
                let sock = tokio::net::UdpSocket::from_std(rx).expect("tokio socket");
                let mut one = [0u8; 2048];
                total = timed_bursts!(o, tx, to, payload, {
                    for _ in 0..BURST {
                        black_box(sock.recv_from(&mut one).await.expect("recv"));
                    }
                });
            });
        }
        Mode::RawEach | Mode::RawBatch => {
            let fd = rx.as_raw_fd();
            let mut bufs = [[0u8; 2048]; BURST];
            let mut addrs: [libc::sockaddr_storage; BURST] = [
                // SAFETY: sockaddr_storage is plain data.
                unsafe { zeroed() }; BURST
            ];
            // SAFETY: as above.
            let mut iovs: [libc::iovec; BURST] = unsafe { zeroed() };
            // SAFETY: as above.
            let mut msgs: [libc::mmsghdr; BURST] = unsafe { zeroed() };
            for i in 0..BURST {
                iovs[i] = libc::iovec {
                    iov_base: bufs[i].as_mut_ptr().cast(),
                    iov_len: bufs[i].len(),
                };
                msgs[i].msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
                msgs[i].msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as _;
                msgs[i].msg_hdr.msg_iov = &mut iovs[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            total = timed_bursts!(o, tx, to, payload, {
                if mode == Mode::RawEach {
                    for m in msgs.iter_mut() {
                        m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as _;
                        // SAFETY: the header points at live locals of the stated lengths.
                        let n = unsafe { libc::recvmsg(fd, &mut m.msg_hdr, 0) };
                        assert!(n >= 0, "recvmsg");
                    }
                } else {
                    let mut got = 0;
                    while got < BURST {
                        // SAFETY: the headers point at live locals of the stated lengths.
                        let n = unsafe {
                            libc::recvmmsg(
                                fd,
                                msgs[got..].as_mut_ptr(),
                                (BURST - got) as _,
                                0,
                                std::ptr::null_mut(),
                            )
                        };
                        assert!(n > 0, "recvmmsg");
                        got += n as usize;
                    }
                }
                black_box(&bufs);
            });
        }
    }
    total
}

fn main() {
    let o = opts();
    let payload = vec![0x42u8; o.size];
    let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind sender");
    println!(
        "udp_burst: drain {BURST} queued {} B datagrams, {} bursts per run, {} runs interleaved; ns per datagram, median",
        o.size, o.bursts, o.runs
    );
    let mut samples: Vec<(Mode, Vec<f64>)> = MODES.iter().map(|&m| (m, Vec::new())).collect();
    for _ in 0..o.runs {
        for (mode, v) in samples.iter_mut() {
            let t = run(*mode, o, &tx, &payload);
            v.push(t.as_nanos() as f64 / (o.bursts * BURST) as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rows: Vec<(Mode, f64)> = samples.iter_mut().map(|(m, v)| (*m, median(v))).collect();
    let floor = rows[0].1;
    for (m, ns) in &rows {
        println!(
            "  {:<22} {:>8.1} ns  {:>5.2}x raw recvmmsg",
            m.name(),
            ns,
            ns / floor
        );
    }
    let get = |m: Mode| {
        rows.iter()
            .find(|r| r.0 == m)
            .map(|r| r.1)
            .unwrap_or(f64::NAN)
    };
    println!(
        "  recv_batch vs recv_msg x32: {:.2}x faster; vs tokio recv_from x32: {:.2}x faster",
        get(Mode::SonicEach) / get(Mode::SonicBatch),
        get(Mode::TokioEach) / get(Mode::SonicBatch)
    );
}
