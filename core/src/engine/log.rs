//! What the engine reports for a person: each [`LogEvent`]'s `Display` is the message
//! lock_dlm (`fs/gfs2/lock_dlm.c`) or gfs2's journal recovery (`fs/gfs2/recovery.c`,
//! `ops_fstype.c`) prints at the same point, without the `gfs2: fsid=...:` prefix.

use core::fmt;

use crate::lvb::JidSet;
use crate::mount::RetryReason;

/// Which lock a sync_lock error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// `fs_info`.
    Info,
    /// `fs_err`.
    Err,
    /// Not printed by the kernel: what the engine saw or decided, for traces.
    Debug,
}

/// One log line (or, for [`LogEvent::RecoverJids`], one line per jid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LogEvent {
    /// `gdlm_recover_slot`, a failure of this jid was already waiting (L1105).
    RecoverSlotPrev {
        /// The jid.
        jid: u32,
        /// `ls_recover_block`.
        generation: u32,
        /// The earlier entry.
        prev: u32,
    },
    /// `gdlm_recover_slot` beyond `ls_recover_size` (L1098).
    RecoverSlotShort {
        /// The jid.
        jid: u32,
        /// `ls_recover_block`.
        generation: u32,
        /// `ls_recover_size`.
        size: u32,
    },
    /// `gdlm_recovery_result` beyond `ls_recover_size` (L1160).
    ResultShort {
        /// The jid.
        jid: u32,
        /// `ls_recover_size`.
        size: u32,
    },
    /// `gdlm_recovery_result` stored a result (L1166).
    RecoveryResult {
        /// The jid.
        jid: u32,
        /// `LM_RD_GAVEUP` prints "busy", anything else "success".
        gaveup: bool,
    },
    /// `gfs2_control_func`: control_lock EX failed (L628).
    ControlExError(i32),
    /// `gfs2_control_func`: control_lock NL failed (L711).
    ControlNlError(i32),
    /// `gfs2_control_func`: a recovery began while we waited for EX (L637).
    Block1 {
        /// `start_gen`.
        start: u32,
        /// `block_gen`.
        block: u32,
        /// `ls_recover_block` now.
        block_now: u32,
    },
    /// `gfs2_control_func`: journals to recover (L724), one line per jid.
    RecoverJids {
        /// `start_gen`.
        generation: u32,
        /// The jids.
        jids: JidSet,
    },
    /// `gfs2_control_func`: locking unblocked (L744).
    RecoverDone {
        /// `start_gen`.
        generation: u32,
    },
    /// `gfs2_control_func`: a recovery began meanwhile (L747).
    Block2 {
        /// `start_gen`.
        start: u32,
        /// `block_gen`.
        block: u32,
        /// `ls_recover_block` now.
        block_now: u32,
    },
    /// `control_mount`: the LVB says mounts are disabled (L858).
    MountDisabled,
    /// `control_mount`: we are the first mounter (L870).
    FirstMounter {
        /// The generation read from the LVB.
        generation: u32,
    },
    /// `control_mount` goes round again (L886, L898, L908, L917; the EAGAIN retry is
    /// silent in the kernel).
    MountWait {
        /// Why.
        reason: RetryReason,
        /// `ls_recover_block`.
        block: u32,
        /// `ls_recover_start`.
        start: u32,
        /// `ls_recover_mount`.
        mount: u32,
        /// The LVB generation read.
        lvb: u32,
        /// `ls_recover_flags`.
        flags: u32,
    },
    /// `control_first_done` waits for a DLM recovery cycle (L974).
    FirstDoneWait {
        /// `start_gen`.
        generation: u32,
    },
    /// `gdlm_mount`: control_mount failed (L1266).
    MountControlError(i32),
    /// `gdlm_first_done`: control_first_done failed (L1294).
    FirstDoneError(i32),
    /// `gdlm_mount`: the DLM has no recovery callbacks (L1247).
    OpsNotUsed,
    /// `gdlm_mount`: no recover_done before dlm_new_lockspace returned (L1254).
    JidPreset,
    /// `gdlm_mount`: dlm_new_lockspace failed (L1238).
    NewLockspaceError(i32),
    /// `init_journal`: no journal for our jid ("can't find journal #%u").
    NoJournal {
        /// Our jid.
        jid: u32,
    },
    /// `gfs2_recover_func`: our own journal, whose lock we hold.
    JournalLockedForUse {
        /// The jid.
        jid: u32,
    },
    /// `gfs2_recover_func`: taking the journal lock (TRY).
    JournalTrying {
        /// The jid.
        jid: u32,
    },
    /// `gfs2_recover_func`: `GLR_TRYFAILED`, another node holds the journal.
    JournalBusy {
        /// The jid.
        jid: u32,
    },
    /// `gfs2_recover_func`: finished, replayed or clean.
    JournalDone {
        /// The jid.
        jid: u32,
    },
    /// `gfs2_recover_func`: the replay failed.
    JournalFailed {
        /// The jid.
        jid: u32,
    },
    /// `init_journal`: the first mounter could not recover a journal.
    FirstMountJournalError {
        /// The jid.
        jid: u32,
        /// The error.
        error: i32,
    },
    /// `init_journal`: our own journal could not be recovered.
    OwnJournalError(i32),
    /// A membership change or group message the engine refused (userspace lockspaces).
    /// The engine returns [`super::EngineError::Membership`] and changes nothing (it
    /// keeps its last accepted view and goes on with the next input); this is the line
    /// a shim logs for it.
    MembershipRefused(crate::membership::MembershipError),
    /// Debug: the control step read the LVB under EX and converts back to NL.
    ControlLocked {
        /// The generation read from the LVB.
        lvb_gen: u32,
        /// `start_gen`.
        start: u32,
        /// The NL conversion writes a new LVB.
        write: bool,
    },
    /// 7.2: `gdlm_recover_prep` once withdrawn (7.2:L1164-1167).
    PrepIgnored,
    /// 7.2: `gdlm_recover_slot` once withdrawn (7.2:L1188-1194); `jid` is `slot - 1`.
    SlotIgnored {
        /// `slot->slot - 1`, as the kernel prints it.
        jid: i32,
    },
    /// 7.2: `gdlm_recover_done` once withdrawn (7.2:L1219-1222).
    DoneIgnored,
    /// Debug: a `recover_prep` synthesized from CPG membership.
    CpgPrep,
    /// Debug: a `recover_slot` synthesized from CPG membership.
    CpgSlot {
        /// The failed member's slot.
        slot: i32,
    },
    /// Debug: a `recover_done` synthesized from CPG membership.
    CpgDone {
        /// The generation.
        generation: u32,
        /// Our slot.
        our_slot: i32,
    },
}

impl LogEvent {
    /// `fs_info` or `fs_err`, as the kernel prints it.
    #[inline]
    pub fn level(&self) -> Level {
        use LogEvent::*;
        match self {
            RecoverSlotShort { .. }
            | ResultShort { .. }
            | ControlExError(_)
            | ControlNlError(_)
            | MountDisabled
            | MountControlError(_)
            | FirstDoneError(_)
            | JidPreset
            | NewLockspaceError(_)
            | NoJournal { .. }
            | FirstMountJournalError { .. }
            | OwnJournalError(_)
            | MembershipRefused(_)
            | PrepIgnored
            | SlotIgnored { .. }
            | DoneIgnored => Level::Err,
            ControlLocked { .. } | CpgPrep | CpgSlot { .. } | CpgDone { .. } => Level::Debug,
            _ => Level::Info,
        }
    }
}

impl fmt::Display for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LogEvent::*;
        match *self {
            RecoverSlotPrev {
                jid,
                generation,
                prev,
            } => write!(f, "recover_slot jid {jid} gen {generation} prev {prev}"),
            RecoverSlotShort {
                jid,
                generation,
                size,
            } => write!(
                f,
                "recover_slot jid {jid} gen {generation} short size {size}"
            ),
            ResultShort { jid, size } => write!(f, "recovery_result jid {jid} short size {size}"),
            RecoveryResult { jid, gaveup } => {
                let r = if gaveup { "busy" } else { "success" };
                write!(f, "recover jid {jid} result {r}")
            }
            ControlExError(e) => write!(f, "control lock EX error {e}"),
            ControlNlError(e) => write!(f, "control lock NL error {e}"),
            Block1 {
                start,
                block,
                block_now,
            } => write!(f, "recover generation {start} block1 {block} {block_now}"),
            RecoverJids { generation, jids } => {
                for (i, j) in jids.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "recover generation {generation} jid {j}")?;
                }
                Ok(())
            }
            RecoverDone { generation } => write!(f, "recover generation {generation} done"),
            Block2 {
                start,
                block,
                block_now,
            } => write!(f, "recover generation {start} block2 {block} {block_now}"),
            MountDisabled => f.write_str("control_mount control_lock disabled"),
            FirstMounter { generation } => {
                write!(f, "first mounter control generation {generation}")
            }
            MountWait {
                reason,
                block,
                start,
                mount,
                lvb,
                flags,
            } => {
                let w = match reason {
                    RetryReason::ControlBusy => {
                        return f.write_str("control_mount control_lock busy")
                    }
                    RetryReason::WaitJournals => {
                        return f.write_str("control_mount wait for journal recovery")
                    }
                    RetryReason::Wait1 => "wait1",
                    RetryReason::Wait2 => "wait2",
                    RetryReason::Wait3 => "wait3",
                };
                write!(
                    f,
                    "control_mount {w} block {block} start {start} mount {mount} lvb {lvb} flags {flags:x}"
                )
            }
            FirstDoneWait { generation } => {
                write!(f, "control_first_done wait gen {generation}")
            }
            MountControlError(e) => write!(f, "mount control error {e}"),
            FirstDoneError(e) => write!(f, "mount first_done error {e}"),
            OpsNotUsed => f.write_str("dlm lockspace ops not used"),
            JidPreset => f.write_str("dlm lockspace ops disallow jid preset"),
            NewLockspaceError(e) => write!(f, "dlm_new_lockspace error {e}"),
            NoJournal { jid } => write!(f, "can't find journal #{jid}"),
            JournalLockedForUse { jid } => write!(f, "jid={jid}, already locked for use"),
            JournalTrying { jid } => write!(f, "jid={jid}: Trying to acquire journal lock..."),
            JournalBusy { jid } => write!(f, "jid={jid}: Busy"),
            JournalDone { jid } => write!(f, "jid={jid}: Done"),
            JournalFailed { jid } => write!(f, "jid={jid}: Failed"),
            FirstMountJournalError { jid, error } => {
                write!(f, "error recovering journal {jid}: {error}")
            }
            OwnJournalError(e) => write!(f, "error recovering my journal: {e}"),
            MembershipRefused(e) => write!(f, "membership refused: {e}"),
            ControlLocked {
                lvb_gen,
                start,
                write,
            } => write!(f, "control lvb gen {lvb_gen} start {start} write {write}"),
            PrepIgnored => f.write_str("recover_prep ignored due to withdraw."),
            SlotIgnored { jid } => write!(f, "recover_slot jid {jid} ignored due to withdraw."),
            DoneIgnored => f.write_str("recover_done ignored due to withdraw."),
            CpgPrep => f.write_str("recover_prep (cpg)"),
            CpgSlot { slot } => write!(f, "recover_slot slot {slot} (cpg)"),
            CpgDone {
                generation,
                our_slot,
            } => write!(f, "recover_done gen {generation} our slot {our_slot} (cpg)"),
        }
    }
}
