//! Completion and blocking callbacks, unlock and cancel (reference: `gdlm_ast`,
//! `gdlm_put_lock`, `gdlm_cancel`).
//!
//! Each function decides; the caller applies the outcome to its glock and calls the
//! DLM. The reply-time stats sample every AST takes is
//! [`crate::stats::GlockStats::on_reply`].

use core::fmt;

use crate::consts::*;
use crate::flags::DlmLkf;
use crate::mode::LmState;

/// Which kernel's AST result codes to reproduce (`shared/reference/UPSTREAM.md` §1.5,
/// `linux-7.2/UPSTREAM-7.2.md` §2.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AstStyle {
    /// Reference: failures return `gl_state` (with `LM_OUT_CANCELED` / `LM_OUT_ERROR`);
    /// `GLF_INITIAL` is set on the first grant, and while it is clear a failure drops
    /// the lkid.
    #[default]
    Reference,
    /// Linux 7.2.13 (7.2:L118-179): failures return bare `LM_OUT_*` codes
    /// (`CANCELED`, `TRY_AGAIN`, `DEADLOCK`, `ERROR`); a grant returns `gl_req` and
    /// ignores `DLM_SBF_ALTMODE` (7.2 never asks for ALTPR/ALTCW); `GLF_INITIAL` starts
    /// set and is cleared on the first grant; while it is set a failure drops the lkid;
    /// ASTs for a dead glock other than unlock are ignored.
    Modern,
}

/// The glock and lksb as `gdlm_ast` reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AstInput {
    /// `gl_state`: the state held before the request.
    pub gl_state: LmState,
    /// `gl_req`: the state requested.
    pub gl_req: LmState,
    /// `sb_status`.
    pub sb_status: i32,
    /// `sb_flags` (`DLM_SBF_*`).
    pub sb_flags: u8,
    /// The glock has an LVB (`sb_lvbptr != NULL`).
    pub has_lvb: bool,
    /// The raw `GLF_INITIAL` bit (its meaning depends on [`AstStyle`]).
    pub glf_initial: bool,
    /// `sb_lkid`.
    pub lkid: u32,
    /// Modern only: the glock's lockref is dead.
    pub dead: bool,
}

/// What the glock does after an AST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AstOutcome {
    /// `gfs2_glock_complete(gl, ret)`.
    Complete {
        /// The result: a state in the low two bits plus `LM_OUT_*` bits.
        ret: u32,
        /// The LVB was zeroed (`DLM_SBF_VALNOTVALID`).
        lvb_zeroed: bool,
        /// `sb_lkid` afterwards (0 when a failed first request left no DLM lock).
        lkid: u32,
        /// `GLF_INITIAL` afterwards.
        glf_initial: bool,
    },
    /// `-DLM_EUNLOCK`: the lock is gone; free the glock.
    Free {
        /// The LVB was zeroed before the free.
        lvb_zeroed: bool,
    },
    /// Modern only: the glock is dead and this is not an unlock reply; nothing to do.
    Ignored,
}

/// An AST the kernel would `BUG()` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AstError {
    /// `DLM_SBF_DEMOTED` is set (GFS2 never asks for CONVDEADLK).
    Demoted,
    /// An `sb_status` none of the cases expects.
    UnknownStatus(i32),
    /// `DLM_SBF_ALTMODE` on a grant of a state other than SHARED or DEFERRED.
    AltMode(LmState),
    /// `gdlm_cancel` / `gdlm_put_lock` on a glock without a DLM lock (lkid 0).
    NoLock,
    /// Linux 7.2's `gdlm_put_lock` on a glock whose lockref is not dead
    /// (`BUG_ON(!__lockref_is_dead)`, 7.2:L332).
    NotDead,
}

impl fmt::Display for AstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AstError::Demoted => f.write_str("DLM_SBF_DEMOTED in a GFS2 AST"),
            AstError::UnknownStatus(s) => write!(f, "unexpected AST status {s}"),
            AstError::AltMode(s) => write!(f, "DLM_SBF_ALTMODE on a grant of {s:?}"),
            AstError::NoLock => f.write_str("no DLM lock (lkid 0)"),
            AstError::NotDead => f.write_str("gdlm_put_lock on a glock that is not dead"),
        }
    }
}

impl core::error::Error for AstError {}

/// What the glock does after an AST, when [`gdlm_ast_in_place`] already wrote the
/// lkid and `GLF_INITIAL` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AstAction {
    /// `gfs2_glock_complete(gl, ret)`.
    Complete {
        /// The result: a state in the low two bits plus `LM_OUT_*` bits.
        ret: u32,
        /// Zero the LVB (`DLM_SBF_VALNOTVALID` on a glock with an LVB).
        lvb_zeroed: bool,
    },
    /// `-DLM_EUNLOCK`: free the glock (after zeroing the LVB if `lvb_zeroed`).
    Free {
        /// Zero the LVB first.
        lvb_zeroed: bool,
    },
    /// Linux 7.2: the glock is dead and this is not an unlock reply; nothing to do.
    Ignored,
}

/// A glock that `gdlm_ast` completes in place ([`gdlm_ast_apply`]), as the kernel's
/// `gdlm_ast` acts on its `struct gfs2_glock`: a caller implements it on its own
/// glock type, and the whole decision inlines into its completion handler.
pub trait AstGlock {
    /// The fields `gdlm_ast` reads; it writes `lkid` and `glf_initial` back.
    fn ast_fields(&mut self) -> &mut AstInput;
    /// `memset(sb_lvbptr, 0, GDLM_LVB_SIZE)`: only called for a glock with an LVB and
    /// `DLM_SBF_VALNOTVALID`, before [`AstGlock::complete`] / [`AstGlock::free`].
    fn zero_lvb(&mut self);
    /// `gfs2_glock_complete(gl, ret)`.
    fn complete(&mut self, ret: u32);
    /// `gfs2_glock_free(gl)` after `-DLM_EUNLOCK`.
    fn free(&mut self);
}

/// `gdlm_ast` applied to a glock in place (reference L115-162, 7.2:L118-179): on a
/// completion it writes the new `lkid` (0 after a failed first request) and
/// `GLF_INITIAL`, zeroes the LVB if the DLM says it is not valid, and calls
/// [`AstGlock::complete`] or [`AstGlock::free`]; an ignored AST (7.2, dead glock)
/// calls nothing. On `Err` (where the kernel BUGs) nothing is written or called:
/// unlike the kernel, which zeroes the LVB before it BUGs on an unknown status.
#[inline(always)]
pub fn gdlm_ast_apply<G: AstGlock + ?Sized>(style: AstStyle, g: &mut G) -> Result<(), AstError> {
    if apply_or_refuse(style, g) {
        Ok(())
    } else {
        bug(g.ast_fields(), style)
    }
}

/// The body of [`gdlm_ast_apply`]: `false` where the kernel BUGs, with nothing
/// written or called. A flag rather than the `Result`, so that the error is built in
/// one place, out of line ([`bug`], reached by a tail jump): each completion path
/// then returns the constant `Ok` without a stack frame, where building the error
/// at each BUG site merged every path into one repacking of the `Result`.
#[inline(always)]
fn apply_or_refuse<G: AstGlock + ?Sized>(style: AstStyle, g: &mut G) -> bool {
    let modern = matches!(style, AstStyle::Modern);
    let gl = g.ast_fields();
    let status = gl.sb_status;
    // 7.2:L128-131, before the DEMOTED BUG_ON.
    if modern && gl.dead && status != -DLM_EUNLOCK {
        return true;
    }
    let sbf = gl.sb_flags;
    if sbf & DLM_SBF_DEMOTED != 0 {
        return false;
    }
    if status == 0 {
        let mut granted = gl.gl_req;
        if !modern && sbf & DLM_SBF_ALTMODE != 0 {
            // Reference L146-152; 7.2 has no ALTMODE case.
            granted = match granted {
                LmState::Shared => LmState::Deferred,
                LmState::Deferred => LmState::Shared,
                _ => return false,
            };
        }
        // Reference: set_bit(GLF_INITIAL) (L155); 7.2: clear_bit (7.2:L172).
        gl.glf_initial = !modern;
        if sbf & DLM_SBF_VALNOTVALID != 0 && gl.has_lvb {
            g.zero_lvb();
        }
        g.complete(granted as u32);
        return true;
    }
    let zero = sbf & DLM_SBF_VALNOTVALID != 0 && gl.has_lvb;
    if status == -DLM_EUNLOCK {
        // Unlocked: the lock is gone; free the glock.
        if zero {
            g.zero_lvb();
        }
        g.free();
        return true;
    }
    let ret = if modern {
        match status {
            s if s == -DLM_ECANCEL => LM_OUT_CANCELED,
            s if s == -EAGAIN => LM_OUT_TRY_AGAIN,
            s if s == -EDEADLK => LM_OUT_DEADLOCK,
            s if s == -ETIMEDOUT => LM_OUT_ERROR,
            _ => return false,
        }
    } else {
        let state = gl.gl_state as u32;
        match status {
            s if s == -DLM_ECANCEL => state | LM_OUT_CANCELED,
            s if s == -EAGAIN || s == -EDEADLK => state,
            s if s == -ETIMEDOUT => state | LM_OUT_ERROR,
            _ => return false,
        }
    };
    // A failed request that never created a DLM lock leaves no lkid: reference while
    // GLF_INITIAL is clear (L159-160), 7.2 while it is set (7.2:L176-177).
    if gl.glf_initial == modern {
        gl.lkid = 0;
    }
    if zero {
        g.zero_lvb();
    }
    g.complete(ret);
    true
}

/// The error of an AST [`apply_or_refuse`] refused (its input unchanged): which of
/// its checks failed. Cold and out of line, as the kernel's `BUG_ON` is
/// `unlikely()` (`#[cold]`: `core::hint::cold_path` needs Rust 1.95, MSRV is 1.85).
#[cold]
#[inline(never)]
fn bug(gl: &AstInput, style: AstStyle) -> Result<(), AstError> {
    Err(if gl.sb_flags & DLM_SBF_DEMOTED != 0 {
        AstError::Demoted
    } else if gl.sb_status == 0 {
        // Only the reference checks ALTMODE; 7.2 refuses no grant.
        debug_assert!(matches!(style, AstStyle::Reference));
        AstError::AltMode(gl.gl_req)
    } else {
        AstError::UnknownStatus(gl.sb_status)
    })
}

/// [`gdlm_ast_apply`] on a bare [`AstInput`], returning what to do instead of calling
/// back: `lkid` and `glf_initial` are written into `gl`; on `Err`,
/// [`AstAction::Ignored`] and [`AstAction::Free`] it is unchanged.
#[inline]
pub fn gdlm_ast_in_place(style: AstStyle, gl: &mut AstInput) -> Result<AstAction, AstError> {
    struct Capture<'a> {
        gl: &'a mut AstInput,
        zero: bool,
        action: AstAction,
    }
    impl AstGlock for Capture<'_> {
        fn ast_fields(&mut self) -> &mut AstInput {
            self.gl
        }
        fn zero_lvb(&mut self) {
            self.zero = true;
        }
        fn complete(&mut self, ret: u32) {
            self.action = AstAction::Complete {
                ret,
                lvb_zeroed: self.zero,
            };
        }
        fn free(&mut self) {
            self.action = AstAction::Free {
                lvb_zeroed: self.zero,
            };
        }
    }
    let mut c = Capture {
        gl,
        zero: false,
        action: AstAction::Ignored,
    };
    gdlm_ast_apply(style, &mut c)?;
    Ok(c.action)
}

/// `gdlm_ast`: decide what a completion means for the glock (by value; see
/// [`gdlm_ast_in_place`] for the form that writes the glock back).
#[inline]
pub fn gdlm_ast(style: AstStyle, a: &AstInput) -> Result<AstOutcome, AstError> {
    let mut gl = *a;
    Ok(match gdlm_ast_in_place(style, &mut gl)? {
        AstAction::Complete { ret, lvb_zeroed } => AstOutcome::Complete {
            ret,
            lvb_zeroed,
            lkid: gl.lkid,
            glf_initial: gl.glf_initial,
        },
        AstAction::Free { lvb_zeroed } => AstOutcome::Free { lvb_zeroed },
        AstAction::Ignored => AstOutcome::Ignored,
    })
}

/// The glock as `gdlm_put_lock` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PutLockInput {
    /// `sb_lkid` (0: no DLM lock was ever granted).
    pub lkid: u32,
    /// The glock has an LVB.
    pub has_lvb: bool,
    /// `gl_state`.
    pub gl_state: LmState,
    /// `SDF_SKIP_DLM_UNLOCK` (set after a withdraw).
    pub skip_dlm_unlock: bool,
}

/// What `gdlm_put_lock` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PutLock {
    /// No DLM lock: free the glock now (no stats update).
    Free,
    /// `SDF_SKIP_DLM_UNLOCK` and no LVB to save: free without calling the DLM.
    FreeSkipUnlock,
    /// `dlm_unlock(lkid, flags)`; the glock is freed by the `-DLM_EUNLOCK` AST.
    Unlock {
        /// The lock to release.
        lkid: u32,
        /// Always `DLM_LKF_VALBLK` in the reference.
        flags: DlmLkf,
    },
}

impl PutLock {
    /// Whether the reference updates the request stats (`DCOUNT`, inter-request time)
    /// and clears `GLF_BLOCKING`: every case but [`PutLock::Free`].
    pub const fn updates_request_times(&self) -> bool {
        !matches!(self, PutLock::Free)
    }
}

/// The modern kernel's `gdlm_put_lock` inputs beyond [`PutLockInput`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PutLockModern {
    /// `GLF_INITIAL` is still set (modern meaning: no DLM lock was ever granted).
    pub glf_initial: bool,
    /// `DFL_UNMOUNT`: the lock protocol is unmounted; never call the DLM. This is the
    /// 6.x short-cut that raced with a late AST/BAST (fixed as CVE-2025-40242); Linux
    /// 7.2 has no such test ([`put_lock_linux72`]).
    pub unmounted: bool,
}

/// `gdlm_put_lock` of 6.x kernels: free without the DLM while the lock was
/// never granted or after unmount; with `SDF_SKIP_DLM_UNLOCK`, call the DLM only to
/// save an LVB held in EXCLUSIVE; unlock with `VALBLK` only when the glock has an LVB.
#[inline]
pub fn put_lock_modern(p: &PutLockInput, m: &PutLockModern) -> PutLock {
    if m.glf_initial || m.unmounted {
        return PutLock::Free;
    }
    if p.skip_dlm_unlock && (!p.has_lvb || p.gl_state != LmState::Exclusive) {
        return PutLock::FreeSkipUnlock;
    }
    PutLock::Unlock {
        lkid: p.lkid,
        flags: if p.has_lvb {
            DlmLkf::VALBLK
        } else {
            DlmLkf::empty()
        },
    }
}

/// `gdlm_put_lock`: release a glock's DLM lock.
///
/// With `SDF_SKIP_DLM_UNLOCK` the DLM is still called when the glock holds an LVB in
/// EXCLUSIVE, so the value block is written back.
#[inline]
pub fn put_lock(p: &PutLockInput) -> PutLock {
    if p.lkid == 0 {
        return PutLock::Free;
    }
    let lvb_needs_unlock = p.has_lvb && p.gl_state == LmState::Exclusive;
    if p.skip_dlm_unlock && !lvb_needs_unlock {
        return PutLock::FreeSkipUnlock;
    }
    PutLock::Unlock {
        lkid: p.lkid,
        flags: DlmLkf::VALBLK,
    }
}

/// The `dlm_unlock` call of `gdlm_cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CancelRequest {
    /// The lock whose pending request is canceled.
    pub lkid: u32,
    /// `DLM_LKF_CANCEL`.
    pub flags: DlmLkf,
}

/// `gdlm_cancel`: cancel the glock's pending request.
///
/// The kernel passes lkid 0 through to the DLM, which fails it; here that is
/// [`AstError::NoLock`] up front.
pub fn cancel(lkid: u32) -> Result<CancelRequest, AstError> {
    if lkid == 0 {
        return Err(AstError::NoLock);
    }
    Ok(CancelRequest {
        lkid,
        flags: DlmLkf::CANCEL,
    })
}

/// Linux 7.2.13's `gdlm_put_lock` up to the unlock (7.2:L325-357): refuse a glock
/// that is not dead ([`AstError::NotDead`], the BUG_ON), free while `GLF_INITIAL` is
/// set ([`PutLock::Free`], no stats), with `SDF_SKIP_DLM_UNLOCK` free later unless an
/// LVB held in EX must be written back ([`PutLock::FreeSkipUnlock`] =
/// `gfs2_glock_free_later`), else `dlm_unlock` with VALBLK only when there is an LVB.
///
/// There is no `DFL_UNMOUNT` short-cut (the reference-era race fixed as
/// CVE-2025-40242): after unmount the released lockspace answers `-ENODEV`, and
/// [`put_lock_unlock_result`] frees the glock then.
#[inline]
pub fn put_lock_linux72(
    p: &PutLockInput,
    glf_initial: bool,
    dead: bool,
) -> Result<PutLock, AstError> {
    if !dead {
        return Err(AstError::NotDead);
    }
    Ok(put_lock_modern(
        p,
        &PutLockModern {
            glf_initial,
            unmounted: false,
        },
    ))
}

/// What `gdlm_put_lock` does once its `dlm_unlock` loop returned `ret`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UnlockDone {
    /// 0: the glock is freed by the `-DLM_EUNLOCK` AST.
    AwaitAst,
    /// Linux 7.2, `-ENODEV`: the lockspace is released and its locks with it; free the
    /// glock now (`gfs2_glock_free`, 7.2:L372-375).
    Free,
    /// Any other error: logged ("gdlm_unlock %x,%llx err=%d"), nothing else.
    Logged(i32),
}

/// `gdlm_put_lock` after `dlm_unlock`: `linux72` selects 7.2's `-ENODEV` rule
/// (7.2:L372-381; the reference only logs, ref:L308-313).
#[inline]
pub const fn put_lock_unlock_result(linux72: bool, ret: i32) -> UnlockDone {
    match ret {
        0 => UnlockDone::AwaitAst,
        e if linux72 && e == -ENODEV => UnlockDone::Free,
        e => UnlockDone::Logged(e),
    }
}

/// Linux 7.2.13's `gdlm_cancel` (7.2:L384-393): under `ls_sem`, `dlm_unlock(lkid,
/// CANCEL)` only while the lockspace exists (`None` once released), lkid 0 included
/// (the DLM answers it).
#[inline]
pub const fn cancel_linux72(lkid: u32, ls_released: bool) -> Option<CancelRequest> {
    if ls_released {
        return None;
    }
    Some(CancelRequest {
        lkid,
        flags: DlmLkf::CANCEL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(status: i32, flags: u8) -> AstInput {
        AstInput {
            gl_state: LmState::Unlocked,
            gl_req: LmState::Shared,
            sb_status: status,
            sb_flags: flags,
            has_lvb: true,
            glf_initial: false,
            lkid: 7,
            dead: false,
        }
    }

    #[test]
    fn reference_outcomes() {
        let r = AstStyle::Reference;
        assert_eq!(
            gdlm_ast(r, &input(0, DLM_SBF_ALTMODE)),
            Ok(AstOutcome::Complete {
                ret: LM_ST_DEFERRED,
                lvb_zeroed: false,
                lkid: 7,
                glf_initial: true
            })
        );
        assert_eq!(
            gdlm_ast(r, &input(-DLM_ECANCEL, DLM_SBF_VALNOTVALID)),
            Ok(AstOutcome::Complete {
                ret: LM_OUT_CANCELED,
                lvb_zeroed: true,
                lkid: 0,
                glf_initial: false
            })
        );
        assert_eq!(
            gdlm_ast(r, &input(-DLM_EUNLOCK, 0)),
            Ok(AstOutcome::Free { lvb_zeroed: false })
        );
        assert_eq!(gdlm_ast(r, &input(-1, 0)), Err(AstError::UnknownStatus(-1)));
        assert_eq!(
            gdlm_ast(r, &input(0, DLM_SBF_DEMOTED)),
            Err(AstError::Demoted)
        );
        let mut ex = input(0, DLM_SBF_ALTMODE);
        ex.gl_req = LmState::Exclusive;
        assert_eq!(gdlm_ast(r, &ex), Err(AstError::AltMode(LmState::Exclusive)));
    }

    #[test]
    fn modern_outcomes() {
        let m = AstStyle::Modern;
        let mut a = input(-EAGAIN, 0);
        a.glf_initial = true;
        assert_eq!(
            gdlm_ast(m, &a),
            Ok(AstOutcome::Complete {
                ret: LM_OUT_TRY_AGAIN,
                lvb_zeroed: false,
                lkid: 0,
                glf_initial: true
            })
        );
        a.sb_status = 0;
        assert_eq!(
            gdlm_ast(m, &a),
            Ok(AstOutcome::Complete {
                ret: LM_ST_SHARED,
                lvb_zeroed: false,
                lkid: 7,
                glf_initial: false
            })
        );
        // 7.2 ignores DLM_SBF_ALTMODE on a grant, for every requested state.
        a.sb_flags = DLM_SBF_ALTMODE;
        a.gl_req = LmState::Exclusive;
        assert_eq!(
            gdlm_ast(m, &a),
            Ok(AstOutcome::Complete {
                ret: LM_ST_EXCLUSIVE,
                lvb_zeroed: false,
                lkid: 7,
                glf_initial: false
            })
        );
        a.dead = true;
        assert_eq!(gdlm_ast(m, &a), Ok(AstOutcome::Ignored));
        a.sb_status = -DLM_EUNLOCK;
        assert_eq!(gdlm_ast(m, &a), Ok(AstOutcome::Free { lvb_zeroed: false }));
    }

    #[test]
    fn put_lock_and_cancel() {
        let mut p = PutLockInput {
            lkid: 0,
            has_lvb: true,
            gl_state: LmState::Exclusive,
            skip_dlm_unlock: true,
        };
        assert_eq!(put_lock(&p), PutLock::Free);
        p.lkid = 3;
        assert_eq!(
            put_lock(&p),
            PutLock::Unlock {
                lkid: 3,
                flags: DlmLkf::VALBLK
            }
        );
        p.gl_state = LmState::Shared;
        assert_eq!(put_lock(&p), PutLock::FreeSkipUnlock);
        assert!(put_lock(&p).updates_request_times());
        let m = PutLockModern::default();
        assert_eq!(put_lock_modern(&p, &m), PutLock::FreeSkipUnlock);
        p.skip_dlm_unlock = false;
        p.has_lvb = false;
        assert_eq!(
            put_lock_modern(&p, &m),
            PutLock::Unlock {
                lkid: 3,
                flags: DlmLkf::empty()
            }
        );
        assert_eq!(
            put_lock_modern(
                &p,
                &PutLockModern {
                    unmounted: true,
                    ..m
                }
            ),
            PutLock::Free
        );
        assert_eq!(
            put_lock_modern(
                &p,
                &PutLockModern {
                    glf_initial: true,
                    ..m
                }
            ),
            PutLock::Free
        );
        assert_eq!(cancel(0), Err(AstError::NoLock));
        assert_eq!(
            cancel_linux72(0, false),
            Some(CancelRequest {
                lkid: 0,
                flags: DlmLkf::CANCEL
            })
        );
        assert_eq!(cancel_linux72(9, true), None);
        assert_eq!(put_lock_linux72(&p, false, false), Err(AstError::NotDead));
        assert_eq!(put_lock_linux72(&p, true, true), Ok(PutLock::Free));
        assert_eq!(put_lock_unlock_result(true, -ENODEV), UnlockDone::Free);
        assert_eq!(
            put_lock_unlock_result(false, -ENODEV),
            UnlockDone::Logged(-ENODEV)
        );
        assert_eq!(put_lock_unlock_result(true, 0), UnlockDone::AwaitAst);
        assert_eq!(
            cancel(9),
            Ok(CancelRequest {
                lkid: 9,
                flags: DlmLkf::CANCEL
            })
        );
    }
}
