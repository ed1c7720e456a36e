//! Mounting and unmounting (reference: `control_mount`, `control_first_done`,
//! `gdlm_mount`, `gdlm_first_done`, `gdlm_unmount`, `dlm_tokens`).
//!
//! [`ControlMount`] and [`FirstDone`] are sans-IO machines: each step returns the
//! next thing for the caller to do (a synchronous lock call, an unlock, a sleep, a
//! wait) and takes its result. They read and write the shared [`Recovery`] state only
//! inside their calls, as the kernel does under `ls_recover_spin`.

use core::fmt;

use heapless::String;

use crate::consts::*;
use crate::flags::DlmLkf;
use crate::lvb::{control_lvb_read, control_lvb_write, ControlLvb};
use crate::mode::DlmMode;
use crate::recovery::{LockId, RecoverFlags, Recovery, SyncLock};

/// The pause before each control_lock EX attempt (`msleep_interruptible(500)`).
pub const MOUNT_RETRY_DELAY_MS: u32 = 500;
/// Linux 7.2: the extra pause of a spectator at wait1 ("Recovery is required. Waiting
/// for a non-spectator to mount.", `msleep_interruptible(1000)`, 7.2:L985-989).
pub const SPECTATOR_WAIT_MS: u32 = 1000;

/// Why a mount attempt goes round again (`goto restart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryReason {
    /// control_lock EX|NOQUEUE got -EAGAIN: another node holds it.
    ControlBusy,
    /// The LVB has jid bits set: "control_mount wait for journal recovery".
    WaitJournals,
    /// `lvb_gen < mount_gen`: mounted nodes have not yet put our generation in the LVB.
    Wait1,
    /// `lvb_gen != start_gen`: the LVB is not at the latest generation yet.
    Wait2,
    /// `block_gen == start_gen`: a DLM recovery is in progress.
    Wait3,
}

/// What the caller does next for [`ControlMount`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MountStep {
    /// Make this lock call and pass its status to [`ControlMount::on_lock_result`].
    Lock(SyncLock),
    /// Unlock this lock and call [`ControlMount::on_unlock_result`].
    Unlock(LockId),
    /// Sleep (interruptibly) for this long, then call [`ControlMount::on_sleep_done`].
    Sleep {
        /// Milliseconds.
        ms: u32,
    },
    /// Mounted. `first`: we are the first mounter and hold both locks in EX; recover
    /// every journal, then run [`FirstDone`].
    Mounted {
        /// First mounter.
        first: bool,
    },
    /// The mount failed with this errno (negative); both locks are released.
    Failed {
        /// The error (`-EINVAL` for a disabled LVB, `-EINTR`, or a DLM error).
        error: i32,
        /// Why, as the core decided it (not to be guessed from `error`).
        reason: MountFailure,
    },
}

/// Why [`ControlMount`] failed ([`MountStep::Failed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MountFailure {
    /// [`ControlMount::start`] on a machine or recovery state that is not fresh
    /// (`-EINVAL`, no lock taken).
    NotFresh,
    /// A lock call failed with the error (its status, except `-EAGAIN` where that
    /// means "retry").
    Lock {
        /// Which lock.
        lock: LockId,
        /// The mode asked for.
        mode: DlmMode,
    },
    /// The control LVB generation is `0xFFFFFFFF` ("control_mount control_lock
    /// disabled", `-EINVAL`; L862-867, 7.2:L943-948), read after both locks were taken.
    Disabled,
    /// A signal was pending at a restart (`-EINTR`, L785-788, 7.2:L863-867).
    Interrupted,
}

/// A call that does not fit the machine's current step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MountError {
    /// The machine is not waiting for this kind of result.
    UnexpectedInput,
    /// A control_lock grant without the LVB the machine must read.
    MissingLvb,
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountError::UnexpectedInput => {
                f.write_str("input does not match the pending mount step")
            }
            MountError::MissingLvb => f.write_str("control_lock result without its LVB"),
        }
    }
}

impl core::error::Error for MountError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Phase {
    Idle,
    ControlNlNew,
    MountedNlNew,
    RestartMountedNl,
    Sleeping,
    SpectatorWait,
    ControlEx,
    MountedEx,
    MountedPr,
    ControlNl { lvb_gen: u32 },
    FailMountedUnlock,
    FailControlUnlock,
    // The first-pass failure of mounted NL unlocks only control_lock.
    EarlyControlUnlock,
    Finished,
}

/// `control_mount` as a machine.
///
/// Its `Hash` writes whether a pass was begun rather than how many: the count is read
/// only as `retries++ && signal_pending(current)` (L784), so two machines that differ
/// only in it behave alike, and a model checker hashing states (gdlm-sim's canonical
/// state) must not tell a mount's 300th restart from its second. `Eq` compares the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ControlMount {
    phase: Phase,
    mounted_mode: DlmMode,
    retries: u32,
    signal: bool,
    spectator: bool,
    error: i32,
    reason: MountFailure,
    last_retry: Option<RetryReason>,
    lvb_gen: Option<u32>,
    ex_lvb: ControlLvb,
}

impl core::hash::Hash for ControlMount {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        let ControlMount {
            phase,
            mounted_mode,
            retries,
            signal,
            spectator,
            error,
            reason,
            last_retry,
            lvb_gen,
            ex_lvb,
        } = self;
        phase.hash(h);
        mounted_mode.hash(h);
        (*retries > 0).hash(h);
        signal.hash(h);
        spectator.hash(h);
        error.hash(h);
        reason.hash(h);
        last_retry.hash(h);
        lvb_gen.hash(h);
        ex_lvb.hash(h);
    }
}

impl Default for ControlMount {
    fn default() -> Self {
        Self::new()
    }
}

const fn call(lock: LockId, mode: DlmMode, flags: DlmLkf) -> SyncLock {
    SyncLock {
        lock,
        mode,
        flags,
        lvb: None,
    }
}

impl ControlMount {
    /// A machine that has not started.
    pub const fn new() -> Self {
        ControlMount {
            phase: Phase::Idle,
            mounted_mode: DlmMode::Nl,
            retries: 0,
            signal: false,
            spectator: false,
            error: 0,
            reason: MountFailure::NotFresh,
            last_retry: None,
            lvb_gen: None,
            ex_lvb: ControlLvb::zeroed(),
        }
    }

    /// A machine for a spectator mount as Linux 7.2 runs it (7.2:L903-908, L985-989):
    /// after control_lock EX it takes neither mounted EX nor PR (so it is never the
    /// first mounter), and at wait1 it sleeps [`SPECTATOR_WAIT_MS`] before the
    /// restart. The reference has no spectator path ([`crate::Profile::control_mount`]).
    pub const fn new_spectator() -> Self {
        let mut m = Self::new();
        m.spectator = true;
        m
    }

    /// A spectator mount ([`ControlMount::new_spectator`]).
    pub fn is_spectator(&self) -> bool {
        self.spectator
    }

    /// Why the last pass restarted, if it did.
    pub fn last_retry(&self) -> Option<RetryReason> {
        self.last_retry
    }
    /// The generation read from the control LVB in the last pass.
    pub fn lvb_gen(&self) -> Option<u32> {
        self.lvb_gen
    }
    /// The mode mounted_lock is held in.
    pub fn mounted_mode(&self) -> DlmMode {
        self.mounted_mode
    }
    /// Passes begun so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// A signal is pending (`signal_pending(current)`): the next restart fails the
    /// mount with `-EINTR` (never the first pass).
    pub fn interrupt(&mut self) {
        self.signal = true;
    }

    /// Begin: block locks and take control_lock NL (with VALBLK) as a new lock.
    ///
    /// `rec` must be the fresh state of this mount ([`Recovery::new`], as `gdlm_mount`
    /// zeroes `ls_recover_flags`), after the lockspace's first recover_done, and the
    /// machine new: otherwise the mount fails at once with `-EINVAL`, no lock taken.
    pub fn start<const N: usize>(&mut self, rec: &mut Recovery<N>) -> MountStep {
        let used =
            RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT | RecoverFlags::FIRST_MOUNT_DONE;
        if self.phase != Phase::Idle || rec.flags().intersects(used) {
            // Not a fresh mount (the kernel zeroes ls_recover_flags in gdlm_mount): refuse
            // before taking any lock, rather than mix two mounts' state.
            self.phase = Phase::Finished;
            return MountStep::Failed {
                error: -EINVAL,
                reason: MountFailure::NotFresh,
            };
        }
        *rec.flags_mut() |= RecoverFlags::BLOCK_LOCKS;
        self.phase = Phase::ControlNlNew;
        MountStep::Lock(call(LockId::Control, DlmMode::Nl, DlmLkf::VALBLK))
    }

    fn fail(&mut self, error: i32, reason: MountFailure) -> MountStep {
        self.error = error;
        self.reason = reason;
        self.phase = Phase::FailMountedUnlock;
        MountStep::Unlock(LockId::Mounted)
    }

    fn restart(&mut self, reason: Option<RetryReason>) -> MountStep {
        if reason.is_some() {
            self.last_retry = reason;
        }
        let tried = self.retries;
        self.retries = self.retries.saturating_add(1);
        if tried > 0 && self.signal {
            return self.fail(-EINTR, MountFailure::Interrupted);
        }
        if self.mounted_mode != DlmMode::Nl {
            self.phase = Phase::RestartMountedNl;
            return MountStep::Lock(call(LockId::Mounted, DlmMode::Nl, DlmLkf::CONVERT));
        }
        self.phase = Phase::Sleeping;
        MountStep::Sleep {
            ms: MOUNT_RETRY_DELAY_MS,
        }
    }

    /// The sleep ended (or was cut short by a signal): try control_lock EX (or, after
    /// a spectator's wait1 pause, restart).
    pub fn on_sleep_done(&mut self) -> Result<MountStep, MountError> {
        if self.phase == Phase::SpectatorWait {
            return Ok(self.restart(None));
        }
        if self.phase != Phase::Sleeping {
            return Err(MountError::UnexpectedInput);
        }
        self.phase = Phase::ControlEx;
        Ok(MountStep::Lock(call(
            LockId::Control,
            DlmMode::Ex,
            DlmLkf::CONVERT | DlmLkf::NOQUEUE | DlmLkf::VALBLK,
        )))
    }

    /// The result of the pending lock call: `status` 0 or a negative errno; `lvb`
    /// is control_lock's value block after the call (required after control EX).
    pub fn on_lock_result<const N: usize>(
        &mut self,
        rec: &mut Recovery<N>,
        status: i32,
        lvb: Option<&ControlLvb>,
    ) -> Result<MountStep, MountError> {
        let step = match self.phase {
            Phase::ControlNlNew => {
                if status != 0 {
                    self.phase = Phase::Finished;
                    MountStep::Failed {
                        error: status,
                        reason: MountFailure::Lock {
                            lock: LockId::Control,
                            mode: DlmMode::Nl,
                        },
                    }
                } else {
                    self.phase = Phase::MountedNlNew;
                    MountStep::Lock(call(LockId::Mounted, DlmMode::Nl, DlmLkf::empty()))
                }
            }
            Phase::MountedNlNew => {
                if status != 0 {
                    self.error = status;
                    self.reason = MountFailure::Lock {
                        lock: LockId::Mounted,
                        mode: DlmMode::Nl,
                    };
                    self.phase = Phase::EarlyControlUnlock;
                    MountStep::Unlock(LockId::Control)
                } else {
                    self.mounted_mode = DlmMode::Nl;
                    self.restart(None)
                }
            }
            Phase::RestartMountedNl => {
                if status != 0 {
                    self.fail(status, lock_failure(LockId::Mounted, DlmMode::Nl))
                } else {
                    self.mounted_mode = DlmMode::Nl;
                    self.phase = Phase::Sleeping;
                    MountStep::Sleep {
                        ms: MOUNT_RETRY_DELAY_MS,
                    }
                }
            }
            Phase::ControlEx => {
                if status == -EAGAIN {
                    self.restart(Some(RetryReason::ControlBusy))
                } else if status != 0 {
                    self.fail(status, lock_failure(LockId::Control, DlmMode::Ex))
                } else {
                    // Keep it now; it is read into ls_lvb_bits at locks_done.
                    self.ex_lvb = *lvb.ok_or(MountError::MissingLvb)?;
                    self.lvb_gen = None;
                    if self.spectator {
                        // 7.2:L907-908: "goto locks_done", mounted stays NL.
                        return Ok(self.locks_done(rec));
                    }
                    self.phase = Phase::MountedEx;
                    MountStep::Lock(call(
                        LockId::Mounted,
                        DlmMode::Ex,
                        DlmLkf::CONVERT | DlmLkf::NOQUEUE,
                    ))
                }
            }
            Phase::MountedEx => {
                if status == 0 {
                    self.mounted_mode = DlmMode::Ex;
                    self.locks_done(rec)
                } else if status != -EAGAIN {
                    self.fail(status, lock_failure(LockId::Mounted, DlmMode::Ex))
                } else {
                    self.phase = Phase::MountedPr;
                    MountStep::Lock(call(
                        LockId::Mounted,
                        DlmMode::Pr,
                        DlmLkf::CONVERT | DlmLkf::NOQUEUE,
                    ))
                }
            }
            Phase::MountedPr => {
                if status == 0 {
                    self.mounted_mode = DlmMode::Pr;
                    self.locks_done(rec)
                } else {
                    // "not even -EAGAIN should happen here"
                    self.fail(status, lock_failure(LockId::Mounted, DlmMode::Pr))
                }
            }
            Phase::ControlNl { lvb_gen } => {
                if status != 0 {
                    self.fail(status, lock_failure(LockId::Control, DlmMode::Nl))
                } else {
                    self.after_control_nl(rec, lvb_gen)
                }
            }
            _ => return Err(MountError::UnexpectedInput),
        };
        Ok(step)
    }

    /// `locks_done:` — read the LVB control_lock EX returned.
    fn locks_done<const N: usize>(&mut self, rec: &mut Recovery<N>) -> MountStep {
        let (lvb_gen, bits) = control_lvb_read(&self.ex_lvb);
        rec.set_lvb_bits(bits);
        self.lvb_gen = Some(lvb_gen);
        if lvb_gen == crate::lvb::DISABLED_GENERATION {
            return self.fail(-EINVAL, MountFailure::Disabled);
        }
        if self.mounted_mode == DlmMode::Ex {
            // First mounter: keep both locks EX while recovering every journal.
            let f = rec.flags_mut();
            f.remove(RecoverFlags::BLOCK_LOCKS);
            *f |= RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT;
            self.phase = Phase::Finished;
            return MountStep::Mounted { first: true };
        }
        self.phase = Phase::ControlNl { lvb_gen };
        MountStep::Lock(call(LockId::Control, DlmMode::Nl, DlmLkf::CONVERT))
    }

    fn after_control_nl<const N: usize>(
        &mut self,
        rec: &mut Recovery<N>,
        lvb_gen: u32,
    ) -> MountStep {
        if !rec.lvb_bits().all_jid_bits_clear() {
            return self.restart(Some(RetryReason::WaitJournals));
        }
        let block_gen = rec.recover_block();
        let start_gen = rec.recover_start();
        let mount_gen = rec.recover_mount();
        if lvb_gen < mount_gen {
            if self.spectator {
                self.last_retry = Some(RetryReason::Wait1);
                self.phase = Phase::SpectatorWait;
                return MountStep::Sleep {
                    ms: SPECTATOR_WAIT_MS,
                };
            }
            return self.restart(Some(RetryReason::Wait1));
        }
        if lvb_gen != start_gen {
            return self.restart(Some(RetryReason::Wait2));
        }
        if block_gen == start_gen {
            return self.restart(Some(RetryReason::Wait3));
        }
        let f = rec.flags_mut();
        f.remove(RecoverFlags::BLOCK_LOCKS);
        *f |= RecoverFlags::MOUNT_DONE;
        rec.zero_arrays();
        self.phase = Phase::Finished;
        MountStep::Mounted { first: false }
    }

    /// The result of the pending unlock (its status is only logged by the kernel).
    pub fn on_unlock_result(&mut self, _status: i32) -> Result<MountStep, MountError> {
        match self.phase {
            Phase::FailMountedUnlock => {
                self.phase = Phase::FailControlUnlock;
                Ok(MountStep::Unlock(LockId::Control))
            }
            Phase::FailControlUnlock | Phase::EarlyControlUnlock => {
                self.phase = Phase::Finished;
                Ok(MountStep::Failed {
                    error: self.error,
                    reason: self.reason,
                })
            }
            _ => Err(MountError::UnexpectedInput),
        }
    }
}

const fn lock_failure(lock: LockId, mode: DlmMode) -> MountFailure {
    MountFailure::Lock { lock, mode }
}

/// What the caller does next for [`FirstDone`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FirstDoneStep {
    /// Make this lock call and pass its status to [`FirstDone::on_lock_result`].
    Lock(SyncLock),
    /// Sanity check failed: unlock control_lock; then the result is −1.
    Unlock(LockId),
    /// A DLM recovery cycle is in progress: wait until `DFL_DLM_RECOVERY` clears
    /// (recover_done), then call [`FirstDone::start`] again.
    WaitDlmRecovery,
    /// Finished with this result (0, −1 on the sanity failure, or control NL's error).
    Done {
        /// The return value of `control_first_done`.
        result: i32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum FirstPhase {
    Idle,
    Unlocking,
    MountedPr,
    ControlNl,
    Finished,
}

/// `control_first_done` as a machine: the first mounter recovered every journal;
/// demote mounted_lock to PR and control_lock to NL, writing a clean LVB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FirstDone {
    phase: FirstPhase,
    mounted_pr_error: i32,
    lvb: ControlLvb,
}

impl Default for FirstDone {
    fn default() -> Self {
        Self::new()
    }
}

impl FirstDone {
    /// A machine that has not started.
    pub const fn new() -> Self {
        FirstDone {
            phase: FirstPhase::Idle,
            mounted_pr_error: 0,
            lvb: ControlLvb::zeroed(),
        }
    }

    /// mounted_lock PR's error, which the kernel only logs.
    pub fn mounted_pr_error(&self) -> i32 {
        self.mounted_pr_error
    }

    /// The LVB written with control_lock NL.
    pub fn lvb(&self) -> &ControlLvb {
        &self.lvb
    }

    /// Begin (or restart after [`FirstDoneStep::WaitDlmRecovery`]).
    pub fn start<const N: usize>(
        &mut self,
        rec: &mut Recovery<N>,
    ) -> Result<FirstDoneStep, MountError> {
        if !matches!(self.phase, FirstPhase::Idle) {
            return Err(MountError::UnexpectedInput);
        }
        let f = rec.flags();
        if f.contains(RecoverFlags::BLOCK_LOCKS)
            || !f.contains(RecoverFlags::MOUNT_DONE)
            || !f.contains(RecoverFlags::FIRST_MOUNT)
        {
            self.phase = FirstPhase::Unlocking;
            return Ok(FirstDoneStep::Unlock(LockId::Control));
        }
        let start_gen = rec.recover_start();
        if start_gen == rec.recover_block() {
            // Recover_slot callbacks of this cycle are ignored: failed nodes had not
            // finished mounting, so their journals need no recovery.
            return Ok(FirstDoneStep::WaitDlmRecovery);
        }
        let flags = rec.flags_mut();
        flags.remove(RecoverFlags::FIRST_MOUNT);
        *flags |= RecoverFlags::FIRST_MOUNT_DONE;
        rec.zero_arrays();
        rec.set_lvb_bits(ControlLvb::zeroed());
        self.lvb = control_lvb_write(start_gen, &ControlLvb::zeroed());
        self.phase = FirstPhase::MountedPr;
        Ok(FirstDoneStep::Lock(call(
            LockId::Mounted,
            DlmMode::Pr,
            DlmLkf::CONVERT,
        )))
    }

    /// The status of the pending lock call.
    pub fn on_lock_result(&mut self, status: i32) -> Result<FirstDoneStep, MountError> {
        match self.phase {
            FirstPhase::MountedPr => {
                self.mounted_pr_error = status;
                self.phase = FirstPhase::ControlNl;
                Ok(FirstDoneStep::Lock(SyncLock {
                    lock: LockId::Control,
                    mode: DlmMode::Nl,
                    flags: DlmLkf::CONVERT | DlmLkf::VALBLK,
                    lvb: Some(self.lvb),
                }))
            }
            FirstPhase::ControlNl => {
                self.phase = FirstPhase::Finished;
                Ok(FirstDoneStep::Done { result: status })
            }
            _ => Err(MountError::UnexpectedInput),
        }
    }

    /// The unlock after a sanity failure finished.
    pub fn on_unlock_result(&mut self, _status: i32) -> Result<FirstDoneStep, MountError> {
        if self.phase != FirstPhase::Unlocking {
            return Err(MountError::UnexpectedInput);
        }
        self.phase = FirstPhase::Finished;
        Ok(FirstDoneStep::Done { result: -1 })
    }
}

/// A lock table or host data string `gdlm_mount` cannot use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TableError {
    /// No `:` in the lock table ("no fsname found").
    NoFsname,
    /// The cluster or fs name is empty, or too long for its buffer.
    BadLength,
    /// A host data option the lock module does not know, or a bad value
    /// ("unknown hostdata").
    UnknownHostdata,
    /// `jid=` given while the DLM provides recovery ops ("dlm lockspace ops disallow
    /// jid preset").
    JidPreset,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TableError::NoFsname => "no fsname found",
            TableError::BadLength => "cluster or fs name empty or too long",
            TableError::UnknownHostdata => "unknown hostdata",
            TableError::JidPreset => "dlm lockspace ops disallow jid preset",
        })
    }
}

impl core::error::Error for TableError {}

/// The lock table `cluster:fsname` (`gdlm_mount`): the cluster name and the
/// lockspace name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockTable {
    /// Cluster name (checked by the DLM against its own).
    pub cluster: String<GFS2_LOCKNAME_LEN>,
    /// File system name: the lockspace name.
    pub fsname: String<DLM_LOCKSPACE_LEN>,
}

impl LockTable {
    /// Split at the first `:` (`strchr(table, ':')`). The cluster part may be empty
    /// only if the kernel would pass an empty cluster name; we refuse an empty fsname.
    pub fn parse(table: &str) -> Result<LockTable, TableError> {
        let (cluster, fsname) = table.split_once(':').ok_or(TableError::NoFsname)?;
        if fsname.is_empty() || cluster.len() >= GFS2_LOCKNAME_LEN {
            return Err(TableError::BadLength);
        }
        Ok(LockTable {
            cluster: String::try_from(cluster).map_err(|_| TableError::BadLength)?,
            fsname: String::try_from(fsname).map_err(|_| TableError::BadLength)?,
        })
    }
}

impl LockTable {
    /// Linux 7.2's split (7.2:L1320-1330): as [`LockTable::parse`], but an empty
    /// fsname is passed on, as 7.2 passes `""` to `dlm_new_lockspace`, which refuses it
    /// (fs/dlm/lockspace.c L370; the caller gets that error from the DLM).
    pub fn parse_linux72(table: &str) -> Result<LockTable, TableError> {
        let (cluster, fsname) = table.split_once(':').ok_or(TableError::NoFsname)?;
        if cluster.len() >= GFS2_LOCKNAME_LEN {
            return Err(TableError::BadLength);
        }
        Ok(LockTable {
            cluster: String::try_from(cluster).map_err(|_| TableError::BadLength)?,
            fsname: String::try_from(fsname).map_err(|_| TableError::BadLength)?,
        })
    }
}

/// Host data options (`dlm_tokens`: `jid=%d`, `id=%d`, `first=%d`, `nodir=%d`,
/// separated by `:`), parsed as `gfs2_lm_mount` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MountOptions {
    /// `jid=N`: a journal id preset (only the first one counts).
    pub jid: Option<u32>,
    /// `first=0|1`.
    pub first: bool,
    /// `nodir=0|1`: create the lockspace with `DLM_LSFL_NODIR`.
    pub nodir: bool,
}

/// `match_int` of the kernel's `%d`: base 0 (`0x` hex, leading `0` octal), an
/// optional `-`, all of the text, within `int`.
fn match_int(s: &str) -> Option<i32> {
    // simple_strtol takes a '-' but no '+'.
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if neg { -v } else { v }).ok()
}

impl MountOptions {
    /// Parse `ar_hostdata`. Empty fields are skipped; `id=` is accepted and ignored
    /// (obsolete); anything else is [`TableError::UnknownHostdata`].
    pub fn parse(hostdata: &str) -> Result<MountOptions, TableError> {
        let mut o = MountOptions::default();
        for field in hostdata.split(':').filter(|f| !f.is_empty()) {
            let (key, val) = field.split_once('=').ok_or(TableError::UnknownHostdata)?;
            let v = match_int(val).ok_or(TableError::UnknownHostdata)?;
            match key {
                "jid" => {
                    let jid = u32::try_from(v).map_err(|_| TableError::UnknownHostdata)?;
                    // test_and_clear_bit(SDF_NOJOURNALID): only the first jid= counts.
                    o.jid.get_or_insert(jid);
                }
                "id" => {}
                "first" | "nodir" => {
                    let b = match v {
                        0 => false,
                        1 => true,
                        _ => return Err(TableError::UnknownHostdata),
                    };
                    if key == "first" {
                        o.first = b;
                    } else {
                        o.nodir = b;
                    }
                }
                _ => return Err(TableError::UnknownHostdata),
            }
        }
        Ok(o)
    }

    /// The `dlm_new_lockspace` flags: `DLM_LSFL_FS | DLM_LSFL_NEWEXCL`, plus
    /// `DLM_LSFL_NODIR` with `nodir=1`.
    pub fn lockspace_flags(&self) -> u32 {
        let mut f = DLM_LSFL_FS | DLM_LSFL_NEWEXCL;
        if self.nodir {
            f |= DLM_LSFL_NODIR;
        }
        f
    }

    /// Linux 7.2's `dlm_new_lockspace` flags: `DLM_LSFL_NEWEXCL` only (7.2:L1337; the
    /// DLM ORs in `DLM_LSFL_FS` itself, fs/dlm/lockspace.c L658); `nodir=` is ignored
    /// as obsolete (ops_fstype.c L1002-1005).
    pub const fn lockspace_flags_linux72(&self) -> u32 {
        DLM_LSFL_NEWEXCL
    }
}

/// How recovery runs once the lockspace exists (`gdlm_mount` after
/// `dlm_new_lockspace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OpsMode {
    /// The DLM calls recover_prep/slot/done: run [`ControlMount`].
    DlmOps,
    /// `ops_result < 0`: old dlm_controld; recovery is coordinated elsewhere
    /// (`DFL_NO_DLM_OPS`), and every lock_dlm recovery entry point is a no-op.
    NoOps,
}

/// `gdlm_mount`'s decision after `dlm_new_lockspace` returned `ops_result`.
pub fn after_new_lockspace<const N: usize>(
    rec: &mut Recovery<N>,
    ops_result: i32,
    opts: &MountOptions,
) -> Result<OpsMode, TableError> {
    if ops_result < 0 {
        rec.set_no_dlm_ops();
        return Ok(OpsMode::NoOps);
    }
    if opts.jid.is_some() {
        return Err(TableError::JidPreset);
    }
    Ok(OpsMode::DlmOps)
}

/// Model checkers: the generations these machines hold
/// ([`crate::engine::Engine::visit_generations`]).
impl ControlMount {
    /// Calls `f` on the LVB generation read with control_lock EX (kept twice: in the
    /// machine and in its `ControlNl` step) and on the generation in that LVB's copy;
    /// `f` may rewrite them.
    pub fn visit_generations<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        if let Some(g) = &mut self.lvb_gen {
            f(g);
        }
        if let Phase::ControlNl { lvb_gen } = &mut self.phase {
            f(lvb_gen);
        }
        self.ex_lvb.visit_generation(f);
    }
}

impl FirstDone {
    /// Calls `f` on the generation of the LVB it writes; `f` may rewrite it.
    pub fn visit_generations<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        self.lvb.visit_generation(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::SizePolicy;

    #[test]
    fn first_mounter_ladder() -> Result<(), MountError> {
        let mut rec = Recovery::<16>::new(SizePolicy::Fit);
        let _ = rec.recover_done(&[1], 1, 1);
        let mut m = ControlMount::new();
        assert_eq!(
            m.start(&mut rec),
            MountStep::Lock(call(LockId::Control, DlmMode::Nl, DlmLkf::VALBLK))
        );
        assert!(rec.locks_blocked());
        m.on_lock_result(&mut rec, 0, None)?;
        assert_eq!(
            m.on_lock_result(&mut rec, 0, None)?,
            MountStep::Sleep { ms: 500 }
        );
        assert!(matches!(
            m.on_sleep_done()?,
            MountStep::Lock(SyncLock {
                mode: DlmMode::Ex,
                ..
            })
        ));
        assert_eq!(
            m.on_lock_result(&mut rec, 0, None),
            Err(MountError::MissingLvb)
        );
        m.on_lock_result(&mut rec, 0, Some(&ControlLvb::zeroed()))?;
        assert_eq!(
            m.on_lock_result(&mut rec, 0, None)?,
            MountStep::Mounted { first: true }
        );
        assert!(rec
            .flags()
            .contains(RecoverFlags::FIRST_MOUNT | RecoverFlags::MOUNT_DONE));
        assert!(!rec.locks_blocked());

        let mut fd = FirstDone::new();
        assert!(matches!(fd.start(&mut rec)?, FirstDoneStep::Lock(_)));
        let FirstDoneStep::Lock(nl) = fd.on_lock_result(0)? else {
            return Err(MountError::UnexpectedInput);
        };
        assert_eq!(nl.lvb.map(|l| l.generation()), Some(1));
        assert_eq!(fd.on_lock_result(0)?, FirstDoneStep::Done { result: 0 });
        assert!(rec.flags().contains(RecoverFlags::FIRST_MOUNT_DONE));
        Ok(())
    }

    #[test]
    fn second_mounter_waits_then_interrupt() -> Result<(), MountError> {
        let mut rec = Recovery::<16>::new(SizePolicy::Fit);
        let _ = rec.recover_done(&[1, 2], 2, 5);
        let mut m = ControlMount::new();
        m.start(&mut rec);
        m.on_lock_result(&mut rec, 0, None)?;
        m.on_lock_result(&mut rec, 0, None)?;
        m.on_sleep_done()?;
        let mut lvb = ControlLvb::zeroed();
        lvb.set_generation(4);
        m.on_lock_result(&mut rec, 0, Some(&lvb))?;
        m.on_lock_result(&mut rec, -EAGAIN, None)?; // mounted EX busy
        m.on_lock_result(&mut rec, 0, None)?; // mounted PR
        m.on_lock_result(&mut rec, 0, None)?; // control NL
        assert_eq!(m.last_retry(), Some(RetryReason::Wait1));
        assert_eq!(m.lvb_gen(), Some(4));
        assert!(rec.locks_blocked());
        m.interrupt();
        // Restart pass: mounted back to NL, sleep, control EX busy, then the signal.
        assert_eq!(m.on_sleep_done(), Err(MountError::UnexpectedInput));
        assert_eq!(
            m.on_lock_result(&mut rec, 0, None)?,
            MountStep::Sleep { ms: 500 }
        );
        m.on_sleep_done()?;
        assert_eq!(
            m.on_lock_result(&mut rec, -EAGAIN, None)?,
            MountStep::Unlock(LockId::Mounted)
        );
        assert_eq!(m.on_unlock_result(0)?, MountStep::Unlock(LockId::Control));
        assert_eq!(
            m.on_unlock_result(0)?,
            MountStep::Failed {
                error: -EINTR,
                reason: MountFailure::Interrupted
            }
        );
        Ok(())
    }

    #[test]
    fn spectator_never_first_and_waits_a_second() -> Result<(), MountError> {
        let mut rec = Recovery::<16>::new(SizePolicy::Fit);
        let _ = rec.recover_done(&[1, 2], 2, 5);
        let mut m = ControlMount::new_spectator();
        m.start(&mut rec);
        m.on_lock_result(&mut rec, 0, None)?;
        m.on_lock_result(&mut rec, 0, None)?;
        m.on_sleep_done()?;
        let mut lvb = ControlLvb::zeroed();
        lvb.set_generation(4); // < mount_gen 5: wait1
                               // control EX granted: straight to control NL, no mounted EX/PR.
        assert_eq!(
            m.on_lock_result(&mut rec, 0, Some(&lvb))?,
            MountStep::Lock(call(LockId::Control, DlmMode::Nl, DlmLkf::CONVERT))
        );
        assert_eq!(m.mounted_mode(), DlmMode::Nl);
        assert_eq!(
            m.on_lock_result(&mut rec, 0, None)?,
            MountStep::Sleep {
                ms: SPECTATOR_WAIT_MS
            }
        );
        assert_eq!(m.last_retry(), Some(RetryReason::Wait1));
        assert_eq!(m.on_sleep_done()?, MountStep::Sleep { ms: 500 });
        // A zeroed LVB (gen 0 < 5) never makes a spectator the first mounter.
        m.on_sleep_done()?;
        assert!(matches!(
            m.on_lock_result(&mut rec, 0, Some(&ControlLvb::zeroed()))?,
            MountStep::Lock(SyncLock {
                lock: LockId::Control,
                mode: DlmMode::Nl,
                ..
            })
        ));
        Ok(())
    }

    #[test]
    fn options_and_table() {
        assert_eq!(
            MountOptions::parse("jid=0x10:first=1::nodir=0:id=3:jid=2"),
            Ok(MountOptions {
                jid: Some(16),
                first: true,
                nodir: false
            })
        );
        assert_eq!(MountOptions::parse("jid=010").map(|o| o.jid), Ok(Some(8)));
        assert_eq!(
            MountOptions::parse("jid=-1"),
            Err(TableError::UnknownHostdata)
        );
        assert_eq!(
            MountOptions::parse("jid=5x"),
            Err(TableError::UnknownHostdata)
        );
        assert_eq!(
            MountOptions::parse("first=2"),
            Err(TableError::UnknownHostdata)
        );
        assert_eq!(
            MountOptions::parse("spectator"),
            Err(TableError::UnknownHostdata)
        );
        assert_eq!(
            MountOptions::parse("jid=2147483648"),
            Err(TableError::UnknownHostdata)
        );
        let t = LockTable::parse("alpha:gfs:x");
        assert_eq!(t.as_ref().map(|t| t.cluster.as_str()), Ok("alpha"));
        assert_eq!(t.as_ref().map(|t| t.fsname.as_str()), Ok("gfs:x"));
        assert_eq!(LockTable::parse("nofs"), Err(TableError::NoFsname));
        assert_eq!(LockTable::parse("c:"), Err(TableError::BadLength));
        assert_eq!(
            LockTable::parse_linux72("c:").map(|t| t.fsname.len()),
            Ok(0)
        );
        assert_eq!(LockTable::parse_linux72("c"), Err(TableError::NoFsname));
        assert_eq!(
            MountOptions {
                nodir: true,
                ..Default::default()
            }
            .lockspace_flags_linux72(),
            DLM_LSFL_NEWEXCL
        );
        assert_eq!(
            MountOptions {
                nodir: true,
                ..Default::default()
            }
            .lockspace_flags(),
            DLM_LSFL_FS | DLM_LSFL_NEWEXCL | DLM_LSFL_NODIR
        );
    }
}
