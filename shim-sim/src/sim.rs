//! The cluster: a seeded scheduler over the DLM model, the nodes, the journals and the
//! fault injector, with the invariants checked after every event.

use std::fmt;

use gdlm_core::recovery::{LockId, SizePolicy};
use gdlm_core::{ControlLvb, Profile};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use gdlm_core::membership::LeftReason;

use crate::dlm::{Dlm, DlmConfig, DlmEvent};
use crate::node::{Node, Note, Phase};
use gdlm_core::engine::Release;

mod latency;
mod order;
mod script;

pub use order::OrderSel;

/// A journal replay's virtual duration by default: the real-cluster run in
/// `../shared/realdlm/FINDINGS.md` logged "Journal replayed in 403ms [jlck:1ms,
/// jhead:392ms, tlck:0ms, replay:9ms]" under TCG (journal head lookup dominates).
pub const REPLAY_MS: u64 = 400;

/// Exhaustive mode's "now" for node steps: later than any timer.
const UNTIMED_NOW: u64 = u64::MAX / 4;

/// Injected DLM / policy defects, for bug hunting. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Defects {
    /// An NL→EX conversion returns a stale LVB (RACES 2).
    pub stale_lvb: bool,
    /// The reference's `set_recover_size` (grow by 16 once) with a node forced to a far slot
    /// (RACES 1).
    pub slot_growth_by_16: bool,
    /// `DLM_SBF_ALTMODE` never cleared (RACES 10).
    pub sticky_altmode: bool,
    /// The DLM rebuilds a remastered LVB from survivors' copies (may go back in time).
    pub lvb_remaster: bool,
}

impl Defects {
    /// Parse names: `stale-lvb`, `slot-growth`, `sticky-altmode`, `lvb-remaster`.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Defects, String> {
        let mut d = Defects::default();
        for n in names {
            match n.as_ref() {
                "stale-lvb" => d.stale_lvb = true,
                "slot-growth" => d.slot_growth_by_16 = true,
                "sticky-altmode" => d.sticky_altmode = true,
                "lvb-remaster" => d.lvb_remaster = true,
                other => return Err(format!("unknown defect {other:?}")),
            }
        }
        Ok(d)
    }

    /// Refuse defects the callback source cannot have: `slot-growth` forces a DLM slot,
    /// but under CPG callbacks the slots are gdlm-core's `membership`'s, which assigns
    /// them as `dlm_slots_assign` does (the defect would silently do nothing).
    pub fn check_callbacks(&self, cpg: bool) -> Result<(), String> {
        if cpg && self.slot_growth_by_16 {
            return Err(
                "defect slot-growth needs kernel callbacks: under --callbacks cpg \
                 the slots come from gdlm-core's membership (lowest free, as \
                 dlm_slots_assign), so no node can be put in slot 40"
                    .into(),
            );
        }
        Ok(())
    }
}

/// What faults the run injects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Faults {
    /// Crash nodes.
    pub crash: bool,
    /// Mount nodes that are down or dead (including during recovery).
    pub mount: bool,
    /// Unmount mounted nodes.
    pub unmount: bool,
    /// Withdraw mounted nodes, as the profile does it (7.2: leave the lockspace as
    /// failed, `DLM_RELEASE_RECOVER`; the reference: a normal release). Off by default:
    /// under the reference it loses the journal (see the README).
    pub withdraw: bool,
    /// Starve one node's work queue (its internal steps are picked rarely), as a loaded
    /// machine would: its control work loses races with recovery callbacks.
    pub starve: bool,
    /// Per-mille chance, per event, of a fault while faults are on.
    pub rate_per_mille: u32,
    /// Faults stop after this many events; then the run must converge (liveness).
    pub window: u64,
    /// Most crashes plus withdrawals in one run.
    pub max_crashes: u32,
    /// Journal replays fail on a node for a while (switched on and off as faults).
    pub replay_fail: bool,
    /// Every replay takes this many virtual milliseconds (0: the next step) when
    /// `replay_times` is empty.
    pub replay_delay_ms: u64,
    /// Each replay of another node's journal takes a time drawn (from the seed) out of
    /// this list: by default [`crate::schedule::REAL_REPLAY_MS`], the dead-journal
    /// replays real clusters logged; empty: `replay_delay_ms`.
    pub replay_times: &'static [u64],
    /// A replay of another node's journal that is clean takes a time drawn out of this
    /// list instead (by default [`crate::schedule::REAL_CLEAN_LOOKUP_MS`]: only the head
    /// lookup); empty: as a dirty one.
    pub clean_times: &'static [u64],
    /// A mounting node's look at its own journal (gfs2's `init_journal` head lookup)
    /// takes a time drawn from this list; `None` (the default): from what the node's
    /// kernel logged ([`crate::schedule::jhead_ms`]); empty: no time.
    pub jhead_times: Option<&'static [u64]>,
    /// A completion AST (grant, convert, unlock, `-EAGAIN`) of a lock whose resource the
    /// requesting node masters reaches it a time (µs) drawn out of this list after the
    /// request or the release that granted it; by default
    /// [`crate::schedule::REAL_GRANT_US_LOCAL`]; empty: at once (the scheduler's next pick).
    pub grant_us: &'static [u64],
    /// The same for a lock whose resource another node masters (a round trip): by default
    /// [`crate::schedule::REAL_GRANT_US_REMOTE`].
    pub remote_grant_us: &'static [u64],
    /// A node's engine timer (the mount's 500 ms retry, the GAVEUP retry after `HZ`) fires
    /// a time (ms) drawn out of this list late, as a delayed work on a loaded VM does: by
    /// default [`crate::schedule::REAL_TIMER_SLACK_MS`]; empty: on time.
    pub timer_slack_ms: &'static [u64],
}

impl Faults {
    /// No random faults (a schedule or the exhaustive check is the fault plan).
    pub const fn none() -> Faults {
        Faults {
            crash: false,
            mount: false,
            unmount: false,
            withdraw: false,
            starve: false,
            rate_per_mille: 0,
            window: 0,
            max_crashes: 0,
            replay_fail: false,
            replay_delay_ms: REPLAY_MS,
            replay_times: &crate::schedule::REAL_REPLAY_MS,
            clean_times: &crate::schedule::REAL_CLEAN_LOOKUP_MS,
            jhead_times: None,
            grant_us: &crate::schedule::REAL_GRANT_US_LOCAL,
            remote_grant_us: &crate::schedule::REAL_GRANT_US_REMOTE,
            timer_slack_ms: &crate::schedule::REAL_TIMER_SLACK_MS,
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            crash: true,
            mount: true,
            unmount: true,
            withdraw: false,
            starve: false,
            rate_per_mille: 20,
            window: 2_000,
            max_crashes: 2,
            replay_fail: false,
            replay_delay_ms: REPLAY_MS,
            replay_times: &crate::schedule::REAL_REPLAY_MS,
            clean_times: &crate::schedule::REAL_CLEAN_LOOKUP_MS,
            jhead_times: None,
            grant_us: &crate::schedule::REAL_GRANT_US_LOCAL,
            remote_grant_us: &crate::schedule::REAL_GRANT_US_REMOTE,
            timer_slack_ms: &crate::schedule::REAL_TIMER_SLACK_MS,
        }
    }
}

/// A simulation's configuration.
#[derive(Clone, Debug, Serialize)]
pub struct SimConfig {
    /// Nodes (ids 1..=nodes); also the number of journals.
    pub nodes: u32,
    /// PRNG seed.
    pub seed: u64,
    /// Most events in a run.
    pub max_steps: u64,
    /// Faults.
    pub faults: Faults,
    /// Defects.
    pub defects: Defects,
    /// Keep a full trace.
    pub trace: bool,
    /// Mounted nodes take, convert and release inode glocks while faults are on.
    pub traffic: bool,
    /// Record a timeline picture.
    pub timeline: bool,
    /// Record every action as a schedule (for shrinking).
    pub record: bool,
    /// Invariants to log but not stop on (to see what a defect leads to next).
    pub ignore: Vec<u8>,
    /// Run the nodes with `SubmitPolicy::DropFolded` (a fix for the stale
    /// recover_submit finding; not the kernel's behaviour).
    pub fix_stale_submit: bool,
    /// Userspace lockspace: recovery callbacks come from a CPG group through gdlm-core's
    /// `membership` (as gdlmd gets them), not from the DLM, which still recovers locks.
    pub cpg: bool,
    /// Which kernel's lock_dlm the nodes run (the engine's and the glocks' policies).
    #[serde(serialize_with = "profile_name")]
    pub profile: Profile,
    /// Nodes that run another kernel's lock_dlm than `profile` (a mixed-kernel cluster).
    #[serde(skip)]
    pub node_profiles: Vec<(u32, Profile)>,
}

impl SimConfig {
    /// The profile node `id` runs.
    pub fn profile_of(&self, id: u32) -> Profile {
        self.node_profiles
            .iter()
            .find(|&&(n, _)| n == id)
            .map_or(self.profile, |&(_, p)| p)
    }
}

fn profile_name<S: serde::Serializer>(p: &Profile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 3,
            seed: 1,
            max_steps: 50_000,
            faults: Faults::default(),
            defects: Defects::default(),
            trace: false,
            traffic: true,
            timeline: false,
            record: false,
            ignore: Vec::new(),
            fix_stale_submit: false,
            cpg: false,
            profile: Profile::Reference,
            node_profiles: Vec::new(),
        }
    }
}

/// One line of the trace (the JSONL schema is in [`crate::trace`]).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TraceEvent {
    /// Event index.
    pub i: u64,
    /// Virtual time, ms.
    pub t: u64,
    /// Node (0: the DLM or the world).
    pub node: u32,
    /// The record's kind (`text`, `log`, `dlm_request`, `ast`, …).
    pub kind: &'static str,
    /// What happened, as text.
    pub what: String,
    /// The kind's fields.
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A trace line as kept during a run: the engine's log events are formatted only when the
/// trace is read, so a run that keeps no trace pays nothing for them.
#[derive(Clone, Debug)]
enum What {
    Text(String),
    /// A line of the simulator's own, formatted only when the trace is read.
    Line(Line),
    Log(gdlm_core::engine::LogEvent),
    /// A structured record (kept only with a full trace).
    Rec(Box<crate::trace::Rec>),
}

/// The simulator's frequent trace lines, kept unformatted (their text is in `Display`).
#[derive(Clone, Debug)]
enum Line {
    Static(&'static str),
    RecoverSlot {
        failed: u32,
        slot: u32,
    },
    RecoverDone {
        generation: u32,
        our_slot: u32,
        slots: std::sync::Arc<[(u32, u32)]>,
    },
    Deferred {
        lkid: u32,
        error: i32,
    },
    DlmStep {
        step: crate::dlm::RecoveryStep,
        generation: u32,
    },
    ReplayJournal(u32),
    ReplayFailed(u32),
    Replayed(u32),
    Mounted {
        first: bool,
        jid: Option<u32>,
    },
    CpgDone {
        generation: u32,
        our_slot: i32,
        slots: Vec<i32>,
    },
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Static(s) => f.write_str(s),
            Line::RecoverSlot { failed, slot } => {
                write!(f, "recover_slot node {failed} slot {slot}")
            }
            Line::RecoverDone {
                generation,
                our_slot,
                slots,
            } => {
                let slots: Vec<i32> = slots.iter().map(|&(_, s)| s as i32).collect();
                write!(
                    f,
                    "recover_done gen {generation} our slot {our_slot} slots {slots:?}"
                )
            }
            Line::Deferred { lkid, error } => write!(f, "deferred error lkid {lkid} {error}"),
            Line::DlmStep { step, generation } => write!(f, "dlm {step:?} generation {generation}"),
            Line::ReplayJournal(jid) => write!(f, "replay journal {jid}"),
            Line::ReplayFailed(jid) => write!(f, "replay of journal {jid} failed"),
            Line::Replayed(jid) => write!(f, "journal {jid} replayed"),
            Line::Mounted { first, jid } => write!(f, "mounted (first {first}) jid {jid:?}"),
            Line::CpgDone {
                generation,
                our_slot,
                slots,
            } => write!(
                f,
                "recover_done gen {generation} our slot {our_slot} slots {slots:?} (cpg)"
            ),
        }
    }
}

#[derive(Clone, Debug)]
struct RawEvent {
    i: u64,
    t: u64,
    node: u32,
    what: What,
}

impl RawEvent {
    fn cook(&self) -> TraceEvent {
        let (kind, what, fields) = match &self.what {
            What::Text(s) => ("text", s.clone(), serde_json::Map::new()),
            What::Line(l) => ("text", l.to_string(), serde_json::Map::new()),
            What::Log(l) => {
                let (kind, fields) = crate::trace::log_kind(l);
                (kind, l.to_string(), fields)
            }
            What::Rec(r) => r.cook(),
        };
        TraceEvent {
            i: self.i,
            t: self.t,
            node: self.node,
            kind,
            what,
            fields,
        }
    }
}

/// An invariant that broke.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant (1–5, or 0 for a core error).
    pub invariant: u8,
    /// Event index.
    pub step: u64,
    /// Description.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.invariant {
            0 => "core refused a DLM input",
            1 => "unblocked while a failed node's journal is dirty",
            2 => "journal replayed while its owner is mounted",
            3 => "more than one first mounter",
            4 => "control LVB generation went backwards",
            5 => "no progress after faults stopped",
            _ => "invariant",
        };
        write!(
            f,
            "invariant {} ({name}) at event {}: {}",
            self.invariant, self.step, self.message
        )
    }
}

/// A journal on the shared disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Journal {
    /// Holds unreplayed transactions.
    pub dirty: bool,
    /// The DLM generation current when its writer failed (it must be replayed before
    /// anyone who has seen a later generation unblocks).
    pub failed_gen: Option<u32>,
    /// Times replayed.
    pub replays: u32,
}

/// Counters for the summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Events run.
    pub events: u64,
    /// Crashes injected.
    pub crashes: u32,
    /// Withdrawals (leave as failed) injected.
    pub withdrawals: u32,
    /// Mounts started.
    pub mounts: u32,
    /// Unmounts.
    pub unmounts: u32,
    /// Mounts that failed.
    pub mount_failures: u32,
    /// Journal replays of failed nodes' journals.
    pub recoveries: u32,
    /// "recover generation N done" lines.
    pub unblocks: u32,
    /// Highest DLM generation.
    pub generation: u32,
    /// Virtual time at the end, ms.
    pub time_ms: u64,
    /// Longest virtual time from a settle's start until the cluster was live (ms).
    pub settle_ms: u64,
}

/// How a run ended.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Counters.
    pub stats: Stats,
    /// The last events before the end (all of them with `trace`).
    pub trace: Vec<TraceEvent>,
    /// Final node phases.
    pub phases: Vec<Phase>,
    /// The timeline as SVG, when recorded.
    #[serde(skip)]
    pub timeline_svg: Option<String>,
    /// The recorded timeline (to draw other views of it), when recorded.
    #[serde(skip)]
    pub timeline: Option<crate::timeline::Timeline>,
    /// Every action taken, when recorded.
    #[serde(skip)]
    pub schedule: Option<Vec<crate::schedule::Step>>,
}

/// One scheduling choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// Advance the DLM's recovery by one step.
    DlmRecovery,
    /// Deliver the oldest DLM callback for this node.
    Deliver(u32),
    /// Let this node run one internal step (work item, journal recovery, timer).
    Run(u32),
    /// Crash this node (exhaustive mode's fault choice).
    Crash(u32),
    /// Mount this node (exhaustive mode's choice).
    Mount(u32),
    /// Deliver this node's next CPG item (CPG mode).
    DeliverCpg(u32),
    /// [`Action::Deliver`] of a recover_done that wakes the node's waiting
    /// `control_first_done`, with the control work it queues running first
    /// ([`gdlm_core::engine::FirstDoneOrder::WorkFirst`]; `Deliver` is the other order).
    DeliverWorkFirst(u32),
    /// [`Action::DeliverCpg`] in the same order (CPG mode).
    DeliverCpgWorkFirst(u32),
}

impl Action {
    /// The node the choice acts on (`None`: the DLM's recovery).
    pub fn node(self) -> Option<u32> {
        match self {
            Action::DlmRecovery => None,
            Action::Deliver(n)
            | Action::Run(n)
            | Action::Crash(n)
            | Action::Mount(n)
            | Action::DeliverCpg(n)
            | Action::DeliverWorkFirst(n)
            | Action::DeliverCpgWorkFirst(n) => Some(n),
        }
    }
}

const TAIL: usize = 60;

/// The simulated cluster.
#[derive(Clone)]
pub struct Sim<const N: usize = 192> {
    cfg: SimConfig,
    rng: Pcg64Mcg,
    now: u64,
    step: u64,
    dlm: Dlm,
    nodes: Vec<Node<N>>,
    journals: Vec<Journal>,
    max_lvb_gen: u32,
    stats: Stats,
    trace: Vec<RawEvent>,
    violation: Option<Violation>,
    /// Nodes asked to be mounted (liveness expects them mounted at the end).
    wanted: Vec<bool>,
    /// Mounts waiting for the DLM to finish recovering the node's last departure.
    pending_mount: Vec<bool>,
    /// Exhaustive mode: timers may fire at any point (time is abstracted away).
    untimed: bool,
    /// Node looks over time, when asked for.
    timeline: Option<crate::timeline::Timeline>,
    /// Every action taken, as schedule steps (for shrinking).
    record: Option<Vec<crate::schedule::Step>>,
    recorded_now: Option<u64>,
    /// Nodes frozen by a schedule: members that take no step and get no callback.
    frozen: Vec<bool>,
    /// CPG mode: the group whose changes drive the recovery callbacks.
    cpg: Option<crate::cpg::Cpg>,
    /// CPG mode, after a new lineage started: the old lineage's LVB generation, exempt
    /// from invariant 4 until the new lineage's first mounter overwrites it.
    stale_lvb_gen: Option<u32>,
    /// Schedules: locks held from outside the file system (`hold`).
    holds: Vec<script::OutsideHold>,
    /// Schedules: slots mounting nodes must get (`mount_slot`), and a mismatch seen.
    want_slot: Vec<script::SlotWant>,
    slot_error: Option<String>,
    /// Schedules: replays of other nodes' journals take a time drawn from these (ms).
    replay_times: Vec<u64>,
    /// Replays of clean journals of other nodes draw from this list (empty: as dirty).
    clean_times: Vec<u64>,
    /// Draws replay and head-lookup durations: apart from the scheduling draws, so a
    /// recorded run replays with the same durations (its schedule makes no picks).
    time_rng: Pcg64Mcg,
    /// The DLM's AST latencies (see [`latency`]).
    grants: latency::Grants,
    /// A running `sleep` step's end: an idle jump stops there.
    jump_limit: Option<u64>,
    /// A schedule's `jhead_times` (own-journal head lookups for every node); `None`: each
    /// node's kernel's measured list if `cfg.faults.jhead`.
    jhead_times: Option<Vec<u64>>,
    /// A schedule's `dlm_hold`: the DLM's recovery waits after enabling locking, before
    /// its recover_done.
    hold_before_done: bool,
    /// The order of a woken `control_first_done` and the control work (`None`: drawn
    /// from the seed at each such delivery).
    first_done_order: Option<gdlm_core::engine::FirstDoneOrder>,
    /// The enabled set, kept incrementally (see [`crate::runnable`]).
    sched: crate::runnable::Runnable,
    /// The invariants' per-node counters (see [`crate::invariants`]).
    inv: crate::invariants::Counters,
    /// Scratch for the nodes a refresh recomputes.
    scratch: Vec<u32>,
    /// The control lock's resource in the DLM model (read after every event).
    control_rid: u32,
    /// Scratch for a recover_done's slot list.
    slots_scratch: Vec<i32>,
    /// The notes buffer a node step fills (kept, so a step allocates none).
    notes_buf: Vec<Note>,
    /// Notes that reached beyond their node (anything but `Info` and `Log`): the
    /// exhaustive check's reduction tells a local step by it ([`Sim::reached_out`]).
    reached_out: u64,
}

impl Sim {
    /// A cluster of `cfg.nodes` nodes, all down, each engine with room for 192 nodes.
    pub fn new(cfg: SimConfig) -> Self {
        Sim::new_sized(cfg)
    }
}

impl<const N: usize> Sim<N> {
    /// [`Sim::new`] with engines of capacity `N` (`Engine<N>`): the exhaustive check's
    /// few nodes need a small one (a state is cloned per transition).
    pub fn new_sized(cfg: SimConfig) -> Self {
        let mut dlm = Dlm::with_config(DlmConfig {
            remaster_lvb: cfg.defects.lvb_remaster,
            ..DlmConfig::default()
        });
        dlm.faults.stale_lvb_nl_to_ex = cfg.defects.stale_lvb;
        dlm.faults.sticky_altmode = cfg.defects.sticky_altmode;
        let policy = if cfg.defects.slot_growth_by_16 {
            // The last node joins far away: slot 40 in a cluster of a few.
            dlm.faults.forced_slots.insert(cfg.nodes, 40);
            SizePolicy::Reference
        } else {
            SizePolicy::Fit
        };
        let journals = if cfg.defects.slot_growth_by_16 {
            48
        } else {
            cfg.nodes
        };
        let submit = if cfg.fix_stale_submit {
            gdlm_core::SubmitPolicy::DropFolded
        } else {
            gdlm_core::SubmitPolicy::Reference
        };
        let model = crate::node::ReplayModel {
            delay_ms: cfg.faults.replay_delay_ms,
            fail: false,
        };
        let control_rid = dlm.resource_id(LockId::Control.name().as_bytes());
        let mut sim = Sim {
            rng: Pcg64Mcg::seed_from_u64(cfg.seed),
            now: 0,
            step: 0,
            dlm,
            nodes: (1..=cfg.nodes)
                .map(|id| {
                    Node::configured(id, journals, policy, submit, cfg.profile_of(id), cfg.cpg)
                        .with_replay_model(model)
                })
                .collect(),
            journals: vec![Journal::default(); journals as usize],
            max_lvb_gen: 0,
            stats: Stats::default(),
            trace: Vec::new(),
            violation: None,
            wanted: vec![false; cfg.nodes as usize],
            pending_mount: vec![false; cfg.nodes as usize],
            frozen: vec![false; cfg.nodes as usize],
            untimed: false,
            timeline: cfg.timeline.then(crate::timeline::Timeline::default),
            record: cfg.record.then(Vec::new),
            recorded_now: None,
            cpg: cfg.cpg.then(|| crate::cpg::Cpg::new(cfg.nodes)),
            stale_lvb_gen: None,
            holds: Vec::new(),
            want_slot: Vec::new(),
            slot_error: None,
            replay_times: cfg.faults.replay_times.to_vec(),
            clean_times: cfg.faults.clean_times.to_vec(),
            jhead_times: None,
            time_rng: Pcg64Mcg::seed_from_u64(cfg.seed ^ 0x71AE_71AE_71AE_71AE),
            grants: latency::Grants::new(&cfg),
            jump_limit: None,
            first_done_order: None,
            hold_before_done: false,
            sched: crate::runnable::Runnable::new(cfg.nodes as usize),
            inv: crate::invariants::Counters::new(cfg.nodes as usize, journals as usize),
            scratch: Vec::new(),
            control_rid,
            slots_scratch: Vec::new(),
            notes_buf: Vec::new(),
            reached_out: 0,
            cfg,
        };
        sim.init_slack();
        sim
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node<N>] {
        &self.nodes
    }

    /// The journals.
    pub fn journals(&self) -> &[Journal] {
        &self.journals
    }

    /// The DLM model.
    pub fn dlm(&self) -> &Dlm {
        &self.dlm
    }

    fn log(&mut self, node: u32, what: String) {
        if self.untimed && !what.starts_with("VIOLATION") {
            // Exhaustive mode keeps no trace: the path of actions is the trace.
            return;
        }
        self.keep(node, What::Text(what));
    }

    /// [`Sim::log`] without formatting (until the trace is read).
    fn line(&mut self, node: u32, line: Line) {
        if !self.untimed {
            self.keep(node, What::Line(line));
        }
    }

    fn keep(&mut self, node: u32, what: What) {
        self.trace.push(RawEvent {
            i: self.step,
            t: self.now,
            node,
            what,
        });
        if !self.cfg.trace && self.trace.len() > 4 * TAIL {
            self.trace.drain(..self.trace.len() - TAIL);
        }
    }

    /// Keep a structured record, only with a full trace (built lazily: `f` runs only then).
    fn record(&mut self, node: u32, f: impl FnOnce(&Self) -> crate::trace::Rec) {
        if self.cfg.trace && !self.untimed {
            let r = f(self);
            self.keep(node, What::Rec(Box::new(r)));
        }
    }

    fn violate(&mut self, invariant: u8, message: String) {
        if self.cfg.ignore.contains(&invariant) {
            if self.cfg.trace {
                self.log(0, format!("ignored violation {invariant}: {message}"));
            }
            return;
        }
        if self.violation.is_none() {
            self.log(0, format!("VIOLATION {invariant}: {message}"));
            self.violation = Some(Violation {
                invariant,
                step: self.step,
                message,
            });
        }
    }

    /// Mount node `id` (1-based). A node whose departure the DLM has not yet recovered
    /// mounts as soon as it has.
    pub fn mount(&mut self, id: u32) {
        let i = (id - 1) as usize;
        if self.nodes[i].alive() || self.pending_mount[i] {
            return;
        }
        self.rec(crate::schedule::Step::Mount(id));
        self.mount_unrecorded(id);
    }

    fn mount_unrecorded(&mut self, id: u32) {
        let i = (id - 1) as usize;
        if self.nodes[i].alive() || self.pending_mount[i] {
            return;
        }
        self.wanted[i] = true;
        self.pending_mount[i] = true;
        self.start_pending_mounts();
    }

    fn start_pending_mounts(&mut self) {
        for i in 0..self.nodes.len() {
            let id = self.nodes[i].id;
            if !self.pending_mount[i] || self.dlm.departing(id) {
                continue;
            }
            self.pending_mount[i] = false;
            self.sched.touch(i);
            self.stats.mounts += 1;
            let mut notes = std::mem::take(&mut self.notes_buf);
            self.line(id, Line::Static("mount: join lockspace"));
            self.nodes[i].start_mount(&mut self.dlm, self.now, &mut notes);
            self.apply_notes(id, notes);
        }
    }

    /// Crash node `id`.
    pub fn crash(&mut self, id: u32) {
        self.rec(crate::schedule::Step::Crash(id));
        self.crash_unrecorded(id);
    }

    fn crash_unrecorded(&mut self, id: u32) {
        let i = (id - 1) as usize;
        if !self.nodes[i].alive() {
            return;
        }
        self.sched.touch(i);
        let n = &self.nodes[i];
        let wrote = n.phase == Phase::Mounted && n.owns_journal();
        let jid = n.jid();
        let _ = self.dlm.crash(id);
        let cpg_at = self.cpg_leave(id, LeftReason::NodeDown);
        if let (true, Some(j)) = (wrote, jid) {
            let gen = cpg_at.unwrap_or(self.dlm.generation());
            let jr = &mut self.journals[j as usize];
            if jr.dirty {
                jr.failed_gen.get_or_insert(gen);
                self.inv.failed(j);
            }
        }
        self.nodes[i].crash();
        if !self.want_slot.is_empty() {
            self.end_slot_want(id, "crashed");
        }
        let now = self.now;
        if let Some(t) = self.timeline.as_mut() {
            t.crash(now, id);
        }
        self.wanted[i] = false;
        self.stats.crashes += 1;
        self.log(id, format!("CRASH (jid {jid:?}, journal dirty {wrote})"));
    }

    /// Node `id` withdraws: it stops using the file system and leaves the lockspace with
    /// `DLM_RELEASE_RECOVER`, so the others see it as failed and recover its journal.
    pub fn withdraw(&mut self, id: u32) {
        let i = (id - 1) as usize;
        // Only a mounted file system withdraws (not one already unmounting).
        if self.nodes[i].engine().phase() != gdlm_core::engine::Phase::Mounted {
            return;
        }
        self.rec(crate::schedule::Step::Withdraw(id));
        self.sched.touch(i);
        let mut notes = std::mem::take(&mut self.notes_buf);
        self.nodes[i].withdraw(&mut self.dlm, self.now, &mut notes);
        self.wanted[i] = false;
        self.apply_notes(id, notes);
    }

    /// Request a clean unmount of node `id` (it leaves when its work is done).
    pub fn unmount(&mut self, id: u32) {
        let i = (id - 1) as usize;
        if self.nodes[i].phase != Phase::Mounted {
            return;
        }
        self.rec(crate::schedule::Step::Unmount(id));
        self.nodes[i].unmount_requested = true;
        self.sched.touch(i);
        self.wanted[i] = false;
        self.line(id, Line::Static("unmount requested"));
    }

    /// The scheduling choices enabled now (without faults).
    pub fn enabled(&self) -> Vec<Action> {
        let mut v = Vec::new();
        if self.dlm_recovery_enabled() {
            v.push(Action::DlmRecovery);
        }
        let mut has_event = vec![false; self.nodes.len()];
        for e in self.dlm.pending_events() {
            let n = e.node() as usize;
            if n >= 1 && n <= has_event.len() {
                has_event[n - 1] = true;
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if self.frozen.get(i).copied().unwrap_or(false) {
                // A frozen node is a member that does nothing (a silent node).
                continue;
            }
            if has_event[i] {
                v.push(Action::Deliver(n.id));
            }
            if self.cpg.as_ref().is_some_and(|g| g.pending(n.id)) {
                v.push(Action::DeliverCpg(n.id));
            }
            let now = if self.untimed { UNTIMED_NOW } else { self.now };
            if n.runnable(now) {
                v.push(Action::Run(n.id));
            }
        }
        v
    }

    /// The DLM's recovery may take a step.
    fn dlm_recovery_enabled(&self) -> bool {
        // dlm_controld's stop barrier: every member ran recover_prep before any node
        // recovers.
        debug_assert_eq!(
            self.dlm.prep_pending(),
            self.dlm
                .pending_events()
                .iter()
                .any(|e| matches!(e, DlmEvent::RecoverPrep { .. })),
            "RecoverPrep count"
        );
        self.dlm.recovery_pending()
            && !(self.dlm.prep_pending()
                && self.dlm.recovery_phase() == crate::dlm::RecoveryPhase::Stopped)
            && !(self.hold_before_done
                && self.dlm.recovery_phase() == crate::dlm::RecoveryPhase::LockingEnabled)
    }

    /// Bring the incremental enabled set and the invariants' counters up to date with
    /// every node touched since the last refresh (O(touched nodes)).
    fn refresh(&mut self) {
        use crate::runnable::{DELIVER, DELIVER_CPG};
        let now = if self.untimed { UNTIMED_NOW } else { self.now };
        if !self.untimed {
            self.grants_due(now);
        }
        if self.sched.is_clean(now) && !self.dlm.has_touched() {
            return;
        }
        let mut t = std::mem::take(&mut self.scratch);
        // Nodes whose DLM callbacks started or stopped being pending: only their deliver
        // bit changed.
        t.clear();
        self.dlm.take_touched(&mut t);
        for &id in &t {
            let i = (id as usize).wrapping_sub(1);
            if i < self.nodes.len() && !self.frozen[i] {
                let ready = self.deliver_ready(id, now);
                self.sched.set_bit(i, DELIVER, ready);
            }
        }
        self.sched.take_touched(now, &mut t);
        for &i in &t {
            let i = i as usize;
            if self.nodes[i].slack_used {
                self.nodes[i].slack_used = false;
                self.nodes[i].next_slack_ms = self.grants.draw_slack_ms();
            }
            let ready = !self.frozen[i] && self.deliver_ready(self.nodes[i].id, now);
            let n = &self.nodes[i];
            let timer = n.next_timer();
            if self.frozen[i] {
                self.sched.set(i, 0, false, None, timer, now);
            } else {
                let mut m = 0;
                if ready {
                    m |= DELIVER;
                }
                if self.cpg.as_ref().is_some_and(|g| g.pending(n.id)) {
                    m |= DELIVER_CPG;
                }
                let (always, wake) = n.run_state();
                self.sched.set(i, m, always, wake, timer, now);
            }
            let first = n.alive()
                && n.rec()
                    .flags()
                    .contains(gdlm_core::RecoverFlags::FIRST_MOUNT);
            self.inv.update(
                i,
                crate::invariants::View {
                    accessing: n.accessing(),
                    jid: n.jid(),
                    first,
                    mounted_other: n.phase == Phase::Mounted && !first,
                },
            );
        }
        self.sched.judge(now);
        self.scratch = t;
    }

    /// The enabled set as [`Sim::enabled`] lists it, from the incremental set.
    fn enabled_incremental(&self) -> Vec<Action> {
        let rec = u32::from(self.dlm_recovery_enabled());
        (0..rec + self.sched.total())
            .map(|k| self.pick(rec, k))
            .collect()
    }

    /// The `k`-th enabled action (`rec`: 1 if the DLM's recovery step is enabled).
    fn pick(&self, rec: u32, k: u32) -> Action {
        use crate::runnable::{DELIVER, DELIVER_CPG};
        if k < rec {
            return Action::DlmRecovery;
        }
        let (i, bit) = self.sched.select(k - rec);
        let id = self.nodes[i].id;
        match bit {
            DELIVER => Action::Deliver(id),
            DELIVER_CPG => Action::DeliverCpg(id),
            _ => Action::Run(id),
        }
    }

    fn inject_fault(&mut self) {
        let f = self.cfg.faults.clone();
        let n = self.cfg.nodes;
        let id = self.rng.random_range(1..=n);
        let i = (id - 1) as usize;
        let failures = self.stats.crashes + self.stats.withdrawals;
        match self.rng.random_range(0..4) {
            0 if f.crash && failures < f.max_crashes && self.nodes[i].alive() => self.crash(id),
            3 if f.withdraw
                && failures < f.max_crashes
                && self.nodes[i].engine().phase() == gdlm_core::engine::Phase::Mounted =>
            {
                self.withdraw(id)
            }
            1 if f.mount && !self.nodes[i].alive() => self.mount(id),
            2 if f.unmount && self.nodes[i].phase == Phase::Mounted => self.unmount(id),
            _ => {}
        }
        if f.replay_fail && self.rng.random_range(0..4) == 0 {
            let on = !self.nodes[i].replay_model.fail;
            self.set_replay_fail(id, on);
        }
    }

    fn apply_notes(&mut self, id: u32, mut notes: Vec<Note>) {
        let mut failed_mount = false;
        for note in notes.drain(..) {
            if let Some(t) = self.timeline.as_mut() {
                t.note(self.now, id, &note);
            }
            if !matches!(note, Note::Info(_) | Note::Log(_)) {
                self.reached_out += 1;
            }
            match note {
                Note::Info(s) => self.log(id, s),
                Note::Log(l) => {
                    if !self.untimed {
                        self.keep(id, What::Log(l));
                    }
                }
                Note::Replay(jid) => self.replay_start(id, jid),
                Note::DlmCall { req, lvb, result } => {
                    self.record(id, |_| crate::trace::Rec::DlmCall { req, lvb, result })
                }
                Note::Replayed { jid, ok } => self.replayed(id, jid, ok),
                Note::CoreError(s) => self.violate(0, format!("node {id}: {s}")),
                // The engine logged "recover generation N done".
                Note::Unblocked(_) => self.stats.unblocks += 1,
                Note::Mounted { first } => {
                    let jid = self.nodes[(id - 1) as usize].jid();
                    self.line(id, Line::Mounted { first, jid });
                }
                Note::MountFailed(e) => {
                    if !self.want_slot.is_empty() {
                        self.end_slot_want(id, "failed its mount");
                    }
                    failed_mount = true;
                    self.stats.mount_failures += 1;
                    self.wanted[(id - 1) as usize] = false;
                    self.log(id, format!("mount failed {e}"));
                }
                Note::JoinGroup(m) => {
                    if let Some(g) = self.cpg.as_mut() {
                        g.join(id, m);
                        // A new log item: every member's CPG delivery may be enabled.
                        self.sched.touch_all();
                        self.log(id, "lockspace joined; joins the CPG group".into());
                    }
                }
                Note::Multicast(m, bytes) => {
                    if let Some(g) = self.cpg.as_mut() {
                        g.multicast(m, bytes);
                        self.sched.touch_all();
                        self.log(id, "sends the sync message".into());
                    }
                }
                Note::Released {
                    how,
                    jid,
                    held_journal,
                    withdrawn: false,
                } => {
                    // The daemon leaves the group with the lockspace.
                    let _ = how;
                    if !self.want_slot.is_empty() {
                        self.end_slot_want(id, "left the lockspace");
                    }
                    self.cpg_leave(id, LeftReason::Leave);
                    if !failed_mount {
                        // gdlm_unmount: an unmounted file system leaves a clean journal.
                        if let (true, Some(j)) = (held_journal, jid) {
                            if let Some(jr) = self.journals.get_mut(j as usize) {
                                jr.dirty = false;
                                self.inv.cleaned(j, false);
                            }
                        }
                        self.stats.unmounts += 1;
                        self.line(id, Line::Static("unmounted"));
                    }
                }
                Note::Released {
                    how,
                    jid,
                    held_journal,
                    withdrawn: true,
                } => {
                    // The withdrawn node stopped with its journal as it was: it needs
                    // replay, whether or not the others are told (7.2's
                    // DLM_RELEASE_RECOVER; the reference leaves normally).
                    let why = if how == Release::Recover {
                        LeftReason::ProcDown
                    } else {
                        LeftReason::Leave
                    };
                    let cpg_at = self.cpg_leave(id, why);
                    if !self.want_slot.is_empty() {
                        self.end_slot_want(id, "withdrew");
                    }
                    if let (true, Some(j)) = (held_journal, jid) {
                        let gen = cpg_at.unwrap_or(self.dlm.generation());
                        let jr = &mut self.journals[j as usize];
                        if jr.dirty {
                            jr.failed_gen.get_or_insert(gen);
                            self.inv.failed(j);
                        }
                    }
                    self.stats.withdrawals += 1;
                    self.log(id, format!("WITHDRAW: released {how:?} (jid {jid:?})"));
                }
            }
        }
        self.notes_buf = notes;
    }

    /// CPG mode: `id`'s daemon leaves the group; the log index of the change.
    fn cpg_leave(&mut self, id: u32, why: LeftReason) -> Option<u32> {
        let at = self.cpg.as_mut()?.leave(id, why)?;
        self.sched.touch_all();
        self.log(id, format!("leaves the CPG group ({why:?})"));
        u32::try_from(at).ok()
    }

    /// CPG mode: deliver `id`'s next group item to its engine.
    fn deliver_cpg(&mut self, id: u32) {
        let Some(item) = self.cpg.as_mut().and_then(|g| g.deliver(id)) else {
            return;
        };
        self.record(id, |_| crate::trace::Rec::Cpg(item.clone()));
        let i = (id - 1) as usize;
        let now = self.now;
        let mut notes = std::mem::take(&mut self.notes_buf);
        let before = self.nodes[i]
            .engine()
            .membership()
            .and_then(|m| m.generation());
        let node = &mut self.nodes[i];
        match &item {
            crate::cpg::Item::ConfChg {
                members,
                left,
                joined,
            } => node.cpg_confchg(&mut self.dlm, members, left, joined, now, &mut notes),
            crate::cpg::Item::Msg { from, bytes } => {
                node.cpg_message(&mut self.dlm, *from, bytes, now, &mut notes)
            }
        }
        let after = self.nodes[i]
            .engine()
            .membership()
            .and_then(|m| m.generation());
        if after != before && after == Some(1) && self.max_lvb_gen > 1 {
            // A new lineage: every member that knew the old generations is gone (so
            // nobody is mounted); its first mounter rewrites the LVB (invariant 4 holds
            // per lineage).
            self.stale_lvb_gen = Some(self.max_lvb_gen);
            self.max_lvb_gen = 0;
            self.log(
                id,
                "new membership lineage: generations restart at 1".into(),
            );
        }
        if let (true, false, Some(m)) = (
            after != before,
            self.untimed,
            self.nodes[i].engine().membership(),
        ) {
            let slots: Vec<i32> = m.table().iter().map(|&(_, s)| s).collect();
            let line = Line::CpgDone {
                generation: m.generation().unwrap_or(0),
                our_slot: m.our_slot().unwrap_or(0),
                slots,
            };
            self.line(id, line);
        }
        self.apply_notes(id, notes);
        if !self.want_slot.is_empty() {
            self.check_slot(id);
        }
    }

    /// Invariant 2 at the start of a replay: nobody else holds this journal as its own.
    fn replay_start(&mut self, by: u32, jid: u32) {
        let owner = self
            .nodes
            .iter()
            .find(|n| n.id != by && n.alive() && n.owns_journal() && n.jid() == Some(jid));
        if let Some(o) = owner {
            let msg = format!(
                "node {by} replays journal {jid} while node {} owns it",
                o.id
            );
            self.violate(2, msg);
        }
        if !self.untimed {
            self.draw_replay_time(by, jid);
        }
        match self.journals.get(jid as usize).copied() {
            Some(j) if self.cfg.trace => self.record(by, |_| crate::trace::Rec::ReplayStart {
                jid,
                dirty: j.dirty,
                failed_gen: j.failed_gen,
            }),
            _ => self.line(by, Line::ReplayJournal(jid)),
        }
    }

    fn replayed(&mut self, by: u32, jid: u32, ok: bool) {
        let dirty = self.journals.get(jid as usize).is_some_and(|j| j.dirty);
        if self.cfg.trace {
            self.record(by, |_| crate::trace::Rec::ReplayEnd { jid, ok, dirty });
        }
        if !ok {
            if !self.cfg.trace {
                self.line(by, Line::ReplayFailed(jid));
            }
            return;
        }

        let Some(j) = self.journals.get_mut(jid as usize) else {
            return;
        };
        if j.dirty {
            j.replays += 1;
            if j.failed_gen.is_some() {
                self.stats.recoveries += 1;
            }
        }
        j.dirty = false;
        j.failed_gen = None;
        self.inv.cleaned(jid, true);
        if !self.cfg.trace {
            self.line(by, Line::Replayed(jid));
        }
    }

    fn deliver(&mut self, id: u32) {
        let Some(ev) = self.dlm.pop_event_for(id) else {
            return;
        };
        let Some(ev) = (if self.holds.is_empty() {
            Some(ev)
        } else {
            self.hold_event(id, ev)
        }) else {
            return;
        };
        let i = (id - 1) as usize;
        let mut notes = std::mem::take(&mut self.notes_buf);
        let now = self.now;
        let node = &mut self.nodes[i];
        match ev {
            DlmEvent::Ast {
                lkid,
                status,
                sb_flags,
                lvb,
                ..
            } => {
                self.record(id, |s| crate::trace::Rec::Ast {
                    lkid,
                    lock: s.nodes[i].lock_of(lkid),
                    status,
                    sb_flags,
                    lvb,
                });
                let node = &mut self.nodes[i];
                node.ast(&mut self.dlm, lkid, status, sb_flags, lvb, now, &mut notes);
            }
            DlmEvent::Bast { lkid, mode, .. } => {
                let lock = node.lock_of(lkid);
                node.bast(lkid, mode, &mut notes);
                self.record(id, |_| crate::trace::Rec::Bast { lkid, lock, mode });
            }
            // A userspace lockspace gets no callbacks; the DLM's first recover_done stands
            // for dlm_create_lockspace returning, after which the daemon joins the group.
            DlmEvent::RecoverPrep { .. } | DlmEvent::RecoverSlot { .. } if self.cpg.is_some() => {}
            DlmEvent::RecoverDone { .. } if self.cpg.is_some() => {
                node.lockspace_joined(&mut self.dlm, now, &mut notes);
            }
            DlmEvent::RecoverPrep { .. } => {
                node.recover_prep(&mut self.dlm, now, &mut notes);
                self.line(id, Line::Static("recover_prep"));
            }
            DlmEvent::RecoverSlot { slot, failed, .. } => {
                node.recover_slot(&mut self.dlm, slot, now, &mut notes);
                self.line(id, Line::RecoverSlot { failed, slot });
            }
            DlmEvent::RecoverDone {
                slots,
                our_slot,
                generation,
                ..
            } => {
                let mut s = std::mem::take(&mut self.slots_scratch);
                s.clear();
                s.extend(slots.iter().map(|&(_, s)| s as i32));
                node.recover_done(&mut self.dlm, &s, our_slot, generation, now, &mut notes);
                self.slots_scratch = s;
                self.line(
                    id,
                    Line::RecoverDone {
                        generation,
                        our_slot,
                        slots,
                    },
                );
            }
            DlmEvent::DeferredError { lkid, error, .. } => {
                self.line(id, Line::Deferred { lkid, error });
            }
        }
        self.apply_notes(id, notes);
        if !self.want_slot.is_empty() {
            self.check_slot(id);
        }
    }

    fn run_node(&mut self, id: u32, choice: u32) {
        let i = (id - 1) as usize;
        let mut notes = std::mem::take(&mut self.notes_buf);
        self.nodes[i].choice = choice;
        self.nodes[i].run(&mut self.dlm, self.now, &mut notes);
        self.apply_notes(id, notes);
    }

    fn check(&mut self) {
        if let Some(t) = self.timeline.as_mut() {
            t.record(self.step, self.now, &self.nodes);
        }
        // Counters over the nodes touched since the last check (see `crate::invariants`);
        // where a counter says an invariant may break, the full check below decides.
        self.refresh();
        // A mounted node writes its journal: every journal an accessing node has is dirty
        // (it can only become clean, or get such a node, where it was queued to recheck).
        let mut recheck = std::mem::take(&mut self.inv.recheck);
        for &jid in &recheck {
            if self.inv.accessed(jid) {
                debug_assert!(
                    self.nodes
                        .iter()
                        .any(|n| n.accessing() && n.jid() == Some(jid)),
                    "stale accessing view for journal {jid}"
                );
                if let Some(j) = self.journals.get_mut(jid as usize) {
                    j.dirty = true;
                }
            }
        }
        recheck.clear();
        self.inv.recheck = recheck;
        debug_assert!(self.nodes.iter().all(|n| !n.accessing()
            || n.jid()
                .and_then(|j| self.journals.get(j as usize))
                .is_none_or(|j| j.dirty)));
        // 1: nobody unblocked while a failed node's journal is dirty, once it has seen
        // a generation after the failure.
        let mut v1 = None;
        // Usually no failed journal is dirty: those with a failed writer are few.
        let mut failed = std::mem::take(&mut self.inv.failed_prev);
        let before = failed.len();
        for &jid in &self.inv.failed_jids {
            let j = &self.journals[jid as usize];
            if let (true, Some(g)) = (j.dirty, j.failed_gen) {
                failed.push((jid as usize, g));
            }
        }
        failed[before..].sort_unstable();
        let (prev, now) = failed.split_at(before);
        let changed = prev != now;
        failed.drain(..before);
        debug_assert_eq!(
            failed,
            self.journals
                .iter()
                .enumerate()
                .filter_map(|(jid, j)| j.failed_gen.filter(|_| j.dirty).map(|g| (jid, g)))
                .collect::<Vec<_>>(),
            "failed journals"
        );
        let mut touched = std::mem::take(&mut self.inv.touched);
        if changed {
            touched.clear();
            touched.extend(0..self.nodes.len() as u32);
        }
        for &i in &touched {
            let i = i as usize;
            let s = !failed.is_empty() && self.inv.view(i).accessing && {
                let n = &self.nodes[i];
                failed.iter().any(|&(jid, g)| {
                    let seen = match &self.cpg {
                        Some(c) => c.cursor(n.id) > g as usize,
                        None => n.rec().recover_start() > g,
                    };
                    seen && n.jid() != Some(jid as u32)
                })
            };
            self.inv.set_suspect(i, s);
        }
        touched.clear();
        self.inv.touched = touched;
        // Debug builds run the full check every time and compare.
        if self.inv.suspects > 0 || cfg!(debug_assertions) {
            for n in self.nodes.iter().filter(|n| n.accessing()) {
                for &(jid, g) in &failed {
                    // CPG mode: g is the log index of the failure's change.
                    let seen = match &self.cpg {
                        Some(c) => c.cursor(n.id) > g as usize,
                        None => n.rec().recover_start() > g,
                    };
                    if seen && n.jid() != Some(jid as u32) {
                        v1 = Some(format!(
                            "node {} unblocked at generation {} while journal {jid} (failed at generation {g}) is dirty",
                            n.id,
                            n.rec().recover_start()
                        ));
                    }
                }
            }
        }
        debug_assert_eq!(v1.is_some(), self.inv.suspects > 0, "invariant-1 counter");
        self.inv.failed_prev = failed;
        if let Some(m) = v1 {
            self.violate(1, m);
        }
        // 3: at most one first mounter, and none while another is mounted.
        let (nf, nm) = (self.inv.firsts, self.inv.mounted_others);
        let may = nf > 1 || (nf == 1 && nm > 0);
        if may || cfg!(debug_assertions) {
            let broke = self.check_first_mounters();
            debug_assert_eq!(broke, may, "first-mounter counters");
        }
        self.check_lvb_generation();
    }

    /// Invariant 3, in full.
    fn check_first_mounters(&mut self) -> bool {
        let firsts: Vec<u32> = self
            .nodes
            .iter()
            .filter(|n| {
                n.alive()
                    && n.rec()
                        .flags()
                        .contains(gdlm_core::RecoverFlags::FIRST_MOUNT)
            })
            .map(|n| n.id)
            .collect();
        let mounted: Vec<u32> = if firsts.is_empty() {
            Vec::new()
        } else {
            self.nodes
                .iter()
                .filter(|n| n.phase == Phase::Mounted && !firsts.contains(&n.id))
                .map(|n| n.id)
                .collect()
        };
        if firsts.len() > 1 || (!firsts.is_empty() && !mounted.is_empty()) {
            self.violate(3, format!("first mounters {firsts:?}, mounted {mounted:?}"));
            return true;
        }
        false
    }

    /// Invariant 4.
    fn check_lvb_generation(&mut self) {
        // 4: the control LVB generation never goes backwards.
        {
            if let Some(l) = self.dlm.resource_lvb_by_id(self.control_rid) {
                let g = ControlLvb::from_array(l).generation();
                let stale = self.stale_lvb_gen == Some(g);
                if !stale {
                    self.stale_lvb_gen = None;
                }
                if g != u32::MAX && !stale {
                    if g < self.max_lvb_gen {
                        let msg = format!("control LVB generation {g} after {}", self.max_lvb_gen);
                        self.violate(4, msg);
                    }
                    self.max_lvb_gen = self.max_lvb_gen.max(g);
                }
            }
        }
    }

    fn step_once(&mut self, faults_on: bool) -> bool {
        if faults_on && self.rng.random_range(0..1000) < self.cfg.faults.rate_per_mille {
            self.inject_fault();
        }
        if !self.holds.is_empty() {
            self.hold_tick();
        }
        self.refresh();
        debug_assert_eq!(
            self.enabled_incremental(),
            self.enabled_timed(),
            "incremental enabled set at event {}",
            self.step
        );
        let rec = u32::from(self.dlm_recovery_enabled());
        let len = (rec + self.sched.total()) as usize;
        if len == 0 {
            // Jump to the next timer (a node's or an outside hold's), or stop if there is none.
            debug_assert_eq!(
                self.sched.next_timer(),
                self.nodes.iter().filter_map(|n| n.next_timer()).min()
            );
            let due = self.next_grant_due();
            match self
                .sched
                .next_timer()
                .into_iter()
                .chain(self.hold_timer())
                .chain(due)
                .min()
            {
                Some(t) if t > self.now => {
                    // A `sleep` step's end comes first: time passes idle until then.
                    self.now = self.jump_limit.map_or(t, |l| t.min(l.max(self.now + 1)));
                    return true;
                }
                _ => return faults_on,
            }
        }
        let k = self.rng.random_range(0..len) as u32;
        let mut a = self.pick(rec, k);
        if faults_on && self.cfg.faults.starve {
            // Node 1's work is starved: re-pick (usually) when it was chosen.
            if a == Action::Run(1) && len > 1 && self.rng.random_range(0..10) != 0 {
                let k = self.rng.random_range(0..len) as u32;
                a = self.pick(rec, k);
            }
        }
        let a = self.choose_first_done_order(a);
        self.perform(a);
        self.now += 1;
        true
    }

    /// Take one scheduling choice (then [`Sim::check_invariants`]).
    pub fn perform(&mut self, a: Action) {
        self.perform_with(a, None);
    }

    /// [`Sim::perform`] with the random choice a node step uses (drawn if `None`).
    pub fn perform_with(&mut self, a: Action, choice: Option<u32>) {
        use crate::schedule::Step;
        let choice = match a {
            Action::Run(_) => Some(choice.unwrap_or_else(|| self.rng.random())),
            _ => None,
        };
        let a = self.forced_first_done_order(a);
        self.rec(match a {
            Action::DlmRecovery => Step::DlmRecovery,
            Action::Deliver(n) => Step::Deliver(n),
            Action::Run(node) => Step::RunNode { node, choice },
            Action::Crash(n) => Step::Crash(n),
            Action::Mount(n) => Step::Mount(n),
            Action::DeliverCpg(n) => Step::DeliverCpg(n),
            Action::DeliverWorkFirst(n) => Step::DeliverWorkFirst(n),
            Action::DeliverCpgWorkFirst(n) => Step::DeliverCpgWorkFirst(n),
        });
        if let Some(n) = a.node() {
            self.sched.touch((n as usize).wrapping_sub(1));
        }
        match a {
            Action::DlmRecovery => {
                if let Some(s) = self.dlm.recovery_step() {
                    if self.cfg.trace {
                        let generation = self.dlm.generation();
                        self.record(0, |_| crate::trace::Rec::DlmRecovery {
                            step: s,
                            generation,
                        });
                    } else {
                        let generation = self.dlm.generation();
                        self.line(
                            0,
                            Line::DlmStep {
                                step: s,
                                generation,
                            },
                        );
                    }
                    if s == crate::dlm::RecoveryStep::Done {
                        let (now, g) = (self.now, self.dlm.generation());
                        if let Some(t) = self.timeline.as_mut() {
                            t.generation(now, g);
                        }
                    }
                }
                self.start_pending_mounts();
            }
            Action::Deliver(id) => self.deliver(id),
            Action::Run(id) => {
                if self.untimed {
                    // Time is abstracted away: every timer is due.
                    self.nodes[(id - 1) as usize].fire_timers();
                    let now = self.now;
                    self.now = UNTIMED_NOW;
                    self.run_node(id, choice.unwrap_or(0));
                    self.now = now;
                } else {
                    self.run_node(id, choice.unwrap_or(0))
                }
            }
            Action::Crash(id) => self.crash_unrecorded(id),
            Action::Mount(id) => self.mount_unrecorded(id),
            Action::DeliverCpg(id) => self.deliver_cpg(id),
            Action::DeliverWorkFirst(_) | Action::DeliverCpgWorkFirst(_) => {
                self.deliver_work_first(a)
            }
        }
    }

    /// Take the action if it is possible now (a shrunk schedule may have lost what
    /// enabled it), then check invariants.
    pub fn try_action(&mut self, a: Action) {
        self.try_action_with(a, None);
    }

    /// [`Sim::try_action`] with a node step's random choice.
    pub fn try_action_with(&mut self, a: Action, choice: Option<u32>) {
        let base = match a {
            Action::DeliverWorkFirst(n) => Action::Deliver(n),
            Action::DeliverCpgWorkFirst(n) => Action::DeliverCpg(n),
            a => a,
        };
        if self.enabled().contains(&base) {
            self.perform_with(a, choice);
            self.check_invariants();
        }
    }

    /// Exhaustive mode: abstract time away (every timer may fire at any point).
    pub fn set_untimed(&mut self) {
        self.untimed = true;
        // Every engine call is made at one instant beyond every timer, so engines' clocks
        // and armed timers all hold it (the canonical state needs no time).
        self.now = UNTIMED_NOW;
        self.sched.touch_all();
        for n in &mut self.nodes {
            n.set_clock(UNTIMED_NOW);
            // A replay completes at the node's next step (no duration without time).
            n.replay_model.delay_ms = 0;
        }
        self.trace.clear();
    }

    /// The canonical state's key (untimed mode; see [`crate::fingerprint`]): equal keys
    /// mean equal futures.
    pub fn canonical_key(&self) -> u128 {
        crate::fingerprint::with_canon(|c| {
            self.canon_into(c);
            c.key()
        })
    }

    /// [`Sim::canonical_key`] of the canonical state followed by `extra`'s `Hash`.
    pub fn canonical_key_with<T: std::hash::Hash>(&self, extra: &T) -> u128 {
        crate::fingerprint::with_canon(|c| {
            self.canon_into(c);
            c.put(extra);
            c.key()
        })
    }

    /// The canonical state.
    pub fn canon(&self) -> crate::fingerprint::Canon {
        let mut c = crate::fingerprint::Canon::new();
        self.canon_into(&mut c);
        c
    }

    fn canon_into(&self, c: &mut crate::fingerprint::Canon) {
        self.dlm.canon(c);
        for n in &self.nodes {
            n.canon(c);
        }
        match &self.cpg {
            Some(g) => {
                g.canon(c);
                // CPG mode: a journal's failure is a log position; one every member has
                // delivered compares below every cursor, whatever its value.
                for j in &self.journals {
                    let at = j
                        .failed_gen
                        .map(|g| (g as usize).checked_sub(c.log_base).map(|d| d as u32));
                    c.put(&(j.dirty, at));
                }
            }
            None => {
                for j in &self.journals {
                    c.put(&(j.dirty, j.failed_gen));
                }
            }
        }
        c.put(&self.pending_mount);
        c.put(&self.wanted);
        c.put(&(self.max_lvb_gen, self.stale_lvb_gen));
    }

    /// The canonical state split by component, for the check's census
    /// ([`crate::exhaustive::census`]): the DLM model (with its undelivered callbacks),
    /// each node, then the rest (journals, CPG log, pending and wanted mounts, invariant
    /// 4's marks). Each part renames lock ids on its own, so the parts are finer than
    /// needed where a lock id is shared; they are only counted.
    pub fn canon_parts(&self) -> Vec<u128> {
        let mut out = Vec::with_capacity(self.nodes.len() + 2);
        let mut c = crate::fingerprint::Canon::new();
        self.dlm.canon(&mut c);
        out.push(c.key());
        // The DLM's parts: membership and recovery, resources, locks, deferred calls,
        // undelivered callbacks (appended after the rest, for the census's breakdown).
        let mut dlm_parts = Vec::new();
        let mut from = 0;
        for &m in c.marks.iter().chain(std::iter::once(&c.len())) {
            dlm_parts.push(xxhash_rust::xxh3::xxh3_128(&c.bytes()[from..m]));
            from = m;
        }
        for n in &self.nodes {
            c.clear();
            n.canon(&mut c);
            out.push(c.key());
        }
        c.clear();
        if let Some(g) = &self.cpg {
            g.canon(&mut c);
        }
        for j in &self.journals {
            c.put(&(j.dirty, j.failed_gen));
        }
        c.put(&self.pending_mount);
        c.put(&self.wanted);
        c.put(&(self.max_lvb_gen, self.stale_lvb_gen));
        out.push(c.key());
        out.extend(dlm_parts);
        out
    }

    /// The exhaustive check's renaming ([`crate::fingerprint::Generations`]): every
    /// generation in the cluster (the DLM model, every node, the CPG log still to be
    /// delivered, the journals' failure generations with kernel callbacks, invariant 4's
    /// LVB marks).
    pub(crate) fn visit_generations(
        &mut self,
        f: &mut dyn FnMut(crate::fingerprint::Gen, &mut u32),
    ) {
        use crate::fingerprint::{Family, Gen};
        let own = if self.cpg.is_some() {
            Family::Dlm
        } else {
            Family::Lockspace
        };
        self.dlm.visit_generations(self.control_rid, own, f);
        for n in &mut self.nodes {
            n.visit_generations(f);
        }
        let lockspace = Gen::compared(Family::Lockspace);
        match &mut self.cpg {
            Some(g) => g.visit_generations(f),
            // With CPG callbacks a journal's failure is a log position, not a generation.
            None => {
                for j in &mut self.journals {
                    if let Some(g) = &mut j.failed_gen {
                        f(lockspace, g);
                    }
                }
            }
        }
        f(lockspace, &mut self.max_lvb_gen);
        if let Some(g) = &mut self.stale_lvb_gen {
            f(lockspace, g);
        }
    }

    /// Check invariants 1–4 after an action taken with [`Sim::perform`].
    pub fn check_invariants(&mut self) {
        self.step += 1;
        self.check();
    }

    /// A fingerprint of the protocol state (DLM, nodes, journals), without counters,
    /// time or trace: equal fingerprints mean equal futures.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &self.dlm,
            &self.nodes,
            &self.journals,
            &self.pending_mount,
            self.max_lvb_gen,
            &self.cpg,
            self.stale_lvb_gen,
        )
            .hash(&mut h);
        h.finish()
    }

    /// How often a node's step reached beyond the node so far: DLM calls
    /// ([`crate::dlm::Dlm::calls`]) plus notes other than log lines (replays, mounts,
    /// unblocks, CPG messages, releases, core errors). Bookkeeping, not state.
    pub fn reached_out(&self) -> u64 {
        self.reached_out + self.dlm.calls()
    }

    /// A node whose oldest undelivered DLM callback is a blocking AST that its delivery
    /// ignores whatever the node's state: no glock owns the lock (glocks take DLM locks
    /// only with glock traffic, which the exhaustive check never turns on; the engine
    /// takes no blocking callbacks, as gfs2's `sync_lock` passes no `bastfn`), the node
    /// is not frozen and no schedule holds locks from outside (`hold_event`). Delivering
    /// it only pops it ([`Sim::deliver`] → `Node::bast` → `Glocks::bast` finds no glock).
    /// The first such node in outbox order.
    pub fn ignored_callback(&self) -> Option<u32> {
        if !self.holds.is_empty() {
            return None;
        }
        let mut seen = 0u64;
        for e in self.dlm.pending_events() {
            let id = e.node();
            let i = (id as usize).wrapping_sub(1);
            if i >= self.nodes.len() || i >= 64 || seen & (1 << i) != 0 {
                continue;
            }
            seen |= 1 << i;
            if let DlmEvent::Bast { lkid, .. } = *e {
                if !self.frozen[i] && !self.nodes[i].glocks.owns(lkid) {
                    return Some(id);
                }
            }
        }
        None
    }

    /// Crashes so far.
    pub fn crashes(&self) -> u32 {
        self.stats.crashes
    }

    /// Mounts started so far.
    pub fn mounts(&self) -> u32 {
        self.stats.mounts
    }

    /// A node has a mount waiting for the DLM to recover its departure.
    pub fn mount_pending(&self, id: u32) -> bool {
        self.pending_mount
            .get((id as usize).wrapping_sub(1))
            .copied()
            .unwrap_or(false)
    }

    /// Run: mount every node, inject faults for the fault window, then let it settle and
    /// check liveness.
    pub fn run(self) -> Outcome {
        self.run_to_end().finish()
    }

    /// [`Sim::run`] without the trace (the swarm reads only the stats and violations;
    /// formatting the last events of every run was 5% of its time).
    pub fn run_summary(self) -> Outcome {
        let mut s = self.run_to_end();
        s.trace.clear();
        s.finish()
    }

    fn run_to_end(mut self) -> Self {
        for id in 1..=self.cfg.nodes {
            self.mount(id);
        }
        let window = self.cfg.faults.window;
        self.set_traffic(self.cfg.traffic);
        while self.step < window && self.violation.is_none() {
            self.advance(true);
        }
        self.set_traffic(false);
        for id in 1..=self.cfg.nodes {
            self.set_replay_fail(id, false);
        }
        // Faults stop: bring every node back so every failed journal must be replayed
        // and everyone must unblock (liveness).
        for id in 1..=self.cfg.nodes {
            self.mount(id);
        }
        self.settle();
        self
    }

    /// From now on node `id`'s replays of other nodes' journals fail (or succeed again).
    pub fn set_replay_fail(&mut self, id: u32, on: bool) {
        let Some(n) = self.nodes.get_mut((id as usize).wrapping_sub(1)) else {
            return;
        };
        self.sched.touch((id - 1) as usize);
        if n.replay_model.fail != on {
            n.replay_model.fail = on;
            self.rec(crate::schedule::Step::ReplayFail { node: id, on });
            self.log(id, format!("replays fail: {on}"));
        }
    }

    /// Freeze (or thaw) node `id`: it stays a member but takes no step and gets no
    /// callback.
    pub fn set_frozen(&mut self, id: u32, on: bool) {
        if let Some(f) = self.frozen.get_mut((id as usize).wrapping_sub(1)) {
            *f = on;
            self.sched.touch((id - 1) as usize);
            self.rec(if on {
                crate::schedule::Step::Freeze(id)
            } else {
                crate::schedule::Step::Thaw(id)
            });
            self.log(id, (if on { "frozen" } else { "thawed" }).to_string());
        }
    }

    /// Switch an injected defect on or off from now on.
    pub fn set_defect(&mut self, name: &str, on: bool) -> Result<(), String> {
        match name {
            "stale-lvb" => self.dlm.faults.stale_lvb_nl_to_ex = on,
            "sticky-altmode" => self.dlm.faults.sticky_altmode = on,
            "lvb-remaster" => self.dlm.set_remaster_lvb(on),
            "slot-growth" => {
                return Err(
                    "slot-growth is fixed when the run starts (the size policy of a mount)".into(),
                )
            }
            other => return Err(format!("unknown defect {other:?}")),
        }
        self.rec(crate::schedule::Step::Defect {
            name: name.to_string(),
            on,
        });
        self.log(0, format!("defect {name}: {on}"));
        Ok(())
    }

    /// An administrator writes the control_lock LVB; `Err` if nobody holds the lock.
    pub fn write_lvb(&mut self, generation: u32, jids: &[u32]) -> Result<(), String> {
        let mut l = ControlLvb::zeroed();
        l.set_generation(generation);
        for &j in jids {
            l.set_jid(j, true).map_err(|e| format!("write_lvb: {e}"))?;
        }
        let name = LockId::Control.name();
        self.rec(crate::schedule::Step::WriteLvb {
            generation,
            jids: jids.to_vec(),
        });
        if self.dlm.write_lvb(name.as_bytes(), *l.as_bytes()) {
            self.log(
                0,
                format!("admin writes the control LVB: generation {generation:#x}, jids {jids:?}"),
            );
        } else {
            self.log(
                0,
                "admin LVB write skipped: nobody holds control_lock".into(),
            );
        }
        Ok(())
    }

    /// Whether a schedule condition holds now; `Err` for one that names no such node,
    /// jid or mode.
    pub fn cond(&self, c: &crate::schedule::Cond) -> Result<bool, String> {
        use crate::schedule::{Cond, JournalState, LockSel};
        let node = |id: u32| {
            self.nodes
                .get((id as usize).wrapping_sub(1))
                .ok_or_else(|| format!("no node {id}"))
        };
        Ok(match c {
            Cond::Phase { node: id, phase } => node(*id)?.phase == *phase,
            Cond::LockHeld {
                node: id,
                lock,
                mode,
            } => {
                node(*id)?;
                let m = match mode.as_str() {
                    "NL" => 0,
                    "CR" => 1,
                    "CW" => 2,
                    "PR" => 3,
                    "PW" => 4,
                    "EX" => 5,
                    other => return Err(format!("unknown DLM mode {other:?}")),
                };
                let name = match lock {
                    LockSel::Control => LockId::Control.name(),
                    LockSel::Mounted => LockId::Mounted.name(),
                    LockSel::Journal(j) => gdlm_core::engine::LockRef::Journal(*j).name(),
                };
                self.dlm
                    .holders(name.as_bytes())
                    .iter()
                    .any(|&(n, _, g)| n == *id && g == m)
            }
            Cond::GrantPending { node: id } => {
                node(*id)?;
                self.dlm.pending_events().iter().any(|e| {
                    matches!(e, DlmEvent::Ast { node, .. } | DlmEvent::Bast { node, .. } if node == id)
                })
            }
            Cond::LvbBit { jid, set } => {
                let name = LockId::Control.name();
                let bit = self
                    .dlm
                    .resource_lvb(name.as_bytes())
                    .map(|l| ControlLvb::from_array(l).jid(*jid))
                    .transpose()
                    .map_err(|e| format!("lvb_bit: {e}"))?
                    .unwrap_or(false);
                bit == *set
            }
            Cond::Journal { jid, state } => {
                let j = self
                    .journals
                    .get(*jid as usize)
                    .ok_or_else(|| format!("no journal {jid}"))?;
                match state {
                    JournalState::Dirty => j.dirty,
                    JournalState::Clean => !j.dirty,
                    JournalState::Replaying => {
                        self.nodes.iter().any(|n| n.replaying() == Some(*jid))
                    }
                    JournalState::Replayed => j.replays > 0,
                }
            }
            Cond::Blocked { node: id, blocked } => node(*id)?.rec().locks_blocked() == *blocked,
            Cond::Slot { node: id, slot } => node(*id)?.jid().map(|j| j + 1) == Some(*slot),
            Cond::FirstDoneWaiting { node: id } => node(*id)?.engine().first_done_waiting(),
        })
    }

    /// Every replay takes `ms` virtual milliseconds from now on.
    pub fn set_replay_delay(&mut self, ms: u64) {
        self.rec(crate::schedule::Step::ReplayDelay(ms));
        for n in &mut self.nodes {
            n.replay_model.delay_ms = ms;
        }
        // A fixed time instead of one drawn from the lists.
        self.replay_times.clear();
        self.clean_times.clear();
    }

    /// Turn glock traffic on or off.
    pub fn set_traffic(&mut self, on: bool) {
        self.rec(crate::schedule::Step::Traffic(on));
        for n in &mut self.nodes {
            n.traffic = on;
        }
        self.sched.touch_all();
    }

    /// Record a step (with the virtual time, when it moved) if recording.
    fn rec(&mut self, step: crate::schedule::Step) {
        let now = self.now;
        if let Some(r) = self.record.as_mut() {
            if self.recorded_now != Some(now) {
                r.push(crate::schedule::Step::At(now));
                self.recorded_now = Some(now);
            }
            r.push(step);
        }
    }

    /// Set the virtual time (replaying a recorded schedule).
    pub fn set_time(&mut self, now: u64) {
        self.now = now;
    }

    /// Record a timeline (see [`Sim::timeline_svg`]).
    pub fn record_timeline(&mut self) {
        self.timeline = Some(crate::timeline::Timeline::default());
    }

    /// The timeline as SVG, if recorded.
    pub fn timeline_svg(&self, title: &str) -> Option<String> {
        self.timeline.as_ref().map(|t| {
            let mut t = t.clone();
            t.finish();
            t.to_svg(title)
        })
    }

    /// One scheduled event (plus a fault with `faults_on`); false when nothing is left to
    /// do and no timer is pending.
    pub fn advance(&mut self, faults_on: bool) -> bool {
        let busy = self.step_once(faults_on);
        self.step += 1;
        self.check();
        busy
    }

    /// Run events until nothing is left to do, the step limit, or a violation; then
    /// check liveness.
    pub fn settle(&mut self) {
        let start = self.now;
        let bound = self.liveness_bound_ms();
        let mut live_at = None;
        while self.step < self.cfg.max_steps && self.violation.is_none() {
            if !self.untimed && live_at.is_none() && self.is_live() {
                live_at = Some(self.now);
            }
            if !self.untimed && live_at.is_none() && self.now > start.saturating_add(bound) {
                // Judged at the bound, not when the step limit runs out: a liveness
                // failure shows in a short trace.
                let p = self.liveness_problems();
                let msg = format!(
                    "not live {bound} ms (virtual) after faults stopped: {}",
                    p.join("; ")
                );
                self.violate(5, msg);
                break;
            }
            if !self.advance(false) {
                break;
            }
        }
        let live = live_at.unwrap_or(self.now);
        self.stats.settle_ms = self.stats.settle_ms.max(live.saturating_sub(start));
        if self.violation.is_none() {
            self.check_liveness();
        }
    }

    /// How long, in virtual ms, a cluster may take to become live once faults stop
    /// (every wanted node mounted and unblocked, no failed journal dirty, no jid bit):
    /// per node a mount's retry sleeps (`control_mount`, 500 ms each, a few rounds while
    /// recoveries finish), GAVEUP retries (`HZ`) while another node replays, two of the
    /// longest replays and the longest own-journal head lookup the model can draw; a first
    /// mounter's pass over every journal; plus a fixed margin.
    /// Measured settles stay far below it (`tests/time_model.rs`: worst 8.4 s of 300 swarm
    /// seeds under the reference, 5.6 s under 7.2, against 61.7 s and 56.7 s); a run that
    /// needs longer is stuck, not slow.
    pub fn liveness_bound_ms(&self) -> u64 {
        let replay = self.replay_bound_ms();
        let per_node = 8 * u64::from(gdlm_core::mount::MOUNT_RETRY_DELAY_MS)
            + 4 * crate::node::HZ_MS
            + 2 * replay
            + self.jhead_bound_ms()
            + self.grants.bound_ms();
        let journals = self.journals.len() as u64;
        20_000
            + u64::from(self.cfg.nodes) * per_node
            + journals * replay
            + self.holds_remaining_ms()
    }

    /// Run events for `ms` virtual milliseconds (up to the step limit); if the cluster
    /// goes quiet before, the rest of the time passes idle.
    pub fn run_for_ms(&mut self, ms: u64) {
        let end = self.now.saturating_add(ms);
        self.jump_limit = Some(end);
        while self.now < end && self.step < self.cfg.max_steps && self.violation.is_none() {
            if !self.advance(false) {
                self.set_time(end);
                break;
            }
        }
        self.jump_limit = None;
    }

    /// Virtual time now (ms).
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// Run `n` events (fewer if the cluster goes quiet).
    pub fn run_steps(&mut self, n: u64) {
        for _ in 0..n {
            if self.violation.is_some() || !self.advance(false) {
                break;
            }
        }
    }

    /// Run events until `pred` holds (true), the cluster goes quiet or `limit` events pass.
    pub fn run_until(&mut self, limit: u64, pred: impl Fn(&Self) -> bool) -> bool {
        for _ in 0..limit {
            if pred(self) {
                return true;
            }
            if self.violation.is_some() || !self.advance(false) {
                break;
            }
        }
        pred(self)
    }

    /// The violation so far.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// The trace so far.
    pub fn trace(&self) -> Vec<TraceEvent> {
        self.trace.iter().map(RawEvent::cook).collect()
    }

    /// End the run.
    pub fn finish(mut self) -> Outcome {
        let title = format!(
            "gdlm-sim: {} nodes, seed {}{}",
            self.cfg.nodes,
            self.cfg.seed,
            match &self.violation {
                Some(v) => format!(" -- VIOLATION: {v}"),
                None => String::new(),
            }
        );
        let timeline_svg = self.timeline_svg(&title);
        let timeline = self.timeline.take().map(|mut t| {
            t.finish();
            t
        });
        self.stats.events = self.step;
        self.stats.time_ms = self.now;
        self.stats.generation = self.dlm.generation();
        Outcome {
            seed: self.cfg.seed,
            violation: self.violation,
            stats: self.stats,
            trace: self.trace.iter().map(RawEvent::cook).collect(),
            phases: self.nodes.iter().map(|n| n.phase).collect(),
            timeline_svg,
            timeline,
            schedule: self.record,
        }
    }

    /// What keeps the cluster from being live now (empty: live).
    pub fn liveness_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        self.liveness(&mut |p| {
            problems.push(p());
            true
        });
        problems
    }

    /// Live now (no problem; stops at the first one, formats nothing).
    pub fn is_live(&self) -> bool {
        let mut live = true;
        self.liveness(&mut |_| {
            live = false;
            false
        });
        live
    }

    /// Each liveness problem, described lazily; `report` returns whether to go on.
    fn liveness(&self, report: &mut dyn FnMut(&dyn Fn() -> String) -> bool) {
        for (i, n) in self.nodes.iter().enumerate() {
            if n.alive()
                && !n.accessing()
                && !report(&|| {
                    format!(
                        "node {} is {:?} (blocked {})",
                        n.id,
                        n.phase,
                        n.rec().locks_blocked()
                    )
                })
            {
                return;
            }
            if self.wanted[i]
                && !n.alive()
                && !report(&|| format!("node {} wanted mounted but {:?}", n.id, n.phase))
            {
                return;
            }
        }
        // With nobody alive, dirty journals wait for the next first mounter.
        let anyone = self.nodes.iter().any(|n| n.alive());
        for (jid, j) in self.journals.iter().enumerate() {
            if anyone
                && j.dirty
                && j.failed_gen.is_some()
                && !report(&|| format!("journal {jid} of a failed node still dirty"))
            {
                return;
            }
        }
        let name = LockId::Control.name();
        if let Some(l) = self.dlm.resource_lvb(name.as_bytes()) {
            let l = ControlLvb::from_array(l);
            if !l.all_jid_bits_clear() && anyone {
                report(&|| format!("control LVB still has jids {:?}", l.jids()));
            }
        }
    }

    /// Liveness (invariant 5): every live node mounted and unblocked, no failed node's
    /// journal dirty, no jid bit left in the control LVB.
    pub fn check_liveness(&mut self) {
        let problems = self.liveness_problems();
        if !problems.is_empty() {
            self.violate(5, problems.join("; "));
        }
    }
}

/// Run one seed.
pub fn run_seed(cfg: &SimConfig, seed: u64) -> Outcome {
    let mut c = cfg.clone();
    c.seed = seed;
    Sim::new(c).run()
}

/// [`run_seed`] without the trace ([`Sim::run_summary`]).
pub fn run_seed_summary(cfg: &SimConfig, seed: u64) -> Outcome {
    let mut c = cfg.clone();
    c.seed = seed;
    Sim::new(c).run_summary()
}
