//! Payload masking (RFC 6455, section 5.3): `byte[i] ^= key[(offset + i) % 4]`.
//!
//! Safe code written so that LLVM turns it into wide XORs: the key is widened to a u64 and
//! the payload is processed as 64-byte blocks of eight u64 words (unaligned loads through
//! `from_ne_bytes`, which compile to plain moves), a loop shape LLVM unrolls and vectorises
//! without any `unsafe`. `offset` lets a frame be (un)masked in pieces as it arrives: pass the
//! number of payload bytes already processed.

const BLOCK: usize = 64;

#[inline]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset % 4;
    [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]]
}

#[inline]
fn wide(key: [u8; 4]) -> u64 {
    u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ])
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    u64::from_ne_bytes(a)
}

/// XORs `buf` in place with `key`, starting at key position `offset % 4`.
///
/// Masking and unmasking are the same operation.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotated(key, offset);
    let k = wide(key);
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for w in block.chunks_exact_mut(8) {
            let v = word(w) ^ k;
            w.copy_from_slice(&v.to_ne_bytes());
        }
    }
    // The tail starts at a multiple of 64, so the key phase is still 0 there.
    for (i, b) in blocks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// Copies `src` into `dst` while masking (`dst[i] = src[i] ^ key[(offset + i) % 4]`): one pass
/// for a client sending a borrowed payload.
///
/// # Panics
/// If `dst.len() != src.len()` (a caller bug).
#[inline]
pub fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len(), "mask_copy: length mismatch");
    let key = rotated(key, offset);
    let k = wide(key);
    let mut d = dst.chunks_exact_mut(BLOCK);
    let mut s = src.chunks_exact(BLOCK);
    for (db, sb) in (&mut d).zip(&mut s) {
        for (dw, sw) in db.chunks_exact_mut(8).zip(sb.chunks_exact(8)) {
            dw.copy_from_slice(&(word(sw) ^ k).to_ne_bytes());
        }
    }
    for (i, (o, x)) in d
        .into_remainder()
        .iter_mut()
        .zip(s.remainder().iter())
        .enumerate()
    {
        *o = *x ^ key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_naive_for_all_lengths_and_offsets() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..300 {
            for off in 0..4 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut a = data.clone();
                let mut b = data.clone();
                apply_mask(&mut a, key, off);
                naive(&mut b, key, off);
                assert_eq!(a, b, "len {len} off {off}");
                let mut c = vec![0; len];
                mask_copy(&mut c, &data, key, off);
                assert_eq!(c, b, "copy len {len} off {off}");
            }
        }
    }

    #[test]
    fn piecewise_equals_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut parts = data.clone();
        let mut off = 0;
        for n in [1usize, 3, 5, 64, 100, 7, 820] {
            apply_mask(&mut parts[off..off + n], key, off);
            off += n;
        }
        assert_eq!(whole, parts);
    }
}
