//! DLM resource names of glocks: `LockName {ln_type, ln_number}` ⇄ the 24-byte
//! `%8x%16x` form (reference: `gfs2_reverse_hex`, `gdlm_lock`, `sync_lock`).

use core::fmt;

use crate::consts::{GDLM_STRNAME_BYTES, LM_TYPE_NONDISK};

/// Significant length of a resource name (`GDLM_STRNAME_BYTES - 1`).
pub const NAME_LEN: usize = GDLM_STRNAME_BYTES - 1;

/// Width of the right-aligned type field.
const TYPE_WIDTH: usize = 8;

/// How a zero field is written.
///
/// The reference (v3.10+, `gfs2_reverse_hex` with `*c = '0'`) writes `0`, exactly as
/// `sync_lock`'s `%8x%16x`; Linux 3.6 left the field blank. Only the blank style can
/// produce an all-space field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameStyle {
    /// Zero is written `0` (reference v3.12 and every later kernel).
    #[default]
    Reference,
    /// Zero is left blank (Linux ≤ 3.9, `gfs2_reverse_hex` without `*c = '0'`).
    Blank,
}

/// A glock's name: its type (`LM_TYPE_*`) and number (`struct lm_lockname`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockName {
    /// `ln_type`: glock type, e.g. `LM_TYPE_INODE` (2).
    pub ln_type: u32,
    /// `ln_number`: block number or lock number.
    pub ln_number: u64,
}

/// The 24 significant bytes of a DLM resource name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResName([u8; NAME_LEN]);

#[cfg(feature = "defmt")]
impl defmt::Format for ResName {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:a}", self.0)
    }
}

/// Why a resource name could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameError {
    /// The name is not 24 bytes (or 25 with a trailing NUL).
    WrongLength {
        /// Length given.
        len: usize,
    },
    /// A byte other than a space or a lower-case hex digit, or a space after a digit.
    BadByte {
        /// Offset of the byte.
        pos: usize,
        /// The byte.
        byte: u8,
    },
    /// A field with a leading `0` digit: the kernel never writes one.
    LeadingZero {
        /// Offset of the zero.
        pos: usize,
    },
    /// An all-blank field, which only [`NameStyle::Blank`] writes.
    BlankField {
        /// Offset of the field.
        pos: usize,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NameError::WrongLength { len } => {
                write!(f, "lock name is {len} bytes, expected {NAME_LEN}")
            }
            NameError::BadByte { pos, byte } => {
                write!(f, "lock name byte {pos} is {byte:#04x}, not a space or lower-case hex digit in place")
            }
            NameError::LeadingZero { pos } => write!(f, "lock name has a leading zero at {pos}"),
            NameError::BlankField { pos } => write!(f, "lock name field at {pos} is blank"),
        }
    }
}

impl core::error::Error for NameError {}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Two hex digits per byte value: `HEX2[b]` is `%02x` of `b`.
static HEX2: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [HEX[b >> 4], HEX[b & 0xf]];
        b += 1;
    }
    t
};

/// `gfs2_reverse_hex`: write `value` right-aligned in `field` (its last byte holds the
/// last digit), over a field of spaces that is wide enough for the value's type.
///
/// Two digits are written per step from [`HEX2`], so the kernel's one test per
/// digit (`while (value)`) becomes one test per two digits; the field's length is
/// a constant after inlining (8 or 16), so the loop is unrolled and has no other
/// exit. An odd digit count writes one `0` too many, left of the first digit,
/// which then gets its space back.
#[inline(always)]
fn reverse_hex(field: &mut [u8], value: u64, style: NameStyle) {
    let mut rest = value;
    for pair in field.rchunks_exact_mut(2) {
        if rest == 0 {
            break;
        }
        pair.copy_from_slice(&HEX2[(rest & 0xff) as usize]);
        rest >>= 8;
    }
    // For an even count this byte already is a space, or lies before the field.
    let digits = (u64::BITS - value.leading_zeros()).div_ceil(4) as usize;
    if let Some(pad) = field
        .len()
        .checked_sub(digits + 1)
        .and_then(|i| field.get_mut(i))
    {
        *pad = b' ';
    }
    // `*c = '0'` before the loop in the kernel; only a zero value leaves it standing.
    if value == 0 && style == NameStyle::Reference {
        if let Some(last) = field.last_mut() {
            *last = b'0';
        }
    }
}

impl LockName {
    /// A name from its type and number.
    pub const fn new(ln_type: u32, ln_number: u64) -> Self {
        LockName { ln_type, ln_number }
    }

    /// The name `sync_lock` gives a non-disk lock number: `%8x%16x` of
    /// (`LM_TYPE_NONDISK`, `num`), e.g. `control_lock` is `"       1               4"`.
    pub const fn nondisk(num: u32) -> Self {
        LockName::new(LM_TYPE_NONDISK, num as u64)
    }

    /// Encode as `gdlm_lock` does (reference style: zero is `0`).
    #[inline]
    pub fn encode(&self) -> ResName {
        self.encode_with(NameStyle::Reference)
    }

    /// Encode with the chosen zero style (`gdlm_lock`: memset to spaces, then
    /// `gfs2_reverse_hex(strname + 7, ln_type)` and `gfs2_reverse_hex(strname + 23, ln_number)`).
    #[inline]
    pub fn encode_with(&self, style: NameStyle) -> ResName {
        let mut out = ResName([b' '; NAME_LEN]);
        self.encode_into(style, &mut out);
        out
    }

    /// [`encode_with`](Self::encode_with) into an existing name, in place, as `gdlm_lock`
    /// fills its `strname` buffer: every byte of `out` is rewritten.
    #[inline]
    pub fn encode_into(&self, style: NameStyle, out: &mut ResName) {
        out.0 = [b' '; NAME_LEN];
        let (ty, number) = out.0.split_at_mut(TYPE_WIDTH);
        reverse_hex(ty, u64::from(self.ln_type), style);
        reverse_hex(number, self.ln_number, style);
    }

    /// Decode a resource name written in the reference style.
    ///
    /// Accepts exactly 24 bytes, or 25 when the last is NUL (the `strname` buffer).
    /// Only the kernel's canonical form is accepted: spaces, then lower-case hex
    /// digits without a leading zero, so `decode(encode(n)) == n` and every accepted
    /// name re-encodes to the same bytes.
    pub fn decode(bytes: &[u8]) -> Result<LockName, NameError> {
        Self::decode_with(bytes, NameStyle::Reference)
    }

    /// Decode with the chosen zero style ([`NameStyle::Blank`] reads a blank field as 0
    /// and rejects a lone `0`).
    pub fn decode_with(bytes: &[u8], style: NameStyle) -> Result<LockName, NameError> {
        let bytes = match bytes.len() {
            NAME_LEN => bytes,
            GDLM_STRNAME_BYTES if bytes[NAME_LEN] == 0 => &bytes[..NAME_LEN],
            len => return Err(NameError::WrongLength { len }),
        };
        let ln_type = decode_field(&bytes[..TYPE_WIDTH], 0, style)?;
        let ln_number = decode_field(&bytes[TYPE_WIDTH..], TYPE_WIDTH, style)?;
        // An 8-digit field cannot exceed u32::MAX.
        let ln_type = u32::try_from(ln_type).map_err(|_| NameError::BadByte {
            pos: 0,
            byte: bytes[0],
        })?;
        Ok(LockName { ln_type, ln_number })
    }
}

/// Parse one right-aligned field; `base` is its offset in the name (for errors).
fn decode_field(field: &[u8], base: usize, style: NameStyle) -> Result<u64, NameError> {
    let start = field.iter().position(|&b| b != b' ');
    let Some(start) = start else {
        return match style {
            NameStyle::Blank => Ok(0),
            NameStyle::Reference => Err(NameError::BlankField { pos: base }),
        };
    };
    let digits = &field[start..];
    if digits[0] == b'0' && (digits.len() > 1 || style == NameStyle::Blank) {
        return Err(NameError::LeadingZero { pos: base + start });
    }
    let mut value: u64 = 0;
    for (i, &b) in digits.iter().enumerate() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => {
                return Err(NameError::BadByte {
                    pos: base + start + i,
                    byte: b,
                })
            }
        };
        // At most 16 digits per field, so this never overflows a u64.
        value = (value << 4) | u64::from(d);
    }
    Ok(value)
}

impl ResName {
    /// The 24 bytes passed to `dlm_lock` as the resource name.
    pub const fn as_bytes(&self) -> &[u8; NAME_LEN] {
        &self.0
    }

    /// The name as text (always ASCII).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The 25-byte `strname` buffer of `gdlm_lock` / `sync_lock` (NUL-terminated).
    pub fn to_strname(&self) -> [u8; GDLM_STRNAME_BYTES] {
        let mut out = [0u8; GDLM_STRNAME_BYTES];
        out[..NAME_LEN].copy_from_slice(&self.0);
        out
    }

    /// Decode back to the glock name (see [`LockName::decode`]).
    pub fn decode(&self) -> Result<LockName, NameError> {
        LockName::decode(&self.0)
    }
}

impl fmt::Debug for ResName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResName({:?})", self.as_str())
    }
}

impl fmt::Display for ResName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<[u8]> for ResName {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<&[u8]> for LockName {
    type Error = NameError;
    fn try_from(bytes: &[u8]) -> Result<Self, NameError> {
        LockName::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_mounted_names() {
        assert_eq!(
            LockName::nondisk(4).encode().as_str(),
            "       1               4"
        );
        assert_eq!(
            LockName::nondisk(5).encode().as_str(),
            "       1               5"
        );
    }

    #[test]
    fn zero_styles_differ() {
        let n = LockName::new(0, 0);
        assert_eq!(n.encode().as_str(), "       0               0");
        assert_eq!(
            n.encode_with(NameStyle::Blank).as_str(),
            "                        "
        );
        assert_eq!(LockName::decode_with(&[b' '; 24], NameStyle::Blank), Ok(n));
        assert_eq!(
            LockName::decode(&[b' '; 24]),
            Err(NameError::BlankField { pos: 0 })
        );
    }

    #[test]
    fn extremes_round_trip() {
        let n = LockName::new(u32::MAX, u64::MAX);
        let e = n.encode();
        assert_eq!(e.as_str(), "ffffffffffffffffffffffff");
        assert_eq!(e.decode(), Ok(n));
    }

    /// Reference `gfs2_reverse_hex` as in the kernel (`*c = '0'` in the reference style,
    /// then `while (value)`), over a field of the given width.
    fn kernel_reverse_hex(field: &mut [u8], mut value: u64, style: NameStyle) {
        let mut c = field.len() - 1;
        if style == NameStyle::Reference {
            field[c] = b'0';
        }
        while value != 0 {
            field[c] = HEX[(value & 0xf) as usize];
            value >>= 4;
            c = c.wrapping_sub(1);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// `encode_into` rewrites every byte of whatever name it is given, and gives
        /// the kernel's bytes; `encode_with` gives the same.
        #[test]
        fn encode_into_rewrites_every_byte(
            t in proptest::prelude::any::<u32>(),
            n in proptest::prelude::any::<u64>(),
            shift in 0u32..64,
            blank in proptest::prelude::any::<bool>(),
            (pt, pn) in proptest::prelude::any::<(u32, u64)>(),
        ) {
            let style = if blank { NameStyle::Blank } else { NameStyle::Reference };
            // Every digit count: n >> shift has 0..=16 digits.
            let name = LockName::new(t >> (shift % 32), n >> shift);
            let mut want = [b' '; NAME_LEN];
            kernel_reverse_hex(&mut want[..TYPE_WIDTH], u64::from(name.ln_type), style);
            kernel_reverse_hex(&mut want[TYPE_WIDTH..], name.ln_number, style);
            let mut out = LockName::new(pt, pn).encode_with(NameStyle::Blank);
            name.encode_into(style, &mut out);
            proptest::prop_assert_eq!(out.as_bytes(), &want);
            proptest::prop_assert_eq!(name.encode_with(style), out);
        }
    }

    #[test]
    fn strname_has_trailing_nul_and_decodes() {
        let s = LockName::new(2, 0x1234).encode().to_strname();
        assert_eq!(s[24], 0);
        assert_eq!(LockName::decode(&s), Ok(LockName::new(2, 0x1234)));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(
            LockName::decode(b"short"),
            Err(NameError::WrongLength { len: 5 })
        );
        assert_eq!(
            LockName::decode(b"       2           12"),
            Err(NameError::WrongLength { len: 21 })
        );
        assert_eq!(
            LockName::decode(b"       2            0012"),
            Err(NameError::LeadingZero { pos: 20 })
        );
        assert_eq!(
            LockName::decode(b"       2             012"),
            Err(NameError::LeadingZero { pos: 21 })
        );
        assert_eq!(
            LockName::decode(b"       2             A12"),
            Err(NameError::BadByte {
                pos: 21,
                byte: b'A'
            })
        );
        assert_eq!(
            LockName::decode(b"       2            1 12"),
            Err(NameError::BadByte {
                pos: 21,
                byte: b' '
            })
        );
        let mut nul25 = [b'1'; 25];
        nul25[24] = b'x';
        assert_eq!(
            LockName::decode(&nul25),
            Err(NameError::WrongLength { len: 25 })
        );
    }
}
