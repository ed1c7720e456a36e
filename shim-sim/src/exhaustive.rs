//! Exhaustive exploration of a small cluster: every interleaving of DLM recovery steps,
//! callback deliveries, node steps, up to K crashes and M remounts, from a cluster where
//! every node is mounted, to a depth bound. Time is abstracted away (a timer may fire at
//! any point), which covers every timing a real cluster could show.
//!
//! States are identified by their canonical state ([`crate::fingerprint`]) plus the fault
//! budget left, and explored breadth-first: every state is first reached on a shortest
//! path, so the depth bound is honest (a state within the bound is never skipped because
//! a longer path reached it first, as with depth-first search and one seen-set) and a
//! counterexample is a shortest one. The frontier holds whole simulators, with engines
//! of capacity [`CHECK_CAPACITY`] (about 15 KB a 3-node state); each visited state costs
//! its key plus its parent link (for the counterexample path). Past
//! [`CheckConfig::frontier`] queued states the search takes the newest state first
//! (depth-first) until the frontier is back under the bound, so memory stays bounded;
//! a complete check visits every reachable canonical state either way (the same count),
//! but a counterexample found while depth-first may be longer than a shortest one.
//!
//! Every state is stored with its generations renamed canonically
//! ([`crate::fingerprint::Generations`]): the states explored are renamed copies of real
//! ones, which have the same futures up to the renaming.
//!
//! With kernel callbacks the search is reduced ([`CheckConfig::reduce`], [`local_node`]):
//! where a node has a callback and every step it can take stays inside the node (no DLM
//! call, nothing another actor or an invariant reads), only that node's steps are taken
//! from the state (an ample set, with the cycle proviso "its successors are new"). That
//! keeps every reachable violation and quiet state (shim-sim/README.md, "Partial-order
//! reduction"); node symmetry is not used because the protocol breaks ties by node id and
//! jid ("Node symmetry: not sound here"). [`census`] counts where the states come from.
//!
//! Violations: without [`CheckConfig::keep_going`] the search stops at the first; with
//! it, every violating state is counted (per invariant, [`CheckResult::by_invariant`],
//! with the first path of each) and not explored further, and the search goes on to
//! completion or a bound. [`CheckResult::passes`] is the verdict CI uses: no invariant
//! broken except known findings, each of which must still show (`--expect-violation`).
//!
//! Why not `stateright`: its checkers (BFS/DFS, also multi-threaded), `Representative`
//! symmetry reduction and explorer UI fit the shape (`Model` with `actions` and
//! `next_state`), but it fingerprints a state by its `Hash`, so the canonical state would
//! have to be the `Hash` of a wrapper anyway; the fault budget, the liveness check at
//! quiet states and the invariants (checked inside [`Sim::perform`]) would become
//! properties re-evaluated on every state; its symmetry needs a rewrite of every node id
//! inside the DLM model, the engines and the CPG log, which is not sound here (slots and
//! CPG member order follow node ids); and it rebuilds paths by replaying from the initial
//! states. Our checker is about 150 lines over the simulator and reports exactly what CI
//! needs, so it stays, on the same canonical state a `stateright` model would need.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::fingerprint::Generations;
use crate::node::Phase;
use crate::sim::{Action, Defects, Faults, Sim, SimConfig, Violation};

/// Bounds and shape of the exhaustive check.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Nodes.
    pub nodes: u32,
    /// Most crashes on a path.
    pub crashes: u32,
    /// Most (re)mounts of crashed nodes on a path.
    pub mounts: u32,
    /// Most events on a path.
    pub depth: usize,
    /// Stop after this many distinct states.
    pub max_states: u64,
    /// Recovery callbacks from a CPG group through gdlm-core's membership.
    pub cpg: bool,
    /// Injected DLM defects (to show the check catches them).
    pub defects: Defects,
    /// Most states held in the frontier for breadth-first search; beyond it the search
    /// goes depth-first from the newest state until the frontier is back under it.
    pub frontier: usize,
    /// Go on past violations (a violating state is counted, not explored further), to
    /// measure the whole space; the first violation found is reported.
    pub keep_going: bool,
    /// Print a line to stderr every 2^20 states (states, depth, frontier, time).
    pub progress: bool,
    /// Rename generations canonically ([`crate::fingerprint::Generations`]; not with
    /// CPG callbacks when every node may crash, see [`renames_generations`]).
    pub generations: bool,
    /// Partial-order reduction ([`local_node`]): where a node has a callback and every
    /// step it can take stays inside the node, take only those steps (kernel callbacks
    /// only).
    pub reduce: bool,
    /// Deliver a blocking callback that its node ignores at once, as part of the step
    /// that queued it or uncovered it ([`deliver_ignored`]; kernel callbacks only): a
    /// state with such a callback at the head of a node's callbacks is never stored.
    pub skip_basts: bool,
}

impl CheckConfig {
    /// `nodes` nodes, `crashes` crashes, no remounts, depth 400, 5,000,000 states,
    /// kernel callbacks, no defects.
    pub fn new(nodes: u32, crashes: u32) -> Self {
        CheckConfig {
            nodes,
            crashes,
            mounts: 0,
            depth: 400,
            max_states: 5_000_000,
            cpg: false,
            defects: Defects::default(),
            frontier: DEFAULT_FRONTIER,
            keep_going: false,
            progress: false,
            generations: true,
            reduce: true,
            skip_basts: true,
        }
    }
}

/// [`CheckConfig::frontier`] by default: about 1.5 GB of 3-node states (15 KB each).
pub const DEFAULT_FRONTIER: usize = 100_000;

/// What the check found.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// Distinct states visited.
    pub states: u64,
    /// Transitions taken.
    pub transitions: u64,
    /// Paths that ended quiet (nothing left to do) and were checked for liveness.
    pub quiet_states: u64,
    /// Deepest path.
    pub max_depth: usize,
    /// A path hit the depth bound or the state bound.
    pub truncated: bool,
    /// The first violation and the path to it.
    pub violation: Option<(Violation, Vec<Action>)>,
    /// States that broke an invariant (more than one only with
    /// [`CheckConfig::keep_going`]).
    pub violations: u64,
    /// Of those, by invariant (0–5).
    pub by_invariant: [u64; 6],
    /// The first violation of each invariant found, with its path (with
    /// [`CheckConfig::keep_going`] more than one invariant may have one).
    pub first_by_invariant: Vec<(Violation, Vec<Action>)>,
    /// States expanded by one node's local steps only ([`CheckConfig::reduce`]).
    pub reduced: u64,
    /// The quiet states' keys (canonical state and fault budget used), sorted: a
    /// reduction must keep every one ([`CheckConfig::reduce`], [`CheckConfig::skip_basts`]).
    pub quiet: Vec<u128>,
    /// Seconds taken.
    pub secs: f64,
}

impl CheckResult {
    /// Count a violating state; keep the first path overall and per invariant.
    fn count(&mut self, v: &Violation, path: impl FnOnce() -> Vec<Action>) {
        self.violations += 1;
        let i = usize::from(v.invariant).min(self.by_invariant.len() - 1);
        self.by_invariant[i] += 1;
        if self.by_invariant[i] == 1 {
            let p = path();
            self.violation.get_or_insert_with(|| (v.clone(), p.clone()));
            self.first_by_invariant.push((v.clone(), p));
        }
    }

    /// The check's verdict for CI, with `expected` the invariants whose violations are
    /// known findings: passes if no other invariant broke and, when any invariant was
    /// expected, each expected one broke at least once (the finding is still
    /// reproduced). A bound hit does not fail the verdict (it is reported).
    pub fn passes(&self, expected: &[u8]) -> bool {
        let unexpected = self
            .by_invariant
            .iter()
            .enumerate()
            .any(|(i, &n)| n > 0 && !expected.contains(&(i as u8)));
        let missing = expected.iter().any(|&i| {
            self.by_invariant
                .get(usize::from(i))
                .is_none_or(|&n| n == 0)
        });
        !unexpected && !missing
    }
}

/// A cluster of `nodes` with every node mounted and nothing pending (recovery callbacks
/// from a CPG group if `cpg`).
pub fn mounted_cluster(nodes: u32, cpg: bool) -> Result<Sim, String> {
    mounted_cluster_with(nodes, cpg, Defects::default())
}

/// [`mounted_cluster`] with injected DLM defects.
pub fn mounted_cluster_with(nodes: u32, cpg: bool, defects: Defects) -> Result<Sim, String> {
    mounted_cluster_sized(nodes, cpg, defects)
}

/// The engines' capacity in the check when the cluster fits (see [`check`]).
pub const CHECK_CAPACITY: usize = 8;

/// Whether the check can run `cfg` with `Engine<CHECK_CAPACITY>`s: the nodes fit, and no
/// node is forced to a far slot (`slot-growth` puts one in slot 40 of 48 journals).
fn small(cfg: &CheckConfig) -> bool {
    cfg.nodes as usize <= CHECK_CAPACITY && !cfg.defects.slot_growth_by_16
}

/// [`mounted_cluster_with`] with engines of capacity `N`.
pub fn mounted_cluster_sized<const N: usize>(
    nodes: u32,
    cpg: bool,
    defects: Defects,
) -> Result<Sim<N>, String> {
    let cfg = SimConfig {
        defects,
        nodes,
        cpg,
        seed: 1,
        max_steps: 1_000_000,
        faults: Faults::none(),
        traffic: false,
        ..SimConfig::default()
    };
    let mut sim = Sim::<N>::new_sized(cfg);
    sim.mount(1);
    sim.run_until(100_000, |s| s.nodes()[0].phase == Phase::Mounted);
    for id in 2..=nodes {
        sim.mount(id);
    }
    sim.settle();
    if let Some(v) = sim.violation() {
        return Err(format!("setting up: {v}"));
    }
    if sim.nodes().iter().any(|n| n.phase != Phase::Mounted) {
        return Err("setting up: not every node mounted".into());
    }
    sim.set_untimed();
    Ok(sim)
}

/// Whether the check renames generations ([`CheckConfig::generations`]). With CPG
/// callbacks and as many crashes as nodes the group can empty, and its next founder
/// starts a new lineage at generation 1 while older generations are still in the LVB and
/// the invariants' marks: how those compare depends on their distance from 1, which a
/// renaming does not keep. (With kernel callbacks the DLM's counter never restarts.)
pub fn renames_generations(cfg: &CheckConfig) -> bool {
    cfg.generations && !(cfg.cpg && cfg.crashes >= cfg.nodes)
}

/// A state's identity: its canonical key, crashes and remounts so far.
type Key = (u128, u32, u32);

/// [`check`]'s state identity: XXH3-128 of the canonical state and the fault budget used.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key128(u64, u64);

impl std::hash::Hash for Key128 {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.0);
    }
}

/// Run the check. Clusters of up to [`CHECK_CAPACITY`] nodes run with engines of that
/// capacity: an `Engine<192>` is 14 KB, an `Engine<8>` 2.6 KB, and the engines were most
/// of a state's clone and of its canonical bytes. The capacity changes no decision of a
/// cluster that fits (the state counts are the same; a test compares them).
pub fn check(cfg: &CheckConfig) -> Result<CheckResult, String> {
    if small(cfg) {
        check_sized::<CHECK_CAPACITY>(cfg)
    } else {
        check_sized::<192>(cfg)
    }
}

/// [`check`] with engines of capacity `N`.
pub fn check_sized<const N: usize>(cfg: &CheckConfig) -> Result<CheckResult, String> {
    let start = Instant::now();
    let mut root = mounted_cluster_sized::<N>(cfg.nodes, cfg.cpg, cfg.defects.clone())?;
    let rename = renames_generations(cfg);
    if rename {
        Generations::rename(&mut root);
    }
    let base_mounts = root.mounts();
    let reduce = cfg.reduce && !cfg.cpg;
    let skip = cfg.skip_basts && !cfg.cpg;
    // For counterexample paths with the deliveries `skip` makes (see `with_ignored`).
    let origin = skip.then(|| root.clone());
    if skip {
        deliver_ignored(&mut root, None);
    }
    // The fault budget left is part of the state: a state reached with more budget has
    // more futures.
    // (One XXH3-128 over the canonical bytes and the budget used: 24 bytes a seen-set
    // entry rather than 48 with the tuple's u128 alignment.)
    let key = |s: &Sim<N>| {
        let k = s.canonical_key_with(&(s.crashes(), s.mounts() - base_mounts));
        Key128(k as u64, (k >> 64) as u64)
    };
    // Visited states → their index; per index, the parent's index and the action taken.
    let mut seen: HashMap<Key128, u32, BuildXxh> = HashMap::default();
    let mut parent: Vec<(u32, Option<Action>)> = vec![(0, None)];
    seen.insert(key(&root), 0);
    let mut res = CheckResult {
        states: 1,
        transitions: 0,
        quiet_states: 0,
        max_depth: 0,
        truncated: false,
        violation: None,
        violations: 0,
        by_invariant: [0; 6],
        first_by_invariant: Vec::new(),
        reduced: 0,
        quiet: Vec::new(),
        secs: 0.0,
    };
    let path_to = |parent: &[(u32, Option<Action>)], mut i: u32| {
        let mut p = Vec::new();
        while let (up, Some(a)) = parent[i as usize] {
            p.push(a);
            i = up;
        }
        p.reverse();
        p
    };
    // Breadth-first: (state, its index, depth).
    let mut queue: VecDeque<(Sim<N>, u32, usize)> = VecDeque::from([(root, 0, 0)]);
    let pop = |q: &mut VecDeque<_>| {
        if q.len() > cfg.frontier {
            q.pop_back()
        } else {
            q.pop_front()
        }
    };
    'search: while let Some((sim, idx, depth)) = pop(&mut queue) {
        res.max_depth = res.max_depth.max(depth);
        let mut choices = sim.enabled();
        if choices.is_empty() {
            // Quiet: every live node must be mounted and unblocked, nothing dirty left.
            res.quiet_states += 1;
            let Key128(lo, hi) = key(&sim);
            res.quiet.push(u128::from(lo) | u128::from(hi) << 64);
            let mut s = sim.clone();
            s.check_liveness();
            if let Some(v) = s.violation() {
                res.count(v, || path_to(&parent, idx));
                if !cfg.keep_going {
                    break;
                }
                continue;
            }
        }
        fault_choices(&sim, cfg, base_mounts, &mut choices);
        if depth >= cfg.depth {
            res.truncated |= !choices.is_empty();
            continue;
        }
        // The reduction: one local delivery stands for every choice. The deliveries it
        // tried and did not take are kept as those choices' successors.
        let mut tried = Vec::new();
        if reduce {
            if let Some(own) = local_node(&sim, &choices, rename, skip, &mut tried, |s| {
                seen.contains_key(&key(s))
            }) {
                choices = own;
                res.reduced += 1;
            }
        }
        // The last choice takes the state itself (one clone fewer per state).
        let mut sim = Some(sim);
        let last = choices.len().saturating_sub(1);
        for (i, a) in choices.into_iter().enumerate() {
            let done = tried.iter().position(|(t, _)| *t == a);
            let next = match done.map(|p| tried.swap_remove(p).1) {
                Some(n) => n,
                None => {
                    let mut next = match (i == last, &sim) {
                        (true, _) => sim.take().expect("the state"),
                        (false, Some(s)) => s.clone(),
                        (false, None) => unreachable!("taken only by the last choice"),
                    };
                    step(&mut next, a, rename, skip);
                    next
                }
            };
            res.transitions += 1;
            let bad = next.violation().cloned();
            if let (Some(v), false) = (&bad, cfg.keep_going) {
                res.count(v, || {
                    let mut p = path_to(&parent, idx);
                    p.push(a);
                    p
                });
                break 'search;
            }
            let n = parent.len() as u32;
            if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(key(&next)) {
                e.insert(n);
                parent.push((idx, Some(a)));
                res.states += 1;
                if cfg.progress && res.states % (1 << 20) == 0 {
                    eprintln!(
                        "  {} states, depth {}, frontier {}, {:.0} s",
                        res.states,
                        depth + 1,
                        queue.len(),
                        start.elapsed().as_secs_f64()
                    );
                }
                if let Some(v) = bad {
                    // Counted once (by its key), not explored further.
                    res.count(&v, || path_to(&parent, n));
                    continue;
                }
                if res.states >= cfg.max_states {
                    res.truncated = true;
                    break 'search;
                }
                queue.push_back((next, n, depth + 1));
            }
        }
    }
    res.quiet.sort_unstable();
    if let Some(o) = &origin {
        if let Some((_, p)) = res.violation.as_mut() {
            *p = with_ignored(o, p);
        }
        for (_, p) in res.first_by_invariant.iter_mut() {
            *p = with_ignored(o, p);
        }
    }
    res.secs = start.elapsed().as_secs_f64();
    Ok(res)
}

/// One transition of the check: `a`, the invariants, then (if `skip`) the deliveries of
/// ignored blocking callbacks ([`deliver_ignored`]) unless an invariant broke, then the
/// renaming (if `rename`).
fn step<const N: usize>(sim: &mut Sim<N>, a: Action, rename: bool, skip: bool) {
    sim.perform(a);
    sim.check_invariants();
    if skip && sim.violation().is_none() && deliver_ignored(sim, None) > 0 {
        sim.check_invariants();
    }
    if rename {
        Generations::rename(sim);
    }
}

/// Deliver every blocking callback at the head of a node's callbacks that the node
/// ignores ([`Sim::ignored_callback`]), until no node's oldest callback is one; each
/// delivery is pushed to `path` if given. Returns how many were delivered.
///
/// Why the check may make these deliveries part of the step before them and never store
/// a state with such a callback at a head (shim-sim/README.md, "Ignored blocking
/// callbacks"): the delivery pops the head of one node's callbacks and changes nothing
/// else (no glock owns the lock, so `Glocks::bast` returns at once); nothing but that
/// node's delivery and its crash reads or removes the head (other actors append; the
/// DLM's stop barrier counts only `recover_prep`s; a crash discards the node's callbacks,
/// popped or not); no invariant reads the outbox; and whether a callback is one is
/// fixed when it is queued (a lock's owner, engine or glock, never changes). So the
/// delivery commutes with every other step, stays enabled until taken, and a state and
/// the state with its ignored heads delivered have the same futures up to those
/// deliveries, the same violations and the same quiet states (a quiet state has no
/// callbacks at all).
pub fn deliver_ignored<const N: usize>(
    sim: &mut Sim<N>,
    mut path: Option<&mut Vec<Action>>,
) -> u64 {
    let mut n = 0;
    while let Some(id) = sim.ignored_callback() {
        sim.perform(Action::Deliver(id));
        if let Some(p) = path.as_deref_mut() {
            p.push(Action::Deliver(id));
        }
        n += 1;
    }
    n
}

/// A path of the check from `origin` (the mounted cluster) with the deliveries
/// [`deliver_ignored`] made written out, so that it replays step by step.
fn with_ignored<const N: usize>(origin: &Sim<N>, path: &[Action]) -> Vec<Action> {
    let mut s = origin.clone();
    let mut out = Vec::with_capacity(path.len());
    deliver_ignored(&mut s, Some(&mut out));
    for &a in path {
        out.push(a);
        s.perform(a);
        s.check_invariants();
        if s.violation().is_none() && deliver_ignored(&mut s, Some(&mut out)) > 0 {
            s.check_invariants();
        }
    }
    out
}

/// The seen-set's hasher: its keys are XXH3-128 digests already, so the low 64 bits are
/// as good a hash as any (SipHash over them would cost more than the lookup).
#[derive(Clone, Copy, Default)]
struct BuildXxh;

impl std::hash::BuildHasher for BuildXxh {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

/// Folds the written integers into one (the first, a 128-bit digest, dominates).
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, b: &[u8]) {
        for c in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 ^= v as u64;
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(v)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What [`audit`] compared.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    /// Distinct canonical states.
    pub states: u64,
    /// States reached again by another path (same canonical state, possibly different
    /// raw state) whose successors were compared with the first one's.
    pub merges: u64,
    /// Of those, merges of raw states that differ (by the full-state fingerprint).
    pub distinct_raw: u64,
    /// Of those, merges that only the generation renaming made (the canonical states
    /// without it differ).
    pub renamed: u64,
}

/// Check the canonical state empirically: explore like [`check`] (breadth-first, up to
/// `cfg.max_states`), and whenever a state's canonical key was seen before, require that
/// its successors have the same canonical keys (and the same quiet/violation status) as
/// the first state's with that key. A field left out of the canonical state that does
/// change a future shows up here as two merged states with different successors.
pub fn audit(cfg: &CheckConfig) -> Result<Audit, String> {
    if small(cfg) {
        audit_sized::<CHECK_CAPACITY>(cfg)
    } else {
        audit_sized::<192>(cfg)
    }
}

/// [`audit`] with engines of capacity `N`.
pub fn audit_sized<const N: usize>(cfg: &CheckConfig) -> Result<Audit, String> {
    let root = mounted_cluster_sized::<N>(cfg.nodes, cfg.cpg, cfg.defects.clone())?;
    let base_mounts = root.mounts();
    // The states explored keep their raw generations; the key renames a copy's, so a
    // merge of states whose generations differ compares their successors too.
    let rename = renames_generations(cfg);
    let key = |s: &Sim<N>| {
        let k = if rename {
            let mut c = s.clone();
            Generations::rename(&mut c);
            c.canonical_key()
        } else {
            s.canonical_key()
        };
        (k, s.crashes(), s.mounts() - base_mounts)
    };
    let succ = |s: &Sim<N>| -> Vec<(u128, u32, u32, bool)> {
        let mut choices = s.enabled();
        fault_choices(s, cfg, base_mounts, &mut choices);
        let mut v: Vec<_> = choices
            .into_iter()
            .map(|a| {
                let mut n = s.clone();
                n.perform(a);
                n.check_invariants();
                let (k, c, m) = key(&n);
                (k, c, m, n.violation().is_some())
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // Per canonical state: the first raw state's fingerprints (full, and canonical without
    // the renaming) and its successors.
    type Successors = Vec<(u128, u32, u32, bool)>;
    let mut first: HashMap<Key, ((u64, u128), Successors), BuildXxh> = HashMap::default();
    let mut out = Audit::default();
    let mut queue = VecDeque::from([root]);
    while let Some(sim) = queue.pop_front() {
        let k = key(&sim);
        let s = succ(&sim);
        let raw = (sim.fingerprint(), sim.canonical_key());
        match first.get(&k) {
            Some((raw0, s0)) => {
                out.merges += 1;
                if raw0.0 != raw.0 {
                    out.distinct_raw += 1;
                }
                if raw0.1 != raw.1 {
                    out.renamed += 1;
                }
                if *s0 != s {
                    return Err(format!(
                        "two states with one canonical state have different successors ({} vs {}) after {} states",
                        s0.len(),
                        s.len(),
                        out.states
                    ));
                }
                continue;
            }
            None => {
                out.states += 1;
                first.insert(k, (raw, s));
            }
        }
        if out.states >= cfg.max_states {
            break;
        }
        let mut choices = sim.enabled();
        fault_choices(&sim, cfg, base_mounts, &mut choices);
        for a in choices {
            let mut n = sim.clone();
            n.perform(a);
            n.check_invariants();
            if n.violation().is_none() {
                queue.push_back(n);
            }
        }
    }
    Ok(out)
}

/// What the other actors' steps and the invariants read of a node, but the generation
/// it started: alive, phase, whether it accesses the file system, its jid, whether it
/// owns its journal, which journal it replays, and `DFL_FIRST_MOUNT`.
fn observable<const N: usize>(n: &crate::node::Node<N>) -> impl PartialEq {
    (
        n.alive(),
        n.phase,
        n.accessing(),
        n.jid(),
        n.owns_journal(),
        n.replaying(),
        n.rec()
            .flags()
            .contains(gdlm_core::RecoverFlags::FIRST_MOUNT),
    )
}

/// Whether a local step of a node kept what [`observable`] reads and did not lower the
/// generation the node started (`ls_recover_start`). That generation is read by nothing
/// but invariant 1 ("an accessing node that started a generation after a journal's
/// failure while the journal is dirty"), which can only break more often when it grows:
/// a step that raises it is not invisible, but every state it leads to breaks invariant 1
/// wherever the state without it did (README "Partial-order reduction", condition 3).
fn unseen<const N: usize>(before: &crate::node::Node<N>, after: &crate::node::Node<N>) -> bool {
    observable(after) == observable(before)
        && after.rec().recover_start() >= before.rec().recover_start()
}

/// The check's partial-order reduction: the choices of one node whose steps stay inside
/// it, to take alone in `sim` instead of every choice (an ample set); `None` if no node
/// qualifies. Every step tried is pushed to `tried` with its successor (invariants
/// checked, renamed if `rename`), so the search need not make it again. Node by node
/// (lowest id first), node `i`'s choices qualify when:
///
/// - they are `Deliver(i)`, alone or with `Run(i)` (not the other order of a delivery
///   that wakes `control_first_done`): node `i` has a callback, so no other actor can
///   enable a step of node `i` it does not have now (only node `i`'s own steps make it
///   runnable: its timers, replays, unmount; the head of its callbacks stays until it
///   delivers it);
/// - each is local: the step made no DLM call and sent no note beyond the node (no
///   replay, mount, unblock, CPG message, release, core error: [`Sim::reached_out`]),
///   so it read and wrote only node `i` (and a delivery popped the oldest of node `i`'s
///   callbacks);
/// - each is invisible: [`observable`] is unchanged and no invariant broke;
/// - each successor is new (not seen yet): the cycle proviso, so that no cycle of the
///   reduced graph postpones the other choices for ever.
///
/// Why that keeps every reachable violation and quiet state (README "Partial-order
/// reduction"): every other actor's step only appends to node `i`'s callbacks (the head
/// stays; the canonical outbox is written node by node) and never reads what node `i`'s
/// local steps change, so they commute with it; a crash of node `i` discards its
/// callbacks and everything a local step changed in the node (`Node::reset`), so
/// crashing after the step reaches the very state crashing before it does.
pub fn local_node<const N: usize>(
    sim: &Sim<N>,
    choices: &[Action],
    rename: bool,
    skip: bool,
    tried: &mut Vec<(Action, Sim<N>)>,
    seen: impl Fn(&Sim<N>) -> bool,
) -> Option<Vec<Action>> {
    'node: for (i, n) in sim.nodes().iter().enumerate() {
        let id = n.id;
        let mine = |a: &Action| match *a {
            Action::Deliver(x)
            | Action::Run(x)
            | Action::DeliverCpg(x)
            | Action::DeliverWorkFirst(x)
            | Action::DeliverCpgWorkFirst(x) => x == id,
            _ => false,
        };
        let own: Vec<Action> = choices.iter().copied().filter(mine).collect();
        if !own.contains(&Action::Deliver(id))
            || own
                .iter()
                .any(|a| !matches!(a, Action::Deliver(_) | Action::Run(_)))
        {
            continue;
        }
        let from = tried.len();
        for &a in &own {
            if tried[..from].iter().any(|(t, _)| *t == a) {
                continue 'node;
            }
            let mut next = sim.clone();
            let out = next.reached_out();
            next.perform(a);
            next.check_invariants();
            if skip && next.violation().is_none() && deliver_ignored(&mut next, None) > 0 {
                next.check_invariants();
            }
            // Compared before the renaming (the generation a node started is renamed).
            let mut local = next.violation().is_none()
                && next.reached_out() == out
                && unseen(n, &next.nodes()[i]);
            if rename {
                Generations::rename(&mut next);
            }
            local = local && !seen(&next);
            tried.push((a, next));
            if !local {
                continue 'node;
            }
        }
        return Some(own);
    }
    None
}

/// Where a check's states come from ([`census`]): per depth, the states first reached
/// there and how many distinct values each component of the canonical state took so far.
#[derive(Clone, Debug, Default)]
pub struct Census {
    /// Per depth: new states, and the distinct DLM parts, node parts (over every node),
    /// rest parts and generation counts seen up to that depth.
    pub levels: Vec<CensusLevel>,
    /// Per action kind (`DlmRecovery`, `Deliver`, `Run`, `Crash`, `Mount`, `DeliverCpg`,
    /// `DeliverWorkFirst`, `DeliverCpgWorkFirst`) and which parts it changed (bit 0 the
    /// DLM, 1 the acting node, 2 another node, 3 the rest): transitions.
    pub changed: [[u64; 16]; 8],
    /// Pairs of enabled actions of different nodes (or the DLM) sampled, and of those the
    /// pairs that commute in one step (both orders enabled and reaching one canonical
    /// state).
    pub pairs: u64,
    /// See [`Census::pairs`].
    pub commuting: u64,
}

/// One depth of a [`Census`].
#[derive(Clone, Debug, Default)]
pub struct CensusLevel {
    /// States first reached at this depth.
    pub states: u64,
    /// Distinct DLM parts so far.
    pub dlm: u64,
    /// Distinct node parts so far (any node).
    pub node: u64,
    /// Distinct rest parts so far.
    pub rest: u64,
    /// Most distinct renamed generations in one state so far.
    pub generations: u64,
    /// Distinct values so far of the DLM's parts: membership and recovery, resources,
    /// locks, deferred calls, undelivered callbacks.
    pub dlm_parts: [u64; 5],
}

fn kind(a: Action) -> (usize, Option<u32>) {
    match a {
        Action::DlmRecovery => (0, None),
        Action::Deliver(n) => (1, Some(n)),
        Action::Run(n) => (2, Some(n)),
        Action::Crash(n) => (3, Some(n)),
        Action::Mount(n) => (4, Some(n)),
        Action::DeliverCpg(n) => (5, Some(n)),
        Action::DeliverWorkFirst(n) => (6, Some(n)),
        Action::DeliverCpgWorkFirst(n) => (7, Some(n)),
    }
}

/// Explore like [`check`] (breadth-first, keep-going, to `cfg.depth` or
/// `cfg.max_states`) and count, per depth, the distinct values of each component of the
/// canonical state, which components each kind of action changes, and (every 64th state)
/// how many pairs of enabled actions of different actors commute in one step: whether
/// the space grows by a counter (a component with ever more values) or by interleaving
/// (components with few values, combined in ever more ways).
pub fn census(cfg: &CheckConfig) -> Result<Census, String> {
    use std::collections::HashSet;
    const N: usize = CHECK_CAPACITY;
    let mut root = mounted_cluster_sized::<N>(cfg.nodes, cfg.cpg, cfg.defects.clone())?;
    let rename = renames_generations(cfg);
    if rename {
        Generations::rename(&mut root);
    }
    let base = root.mounts();
    let key = |s: &Sim<N>| s.canonical_key_with(&(s.crashes(), s.mounts() - base));
    let mut seen: HashSet<u128> = HashSet::from([key(&root)]);
    let (mut dlm, mut node, mut rest) = (HashSet::new(), HashSet::new(), HashSet::new());
    let mut sub: [HashSet<u128>; 5] = Default::default();
    let n = cfg.nodes as usize;
    let mut out = Census::default();
    let mut gens = 0u64;
    let mut note = |s: &mut Sim<N>, depth: usize, out: &mut Census| {
        let p = s.canon_parts();
        dlm.insert(p[0]);
        node.extend(p[1..=n].iter().copied());
        rest.insert(p[n + 1]);
        for (set, &v) in sub.iter_mut().zip(&p[n + 2..]) {
            set.insert(v);
        }
        let mut g = Vec::new();
        s.visit_generations(&mut |_, v| g.push(*v));
        g.sort_unstable();
        g.dedup();
        gens = gens.max(g.len() as u64);
        if out.levels.len() <= depth {
            out.levels.resize(depth + 1, CensusLevel::default());
        }
        let l = &mut out.levels[depth];
        l.states += 1;
        (l.dlm, l.node, l.rest, l.generations) =
            (dlm.len() as u64, node.len() as u64, rest.len() as u64, gens);
        for (d, set) in l.dlm_parts.iter_mut().zip(&sub) {
            *d = set.len() as u64;
        }
    };
    note(&mut root, 0, &mut out);
    let mut queue = VecDeque::from([(root, 0usize)]);
    let mut states = 1u64;
    while let Some((sim, depth)) = queue.pop_front() {
        if depth >= cfg.depth || states >= cfg.max_states {
            continue;
        }
        let mut choices = sim.enabled();
        fault_choices(&sim, cfg, base, &mut choices);
        let before = sim.canon_parts();
        let sample = states % 64 == 0;
        let mut after = Vec::new();
        for &a in &choices {
            let mut next = sim.clone();
            next.perform(a);
            next.check_invariants();
            if rename {
                Generations::rename(&mut next);
            }
            let p = next.canon_parts();
            let (k, who) = kind(a);
            let own = who.map(|n| n as usize);
            let mut mask = usize::from(p[0] != before[0]);
            for (i, (x, y)) in p.iter().zip(&before).enumerate().take(n + 2).skip(1) {
                if x != y {
                    mask |= if i == n + 1 {
                        8
                    } else if Some(i) == own {
                        2
                    } else {
                        4
                    };
                }
            }
            out.changed[k][mask] += 1;
            if sample {
                after.push((a, next.clone()));
            }
            if next.violation().is_none() && seen.insert(key(&next)) {
                states += 1;
                note(&mut next, depth + 1, &mut out);
                queue.push_back((next, depth + 1));
            }
        }
        // One-step commutation of enabled actions of different actors.
        for (i, (a, sa)) in after.iter().enumerate() {
            for (b, sb) in &after[i + 1..] {
                if kind(*a).1 == kind(*b).1 {
                    continue;
                }
                out.pairs += 1;
                let step = |s: &Sim<N>, x: Action| {
                    let mut ch = s.enabled();
                    fault_choices(s, cfg, base, &mut ch);
                    ch.contains(&x).then(|| {
                        let mut n = s.clone();
                        n.perform(x);
                        n.check_invariants();
                        if rename {
                            Generations::rename(&mut n);
                        }
                        key(&n)
                    })
                };
                if let (Some(x), Some(y)) = (step(sa, *b), step(sb, *a)) {
                    out.commuting += u64::from(x == y);
                }
            }
        }
    }
    Ok(out)
}

/// The faults the check may still inject in `sim` beside its enabled actions: a crash of a
/// live node while fewer than `cfg.crashes` happened, a mount of a down node while fewer
/// than `cfg.mounts` remounts happened (counted from `base_mounts`); and the other order
/// of a delivery that wakes a waiting `control_first_done` ([`Sim::order_choices`]).
fn fault_choices<const N: usize>(
    sim: &Sim<N>,
    cfg: &CheckConfig,
    base_mounts: u32,
    choices: &mut Vec<Action>,
) {
    sim.order_choices(choices);
    if sim.crashes() < cfg.crashes {
        choices.extend(
            sim.nodes()
                .iter()
                .filter(|n| n.alive())
                .map(|n| Action::Crash(n.id)),
        );
    }
    if sim.mounts() - base_mounts < cfg.mounts {
        choices.extend(
            sim.nodes()
                .iter()
                .filter(|n| !n.alive() && !sim.mount_pending(n.id))
                .map(|n| Action::Mount(n.id)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The check renames generations in place after every transition; that is sound
    /// only if renaming commutes with every transition. Along random walks with two
    /// crashes and a remount, a cluster renamed after every step and the same cluster
    /// never renamed, renamed at the end, have one canonical state (both modes).
    #[test]
    fn renaming_in_place_commutes_with_every_transition() {
        for cpg in [false, true] {
            let cfg = CheckConfig {
                mounts: 1,
                cpg,
                ..CheckConfig::new(3, 2)
            };
            let mut merged = 0;
            for seed in 1..=12u64 {
                let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
                let mut raw = mounted_cluster_sized::<8>(3, cpg, Defects::default()).unwrap();
                let base = raw.mounts();
                let mut renamed = raw.clone();
                Generations::rename(&mut renamed);
                for step in 0..400 {
                    let mut ch = raw.enabled();
                    fault_choices(&raw, &cfg, base, &mut ch);
                    if ch.is_empty() {
                        break;
                    }
                    let a = ch[rng.random_range(0..ch.len())];
                    for s in [&mut raw, &mut renamed] {
                        s.perform(a);
                        s.check_invariants();
                    }
                    Generations::rename(&mut renamed);
                    let mut copy = raw.clone();
                    Generations::rename(&mut copy);
                    assert_eq!(
                        copy.canonical_key(),
                        renamed.canonical_key(),
                        "cpg {cpg} seed {seed} step {step} {a:?}"
                    );
                    assert_eq!(raw.violation().is_some(), renamed.violation().is_some());
                    merged += usize::from(raw.canonical_key() != renamed.canonical_key());
                }
            }
            // The renaming did rename (generations past the setup's were seen).
            assert!(merged > 0, "cpg {cpg}");
        }
    }

    /// Exploring renamed states (the check) and exploring raw states keyed by a renamed
    /// copy (the audit) visit the same canonical states.
    #[test]
    fn check_and_audit_count_the_same_states() {
        for (nodes, crashes, cpg) in [(2, 2, false), (2, 2, true), (3, 1, false)] {
            // (The audit explores every interleaving: no reduction.)
            let cfg = CheckConfig {
                cpg,
                reduce: false,
                skip_basts: false,
                ..CheckConfig::new(nodes, crashes)
            };
            let c = check(&cfg).unwrap();
            let a = audit(&cfg).unwrap();
            assert!(!c.truncated && c.violations == 0, "{c:?}");
            assert_eq!(
                c.states, a.states,
                "{nodes} nodes, {crashes} crashes, cpg {cpg}"
            );
        }
    }

    /// The reduction's premises, checked along random walks with two crashes and a
    /// remount: wherever `local_node` takes node i's steps alone, each of them commutes
    /// in one step with every choice of another actor (both orders possible, one
    /// canonical state, the same verdict), and crashing node i after it reaches the state
    /// crashing it before does.
    #[test]
    fn local_steps_commute_with_other_actors_and_vanish_in_a_crash() {
        let cfg = CheckConfig {
            mounts: 1,
            ..CheckConfig::new(3, 2)
        };
        let (mut diamonds, mut crashes) = (0, 0);
        for seed in 1..=60u64 {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let mut s = mounted_cluster_sized::<8>(3, false, Defects::default()).unwrap();
            Generations::rename(&mut s);
            let base = s.mounts();
            let key = |s: &Sim<8>| s.canonical_key_with(&(s.crashes(), s.mounts() - base));
            let after = |s: &Sim<8>, a| {
                let mut n = s.clone();
                n.perform(a);
                n.check_invariants();
                Generations::rename(&mut n);
                n
            };
            let enabled = |s: &Sim<8>| {
                let mut ch = s.enabled();
                fault_choices(s, &cfg, base, &mut ch);
                ch
            };
            for _ in 0..300 {
                let ch = enabled(&s);
                if ch.is_empty() {
                    break;
                }
                let mut tried = Vec::new();
                if let Some(own) = local_node(&s, &ch, true, true, &mut tried, |_| false) {
                    let id = own[0].node();
                    for &a in &own {
                        assert_eq!(a.node(), id);
                        let sa = after(&s, a);
                        for &b in ch.iter().filter(|&&b| b.node() != id) {
                            let sb = after(&s, b);
                            assert!(enabled(&sa).contains(&b), "{a:?} disables {b:?}");
                            assert!(enabled(&sb).contains(&a), "{b:?} disables {a:?}");
                            let (ab, ba) = (after(&sa, b), after(&sb, a));
                            assert_eq!(key(&ab), key(&ba), "seed {seed}: {a:?} and {b:?}");
                            assert_eq!(ab.violation().is_some(), ba.violation().is_some());
                            diamonds += 1;
                        }
                        if let Some(&c) = ch.iter().find(|&&c| c == Action::Crash(id.unwrap())) {
                            assert_eq!(key(&after(&sa, c)), key(&after(&s, c)), "{a:?}");
                            crashes += 1;
                        }
                    }
                }
                // Faults rarely, so that walks meet local steps with crashes left.
                let calm: Vec<Action> = ch
                    .iter()
                    .copied()
                    .filter(|a| !matches!(a, Action::Crash(_) | Action::Mount(_)))
                    .collect();
                let pick = if calm.is_empty() || rng.random_range(0..10) == 0 {
                    &ch
                } else {
                    &calm
                };
                s = after(&s, pick[rng.random_range(0..pick.len())]);
                if s.violation().is_some() {
                    break;
                }
            }
        }
        assert!(diamonds > 100 && crashes > 10, "{diamonds} {crashes}");
    }

    /// The reductions (local steps, ignored blocking callbacks delivered at once) reach
    /// the very same quiet states (by key) and break no invariant where the whole space
    /// breaks none, with fewer states; also with a remount (2 nodes) and each reduction
    /// alone.
    #[test]
    fn reduction_keeps_the_quiet_states() {
        for (nodes, crashes, mounts) in [
            (2, 2, 0),
            (3, 1, 0),
            (3, 2, 0),
            (3, 3, 0),
            (2, 1, 1),
            (2, 2, 1),
        ] {
            let run = |reduce, skip_basts| {
                check(&CheckConfig {
                    reduce,
                    skip_basts,
                    mounts,
                    keep_going: true,
                    depth: 100_000,
                    ..CheckConfig::new(nodes, crashes)
                })
                .unwrap()
            };
            let without = run(false, false);
            assert!(!without.truncated && without.reduced == 0);
            assert_eq!(without.violations, 0);
            for (reduce, skip) in [(true, true), (true, false), (false, true)] {
                let with = run(reduce, skip);
                let what = format!("{nodes}/{crashes}/{mounts} reduce {reduce} skip {skip}");
                assert!(!with.truncated, "{what}");
                assert_eq!(with.violations, 0, "{what}");
                assert_eq!(with.quiet, without.quiet, "{what}");
                assert!(with.states <= without.states, "{what}");
                if reduce {
                    assert!(with.states < without.states, "{what}");
                }
            }
        }
    }

    /// The premises of delivering ignored blocking callbacks at once, along random walks
    /// with two crashes and a remount: wherever a node's oldest callback is one, its
    /// delivery changes the DLM's undelivered callbacks and nothing else (every other
    /// part of the canonical state is equal), commutes in one step with every other
    /// choice (both orders possible, one canonical state, the same verdict), and
    /// crashing the node after it reaches the state crashing it before does.
    #[test]
    fn ignored_blocking_callbacks_commute_with_everything() {
        let cfg = CheckConfig {
            mounts: 1,
            ..CheckConfig::new(3, 2)
        };
        let (mut seen, mut diamonds) = (0, 0);
        for seed in 1..=80u64 {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let mut s = mounted_cluster_sized::<8>(3, false, Defects::default()).unwrap();
            let base = s.mounts();
            let key = |s: &Sim<8>| s.canonical_key_with(&(s.crashes(), s.mounts() - base));
            let after = |s: &Sim<8>, a| {
                let mut n = s.clone();
                n.perform(a);
                n.check_invariants();
                n
            };
            let enabled = |s: &Sim<8>| {
                let mut ch = s.enabled();
                fault_choices(s, &cfg, base, &mut ch);
                ch
            };
            for _ in 0..300 {
                let ch = enabled(&s);
                if ch.is_empty() {
                    break;
                }
                if let Some(id) = s.ignored_callback() {
                    seen += 1;
                    let a = Action::Deliver(id);
                    assert!(ch.contains(&a));
                    let sa = after(&s, a);
                    let (p, q) = (s.canon_parts(), sa.canon_parts());
                    let n = s.nodes().len();
                    // [0] the DLM, [1..=n] the nodes, [n+1] the rest, then the DLM's
                    // parts: membership, resources, locks, deferred calls, callbacks.
                    assert_eq!(p[1..n + 6], q[1..n + 6], "seed {seed}");
                    assert_ne!(p[n + 6], q[n + 6]);
                    assert_eq!(sa.violation().is_some(), s.violation().is_some());
                    for &b in ch.iter().filter(|&&b| b != a) {
                        let sb = after(&s, b);
                        assert!(enabled(&sa).contains(&b), "{a:?} disables {b:?}");
                        if b == Action::Crash(id) {
                            assert_eq!(key(&after(&sa, b)), key(&sb), "seed {seed}");
                            continue;
                        }
                        let (ab, ba) = (after(&sa, b), after(&sb, a));
                        assert_eq!(key(&ab), key(&ba), "seed {seed}: {a:?} and {b:?}");
                        assert_eq!(ab.violation().is_some(), ba.violation().is_some());
                        diamonds += 1;
                    }
                }
                let calm: Vec<Action> = ch
                    .iter()
                    .copied()
                    .filter(|a| !matches!(a, Action::Crash(_) | Action::Mount(_)))
                    .collect();
                let pick = if calm.is_empty() || rng.random_range(0..10) == 0 {
                    &ch
                } else {
                    &calm
                };
                s = after(&s, pick[rng.random_range(0..pick.len())]);
                if s.violation().is_some() {
                    break;
                }
            }
        }
        assert!(seen > 20 && diamonds > 50, "{seen} {diamonds}");
    }

    #[test]
    fn expected_violations_decide_the_verdict() {
        let mut r = check(&CheckConfig::new(2, 1)).unwrap();
        assert!(r.passes(&[]));
        assert!(
            !r.passes(&[1]),
            "an expected finding that did not show fails"
        );
        let v = Violation {
            invariant: 1,
            step: 7,
            message: "m".into(),
        };
        r.count(&v, Vec::new);
        r.count(&v, || unreachable!("one path per invariant"));
        assert_eq!((r.violations, r.by_invariant[1]), (2, 2));
        assert_eq!(r.first_by_invariant.len(), 1);
        assert!(!r.passes(&[]));
        assert!(r.passes(&[1]));
        assert!(!r.passes(&[1, 4]));
        r.count(&Violation { invariant: 4, ..v }, Vec::new);
        assert!(!r.passes(&[1]));
        assert!(r.passes(&[1, 4]));
    }
}
