//! GFS2 lock flags → DLM lock flags (reference: `make_flags`, `gdlm_lock`).
//!
//! The reference policy and the modern kernel's are both available as a
//! [`FlagPolicy`]; see `shared/reference/UPSTREAM.md` §1.4 for how they differ.

use core::fmt;

use bitflags::bitflags;

use crate::consts::*;
use crate::mode::{make_mode, DlmMode, LmState, ModeError};
use crate::name::{LockName, NameStyle, ResName};

bitflags! {
    /// GFS2 glock request flags (`LM_FLAG_*`, `GL_*`, fs/gfs2/glock.h). Unknown bits are kept.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct LmFlags: u32 {
        /// `LM_FLAG_TRY`.
        const TRY = LM_FLAG_TRY;
        /// `LM_FLAG_TRY_1CB`.
        const TRY_1CB = LM_FLAG_TRY_1CB;
        /// `LM_FLAG_NOEXP` (not mapped to a DLM flag).
        const NOEXP = LM_FLAG_NOEXP;
        /// `LM_FLAG_ANY`.
        const ANY = LM_FLAG_ANY;
        /// `LM_FLAG_PRIORITY` (reference only).
        const PRIORITY = LM_FLAG_PRIORITY;
        /// `GL_ASYNC` (ignored here).
        const GL_ASYNC = 0x0040;
        /// `GL_EXACT` (ignored here).
        const GL_EXACT = 0x0080;
        /// `GL_SKIP` (ignored here).
        const GL_SKIP = 0x0100;
        /// `GL_NOCACHE` (ignored here).
        const GL_NOCACHE = 0x0400;
        const _ = !0;
    }
}

bitflags! {
    /// DLM lock flags (`DLM_LKF_*`, include/linux/dlmconstants.h) with the kernel's bit values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct DlmLkf: u32 {
        /// `DLM_LKF_NOQUEUE`.
        const NOQUEUE = DLM_LKF_NOQUEUE;
        /// `DLM_LKF_CANCEL`.
        const CANCEL = DLM_LKF_CANCEL;
        /// `DLM_LKF_CONVERT`.
        const CONVERT = DLM_LKF_CONVERT;
        /// `DLM_LKF_VALBLK`.
        const VALBLK = DLM_LKF_VALBLK;
        /// `DLM_LKF_QUECVT`.
        const QUECVT = DLM_LKF_QUECVT;
        /// `DLM_LKF_IVVALBLK`.
        const IVVALBLK = DLM_LKF_IVVALBLK;
        /// `DLM_LKF_CONVDEADLK`.
        const CONVDEADLK = DLM_LKF_CONVDEADLK;
        /// `DLM_LKF_PERSISTENT`.
        const PERSISTENT = DLM_LKF_PERSISTENT;
        /// `DLM_LKF_NODLCKWT`.
        const NODLCKWT = DLM_LKF_NODLCKWT;
        /// `DLM_LKF_NODLCKBLK`.
        const NODLCKBLK = DLM_LKF_NODLCKBLK;
        /// `DLM_LKF_EXPEDITE`.
        const EXPEDITE = DLM_LKF_EXPEDITE;
        /// `DLM_LKF_NOQUEUEBAST`.
        const NOQUEUEBAST = DLM_LKF_NOQUEUEBAST;
        /// `DLM_LKF_HEADQUE`.
        const HEADQUE = DLM_LKF_HEADQUE;
        /// `DLM_LKF_NOORDER`.
        const NOORDER = DLM_LKF_NOORDER;
        /// `DLM_LKF_ORPHAN`.
        const ORPHAN = DLM_LKF_ORPHAN;
        /// `DLM_LKF_ALTPR`.
        const ALTPR = DLM_LKF_ALTPR;
        /// `DLM_LKF_ALTCW`.
        const ALTCW = DLM_LKF_ALTCW;
        /// `DLM_LKF_FORCEUNLOCK`.
        const FORCEUNLOCK = DLM_LKF_FORCEUNLOCK;
        /// `DLM_LKF_TIMEOUT`.
        const TIMEOUT = DLM_LKF_TIMEOUT;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for LmFlags {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "LmFlags({=u32:#x})", self.bits())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DlmLkf {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "DlmLkf({=u32:#x})", self.bits())
    }
}

/// When `DLM_LKF_VALBLK` is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValblkPolicy {
    /// On every request (Linux 3.6).
    Always,
    /// Only when the glock has an LVB (`if (gl->gl_lksb.sb_lvbptr)`, reference and later).
    IfLvb,
}

/// When a conversion asks for `DLM_LKF_QUECVT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuecvtPolicy {
    /// Whenever `GLF_BLOCKING` is set (reference). The DLM rejects QUECVT on a
    /// down-conversion, so this can surface `-EINVAL`.
    GlfBlocking,
    /// Only on conversions that are not down-conversions and not TRY/TRY_1CB (modern).
    UpwardOnly,
}

/// Which kernel's `make_flags` to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FlagPolicy {
    /// When VALBLK is set.
    pub valblk: ValblkPolicy,
    /// Whether `LM_FLAG_PRIORITY` maps to `NOORDER | HEADQUE`.
    pub priority: bool,
    /// When QUECVT is set on a conversion.
    pub quecvt: QuecvtPolicy,
}

impl FlagPolicy {
    /// The reference (Linux v3.10–v3.16): VALBLK with an LVB, PRIORITY → NOORDER|HEADQUE,
    /// QUECVT whenever GLF_BLOCKING.
    pub const REFERENCE: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::IfLvb,
        priority: true,
        quecvt: QuecvtPolicy::GlfBlocking,
    };
    /// Linux 3.6: as the reference but VALBLK always.
    pub const LINUX_3_6: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::Always,
        priority: true,
        quecvt: QuecvtPolicy::GlfBlocking,
    };
    /// Modern kernels (6.x): VALBLK with an LVB, no PRIORITY, QUECVT only upward.
    pub const MODERN: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::IfLvb,
        priority: false,
        quecvt: QuecvtPolicy::UpwardOnly,
    };
}

impl Default for FlagPolicy {
    fn default() -> Self {
        FlagPolicy::REFERENCE
    }
}

/// What `make_flags` needs to know about the glock besides the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockContext {
    /// The glock has an LVB (`gl_lksb.sb_lvbptr != NULL`).
    pub has_lvb: bool,
    /// The glock already has a DLM lock (`sb_lkid != 0`): this is a conversion.
    pub converting: bool,
    /// `GLF_BLOCKING` is set (reference QUECVT policy).
    pub glf_blocking: bool,
    /// The mode currently held; required for a conversion under the modern QUECVT policy.
    pub cur: Option<DlmMode>,
}

/// A request `make_flags` refuses (the kernel would `BUG()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FlagsError {
    /// `LM_FLAG_ANY` with a requested mode other than PR or CW.
    AnyWithMode(DlmMode),
    /// The state requested or held is unknown.
    Mode(ModeError),
    /// [`QuecvtPolicy::UpwardOnly`] needs the mode held ([`LockContext::cur`]) to tell
    /// an upward conversion from a down-conversion.
    MissingCurrentMode,
}

impl From<ModeError> for FlagsError {
    fn from(e: ModeError) -> Self {
        FlagsError::Mode(e)
    }
}

impl fmt::Display for FlagsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagsError::AnyWithMode(m) => write!(f, "LM_FLAG_ANY with mode {m:?}"),
            FlagsError::Mode(e) => e.fmt(f),
            FlagsError::MissingCurrentMode => f.write_str("conversion without the mode held"),
        }
    }
}

impl core::error::Error for FlagsError {}

/// `down_conversion` of modern kernels: a move to a lower mode that is not PR ⇄ CW.
pub const fn is_down_conversion(cur: DlmMode, req: DlmMode) -> bool {
    let middle = matches!(
        (cur, req),
        (DlmMode::Pr, DlmMode::Cw) | (DlmMode::Cw, DlmMode::Pr)
    );
    !middle && (req as i8) < (cur as i8)
}

/// `make_flags`: the DLM flags for a request of mode `req`.
#[inline]
pub fn make_flags(
    policy: &FlagPolicy,
    gfs_flags: LmFlags,
    req: DlmMode,
    ctx: &LockContext,
) -> Result<DlmLkf, FlagsError> {
    let mut lkf = DlmLkf::empty();
    if policy.valblk == ValblkPolicy::Always || ctx.has_lvb {
        lkf |= DlmLkf::VALBLK;
    }
    if gfs_flags.contains(LmFlags::TRY) {
        lkf |= DlmLkf::NOQUEUE;
    }
    if gfs_flags.contains(LmFlags::TRY_1CB) {
        lkf |= DlmLkf::NOQUEUE | DlmLkf::NOQUEUEBAST;
    }
    if policy.priority && gfs_flags.contains(LmFlags::PRIORITY) {
        lkf |= DlmLkf::NOORDER | DlmLkf::HEADQUE;
    }
    if gfs_flags.contains(LmFlags::ANY) {
        match req {
            DlmMode::Pr => lkf |= DlmLkf::ALTCW,
            DlmMode::Cw => lkf |= DlmLkf::ALTPR,
            other => return Err(FlagsError::AnyWithMode(other)),
        }
    }
    if ctx.converting {
        lkf |= DlmLkf::CONVERT;
        let quecvt = match policy.quecvt {
            QuecvtPolicy::GlfBlocking => ctx.glf_blocking,
            QuecvtPolicy::UpwardOnly => {
                let cur = ctx.cur.ok_or(FlagsError::MissingCurrentMode)?;
                !is_down_conversion(cur, req)
                    && !gfs_flags.intersects(LmFlags::TRY | LmFlags::TRY_1CB)
            }
        };
        if quecvt {
            lkf |= DlmLkf::QUECVT;
        }
    }
    Ok(lkf)
}

/// What the glock's timestamps do when a request is sent (`gdlm_lock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RequestStamp {
    /// A conversion: `gfs2_update_request_times` (inter-request time sample, then stamp).
    UpdateRequestTimes,
    /// A first request: only `gl_dstamp = now`.
    SetDstamp,
}

/// One `dlm_lock` call, as `gdlm_lock` would make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockRequest {
    /// The mode asked for (`make_mode(req_state)`).
    pub mode: DlmMode,
    /// The flags (`make_flags`).
    pub flags: DlmLkf,
    /// The resource name for a new lock; `None` for a conversion (the kernel passes
    /// an all-NUL name).
    pub name: Option<ResName>,
    /// How the glock's timestamps change.
    pub stamp: RequestStamp,
}

impl LockRequest {
    /// The 25-byte `strname` buffer that `gdlm_lock` passes (all NUL for a conversion).
    pub fn strname(&self) -> [u8; GDLM_STRNAME_BYTES] {
        match &self.name {
            Some(n) => n.to_strname(),
            None => [0; GDLM_STRNAME_BYTES],
        }
    }
}

/// `gdlm_lock`: the `dlm_lock` call for a glock request to `req_state`.
///
/// Both `GFS2_LKS_DCOUNT` counters (glock and per-type) count one request for every
/// `Ok`; [`crate::stats::GlockStats::on_request`] applies that and the timestamps.
pub fn lock_request(
    policy: &FlagPolicy,
    name: &LockName,
    name_style: NameStyle,
    req_state: u32,
    gfs_flags: LmFlags,
    ctx: &LockContext,
) -> Result<LockRequest, FlagsError> {
    let mode = make_mode(req_state)?;
    let flags = make_flags(policy, gfs_flags, mode, ctx)?;
    let (name, stamp) = if ctx.converting {
        (None, RequestStamp::UpdateRequestTimes)
    } else {
        (Some(name.encode_with(name_style)), RequestStamp::SetDstamp)
    };
    Ok(LockRequest {
        mode,
        flags,
        name,
        stamp,
    })
}

/// The stats "blocking" classification of the reference's comment
/// (`gfs2_update_reply_times`): a request is non-blocking when the glock is held
/// EXCLUSIVE, the target is UNLOCKED, or it is TRY / TRY_1CB; every other request
/// may block behind other nodes.
pub fn is_blocking_request(cur: LmState, req: LmState, gfs_flags: LmFlags) -> bool {
    !(cur == LmState::Exclusive
        || req == LmState::Unlocked
        || gfs_flags.intersects(LmFlags::TRY | LmFlags::TRY_1CB))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(has_lvb: bool, converting: bool, glf_blocking: bool) -> LockContext {
        LockContext {
            has_lvb,
            converting,
            glf_blocking,
            cur: None,
        }
    }

    #[test]
    fn reference_policy() -> Result<(), FlagsError> {
        let p = FlagPolicy::REFERENCE;
        let f = make_flags(&p, LmFlags::empty(), DlmMode::Ex, &ctx(false, false, true))?;
        assert_eq!(f, DlmLkf::empty());
        let f = make_flags(
            &p,
            LmFlags::PRIORITY | LmFlags::TRY_1CB,
            DlmMode::Ex,
            &ctx(true, true, true),
        )?;
        assert_eq!(
            f,
            DlmLkf::VALBLK
                | DlmLkf::NOQUEUE
                | DlmLkf::NOQUEUEBAST
                | DlmLkf::NOORDER
                | DlmLkf::HEADQUE
                | DlmLkf::CONVERT
                | DlmLkf::QUECVT
        );
        assert_eq!(
            make_flags(&p, LmFlags::ANY, DlmMode::Ex, &ctx(false, false, false)),
            Err(FlagsError::AnyWithMode(DlmMode::Ex))
        );
        assert_eq!(
            make_flags(&p, LmFlags::ANY, DlmMode::Pr, &ctx(false, false, false)),
            Ok(DlmLkf::ALTCW)
        );
        assert_eq!(
            make_flags(
                &FlagPolicy::LINUX_3_6,
                LmFlags::empty(),
                DlmMode::Nl,
                &ctx(false, false, false)
            ),
            Ok(DlmLkf::VALBLK)
        );
        Ok(())
    }

    #[test]
    fn modern_quecvt_only_upward() -> Result<(), FlagsError> {
        let p = FlagPolicy::MODERN;
        let mut c = ctx(true, true, true);
        c.cur = Some(DlmMode::Ex);
        let down = make_flags(&p, LmFlags::PRIORITY, DlmMode::Pr, &c)?;
        assert_eq!(down, DlmLkf::VALBLK | DlmLkf::CONVERT);
        c.cur = Some(DlmMode::Pr);
        let mid = make_flags(&p, LmFlags::empty(), DlmMode::Cw, &c)?;
        assert!(mid.contains(DlmLkf::QUECVT));
        let up_try = make_flags(&p, LmFlags::TRY, DlmMode::Ex, &c)?;
        assert!(!up_try.contains(DlmLkf::QUECVT));
        let up = make_flags(&p, LmFlags::empty(), DlmMode::Ex, &c)?;
        assert!(up.contains(DlmLkf::QUECVT));
        Ok(())
    }

    #[test]
    fn lock_request_names_only_new_locks() -> Result<(), FlagsError> {
        let n = LockName::new(2, 0x10);
        let r = lock_request(
            &FlagPolicy::REFERENCE,
            &n,
            NameStyle::Reference,
            1,
            LmFlags::empty(),
            &ctx(true, false, false),
        )?;
        assert_eq!(r.mode, DlmMode::Ex);
        assert_eq!(
            r.name.map(|n| *n.as_bytes()),
            Some(*b"       2              10")
        );
        assert_eq!(r.stamp, RequestStamp::SetDstamp);
        let r = lock_request(
            &FlagPolicy::REFERENCE,
            &n,
            NameStyle::Reference,
            3,
            LmFlags::empty(),
            &ctx(true, true, false),
        )?;
        assert_eq!(r.strname(), [0; 25]);
        assert_eq!(r.stamp, RequestStamp::UpdateRequestTimes);
        assert!(matches!(
            lock_request(
                &FlagPolicy::REFERENCE,
                &n,
                NameStyle::Reference,
                9,
                LmFlags::empty(),
                &ctx(true, true, false)
            ),
            Err(FlagsError::Mode(ModeError::UnknownState(9)))
        ));
        Ok(())
    }

    #[test]
    fn blocking_classification() {
        assert!(!is_blocking_request(
            LmState::Exclusive,
            LmState::Shared,
            LmFlags::empty()
        ));
        assert!(!is_blocking_request(
            LmState::Shared,
            LmState::Unlocked,
            LmFlags::empty()
        ));
        assert!(!is_blocking_request(
            LmState::Unlocked,
            LmState::Shared,
            LmFlags::TRY
        ));
        assert!(is_blocking_request(
            LmState::Unlocked,
            LmState::Shared,
            LmFlags::ANY
        ));
    }
}
