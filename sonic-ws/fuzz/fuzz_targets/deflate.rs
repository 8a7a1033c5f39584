//! Round trip: compress fuzzer input and inflate it back (must match), then inflate the raw
//! input as a hostile compressed payload (must not panic or exceed the limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonic_ws::proto::deflate::{Deflater, Inflater};

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let bits = 9 + ctl % 7;
    let reset = ctl & 0x80 != 0;
    let mut d = Deflater::new(u32::from(ctl % 10), bits, reset);
    let mut i = Inflater::new(reset);
    for msg in rest.split(|&b| b == 0xA5).take(8) {
        let mut z = Vec::new();
        d.compress(msg, &mut z);
        let mut out = Vec::new();
        let cut = z.len() / 2;
        i.inflate(&z[..cut], &mut out, 1 << 20)
            .expect("own output inflates");
        i.inflate(&z[cut..], &mut out, 1 << 20)
            .expect("own output inflates");
        i.finish(&mut out, 1 << 20).expect("own output finishes");
        assert_eq!(out, msg);
    }
    let limit = 1 << 16;
    let mut hostile = Inflater::new(false);
    let mut out = Vec::new();
    // Over the limit shows as one byte past it and an error; never more memory than that.
    match hostile
        .inflate(rest, &mut out, limit)
        .and_then(|()| hostile.finish(&mut out, limit))
    {
        Ok(()) => assert!(out.len() <= limit, "{} > {limit}", out.len()),
        Err(_) => assert!(out.len() <= limit + 1, "{} > {limit} + 1", out.len()),
    }
});
