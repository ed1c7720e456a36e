//! Exhaustive exploration of a small cluster: every interleaving of DLM recovery steps,
//! callback deliveries, node steps, up to K crashes and M remounts, from a cluster where every node
//! is mounted, to a depth bound. Time is abstracted away (a timer may fire at any
//! point), which covers every timing a real cluster could show. States with the same
//! fingerprint are explored once.

use std::collections::HashSet;
use std::time::Instant;

use crate::node::Phase;
use crate::sim::{Action, Faults, Sim, SimConfig, Violation};

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
}

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
    /// Seconds taken.
    pub secs: f64,
}

/// A cluster of `nodes` with every node mounted and nothing pending (recovery callbacks
/// from a CPG group if `cpg`).
pub fn mounted_cluster(nodes: u32, cpg: bool) -> Result<Sim, String> {
    let cfg = SimConfig {
        nodes,
        cpg,
        seed: 1,
        max_steps: 1_000_000,
        faults: Faults::none(),
        traffic: false,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(cfg);
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

/// Run the check.
pub fn check(cfg: &CheckConfig) -> Result<CheckResult, String> {
    let start = Instant::now();
    let root = mounted_cluster(cfg.nodes, cfg.cpg)?;
    let base_mounts = root.mounts();
    // The fault budget left is part of the state: a state reached with more budget has
    // more futures.
    let key = |s: &Sim| (s.fingerprint(), s.crashes(), s.mounts() - base_mounts);
    let mut seen = HashSet::new();
    seen.insert(key(&root));
    let mut res = CheckResult {
        states: 1,
        transitions: 0,
        quiet_states: 0,
        max_depth: 0,
        truncated: false,
        violation: None,
        secs: 0.0,
    };
    // Depth-first, explicit stack: (state, path).
    let mut stack: Vec<(Sim, Vec<Action>)> = vec![(root, Vec::new())];
    while let Some((sim, path)) = stack.pop() {
        res.max_depth = res.max_depth.max(path.len());
        let mut choices = sim.enabled();
        if choices.is_empty() {
            // Quiet: every live node must be mounted and unblocked, nothing dirty left.
            res.quiet_states += 1;
            let mut s = sim.clone();
            s.check_liveness();
            if let Some(v) = s.violation() {
                res.violation = Some((v.clone(), path));
                break;
            }
        }
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
        if path.len() >= cfg.depth {
            res.truncated |= !choices.is_empty();
            continue;
        }
        for a in choices {
            let mut next = sim.clone();
            next.perform(a);
            next.check_invariants();
            res.transitions += 1;
            let mut p = path.clone();
            p.push(a);
            if let Some(v) = next.violation() {
                res.violation = Some((v.clone(), p));
                break;
            }
            if seen.insert(key(&next)) {
                res.states += 1;
                if res.states >= cfg.max_states {
                    res.truncated = true;
                    break;
                }
                stack.push((next, p));
            }
        }
        if res.violation.is_some() || res.states >= cfg.max_states {
            break;
        }
    }
    res.secs = start.elapsed().as_secs_f64();
    Ok(res)
}
