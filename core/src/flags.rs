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
        /// `LM_FLAG_RECOVER` (7.2's name of the 0x4 bit; not mapped).
        const RECOVER = LM_FLAG_RECOVER;
        /// `LM_FLAG_PRIORITY` (reference only).
        const PRIORITY = LM_FLAG_PRIORITY;
        /// `LM_FLAG_NODE_SCOPE` (7.2, glock.c only).
        const NODE_SCOPE = LM_FLAG_NODE_SCOPE;
        /// `GL_ASYNC` (ignored here).
        const GL_ASYNC = GL_ASYNC;
        /// `GL_EXACT` (ignored here).
        const GL_EXACT = GL_EXACT;
        /// `GL_SKIP` (ignored here).
        const GL_SKIP = GL_SKIP;
        /// `GL_NOPID` (7.2; ignored here).
        const GL_NOPID = GL_NOPID;
        /// `GL_NOCACHE` (ignored here).
        const GL_NOCACHE = GL_NOCACHE;
        /// `GL_NOBLOCK` (7.2; ignored here).
        const GL_NOBLOCK = GL_NOBLOCK;
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
    /// Whether `LM_FLAG_ANY` maps to `ALTCW` (PR) / `ALTPR` (CW) and is refused with
    /// any other mode (reference L224-230); Linux 7.2's make_flags ignores it.
    pub any: bool,
    /// When QUECVT is set on a conversion.
    pub quecvt: QuecvtPolicy,
}

impl FlagPolicy {
    /// The reference (Linux v3.10–v3.16): VALBLK with an LVB, PRIORITY → NOORDER|HEADQUE,
    /// QUECVT whenever GLF_BLOCKING.
    pub const REFERENCE: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::IfLvb,
        priority: true,
        any: true,
        quecvt: QuecvtPolicy::GlfBlocking,
    };
    /// Linux 3.6: as the reference but VALBLK always.
    pub const LINUX_3_6: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::Always,
        priority: true,
        any: true,
        quecvt: QuecvtPolicy::GlfBlocking,
    };
    /// Current kernels as a single `make_flags` call: VALBLK with an LVB, no PRIORITY,
    /// no ANY, QUECVT only on upward blocking conversions, computed from
    /// [`LockContext::cur`]. Equals Linux 7.2's `make_flags` with the `blocking` its
    /// `gdlm_lock` passes (7.2:L290-292) on every request.
    pub const MODERN: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::IfLvb,
        priority: false,
        any: false,
        quecvt: QuecvtPolicy::UpwardOnly,
    };
    /// Linux 7.2.13's `make_flags(gl, gfs_flags, req, blocking)` as written
    /// (7.2:L236-266): VALBLK with an LVB, TRY/TRY_1CB, no PRIORITY, no ANY, and on a
    /// conversion QUECVT iff the `blocking` argument, passed as
    /// [`LockContext::glf_blocking`] ([`gdlm_lock_blocking`] computes it).
    pub const LINUX_7_2: FlagPolicy = FlagPolicy {
        valblk: ValblkPolicy::IfLvb,
        priority: false,
        any: false,
        quecvt: QuecvtPolicy::GlfBlocking,
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
    /// The glock already has a DLM lock: this is a conversion (reference: `sb_lkid != 0`,
    /// L233; Linux 7.2: `!GLF_INITIAL`, 7.2:L252).
    pub converting: bool,
    /// `GLF_BLOCKING` is set (reference QUECVT policy); under
    /// [`FlagPolicy::LINUX_7_2`], make_flags' `blocking` argument.
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

/// `middle_conversion` (7.2:L225-229, "taken from fs/dlm/lock.c"): PR ⇄ CW.
pub const fn is_middle_conversion(cur: DlmMode, req: DlmMode) -> bool {
    matches!(
        (cur, req),
        (DlmMode::Pr, DlmMode::Cw) | (DlmMode::Cw, DlmMode::Pr)
    )
}

/// `down_conversion` (7.2:L231-234): a move to a lower mode that is not PR ⇄ CW.
pub const fn is_down_conversion(cur: DlmMode, req: DlmMode) -> bool {
    !is_middle_conversion(cur, req) && (req as i8) < (cur as i8)
}

/// Linux 7.2 `gdlm_lock`'s `blocking` (7.2:L290-291): not a down-conversion and not
/// TRY / TRY_1CB. It becomes make_flags' QUECVT argument and sets `GLF_BLOCKING`
/// (7.2:L293-294), which `gdlm_ast` reads for the reply-time sample and clears.
pub const fn gdlm_lock_blocking(cur: DlmMode, req: DlmMode, gfs_flags: LmFlags) -> bool {
    !is_down_conversion(cur, req)
        && gfs_flags.bits() & (LmFlags::TRY.bits() | LmFlags::TRY_1CB.bits()) == 0
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
    if policy.any && gfs_flags.contains(LmFlags::ANY) {
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

/// The glock as `gdlm_lock` reads it, for either profile ([`crate::Profile::gdlm_lock`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockGlock {
    /// `gl_state`: the state held (7.2 computes `cur = make_mode(gl_state)`).
    pub gl_state: LmState,
    /// `gl_lksb.sb_lvbptr != NULL`.
    pub has_lvb: bool,
    /// `sb_lkid` (the reference converts when it is not 0).
    pub lkid: u32,
    /// The raw `GLF_INITIAL` bit (7.2 converts when it is clear).
    pub glf_initial: bool,
    /// The raw `GLF_BLOCKING` bit before the call (the reference's QUECVT input).
    pub glf_blocking: bool,
}

/// What `gdlm_lock` decides: the `dlm_lock` call and the glock bits it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GdlmLock {
    /// The `dlm_lock` call.
    pub request: LockRequest,
    /// `cur = make_mode(gl_state)` (7.2:L288).
    pub cur: DlmMode,
    /// Linux 7.2's `blocking` (7.2:L290-291); always false in the reference, whose
    /// lock_dlm.c never computes it.
    pub blocking: bool,
    /// `GLF_BLOCKING` after the call: 7.2 sets it when `blocking` and never clears it
    /// here (7.2:L293-294); the reference leaves it as it was.
    pub glf_blocking_after: bool,
    /// `gl_req` after the call: 7.2 writes `req_state` (7.2:L287); the reference's
    /// lock_dlm.c does not write it (`None`: unchanged).
    pub gl_req_after: Option<LmState>,
}

/// Linux 7.2.13's `gdlm_lock` up to the submit loop (7.2:L277-305): `gl_req`,
/// `cur`, `blocking`, `make_flags(…, blocking)`, GLF_BLOCKING, and the name and
/// timestamps keyed on `GLF_INITIAL` (not on the lkid). An unknown `req_state` is
/// [`FlagsError::Mode`] where 7.2's `make_mode` BUGs. The `again:` loop around
/// `dlm_lock` is [`crate::Profile::dlm_attempt`] / [`crate::Profile::after_dlm_call`].
pub fn gdlm_lock_linux72(
    name: &LockName,
    req_state: u32,
    gfs_flags: LmFlags,
    gl: &LockGlock,
) -> Result<GdlmLock, FlagsError> {
    let cur = gl.gl_state.to_dlm();
    let req_st = LmState::try_from(req_state)?;
    let blocking = gdlm_lock_blocking(cur, req_st.to_dlm(), gfs_flags);
    let ctx = LockContext {
        has_lvb: gl.has_lvb,
        converting: !gl.glf_initial,
        glf_blocking: blocking,
        cur: Some(cur),
    };
    let request = lock_request(
        &FlagPolicy::LINUX_7_2,
        name,
        NameStyle::Reference,
        req_state,
        gfs_flags,
        &ctx,
    )?;
    Ok(GdlmLock {
        request,
        cur,
        blocking,
        glf_blocking_after: gl.glf_blocking || blocking,
        gl_req_after: Some(req_st),
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
