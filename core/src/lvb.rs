//! The control_lock value block (reference: `control_lvb_read`,
//! `control_lvb_write`, `all_jid_bits_clear`, `JID_BITMAP_OFFSET`).
//!
//! Layout (32 bytes): little-endian u32 generation, 4 unused bytes (carried through
//! untouched), then a 192-bit jid bitmap in the kernel's little-endian bit order
//! (`test_bit_le`): jid `j` is bit `j & 7` of byte `8 + j / 8`.

use core::fmt;

use bitvec::prelude::*;

use crate::consts::{GDLM_LVB_SIZE, JID_BITMAP_OFFSET, MAX_JIDS};

/// The generation that administratively disables mounting (`control_mount`
/// fails with `-EINVAL` when it reads it).
pub const DISABLED_GENERATION: u32 = 0xFFFF_FFFF;

/// Why bytes are not a control LVB, or a jid does not fit in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LvbError {
    /// The buffer is not `GDLM_LVB_SIZE` (32) bytes.
    WrongLength {
        /// Length given.
        len: usize,
    },
    /// A jid ≥ 192 has no bit in the LVB.
    JidOutOfRange {
        /// The jid.
        jid: u32,
    },
}

impl fmt::Display for LvbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LvbError::WrongLength { len } => {
                write!(f, "control LVB is {len} bytes, expected {GDLM_LVB_SIZE}")
            }
            LvbError::JidOutOfRange { jid } => {
                write!(
                    f,
                    "jid {jid} has no bit in the control LVB (max {})",
                    MAX_JIDS - 1
                )
            }
        }
    }
}

impl core::error::Error for LvbError {}

/// Bytes handed over as a control LVB are not `GDLM_LVB_SIZE` (32) long
/// ([`control_lvb_read_slice`]). Eight bytes with its `Result<u32, _>`, so that the
/// result comes back in registers; [`LvbError::WrongLength`] carries the same length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LvbLengthError {
    /// The length given, or `u32::MAX` for any length beyond it.
    pub len: u32,
}

impl LvbLengthError {
    fn of(bytes: &[u8]) -> Self {
        LvbLengthError {
            len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for LvbLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "control LVB is {} bytes, expected {GDLM_LVB_SIZE}",
            self.len
        )
    }
}

impl core::error::Error for LvbLengthError {}

impl From<LvbLengthError> for LvbError {
    fn from(e: LvbLengthError) -> Self {
        LvbError::WrongLength {
            len: e.len as usize,
        }
    }
}

/// The 32-byte control_lock LVB, kept as raw bytes so that every byte the cluster
/// wrote (including the unused ones) goes back unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ControlLvb {
    bytes: [u8; GDLM_LVB_SIZE],
}

#[cfg(feature = "defmt")]
impl defmt::Format for ControlLvb {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "ControlLvb(gen {=u32}, {=[u8]:x})",
            self.generation(),
            self.bytes
        )
    }
}

/// A set of jids (0..192) in the LVB's bit order; what the control step asks to recover.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct JidSet {
    bits: BitArray<[u8; GDLM_LVB_SIZE - JID_BITMAP_OFFSET], Lsb0>,
}

#[cfg(feature = "defmt")]
impl defmt::Format for JidSet {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "JidSet({=[u8]:x})", self.bits.data)
    }
}

impl JidSet {
    /// The empty set.
    pub const fn new() -> Self {
        JidSet {
            bits: BitArray::ZERO,
        }
    }

    /// Add `jid`.
    #[inline]
    pub fn insert(&mut self, jid: u32) -> Result<(), LvbError> {
        let i = jid_index(jid)?;
        self.bits.set(i, true);
        Ok(())
    }

    /// Is `jid` in the set (false for jids beyond 191)?
    #[inline]
    pub fn contains(&self, jid: u32) -> bool {
        jid_index(jid).map(|i| self.bits[i]).unwrap_or(false)
    }

    /// Number of jids.
    #[inline]
    pub fn len(&self) -> usize {
        self.bits.count_ones()
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        // Three 8-byte words: bitvec's not_any() walks bit-domains and costs ~10x more,
        // and a byte scan is a vector compare and a mask extraction.
        self.bits.data.chunks_exact(8).fold(0u64, |a, w| {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            a | u64::from_ne_bytes(b)
        }) == 0
    }

    /// The jids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        // iter_ones yields indices < 192, which fit in u32.
        self.bits.iter_ones().map(|i| i as u32)
    }

    /// The 24 raw bitmap bytes.
    pub fn as_bytes(&self) -> &[u8; GDLM_LVB_SIZE - JID_BITMAP_OFFSET] {
        &self.bits.data
    }
}

impl fmt::Debug for JidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

fn jid_index(jid: u32) -> Result<usize, LvbError> {
    usize::try_from(jid)
        .ok()
        .filter(|&j| j < MAX_JIDS)
        .ok_or(LvbError::JidOutOfRange { jid })
}

impl ControlLvb {
    /// All zero: generation 0, no jids (a new lock's LVB).
    pub const fn zeroed() -> Self {
        ControlLvb {
            bytes: [0; GDLM_LVB_SIZE],
        }
    }

    /// Wrap 32 bytes as they came from the DLM.
    #[inline]
    pub const fn from_array(bytes: [u8; GDLM_LVB_SIZE]) -> Self {
        ControlLvb { bytes }
    }

    /// Decode a buffer of any length: exactly 32 bytes are accepted.
    #[inline]
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LvbError> {
        let arr: [u8; GDLM_LVB_SIZE] = bytes
            .try_into()
            .map_err(|_| LvbError::WrongLength { len: bytes.len() })?;
        Ok(ControlLvb { bytes: arr })
    }

    /// Overwrite with bytes of any length, as they came from the DLM: exactly 32 are
    /// accepted, and on error `self` is unchanged. The in-place form of
    /// [`from_bytes`](Self::from_bytes): no `Result` carries the 32 bytes, so they are
    /// copied once, straight into `self`.
    #[inline]
    pub fn copy_from_bytes(&mut self, bytes: &[u8]) -> Result<(), LvbError> {
        match <&[u8; GDLM_LVB_SIZE]>::try_from(bytes) {
            Ok(arr) => {
                self.bytes = *arr;
                Ok(())
            }
            Err(_) => Err(LvbError::WrongLength { len: bytes.len() }),
        }
    }

    /// The bytes to hand to the DLM.
    #[inline]
    pub const fn as_bytes(&self) -> &[u8; GDLM_LVB_SIZE] {
        &self.bytes
    }

    /// The generation (`le32_to_cpu` of bytes 0–3).
    #[inline]
    pub const fn generation(&self) -> u32 {
        u32::from_le_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]])
    }

    /// Replace the generation, keeping every other byte.
    #[inline]
    pub fn set_generation(&mut self, gen: u32) {
        self.bytes[..4].copy_from_slice(&gen.to_le_bytes());
    }

    /// The generation is `0xFFFFFFFF`: mounts are disabled.
    #[inline]
    pub const fn is_disabled(&self) -> bool {
        self.generation() == DISABLED_GENERATION
    }

    fn bitmap(&self) -> &BitSlice<u8, Lsb0> {
        self.bytes[JID_BITMAP_OFFSET..].view_bits::<Lsb0>()
    }

    fn bitmap_mut(&mut self) -> &mut BitSlice<u8, Lsb0> {
        self.bytes[JID_BITMAP_OFFSET..].view_bits_mut::<Lsb0>()
    }

    /// `test_bit_le(jid, lvb + JID_BITMAP_OFFSET)`.
    #[inline]
    pub fn jid(&self, jid: u32) -> Result<bool, LvbError> {
        let i = jid_index(jid)?;
        Ok(self.bitmap()[i])
    }

    /// `__set_bit_le` / `__clear_bit_le`.
    #[inline]
    pub fn set_jid(&mut self, jid: u32, value: bool) -> Result<(), LvbError> {
        let i = jid_index(jid)?;
        self.bitmap_mut().set(i, value);
        Ok(())
    }

    /// The bits of jids `16c..16c + 16` (bit k: jid `16c + k`), 0 beyond jid 191.
    #[inline]
    pub(crate) fn jid_bits16(&self, c: usize) -> u16 {
        let i = JID_BITMAP_OFFSET + 2 * c;
        match self.bytes.get(i..i + 2) {
            Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
            _ => 0,
        }
    }

    /// Replace the bits of jids `16c..16c + 16`; nothing beyond jid 191.
    #[inline]
    pub(crate) fn set_jid_bits16(&mut self, c: usize, bits: u16) {
        let i = JID_BITMAP_OFFSET + 2 * c;
        if let Some(b) = self.bytes.get_mut(i..i + 2) {
            b.copy_from_slice(&bits.to_le_bytes());
        }
    }

    /// `all_jid_bits_clear`: no jid needs recovery (bytes 8–31 all zero).
    #[inline]
    pub fn all_jid_bits_clear(&self) -> bool {
        self.bytes[JID_BITMAP_OFFSET..].iter().all(|&b| b == 0)
    }

    /// The jids whose bits are set.
    #[inline]
    pub fn jids(&self) -> JidSet {
        let mut set = JidSet::new();
        set.bits
            .data
            .copy_from_slice(&self.bytes[JID_BITMAP_OFFSET..]);
        set
    }

    /// The jids below `limit` whose bits are set (the control step scans only
    /// `jid < recover_size`).
    #[inline]
    pub fn jids_below(&self, limit: u32) -> JidSet {
        let mut out = [0u8; GDLM_LVB_SIZE - JID_BITMAP_OFFSET];
        for (o, w) in out.chunks_exact_mut(8).zip(self.jid_words_below(limit)) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        JidSet {
            bits: BitArray::new(out),
        }
    }

    /// Some jid below `limit` has its bit set: `!jids_below(limit).is_empty()`, on
    /// three words.
    #[inline]
    pub fn any_jid_below(&self, limit: u32) -> bool {
        // No bit at all (the usual answer) needs no masks.
        let [a, b, c] = self.jid_words_below(u32::MAX);
        if a | b | c == 0 {
            return false;
        }
        let [a, b, c] = self.jid_words_below(limit);
        a | b | c != 0
    }

    /// The bitmap as three little-endian 64-bit words (jids 64k..64k+63 are word k's
    /// bits 0..63), masked to the jids below `limit`: no variable-length clear.
    #[inline]
    fn jid_words_below(&self, limit: u32) -> [u64; 3] {
        let mut out = [0u64; 3];
        for (k, (o, i)) in out
            .iter_mut()
            .zip(self.bytes[JID_BITMAP_OFFSET..].chunks_exact(8))
            .enumerate()
        {
            let mut w = [0u8; 8];
            w.copy_from_slice(i);
            let n = limit.saturating_sub(64 * k as u32);
            let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
            *o = u64::from_le_bytes(w) & mask;
        }
        out
    }
}

/// `control_lvb_read`: the generation and a copy of the whole LVB (the kernel's
/// `ls_lvb_bits` scratch buffer, which keeps the LVB's bytes 0–7 too).
#[inline]
pub fn control_lvb_read(lvb: &ControlLvb) -> (u32, ControlLvb) {
    (lvb.generation(), *lvb)
}

/// `control_lvb_read` in place, in the kernel's order: copy `lvb` into `bits` (the
/// caller's `ls_lvb_bits`), then return the generation read from the copy. The same
/// result as [`control_lvb_read`] without building the pair, so the 32 bytes are
/// copied in two aligned halves as the C's `memcpy`.
#[inline]
pub fn control_lvb_read_into(lvb: &ControlLvb, bits: &mut ControlLvb) -> u32 {
    *bits = *lvb;
    bits.generation()
}

/// [`control_lvb_read_into`] from bytes of unchecked length (an LVB as untrusted
/// input): exactly 32 are accepted, and on error `bits` is unchanged. One length
/// check, then the fixed-size path; the error is small enough that the result is
/// returned in registers rather than through memory.
#[inline]
pub fn control_lvb_read_slice(raw: &[u8], bits: &mut ControlLvb) -> Result<u32, LvbLengthError> {
    let lvb: &[u8; GDLM_LVB_SIZE] = raw.try_into().map_err(|_| LvbLengthError::of(raw))?;
    bits.bytes = *lvb;
    Ok(bits.generation())
}

/// `control_lvb_write`: `bits` with bytes 0–3 replaced by `gen`, little-endian.
#[inline]
pub fn control_lvb_write(gen: u32, bits: &ControlLvb) -> ControlLvb {
    let mut out = *bits;
    out.set_generation(gen);
    out
}

/// Model checkers ([`crate::engine::Engine::visit_generations`]).
impl ControlLvb {
    /// Calls `f` on the generation (bytes 0–3) and writes back what it leaves there;
    /// every other byte stays.
    pub fn visit_generation<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        let mut g = self.generation();
        f(&mut g);
        self.set_generation(g);
    }
}

impl fmt::Debug for ControlLvb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlLvb")
            .field("generation", &self.generation())
            .field(
                "unused",
                &[self.bytes[4], self.bytes[5], self.bytes[6], self.bytes[7]],
            )
            .field("jids", &self.jids())
            .finish()
    }
}

impl TryFrom<&[u8]> for ControlLvb {
    type Error = LvbError;
    fn try_from(bytes: &[u8]) -> Result<Self, LvbError> {
        ControlLvb::from_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_kernel_le() -> Result<(), LvbError> {
        let mut l = ControlLvb::zeroed();
        l.set_generation(0x0403_0201);
        l.set_jid(0, true)?;
        l.set_jid(9, true)?;
        l.set_jid(191, true)?;
        let b = l.as_bytes();
        assert_eq!(&b[..4], &[1, 2, 3, 4]);
        assert_eq!(b[8], 0x01);
        assert_eq!(b[9], 0x02);
        assert_eq!(b[31], 0x80);
        assert_eq!(
            l.jids()
                .iter()
                .collect::<heapless::Vec<u32, 4>>()
                .as_slice(),
            &[0, 9, 191]
        );
        assert_eq!(l.jids_below(10).len(), 2);
        assert!(!l.all_jid_bits_clear());
        assert_eq!(l.jid(192), Err(LvbError::JidOutOfRange { jid: 192 }));
        Ok(())
    }

    #[test]
    fn unused_bytes_survive_and_disabled() -> Result<(), LvbError> {
        let mut raw = [0u8; 32];
        raw[..4].copy_from_slice(&[0xff; 4]);
        raw[5] = 0xaa;
        let l = ControlLvb::from_bytes(&raw)?;
        assert!(l.is_disabled());
        assert!(l.all_jid_bits_clear());
        let w = control_lvb_write(7, &l);
        assert_eq!(w.as_bytes()[5], 0xaa);
        assert_eq!(w.generation(), 7);
        assert_eq!(
            ControlLvb::from_bytes(&raw[..31]),
            Err(LvbError::WrongLength { len: 31 })
        );
        Ok(())
    }

    #[test]
    fn read_slice_takes_exactly_32_or_leaves_bits() {
        let src: [u8; 40] = core::array::from_fn(|i| i as u8 + 1);
        let before = ControlLvb::from_array([0xee; 32]);
        for len in 0..=40 {
            let mut bits = before;
            let r = control_lvb_read_slice(&src[..len], &mut bits);
            if len == 32 {
                assert_eq!(r, Ok(u32::from_le_bytes([1, 2, 3, 4])));
                assert_eq!(&bits.as_bytes()[..], &src[..32]);
            } else {
                assert_eq!(r, Err(LvbLengthError { len: len as u32 }));
                assert_eq!(
                    LvbError::from(LvbLengthError { len: len as u32 }),
                    LvbError::WrongLength { len }
                );
                assert_eq!(bits, before, "{len} bytes changed the LVB");
            }
        }
    }

    #[test]
    fn copy_from_bytes_takes_exactly_32_or_leaves_self() {
        let src: [u8; 40] = core::array::from_fn(|i| i as u8 + 1);
        let before = ControlLvb::from_array([0xee; 32]);
        for len in 0..=40 {
            let mut l = before;
            let r = l.copy_from_bytes(&src[..len]);
            if len == 32 {
                assert_eq!(r, Ok(()));
                assert_eq!(&l.as_bytes()[..], &src[..32]);
                assert_eq!(ControlLvb::from_bytes(&src[..32]), Ok(l));
            } else {
                assert_eq!(r, Err(LvbError::WrongLength { len }));
                assert_eq!(l, before, "{len} bytes changed the LVB");
            }
        }
    }
}
