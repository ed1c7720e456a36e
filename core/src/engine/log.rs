//! What the engine reports for a person: each [`LogEvent`]'s `Display` is the message
//! lock_dlm (`fs/gfs2/lock_dlm.c`) or gfs2's journal recovery (`fs/gfs2/recovery.c`,
//! `ops_fstype.c`) prints at the same point, without the `gfs2: fsid=...:` prefix.

use core::fmt;

use crate::lvb::JidSet;
use crate::mount::RetryReason;
use crate::text::{self, Sink};

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

impl LogEvent {
    /// Write the line into `out`, as the kernel prints it. [`LogEvent::RecoverJids`] is
    /// one line per jid: this writes the line of `jid` (the caller walks the set); every
    /// other event ignores `jid`. `Display` is this over a `Formatter`, so a sink without
    /// `core::fmt` (a kernel module's buffer) gets the same bytes.
    pub fn write_line<S: Sink>(&self, out: &mut S, jid: u32) {
        use LogEvent::*;
        match *self {
            RecoverSlotPrev {
                jid,
                generation,
                prev,
            } => {
                out.s("recover_slot jid ")
                    .u(jid)
                    .s(" gen ")
                    .u(generation)
                    .s(" prev ")
                    .u(prev);
            }
            RecoverSlotShort {
                jid,
                generation,
                size,
            } => {
                out.s("recover_slot jid ")
                    .u(jid)
                    .s(" gen ")
                    .u(generation)
                    .s(" short size ")
                    .u(size);
            }
            ResultShort { jid, size } => {
                out.s("recovery_result jid ")
                    .u(jid)
                    .s(" short size ")
                    .u(size);
            }
            RecoveryResult { jid, gaveup } => {
                out.s("recover jid ").u(jid).s(if gaveup {
                    " result busy"
                } else {
                    " result success"
                });
            }
            ControlExError(e) => {
                out.s("control lock EX error ").i(e);
            }
            ControlNlError(e) => {
                out.s("control lock NL error ").i(e);
            }
            Block1 {
                start,
                block,
                block_now,
            } => {
                out.s("recover generation ")
                    .u(start)
                    .s(" block1 ")
                    .u(block)
                    .s(" ")
                    .u(block_now);
            }
            RecoverJids { generation, .. } => {
                out.s("recover generation ").u(generation).s(" jid ").u(jid);
            }
            RecoverDone { generation } => {
                out.s("recover generation ").u(generation).s(" done");
            }
            Block2 {
                start,
                block,
                block_now,
            } => {
                out.s("recover generation ")
                    .u(start)
                    .s(" block2 ")
                    .u(block)
                    .s(" ")
                    .u(block_now);
            }
            MountDisabled => {
                out.s("control_mount control_lock disabled");
            }
            FirstMounter { generation } => {
                out.s("first mounter control generation ").u(generation);
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
                        out.s("control_mount control_lock busy");
                        return;
                    }
                    RetryReason::WaitJournals => {
                        out.s("control_mount wait for journal recovery");
                        return;
                    }
                    RetryReason::Wait1 => "wait1",
                    RetryReason::Wait2 => "wait2",
                    RetryReason::Wait3 => "wait3",
                };
                out.s("control_mount ")
                    .s(w)
                    .s(" block ")
                    .u(block)
                    .s(" start ")
                    .u(start)
                    .s(" mount ")
                    .u(mount)
                    .s(" lvb ")
                    .u(lvb)
                    .s(" flags ")
                    .x(flags);
            }
            FirstDoneWait { generation } => {
                out.s("control_first_done wait gen ").u(generation);
            }
            MountControlError(e) => {
                out.s("mount control error ").i(e);
            }
            FirstDoneError(e) => {
                out.s("mount first_done error ").i(e);
            }
            OpsNotUsed => {
                out.s("dlm lockspace ops not used");
            }
            JidPreset => {
                out.s("dlm lockspace ops disallow jid preset");
            }
            NewLockspaceError(e) => {
                out.s("dlm_new_lockspace error ").i(e);
            }
            NoJournal { jid } => {
                out.s("can't find journal #").u(jid);
            }
            JournalLockedForUse { jid } => {
                out.s("jid=").u(jid).s(", already locked for use");
            }
            JournalTrying { jid } => {
                out.s("jid=")
                    .u(jid)
                    .s(": Trying to acquire journal lock...");
            }
            JournalBusy { jid } => {
                out.s("jid=").u(jid).s(": Busy");
            }
            JournalDone { jid } => {
                out.s("jid=").u(jid).s(": Done");
            }
            JournalFailed { jid } => {
                out.s("jid=").u(jid).s(": Failed");
            }
            FirstMountJournalError { jid, error } => {
                out.s("error recovering journal ").u(jid).s(": ").i(error);
            }
            OwnJournalError(e) => {
                out.s("error recovering my journal: ").i(e);
            }
            MembershipRefused(e) => {
                out.s("membership refused: ");
                e.write_to(out);
            }
            ControlLocked {
                lvb_gen,
                start,
                write,
            } => {
                out.s("control lvb gen ")
                    .u(lvb_gen)
                    .s(" start ")
                    .u(start)
                    .s(" write ")
                    .b(write);
            }
            PrepIgnored => {
                out.s("recover_prep ignored due to withdraw.");
            }
            SlotIgnored { jid } => {
                out.s("recover_slot jid ")
                    .i(jid)
                    .s(" ignored due to withdraw.");
            }
            DoneIgnored => {
                out.s("recover_done ignored due to withdraw.");
            }
            CpgPrep => {
                out.s("recover_prep (cpg)");
            }
            CpgSlot { slot } => {
                out.s("recover_slot slot ").i(slot).s(" (cpg)");
            }
            CpgDone {
                generation,
                our_slot,
            } => {
                out.s("recover_done gen ")
                    .u(generation)
                    .s(" our slot ")
                    .i(our_slot)
                    .s(" (cpg)");
            }
        }
    }

    /// The line of `jid` (see [`LogEvent::write_line`]) as a `Display`.
    pub fn line(&self, jid: u32) -> Line<'_> {
        Line { ev: self, jid }
    }
}

/// One line of a [`LogEvent`]: [`LogEvent::line`].
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    ev: &'a LogEvent,
    jid: u32,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::display(f, |out| self.ev.write_line(out, self.jid))
    }
}

/// Every line, newline-separated ([`LogEvent::RecoverJids`] has one per jid, none
/// when the set is empty).
impl fmt::Display for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let LogEvent::RecoverJids { jids, .. } = self {
            for (i, j) in jids.iter().enumerate() {
                if i > 0 {
                    f.write_str("\n")?;
                }
                self.line(j).fmt(f)?;
            }
            return Ok(());
        }
        self.line(0).fmt(f)
    }
}
