//! TCP-style lock statistics (reference: `gfs2_update_stats`,
//! `gfs2_update_reply_times`, `gfs2_update_request_times`).
//!
//! Timestamps are nanoseconds supplied by the caller (`ktime_get_real()` in the
//! kernel); nothing here reads a clock. Arithmetic wraps exactly like the kernel's
//! s64 arithmetic, so no input can panic.

use core::fmt;

use crate::consts::*;
use crate::flags::{LockRequest, RequestStamp};

/// Which mean/variance pair an update targets. The variance is always the next slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum StatPair {
    /// `GFS2_LKS_SRTT` / `SRTTVAR`: round trip of non-blocking requests.
    Srtt = GFS2_LKS_SRTT as u8,
    /// `GFS2_LKS_SRTTB` / `SRTTVARB`: round trip of blocking requests.
    SrttB = GFS2_LKS_SRTTB as u8,
    /// `GFS2_LKS_SIRT` / `SIRTVAR`: inter-request time.
    Sirt = GFS2_LKS_SIRT as u8,
}

impl StatPair {
    /// The pair a reply updates (`gfs2_update_reply_times`): SRTTB if the request was
    /// blocking, SRTT otherwise.
    pub const fn reply(blocking: bool) -> StatPair {
        if blocking {
            StatPair::SrttB
        } else {
            StatPair::Srtt
        }
    }

    /// Index of the mean in [`LkStats::stats`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The pair whose mean is at `index` (0, 2 or 4).
    pub const fn from_index(index: usize) -> Option<StatPair> {
        match index {
            GFS2_LKS_SRTT => Some(StatPair::Srtt),
            GFS2_LKS_SRTTB => Some(StatPair::SrttB),
            GFS2_LKS_SIRT => Some(StatPair::Sirt),
            _ => None,
        }
    }
}

/// `struct gfs2_lkstats`: eight signed 64-bit counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LkStats {
    /// SRTT, SRTTVAR, SRTTB, SRTTVARB, SIRT, SIRTVAR, DCOUNT, QCOUNT.
    pub stats: [i64; 8],
}

impl LkStats {
    /// All zero.
    pub const fn new() -> Self {
        LkStats { stats: [0; 8] }
    }

    /// `gfs2_update_stats`: fold one sample into a mean (1/8 gain) and its
    /// mean deviation (1/4 gain), with s64 wrap-around and arithmetic shifts.
    #[inline]
    pub fn update(&mut self, pair: StatPair, sample: i64) {
        let i = pair.index();
        let m = self.stats[i];
        let delta = sample.wrapping_sub(m);
        // The mean stored before the variance, as the kernel does: one instruction
        // more than the other order (16, C 18), but ~5% faster per call in the
        // interleaved comparison (gdlm-nsratio), a call's stats being the next
        // call's inputs.
        self.stats[i] = m.wrapping_add(delta >> 3);
        // abs64(S64_MIN) is S64_MIN in the kernel; wrapping_abs agrees.
        let v = self.stats[i + 1];
        self.stats[i + 1] = v.wrapping_add(delta.wrapping_abs().wrapping_sub(v) >> 2);
    }

    /// `gfs2_glstats_inc` / `gfs2_sbstats_inc` of `GFS2_LKS_DCOUNT`.
    pub fn inc_dcount(&mut self) {
        self.stats[GFS2_LKS_DCOUNT] = self.stats[GFS2_LKS_DCOUNT].wrapping_add(1);
    }

    /// Increment of `GFS2_LKS_QCOUNT` (glock holder queued, glock.c).
    pub fn inc_qcount(&mut self) {
        self.stats[GFS2_LKS_QCOUNT] = self.stats[GFS2_LKS_QCOUNT].wrapping_add(1);
    }

    /// The mean of a pair.
    pub const fn mean(&self, pair: StatPair) -> i64 {
        self.stats[pair.index()]
    }

    /// The variance (mean deviation) of a pair.
    pub const fn var(&self, pair: StatPair) -> i64 {
        self.stats[pair.index() + 1]
    }
}

/// Number of GFS2 lock types (`LM_TYPE_RESERVED` 0 … `LM_TYPE_JOURNAL` 9).
pub const LM_TYPE_COUNT: usize = 10;

/// A lock type outside the per-type table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnknownLockType(pub u32);

impl fmt::Display for UnknownLockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lock type {} has no stats slot", self.0)
    }
}

impl core::error::Error for UnknownLockType {}

/// Per-lock-type aggregates (`sd_lkstats->lkstats[gltype]`); the kernel keeps one
/// per CPU, the caller may keep one per CPU or one in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TypeStats<const T: usize = LM_TYPE_COUNT> {
    /// One `LkStats` per `ln_type`.
    pub lkstats: [LkStats; T],
}

impl<const T: usize> Default for TypeStats<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const T: usize> TypeStats<T> {
    /// All zero.
    pub const fn new() -> Self {
        TypeStats {
            lkstats: [LkStats::new(); T],
        }
    }

    /// The stats of one lock type.
    pub fn get(&self, ln_type: u32) -> Result<&LkStats, UnknownLockType> {
        usize::try_from(ln_type)
            .ok()
            .and_then(|i| self.lkstats.get(i))
            .ok_or(UnknownLockType(ln_type))
    }

    /// The stats of one lock type, mutably.
    pub fn get_mut(&mut self, ln_type: u32) -> Result<&mut LkStats, UnknownLockType> {
        usize::try_from(ln_type)
            .ok()
            .and_then(|i| self.lkstats.get_mut(i))
            .ok_or(UnknownLockType(ln_type))
    }
}

/// A glock's stats and request timestamp (`gl_stats`, `gl_dstamp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GlockStats {
    /// The glock's own stats.
    pub stats: LkStats,
    /// `gl_dstamp`: when the last DLM request was sent, in ns.
    pub dstamp: i64,
}

impl GlockStats {
    /// Zero stats, zero stamp (a fresh glock).
    pub const fn new() -> Self {
        GlockStats {
            stats: LkStats::new(),
            dstamp: 0,
        }
    }

    /// `gfs2_update_request_times`: sample the inter-request time, restamp, and fold
    /// the sample into both the glock's and the lock type's SIRT. Returns the sample.
    pub fn request_times(&mut self, now: i64, per_type: Option<&mut LkStats>) -> i64 {
        let irt = now.wrapping_sub(self.dstamp);
        self.dstamp = now;
        self.stats.update(StatPair::Sirt, irt);
        if let Some(t) = per_type {
            t.update(StatPair::Sirt, irt);
        }
        irt
    }

    /// `gfs2_update_reply_times`: sample the round trip since `gl_dstamp` into
    /// SRTTB (blocking) or SRTT, for the glock and its type. Returns the sample.
    pub fn on_reply(&mut self, now: i64, blocking: bool, per_type: Option<&mut LkStats>) -> i64 {
        let rtt = now.wrapping_sub(self.dstamp);
        let pair = StatPair::reply(blocking);
        self.stats.update(pair, rtt);
        if let Some(t) = per_type {
            t.update(pair, rtt);
        }
        rtt
    }

    /// Apply the stats side of `gdlm_lock` for a request: count it (DCOUNT on the
    /// glock and its type), then restamp or sample the inter-request time.
    pub fn on_request(&mut self, req: &LockRequest, now: i64, mut per_type: Option<&mut LkStats>) {
        self.stats.inc_dcount();
        if let Some(t) = per_type.as_deref_mut() {
            t.inc_dcount();
        }
        match req.stamp {
            RequestStamp::UpdateRequestTimes => {
                self.request_times(now, per_type);
            }
            RequestStamp::SetDstamp => self.dstamp = now,
        }
    }

    /// The stats side of `gdlm_put_lock` when it reaches the DLM path: count the
    /// request and sample the inter-request time.
    pub fn on_put_lock(&mut self, now: i64, mut per_type: Option<&mut LkStats>) {
        self.stats.inc_dcount();
        if let Some(t) = per_type.as_deref_mut() {
            t.inc_dcount();
        }
        self.request_times(now, per_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_matches_hand_computation() {
        let mut s = LkStats::new();
        s.update(StatPair::Srtt, 800);
        assert_eq!(s.mean(StatPair::Srtt), 100);
        assert_eq!(s.var(StatPair::Srtt), 200);
        s.update(StatPair::Srtt, -700);
        // delta = -800: mean 100 + (-800>>3) = 0; var 200 + ((800-200)>>2) = 350
        assert_eq!(s.stats[0], 0);
        assert_eq!(s.stats[1], 350);
    }

    #[test]
    fn extremes_wrap_without_panic() {
        let mut s = LkStats {
            stats: [i64::MAX, i64::MIN, 0, 0, 0, 0, 0, 0],
        };
        s.update(StatPair::Srtt, i64::MIN);
        // delta = MIN - MAX wraps to 1; mean MAX + 0; var MIN + ((1 - MIN) >> 2)
        assert_eq!(s.stats[0], i64::MAX);
        // (1 - MIN) wraps to MIN + 1; >> 2 gives -2^61; MIN - 2^61 wraps to 2^63 - 2^61.
        assert_eq!(s.stats[1], 6_917_529_027_641_081_856);
    }

    #[test]
    fn reply_and_request_times() {
        let mut g = GlockStats::new();
        let mut t = TypeStats::<10>::new();
        g.dstamp = 1000;
        assert_eq!(g.on_reply(1800, true, t.get_mut(2).ok()), 800);
        assert_eq!(g.stats.mean(StatPair::SrttB), 100);
        assert_eq!(t.get(2).map(|s| s.mean(StatPair::SrttB)), Ok(100));
        assert_eq!(g.request_times(2600, None), 1600);
        assert_eq!(g.dstamp, 2600);
        assert_eq!(t.get(10), Err(UnknownLockType(10)));
    }
}
