//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod pipe;

use sonic_ws::proto::frame::{FrameHeader, OpCode};
use sonic_ws::proto::mask::apply_mask;

/// Builds one frame; `mask` for client-to-server frames.
pub fn frame(opcode: OpCode, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    frame_rsv(opcode, fin, false, payload, mask)
}

/// Builds one frame with RSV1 control.
pub fn frame_rsv(
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Vec<u8> {
    let mut h = FrameHeader::new(opcode, payload.len() as u64);
    h.fin = fin;
    h.rsv1 = rsv1;
    h.mask = mask;
    let mut out = h.encode().as_slice().to_vec();
    let at = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        apply_mask(&mut out[at..], k, 0);
    }
    out
}

/// A masked client frame.
pub fn cframe(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    frame(opcode, fin, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}
