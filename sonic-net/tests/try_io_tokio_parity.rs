//! The `try_*` calls answer `WouldBlock` exactly where tokio's do: one scenario, written once,
//! runs on tokio's current-thread runtime and on sonic (busy-poll on and off), and the two
//! records of answers must be equal (and equal to the one written here). The points that tell
//! the rules apart: a `try_*` after `WouldBlock` gives `WouldBlock` again, without a syscall,
//! until the reactor has reported a new event, even when the peer has since made the socket
//! ready; a short `try_read` does not clear the readiness (the next call asks the kernel).

mod common;

use std::io;

type Record = Vec<Result<usize, io::ErrorKind>>;

fn rec<T>(out: &mut Record, res: io::Result<T>, n: impl Fn(T) -> usize) {
    out.push(res.map(n).map_err(|e| e.kind()));
}

/// The scenario, over a Unix stream type and a UDP socket type with tokio's method names.
macro_rules! scenario {
    ($unix:ty, $udp:ty) => {
        async {
            let mut out = Record::new();
            let mut big = vec![0u8; 1 << 20];

            // Streams, read side.
            let (a, b) = <$unix>::pair().unwrap();
            a.writable().await.unwrap();
            b.writable().await.unwrap();
            rec(&mut out, b.try_read(&mut big), |n| n); // nothing queued
            rec(&mut out, a.try_write(b"1"), |n| n);
            rec(&mut out, b.try_read(&mut big), |n| n); // queued, but no event seen yet
            b.readable().await.unwrap();
            rec(&mut out, b.try_read(&mut big), |n| n);
            rec(&mut out, a.try_write(b"2"), |n| n);
            rec(&mut out, b.try_read(&mut big), |n| n); // after a short read: asks again
            rec(&mut out, b.try_read(&mut big), |n| n);

            // Streams, write side.
            let mut last = Ok(0);
            while last.is_ok() {
                last = a.try_write(&big[..64 * 1024]);
            }
            rec(&mut out, last, |n| n);
            b.readable().await.unwrap();
            while b.try_read(&mut big).is_ok() {}
            rec(&mut out, a.try_write(b"x"), |n| n); // room now, but no event seen yet
            a.writable().await.unwrap();
            rec(&mut out, a.try_write(b"x"), |n| n);

            // Datagrams.
            let x = <$udp>::bind("127.0.0.1:0").await.unwrap();
            let y = <$udp>::bind("127.0.0.1:0").await.unwrap();
            x.connect(y.local_addr().unwrap()).await.unwrap();
            y.connect(x.local_addr().unwrap()).await.unwrap();
            x.writable().await.unwrap();
            y.writable().await.unwrap();
            rec(&mut out, y.try_recv(&mut big), |n| n);
            rec(&mut out, x.try_send(b"d"), |n| n);
            rec(&mut out, y.try_recv(&mut big), |n| n); // queued, no event seen yet
            rec(&mut out, y.try_peek_from(&mut big), |(n, _)| n);
            y.readable().await.unwrap();
            rec(&mut out, y.try_peek_from(&mut big), |(n, _)| n);
            rec(&mut out, y.try_recv_from(&mut big), |(n, _)| n);
            rec(&mut out, y.try_recv(&mut big), |n| n);
            out
        }
    };
}

fn expected() -> Record {
    use io::ErrorKind::WouldBlock as WB;
    vec![
        Err(WB),
        Ok(1),
        Err(WB),
        Ok(1),
        Ok(1),
        Ok(1),
        Err(WB),
        // write side
        Err(WB),
        Err(WB),
        Ok(1),
        // datagrams
        Err(WB),
        Ok(1),
        Err(WB),
        Err(WB),
        Ok(1),
        Ok(1),
        Err(WB),
    ]
}

#[test]
fn tokio_answers_as_written() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let got = rt.block_on(scenario!(tokio::net::UnixStream, tokio::net::UdpSocket));
    assert_eq!(got, expected());
}

fn sonic(rt: &sonic_rt::Runtime) {
    let got = rt.block_on(common::within(
        10,
        scenario!(sonic_net::UnixStream, sonic_net::UdpSocket),
    ));
    assert_eq!(got, expected());
}

sonic_test_support::each_mode!(sonic);
