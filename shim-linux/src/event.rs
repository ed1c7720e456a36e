// SPDX-License-Identifier: GPL-2.0-only
//! What the lockspace fd delivers: completions (ASTs) and blocking callbacks (BASTs).
//! Pure data and decoding, no I/O.

use gdlm_core::consts::{DLM_ECANCEL, DLM_EUNLOCK, EAGAIN, EDEADLK, ETIMEDOUT};

/// A lock of a [`crate::Lockspace`]: a handle, valid until its final completion (an unlock,
/// a cancelled or failed first request) has been delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockId(pub(crate) u64);

impl LockId {
    /// The handle's number (the `astarg` given to libdlm).
    pub const fn raw(self) -> u64 {
        self.0
    }
}

/// The result of a request: the status in the kernel's convention (0 or a negative code),
/// four bytes, so a [`Completion`] is 16. The named values are associated
/// constants that work in patterns (`Status::Granted => ..`); anything else is
/// [`Status::other`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Status(i32);

#[allow(non_upper_case_globals)]
impl Status {
    /// 0: granted (request or conversion).
    pub const Granted: Status = Status(0);
    /// `EAGAIN`: a `NOQUEUE` request could not be granted at once.
    pub const Again: Status = Status(-EAGAIN);
    /// `EDEADLK`: the conversion deadlocked.
    pub const Deadlock: Status = Status(-EDEADLK);
    /// `ETIMEDOUT`: a `TIMEOUT` request timed out.
    pub const TimedOut: Status = Status(-ETIMEDOUT);
    /// `EUNLOCK`: the lock is gone.
    pub const Unlocked: Status = Status(-DLM_EUNLOCK);
    /// `ECANCEL`: the request was cancelled.
    pub const Cancelled: Status = Status(-DLM_ECANCEL);

    /// Decodes libdlm's `sb_status`. libdlm flips the kernel's negative status to positive;
    /// a negative value is taken as already in the kernel's convention.
    #[inline]
    pub fn from_sb_status(raw: i32) -> Status {
        Status(if raw > 0 { raw.wrapping_neg() } else { raw })
    }

    /// A status in the kernel's convention (0 or a negative code).
    #[inline]
    pub const fn from_kernel(status: i32) -> Status {
        Status(status)
    }

    /// The status as the kernel's `gdlm_ast` sees it in `lksb.sb_status` (what
    /// [`gdlm_core::ast::AstInput::sb_status`] wants).
    #[inline]
    pub const fn kernel_status(self) -> i32 {
        self.0
    }

    /// The code of a status that is none of the named ones.
    pub fn other(self) -> Option<i32> {
        match self {
            Status::Granted
            | Status::Again
            | Status::Deadlock
            | Status::TimedOut
            | Status::Unlocked
            | Status::Cancelled => None,
            Status(s) => Some(s),
        }
    }
}

impl std::fmt::Debug for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Status::Granted => f.write_str("Granted"),
            Status::Again => f.write_str("Again"),
            Status::Deadlock => f.write_str("Deadlock"),
            Status::TimedOut => f.write_str("TimedOut"),
            Status::Unlocked => f.write_str("Unlocked"),
            Status::Cancelled => f.write_str("Cancelled"),
            Status(s) => write!(f, "Other({s})"),
        }
    }
}

/// `DLM_SBF_*` bits of `sb_flags`.
pub mod sbf {
    /// `DLM_SBF_DEMOTED`.
    pub const DEMOTED: u8 = 0x01;
    /// `DLM_SBF_VALNOTVALID`: the LVB was invalidated (a holder died); it has been zeroed.
    pub const VALNOTVALID: u8 = 0x02;
    /// `DLM_SBF_ALTMODE`: granted in the alternate mode (`ALTPR`/`ALTCW`).
    pub const ALTMODE: u8 = 0x04;
}

/// One AST: the request, conversion, unlock or cancel of `lock` completed. Sixteen bytes,
/// copied without the LVB: the LVB stays in the lock's buffer and is read on demand
/// ([`crate::Lockspace::completion_lvb`]), the DLM's lock id with [`crate::Lockspace::lkid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The lock.
    pub lock: LockId,
    /// The status (`sb_status`, in the kernel's convention).
    pub status: Status,
    /// `sb_flags` ([`sbf`]).
    pub sb_flags: u8,
    /// This was the lock's last event: the handle is gone (unlocked, or a first request that
    /// failed or was cancelled).
    pub last: bool,
    /// The lock uses `VALBLK`: its LVB buffer holds the LVB after the operation.
    pub valblk: bool,
}

/// What the lockspace fd delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A completion AST.
    Completion(Completion),
    /// A blocking AST: another node or lock wants a mode `lock`'s mode blocks. libdlm does
    /// not pass the requested mode (`gdlm_core::mode::BastMode::Unknown`).
    Blocking {
        /// The lock holding the blocking mode.
        lock: LockId,
    },
}

impl Event {
    /// The lock this event is for.
    pub fn lock(&self) -> LockId {
        match self {
            Event::Completion(c) => c.lock,
            Event::Blocking { lock } => *lock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn libdlm_status_is_the_kernel_status_negated() {
        assert_eq!(Status::from_sb_status(0), Status::Granted);
        assert_eq!(Status::from_sb_status(11), Status::Again);
        assert_eq!(Status::from_sb_status(sys::EUNLOCK), Status::Unlocked);
        assert_eq!(Status::from_sb_status(sys::ECANCEL), Status::Cancelled);
        assert_eq!(Status::from_sb_status(-11), Status::Again);
        assert_eq!(Status::from_sb_status(35), Status::Deadlock);
        assert_eq!(Status::from_sb_status(5).other(), Some(-5));
        assert_eq!(Status::from_sb_status(11).other(), None);
        assert_eq!(format!("{:?}", Status::from_kernel(-5)), "Other(-5)");
        assert_eq!(format!("{:?}", Status::Unlocked), "Unlocked");
        assert_eq!(sys::EUNLOCK, DLM_EUNLOCK);
        assert_eq!(sys::ECANCEL, DLM_ECANCEL);
    }

    #[test]
    fn kernel_status_round_trips() {
        for s in [
            0,
            -EAGAIN,
            -EDEADLK,
            -ETIMEDOUT,
            -DLM_EUNLOCK,
            -DLM_ECANCEL,
            -5,
            -22,
        ] {
            assert_eq!(Status::from_kernel(s).kernel_status(), s);
        }
        // Small: what the callback path copies (the LVB stays in the lock's buffer).
        assert_eq!(std::mem::size_of::<Completion>(), 16);
        assert_eq!(std::mem::size_of::<Status>(), 4);
    }

    #[test]
    fn core_reads_the_status_as_the_kernel_does() {
        use gdlm_core::ast::{gdlm_ast, AstInput, AstOutcome, AstStyle};
        use gdlm_core::consts::LM_OUT_TRY_AGAIN;
        use gdlm_core::mode::LmState;
        let input = AstInput {
            gl_state: LmState::Unlocked,
            gl_req: LmState::Exclusive,
            sb_status: Status::from_sb_status(11).kernel_status(),
            sb_flags: 0,
            has_lvb: true,
            glf_initial: true,
            lkid: 0,
            dead: false,
        };
        let out = gdlm_ast(AstStyle::Modern, &input).unwrap();
        assert!(matches!(out, AstOutcome::Complete { ret, .. } if ret == LM_OUT_TRY_AGAIN));
    }
}
