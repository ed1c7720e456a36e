//! One simulated GFS2 node: a gdlm-core [`Engine`] plus the executor of its actions on the
//! simulated DLM, the node's journals and its inode glock traffic.
//!
//! Every protocol decision is the engine's — the same engine gdlmd and gdlm.ko run. This
//! file carries the engine's DLM requests to the [`Dlm`] model (mapping the engine's
//! [`LockRef`]s to the model's lock ids), its completions back, performs replays (after a
//! virtual delay, possibly failing, as the fault plan says) and reports what happened as
//! [`Note`]s for the invariants and the trace.

use std::collections::BTreeMap;

use gdlm_core::engine::{
    Action, Callbacks, Config, DlmOp, DlmRequest, Engine, Event, Instant, LockRef, LogEvent,
    Phase as EnginePhase, Release, ReplayOutcome,
};
use gdlm_core::membership::{LeftReason, Member};
use gdlm_core::recovery::{SizePolicy, SubmitPolicy};
use gdlm_core::Recovery;

use crate::dlm::{Dlm, LockTarget, DLM_EUNLOCK, DLM_LKF_CONVERT};
use crate::glock::Glocks;

/// Virtual milliseconds of `HZ` (the GAVEUP retry delay).
pub const HZ_MS: u64 = 1000;

/// The error a failed simulated replay reports (`-EIO`).
pub const REPLAY_EIO: i32 = -5;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    /// Not mounted (never, or after a clean unmount or a failed mount).
    Down,
    /// Joined the lockspace; waiting for its first recover_done.
    Joining,
    /// Running control_mount.
    Mounting,
    /// control_mount done; taking and replaying its own journal (init_journal).
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

impl Phase {
    fn of(p: EnginePhase) -> Phase {
        match p {
            EnginePhase::Idle => Phase::Down,
            EnginePhase::Joining => Phase::Joining,
            EnginePhase::Mounting => Phase::Mounting,
            EnginePhase::OwnJournal | EnginePhase::OwnReplay => Phase::OwnJournal,
            EnginePhase::FirstRecovery => Phase::FirstRecovery,
            EnginePhase::FirstDone => Phase::FirstDone,
            EnginePhase::Mounted | EnginePhase::Unmounting => Phase::Mounted,
            EnginePhase::Down | EnginePhase::Failed | EnginePhase::Withdrawn => Phase::Down,
        }
    }
}

/// How replays behave (the simulator's journal model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplayModel {
    /// Virtual milliseconds a replay takes.
    pub delay_ms: u64,
    /// Replays of other nodes' journals fail (`-EIO`) while set.
    pub fail: bool,
}

/// What a node tells the world after a step (for invariants and the trace).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Note {
    /// A line for the trace.
    Info(String),
    /// A line the engine logged (formatted only when a trace is kept).
    Log(LogEvent),
    /// The node starts replaying journal `jid` (it holds the journal lock EX).
    Replay(u32),
    /// The replay of `jid` finished; `ok`: the journal is clean now.
    Replayed {
        /// The journal.
        jid: u32,
        /// Success.
        ok: bool,
    },
    /// The core refused an input the DLM gave (the kernel would BUG or misbehave).
    CoreError(String),
    /// Locking unblocked at this generation ("recover generation N done").
    Unblocked(u32),
    /// The node finished mounting.
    Mounted {
        /// First mounter.
        first: bool,
    },
    /// The mount failed; the node leaves the lockspace.
    MountFailed(String),
    /// The node joins the CPG group (userspace lockspaces).
    JoinGroup(Member),
    /// The node multicasts these bytes to the group.
    Multicast(Member, Vec<u8>),
    /// The node made a DLM call for one of the engine's locks (for the trace; the
    /// simulator drops it unless it keeps a trace).
    DlmCall {
        /// The call.
        req: DlmRequest,
        /// The LVB passed with it ([`Engine::request_lvb`]).
        lvb: Option<[u8; 32]>,
        /// The DLM lock id, or the error the call returned at once.
        result: Result<u32, i32>,
    },
    /// The node released the lockspace and is down.
    Released {
        /// Normal or as failed.
        how: Release,
        /// After a withdraw (not a clean unmount or a failed mount).
        withdrawn: bool,
        /// Its jid.
        jid: Option<u32>,
        /// It held its journal lock (it may have written its journal).
        held_journal: bool,
    },
}

/// The engine config a simulated node starts from: size policy `policy`, and the engine's
/// debug lines kept (its control-step decisions and the CPG-synthesized callbacks: the
/// traces and tests read them; a shipping shim leaves them out).
fn traced(policy: SizePolicy) -> Config {
    Config {
        size_policy: policy,
        debug_logs: true,
        ..Config::default()
    }
}

/// `cfg` with submit policy `p` ([`Node::with_submit_policy`]).
fn cfg_submit(mut cfg: Config, p: SubmitPolicy) -> Config {
    cfg.submit_policy = p;
    cfg
}

/// `cfg` for profile `p`, keeping its callbacks and policies ([`Node::with_profile`]).
fn cfg_profile(cfg: Config, p: gdlm_core::Profile) -> Config {
    let mut c = Config::for_profile(p);
    (c.callbacks, c.submit_policy, c.size_policy, c.debug_logs) = (
        cfg.callbacks,
        cfg.submit_policy,
        cfg.size_policy,
        cfg.debug_logs,
    );
    c
}

/// `cfg` with callbacks from CPG or the DLM ([`Node::with_cpg`]).
fn cfg_cpg(mut cfg: Config, id: u32, on: bool) -> Config {
    cfg.callbacks = if on {
        Callbacks::Cpg(Member::new(id, 0))
    } else {
        Callbacks::Dlm
    };
    cfg
}

/// One simulated GFS2 node.
#[derive(Clone, Debug, Hash)]
pub struct Node<const N: usize = 192> {
    /// Node id (1-based).
    pub id: u32,
    /// Life phase.
    pub phase: Phase,
    engine: Box<Engine<N>>,
    cfg: Config,
    journals: u32,
    generation_pid: u32,
    /// The DLM lock id of each engine lock.
    lkids: BTreeMap<LockRef, u32>,
    /// Which lock each of our DLM lock ids is.
    by_lkid: BTreeMap<u32, LockRef>,
    /// Replays in progress: jid → virtual time they finish.
    replays: BTreeMap<u32, u64>,
    /// The DLM's first recover_done (dlm_new_lockspace returning) was seen.
    ls_joined: bool,
    /// `engine.poll_timeout()` as of the last engine call (it changes only then), plus
    /// the slack it was armed with.
    timer: Option<Instant>,
    /// The engine's own deadline behind `timer`.
    timer_raw: Option<Instant>,
    /// Virtual ms the next newly armed engine timer's work runs late (a delayed work or
    /// `msleep` on a loaded VM; the simulator draws it, see
    /// [`crate::schedule::REAL_TIMER_SLACK_MS`]).
    pub next_slack_ms: u64,
    /// `next_slack_ms` went into a timer: the simulator draws the next one.
    pub slack_used: bool,
    /// The engine is new (nothing fed since it was made): a reset need not remake it.
    fresh: bool,
    /// Journal replays behave so.
    pub replay_model: ReplayModel,
    /// Unmount requested: stop traffic, then hand the unmount to the engine.
    pub unmount_requested: bool,
    unmount_handed: bool,
    /// Inode glock traffic.
    pub glocks: Glocks,
    /// Generate glock traffic when mounted (set by the simulator).
    pub traffic: bool,
    /// A random number for the next step's choices (set by the simulator).
    pub choice: u32,
}

impl<const N: usize> Node<N> {
    /// A node that has never mounted.
    pub fn new(id: u32, journals: u32, policy: SizePolicy) -> Self {
        Self::with_config(id, journals, traced(policy))
    }

    /// [`Node::new`] followed by [`Node::with_submit_policy`], [`Node::with_profile`] and
    /// [`Node::with_cpg`], making the engine once (each of those remakes it: an
    /// `Engine<192>` is 14 KB to clear).
    pub fn configured(
        id: u32,
        journals: u32,
        policy: SizePolicy,
        submit: SubmitPolicy,
        profile: gdlm_core::Profile,
        cpg: bool,
    ) -> Self {
        let cfg = traced(policy);
        let cfg = cfg_cpg(cfg_profile(cfg_submit(cfg, submit), profile), id, cpg);
        let mut n = Self::with_config(id, journals, cfg);
        n.glocks = Glocks::new(profile);
        n
    }

    fn with_config(id: u32, journals: u32, cfg: Config) -> Self {
        Node {
            id,
            phase: Phase::Down,
            engine: Box::new(Engine::new(cfg)),
            cfg,
            journals,
            generation_pid: 0,
            lkids: BTreeMap::new(),
            by_lkid: BTreeMap::new(),
            replays: BTreeMap::new(),
            ls_joined: false,
            timer: None,
            timer_raw: None,
            next_slack_ms: 0,
            slack_used: false,
            fresh: true,
            replay_model: ReplayModel::default(),
            unmount_requested: false,
            unmount_handed: false,
            glocks: Glocks::default(),
            traffic: false,
            choice: 0,
        }
    }

    /// Use this [`SubmitPolicy`] (kept across remounts).
    pub fn with_submit_policy(mut self, p: SubmitPolicy) -> Self {
        self.cfg = cfg_submit(self.cfg, p);
        *self.engine = Engine::new(self.cfg);
        self
    }

    /// Run this kernel's lock_dlm (kept across remounts).
    pub fn with_profile(mut self, p: gdlm_core::Profile) -> Self {
        self.cfg = cfg_profile(self.cfg, p);
        *self.engine = Engine::new(self.cfg);
        self.glocks = Glocks::new(p);
        self
    }

    /// Take recovery callbacks from CPG (userspace lockspaces), kept across remounts.
    pub fn with_cpg(mut self, on: bool) -> Self {
        self.cfg = cfg_cpg(self.cfg, self.id, on);
        *self.engine = Engine::new(self.cfg);
        self
    }

    /// Replays behave so (kept across remounts).
    pub fn with_replay_model(mut self, m: ReplayModel) -> Self {
        self.replay_model = m;
        self
    }

    fn reset(&mut self, phase: Phase) {
        if !self.fresh {
            *self.engine = Engine::new(self.cfg);
            self.fresh = true;
        }
        self.timer = None;
        self.timer_raw = None;
        self.phase = phase;
        self.lkids.clear();
        self.by_lkid.clear();
        self.replays.clear();
        self.ls_joined = false;
        self.unmount_requested = false;
        self.unmount_handed = false;
        self.glocks = Glocks::new(self.cfg.profile);
        // A new incarnation starts without glock traffic until the simulator turns it on
        // (as before the engine; keeps seeds comparable).
        self.traffic = false;
        self.choice = 0;
    }

    /// The engine.
    pub fn engine(&self) -> &Engine<N> {
        &self.engine
    }

    /// The core's recovery state (`ls_recover_*`).
    pub fn rec(&self) -> &Recovery<N> {
        self.engine.recovery()
    }

    /// Alive: a member of the lockspace (or joining it).
    pub fn alive(&self) -> bool {
        !matches!(self.phase, Phase::Down | Phase::Dead)
    }

    /// Holds its own journal lock: it may write its journal.
    pub fn owns_journal(&self) -> bool {
        self.engine.holds_own_journal()
    }

    /// The jid the core assigned (`ls_jid`).
    pub fn jid(&self) -> Option<u32> {
        self.engine.jid()
    }

    /// The node is using the file system with locking unblocked.
    pub fn accessing(&self) -> bool {
        self.engine.accessing() && !self.unmount_requested
    }

    /// Which engine lock a DLM lock id is (`None`: an inode glock's, or unknown).
    pub fn lock_of(&self, lkid: u32) -> Option<LockRef> {
        self.by_lkid.get(&lkid).copied()
    }

    /// A running replay of `jid` ends at `at` (virtual ms) instead (a drawn duration).
    pub fn set_replay_end(&mut self, jid: u32, at: u64) {
        if let Some(t) = self.replays.get_mut(&jid) {
            *t = at;
        }
    }

    /// Which runs first when a recover_done wakes a waiting `control_first_done` and
    /// queues the control work (set around one delivery by the simulator).
    pub fn set_first_done_order(&mut self, o: gdlm_core::engine::FirstDoneOrder) {
        self.engine.set_first_done_order(o);
    }

    /// The journal being replayed, if any.
    pub fn replaying(&self) -> Option<u32> {
        self.replays.keys().next().copied()
    }

    /// `gdlm_mount`: a fresh engine joins the lockspace.
    pub fn start_mount(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        self.reset(Phase::Down);
        if let Callbacks::Cpg(_) = self.cfg.callbacks {
            // A new daemon process each mount: a new CPG member.
            self.generation_pid += 1;
            self.cfg.callbacks = Callbacks::Cpg(Member::new(self.id, self.generation_pid));
            *self.engine = Engine::new(self.cfg);
            self.fresh = true;
        }
        let journals = self.journals;
        self.feed(dlm, now, Event::Mount { journals }, notes);
    }

    /// The node crashes: forget everything.
    pub fn crash(&mut self) {
        self.reset(Phase::Dead);
    }

    /// The file system withdraws.
    pub fn withdraw(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        self.feed(dlm, now, Event::Withdraw, notes);
    }

    /// Ready to hand the unmount to the engine (gfs2 has put its glocks).
    pub fn unmount_ready(&self) -> bool {
        self.unmount_requested
            && !self.unmount_handed
            && self.engine.phase() == EnginePhase::Mounted
            && !self.glocks.busy()
    }

    fn timer_due(&self, now: u64) -> bool {
        self.timer.is_some_and(|t| t <= Instant::from_millis(now))
    }

    /// Can run an internal step now?
    pub fn runnable(&self, now: u64) -> bool {
        if !self.alive() {
            return false;
        }
        if self.timer_due(now) {
            return true;
        }
        if self.phase == Phase::Joining {
            return false;
        }
        if self.unmount_ready() {
            return true;
        }
        if self.replays.values().any(|&t| t <= now) {
            return true;
        }
        self.glocks.demote_ready() || (self.traffic && self.accessing())
    }

    /// [`Node::runnable`] split by time: runnable at any time, else from which virtual ms
    /// (`runnable(now)` is `always || wake <= now`).
    pub fn run_state(&self) -> (bool, Option<u64>) {
        if !self.alive() {
            return (false, None);
        }
        // `timer_due(now)` is `t <= from_millis(now)`, i.e. `now >= ceil_ms(t)`.
        let timer = self.timer.map(|t| t.as_millis_ceil());
        if self.phase == Phase::Joining {
            return (false, timer);
        }
        // Cheapest first (while traffic runs, an accessing node needs no glock scan).
        let always = self.unmount_ready()
            || (self.traffic && self.accessing())
            || self.glocks.demote_ready();
        let replay = self.replays.values().min().copied();
        let wake = match (timer, replay) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (always, wake)
    }

    /// Exhaustive mode: every pending replay is done now (timers are judged against a
    /// time beyond any timer).
    pub fn fire_timers(&mut self) {
        for t in self.replays.values_mut() {
            *t = 0;
        }
    }

    /// Earliest pending timer (virtual ms).
    pub fn next_timer(&self) -> Option<u64> {
        let e = self.timer.map(|t| t.as_millis_ceil());
        let r = self.replays.values().min().copied();
        match (e, r) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- the executor ---------------------------------------------------------------

    /// Feed one event to the engine, then execute every action it asks for.
    fn feed(&mut self, dlm: &mut Dlm, now: u64, ev: Event<'_>, notes: &mut Vec<Note>) {
        self.fresh = false;
        let t = Instant::from_millis(now);
        if let Err(e) = self.engine.handle(t, ev) {
            self.refused(e, notes);
        }
        self.pump(dlm, now, notes);
    }

    fn refused(&mut self, e: gdlm_core::EngineError, notes: &mut Vec<Note>) {
        if self.engine.is_finished() {
            // The lockspace is being released: the kernel would not call back.
            notes.push(Note::Info(format!("after release: {e}")));
        } else {
            notes.push(Note::CoreError(format!("engine refused: {e}")));
        }
    }

    fn pump(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        let t = Instant::from_millis(now);
        loop {
            let mut immediate: Vec<(LockRef, i32)> = Vec::new();
            while let Some(a) = self.engine.poll() {
                self.execute(dlm, now, a, &mut immediate, notes);
            }
            self.phase = if self.phase == Phase::Dead {
                Phase::Dead
            } else {
                Phase::of(self.engine.phase())
            };
            if immediate.is_empty() {
                let raw = self.engine.poll_timeout();
                if raw != self.timer_raw {
                    self.timer_raw = raw;
                    // Only a delay (the mount's 500 ms sleep, the GAVEUP retry after HZ)
                    // runs late; work queued to run at once keeps its time.
                    let delayed = raw.is_some_and(|t| t > Instant::from_millis(now));
                    let ms = if delayed { self.next_slack_ms } else { 0 };
                    let slack = gdlm_core::engine::Duration::from_millis(ms);
                    self.timer = raw.map(|t| t + slack);
                    self.slack_used |= ms > 0;
                }
                return;
            }
            // A DLM call that failed at once completes with its error.
            for (lock, status) in immediate {
                let ev = Event::DlmDone {
                    lock,
                    status,
                    sb_flags: 0,
                    lvb: None,
                };
                if let Err(e) = self.engine.handle(t, ev) {
                    self.refused(e, notes);
                }
            }
        }
    }

    fn execute(
        &mut self,
        dlm: &mut Dlm,
        now: u64,
        a: Action,
        immediate: &mut Vec<(LockRef, i32)>,
        notes: &mut Vec<Note>,
    ) {
        match a {
            Action::NewLockspace { .. } => {
                if let Err(e) = dlm.join(self.id) {
                    let _ = self
                        .engine
                        .handle(Instant::from_millis(now), Event::LockspaceFailed(e));
                }
            }
            Action::JoinGroup => {
                if let Callbacks::Cpg(me) = self.cfg.callbacks {
                    notes.push(Note::JoinGroup(me));
                }
            }
            Action::Multicast => {
                let mut buf = vec![0u8; gdlm_core::SyncMsg::<N>::MAX_LEN];
                if let (Some(n), Callbacks::Cpg(me)) =
                    (self.engine.multicast_message(&mut buf), self.cfg.callbacks)
                {
                    buf.truncate(n);
                    notes.push(Note::Multicast(me, buf));
                }
            }
            Action::Dlm(req) => {
                // The engine's lksb buffer, lent with the call.
                let lvb = self.engine.request_lvb(&req).map(|l| *l.as_bytes());
                let err = self.dlm_call(dlm, &req, lvb);
                let result = match err {
                    Some(e) => Err(e),
                    None => Ok(self.lkids.get(&req.lock).copied().unwrap_or(0)),
                };
                notes.push(Note::DlmCall { req, lvb, result });
                if let Some(err) = err {
                    immediate.push((req.lock, err));
                }
            }
            Action::Replay { jid, .. } => {
                notes.push(Note::Replay(jid));
                let own = Some(jid) == self.engine.jid();
                let delay = if own { 0 } else { self.replay_model.delay_ms };
                self.replays.insert(jid, now + delay);
            }
            Action::Mounted { first, .. } => notes.push(Note::Mounted { first }),
            Action::MountFailed(why) => notes.push(Note::MountFailed(format!("{why:?}"))),
            Action::Unblocked { generation } => notes.push(Note::Unblocked(generation)),
            Action::Release(how) => {
                let jid = self.engine.jid();
                let held_journal = self.engine.holds_own_journal();
                let withdrawn = self.engine.phase() == EnginePhase::Withdrawn;
                let _ = match how {
                    Release::Normal => dlm.leave(self.id),
                    Release::Recover => dlm.leave_as_failed(self.id),
                };
                notes.push(Note::Released {
                    how,
                    withdrawn,
                    jid,
                    held_journal,
                });
                self.reset(Phase::Down);
            }
            Action::Log(l) => notes.push(Note::Log(l)),
        }
    }

    /// Make one DLM call; `Some(err)` if it failed at once.
    fn dlm_call(&mut self, dlm: &mut Dlm, req: &DlmRequest, lvb: Option<[u8; 32]>) -> Option<i32> {
        let lkid = self.lkids.get(&req.lock).copied();
        let name;
        match req.op {
            DlmOp::Lock { mode, flags } => {
                let f = flags.bits();
                let target = if f & DLM_LKF_CONVERT != 0 {
                    LockTarget::Lkid(lkid.unwrap_or(0))
                } else {
                    name = req.name();
                    LockTarget::Name(name.as_bytes())
                };
                match dlm.lock(self.id, mode.raw(), f, target, lvb) {
                    Ok(id) => {
                        if let Some(old) = self.lkids.insert(req.lock, id) {
                            if old != id {
                                self.by_lkid.remove(&old);
                            }
                        }
                        self.by_lkid.insert(id, req.lock);
                        None
                    }
                    Err(e) => Some(e),
                }
            }
            DlmOp::Unlock => {
                let Some(lkid) = lkid else { return Some(-22) };
                dlm.unlock(self.id, lkid, 0, None).err()
            }
        }
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
        if self.glocks.owns(lkid) {
            if let Err(e) = self.glocks.ast(lkid, status, sb_flags, lvb, now) {
                notes.push(Note::CoreError(e));
            }
            return;
        }
        let Some(&lock) = self.by_lkid.get(&lkid) else {
            return notes.push(Note::Info(format!("stray AST lkid {lkid} status {status}")));
        };
        if status == -DLM_EUNLOCK {
            self.by_lkid.remove(&lkid);
            if self.lkids.get(&lock) == Some(&lkid) {
                self.lkids.remove(&lock);
            }
        }
        let ev = Event::DlmDone {
            lock,
            status,
            sb_flags,
            lvb,
        };
        self.feed(dlm, now, ev, notes);
    }

    /// A blocking AST.
    pub fn bast(&mut self, lkid: u32, mode: i32, notes: &mut Vec<Note>) {
        if let Err(e) = self.glocks.bast(lkid, mode) {
            notes.push(Note::CoreError(e));
        }
    }

    /// `recover_prep`.
    pub fn recover_prep(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        self.feed(dlm, now, Event::RecoverPrep, notes);
    }

    /// `recover_slot`.
    pub fn recover_slot(&mut self, dlm: &mut Dlm, slot: u32, now: u64, notes: &mut Vec<Note>) {
        let slot = i32::try_from(slot).unwrap_or(i32::MAX);
        self.feed(dlm, now, Event::RecoverSlot { slot }, notes);
    }

    /// `recover_done`; the one inside `dlm_new_lockspace` lets the mount continue.
    pub fn recover_done(
        &mut self,
        dlm: &mut Dlm,
        slots: &[i32],
        our_slot: u32,
        generation: u32,
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        let our_slot = i32::try_from(our_slot).unwrap_or(i32::MAX);
        let ev = Event::RecoverDone {
            slots,
            our_slot,
            generation,
        };
        self.feed(dlm, now, ev, notes);
        self.lockspace_joined(dlm, now, notes);
    }

    /// The DLM's first recover_done for this mount: `dlm_new_lockspace` returns.
    pub fn lockspace_joined(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        if self.ls_joined || self.engine.phase() != EnginePhase::Joining {
            return;
        }
        self.ls_joined = true;
        self.feed(dlm, now, Event::LockspaceJoined, notes);
    }

    /// A CPG configuration change.
    pub fn cpg_confchg(
        &mut self,
        dlm: &mut Dlm,
        members: &[Member],
        left: &[(Member, LeftReason)],
        joined: &[Member],
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        let ev = Event::CpgConfchg {
            members,
            left,
            joined,
        };
        self.feed(dlm, now, ev, notes);
    }

    /// A CPG message.
    pub fn cpg_message(
        &mut self,
        dlm: &mut Dlm,
        from: Member,
        bytes: &[u8],
        now: u64,
        notes: &mut Vec<Note>,
    ) {
        self.feed(dlm, now, Event::CpgMessage { from, bytes }, notes);
    }

    /// Run one internal step that is ready at `now`.
    pub fn run(&mut self, dlm: &mut Dlm, now: u64, notes: &mut Vec<Note>) {
        if self.unmount_ready() {
            self.unmount_handed = true;
            return self.feed(dlm, now, Event::Unmount, notes);
        }
        if self.timer_due(now) {
            self.fresh = false;
            self.engine.handle_timeout(Instant::from_millis(now));
            return self.pump(dlm, now, notes);
        }
        if let Some((&jid, _)) = self.replays.iter().find(|(_, &t)| t <= now) {
            self.replays.remove(&jid);
            let own = Some(jid) == self.engine.jid();
            let ok = own || !self.replay_model.fail;
            notes.push(Note::Replayed { jid, ok });
            let outcome = if ok {
                ReplayOutcome::Success
            } else {
                ReplayOutcome::Failed(REPLAY_EIO)
            };
            return self.feed(dlm, now, Event::ReplayDone { jid, outcome }, notes);
        }
        let traffic = self.traffic && self.accessing();
        if let Err(e) = self.glocks.step(dlm, self.id, self.choice, traffic, now) {
            notes.push(Note::Info(e));
        }
    }
}

/// The canonical state (see [`crate::fingerprint`]): the engine without its statistics,
/// lock ids renamed, pending replays and the cached timer as "armed" (untimed mode: all
/// due at the next step), `choice` and `fresh` left out.
impl<const N: usize> Node<N> {
    pub(crate) fn canon(&self, c: &mut crate::fingerprint::Canon) {
        c.put(&(self.id, self.phase));
        c.engine(&self.engine);
        c.put(&(self.cfg, self.journals, self.generation_pid));
        c.put(&self.lkids.len());
        for (lock, &id) in &self.lkids {
            let id = c.lkid(id);
            c.put(&(lock, id));
        }
        let mut by: Vec<(u32, LockRef)> = self
            .by_lkid
            .iter()
            .map(|(&id, &lock)| (c.lkid(id), lock))
            .collect();
        by.sort_unstable();
        c.put(&by);
        c.put(&self.replays.keys().collect::<Vec<_>>());
        c.put(&(self.ls_joined, self.timer.is_some(), self.replay_model));
        c.put(&(self.unmount_requested, self.unmount_handed, self.traffic));
        c.put(&self.glocks);
    }

    /// The exhaustive check's renaming ([`crate::fingerprint::Generations`]): every
    /// generation the engine holds (only compared), and with CPG callbacks a synced
    /// membership's generation once more as a counter (it counts on from it per change).
    pub(crate) fn visit_generations(
        &mut self,
        f: &mut dyn FnMut(crate::fingerprint::Gen, &mut u32),
    ) {
        use crate::fingerprint::{Family, Gen};
        if let Some(mut g) = self.engine.membership().and_then(|m| m.generation()) {
            f(Gen::counter(Family::Lockspace), &mut g);
        }
        self.engine
            .visit_generations(&mut |g| f(Gen::compared(Family::Lockspace), g));
    }

    /// Exhaustive mode: move an idle engine's clock to `now` (a `handle_timeout` with
    /// nothing due only moves the clock), so every engine holds the same instant.
    pub(crate) fn set_clock(&mut self, now: u64) {
        if self.engine.poll_timeout().is_none() {
            self.engine.handle_timeout(Instant::from_millis(now));
        }
    }
}
