//! Glock states and DLM modes (reference: `make_mode`, `gdlm_bast`).

use core::fmt;

use crate::consts::*;

/// A glock state (`LM_ST_*`, fs/gfs2/glock.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum LmState {
    /// `LM_ST_UNLOCKED` (0).
    Unlocked = 0,
    /// `LM_ST_EXCLUSIVE` (1).
    Exclusive = 1,
    /// `LM_ST_DEFERRED` (2).
    Deferred = 2,
    /// `LM_ST_SHARED` (3).
    Shared = 3,
}

/// A DLM lock mode (`DLM_LOCK_*`, include/linux/dlmconstants.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(i8)]
pub enum DlmMode {
    /// `DLM_LOCK_IV` (-1): invalid / not held.
    Iv = -1,
    /// `DLM_LOCK_NL` (0).
    Nl = 0,
    /// `DLM_LOCK_CR` (1).
    Cr = 1,
    /// `DLM_LOCK_CW` (2).
    Cw = 2,
    /// `DLM_LOCK_PR` (3).
    Pr = 3,
    /// `DLM_LOCK_PW` (4).
    Pw = 4,
    /// `DLM_LOCK_EX` (5).
    Ex = 5,
}

/// A value that is not a known state or mode (the kernel would `BUG()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModeError {
    /// Not an `LM_ST_*` value (`make_mode`: "unknown LM state").
    UnknownState(u32),
    /// Not a `DLM_LOCK_*` value.
    UnknownMode(i32),
    /// A blocking AST mode other than EX, CW or PR (`gdlm_bast`: "unknown bast mode").
    UnknownBastMode(i32),
}

impl fmt::Display for ModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModeError::UnknownState(s) => write!(f, "unknown LM state {s}"),
            ModeError::UnknownMode(m) => write!(f, "unknown DLM mode {m}"),
            ModeError::UnknownBastMode(m) => write!(f, "unknown bast mode {m}"),
        }
    }
}

impl core::error::Error for ModeError {}

impl LmState {
    /// All four states, in numeric order.
    pub const ALL: [LmState; 4] = [
        LmState::Unlocked,
        LmState::Exclusive,
        LmState::Deferred,
        LmState::Shared,
    ];

    /// The kernel's numeric value.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// `make_mode`: the DLM mode that holds this state.
    pub const fn to_dlm(self) -> DlmMode {
        match self {
            LmState::Unlocked => DlmMode::Nl,
            LmState::Exclusive => DlmMode::Ex,
            LmState::Deferred => DlmMode::Cw,
            LmState::Shared => DlmMode::Pr,
        }
    }
}

impl TryFrom<u32> for LmState {
    type Error = ModeError;
    fn try_from(v: u32) -> Result<Self, ModeError> {
        match v {
            LM_ST_UNLOCKED => Ok(LmState::Unlocked),
            LM_ST_EXCLUSIVE => Ok(LmState::Exclusive),
            LM_ST_DEFERRED => Ok(LmState::Deferred),
            LM_ST_SHARED => Ok(LmState::Shared),
            other => Err(ModeError::UnknownState(other)),
        }
    }
}

impl DlmMode {
    /// The kernel's numeric value.
    pub const fn raw(self) -> i32 {
        self as i32
    }

    /// The DLM compatibility matrix (`__dlm_compat_matrix` without the IV/padding rows):
    /// can a lock in `self` be granted while another holds `other`?
    pub const fn compatible(self, other: DlmMode) -> bool {
        use DlmMode::*;
        match (self, other) {
            (Iv, _) | (_, Iv) | (Nl, _) | (_, Nl) => true,
            (Cr, Ex) | (Ex, Cr) => false,
            (Cr, _) | (_, Cr) => true,
            (Cw, Cw) => true,
            (Pr, Pr) => true,
            _ => false,
        }
    }

    /// The glock state a granted mode means (inverse of `make_mode`; CR and PW are
    /// never requested by GFS2 and map to `None`).
    pub const fn to_state(self) -> Option<LmState> {
        match self {
            DlmMode::Nl => Some(LmState::Unlocked),
            DlmMode::Ex => Some(LmState::Exclusive),
            DlmMode::Cw => Some(LmState::Deferred),
            DlmMode::Pr => Some(LmState::Shared),
            _ => None,
        }
    }
}

impl TryFrom<i32> for DlmMode {
    type Error = ModeError;
    fn try_from(v: i32) -> Result<Self, ModeError> {
        Ok(match v {
            DLM_LOCK_IV => DlmMode::Iv,
            DLM_LOCK_NL => DlmMode::Nl,
            DLM_LOCK_CR => DlmMode::Cr,
            DLM_LOCK_CW => DlmMode::Cw,
            DLM_LOCK_PR => DlmMode::Pr,
            DLM_LOCK_PW => DlmMode::Pw,
            DLM_LOCK_EX => DlmMode::Ex,
            other => return Err(ModeError::UnknownMode(other)),
        })
    }
}

/// `make_mode` over the raw `LM_ST_*` value: an unknown state is an error where the
/// kernel would `BUG()`.
pub fn make_mode(lmstate: u32) -> Result<DlmMode, ModeError> {
    LmState::try_from(lmstate).map(LmState::to_dlm)
}

/// The mode a blocking AST reports.
///
/// The kernel passes the blocking request's mode; libdlm's userspace BAST carries none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BastMode {
    /// The mode of the request being blocked (kernel DLM), raw.
    Mode(i32),
    /// The mode is not known (libdlm's `bast(void *astarg)`).
    Unknown,
}

/// `gdlm_bast`: the state the glock must drop to for the blocked request.
///
/// EX → `Unlocked`, CW → `Deferred`, PR → `Shared`; any other mode is an error where
/// the kernel would `BUG()`. With [`BastMode::Unknown`] the request could be EX, so the
/// only safe answer is `Unlocked` (the most compatible state).
pub fn bast_state(mode: BastMode) -> Result<LmState, ModeError> {
    match mode {
        BastMode::Mode(DLM_LOCK_EX) | BastMode::Unknown => Ok(LmState::Unlocked),
        BastMode::Mode(DLM_LOCK_CW) => Ok(LmState::Deferred),
        BastMode::Mode(DLM_LOCK_PR) => Ok(LmState::Shared),
        BastMode::Mode(m) => Err(ModeError::UnknownBastMode(m)),
    }
}

/// Linux 7.2.13's `gdlm_bast` (7.2:L181-202): a dead glock's BAST is ignored
/// (`Ok(None)`, checked before the mode, 7.2:L185-186); otherwise as [`bast_state`].
pub fn bast_state_linux72(mode: BastMode, dead: bool) -> Result<Option<LmState>, ModeError> {
    if dead {
        return Ok(None);
    }
    bast_state(mode).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_mode_total_on_states() {
        assert_eq!(make_mode(0), Ok(DlmMode::Nl));
        assert_eq!(make_mode(1), Ok(DlmMode::Ex));
        assert_eq!(make_mode(2), Ok(DlmMode::Cw));
        assert_eq!(make_mode(3), Ok(DlmMode::Pr));
        assert_eq!(make_mode(4), Err(ModeError::UnknownState(4)));
        for s in LmState::ALL {
            assert_eq!(s.to_dlm().to_state(), Some(s));
        }
    }

    #[test]
    fn bast_mapping() {
        assert_eq!(bast_state(BastMode::Mode(5)), Ok(LmState::Unlocked));
        assert_eq!(bast_state(BastMode::Mode(2)), Ok(LmState::Deferred));
        assert_eq!(bast_state(BastMode::Mode(3)), Ok(LmState::Shared));
        assert_eq!(bast_state(BastMode::Unknown), Ok(LmState::Unlocked));
        assert_eq!(
            bast_state(BastMode::Mode(4)),
            Err(ModeError::UnknownBastMode(4))
        );
        assert_eq!(bast_state_linux72(BastMode::Mode(4), true), Ok(None));
        assert_eq!(
            bast_state_linux72(BastMode::Mode(3), false),
            Ok(Some(LmState::Shared))
        );
        assert_eq!(
            bast_state_linux72(BastMode::Mode(-3), false),
            Err(ModeError::UnknownBastMode(-3))
        );
    }

    #[test]
    fn compat_matrix_is_symmetric_and_kernel_shaped() {
        let all = [
            DlmMode::Nl,
            DlmMode::Cr,
            DlmMode::Cw,
            DlmMode::Pr,
            DlmMode::Pw,
            DlmMode::Ex,
        ];
        // Rows NL..EX of __dlm_compat_matrix.
        let expect = [
            [1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 0],
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 1, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
        ];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                assert_eq!(a.compatible(*b), expect[i][j] == 1, "{a:?} vs {b:?}");
            }
        }
    }
}
