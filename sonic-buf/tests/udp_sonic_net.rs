//! Datagrams from a sonic-net `UdpSocket` land straight in claimed space: no intermediate
//! buffer. A `BipBuffer` stores each datagram as `[len: u16][payload]` with an all-or-nothing
//! claim (a datagram must never be split), and a `MirroredBuffer` takes them through `poll_fill`.

use sonic_buf::{BipBuffer, Fifo};
use sonic_net::UdpSocket;
use std::time::Duration;

const MAX_DATAGRAM: usize = 1500;

fn payload(seq: u32) -> Vec<u8> {
    let len = 4 + (seq as usize * 37) % (MAX_DATAGRAM - 4);
    let mut p = seq.to_be_bytes().to_vec();
    p.extend((0..len - 4).map(|i| (i as u32 ^ seq) as u8));
    p
}

async fn pair() -> (UdpSocket, UdpSocket) {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    tx.connect(rx.local_addr().unwrap()).await.unwrap();
    (rx, tx)
}

#[test]
fn datagrams_into_a_bip_buffer_with_exact_claims() {
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        rt.block_on(async {
            let (rx, tx) = pair().await;
            let mut bip = BipBuffer::new(8 * 1024);
            let mut next_expected = 0u32;
            let mut seq = 0u32;
            while next_expected < 300 {
                // Keep a few datagrams in flight so the buffer wraps and fills.
                while seq < 300 && seq < next_expected + 4 {
                    tx.send(&payload(seq)).await.unwrap();
                    seq += 1;
                }
                // Receive one datagram into an exact claim: header + the largest payload.
                let Some(slot) = bip.claim_exact(2 + MAX_DATAGRAM) else {
                    panic!("an empty-enough bip buffer must take a whole datagram");
                };
                let (header, body) = slot.split_at_mut(2);
                let n = sonic_rt::time::timeout(Duration::from_secs(5), rx.recv(body))
                    .await
                    .expect("datagram lost")
                    .unwrap();
                header.copy_from_slice(&(n as u16).to_be_bytes());
                assert_eq!(bip.commit(2 + n), 2 + n);
                // Parse whole records straight out of the readable window.
                while bip.len() >= 2 {
                    let data = bip.data();
                    let len = u16::from_be_bytes([data[0], data[1]]) as usize;
                    let record = &data[2..2 + len];
                    assert_eq!(
                        record,
                        &payload(next_expected)[..],
                        "datagram {next_expected}"
                    );
                    next_expected += 1;
                    bip.consume(2 + len);
                }
            }
        });
    }
}

#[test]
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
fn datagrams_into_a_mirrored_buffer_through_poll_fill() {
    use sonic_buf::io::poll_fill;
    use sonic_buf::MirroredBuffer;
    use std::future::poll_fn;
    let rt = sonic_rt::Runtime::new().unwrap();
    rt.block_on(async {
        let (rx, tx) = pair().await;
        let mut ring = MirroredBuffer::new(4096).unwrap();
        let cap = ring.capacity();
        let mut total = 0usize;
        for seq in 0..200u32 {
            let p = payload(seq);
            tx.send(&p).await.unwrap();
            let n = poll_fn(|cx| poll_fill(&mut ring, MAX_DATAGRAM, |dst| rx.poll_recv(cx, dst)))
                .await
                .unwrap();
            assert_eq!(n, p.len());
            // The newest datagram is the tail of the readable window, contiguous even when it
            // wrapped around the ring.
            let data = ring.data();
            assert_eq!(&data[data.len() - n..], &p[..]);
            total += n;
            // Keep the ring near full so writes wrap.
            while ring.free() < MAX_DATAGRAM {
                ring.consume(ring.len().min(700));
            }
        }
        assert!(
            total > 2 * cap,
            "the test must wrap the ring at least twice"
        );
    });
}
