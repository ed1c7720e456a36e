//! The time model's liveness bound against what swarm runs need to settle.

use gdlm_sim::explore::seed_config;
use gdlm_sim::sim::{run_seed, Sim, SimConfig};

#[test]
fn swarm_runs_settle_well_within_the_liveness_bound() {
    for profile in [gdlm_core::Profile::Reference, gdlm_core::Profile::Linux72] {
        let base = SimConfig {
            profile,
            ..SimConfig::default()
        };
        let bound = Sim::new(base.clone()).liveness_bound_ms();
        let mut worst = (0, 0);
        for seed in 1..=300 {
            let out = run_seed(&seed_config(&base, seed, true), seed);
            assert!(out.violation.is_none(), "seed {seed}: {:?}", out.violation);
            worst = worst.max((out.stats.settle_ms, seed));
        }
        println!(
            "{profile:?}: worst settle {} ms (seed {}), bound {bound} ms",
            worst.0, worst.1
        );
        // A stuck cluster is told from a slow one: the slowest settle is under half the
        // bound, and the bound is not so loose that a failure shows minutes later.
        assert!(worst.0 > 0 && worst.0 * 2 < bound, "{worst:?} vs {bound}");
        assert!(bound < 120_000, "{bound}");
    }
}
