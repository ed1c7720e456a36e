//! Shrinking a failing run to a minimal schedule (delta debugging over the recorded
//! actions), so a violation can be read in a few dozen steps and replayed by hand.

use crate::schedule::{Schedule, Step};
use crate::sim::{run_seed, SimConfig, Violation};

/// A minimal failing schedule.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The schedule (ends with `"settle"`).
    pub schedule: Schedule,
    /// The violation it shows.
    pub violation: Violation,
    /// Steps recorded in the original run.
    pub original_steps: usize,
    /// Replays tried while shrinking.
    pub tries: usize,
}

fn fails(s: &Schedule, invariant: u8) -> Option<Violation> {
    s.run().ok()?.violation.filter(|v| v.invariant == invariant)
}

/// Record `seed`'s run under `cfg` and shrink it; `Ok(None)` when the seed does not fail.
/// `defects` are the defect names of `cfg` (they go into the schedule). At most `budget`
/// replays are tried.
pub fn shrink(
    cfg: &SimConfig,
    seed: u64,
    defects: &[String],
    budget: usize,
) -> Result<Option<Shrunk>, String> {
    let mut c = cfg.clone();
    c.record = true;
    let out = run_seed(&c, seed);
    let Some(v) = out.violation else {
        return Ok(None);
    };
    let mut steps = out.schedule.unwrap_or_default();
    // The swarm's replay delay is configuration, not a recorded step: put it first.
    // The swarm's replay and head-lookup times are configuration, not recorded steps:
    // put them first where they differ from a schedule's defaults (the measured lists).
    let mut first = Vec::new();
    if cfg.faults.replay_times.is_empty() {
        first.push(Step::ReplayDelay(cfg.faults.replay_delay_ms));
    } else if cfg.faults.replay_times != crate::schedule::REAL_REPLAY_MS
        || cfg.faults.clean_times != crate::schedule::REAL_CLEAN_LOOKUP_MS
    {
        // A custom list (`--replay-ms`): every replay draws from it.
        first.push(Step::ReplayTimes(cfg.faults.replay_times.to_vec()));
    }
    if let Some(j) = cfg.faults.jhead_times {
        first.push(Step::JheadTimes(j.to_vec()));
    }
    if cfg.faults.grant_us != crate::schedule::REAL_GRANT_US_LOCAL
        || cfg.faults.remote_grant_us != crate::schedule::REAL_GRANT_US_REMOTE
    {
        first.push(Step::GrantTimes {
            local_us: cfg.faults.grant_us.to_vec(),
            remote_us: cfg.faults.remote_grant_us.to_vec(),
        });
    }
    if cfg.faults.timer_slack_ms != crate::schedule::REAL_TIMER_SLACK_MS {
        first.push(Step::TimerSlack(cfg.faults.timer_slack_ms.to_vec()));
    }
    steps.splice(0..0, first);
    let base = Schedule {
        nodes: cfg.nodes,
        seed,
        defects: defects.to_vec(),
        traffic: false,
        ignore: cfg.ignore.clone(),
        fixes: if cfg.fix_stale_submit {
            vec!["stale-submit".into()]
        } else {
            vec![]
        },
        max_steps: cfg.max_steps,
        cpg: cfg.cpg,
        profile: (cfg.profile != gdlm_core::Profile::Reference)
            .then(|| cfg.profile.name().to_string()),
        node_profiles: cfg
            .node_profiles
            .iter()
            .map(|&(n, p)| (n, p.name().to_string()))
            .collect(),
        steps,
    };
    shrink_schedule(&base, v.invariant, budget).map(Some)
}

/// Shrink a schedule that breaks `invariant` (a trailing `"settle"` is kept).
pub fn shrink_schedule(sched: &Schedule, invariant: u8, budget: usize) -> Result<Shrunk, String> {
    let mut steps = sched.steps.clone();
    if steps.last() == Some(&Step::Settle) {
        steps.pop();
    }
    let original_steps = steps.len();
    let make = |steps: &[Step]| {
        let mut s = sched.clone();
        s.steps = steps.to_vec();
        s.steps.push(Step::Settle);
        s
    };
    let mut tries = 1;
    let Some(mut last) = fails(&make(&steps), invariant) else {
        return Err(format!(
            "the schedule does not reproduce invariant {invariant} ({original_steps} steps)"
        ));
    };
    // ddmin: remove chunks, halving the chunk size when nothing can go.
    let mut n = 2usize;
    while steps.len() >= 2 && tries < budget {
        let chunk = steps.len().div_ceil(n);
        let mut removed = false;
        let mut i = 0;
        while i < steps.len() && tries < budget {
            let end = (i + chunk).min(steps.len());
            let mut cand = steps[..i].to_vec();
            cand.extend_from_slice(&steps[end..]);
            tries += 1;
            if let Some(v2) = fails(&make(&cand), invariant) {
                steps = cand;
                last = v2;
                removed = true;
            } else {
                i = end;
            }
        }
        if removed {
            n = n.saturating_sub(1).max(2);
        } else if chunk == 1 {
            break;
        } else {
            n = (n * 2).min(steps.len());
        }
    }
    Ok(Shrunk {
        schedule: make(&steps),
        violation: last,
        original_steps,
        tries,
    })
}
