//! Wall-time ratio of each small compared function, Rust / C, measured in finely
//! interleaved blocks: criterion measures one side for a second or more, then the
//! other, and on a shared machine the two seconds can differ by more than the
//! difference being measured. Here each pair is one block of `K` calls of the Rust
//! unit and one of the C unit, back to back (which goes first alternates), a few
//! microseconds apart; the figure per function is the median over many pairs of
//! the pair's ratio, so a preemption or a frequency change spoils a few pairs, not
//! the result. The loops are criterion's (`benches/compare.rs`): one call of the
//! never-inlined unit on the next of 256 pre-built inputs.
//!
//! Usage: `gdlm-nsratio [pairs] [function...]` (default 20000 pairs, every function).

use std::hint::black_box;
use std::time::Instant;

use gdlm_bench::cases::{self, Rng};
use gdlm_bench::*;
use gdlm_core::lvb::ControlLvb;
use gdlm_core::name::LockName;

const N: usize = 256;
const SEED: u64 = 0x6764_6c6d_2d62_656e;
/// Calls per block: a few microseconds, far above the clock's cost.
const K: usize = 1024;

type Block<'a> = Box<dyn FnMut() + 'a>;

fn time(f: &mut Block<'_>) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_nanos() as f64 / K as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(name: &str, pairs: usize, mut rust: Block<'_>, mut c: Block<'_>) {
    // Warm both up.
    for _ in 0..200 {
        rust();
        c();
    }
    let (mut rs, mut cs, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for p in 0..pairs {
        let (r, cc) = if p % 2 == 0 {
            let r = time(&mut rust);
            (r, time(&mut c))
        } else {
            let cc = time(&mut c);
            (time(&mut rust), cc)
        };
        rs.push(r);
        cs.push(cc);
        ratio.push(r / cc);
    }
    let mut q = ratio.clone();
    q.sort_by(f64::total_cmp);
    let pct = |x: f64| q[((q.len() - 1) as f64 * x) as usize];
    println!(
        "{name:<16} {:>8.2} {:>8.2} {:>6.2}  {:.2}-{:.2}",
        median(&mut rs),
        median(&mut cs),
        median(&mut ratio),
        pct(0.25),
        pct(0.75)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pairs, wanted) = match args.first().and_then(|a| a.parse::<usize>().ok()) {
        Some(p) => (p, &args[1..]),
        None => (20_000, &args[..]),
    };
    let want = |f: &str| wanted.is_empty() || wanted.iter().any(|w| w == f);
    let mut rng = Rng::new(SEED);
    println!(
        "{:<16} {:>8} {:>8} {:>6}  ratio IQR   ({pairs} pairs of {K} calls)",
        "function", "rust_ns", "c_ns", "ratio"
    );

    let names = cases::name_cases(&mut rng, N, true);
    let rn: Vec<_> = names.iter().map(|c| c.rust()).collect();
    let cn: Vec<_> = names.iter().map(|c| c.c()).collect();
    if want("lock_name") {
        let mut out = LockName::default().encode();
        let mut cout = [0u8; 25];
        measure(
            "lock_name",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    rs_lock_name(black_box(&rn[i % N]), black_box(&mut out));
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    c_lock_name(black_box(&cn[i % N]), black_box(&mut cout));
                }
            }),
        );
    }
    if want("lock_name_value") {
        let mut cout = [0u8; 25];
        measure(
            "lock_name_value",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    let name = rs_lock_name_value(black_box(&rn[i % N]));
                    black_box(&name);
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    c_lock_name(black_box(&cn[i % N]), black_box(&mut cout));
                }
            }),
        );
    }
    if want("make_flags") {
        let cs = cases::flags_cases(&mut rng, N, true);
        let rv: Vec<_> = cs.iter().map(|c| c.rust()).collect();
        let cv: Vec<_> = cs.iter().map(|c| c.c()).collect();
        let gls = ffi::Glocks::new(cv.iter().map(|c| c.0).collect());
        measure(
            "make_flags",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    let (f, m, ctx) = &rv[i % N];
                    black_box(
                        rs_make_flags(black_box(*f), black_box(*m), black_box(ctx))
                            .map_or(0, |l| l.bits()),
                    );
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    let (_, f, req) = cv[i % N];
                    black_box(
                        c_make_flags(black_box(gls.get(i % N)), black_box(f), black_box(req))
                            .unwrap_or(0),
                    );
                }
            }),
        );
    }
    if want("gdlm_ast") {
        let cs = cases::ast_cases(&mut rng, N, true);
        let mut rv: Vec<_> = cs.iter().map(|c| c.rust()).collect();
        let mut gls = ffi::Glocks::new(cs.iter().map(|c| c.c()).collect());
        measure(
            "gdlm_ast",
            pairs,
            Box::new(move || {
                for i in 0..K {
                    let _ = black_box(rs_gdlm_ast(black_box(&mut rv[i % N])));
                }
            }),
            Box::new(move || {
                for i in 0..K {
                    black_box(c_gdlm_ast_on(black_box(gls.at(i % N))));
                }
            }),
        );
    }
    if want("update_stats") {
        let cs = cases::stats_cases(&mut rng, N, true);
        let rv: Vec<_> = cs.iter().map(|c| c.rust()).collect();
        let cv: Vec<_> = cs.iter().map(|c| c.c()).collect();
        let (mut rst, mut cst) = (rv[0].0, cv[0].0);
        measure(
            "update_stats",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    let (_, pair, sample) = *black_box(&rv[i % N]);
                    rs_update_stats(black_box(&mut rst), pair, sample);
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    let (_, index, sample) = *black_box(&cv[i % N]);
                    c_update_stats(black_box(&mut cst), index, sample);
                }
            }),
        );
    }
    let lvbs = cases::lvb_cases(&mut rng, N);
    // Inputs and outputs each on its own cache line, on both sides (`Line`).
    let raw: Vec<Line<[u8; 32]>> = lvbs.iter().map(|c| Line(c.bytes)).collect();
    let cls: Vec<_> = lvbs
        .iter()
        .map(|c| {
            Line(ffi::RefLvbLs {
                ls_control_lvb: c.bytes,
            })
        })
        .collect();
    let gens: Vec<u32> = lvbs.iter().map(|c| c.gen).collect();
    if want("lvb_read") {
        let mut rbits = Line(ControlLvb::zeroed());
        let mut cbits = Line([0u8; 32]);
        measure(
            "lvb_read",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    black_box(rs_lvb_read(
                        black_box(&raw[i % N].0),
                        black_box(&mut rbits.0),
                    ));
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    black_box(c_lvb_read(
                        black_box(&cls[i % N].0),
                        black_box(&mut cbits.0),
                    ));
                }
            }),
        );
    }
    if want("lvb_read_slice") {
        let mut rbits = Line(ControlLvb::zeroed());
        let mut cbits = Line([0u8; 32]);
        measure(
            "lvb_read_slice",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    black_box(
                        rs_lvb_read_slice(black_box(&raw[i % N].0[..]), black_box(&mut rbits.0))
                            .unwrap_or(0),
                    );
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    black_box(c_lvb_read(
                        black_box(&cls[i % N].0),
                        black_box(&mut cbits.0),
                    ));
                }
            }),
        );
    }
    if want("lvb_read_checked") {
        let mut rbits = Line(ControlLvb::zeroed());
        let mut cbits = Line([0u8; 32]);
        measure(
            "lvb_read_checked",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    black_box(
                        rs_lvb_read_slice(black_box(&raw[i % N].0[..]), black_box(&mut rbits.0))
                            .unwrap_or(0),
                    );
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    black_box(
                        c_lvb_read_checked(black_box(&raw[i % N].0[..]), black_box(&mut cbits.0))
                            .unwrap_or(0),
                    );
                }
            }),
        );
    }
    if want("lvb_write") {
        let rbits: Vec<_> = raw
            .iter()
            .map(|b| Line(ControlLvb::from_array(b.0)))
            .collect();
        let mut rdst = Line(ControlLvb::zeroed());
        let mut cdst = Line(ffi::RefLvbLs::default());
        measure(
            "lvb_write",
            pairs,
            Box::new(|| {
                for i in 0..K {
                    rs_lvb_write(
                        black_box(&mut rdst.0),
                        black_box(gens[i % N]),
                        black_box(&rbits[i % N].0),
                    );
                }
            }),
            Box::new(|| {
                for i in 0..K {
                    c_lvb_write(
                        black_box(&mut cdst.0),
                        black_box(gens[i % N]),
                        black_box(&raw[i % N].0),
                    );
                }
            }),
        );
    }
    if want("engine_cycle") {
        // One recovery cycle per call on each side (it leaves the node as it found
        // it, so the calls repeat); ~100 ns a call, so a tenth of the pairs.
        let mut m = engine_bench::Mounted::new();
        let mut c = ffi::Cycle::new();
        measure(
            "engine_cycle",
            pairs.div_ceil(10),
            Box::new(|| {
                for _ in 0..K {
                    black_box(engine_bench::rs_engine_cycle(black_box(&mut m)));
                }
            }),
            Box::new(|| {
                for _ in 0..K {
                    black_box(black_box(&mut c).cycle());
                }
            }),
        );
    }
}
