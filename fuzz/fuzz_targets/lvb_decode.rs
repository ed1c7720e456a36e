//! Arbitrary bytes (any length) → `ControlLvb::from_bytes`.
//!
//! Ok iff exactly 32 bytes; a decoded LVB re-encodes to the same bytes (directly, and
//! rebuilt from its generation and jid set); every jid accessor agrees with a naive
//! bit reading of the kernel layout; no jid ≥ 192 ever appears.
#![no_main]

use gdlm_core::lvb::{
    control_lvb_read, control_lvb_read_slice, control_lvb_write, ControlLvb, LvbError,
    LvbLengthError,
};
use libfuzzer_sys::fuzz_target;

const LVB: usize = 32;
const MAX_JIDS: u32 = 192;

fn naive_bit(raw: &[u8], j: u32) -> bool {
    let j = j as usize;
    raw[8 + j / 8] >> (j % 8) & 1 == 1
}

fuzz_target!(|data: &[u8]| {
    let decoded = ControlLvb::from_bytes(data);
    assert_eq!(ControlLvb::try_from(data), decoded);
    // The in-place slice read agrees, and leaves its buffer alone on error.
    let mut bits = ControlLvb::from_array([0x5a; LVB]);
    match control_lvb_read_slice(data, &mut bits) {
        Ok(g) => {
            assert_eq!(Ok(bits), decoded);
            assert_eq!(g, bits.generation());
        }
        Err(e) => {
            assert_eq!(bits, ControlLvb::from_array([0x5a; LVB]));
            assert_eq!(
                e,
                LvbLengthError {
                    len: u32::try_from(data.len()).unwrap_or(u32::MAX)
                }
            );
            assert_eq!(Err(LvbError::from(e)), decoded);
        }
    }
    let lvb = match decoded {
        Err(e) => {
            assert_ne!(data.len(), LVB);
            assert_eq!(e, LvbError::WrongLength { len: data.len() });
            return;
        }
        Ok(l) => l,
    };
    assert_eq!(data.len(), LVB, "accepted a {}-byte LVB", data.len());
    assert_eq!(lvb.as_bytes().as_slice(), data);

    let gen = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    assert_eq!(lvb.generation(), gen);
    assert_eq!(lvb.is_disabled(), gen == 0xFFFF_FFFF);
    assert_eq!(control_lvb_read(&lvb), (gen, lvb));
    assert_eq!(control_lvb_write(gen, &lvb), lvb);

    // The jid set: exactly the set bits, all < 192, agreeing with jid().
    let jids = lvb.jids();
    assert_eq!(jids.as_bytes().as_slice(), &data[8..]);
    let mut count = 0usize;
    let mut last = None;
    for j in jids.iter() {
        assert!(j < MAX_JIDS, "jid {j} beyond the LVB's 192");
        assert!(last.is_none_or(|l| l < j), "jids not ascending");
        last = Some(j);
        assert_eq!(lvb.jid(j), Ok(true));
        count += 1;
    }
    assert_eq!(count, jids.len());
    for j in 0..MAX_JIDS {
        let bit = naive_bit(data, j);
        assert_eq!(lvb.jid(j), Ok(bit), "jid {j}");
        assert_eq!(jids.contains(j), bit);
    }
    for j in [MAX_JIDS, MAX_JIDS + 1, u32::MAX, gen] {
        if j >= MAX_JIDS {
            assert_eq!(lvb.jid(j), Err(LvbError::JidOutOfRange { jid: j }));
            assert!(!jids.contains(j));
        }
    }
    let clear = data[8..].iter().all(|&b| b == 0);
    assert_eq!(lvb.all_jid_bits_clear(), clear);
    assert_eq!(jids.is_empty(), clear);

    // jids_below(limit) for a limit taken from the unused bytes, and the extremes.
    let limit = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    for lim in [
        limit,
        limit % 200,
        0,
        1,
        7,
        8,
        9,
        16,
        191,
        192,
        193,
        u32::MAX,
    ] {
        let below = lvb.jids_below(lim);
        for j in 0..MAX_JIDS {
            assert_eq!(
                below.contains(j),
                naive_bit(data, j) && j < lim,
                "below {lim}: {j}"
            );
        }
    }

    // Re-encode from parts: generation + jids gives the same significant bytes.
    let mut rebuilt = ControlLvb::zeroed();
    rebuilt.set_generation(gen);
    for j in jids.iter() {
        assert_eq!(rebuilt.set_jid(j, true), Ok(()));
    }
    assert_eq!(&rebuilt.as_bytes()[..4], &data[..4]);
    assert_eq!(&rebuilt.as_bytes()[8..], &data[8..]);
    assert_eq!(rebuilt.jids(), jids);

    // Clearing every jid leaves the generation and unused bytes alone.
    let mut cleared = lvb;
    for j in 0..MAX_JIDS {
        assert_eq!(cleared.set_jid(j, false), Ok(()));
    }
    assert!(cleared.all_jid_bits_clear());
    assert_eq!(&cleared.as_bytes()[..8], &data[..8]);
    let mut refused = lvb;
    assert_eq!(
        refused.set_jid(MAX_JIDS, true),
        Err(LvbError::JidOutOfRange { jid: MAX_JIDS })
    );
    assert_eq!(refused, lvb);

    // Formatting never panics.
    let _ = format!("{lvb:?} {jids:?}");
});
