//! Frame header codec: RFC 6455 examples, every length form, and header errors.

use sonic_ws::proto::frame::{FrameHeader, OpCode};
use sonic_ws::ProtocolError;

#[test]
fn rfc6455_section_5_7_examples() {
    // Single-frame unmasked text "Hello".
    let (h, n) = FrameHeader::decode(&[0x81, 0x05, 0x48, 0x65])
        .unwrap()
        .unwrap();
    assert_eq!(
        (h.fin, h.opcode, h.payload_len, h.mask, n),
        (true, OpCode::Text, 5, None, 2)
    );
    // Masked "Hello".
    let b = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let (h, n) = FrameHeader::decode(&b).unwrap().unwrap();
    assert_eq!((h.mask, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 6));
    let mut p = b[6..].to_vec();
    sonic_ws::proto::mask::apply_mask(&mut p, h.mask.unwrap(), 0);
    assert_eq!(p, b"Hello");
    // Fragmented: "Hel" then "lo".
    let (h, _) = FrameHeader::decode(&[0x01, 0x03]).unwrap().unwrap();
    assert_eq!((h.fin, h.opcode), (false, OpCode::Text));
    let (h, _) = FrameHeader::decode(&[0x80, 0x02]).unwrap().unwrap();
    assert_eq!((h.fin, h.opcode), (true, OpCode::Continuation));
    // 256-byte binary: 16-bit length.
    let (h, n) = FrameHeader::decode(&[0x82, 0x7E, 0x01, 0x00])
        .unwrap()
        .unwrap();
    assert_eq!((h.payload_len, n), (256, 4));
    // 64 KiB binary: 64-bit length.
    let b = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
    let (h, n) = FrameHeader::decode(&b).unwrap().unwrap();
    assert_eq!((h.payload_len, n), (65536, 10));
    // Ping "Hello".
    let (h, _) = FrameHeader::decode(&[0x89, 0x05]).unwrap().unwrap();
    assert_eq!(h.opcode, OpCode::Ping);
}

#[test]
fn round_trip_all_length_forms_and_bits() {
    for len in [
        0u64,
        1,
        125,
        126,
        127,
        0xFFFF,
        0x1_0000,
        1 << 40,
        (1 << 63) - 1,
    ] {
        for mask in [None, Some([1, 2, 3, 4])] {
            for (fin, rsv1, rsv2, rsv3) in [(true, false, false, false), (false, true, true, true)]
            {
                let opcode = OpCode::Binary;
                let h = FrameHeader {
                    fin,
                    rsv1,
                    rsv2,
                    rsv3,
                    opcode,
                    mask,
                    payload_len: len,
                };
                let enc = h.encode();
                assert_eq!(enc.as_slice().len(), h.encoded_len());
                let (d, n) = FrameHeader::decode(enc.as_slice()).unwrap().unwrap();
                assert_eq!((d, n), (h, h.encoded_len()));
                // Every strict prefix is "need more".
                for cut in 0..n {
                    assert_eq!(FrameHeader::decode(&enc.as_slice()[..cut]).unwrap(), None);
                }
            }
        }
    }
}

#[test]
fn shortest_length_form_is_used() {
    assert_eq!(FrameHeader::new(OpCode::Text, 125).encoded_len(), 2);
    assert_eq!(FrameHeader::new(OpCode::Text, 126).encoded_len(), 4);
    assert_eq!(FrameHeader::new(OpCode::Text, 65535).encoded_len(), 4);
    assert_eq!(FrameHeader::new(OpCode::Text, 65536).encoded_len(), 10);
}

#[test]
fn length_2_pow_63_is_rejected() {
    let mut b = vec![0x82, 0x7F];
    b.extend_from_slice(&(1u64 << 63).to_be_bytes());
    assert_eq!(FrameHeader::decode(&b), Err(ProtocolError::LengthOverflow));
    b[2] = 0xFF;
    assert_eq!(FrameHeader::decode(&b), Err(ProtocolError::LengthOverflow));
    assert_eq!(ProtocolError::LengthOverflow.close_code().0, 1002);
    assert!(ProtocolError::LengthOverflow.to_string().contains("2^63"));
}

#[test]
fn reserved_opcodes_are_rejected() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        assert_eq!(
            FrameHeader::decode(&[0x80 | op, 0x00]),
            Err(ProtocolError::ReservedOpcode(op))
        );
    }
}

#[test]
fn control_frame_rules() {
    assert_eq!(
        FrameHeader::decode(&[0x09, 0x00]),
        Err(ProtocolError::FragmentedControl)
    );
    assert_eq!(
        FrameHeader::decode(&[0x89, 0x7E, 0, 126]),
        Err(ProtocolError::ControlTooLong)
    );
    assert!(FrameHeader::decode(&[0x89, 125]).unwrap().is_some());
}
