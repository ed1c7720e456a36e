//! # gdlm-core
//!
//! The GFS2 `lock_dlm` glue (Linux `fs/gfs2/lock_dlm.c`, v3.10–v3.16) as a `no_std`,
//! allocation-free, sans-IO core. It decides; the caller does the I/O.
//!
//! | module | reference | what it holds |
//! | --- | --- | --- |
//! | [`name`] | `gfs2_reverse_hex`, `gdlm_lock`, `sync_lock` | glock name ⇄ 24-byte DLM resource name |
//! | [`mode`] | `make_mode`, `gdlm_bast` | glock states, DLM modes, BAST → state |
//! | [`flags`] | `make_flags`, `gdlm_lock` | GFS2 flags → DLM flags under a [`flags::FlagPolicy`] |
//! | [`ast`] | `gdlm_ast`, `gdlm_put_lock`, `gdlm_cancel` | completion outcomes, unlock and cancel |
//! | [`stats`] | `gfs2_update_stats`, `gfs2_update_*_times` | SRTT/variance lock statistics |
//! | [`glock`] | `gdlm_lock`, `gdlm_ast`, `gdlm_bast`, `gdlm_put_lock`, `gdlm_cancel` | one glock's lock_dlm side as a machine |
//! | [`lvb`] | `control_lvb_read/write`, `all_jid_bits_clear` | the control_lock LVB |
//! | [`recovery`] | `gdlm_recover_*`, `gdlm_recovery_result`, `gfs2_control_func` | recovery state and the control step |
//! | [`membership`] | `dlm_lockspace_ops`, `dlm_slots_assign` | recovery callbacks synthesized from group membership (CPG) |
//! | [`mount`] | `control_mount`, `control_first_done`, `gdlm_mount` | first-mounter protocol, lock table, options |
//! | [`profile`] | the whole file | [`Profile`]: the v3.12 reference (default) or Linux 7.2.13, as one value |
//! | [`engine`] | the whole of `lock_dlm.c` + gfs2 journal recovery | one lifecycle state machine every shim runs (`handle`/`poll`/`poll_timeout`) |
//! | [`text`] | `fs_info`, `fs_err` | log text written once, for `core::fmt` and for kernel buffers |
//! | [`signal`] | `wait_on_bit`, `queue_delayed_work` | no_std signals a shim can await |
//!
//! Every input is checked: where the kernel would `BUG()` or index out of bounds,
//! these functions return a typed error and leave the state as it was.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod consts;
pub mod engine;
pub mod flags;
pub mod glock;
pub mod lvb;
pub mod membership;
pub mod mode;
pub mod mount;
pub mod name;
pub mod profile;
pub mod recovery;
#[cfg(feature = "signal")]
pub mod signal;
pub mod stats;
pub mod text;

pub use ast::{
    gdlm_ast, gdlm_ast_apply, gdlm_ast_in_place, AstAction, AstError, AstGlock, AstInput,
    AstOutcome, AstStyle, PutLock,
};
pub use engine::{Action, Engine, EngineError, Event};
pub use flags::{make_flags, DlmLkf, FlagPolicy, LmFlags, LockContext, LockRequest};
pub use lvb::{ControlLvb, JidSet, LvbError, LvbLengthError};
pub use membership::{Change, LeftReason, Member, Membership, MembershipError, SyncMsg};
pub use mode::{BastMode, DlmMode, LmState, ModeError};
pub use mount::{ControlMount, FirstDone, LockTable, MountFailure, MountOptions, MountStep};
pub use name::{LockName, NameError, ResName};
pub use profile::{DlmAttempt, DlmRetry, Profile};
pub use recovery::{
    ControlBegin, ControlFinish, ControlUpdate, RecoverFlags, Recovery, RecoveryError,
    SharedRecovery, SizePolicy, SubmitPolicy,
};
pub use stats::{GlockStats, LkStats};

/// Any error of this crate, for callers that want one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// A resource name did not decode.
    Name(NameError),
    /// An unknown state or mode.
    Mode(ModeError),
    /// `make_flags` refused the request.
    Flags(flags::FlagsError),
    /// `gdlm_ast` refused the completion.
    Ast(AstError),
    /// A malformed LVB or jid.
    Lvb(LvbError),
    /// A refused recovery callback.
    Recovery(RecoveryError),
    /// A mount machine misuse.
    Mount(mount::MountError),
    /// A bad lock table or host data.
    Table(mount::TableError),
    /// A refused membership change or group message.
    Membership(MembershipError),
}

macro_rules! from_err {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self { Error::$v(e) }
        }
    )*};
}

from_err!(
    NameError => Name,
    ModeError => Mode,
    flags::FlagsError => Flags,
    AstError => Ast,
    LvbError => Lvb,
    RecoveryError => Recovery,
    mount::MountError => Mount,
    mount::TableError => Table,
    MembershipError => Membership,
);

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Name(e) => e.fmt(f),
            Error::Mode(e) => e.fmt(f),
            Error::Flags(e) => e.fmt(f),
            Error::Ast(e) => e.fmt(f),
            Error::Lvb(e) => e.fmt(f),
            Error::Recovery(e) => e.fmt(f),
            Error::Mount(e) => e.fmt(f),
            Error::Table(e) => e.fmt(f),
            Error::Membership(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for Error {}
