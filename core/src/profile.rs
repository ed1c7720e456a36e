//! Which kernel's `lock_dlm.c` to reproduce, as one value.
//!
//! [`Profile::Reference`] is the v3.12 file (`shared/reference/lock_dlm.c`, the
//! default); [`Profile::Linux72`] is Linux 7.2.13's (`shared/reference/linux-7.2/`,
//! differences in its `UPSTREAM-7.2.md`). Each method answers one area's question the
//! way the chosen kernel does, so a caller picks the profile once instead of lining
//! up a flag policy, an AST style, a size policy and the rest by hand.
//!
//! Linux 7.2's DLM calls sit in an `again:` loop under `ls_sem` (7.2:L310-321,
//! L359-370): `-ENODEV` without calling the DLM once the lockspace is released, and
//! `-EBUSY` retried after 20 ms. The loop is the caller's; its decisions are
//! [`Profile::dlm_attempt`] and [`Profile::after_dlm_call`].

use crate::ast::{self, AstError, AstStyle, CancelRequest, PutLock, PutLockInput, UnlockDone};
use crate::consts::*;
use crate::flags::{self, FlagPolicy, FlagsError, GdlmLock, LmFlags, LockContext, LockGlock};
use crate::mode::{self, BastMode, LmState, ModeError};
use crate::mount::{ControlMount, LockTable, MountOptions, TableError};
use crate::name::{LockName, NameStyle};
use crate::recovery::{Recovery, SizePolicy};

/// `msleep(20)` between `-EBUSY` retries of a Linux 7.2 DLM call (7.2:L317, L366).
pub const DLM_BUSY_RETRY_MS: u32 = 20;

/// The kernel whose `lock_dlm.c` the core reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Profile {
    /// Linux v3.10–v3.16 (the reference; golden vectors `core/tests/vectors/`).
    #[default]
    Reference,
    /// Linux 7.2.13 (golden vectors `core/tests/vectors72/`, `"policy": "linux-7.2"`).
    Linux72,
}

/// One attempt of a DLM call's `again:` loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DlmAttempt {
    /// Call the DLM and pass its return to [`Profile::after_dlm_call`].
    Call,
    /// Linux 7.2, lockspace released (`ls_dlm == NULL`): the call returns this
    /// (`-ENODEV`) without reaching the DLM.
    Released(i32),
}

/// What to do with a DLM call's return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DlmRetry {
    /// The call's result.
    Done(i32),
    /// Linux 7.2, `-EBUSY`: sleep this long, then make a new attempt.
    Sleep {
        /// Milliseconds ([`DLM_BUSY_RETRY_MS`]).
        ms: u32,
    },
}

impl Profile {
    /// The profile a golden vector's `"policy"` names (`None` / absent: the
    /// reference; `"linux-7.2"`); `None` for a name the core does not know.
    pub fn from_policy_name(name: Option<&str>) -> Option<Profile> {
        match name {
            None | Some("reference") | Some("v3.12") => Some(Profile::Reference),
            Some("linux-7.2") => Some(Profile::Linux72),
            Some(_) => None,
        }
    }

    /// The name [`Profile::from_policy_name`] reads.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Reference => "reference",
            Profile::Linux72 => "linux-7.2",
        }
    }

    const fn is_72(self) -> bool {
        matches!(self, Profile::Linux72)
    }

    /// `make_flags`: [`FlagPolicy::REFERENCE`] or [`FlagPolicy::LINUX_7_2`] (no
    /// PRIORITY, no ANY, QUECVT from `blocking`).
    pub const fn flag_policy(self) -> FlagPolicy {
        match self {
            Profile::Reference => FlagPolicy::REFERENCE,
            Profile::Linux72 => FlagPolicy::LINUX_7_2,
        }
    }

    /// `gdlm_ast`'s result codes: [`AstStyle::Reference`] or [`AstStyle::Modern`]
    /// (7.2's bare `LM_OUT_*`, no ALTMODE, inverted GLF_INITIAL, dead glocks ignored).
    pub const fn ast_style(self) -> AstStyle {
        match self {
            Profile::Reference => AstStyle::Reference,
            Profile::Linux72 => AstStyle::Modern,
        }
    }

    /// Lock names: `gfs2_reverse_hex` is unchanged in 7.2 (7.2:L268-275).
    pub const fn name_style(self) -> NameStyle {
        NameStyle::Reference
    }

    /// `set_recover_size`: one step of 16 in the reference, until the largest slot
    /// fits in 7.2 (7.2:L1119-1124).
    pub const fn size_policy(self) -> SizePolicy {
        match self {
            Profile::Reference => SizePolicy::Reference,
            Profile::Linux72 => SizePolicy::Fit,
        }
    }

    /// Whether the recovery callbacks are ignored once withdrawn (7.2 only).
    pub const fn withdraw_guard(self) -> bool {
        self.is_72()
    }

    /// A fresh recovery state (`gdlm_mount`'s initialisation) for this profile: its
    /// size policy, and in 7.2 the withdraw guard on the recovery callbacks.
    pub fn recovery<const N: usize>(self) -> Recovery<N> {
        Recovery::new(self.size_policy()).with_withdraw_guard(self.withdraw_guard())
    }

    /// The [`LockContext`] `make_flags` reads for this glock: a conversion is
    /// `sb_lkid != 0` in the reference (L233) and `!GLF_INITIAL` in 7.2 (7.2:L252).
    pub const fn lock_context(self, gl: &LockGlock) -> LockContext {
        LockContext {
            has_lvb: gl.has_lvb,
            converting: match self {
                Profile::Reference => gl.lkid != 0,
                Profile::Linux72 => !gl.glf_initial,
            },
            glf_blocking: gl.glf_blocking,
            cur: Some(gl.gl_state.to_dlm()),
        }
    }

    /// `gdlm_lock` up to the submit: the `dlm_lock` call and the glock bits it sets.
    pub fn gdlm_lock(
        self,
        name: &LockName,
        req_state: u32,
        gfs_flags: LmFlags,
        gl: &LockGlock,
    ) -> Result<GdlmLock, FlagsError> {
        match self {
            Profile::Linux72 => flags::gdlm_lock_linux72(name, req_state, gfs_flags, gl),
            Profile::Reference => {
                let request = flags::lock_request(
                    &FlagPolicy::REFERENCE,
                    name,
                    self.name_style(),
                    req_state,
                    gfs_flags,
                    &self.lock_context(gl),
                )?;
                Ok(GdlmLock {
                    request,
                    cur: gl.gl_state.to_dlm(),
                    blocking: false,
                    glf_blocking_after: gl.glf_blocking,
                    gl_req_after: None,
                })
            }
        }
    }

    /// One attempt of a DLM call (`dlm_lock` in gdlm_lock, `dlm_unlock` in
    /// put_lock, the sync calls): in 7.2 a released lockspace answers `-ENODEV`
    /// (7.2:L311-313); the reference always calls the DLM.
    pub const fn dlm_attempt(self, ls_released: bool) -> DlmAttempt {
        if self.is_72() && ls_released {
            DlmAttempt::Released(-ENODEV)
        } else {
            DlmAttempt::Call
        }
    }

    /// A DLM call returned `ret`: in 7.2, `-EBUSY` is slept on and retried
    /// (7.2:L316-319); otherwise it is the result.
    pub const fn after_dlm_call(self, ret: i32) -> DlmRetry {
        if self.is_72() && ret == -EBUSY {
            DlmRetry::Sleep {
                ms: DLM_BUSY_RETRY_MS,
            }
        } else {
            DlmRetry::Done(ret)
        }
    }

    /// `gdlm_bast`: the state to drop to, or `None` where 7.2 ignores a dead glock's
    /// BAST (7.2:L185-186). The reference has no dead test, so `dead` is not read.
    pub fn bast(self, mode: BastMode, dead: bool) -> Result<Option<LmState>, ModeError> {
        match self {
            Profile::Reference => mode::bast_state(mode).map(Some),
            Profile::Linux72 => mode::bast_state_linux72(mode, dead),
        }
    }

    /// `gdlm_put_lock` up to the unlock. The reference frees a glock without lkid and
    /// ignores `glf_initial` / `dead`; 7.2 refuses a glock that is not dead, frees
    /// while `GLF_INITIAL`, unlocks with VALBLK only with an LVB, and has no
    /// `DFL_UNMOUNT` short-cut ([`ast::put_lock_linux72`]).
    pub fn put_lock(
        self,
        p: &PutLockInput,
        glf_initial: bool,
        dead: bool,
    ) -> Result<PutLock, AstError> {
        match self {
            Profile::Reference => Ok(ast::put_lock(p)),
            Profile::Linux72 => ast::put_lock_linux72(p, glf_initial, dead),
        }
    }

    /// `gdlm_put_lock` after its `dlm_unlock` loop returned `ret`: 7.2 frees the glock
    /// on `-ENODEV` (7.2:L372-375).
    pub const fn put_lock_unlock_result(self, ret: i32) -> UnlockDone {
        ast::put_lock_unlock_result(self.is_72(), ret)
    }

    /// `gdlm_cancel`: the reference refuses lkid 0 ([`AstError::NoLock`]; it has no
    /// released state); 7.2 passes lkid 0 on and calls nothing once released.
    pub fn cancel(self, lkid: u32, ls_released: bool) -> Result<Option<CancelRequest>, AstError> {
        match self {
            Profile::Reference => ast::cancel(lkid).map(Some),
            Profile::Linux72 => Ok(ast::cancel_linux72(lkid, ls_released)),
        }
    }

    /// `control_mount`'s machine: 7.2 has a spectator path
    /// ([`ControlMount::new_spectator`]); the reference does not read `spectator`.
    pub const fn control_mount(self, spectator: bool) -> ControlMount {
        if self.is_72() && spectator {
            ControlMount::new_spectator()
        } else {
            ControlMount::new()
        }
    }

    /// `gdlm_mount`'s lock table split ([`LockTable::parse`]; 7.2 passes an empty
    /// fsname on to the DLM, [`LockTable::parse_linux72`]).
    pub fn lock_table(self, table: &str) -> Result<LockTable, TableError> {
        match self {
            Profile::Reference => LockTable::parse(table),
            Profile::Linux72 => LockTable::parse_linux72(table),
        }
    }

    /// `dlm_new_lockspace` flags: `FS | NEWEXCL` (+`NODIR`) in the reference,
    /// `NEWEXCL` alone in 7.2 (7.2:L1337).
    pub fn lockspace_flags(self, opts: &MountOptions) -> u32 {
        match self {
            Profile::Reference => opts.lockspace_flags(),
            Profile::Linux72 => opts.lockspace_flags_linux72(),
        }
    }

    /// The `dlm_release_lockspace` option of `gdlm_unmount(sdp, clean)` and of
    /// `gdlm_mount`'s fail path (`clean` true): the reference passes the literal 2
    /// (`DLM_RELEASE_NORMAL`, ref:L1277, L1314) and has no unclean unmount; 7.2 passes
    /// `DLM_RELEASE_RECOVER` for an unclean (withdraw) unmount so the survivors
    /// recover this node's journal (7.2:L1430-1436).
    pub const fn release_option(self, clean: bool) -> u32 {
        if self.is_72() && !clean {
            DLM_RELEASE_RECOVER
        } else {
            DLM_RELEASE_NORMAL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::DlmLkf;
    use crate::mode::DlmMode;

    fn glock(state: LmState, lkid: u32, initial: bool) -> LockGlock {
        LockGlock {
            gl_state: state,
            has_lvb: true,
            lkid,
            glf_initial: initial,
            glf_blocking: false,
        }
    }

    #[test]
    fn names_round_trip() {
        for p in [Profile::Reference, Profile::Linux72] {
            assert_eq!(Profile::from_policy_name(Some(p.name())), Some(p));
        }
        assert_eq!(Profile::from_policy_name(None), Some(Profile::Reference));
        assert_eq!(Profile::from_policy_name(Some("linux-9")), None);
        assert_eq!(Profile::default(), Profile::Reference);
    }

    #[test]
    fn lock_conversion_keyed_per_profile() -> Result<(), FlagsError> {
        let n = LockName::new(2, 0x10);
        // lkid set but GLF_INITIAL still set: a conversion in the reference, a new
        // lock (named, no CONVERT) in 7.2.
        let gl = glock(LmState::Shared, 5, true);
        let r = Profile::Reference.gdlm_lock(&n, 1, LmFlags::ANY, &gl);
        assert_eq!(r, Err(FlagsError::AnyWithMode(DlmMode::Ex)));
        let l = Profile::Linux72.gdlm_lock(&n, 1, LmFlags::ANY, &gl)?;
        assert!(l.request.name.is_some());
        assert_eq!(l.request.flags, DlmLkf::VALBLK);
        assert!(l.blocking && l.glf_blocking_after);
        assert_eq!(l.gl_req_after, Some(LmState::Exclusive));
        // PR → EX upward conversion: QUECVT; EX → PR down: no QUECVT, not blocking.
        let up = Profile::Linux72.gdlm_lock(
            &n,
            1,
            LmFlags::empty(),
            &glock(LmState::Shared, 5, false),
        )?;
        assert_eq!(
            up.request.flags,
            DlmLkf::VALBLK | DlmLkf::CONVERT | DlmLkf::QUECVT
        );
        let down = Profile::Linux72.gdlm_lock(
            &n,
            3,
            LmFlags::empty(),
            &glock(LmState::Exclusive, 5, false),
        )?;
        assert_eq!(down.request.flags, DlmLkf::VALBLK | DlmLkf::CONVERT);
        assert!(!down.blocking && !down.glf_blocking_after);
        Ok(())
    }

    #[test]
    fn dlm_loop_decisions() {
        assert_eq!(
            Profile::Linux72.dlm_attempt(true),
            DlmAttempt::Released(-19)
        );
        assert_eq!(Profile::Reference.dlm_attempt(true), DlmAttempt::Call);
        assert_eq!(
            Profile::Linux72.after_dlm_call(-EBUSY),
            DlmRetry::Sleep { ms: 20 }
        );
        assert_eq!(
            Profile::Reference.after_dlm_call(-EBUSY),
            DlmRetry::Done(-16)
        );
        assert_eq!(Profile::Linux72.after_dlm_call(-22), DlmRetry::Done(-22));
    }

    #[test]
    fn mount_and_unmount_choices() {
        let o = MountOptions {
            nodir: true,
            ..Default::default()
        };
        assert_eq!(Profile::Reference.lockspace_flags(&o), 0xd);
        assert_eq!(Profile::Linux72.lockspace_flags(&o), 0x8);
        assert_eq!(Profile::Reference.release_option(false), 2);
        assert_eq!(Profile::Linux72.release_option(false), 4);
        assert_eq!(Profile::Linux72.release_option(true), 2);
        assert!(Profile::Linux72.control_mount(true).is_spectator());
        assert!(!Profile::Reference.control_mount(true).is_spectator());
        let r: Recovery<16> = Profile::Linux72.recovery();
        assert!(r.withdraw_guard() && r.policy() == SizePolicy::Fit);
        assert_eq!(Profile::Reference.lock_table("c:").ok(), None);
        assert!(Profile::Linux72.lock_table("c:").is_ok());
    }

    #[test]
    fn bast_put_lock_cancel() {
        assert_eq!(Profile::Linux72.bast(BastMode::Mode(4), true), Ok(None));
        assert_eq!(
            Profile::Reference.bast(BastMode::Mode(5), true),
            Ok(Some(LmState::Unlocked))
        );
        let p = PutLockInput {
            lkid: 3,
            has_lvb: false,
            gl_state: LmState::Shared,
            skip_dlm_unlock: false,
        };
        assert_eq!(
            Profile::Linux72.put_lock(&p, false, false),
            Err(AstError::NotDead)
        );
        assert_eq!(
            Profile::Reference.put_lock(&p, false, false),
            Ok(PutLock::Unlock {
                lkid: 3,
                flags: DlmLkf::VALBLK
            })
        );
        assert_eq!(
            Profile::Linux72.put_lock_unlock_result(-ENODEV),
            UnlockDone::Free
        );
        assert_eq!(Profile::Reference.cancel(0, false), Err(AstError::NoLock));
        assert_eq!(
            Profile::Linux72.cancel(0, false).map(|c| c.map(|c| c.lkid)),
            Ok(Some(0))
        );
        assert_eq!(Profile::Linux72.cancel(7, true), Ok(None));
    }
}
