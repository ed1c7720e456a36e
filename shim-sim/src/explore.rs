//! Many seeds: swarm testing over fault mixes, with a summary table.

use std::collections::BTreeMap;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::sim::{run_seed, Outcome, SimConfig};

/// The configuration seed `seed` runs with: with `swarm`, each seed turns fault kinds
/// on or off and picks a fault rate and crash budget (swarm testing: some runs hammer one
/// kind of fault, others mix them).
pub fn seed_config(base: &SimConfig, seed: u64, swarm: bool) -> SimConfig {
    let mut c = base.clone();
    c.seed = seed;
    if swarm {
        let mut r = Pcg64Mcg::seed_from_u64(seed ^ 0x5EED_5EED_5EED_5EED);
        c.faults.crash = r.random_bool(0.8);
        c.faults.mount = r.random_bool(0.7);
        c.faults.unmount = r.random_bool(0.5);
        // The reference's withdraw loses the journal (a normal release): only 7.2's is
        // part of the swarm.
        c.faults.withdraw = r.random_bool(0.3) && base.profile == gdlm_core::Profile::Linux72;
        c.faults.starve = r.random_bool(0.3);
        c.faults.rate_per_mille = r.random_range(2..60);
        c.faults.max_crashes = r.random_range(1..=3);
        // Drawn after the older choices, so those stay as they were per seed.
        c.faults.replay_fail = r.random_bool(0.25);
        c.faults.replay_delay_ms = if r.random_bool(0.5) {
            r.random_range(1..2500)
        } else {
            0
        };
    }
    c
}

/// Aggregates over a set of runs.
#[derive(Default, Debug)]
pub struct Totals {
    /// Runs.
    pub runs: u64,
    /// Runs that broke an invariant, by invariant number.
    pub violations: BTreeMap<u8, Vec<u64>>,
    /// Events, crashes, mounts, recoveries summed.
    pub events: u64,
    /// Crashes.
    pub crashes: u64,
    /// Mounts.
    pub mounts: u64,
    /// Journal replays of failed nodes.
    pub recoveries: u64,
}

impl Totals {
    /// Add one run.
    pub fn add(&mut self, o: &Outcome) {
        self.runs += 1;
        self.events += o.stats.events;
        self.crashes += u64::from(o.stats.crashes);
        self.mounts += u64::from(o.stats.mounts);
        self.recoveries += u64::from(o.stats.recoveries);
        if let Some(v) = &o.violation {
            self.violations.entry(v.invariant).or_default().push(o.seed);
        }
    }
}

/// Run `count` seeds from `first`; print a table; true if no seed broke an invariant.
pub fn explore(base: &SimConfig, first: u64, count: u64, swarm: bool, quiet: bool) -> bool {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(count)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let mut t = Totals::default();
    let mut first_bad: Option<Outcome> = None;
    for seed in first..first.saturating_add(count) {
        let out = run_seed(&seed_config(base, seed, swarm), seed);
        t.add(&out);
        if out.violation.is_some() && first_bad.is_none() {
            bar.set_message(format!("violation at seed {seed}"));
            first_bad = Some(out);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "explore: {} seeds of {} nodes in {:.1} s ({:.0} seeds/s, {:.0} events/s)",
        t.runs,
        base.nodes,
        secs,
        t.runs as f64 / secs.max(1e-9),
        t.events as f64 / secs.max(1e-9)
    );
    println!("  {:<44} {:>10}", "events", t.events);
    println!("  {:<44} {:>10}", "crashes", t.crashes);
    println!("  {:<44} {:>10}", "mounts", t.mounts);
    println!(
        "  {:<44} {:>10}",
        "journals of failed nodes replayed", t.recoveries
    );
    for inv in 0..=5u8 {
        let seeds = t.violations.get(&inv).map(Vec::as_slice).unwrap_or(&[]);
        let shown: Vec<String> = seeds.iter().take(5).map(u64::to_string).collect();
        println!(
            "  {:<44} {:>10}  {}",
            format!("invariant {inv} violations"),
            seeds.len(),
            if shown.is_empty() {
                String::new()
            } else {
                format!("seeds {}", shown.join(" "))
            }
        );
    }
    if let Some(o) = &first_bad {
        if let Some(v) = &o.violation {
            println!("first: seed {}: {v}", o.seed);
            println!("replay with: gdlm-sim replay {} (same options)", o.seed);
        }
    }
    println!(
        "{} passed, {} failed",
        t.runs - t.violations.values().map(|v| v.len() as u64).sum::<u64>(),
        t.violations.values().map(|v| v.len() as u64).sum::<u64>()
    );
    t.violations.is_empty()
}
