//! Proves with a counting global allocator that a steady-state multicast loop (send_to, then
//! recv_msg with IP_PKTINFO and timestamp control messages, recv_from, or recv_batch through
//! recvmmsg, on both loop modes) allocates nothing. Membership changes may allocate (the
//! table); the datagram path may not.

use sonic_net::multicast::{Peer, RecvMeta};
use std::net::{Ipv4Addr, SocketAddr};

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

use sonic_test_support::allocations as allocs;

#[test]
fn steady_state_multicast_loop_allocates_nothing() {
    for busy in [false, true] {
        let rt = sonic_rt::Builder::new().busy_poll(busy).build().unwrap();
        rt.block_on(async {
            let g = Ipv4Addr::new(239, 77, 10, 1);
            let rx = Peer::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
            rx.join_on(g, Ipv4Addr::LOCALHOST).unwrap();
            rx.set_recv_destination(true).unwrap();
            rx.set_recv_timestamp(true).unwrap();
            let tx = Peer::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            tx.set_outbound(Ipv4Addr::LOCALHOST).unwrap();
            let to = SocketAddr::from((g, rx.local_addr().port()));
            let mut buf = [0u8; 256];
            let mut bufs = [[0u8; 64]; 4];
            let mut metas = [RecvMeta::default(); 4];

            let mut round = async |i: u32| {
                tx.send_to(&i.to_be_bytes(), to).await.unwrap();
                let m = rx.recv_msg(&mut buf).await.unwrap();
                assert_eq!((m.len, m.destination), (4, Some(g.into())));
                assert!(m.timestamp.is_some());
                tx.send_to(&i.to_be_bytes(), to).await.unwrap();
                let (n, _) = rx.recv_from(&mut buf).await.unwrap();
                assert_eq!(n, 4);
                // A burst of 4 through recvmmsg.
                for _ in 0..4 {
                    tx.send_to(&i.to_be_bytes(), to).await.unwrap();
                }
                let mut got = 0;
                while got < 4 {
                    got += rx
                        .recv_batch(&mut bufs[got..], &mut metas[got..])
                        .await
                        .unwrap();
                }
                assert!(metas.iter().all(|m| m.len == 4 && m.destination.is_some()));
            };
            for i in 0..200 {
                round(i).await;
            }
            let before = allocs();
            for i in 0..2000 {
                round(i).await;
            }
            let n = allocs() - before;
            assert_eq!(n, 0, "busy_poll={busy}: {n} allocations in 2000 rounds");
        });
    }
}
