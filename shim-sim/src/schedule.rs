//! Hand-written schedules: which node does what, when. A race seen on a real cluster can
//! be written down as JSON and checked (`gdlm-sim replay --schedule FILE`).
//!
//! ```json
//! {
//!   "nodes": 3,
//!   "seed": 7,
//!   "defects": [],
//!   "traffic": false,
//!   "steps": [
//!     {"mount": 1}, "settle", {"mount": 2}, {"mount": 3}, "settle",
//!     {"crash": 2}, {"run": 20}, {"mount": 2},
//!     {"until": {"node": 2, "phase": "Mounted", "limit": 20000}},
//!     "settle"
//!   ]
//! }
//! ```
//!
//! `"profile": "linux-7.2"` runs every node with Linux 7.2's lock_dlm (default: the
//! v3.12 reference).
//!
//! Steps: `{"mount": N}`, `{"crash": N}`, `{"unmount": N}`, `{"withdraw": N}` act at once; `{"run": K}` runs
//! K scheduled events (the seed picks their order); `{"until": {...}}` runs until node N
//! is in the phase (`Down`, `Joining`, `Mounting`, `OwnJournal`, `FirstRecovery`,
//! `FirstDone`, `Mounted`, `Dead`); `"settle"` runs until nothing is left to do and checks
//! liveness. Single scheduling choices, as a shrunk run records them: `{"deliver": N}`
//! (node N's oldest DLM callback), `{"run_node": {"node": N}}` (one internal step of node
//! N; a recorded run adds the `"choice"` its glock traffic drew), `{"traffic": true}`,
//! `"dlm_recovery"` (one DLM recovery step); each is skipped when not possible. The journal
//! model: `{"replay_fail": {"node": N, "on": true}}` makes node N's replays of other nodes'
//! journals fail. Replays take what real clusters logged unless a step says otherwise: a
//! dirty journal of another node a time drawn from [`REAL_REPLAY_MS`], a clean one from
//! [`REAL_CLEAN_LOOKUP_MS`], a node's own journal at mount from its kernel's list
//! ([`jhead_ms`]); `{"replay_delay": MS}` makes every replay take MS virtual milliseconds,
//! `{"replay_times": [72, 319, 1264]}` draws every replay of another node's journal from the
//! list, `{"jhead_times": [...]}` the own-journal lookups (`[]`: none). DLM completion ASTs
//! take a drawn latency ([`REAL_GRANT_US_LOCAL`] when the node masters the resource or
//! converts down, [`REAL_GRANT_US_REMOTE`] otherwise; `{"grant_times": {"local_us": [...],
//! "remote_us": [...]}}`) and engine timers armed for later fire a drawn slack late
//! ([`REAL_TIMER_SLACK_MS`]; `{"timer_slack": [...]}`); `{"sleep": MS}` runs events for
//! MS virtual milliseconds. `{"first_done_order":
//! "work_first"}` (`"first_done_first"`, `"either"`: drawn, the default) orders a woken
//! `control_first_done` and the control work of the same recover_done
//! ([`crate::sim::OrderSel`]); `{"deliver_work_first": N}` is one such delivery as a recorded
//! run takes it, and `{"wait": {"for": {"first_done_waiting": {"node": 1}}}}` waits until
//! node 1's `control_first_done` waits. Invariants 1–4 are checked after every event
//! throughout.
//!
//! Replaying a real cluster: `{"hold": {"node": 1, "lock": {"journal": 2}, "ms": 8000}}`
//! is a process outside the file system on node 1 (the VM harness's `gdlm-linux-smoke
//! hold`) requesting EX on journal 2's lock now, queued behind its owner, holding it 8 s
//! from the grant, then unlocking it: every survivor's try is busy (GAVEUP, again every
//! `HZ`) until then. `{"mount_slot": {"node": 3, "slot": 1}}` mounts node 3 and checks
//! that it gets slot 1 (jid 0). Slot assignment stays `dlm_slots_assign` under both
//! callback sources (`"cpg": true` or not): a joiner takes the lowest slot free when its
//! join is processed, so a schedule reaches a slot by ordering joins and failures, e.g.
//! `{"mount": 1}, {"until": {"node": 1, "phase": "Mounted"}}, {"mount_slot": {"node": 3,
//! "slot": 2}}`; a different slot fails the schedule with the slot table and what to
//! change, a slot above the node count is refused at once; it applies to that one mount (a
//! crash or leave before the slot is given fails the step). `{"wait": {"for": {"slot":
//! {"node": 3, "slot": 1}}}}` waits for a node's slot.

use serde::{Deserialize, Serialize};

use crate::node::Phase;
use crate::sim::{Action, Defects, Faults, Outcome, Sim, SimConfig};

/// A schedule file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Nodes in the cluster (all start down).
    pub nodes: u32,
    /// Seed for the order of scheduled events.
    #[serde(default = "one")]
    pub seed: u64,
    /// Injected defects (`stale-lvb`, `slot-growth`, `sticky-altmode`, `lvb-remaster`).
    #[serde(default)]
    pub defects: Vec<String>,
    /// Glock traffic while the schedule runs.
    #[serde(default)]
    pub traffic: bool,
    /// Invariants to log but not stop on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<u8>,
    /// Fixes to run with (`stale-submit`: `SubmitPolicy::DropFolded`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<String>,
    /// Recovery callbacks from a CPG group through gdlm-core's membership (userspace
    /// lockspaces, as gdlmd) instead of the DLM.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cpg: bool,
    /// The kernel profile every node runs: `"reference"` (default) or `"linux-7.2"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Nodes that run another kernel (a mixed-kernel cluster):
    /// `"node_profiles": {"2": "linux-7.2"}`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub node_profiles: std::collections::BTreeMap<u32, String>,
    /// Most events in all.
    #[serde(default = "max_steps")]
    pub max_steps: u64,
    /// What happens.
    pub steps: Vec<Step>,
}

fn one() -> u64 {
    1
}
fn max_steps() -> u64 {
    200_000
}

/// Wait for a node to reach a phase.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Until {
    /// The node.
    pub node: u32,
    /// The phase.
    pub phase: Phase,
    /// Most events to wait.
    #[serde(default = "limit")]
    pub limit: u64,
}

fn limit() -> u64 {
    50_000
}

/// One step of a schedule.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Mount the node.
    Mount(u32),
    /// Crash the node.
    Crash(u32),
    /// Unmount the node cleanly.
    Unmount(u32),
    /// The node withdraws: leaves the lockspace as failed (`DLM_RELEASE_RECOVER`).
    Withdraw(u32),
    /// Run this many scheduled events.
    Run(u64),
    /// Run scheduled events for this many virtual milliseconds (time passes idle when
    /// nothing is left to do): `{"sleep": 2000}`, as a harness's `sleep 2`.
    Sleep(u64),
    /// Run until a node reaches a phase.
    Until(Until),
    /// Run until quiet and check liveness.
    Settle,
    /// Deliver the node's oldest DLM callback (skipped if it has none).
    Deliver(u32),
    /// Let the node run one internal step (skipped if it has nothing to do); `choice`
    /// is the random number its glock traffic used (drawn from the seed if absent).
    RunNode {
        /// The node.
        node: u32,
        /// The glock traffic's choice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        choice: Option<u32>,
    },
    /// Turn glock traffic on or off.
    Traffic(bool),
    /// Set the virtual time (ms), as a recorded run had it.
    At(u64),
    /// Advance the DLM's recovery by one step (skipped if it has nothing to do).
    DlmRecovery,
    /// Deliver the node's next CPG item (configuration change or message; CPG mode).
    DeliverCpg(u32),
    /// `deliver`, a recover_done that wakes node N's waiting `control_first_done`, with
    /// the control work it queues running first (it sees `DFL_FIRST_MOUNT` and returns:
    /// no `recover generation G done`); as a recorded run takes that order.
    DeliverWorkFirst(u32),
    /// `deliver_cpg` in that order (CPG mode).
    DeliverCpgWorkFirst(u32),
    /// From now on, the order of a woken `control_first_done` and the control work the
    /// same recover_done queued: `{"first_done_order": "work_first"}`,
    /// `"first_done_first"` or `"either"` (drawn from the seed, the default).
    FirstDoneOrder(crate::sim::OrderSel),
    /// `{"dlm_hold": true}`: from now on the DLM's recovery waits after enabling locking,
    /// before its recover_done (a slow `dlm_recoverd`), until `{"dlm_hold": false}`.
    DlmHold(bool),
    /// From now on, node N's replays of other nodes' journals fail (`-EIO`) or, with
    /// `false`, succeed again: `{"replay_fail": {"node": 1, "on": true}}`.
    ReplayFail {
        /// The node.
        node: u32,
        /// Fail (true) or succeed (false).
        on: bool,
    },
    /// Every replay takes this many virtual milliseconds from now on (instead of a time
    /// drawn from `replay_times`).
    ReplayDelay(u64),
    /// From now on each replay of another node's journal, dirty or clean, takes a time
    /// drawn (from the seed) out of this list of virtual milliseconds; `[]` goes back to
    /// `replay_delay`. (By default a dirty journal's replay draws from
    /// [`REAL_REPLAY_MS`] and a clean one's head lookup from [`REAL_CLEAN_LOOKUP_MS`].)
    ReplayTimes(Vec<u64>),
    /// From now on each mounting node's head lookup of its own journal takes a time drawn
    /// out of this list (virtual ms); `[]`: no time. The default is what the node's kernel
    /// logged ([`REAL_JHEAD_MS_61`], [`REAL_JHEAD_MS_72`]).
    JheadTimes(Vec<u64>),
    /// From now on a DLM completion AST (grant, convert, unlock, `-EAGAIN`) reaches its
    /// node a time drawn out of `local_us` (µs) after it was queued when the node masters
    /// the lock's resource, out of `remote_us` when another node does: `{"grant_times":
    /// {"local_us": [120, 300], "remote_us": [2000, 4500]}}`; `[]`: at once (the
    /// scheduler's next pick, 1 ms per event). The defaults are what real clusters showed
    /// ([`REAL_GRANT_US_LOCAL`], [`REAL_GRANT_US_REMOTE`]).
    GrantTimes {
        /// Local-master ASTs (µs).
        #[serde(default)]
        local_us: Vec<u64>,
        /// Remote-master ASTs (µs).
        #[serde(default)]
        remote_us: Vec<u64>,
    },
    /// From now on every node's engine timers (the mount's 500 ms retry, the GAVEUP
    /// retry) fire a time drawn out of this list (virtual ms) late; `[]`: on time. The
    /// default is what real clusters showed ([`REAL_TIMER_SLACK_MS`]).
    TimerSlack(Vec<u64>),
    /// An administrator writes the control_lock LVB (`generation` 0xFFFFFFFF disables
    /// mounts): `{"write_lvb": {"generation": 4294967295, "jids": []}}`. Skipped (and
    /// logged) when no node holds control_lock.
    WriteLvb {
        /// The generation.
        generation: u32,
        /// The jid bits to set.
        #[serde(default)]
        jids: Vec<u32>,
    },
    /// Node N stays a member but takes no step and gets no callback until thawed.
    Freeze(u32),
    /// Node N runs again.
    Thaw(u32),
    /// Switch an injected defect on or off from here: `{"defect": {"name":
    /// "stale-lvb", "on": true}}` (`stale-lvb`, `sticky-altmode`, `lvb-remaster`;
    /// `slot-growth` is fixed at start).
    Defect {
        /// The defect's name.
        name: String,
        /// On or off.
        on: bool,
    },
    /// Run until the condition holds (an error if it never does within `limit` events).
    Wait(Wait),
    /// Mount node N expecting DLM slot S (journal S−1): `{"mount_slot": {"node": 3,
    /// "slot": 1}}`. Slots are assigned as `dlm_slots_assign` does, in both callback
    /// modes: a joiner takes the lowest slot free when its join is processed (kernel: the
    /// DLM's member recovery; CPG: its join's configuration change). A schedule reaches
    /// a slot by ordering joins and failures before it; the step checks the slot the
    /// node gets and fails with the slot table and what to change when it differs. A
    /// slot above the node count is refused at once (slot S needs S−1 other members).
    /// It applies to that one mount: if the node crashes, leaves, withdraws or fails its
    /// mount before it gets a slot, the step fails then (it does not judge a later mount).
    MountSlot {
        /// The node.
        node: u32,
        /// The slot it must get (1-based; jid = slot − 1).
        slot: u32,
    },
    /// A process outside the file system holds a lock in the lockspace, as the VM
    /// harness's `gdlm-linux-smoke hold` does: `{"hold": {"node": 1, "lock": {"journal":
    /// 2}, "ms": 8000}}` requests `mode` (default EX, queued, no LVB) now through node N's
    /// DLM, holds it `ms` virtual milliseconds from its grant, then unlocks it. Node N
    /// must be in the lockspace; the hold dies with node N's membership.
    Hold(Hold),
}

/// `{"hold": {"node": N, "lock": LOCK, "mode": "EX", "ms": MS}}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// The node whose DLM the holding process uses.
    pub node: u32,
    /// The lock (`"control"`, `"mounted"`, `{"journal": J}`).
    pub lock: LockSel,
    /// The DLM mode (`"NL"` … `"EX"`).
    #[serde(default = "ex")]
    pub mode: String,
    /// How long it is held once granted (virtual ms).
    pub ms: u64,
}

fn ex() -> String {
    "EX".into()
}

/// "jid=2: Journal replayed in N ms" (the dead node's journal) of the 19 `ci/realdlm`
/// cluster3-kill-family runs of 2026-12-01 (qemu TCG; 6.1, 7.2 and mixed: the 16 the
/// import was first tried on and three later ones), ascending; median 319 ms, journal
/// head lookup most of each. For `{"replay_times": [...]}`.
pub const REAL_REPLAY_MS: [u64; 19] = [
    72, 118, 145, 202, 206, 231, 261, 275, 297, 319, 326, 343, 420, 456, 468, 592, 727, 772, 1264,
];

/// "jid=N: Journal head lookup took M ms" of other nodes' clean journals in the first
/// mounter's pass (`init_journal`, before `first mount done`) in the same `ci/realdlm`
/// results (6.1 and 7.2 alike, 10 and 16 of them), ascending: a clean journal needs only
/// its head lookup. The default time of a replay of another node's clean journal.
pub const REAL_CLEAN_LOOKUP_MS: [u64; 26] = [
    30, 43, 46, 46, 51, 71, 96, 97, 105, 119, 122, 127, 133, 136, 140, 141, 145, 150, 150, 152,
    156, 156, 161, 166, 174, 204,
];

/// "jid=N: Journal head lookup took M ms" of a node's own journal at mount (gfs2's
/// `init_journal`: the first mounter's own journal in its pass, every other mounter's
/// own journal) in the `ci/realdlm` results of 2026-12-01 under Debian's 6.1.0-57 kernel
/// (qemu TCG; cluster3-kill, cluster3-kill-mixed, kmod-cluster3 and kmod-cluster3-mixed
/// runs), ascending: 1.3–2.1 s, 6.1's journal scan on a fresh file system.
pub const REAL_JHEAD_MS_61: [u64; 15] = [
    1310, 1335, 1348, 1348, 1381, 1431, 1462, 1527, 1645, 1849, 1911, 1986, 2023, 2035, 2109,
];

/// The same under Linux 7.2.13 (cluster3-kill-72, the 7.2 nodes of the mixed runs,
/// kmod-cluster3-72, rfl-gfs2-72, withdraw-72): 17–453 ms.
pub const REAL_JHEAD_MS_72: [u64; 18] = [
    17, 44, 48, 48, 65, 86, 92, 96, 98, 101, 126, 133, 141, 153, 154, 241, 305, 453,
];

/// DLM request-to-reply times (µs) of locks whose resource the requesting node masters:
/// gfs2's `gfs2_glock_lock_time` `tdiff` of the glock requests gfs2 counts as
/// non-blocking (granted, failed TRY, unlocked: TRY or NOQUEUE requests, down-conversions
/// and unlocks, as lock_dlm's own control_lock/mounted_lock/journal requests are) on a
/// local master, in two `ci/realdlm` runs of cluster3-kill and cluster3-kill-72 on
/// 2026-12-01 (19:46 and 20:05; qemu TCG; Debian 6.1.0-57 and Linux 7.2.13 nodes pooled:
/// `gdlm-sim latency /work/wt/sched-results/run1 /work/wt/sched-results/run2`): the 20
/// quantiles at the middle of 20 equal bands of 351 replies, median 82 µs (6.1: 92 µs
/// median of granted TRYs that failed; 7.2 a little slower). A down-conversion of a
/// remote master's lock draws from it too (the DLM completes it at the requester,
/// `send_convert`'s stub reply; measured: remote non-blocking grants, median 81 µs on
/// 6.1, 225 µs on 7.2).
pub const REAL_GRANT_US_LOCAL: [u64; 20] = [
    3, 4, 7, 14, 23, 29, 42, 56, 66, 77, 86, 95, 104, 120, 140, 176, 250, 363, 732, 5114,
];

/// The same for a remote master: the round trips that never wait for other holders
/// (failed TRY, unlock: 96 replies, median 5.9 ms; 6.1's failed TRYs median 8.9 ms,
/// unlocks 5.0 ms; 7.2's TRYs 10.1 ms, its unlocks bimodal, half under 0.4 ms). A first
/// request on a resource adds a directory lookup and may wait for other holders, so
/// blocking requests are left out (remote, potentially blocking grants: median 9.3 ms on
/// 6.1, 4.8 ms on 7.2). Under TCG a message between two VMs costs milliseconds.
pub const REAL_GRANT_US_REMOTE: [u64; 20] = [
    31, 44, 371, 3270, 3532, 3634, 4850, 4931, 5158, 5760, 6018, 6256, 6266, 8311, 8808, 9166,
    10251, 11024, 16085, 57768,
];

/// How late a survivor's GAVEUP retry ran (ms): each interval between two `recover jid 2
/// result` lines of one survivor, less `HZ` (1000 ms), in the `ci/realdlm` cluster3-kill,
/// -72 and -mixed runs of 2026-12-01 at hand (/work/runs/res-f1..4, /work/main/target/realdlm
/// 12:00 and 14:49, /work/wt/sched-results/run1; 288 intervals, both survivors pooled,
/// median 28 ms): the 20 quantiles at the middle of 20 equal bands. It is what a delayed
/// work takes beyond its timer on a TCG VM (timer granularity, the work itself, two
/// console lines at loglevel 7, the harness's own programs: node 1 runs `gdlm inspect`
/// and `gdlm status` during the hold, its p90 is 270 ms against node 2's 101 ms); the DLM
/// round trips in it (none on node 1, about 12 ms on node 2) are also drawn from
/// [`REAL_GRANT_US_REMOTE`], a small double count. Every engine timer draws from it.
pub const REAL_TIMER_SLACK_MS: [u64; 20] = [
    10, 18, 20, 22, 23, 23, 24, 25, 26, 27, 29, 32, 34, 39, 45, 48, 60, 86, 180, 508,
];

/// The own-journal head lookup times a node running `profile` draws from by default:
/// the reference (v3.12) is compared with Debian's 6.1 nodes, so it takes 6.1's.
pub fn jhead_ms(profile: gdlm_core::Profile) -> &'static [u64] {
    match profile {
        gdlm_core::Profile::Linux72 => &REAL_JHEAD_MS_72,
        _ => &REAL_JHEAD_MS_61,
    }
}

/// A DLM mode name (`NL`, `CR`, `CW`, `PR`, `PW`, `EX`) as its `DLM_LOCK_*` number.
pub fn parse_mode(name: &str) -> Result<i32, String> {
    Ok(match name {
        "NL" => 0,
        "CR" => 1,
        "CW" => 2,
        "PR" => 3,
        "PW" => 4,
        "EX" => 5,
        other => return Err(format!("unknown DLM mode {other:?}")),
    })
}

/// `{"wait": {"for": COND, "limit": K}}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// The condition.
    #[serde(rename = "for")]
    pub cond: Cond,
    /// Most events to run.
    #[serde(default = "limit")]
    pub limit: u64,
}

/// Which lock a condition names.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LockSel {
    /// control_lock.
    Control,
    /// mounted_lock.
    Mounted,
    /// The journal lock of this jid.
    Journal(u32),
}

/// What a journal is doing.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// It has unreplayed writes.
    Dirty,
    /// It is clean.
    Clean,
    /// Some node is replaying it.
    Replaying,
    /// It was replayed (at least once) after a failure.
    Replayed,
}

/// A condition over the cluster's state, for `wait`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Cond {
    /// Node `node` is in `phase`.
    Phase {
        /// The node.
        node: u32,
        /// The phase.
        phase: Phase,
    },
    /// Node `node` holds `lock` granted in DLM mode `mode` (`"NL"`, `"CR"`, `"CW"`,
    /// `"PR"`, `"PW"`, `"EX"`).
    LockHeld {
        /// The node.
        node: u32,
        /// The lock.
        lock: LockSel,
        /// The mode.
        mode: String,
    },
    /// A completion or blocking callback is queued for node `node` (not yet delivered).
    GrantPending {
        /// The node.
        node: u32,
    },
    /// The control LVB has jid bit `jid` set (or clear).
    LvbBit {
        /// The jid.
        jid: u32,
        /// Set (true) or clear.
        set: bool,
    },
    /// Journal `jid` is in `state`.
    Journal {
        /// The jid.
        jid: u32,
        /// The state.
        state: JournalState,
    },
    /// Node `node` has locking blocked (or unblocked).
    Blocked {
        /// The node.
        node: u32,
        /// Blocked (true) or not.
        blocked: bool,
    },
    /// Node `node` has DLM slot `slot` in its current mount (its jid is `slot − 1`).
    Slot {
        /// The node.
        node: u32,
        /// The slot.
        slot: u32,
    },
    /// Node `node`'s `control_first_done` waits for the DLM's recovery (a node joined
    /// during its first mount): its next recover_done wakes it, and `first_done_order`
    /// decides whether the control work that recover_done queues runs first.
    FirstDoneWaiting {
        /// The node.
        node: u32,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A profile name (`reference`, `linux-7.2`; none: the reference).
pub fn parse_profile(name: Option<&str>) -> Result<gdlm_core::Profile, String> {
    gdlm_core::Profile::from_policy_name(name)
        .ok_or_else(|| format!("unknown profile {name:?} (have: reference, linux-7.2)"))
}

/// Parse fix names; true when `stale-submit` is among them.
pub fn parse_fixes<S: AsRef<str>>(names: &[S]) -> Result<bool, String> {
    let mut stale = false;
    for n in names {
        match n.as_ref() {
            "stale-submit" => stale = true,
            other => return Err(format!("unknown fix {other:?}")),
        }
    }
    Ok(stale)
}

impl Schedule {
    /// Parse JSON.
    pub fn from_json(text: &str) -> Result<Schedule, String> {
        serde_json::from_str(text).map_err(|e| format!("schedule: {e}"))
    }

    /// The simulator configuration (no random faults: the schedule is the fault plan).
    pub fn config(&self) -> Result<SimConfig, String> {
        if self.nodes == 0 || self.nodes > 192 {
            return Err("schedule: nodes must be 1..=192".into());
        }
        let defects = Defects::parse(&self.defects)?;
        defects.check_callbacks(self.cpg)?;
        Ok(SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            max_steps: self.max_steps,
            faults: Faults::none(),
            defects,
            trace: true,
            traffic: self.traffic,
            timeline: true,
            record: false,
            ignore: self.ignore.clone(),
            fix_stale_submit: parse_fixes(&self.fixes)?,
            cpg: self.cpg,
            profile: parse_profile(self.profile.as_deref())?,
            node_profiles: self
                .node_profiles
                .iter()
                .map(|(&n, p)| {
                    if n == 0 || n > self.nodes {
                        return Err(format!("node_profiles: no node {n}"));
                    }
                    Ok((n, parse_profile(Some(p))?))
                })
                .collect::<Result<_, String>>()?,
        })
    }

    /// Run it; `Err` for a malformed schedule or an `until` that never happened.
    pub fn run(&self) -> Result<Outcome, String> {
        match self.run_partial()? {
            (out, None) => Ok(out),
            (_, Some(e)) => Err(e),
        }
    }

    /// Run it as far as it goes: `Err` only for a schedule that does not configure;
    /// a step that fails (an `until` that never happened, a bad argument) ends the run
    /// and comes back with the outcome so far (its trace, for the user to read).
    pub fn run_partial(&self) -> Result<(Outcome, Option<String>), String> {
        let mut sim = Sim::new(self.config()?);
        sim.set_traffic(self.traffic);
        let r = self.run_steps(&mut sim);
        Ok((sim.finish(), r.err()))
    }

    /// Run the steps on `sim` (made from [`Schedule::config`]), to stop part way and
    /// look at the cluster (tests, the exhaustive check's choices at a point).
    pub fn run_on(&self, sim: &mut Sim) -> Result<(), String> {
        sim.set_traffic(self.traffic);
        self.run_steps(sim)
    }

    fn run_steps(&self, sim: &mut Sim) -> Result<(), String> {
        for (k, step) in self.steps.iter().enumerate() {
            if sim.violation().is_some() {
                break;
            }
            let check = |id: u32| {
                if id == 0 || id > self.nodes {
                    Err(format!("step {k}: no node {id}"))
                } else {
                    Ok(id)
                }
            };
            match step {
                Step::Mount(id) => sim.mount(check(*id)?),
                Step::Crash(id) => sim.crash(check(*id)?),
                Step::Unmount(id) => sim.unmount(check(*id)?),
                Step::Withdraw(id) => sim.withdraw(check(*id)?),
                Step::Run(n) => sim.run_steps(*n),
                Step::Sleep(ms) => sim.run_for_ms(*ms),
                Step::Until(u) => {
                    let i = (check(u.node)? - 1) as usize;
                    let ok = sim.run_until(u.limit, |s| s.nodes()[i].phase == u.phase);
                    if !ok && sim.violation().is_none() {
                        return Err(format!(
                            "step {k}: node {} never reached {:?} (it is {:?})",
                            u.node,
                            u.phase,
                            sim.nodes()[i].phase
                        ));
                    }
                }
                Step::Settle => {
                    sim.set_traffic(false);
                    sim.settle();
                    sim.set_traffic(self.traffic);
                }
                Step::Deliver(id) => sim.try_action(Action::Deliver(check(*id)?)),
                Step::RunNode { node, choice } => {
                    sim.try_action_with(Action::Run(check(*node)?), *choice)
                }
                Step::Traffic(on) => sim.set_traffic(*on),
                Step::At(t) => sim.set_time(*t),
                Step::DlmRecovery => sim.try_action(Action::DlmRecovery),
                Step::DeliverCpg(id) => sim.try_action(Action::DeliverCpg(check(*id)?)),
                Step::DeliverWorkFirst(id) => sim.try_action(Action::DeliverWorkFirst(check(*id)?)),
                Step::DeliverCpgWorkFirst(id) => {
                    sim.try_action(Action::DeliverCpgWorkFirst(check(*id)?))
                }
                Step::FirstDoneOrder(o) => sim.set_first_done_order(*o),
                Step::DlmHold(on) => sim.set_dlm_hold(*on),
                Step::ReplayFail { node, on } => sim.set_replay_fail(check(*node)?, *on),
                Step::ReplayDelay(ms) => sim.set_replay_delay(*ms),
                Step::ReplayTimes(ms) => sim.set_replay_times(ms),
                Step::JheadTimes(ms) => sim.set_jhead_times(ms),
                Step::GrantTimes {
                    local_us,
                    remote_us,
                } => sim.set_grant_times(local_us, remote_us),
                Step::TimerSlack(ms) => sim.set_timer_slack(ms),
                Step::WriteLvb { generation, jids } => sim
                    .write_lvb(*generation, jids)
                    .map_err(|e| format!("step {k}: {e}"))?,
                Step::Freeze(id) => sim.set_frozen(check(*id)?, true),
                Step::Thaw(id) => sim.set_frozen(check(*id)?, false),
                Step::Defect { name, on } => sim
                    .set_defect(name, *on)
                    .map_err(|e| format!("step {k}: {e}"))?,
                Step::MountSlot { node, slot } => sim
                    .mount_slot(check(*node)?, *slot, k)
                    .map_err(|e| format!("step {k}: {e}"))?,
                Step::Hold(h) => sim.hold(h).map_err(|e| format!("step {k}: {e}"))?,
                Step::Wait(w) => {
                    sim.cond(&w.cond).map_err(|e| format!("step {k}: {e}"))?;
                    let ok = sim.run_until(w.limit, |s| s.cond(&w.cond).unwrap_or(false));
                    if !ok && sim.violation().is_none() {
                        return Err(format!(
                            "step {k}: {:?} did not happen within {} events",
                            w.cond, w.limit
                        ));
                    }
                }
            }
            // A `mount_slot` whose node got another slot during this step.
            if let Some(e) = sim.take_slot_error() {
                return Err(e);
            }
        }
        match sim.unmet_slot() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
