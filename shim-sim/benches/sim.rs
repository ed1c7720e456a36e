//! Simulator throughput: events per second and seeds per second by cluster size, and
//! states per second of the exhaustive check.
//!
//! `cargo bench -p gdlm-sim`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gdlm_sim::exhaustive::{check, CheckConfig};
use gdlm_sim::explore::seed_config;
use gdlm_sim::sim::{run_seed, SimConfig};
use std::hint::black_box;
use std::time::Duration;

fn events(c: &mut Criterion) {
    let mut g = c.benchmark_group("events");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for nodes in [3u32, 16, 64, 192] {
        let cfg = SimConfig {
            nodes,
            ..SimConfig::default()
        };
        let n = run_seed(&cfg, 1).stats.events;
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::from_parameter(nodes), &cfg, |b, cfg| {
            b.iter(|| black_box(run_seed(cfg, 1)))
        });
    }
    g.finish();
}

fn seeds(c: &mut Criterion) {
    let mut g = c.benchmark_group("seeds");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for nodes in [3u32, 16] {
        let base = SimConfig {
            nodes,
            ..SimConfig::default()
        };
        const BATCH: u64 = 20;
        g.throughput(Throughput::Elements(BATCH));
        g.bench_with_input(BenchmarkId::from_parameter(nodes), &base, |b, base| {
            b.iter(|| {
                for seed in 1..=BATCH {
                    black_box(run_seed(&seed_config(base, seed, true), seed));
                }
            })
        });
    }
    g.finish();
}

fn exhaustive(c: &mut Criterion) {
    let mut g = c.benchmark_group("exhaustive");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let cfg = CheckConfig {
        depth: 300,
        max_states: 20_000,
        ..CheckConfig::new(3, 1)
    };
    let states = check(&cfg).map(|r| r.states).unwrap_or(1);
    g.throughput(Throughput::Elements(states));
    g.bench_function("3 nodes, 1 crash, 20k states", |b| {
        b.iter(|| black_box(check(&cfg)))
    });
    g.finish();
}

criterion_group!(benches, events, seeds, exhaustive);
criterion_main!(benches);
