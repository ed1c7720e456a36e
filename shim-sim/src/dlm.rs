//! Deterministic model of one kernel DLM lockspace (`fs/dlm`), as seen by its users.
//!
//! The model promises what the kernel DLM promises and nothing more. It is single-threaded and
//! has no clock and no randomness: the simulator calls it, and every completion (AST), blocking
//! callback (BAST) and recovery callback is queued in an outbox that the simulator delivers
//! later ([`Dlm::pop_event`], [`Dlm::drain_events`]). Nothing is delivered synchronously.
//!
//! One [`Dlm`] is one lockspace with one logical lock master per resource. Behaviour is taken
//! from `fs/dlm/lock.c` (grant rules, LVB rules, BASTs), `fs/dlm/recover.c` (`recover_lvb`),
//! `fs/dlm/member.c` and `fs/dlm/recoverd.c` (recovery sequence); each function cites its source.
//!
//! Modelling choices (see also the item docs):
//! * A request made while locking is stopped for recovery (or by a node whose join has not been
//!   recovered yet) is **deferred**: in the kernel the caller sleeps in `dlm_lock_recovery()` and
//!   the request runs after `enable_locking()`. Argument errors are still returned at once; a
//!   lock-state error found only when the deferred call finally runs is reported as
//!   [`DlmEvent::DeferredError`] (the blocked call "returning" late).
//! * Requests from a node that is not a member return [`DlmConfig::released_errno`]
//!   (default `-ENODEV`, the behaviour since 6ab26555c9ff; older kernels returned `-EINVAL`).
//! * Lock ids are global and never reused; an lkid owned by another node is `-ENOENT`
//!   (`find_lkb`), exactly like an unknown one.
//! * The LVB buffer of the caller (`lksb->sb_lvbptr`) is modelled by the last LVB value the
//!   lock saw: the one passed in by the caller or copied out by the DLM.
#![allow(clippy::too_many_arguments)]

use std::collections::{BTreeMap, VecDeque};

/// Length of a lock value block (`DLM_USER_LVB_LEN`, GDLM_LVB_SIZE).
pub const LVB_LEN: usize = 32;
/// Longest resource name accepted (`DLM_RESNAME_MAXLEN`).
pub const RESNAME_MAXLEN: usize = 64;
/// A lock value block.
pub type Lvb = [u8; LVB_LEN];

// The DLM's own constants (modes, `DLM_LKF_*`, `DLM_SBF_*`, statuses) are gdlm-core's: one
// definition, checked against the golden `constants.jsonl`.
pub use gdlm_core::consts::{
    DLM_ECANCEL, DLM_EUNLOCK, DLM_LKF_ALTCW, DLM_LKF_ALTPR, DLM_LKF_CANCEL, DLM_LKF_CONVDEADLK,
    DLM_LKF_CONVERT, DLM_LKF_EXPEDITE, DLM_LKF_FORCEUNLOCK, DLM_LKF_HEADQUE, DLM_LKF_IVVALBLK,
    DLM_LKF_NODLCKBLK, DLM_LKF_NODLCKWT, DLM_LKF_NOORDER, DLM_LKF_NOQUEUE, DLM_LKF_NOQUEUEBAST,
    DLM_LKF_ORPHAN, DLM_LKF_PERSISTENT, DLM_LKF_QUECVT, DLM_LKF_TIMEOUT, DLM_LKF_VALBLK,
    DLM_LOCK_CR, DLM_LOCK_CW, DLM_LOCK_EX, DLM_LOCK_IV, DLM_LOCK_NL, DLM_LOCK_PR, DLM_LOCK_PW,
    DLM_SBF_ALTMODE, DLM_SBF_DEMOTED, DLM_SBF_VALNOTVALID, EAGAIN, EBUSY, EDEADLK, EINVAL, ENODEV,
};

/// errno values (asm-generic) that gdlm-core has no use for; statuses are delivered negated.
pub const ENOENT: i32 = 2;
/// `EEXIST` (asm-generic).
pub const EEXIST: i32 = 17;

// `__dlm_compat_matrix` restricted to IV..EX, indexed [mode + 1].
const COMPAT: [[bool; 7]; 7] = [
    [true, true, true, true, true, true, true],      // IV
    [true, true, true, true, true, true, true],      // NL
    [true, true, true, true, true, true, false],     // CR
    [true, true, true, true, false, false, false],   // CW
    [true, true, true, false, true, false, false],   // PR
    [true, true, true, false, false, false, false],  // PW
    [true, true, false, false, false, false, false], // EX
];

// `__quecvt_compat_matrix`: which (granted, requested) pairs may use QUECVT.
const QUECVT_OK: [[bool; 7]; 7] = [
    [false; 7],
    [false, false, true, true, true, true, true],
    [false, false, false, true, true, true, true],
    [false, false, false, false, true, true, true],
    [false, false, false, true, false, true, true],
    [false, false, false, false, false, false, true],
    [false; 7],
];

// `dlm_lvb_operations`: 1 = LVB returned to caller, 0 = written to resource, -1 = nothing.
const LVB_OPS: [[i8; 7]; 7] = [
    [-1, 1, 1, 1, 1, 1, 1],
    [-1, 1, 1, 1, 1, 1, 1],
    [-1, -1, 1, 1, 1, 1, 1],
    [-1, -1, -1, 1, 1, 1, 1],
    [-1, -1, -1, -1, 1, 1, 1],
    [-1, 0, 0, 0, 0, 0, 1],
    [-1, 0, 0, 0, 0, 0, 0],
];

fn idx(mode: i32) -> usize {
    (mode + 1) as usize
}

/// The standard DLM mode compatibility matrix (`dlm_modes_compat`). `IV` is compatible with all.
pub fn modes_compat(granted: i32, requested: i32) -> bool {
    COMPAT[idx(granted)][idx(requested)]
}

fn valid_mode(mode: i32) -> bool {
    (DLM_LOCK_NL..=DLM_LOCK_EX).contains(&mode)
}

/// Something the DLM tells a node, queued in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DlmEvent {
    /// Completion AST: the lksb of `lkid` now holds `status`, `sb_flags` and (if `lvb` is
    /// `Some`) the LVB copied into the caller's buffer. `mode` is the granted mode after the
    /// operation (`DLM_LOCK_IV` if the lock is gone); kernel callers do not see it, it is here
    /// for invariant checks.
    Ast {
        node: u32,
        lkid: u32,
        status: i32,
        sb_flags: u8,
        lvb: Option<Lvb>,
        mode: i32,
    },
    /// Blocking AST: a request for `mode` is blocked by `lkid`.
    Bast { node: u32, lkid: u32, mode: i32 },
    /// `recover_prep`: locking is stopped for recovery.
    RecoverPrep { node: u32 },
    /// `recover_slot`: member `failed` (slot `slot`) failed.
    RecoverSlot { node: u32, failed: u32, slot: u32 },
    /// `recover_done`: recovery finished with this member list and generation.
    RecoverDone {
        node: u32,
        /// `(node, slot)` of every member; one table shared by the generation's events.
        slots: std::sync::Arc<[(u32, u32)]>,
        our_slot: u32,
        generation: u32,
    },
    /// A call deferred by recovery failed when it finally ran (the blocked call's return value).
    DeferredError { node: u32, lkid: u32, error: i32 },
}

impl DlmEvent {
    /// The node this event is addressed to.
    pub fn node(&self) -> u32 {
        match self {
            DlmEvent::Ast { node, .. }
            | DlmEvent::Bast { node, .. }
            | DlmEvent::RecoverPrep { node }
            | DlmEvent::RecoverSlot { node, .. }
            | DlmEvent::RecoverDone { node, .. }
            | DlmEvent::DeferredError { node, .. } => *node,
        }
    }
}

/// Which lock a [`Dlm::lock`] call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockTarget<'a> {
    /// A new lock on the named resource (flags must not contain `CONVERT`).
    Name(&'a [u8]),
    /// A conversion of an existing lock (flags must contain `CONVERT`).
    Lkid(u32),
}

/// Where a lock sits on its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockStatus {
    /// A new request held back by recovery, not yet on any queue.
    Deferred,
    Waiting,
    Converting,
    Granted,
}

/// Fault injection, all off by default.
#[derive(Debug, Clone, Default, Hash)]
pub struct Faults {
    /// RACES 2 (DLM device 6.0.1, lvmlockd 521136181): an NL→EX conversion with VALBLK does not
    /// copy the resource LVB; the AST carries the value this lock saw before instead.
    pub stale_lvb_nl_to_ex: bool,
    /// RACES 10: `DLM_SBF_ALTMODE` is never cleared once set on a lock.
    pub sticky_altmode: bool,
    /// RACES 8: the next N conversions/unlocks (not cancels) from a node return `-EBUSY` with
    /// no effect, like `dlm_lock`/`dlm_unlock` on a lock with a remote operation in flight.
    pub ebusy_calls: BTreeMap<u32, u32>,
    /// Never invalidate the LVB when a PW/EX holder is purged (kernels before
    /// `RSB_RECOVER_LVB_INVAL`); lets a simulator check who relies on VALNOTVALID.
    pub no_lvb_invalidate: bool,
    /// Give these nodes these slots when they join (if free) instead of the lowest free one:
    /// slots far apart exercise the reference's `set_recover_size` growth (RACES 1).
    pub forced_slots: BTreeMap<u32, u32>,
}

/// Kernel-version dependent behaviour.
#[derive(Debug, Clone, Hash)]
pub struct DlmConfig {
    /// Errno for calls from a node that is not a member (released lockspace).
    pub released_errno: i32,
    /// Emit `recover_prep` on every stop, even when locking was already stopped (kernels before
    /// "dlm: call recover_prep only once"); `false` = only when locking was running.
    pub prep_on_every_stop: bool,
    /// When a resource's master leaves, recover its LVB from the survivors' copies the way a new
    /// master does (`recover_lvb` case 2): the value may go back in time and VALNOTVALID is set
    /// when only NL/CR holders remain.
    pub remaster_lvb: bool,
}

impl Default for DlmConfig {
    fn default() -> Self {
        DlmConfig {
            released_errno: -ENODEV,
            prep_on_every_stop: true,
            remaster_lvb: true,
        }
    }
}

/// How far the current recovery has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecoveryPhase {
    /// No recovery in progress.
    Idle,
    /// Locking stopped, `recover_prep` sent (`dlm_ls_stop`).
    Stopped,
    /// Members recomputed, `recover_slot` sent, dead locks purged (`dlm_recover_members`,
    /// `dlm_recover_purge`, `recover_lvb`).
    MembersRecovered,
    /// Locking enabled again and pending grants done (`enable_locking`, `dlm_recover_grant`);
    /// `recover_done` still to come.
    LockingEnabled,
}

/// What one [`Dlm::recovery_step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecoveryStep {
    /// Stopped locking and (maybe) sent `recover_prep`.
    Stopped,
    /// Sent the `recover_done` owed by a recovery that was interrupted after enabling locking.
    OwedDone,
    /// Recomputed members and slots, sent `recover_slot`, purged departed nodes' locks.
    MembersRecovered,
    /// Enabled locking, granted what became grantable, ran deferred calls.
    LockingEnabled,
    /// Sent `recover_done`; recovery complete.
    Done,
}

/// Read-only view of a lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockView {
    pub lkid: u32,
    pub node: u32,
    pub name: Vec<u8>,
    pub grmode: i32,
    pub rqmode: i32,
    pub status: LockStatus,
}

/// Read-only view of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceView {
    pub grant: Vec<u32>,
    pub convert: Vec<u32>,
    pub wait: Vec<u32>,
    /// `None` until someone writes it (`res_lvbptr == NULL`).
    pub lvb: Option<Lvb>,
    pub valnotvalid: bool,
    pub master: u32,
}

#[derive(Debug, Clone, Hash)]
struct Lock {
    node: u32,
    /// The resource (an interned name).
    res: Rid,
    grmode: i32,
    rqmode: i32,
    status: LockStatus,
    exflags: u32,
    sbflags: u8,
    highbast: i32,
    /// Model of the caller's LVB buffer.
    lvb: Option<Lvb>,
    lvbseq: u32,
    /// LVB copied into the caller's buffer by the grant being completed.
    ast_lvb: Option<Lvb>,
}

#[derive(Debug, Clone, Hash)]
struct Resource {
    grant: Vec<u32>,
    convert: Vec<u32>,
    wait: Vec<u32>,
    /// How many locks on `grant` and on `convert` hold each granted mode (by `idx`), so
    /// a request's conflict check does not visit every holder.
    grant_modes: [u32; 7],
    convert_modes: [u32; 7],
    lvb: Option<Lvb>,
    lvbseq: u32,
    valnotvalid: bool,
    master: u32,
}

/// The locks by id: lock ids are handed out in increasing order, so a deque indexed by
/// `id - base` finds a lock without a search (a map lookup per step was most of a
/// request's cost with hundreds of locks); ids below the oldest live one are dropped
/// from the front. Iteration is in id order, as with a map.
#[derive(Debug, Clone, Default, Hash)]
struct Locks {
    base: u32,
    slots: VecDeque<Option<Lock>>,
}

impl Locks {
    fn slot(&self, id: u32) -> Option<usize> {
        id.checked_sub(self.base).map(|i| i as usize)
    }
    fn get(&self, id: &u32) -> Option<&Lock> {
        self.slots.get(self.slot(*id)?)?.as_ref()
    }
    fn get_mut(&mut self, id: &u32) -> Option<&mut Lock> {
        let i = self.slot(*id)?;
        self.slots.get_mut(i)?.as_mut()
    }
    /// Insert lock `id`, above every id inserted before.
    fn insert(&mut self, id: u32, l: Lock) {
        if self.slots.is_empty() {
            self.base = id;
        }
        let i = self.slot(id).expect("lock ids increase");
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(l);
    }
    fn trim(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.base += 1;
        }
    }
    fn remove(&mut self, id: &u32) -> Option<Lock> {
        let i = self.slot(*id)?;
        let l = self.slots.get_mut(i)?.take();
        self.trim();
        l
    }
    fn retain(&mut self, mut f: impl FnMut(&u32, &mut Lock) -> bool) {
        let base = self.base;
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(l) = s {
                if !f(&(base + i as u32), l) {
                    *s = None;
                }
            }
        }
        self.trim();
    }
    fn iter(&self) -> impl Iterator<Item = (u32, &Lock)> {
        let base = self.base;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, s)| Some((base + i as u32, s.as_ref()?)))
    }
    fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.iter().map(|(id, _)| id)
    }
}

impl std::ops::Index<&u32> for Locks {
    type Output = Lock;
    fn index(&self, id: &u32) -> &Lock {
        self.get(id).expect("lock")
    }
}

/// An interned resource name.
type Rid = u32;

/// The resources, by interned name: a name is compared once, when a lock is made on it;
/// every later step reaches its resource by index. Ids are never reused (names are few:
/// the control, mounted and journal locks and the glocks), and iteration is in name
/// order, as with a map keyed by name.
#[derive(Debug, Clone, Default, Hash)]
struct Resources {
    ids: BTreeMap<Vec<u8>, Rid>,
    names: Vec<Vec<u8>>,
    slots: Vec<Option<Resource>>,
    live: usize,
}

impl Resources {
    fn intern(&mut self, name: &[u8]) -> Rid {
        if let Some(&r) = self.ids.get(name) {
            return r;
        }
        let r = self.names.len() as Rid;
        self.ids.insert(name.to_vec(), r);
        self.names.push(name.to_vec());
        self.slots.push(None);
        r
    }
    fn id(&self, name: &[u8]) -> Option<Rid> {
        self.ids.get(name).copied()
    }
    fn name(&self, r: Rid) -> &Vec<u8> {
        &self.names[r as usize]
    }
    fn get(&self, r: Rid) -> Option<&Resource> {
        self.slots.get(r as usize)?.as_ref()
    }
    fn get_mut(&mut self, r: Rid) -> Option<&mut Resource> {
        self.slots.get_mut(r as usize)?.as_mut()
    }
    fn by_name(&self, name: &[u8]) -> Option<&Resource> {
        self.get(self.id(name)?)
    }
    fn contains_key(&self, r: Rid) -> bool {
        self.get(r).is_some()
    }
    fn remove(&mut self, r: Rid) {
        if let Some(s) = self.slots.get_mut(r as usize) {
            if s.take().is_some() {
                self.live -= 1;
            }
        }
    }
    fn get_or_insert(&mut self, r: Rid, f: impl FnOnce() -> Resource) -> &mut Resource {
        let s = &mut self.slots[r as usize];
        if s.is_none() {
            *s = Some(f());
            self.live += 1;
        }
        s.as_mut().expect("just inserted")
    }
    /// Existing resources, in name order.
    fn keys(&self) -> Vec<Rid> {
        self.ids
            .values()
            .copied()
            .filter(|&r| self.contains_key(r))
            .collect()
    }
    /// Existing resources with their names, in name order.
    fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Resource)> {
        self.ids
            .iter()
            .filter_map(|(n, &r)| Some((n, self.get(r)?)))
    }
    fn len(&self) -> usize {
        self.live
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Departure {
    Clean,
    Failed,
}

#[derive(Debug, Clone, Hash)]
enum Call {
    Lock {
        node: u32,
        lkid: u32,
        mode: i32,
        flags: u32,
        lvb: Option<Lvb>,
    },
    Unlock {
        node: u32,
        lkid: u32,
        flags: u32,
        lvb: Option<Lvb>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Outcome {
    Granted,
    InProgress,
    Again,
    Deadlk,
}

/// One DLM lockspace: members, resources, locks, recovery state and the event outbox.
#[derive(Debug, Clone, Hash)]
pub struct Dlm {
    /// Fault injection switches.
    pub faults: Faults,
    config: DlmConfig,
    /// Configured members (after the latest membership change).
    members: BTreeMap<u32, ()>,
    /// Members as the DLM knows them after the last completed member recovery, with slots.
    ls_nodes: BTreeMap<u32, u32>,
    /// Nodes removed from the configuration but still in `ls_nodes`.
    departed: BTreeMap<u32, Departure>,
    generation: u32,
    running: bool,
    phase: RecoveryPhase,
    change_pending: bool,
    done_owed: bool,
    resources: Resources,
    locks: Locks,
    next_lkid: u32,
    deferred: VecDeque<Call>,
    outbox: VecDeque<DlmEvent>,
    /// Undelivered events per node id, and how many are `RecoverPrep` (derived from
    /// `outbox`, so the scheduler need not scan it).
    pending: Vec<u32>,
    preps: u32,
    /// Nodes whose undelivered events started or stopped being pending since
    /// [`Dlm::take_touched`].
    touched: Touched,
    /// Calls made by nodes so far ([`Dlm::calls`]).
    calls: Calls,
    /// Per outbox entry (same order): what kind of latency it has and, once the simulator
    /// stamped it, when it may be delivered ([`Dlm::stamp_events`]).
    stamps: Stamps,
}

/// How long an outbox event takes to reach its node, as the simulator's time model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// A completion AST (grant, convert, unlock, cancel, `-EAGAIN`) of a lock whose
    /// resource the requesting node masters.
    LocalAst,
    /// A completion AST of a lock whose resource another node masters (a round trip).
    RemoteAst,
    /// Blocking ASTs and recovery callbacks: no latency of their own.
    None,
}

/// [`Dlm::stamps`]: an event's latency kind and its delivery time (`u64::MAX` until stamped).
#[derive(Debug, Clone, Copy)]
struct Stamp {
    kind: Latency,
    due: u64,
}

/// Scheduler bookkeeping, parallel to the outbox: not part of the DLM's state (hashes as
/// nothing, like [`Touched`]).
#[derive(Debug, Clone, Default)]
struct Stamps {
    v: VecDeque<Stamp>,
    /// Entries at the back not stamped yet.
    unstamped: usize,
}

impl std::hash::Hash for Stamps {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Bookkeeping for the scheduler: not part of the DLM's state (hashes as nothing).
#[derive(Debug, Clone, Default)]
struct Touched(Vec<u32>);

impl std::hash::Hash for Touched {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Counts the nodes' calls (`join`, `leave`, `leave_as_failed`, `lock`, `unlock`): the
/// exhaustive check's reduction tells a node step that never reached the DLM by it. Not
/// part of the DLM's state (hashes as nothing).
#[derive(Debug, Clone, Default)]
struct Calls(u64);

impl std::hash::Hash for Calls {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl Default for Dlm {
    fn default() -> Self {
        Self::new()
    }
}

impl Dlm {
    /// An empty lockspace with the default (reference-era) configuration.
    pub fn new() -> Self {
        Self::with_config(DlmConfig::default())
    }

    /// An empty lockspace with the given configuration.
    pub fn with_config(config: DlmConfig) -> Self {
        Dlm {
            faults: Faults::default(),
            config,
            members: BTreeMap::new(),
            ls_nodes: BTreeMap::new(),
            departed: BTreeMap::new(),
            generation: 0,
            running: true,
            phase: RecoveryPhase::Idle,
            change_pending: false,
            done_owed: false,
            resources: Resources::default(),
            locks: Locks::default(),
            next_lkid: 1,
            deferred: VecDeque::new(),
            outbox: VecDeque::new(),
            calls: Calls::default(),
            pending: Vec::new(),
            preps: 0,
            touched: Touched::default(),
            stamps: Stamps::default(),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Events

    /// Takes the oldest undelivered event.
    pub fn pop_event(&mut self) -> Option<DlmEvent> {
        let ev = self.outbox.pop_front()?;
        self.pop_stamp(0);
        self.counted(&ev, -1);
        Some(ev)
    }

    /// Takes all undelivered events, oldest first.
    pub fn drain_events(&mut self) -> Vec<DlmEvent> {
        let v: Vec<DlmEvent> = self.outbox.drain(..).collect();
        self.stamps = Stamps::default();
        for ev in &v {
            self.counted(ev, -1);
        }
        v
    }

    /// Undelivered events for `node` (without scanning them).
    pub fn pending_for(&self, node: u32) -> u32 {
        self.pending.get(node as usize).copied().unwrap_or(0)
    }

    /// Some undelivered event is a `RecoverPrep`.
    pub fn prep_pending(&self) -> bool {
        self.preps > 0
    }

    /// The nodes that got their first undelivered event or lost their last one since the
    /// last call (repeats possible), appended to `out`.
    pub fn take_touched(&mut self, out: &mut Vec<u32>) {
        out.append(&mut self.touched.0);
    }

    /// Some node's pending state changed since [`Dlm::take_touched`].
    pub fn has_touched(&self) -> bool {
        !self.touched.0.is_empty()
    }

    fn counted(&mut self, ev: &DlmEvent, delta: i32) {
        let n = ev.node() as usize;
        if self.pending.len() <= n {
            self.pending.resize(n + 1, 0);
        }
        let was = self.pending[n];
        self.pending[n] = was.wrapping_add_signed(delta);
        if matches!(ev, DlmEvent::RecoverPrep { .. }) {
            self.preps = self.preps.wrapping_add_signed(delta);
        }
        if (was == 0) != (self.pending[n] == 0) {
            self.touched.0.push(n as u32);
        }
    }

    /// Calls made by nodes so far (`join`, `leave`, `leave_as_failed`, `lock`, `unlock`;
    /// bookkeeping, not state).
    pub fn calls(&self) -> u64 {
        self.calls.0
    }

    /// Undelivered events, oldest first.
    pub fn pending_events(&self) -> &VecDeque<DlmEvent> {
        &self.outbox
    }

    /// Takes the oldest undelivered event for `node` (the simulator may deliver per node).
    pub fn pop_event_for(&mut self, node: u32) -> Option<DlmEvent> {
        if self.pending_for(node) == 0 {
            return None;
        }
        let i = self.outbox.iter().position(|e| e.node() == node)?;
        let ev = self.outbox.remove(i)?;
        self.pop_stamp(i);
        self.counted(&ev, -1);
        Some(ev)
    }

    /// When `node`'s oldest undelivered event may be delivered (`u64::MAX`: not stamped
    /// yet), or `None` if it has none.
    pub fn head_due_for(&self, node: u32) -> Option<u64> {
        if self.pending_for(node) == 0 {
            return None;
        }
        let i = self.outbox.iter().position(|e| e.node() == node)?;
        self.stamps.v.get(i).map(|s| s.due)
    }

    /// Some event is not stamped yet.
    pub fn has_unstamped(&self) -> bool {
        self.stamps.unstamped > 0
    }

    /// Give every event not stamped yet its delivery time, oldest first: `due(node, kind)`.
    pub fn stamp_events(&mut self, mut due: impl FnMut(u32, Latency) -> u64) {
        // The unstamped events are the newest (every call stamps all of them).
        let n = self.outbox.len();
        let first = n - self.stamps.unstamped.min(n);
        for i in first..n {
            let s = &mut self.stamps.v[i];
            debug_assert_eq!(s.due, u64::MAX);
            s.due = due(self.outbox[i].node(), s.kind);
        }
        self.stamps.unstamped = 0;
    }

    fn pop_stamp(&mut self, i: usize) {
        if self.stamps.v.remove(i).is_some_and(|s| s.due == u64::MAX) {
            self.stamps.unstamped -= 1;
        }
    }

    fn emit(&mut self, ev: DlmEvent) {
        self.emit_with(ev, Latency::None);
    }

    fn emit_with(&mut self, ev: DlmEvent, kind: Latency) {
        // A departed node receives nothing (its lockspace is gone).
        if self.members.contains_key(&ev.node()) {
            self.counted(&ev, 1);
            self.outbox.push_back(ev);
            self.stamps.v.push_back(Stamp {
                kind,
                due: u64::MAX,
            });
            self.stamps.unstamped += 1;
        }
    }

    // ----------------------------------------------------------------------------------------
    // Membership and recovery

    /// Node `node` creates/joins the lockspace. Takes effect through the recovery sequence; the
    /// node's first callback is `RecoverDone`. `-EEXIST` if already a member.
    pub fn join(&mut self, node: u32) -> Result<(), i32> {
        self.calls.0 += 1;
        if self.members.contains_key(&node) {
            return Err(-EEXIST);
        }
        self.members.insert(node, ());
        self.departed.remove(&node);
        self.change_pending = true;
        Ok(())
    }

    /// Clean release (`dlm_release_lockspace`): survivors get no `recover_slot`.
    pub fn leave(&mut self, node: u32) -> Result<(), i32> {
        self.calls.0 += 1;
        self.depart(node, Departure::Clean)
    }

    /// Release with `DLM_RELEASE_RECOVER`: survivors see it as a failure (`recover_slot`).
    pub fn leave_as_failed(&mut self, node: u32) -> Result<(), i32> {
        self.calls.0 += 1;
        self.depart(node, Departure::Failed)
    }

    /// The node crashes: survivors get `recover_slot` for it.
    pub fn crash(&mut self, node: u32) -> Result<(), i32> {
        self.depart(node, Departure::Failed)
    }

    fn depart(&mut self, node: u32, kind: Departure) -> Result<(), i32> {
        if self.members.remove(&node).is_none() {
            return Err(self.config.released_errno);
        }
        // Its undelivered callbacks and blocked calls die with it.
        if self.pending_for(node) > 0 {
            let keep: Vec<bool> = self.outbox.iter().map(|e| e.node() != node).collect();
            let mut k = keep.iter();
            self.outbox.retain(|_| *k.next().unwrap_or(&true));
            let mut k = keep.iter();
            self.stamps.v.retain(|_| *k.next().unwrap_or(&true));
            self.stamps.unstamped = self.stamps.v.iter().filter(|s| s.due == u64::MAX).count();
            self.preps = self
                .outbox
                .iter()
                .filter(|e| matches!(e, DlmEvent::RecoverPrep { .. }))
                .count() as u32;
            self.pending[node as usize] = 0;
            self.touched.0.push(node);
        }
        self.deferred.retain(|c| match c {
            Call::Lock { node: n, .. } | Call::Unlock { node: n, .. } => *n != node,
        });
        if self.ls_nodes.contains_key(&node) {
            self.departed.insert(node, kind);
            self.locks
                .retain(|_, l| l.node != node || l.status != LockStatus::Deferred);
        } else {
            // Joined but never recovered in: it has no locks on any queue.
            self.locks.retain(|_, l| l.node != node);
        }
        self.change_pending = true;
        Ok(())
    }

    /// The node left or failed and the DLM has not yet recovered its departure; it cannot
    /// rejoin until then (dlm_controld processes the leave before a new join).
    pub fn departing(&self, node: u32) -> bool {
        self.departed.contains_key(&node)
    }

    /// Configured members, ascending.
    pub fn members(&self) -> Vec<u32> {
        self.members.keys().copied().collect()
    }

    /// Slot of a member known to the DLM (assigned during member recovery).
    pub fn slot_of(&self, node: u32) -> Option<u32> {
        if self.members.contains_key(&node) {
            self.ls_nodes.get(&node).copied()
        } else {
            None
        }
    }

    /// Lockspace generation (grows with each member recovery).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether locking is stopped for recovery.
    pub fn locking_blocked(&self) -> bool {
        !self.running
    }

    /// Current recovery phase.
    pub fn recovery_phase(&self) -> RecoveryPhase {
        self.phase
    }

    /// Whether [`Dlm::recovery_step`] has work to do.
    pub fn recovery_pending(&self) -> bool {
        self.change_pending || self.phase != RecoveryPhase::Idle
    }

    /// Runs recovery steps until idle; returns the steps taken.
    pub fn run_recovery(&mut self) -> Vec<RecoveryStep> {
        let mut v = Vec::new();
        while let Some(s) = self.recovery_step() {
            v.push(s);
        }
        v
    }

    /// Advances recovery by one step (kernel order: `dlm_ls_stop` → `ls_recover` members/purge →
    /// `enable_locking` + `dlm_recover_grant` → `recover_done`). A membership change at any point
    /// restarts at the stop. Returns `None` when there is nothing to do.
    pub fn recovery_step(&mut self) -> Option<RecoveryStep> {
        if self.change_pending {
            self.change_pending = false;
            let was_running = self.running;
            self.running = false;
            // ls_recover() already enabled locking; it still calls recover_done afterwards.
            if self.phase == RecoveryPhase::LockingEnabled {
                self.done_owed = true;
            }
            if was_running || self.config.prep_on_every_stop {
                for n in self.active_ls_nodes() {
                    self.emit(DlmEvent::RecoverPrep { node: n });
                }
            }
            self.phase = RecoveryPhase::Stopped;
            return Some(RecoveryStep::Stopped);
        }
        match self.phase {
            RecoveryPhase::Idle => None,
            RecoveryPhase::Stopped if self.done_owed => {
                self.done_owed = false;
                self.emit_done();
                Some(RecoveryStep::OwedDone)
            }
            RecoveryPhase::Stopped => {
                self.recover_members();
                self.phase = RecoveryPhase::MembersRecovered;
                Some(RecoveryStep::MembersRecovered)
            }
            RecoveryPhase::MembersRecovered => {
                self.enable_locking();
                self.phase = RecoveryPhase::LockingEnabled;
                Some(RecoveryStep::LockingEnabled)
            }
            RecoveryPhase::LockingEnabled => {
                self.emit_done();
                self.phase = RecoveryPhase::Idle;
                Some(RecoveryStep::Done)
            }
        }
    }

    fn active_ls_nodes(&self) -> Vec<u32> {
        self.ls_nodes
            .keys()
            .copied()
            .filter(|n| self.members.contains_key(n))
            .collect()
    }

    fn emit_done(&mut self) {
        let slots: std::sync::Arc<[(u32, u32)]> =
            self.ls_nodes.iter().map(|(n, s)| (*n, *s)).collect();
        for &(n, s) in slots.iter() {
            self.emit(DlmEvent::RecoverDone {
                node: n,
                slots: slots.clone(),
                our_slot: s,
                generation: self.generation,
            });
        }
    }

    /// `dlm_recover_members` + `dlm_slots_assign` + `dlm_recover_purge` + `recover_lvb`.
    fn recover_members(&mut self) {
        let departed = std::mem::take(&mut self.departed);
        let mut failed = Vec::new();
        for (&n, &kind) in &departed {
            if let Some(slot) = self.ls_nodes.remove(&n) {
                if kind == Departure::Failed {
                    failed.push((n, slot));
                }
            }
        }
        for s in self.active_ls_nodes() {
            for &(f, slot) in &failed {
                self.emit(DlmEvent::RecoverSlot {
                    node: s,
                    failed: f,
                    slot,
                });
            }
        }
        // Joiners get the lowest free slots, ascending node id (`dlm_slots_assign`).
        let joiners: Vec<u32> = self
            .members
            .keys()
            .copied()
            .filter(|n| !self.ls_nodes.contains_key(n))
            .collect();
        // Slots in use, as a bitmap (one pass over the members, not one per joiner).
        let mut used: Vec<bool> = Vec::new();
        let mark = |used: &mut Vec<bool>, s: u32| {
            let s = s as usize;
            if used.len() <= s {
                used.resize(s + 1, false);
            }
            used[s] = true;
        };
        let taken = |used: &Vec<bool>, s: u32| used.get(s as usize).copied().unwrap_or(false);
        for &s in self.ls_nodes.values() {
            mark(&mut used, s);
        }
        let mut lowest = 1;
        for j in joiners {
            while taken(&used, lowest) {
                lowest += 1;
            }
            let mut slot = lowest;
            if let Some(&forced) = self.faults.forced_slots.get(&j) {
                if forced >= 1 && !taken(&used, forced) {
                    slot = forced;
                }
            }
            mark(&mut used, slot);
            self.ls_nodes.insert(j, slot);
        }
        self.generation = self.generation.wrapping_add(1);
        if !departed.is_empty() {
            self.purge(&departed);
        }
    }

    fn purge(&mut self, gone: &BTreeMap<u32, Departure>) {
        let names: Vec<Rid> = self.resources.keys();
        for name in names {
            let mut invalidate = false;
            let r = self.resources.get_mut(name).expect("resource");
            let mut dead = Vec::new();
            for q in [&mut r.grant, &mut r.convert, &mut r.wait] {
                q.retain(|id| {
                    let l = &self.locks[id];
                    if gone.contains_key(&l.node) {
                        // dlm_recover_purge: a purged PW/EX VALBLK holder sets RECOVER_LVB_INVAL.
                        if l.exflags & DLM_LKF_VALBLK != 0 && l.grmode >= DLM_LOCK_PW {
                            invalidate = true;
                        }
                        dead.push(*id);
                        false
                    } else {
                        true
                    }
                });
            }
            for id in &dead {
                self.locks.remove(id);
            }
            let r = self.resources.get(name).expect("resource");
            let master_gone = gone.contains_key(&r.master);
            if r.grant.is_empty() && r.convert.is_empty() && r.wait.is_empty() {
                self.resources.remove(name);
                continue;
            }
            self.recount_modes(name);
            let r = self.resources.get_mut(name).expect("resource");
            // recover_lvb case 1 (old master purged a PW/EX holder) unless case 2 applies.
            if invalidate
                && !self.faults.no_lvb_invalidate
                && !(master_gone && self.config.remaster_lvb)
            {
                r.valnotvalid = true;
            }
            if master_gone {
                self.remaster(name);
            }
        }
    }

    /// New master for a resource whose master left: the lowest surviving holder's node.
    /// With `remaster_lvb`, `recover_lvb` case 2 rebuilds the LVB from the survivors' copies.
    fn remaster(&mut self, name: Rid) {
        let r = self.resources.get(name).expect("resource");
        let ids: Vec<u32> = r.grant.iter().chain(r.convert.iter()).copied().collect();
        let master = r
            .grant
            .iter()
            .chain(&r.convert)
            .chain(&r.wait)
            .map(|id| self.locks[id].node)
            .min();
        let mut exists = false;
        let mut big = None;
        let mut high: Option<(u32, Option<Lvb>)> = None;
        for id in ids {
            let l = &self.locks[&id];
            if l.exflags & DLM_LKF_VALBLK == 0 {
                continue;
            }
            exists = true;
            if l.grmode > DLM_LOCK_CR {
                big = Some((l.lvbseq, l.lvb));
                break;
            }
            let newer = match &high {
                None => true,
                Some((s, _)) => (l.lvbseq.wrapping_sub(*s) as i32) >= 0,
            };
            if newer {
                high = Some((l.lvbseq, l.lvb));
            }
        }
        let remaster_lvb = self.config.remaster_lvb;
        let r = self.resources.get_mut(name).expect("resource");
        if let Some(m) = master {
            r.master = m;
        }
        if !remaster_lvb {
            return;
        }
        // The new master's rsb starts without an LVB or flag.
        r.valnotvalid = false;
        r.lvb = None;
        r.lvbseq = 0;
        if !exists {
            return;
        }
        if let Some((seq, lvb)) = big {
            r.lvb = Some(lvb.unwrap_or([0; LVB_LEN]));
            r.lvbseq = seq;
        } else {
            r.valnotvalid = true;
            let (seq, lvb) = high.expect("a VALBLK lock exists");
            r.lvb = Some(lvb.unwrap_or([0; LVB_LEN]));
            r.lvbseq = seq;
        }
    }

    /// `enable_locking` then `dlm_recover_grant`, then the callers blocked in
    /// `dlm_lock_recovery()` proceed in call order.
    fn enable_locking(&mut self) {
        self.running = true;
        let names: Vec<Rid> = self.resources.keys();
        for name in names {
            if self.resources.contains_key(name) {
                self.grant_pending_locks(name);
            }
        }
        let calls: Vec<Call> = self.deferred.drain(..).collect();
        for c in calls {
            match c {
                Call::Lock {
                    node,
                    lkid,
                    mode,
                    flags,
                    lvb,
                } => {
                    if let Err(e) = self.exec_lock(lkid, mode, flags, lvb) {
                        if self
                            .locks
                            .get(&lkid)
                            .is_some_and(|l| l.status == LockStatus::Deferred)
                        {
                            self.locks.remove(&lkid);
                        }
                        self.emit(DlmEvent::DeferredError {
                            node,
                            lkid,
                            error: e,
                        });
                    }
                }
                Call::Unlock {
                    node,
                    lkid,
                    flags,
                    lvb,
                } => {
                    if let Err(e) = self.exec_unlock(node, lkid, flags, lvb) {
                        self.emit(DlmEvent::DeferredError {
                            node,
                            lkid,
                            error: e,
                        });
                    }
                }
            }
        }
    }

    fn node_blocked(&self, node: u32) -> bool {
        !self.running || !self.ls_nodes.contains_key(&node)
    }

    // ----------------------------------------------------------------------------------------
    // Requests

    /// `dlm_lock`: a new lock (`LockTarget::Name`) or a conversion (`LockTarget::Lkid` with
    /// `DLM_LKF_CONVERT`). Returns the lkid; the result arrives as an `Ast` event. `-EAGAIN`
    /// and `-EDEADLK` are only ever delivered in the AST (the kernel turns them into 0).
    /// Errors: `-EINVAL` (bad mode/flags, QUECVT not upward, VALBLK without LVB, name too long),
    /// `-ENOENT` (unknown lkid), `-EBUSY` (conversion while an operation is pending),
    /// [`DlmConfig::released_errno`] (not a member).
    pub fn lock(
        &mut self,
        node: u32,
        mode: i32,
        flags: u32,
        target: LockTarget<'_>,
        lvb: Option<Lvb>,
    ) -> Result<u32, i32> {
        self.calls.0 += 1;
        if !self.members.contains_key(&node) {
            return Err(self.config.released_errno);
        }
        let convert = flags & DLM_LKF_CONVERT != 0;
        let lkid = match target {
            LockTarget::Lkid(id) if convert => {
                if self.locks.get(&id).is_none_or(|l| l.node != node) {
                    return Err(-ENOENT);
                }
                id
            }
            LockTarget::Name(name) if !convert => {
                if name.len() > RESNAME_MAXLEN {
                    return Err(-EINVAL);
                }
                0
            }
            _ => return Err(-EINVAL),
        };
        // The caller's buffer persists across calls on one lock (lksb->sb_lvbptr).
        let has_lvb = lvb.is_some() || (convert && self.locks[&lkid].lvb.is_some());
        set_lock_args(mode, flags, has_lvb)?;
        if convert {
            if let Some(n) = self.faults.ebusy_calls.get_mut(&node) {
                if *n > 0 {
                    *n -= 1;
                    return Err(-EBUSY);
                }
            }
        }
        let lkid = if convert {
            self.validate_lock_args(lkid, mode, flags)?;
            lkid
        } else {
            let LockTarget::Name(name) = target else {
                unreachable!()
            };
            let res = self.resources.intern(name);
            let id = self.next_lkid;
            self.next_lkid += 1;
            self.locks.insert(
                id,
                Lock {
                    node,
                    res,
                    grmode: DLM_LOCK_IV,
                    rqmode: DLM_LOCK_IV,
                    status: LockStatus::Deferred,
                    exflags: 0,
                    sbflags: 0,
                    highbast: DLM_LOCK_IV,
                    lvb: None,
                    lvbseq: 0,
                    ast_lvb: None,
                },
            );
            id
        };
        if self.node_blocked(node) {
            self.deferred.push_back(Call::Lock {
                node,
                lkid,
                mode,
                flags,
                lvb,
            });
            return Ok(lkid);
        }
        self.exec_lock(lkid, mode, flags, lvb)?;
        Ok(lkid)
    }

    /// New lock on `name` (shorthand for [`Dlm::lock`] with [`LockTarget::Name`]).
    pub fn request(
        &mut self,
        node: u32,
        mode: i32,
        flags: u32,
        name: &[u8],
        lvb: Option<Lvb>,
    ) -> Result<u32, i32> {
        self.lock(node, mode, flags, LockTarget::Name(name), lvb)
    }

    /// Conversion of `lkid` (adds `DLM_LKF_CONVERT`).
    pub fn convert(
        &mut self,
        node: u32,
        lkid: u32,
        mode: i32,
        flags: u32,
        lvb: Option<Lvb>,
    ) -> Result<u32, i32> {
        self.lock(
            node,
            mode,
            flags | DLM_LKF_CONVERT,
            LockTarget::Lkid(lkid),
            lvb,
        )
    }

    /// `dlm_unlock`: unlock (`-DLM_EUNLOCK` in the AST) or, with `DLM_LKF_CANCEL`, cancel a
    /// waiting request or conversion (`-DLM_ECANCEL`). Cancel of a lock with nothing to cancel
    /// is accepted with no AST (the kernel's `-EBUSY` is turned into 0). With VALBLK and `lvb`,
    /// an unlock from PW/EX writes the LVB.
    pub fn unlock(
        &mut self,
        node: u32,
        lkid: u32,
        flags: u32,
        lvb: Option<Lvb>,
    ) -> Result<(), i32> {
        self.calls.0 += 1;
        if !self.members.contains_key(&node) {
            return Err(self.config.released_errno);
        }
        if self.locks.get(&lkid).is_none_or(|l| l.node != node) {
            return Err(-ENOENT);
        }
        set_unlock_args(flags)?;
        if flags & DLM_LKF_CANCEL == 0 {
            if let Some(n) = self.faults.ebusy_calls.get_mut(&node) {
                if *n > 0 {
                    *n -= 1;
                    return Err(-EBUSY);
                }
            }
        }
        if self.node_blocked(node) {
            self.deferred.push_back(Call::Unlock {
                node,
                lkid,
                flags,
                lvb,
            });
            return Ok(());
        }
        self.exec_unlock(node, lkid, flags, lvb)
    }

    /// Cancel (shorthand for [`Dlm::unlock`] with `DLM_LKF_CANCEL`).
    pub fn cancel(&mut self, node: u32, lkid: u32) -> Result<(), i32> {
        self.unlock(node, lkid, DLM_LKF_CANCEL, None)
    }

    fn exec_lock(&mut self, lkid: u32, mode: i32, flags: u32, lvb: Option<Lvb>) -> Result<(), i32> {
        let Some(l) = self.locks.get(&lkid) else {
            return Err(-ENOENT);
        };
        let convert = flags & DLM_LKF_CONVERT != 0;
        if convert {
            self.validate_lock_args(lkid, mode, flags)?;
        }
        // validate_lock_args: the request replaces exflags and clears sb_flags.
        let keep = if self.faults.sticky_altmode {
            DLM_SBF_ALTMODE
        } else {
            0
        };
        let name = l.res;
        let node = l.node;
        let l = self.locks.get_mut(&lkid).expect("lock");
        l.exflags = flags;
        l.sbflags &= keep;
        l.rqmode = mode;
        if lvb.is_some() {
            l.lvb = lvb;
        }
        if convert {
            let out = self.do_convert(lkid);
            self.do_convert_effects(name, lkid, out);
        } else {
            // find_rsb(R_CREATE): the first requester masters a new resource.
            self.resources.get_or_insert(name, || Resource {
                grant: Vec::new(),
                convert: Vec::new(),
                wait: Vec::new(),
                lvb: None,
                lvbseq: 0,
                valnotvalid: false,
                master: node,
                grant_modes: [0; 7],
                convert_modes: [0; 7],
            });
            let out = self.do_request(lkid);
            self.do_request_effects(name, lkid, out);
            if out == Outcome::Again {
                self.locks.remove(&lkid);
            }
            self.drop_if_empty(name);
        }
        Ok(())
    }

    /// `validate_lock_args` for a conversion.
    fn validate_lock_args(&self, lkid: u32, mode: i32, flags: u32) -> Result<(), i32> {
        let l = &self.locks[&lkid];
        if l.status == LockStatus::Deferred {
            return Err(-EBUSY);
        }
        if flags & DLM_LKF_QUECVT != 0 && !QUECVT_OK[idx(l.grmode)][idx(mode)] {
            return Err(-EINVAL);
        }
        if l.status != LockStatus::Granted {
            return Err(-EBUSY);
        }
        Ok(())
    }

    fn exec_unlock(
        &mut self,
        _node: u32,
        lkid: u32,
        flags: u32,
        lvb: Option<Lvb>,
    ) -> Result<(), i32> {
        let Some(l) = self.locks.get(&lkid) else {
            return Err(-ENOENT);
        };
        // validate_unlock_args
        if flags & DLM_LKF_CANCEL != 0 {
            if l.exflags & DLM_LKF_CANCEL != 0 {
                return Err(-EINVAL);
            }
            if l.status == LockStatus::Granted || l.status == LockStatus::Deferred {
                // -EBUSY, which dlm_unlock turns into 0 for CANCEL.
                return Ok(());
            }
        } else if flags & DLM_LKF_FORCEUNLOCK != 0 && l.exflags & DLM_LKF_FORCEUNLOCK != 0 {
            return Err(-EINVAL);
        }
        if l.status == LockStatus::Deferred {
            return Err(-EBUSY);
        }
        let keep = if self.faults.sticky_altmode {
            DLM_SBF_ALTMODE
        } else {
            0
        };
        let name = l.res;
        let l = self.locks.get_mut(&lkid).expect("lock");
        l.exflags |= flags;
        l.sbflags &= keep;
        if lvb.is_some() {
            l.lvb = lvb;
        }
        if flags & DLM_LKF_CANCEL != 0 {
            // do_cancel / revert_lock
            let st = l.status;
            l.rqmode = DLM_LOCK_IV;
            match st {
                LockStatus::Converting => {
                    self.remove_from_queues(name, lkid);
                    self.add_granted(name, lkid);
                    self.queue_cast(lkid, -DLM_ECANCEL);
                }
                LockStatus::Waiting => {
                    self.remove_from_queues(name, lkid);
                    self.locks.get_mut(&lkid).expect("lock").grmode = DLM_LOCK_IV;
                    self.queue_cast(lkid, -DLM_ECANCEL);
                    self.locks.remove(&lkid);
                }
                _ => return Ok(()),
            }
            self.grant_pending_locks(name);
        } else {
            // do_unlock: remove_lock (set_lvb_unlock) then grant_pending_locks.
            self.set_lvb_unlock(name, lkid);
            self.remove_from_queues(name, lkid);
            self.locks.get_mut(&lkid).expect("lock").grmode = DLM_LOCK_IV;
            self.queue_cast(lkid, -DLM_EUNLOCK);
            self.locks.remove(&lkid);
            self.grant_pending_locks(name);
        }
        self.drop_if_empty(name);
        Ok(())
    }

    /// An rsb without locks is tossed and its LVB freed (`toss_rsb`).
    fn drop_if_empty(&mut self, name: Rid) {
        if let Some(r) = self.resources.get(name) {
            if r.grant.is_empty() && r.convert.is_empty() && r.wait.is_empty() {
                self.resources.remove(name);
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Granting (fs/dlm/lock.c)

    fn res(&self, name: Rid) -> &Resource {
        self.resources.get(name).expect("resource")
    }

    fn res_mut(&mut self, name: Rid) -> &mut Resource {
        self.resources.get_mut(name).expect("resource")
    }

    fn queue_conflict(&self, q: &[u32], lkid: u32) -> bool {
        let rq = self.locks[&lkid].rqmode;
        q.iter()
            .any(|id| *id != lkid && !modes_compat(self.locks[id].grmode, rq))
    }

    /// [`Dlm::queue_conflict`] over the grant queue (`grant`) or the convert queue, from
    /// the resource's mode counts: a lock on that queue other than `lkid` whose granted
    /// mode is incompatible with `lkid`'s request.
    fn modes_conflict(&self, r: &Resource, lkid: u32, grant: bool) -> bool {
        let l = &self.locks[&lkid];
        let (counts, here) = if grant {
            (&r.grant_modes, l.status == LockStatus::Granted)
        } else {
            (&r.convert_modes, l.status == LockStatus::Converting)
        };
        let own = if here { Some(idx(l.grmode)) } else { None };
        let rq = idx(l.rqmode);
        let c = (0..7).any(|m| {
            let n = counts[m] - u32::from(own == Some(m));
            n > 0 && !COMPAT[m][rq]
        });
        debug_assert_eq!(
            c,
            self.queue_conflict(if grant { &r.grant } else { &r.convert }, lkid),
            "mode counts"
        );
        c
    }

    /// Count lock `lkid` (at its granted mode) on or off the queue its status says it is
    /// on.
    fn count_mode(&mut self, lkid: u32, add: bool) {
        let l = &self.locks[&lkid];
        let (m, st, res) = (idx(l.grmode), l.status, l.res);
        let r = self.res_mut(res);
        let c = match st {
            LockStatus::Granted => &mut r.grant_modes[m],
            LockStatus::Converting => &mut r.convert_modes[m],
            _ => return,
        };
        if add {
            *c += 1;
        } else {
            *c -= 1;
        }
    }

    /// Recount a resource's modes (after a purge).
    fn recount_modes(&mut self, name: Rid) {
        let r = self.res(name);
        let mut g = [0u32; 7];
        let mut c = [0u32; 7];
        for id in &r.grant {
            g[idx(self.locks[id].grmode)] += 1;
        }
        for id in &r.convert {
            c[idx(self.locks[id].grmode)] += 1;
        }
        let r = self.res_mut(name);
        r.grant_modes = g;
        r.convert_modes = c;
    }

    /// `_can_be_granted`.
    fn can_be_granted_inner(&self, lkid: u32, now: bool) -> bool {
        let l = &self.locks[&lkid];
        let r = self.res(l.res);
        let conv = l.grmode != DLM_LOCK_IV;
        if l.exflags & DLM_LKF_EXPEDITE != 0 {
            return true;
        }
        if self.modes_conflict(r, lkid, true) || self.modes_conflict(r, lkid, false) {
            return false;
        }
        if now && conv {
            return l.exflags & DLM_LKF_QUECVT == 0 || r.convert.is_empty();
        }
        if l.exflags & DLM_LKF_NOORDER != 0 {
            return true;
        }
        if !now && conv && r.convert.first() == Some(&lkid) {
            return true;
        }
        if now && !conv && r.convert.is_empty() && r.wait.is_empty() {
            return true;
        }
        !now && !conv && r.convert.is_empty() && r.wait.first() == Some(&lkid)
    }

    /// `conversion_deadlock_detect`.
    fn conversion_deadlock(&self, lkid: u32) -> bool {
        let l2 = &self.locks[&lkid];
        let r = self.res(l2.res);
        let mut ahead = false;
        for id in &r.convert {
            if *id == lkid {
                ahead = true;
                continue;
            }
            let l1 = &self.locks[id];
            let blocks_l1 = !modes_compat(l2.grmode, l1.rqmode);
            if !ahead {
                if blocks_l1 {
                    return true;
                }
            } else if blocks_l1 && !modes_compat(l1.grmode, l2.rqmode) {
                return true;
            }
        }
        false
    }

    /// `can_be_granted`: adds conversion-deadlock handling and ALTPR/ALTCW.
    fn can_be_granted(&mut self, lkid: u32, now: bool, deadlk: &mut bool) -> bool {
        *deadlk = false;
        if self.can_be_granted_inner(lkid, now) {
            return true;
        }
        let l = &self.locks[&lkid];
        let (rqmode, ex, is_convert) = (l.rqmode, l.exflags, l.grmode != DLM_LOCK_IV);
        if is_convert && ex & DLM_LKF_NOQUEUE == 0 && self.conversion_deadlock(lkid) {
            if ex & DLM_LKF_CONVDEADLK != 0 {
                // Demoted in place, on its queue.
                self.count_mode(lkid, false);
                let l = self.locks.get_mut(&lkid).expect("lock");
                l.grmode = DLM_LOCK_NL;
                l.sbflags |= DLM_SBF_DEMOTED;
                self.count_mode(lkid, true);
            } else if ex & DLM_LKF_NODLCKWT == 0 {
                *deadlk = true;
            }
            return false;
        }
        let alt = if rqmode != DLM_LOCK_PR && ex & DLM_LKF_ALTPR != 0 {
            DLM_LOCK_PR
        } else if rqmode != DLM_LOCK_CW && ex & DLM_LKF_ALTCW != 0 {
            DLM_LOCK_CW
        } else {
            return false;
        };
        self.locks.get_mut(&lkid).expect("lock").rqmode = alt;
        let ok = self.can_be_granted_inner(lkid, now);
        let l = self.locks.get_mut(&lkid).expect("lock");
        if ok {
            l.sbflags |= DLM_SBF_ALTMODE;
        } else {
            l.rqmode = rqmode;
        }
        ok
    }

    fn remove_from_queues(&mut self, name: Rid, lkid: u32) {
        self.count_mode(lkid, false);
        let r = self.res_mut(name);
        r.grant.retain(|i| *i != lkid);
        r.convert.retain(|i| *i != lkid);
        r.wait.retain(|i| *i != lkid);
    }

    /// `add_lkb(GRANTED)` via `lkb_add_ordered`: before the first entry whose rqmode is below
    /// the new grmode (granted entries have rqmode IV, so usually at the head).
    fn add_granted(&mut self, name: Rid, lkid: u32) {
        let mode = self.locks[&lkid].grmode;
        let pos = self
            .res(name)
            .grant
            .iter()
            .position(|id| self.locks[id].rqmode < mode);
        let r = self.res_mut(name);
        match pos {
            Some(p) => r.grant.insert(p, lkid),
            None => r.grant.push(lkid),
        }
        self.locks.get_mut(&lkid).expect("lock").status = LockStatus::Granted;
        self.count_mode(lkid, true);
    }

    fn add_queued(&mut self, name: Rid, lkid: u32, status: LockStatus) {
        let head = self.locks[&lkid].exflags & DLM_LKF_HEADQUE != 0;
        let r = self.res_mut(name);
        let q = if status == LockStatus::Waiting {
            &mut r.wait
        } else {
            &mut r.convert
        };
        if head {
            q.insert(0, lkid);
        } else {
            q.push(lkid);
        }
        self.locks.get_mut(&lkid).expect("lock").status = status;
        self.count_mode(lkid, true);
    }

    /// `set_lvb_lock`.
    fn set_lvb_lock(&mut self, lkid: u32) {
        let stale_fault = self.faults.stale_lvb_nl_to_ex;
        let l = &self.locks[&lkid];
        let name = l.res;
        let b = LVB_OPS[idx(l.grmode)][idx(l.rqmode)];
        let nl_to_ex = l.grmode == DLM_LOCK_NL && l.rqmode == DLM_LOCK_EX;
        let (res_lvb, res_seq) = {
            let r = self.res(name);
            (r.lvb, r.lvbseq)
        };
        if b == 1 {
            let l = self.locks.get_mut(&lkid).expect("lock");
            if l.lvb.is_none() || l.exflags & DLM_LKF_VALBLK == 0 {
                return;
            }
            let Some(v) = res_lvb else { return };
            if stale_fault && nl_to_ex {
                // The buggy device path leaves the caller's buffer as it was.
                l.ast_lvb = l.lvb;
            } else {
                l.lvb = Some(v);
                l.lvbseq = res_seq;
                l.ast_lvb = Some(v);
            }
        } else if b == 0 {
            let (ex, buf) = (l.exflags, l.lvb);
            if ex & DLM_LKF_IVVALBLK != 0 {
                self.res_mut(name).valnotvalid = true;
                return;
            }
            let Some(v) = buf else { return };
            if ex & DLM_LKF_VALBLK == 0 {
                return;
            }
            let r = self.res_mut(name);
            r.lvb = Some(v);
            r.lvbseq = r.lvbseq.wrapping_add(1);
            r.valnotvalid = false;
            let seq = r.lvbseq;
            self.locks.get_mut(&lkid).expect("lock").lvbseq = seq;
        }
        if self.res(name).valnotvalid {
            self.locks.get_mut(&lkid).expect("lock").sbflags |= DLM_SBF_VALNOTVALID;
        }
    }

    /// `set_lvb_unlock`.
    fn set_lvb_unlock(&mut self, name: Rid, lkid: u32) {
        let l = &self.locks[&lkid];
        if l.grmode < DLM_LOCK_PW {
            return;
        }
        if l.exflags & DLM_LKF_IVVALBLK != 0 {
            self.res_mut(name).valnotvalid = true;
            return;
        }
        let Some(v) = l.lvb else { return };
        if l.exflags & DLM_LKF_VALBLK == 0 {
            return;
        }
        let r = self.res_mut(name);
        r.lvb = Some(v);
        r.lvbseq = r.lvbseq.wrapping_add(1);
        r.valnotvalid = false;
    }

    /// `grant_lock`: LVB, mode change, queue move, `lkb_highbast = 0`.
    fn grant_lock(&mut self, lkid: u32) {
        self.set_lvb_lock(lkid);
        let l = &self.locks[&lkid];
        let name = l.res;
        let moved = l.grmode != l.rqmode || l.status != LockStatus::Granted;
        // Off its queue at the old mode (for the counts), then the mode changes.
        if moved {
            self.remove_from_queues(name, lkid);
        }
        let l = self.locks.get_mut(&lkid).expect("lock");
        l.grmode = l.rqmode;
        l.rqmode = DLM_LOCK_IV;
        l.highbast = DLM_LOCK_IV;
        if moved {
            self.add_granted(name, lkid);
        }
    }

    fn queue_cast(&mut self, lkid: u32, status: i32) {
        self.queue_cast_with(lkid, status, false);
    }

    /// `queue_cast`; `local`: the requester completes it without the master's reply.
    fn queue_cast_with(&mut self, lkid: u32, status: i32, local: bool) {
        let res = self.locks[&lkid].res;
        let master = self.resources.get(res).map(|r| r.master);
        let l = self.locks.get_mut(&lkid).expect("lock");
        let kind = if local || master == Some(l.node) {
            Latency::LocalAst
        } else {
            Latency::RemoteAst
        };
        let ev = DlmEvent::Ast {
            node: l.node,
            lkid,
            status,
            sb_flags: l.sbflags,
            lvb: l.ast_lvb.take(),
            mode: l.grmode,
        };
        self.emit_with(ev, kind);
    }

    fn queue_bast(&mut self, lkid: u32, mode: i32) {
        let node = self.locks[&lkid].node;
        self.emit(DlmEvent::Bast { node, lkid, mode });
    }

    /// `do_request`.
    fn do_request(&mut self, lkid: u32) -> Outcome {
        let mut dl = false;
        if self.can_be_granted(lkid, true, &mut dl) {
            self.grant_lock(lkid);
            self.queue_cast(lkid, 0);
            return Outcome::Granted;
        }
        let name = self.locks[&lkid].res;
        if self.locks[&lkid].exflags & DLM_LKF_NOQUEUE == 0 {
            self.add_queued(name, lkid, LockStatus::Waiting);
            return Outcome::InProgress;
        }
        self.queue_cast(lkid, -EAGAIN);
        Outcome::Again
    }

    /// `do_request_effects`: NOQUEUE failures send BASTs only with NOQUEUEBAST
    /// (`force_blocking_asts` → `send_blocking_asts_all`); a queued request BASTs the granted
    /// holders (`send_blocking_asts`).
    fn do_request_effects(&mut self, name: Rid, lkid: u32, out: Outcome) {
        match out {
            Outcome::Again if self.locks[&lkid].exflags & DLM_LKF_NOQUEUEBAST != 0 => {
                self.send_bast_queue(name, lkid, true);
                self.send_bast_queue(name, lkid, false);
            }
            Outcome::InProgress => self.send_bast_queue(name, lkid, true),
            _ => {}
        }
    }

    /// `do_convert`.
    fn do_convert(&mut self, lkid: u32) -> Outcome {
        let mut dl = false;
        // `down_conversion`: a remote master's requester completes it without waiting for
        // the reply (`send_convert`'s stub reply), so its AST has a local latency.
        let down = {
            let l = &self.locks[&lkid];
            let middle = matches!(
                (l.grmode, l.rqmode),
                (DLM_LOCK_PR, DLM_LOCK_CW) | (DLM_LOCK_CW, DLM_LOCK_PR)
            );
            !middle && l.rqmode < l.grmode
        };
        if self.can_be_granted(lkid, true, &mut dl) {
            self.grant_lock(lkid);
            self.queue_cast_with(lkid, 0, down);
            return Outcome::Granted;
        }
        if dl {
            // revert_lock: stays granted in its old mode.
            self.locks.get_mut(&lkid).expect("lock").rqmode = DLM_LOCK_IV;
            self.queue_cast(lkid, -EDEADLK);
            return Outcome::Deadlk;
        }
        let name = self.locks[&lkid].res;
        if self.locks[&lkid].sbflags & DLM_SBF_DEMOTED != 0 {
            self.grant_pending_convert(name, DLM_LOCK_IV, &mut false);
            if self.can_be_granted_inner(lkid, true) {
                self.grant_lock(lkid);
                self.queue_cast(lkid, 0);
                return Outcome::Granted;
            }
        }
        if self.locks[&lkid].exflags & DLM_LKF_NOQUEUE == 0 {
            self.remove_from_queues(name, lkid);
            self.add_queued(name, lkid, LockStatus::Converting);
            return Outcome::InProgress;
        }
        self.queue_cast(lkid, -EAGAIN);
        Outcome::Again
    }

    /// `do_convert_effects`.
    fn do_convert_effects(&mut self, name: Rid, lkid: u32, out: Outcome) {
        match out {
            Outcome::Granted => self.grant_pending_locks(name),
            Outcome::Again if self.locks[&lkid].exflags & DLM_LKF_NOQUEUEBAST != 0 => {
                self.send_bast_queue(name, lkid, true);
                self.send_bast_queue(name, lkid, false);
            }
            Outcome::InProgress => self.send_bast_queue(name, lkid, true),
            _ => {}
        }
    }

    /// `modes_require_bast`: once per holder per blocking mode via `lkb_highbast`.
    fn modes_require_bast(&self, gr: u32, rqmode: i32) -> bool {
        let g = &self.locks[&gr];
        if (g.grmode == DLM_LOCK_PR && rqmode == DLM_LOCK_CW)
            || (g.grmode == DLM_LOCK_CW && rqmode == DLM_LOCK_PR)
        {
            return g.highbast < DLM_LOCK_EX;
        }
        g.highbast < rqmode && !modes_compat(g.grmode, rqmode)
    }

    /// `send_bast_queue` over the grant queue (`grant == true`) or the convert queue.
    fn send_bast_queue(&mut self, name: Rid, lkid: u32, grant: bool) {
        let rq = self.locks[&lkid].rqmode;
        let r = self.res(name);
        let q = if grant {
            r.grant.clone()
        } else {
            r.convert.clone()
        };
        for gr in q {
            if gr != lkid && self.modes_require_bast(gr, rq) {
                self.queue_bast(gr, rq);
                self.locks.get_mut(&gr).expect("lock").highbast = rq;
            }
        }
    }

    fn grant_lock_pending(&mut self, lkid: u32) {
        self.grant_lock(lkid);
        self.queue_cast(lkid, 0);
    }

    /// `grant_pending_convert`.
    fn grant_pending_convert(&mut self, name: Rid, high: i32, cw: &mut bool) -> i32 {
        let mut quit = false;
        loop {
            let mut grant_restart = false;
            let mut demote_restart = false;
            let mut hi = DLM_LOCK_IV;
            for lkid in self.res(name).convert.clone() {
                if self.locks[&lkid].status != LockStatus::Converting {
                    continue;
                }
                let demoted = self.locks[&lkid].sbflags & DLM_SBF_DEMOTED != 0;
                let mut dl = false;
                if self.can_be_granted(lkid, false, &mut dl) {
                    self.grant_lock_pending(lkid);
                    grant_restart = true;
                    continue;
                }
                if !demoted && self.locks[&lkid].sbflags & DLM_SBF_DEMOTED != 0 {
                    demote_restart = true;
                    continue;
                }
                if dl {
                    continue;
                }
                let rq = self.locks[&lkid].rqmode;
                hi = hi.max(rq);
                if rq == DLM_LOCK_CW {
                    *cw = true;
                }
            }
            if grant_restart {
                continue;
            }
            if demote_restart && !quit {
                quit = true;
                continue;
            }
            return high.max(hi);
        }
    }

    /// `grant_pending_wait`.
    fn grant_pending_wait(&mut self, name: Rid, mut high: i32, cw: &mut bool) -> i32 {
        for lkid in self.res(name).wait.clone() {
            let mut dl = false;
            if self.can_be_granted(lkid, false, &mut dl) {
                self.grant_lock_pending(lkid);
            } else {
                let rq = self.locks[&lkid].rqmode;
                high = high.max(rq);
                if rq == DLM_LOCK_CW {
                    *cw = true;
                }
            }
        }
        high
    }

    /// `grant_pending_locks`: grant what can be, then BAST holders blocking the rest.
    fn grant_pending_locks(&mut self, name: Rid) {
        if !self.resources.contains_key(name) {
            return;
        }
        let mut cw = false;
        let high = self.grant_pending_convert(name, DLM_LOCK_IV, &mut cw);
        let high = self.grant_pending_wait(name, high, &mut cw);
        if high == DLM_LOCK_IV {
            return;
        }
        for gr in self.res(name).grant.clone() {
            let g = &self.locks[&gr];
            // lock_requires_bast
            let need = if g.grmode == DLM_LOCK_PR && cw {
                g.highbast < DLM_LOCK_EX
            } else {
                g.highbast < high && !modes_compat(g.grmode, high)
            };
            if need {
                let mode = if cw && high == DLM_LOCK_PR && g.grmode == DLM_LOCK_PR {
                    DLM_LOCK_CW
                } else {
                    high
                };
                self.queue_bast(gr, mode);
                self.locks.get_mut(&gr).expect("lock").highbast = high;
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Inspection

    /// A lock's state, if it exists.
    pub fn lock_view(&self, lkid: u32) -> Option<LockView> {
        self.locks.get(&lkid).map(|l| LockView {
            lkid,
            node: l.node,
            name: self.resources.name(l.res).to_vec(),
            grmode: l.grmode,
            rqmode: l.rqmode,
            status: l.status,
        })
    }

    /// A resource's queues and LVB, if it exists (it is tossed when its last lock goes).
    pub fn resource_view(&self, name: &[u8]) -> Option<ResourceView> {
        self.resources.by_name(name).map(|r| ResourceView {
            grant: r.grant.clone(),
            convert: r.convert.clone(),
            wait: r.wait.clone(),
            lvb: r.lvb,
            valnotvalid: r.valnotvalid,
            master: r.master,
        })
    }

    /// An administrator writes `lvb` into the resource `name` (as a tool taking the lock
    /// EX and converting down with VALBLK would): `false` when no lock holds the resource
    /// (its value block does not exist then).
    pub fn write_lvb(&mut self, name: &[u8], lvb: Lvb) -> bool {
        match self
            .resources
            .id(name)
            .and_then(|r| self.resources.get_mut(r))
        {
            Some(r) => {
                r.lvb = Some(lvb);
                r.lvbseq = r.lvbseq.wrapping_add(1);
                r.valnotvalid = false;
                true
            }
            None => false,
        }
    }

    /// Switch the `lvb-remaster` defect (see [`DlmConfig::remaster_lvb`]).
    pub fn set_remaster_lvb(&mut self, on: bool) {
        self.config.remaster_lvb = on;
    }

    /// A resource's LVB, without copying its queues (the per-event invariant reads it).
    pub fn resource_lvb(&self, name: &[u8]) -> Option<Lvb> {
        self.resources.by_name(name).and_then(|r| r.lvb)
    }

    /// The resource id `name` is interned as (ids stay valid while the lockspace lives,
    /// whether or not the resource exists), for reading it without comparing names.
    pub fn resource_id(&mut self, name: &[u8]) -> u32 {
        self.resources.intern(name)
    }

    /// [`Dlm::resource_lvb`] by [`Dlm::resource_id`].
    pub fn resource_lvb_by_id(&self, id: u32) -> Option<Lvb> {
        self.resources.get(id).and_then(|r| r.lvb)
    }

    /// Granted `(node, lkid, mode)` on a resource, in grant-queue order.
    pub fn holders(&self, name: &[u8]) -> Vec<(u32, u32, i32)> {
        self.resources
            .by_name(name)
            .map(|r| {
                r.grant
                    .iter()
                    .map(|id| (self.locks[id].node, *id, self.locks[id].grmode))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `set_lock_args`: checks that depend only on the arguments.
fn set_lock_args(mode: i32, flags: u32, has_lvb: bool) -> Result<(), i32> {
    let conv = flags & DLM_LKF_CONVERT != 0;
    let bad = !valid_mode(mode)
        || flags & DLM_LKF_CANCEL != 0
        || (flags & DLM_LKF_QUECVT != 0 && !conv)
        || (flags & DLM_LKF_CONVDEADLK != 0 && !conv)
        || (flags & DLM_LKF_CONVDEADLK != 0 && flags & DLM_LKF_NOQUEUE != 0)
        || (flags & DLM_LKF_EXPEDITE != 0 && conv)
        || (flags & DLM_LKF_EXPEDITE != 0 && flags & DLM_LKF_QUECVT != 0)
        || (flags & DLM_LKF_EXPEDITE != 0 && flags & DLM_LKF_NOQUEUE != 0)
        || (flags & DLM_LKF_EXPEDITE != 0 && mode != DLM_LOCK_NL)
        || (flags & DLM_LKF_VALBLK != 0 && !has_lvb);
    if bad {
        Err(-EINVAL)
    } else {
        Ok(())
    }
}

/// `set_unlock_args`.
fn set_unlock_args(flags: u32) -> Result<(), i32> {
    let allowed = DLM_LKF_CANCEL | DLM_LKF_VALBLK | DLM_LKF_IVVALBLK | DLM_LKF_FORCEUNLOCK;
    if flags & !allowed != 0 || (flags & DLM_LKF_CANCEL != 0 && flags & DLM_LKF_FORCEUNLOCK != 0) {
        return Err(-EINVAL);
    }
    Ok(())
}

/// The canonical state (see [`crate::fingerprint`]): lock ids renamed by first sight
/// (resources by name, each queue in order, then any lock in no queue), the next lock id
/// left out, and the LVB sequence numbers left out unless the remaster that reads them is
/// on.
impl Dlm {
    pub(crate) fn canon(&self, c: &mut crate::fingerprint::Canon) {
        let seqs = self.config.remaster_lvb;
        c.put(&self.faults);
        c.put(&self.config);
        c.put(&self.members);
        c.put(&self.ls_nodes);
        c.put(&self.departed);
        c.put(&(
            self.generation,
            self.running,
            self.phase,
            self.change_pending,
            self.done_owed,
        ));
        c.mark();
        // Name every lock first, so the resources below can be written in one pass.
        for (_, r) in self.resources.iter() {
            for &id in r.grant.iter().chain(&r.convert).chain(&r.wait) {
                c.lkid(id);
            }
        }
        for id in self.locks.keys() {
            c.lkid(id);
        }
        c.put(&self.resources.len());
        for (name, r) in self.resources.iter() {
            c.put(name);
            for q in [&r.grant, &r.convert, &r.wait] {
                c.put(&q.len());
                for &id in q {
                    let l = c.lkid(id);
                    c.put(&l);
                }
            }
            c.put(&(r.lvb, r.valnotvalid, r.master));
            if seqs {
                c.put(&r.lvbseq);
            }
        }
        c.mark();
        // Locks by canonical id.
        let mut locks: Vec<(u32, &Lock)> =
            self.locks.iter().map(|(id, l)| (c.lkid(id), l)).collect();
        locks.sort_unstable_by_key(|&(id, _)| id);
        c.put(&locks.len());
        for (id, l) in locks {
            c.put(&id);
            c.put(&(
                l.node,
                self.resources.name(l.res),
                l.grmode,
                l.rqmode,
                l.status,
                l.exflags,
            ));
            c.put(&(l.sbflags, l.highbast, l.lvb, l.ast_lvb));
            if seqs {
                c.put(&l.lvbseq);
            }
        }
        c.mark();
        c.put(&self.deferred.len());
        for call in &self.deferred {
            match *call {
                Call::Lock {
                    node,
                    lkid,
                    mode,
                    flags,
                    lvb,
                } => {
                    let id = c.lkid(lkid);
                    c.put(&(0u8, node, id, mode, flags, lvb));
                }
                Call::Unlock {
                    node,
                    lkid,
                    flags,
                    lvb,
                } => {
                    let id = c.lkid(lkid);
                    c.put(&(1u8, node, id, flags, lvb));
                }
            }
        }
        c.mark();
        // Node by node, each node's callbacks in order: the check delivers a node's
        // oldest callback (`pop_event_for`) and asks only whether a node has one, so how
        // different nodes' callbacks interleave in the outbox changes no future.
        c.put(&self.outbox.len());
        let mut order: Vec<(u32, usize)> = self
            .outbox
            .iter()
            .enumerate()
            .map(|(i, e)| (e.node(), i))
            .collect();
        order.sort_unstable();
        for e in order.iter().map(|&(_, i)| &self.outbox[i]) {
            match e {
                DlmEvent::Ast {
                    node,
                    lkid,
                    status,
                    sb_flags,
                    lvb,
                    mode,
                } => {
                    let id = c.lkid(*lkid);
                    c.put(&(0u8, *node, id, *status, *sb_flags, *lvb, *mode));
                }
                DlmEvent::Bast { node, lkid, mode } => {
                    let id = c.lkid(*lkid);
                    c.put(&(1u8, *node, id, *mode));
                }
                DlmEvent::DeferredError { node, lkid, error } => {
                    let id = c.lkid(*lkid);
                    c.put(&(2u8, *node, id, *error));
                }
                other => {
                    c.put(&3u8);
                    c.put(other);
                }
            }
        }
    }
}

/// The generations the DLM model holds, for the exhaustive check's renaming (see
/// [`crate::fingerprint::Generations`]): its recovery generation (it counts on from it)
/// and the one in every recover_done not yet delivered, and the generation in every copy
/// of control_lock's LVB (the resource's, each lock's buffer, deferred calls', undelivered
/// completions'). `own`: what the DLM's own generations are (the engines' lockspace
/// generations with kernel callbacks; with CPG callbacks the DLM's alone, which nobody
/// compares with the engines').
impl Dlm {
    pub(crate) fn visit_generations(
        &mut self,
        control: u32,
        own: crate::fingerprint::Family,
        f: &mut dyn FnMut(crate::fingerprint::Gen, &mut u32),
    ) {
        use crate::fingerprint::Gen;
        let lvb = |l: &mut Lvb, f: &mut dyn FnMut(Gen, &mut u32)| {
            let mut c = gdlm_core::ControlLvb::from_array(*l);
            c.visit_generation(&mut |g| f(Gen::compared(crate::fingerprint::Family::Lockspace), g));
            *l = *c.as_bytes();
        };
        f(Gen::counter(own), &mut self.generation);
        if let Some(r) = self.resources.get_mut(control) {
            if let Some(l) = &mut r.lvb {
                lvb(l, f);
            }
        }
        let base = self.locks.base;
        for (i, s) in self.locks.slots.iter_mut().enumerate() {
            let Some(l) = s else { continue };
            let on_control = l.res == control;
            for b in [&mut l.lvb, &mut l.ast_lvb].into_iter().flatten() {
                // Without glock traffic (the check) only control_lock carries an LVB.
                debug_assert!(on_control, "lock {} has an LVB", base + i as u32);
                if on_control {
                    lvb(b, f);
                }
            }
        }
        let locks = &self.locks;
        let on_control = |lkid: u32| locks.get(&lkid).is_none_or(|l| l.res == control);
        for call in &mut self.deferred {
            let (Call::Lock {
                lkid, lvb: Some(l), ..
            }
            | Call::Unlock {
                lkid, lvb: Some(l), ..
            }) = call
            else {
                continue;
            };
            if on_control(*lkid) {
                lvb(l, f);
            }
        }
        for e in &mut self.outbox {
            match e {
                DlmEvent::Ast {
                    lkid, lvb: Some(l), ..
                } if on_control(*lkid) => lvb(l, f),
                DlmEvent::RecoverDone { generation, .. } => f(Gen::compared(own), generation),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &[u8] = b"res-a";

    fn cluster(n: u32) -> Dlm {
        let mut d = Dlm::new();
        for i in 1..=n {
            d.join(i).unwrap();
        }
        d.run_recovery();
        d.drain_events();
        d
    }

    /// Each AST's latency kind follows who masters the resource (a down-conversion
    /// completes at the requester), and the delivery stamps follow the outbox.
    #[test]
    fn asts_carry_their_master_locality_and_stamps_follow_the_outbox() {
        let mut d = cluster(3);
        // Node 1 requests first: it masters R.
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        assert!(d.has_unstamped());
        let mut kinds = Vec::new();
        d.stamp_events(|node, kind| {
            kinds.push((node, kind));
            10 * u64::from(node)
        });
        assert_eq!(kinds, vec![(1, Latency::LocalAst), (2, Latency::RemoteAst)]);
        assert!(!d.has_unstamped());
        assert_eq!((d.head_due_for(1), d.head_due_for(2)), (Some(10), Some(20)));
        assert_eq!(d.head_due_for(3), None);
        // Node 2 converts down (PR -> NL) on node 1's resource: completed at node 2
        // (local); then node 1's NOQUEUE up-conversion to EX is granted at its master.
        d.convert(2, b, DLM_LOCK_NL, 0, None).unwrap();
        d.convert(1, a, DLM_LOCK_EX, DLM_LKF_NOQUEUE, None).unwrap();
        let mut kinds = Vec::new();
        d.stamp_events(|node, kind| {
            kinds.push((node, kind));
            100 + u64::from(node)
        });
        assert_eq!(kinds, vec![(2, Latency::LocalAst), (1, Latency::LocalAst)]);
        // Node 2 up again, NOQUEUE, against node 1's EX: -EAGAIN after a round trip.
        d.convert(2, b, DLM_LOCK_PR, DLM_LKF_NOQUEUE, None).unwrap();
        let mut k = Vec::new();
        d.stamp_events(|node, kind| {
            k.push((node, kind));
            7
        });
        assert_eq!(k, vec![(2, Latency::RemoteAst)]);
        // Popping keeps the stamps in step with the outbox.
        assert!(d.pop_event_for(1).is_some());
        assert_eq!(d.head_due_for(1), Some(101));
        assert!(d.pop_event_for(2).is_some());
        assert_eq!(d.head_due_for(2), Some(102));
        // A crash drops the node's events and their stamps; new events are unstamped.
        d.crash(2).unwrap();
        assert_eq!(d.head_due_for(2), None);
        assert_eq!(d.head_due_for(1), Some(101));
        d.recovery_step();
        assert!(d.has_unstamped());
        assert_eq!(d.head_due_for(1), Some(101));
        d.pop_event_for(1);
        assert_eq!(d.head_due_for(1), Some(u64::MAX));
    }

    /// The per-node counts and the touched list follow the outbox.
    #[test]
    fn pending_counts_follow_the_outbox() {
        let mut d = cluster(3);
        let mut t = Vec::new();
        d.take_touched(&mut t);
        t.clear();
        let scan = |d: &Dlm, n: u32| d.pending_events().iter().filter(|e| e.node() == n).count();
        d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        d.request(3, DLM_LOCK_PR, 0, R, None).unwrap();
        for n in 1..=3 {
            assert_eq!(d.pending_for(n) as usize, scan(&d, n), "node {n}");
        }
        assert!(d.pending_for(1) >= 2, "grant AST and BASTs");
        d.take_touched(&mut t);
        t.sort_unstable();
        t.dedup();
        assert_eq!(t, vec![1]);
        assert!(d.pop_event_for(1).is_some());
        assert_eq!(d.pending_for(1) as usize, scan(&d, 1));
        d.crash(1).unwrap();
        assert_eq!(d.pending_for(1), 0);
        d.recovery_step();
        assert!(d.prep_pending());
        for n in 1..=3 {
            assert_eq!(d.pending_for(n) as usize, scan(&d, n), "node {n}");
        }
        d.drain_events();
        assert!(!d.prep_pending() && d.pending_for(2) == 0 && d.pending_for(3) == 0);
        assert!(d.pop_event_for(2).is_none());
    }

    fn asts(ev: &[DlmEvent]) -> Vec<(u32, u32, i32)> {
        ev.iter()
            .filter_map(|e| match e {
                DlmEvent::Ast {
                    node, lkid, status, ..
                } => Some((*node, *lkid, *status)),
                _ => None,
            })
            .collect()
    }

    fn basts(ev: &[DlmEvent]) -> Vec<(u32, u32, i32)> {
        ev.iter()
            .filter_map(|e| match e {
                DlmEvent::Bast { node, lkid, mode } => Some((*node, *lkid, *mode)),
                _ => None,
            })
            .collect()
    }

    fn ast_of(ev: &[DlmEvent], id: u32) -> (i32, u8, Option<Lvb>, i32) {
        ev.iter()
            .find_map(|e| match e {
                DlmEvent::Ast {
                    lkid,
                    status,
                    sb_flags,
                    lvb,
                    mode,
                    ..
                } if *lkid == id => Some((*status, *sb_flags, *lvb, *mode)),
                _ => None,
            })
            .expect("ast")
    }

    fn lvb(b: u8) -> Lvb {
        [b; LVB_LEN]
    }

    #[test]
    fn compat_matrix() {
        let m = [
            DLM_LOCK_NL,
            DLM_LOCK_CR,
            DLM_LOCK_CW,
            DLM_LOCK_PR,
            DLM_LOCK_PW,
            DLM_LOCK_EX,
        ];
        let expect = [
            [1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 0],
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 1, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
        ];
        for (i, a) in m.iter().enumerate() {
            for (j, b) in m.iter().enumerate() {
                assert_eq!(modes_compat(*a, *b), expect[i][j] == 1, "{a} vs {b}");
                assert_eq!(modes_compat(*a, *b), modes_compat(*b, *a));
            }
            assert!(modes_compat(DLM_LOCK_IV, *a));
        }
        // The matrix drives granting: PR+CW conflict, PR+PR share.
        let mut d = cluster(2);
        d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_CW, 0, R, None).unwrap();
        assert_eq!(d.lock_view(b).unwrap().status, LockStatus::Waiting);
        let c = d
            .request(2, DLM_LOCK_PR, DLM_LKF_NOQUEUE, b"other", None)
            .unwrap();
        assert_eq!(d.lock_view(c).unwrap().status, LockStatus::Granted);
    }

    #[test]
    fn fifo_granting_and_single_bast() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        let c = d.request(3, DLM_LOCK_PR, 0, R, None).unwrap();
        let ev = d.drain_events();
        assert_eq!(asts(&ev), vec![(1, a, 0)]);
        // One bast for the EX waiter; the PR waiter is a lower mode, so no second one.
        assert_eq!(basts(&ev), vec![(1, a, DLM_LOCK_EX)]);
        d.unlock(1, a, 0, None).unwrap();
        let ev = d.drain_events();
        assert_eq!(asts(&ev), vec![(1, a, -DLM_EUNLOCK), (2, b, 0)]);
        // c still waits behind b, and b gets a bast for it.
        assert_eq!(basts(&ev), vec![(2, b, DLM_LOCK_PR)]);
        assert_eq!(d.resource_view(R).unwrap().wait, vec![c]);
        d.unlock(2, b, 0, None).unwrap();
        assert_eq!(
            asts(&d.drain_events()),
            vec![(2, b, -DLM_EUNLOCK), (3, c, 0)]
        );
    }

    #[test]
    fn noqueue_without_noqueuebast_sends_no_bast() {
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.drain_events();
        let b = d.request(2, DLM_LOCK_PR, DLM_LKF_NOQUEUE, R, None).unwrap();
        let ev = d.drain_events();
        assert_eq!(asts(&ev), vec![(2, b, -EAGAIN)]);
        assert!(basts(&ev).is_empty());
        assert!(d.lock_view(b).is_none());
        assert_eq!(d.holders(R), vec![(1, a, DLM_LOCK_EX)]);
    }

    #[test]
    fn noqueue_with_noqueuebast_basts_holders() {
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.drain_events();
        let b = d
            .request(
                2,
                DLM_LOCK_PR,
                DLM_LKF_NOQUEUE | DLM_LKF_NOQUEUEBAST,
                R,
                None,
            )
            .unwrap();
        let ev = d.drain_events();
        // do_request queues the cast before do_request_effects sends the bast.
        assert_eq!(
            ev,
            vec![
                DlmEvent::Ast {
                    node: 2,
                    lkid: b,
                    status: -EAGAIN,
                    sb_flags: 0,
                    lvb: None,
                    mode: DLM_LOCK_IV
                },
                DlmEvent::Bast {
                    node: 1,
                    lkid: a,
                    mode: DLM_LOCK_PR
                },
            ]
        );
    }

    #[test]
    fn conversions_before_waiters() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        let c = d.request(3, DLM_LOCK_EX, 0, R, None).unwrap();
        d.convert(1, a, DLM_LOCK_EX, 0, None).unwrap();
        assert_eq!(d.resource_view(R).unwrap().convert, vec![a]);
        d.drain_events();
        d.unlock(2, b, 0, None).unwrap();
        let ev = d.drain_events();
        assert_eq!(asts(&ev), vec![(2, b, -DLM_EUNLOCK), (1, a, 0)]);
        assert_eq!(d.lock_view(c).unwrap().status, LockStatus::Waiting);
        assert_eq!(d.lock_view(a).unwrap().grmode, DLM_LOCK_EX);
    }

    #[test]
    fn quecvt_rules() {
        let mut d = cluster(1);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        assert_eq!(
            d.convert(1, a, DLM_LOCK_NL, DLM_LKF_QUECVT, None),
            Err(-EINVAL)
        );
        assert_eq!(
            d.convert(1, a, DLM_LOCK_EX, DLM_LKF_QUECVT, None),
            Err(-EINVAL)
        );
        assert_eq!(
            d.request(1, DLM_LOCK_EX, DLM_LKF_QUECVT, b"x", None),
            Err(-EINVAL)
        );
        d.drain_events();
        d.convert(1, a, DLM_LOCK_NL, 0, None).unwrap();
        assert_eq!(d.convert(1, a, DLM_LOCK_EX, DLM_LKF_QUECVT, None), Ok(a));
        assert_eq!(asts(&d.drain_events()), vec![(1, a, 0), (1, a, 0)]);
    }

    #[test]
    fn quecvt_goes_behind_other_conversions() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_NL, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        let c = d.request(3, DLM_LOCK_PR, 0, R, None).unwrap();
        d.convert(2, b, DLM_LOCK_EX, 0, None).unwrap();
        // Compatible with every granted mode, but QUECVT must wait behind b.
        d.convert(1, a, DLM_LOCK_PR, DLM_LKF_QUECVT, None).unwrap();
        assert_eq!(d.resource_view(R).unwrap().convert, vec![b, a]);
        d.drain_events();
        d.unlock(3, c, 0, None).unwrap();
        assert_eq!(
            asts(&d.drain_events()),
            vec![(3, c, -DLM_EUNLOCK), (2, b, 0)]
        );
    }

    #[test]
    fn altpr_and_altcw() {
        let mut d = cluster(3);
        d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_EX, DLM_LKF_ALTPR, R, None).unwrap();
        let ev = d.drain_events();
        assert_eq!(ast_of(&ev, b), (0, DLM_SBF_ALTMODE, None, DLM_LOCK_PR));
        d.request(1, DLM_LOCK_CW, 0, b"r2", None).unwrap();
        let c = d
            .request(3, DLM_LOCK_PR, DLM_LKF_ALTCW, b"r2", None)
            .unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), c),
            (0, DLM_SBF_ALTMODE, None, DLM_LOCK_CW)
        );
        // Not grantable in either mode: queued, no ALTMODE.
        let e = d
            .request(3, DLM_LOCK_EX, DLM_LKF_ALTPR, b"r3", None)
            .unwrap();
        let f = d
            .request(2, DLM_LOCK_EX, DLM_LKF_ALTPR, b"r3", None)
            .unwrap();
        assert_eq!(d.lock_view(f).unwrap().status, LockStatus::Waiting);
        // The next request on the lock clears sb_flags (validate_lock_args).
        d.convert(2, b, DLM_LOCK_NL, 0, None).unwrap();
        assert_eq!(ast_of(&d.drain_events(), b).1, 0);
        let _ = e;
    }

    #[test]
    fn sticky_altmode_fault() {
        let mut d = cluster(2);
        d.faults.sticky_altmode = true;
        d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_EX, DLM_LKF_ALTPR, R, None).unwrap();
        d.drain_events();
        d.convert(2, b, DLM_LOCK_NL, 0, None).unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), b),
            (0, DLM_SBF_ALTMODE, None, DLM_LOCK_NL)
        );
    }

    #[test]
    fn lvb_written_on_down_conversion_and_read_on_grant() {
        let mut d = cluster(2);
        let a = d
            .request(1, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
            .unwrap();
        // Fresh resource: no LVB yet, the caller's buffer is left alone.
        assert_eq!(ast_of(&d.drain_events(), a).2, None);
        d.convert(1, a, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(7)))
            .unwrap();
        assert_eq!(ast_of(&d.drain_events(), a), (0, 0, None, DLM_LOCK_NL));
        assert_eq!(d.resource_view(R).unwrap().lvb, Some(lvb(7)));
        let b = d
            .request(2, DLM_LOCK_PR, DLM_LKF_VALBLK, R, Some(lvb(0)))
            .unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), b),
            (0, 0, Some(lvb(7)), DLM_LOCK_PR)
        );
        // Without VALBLK nothing is read.
        let c = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        assert_eq!(ast_of(&d.drain_events(), c).2, None);
        // PR -> NL is not a write (dlm_lvb_operations).
        d.convert(2, b, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(9)))
            .unwrap();
        assert_eq!(d.resource_view(R).unwrap().lvb, Some(lvb(7)));
    }

    #[test]
    fn unlock_from_ex_writes_lvb_and_toss_loses_it() {
        let mut d = cluster(2);
        let keep = d.request(2, DLM_LOCK_NL, 0, R, None).unwrap();
        let a = d
            .request(1, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
            .unwrap();
        d.unlock(1, a, DLM_LKF_VALBLK, Some(lvb(3))).unwrap();
        assert_eq!(d.resource_view(R).unwrap().lvb, Some(lvb(3)));
        d.unlock(2, keep, 0, None).unwrap();
        // toss_rsb frees the LVB with the last lock.
        assert!(d.resource_view(R).is_none());
        let b = d
            .request(1, DLM_LOCK_PR, DLM_LKF_VALBLK, R, Some(lvb(1)))
            .unwrap();
        assert_eq!(ast_of(&d.drain_events(), b).2, None);
    }

    #[test]
    fn valnotvalid_after_ex_holder_crash() {
        let mut d = cluster(2);
        let a = d
            .request(1, DLM_LOCK_NL, DLM_LKF_VALBLK, R, Some(lvb(0)))
            .unwrap();
        let b = d
            .request(2, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
            .unwrap();
        d.convert(2, b, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(5)))
            .unwrap();
        d.convert(2, b, DLM_LOCK_EX, DLM_LKF_VALBLK, None).unwrap();
        d.crash(2).unwrap();
        d.run_recovery();
        d.drain_events();
        assert!(d.resource_view(R).unwrap().valnotvalid);
        d.convert(1, a, DLM_LOCK_EX, DLM_LKF_VALBLK, None).unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), a),
            (0, DLM_SBF_VALNOTVALID, Some(lvb(5)), DLM_LOCK_EX)
        );
        // A write from EX makes it valid again.
        d.convert(1, a, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(6)))
            .unwrap();
        d.convert(1, a, DLM_LOCK_PR, DLM_LKF_VALBLK, None).unwrap();
        assert_eq!(ast_of(&d.drain_events(), a).1, 0);
        assert!(!d.resource_view(R).unwrap().valnotvalid);
    }

    #[test]
    fn no_valnotvalid_when_crashed_holder_was_nl_or_fault_set() {
        for fault in [false, true] {
            let mut d = cluster(2);
            d.faults.no_lvb_invalidate = fault;
            let a = d
                .request(1, DLM_LOCK_NL, DLM_LKF_VALBLK, R, Some(lvb(0)))
                .unwrap();
            let b = d
                .request(2, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
                .unwrap();
            if !fault {
                d.convert(2, b, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(5)))
                    .unwrap();
            }
            d.crash(2).unwrap();
            d.run_recovery();
            assert!(!d.resource_view(R).unwrap().valnotvalid);
            let _ = a;
        }
    }

    #[test]
    fn master_death_recovers_lvb_from_survivor_copies() {
        for remaster in [true, false] {
            let cfg = DlmConfig {
                remaster_lvb: remaster,
                ..DlmConfig::default()
            };
            let mut d = Dlm::with_config(cfg);
            d.join(1).unwrap();
            d.join(2).unwrap();
            d.run_recovery();
            let a = d
                .request(1, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
                .unwrap();
            d.convert(1, a, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(1)))
                .unwrap();
            let b = d
                .request(2, DLM_LOCK_NL, DLM_LKF_VALBLK, R, Some(lvb(0)))
                .unwrap();
            d.convert(1, a, DLM_LOCK_EX, DLM_LKF_VALBLK, None).unwrap();
            d.convert(1, a, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(2)))
                .unwrap();
            assert_eq!(d.resource_view(R).unwrap().master, 1);
            d.crash(1).unwrap();
            d.run_recovery();
            d.drain_events();
            d.convert(2, b, DLM_LOCK_EX, DLM_LKF_VALBLK, None).unwrap();
            let got = ast_of(&d.drain_events(), b);
            if remaster {
                // Only NL copies survive: the LVB goes back to node 2's copy, flagged invalid.
                assert_eq!(got, (0, DLM_SBF_VALNOTVALID, Some(lvb(1)), DLM_LOCK_EX));
            } else {
                assert_eq!(got, (0, 0, Some(lvb(2)), DLM_LOCK_EX));
            }
            assert_eq!(d.resource_view(R).unwrap().master, 2);
        }
    }

    #[test]
    fn cancel_waiting_and_converting() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        let c = d.request(3, DLM_LOCK_PR, 0, R, None).unwrap();
        d.drain_events();
        d.cancel(2, b).unwrap();
        // Cancelling the head waiter lets the compatible PR behind it in.
        assert_eq!(
            asts(&d.drain_events()),
            vec![(2, b, -DLM_ECANCEL), (3, c, 0)]
        );
        assert!(d.lock_view(b).is_none());
        d.convert(1, a, DLM_LOCK_EX, 0, None).unwrap();
        d.drain_events();
        d.cancel(1, a).unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), a),
            (-DLM_ECANCEL, 0, None, DLM_LOCK_PR)
        );
        assert_eq!(d.lock_view(a).unwrap().status, LockStatus::Granted);
        // Nothing to cancel: accepted, no AST; a repeated cancel flag is -EINVAL.
        assert_eq!(d.cancel(1, a), Err(-EINVAL));
        assert_eq!(d.cancel(3, c), Ok(()));
        assert!(d.drain_events().is_empty());
    }

    #[test]
    fn unlock_gives_eunlock_and_errors() {
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.drain_events();
        assert_eq!(d.unlock(2, a, 0, None), Err(-ENOENT));
        assert_eq!(d.unlock(1, 999, 0, None), Err(-ENOENT));
        assert_eq!(d.unlock(1, a, DLM_LKF_NOQUEUE, None), Err(-EINVAL));
        assert_eq!(
            d.unlock(1, a, DLM_LKF_CANCEL | DLM_LKF_FORCEUNLOCK, None),
            Err(-EINVAL)
        );
        d.unlock(1, a, 0, None).unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), a),
            (-DLM_EUNLOCK, 0, None, DLM_LOCK_IV)
        );
        assert_eq!(d.unlock(1, a, 0, None), Err(-ENOENT));
    }

    #[test]
    fn request_argument_errors() {
        let mut d = cluster(1);
        assert_eq!(d.request(1, 6, 0, R, None), Err(-EINVAL));
        assert_eq!(d.request(1, DLM_LOCK_IV, 0, R, None), Err(-EINVAL));
        assert_eq!(
            d.request(1, DLM_LOCK_PR, DLM_LKF_EXPEDITE, R, None),
            Err(-EINVAL)
        );
        assert_eq!(
            d.request(1, DLM_LOCK_PR, DLM_LKF_VALBLK, R, None),
            Err(-EINVAL)
        );
        assert_eq!(
            d.request(1, DLM_LOCK_PR, 0, &[b'x'; 65], None),
            Err(-EINVAL)
        );
        assert_eq!(d.convert(1, 42, DLM_LOCK_PR, 0, None), Err(-ENOENT));
        assert_eq!(
            d.lock(1, DLM_LOCK_PR, 0, LockTarget::Lkid(1), None),
            Err(-EINVAL)
        );
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(1, DLM_LOCK_PR, 0, b"x", None).unwrap();
        assert!(b > a);
        assert!(d.pending_events().len() == 2);
    }

    #[test]
    fn conversion_while_converting_is_ebusy() {
        let mut d = cluster(2);
        d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        d.convert(2, b, DLM_LOCK_EX, 0, None).unwrap();
        assert_eq!(d.convert(2, b, DLM_LOCK_NL, 0, None), Err(-EBUSY));
    }

    #[test]
    fn conversion_deadlock() {
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        d.convert(1, a, DLM_LOCK_EX, 0, None).unwrap();
        d.drain_events();
        d.convert(2, b, DLM_LOCK_EX, 0, None).unwrap();
        assert_eq!(
            ast_of(&d.drain_events(), b),
            (-EDEADLK, 0, None, DLM_LOCK_PR)
        );
        // With CONVDEADLK the second converter is demoted to NL, letting the first in.
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        d.convert(1, a, DLM_LOCK_EX, 0, None).unwrap();
        d.drain_events();
        d.convert(2, b, DLM_LOCK_EX, DLM_LKF_CONVDEADLK, None)
            .unwrap();
        let ev = d.drain_events();
        assert_eq!(ast_of(&ev, a), (0, 0, None, DLM_LOCK_EX));
        assert_eq!(d.lock_view(b).unwrap().grmode, DLM_LOCK_NL);
        assert_eq!(d.lock_view(b).unwrap().status, LockStatus::Converting);
    }

    #[test]
    fn headque_noorder_expedite() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        let b = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        let c = d.request(3, DLM_LOCK_PR, DLM_LKF_HEADQUE, R, None).unwrap();
        assert_eq!(d.resource_view(R).unwrap().wait, vec![c, b]);
        let e = d
            .request(3, DLM_LOCK_NL, DLM_LKF_EXPEDITE, R, None)
            .unwrap();
        assert_eq!(d.lock_view(e).unwrap().status, LockStatus::Granted);
        // NOORDER: compatible with granted modes, granted past the waiters.
        let mut d2 = cluster(3);
        d2.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        d2.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        let f = d2.request(3, DLM_LOCK_PR, 0, R, None).unwrap();
        let g = d2
            .request(3, DLM_LOCK_PR, DLM_LKF_NOORDER, R, None)
            .unwrap();
        assert_eq!(d2.lock_view(f).unwrap().status, LockStatus::Waiting);
        assert_eq!(d2.lock_view(g).unwrap().status, LockStatus::Granted);
        let _ = a;
    }

    #[test]
    fn slots_lowest_free_and_stable() {
        let mut d = cluster(3);
        assert_eq!(
            (d.slot_of(1), d.slot_of(2), d.slot_of(3)),
            (Some(1), Some(2), Some(3))
        );
        d.crash(2).unwrap();
        d.run_recovery();
        assert_eq!(
            (d.slot_of(1), d.slot_of(2), d.slot_of(3)),
            (Some(1), None, Some(3))
        );
        d.join(9).unwrap();
        d.join(5).unwrap();
        d.run_recovery();
        assert_eq!((d.slot_of(5), d.slot_of(9)), (Some(2), Some(4)));
        assert_eq!((d.slot_of(1), d.slot_of(3)), (Some(1), Some(3)));
    }

    #[test]
    fn recovery_sequence_crash() {
        let mut d = cluster(3);
        let g = d.generation();
        d.crash(2).unwrap();
        assert!(!d.locking_blocked());
        assert_eq!(d.recovery_step(), Some(RecoveryStep::Stopped));
        assert!(d.locking_blocked());
        assert_eq!(
            d.drain_events(),
            vec![
                DlmEvent::RecoverPrep { node: 1 },
                DlmEvent::RecoverPrep { node: 3 }
            ]
        );
        assert_eq!(d.recovery_step(), Some(RecoveryStep::MembersRecovered));
        assert_eq!(
            d.drain_events(),
            vec![
                DlmEvent::RecoverSlot {
                    node: 1,
                    failed: 2,
                    slot: 2
                },
                DlmEvent::RecoverSlot {
                    node: 3,
                    failed: 2,
                    slot: 2
                },
            ]
        );
        assert_eq!(d.recovery_step(), Some(RecoveryStep::LockingEnabled));
        assert!(!d.locking_blocked());
        assert_eq!(d.recovery_step(), Some(RecoveryStep::Done));
        let slots: std::sync::Arc<[(u32, u32)]> = vec![(1, 1), (3, 3)].into();
        assert_eq!(
            d.drain_events(),
            vec![
                DlmEvent::RecoverDone {
                    node: 1,
                    slots: slots.clone(),
                    our_slot: 1,
                    generation: g + 1
                },
                DlmEvent::RecoverDone {
                    node: 3,
                    slots,
                    our_slot: 3,
                    generation: g + 1
                },
            ]
        );
        assert_eq!(d.recovery_step(), None);
    }

    #[test]
    fn recovery_sequence_clean_leave_and_leave_as_failed() {
        let mut d = cluster(3);
        d.leave(2).unwrap();
        d.run_recovery();
        let ev = d.drain_events();
        assert!(!ev.iter().any(|e| matches!(e, DlmEvent::RecoverSlot { .. })));
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, DlmEvent::RecoverPrep { .. }))
                .count(),
            2
        );
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, DlmEvent::RecoverDone { .. }))
                .count(),
            2
        );
        d.leave_as_failed(3).unwrap();
        d.run_recovery();
        let ev = d.drain_events();
        assert_eq!(
            ev,
            vec![
                DlmEvent::RecoverPrep { node: 1 },
                DlmEvent::RecoverSlot {
                    node: 1,
                    failed: 3,
                    slot: 3
                },
                DlmEvent::RecoverDone {
                    node: 1,
                    slots: vec![(1, 1)].into(),
                    our_slot: 1,
                    generation: 3
                },
            ]
        );
    }

    #[test]
    fn recovery_sequence_join() {
        let mut d = cluster(2);
        d.join(3).unwrap();
        d.run_recovery();
        let ev = d.drain_events();
        let to3: Vec<_> = ev.iter().filter(|e| e.node() == 3).collect();
        assert_eq!(to3.len(), 1);
        assert!(matches!(
            to3[0],
            DlmEvent::RecoverDone {
                our_slot: 3,
                generation: 2,
                ..
            }
        ));
        assert_eq!(ev.iter().filter(|e| e.node() == 1).count(), 2);
        assert!(matches!(ev[0], DlmEvent::RecoverPrep { node: 1 }));
    }

    #[test]
    fn restart_during_recovery() {
        // Reference-era kernels send recover_prep on every stop.
        let mut d = cluster(4);
        d.crash(2).unwrap();
        d.recovery_step();
        d.crash(3).unwrap();
        d.run_recovery();
        let ev = d.drain_events();
        let preps = ev
            .iter()
            .filter(|e| matches!(e, DlmEvent::RecoverPrep { node: 1 }))
            .count();
        assert_eq!(preps, 2);
        let slots: Vec<_> = ev
            .iter()
            .filter(|e| matches!(e, DlmEvent::RecoverSlot { node: 1, .. }))
            .collect();
        assert_eq!(slots.len(), 2);
        // Newer kernels: only once while stopped.
        let cfg = DlmConfig {
            prep_on_every_stop: false,
            ..DlmConfig::default()
        };
        let mut d = Dlm::with_config(cfg);
        for i in 1..=4 {
            d.join(i).unwrap();
        }
        d.run_recovery();
        d.drain_events();
        d.crash(2).unwrap();
        d.recovery_step();
        d.recovery_step();
        d.crash(3).unwrap();
        let g = d.generation();
        d.run_recovery();
        let ev = d.drain_events();
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, DlmEvent::RecoverPrep { node: 1 }))
                .count(),
            1
        );
        assert!(
            matches!(ev.last(), Some(DlmEvent::RecoverDone { generation, .. }) if *generation == g + 1)
        );
    }

    #[test]
    fn change_after_enable_owes_recover_done() {
        let mut d = cluster(3);
        d.crash(3).unwrap();
        d.recovery_step();
        d.recovery_step();
        assert_eq!(d.recovery_step(), Some(RecoveryStep::LockingEnabled));
        let g = d.generation();
        d.crash(2).unwrap();
        assert_eq!(
            d.run_recovery(),
            vec![
                RecoveryStep::Stopped,
                RecoveryStep::OwedDone,
                RecoveryStep::MembersRecovered,
                RecoveryStep::LockingEnabled,
                RecoveryStep::Done,
            ]
        );
        let gens: Vec<u32> = d
            .drain_events()
            .iter()
            .filter_map(|e| match e {
                DlmEvent::RecoverDone {
                    node: 1,
                    generation,
                    ..
                } => Some(*generation),
                _ => None,
            })
            .collect();
        assert_eq!(gens, vec![g, g + 1]);
    }

    #[test]
    fn purge_grants_waiters_after_enable() {
        let mut d = cluster(2);
        let a = d.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        let b = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.drain_events();
        d.crash(2).unwrap();
        d.recovery_step();
        d.recovery_step();
        assert!(d.lock_view(a).is_none());
        assert!(asts(&d.drain_events()).is_empty());
        d.recovery_step();
        assert_eq!(asts(&d.drain_events()), vec![(1, b, 0)]);
    }

    #[test]
    fn requests_during_recovery_are_deferred() {
        let mut d = cluster(2);
        d.crash(2).unwrap();
        d.recovery_step();
        d.drain_events();
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        assert_eq!(d.lock_view(a).unwrap().status, LockStatus::Deferred);
        // Argument errors are still immediate.
        assert_eq!(
            d.request(1, DLM_LOCK_EX, DLM_LKF_EXPEDITE, R, None),
            Err(-EINVAL)
        );
        d.recovery_step();
        assert!(asts(&d.drain_events()).is_empty());
        d.recovery_step();
        assert_eq!(asts(&d.drain_events()), vec![(1, a, 0)]);
    }

    #[test]
    fn deferred_call_failing_late_reports_error() {
        let mut d = cluster(3);
        let a = d.request(1, DLM_LOCK_PR, 0, R, None).unwrap();
        d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        d.crash(3).unwrap();
        d.recovery_step();
        d.convert(1, a, DLM_LOCK_EX, 0, None).unwrap();
        d.convert(1, a, DLM_LOCK_NL, 0, None).unwrap();
        d.run_recovery();
        let ev = d.drain_events();
        assert!(ev.contains(&DlmEvent::DeferredError {
            node: 1,
            lkid: a,
            error: -EBUSY
        }));
    }

    #[test]
    fn calls_after_leave_fail() {
        let mut d = cluster(2);
        let a = d.request(2, DLM_LOCK_PR, 0, R, None).unwrap();
        d.leave(2).unwrap();
        assert_eq!(d.request(2, DLM_LOCK_PR, 0, R, None), Err(-ENODEV));
        assert_eq!(d.unlock(2, a, 0, None), Err(-ENODEV));
        assert_eq!(d.leave(2), Err(-ENODEV));
        assert!(!d.pending_events().iter().any(|e| e.node() == 2));
        let cfg = DlmConfig {
            released_errno: -EINVAL,
            ..DlmConfig::default()
        };
        let mut d = Dlm::with_config(cfg);
        assert_eq!(d.request(7, DLM_LOCK_PR, 0, R, None), Err(-EINVAL));
    }

    #[test]
    fn stale_lvb_fault_on_nl_to_ex() {
        for fault in [false, true] {
            let mut d = cluster(2);
            d.faults.stale_lvb_nl_to_ex = fault;
            let a = d
                .request(1, DLM_LOCK_NL, DLM_LKF_VALBLK, R, Some(lvb(1)))
                .unwrap();
            let b = d
                .request(2, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(0)))
                .unwrap();
            d.convert(2, b, DLM_LOCK_NL, DLM_LKF_VALBLK, Some(lvb(8)))
                .unwrap();
            d.drain_events();
            d.convert(1, a, DLM_LOCK_EX, DLM_LKF_VALBLK, None).unwrap();
            let got = ast_of(&d.drain_events(), a).2;
            assert_eq!(got, Some(if fault { lvb(1) } else { lvb(8) }));
        }
    }

    #[test]
    fn ebusy_fault() {
        let mut d = cluster(1);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.faults.ebusy_calls.insert(1, 2);
        assert_eq!(d.convert(1, a, DLM_LOCK_NL, 0, None), Err(-EBUSY));
        assert_eq!(d.unlock(1, a, 0, None), Err(-EBUSY));
        assert_eq!(d.lock_view(a).unwrap().grmode, DLM_LOCK_EX);
        assert_eq!(d.unlock(1, a, 0, None), Ok(()));
    }

    #[test]
    fn events_for_dead_node_are_dropped() {
        let mut d = cluster(2);
        let a = d.request(1, DLM_LOCK_EX, 0, R, None).unwrap();
        d.request(2, DLM_LOCK_EX, 0, R, None).unwrap();
        d.crash(1).unwrap();
        assert!(d.pending_events().iter().all(|e| e.node() != 1));
        // Its lock still blocks until recovery purges it.
        assert_eq!(d.holders(R), vec![(1, a, DLM_LOCK_EX)]);
        d.run_recovery();
        assert_eq!(d.holders(R).len(), 1);
        assert_eq!(d.holders(R)[0].0, 2);
    }

    #[test]
    fn deterministic() {
        let run = || {
            let mut d = cluster(3);
            let mut ids = Vec::new();
            for n in 1..=3 {
                ids.push(
                    d.request(n, DLM_LOCK_EX, DLM_LKF_VALBLK, R, Some(lvb(n as u8)))
                        .unwrap(),
                );
                ids.push(d.request(n, DLM_LOCK_PR, 0, b"b", None).unwrap());
            }
            d.crash(2).unwrap();
            d.run_recovery();
            d.unlock(1, ids[0], DLM_LKF_VALBLK, Some(lvb(4))).unwrap();
            d.drain_events()
        };
        let a = run();
        assert!(!a.is_empty());
        assert_eq!(a, run());
    }
}
