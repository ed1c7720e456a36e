//! gdlm-core against the C transcription of the reference, one group per function,
//! `rust` and `c` over the same inputs in the same run.
//!
//! Each iteration is one call of the measured unit (`rs_*` / `ref_*`, never
//! inlined), on the next of 256 pre-built inputs (prepared outside the timing, in
//! each side's own types). The control step mutates its state, so each call gets a
//! fresh copy of its template through `iter_batched_ref` (the copy is not timed).
//! A `Result` is consumed as a caller would (matched to a scalar) on both sides,
//! not handed whole to `black_box`, which would reload it in one wide load.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gdlm_bench::cases::{self, Rng};
use gdlm_bench::*;
use gdlm_core::lvb::ControlLvb;
use gdlm_core::name::LockName;

/// Measure both sides of a group, in the order `GDLM_BENCH_ORDER` asks for (`c` puts
/// the C first; anything else, or unset, the Rust first): on a shared machine the
/// second measurement of a pair can run in a different state (frequency, the other
/// jobs), so `bench/criterion-compare.sh` alternates the order between runs.
fn both<M: criterion::measurement::Measurement>(
    g: &mut criterion::BenchmarkGroup<'_, M>,
    mut rust: impl FnMut(&mut criterion::Bencher<'_, M>),
    mut c: impl FnMut(&mut criterion::Bencher<'_, M>),
) {
    if std::env::var("GDLM_BENCH_ORDER").is_ok_and(|o| o == "c") {
        g.bench_function("c", &mut c);
        g.bench_function("rust", &mut rust);
    } else {
        g.bench_function("rust", &mut rust);
        g.bench_function("c", &mut c);
    }
}

const N: usize = 256;
const SEED: u64 = 0x6764_6c6d_2d62_656e;

fn lock_name(c: &mut Criterion) {
    let cs = cases::name_cases(&mut Rng::new(SEED), N, true);
    let rs: Vec<_> = cs.iter().map(|c| c.rust()).collect();
    let cc: Vec<_> = cs.iter().map(|c| c.c()).collect();
    let mut out = LockName::default().encode();
    let mut g = c.benchmark_group("lock_name");
    let mut cout = [0u8; 25];
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                rs_lock_name(black_box(&rs[i]), black_box(&mut out))
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_lock_name(black_box(&cc[j]), black_box(&mut cout))
            })
        },
    );
    g.finish();
    // The by-value API (`encode`), against the same C.
    let mut g = c.benchmark_group("lock_name_value");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                // Kept where it was returned and handed on by reference, as a caller
                // passes it to `dlm_lock` (and as the C's `strname` stays in its
                // buffer): criterion's `black_box` of the value would move it with a
                // 16-byte load right after the two 8-byte stores that wrote it, which
                // x86 cannot forward (a ~10-cycle stall that belongs to the move).
                let name = rs_lock_name_value(black_box(&rs[i]));
                black_box(&name);
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_lock_name(black_box(&cc[j]), black_box(&mut cout))
            })
        },
    );
    g.finish();
}

fn make_flags(c: &mut Criterion) {
    let cs = cases::flags_cases(&mut Rng::new(SEED), N, true);
    let rs: Vec<_> = cs.iter().map(|c| c.rust()).collect();
    let cv: Vec<_> = cs.iter().map(|c| c.c()).collect();
    let gls = ffi::Glocks::new(cv.iter().map(|c| c.0).collect());
    let args: Vec<_> = cv.iter().map(|c| (c.1, c.2)).collect();
    let mut g = c.benchmark_group("make_flags");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                let (f, m, ctx) = &rs[i];
                rs_make_flags(black_box(*f), black_box(*m), black_box(ctx)).map_or(0, |l| l.bits())
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                let (f, req) = args[j];
                c_make_flags(black_box(gls.get(j)), black_box(f), black_box(req)).unwrap_or(0)
            })
        },
    );
    g.finish();
}

fn gdlm_ast(c: &mut Criterion) {
    // The glocks are updated in place; the path taken depends only on status,
    // flags, gl_req and the LVB pointer, which the AST never changes, so both
    // sides keep walking the same mix of paths. Each side's unit gets a pointer to
    // the glock (the C's was once the vector and an index, both through
    // `black_box`: two stack round trips and a bounds check on a reloaded length
    // per call that the Rust side did not pay).
    let cs = cases::ast_cases(&mut Rng::new(SEED), N, true);
    let mut rs: Vec<_> = cs.iter().map(|c| c.rust()).collect();
    let mut gls = ffi::Glocks::new(cs.iter().map(|c| c.c()).collect());
    let mut g = c.benchmark_group("gdlm_ast");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                rs_gdlm_ast(black_box(&mut rs[i]))
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_gdlm_ast_on(black_box(gls.at(j)))
            })
        },
    );
    g.finish();
}

fn update_stats(c: &mut Criterion) {
    // One glock's stats, fed a stream of samples on the three pairs. The pair (index)
    // and sample are read from the case through an opaque reference, not passed
    // through `black_box` by value: by value the Rust side's one-byte `StatPair`
    // round-trips through the stack as a byte store and reload, which on the Zen 3
    // this was measured on cost it ~0.25 ns (8%) a call more than the C's four-byte
    // index took (gdlm-nsratio, before and after): a harness cost, not the function's.
    let cs = cases::stats_cases(&mut Rng::new(SEED), N, true);
    let rs: Vec<_> = cs.iter().map(|c| c.rust()).collect();
    let cc: Vec<_> = cs.iter().map(|c| c.c()).collect();
    let mut rstats = rs[0].0;
    let mut cstats = cc[0].0;
    let mut g = c.benchmark_group("update_stats");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                let (_, pair, sample) = *black_box(&rs[i]);
                rs_update_stats(black_box(&mut rstats), pair, sample)
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                let (_, index, sample) = *black_box(&cc[j]);
                c_update_stats(black_box(&mut cstats), index, sample)
            })
        },
    );
    g.finish();
}

// The LVB groups keep both sides' inputs and outputs each on its own cache line
// (`Line`): the outputs were stack locals and the C's write inputs 36-byte
// `LvbCase`s against the Rust's 32-byte array, so one side's 16-byte loads and
// stores could split lines where the other's did not (`lvb_write` measured
// anywhere from 0.8 to 2.1 between runs).
fn lvb_read(c: &mut Criterion) {
    let cs = cases::lvb_cases(&mut Rng::new(SEED), N);
    let raw: Vec<Line<[u8; 32]>> = cs.iter().map(|c| Line(c.bytes)).collect();
    let cls: Vec<_> = cs
        .iter()
        .map(|c| {
            Line(ffi::RefLvbLs {
                ls_control_lvb: c.bytes,
            })
        })
        .collect();
    let mut rbits = Line(ControlLvb::zeroed());
    let mut cbits = Line([0u8; 32]);
    let mut g = c.benchmark_group("lvb_read");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                rs_lvb_read(black_box(&raw[i].0), black_box(&mut rbits.0))
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_lvb_read(black_box(&cls[j].0), black_box(&mut cbits.0))
            })
        },
    );
    g.finish();
    // The slice path (bytes of unchecked length) against the same C, which checks nothing.
    let mut g = c.benchmark_group("lvb_read_slice");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                rs_lvb_read_slice(black_box(&raw[i].0[..]), black_box(&mut rbits.0)).unwrap_or(0)
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_lvb_read(black_box(&cls[j].0), black_box(&mut cbits.0))
            })
        },
    );
    g.finish();
}

fn lvb_write(c: &mut Criterion) {
    let cs = cases::lvb_cases(&mut Rng::new(SEED), N);
    let gens: Vec<u32> = cs.iter().map(|c| c.gen).collect();
    let rbits: Vec<_> = cs
        .iter()
        .map(|c| Line(ControlLvb::from_array(c.bytes)))
        .collect();
    let cbits: Vec<_> = cs.iter().map(|c| Line(c.bytes)).collect();
    let mut rdst = Line(ControlLvb::zeroed());
    let mut cdst = Line(ffi::RefLvbLs::default());
    let mut g = c.benchmark_group("lvb_write");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter(|| {
                i = (i + 1) % N;
                rs_lvb_write(
                    black_box(&mut rdst.0),
                    black_box(gens[i]),
                    black_box(&rbits[i].0),
                )
            })
        },
        |b| {
            b.iter(|| {
                j = (j + 1) % N;
                c_lvb_write(
                    black_box(&mut cdst.0),
                    black_box(gens[j]),
                    black_box(&cbits[j].0),
                )
            })
        },
    );
    g.finish();
}

fn control_step(c: &mut Criterion) {
    let cs = cases::control_cases(&mut Rng::new(SEED), 64, true);
    let rs: Vec<_> = cs.iter().map(|c| (c.rust(), c.ticket)).collect();
    let cc: Vec<_> = cs.iter().map(|c| (c.c(), c.ticket)).collect();
    let n = cs.len();
    let mut g = c.benchmark_group("control_step");
    let (mut i, mut j) = (0, 0);
    both(
        &mut g,
        |b| {
            b.iter_batched_ref(
                || {
                    i = (i + 1) % n;
                    rs[i].clone()
                },
                |(s, t)| {
                    black_box(rs_control_step(black_box(s), black_box(t)));
                },
                BatchSize::SmallInput,
            )
        },
        |b| {
            b.iter_batched_ref(
                || {
                    j = (j + 1) % n;
                    (cc[j].0, cc[j].1, ffi::RefControlOut::default())
                },
                |(ls, t, out)| {
                    c_control_step(black_box(ls), black_box(t), black_box(out));
                },
                BatchSize::SmallInput,
            )
        },
    );
    g.finish();
}

fn engine_cycle(c: &mut Criterion) {
    // The engine's whole recovery cycle (prep, done, control work, control_lock EX
    // with its LVB and the NL conversion, unblocked) against the same cycle in the C,
    // both over a one-node DLM stand-in that answers at once.
    let mut m = gdlm_bench::engine_bench::Mounted::new();
    assert!(m.ok(), "the bench node mounts");
    let mut cc = ffi::Cycle::new();
    let mut g = c.benchmark_group("engine_cycle");
    both(
        &mut g,
        |b| b.iter(|| gdlm_bench::engine_bench::rs_engine_cycle(black_box(&mut m))),
        |b| b.iter(|| black_box(&mut cc).cycle()),
    );
    g.finish();
    assert!(m.ok(), "and is unblocked after every cycle");
}

criterion_group!(
    benches,
    lock_name,
    make_flags,
    gdlm_ast,
    update_stats,
    lvb_read,
    lvb_write,
    control_step,
    engine_cycle
);
criterion_main!(benches);
