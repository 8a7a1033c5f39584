//! Property tests: every buffer against a `VecDeque<u8>` model over random claim / commit /
//! consume / clear sequences, including full and empty edges, wrap-around and absurd sizes.
//! Run them in release too (`cargo test --release`): the mirrored buffer's aliasing hazard only
//! shows with optimisation.

use std::collections::VecDeque;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sonic_buf::{BipBuffer, ByteBuffer, Fifo};

#[derive(Debug, Clone)]
enum Op {
    Claim(usize),
    Commit(usize),
    Consume(usize),
    /// Claim, fill and commit everything in one go (drives the buffer to full quickly).
    Push(usize),
    /// Consume everything visible.
    Drain,
    Clear,
}

fn size(cap: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0..=cap + 1,
        1 => Just(0),
        1 => Just(cap),
        1 => Just(usize::MAX),
        2 => 1usize..=64,
    ]
}

fn ops(cap: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => size(cap).prop_map(Op::Claim),
        4 => size(cap).prop_map(Op::Commit),
        4 => size(cap).prop_map(Op::Consume),
        3 => size(cap).prop_map(Op::Push),
        1 => Just(Op::Drain),
        1 => Just(Op::Clear),
    ];
    // Miri interprets every byte access; keep its sequences short.
    let max_ops = if cfg!(miri) { 40 } else { 200 };
    proptest::collection::vec(op, 1..max_ops)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // `default()` honours PROPTEST_CASES (valgrind.sh lowers it).
        // Under Miri one case takes ~8 s; the native run covers the breadth.
        cases: if cfg!(miri) {
            3
        } else {
            ProptestConfig::default().cases
        },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Drives `buf` and the model side by side. `expect_claim(buf, n)` is the length a claim of `n`
/// must return in the buffer's current state; `whole_window` says `data()` shows every byte.
fn check<B: Fifo>(
    buf: &mut B,
    ops: &[Op],
    expect_claim: impl Fn(&B, usize) -> usize,
    whole_window: bool,
) -> Result<(), TestCaseError> {
    let mut model = VecDeque::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut stamp = 0u8;
    let mut fill = |space: &mut [u8]| {
        for b in space.iter_mut() {
            stamp = stamp.wrapping_add(1);
            *b = stamp;
        }
        space.to_vec()
    };
    for op in ops {
        match *op {
            Op::Claim(n) => {
                let want = expect_claim(buf, n);
                let space = buf.claim(n);
                prop_assert_eq!(space.len(), want, "claim({})", n);
                pending = fill(space);
            }
            Op::Commit(n) => {
                let k = buf.commit(n);
                prop_assert_eq!(k, n.min(pending.len()), "commit({})", n);
                model.extend(&pending[..k]);
                pending.clear();
            }
            Op::Consume(n) => {
                let visible = buf.data().len();
                let k = buf.consume(n);
                prop_assert_eq!(k, n.min(visible), "consume({})", n);
                model.drain(..k);
            }
            Op::Push(n) => {
                let want = expect_claim(buf, n);
                let space = buf.claim(n);
                prop_assert_eq!(space.len(), want);
                let bytes = fill(space);
                prop_assert_eq!(buf.commit(usize::MAX), bytes.len());
                model.extend(&bytes);
                pending.clear();
            }
            Op::Drain => {
                let visible = buf.data().len();
                prop_assert_eq!(buf.consume(visible), visible);
                model.drain(..visible);
            }
            Op::Clear => {
                buf.clear();
                model.clear();
                pending.clear();
            }
        }
        prop_assert_eq!(buf.len(), model.len());
        prop_assert!(buf.len() <= buf.capacity());
        prop_assert_eq!(buf.free(), buf.capacity() - buf.len());
        let data = buf.data();
        if whole_window {
            prop_assert_eq!(data.len(), model.len());
        }
        prop_assert!(data.len() <= model.len());
        prop_assert!(
            data.iter().eq(model.iter().take(data.len())),
            "window differs from model"
        );
        prop_assert_eq!(buf.is_empty(), model.is_empty());
    }
    // Everything held comes back out, in order (for a Bip buffer across both regions).
    let mut out = Vec::new();
    loop {
        let data = buf.data();
        if data.is_empty() {
            break;
        }
        out.extend_from_slice(data);
        let n = data.len();
        prop_assert_eq!(buf.consume(n), n);
    }
    prop_assert_eq!(out, Vec::from(model));
    prop_assert!(buf.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn byte_matches_model(limit in 1usize..3000, initial in 0usize..600, ops in ops(2048)) {
        let mut buf = ByteBuffer::with_capacity(initial).with_limit(limit);
        check(&mut buf, &ops, |b, n| n.min(b.limit() - b.len()), true)?;
    }

    #[test]
    fn bip_matches_model(cap in 0usize..2048, ops in ops(1024)) {
        let mut buf = BipBuffer::new(cap);
        check(&mut buf, &ops, |b, n| n.min(b.max_claim()), false)?;
    }

    #[test]
    fn bip_claim_exact_matches_model(cap in 1usize..512, ops in ops(256), exact in proptest::collection::vec(0usize..300, 1..50)) {
        // Interleave all-or-nothing claims: each either succeeds whole or leaves no claim.
        let mut buf = BipBuffer::new(cap);
        let mut model = VecDeque::new();
        for (i, n) in exact.iter().copied().enumerate() {
            let fits = n <= buf.max_claim();
            match buf.claim_exact(n) {
                Some(space) => {
                    prop_assert!(fits);
                    prop_assert_eq!(space.len(), n);
                    space.fill(i as u8);
                    prop_assert_eq!(buf.commit(n), n);
                    model.extend(vec![i as u8; n]);
                }
                None => {
                    prop_assert!(!fits);
                    prop_assert_eq!(buf.claimed(), 0);
                    prop_assert_eq!(buf.commit(n), 0);
                    // Make room the way a reader would: drop the oldest visible record bytes.
                    let visible = buf.data().len();
                    buf.consume(visible / 2 + 1);
                    model.drain(..(visible / 2 + 1).min(visible));
                }
            }
            let data = buf.data();
            prop_assert!(data.iter().eq(model.iter().take(data.len())));
            prop_assert_eq!(buf.len(), model.len());
        }
        buf.clear();
        check(&mut buf, &ops, |b, n| n.min(b.max_claim()), false)?;
    }
}

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod mirrored {
    use super::*;
    use sonic_buf::MirroredBuffer;

    proptest! {
        #![proptest_config(config())]

        // One page and three pages: the second is not a power of two.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn mirrored_matches_model(pages in 1usize..=3, ops in ops(3 * 4096)) {
            let mut buf = MirroredBuffer::new(pages * MirroredBuffer::page_size()).unwrap();
            check(&mut buf, &ops, |b, n| n.min(b.free()), true)?;
        }

        /// Many small steps around the ring: every offset gets to be the wrap point.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn mirrored_wraps_at_every_offset(step in 1usize..200, rounds in 50usize..400) {
            let page = MirroredBuffer::page_size();
            let mut buf = MirroredBuffer::new(page).unwrap();
            let mut model = VecDeque::new();
            let mut next = 0u8;
            for _ in 0..rounds {
                let space = buf.claim(step * 7);
                for b in space.iter_mut() {
                    *b = next;
                    next = next.wrapping_add(31);
                }
                model.extend(space.iter().copied());
                let n = space.len();
                buf.commit(n);
                prop_assert!(buf.data().iter().eq(model.iter()));
                let k = buf.consume(step * 5);
                model.drain(..k);
            }
        }
    }
}
