//! What the facade's `Send` oneshot (tokio's own) costs against sonic-rt's local one: create a
//! channel, send, await the value, on one task. A measurement, not a check (ignored by default); run with
//! `cargo test --release -p sonic-tokio --test oneshot_cost -- --ignored --nocapture`.

use std::time::Instant;

const N: u32 = 1_000_000;

fn local(rt: &sonic_rt::Runtime) -> f64 {
    rt.block_on(async {
        let t0 = Instant::now();
        for i in 0..N {
            let (tx, rx) = sonic_rt::sync::oneshot::channel();
            tx.send(i).unwrap();
            assert_eq!(rx.await, Ok(i));
        }
        t0.elapsed().as_nanos() as f64 / N as f64
    })
}

fn facade(rt: &sonic_rt::Runtime) -> f64 {
    rt.block_on(async {
        let t0 = Instant::now();
        for i in 0..N {
            let (tx, rx) = sonic_tokio::sync::oneshot::channel();
            tx.send(i).unwrap();
            assert_eq!(rx.await, Ok(i));
        }
        t0.elapsed().as_nanos() as f64 / N as f64
    })
}

#[test]
#[ignore = "a measurement; run with --release --ignored --nocapture"]
fn oneshot_send_and_receive_cost() {
    let rt = sonic_rt::Runtime::new().unwrap();
    let (mut l, mut t) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        l.push(local(&rt));
        t.push(facade(&rt));
    }
    for v in [&mut l, &mut t] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "oneshot create+send+recv, ns/op, medians of 7 interleaved runs: sonic-rt local {:.1}, \
         sonic-tokio's (tokio's own) {:.1} ({:.2}x local)",
        l[3],
        t[3],
        t[3] / l[3]
    );
}
