//! gdlm-kernel: gdlm-core's lifecycle [`Engine`] behind a C ABI for a Linux kernel module.
//!
//! The ABI is the engine's own call order (quinn-proto's shape): the module's C glue
//! feeds every input with [`gdlm_k_handle`] (DLM completions, the recovery callbacks,
//! replay results, mount, unmount, interrupt), drains [`gdlm_k_poll`] after each call and
//! performs each [`Action`] outside its spinlock (dlm_lock/dlm_unlock, the lockspace's
//! creation and release, a journal "replay", log lines), and calls
//! [`gdlm_k_handle_timeout`] when [`gdlm_k_poll_timeout`] says (the 500 ms mount retry,
//! the control work, the `HZ` retry after a journal gave up). The glue decides nothing
//! about the protocol: no LVB decoding, no `DFL_*` tests, no lock-table parsing
//! ([`gdlm_k_parse_table`] is gdlm-core's `LockTable::parse`).
//!
//! Events and actions are `#[repr(C)]` structs tagged by a `kind` (`GDLM_K_EV_*`,
//! `GDLM_K_ACT_*`); a lock is a [`LockRef`] (`kind` + `jid`). Every refused input is a
//! distinct negative `GDLM_K_E*` code and leaves the state as it was. Log actions carry
//! the engine's text (its `Display`, written by [`text`] without `core::fmt`, which
//! cannot live in the kernel object) and its level. The module's test glocks and its
//! benchmark run gdlm-core's per-glock machine (`gdlm_core::glock::Glock`, per profile)
//! through the `gdlm_k_glock_*` calls on a [`GlockCell`]: request, set_lkid, complete,
//! bast, take_demote, put, cancel; the C decides nothing about them either.
//!
//! `include/gdlm_kernel.h` is generated from this file by cbindgen (`tests/header.rs`
//! fails when the committed copy differs). The state is opaque to C: it allocates
//! [`gdlm_k_size`] bytes aligned to [`gdlm_k_align`] and calls [`gdlm_k_init`].
//!
//! `unsafe` lives only here: every exported function dereferences pointers the glue
//! passes, and says why that is sound.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod text;

use core::mem::{align_of, size_of};

use gdlm_core::ast::AstError;
use gdlm_core::consts::{
    DLM_RELEASE_NORMAL, EAGAIN, GDLM_LVB_SIZE, GFS2_LKS_DCOUNT, LM_OUT_CANCELED, LM_OUT_ERROR,
};
use gdlm_core::engine::{
    self, Config, DlmOp, Engine, EngineError, Instant, Level, LogEvent, MountFailure, Release,
    ReplayOutcome, ReplayReason,
};
use gdlm_core::flags::{FlagsError, LmFlags};
use gdlm_core::glock::{self, Glock, GlockError, Pending, Put};
use gdlm_core::lvb::JidSet;
use gdlm_core::mode::ModeError;
use gdlm_core::mount::{LockTable, MountError};
use gdlm_core::name::LockName;
use gdlm_core::recovery::RecoveryError;
use gdlm_core::{LmState, Profile};

use gdlm_core::text::Sink;
use text::{Text, TEXT_LEN};

/// Bytes in a lock value block (`GDLM_LVB_SIZE`).
pub const GDLM_K_LVB_SIZE: usize = 32;
/// Bytes of a DLM resource name (`GDLM_STRNAME_BYTES - 1`, no NUL).
pub const GDLM_K_NAME_LEN: usize = 24;
/// Bytes of a log line in [`Action::text`], the NUL included.
pub const GDLM_K_TEXT_LEN: usize = 128;
/// Bytes of a name in [`Table`] (`GFS2_LOCKNAME_LEN`, `DLM_LOCKSPACE_LEN`), the NUL
/// included.
pub const GDLM_K_TABLE_NAME_LEN: usize = 65;
/// Jids (and DLM slots) one state holds: the engine's capacity `N`. The control LVB
/// describes 192, but a kernel stack (16 KiB) does not hold the engine's `handle` at
/// `N = 192`: its frame is about 28 KiB (mostly the CPG membership's `Change<N>`,
/// unused with the DLM's callbacks; 4.6 KiB at 32, 2.5 KiB at 16; the first VM run at
/// 192 overflowed the stack). So the module runs `Engine<16>` (gfs2's usual cluster
/// limit): slots beyond 16 are refused (`GDLM_K_ESLOT_CAPACITY`).
pub const GDLM_K_MAX_JIDS: u32 = 16;
/// Jids the control LVB's bitmap describes.
const LVB_JIDS: u32 = gdlm_core::consts::MAX_JIDS as u32;
const _: () = assert!(GDLM_K_LVB_SIZE == GDLM_LVB_SIZE);
const _: () = assert!(GDLM_K_NAME_LEN == gdlm_core::consts::GDLM_STRNAME_BYTES - 1);
const _: () = assert!(GDLM_K_TEXT_LEN == TEXT_LEN);
const _: () = assert!(GDLM_K_TABLE_NAME_LEN == gdlm_core::consts::GFS2_LOCKNAME_LEN + 1);
const _: () = assert!(GDLM_K_TABLE_NAME_LEN == gdlm_core::consts::DLM_LOCKSPACE_LEN + 1);
const _: () = assert!(GDLM_K_MAX_JIDS as usize <= gdlm_core::consts::MAX_JIDS);

/// `gdlm_k_init` profile: the v3.12 lock_dlm (the reference).
pub const GDLM_K_PROFILE_REFERENCE: u32 = 0;
/// `gdlm_k_init` profile: Linux 7.2's lock_dlm (`DLM_LSFL_NEWEXCL` only, withdraw guard).
pub const GDLM_K_PROFILE_LINUX72: u32 = 1;

/// [`LockRef::kind`]: `control_lock` (with its LVB).
pub const GDLM_K_LOCK_CONTROL: u32 = 0;
/// [`LockRef::kind`]: `mounted_lock`.
pub const GDLM_K_LOCK_MOUNTED: u32 = 1;
/// [`LockRef::kind`]: the journal lock of [`LockRef::jid`].
pub const GDLM_K_LOCK_JOURNAL: u32 = 2;

/// [`Event::kind`]: `gdlm_mount` with [`Event::journals`] journals.
pub const GDLM_K_EV_MOUNT: u32 = 0;
/// [`Event::kind`]: `dlm_new_lockspace` returned (the recovery callbacks in use).
pub const GDLM_K_EV_LOCKSPACE_JOINED: u32 = 1;
/// [`Event::kind`]: `dlm_new_lockspace` failed with [`Event::status`].
pub const GDLM_K_EV_LOCKSPACE_FAILED: u32 = 2;
/// [`Event::kind`]: `recover_prep`.
pub const GDLM_K_EV_RECOVER_PREP: u32 = 3;
/// [`Event::kind`]: `recover_slot` of [`Event::slot`].
pub const GDLM_K_EV_RECOVER_SLOT: u32 = 4;
/// [`Event::kind`]: `recover_done`: [`Event::slots`] (`nslots`), our slot
/// [`Event::slot`], [`Event::generation`].
pub const GDLM_K_EV_RECOVER_DONE: u32 = 5;
/// [`Event::kind`]: a DLM call for [`Event::lock`] completed (or failed at once) with
/// [`Event::status`], [`Event::sb_flags`] and, with `has_lvb`, [`Event::lvb`].
pub const GDLM_K_EV_DLM_DONE: u32 = 6;
/// [`Event::kind`]: the replay of [`Event::jid`] finished: [`Event::status`] 0, or the
/// negative error it failed with.
pub const GDLM_K_EV_REPLAY_DONE: u32 = 7;
/// [`Event::kind`]: unmount cleanly.
pub const GDLM_K_EV_UNMOUNT: u32 = 8;
/// [`Event::kind`]: the file system withdrew.
pub const GDLM_K_EV_WITHDRAW: u32 = 9;
/// [`Event::kind`]: a signal is pending (the mount is interrupted).
pub const GDLM_K_EV_INTERRUPT: u32 = 10;

/// [`Action::kind`]: `dlm_new_lockspace` with the `DLM_LSFL_*` of [`Action::flags`];
/// then `GDLM_K_EV_LOCKSPACE_JOINED` or `_FAILED`.
pub const GDLM_K_ACT_NEW_LOCKSPACE: u32 = 0;
/// [`Action::kind`]: a DLM call for [`Action::lock`]: [`Action::op`], `mode`, `flags`,
/// `name`, and `lvb` to copy into the lksb's LVB first when `write_lvb`.
pub const GDLM_K_ACT_DLM: u32 = 1;
/// [`Action::kind`]: replay journal [`Action::jid`] (the journal lock is held EX), for
/// [`Action::reason`] (`GDLM_K_REPLAY_*`); then `GDLM_K_EV_REPLAY_DONE`.
pub const GDLM_K_ACT_REPLAY: u32 = 2;
/// [`Action::kind`]: mounted with [`Action::jid`], first mounter when [`Action::first`].
pub const GDLM_K_ACT_MOUNTED: u32 = 3;
/// [`Action::kind`]: the mount failed ([`Action::reason`] a `GDLM_K_MOUNT_FAIL_*`,
/// [`Action::error`]); a `GDLM_K_ACT_RELEASE` follows if a lockspace was joined.
pub const GDLM_K_ACT_MOUNT_FAILED: u32 = 4;
/// [`Action::kind`]: locking is unblocked at [`Action::generation`].
pub const GDLM_K_ACT_UNBLOCKED: u32 = 5;
/// [`Action::kind`]: `dlm_release_lockspace(ls, flags)` ([`Action::flags`]: the
/// option, `DLM_RELEASE_NORMAL` or 7.2's `DLM_RELEASE_RECOVER`); the engine is finished.
pub const GDLM_K_ACT_RELEASE: u32 = 6;
/// [`Action::kind`]: print [`Action::text`] at [`Action::level`].
pub const GDLM_K_ACT_LOG: u32 = 7;

/// [`Action::op`]: `dlm_lock` (a new lock, or a conversion when `flags` has CONVERT).
pub const GDLM_K_OP_LOCK: u32 = 0;
/// [`Action::op`]: `dlm_unlock`.
pub const GDLM_K_OP_UNLOCK: u32 = 1;

/// [`Action::reason`] of a replay: our own journal, while mounting (`init_journal`).
pub const GDLM_K_REPLAY_OWN: u32 = 0;
/// [`Action::reason`] of a replay: the first mounter's pass over every journal.
pub const GDLM_K_REPLAY_FIRST_MOUNT: u32 = 1;
/// [`Action::reason`] of a replay: a failed node's journal ([`Action::generation`]).
pub const GDLM_K_REPLAY_RECOVERY: u32 = 2;

/// [`Action::reason`] of a failed mount: `control_mount` failed (not disabled).
pub const GDLM_K_MOUNT_FAIL_CONTROL: u32 = 0;
/// [`Action::reason`] of a failed mount: the control LVB says mounts are disabled.
pub const GDLM_K_MOUNT_FAIL_DISABLED: u32 = 1;
/// [`Action::reason`] of a failed mount: no recover_done before the lockspace was joined.
pub const GDLM_K_MOUNT_FAIL_JID_PRESET: u32 = 2;
/// [`Action::reason`] of a failed mount: `dlm_new_lockspace` failed.
pub const GDLM_K_MOUNT_FAIL_LOCKSPACE: u32 = 3;
/// [`Action::reason`] of a failed mount: no journal for our jid.
pub const GDLM_K_MOUNT_FAIL_NO_JOURNAL: u32 = 4;
/// [`Action::reason`] of a failed mount: our journal lock failed.
pub const GDLM_K_MOUNT_FAIL_OWN_JOURNAL_LOCK: u32 = 5;
/// [`Action::reason`] of a failed mount: replaying our journal failed.
pub const GDLM_K_MOUNT_FAIL_OWN_JOURNAL: u32 = 6;
/// [`Action::reason`] of a failed mount: the first mounter could not recover
/// [`Action::jid`].
pub const GDLM_K_MOUNT_FAIL_FIRST_MOUNT_JOURNAL: u32 = 7;
/// [`Action::reason`] of a failed mount: stopped before `control_mount` began.
pub const GDLM_K_MOUNT_FAIL_INTERRUPTED: u32 = 8;

/// [`Action::level`]: `fs_info`.
pub const GDLM_K_LEVEL_INFO: u32 = 0;
/// [`Action::level`]: `fs_err`.
pub const GDLM_K_LEVEL_ERR: u32 = 1;
/// [`Action::level`]: not printed by the kernel (what the engine saw or decided).
pub const GDLM_K_LEVEL_DEBUG: u32 = 2;

/// Error: a pointer the call needs (state, event, output) is null.
pub const GDLM_K_ENULL: i32 = -1;
/// Error: the event does not fit the engine's phase (`EngineError::Unexpected`).
pub const GDLM_K_EUNEXPECTED: i32 = -2;
/// Error: the mount machine refused its input (`EngineError::Mount`, unexpected input).
pub const GDLM_K_EORDER: i32 = -3;
/// Error: a DLM slot ≤ 0 (`RecoveryError::InvalidSlot`).
pub const GDLM_K_ESLOT: i32 = -4;
/// Error: a slot whose jid is beyond the state's 192 jids (`SlotBeyondCapacity`).
pub const GDLM_K_ESLOT_CAPACITY: i32 = -5;
/// Error: a jid beyond the state's 192 jids (`JidBeyondCapacity`).
pub const GDLM_K_EJID_CAPACITY: i32 = -6;
/// Error: a jid beyond `ls_recover_size` (`ShortSize`).
pub const GDLM_K_ESHORT_SIZE: i32 = -7;
/// Error: the jid arrays would grow beyond 192 (`SizeBeyondCapacity`).
pub const GDLM_K_ESIZE_CAPACITY: i32 = -8;
/// Error: not an `LM_ST_*` state (`make_mode`: "unknown LM state", a kernel BUG).
pub const GDLM_K_ESTATE: i32 = -9;
/// Error: not a `DLM_LOCK_*` mode.
pub const GDLM_K_EMODE: i32 = -10;
/// Error: a BAST mode other than EX, CW or PR (`gdlm_bast`: "unknown bast mode", a BUG).
pub const GDLM_K_EBAST_MODE: i32 = -11;
/// Error: `LM_FLAG_ANY` with a mode other than PR or CW (`make_flags`, a BUG).
pub const GDLM_K_EANY_MODE: i32 = -12;
/// Error: a conversion whose held mode is needed and not known (`MissingCurrentMode`).
pub const GDLM_K_ECUR_MODE: i32 = -13;
/// Error: `DLM_SBF_DEMOTED` in a completion (`gdlm_ast`, a BUG).
pub const GDLM_K_EDEMOTED: i32 = -14;
/// Error: a completion status `gdlm_ast` does not expect (a BUG).
pub const GDLM_K_ESTATUS: i32 = -15;
/// Error: `DLM_SBF_ALTMODE` on a grant other than SHARED or DEFERRED (a BUG).
pub const GDLM_K_EALTMODE: i32 = -16;
/// Error: a cancel or unlock of a glock without a DLM lock (lkid 0).
pub const GDLM_K_ENOLOCK: i32 = -17;
/// Error: `gdlm_ast` ignored the completion (the lockspace is being released).
pub const GDLM_K_EIGNORED: i32 = -18;
/// Error: a [`LockRef::kind`] that is not a `GDLM_K_LOCK_*`, or a journal beyond the capacity.
pub const GDLM_K_ELOCK: i32 = -19;
/// Error: a recovery input refused because the file system withdrew (7.2's guard).
pub const GDLM_K_EWITHDRAWN: i32 = -20;
/// Error: a glock that is not dead passed where 7.2's put_lock expects a dead one.
pub const GDLM_K_ENOT_DEAD: i32 = -21;
/// Error: a control_lock grant passed without its LVB (`MountError::MissingLvb`).
pub const GDLM_K_ENOLVB: i32 = -22;
/// Error: a membership change the core refuses (`EngineError::Membership`).
pub const GDLM_K_EMEMBERSHIP: i32 = -23;
/// Error: an [`Event::kind`] that is not a `GDLM_K_EV_*`.
pub const GDLM_K_EKIND: i32 = -24;
/// Error: a profile that is not a `GDLM_K_PROFILE_*`.
pub const GDLM_K_EPROFILE: i32 = -25;
/// Error: a lock table without `:` (`TableError::NoFsname`).
pub const GDLM_K_ENO_FSNAME: i32 = -26;
/// Error: a cluster or fs name empty or too long (`TableError::BadLength`), or not UTF-8.
pub const GDLM_K_ETABLE_LENGTH: i32 = -27;
/// Error: more slots in a recover_done than the capacity (`GDLM_K_MAX_JIDS`).
pub const GDLM_K_ESLOTS: i32 = -28;
/// Error: a glock request while one is in flight (`GlockError::Busy`).
pub const GDLM_K_EBUSY: i32 = -29;
/// Error: a glock completion or cancel with nothing in flight (`GlockError::NotPending`).
pub const GDLM_K_ENOT_PENDING: i32 = -30;
/// Error: a glock used after put_lock (`GlockError::Freed`).
pub const GDLM_K_EFREED: i32 = -31;
/// Error: a glock cell that `gdlm_k_glock_init` did not initialise.
pub const GDLM_K_EUNINIT: i32 = -32;

fn recovery_error(e: RecoveryError) -> i32 {
    match e {
        RecoveryError::InvalidSlot(_) => GDLM_K_ESLOT,
        RecoveryError::SlotBeyondCapacity { .. } => GDLM_K_ESLOT_CAPACITY,
        RecoveryError::JidBeyondCapacity { .. } => GDLM_K_EJID_CAPACITY,
        RecoveryError::ShortSize { .. } => GDLM_K_ESHORT_SIZE,
        RecoveryError::SizeBeyondCapacity { .. } => GDLM_K_ESIZE_CAPACITY,
        RecoveryError::Withdrawn => GDLM_K_EWITHDRAWN,
    }
}

fn mount_error(e: MountError) -> i32 {
    match e {
        MountError::UnexpectedInput => GDLM_K_EORDER,
        MountError::MissingLvb => GDLM_K_ENOLVB,
    }
}

fn mode_error(e: ModeError) -> i32 {
    match e {
        ModeError::UnknownState(_) => GDLM_K_ESTATE,
        ModeError::UnknownMode(_) => GDLM_K_EMODE,
        ModeError::UnknownBastMode(_) => GDLM_K_EBAST_MODE,
    }
}

fn flags_error(e: FlagsError) -> i32 {
    match e {
        FlagsError::AnyWithMode(_) => GDLM_K_EANY_MODE,
        FlagsError::Mode(m) => mode_error(m),
        FlagsError::MissingCurrentMode => GDLM_K_ECUR_MODE,
    }
}

fn ast_error(e: AstError) -> i32 {
    match e {
        AstError::Demoted => GDLM_K_EDEMOTED,
        AstError::UnknownStatus(_) => GDLM_K_ESTATUS,
        AstError::AltMode(_) => GDLM_K_EALTMODE,
        AstError::NoLock => GDLM_K_ENOLOCK,
        AstError::NotDead => GDLM_K_ENOT_DEAD,
    }
}

/// One `GDLM_K_E*` code per [`EngineError`].
fn engine_error(e: EngineError) -> i32 {
    match e {
        EngineError::Unexpected { .. } => GDLM_K_EUNEXPECTED,
        EngineError::Recovery(r) => recovery_error(r),
        EngineError::Membership(_) => GDLM_K_EMEMBERSHIP,
        EngineError::Ast(a) => ast_error(a),
        EngineError::Mount(m) => mount_error(m),
    }
}

/// One mount's state (opaque to C): the engine, plus what the ABI needs around it.
pub struct State {
    engine: Engine<{ GDLM_K_MAX_JIDS as usize }>,
    /// A [`LogEvent::RecoverJids`] being handed out one line per poll: its generation,
    /// the jids, and the next jid to print.
    jid_lines: Option<(LogEvent, JidSet, u32)>,
    /// The control_lock LVB as last passed in or out (for the status line).
    control_lvb: [u8; GDLM_K_LVB_SIZE],
    /// `recover_done`'s slots, copied from the DLM's `struct dlm_slot` array.
    slots: [i32; GDLM_K_MAX_JIDS as usize],
}

/// A lock of the engine (`struct gdlm_k_lock_ref`): `kind` `GDLM_K_LOCK_*`, and the
/// jid of a journal lock (0 otherwise).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockRef {
    /// `GDLM_K_LOCK_*`.
    pub kind: u32,
    /// The journal, for `GDLM_K_LOCK_JOURNAL`.
    pub jid: u32,
}

impl LockRef {
    fn from_engine(l: engine::LockRef) -> Self {
        match l {
            engine::LockRef::Control => LockRef {
                kind: GDLM_K_LOCK_CONTROL,
                jid: 0,
            },
            engine::LockRef::Mounted => LockRef {
                kind: GDLM_K_LOCK_MOUNTED,
                jid: 0,
            },
            engine::LockRef::Journal(j) => LockRef {
                kind: GDLM_K_LOCK_JOURNAL,
                jid: j,
            },
        }
    }

    fn to_engine(self) -> Result<engine::LockRef, i32> {
        match self.kind {
            GDLM_K_LOCK_CONTROL => Ok(engine::LockRef::Control),
            GDLM_K_LOCK_MOUNTED => Ok(engine::LockRef::Mounted),
            GDLM_K_LOCK_JOURNAL if self.jid < GDLM_K_MAX_JIDS => {
                Ok(engine::LockRef::Journal(self.jid))
            }
            _ => Err(GDLM_K_ELOCK),
        }
    }
}

/// The kernel's `struct dlm_slot` (`include/linux/dlm.h`), as `recover_done` passes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// The member's node id.
    pub nodeid: i32,
    /// Its slot (jid + 1).
    pub slot: i32,
}

/// An input (`struct gdlm_k_event`); only the fields its `kind` names are read.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// `GDLM_K_EV_*`.
    pub kind: u32,
    /// `DLM_DONE`: which lock.
    pub lock: LockRef,
    /// `DLM_DONE`: `sb_status`; `LOCKSPACE_FAILED`: the error; `REPLAY_DONE`: 0 or the
    /// negative error.
    pub status: i32,
    /// `DLM_DONE`: `sb_flags`.
    pub sb_flags: u8,
    /// `DLM_DONE`: 1 when `lvb` holds the lksb's LVB after the call.
    pub has_lvb: u8,
    /// `DLM_DONE`: the LVB.
    pub lvb: [u8; GDLM_K_LVB_SIZE],
    /// `RECOVER_SLOT`: the failed slot; `RECOVER_DONE`: our slot.
    pub slot: i32,
    /// `RECOVER_DONE`: the generation.
    pub generation: u32,
    /// `RECOVER_DONE`: every member's slot (`nslots` of them; null when 0).
    pub slots: *const Slot,
    /// `RECOVER_DONE`: how many.
    pub nslots: u32,
    /// `REPLAY_DONE`: the journal.
    pub jid: u32,
    /// `MOUNT`: journals in the file system.
    pub journals: u32,
}

/// What to do (`struct gdlm_k_action`); only the fields its `kind` names are set.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    /// `GDLM_K_ACT_*`.
    pub kind: u32,
    /// `DLM`: which lock (its lksb).
    pub lock: LockRef,
    /// `DLM`: `GDLM_K_OP_LOCK` or `GDLM_K_OP_UNLOCK`.
    pub op: u32,
    /// `DLM` lock: `DLM_LOCK_*`.
    pub mode: i32,
    /// `DLM` lock: `DLM_LKF_*`; `NEW_LOCKSPACE`: `DLM_LSFL_*`; `RELEASE`: the
    /// `dlm_release_lockspace` option.
    pub flags: u32,
    /// `DLM` lock: 1 to copy `lvb` into the lksb's LVB before the call.
    pub write_lvb: u32,
    /// `DLM` lock: the LVB to write.
    pub lvb: [u8; GDLM_K_LVB_SIZE],
    /// `DLM` lock: the resource name.
    pub name: [u8; GDLM_K_NAME_LEN],
    /// `REPLAY`, `MOUNTED`, `MOUNT_FAILED` (first-mount journal): the jid.
    pub jid: u32,
    /// `REPLAY`: `GDLM_K_REPLAY_*`; `MOUNT_FAILED`: `GDLM_K_MOUNT_FAIL_*`.
    pub reason: u32,
    /// `REPLAY` (recovery), `UNBLOCKED`: the generation.
    pub generation: u32,
    /// `REPLAY`: 1 for our own journal ("already locked for use").
    pub own: u32,
    /// `MOUNTED`: 1 for the first mounter.
    pub first: u32,
    /// `MOUNT_FAILED`: the negative error.
    pub error: i32,
    /// `LOG`: `GDLM_K_LEVEL_*`.
    pub level: u32,
    /// `LOG`: the line, NUL-terminated (the kernel's text, without a prefix).
    pub text: [u8; GDLM_K_TEXT_LEN],
}

impl Action {
    const fn empty(kind: u32) -> Action {
        Action {
            kind,
            lock: LockRef { kind: 0, jid: 0 },
            op: 0,
            mode: 0,
            flags: 0,
            write_lvb: 0,
            lvb: [0; GDLM_K_LVB_SIZE],
            name: [0; GDLM_K_NAME_LEN],
            jid: 0,
            reason: 0,
            generation: 0,
            own: 0,
            first: 0,
            error: 0,
            level: 0,
            text: [0; GDLM_K_TEXT_LEN],
        }
    }
}

/// A lock table split by gdlm-core's `LockTable::parse` (`struct gdlm_k_table`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Table {
    /// The cluster name, NUL-terminated.
    pub cluster: [u8; GDLM_K_TABLE_NAME_LEN],
    /// The file system (lockspace) name, NUL-terminated.
    pub fsname: [u8; GDLM_K_TABLE_NAME_LEN],
}

fn profile(p: u32) -> Result<Profile, i32> {
    match p {
        GDLM_K_PROFILE_REFERENCE => Ok(Profile::Reference),
        GDLM_K_PROFILE_LINUX72 => Ok(Profile::Linux72),
        _ => Err(GDLM_K_EPROFILE),
    }
}

/// Bytes to allocate for one mount's state.
#[no_mangle]
pub extern "C" fn gdlm_k_size() -> usize {
    size_of::<State>()
}

/// Alignment of the state.
#[no_mangle]
pub extern "C" fn gdlm_k_align() -> usize {
    align_of::<State>()
}

/// Initialise the state: an engine that has not mounted, following the kernel of
/// `profile` (`GDLM_K_PROFILE_*`), with the DLM's recovery callbacks. 0, or
/// `GDLM_K_EPROFILE` / `GDLM_K_ENULL` (nothing written).
///
/// # Safety
/// `st` is null or points to `gdlm_k_size()` writable bytes aligned to `gdlm_k_align()`.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_init(st: *mut State, profile_id: u32) -> i32 {
    let p = match profile(profile_id) {
        Ok(p) => p,
        Err(e) => return e,
    };
    if st.is_null() {
        return GDLM_K_ENULL;
    }
    let s = State {
        engine: Engine::new(Config::for_profile(p)),
        jid_lines: None,
        control_lvb: [0; GDLM_K_LVB_SIZE],
        slots: [0; GDLM_K_MAX_JIDS as usize],
    };
    // SAFETY: the caller guarantees st is valid for writes of a State and aligned;
    // write does not read or drop the uninitialised old contents.
    unsafe { st.write(s) };
    0
}

/// Finish with a state [`gdlm_k_init`] initialised (before C frees its memory).
///
/// # Safety
/// `st` is null or was initialised by [`gdlm_k_init`]; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_destroy(st: *mut State) {
    if !st.is_null() {
        // SAFETY: st points to an initialised State (the contract) that nobody uses
        // afterwards; the memory stays C's.
        unsafe { core::ptr::drop_in_place(st) };
    }
}

/// # Safety
/// `st` is null or was initialised by [`gdlm_k_init`] and is not used concurrently.
unsafe fn state<'a>(st: *mut State) -> Option<&'a mut State> {
    // SAFETY: per the caller's contract, a non-null st points to an initialised State
    // with no other live reference (the glue serialises calls under its spinlock).
    unsafe { st.as_mut() }
}

/// Feed one input ([`Event`], at `now_ms` milliseconds of the caller's monotonic clock).
/// 0, or a negative `GDLM_K_E*` code (the engine's [`EngineError`], one code per kind;
/// or `GDLM_K_EKIND`, `GDLM_K_ELOCK`, `GDLM_K_ESLOTS`, `GDLM_K_ENULL`) with the state
/// unchanged. Drain [`gdlm_k_poll`] afterwards.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `ev` is null or points to a readable event whose `slots`
/// is null or points to `nslots` readable `struct gdlm_k_slot`s.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_handle(st: *mut State, ev: *const Event, now_ms: u64) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    // SAFETY: ev is null or readable (the contract); read copies it out.
    let Some(ev) = (unsafe { ev.as_ref() }).copied() else {
        return GDLM_K_ENULL;
    };
    let now = Instant::from_millis(now_ms);
    let e = match ev.kind {
        GDLM_K_EV_MOUNT => engine::Event::Mount {
            journals: ev.journals,
        },
        GDLM_K_EV_LOCKSPACE_JOINED => engine::Event::LockspaceJoined,
        GDLM_K_EV_LOCKSPACE_FAILED => engine::Event::LockspaceFailed(ev.status),
        GDLM_K_EV_RECOVER_PREP => engine::Event::RecoverPrep,
        GDLM_K_EV_RECOVER_SLOT => engine::Event::RecoverSlot { slot: ev.slot },
        GDLM_K_EV_RECOVER_DONE => {
            let n = ev.nslots as usize;
            if n > s.slots.len() {
                return GDLM_K_ESLOTS;
            }
            if n > 0 {
                if ev.slots.is_null() {
                    return GDLM_K_ENULL;
                }
                // SAFETY: non-null and valid for nslots reads (the contract); the DLM
                // keeps the array alive during the callback this call is made from.
                let src = unsafe { core::slice::from_raw_parts(ev.slots, n) };
                for (d, x) in s.slots.iter_mut().zip(src) {
                    *d = x.slot;
                }
            }
            let slots = s.slots.get(..n).unwrap_or(&[]);
            return match s.engine.handle(
                now,
                engine::Event::RecoverDone {
                    slots,
                    our_slot: ev.slot,
                    generation: ev.generation,
                },
            ) {
                Ok(()) => 0,
                Err(e) => engine_error(e),
            };
        }
        GDLM_K_EV_DLM_DONE => {
            let lock = match ev.lock.to_engine() {
                Ok(l) => l,
                Err(e) => return e,
            };
            let lvb = (ev.has_lvb != 0).then_some(ev.lvb);
            let r = s.engine.handle(
                now,
                engine::Event::DlmDone {
                    lock,
                    status: ev.status,
                    sb_flags: ev.sb_flags,
                    lvb,
                },
            );
            if r.is_ok() && lock == engine::LockRef::Control {
                if let Some(l) = lvb {
                    s.control_lvb = l;
                }
            }
            return match r {
                Ok(()) => 0,
                Err(e) => engine_error(e),
            };
        }
        GDLM_K_EV_REPLAY_DONE => engine::Event::ReplayDone {
            jid: ev.jid,
            outcome: if ev.status == 0 {
                ReplayOutcome::Success
            } else {
                ReplayOutcome::Failed(ev.status)
            },
        },
        GDLM_K_EV_UNMOUNT => engine::Event::Unmount,
        GDLM_K_EV_WITHDRAW => engine::Event::Withdraw,
        GDLM_K_EV_INTERRUPT => engine::Event::Interrupt,
        _ => return GDLM_K_EKIND,
    };
    match s.engine.handle(now, e) {
        Ok(()) => 0,
        Err(e) => engine_error(e),
    }
}

fn level(l: Level) -> u32 {
    match l {
        Level::Info => GDLM_K_LEVEL_INFO,
        Level::Err => GDLM_K_LEVEL_ERR,
        Level::Debug => GDLM_K_LEVEL_DEBUG,
    }
}

fn log_action(ev: &LogEvent, jid: u32) -> Action {
    let mut a = Action::empty(GDLM_K_ACT_LOG);
    a.level = level(ev.level());
    text::log_line(&mut Text::new(&mut a.text), ev, jid);
    a
}

/// `(reason, error, jid)` of a failed mount.
fn mount_failure(f: MountFailure) -> (u32, i32, u32) {
    const EINVAL: i32 = -gdlm_core::consts::EINVAL;
    match f {
        MountFailure::ControlMount { error, reason } => {
            let r = if reason == gdlm_core::mount::MountFailure::Disabled {
                GDLM_K_MOUNT_FAIL_DISABLED
            } else {
                GDLM_K_MOUNT_FAIL_CONTROL
            };
            (r, error, 0)
        }
        MountFailure::JidPreset => (GDLM_K_MOUNT_FAIL_JID_PRESET, EINVAL, 0),
        MountFailure::Lockspace(e) => (GDLM_K_MOUNT_FAIL_LOCKSPACE, e, 0),
        MountFailure::NoJournal { jid } => (GDLM_K_MOUNT_FAIL_NO_JOURNAL, EINVAL, jid),
        MountFailure::OwnJournalLock(e) => (GDLM_K_MOUNT_FAIL_OWN_JOURNAL_LOCK, e, 0),
        MountFailure::OwnJournal(e) => (GDLM_K_MOUNT_FAIL_OWN_JOURNAL, e, 0),
        MountFailure::FirstMountJournal { jid, error } => {
            (GDLM_K_MOUNT_FAIL_FIRST_MOUNT_JOURNAL, error, jid)
        }
        MountFailure::Interrupted => (GDLM_K_MOUNT_FAIL_INTERRUPTED, -gdlm_core::consts::EINTR, 0),
    }
}

/// The next line of a [`LogEvent::RecoverJids`] in progress.
fn next_jid_line(s: &mut State) -> Option<Action> {
    let (ev, jids, next) = s.jid_lines?;
    // contains(), not iter(): bitvec's iter_ones calls through function pointers,
    // which the kernel object must not (ci/check-kernel-object).
    let found = (next..LVB_JIDS).find(|&j| jids.contains(j));
    match found {
        Some(j) => {
            s.jid_lines = Some((ev, jids, j + 1));
            Some(log_action(&ev, j))
        }
        None => {
            s.jid_lines = None;
            None
        }
    }
}

fn translate(s: &mut State, a: engine::Action) -> Option<Action> {
    Some(match a {
        engine::Action::NewLockspace { flags } => {
            let mut o = Action::empty(GDLM_K_ACT_NEW_LOCKSPACE);
            o.flags = flags;
            o
        }
        // Userspace lockspaces only; this engine takes the DLM's callbacks.
        engine::Action::JoinGroup | engine::Action::Multicast => return None,
        engine::Action::Dlm(req) => {
            let mut o = Action::empty(GDLM_K_ACT_DLM);
            o.lock = LockRef::from_engine(req.lock);
            o.name = *req.name().as_bytes();
            match req.op {
                DlmOp::Lock { mode, flags } => {
                    o.op = GDLM_K_OP_LOCK;
                    o.mode = mode.raw();
                    o.flags = flags.bits();
                    // The engine's lksb buffer, copied into the C action.
                    if let Some(l) = s.engine.request_lvb(&req) {
                        o.write_lvb = 1;
                        o.lvb = *l.as_bytes();
                        if req.lock == engine::LockRef::Control {
                            s.control_lvb = o.lvb;
                        }
                    }
                }
                DlmOp::Unlock => o.op = GDLM_K_OP_UNLOCK,
            }
            o
        }
        engine::Action::Replay { jid, reason } => {
            let mut o = Action::empty(GDLM_K_ACT_REPLAY);
            o.jid = jid;
            o.own = u32::from(s.engine.jid() == Some(jid));
            match reason {
                ReplayReason::Own => o.reason = GDLM_K_REPLAY_OWN,
                ReplayReason::FirstMount => o.reason = GDLM_K_REPLAY_FIRST_MOUNT,
                ReplayReason::Recovery { generation } => {
                    o.reason = GDLM_K_REPLAY_RECOVERY;
                    o.generation = generation;
                }
            }
            o
        }
        engine::Action::Mounted { jid, first } => {
            let mut o = Action::empty(GDLM_K_ACT_MOUNTED);
            o.jid = jid;
            o.first = u32::from(first);
            o
        }
        engine::Action::MountFailed(f) => {
            let mut o = Action::empty(GDLM_K_ACT_MOUNT_FAILED);
            (o.reason, o.error, o.jid) = mount_failure(f);
            o
        }
        engine::Action::Unblocked { generation } => {
            let mut o = Action::empty(GDLM_K_ACT_UNBLOCKED);
            o.generation = generation;
            o
        }
        engine::Action::Release(r) => {
            let mut o = Action::empty(GDLM_K_ACT_RELEASE);
            o.flags = match r {
                Release::Normal => DLM_RELEASE_NORMAL,
                Release::Recover => gdlm_core::consts::DLM_RELEASE_RECOVER,
            };
            o
        }
        engine::Action::Log(ev) => {
            if let LogEvent::RecoverJids { jids, .. } = ev {
                s.jid_lines = Some((ev, jids, 0));
                return next_jid_line(s);
            }
            log_action(&ev, 0)
        }
    })
}

/// The next action, in order: 1 with `*out` set, 0 when there is none (`*out` not
/// written), `GDLM_K_ENULL`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `out` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_poll(st: *mut State, out: *mut Action) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    if out.is_null() {
        return GDLM_K_ENULL;
    }
    let a = loop {
        if let Some(a) = next_jid_line(s) {
            break a;
        }
        match s.engine.poll() {
            None => return 0,
            Some(a) => {
                if let Some(a) = translate(s, a) {
                    break a;
                }
            }
        }
    };
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { out.write(a) };
    1
}

/// When [`gdlm_k_handle_timeout`] must be called next: 1 with `*at_ms` set (rounded up
/// to the millisecond; at or before now: at once), 0 when nothing is due,
/// `GDLM_K_ENULL`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `at_ms` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_poll_timeout(st: *mut State, at_ms: *mut u64) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    if at_ms.is_null() {
        return GDLM_K_ENULL;
    }
    match s.engine.poll_timeout() {
        None => 0,
        Some(t) => {
            // SAFETY: non-null and valid for a write (the contract).
            unsafe { at_ms.write(t.as_millis_ceil()) };
            1
        }
    }
}

/// Run one item due at `now_ms` (the mount retry sleep, the control work, the journal
/// recovery work); nothing if none is due. Drain [`gdlm_k_poll`] afterwards. 0 or
/// `GDLM_K_ENULL`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_handle_timeout(st: *mut State, now_ms: u64) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    s.engine.handle_timeout(Instant::from_millis(now_ms));
    0
}

/// The DLM resource name of one of the engine's locks (`engine::LockRef::name`, the
/// kernel's `%8x%16x`; a journal's is `LM_TYPE_JOURNAL`, jid) into `out`
/// (`GDLM_K_NAME_LEN` bytes): the glue names the locks of its journal stand-in by it (the
/// anchors that keep a journal resource, and so its LVB, alive). 0, or `GDLM_K_ENULL`,
/// `GDLM_K_ELOCK` (no such lock) with `out` untouched.
///
/// # Safety
/// `lock` is null or valid for a read; `out` is null or valid for `GDLM_K_NAME_LEN` writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_lock_name(lock: *const LockRef, out: *mut u8) -> i32 {
    if lock.is_null() || out.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: non-null and valid for a read (the contract).
    let l = match unsafe { *lock }.to_engine() {
        Ok(l) => l,
        Err(e) => return e,
    };
    let name = l.name();
    // SAFETY: `out` is valid for GDLM_K_NAME_LEN writes (the contract); the source is a
    // local of that length.
    unsafe { core::ptr::copy_nonoverlapping(name.as_bytes().as_ptr(), out, GDLM_K_NAME_LEN) };
    0
}

/// 1 while locking is blocked (`DFL_BLOCK_LOCKS`: before the first unblock, and from a
/// `recover_prep` until the control step unblocks), 0 otherwise; 1 for a null state.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_locks_blocked(st: *mut State) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { state(st) }.map_or(1, |s| i32::from(s.engine.locks_blocked()))
}

fn phase_name(p: engine::Phase) -> &'static str {
    use engine::Phase::*;
    match p {
        Idle => "idle",
        Joining => "joining",
        Mounting => "mounting",
        OwnJournal => "own-journal",
        OwnReplay => "own-replay",
        FirstRecovery => "first-recovery",
        FirstDone => "first-done",
        Mounted => "mounted",
        Unmounting => "unmounting",
        Down => "down",
        Failed => "failed",
        Withdrawn => "withdrawn",
    }
}

/// The state as one status line (NUL-terminated, cut to `len`): `mounted M first F jid J
/// blocked B phase P flags 0xF block N start N mount N size N control_lvb_gen G jids
/// J,J|-` (`jids`: the control LVB's jid bits as this node last read or wrote them).
/// The line's length, or `GDLM_K_ENULL`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `buf` is null or valid for `len` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_status(st: *mut State, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    if buf.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: non-null and valid for len bytes of writes (the contract), not aliased
    // during this call.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, len) };
    let e = &s.engine;
    let r = e.recovery();
    let mut t = Text::new(out);
    t.s("mounted ")
        .u(e.is_mounted())
        .s(" first ")
        .u(e.is_first())
        .s(" jid ")
        .i(e.jid().map_or(-1, i64::from))
        .s(" blocked ")
        .u(e.locks_blocked())
        .s(" phase ")
        .s(phase_name(e.phase()))
        .s(" flags 0x")
        .x(r.flags().bits())
        .s(" block ")
        .u(r.recover_block())
        .s(" start ")
        .u(r.recover_start())
        .s(" mount ")
        .u(r.recover_mount())
        .s(" size ")
        .u(r.recover_size())
        .s(" control_lvb_gen ")
        .u(gdlm_core::ControlLvb::from_array(s.control_lvb).generation())
        .s(" jids");
    let mut any = false;
    let bits = r.lvb_bits().jids();
    for j in (0..LVB_JIDS).filter(|&j| bits.contains(j)) {
        t.s(if any { "," } else { " " }).u(j);
        any = true;
    }
    if !any {
        t.s(" -");
    }
    i32::try_from(t.len()).unwrap_or(i32::MAX)
}

/// Split a lock table `cluster:fsname` as `gdlm_mount` does (gdlm-core's
/// `LockTable::parse`) into `*out`. 0, `GDLM_K_ENO_FSNAME`, `GDLM_K_ETABLE_LENGTH`,
/// `GDLM_K_ENULL`.
///
/// # Safety
/// `table` is null or points to `len` readable bytes; `out` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_parse_table(table: *const u8, len: usize, out: *mut Table) -> i32 {
    if table.is_null() || out.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: non-null and valid for len reads (the contract); lives for this call.
    let bytes = unsafe { core::slice::from_raw_parts(table, len) };
    let Ok(text) = core::str::from_utf8(bytes) else {
        return GDLM_K_ETABLE_LENGTH;
    };
    let t = match LockTable::parse(text) {
        Ok(t) => t,
        Err(gdlm_core::mount::TableError::NoFsname) => return GDLM_K_ENO_FSNAME,
        Err(_) => return GDLM_K_ETABLE_LENGTH,
    };
    let mut o = Table {
        cluster: [0; GDLM_K_TABLE_NAME_LEN],
        fsname: [0; GDLM_K_TABLE_NAME_LEN],
    };
    // Both fit with their NUL: String<64> against 65 bytes (asserted above).
    for (d, c) in o.cluster.iter_mut().zip(t.cluster.as_bytes()) {
        *d = *c;
    }
    for (d, c) in o.fsname.iter_mut().zip(t.fsname.as_bytes()) {
        *d = *c;
    }
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { out.write(o) };
    0
}

/// Words of [`GlockCell::body`]: room for one `gdlm_core::glock::Glock`.
pub const GDLM_K_GLOCK_WORDS: usize = 24;
/// [`GlockCell::magic`] once [`gdlm_k_glock_init`] ran.
const GLOCK_MAGIC: u64 = 0x6764_6c6d_676c_6b31; // "gdlmglk1"
const _: () = assert!(size_of::<Glock>() <= GDLM_K_GLOCK_WORDS * 8);
const _: () = assert!(align_of::<Glock>() <= align_of::<u64>());

/// One glock (`struct gdlm_k_glock`): gdlm-core's per-glock machine
/// (`gdlm_core::glock::Glock`: `gl_state`, `sb_lkid`, `GLF_INITIAL`, the request in
/// flight, the demote owed, dead after put_lock, the statistics). Opaque to C: embed it,
/// zero it or not, and call [`gdlm_k_glock_init`] before anything else (every other
/// call on a cell that was not initialised is `GDLM_K_EUNINIT`). The calls are not
/// reentrant: the glue makes them under one lock per glock (its AST and BAST callbacks
/// included).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GlockCell {
    /// Set by [`gdlm_k_glock_init`]; do not touch.
    pub magic: u64,
    /// The machine; do not touch.
    pub body: [u64; GDLM_K_GLOCK_WORDS],
}

/// A DLM call a glock asks for (`struct gdlm_k_glock_call`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlockCall {
    /// `GDLM_K_OP_LOCK` (`dlm_lock`), `GDLM_K_OP_UNLOCK` (`dlm_unlock`, a cancel
    /// included: `flags` has `DLM_LKF_CANCEL`) or `GDLM_K_OP_NONE` (no DLM call).
    pub op: u32,
    /// `LOCK`: `DLM_LOCK_*`.
    pub mode: i32,
    /// `DLM_LKF_*`.
    pub flags: u32,
    /// The lksb's `sb_lkid` to pass: the lock converted, unlocked or canceled; 0 for a
    /// new lock.
    pub lkid: u32,
    /// `LOCK` of a new lock (`lkid` 0): the resource name; all NUL for a conversion.
    pub name: [u8; GDLM_K_NAME_LEN],
}

impl GlockCall {
    const NONE: GlockCall = GlockCall {
        op: GDLM_K_OP_NONE,
        mode: 0,
        flags: 0,
        lkid: 0,
        name: [0; GDLM_K_NAME_LEN],
    };
}

/// What a completion did (`struct gdlm_k_glock_done`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlockDone {
    /// `GDLM_K_GLOCK_*`: the outcome glock.c's `finish_xmote` sees.
    pub result: u32,
    /// The `gfs2_glock_complete` bits (`LM_OUT_*` | state); 0 when freed or ignored.
    pub ret: u32,
    /// `gl_state` afterwards (`LM_ST_*`).
    pub state: u32,
    /// 1: zero the LVB (`DLM_SBF_VALNOTVALID`).
    pub lvb_zeroed: u32,
}

/// A glock's state for display (`struct gdlm_k_glock_info`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlockInfo {
    /// `gl_state` (`LM_ST_*`).
    pub state: u32,
    /// `sb_lkid` (0: no DLM lock).
    pub lkid: u32,
    /// 1 while a request or an unlock is in flight.
    pub pending: u32,
    /// 1 once put (freed, or its unlock in flight).
    pub dead: u32,
    /// DLM requests sent (`GFS2_LKS_DCOUNT`).
    pub dcount: u64,
}

/// [`GlockCall::op`]: no DLM call (put_lock freed the glock at once, or a cancel that
/// 7.2 does not pass on).
pub const GDLM_K_OP_NONE: u32 = 2;

/// [`GlockDone::result`]: granted the state asked for.
pub const GDLM_K_GLOCK_GRANTED: u32 = 0;
/// [`GlockDone::result`]: a TRY request was refused (`-EAGAIN`; 7.2's
/// `LM_OUT_TRY_AGAIN`); the state is unchanged.
pub const GDLM_K_GLOCK_TRY_FAILED: u32 = 1;
/// [`GlockDone::result`]: the request was canceled (`LM_OUT_CANCELED`).
pub const GDLM_K_GLOCK_CANCELED: u32 = 2;
/// [`GlockDone::result`]: not granted otherwise (`LM_OUT_ERROR`, a deadlock, …).
pub const GDLM_K_GLOCK_NOT_GRANTED: u32 = 3;
/// [`GlockDone::result`]: the unlock of put_lock finished: the glock is freed.
pub const GDLM_K_GLOCK_FREED: u32 = 4;
/// [`GlockDone::result`]: 7.2: a dead glock's completion that is not its unlock's reply.
pub const GDLM_K_GLOCK_IGNORED: u32 = 5;

fn glock_error(e: GlockError) -> i32 {
    match e {
        GlockError::Busy => GDLM_K_EBUSY,
        GlockError::NotPending => GDLM_K_ENOT_PENDING,
        GlockError::Freed => GDLM_K_EFREED,
        GlockError::Flags(f) => flags_error(f),
        GlockError::Ast(a) => ast_error(a),
        GlockError::Mode(m) => mode_error(m),
    }
}

/// The machine in `cell`, or `GDLM_K_ENULL` / `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` is null or points to a live, writable `GlockCell` that nothing else uses
/// during the returned borrow.
unsafe fn glock<'a>(cell: *mut GlockCell) -> Result<&'a mut Glock, i32> {
    // SAFETY: null or valid and unaliased (the contract).
    let Some(c) = (unsafe { cell.as_mut() }) else {
        return Err(GDLM_K_ENULL);
    };
    if c.magic != GLOCK_MAGIC {
        return Err(GDLM_K_EUNINIT);
    }
    // SAFETY: body is large and aligned enough for a Glock (asserted above) and holds
    // the one gdlm_k_glock_init wrote (magic set only then); the borrow is c's.
    Ok(unsafe { &mut *c.body.as_mut_ptr().cast::<Glock>() })
}

/// Initialise `cell` as a new glock `ln_type`,`ln_number` (unlocked, no DLM lock) of
/// `profile` (`GDLM_K_PROFILE_*`), with an LVB when `has_lvb`. 0, `GDLM_K_EPROFILE`,
/// `GDLM_K_ENULL` (nothing written). Re-initialising a cell starts a new glock.
///
/// # Safety
/// `cell` is null or valid for a write of a `GlockCell`, and not in use by another call.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_init(
    cell: *mut GlockCell,
    profile_id: u32,
    ln_type: u32,
    ln_number: u64,
    has_lvb: u32,
) -> i32 {
    let p = match profile(profile_id) {
        Ok(p) => p,
        Err(e) => return e,
    };
    if cell.is_null() {
        return GDLM_K_ENULL;
    }
    let g = Glock::new(p, LockName::new(ln_type, ln_number), has_lvb != 0);
    // SAFETY: non-null and valid for writes (the contract); body fits a Glock and is
    // aligned for it (asserted above).
    unsafe {
        (*cell).body.as_mut_ptr().cast::<Glock>().write(g);
        (*cell).magic = GLOCK_MAGIC;
    }
    0
}

/// `gdlm_lock`: ask for `req_state` (`LM_ST_*`) with GFS2 flags `lm_flags` at `now_ns`.
/// `*call` is the `dlm_lock` to make (a new lock by name, or a conversion of
/// `call->lkid`); then [`gdlm_k_glock_set_lkid`] with the lksb's id, and
/// [`gdlm_k_glock_complete`] from the AST, or [`gdlm_k_glock_request_failed`] when
/// `dlm_lock` fails at once. 0, or `GDLM_K_EBUSY` (a request in flight), `GDLM_K_EFREED`,
/// `GDLM_K_ESTATE`, `GDLM_K_EANY_MODE`, `GDLM_K_ECUR_MODE`, `GDLM_K_ENULL`,
/// `GDLM_K_EUNINIT` (glock unchanged, nothing written).
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_init`] (initialised); `call` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_request(
    cell: *mut GlockCell,
    req_state: u32,
    lm_flags: u32,
    now_ns: i64,
    call: *mut GlockCall,
) -> i32 {
    if call.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    let req = match LmState::try_from(req_state) {
        Ok(r) => r,
        Err(e) => return mode_error(e),
    };
    let lkid = g.lkid();
    let r = match g.request(req, LmFlags::from_bits_retain(lm_flags), now_ns) {
        Ok(r) => r,
        Err(e) => return glock_error(e),
    };
    let mut c = GlockCall {
        op: GDLM_K_OP_LOCK,
        mode: r.mode as i32,
        flags: r.flags.bits(),
        lkid,
        name: [0; GDLM_K_NAME_LEN],
    };
    if let Some(n) = r.name {
        c.name = *n.as_bytes();
        c.lkid = 0;
    }
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { call.write(c) };
    0
}

/// The DLM assigned `lkid` to the glock's lock (`sb_lkid` in the lksb once `dlm_lock`
/// accepted the request). 0, `GDLM_K_ENULL`, `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`].
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_set_lkid(cell: *mut GlockCell, lkid: u32) -> i32 {
    // SAFETY: forwarded contract.
    match unsafe { glock(cell) } {
        Ok(g) => {
            g.set_lkid(lkid);
            0
        }
        Err(e) => e,
    }
}

/// `dlm_lock` or `dlm_unlock` for the glock failed at once: nothing is in flight. 0,
/// `GDLM_K_ENULL`, `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`].
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_request_failed(cell: *mut GlockCell) -> i32 {
    // SAFETY: forwarded contract.
    match unsafe { glock(cell) } {
        Ok(g) => {
            g.request_failed();
            0
        }
        Err(e) => e,
    }
}

/// `gdlm_ast`: the request (or put_lock's unlock) in flight completed with the lksb's
/// `sb_status` and `sb_flags` at `now_ns`; `*done` says what it did (zero the LVB when
/// `lvb_zeroed`). 0, or `GDLM_K_ENOT_PENDING`, `GDLM_K_EDEMOTED`, `GDLM_K_ESTATUS`,
/// `GDLM_K_EALTMODE`, `GDLM_K_ENULL`, `GDLM_K_EUNINIT` where the kernel would BUG
/// (glock unchanged, nothing written).
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`]; `done` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_complete(
    cell: *mut GlockCell,
    status: i32,
    sb_flags: u8,
    now_ns: i64,
    done: *mut GlockDone,
) -> i32 {
    if done.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    let req = match g.pending() {
        Some(Pending::Lock { req, .. }) => Some(req),
        _ => None,
    };
    let d = match g.complete(status, sb_flags, now_ns) {
        Ok(d) => d,
        Err(e) => return glock_error(e),
    };
    let state = g.state().raw();
    let out = match d {
        glock::GlockDone::Complete {
            ret,
            state: s,
            lvb_zeroed,
        } => {
            // finish_xmote: the target reached, or why not.
            let result = if ret & LM_OUT_CANCELED != 0 {
                GDLM_K_GLOCK_CANCELED
            } else if ret & LM_OUT_ERROR == 0 && Some(s) == req {
                GDLM_K_GLOCK_GRANTED
            } else if status == -EAGAIN {
                GDLM_K_GLOCK_TRY_FAILED
            } else {
                GDLM_K_GLOCK_NOT_GRANTED
            };
            GlockDone {
                result,
                ret,
                state,
                lvb_zeroed: u32::from(lvb_zeroed),
            }
        }
        glock::GlockDone::Freed { lvb_zeroed } => GlockDone {
            result: GDLM_K_GLOCK_FREED,
            ret: 0,
            state,
            lvb_zeroed: u32::from(lvb_zeroed),
        },
        glock::GlockDone::Ignored => GlockDone {
            result: GDLM_K_GLOCK_IGNORED,
            ret: 0,
            state,
            lvb_zeroed: 0,
        },
    };
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { done.write(out) };
    0
}

/// `gdlm_bast`: another node wants DLM mode `mode`. 0 (the demote owed, if any, is
/// recorded: start it with [`gdlm_k_glock_take_demote`] outside the callback), or
/// `GDLM_K_EBAST_MODE` (the kernel's "unknown bast mode" BUG), `GDLM_K_EFREED` (the
/// reference: a BAST for a put glock is a use after free; 7.2 ignores it: 0),
/// `GDLM_K_ENULL`, `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`].
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_bast(cell: *mut GlockCell, mode: i32) -> i32 {
    // SAFETY: forwarded contract.
    match unsafe { glock(cell) } {
        Ok(g) => match g.bast(mode) {
            Ok(_) => 0,
            Err(e) => glock_error(e),
        },
        Err(e) => e,
    }
}

/// Start the demote a BAST left owed: 1 with `*state` the state to request (with
/// [`gdlm_k_glock_request`]), or 0 when there is nothing to do (no demote owed, a
/// request in flight, already there, no DLM lock). `GDLM_K_ENULL`, `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`]; `state` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_take_demote(cell: *mut GlockCell, state: *mut u32) -> i32 {
    if state.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    match g.take_demote() {
        Some(s) => {
            // SAFETY: non-null and valid for a write (the contract).
            unsafe { state.write(s.raw()) };
            1
        }
        None => 0,
    }
}

/// `gdlm_put_lock` at `now_ns` (`skip_dlm_unlock`: `SDF_SKIP_DLM_UNLOCK`): `*call` is
/// `GDLM_K_OP_NONE` (freed now) or the `dlm_unlock` to make, whose `-DLM_EUNLOCK`
/// completion ([`gdlm_k_glock_complete`]) frees the glock. The glock is dead from here
/// on. 0, or `GDLM_K_EFREED`, `GDLM_K_EBUSY`, `GDLM_K_ENOT_DEAD`, `GDLM_K_ENULL`,
/// `GDLM_K_EUNINIT` (unchanged).
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`]; `call` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_put(
    cell: *mut GlockCell,
    skip_dlm_unlock: u32,
    now_ns: i64,
    call: *mut GlockCall,
) -> i32 {
    if call.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    let c = match g.put(skip_dlm_unlock != 0, now_ns) {
        Ok(Put::Freed) => GlockCall::NONE,
        Ok(Put::Unlock(u)) => GlockCall {
            op: GDLM_K_OP_UNLOCK,
            flags: u.flags,
            lkid: u.lkid,
            ..GlockCall::NONE
        },
        Err(e) => return glock_error(e),
    };
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { call.write(c) };
    0
}

/// `gdlm_cancel` of the request in flight: `*call` is the `dlm_unlock(lkid,
/// DLM_LKF_CANCEL)` to make, or `GDLM_K_OP_NONE` (7.2 passes nothing for a released
/// lockspace). 0, or `GDLM_K_ENOT_PENDING` (nothing in flight, or already canceled),
/// `GDLM_K_ENOLOCK` (the reference: no DLM lock yet), `GDLM_K_ENULL`, `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`]; `call` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_cancel(cell: *mut GlockCell, call: *mut GlockCall) -> i32 {
    if call.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    let c = match g.cancel() {
        Ok(Some(c)) => GlockCall {
            op: GDLM_K_OP_UNLOCK,
            flags: c.flags.bits(),
            lkid: c.lkid,
            ..GlockCall::NONE
        },
        Ok(None) => GlockCall::NONE,
        Err(e) => return glock_error(e),
    };
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { call.write(c) };
    0
}

/// The glock's state, lock id and counters into `*info`. 0, `GDLM_K_ENULL`,
/// `GDLM_K_EUNINIT`.
///
/// # Safety
/// `cell` as for [`gdlm_k_glock_request`]; `info` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_glock_info(cell: *mut GlockCell, info: *mut GlockInfo) -> i32 {
    if info.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: forwarded contract.
    let g = match unsafe { glock(cell) } {
        Ok(g) => g,
        Err(e) => return e,
    };
    let i = GlockInfo {
        state: g.state().raw(),
        lkid: g.lkid(),
        pending: u32::from(g.pending().is_some()),
        dead: u32::from(g.is_dead()),
        dcount: g.stats().stats.stats[GFS2_LKS_DCOUNT] as u64,
    };
    // SAFETY: non-null and valid for a write (the contract).
    unsafe { info.write(i) };
    0
}

#[cfg(feature = "kernel")]
mod kernel {
    extern "C" {
        /// Provided by the C glue: `panic()`s, never returns.
        fn gdlm_glue_panic(msg: *const u8, len: usize);
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        const MSG: &[u8] = b"gdlm-kernel: Rust panic";
        // SAFETY: MSG is a static byte string; the glue only reads len bytes of it.
        unsafe { gdlm_glue_panic(MSG.as_ptr(), MSG.len()) };
        // Not reached (the glue panics). The trap ends the function for objtool, which
        // cannot see that gdlm_glue_panic does not return when it checks this object
        // alone ("unexpected end of section" otherwise), and stops a glue that returned.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: ud2 only raises #UD; it touches no memory or stack.
        unsafe {
            core::arch::asm!("ud2", options(noreturn, nomem, nostack))
        }
        #[cfg(not(target_arch = "x86_64"))]
        loop {}
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::mem::MaybeUninit;
    use core::ptr::{null, null_mut};
    use gdlm_core::consts::DLM_EUNLOCK;
    use std::boxed::Box;
    use std::string::String;
    use std::vec::Vec;

    const MS: u64 = 1;

    fn fresh(p: u32) -> Box<MaybeUninit<State>> {
        let mut m = Box::new(MaybeUninit::<State>::uninit());
        // SAFETY: m is a properly sized and aligned State slot.
        assert_eq!(unsafe { gdlm_k_init(m.as_mut_ptr(), p) }, 0);
        m
    }

    fn ev(kind: u32) -> Event {
        Event {
            kind,
            lock: LockRef::default(),
            status: 0,
            sb_flags: 0,
            has_lvb: 0,
            lvb: [0; 32],
            slot: 0,
            generation: 0,
            slots: null(),
            nslots: 0,
            jid: 0,
            journals: 0,
        }
    }

    fn text(a: &Action) -> String {
        let n = a.text.iter().position(|&b| b == 0).unwrap();
        String::from_utf8(a.text[..n].to_vec()).unwrap()
    }

    /// A DLM and a disk for the ABI: performs every action as the module does (grants
    /// everything, one shared control LVB), and records what it did.
    struct Exec {
        st: *mut State,
        now: u64,
        control_lvb: [u8; 32],
        log: Vec<String>,
        acts: Vec<Action>,
        replay_status: i32,
    }

    impl Exec {
        fn handle(&mut self, e: &Event) -> i32 {
            // SAFETY: st is initialised; e is a live local.
            unsafe { gdlm_k_handle(self.st, e, self.now) }
        }

        /// Drain actions and timers until nothing is due.
        fn run(&mut self) {
            for _ in 0..10_000 {
                let mut a = Action::empty(99);
                // SAFETY: st is initialised; a is a live local.
                if unsafe { gdlm_k_poll(self.st, &mut a) } == 1 {
                    self.perform(a);
                    continue;
                }
                let mut at = 0;
                // SAFETY: as above.
                if unsafe { gdlm_k_poll_timeout(self.st, &mut at) } == 1 {
                    self.now = self.now.max(at);
                    // SAFETY: as above.
                    assert_eq!(unsafe { gdlm_k_handle_timeout(self.st, self.now) }, 0);
                    continue;
                }
                return;
            }
            panic!("no quiescence");
        }

        fn perform(&mut self, a: Action) {
            self.acts.push(a);
            match a.kind {
                GDLM_K_ACT_LOG => self.log.push(text(&a)),
                GDLM_K_ACT_DLM => {
                    let mut e = ev(GDLM_K_EV_DLM_DONE);
                    e.lock = a.lock;
                    if a.op == GDLM_K_OP_UNLOCK {
                        e.status = -DLM_EUNLOCK;
                    } else if a.lock.kind == GDLM_K_LOCK_CONTROL {
                        // The DLM writes the LVB on a conversion down from EX and
                        // returns the resource's on a grant.
                        if a.write_lvb == 1 && a.mode != 5 {
                            self.control_lvb = a.lvb;
                        }
                        e.has_lvb = 1;
                        e.lvb = self.control_lvb;
                    }
                    assert_eq!(self.handle(&e), 0, "{a:?}");
                }
                GDLM_K_ACT_REPLAY => {
                    let mut e = ev(GDLM_K_EV_REPLAY_DONE);
                    e.jid = a.jid;
                    e.status = self.replay_status;
                    assert_eq!(self.handle(&e), 0);
                }
                _ => {}
            }
        }

        fn status(&self) -> String {
            let mut b = [0u8; 512];
            // SAFETY: st is initialised; b is a live local of 512 bytes.
            let n = unsafe { gdlm_k_status(self.st, b.as_mut_ptr(), b.len()) };
            String::from_utf8(b[..n as usize].to_vec()).unwrap()
        }

        fn kinds(&self, k: u32) -> Vec<Action> {
            self.acts.iter().filter(|a| a.kind == k).copied().collect()
        }
    }

    fn mounted_first(m: &mut MaybeUninit<State>) -> Exec {
        let mut x = Exec {
            st: m.as_mut_ptr(),
            now: 1000 * MS,
            control_lvb: [0; 32],
            log: Vec::new(),
            acts: Vec::new(),
            replay_status: 0,
        };
        let mut e = ev(GDLM_K_EV_MOUNT);
        e.journals = 3;
        assert_eq!(x.handle(&e), 0);
        let mut a = Action::empty(99);
        // SAFETY: st is initialised; a is a live local.
        assert_eq!(unsafe { gdlm_k_poll(x.st, &mut a) }, 1);
        assert_eq!(a.kind, GDLM_K_ACT_NEW_LOCKSPACE);
        assert_ne!(a.flags & 8, 0, "DLM_LSFL_NEWEXCL");
        // dlm_new_lockspace: the first recovery's callbacks before it returns
        let slots = [Slot { nodeid: 1, slot: 1 }];
        let mut d = ev(GDLM_K_EV_RECOVER_DONE);
        d.slots = slots.as_ptr();
        d.nslots = 1;
        d.slot = 1;
        d.generation = 1;
        assert_eq!(x.handle(&ev(GDLM_K_EV_RECOVER_PREP)), 0);
        assert_eq!(x.handle(&d), 0);
        assert_eq!(x.handle(&ev(GDLM_K_EV_LOCKSPACE_JOINED)), 0);
        x.run();
        x
    }

    #[test]
    fn lock_name_is_the_engines() {
        let mut out = [0u8; GDLM_K_NAME_LEN];
        let j = LockRef {
            kind: GDLM_K_LOCK_JOURNAL,
            jid: 3,
        };
        // SAFETY: both point to locals of the right size.
        assert_eq!(unsafe { gdlm_k_lock_name(&j, out.as_mut_ptr()) }, 0);
        assert_eq!(&out, b"       9               3");
        assert_eq!(&out, engine::LockRef::Journal(3).name().as_bytes());
        let bad = LockRef { kind: 77, jid: 0 };
        let mut untouched = [b'x'; GDLM_K_NAME_LEN];
        // SAFETY: as above; a refused lock leaves `out` as it was.
        assert_eq!(
            unsafe { gdlm_k_lock_name(&bad, untouched.as_mut_ptr()) },
            GDLM_K_ELOCK
        );
        assert_eq!(untouched, [b'x'; GDLM_K_NAME_LEN]);
        // SAFETY: nulls are refused.
        assert_eq!(
            unsafe { gdlm_k_lock_name(null(), out.as_mut_ptr()) },
            GDLM_K_ENULL
        );
        // SAFETY: as above.
        assert_eq!(unsafe { gdlm_k_lock_name(&j, null_mut()) }, GDLM_K_ENULL);
    }

    #[test]
    fn size_and_align_describe_state() {
        assert_eq!(gdlm_k_size(), size_of::<State>());
        assert!(gdlm_k_align().is_power_of_two());
        let mut m = MaybeUninit::<State>::uninit();
        // SAFETY: m is a State slot; the profile is refused before any write.
        assert_eq!(unsafe { gdlm_k_init(m.as_mut_ptr(), 7) }, GDLM_K_EPROFILE);
        // SAFETY: null is refused.
        assert_eq!(unsafe { gdlm_k_init(null_mut(), 0) }, GDLM_K_ENULL);
    }

    #[test]
    fn first_mount_through_the_abi() {
        let mut m = fresh(GDLM_K_PROFILE_LINUX72);
        let x = mounted_first(&mut m);
        assert!(
            x.log
                .iter()
                .any(|l| l == "first mounter control generation 0"),
            "{:?}",
            x.log
        );
        let mounted = x.kinds(GDLM_K_ACT_MOUNTED);
        assert_eq!(mounted.len(), 1);
        assert_eq!((mounted[0].jid, mounted[0].first), (0, 1));
        // The first mounter replayed every journal, its own first (no journal lock).
        let replays: Vec<(u32, u32, u32)> = x
            .kinds(GDLM_K_ACT_REPLAY)
            .iter()
            .map(|a| (a.jid, a.reason, a.own))
            .collect();
        assert_eq!(
            replays,
            [
                (0, GDLM_K_REPLAY_FIRST_MOUNT, 1),
                (1, GDLM_K_REPLAY_FIRST_MOUNT, 0),
                (2, GDLM_K_REPLAY_FIRST_MOUNT, 0)
            ]
        );
        // The 500 ms sleep of control_mount came as a timeout, not a C constant.
        assert!(x.now >= 1500, "now {}", x.now);
        // Journal locks are named by the core and taken with TRY (NOQUEUE) for others.
        let j1 = x
            .kinds(GDLM_K_ACT_DLM)
            .into_iter()
            .find(|a| {
                a.lock
                    == LockRef {
                        kind: GDLM_K_LOCK_JOURNAL,
                        jid: 1,
                    }
            })
            .unwrap();
        assert_eq!(&j1.name, b"       9               1");
        assert_eq!(j1.mode, 5);
        assert_ne!(j1.flags & 1, 0, "NOQUEUE");
        let st = x.status();
        assert!(
            st.starts_with("mounted 1 first 1 jid 0 blocked 0 phase mounted ")
                && st.ends_with(" control_lvb_gen 1 jids -"),
            "{st}"
        );
    }

    #[test]
    fn recovery_of_a_failed_node_through_the_abi() {
        let mut m = fresh(GDLM_K_PROFILE_REFERENCE);
        let mut x = mounted_first(&mut m);
        // Another node mounts (generation 2), then fails (generation 3).
        let two = [Slot { nodeid: 1, slot: 1 }, Slot { nodeid: 2, slot: 2 }];
        let mut d = ev(GDLM_K_EV_RECOVER_DONE);
        d.slots = two.as_ptr();
        d.nslots = 2;
        d.slot = 1;
        d.generation = 2;
        assert_eq!(x.handle(&ev(GDLM_K_EV_RECOVER_PREP)), 0);
        assert_eq!(x.handle(&d), 0);
        x.run();
        x.log.clear();
        assert_eq!(x.handle(&ev(GDLM_K_EV_RECOVER_PREP)), 0);
        // SAFETY: st is initialised.
        assert_eq!(unsafe { gdlm_k_locks_blocked(x.st) }, 1);
        let mut s = ev(GDLM_K_EV_RECOVER_SLOT);
        s.slot = 0;
        assert_eq!(x.handle(&s), GDLM_K_ESLOT);
        s.slot = 194;
        assert_eq!(x.handle(&s), GDLM_K_ESLOT_CAPACITY);
        s.slot = 2;
        assert_eq!(x.handle(&s), 0);
        d.nslots = 1;
        d.generation = 3;
        x.run();
        assert!(x.log.is_empty(), "nothing before recover_done: {:?}", x.log);
        assert_eq!(x.handle(&d), 0);
        x.run();
        let want = [
            "recover generation 3 jid 1",
            "jid=1: Trying to acquire journal lock...",
            "jid=1: Done",
            "recover jid 1 result success",
            "recover generation 3 done",
        ];
        let got: Vec<&str> = x
            .log
            .iter()
            .map(String::as_str)
            .filter(|l| want.contains(l))
            .collect();
        assert_eq!(got, want, "{:?}", x.log);
        // SAFETY: st is initialised.
        assert_eq!(unsafe { gdlm_k_locks_blocked(x.st) }, 0);
        let un = x.kinds(GDLM_K_ACT_UNBLOCKED);
        assert_eq!(un.last().unwrap().generation, 3);
        assert!(x.status().contains(" jids -"), "{}", x.status());
        // Unmount: a normal release.
        assert_eq!(x.handle(&ev(GDLM_K_EV_UNMOUNT)), 0);
        x.run();
        let rel = x.kinds(GDLM_K_ACT_RELEASE);
        assert_eq!(rel.len(), 1);
        assert_eq!(rel[0].flags, DLM_RELEASE_NORMAL);
        assert_eq!(x.handle(&ev(GDLM_K_EV_UNMOUNT)), GDLM_K_EUNEXPECTED);
    }

    #[test]
    fn a_failed_replay_gives_up_and_retries_after_hz() {
        let mut m = fresh(GDLM_K_PROFILE_LINUX72);
        let mut x = mounted_first(&mut m);
        let two = [Slot { nodeid: 1, slot: 1 }, Slot { nodeid: 2, slot: 2 }];
        let mut d = ev(GDLM_K_EV_RECOVER_DONE);
        d.slots = two.as_ptr();
        d.nslots = 2;
        d.slot = 1;
        d.generation = 2;
        x.handle(&ev(GDLM_K_EV_RECOVER_PREP));
        x.handle(&d);
        x.run();
        x.log.clear();
        x.replay_status = -30;
        x.handle(&ev(GDLM_K_EV_RECOVER_PREP));
        let mut s = ev(GDLM_K_EV_RECOVER_SLOT);
        s.slot = 2;
        x.handle(&s);
        d.nslots = 1;
        d.generation = 3;
        x.handle(&d);
        // Run until the first give-up, then let a "GFS2 node" clear the bit.
        for _ in 0..50 {
            let mut a = Action::empty(99);
            // SAFETY: st is initialised; a is a live local.
            if unsafe { gdlm_k_poll(x.st, &mut a) } == 1 {
                x.perform(a);
                if a.kind == GDLM_K_ACT_LOG && text(&a) == "recover jid 1 result busy" {
                    break;
                }
                continue;
            }
            let mut at = 0;
            // SAFETY: as above.
            assert_eq!(unsafe { gdlm_k_poll_timeout(x.st, &mut at) }, 1);
            x.now = x.now.max(at);
            // SAFETY: as above.
            unsafe { gdlm_k_handle_timeout(x.st, x.now) };
        }
        assert!(x.log.iter().any(|l| l == "jid=1: Failed"), "{:?}", x.log);
        let t0 = x.now;
        x.control_lvb[8] = 0;
        x.replay_status = 0;
        x.run();
        assert!(x.now >= t0 + 1000, "the control work again after HZ");
        assert!(
            x.log.iter().any(|l| l == "recover generation 3 done"),
            "{:?}",
            x.log
        );
        assert!(
            !x.log.iter().any(|l| l == "recover jid 1 result success"),
            "{:?}",
            x.log
        );
    }

    #[test]
    fn refused_inputs_have_distinct_codes_and_change_nothing() {
        let mut m = fresh(GDLM_K_PROFILE_LINUX72);
        let st = m.as_mut_ptr();
        let mut e = ev(GDLM_K_EV_DLM_DONE);
        // SAFETY (whole block): st is initialised; the other pointers are live locals
        // or null.
        unsafe {
            assert_eq!(gdlm_k_handle(st, &e, 0), GDLM_K_EUNEXPECTED);
            e.lock.kind = 9;
            assert_eq!(gdlm_k_handle(st, &e, 0), GDLM_K_ELOCK);
            e.lock = LockRef {
                kind: GDLM_K_LOCK_JOURNAL,
                jid: 192,
            };
            assert_eq!(gdlm_k_handle(st, &e, 0), GDLM_K_ELOCK);
            assert_eq!(gdlm_k_handle(st, &ev(42), 0), GDLM_K_EKIND);
            assert_eq!(gdlm_k_handle(st, null(), 0), GDLM_K_ENULL);
            assert_eq!(gdlm_k_handle(null_mut(), &e, 0), GDLM_K_ENULL);
            let mut d = ev(GDLM_K_EV_RECOVER_DONE);
            d.nslots = 193;
            assert_eq!(gdlm_k_handle(st, &d, 0), GDLM_K_ESLOTS);
            d.nslots = 1;
            assert_eq!(gdlm_k_handle(st, &d, 0), GDLM_K_ENULL);
            let mut a = Action::empty(99);
            assert_eq!(gdlm_k_poll(st, &mut a), 0, "nothing happened");
            assert_eq!(a.kind, 99);
            assert_eq!(gdlm_k_poll(st, null_mut()), GDLM_K_ENULL);
            let mut at = 0;
            assert_eq!(gdlm_k_poll_timeout(st, &mut at), 0);
            assert_eq!(gdlm_k_poll_timeout(st, null_mut()), GDLM_K_ENULL);
            // Mount, then a second mount is refused.
            let mut mnt = ev(GDLM_K_EV_MOUNT);
            mnt.journals = 2;
            assert_eq!(gdlm_k_handle(st, &mnt, 0), 0);
            assert_eq!(gdlm_k_handle(st, &mnt, 0), GDLM_K_EUNEXPECTED);
            // Joined before the first recover_done (6.1 may return from dlm_new_lockspace
            // first): control_mount begins anyway (its first DLM call), nothing fails.
            assert_eq!(gdlm_k_poll(st, &mut a), 1);
            assert_eq!(gdlm_k_handle(st, &ev(GDLM_K_EV_LOCKSPACE_JOINED), 0), 0);
            let mut kinds = Vec::new();
            while gdlm_k_poll(st, &mut a) == 1 {
                kinds.push((a.kind, a.reason, a.error));
            }
            assert_eq!(
                kinds.first().map(|k| k.0),
                Some(GDLM_K_ACT_DLM),
                "{kinds:?}"
            );
            assert!(
                !kinds.iter().any(|k| k.0 == GDLM_K_ACT_MOUNT_FAILED),
                "{kinds:?}"
            );
            gdlm_k_destroy(st);
        }
    }

    #[test]
    fn lock_table_through_core() {
        let mut t = Table {
            cluster: [1; GDLM_K_TABLE_NAME_LEN],
            fsname: [1; GDLM_K_TABLE_NAME_LEN],
        };
        let s = b"gdlm:gfs1";
        // SAFETY: s and t are live locals.
        unsafe {
            assert_eq!(gdlm_k_parse_table(s.as_ptr(), s.len(), &mut t), 0);
            assert_eq!(&t.cluster[..5], b"gdlm\0");
            assert_eq!(&t.fsname[..5], b"gfs1\0");
            assert_eq!(
                gdlm_k_parse_table(b"nofs".as_ptr(), 4, &mut t),
                GDLM_K_ENO_FSNAME
            );
            assert_eq!(
                gdlm_k_parse_table(b"c:".as_ptr(), 2, &mut t),
                GDLM_K_ETABLE_LENGTH
            );
            let long = [b'a'; 70];
            let mut l = long.to_vec();
            l[69] = b':';
            l.push(b'f');
            assert_eq!(
                gdlm_k_parse_table(l.as_ptr(), l.len(), &mut t),
                GDLM_K_ETABLE_LENGTH
            );
            assert_eq!(gdlm_k_parse_table(null(), 0, &mut t), GDLM_K_ENULL);
        }
    }
    fn cell(p: u32, number: u64) -> Box<GlockCell> {
        let mut c = Box::new(GlockCell {
            magic: 0,
            body: [0; GDLM_K_GLOCK_WORDS],
        });
        // SAFETY: c is a live cell.
        assert_eq!(unsafe { gdlm_k_glock_init(&mut *c, p, 2, number, 1) }, 0);
        c
    }

    fn call() -> GlockCall {
        GlockCall::NONE
    }

    fn done() -> GlockDone {
        GlockDone {
            result: 99,
            ret: 0,
            state: 0,
            lvb_zeroed: 0,
        }
    }

    fn info(c: &mut GlockCell) -> GlockInfo {
        let mut i = GlockInfo {
            state: 9,
            lkid: 0,
            pending: 0,
            dead: 0,
            dcount: 0,
        };
        // SAFETY: live cell and output.
        assert_eq!(unsafe { gdlm_k_glock_info(c, &mut i) }, 0);
        i
    }

    #[test]
    fn a_glock_through_the_abi_matches_the_core_machine() {
        for (pid, p) in [
            (GDLM_K_PROFILE_REFERENCE, Profile::Reference),
            (GDLM_K_PROFILE_LINUX72, Profile::Linux72),
        ] {
            let mut c = cell(pid, 0x1234);
            let mut g = Glock::new(p, LockName::new(2, 0x1234), true);
            let mut k = call();
            // SAFETY: live cell and outputs throughout.
            unsafe {
                // A new SH lock by name.
                assert_eq!(gdlm_k_glock_request(&mut *c, 3, 0, 10, &mut k), 0);
                let r = g.request(LmState::Shared, LmFlags::empty(), 10).unwrap();
                assert_eq!(k.op, GDLM_K_OP_LOCK);
                assert_eq!(
                    (k.mode, k.flags, k.lkid),
                    (r.mode as i32, r.flags.bits(), 0)
                );
                assert_eq!(&k.name, b"       2            1234", "{p:?}");
                // Two requests at once are refused.
                assert_eq!(
                    gdlm_k_glock_request(&mut *c, 1, 0, 11, &mut k),
                    GDLM_K_EBUSY
                );
                assert_eq!(gdlm_k_glock_set_lkid(&mut *c, 7), 0);
                g.set_lkid(7);
                let mut d = done();
                assert_eq!(gdlm_k_glock_complete(&mut *c, 0, 0, 20, &mut d), 0);
                g.complete(0, 0, 20).unwrap();
                assert_eq!((d.result, d.state), (GDLM_K_GLOCK_GRANTED, 3), "{p:?}");
                // A conversion to EX goes by lkid, with no name.
                assert_eq!(gdlm_k_glock_request(&mut *c, 1, 0, 30, &mut k), 0);
                let r = g.request(LmState::Exclusive, LmFlags::empty(), 30).unwrap();
                assert_eq!(
                    (k.mode, k.flags, k.lkid),
                    (r.mode as i32, r.flags.bits(), 7)
                );
                assert_eq!(k.name, [0; GDLM_K_NAME_LEN]);
                assert_eq!(gdlm_k_glock_complete(&mut *c, 0, 0, 40, &mut d), 0);
                g.complete(0, 0, 40).unwrap();
                assert_eq!(info(&mut c).state, 1);
                // A BAST for PR owes a demote to SH, started outside the callback.
                assert_eq!(gdlm_k_glock_bast(&mut *c, 3), 0);
                g.bast(3).unwrap();
                let mut st = 9;
                assert_eq!(gdlm_k_glock_take_demote(&mut *c, &mut st), 1);
                assert_eq!(Some(st), g.take_demote().map(LmState::raw));
                assert_eq!(st, 3);
                assert_eq!(gdlm_k_glock_take_demote(&mut *c, &mut st), 0, "taken once");
                assert_eq!(gdlm_k_glock_request(&mut *c, st, 0, 50, &mut k), 0);
                g.request(LmState::Shared, LmFlags::empty(), 50).unwrap();
                // The completion with VALNOTVALID zeroes the LVB.
                assert_eq!(gdlm_k_glock_complete(&mut *c, 0, 0x02, 60, &mut d), 0);
                let want = g.complete(0, 0x02, 60).unwrap();
                assert_eq!(
                    want,
                    glock::GlockDone::Complete {
                        ret: d.ret,
                        state: LmState::Shared,
                        lvb_zeroed: d.lvb_zeroed == 1
                    }
                );
                assert_eq!(d.lvb_zeroed, 1);
                // put_lock unlocks by lkid; the -DLM_EUNLOCK reply frees it.
                assert_eq!(gdlm_k_glock_put(&mut *c, 0, 70, &mut k), 0);
                let Put::Unlock(u) = g.put(false, 70).unwrap() else {
                    panic!("{p:?}: put_lock of a held lock unlocks");
                };
                assert_eq!((k.op, k.lkid, k.flags), (GDLM_K_OP_UNLOCK, 7, u.flags));
                assert_eq!(info(&mut c).dead, 1);
                assert_eq!(
                    gdlm_k_glock_complete(&mut *c, -DLM_EUNLOCK, 0, 80, &mut d),
                    0
                );
                assert_eq!(d.result, GDLM_K_GLOCK_FREED);
                assert_eq!(
                    gdlm_k_glock_request(&mut *c, 3, 0, 90, &mut k),
                    GDLM_K_EFREED
                );
                // A BAST after the put: 7.2 ignores it, the reference calls it a use
                // after free.
                let want = if p == Profile::Linux72 {
                    0
                } else {
                    GDLM_K_EFREED
                };
                assert_eq!(gdlm_k_glock_bast(&mut *c, 5), want, "{p:?}");
                let i = info(&mut c);
                // Three requests and the put (GFS2_LKS_DCOUNT), as the core machine counts.
                let dcount = g.stats().stats.stats[GFS2_LKS_DCOUNT] as u64;
                assert_eq!((i.lkid, i.pending, i.dcount), (0, 0, dcount), "{p:?}");
                assert_eq!(dcount, 4);
            }
        }
    }

    #[test]
    fn a_try_lock_refused_and_a_cancel_through_the_abi() {
        for pid in [GDLM_K_PROFILE_REFERENCE, GDLM_K_PROFILE_LINUX72] {
            let mut c = cell(pid, 5);
            let (mut k, mut d) = (call(), done());
            // SAFETY: live cell and outputs.
            unsafe {
                assert_eq!(gdlm_k_glock_request(&mut *c, 1, 1, 0, &mut k), 0);
                assert_ne!(
                    k.flags & gdlm_core::consts::DLM_LKF_NOQUEUE,
                    0,
                    "TRY is NOQUEUE"
                );
                gdlm_k_glock_set_lkid(&mut *c, 9);
                assert_eq!(gdlm_k_glock_complete(&mut *c, -EAGAIN, 0, 1, &mut d), 0);
                assert_eq!((d.result, d.state), (GDLM_K_GLOCK_TRY_FAILED, 0), "{pid}");
                // A blocking request, canceled: CANCELED, state unchanged.
                assert_eq!(gdlm_k_glock_request(&mut *c, 1, 0, 2, &mut k), 0);
                gdlm_k_glock_set_lkid(&mut *c, 9);
                assert_eq!(gdlm_k_glock_cancel(&mut *c, &mut k), 0);
                assert_eq!((k.op, k.lkid), (GDLM_K_OP_UNLOCK, 9), "{pid}");
                assert_ne!(k.flags & gdlm_core::consts::DLM_LKF_CANCEL, 0);
                assert_eq!(gdlm_k_glock_cancel(&mut *c, &mut k), GDLM_K_ENOT_PENDING);
                assert_eq!(
                    gdlm_k_glock_complete(&mut *c, -gdlm_core::consts::DLM_ECANCEL, 0, 3, &mut d),
                    0
                );
                assert_eq!((d.result, d.state), (GDLM_K_GLOCK_CANCELED, 0), "{pid}");
                // dlm_lock failed at once: nothing in flight, a new request is fine.
                assert_eq!(gdlm_k_glock_request(&mut *c, 3, 0, 4, &mut k), 0);
                assert_eq!(gdlm_k_glock_request_failed(&mut *c), 0);
                assert_eq!(gdlm_k_glock_request(&mut *c, 3, 0, 5, &mut k), 0);
            }
        }
    }

    #[test]
    fn glock_refusals_have_distinct_codes_and_change_nothing() {
        let mut c = cell(GDLM_K_PROFILE_REFERENCE, 1);
        let (mut k, mut d) = (call(), done());
        let mut st = 0;
        let mut raw = GlockCell {
            magic: 0,
            body: [0; GDLM_K_GLOCK_WORDS],
        };
        // SAFETY: live cells and outputs, or null where the call must refuse it.
        unsafe {
            assert_eq!(gdlm_k_glock_init(&mut *c, 7, 2, 1, 1), GDLM_K_EPROFILE);
            assert_eq!(gdlm_k_glock_init(null_mut(), 0, 2, 1, 1), GDLM_K_ENULL);
            assert_eq!(
                gdlm_k_glock_request(&mut raw, 3, 0, 0, &mut k),
                GDLM_K_EUNINIT
            );
            assert_eq!(gdlm_k_glock_bast(&mut raw, 5), GDLM_K_EUNINIT);
            assert_eq!(
                gdlm_k_glock_request(&mut *c, 3, 0, 0, null_mut()),
                GDLM_K_ENULL
            );
            assert_eq!(gdlm_k_glock_take_demote(&mut *c, null_mut()), GDLM_K_ENULL);
            let before = c.body;
            assert_eq!(
                gdlm_k_glock_request(&mut *c, 7, 0, 0, &mut k),
                GDLM_K_ESTATE
            );
            assert_eq!(
                gdlm_k_glock_request(&mut *c, 1, 0x08, 0, &mut k),
                GDLM_K_EANY_MODE,
                "LM_FLAG_ANY with EX"
            );
            assert_eq!(
                gdlm_k_glock_complete(&mut *c, 0, 0, 0, &mut d),
                GDLM_K_ENOT_PENDING
            );
            assert_eq!(gdlm_k_glock_bast(&mut *c, 9), GDLM_K_EBAST_MODE);
            assert_eq!(gdlm_k_glock_take_demote(&mut *c, &mut st), 0);
            assert_eq!(c.body, before, "refusals change nothing");
            assert_eq!(d.result, 99, "nothing written");
            // Completions the kernel BUG()s on.
            assert_eq!(gdlm_k_glock_request(&mut *c, 3, 0, 0, &mut k), 0);
            let before = c.body;
            for (status, sbf, want) in [(0, 0x01, GDLM_K_EDEMOTED), (-5, 0, GDLM_K_ESTATUS)] {
                assert_eq!(gdlm_k_glock_complete(&mut *c, status, sbf, 1, &mut d), want);
                assert_eq!(c.body, before);
            }
            assert_eq!(gdlm_k_glock_put(&mut *c, 0, 1, &mut k), GDLM_K_EBUSY);
        }
    }

    #[test]
    fn abi_struct_layouts() {
        // The glue has the same BUILD_BUG_ONs.
        assert_eq!((size_of::<LockRef>(), align_of::<LockRef>()), (8, 4));
        assert_eq!((size_of::<Slot>(), align_of::<Slot>()), (8, 4));
        assert_eq!(size_of::<Action>(), 4 + 8 + 4 * 4 + 32 + 24 + 7 * 4 + 128);
        assert_eq!(size_of::<Table>(), 2 * GDLM_K_TABLE_NAME_LEN);
        assert_eq!(size_of::<GlockCell>(), 8 + 8 * GDLM_K_GLOCK_WORDS);
        assert_eq!(size_of::<GlockCall>(), 16 + GDLM_K_NAME_LEN);
        assert_eq!(size_of::<GlockDone>(), 16);
        assert_eq!(size_of::<GlockInfo>(), 24);
    }

    #[test]
    fn error_codes_are_negative_and_distinct() {
        let errors = [
            GDLM_K_ENULL,
            GDLM_K_EUNEXPECTED,
            GDLM_K_EORDER,
            GDLM_K_ESLOT,
            GDLM_K_ESLOT_CAPACITY,
            GDLM_K_EJID_CAPACITY,
            GDLM_K_ESHORT_SIZE,
            GDLM_K_ESIZE_CAPACITY,
            GDLM_K_ESTATE,
            GDLM_K_EMODE,
            GDLM_K_EBAST_MODE,
            GDLM_K_EANY_MODE,
            GDLM_K_ECUR_MODE,
            GDLM_K_EDEMOTED,
            GDLM_K_ESTATUS,
            GDLM_K_EALTMODE,
            GDLM_K_ENOLOCK,
            GDLM_K_EIGNORED,
            GDLM_K_ELOCK,
            GDLM_K_EWITHDRAWN,
            GDLM_K_ENOT_DEAD,
            GDLM_K_ENOLVB,
            GDLM_K_EMEMBERSHIP,
            GDLM_K_EKIND,
            GDLM_K_EPROFILE,
            GDLM_K_ENO_FSNAME,
            GDLM_K_ETABLE_LENGTH,
            GDLM_K_ESLOTS,
            GDLM_K_EBUSY,
            GDLM_K_ENOT_PENDING,
            GDLM_K_EFREED,
            GDLM_K_EUNINIT,
        ];
        for (i, e) in errors.iter().enumerate() {
            assert!(*e < 0, "error {e} is not negative");
            assert!(!errors[..i].contains(e), "error code {e} used twice");
        }
        // Every kind of EngineError (and every core error inside one) has its own code.
        let mapped = [
            engine_error(EngineError::Unexpected {
                event: engine::EventKind::DlmDone,
                phase: engine::Phase::Idle,
            }),
            engine_error(EngineError::Recovery(RecoveryError::InvalidSlot(0))),
            engine_error(EngineError::Recovery(RecoveryError::SlotBeyondCapacity {
                slot: 200,
                capacity: 192,
            })),
            engine_error(EngineError::Recovery(RecoveryError::JidBeyondCapacity {
                jid: 200,
                capacity: 192,
            })),
            engine_error(EngineError::Recovery(RecoveryError::ShortSize {
                jid: 5,
                size: 4,
            })),
            engine_error(EngineError::Recovery(RecoveryError::SizeBeyondCapacity {
                size: 200,
                capacity: 192,
            })),
            engine_error(EngineError::Recovery(RecoveryError::Withdrawn)),
            engine_error(EngineError::Membership(
                gdlm_core::MembershipError::BadMessage,
            )),
            engine_error(EngineError::Ast(AstError::Demoted)),
            engine_error(EngineError::Ast(AstError::UnknownStatus(-5))),
            engine_error(EngineError::Ast(AstError::AltMode(LmState::Exclusive))),
            engine_error(EngineError::Ast(AstError::NoLock)),
            engine_error(EngineError::Ast(AstError::NotDead)),
            engine_error(EngineError::Mount(MountError::UnexpectedInput)),
            engine_error(EngineError::Mount(MountError::MissingLvb)),
            mode_error(ModeError::UnknownState(9)),
            mode_error(ModeError::UnknownMode(9)),
            mode_error(ModeError::UnknownBastMode(9)),
            flags_error(FlagsError::AnyWithMode(gdlm_core::DlmMode::Ex)),
            flags_error(FlagsError::MissingCurrentMode),
            glock_error(GlockError::Busy),
            glock_error(GlockError::NotPending),
            glock_error(GlockError::Freed),
        ];
        for (i, e) in mapped.iter().enumerate() {
            assert!(errors.contains(e), "{e} is not a GDLM_K_E* code");
            assert!(!mapped[..i].contains(e), "two core errors share code {e}");
        }
        let kinds = [
            GDLM_K_ACT_NEW_LOCKSPACE,
            GDLM_K_ACT_DLM,
            GDLM_K_ACT_REPLAY,
            GDLM_K_ACT_MOUNTED,
            GDLM_K_ACT_MOUNT_FAILED,
            GDLM_K_ACT_UNBLOCKED,
            GDLM_K_ACT_RELEASE,
            GDLM_K_ACT_LOG,
        ];
        for (i, k) in kinds.iter().enumerate() {
            assert!(!kinds[..i].contains(k));
        }
    }
}
