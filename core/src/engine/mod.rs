//! The whole lock_dlm lifecycle of one mounted lockspace as one sans-IO state machine.
//!
//! The other modules are the kernel's functions, each exact and separately tested. The
//! [`Engine`] sequences them the way `lock_dlm.c` and gfs2's mount and journal recovery
//! (`ops_fstype.c` `init_journal`, `recovery.c` `gfs2_recover_func`) sequence them:
//! `gdlm_mount` → `control_mount` → own journal lock and replay → (first mounter) a pass
//! over every journal → `control_first_done` → mounted; recovery callbacks → the control
//! step (`gfs2_control_func`) → journal recovery with TRY/GAVEUP and retry after `HZ` →
//! `gdlm_recovery_result`; unmount, withdraw. Every shim (the simulator, `gdlmd`,
//! `gdlm.ko`) runs this engine and only executes what it asks for, so the simulator
//! checks the driver that ships.
//!
//! # Call order (quinn-proto's shape)
//!
//! ```
//! use gdlm_core::engine::{Action, Config, Engine, Event, Instant};
//!
//! let mut e: Engine<16> = Engine::new(Config::default());
//! let now = Instant::from_millis(0);
//! e.handle(now, Event::Mount { journals: 3 }).unwrap();
//! // The DLM's first recovery cycle runs inside dlm_new_lockspace:
//! e.handle(now, Event::RecoverDone { slots: &[1], our_slot: 1, generation: 1 }).unwrap();
//! e.handle(now, Event::LockspaceJoined).unwrap();
//! while let Some(action) = e.poll() {
//!     match action {
//!         Action::NewLockspace { .. } => { /* dlm_new_lockspace (already done above) */ }
//!         Action::Dlm(req) => { /* dlm_lock/dlm_unlock; completion → Event::DlmDone */
//!             // The LVB buffer to pass (control_lock with VALBLK), lent by the engine.
//!             let _lvb = e.request_lvb(&req);
//!         }
//!         Action::Log(line) => { let _ = line; /* Display = the kernel's text */ }
//!         _ => {}
//!     }
//! }
//! // Arm a timer for poll_timeout(); when it fires, call handle_timeout(now) until
//! // poll_timeout() is later than now, polling actions after each call.
//! if let Some(at) = e.poll_timeout() {
//!     e.handle_timeout(at);
//! }
//! ```
//!
//! 1. Feed every input with [`Engine::handle`]: DLM completions for requests the engine
//!    issued ([`Event::DlmDone`], routed by [`LockRef`]), the DLM's recovery callbacks
//!    or CPG configuration changes and messages, replay completions, mount, unmount,
//!    withdraw, interrupt.
//! 2. After each call, drain [`Engine::poll`] and execute each [`Action`] in order.
//!    A DLM call that fails at once is reported as its completion with that status.
//!    A control_lock call with `VALBLK` passes the engine's LVB buffer,
//!    [`Engine::request_lvb`] (the lksb's `sb_lvbptr`), read when the call is made.
//! 3. Ask [`Engine::poll_timeout`] when to call [`Engine::handle_timeout`]; each call
//!    runs one due item (the mount retry sleep, the control work, the journal recovery
//!    work), in that order, so a scheduler can interleave them with other events as the
//!    kernel's work queues do. Call it again while `poll_timeout() <= now`.
//!
//! Nothing blocks and nothing allocates: a kernel shim calls `handle` under a spin lock
//! from its DLM callbacks and performs the actions from a work item, outside the lock.
//! An event that does not fit the state is an [`EngineError`] and changes nothing.

mod generations;
pub mod log;
pub mod time;

use core::fmt;
use core::hash::{Hash, Hasher};

pub use log::{Level, Line, LogEvent};
pub use time::{Duration, Instant};

use crate::ast::{gdlm_ast, AstError, AstInput, AstOutcome, AstStyle};
use crate::consts::{DLM_EUNLOCK, EINVAL, LM_RD_GAVEUP, LM_RD_SUCCESS};
use crate::flags::{lock_request, DlmLkf, FlagPolicy, LmFlags, LockContext};
use crate::lvb::{ControlLvb, JidSet};
use crate::membership::{Change, LeftReason, Member, Membership, MembershipError, SyncMsg};
use crate::mode::{DlmMode, LmState};
use crate::mount::{ControlMount, FirstDone, FirstDoneStep, MountError, MountStep};
use crate::name::{LockName, NameStyle, ResName};
use crate::profile::Profile;
use crate::recovery::{
    ControlBegin, ControlFinish, ControlTicket, ControlUpdate, ControlWork, LockId, RecoveryError,
    ResultOutcome, SizePolicy, SubmitPolicy, SyncLock,
};
use crate::stats::GlockStats;
use crate::Recovery;

/// `LM_TYPE_JOURNAL`: the glock type of journal locks.
pub const LM_TYPE_JOURNAL: u32 = 9;

/// `HZ`: the delay before the control work runs again after a GAVEUP result.
pub const HZ: Duration = Duration::from_millis(1000);

/// Room in the action queue. A shim drains it after every call; logs are dropped (and
/// counted) rather than crowd out the actions that carry protocol steps.
const OUTBOX: usize = 32;
const LOG_ROOM: usize = OUTBOX - 8;

/// A lock the engine owns; a DLM completion names it so it routes itself. At most one
/// request per lock is outstanding at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LockRef {
    /// `control_lock` (with its LVB).
    Control,
    /// `mounted_lock`.
    Mounted,
    /// A journal lock: our own jid's, held while mounted, or another jid's, held while
    /// recovering it.
    Journal(u32),
}

impl LockRef {
    /// The DLM resource name (`%8x%16x`).
    #[inline]
    pub fn name(self) -> ResName {
        match self {
            LockRef::Control => LockId::Control.name(),
            LockRef::Mounted => LockId::Mounted.name(),
            LockRef::Journal(j) => LockName::new(LM_TYPE_JOURNAL, u64::from(j)).encode(),
        }
    }

    fn of(lock: LockId) -> Self {
        match lock {
            LockId::Control => LockRef::Control,
            LockId::Mounted => LockRef::Mounted,
        }
    }
}

/// What to ask of the DLM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DlmOp {
    /// `dlm_lock`: a new lock by name, or a conversion of the lock's existing DLM lock
    /// when `flags` has `CONVERT`. With `VALBLK` on control_lock, the call passes the
    /// lksb's LVB buffer (`sb_lvbptr`): [`Engine::request_lvb`]. The DLM writes the
    /// resource's LVB from it on a conversion down from EX; on a grant it fills the
    /// buffer, which the completion returns ([`Event::DlmDone`]'s `lvb`).
    Lock {
        /// The mode.
        mode: DlmMode,
        /// The flags (`DLM_LKF_*`).
        flags: DlmLkf,
    },
    /// `dlm_unlock` of the lock's DLM lock (no flags).
    Unlock,
}

/// One DLM call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DlmRequest {
    /// Which of the engine's locks; name it in the [`Event::DlmDone`].
    pub lock: LockRef,
    /// Lock or unlock.
    pub op: DlmOp,
}

impl DlmRequest {
    /// The resource name (for a new lock; the same for conversions).
    #[inline]
    pub fn name(&self) -> ResName {
        self.lock.name()
    }
}

/// Why a journal is replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplayReason {
    /// Our own journal, while mounting (`init_journal`).
    Own,
    /// The first mounter's pass over every journal.
    FirstMount,
    /// A failed node's journal, as the control step found in the LVB.
    Recovery {
        /// The generation whose control step asked for it.
        generation: u32,
    },
}

/// How a replay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplayOutcome {
    /// The journal is clean now (replayed, or it was clean).
    Success,
    /// The replay failed with this (negative) error; the journal may still be dirty.
    Failed(i32),
}

/// How the lockspace is released (`dlm_release_lockspace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Release {
    /// A clean leave: the others recover nothing.
    Normal,
    /// Leave as failed (`DLM_RELEASE_RECOVER`): the others recover our journal.
    Recover,
}

/// Why a mount failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MountFailure {
    /// `control_mount` failed with this errno, for this reason (the core's own, from
    /// the step that failed).
    ControlMount {
        /// The error (`-EINVAL` for disabled mounts, `-EINTR`, or the lock's error).
        error: i32,
        /// Which step failed.
        reason: crate::mount::MountFailure,
    },
    /// A `jid=` preset with the DLM's recovery callbacks ("dlm lockspace ops disallow
    /// jid preset", L1253). The engine takes no preset, so it never reports this; it is
    /// here for shims that parse `jid=` and must refuse it the same way.
    JidPreset,
    /// The lockspace could not be joined.
    Lockspace(i32),
    /// No journal for our jid ("can't find journal").
    NoJournal {
        /// Our jid.
        jid: u32,
    },
    /// Our own journal lock failed.
    OwnJournalLock(i32),
    /// Replaying our own journal failed.
    OwnJournal(i32),
    /// The first mounter could not recover another node's journal (`init_journal`
    /// fails the mount rather than let others mount over it).
    FirstMountJournal {
        /// The jid.
        jid: u32,
        /// The error.
        error: i32,
    },
    /// [`Event::Stop`] before `control_mount` began.
    Interrupted,
}

impl fmt::Display for MountFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MountFailure::ControlMount { error, reason } => {
                write!(f, "control_mount failed ({reason:?}): {error}")
            }
            MountFailure::JidPreset => f.write_str("dlm lockspace ops disallow jid preset"),
            MountFailure::Lockspace(e) => write!(f, "dlm_new_lockspace error {e}"),
            MountFailure::NoJournal { jid } => write!(f, "can't find journal #{jid}"),
            MountFailure::OwnJournalLock(e) => write!(f, "own journal lock error {e}"),
            MountFailure::OwnJournal(e) => write!(f, "error recovering my journal: {e}"),
            MountFailure::FirstMountJournal { jid, error } => {
                write!(f, "error recovering journal {jid}: {error}")
            }
            MountFailure::Interrupted => f.write_str("stopped before the mount began"),
        }
    }
}

/// What the caller must do, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Join the lockspace (`dlm_new_lockspace`, with these `DLM_LSFL_*` flags); report
    /// [`Event::LockspaceJoined`] (after the DLM's first recovery callbacks, which come
    /// before it returns) or [`Event::LockspaceFailed`].
    NewLockspace {
        /// `DLM_LSFL_*`.
        flags: u32,
    },
    /// Userspace lockspaces: join the CPG group now; feed its configuration changes
    /// and messages as [`Event::CpgConfchg`] / [`Event::CpgMessage`].
    JoinGroup,
    /// Userspace lockspaces: multicast [`Engine::multicast_message`]'s bytes to the group
    /// (agreed order).
    Multicast,
    /// Make this DLM call.
    Dlm(DlmRequest),
    /// Replay journal `jid` now; report [`Event::ReplayDone`]. The engine holds the
    /// journal lock in EX (our own, or taken with TRY).
    Replay {
        /// The journal.
        jid: u32,
        /// Why.
        reason: ReplayReason,
    },
    /// The mount finished: use the file system (locking may still be blocked; see
    /// [`Engine::locks_blocked`]).
    Mounted {
        /// Our jid.
        jid: u32,
        /// We were the first mounter.
        first: bool,
    },
    /// The mount failed; a [`Action::Release`] follows, except after
    /// [`MountFailure::Lockspace`] (nothing was joined).
    MountFailed(MountFailure),
    /// Locking is unblocked at this generation (`gfs2_glock_thaw`).
    Unblocked {
        /// The generation.
        generation: u32,
    },
    /// Release the lockspace (and leave the CPG group). The engine is finished.
    Release(Release),
    /// A line for the log.
    Log(LogEvent),
}

/// An input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// `gdlm_mount` with this many journals (gfs2's jindex).
    Mount {
        /// Journals in the file system.
        journals: u32,
    },
    /// `dlm_new_lockspace` returned with the recovery callbacks in use.
    LockspaceJoined,
    /// `dlm_new_lockspace` failed.
    LockspaceFailed(i32),
    /// `recover_prep` (kernel lockspaces).
    RecoverPrep,
    /// `recover_slot` of a failed member's slot (kernel lockspaces).
    RecoverSlot {
        /// The slot.
        slot: i32,
    },
    /// `recover_done` (kernel lockspaces).
    RecoverDone {
        /// Every member's slot.
        slots: &'a [i32],
        /// Ours.
        our_slot: i32,
        /// The new generation.
        generation: u32,
    },
    /// A CPG configuration change (userspace lockspaces).
    CpgConfchg {
        /// The new view.
        members: &'a [Member],
        /// Who left, and why.
        left: &'a [(Member, LeftReason)],
        /// Who joined.
        joined: &'a [Member],
    },
    /// A CPG message (userspace lockspaces).
    CpgMessage {
        /// The sender.
        from: Member,
        /// Its bytes.
        bytes: &'a [u8],
    },
    /// A DLM call for `lock` completed (the AST), or failed at once.
    DlmDone {
        /// Which lock.
        lock: LockRef,
        /// `sb_status` (0, a negative errno, `-DLM_EUNLOCK` for an unlock).
        status: i32,
        /// `sb_flags`.
        sb_flags: u8,
        /// The LVB buffer after the call, for locks with one.
        lvb: Option<[u8; 32]>,
    },
    /// A replay the engine asked for finished.
    ReplayDone {
        /// The journal.
        jid: u32,
        /// How.
        outcome: ReplayOutcome,
    },
    /// Unmount cleanly (gfs2 has put every glock).
    Unmount,
    /// The file system withdrew (`SDF_WITHDRAWN`, then `lm_unmount(sdp, false)`): stop,
    /// and release as the profile says (7.2: as failed, so the others recover our
    /// journal; the reference: normally).
    Withdraw,
    /// A signal is pending (`signal_pending` in `control_mount`).
    Interrupt,
    /// The user wants this mount gone, whatever its phase: before the first
    /// recover_done the mount fails (released); while `control_mount` runs it is
    /// interrupted; once mounted it unmounts (at once, or as soon as the mount that is
    /// past `control_mount` completes). What a daemon's SIGTERM means.
    Stop,
}

impl Event<'_> {
    fn kind(&self) -> EventKind {
        match self {
            Event::Mount { .. } => EventKind::Mount,
            Event::LockspaceJoined | Event::LockspaceFailed(_) => EventKind::Lockspace,
            Event::RecoverPrep | Event::RecoverSlot { .. } | Event::RecoverDone { .. } => {
                EventKind::RecoverCallback
            }
            Event::CpgConfchg { .. } | Event::CpgMessage { .. } => EventKind::Cpg,
            Event::DlmDone { .. } => EventKind::DlmDone,
            Event::ReplayDone { .. } => EventKind::ReplayDone,
            Event::Unmount => EventKind::Unmount,
            Event::Withdraw => EventKind::Withdraw,
            Event::Interrupt => EventKind::Interrupt,
            Event::Stop => EventKind::Stop,
        }
    }
}

/// The kind of a refused event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EventKind {
    /// [`Event::Mount`].
    Mount,
    /// [`Event::LockspaceJoined`] / [`Event::LockspaceFailed`].
    Lockspace,
    /// A DLM recovery callback.
    RecoverCallback,
    /// A CPG input.
    Cpg,
    /// [`Event::DlmDone`].
    DlmDone,
    /// [`Event::ReplayDone`].
    ReplayDone,
    /// [`Event::Unmount`].
    Unmount,
    /// [`Event::Withdraw`].
    Withdraw,
    /// [`Event::Interrupt`].
    Interrupt,
    /// [`Event::Stop`].
    Stop,
}

/// An event the engine refused; its state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EngineError {
    /// The event does not fit the phase (a completion nobody waits for, a replay not
    /// asked for, a second mount, a recovery callback from the wrong source, …).
    Unexpected {
        /// What came.
        event: EventKind,
        /// Where the engine was.
        phase: Phase,
    },
    /// A recovery callback the core refuses (a slot ≤ 0 or beyond the capacity).
    Recovery(RecoveryError),
    /// A membership change or message the core refuses.
    Membership(MembershipError),
    /// A journal lock completion the kernel would `BUG()` on.
    Ast(AstError),
    /// The mount machine refused its input (an internal inconsistency).
    Mount(MountError),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Unexpected { event, phase } => {
                write!(f, "{event:?} does not fit phase {phase:?}")
            }
            EngineError::Recovery(e) => e.fmt(f),
            EngineError::Membership(e) => e.fmt(f),
            EngineError::Ast(e) => e.fmt(f),
            EngineError::Mount(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for EngineError {}

/// Where recovery callbacks come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Callbacks {
    /// The kernel DLM calls `recover_prep/slot/done` ([`Event::RecoverPrep`], …).
    #[default]
    Dlm,
    /// A userspace lockspace: CPG membership as this member synthesizes them
    /// ([`crate::membership`]).
    Cpg(Member),
}

/// What the first mounter does when it cannot replay another node's journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FirstMountFailure {
    /// Fail the mount, as gfs2's `init_journal` does (the default): nobody may mount over
    /// a journal that was not replayed.
    #[default]
    FailMount,
    /// Try that journal again after `HZ` (an option for shims whose "replay" is a
    /// command that may succeed later; off by default).
    RetryAfterHz,
}

/// The engine's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Where recovery callbacks come from.
    pub callbacks: Callbacks,
    /// `set_recover_size`'s policy.
    pub size_policy: SizePolicy,
    /// What the control step does with submit entries it folded earlier.
    pub submit_policy: SubmitPolicy,
    /// The first mounter's answer to a failed replay.
    pub first_mount_failure: FirstMountFailure,
    /// `DLM_LSFL_*` for `dlm_new_lockspace` ([`Profile::lockspace_flags`]).
    pub lockspace_flags: u32,
    /// The kernel whose lock_dlm to follow where it changed: the withdraw guard on the
    /// recovery callbacks and the release option of an unclean unmount.
    pub profile: Profile,
    /// Also queue the [`Level::Debug`] lines (what the engine saw or decided, which the
    /// kernel does not print: [`LogEvent::ControlLocked`], the CPG-synthesized
    /// callbacks). Off by default: each would be an action to queue and poll on the
    /// hot path (one per control step) that a kernel shim drops.
    pub debug_logs: bool,
}

impl Config {
    /// The defaults for `profile`: its lockspace flags (no mount options) and its
    /// withdraw behaviour. The size policy stays [`SizePolicy::Fit`] (the 2019 fix; the
    /// reference's growth by 16 is [`SizePolicy::Reference`], an explicit choice).
    pub fn for_profile(profile: Profile) -> Self {
        Config {
            callbacks: Callbacks::Dlm,
            size_policy: SizePolicy::default(),
            submit_policy: SubmitPolicy::Reference,
            first_mount_failure: FirstMountFailure::FailMount,
            lockspace_flags: profile.lockspace_flags(&crate::mount::MountOptions::default()),
            profile,
            debug_logs: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::for_profile(Profile::Reference)
    }
}

/// Where the mount is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// Not started.
    Idle,
    /// Joining the lockspace (and, for userspace lockspaces, the group) until the first
    /// recover_done.
    Joining,
    /// `control_mount`.
    Mounting,
    /// Taking our own journal lock (`init_journal`).
    OwnJournal,
    /// Replaying our own journal.
    OwnReplay,
    /// First mounter: recovering every journal.
    FirstRecovery,
    /// First mounter: `control_first_done`.
    FirstDone,
    /// Mounted.
    Mounted,
    /// Unmounting (cleanly, or withdrawn): finishing in-flight work before the release.
    Unmounting,
    /// Released after a clean unmount.
    Down,
    /// The mount failed; released.
    Failed,
    /// Withdrawn; released (as failed in 7.2, normally in the reference).
    Withdrawn,
}

impl Phase {
    fn finished(self) -> bool {
        matches!(self, Phase::Down | Phase::Failed | Phase::Withdrawn)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SyncUser {
    Mount,
    FirstDone,
    ControlEx(ControlTicket),
    ControlNl(ControlTicket),
    ControlStale,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PendingSync {
    lock: LockId,
    user: SyncUser,
    unlock: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Stage {
    /// Journal lock EX|TRY requested.
    Locking,
    /// Replay asked for.
    Replaying,
    /// Replayed (or failed); the journal lock's unlock is outstanding.
    Unlocking,
}

/// One journal recovery in progress (`gfs2_recover_func`); gfs2 runs one work item per
/// journal, and `JDF_RECOVERY` makes a second request for the same jid `-EBUSY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Running {
    jid: u32,
    stage: Stage,
    reason: ReplayReason,
    /// No journal lock (our own journal, already held).
    own: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum OwnLock {
    None,
    Locking,
    Held,
}

/// The action queue (transient: drained by the caller after every call): a ring of
/// [`OUTBOX`] (a power of two) slots, indexed by masking, so that a push or a poll is a
/// compare, a copy and an increment.
#[derive(Clone)]
struct Outbox {
    q: [Action; OUTBOX],
    /// The slot of the next action to poll (low byte) and the actions queued (high
    /// byte), in one field: every push and poll loads and stores it whole, so a poll
    /// right after a push reads it from the store buffer (a wider load over two
    /// separate byte stores would wait for both to reach the cache).
    pos: u16,
    dropped_logs: u32,
}

const _: () = assert!(OUTBOX.is_power_of_two() && OUTBOX <= u8::MAX as usize);

/// One queued action more or less in [`Outbox::pos`].
const ONE: u16 = 0x100;

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            // Never read: only the `len` slots from `head` on are live.
            q: [Action::Multicast; OUTBOX],
            pos: 0,
            dropped_logs: 0,
        }
    }
}

impl Outbox {
    #[inline]
    fn len(&self) -> usize {
        usize::from(self.pos >> 8)
    }

    /// Slot of the `i`-th queued action.
    #[inline]
    fn slot(&self, i: usize) -> usize {
        (usize::from(self.pos & 0xff) + i) & (OUTBOX - 1)
    }

    #[inline]
    fn push(&mut self, a: Action) -> Result<(), Action> {
        let pos = self.pos;
        let len = usize::from(pos >> 8);
        if len == OUTBOX {
            return Err(a);
        }
        self.q[(usize::from(pos & 0xff) + len) & (OUTBOX - 1)] = a;
        self.pos = pos + ONE;
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> Option<Action> {
        let pos = self.pos;
        if pos < ONE {
            return None;
        }
        let head = usize::from(pos & 0xff);
        let a = self.q[head & (OUTBOX - 1)];
        // head + 1 (masked) and len - 1, in one store.
        self.pos = ((head + 1) & (OUTBOX - 1)) as u16 | ((pos & 0xff00) - ONE);
        Some(a)
    }

    fn iter(&self) -> impl Iterator<Item = &Action> + '_ {
        (0..self.len()).map(|i| &self.q[self.slot(i)])
    }

    /// Remove the oldest log line, keeping the order of the rest; false if none.
    fn remove_a_log(&mut self) -> bool {
        let Some(at) = (0..self.len()).find(|&i| matches!(self.q[self.slot(i)], Action::Log(_)))
        else {
            return false;
        };
        for i in at..self.len() - 1 {
            let (to, from) = (self.slot(i), self.slot(i + 1));
            self.q[to] = self.q[from];
        }
        self.pos -= ONE;
        true
    }
}

impl fmt::Debug for Outbox {
    /// The queued actions only (the other slots are stale).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("q", &DebugList(self))
            .field("dropped_logs", &self.dropped_logs)
            .finish()
    }
}

struct DebugList<'a>(&'a Outbox);

impl fmt::Debug for DebugList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl Hash for Outbox {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.len().hash(h);
        for a in self.iter() {
            a.hash(h);
        }
    }
}

impl PartialEq for Outbox {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.iter().zip(o.iter()).all(|(a, b)| a == b)
    }
}
impl Eq for Outbox {}

/// The order of two kernel threads a recover_done starts while the first mounter's
/// `control_first_done` waits for the DLM's recovery (v3.12 L973-981, 7.2 L1054-1070):
/// `gdlm_recover_done` queues the control work and wakes the waiter under
/// `ls_recover_spin` (v3.12 L1132-1136, 7.2 L1235-1239).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FirstDoneOrder {
    /// The woken `control_first_done` clears `DFL_FIRST_MOUNT` first; the control work
    /// then runs the control step and logs `recover generation N done`.
    #[default]
    FirstDoneFirst,
    /// The control work runs first, sees `DFL_FIRST_MOUNT` and returns (v3.12 L595-597,
    /// 7.2 L675-679): no `recover generation N done` for that generation. Locking was
    /// never blocked (recover_prep sets no `DFL_BLOCK_LOCKS` during a first mount).
    WorkFirst,
}

/// The lock_dlm lifecycle of one mount; see the module docs for the call order.
/// `N` is the capacity in jids (at most 192, what the LVB describes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Engine<const N: usize = { crate::consts::MAX_JIDS }> {
    cfg: Config,
    phase: Phase,
    rec: Recovery<N>,
    mount: ControlMount,
    first_done: FirstDone,
    first_done_waiting: bool,
    first_done_order: FirstDoneOrder,
    membership: Option<Membership<N>>,
    sync_msg: Option<SyncMsg<N>>,
    joined: bool,
    first: bool,
    journals: u32,
    sync: Option<PendingSync>,
    lksb_lvb: ControlLvb,
    now: Instant,
    work_at: Option<Instant>,
    sleep_until: Option<Instant>,
    /// Journals queued for recovery (`gfs2_recover_set`).
    queue: JidSet,
    running: Option<Running>,
    /// First mounter's pass: the next journal to look at.
    first_next: u32,
    /// First mounter, [`FirstMountFailure::RetryAfterHz`]: retry `first_next` then.
    first_retry_at: Option<Instant>,
    own: OwnLock,
    /// Unmounting uncleanly (withdrawn).
    unclean: bool,
    /// [`Event::Stop`] came before the mount finished: unmount once it has.
    stop_pending: bool,
    stats: GlockStats,
    out: Outbox,
}

impl<const N: usize> Engine<N> {
    /// An engine that has not mounted.
    pub fn new(cfg: Config) -> Self {
        let membership = match cfg.callbacks {
            Callbacks::Cpg(me) => Some(Membership::new(me)),
            Callbacks::Dlm => None,
        };
        Engine {
            cfg,
            phase: Phase::Idle,
            rec: Recovery::new(cfg.size_policy)
                .with_submit_policy(cfg.submit_policy)
                .with_withdraw_guard(cfg.profile.withdraw_guard()),
            mount: ControlMount::new(),
            first_done: FirstDone::new(),
            first_done_waiting: false,
            first_done_order: FirstDoneOrder::FirstDoneFirst,
            membership,
            sync_msg: None,
            joined: false,
            first: false,
            journals: 0,
            sync: None,
            lksb_lvb: ControlLvb::zeroed(),
            now: Instant::ZERO,
            work_at: None,
            sleep_until: None,
            queue: JidSet::new(),
            running: None,
            first_next: 0,
            first_retry_at: None,
            own: OwnLock::None,
            unclean: false,
            stop_pending: false,
            stats: GlockStats::new(),
            out: Outbox::default(),
        }
    }

    // ---- read-only state ------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The recovery state (`ls_recover_*`).
    pub fn recovery(&self) -> &Recovery<N> {
        &self.rec
    }
    /// The CPG membership (userspace lockspaces).
    pub fn membership(&self) -> Option<&Membership<N>> {
        self.membership.as_ref()
    }
    /// `control_mount`'s machine.
    pub fn control_mount(&self) -> &ControlMount {
        &self.mount
    }
    /// Our jid, once the first recover_done assigned it.
    pub fn jid(&self) -> Option<u32> {
        u32::try_from(self.rec.jid())
            .ok()
            .filter(|_| self.rec.recover_mount() != 0)
    }
    /// We are (or were) the first mounter of this mount.
    pub fn is_first(&self) -> bool {
        self.first
    }
    /// We hold our own journal lock: we may write our journal.
    pub fn holds_own_journal(&self) -> bool {
        self.own == OwnLock::Held
    }
    /// Mounted (including while unmounting).
    pub fn is_mounted(&self) -> bool {
        matches!(self.phase, Phase::Mounted | Phase::Unmounting)
    }
    /// Locking is blocked (`DFL_BLOCK_LOCKS`).
    pub fn locks_blocked(&self) -> bool {
        self.rec.locks_blocked()
    }
    /// Mounted with locking unblocked: the file system is in use.
    pub fn accessing(&self) -> bool {
        self.phase == Phase::Mounted && !self.rec.locks_blocked()
    }
    /// Journals queued for recovery.
    pub fn recovery_queue(&self) -> JidSet {
        self.queue
    }
    /// The journal being recovered or replayed, if any.
    pub fn replaying(&self) -> Option<u32> {
        self.running
            .filter(|r| r.stage == Stage::Replaying)
            .map(|r| r.jid)
    }
    /// A control_lock/mounted_lock call is outstanding.
    pub fn sync_pending(&self) -> bool {
        self.sync.is_some()
    }
    /// `control_first_done` waits for the DLM's recovery (`control_first_done wait gen
    /// N`): the next recover_done wakes it and queues the control work, and which of the
    /// two runs first is [`Engine::set_first_done_order`]'s choice.
    pub fn first_done_waiting(&self) -> bool {
        self.phase == Phase::FirstDone && self.first_done_waiting
    }
    /// Which runs first when a recover_done both wakes the waiting `control_first_done`
    /// and queues the control work (two kernel threads; both orders happen on real
    /// clusters). Applies to every later recover_done until changed; the default is
    /// [`FirstDoneOrder::FirstDoneFirst`].
    pub fn set_first_done_order(&mut self, order: FirstDoneOrder) {
        self.first_done_order = order;
    }
    /// Journal-lock statistics.
    pub fn journal_stats(&self) -> &GlockStats {
        &self.stats
    }
    /// Log lines dropped because the caller did not drain [`Engine::poll`].
    pub fn dropped_logs(&self) -> u32 {
        self.out.dropped_logs
    }
    /// The engine is finished (released).
    pub fn is_finished(&self) -> bool {
        self.phase.finished()
    }

    /// The LVB buffer to pass with `req` (the lksb's `sb_lvbptr`, which the kernel's
    /// DLM reads in place): `Some` for control_lock requests with `VALBLK`, `None` for
    /// every other request. The engine writes the buffer when it issues the request,
    /// and it stays as it is until that request's completion (one sync lock call is
    /// outstanding at a time), so read it when making the call. Lent rather than
    /// copied into the [`Action`], as the kernel lends `ls_control_lvb`.
    #[inline]
    pub fn request_lvb(&self, req: &DlmRequest) -> Option<&ControlLvb> {
        match req.op {
            DlmOp::Lock { flags, .. }
                if req.lock == LockRef::Control && flags.contains(DlmLkf::VALBLK) =>
            {
                Some(&self.lksb_lvb)
            }
            _ => None,
        }
    }

    /// Userspace lockspaces, after [`Action::Multicast`]: the message's bytes, written to
    /// `out` (at least [`SyncMsg::MAX_LEN`] bytes). `None` if there is none or `out` is
    /// too short.
    pub fn multicast_message(&self, out: &mut [u8]) -> Option<usize> {
        self.sync_msg.as_ref()?.encode(out)
    }

    // ---- the interface --------------------------------------------------------------

    /// The next action, in order.
    #[inline]
    pub fn poll(&mut self) -> Option<Action> {
        self.out.pop()
    }

    /// When [`Engine::handle_timeout`] must be called next (`<= now`: at once). `None`
    /// once finished: a released lockspace has no timers.
    #[inline]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase.finished() {
            return None;
        }
        let mut t = self.sleep_until;
        if let Some(w) = self.work_due() {
            t = Some(t.map_or(w, |a| a.min(w)));
        }
        if let Some(r) = self.recovery_due() {
            t = Some(t.map_or(r, |a| a.min(r)));
        }
        t
    }

    /// Run one item due at `now` (the mount retry sleep, the control work, the journal
    /// recovery work, in that order). Does nothing if nothing is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.now.max(now);
        if self.phase == Phase::Mounted
            && self.sleep_until.is_none()
            && self.sync.is_none()
            && self.work_at.is_some_and(|t| t <= now)
        {
            // Mounted, no sleep, no sync call: the control work is the first item due,
            // and no release follows (not unmounting).
            self.now = now;
            self.work_at = None;
            return self.control_work();
        }
        self.handle_timeout_general(now)
    }

    /// [`Engine::handle_timeout`] but for the mounted control work.
    #[inline(never)]
    fn handle_timeout_general(&mut self, now: Instant) {
        if self.phase.finished() {
            return;
        }
        self.now = now;
        if self.sleep_until.is_some_and(|t| t <= now) {
            self.sleep_until = None;
            match self.mount.on_sleep_done() {
                Ok(step) => self.mount_step(step),
                Err(e) => self.internal(e),
            }
        } else if self.work_due().is_some_and(|t| t <= now) {
            self.work_at = None;
            self.control_work();
        } else if self.recovery_due().is_some_and(|t| t <= now) {
            self.first_retry_at = None;
            self.recovery_work();
        }
        self.maybe_release();
    }

    /// Feed one input. On `Err` nothing changed.
    ///
    /// Inline, so that a caller that passes a known event (a shim's DLM completion,
    /// its recovery callbacks) calls that event's path directly with its fields in
    /// registers; the rest share one out-of-line path.
    #[inline]
    pub fn handle(&mut self, now: Instant, ev: Event<'_>) -> Result<(), EngineError> {
        match ev {
            Event::DlmDone {
                lock,
                status,
                sb_flags,
                lvb,
            } => self.handle_dlm_done(now, lock, status, sb_flags, lvb.as_ref()),
            Event::RecoverPrep => self.handle_recover_prep(now),
            Event::RecoverDone {
                slots,
                our_slot,
                generation,
            } => self.handle_recover_done(now, slots, our_slot, generation),
            ev => self.handle_event(now, ev),
        }
    }

    /// [`Engine::handle`] of [`Event::DlmDone`]. The control work's two completions
    /// (control_lock EX, then NL: a recovery cycle's) are told apart here without a
    /// frame and continue out of line (tail calls); every other completion, and every
    /// refusal, goes the general way.
    #[inline(never)]
    fn handle_dlm_done(
        &mut self,
        now: Instant,
        lock: LockRef,
        status: i32,
        sb_flags: u8,
        lvb: Option<&[u8; 32]>,
    ) -> Result<(), EngineError> {
        if lock == LockRef::Control && !self.phase.finished() {
            if let Some(PendingSync {
                lock: LockId::Control,
                user,
                unlock: false,
            }) = self.sync
            {
                match user {
                    SyncUser::ControlEx(_) => return self.control_ex_completion(now, status, lvb),
                    SyncUser::ControlNl(_) => return self.control_nl_completion(now, status, lvb),
                    _ => {}
                }
            }
        }
        self.handle_dlm_done_general(now, lock, status, sb_flags, lvb)
    }

    /// [`Engine::handle_dlm_done`] of control_lock EX for the control work.
    #[inline(never)]
    fn control_ex_completion(
        &mut self,
        now: Instant,
        status: i32,
        lvb: Option<&[u8; 32]>,
    ) -> Result<(), EngineError> {
        let Some(PendingSync {
            user: SyncUser::ControlEx(t),
            ..
        }) = self.sync
        else {
            return self.handle_dlm_done_general(now, LockRef::Control, status, 0, lvb);
        };
        self.take_sync_completion(now, lvb);
        self.control_ex_done(t, status);
        self.maybe_release();
        Ok(())
    }

    /// What both control_lock fast paths do before their step: time, the sync request
    /// answered, the LVB the DLM left in the lksb.
    #[inline(always)]
    fn take_sync_completion(&mut self, now: Instant, lvb: Option<&[u8; 32]>) {
        self.now = self.now.max(now);
        self.sync = None;
        if let Some(l) = lvb {
            self.lksb_lvb = ControlLvb::from_array(*l);
        }
    }

    /// [`Engine::handle_dlm_done`] of control_lock NL after the control step.
    #[inline(never)]
    fn control_nl_completion(
        &mut self,
        now: Instant,
        status: i32,
        lvb: Option<&[u8; 32]>,
    ) -> Result<(), EngineError> {
        let Some(PendingSync {
            user: SyncUser::ControlNl(t),
            ..
        }) = self.sync
        else {
            return self.handle_dlm_done_general(now, LockRef::Control, status, 0, lvb);
        };
        self.take_sync_completion(now, lvb);
        self.control_nl_done(t, status);
        self.maybe_release();
        Ok(())
    }

    /// [`Engine::handle_dlm_done`] of a journal lock, or a refusal.
    #[inline(never)]
    fn handle_dlm_done_general(
        &mut self,
        now: Instant,
        lock: LockRef,
        status: i32,
        sb_flags: u8,
        lvb: Option<&[u8; 32]>,
    ) -> Result<(), EngineError> {
        if !self.fits_dlm_done(lock) {
            return Err(EngineError::Unexpected {
                event: EventKind::DlmDone,
                phase: self.phase,
            });
        }
        self.step_at(now, |e| e.dlm_done(lock, status, sb_flags, lvb))
    }

    /// [`Engine::handle`] of [`Event::RecoverPrep`] (which is never refused once it
    /// fits).
    #[inline(never)]
    fn handle_recover_prep(&mut self, now: Instant) -> Result<(), EngineError> {
        if self.mounted_dlm() {
            // Mounted (so the callback fits, the lockspace is not released and no
            // release follows): the general path below without its phase checks.
            self.now = self.now.max(now);
            self.recover_prep();
            return Ok(());
        }
        if !self.fits_recover_callback() {
            return Err(EngineError::Unexpected {
                event: EventKind::RecoverCallback,
                phase: self.phase,
            });
        }
        self.now = self.now.max(now);
        if self.phase.finished() {
            if self.rec.ignores_callbacks() {
                self.log(LogEvent::PrepIgnored);
            }
        } else {
            self.recover_prep();
        }
        self.maybe_release();
        Ok(())
    }

    /// [`Engine::handle`] of [`Event::RecoverDone`]: mounted, with nothing to refuse or
    /// grow, a leaf ([`Recovery::recover_done_steady`]); neither a phase step
    /// (`recover_done` starts one only while joining or in first_done) nor a release
    /// (`maybe_release`: only while unmounting) can follow. Anything else goes the
    /// general way (a tail call), from the unchanged state.
    #[inline(never)]
    fn handle_recover_done(
        &mut self,
        now: Instant,
        slots: &[i32],
        our_slot: i32,
        generation: u32,
    ) -> Result<(), EngineError> {
        if self.mounted_dlm() {
            if let Some(w) = self.rec.recover_done_steady(slots, generation) {
                self.now = self.now.max(now);
                self.queue_work(w);
                return Ok(());
            }
        }
        self.handle_recover_done_general(now, slots, our_slot, generation)
    }

    /// [`Engine::handle_recover_done`] in every other case.
    #[inline(never)]
    fn handle_recover_done_general(
        &mut self,
        now: Instant,
        slots: &[i32],
        our_slot: i32,
        generation: u32,
    ) -> Result<(), EngineError> {
        if !self.fits_recover_callback() {
            return Err(EngineError::Unexpected {
                event: EventKind::RecoverCallback,
                phase: self.phase,
            });
        }
        if self.phase.finished() {
            self.now = self.now.max(now);
            if self.rec.ignores_callbacks() {
                self.log(LogEvent::DoneIgnored);
            }
            self.maybe_release();
            return Ok(());
        }
        self.step_at(now, |e| e.recover_done(slots, our_slot, generation))
    }

    /// [`Engine::handle`] of every other event.
    #[inline(never)]
    fn handle_event(&mut self, now: Instant, ev: Event<'_>) -> Result<(), EngineError> {
        self.check_fits(&ev)?;
        self.step_at(now, |e| e.dispatch(ev))
    }

    /// Runs one event's `step` at `now`: the clock moves forward to `now`; a refused step
    /// (every refusal happens before any change but the clock) puts the clock back, so
    /// the state is unchanged; an accepted one may finish a release.
    #[inline(always)]
    fn step_at(
        &mut self,
        now: Instant,
        step: impl FnOnce(&mut Self) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let then = self.now;
        self.now = self.now.max(now);
        match step(self) {
            Ok(()) => {
                self.maybe_release();
                Ok(())
            }
            Err(e) => {
                self.now = then;
                Err(e)
            }
        }
    }

    // ---- event routing ----------------------------------------------------------------

    fn unexpected(&self, ev: &Event<'_>) -> EngineError {
        EngineError::Unexpected {
            event: ev.kind(),
            phase: self.phase,
        }
    }

    /// Refuse, before any change, what does not fit the phase.
    fn check_fits(&self, ev: &Event<'_>) -> Result<(), EngineError> {
        let p = self.phase;
        let ok = match *ev {
            Event::Mount { .. } => p == Phase::Idle,
            Event::LockspaceJoined | Event::LockspaceFailed(_) => {
                p == Phase::Joining && !self.joined
            }
            Event::RecoverPrep | Event::RecoverSlot { .. } | Event::RecoverDone { .. } => {
                self.fits_recover_callback()
            }
            Event::CpgConfchg { .. } | Event::CpgMessage { .. } => {
                self.membership.is_some() && self.joined && !p.finished()
            }
            Event::DlmDone { lock, .. } => self.fits_dlm_done(lock),
            Event::ReplayDone { jid, .. } => {
                !p.finished()
                    && self
                        .running
                        .is_some_and(|r| r.jid == jid && r.stage == Stage::Replaying)
            }
            Event::Unmount => p == Phase::Mounted,
            Event::Withdraw => p == Phase::Mounted || (p == Phase::Unmounting && !self.unclean),
            Event::Interrupt => true,
            Event::Stop => !p.finished(),
        };
        if ok {
            Ok(())
        } else {
            Err(self.unexpected(ev))
        }
    }

    /// Mounted on a kernel lockspace: the phase of the recovery callbacks' and the
    /// control work's fast paths.
    #[inline(always)]
    fn mounted_dlm(&self) -> bool {
        self.phase == Phase::Mounted && self.cfg.callbacks == Callbacks::Dlm
    }

    /// A recovery callback fits. The DLM calls them during dlm_release_lockspace too
    /// (its leave is a recovery: a recover_prep after "leaving the lockspace group",
    /// seen on 6.1 and 7.2), so after our release they are taken and dropped.
    #[inline]
    fn fits_recover_callback(&self) -> bool {
        let p = self.phase;
        self.cfg.callbacks == Callbacks::Dlm && p != Phase::Idle && (!p.finished() || self.joined)
    }

    /// A DLM completion fits: a request for `lock` is outstanding.
    #[inline]
    fn fits_dlm_done(&self, lock: LockRef) -> bool {
        !self.phase.finished() && self.awaits(lock)
    }

    fn awaits(&self, lock: LockRef) -> bool {
        match lock {
            LockRef::Control | LockRef::Mounted => {
                self.sync.is_some_and(|s| LockRef::of(s.lock) == lock)
            }
            LockRef::Journal(j) => {
                (self.own == OwnLock::Locking && self.jid() == Some(j))
                    || self.running.is_some_and(|r| {
                        r.jid == j && !r.own && matches!(r.stage, Stage::Locking | Stage::Unlocking)
                    })
            }
        }
    }

    fn dispatch(&mut self, ev: Event<'_>) -> Result<(), EngineError> {
        match ev {
            Event::Mount { journals } => {
                self.journals = journals;
                self.phase = Phase::Joining;
                self.push(Action::NewLockspace {
                    flags: self.cfg.lockspace_flags,
                });
                Ok(())
            }
            Event::LockspaceJoined => {
                self.joined = true;
                if self.membership.is_some() {
                    self.push(Action::JoinGroup);
                } else {
                    // gdlm_mount goes on to control_mount whether or not the first
                    // recover_done came yet (6.1 can return from dlm_new_lockspace before
                    // it): control_mount waits for it (wait2, lvb_gen != start_gen). L1253
                    // refuses only a jid= preset, which the engine never takes.
                    self.start_mount();
                }
                Ok(())
            }
            Event::LockspaceFailed(e) => {
                self.log(LogEvent::NewLockspaceError(e));
                self.push(Action::MountFailed(MountFailure::Lockspace(e)));
                self.phase = Phase::Failed;
                Ok(())
            }
            Event::RecoverPrep | Event::RecoverSlot { .. } | Event::RecoverDone { .. }
                if self.phase.finished() =>
            {
                // Released: nothing reads the recovery state any more. 7.2 says why it
                // ignores them once withdrawn; otherwise the kernel's callback changes
                // only the state of a lockspace being freed.
                if self.rec.ignores_callbacks() {
                    self.log_ignored(&ev);
                }
                Ok(())
            }
            Event::RecoverPrep => {
                self.recover_prep();
                Ok(())
            }
            Event::RecoverSlot { slot } => self.recover_slot(slot),
            Event::RecoverDone {
                slots,
                our_slot,
                generation,
            } => self.recover_done(slots, our_slot, generation),
            Event::CpgConfchg { .. } | Event::CpgMessage { .. } => self.cpg_event(ev),
            Event::DlmDone {
                lock,
                status,
                sb_flags,
                lvb,
            } => self.dlm_done(lock, status, sb_flags, lvb.as_ref()),
            Event::ReplayDone { jid, outcome } => {
                self.replay_done(jid, outcome);
                Ok(())
            }
            Event::Unmount => {
                self.begin_unmount();
                Ok(())
            }
            Event::Withdraw => {
                // gfs2_withdraw sets SDF_WITHDRAWN (7.2: the recovery callbacks are
                // ignored from now on), then the withdraw work calls
                // lm_unmount(sdp, false): gdlm_unmount, released as the profile says
                // (7.2: DLM_RELEASE_RECOVER, so the survivors recover our journal; the
                // reference has only the normal release, L1314).
                self.rec.withdraw();
                self.unclean = true;
                self.begin_unmount();
                Ok(())
            }
            Event::Interrupt => {
                if self.phase == Phase::Mounting {
                    self.mount.interrupt();
                }
                Ok(())
            }
            Event::Stop => {
                match self.phase {
                    Phase::Idle | Phase::Joining => {
                        // Not yet in control_mount: give the join up.
                        self.phase = Phase::Joining;
                        self.fail(MountFailure::Interrupted);
                    }
                    Phase::Mounted => self.begin_unmount(),
                    Phase::Unmounting => {}
                    Phase::Mounting => {
                        self.mount.interrupt();
                        self.stop_pending = true;
                    }
                    _ => self.stop_pending = true,
                }
                Ok(())
            }
        }
    }

    /// A CPG configuration change or message. Out of line: its `Change<N>` (slot
    /// lists of capacity N) would otherwise sit in the frame of every `handle` call,
    /// ~14 KB of stack probed on each DLM completion of a kernel lockspace, which
    /// never has a CPG.
    #[inline(never)]
    fn cpg_event(&mut self, ev: Event<'_>) -> Result<(), EngineError> {
        let Some(m) = self.membership.as_mut() else {
            return Err(self.unexpected(&ev));
        };
        let change = match ev {
            Event::CpgConfchg {
                members,
                left,
                joined,
            } => m.confchg(members, left, joined),
            Event::CpgMessage { from, bytes } => m.deliver(from, bytes),
            _ => return Err(self.unexpected(&ev)),
        }
        .map_err(EngineError::Membership)?;
        self.apply_change(change)
    }

    /// `gdlm_unmount`: no more control work is queued; the queued work is flushed (run
    /// now) before the release; journals not yet started are dropped with the file
    /// system; a running replay finishes.
    fn begin_unmount(&mut self) {
        let _ = self.rec.begin_unmount();
        self.queue = JidSet::new();
        if self.work_at.is_some() {
            self.work_at = Some(self.now);
        }
        self.phase = Phase::Unmounting;
    }

    // ---- recovery callbacks -------------------------------------------------------------

    fn recover_prep(&mut self) {
        if self.rec.ignores_callbacks() {
            self.log(LogEvent::PrepIgnored);
        }
        self.rec.recover_prep();
    }

    /// 7.2's "... ignored due to withdraw." for a recovery callback.
    fn log_ignored(&mut self, ev: &Event<'_>) {
        match *ev {
            Event::RecoverPrep => self.log(LogEvent::PrepIgnored),
            Event::RecoverSlot { slot } => self.log(LogEvent::SlotIgnored {
                jid: slot.wrapping_sub(1),
            }),
            Event::RecoverDone { .. } => self.log(LogEvent::DoneIgnored),
            _ => {}
        }
    }

    fn recover_slot(&mut self, slot: i32) -> Result<(), EngineError> {
        match self.rec.recover_slot(slot) {
            Ok(r) => {
                if let Some(prev) = r.prev {
                    self.log(LogEvent::RecoverSlotPrev {
                        jid: r.jid,
                        generation: r.generation,
                        prev,
                    });
                }
                Ok(())
            }
            // 7.2: "... ignored due to withdraw".
            Err(RecoveryError::Withdrawn) => {
                self.log(LogEvent::SlotIgnored {
                    jid: slot.wrapping_sub(1),
                });
                Ok(())
            }
            // The kernel logs "short size" and drops the callback.
            Err(RecoveryError::ShortSize { jid, size }) => {
                self.log(LogEvent::RecoverSlotShort {
                    jid,
                    generation: self.rec.recover_block(),
                    size,
                });
                Ok(())
            }
            Err(e) => Err(EngineError::Recovery(e)),
        }
    }

    #[inline(always)]
    fn recover_done(
        &mut self,
        slots: &[i32],
        our_slot: i32,
        generation: u32,
    ) -> Result<(), EngineError> {
        let w = match self.rec.recover_done(slots, our_slot, generation) {
            Ok(w) => w,
            Err(RecoveryError::Withdrawn) => {
                self.log(LogEvent::DoneIgnored);
                return Ok(());
            }
            Err(e) => return Err(EngineError::Recovery(e)),
        };
        self.queue_work(w);
        match self.phase {
            // Userspace lockspaces: the first synthesized recover_done stands where the
            // kernel's comes before dlm_new_lockspace returns.
            Phase::Joining if self.membership.is_some() && self.joined => self.start_mount(),
            Phase::FirstDone if self.first_done_waiting && self.sync.is_none() => {
                // control_first_done waited for DFL_DLM_RECOVERY to clear.
                self.first_done_waiting = false;
                if self.first_done_order == FirstDoneOrder::WorkFirst
                    && self.work_at.is_some_and(|t| t <= self.now)
                {
                    // The control work queued above runs before the woken waiter clears
                    // DFL_FIRST_MOUNT: gfs2_control_func returns at its FIRST_MOUNT test
                    // (v3.12 L595-597, 7.2 L675-679), so this generation logs no done.
                    self.work_at = None;
                    self.control_work();
                }
                self.start_first_done();
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_change(&mut self, c: Change<N>) -> Result<(), EngineError> {
        // Slots come from a membership of capacity N, so none is refused; check anyway
        // before changing anything.
        for &s in &c.failed {
            if s <= 0 || s as usize > N {
                return Err(EngineError::Recovery(RecoveryError::InvalidSlot(s)));
            }
        }
        if c.prep {
            self.log(LogEvent::CpgPrep);
            self.recover_prep();
        }
        for &s in &c.failed {
            self.log(LogEvent::CpgSlot { slot: s });
            self.recover_slot(s)?;
        }
        if let Some(d) = &c.done {
            self.log(LogEvent::CpgDone {
                generation: d.generation,
                our_slot: d.our_slot,
            });
            self.recover_done(&d.slots, d.our_slot, d.generation)?;
        }
        if let Some(s) = c.sync {
            self.sync_msg = Some(s);
            self.push(Action::Multicast);
        }
        Ok(())
    }

    // ---- the control work (gfs2_control_func) -------------------------------------------

    #[inline]
    fn queue_work(&mut self, w: Option<ControlWork>) {
        let Some(w) = w else { return };
        // queue_delayed_work does nothing when the work is already queued.
        if self.work_at.is_none() {
            let d = if w == ControlWork::AfterHz {
                HZ
            } else {
                Duration::ZERO
            };
            self.work_at = Some(self.now + d);
        }
    }

    /// The control work waits while a sync lock call is outstanding: in the kernel the
    /// work item is still running (sync_lock blocks it), and a re-queue runs after it.
    #[inline(always)]
    fn work_due(&self) -> Option<Instant> {
        if self.sync.is_some() || self.phase.finished() {
            return None;
        }
        self.work_at
    }

    #[inline]
    fn control_work(&mut self) {
        if let ControlBegin::Lock(t, call) = self.rec.control_begin() {
            self.issue_sync(&call, SyncUser::ControlEx(t));
        }
    }

    // ---- sync locks ---------------------------------------------------------------------

    #[inline(always)]
    fn issue_sync(&mut self, call: &SyncLock, user: SyncUser) {
        // The lksb's LVB buffer: written by the call, read back on grant.
        if let Some(l) = call.lvb {
            self.lksb_lvb = l;
        }
        let lock = LockRef::of(call.lock);
        // The pending call first: nothing then lives across the push's (cold) call.
        self.sync = Some(PendingSync {
            lock: call.lock,
            user,
            unlock: false,
        });
        self.push(Action::Dlm(DlmRequest {
            lock,
            op: DlmOp::Lock {
                mode: call.mode,
                flags: call.flags,
            },
        }));
    }

    fn issue_unlock(&mut self, lock: LockId, user: SyncUser) {
        let r = LockRef::of(lock);
        self.push(Action::Dlm(DlmRequest {
            lock: r,
            op: DlmOp::Unlock,
        }));
        self.sync = Some(PendingSync {
            lock,
            user,
            unlock: true,
        });
    }

    #[inline(always)]
    fn dlm_done(
        &mut self,
        lock: LockRef,
        status: i32,
        sb_flags: u8,
        lvb: Option<&[u8; 32]>,
    ) -> Result<(), EngineError> {
        if let LockRef::Journal(j) = lock {
            return self.journal_done(j, status, sb_flags);
        }
        let Some(p) = self.sync else {
            return Err(EngineError::Unexpected {
                event: EventKind::DlmDone,
                phase: self.phase,
            });
        };
        self.sync_completed(p, status, lvb);
        Ok(())
    }

    /// The pending sync lock call `p` completed: the lksb's LVB is read back, then its
    /// user goes on.
    #[inline(always)]
    fn sync_completed(&mut self, p: PendingSync, status: i32, lvb: Option<&[u8; 32]>) {
        self.sync = None;
        if p.lock == LockId::Control {
            if let Some(l) = lvb {
                self.lksb_lvb = ControlLvb::from_array(*l);
            }
        }
        // sync_unlock succeeds on -DLM_EUNLOCK.
        let status = if p.unlock && status == -DLM_EUNLOCK {
            0
        } else {
            status
        };
        self.sync_done(p, status);
    }

    #[inline(always)]
    fn sync_done(&mut self, p: PendingSync, status: i32) {
        match p.user {
            SyncUser::Mount => {
                let r = if p.unlock {
                    self.mount.on_unlock_result(status)
                } else {
                    self.mount
                        .on_lock_result(&mut self.rec, status, Some(&self.lksb_lvb))
                };
                match r {
                    Ok(step) => self.mount_step(step),
                    Err(e) => self.internal(e),
                }
            }
            SyncUser::FirstDone => {
                let r = if p.unlock {
                    self.first_done.on_unlock_result(status)
                } else {
                    self.first_done.on_lock_result(status)
                };
                match r {
                    Ok(step) => self.first_done_step(step),
                    Err(e) => self.internal(e),
                }
            }
            SyncUser::ControlEx(t) => self.control_ex_done(t, status),
            SyncUser::ControlStale => {
                if status != 0 {
                    self.log(LogEvent::ControlNlError(status));
                }
            }
            SyncUser::ControlNl(t) => self.control_nl_done(t, status),
        }
    }

    /// control_lock EX for the control work completed (`gfs2_control_func` L626-707).
    #[inline(always)]
    fn control_ex_done(&mut self, mut t: ControlTicket, status: i32) {
        if status != 0 {
            return self.log(LogEvent::ControlExError(status));
        }
        // The lksb's LVB in place: read, and written (control_lvb_write) for the NL
        // call that lends it (`rec` and `lksb_lvb` are separate fields).
        match self.rec.control_locked_lksb(&mut t, &mut self.lksb_lvb) {
            ControlUpdate::Stale(call) => {
                self.log(LogEvent::Block1 {
                    start: t.start_gen,
                    block: t.block_gen,
                    block_now: self.rec.recover_block(),
                });
                self.issue_sync(&call, SyncUser::ControlStale);
            }
            ControlUpdate::Convert { call, lvb_gen } => {
                self.log(LogEvent::ControlLocked {
                    lvb_gen,
                    start: t.start_gen,
                    write: call.flags.contains(DlmLkf::VALBLK),
                });
                self.issue_sync(&call, SyncUser::ControlNl(t))
            }
        }
    }

    /// control_lock NL after the control step completed (L709-749).
    #[inline(always)]
    fn control_nl_done(&mut self, t: ControlTicket, status: i32) {
        if status != 0 {
            return self.log(LogEvent::ControlNlError(status));
        }
        match self.rec.control_converted(&t) {
            ControlFinish::Recover(jids) => {
                self.log(LogEvent::RecoverJids {
                    generation: t.start_gen,
                    jids,
                });
                for j in jids.iter() {
                    // gfs2_recover_set: -ENOENT (nothing) for a jid with no
                    // journal; gfs2_recover_journal: -EBUSY (dropped) while the
                    // jid is queued or being recovered (JDF_RECOVERY).
                    let busy = self.running.is_some_and(|r| r.jid == j);
                    if !busy && j < self.journals {
                        let _ = self.queue.insert(j);
                    }
                }
            }
            ControlFinish::Unblocked { generation } => {
                self.log(LogEvent::RecoverDone { generation });
                self.push(Action::Unblocked { generation });
            }
            ControlFinish::StillBlocked => self.log(LogEvent::Block2 {
                start: t.start_gen,
                block: t.block_gen,
                block_now: self.rec.recover_block(),
            }),
        }
    }

    // ---- mount -------------------------------------------------------------------------

    fn start_mount(&mut self) {
        self.phase = Phase::Mounting;
        let step = self.mount.start(&mut self.rec);
        self.mount_step(step);
    }

    fn mount_step(&mut self, step: MountStep) {
        match step {
            MountStep::Lock(call) => self.issue_sync(&call, SyncUser::Mount),
            MountStep::Unlock(lock) => self.issue_unlock(lock, SyncUser::Mount),
            MountStep::Sleep { ms } => {
                if let Some(reason) = self.mount.last_retry() {
                    self.log(LogEvent::MountWait {
                        reason,
                        block: self.rec.recover_block(),
                        start: self.rec.recover_start(),
                        mount: self.rec.recover_mount(),
                        lvb: self.mount.lvb_gen().unwrap_or(0),
                        flags: self.rec.flags().bits(),
                    });
                }
                self.sleep_until = Some(self.now + Duration::from_millis(u64::from(ms)));
            }
            MountStep::Mounted { first } => {
                self.first = first;
                if first {
                    self.log(LogEvent::FirstMounter {
                        generation: self.mount.lvb_gen().unwrap_or(0),
                    });
                }
                self.after_control_mount();
            }
            MountStep::Failed { error, reason } => {
                if reason == crate::mount::MountFailure::Disabled {
                    self.log(LogEvent::MountDisabled);
                }
                self.log(LogEvent::MountControlError(error));
                self.fail(MountFailure::ControlMount { error, reason });
            }
        }
    }

    /// `init_journal`: find our journal, lock it, then replay it (or, first mounter,
    /// every journal).
    fn after_control_mount(&mut self) {
        let Some(jid) = self.jid().filter(|&j| j < self.journals) else {
            let jid = self.jid().unwrap_or(u32::MAX);
            self.log(LogEvent::NoJournal { jid });
            return self.fail(MountFailure::NoJournal { jid });
        };
        self.phase = Phase::OwnJournal;
        self.own = OwnLock::Locking;
        self.journal_lock(jid, false);
    }

    fn fail(&mut self, why: MountFailure) {
        self.push(Action::MountFailed(why));
        self.phase = Phase::Failed;
        // The release ends everything in flight and every timer.
        self.sleep_until = None;
        self.work_at = None;
        self.first_retry_at = None;
        self.rec.release();
        self.push(Action::Release(Release::Normal));
    }

    fn start_first_done(&mut self) {
        self.phase = Phase::FirstDone;
        self.first_done = FirstDone::new();
        match self.first_done.start(&mut self.rec) {
            Ok(step) => self.first_done_step(step),
            Err(e) => self.internal(e),
        }
    }

    fn first_done_step(&mut self, step: FirstDoneStep) {
        match step {
            FirstDoneStep::Lock(call) => self.issue_sync(&call, SyncUser::FirstDone),
            FirstDoneStep::Unlock(lock) => self.issue_unlock(lock, SyncUser::FirstDone),
            FirstDoneStep::WaitDlmRecovery => {
                self.log(LogEvent::FirstDoneWait {
                    generation: self.rec.recover_start(),
                });
                self.first_done = FirstDone::new();
                self.first_done_waiting = true;
            }
            FirstDoneStep::Done { result } => {
                if result != 0 {
                    self.log(LogEvent::FirstDoneError(result));
                }
                self.mounted();
            }
        }
    }

    fn mounted(&mut self) {
        self.phase = Phase::Mounted;
        let jid = self.jid().unwrap_or(0);
        self.push(Action::Mounted {
            jid,
            first: self.first,
        });
        if self.stop_pending {
            self.begin_unmount();
        }
    }

    // ---- journals (gfs2 init_journal, gfs2_recover_func) ---------------------------------

    fn journal_lock(&mut self, jid: u32, try_: bool) {
        let flags = if try_ {
            LmFlags::TRY | LmFlags::NOEXP | LmFlags::GL_NOCACHE
        } else {
            LmFlags::NOEXP | LmFlags::GL_NOCACHE
        };
        let name = LockName::new(LM_TYPE_JOURNAL, u64::from(jid));
        let req = lock_request(
            &FlagPolicy::REFERENCE,
            &name,
            NameStyle::Reference,
            LmState::Exclusive.raw(),
            flags,
            &LockContext::default(),
        );
        let (mode, dflags) = match req {
            Ok(r) => {
                self.stats.on_request(&r, self.now.as_nanos() as i64, None);
                (r.mode, r.flags)
            }
            // Unreachable: EX with these flags always maps.
            Err(_) => (DlmMode::Ex, DlmLkf::NOQUEUE | DlmLkf::EXPEDITE),
        };
        let lock = LockRef::Journal(jid);
        self.push(Action::Dlm(DlmRequest {
            lock,
            op: DlmOp::Lock {
                mode,
                flags: dflags,
            },
        }));
    }

    fn journal_unlock(&mut self, jid: u32) {
        let lock = LockRef::Journal(jid);
        self.push(Action::Dlm(DlmRequest {
            lock,
            op: DlmOp::Unlock,
        }));
    }

    /// `gdlm_ast` for a journal lock: granted EX?
    fn journal_granted(&mut self, status: i32, sb_flags: u8) -> Result<bool, EngineError> {
        let out = gdlm_ast(
            AstStyle::Reference,
            &AstInput {
                gl_state: LmState::Unlocked,
                gl_req: LmState::Exclusive,
                sb_status: status,
                sb_flags,
                has_lvb: false,
                glf_initial: false,
                lkid: 1,
                dead: false,
            },
        )
        .map_err(EngineError::Ast)?;
        self.stats.on_reply(self.now.as_nanos() as i64, false, None);
        Ok(matches!(out, AstOutcome::Complete { ret, .. } if ret & 3 == LmState::Exclusive.raw()))
    }

    fn journal_done(&mut self, jid: u32, status: i32, sb_flags: u8) -> Result<(), EngineError> {
        if self.own == OwnLock::Locking && self.jid() == Some(jid) {
            let granted = self.journal_granted(status, sb_flags)?;
            if !granted {
                self.own = OwnLock::None;
                self.log(LogEvent::OwnJournalError(status));
                self.fail(MountFailure::OwnJournalLock(status));
                return Ok(());
            }
            self.own = OwnLock::Held;
            if self.first {
                self.phase = Phase::FirstRecovery;
                self.first_next = 0;
            } else {
                self.phase = Phase::OwnReplay;
                self.log(LogEvent::JournalLockedForUse { jid });
                self.running = Some(Running {
                    jid,
                    stage: Stage::Replaying,
                    reason: ReplayReason::Own,
                    own: true,
                });
                self.push(Action::Replay {
                    jid,
                    reason: ReplayReason::Own,
                });
            }
            return Ok(());
        }
        let Some(r) = self.running.filter(|r| r.jid == jid && !r.own) else {
            return Err(EngineError::Unexpected {
                event: EventKind::DlmDone,
                phase: self.phase,
            });
        };
        match r.stage {
            Stage::Unlocking => self.running = None,
            Stage::Locking => {
                if self.journal_granted(status, sb_flags)? {
                    self.running = Some(Running {
                        stage: Stage::Replaying,
                        ..r
                    });
                    self.push(Action::Replay {
                        jid,
                        reason: r.reason,
                    });
                } else {
                    // GLR_TRYFAILED: another node holds the journal. error = 0: the
                    // first mounter goes on to the next journal, as init_journal does.
                    self.running = None;
                    self.log(LogEvent::JournalBusy { jid });
                    self.report_result(jid, LM_RD_GAVEUP);
                    if r.reason == ReplayReason::FirstMount {
                        self.first_next = self.first_next.saturating_add(1);
                    }
                }
            }
            Stage::Replaying => {
                return Err(EngineError::Unexpected {
                    event: EventKind::DlmDone,
                    phase: self.phase,
                })
            }
        }
        Ok(())
    }

    fn replay_done(&mut self, jid: u32, outcome: ReplayOutcome) {
        let Some(r) = self.running else { return };
        let ok = outcome == ReplayOutcome::Success;
        self.log(if ok {
            LogEvent::JournalDone { jid }
        } else {
            LogEvent::JournalFailed { jid }
        });
        if r.own {
            // Our own journal ("already locked for use"); its gfs2_recovery_done is
            // ignored (L1151).
            self.running = None;
            match (self.first, outcome) {
                (false, ReplayOutcome::Success) => self.mounted(),
                (false, ReplayOutcome::Failed(e)) => {
                    self.log(LogEvent::OwnJournalError(e));
                    self.fail(MountFailure::OwnJournal(e));
                }
                (true, ReplayOutcome::Success) => {
                    self.first_next = self.first_next.saturating_add(1)
                }
                (true, ReplayOutcome::Failed(e)) => self.first_journal_failed(jid, e),
            }
            return;
        }
        // gfs2_recover_func: report the result, then drop the journal lock.
        self.report_result(jid, if ok { LM_RD_SUCCESS } else { LM_RD_GAVEUP });
        self.running = Some(Running {
            stage: Stage::Unlocking,
            ..r
        });
        self.journal_unlock(jid);
        if r.reason == ReplayReason::FirstMount {
            match outcome {
                ReplayOutcome::Success => self.first_next = self.first_next.saturating_add(1),
                ReplayOutcome::Failed(e) => self.first_journal_failed(jid, e),
            }
        }
    }

    fn first_journal_failed(&mut self, jid: u32, error: i32) {
        match self.cfg.first_mount_failure {
            FirstMountFailure::FailMount => {
                self.log(LogEvent::FirstMountJournalError { jid, error });
                self.fail(MountFailure::FirstMountJournal { jid, error });
            }
            FirstMountFailure::RetryAfterHz => {
                self.first_retry_at = Some(self.now + HZ);
            }
        }
    }

    fn report_result(&mut self, jid: u32, result: u32) {
        match self.rec.recovery_result(jid, result) {
            Ok(ResultOutcome::Recorded(w)) => {
                self.log(LogEvent::RecoveryResult {
                    jid,
                    gaveup: result == LM_RD_GAVEUP,
                });
                self.queue_work(w);
            }
            Ok(ResultOutcome::Ignored(_)) => {}
            Err(RecoveryError::ShortSize { jid, size }) => {
                self.log(LogEvent::ResultShort { jid, size })
            }
            // A jid beyond the capacity never reaches here: jids come from the LVB scan
            // below recover_size ≤ N.
            Err(_) => {}
        }
    }

    /// When the recovery work can run: one journal at a time, from the queue once
    /// mounted, or the first mounter's next journal.
    #[inline(always)]
    fn recovery_due(&self) -> Option<Instant> {
        if self.running.is_some() {
            return None;
        }
        match self.phase {
            Phase::Mounted if !self.queue.is_empty() => Some(self.now),
            Phase::FirstRecovery => Some(self.first_retry_at.unwrap_or(self.now)),
            _ => None,
        }
    }

    fn recovery_work(&mut self) {
        match self.phase {
            Phase::FirstRecovery => {
                let x = self.first_next;
                if x >= self.journals {
                    return self.start_first_done();
                }
                if Some(x) == self.jid() {
                    // Our own journal: already locked for use.
                    self.log(LogEvent::JournalLockedForUse { jid: x });
                    self.running = Some(Running {
                        jid: x,
                        stage: Stage::Replaying,
                        reason: ReplayReason::FirstMount,
                        own: true,
                    });
                    self.push(Action::Replay {
                        jid: x,
                        reason: ReplayReason::FirstMount,
                    });
                    return;
                }
                self.start_recovery(x, ReplayReason::FirstMount);
            }
            Phase::Mounted => {
                let Some(j) = self.queue.iter().next() else {
                    return;
                };
                self.queue = without(self.queue, j);
                if Some(j) == self.jid() {
                    // Our own journal is live and held: nothing to replay.
                    return self.report_result(j, LM_RD_SUCCESS);
                }
                let generation = self.rec.recover_start();
                self.start_recovery(j, ReplayReason::Recovery { generation });
            }
            _ => {}
        }
    }

    fn start_recovery(&mut self, jid: u32, reason: ReplayReason) {
        self.log(LogEvent::JournalTrying { jid });
        self.running = Some(Running {
            jid,
            stage: Stage::Locking,
            reason,
            own: false,
        });
        self.journal_lock(jid, true);
    }

    // ---- release -------------------------------------------------------------------------

    fn maybe_release(&mut self) {
        if self.phase == Phase::Unmounting
            && self.sync.is_none()
            && self.running.is_none()
            && self.work_at.is_none()
        {
            let recover = self.unclean
                && self.cfg.profile.release_option(false) == crate::consts::DLM_RELEASE_RECOVER;
            self.phase = if self.unclean {
                Phase::Withdrawn
            } else {
                Phase::Down
            };
            self.rec.release();
            self.push(Action::Release(if recover {
                Release::Recover
            } else {
                Release::Normal
            }));
        }
    }

    // ---- plumbing ------------------------------------------------------------------------

    /// Queue an action (inline: a compare and a copy into the ring).
    #[inline(always)]
    fn push(&mut self, a: Action) {
        if let Err(a) = self.out.push(a) {
            self.push_full(a);
        }
    }

    /// The queue is full, which happens only when the caller never drains: keep the
    /// protocol actions, which are bounded by the locks in flight; the oldest log line
    /// makes room.
    #[cold]
    #[inline(never)]
    fn push_full(&mut self, a: Action) {
        if self.out.remove_a_log() {
            self.out.dropped_logs = self.out.dropped_logs.saturating_add(1);
        }
        if self.out.push(a).is_err() {
            self.out.dropped_logs = self.out.dropped_logs.saturating_add(1);
        }
    }

    /// Queue a log line: inline, so that a debug line the configuration leaves out
    /// costs one test of a flag where it would be logged.
    #[inline(always)]
    fn log(&mut self, l: LogEvent) {
        if l.level() == Level::Debug && !self.cfg.debug_logs {
            return;
        }
        if self.out.len() >= LOG_ROOM {
            self.out.dropped_logs = self.out.dropped_logs.saturating_add(1);
            return;
        }
        self.push(Action::Log(l));
    }

    fn internal(&mut self, _e: MountError) {
        // The machines only refuse input that does not fit their step, and the engine
        // routes completions by the step it issued: unreachable. Fail safe: leave.
        self.fail(MountFailure::ControlMount {
            error: -EINVAL,
            reason: crate::mount::MountFailure::NotFresh,
        });
    }
}

/// `s` without `j`.
fn without(s: JidSet, j: u32) -> JidSet {
    let mut out = JidSet::new();
    for x in s.iter().filter(|&x| x != j) {
        let _ = out.insert(x);
    }
    out
}

// The engine's tests use only its public API: core/tests/engine.rs.
