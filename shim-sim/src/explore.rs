//! Many seeds: swarm testing over fault mixes, with a summary table.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use crate::sim::{run_seed_summary, Outcome, SimConfig};

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
        // Half the seeds draw replays from the measured real times, the rest take the
        // fixed delay above; a quarter look at their own journal at once.
        if r.random_bool(0.5) {
            c.faults.replay_times = &[];
            c.faults.clean_times = &[];
        }
        if r.random_bool(0.25) {
            c.faults.jhead_times = Some(&[]);
        }
        // A quarter of the seeds deliver DLM replies at the scheduler's next pick (no AST
        // latency), as before the latency model.
        if r.random_bool(0.25) {
            c.faults.grant_us = &[];
            c.faults.remote_grant_us = &[];
        }
        if r.random_bool(0.25) {
            c.faults.timer_slack_ms = &[];
        }
    }
    c
}

/// Aggregates over a set of runs: what `explore` prints, and what `--json` writes. Two
/// summaries of adjacent seed ranges merge ([`Totals::merge`]) into the summary of the
/// whole range, so a run split across threads or machines by seed range gives the
/// serial run's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The first seed of the range.
    pub first_seed: u64,
    /// Runs.
    pub runs: u64,
    /// Runs that broke an invariant, by invariant number, seeds ascending.
    pub violations: BTreeMap<u8, Vec<u64>>,
    /// Events summed.
    pub events: u64,
    /// Crashes.
    pub crashes: u64,
    /// Mounts.
    pub mounts: u64,
    /// Journal replays of failed nodes.
    pub recoveries: u64,
    /// The lowest seed that broke an invariant, with the violation's text.
    pub first_violation: Option<(u64, String)>,
    /// The options the seeds ran with (the base configuration and swarm mode, as JSON;
    /// empty if unknown): summaries of different options do not merge.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub options: String,
}

impl Totals {
    /// Add one run (seeds in ascending order).
    pub fn add(&mut self, o: &Outcome) {
        if self.runs == 0 {
            self.first_seed = o.seed;
        }
        self.runs += 1;
        self.events += o.stats.events;
        self.crashes += u64::from(o.stats.crashes);
        self.mounts += u64::from(o.stats.mounts);
        self.recoveries += u64::from(o.stats.recoveries);
        if let Some(v) = &o.violation {
            self.violations.entry(v.invariant).or_default().push(o.seed);
            if self.first_violation.is_none() {
                self.first_violation = Some((o.seed, v.to_string()));
            }
        }
    }

    /// Append the summary of the seed range that follows this one.
    pub fn merge(&mut self, later: &Totals) {
        if later.runs == 0 {
            return;
        }
        if self.runs == 0 {
            *self = later.clone();
            return;
        }
        self.runs += later.runs;
        self.events += later.events;
        self.crashes += later.crashes;
        self.mounts += later.mounts;
        self.recoveries += later.recoveries;
        for (inv, seeds) in &later.violations {
            self.violations.entry(*inv).or_default().extend(seeds);
        }
        if self.first_violation.is_none() {
            self.first_violation.clone_from(&later.first_violation);
        }
    }

    /// Runs that broke an invariant.
    pub fn failed(&self) -> u64 {
        self.violations.values().map(|v| v.len() as u64).sum()
    }

    /// Merge summaries of seed ranges given in any order (sorted by first seed); an
    /// error if two ranges overlap, if a range between them is missing (a job of the
    /// batch that did not report), or if they ran with different options.
    pub fn merge_all(mut parts: Vec<Totals>) -> Result<Totals, String> {
        parts.retain(|t| t.runs > 0);
        parts.sort_by_key(|t| t.first_seed);
        let mut options = parts.iter().map(|t| &t.options).filter(|o| !o.is_empty());
        if let Some(o) = options.next() {
            if let Some(other) = options.find(|p| *p != o) {
                return Err(format!(
                    "summaries of different options do not merge: {o} and {other}"
                ));
            }
        }
        let mut all = Totals::default();
        for p in &parts {
            let end = all.first_seed + all.runs;
            if all.runs > 0 && p.first_seed < end {
                return Err(format!(
                    "seed ranges overlap: {}..{} and {}..",
                    all.first_seed, end, p.first_seed
                ));
            }
            if all.runs > 0 && p.first_seed > end {
                return Err(format!(
                    "seeds {end}..{} are missing (no summary holds them)",
                    p.first_seed
                ));
            }
            let options = if all.options.is_empty() {
                p.options.clone()
            } else {
                std::mem::take(&mut all.options)
            };
            all.merge(p);
            all.options = options;
        }
        Ok(all)
    }

    /// Print the summary table.
    pub fn print(&self) {
        println!("  {:<44} {:>10}", "events", self.events);
        println!("  {:<44} {:>10}", "crashes", self.crashes);
        println!("  {:<44} {:>10}", "mounts", self.mounts);
        println!(
            "  {:<44} {:>10}",
            "journals of failed nodes replayed", self.recoveries
        );
        for inv in 0..=5u8 {
            let seeds = self.violations.get(&inv).map(Vec::as_slice).unwrap_or(&[]);
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
        if let Some((seed, v)) = &self.first_violation {
            println!("first: seed {seed}: {v}");
            println!("replay with: gdlm-sim replay {seed} (same options)");
        }
        println!(
            "{} passed, {} failed",
            self.runs - self.failed(),
            self.failed()
        );
    }
}

/// Seeds per work item of a parallel run (small enough to balance two cores, large
/// enough that the merge costs nothing).
const BLOCK: u64 = 64;

/// Run `count` seeds from `first` on `jobs` threads; the summary equals a serial run's
/// (every seed is deterministic, and blocks of seeds are merged in seed order).
pub fn run_seeds(
    base: &SimConfig,
    first: u64,
    count: u64,
    swarm: bool,
    jobs: usize,
    bar: &ProgressBar,
) -> Totals {
    let end = first.saturating_add(count);
    let blocks = (end - first).div_ceil(BLOCK);
    let run_block = |b: u64| {
        let mut t = Totals::default();
        let lo = first + b * BLOCK;
        for seed in lo..(lo + BLOCK).min(end) {
            let out = run_seed_summary(&seed_config(base, seed, swarm), seed);
            t.add(&out);
            if out.violation.is_some() {
                bar.set_message(format!("violation at seed {seed}"));
            }
            bar.inc(1);
        }
        t
    };
    let jobs = jobs.max(1);
    let mut parts: Vec<Option<Totals>> = vec![None; blocks as usize];
    if jobs == 1 {
        for (b, p) in parts.iter_mut().enumerate() {
            *p = Some(run_block(b as u64));
        }
    } else {
        let next = AtomicU64::new(0);
        let done = Mutex::new(&mut parts);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= blocks {
                        break;
                    }
                    let t = run_block(b);
                    done.lock().expect("no worker panicked")[b as usize] = Some(t);
                });
            }
        });
    }
    let mut all = Totals::default();
    for p in parts.into_iter().flatten() {
        all.merge(&p);
    }
    all
}

/// Run `count` seeds from `first` on `jobs` threads; print a table (and write the
/// summary as JSON to `json`); true if no seed broke an invariant.
pub fn explore(
    base: &SimConfig,
    first: u64,
    count: u64,
    swarm: bool,
    quiet: bool,
    jobs: usize,
    json: Option<&std::path::Path>,
) -> Result<bool, String> {
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
    let mut t = run_seeds(base, first, count, swarm, jobs, &bar);
    t.options = serde_json::json!({ "config": base, "swarm": swarm }).to_string();
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "explore: {} seeds of {} nodes in {:.1} s on {} threads ({:.0} seeds/s, {:.0} events/s)",
        t.runs,
        base.nodes,
        secs,
        jobs.max(1),
        t.runs as f64 / secs.max(1e-9),
        t.events as f64 / secs.max(1e-9)
    );
    t.print();
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&t).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(t.violations.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_and_split_runs_give_the_serial_summary() {
        let base = SimConfig::default();
        let bar = ProgressBar::hidden();
        let serial = run_seeds(&base, 5, 150, true, 1, &bar);
        assert_eq!(serial.runs, 150);
        assert!(serial.events > 0 && serial.crashes > 0);
        let parallel = run_seeds(&base, 5, 150, true, 2, &bar);
        assert_eq!(parallel, serial);
        // Split by seed range (as across machines), merged in any order.
        let a = run_seeds(&base, 5, 70, true, 1, &bar);
        let b = run_seeds(&base, 75, 80, true, 2, &bar);
        assert_eq!(Totals::merge_all(vec![b.clone(), a.clone()]), Ok(serial));
        assert!(
            Totals::merge_all(vec![a.clone(), a.clone()]).is_err(),
            "overlap"
        );
        let c = run_seeds(&base, 200, 10, true, 1, &bar);
        let e = Totals::merge_all(vec![a.clone(), c]).expect_err("a gap");
        assert!(e.contains("seeds 75..200 are missing"), "{e}");
        // Summaries of other options (here 16 nodes) are refused.
        let mut a3 = a.clone();
        a3.options = "3 nodes".into();
        let mut b16 = b.clone();
        b16.options = "16 nodes".into();
        assert!(Totals::merge_all(vec![a3.clone(), b16]).is_err(), "options");
        let mut b3 = b;
        b3.options = "3 nodes".into();
        assert_eq!(
            Totals::merge_all(vec![b3, a3]).map(|t| (t.runs, t.options)),
            Ok((150, "3 nodes".to_string()))
        );
    }

    #[test]
    fn merge_keeps_seed_order_and_the_first_violation() {
        let mut a = Totals {
            first_seed: 1,
            runs: 10,
            events: 5,
            ..Totals::default()
        };
        a.violations.insert(1, vec![7]);
        a.first_violation = Some((7, "x".into()));
        let mut b = Totals {
            first_seed: 11,
            runs: 10,
            events: 6,
            ..Totals::default()
        };
        b.violations.insert(1, vec![12]);
        b.violations.insert(4, vec![15]);
        b.first_violation = Some((12, "y".into()));
        let m = Totals::merge_all(vec![b, a]).expect("adjacent");
        assert_eq!((m.first_seed, m.runs, m.events), (1, 20, 11));
        assert_eq!(m.violations[&1], vec![7, 12]);
        assert_eq!(m.failed(), 3);
        assert_eq!(m.first_violation, Some((7, "x".into())));
    }
}
