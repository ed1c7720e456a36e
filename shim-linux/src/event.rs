// SPDX-License-Identifier: GPL-2.0-only
//! What the lockspace fd delivers: completions (ASTs) and blocking callbacks (BASTs).
//! Pure data and decoding, no I/O.

use gdlm_core::consts::{DLM_ECANCEL, DLM_EUNLOCK, EAGAIN, EDEADLK, ETIMEDOUT};

use crate::sys;

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

/// The result of a request, decoded from `sb_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0: granted (request or conversion).
    Granted,
    /// `EAGAIN`: a `NOQUEUE` request could not be granted at once.
    Again,
    /// `EDEADLK`: the conversion deadlocked.
    Deadlock,
    /// `ETIMEDOUT`: a `TIMEOUT` request timed out.
    TimedOut,
    /// `EUNLOCK`: the lock is gone.
    Unlocked,
    /// `ECANCEL`: the request was cancelled.
    Cancelled,
    /// Any other status (kernel convention: negative errno).
    Other(i32),
}

impl Status {
    /// Decodes libdlm's `sb_status`. libdlm flips the kernel's negative status to positive;
    /// a negative value is taken as already in the kernel's convention.
    pub fn from_sb_status(raw: i32) -> Status {
        Status::from_kernel(if raw > 0 { raw.wrapping_neg() } else { raw })
    }

    /// Decodes a status in the kernel's convention (0 or a negative code).
    pub fn from_kernel(status: i32) -> Status {
        match status {
            0 => Status::Granted,
            s if s == -EAGAIN => Status::Again,
            s if s == -EDEADLK => Status::Deadlock,
            s if s == -ETIMEDOUT => Status::TimedOut,
            s if s == -DLM_EUNLOCK => Status::Unlocked,
            s if s == -DLM_ECANCEL => Status::Cancelled,
            s => Status::Other(s),
        }
    }

    /// The status as the kernel's `gdlm_ast` sees it in `lksb.sb_status` (what
    /// [`gdlm_core::ast::AstInput::sb_status`] wants).
    pub fn kernel_status(self) -> i32 {
        match self {
            Status::Granted => 0,
            Status::Again => -EAGAIN,
            Status::Deadlock => -EDEADLK,
            Status::TimedOut => -ETIMEDOUT,
            Status::Unlocked => -DLM_EUNLOCK,
            Status::Cancelled => -DLM_ECANCEL,
            Status::Other(s) => s,
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

/// One AST: the request, conversion, unlock or cancel of `lock` completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The lock.
    pub lock: LockId,
    /// The DLM's lock id (`sb_lkid`; 0 if a first request failed).
    pub lkid: u32,
    /// The decoded `sb_status`.
    pub status: Status,
    /// `sb_flags` ([`sbf`]).
    pub sb_flags: u8,
    /// The LVB after the operation when the lock uses `VALBLK`.
    pub lvb: Option<[u8; sys::DLM_LVB_LEN]>,
    /// This was the lock's last event: the handle is gone (unlocked, or a first request that
    /// failed or was cancelled).
    pub last: bool,
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

    #[test]
    fn libdlm_status_is_the_kernel_status_negated() {
        assert_eq!(Status::from_sb_status(0), Status::Granted);
        assert_eq!(Status::from_sb_status(11), Status::Again);
        assert_eq!(Status::from_sb_status(sys::EUNLOCK), Status::Unlocked);
        assert_eq!(Status::from_sb_status(sys::ECANCEL), Status::Cancelled);
        assert_eq!(Status::from_sb_status(-11), Status::Again);
        assert_eq!(Status::from_sb_status(35), Status::Deadlock);
        assert_eq!(Status::from_sb_status(5), Status::Other(-5));
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
