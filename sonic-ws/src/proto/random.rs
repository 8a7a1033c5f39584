//! Randomness for handshake keys and masking keys, from the OS CSPRNG (`getrandom`).
//!
//! RFC 6455 (section 10.3) asks for unpredictable masking keys. One `getrandom` call per frame
//! would cost a syscall per message, so each thread keeps a small pool of OS random bytes and
//! refills it when empty: every key still comes straight from the OS generator.

use std::cell::RefCell;

const POOL: usize = 256;

struct Pool {
    bytes: [u8; POOL],
    pos: usize,
}

thread_local! {
    static RNG: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; POOL], pos: POOL }) };
}

/// Fills `out` with OS random bytes.
///
/// # Panics
/// If the OS random source fails, which on supported platforms only happens when it is
/// missing altogether (there is no safe fallback for masking keys).
pub fn fill(out: &mut [u8]) {
    getrandom::fill(out).expect("OS random source unavailable");
}

/// A fresh 4-byte masking key.
pub fn mask_key() -> [u8; 4] {
    RNG.with(|p| {
        let mut p = p.borrow_mut();
        if p.pos + 4 > POOL {
            fill(&mut p.bytes);
            p.pos = 0;
        }
        let i = p.pos;
        p.pos += 4;
        [p.bytes[i], p.bytes[i + 1], p.bytes[i + 2], p.bytes[i + 3]]
    })
}
