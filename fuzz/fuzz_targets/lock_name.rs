//! Arbitrary bytes → `LockName::decode` and `decode_with(.., NameStyle::Blank)`.
//!
//! A decoded name encodes back to the same 24 bytes; a refused name has no encoding
//! in that style (checked with an independent lenient parser); every error points
//! at a byte that justifies it. Also: any (type, number) taken from the bytes encodes
//! to 24 canonical bytes that decode back.
#![no_main]

use gdlm_core::name::{LockName, NameError, NameStyle};
use libfuzzer_sys::fuzz_target;

const LEN: usize = 24;

/// The 24 significant bytes, if the length is one `decode` takes (24, or 25 + NUL).
fn significant(data: &[u8]) -> Option<&[u8]> {
    match data.len() {
        24 => Some(data),
        25 if data[24] == 0 => Some(&data[..24]),
        _ => None,
    }
}

/// Lenient parse of one right-aligned field: leading spaces, then lower-case hex.
/// Every encoding of either style parses; a field that does not parse is no encoding.
fn lenient_field(f: &[u8]) -> Option<u64> {
    let start = f.iter().position(|&b| b != b' ').unwrap_or(f.len());
    let mut v: u64 = 0;
    for &b in &f[start..] {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        v = v.checked_mul(16)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

fn check_style(data: &[u8], style: NameStyle) {
    let got = LockName::decode_with(data, style);
    let sig = significant(data);
    // The only candidate name these bytes could be the encoding of.
    let candidate = sig.and_then(|s| {
        let t = lenient_field(&s[..8])?;
        let n = lenient_field(&s[8..])?;
        Some(LockName::new(u32::try_from(t).ok()?, n))
    });
    match got {
        Ok(name) => {
            let s = sig.expect("accepted a name of a length decode must refuse");
            assert_eq!(name.encode_with(style).as_bytes().as_slice(), s);
            assert_eq!(Some(name), candidate);
            if style == NameStyle::Reference {
                assert_eq!(name.encode().decode(), Ok(name));
                assert_eq!(LockName::decode(&name.encode().to_strname()), Ok(name));
                assert_eq!(LockName::try_from(data), Ok(name));
            }
        }
        Err(e) => {
            // No name encodes to these bytes in this style.
            if let (Some(s), Some(c)) = (sig, candidate) {
                assert_ne!(
                    c.encode_with(style).as_bytes().as_slice(),
                    s,
                    "refused {e:?}"
                );
            }
            match e {
                NameError::WrongLength { len } => {
                    assert_eq!(len, data.len());
                    assert!(sig.is_none());
                }
                NameError::BadByte { pos, byte } => {
                    assert!(pos < LEN);
                    assert_eq!(data[pos], byte);
                }
                NameError::LeadingZero { pos } => {
                    assert!(pos < LEN);
                    assert_eq!(data[pos], b'0');
                }
                NameError::BlankField { pos } => {
                    assert_eq!(style, NameStyle::Reference);
                    let s = sig.expect("blank field in a wrong-length name");
                    let field = if pos == 0 { &s[..8] } else { &s[8..] };
                    assert!(pos == 0 || pos == 8);
                    assert!(field.iter().all(|&b| b == b' '));
                }
            }
            let _ = format!("{e}");
        }
    }
}

fn encode_round_trip(t: u32, n: u64) {
    let name = LockName::new(t, n);
    for style in [NameStyle::Reference, NameStyle::Blank] {
        let e = name.encode_with(style);
        let b = e.as_bytes();
        assert_eq!(b.len(), LEN);
        assert!(b
            .iter()
            .all(|&c| c == b' ' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(e.as_str().len(), LEN);
        assert_eq!(LockName::decode_with(b, style), Ok(name));
        // What printf("%8x%16x") writes (zero as "0"): the reference style.
        if style == NameStyle::Reference {
            assert_eq!(e.as_str(), format!("{t:8x}{n:16x}"));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_style(data, NameStyle::Reference);
    check_style(data, NameStyle::Blank);
    if data.len() >= 12 {
        let t = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let mut n = [0u8; 8];
        n.copy_from_slice(&data[4..12]);
        encode_round_trip(t, u64::from_le_bytes(n));
        encode_round_trip(t & 0xff, u64::from_le_bytes(n) & 0xffff);
    }
});
