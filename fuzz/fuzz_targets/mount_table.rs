//! Arbitrary text → `LockTable::parse` (the `cluster:fsname` lock table) and
//! `MountOptions::parse` (`jid= id= first= nodir=` host data), against models of
//! `gdlm_mount` and of `match_token`/`match_int` over `%d`.
#![no_main]

use gdlm_core::mount::{LockTable, MountOptions, TableError};
use libfuzzer_sys::fuzz_target;

/// `match_int` of a `%d` argument: base 0, optional '-', all of it, within int.
fn model_int(s: &str) -> Option<i32> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Exact value, checked: anything beyond 2^63 is out of int range anyway.
    let mut v: i128 = 0;
    for c in digits.chars() {
        v = v * i128::from(radix) + i128::from(c.to_digit(radix)?);
        if v > 1 << 64 {
            return None;
        }
    }
    i32::try_from(if neg { -v } else { v }).ok()
}

fn model_options(h: &str) -> Result<MountOptions, TableError> {
    let mut o = MountOptions::default();
    for field in h.split(':').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').ok_or(TableError::UnknownHostdata)?;
        let n = model_int(v).ok_or(TableError::UnknownHostdata)?;
        match (k, n) {
            ("jid", n) if n >= 0 => {
                if o.jid.is_none() {
                    o.jid = Some(n as u32);
                }
            }
            ("id", _) => {}
            ("first", 0 | 1) => o.first = n == 1,
            ("nodir", 0 | 1) => o.nodir = n == 1,
            _ => return Err(TableError::UnknownHostdata),
        }
    }
    Ok(o)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match LockTable::parse(text) {
        Ok(t) => {
            assert_eq!(format!("{}:{}", t.cluster, t.fsname), text);
            assert!(!t.cluster.contains(':'));
            assert!(t.cluster.len() < 64 && !t.fsname.is_empty() && t.fsname.len() <= 64);
        }
        Err(TableError::NoFsname) => assert!(!text.contains(':')),
        Err(TableError::BadLength) => {
            let (c, f) = text.split_once(':').expect("BadLength needs a ':'");
            assert!(c.len() >= 64 || f.is_empty() || f.len() > 64);
        }
        Err(e) => panic!("LockTable::parse({text:?}) = {e:?}"),
    }
    let got = MountOptions::parse(text);
    assert_eq!(got, model_options(text), "{text:?}");
    if let Ok(o) = got {
        let again = format!(
            "{}first={}:nodir={}",
            o.jid.map(|j| format!("jid={j}:")).unwrap_or_default(),
            u8::from(o.first),
            u8::from(o.nodir)
        );
        assert_eq!(MountOptions::parse(&again), Ok(o));
        let f = o.lockspace_flags();
        assert_eq!(f & 0x1 != 0, o.nodir);
        assert_eq!(f & 0xc, 0xc);
    }
});
