//! `Peer::stats` on loopback, in both loop modes: receives completed at once vs after waiting
//! (async fns, `poll_*` fns, `try_*` fns), datagrams and bytes (one at a time and in batches),
//! truncations, the kernel's drops (`SO_RXQ_OVFL`, Linux) and sends. (A send that waits for
//! room is counted by the same code path as a waiting receive; UDP over loopback frees its send
//! buffer on delivery, so it cannot be made to wait here.)

mod multicast_common;

use multicast_common::both_modes;
use sonic_net::multicast::{Peer, PeerStats, RecvMeta};
use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddr};
use std::task::Poll;

const G: Ipv4Addr = Ipv4Addr::new(239, 77, 14, 20);

/// A receiver joined to `G` on lo, a sender bound to 127.0.0.1 sending by lo, and the target.
fn pair() -> (Peer, Peer, SocketAddr) {
    let rx = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    rx.join_on(G, Ipv4Addr::LOCALHOST).unwrap();
    let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    tx.set_outbound(Ipv4Addr::LOCALHOST).unwrap();
    let to = SocketAddr::from((G, rx.local_addr().port()));
    (rx, tx, to)
}

#[test]
fn queued_datagrams_are_immediate_reads_and_an_empty_queue_is_a_waited_one() {
    both_modes(|_| async {
        let (rx, tx, to) = pair();
        for n in [10, 20, 30] {
            tx.send_to(&vec![1; n], to).await.unwrap();
        }
        let mut buf = [0u8; 100];
        rx.recv_msg(&mut buf).await.unwrap();
        rx.recv_from(&mut buf).await.unwrap();
        rx.try_recv_msg(&mut buf).unwrap();
        let s = rx.stats();
        assert_eq!((s.reads_immediate, s.reads_waited), (3, 0));
        assert_eq!((s.datagrams, s.bytes, s.truncated), (3, 60, 0));
        let t = tx.stats();
        assert_eq!(
            (t.sent, t.sent_bytes, t.writes_immediate, t.writes_waited),
            (3, 60, 3, 0)
        );

        // Nothing queued: the receive waits, then the datagram comes.
        let read = async { rx.recv_msg(&mut buf).await.unwrap().len };
        let send = async {
            sonic_rt::task::yield_now().await;
            tx.send_to(&[2; 7], to).await.unwrap();
        };
        let (n, ()) = sonic_rt::join!(read, send);
        assert_eq!(n, 7);
        let s = rx.stats();
        assert_eq!(
            (s.reads_immediate, s.reads_waited, s.datagrams, s.bytes),
            (3, 1, 4, 67)
        );
        assert!((s.immediate_ratio() - 0.75).abs() < 1e-9);
        rx.reset_stats();
        assert_eq!(rx.stats(), PeerStats::default());
    });
}

#[test]
fn a_poll_that_was_pending_makes_the_next_receive_a_waited_one() {
    both_modes(|_| async {
        let (rx, tx, to) = pair();
        let mut buf = [0u8; 64];
        let mut polls = 0;
        let n = poll_fn(|cx| {
            polls += 1;
            if polls == 2 {
                // Sent between two polls: the second poll finds it.
                tx.try_send_to(b"late", to).unwrap();
            }
            match rx.poll_recv_msg(cx, &mut buf) {
                Poll::Pending => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                other => other,
            }
        })
        .await
        .unwrap()
        .len;
        assert_eq!(n, 4);
        let s = rx.stats();
        assert_eq!((s.reads_immediate, s.reads_waited, s.datagrams), (0, 1, 1));
        tx.send_to(b"now", to).await.unwrap();
        // Queued before the first poll: at once.
        let p = poll_fn(|cx| Poll::Ready(rx.poll_recv_from(cx, &mut buf))).await;
        assert!(matches!(p, Poll::Ready(Ok((3, _)))), "{p:?}");
        assert_eq!(rx.stats().reads_immediate, 1);
    });
}

#[test]
fn a_batch_is_one_read_of_many_datagrams_and_truncations_are_counted() {
    both_modes(|_| async {
        let (rx, tx, to) = pair();
        for _ in 0..5 {
            tx.send_to(&[3; 40], to).await.unwrap();
        }
        tx.send_to(&[4; 100], to).await.unwrap();
        let mut bufs = [[0u8; 50]; 8];
        let mut metas = [RecvMeta::default(); 8];
        let mut got = 0;
        while got < 6 {
            got += rx
                .recv_batch(&mut bufs[got..], &mut metas[got..])
                .await
                .unwrap();
        }
        let s = rx.stats();
        assert_eq!((s.datagrams, s.bytes, s.truncated), (6, 5 * 40 + 50, 1));
        assert!(s.reads_immediate >= 1 && s.reads_waited == 0, "{s:?}");
        // One at a time, into a short buffer.
        tx.send_to(&[5; 30], to).await.unwrap();
        let mut short = [0u8; 8];
        let m = rx.recv_msg(&mut short).await.unwrap();
        assert!(m.truncated);
        assert_eq!(rx.stats().truncated, 2);
    });
}

/// A receive queue of a few KiB overflows under a burst; every datagram sent is then either
/// received or counted as a kernel drop, which the next datagram reports.
#[cfg(target_os = "linux")]
#[test]
fn kernel_drops_are_counted_from_so_rxq_ovfl() {
    both_modes(|_| async {
        let (rx, tx, to) = pair();
        socket2::SockRef::from(rx.get_ref())
            .set_recv_buffer_size(4096)
            .unwrap();
        rx.set_recv_drop_count(true).unwrap();
        const SENT: usize = 500;
        for _ in 0..SENT {
            tx.send_to(&[6; 200], to).await.unwrap();
        }
        let mut buf = [0u8; 256];
        let mut received = 0;
        while rx.try_recv_msg(&mut buf).is_ok() {
            received += 1;
        }
        assert!(received < SENT, "the queue must have overflowed");
        assert_eq!(
            rx.stats().kernel_drops,
            0,
            "not reported yet: no datagram since"
        );
        tx.send_to(b"fence", to).await.unwrap();
        let m = rx.recv_msg(&mut buf).await.unwrap();
        assert_eq!(m.drops, Some((SENT - received) as u32));
        assert_eq!(rx.stats().kernel_drops, (SENT - received) as u64);
        // Later datagrams repeat the cumulative count; it is added up once.
        tx.send_to(b"again", to).await.unwrap();
        rx.recv_msg(&mut buf).await.unwrap();
        assert_eq!(rx.stats().kernel_drops, (SENT - received) as u64);
    });
}

#[cfg(not(target_os = "linux"))]
#[test]
fn kernel_drop_count_is_unsupported_off_linux() {
    sonic_rt::block_on(async {
        let rx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        assert_eq!(
            rx.set_recv_drop_count(true).unwrap_err().kind(),
            std::io::ErrorKind::Unsupported
        );
        rx.set_recv_drop_count(false).unwrap();
    });
}
