//! Payload masking (RFC 6455, section 5.3): `byte[i] ^= key[(offset + i) % 4]`.
//!
//! Safe code written so that LLVM turns it into SIMD: the key is expanded once into a 64-byte
//! pattern and the payload is XORed in fixed 64-byte chunks, a loop shape that vectorises to
//! SSE2/AVX2/NEON XORs without any `unsafe`. `offset` lets a frame be (un)masked in pieces as
//! it arrives: pass the number of payload bytes already processed.

const CHUNK: usize = 64;

#[inline]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset % 4;
    [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]]
}

#[inline]
fn pattern(key: [u8; 4]) -> [u8; CHUNK] {
    let mut p = [0u8; CHUNK];
    for (i, b) in p.iter_mut().enumerate() {
        *b = key[i % 4];
    }
    p
}

/// XORs `buf` in place with `key`, starting at key position `offset % 4`.
///
/// Masking and unmasking are the same operation.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotated(key, offset);
    if buf.len() < 16 {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
        return;
    }
    let pat = pattern(key);
    let mut chunks = buf.chunks_exact_mut(CHUNK);
    for chunk in &mut chunks {
        for (b, k) in chunk.iter_mut().zip(pat.iter()) {
            *b ^= *k;
        }
    }
    // The tail is shorter than 64 bytes and starts at a multiple of 64, so the key phase is
    // still 0 there.
    for (b, k) in chunks.into_remainder().iter_mut().zip(pat.iter()) {
        *b ^= *k;
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
    let pat = pattern(key);
    let mut d = dst.chunks_exact_mut(CHUNK);
    let mut s = src.chunks_exact(CHUNK);
    for (dc, sc) in (&mut d).zip(&mut s) {
        for ((o, i), k) in dc.iter_mut().zip(sc.iter()).zip(pat.iter()) {
            *o = *i ^ *k;
        }
    }
    for ((o, i), k) in d
        .into_remainder()
        .iter_mut()
        .zip(s.remainder().iter())
        .zip(pat.iter())
    {
        *o = *i ^ *k;
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
