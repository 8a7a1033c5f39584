//! Proves with a counting global allocator that a steady-state WebSocket echo over loopback TCP
//! (client `send_binary` + `recv_ref`, server `recv_ref` + `echo`; small messages queued, large
//! ones written from the receive buffer) allocates nothing on either end, in both loop modes.
#![cfg(feature = "net")]

use sonic_net::{TcpListener, TcpStream};
use sonic_test_support::assert_steady_state_alloc_free;
use sonic_ws::{CloseCode, MessageRef, OpCode};

#[global_allocator]
static GLOBAL: sonic_test_support::CountingAlloc = sonic_test_support::CountingAlloc;

fn echo_round_trips(busy: bool) {
    sonic_test_support::rt(busy).block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // One thread runs both ends, so the counter sees the server's allocations too.
        let server = sonic_rt::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut ws = sonic_ws::accept(s).await.unwrap();
            loop {
                match ws.recv_ref().await.unwrap() {
                    MessageRef::Binary(_) => ws.echo().await.unwrap(),
                    MessageRef::Close(_) => return,
                    other => panic!("{other:?}"),
                }
            }
        });
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        let mut ws = sonic_ws::client(s, "ws://127.0.0.1/").await.unwrap();
        for size in [64usize, 1024, 64 << 10] {
            let payload = vec![0x5a; size];
            assert_steady_state_alloc_free!(format!("ws echo of {size} B"), {
                ws.send_binary(&payload).await.unwrap();
                match ws.recv_ref().await.unwrap() {
                    MessageRef::Binary(b) => assert_eq!(b.len(), size),
                    other => panic!("{other:?}"),
                }
            });
        }
        // Bursts: several messages written with one flush, echoes read back together (the
        // receive buffers grow to hold a window and must stay grown).
        for (size, window) in [(64usize, 64), (64 << 10, 2), (64 << 10, 4)] {
            let payload = vec![0xa5; size];
            assert_steady_state_alloc_free!(format!("ws burst of {window} x {size} B"), {
                for _ in 0..window {
                    ws.feed(OpCode::Binary, &payload).await.unwrap();
                }
                ws.flush().await.unwrap();
                for _ in 0..window {
                    match ws.recv_ref().await.unwrap() {
                        MessageRef::Binary(b) => assert_eq!(b.len(), size),
                        other => panic!("{other:?}"),
                    }
                }
            });
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn echo_parked() {
    echo_round_trips(false);
}

#[test]
fn echo_busy_poll() {
    echo_round_trips(true);
}
