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

/// Two hex digits per byte value, as a little-endian `u16` (first digit in the low
/// byte) XOR two spaces: `HEX2[b] ^ 0x2020` is `%02x` of `b`. XORed into a pair of
/// spaces it leaves the digits.
static HEX2: [u16; 256] = hex2_table(false);

/// [`HEX2`] for the most significant byte of a value: `%2x` with the kernel's
/// zero, so a single digit keeps a space in front (`gfs2_reverse_hex` stops after
/// the last digit, over a field of spaces) and zero is `" 0"` (`*c = '0'`).
static HEX2_FIRST: [u16; 256] = hex2_table(true);

const fn hex2_table(first: bool) -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        let hi = if first && b < 16 { b' ' } else { HEX[b >> 4] };
        t[b] = u16::from_le_bytes([hi ^ b' ', HEX[b & 0xf] ^ b' ']);
        b += 1;
    }
    t
}

/// `b` in every byte of a `u128`.
const fn splat(b: u8) -> u128 {
    u128::from_le_bytes([b; 16])
}

/// `gfs2_reverse_hex` over a field of `2 * PAIRS` spaces: `value` right-aligned, as
/// the field's bytes in a little-endian `u128` (byte 0 is the field's first).
///
/// Built in registers, two digits per step, so that the kernel's one test per
/// digit (`while (value)`) becomes one per two digits; the most significant pair
/// comes from [`HEX2_FIRST`] (picked without a branch), so an odd digit count needs
/// no fix-up. `PAIRS` is a constant (4 or 8): the loop is unrolled, every shift is
/// a constant and the loop's only exit is the kernel's test. The caller stores the
/// result in whole words: a name written in 2-byte stores and read back as one (a
/// by-value return, a request copied into a message) waits for the stores to
/// drain instead of having them forwarded.
#[inline(always)]
fn reverse_hex<const PAIRS: usize>(value: u64, style: NameStyle) -> u128 {
    let mut field = splat(b' ') & (u128::MAX >> (128 - 16 * PAIRS));
    let mut rest = value;
    let mut k = 0;
    while k < PAIRS {
        let byte = (rest & 0xff) as usize;
        rest >>= 8;
        let table = if rest == 0 { &HEX2_FIRST } else { &HEX2 };
        // The last digit is the field's last byte.
        field ^= u128::from(table[byte]) << (16 * (PAIRS - 1 - k));
        // `value` has at most 2 * PAIRS digits, so this exits at the latest after the last pair.
        if rest == 0 {
            break;
        }
        k += 1;
    }
    // Only the blank style (Linux <= 3.9) leaves a zero value without its `0`.
    if value == 0 && style == NameStyle::Blank {
        field = splat(b' ') & (u128::MAX >> (128 - 16 * PAIRS));
    }
    field
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
        let mut out = ResName([0; NAME_LEN]);
        self.encode_into(style, &mut out);
        out
    }

    /// [`encode_with`](Self::encode_with) into an existing name, in place, as `gdlm_lock`
    /// fills its `strname` buffer: every byte of `out` is rewritten, in three 8-byte
    /// stores.
    #[inline(always)]
    pub fn encode_into(&self, style: NameStyle, out: &mut ResName) {
        let ty = reverse_hex::<{ TYPE_WIDTH / 2 }>(u64::from(self.ln_type), style) as u64;
        let number = reverse_hex::<{ (NAME_LEN - TYPE_WIDTH) / 2 }>(self.ln_number, style);
        out.0[..TYPE_WIDTH].copy_from_slice(&ty.to_le_bytes());
        out.0[TYPE_WIDTH..].copy_from_slice(&number.to_le_bytes());
    }

    /// [`encode`](Self::encode) at compile time (one digit at a time), for the fixed
    /// names of the sync locks: `sync_lock` builds the same bytes on every call.
    pub(crate) const fn encode_const(&self) -> ResName {
        const fn field(out: &mut [u8; NAME_LEN], end: usize, mut v: u64) {
            let mut i = end;
            loop {
                i -= 1;
                out[i] = HEX[(v & 0xf) as usize];
                v >>= 4;
                if v == 0 {
                    break;
                }
            }
        }
        let mut out = [b' '; NAME_LEN];
        field(&mut out, TYPE_WIDTH, self.ln_type as u64);
        field(&mut out, NAME_LEN, self.ln_number);
        ResName(out)
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

    /// The compile-time encoder writes what the runtime one writes.
    #[test]
    fn encode_const_matches_encode() {
        let fixed = [
            0u64,
            1,
            4,
            9,
            0xf,
            0x10,
            0xff,
            0x100,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let random = (0..200).map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> (x % 64)
        });
        for n in fixed.into_iter().chain(random) {
            for ty in [0u32, 1, 2, 0xabc, u32::MAX, n as u32] {
                let l = LockName::new(ty, n);
                assert_eq!(l.encode_const(), l.encode(), "{ty:x} {n:x}");
            }
        }
    }

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

    /// Every digit count of both fields, in both styles, at both ends of each count
    /// (a lone top digit, which takes the space from [`HEX2_FIRST`], and a full one).
    #[test]
    fn every_digit_count_matches_the_kernel() {
        for style in [NameStyle::Reference, NameStyle::Blank] {
            for digits in 0..=16u32 {
                let (lo, hi) = match digits {
                    0 => (0, 0),
                    d => (1u64 << (4 * (d - 1)), u64::MAX >> (64 - 4 * d)),
                };
                for n in [lo, hi] {
                    let t = (n >> (digits.saturating_sub(8) * 4)) as u32;
                    let name = LockName::new(t, n);
                    let mut want = [b' '; NAME_LEN];
                    kernel_reverse_hex(&mut want[..TYPE_WIDTH], u64::from(t), style);
                    kernel_reverse_hex(&mut want[TYPE_WIDTH..], n, style);
                    assert_eq!(
                        name.encode_with(style).as_bytes(),
                        &want,
                        "{name:?} {style:?}"
                    );
                }
            }
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
