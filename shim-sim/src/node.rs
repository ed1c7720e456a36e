//! One simulated GFS2 node: the thin binding between gdlm-core and the simulated DLM.
//!
//! Every protocol decision is the core's; this file only carries the core's requests to
//! the [`Dlm`] model and the model's callbacks back, the way `lock_dlm.c`'s glue code
//! (`sync_lock`, the work queues, `gfs2_recover_set`, `init_journal`) does in the kernel.

use std::collections::BTreeSet;

use gdlm_core::ast::{gdlm_ast, AstInput, AstOutcome, AstStyle};
use gdlm_core::consts::{LM_RD_GAVEUP, LM_RD_SUCCESS};
use gdlm_core::flags::{lock_request, FlagPolicy, LmFlags, LockContext};
use gdlm_core::mount::{ControlMount, FirstDone, FirstDoneStep, MountStep};
use gdlm_core::name::{LockName, NameStyle};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlTicket, ControlUpdate, ControlWork, LockId, ResultOutcome,
    SizePolicy, SyncLock,
};
use gdlm_core::stats::GlockStats;
use gdlm_core::{ControlLvb, LmState, RecoverFlags, Recovery};

use crate::dlm::{Dlm, LockTarget, DLM_EUNLOCK, DLM_LKF_CONVERT, DLM_LKF_VALBLK};
use crate::glock::Glocks;

/// `LM_TYPE_JOURNAL`: the glock type of journal locks.
pub const LM_TYPE_JOURNAL: u32 = 9;

/// Virtual milliseconds of `HZ` (the GAVEUP retry delay).
pub const HZ_MS: u64 = 1000;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    /// Not mounted (never, or after a clean unmount or a failed mount).
    Down,
    /// Joined the lockspace; waiting for its first recover_done.
    Joining,
    /// Running control_mount.
    Mounting,
    /// control_mount done; taking its own journal lock (init_journal).
    OwnJournal,
    /// First mounter: recovering every journal.
    FirstRecovery,
    /// First mounter: running control_first_done.
    FirstDone,
    /// Mounted.
    Mounted,
    /// Crashed (its lockspace is gone; it may mount again later).
    Dead,
}

/// Which control_lock/mounted_lock user waits for an AST.
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

/// Stages of a journal recovery (`gfs2_recover_func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecoverStage {
    /// Journal lock (EX, TRY) requested.
    Locking,
    /// Granted: replay at the next step.
    Granted,
    /// Replayed and unlock requested.
    Unlocking,
}

/// A journal recovery in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecoverOp {
    /// The journal.
    pub jid: u32,
    /// The journal lock.
    pub lkid: u32,
    /// How far it got.
    pub stage: RecoverStage,
}

/// What a node tells the world after a step (for invariants and the trace).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Note {
    /// A line for the trace.
    Info(String),
    /// The node replays journal `jid` now (it holds the journal lock EX).
    Replay(u32),
    /// The core refused an input the DLM gave (the kernel would BUG or misbehave).
    CoreError(String),
    /// Locking unblocked at this generation ("recover generation N done").
    Unblocked(u32),
    /// The node finished mounting.
    Mounted {
        /// First mounter.
        first: bool,
    },
    /// The mount failed with this error; the node left the lockspace.
    MountFailed(i32),
}

/// One simulated GFS2 node.
#[derive(Clone, Debug, Hash)]
pub struct Node {
    /// Node id (1-based).
    pub id: u32,
    /// Life phase.
    pub phase: Phase,
    /// The core's recovery state (`ls_recover_*`).
    pub rec: Recovery<192>,
    mount: ControlMount,
    first_done: FirstDone,
    sync: Option<PendingSync>,
    control_lkid: Option<u32>,
    mounted_lkid: Option<u32>,
    lksb_lvb: ControlLvb,
    /// Control work queued to run at this virtual time.
    pub work_at: Option<u64>,
    /// control_mount's sleep ends at this time.
    pub sleep_until: Option<u64>,
    /// Journals queued for recovery (`gfs2_recover_set`), ascending.
    pub recover_queue: BTreeSet<u32>,
    /// The journal recovery in progress.
    pub recovering: Option<RecoverOp>,
    first_jids: Vec<u32>,
    own_journal: Option<u32>,
    own_journal_granted: bool,
    journals: u32,
    /// Journal-lock stats (exercises the stats path).
    pub glstats: GlockStats,
    /// Unmount requested: finish in-flight work, then leave.
    pub unmounting: bool,
    /// Inode glock traffic.
    pub glocks: Glocks,
    /// Generate glock traffic when mounted (set by the simulator).
    pub traffic: bool,
    /// A random number for the next step's choices (set by the simulator).
    pub choice: u32,
}

impl Node {
    /// A node that has never mounted.
    pub fn new(id: u32, journals: u32, policy: SizePolicy) -> Self {
        Node {
            id,
            phase: Phase::Down,
            rec: Recovery::new(policy),
            mount: ControlMount::new(),
            first_done: FirstDone::new(),
            sync: None,
            control_lkid: None,
            mounted_lkid: None,
            lksb_lvb: ControlLvb::zeroed(),
            work_at: None,
            sleep_until: None,
            recover_queue: BTreeSet::new(),
            recovering: None,
            first_jids: Vec::new(),
            own_journal: None,
            own_journal_granted: false,
            journals,
            glstats: GlockStats::new(),
            unmounting: false,
            glocks: Glocks::default(),
            traffic: false,
            choice: 0,
        }
    }

    fn reset(&mut self, phase: Phase) {
        let (id, journals, policy) = (self.id, self.journals, self.rec.policy());
        let submit = self.rec.submit_policy();
        *self = Node::new(id, journals, policy);
        self.rec = Recovery::new(policy).with_submit_policy(submit);
        self.phase = phase;
    }

    /// Use this [`gdlm_core::SubmitPolicy`] (kept across remounts).
    pub fn with_submit_policy(mut self, p: gdlm_core::SubmitPolicy) -> Self {
        self.rec = Recovery::new(self.rec.policy()).with_submit_policy(p);
        self
    }

    /// Alive: a member of the lockspace (or joining it).
    pub fn alive(&self) -> bool {
        !matches!(self.phase, Phase::Down | Phase::Dead)
    }

    /// Holds its own journal lock: it may write its journal.
    pub fn owns_journal(&self) -> bool {
        self.own_journal_granted
    }

    /// The jid the core assigned (`ls_jid`).
    pub fn jid(&self) -> Option<u32> {
        u32::try_from(self.rec.jid()).ok()
    }

    /// The node is using the file system with locking unblocked.
    pub fn accessing(&self) -> bool {
        self.phase == Phase::Mounted && !self.rec.locks_blocked()
    }

    /// `gdlm_mount`: join the lockspace with a fresh state.
    pub fn start_mount(&mut self, dlm: &mut Dlm) -> Result<(), i32> {
        self.reset(Phase::Down);
        dlm.join(self.id)?;
        self.phase = Phase::Joining;
        Ok(())
    }

    /// The node crashes: forget everything.
    pub fn crash(&mut self) {
        self.reset(Phase::Dead);
    }

    /// `gdlm_unmount` finished: the node is down.
    pub fn unmounted(&mut self) {
        self.reset(Phase::Down);
    }

    fn queue_work(&mut self, now: u64, w: Option<ControlWork>) {
        let Some(w) = w else { return };
        let due = now + if w == ControlWork::AfterHz { HZ_MS } else { 0 };
        // queue_delayed_work does nothing when the work is already queued.
        if self.work_at.is_none() {
            self.work_at = Some(due);
        }
    }

    /// Ready for an unmount to complete (no work in flight).
    pub fn unmount_ready(&self) -> bool {
        self.unmounting
            && self.phase == Phase::Mounted
            && self.sync.is_none()
            && self.recovering.is_none()
            && !self.glocks.busy()
    }

    /// Can run an internal step now?
    pub fn runnable(&self, now: u64) -> bool {
        if !self.alive() || self.phase == Phase::Joining {
            return false;
        }
        if self.sleep_until.is_some_and(|t| t <= now) || self.unmount_ready() {
            return true;
        }
        if self.sync.is_none() && self.work_at.is_some_and(|t| t <= now) {
            return true;
        }
        if self.glocks.demote_ready() || (self.traffic && self.accessing() && !self.unmounting) {
            return true;
        }
        match self.recovering {
            Some(op) => op.stage == RecoverStage::Granted,
            None => match self.phase {
                Phase::FirstRecovery => !self.first_jids.is_empty(),
                Phase::Mounted => !self.recover_queue.is_empty(),
                _ => false,
            },
        }
    }

    /// Exhaustive mode: make every pending timer due now.
    pub fn fire_timers(&mut self) {
        if let Some(t) = self.sleep_until.as_mut() {
            *t = 0;
        }
        if let Some(t) = self.work_at.as_mut() {
            *t = 0;
        }
    }

    /// Earliest pending timer.
    pub fn next_timer(&self) -> Option<u64> {
        let w = if self.sync.is_none() {
            self.work_at
        } else {
            None
        };
        match (self.sleep_until, w) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- sync locks (control_lock / mounted_lock) -----------------------------------

    /// `sync_lock`: issue the call; `Some(err)` when `dlm_lock` itself failed.
    fn issue_sync(&mut self, dlm: &mut Dlm, call: &SyncLock, user: SyncUser) -> Option<i32> {
        let flags = call.flags.bits();
        let lkid = match call.lock {
            LockId::Control => self.control_lkid,
            LockId::Mounted => self.mounted_lkid,
        };
        let name = call.lock.name();
        let target = if flags & DLM_LKF_CONVERT != 0 {
            LockTarget::Lkid(lkid.unwrap_or(0))
        } else {
            LockTarget::Name(name.as_bytes())
        };
        // The lksb's LVB buffer: written by the core's call, read back on grant.
        if let Some(l) = call.lvb {
            self.lksb_lvb = l;
        }
        let lvb = (call.lock == LockId::Control && flags & DLM_LKF_VALBLK != 0)
            .then(|| *self.lksb_lvb.as_bytes());
        match dlm.lock(self.id, call.mode.raw(), flags, target, lvb) {
            Ok(id) => {
                match call.lock {
                    LockId::Control => self.control_lkid = Some(id),
                    LockId::Mounted => self.mounted_lkid = Some(id),
                }
                self.sync = Some(PendingSync {
                    lock: call.lock,
                    user,
                    unlock: false,
                });
                None
            }
            Err(e) => Some(e),
        }
    }

    /// `sync_unlock`.
    fn issue_unlock(&mut self, dlm: &mut Dlm, lock: LockId, user: SyncUser) -> Option<i32> {
        let lkid = match lock {
            LockId::Control => self.control_lkid,
            LockId::Mounted => self.mounted_lkid,
        };
        let Some(lkid) = lkid else { return Some(-22) };
        match dlm.unlock(self.id, lkid, 0, None) {
            Ok(()) => {
                self.sync = Some(PendingSync {
                    lock,
                    user,
                    unlock: true,
                });
                None
            }
            Err(e) => Some(e),
        }
    }

    /// Drive control_mount through the steps that need no waiting.
    fn mount_step(&mut self, dlm: &mut Dlm, mut step: MountStep, now: u64, notes: &mut Vec<Note>) {
        loop {
            let next = match step {
                MountStep::Lock(call) => match self.issue_sync(dlm, &call, SyncUser::Mount) {
                    None => return,
                    Some(err) => self.mount.on_lock_result(&mut self.rec, err, None),
                },
                MountStep::Unlock(lock) => match self.issue_unlock(dlm, lock, SyncUser::Mount) {
                    None => return,
                    Some(err) => self.mount.on_unlock_result(err),
                },
                MountStep::Sleep { ms } => {
                    if let Some(r) = self.mount.last_retry() {
                        notes.push(Note::Info(format!(
                            "control_mount retry {r:?} (lvb gen {:?}, block {} start {} mount {})",
                            self.mount.lvb_gen(),
                            self.rec.recover_block(),
                            self.rec.recover_start(),
                            self.rec.recover_mount()
                        )));
                    }
                    self.sleep_until = Some(now + u64::from(ms));
                    return;
                }
                MountStep::Mounted { first } => {
                    notes.push(Note::Info(format!(
                        "control_mount done: first {first}, jid {}",
                        self.rec.jid()
                    )));
                    self.phase = Phase::OwnJournal;
                    if first {
                        let own = self.jid();
                        self.first_jids = (0..self.journals).filter(|&j| Some(j) != own).collect();
                    }
                    self.lock_own_journal(dlm, now, notes);
                    return;
                }
                MountStep::Failed { error, .. } => {
                    notes.push(Note::MountFailed(error));
                    let _ = dlm.leave(self.id);
                    self.reset(Phase::Down);
                    return;
                }
            };
            step = match next {
                Ok(s) => s,
                Err(e) => return notes.push(Note::CoreError(e.to_string())),
            };
        }
    }

    /// Drive control_first_done through the steps that need no waiting.
    fn first_done_step(&mut self, dlm: &mut Dlm, mut step: FirstDoneStep, notes: &mut Vec<Note>) {
        loop {
            let next = match step {
                FirstDoneStep::Lock(call) => match self.issue_sync(dlm, &call, SyncUser::FirstDone)
                {
                    None => return,
                    Some(err) => self.first_done.on_lock_result(err),
                },
                FirstDoneStep::Unlock(lock) => {
                    match self.issue_unlock(dlm, lock, SyncUser::FirstDone) {
                        None => return,
                        Some(err) => self.first_done.on_unlock_result(err),
                    }
                }
                FirstDoneStep::WaitDlmRecovery => {
                    // recover_done restarts it (see `recover_done`).
                    self.first_done = FirstDone::new();
                    notes.push(Note::Info("control_first_done wait".into()));
                    return;
                }
                FirstDoneStep::Done { result } => {
                    if result != 0 {
                        notes.push(Note::CoreError(format!(
                            "control_first_done error {result}"
                        )));
                    }
                    self.phase = Phase::Mounted;
                    notes.push(Note::Mounted { first: true });
                    return;
                }
            };
            step = match next {
                Ok(s) => s,
                Err(e) => return notes.push(Note::CoreError(e.to_string())),
            };
        }
    }

    fn start_first_done(&mut self, dlm: &mut Dlm, notes: &mut Vec<Note>) {
        self.phase = Phase::FirstDone;
        self.first_done = FirstDone::new();
        match self.first_done.start(&mut self.rec) {
            Ok(step) => self.first_done_step(dlm, step, notes),
            Err(e) => notes.push(Note::CoreError(e.to_string())),
        }
    }

    // ---- journal locks ------------------------------------------------------------

    /// A journal glock request through the core's name/mode/flag mapping.
    fn journal_lock(&mut self, dlm: &mut Dlm, jid: u32, try_: bool, now: u64) -> Result<u32, i32> {
        let flags = if try_ {
            LmFlags::TRY | LmFlags::NOEXP | LmFlags::GL_NOCACHE
        } else {
            LmFlags::NOEXP
        };
        let req = lock_request(
            &FlagPolicy::REFERENCE,
            &LockName::new(LM_TYPE_JOURNAL, u64::from(jid)),
            NameStyle::Reference,
            LmState::Exclusive.raw(),
            flags,
            &LockContext::default(),
        )
        .map_err(|_| -22)?;
        self.glstats.on_request(&req, now as i64, None);
        let name = req.name.ok_or(-22)?;
        dlm.lock(
            self.id,
            req.mode.raw(),
            req.flags.bits(),
            LockTarget::Name(name.as_bytes()),
            None,
        )
    }

    fn lock_own_journal(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        let Some(jid) = self.jid() else {
            return notes.push(Note::CoreError("mounted without a jid".into()));
        };
        match self.journal_lock(dlm, jid, false, now) {
            Ok(id) => self.own_journal = Some(id),
            Err(e) => notes.push(Note::CoreError(format!("own journal lock error {e}"))),
        }
    }

    /// `gdlm_ast` for a journal lock: granted EX?
    fn journal_ast(
        &mut self,
        status: i32,
        sb_flags: u8,
        lkid: u32,
        now: u64,
    ) -> Result<bool, String> {
        self.glstats.on_reply(now as i64, false, None);
        let out = gdlm_ast(
            AstStyle::Reference,
            &AstInput {
                gl_state: LmState::Unlocked,
                gl_req: LmState::Exclusive,
                sb_status: status,
                sb_flags,
                has_lvb: false,
                glf_initial: false,
                lkid,
                dead: false,
            },
        )
        .map_err(|e| format!("journal lock AST: {e}"))?;
        Ok(matches!(out, AstOutcome::Complete { ret, .. } if ret & 3 == LmState::Exclusive.raw()))
    }

    // ---- callbacks from the DLM ----------------------------------------------------

    /// A completion AST for one of our locks.
    #[allow(clippy::too_many_arguments)]
    pub fn ast(
        &mut self,
        dlm: &mut Dlm,
        lkid: u32,
        status: i32,
        sb_flags: u8,
        lvb: Option<[u8; 32]>,
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        if Some(lkid) == self.own_journal {
            match self.journal_ast(status, sb_flags, lkid, now) {
                Ok(true) => {
                    self.own_journal_granted = true;
                    // init_journal replays our own journal if it needs it.
                    if let Some(j) = self.jid() {
                        notes.push(Note::Replay(j));
                    }
                    if !self.first_jids.is_empty() {
                        self.phase = Phase::FirstRecovery;
                    } else if self.rec.flags().contains(RecoverFlags::FIRST_MOUNT) {
                        self.start_first_done(dlm, notes);
                    } else {
                        self.phase = Phase::Mounted;
                        notes.push(Note::Mounted { first: false });
                    }
                }
                Ok(false) => {
                    notes.push(Note::CoreError(format!("own journal lock failed {status}")))
                }
                Err(e) => notes.push(Note::CoreError(e)),
            }
            return;
        }
        if let Some(op) = self.recovering.filter(|op| op.lkid == lkid) {
            self.recovery_ast(op, status, sb_flags, now, notes);
            return;
        }
        if self.glocks.owns(lkid) {
            if let Err(e) = self.glocks.ast(lkid, status, sb_flags, lvb, now) {
                notes.push(Note::CoreError(e));
            }
            return;
        }
        let Some(p) = self.sync else {
            return notes.push(Note::Info(format!("stray AST lkid {lkid} status {status}")));
        };
        let mine = match p.lock {
            LockId::Control => self.control_lkid,
            LockId::Mounted => self.mounted_lkid,
        };
        if mine != Some(lkid) {
            return notes.push(Note::Info(format!("stray AST lkid {lkid} status {status}")));
        }
        self.sync = None;
        if p.lock == LockId::Control {
            if let Some(l) = lvb {
                self.lksb_lvb = ControlLvb::from_array(l);
            }
        }
        if p.unlock {
            match p.lock {
                LockId::Control => self.control_lkid = None,
                LockId::Mounted => self.mounted_lkid = None,
            }
        }
        // sync_unlock succeeds on -DLM_EUNLOCK.
        let status = if p.unlock && status == -DLM_EUNLOCK {
            0
        } else {
            status
        };
        self.sync_done(dlm, p, status, now, notes);
    }

    fn recovery_ast(
        &mut self,
        op: RecoverOp,
        status: i32,
        sb_flags: u8,
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        if op.stage == RecoverStage::Unlocking {
            self.recovering = None;
            return;
        }
        match self.journal_ast(status, sb_flags, op.lkid, now) {
            Ok(true) => {
                self.recovering = Some(RecoverOp {
                    stage: RecoverStage::Granted,
                    ..op
                })
            }
            Ok(false) => {
                // TRY failed: another node holds the journal ("busy").
                self.recovering = None;
                if self.phase == Phase::FirstRecovery {
                    self.first_jids.push(op.jid);
                }
                self.report_result(op.jid, LM_RD_GAVEUP, now, notes);
            }
            Err(e) => {
                self.recovering = None;
                notes.push(Note::CoreError(e));
            }
        }
    }

    fn sync_done(
        &mut self,
        dlm: &mut Dlm,
        p: PendingSync,
        status: i32,
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        match p.user {
            SyncUser::Mount => {
                let r = if p.unlock {
                    self.mount.on_unlock_result(status)
                } else {
                    let l = self.lksb_lvb;
                    self.mount.on_lock_result(&mut self.rec, status, Some(&l))
                };
                match r {
                    Ok(step) => self.mount_step(dlm, step, now, notes),
                    Err(e) => notes.push(Note::CoreError(e.to_string())),
                }
            }
            SyncUser::FirstDone => {
                let r = if p.unlock {
                    self.first_done.on_unlock_result(status)
                } else {
                    self.first_done.on_lock_result(status)
                };
                match r {
                    Ok(step) => self.first_done_step(dlm, step, notes),
                    Err(e) => notes.push(Note::CoreError(e.to_string())),
                }
            }
            SyncUser::ControlEx(t) => {
                if status != 0 {
                    return notes.push(Note::Info(format!("control lock EX error {status}")));
                }
                let l = self.lksb_lvb;
                let mut t = t;
                let (call, user) = match self.rec.control_locked(&mut t, &l) {
                    ControlUpdate::Stale(call) => {
                        notes.push(Note::Info(format!(
                            "recover generation {} block1",
                            t.start_gen
                        )));
                        (call, SyncUser::ControlStale)
                    }
                    ControlUpdate::Convert { call, lvb_gen } => {
                        notes.push(Note::Info(format!(
                            "control lvb gen {lvb_gen} start {} write {}",
                            t.start_gen,
                            call.lvb.is_some()
                        )));
                        (call, SyncUser::ControlNl(t))
                    }
                };
                if let Some(e) = self.issue_sync(dlm, &call, user) {
                    notes.push(Note::Info(format!("control lock NL error {e}")));
                }
            }
            SyncUser::ControlStale => {}
            SyncUser::ControlNl(t) => {
                if status != 0 {
                    return notes.push(Note::Info(format!("control lock NL error {status}")));
                }
                match self.rec.control_converted(&t) {
                    ControlFinish::Recover(jids) => {
                        for j in jids.iter() {
                            notes.push(Note::Info(format!(
                                "recover generation {} jid {j}",
                                t.start_gen
                            )));
                            self.recover_queue.insert(j);
                        }
                    }
                    ControlFinish::Unblocked { generation } => {
                        notes.push(Note::Unblocked(generation))
                    }
                    ControlFinish::StillBlocked => {
                        notes.push(Note::Info(format!(
                            "recover generation {} block2",
                            t.start_gen
                        )));
                    }
                }
            }
        }
    }

    /// A blocking AST.
    pub fn bast(&mut self, lkid: u32, mode: i32, notes: &mut Vec<Note>) {
        if let Err(e) = self.glocks.bast(lkid, mode) {
            notes.push(Note::CoreError(e));
        }
    }

    /// `recover_prep`.
    pub fn recover_prep(&mut self) {
        self.rec.recover_prep();
    }

    /// `recover_slot`.
    pub fn recover_slot(&mut self, slot: u32, notes: &mut Vec<Note>) {
        let slot = i32::try_from(slot).unwrap_or(i32::MAX);
        match self.rec.recover_slot(slot) {
            Ok(r) => notes.push(Note::Info(format!(
                "recover_slot jid {} gen {}{}",
                r.jid,
                r.generation,
                r.prev.map(|p| format!(" prev {p}")).unwrap_or_default()
            ))),
            // The reference logs "short size" and drops it.
            Err(e) => notes.push(Note::Info(format!("recover_slot slot {slot}: {e}"))),
        }
    }

    /// `recover_done`; the first one lets the mount continue.
    pub fn recover_done(
        &mut self,
        dlm: &mut Dlm,
        slots: &[i32],
        our_slot: u32,
        generation: u32,
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        let our = i32::try_from(our_slot).unwrap_or(i32::MAX);
        match self.rec.recover_done(slots, our, generation) {
            Ok(w) => self.queue_work(now, w),
            Err(e) => return notes.push(Note::CoreError(format!("recover_done: {e}"))),
        }
        if self.phase == Phase::Joining {
            self.phase = Phase::Mounting;
            if self.jid().is_none_or(|j| j >= self.journals) {
                // gfs2 cannot mount without a journal for its jid.
                notes.push(Note::MountFailed(-22));
                let _ = dlm.leave(self.id);
                self.reset(Phase::Down);
                return;
            }
            let step = self.mount.start(&mut self.rec);
            self.mount_step(dlm, step, now, notes);
        } else if self.phase == Phase::FirstDone && self.sync.is_none() {
            // control_first_done waited for the end of this recovery cycle.
            self.start_first_done(dlm, notes);
        }
    }

    fn report_result(&mut self, jid: u32, result: u32, now: u64, notes: &mut Vec<Note>) {
        match self.rec.recovery_result(jid, result) {
            Ok(ResultOutcome::Recorded(w)) => {
                let r = if result == LM_RD_GAVEUP {
                    "busy"
                } else {
                    "success"
                };
                notes.push(Note::Info(format!("recover jid {jid} result {r}")));
                self.queue_work(now, w);
            }
            Ok(ResultOutcome::Ignored(_)) => {}
            Err(e) => notes.push(Note::CoreError(format!("recovery_result: {e}"))),
        }
    }

    /// Run one internal step that is ready at `now`.
    pub fn run(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        if self.sleep_until.is_some_and(|t| t <= now) {
            self.sleep_until = None;
            match self.mount.on_sleep_done() {
                Ok(step) => self.mount_step(dlm, step, now, notes),
                Err(e) => notes.push(Note::CoreError(e.to_string())),
            }
            return;
        }
        if self.sync.is_none() && self.work_at.is_some_and(|t| t <= now) {
            self.work_at = None;
            if let ControlBegin::Lock(t, call) = self.rec.control_begin() {
                if let Some(e) = self.issue_sync(dlm, &call, SyncUser::ControlEx(t)) {
                    notes.push(Note::Info(format!("control lock EX error {e}")));
                }
            }
            return;
        }
        if let Some(op) = self.recovering {
            if op.stage == RecoverStage::Granted {
                notes.push(Note::Replay(op.jid));
                self.recovering = dlm
                    .unlock(self.id, op.lkid, 0, None)
                    .ok()
                    .map(|()| RecoverOp {
                        stage: RecoverStage::Unlocking,
                        ..op
                    });
                // gfs2_recovery_done → lm_recovery_result(jid, LM_RD_SUCCESS)
                self.report_result(op.jid, LM_RD_SUCCESS, now, notes);
                if self.phase == Phase::FirstRecovery && self.first_jids.is_empty() {
                    self.start_first_done(dlm, notes);
                }
            }
            return;
        }
        let next = match self.phase {
            Phase::FirstRecovery if !self.first_jids.is_empty() => Some(self.first_jids.remove(0)),
            Phase::Mounted => self.recover_queue.pop_first(),
            _ => None,
        };
        let Some(jid) = next else {
            let traffic = self.traffic && self.accessing() && !self.unmounting;
            if let Err(e) = self.glocks.step(dlm, self.id, self.choice, traffic, now) {
                notes.push(Note::Info(e));
            }
            return;
        };
        if Some(jid) == self.jid() {
            // Our own journal: we hold its lock; nothing to replay while we live.
            self.report_result(jid, LM_RD_SUCCESS, now, notes);
            return;
        }
        match self.journal_lock(dlm, jid, true, now) {
            Ok(lkid) => {
                self.recovering = Some(RecoverOp {
                    jid,
                    lkid,
                    stage: RecoverStage::Locking,
                })
            }
            Err(e) => notes.push(Note::Info(format!("recover jid {jid} lock error {e}"))),
        }
    }
}
