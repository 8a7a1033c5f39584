//! The send side: messages in, frame bytes out, with no I/O.
//!
//! Three ways to send a payload, from cheapest:
//! - [`Writer::header`] alone: encode only the header and write the payload next to it with a
//!   vectored write (server, uncompressed: no copy at all).
//! - [`Writer::mask_in_place`]: a client handing over an owned buffer gets it masked in place,
//!   then the same vectored write.
//! - [`Writer::encode_frame`] / [`Writer::encode_message`]: header and payload appended to an
//!   output buffer (one copy, fused with masking for a client; used for control frames, small
//!   messages and compressed output).

use super::deflate::Deflater;
use super::extension::DeflateParams;
use super::frame::{FrameHeader, OpCode};
use super::mask::{apply_mask, mask_copy};
use super::random::mask_key;
use super::Role;

/// Encodes outgoing frames for one endpoint.
#[derive(Debug)]
pub struct Writer {
    role: Role,
    deflater: Option<Deflater>,
    min_compress: usize,
    scratch: Vec<u8>,
}

impl Writer {
    /// A writer for `role` (a client masks every frame).
    pub fn new(role: Role) -> Self {
        Writer {
            role,
            deflater: None,
            min_compress: usize::MAX,
            scratch: Vec::new(),
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Enables permessage-deflate with the agreed parameters.
    pub fn set_deflate(&mut self, p: Option<&DeflateParams>) {
        match p {
            // zlib cannot emit raw DEFLATE with an 8-bit window: send uncompressed then.
            Some(p) if p.local_max_window_bits >= 9 => {
                self.deflater = Some(Deflater::new(
                    p.level,
                    p.local_max_window_bits,
                    p.local_no_context_takeover,
                ));
                self.min_compress = p.min_size;
            }
            _ => {
                self.deflater = None;
                self.min_compress = usize::MAX;
            }
        }
    }

    /// Whether a data message of `len` bytes would be compressed.
    pub fn will_compress(&self, len: usize) -> bool {
        self.deflater.is_some() && len >= self.min_compress
    }

    /// A header for a frame of `len` bytes; a client's header carries a fresh masking key.
    pub fn header(&self, opcode: OpCode, fin: bool, rsv1: bool, len: usize) -> FrameHeader {
        FrameHeader {
            fin,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: match self.role {
                Role::Client => Some(mask_key()),
                Role::Server => None,
            },
            payload_len: len as u64,
        }
    }

    /// Masks an owned payload in place for `header` (no-op for a server).
    pub fn mask_in_place(header: &FrameHeader, payload: &mut [u8]) {
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
    }

    /// Appends one frame (header + payload, masked for a client) to `out`.
    pub fn encode_frame(
        &mut self,
        out: &mut Vec<u8>,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        payload: &[u8],
    ) {
        let h = self.header(opcode, fin, rsv1, payload.len());
        out.extend_from_slice(h.encode().as_slice());
        match h.mask {
            Some(key) => {
                let at = out.len();
                out.resize(at + payload.len(), 0);
                mask_copy(&mut out[at..], payload, key, 0);
            }
            None => out.extend_from_slice(payload),
        }
    }

    /// Appends a whole message as one frame, compressed when negotiated and worthwhile.
    pub fn encode_message(&mut self, out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
        if opcode.is_control() || !self.will_compress(payload.len()) {
            self.encode_frame(out, opcode, true, false, payload);
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.compress(payload, &mut scratch);
        self.encode_frame(out, opcode, true, true, &scratch);
        self.scratch = scratch;
    }

    /// Compresses a whole message payload into `out` (for callers doing their own framing;
    /// the frame must then carry RSV1).
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        match &mut self.deflater {
            Some(d) => d.compress(payload, out),
            None => out.extend_from_slice(payload),
        }
    }
}
