//! One glock's side of lock_dlm as a machine: `gdlm_lock` (request → DLM call),
//! `gdlm_ast` (completion → outcome), `gdlm_bast` (blocking callback → demote),
//! `gdlm_put_lock` and `gdlm_cancel`, with the glock's statistics, under a
//! [`Profile`]. It keeps what `struct gfs2_glock` keeps for lock_dlm (`gl_state`,
//! `sb_lkid`, `GLF_INITIAL`, the pending request, the demote owed, dead after
//! put_lock) and refuses every call that does not fit, state unchanged. The simulator's
//! inode traffic and gdlm.ko's test locks run it; the DLM calls are the caller's.

use core::fmt;

use crate::ast::{gdlm_ast, AstError, AstInput, AstOutcome, CancelRequest, PutLock, PutLockInput};
use crate::flags::{is_blocking_request, FlagsError, LmFlags, LockGlock, LockRequest};
use crate::mode::{BastMode, LmState, ModeError};
use crate::name::LockName;
use crate::profile::Profile;
use crate::stats::GlockStats;

/// A request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pending {
    /// `dlm_lock` for this state; `blocking` feeds the SRTTB statistics.
    Lock {
        /// The state asked for.
        req: LmState,
        /// A blocking request (`GLF_BLOCKING`).
        blocking: bool,
    },
    /// `dlm_unlock` from put_lock: the `-DLM_EUNLOCK` AST frees the glock.
    Unlock,
}

/// What a completion did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GlockDone {
    /// `gfs2_glock_complete(gl, ret)`: the state is now `state` (unchanged when the
    /// request failed, was canceled or got TRY_AGAIN).
    Complete {
        /// The result bits (`LM_OUT_*` and the state).
        ret: u32,
        /// `gl_state` afterwards.
        state: LmState,
        /// The LVB must be zeroed (`DLM_SBF_VALNOTVALID`).
        lvb_zeroed: bool,
    },
    /// The unlock finished: the glock is freed.
    Freed {
        /// The LVB was zeroed before the free.
        lvb_zeroed: bool,
    },
    /// 7.2: a dead glock's completion, not an unlock reply: nothing to do.
    Ignored,
}

/// A call the glock refuses; its state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GlockError {
    /// A request is already in flight (glock.c never issues two).
    Busy,
    /// A completion with nothing in flight.
    NotPending,
    /// The glock was put (freed or being freed): nothing may use it.
    Freed,
    /// `gdlm_lock` refused the request.
    Flags(FlagsError),
    /// `gdlm_ast` or put_lock refused (a kernel `BUG()`).
    Ast(AstError),
    /// `gdlm_bast` refused the mode.
    Mode(ModeError),
}

impl fmt::Display for GlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlockError::Busy => f.write_str("a request is in flight"),
            GlockError::NotPending => f.write_str("completion with nothing in flight"),
            GlockError::Freed => f.write_str("the glock was put"),
            GlockError::Flags(e) => e.fmt(f),
            GlockError::Ast(e) => e.fmt(f),
            GlockError::Mode(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for GlockError {}

/// What put_lock asks of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Put {
    /// Freed now; no DLM call.
    Freed,
    /// Call `dlm_unlock(lkid, flags)`; the `-DLM_EUNLOCK` completion frees the glock.
    Unlock(CancelLike),
}

/// An unlock or cancel call (`dlm_unlock(lkid, flags)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CancelLike {
    /// The DLM lock.
    pub lkid: u32,
    /// `DLM_LKF_*` bits.
    pub flags: u32,
}

/// One glock (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Glock {
    profile: Profile,
    name: LockName,
    has_lvb: bool,
    state: LmState,
    lkid: u32,
    glf_initial: bool,
    glf_blocking: bool,
    pending: Option<Pending>,
    cancelled: bool,
    demote: Option<LmState>,
    dead: bool,
    stats: GlockStats,
}

impl Glock {
    /// A new glock: unlocked, no DLM lock. `GLF_INITIAL` starts set in 7.2 ("initially
    /// set for new glocks", 7.2:L163) and clear in the reference (set by the first
    /// grant, L155).
    pub fn new(profile: Profile, name: LockName, has_lvb: bool) -> Self {
        Glock {
            profile,
            name,
            has_lvb,
            state: LmState::Unlocked,
            lkid: 0,
            glf_initial: profile == Profile::Linux72,
            glf_blocking: false,
            pending: None,
            cancelled: false,
            demote: None,
            dead: false,
            stats: GlockStats::new(),
        }
    }

    /// The glock's name.
    pub fn name(&self) -> LockName {
        self.name
    }
    /// `gl_state`.
    pub fn state(&self) -> LmState {
        self.state
    }
    /// `sb_lkid` (0: no DLM lock).
    pub fn lkid(&self) -> u32 {
        self.lkid
    }
    /// The request in flight.
    pub fn pending(&self) -> Option<Pending> {
        self.pending
    }
    /// A demote owed after a BAST, and not yet started.
    pub fn demote(&self) -> Option<LmState> {
        self.demote.filter(|_| self.pending.is_none())
    }
    /// Put (freed or its unlock in flight).
    pub fn is_dead(&self) -> bool {
        self.dead
    }
    /// A cancel was sent for the request in flight.
    pub fn cancelled(&self) -> bool {
        self.cancelled
    }
    /// The statistics.
    pub fn stats(&self) -> &GlockStats {
        &self.stats
    }

    fn lock_glock(&self) -> LockGlock {
        LockGlock {
            gl_state: self.state,
            has_lvb: self.has_lvb,
            lkid: self.lkid,
            glf_initial: self.glf_initial,
            glf_blocking: self.glf_blocking,
        }
    }

    /// `gdlm_lock`: ask for `req` with GFS2 `flags` at `now` (ns). Returns the
    /// `dlm_lock` call (a new lock by name, or a conversion of [`Glock::lkid`]).
    pub fn request(
        &mut self,
        req: LmState,
        flags: LmFlags,
        now: i64,
    ) -> Result<LockRequest, GlockError> {
        if self.dead {
            return Err(GlockError::Freed);
        }
        if self.pending.is_some() {
            return Err(GlockError::Busy);
        }
        let blocking = is_blocking_request(self.state, req, flags);
        let mut gl = self.lock_glock();
        gl.glf_blocking = blocking;
        let d = self
            .profile
            .gdlm_lock(&self.name, req.raw(), flags, &gl)
            .map_err(GlockError::Flags)?;
        self.stats.on_request(&d.request, now, None);
        self.glf_blocking = d.glf_blocking_after;
        self.pending = Some(Pending::Lock { req, blocking });
        self.cancelled = false;
        Ok(d.request)
    }

    /// The DLM assigned `lkid` to the new lock (`sb_lkid`, set when `dlm_lock` returns).
    pub fn set_lkid(&mut self, lkid: u32) {
        self.lkid = lkid;
    }

    /// A `dlm_lock` or `dlm_unlock` that failed at once: the request is not in flight.
    pub fn request_failed(&mut self) {
        self.pending = None;
    }

    /// `gdlm_ast`: the completion of the request in flight with `sb_status` and
    /// `sb_flags`, at `now` (ns).
    pub fn complete(
        &mut self,
        status: i32,
        sb_flags: u8,
        now: i64,
    ) -> Result<GlockDone, GlockError> {
        let (req, blocking) = match self.pending {
            Some(Pending::Lock { req, blocking }) => (req, blocking),
            Some(Pending::Unlock) => (self.state, false),
            None => return Err(GlockError::NotPending),
        };
        let out = gdlm_ast(
            self.profile.ast_style(),
            &AstInput {
                gl_state: self.state,
                gl_req: req,
                sb_status: status,
                sb_flags,
                has_lvb: self.has_lvb,
                glf_initial: self.glf_initial,
                lkid: self.lkid,
                dead: self.dead,
            },
        )
        .map_err(GlockError::Ast)?;
        self.stats.on_reply(now, blocking, None);
        self.pending = None;
        Ok(match out {
            AstOutcome::Complete {
                ret,
                lvb_zeroed,
                lkid,
                glf_initial,
            } => {
                self.lkid = lkid;
                self.glf_initial = glf_initial;
                if status == 0 {
                    // ret's low two bits are a state by construction.
                    if let Ok(s) = LmState::try_from(ret & 3) {
                        self.state = s;
                    }
                }
                if self.demote == Some(self.state) || self.state == LmState::Unlocked {
                    self.demote = None;
                }
                GlockDone::Complete {
                    ret,
                    state: self.state,
                    lvb_zeroed,
                }
            }
            AstOutcome::Free { lvb_zeroed } => {
                self.dead = true;
                self.lkid = 0;
                GlockDone::Freed { lvb_zeroed }
            }
            AstOutcome::Ignored => GlockDone::Ignored,
        })
    }

    /// `gdlm_bast`: another node wants `mode`. glock.c demotes EX to the state asked for
    /// and anything else to UNLOCKED. 7.2 ignores a dead glock's BAST (`Ok(None)`); in
    /// the reference a BAST for a put glock is a use after free: [`GlockError::Freed`].
    pub fn bast(&mut self, mode: i32) -> Result<Option<LmState>, GlockError> {
        if self.dead && self.profile == Profile::Reference {
            return Err(GlockError::Freed);
        }
        let Some(want) = self
            .profile
            .bast(BastMode::Mode(mode), self.dead)
            .map_err(GlockError::Mode)?
        else {
            return Ok(None);
        };
        let d = if self.state == LmState::Exclusive {
            want
        } else {
            LmState::Unlocked
        };
        self.demote = Some(d);
        Ok(Some(d))
    }

    /// Start the owed demote: the state to request (take it with [`Glock::request`]),
    /// or `None` when nothing is to be done (already there, or no DLM lock).
    pub fn take_demote(&mut self) -> Option<LmState> {
        let d = self.demote()?;
        self.demote = None;
        (self.lkid != 0 && d != self.state && self.state != LmState::Unlocked).then_some(d)
    }

    /// `gdlm_put_lock` at `now` (ns), with `SDF_SKIP_DLM_UNLOCK` as given. The glock is
    /// dead from here on.
    pub fn put(&mut self, skip_dlm_unlock: bool, now: i64) -> Result<Put, GlockError> {
        if self.dead {
            return Err(GlockError::Freed);
        }
        if self.pending.is_some() {
            return Err(GlockError::Busy);
        }
        let p = self
            .profile
            .put_lock(
                &PutLockInput {
                    lkid: self.lkid,
                    has_lvb: self.has_lvb,
                    gl_state: self.state,
                    skip_dlm_unlock,
                },
                self.glf_initial,
                true,
            )
            .map_err(GlockError::Ast)?;
        if p.updates_request_times() {
            self.stats.on_put_lock(now, None);
        }
        self.dead = true;
        Ok(match p {
            PutLock::Free | PutLock::FreeSkipUnlock => {
                self.lkid = 0;
                Put::Freed
            }
            PutLock::Unlock { lkid, flags } => {
                self.pending = Some(Pending::Unlock);
                Put::Unlock(CancelLike {
                    lkid,
                    flags: flags.bits(),
                })
            }
        })
    }

    /// `gdlm_cancel` of the request in flight (at most once per request).
    pub fn cancel(&mut self) -> Result<Option<CancelRequest>, GlockError> {
        if !matches!(self.pending, Some(Pending::Lock { .. })) || self.cancelled {
            return Err(GlockError::NotPending);
        }
        let c = self
            .profile
            .cancel(self.lkid, false)
            .map_err(GlockError::Ast)?;
        self.cancelled = true;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::DLM_EUNLOCK;

    const NAME: LockName = LockName::new(2, 100);

    #[test]
    fn a_glock_is_taken_converted_demoted_and_put() {
        for p in [Profile::Reference, Profile::Linux72] {
            let mut g = Glock::new(p, NAME, true);
            let r = g.request(LmState::Shared, LmFlags::empty(), 10).unwrap();
            assert!(r.name.is_some(), "{p:?}: a new lock goes by name");
            assert_eq!(
                g.request(LmState::Exclusive, LmFlags::empty(), 11),
                Err(GlockError::Busy)
            );
            g.set_lkid(7);
            let d = g.complete(0, 0, 20).unwrap();
            assert!(
                matches!(
                    d,
                    GlockDone::Complete {
                        state: LmState::Shared,
                        ..
                    }
                ),
                "{p:?} {d:?}"
            );
            let r = g.request(LmState::Exclusive, LmFlags::empty(), 30).unwrap();
            assert!(r.name.is_none(), "{p:?}: a conversion");
            g.complete(0, 0, 40).unwrap();
            assert_eq!(g.state(), LmState::Exclusive);
            assert_eq!(g.bast(3), Ok(Some(LmState::Shared)));
            assert_eq!(g.take_demote(), Some(LmState::Shared));
            g.request(LmState::Shared, LmFlags::empty(), 50).unwrap();
            g.complete(0, 0, 60).unwrap();
            let put = g.put(false, 70).unwrap();
            assert!(
                matches!(put, Put::Unlock(CancelLike { lkid: 7, .. })),
                "{p:?} {put:?}"
            );
            assert_eq!(
                g.complete(-DLM_EUNLOCK, 0, 80),
                Ok(GlockDone::Freed { lvb_zeroed: false })
            );
            assert!(g.is_dead());
            assert_eq!(
                g.request(LmState::Shared, LmFlags::empty(), 90),
                Err(GlockError::Freed)
            );
        }
    }

    #[test]
    fn a_bast_for_a_put_glock_is_a_use_after_free_in_the_reference_only() {
        for (p, want) in [
            (Profile::Reference, Err(GlockError::Freed)),
            (Profile::Linux72, Ok(None)),
        ] {
            let mut g = Glock::new(p, NAME, true);
            g.request(LmState::Shared, LmFlags::empty(), 0).unwrap();
            g.set_lkid(3);
            g.complete(0, 0, 1).unwrap();
            g.put(false, 2).unwrap();
            let before = g;
            assert_eq!(g.bast(5), want, "{p:?}");
            assert_eq!(g, before);
        }
    }

    #[test]
    fn refusals_change_nothing() {
        let mut g = Glock::new(Profile::Reference, NAME, true);
        let before = g;
        assert_eq!(g.complete(0, 0, 0), Err(GlockError::NotPending));
        assert_eq!(g.cancel(), Err(GlockError::NotPending));
        assert!(g.bast(99).is_err());
        assert_eq!(g, before);
        g.request(LmState::Shared, LmFlags::TRY, 0).unwrap();
        g.set_lkid(4);
        let before = g;
        // DLM_SBF_DEMOTED: the kernel BUG()s.
        assert!(matches!(g.complete(0, 0x01, 1), Err(GlockError::Ast(_))));
        assert_eq!(g, before);
    }
}
