//! Run one compared function N times on one side, for `valgrind --tool=callgrind`
//! with `--toggle-collect=<rs_* or ref_*>` (see `callgrind.sh`): only the measured
//! unit is counted, so Ir / N is the cost of one call.
//!
//! Usage: `gdlm-callgrind <function> <rust|c> <iterations>`; prints the measured
//! unit's symbol on stdout. Functions: lock_name make_flags gdlm_ast update_stats
//! lock_name_value lvb_read lvb_read_slice lvb_read_checked lvb_write control_step
//! engine_cycle.

use std::hint::black_box;
use std::process::ExitCode;

use gdlm_bench::cases::{self, Rng};
use gdlm_bench::*;
use gdlm_core::lvb::ControlLvb;
use gdlm_core::name::LockName;

const N: usize = 256;
const SEED: u64 = 0x6764_6c6d_2d62_656e;

/// The functions, with their Rust and C symbols.
const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("lock_name", "rs_lock_name", "ref_lock_name"),
    ("lock_name_value", "rs_lock_name_value", "ref_lock_name"),
    ("make_flags", "rs_make_flags", "ref_make_flags"),
    ("gdlm_ast", "rs_gdlm_ast", "ref_gdlm_ast"),
    ("update_stats", "rs_update_stats", "ref_update_stats"),
    ("lvb_read", "rs_lvb_read", "ref_control_lvb_read"),
    (
        "lvb_read_slice",
        "rs_lvb_read_slice",
        "ref_control_lvb_read",
    ),
    // The same Rust slice path beside a C that makes the same length check.
    (
        "lvb_read_checked",
        "rs_lvb_read_slice",
        "ref_control_lvb_read_checked",
    ),
    ("lvb_write", "rs_lvb_write", "ref_control_lvb_write"),
    ("control_step", "rs_control_step", "ref_control_step"),
    // The engine's whole recovery cycle (callbacks, control work, EX+LVB, NL, unblock)
    // beside the same cycle in the C (gdlm_recover_prep/done, gfs2_control_func with
    // its two control_lock calls), both over a one-node DLM stand-in.
    ("engine_cycle", "rs_engine_cycle", "ref_engine_cycle"),
];

fn run(func: &str, rust: bool, iters: usize) -> bool {
    let mut rng = Rng::new(SEED);
    match func {
        "lock_name" | "lock_name_value" => {
            let cs = cases::name_cases(&mut rng, N, true);
            if rust && func == "lock_name_value" {
                let v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                for i in 0..iters {
                    black_box(rs_lock_name_value(black_box(&v[i % N])));
                }
            } else if rust {
                let v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                let mut out = LockName::default().encode();
                for i in 0..iters {
                    rs_lock_name(black_box(&v[i % N]), black_box(&mut out));
                }
                black_box(out);
            } else {
                let v: Vec<_> = cs.iter().map(|c| c.c()).collect();
                let mut out = [0u8; 25];
                for i in 0..iters {
                    c_lock_name(black_box(&v[i % N]), black_box(&mut out));
                }
                black_box(out);
            }
        }
        "make_flags" => {
            let cs = cases::flags_cases(&mut rng, N, true);
            if rust {
                let v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                for i in 0..iters {
                    let (f, m, ctx) = &v[i % N];
                    let _ = black_box(rs_make_flags(black_box(*f), black_box(*m), black_box(ctx)));
                }
            } else {
                let v: Vec<_> = cs.iter().map(|c| c.c()).collect();
                let gls = ffi::Glocks::new(v.iter().map(|c| c.0).collect());
                for i in 0..iters {
                    let (_, f, req) = v[i % N];
                    let _ = black_box(c_make_flags(
                        black_box(gls.get(i % N)),
                        black_box(f),
                        black_box(req),
                    ));
                }
            }
        }
        "gdlm_ast" => {
            let cs = cases::ast_cases(&mut rng, N, true);
            if rust {
                let mut v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                for i in 0..iters {
                    let _ = black_box(rs_gdlm_ast(black_box(&mut v[i % N])));
                }
            } else {
                let mut gls = ffi::Glocks::new(cs.iter().map(|c| c.c()).collect());
                for i in 0..iters {
                    black_box(c_gdlm_ast(black_box(&mut gls), black_box(i % N)));
                }
            }
        }
        "update_stats" => {
            let cs = cases::stats_cases(&mut rng, N, true);
            if rust {
                let v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                let mut s = v[0].0;
                for i in 0..iters {
                    let (_, pair, sample) = v[i % N];
                    rs_update_stats(black_box(&mut s), black_box(pair), black_box(sample));
                }
                black_box(s);
            } else {
                let v: Vec<_> = cs.iter().map(|c| c.c()).collect();
                let mut s = v[0].0;
                for i in 0..iters {
                    let (_, index, sample) = v[i % N];
                    c_update_stats(black_box(&mut s), black_box(index), black_box(sample));
                }
                black_box(s);
            }
        }
        "lvb_read" | "lvb_read_slice" | "lvb_read_checked" => {
            let cs = cases::lvb_cases(&mut rng, N);
            if !rust && func == "lvb_read_checked" {
                let mut bits = [0u8; 32];
                for i in 0..iters {
                    let _ = black_box(c_lvb_read_checked(
                        black_box(&cs[i % N].bytes[..]),
                        black_box(&mut bits),
                    ));
                }
            } else if rust && func == "lvb_read" {
                let mut bits = ControlLvb::zeroed();
                for i in 0..iters {
                    black_box(rs_lvb_read(
                        black_box(&cs[i % N].bytes),
                        black_box(&mut bits),
                    ));
                }
            } else if rust {
                let mut bits = ControlLvb::zeroed();
                for i in 0..iters {
                    let _ = black_box(rs_lvb_read_slice(
                        black_box(&cs[i % N].bytes[..]),
                        black_box(&mut bits),
                    ));
                }
            } else {
                let ls: Vec<_> = cs
                    .iter()
                    .map(|c| ffi::RefLvbLs {
                        ls_control_lvb: c.bytes,
                    })
                    .collect();
                let mut bits = [0u8; 32];
                for i in 0..iters {
                    black_box(c_lvb_read(black_box(&ls[i % N]), black_box(&mut bits)));
                }
            }
        }
        "lvb_write" => {
            let cs = cases::lvb_cases(&mut rng, N);
            if rust {
                let bits: Vec<_> = cs.iter().map(|c| ControlLvb::from_array(c.bytes)).collect();
                let mut dst = ControlLvb::zeroed();
                for i in 0..iters {
                    rs_lvb_write(
                        black_box(&mut dst),
                        black_box(cs[i % N].gen),
                        black_box(&bits[i % N]),
                    );
                }
                black_box(dst);
            } else {
                let mut dst = ffi::RefLvbLs::default();
                for i in 0..iters {
                    c_lvb_write(
                        black_box(&mut dst),
                        black_box(cs[i % N].gen),
                        black_box(&cs[i % N].bytes),
                    );
                }
                black_box(dst);
            }
        }
        "control_step" => {
            let cs = cases::control_cases(&mut rng, 64, true);
            let n = cs.len();
            if rust {
                let v: Vec<_> = cs.iter().map(|c| c.rust()).collect();
                for i in 0..iters {
                    let mut s = v[i % n].clone();
                    black_box(rs_control_step(
                        black_box(&mut s),
                        black_box(&cs[i % n].ticket),
                    ));
                    black_box(&s);
                }
            } else {
                let v: Vec<_> = cs.iter().map(|c| c.c()).collect();
                let mut out = ffi::RefControlOut::default();
                for i in 0..iters {
                    let mut ls = v[i % n];
                    c_control_step(
                        black_box(&mut ls),
                        black_box(&cs[i % n].ticket),
                        black_box(&mut out),
                    );
                    black_box(&ls);
                }
            }
        }
        "engine_cycle" => {
            if rust {
                let mut m = gdlm_bench::engine_bench::Mounted::new();
                assert!(m.ok(), "the bench node mounts");
                for _ in 0..iters {
                    black_box(gdlm_bench::engine_bench::rs_engine_cycle(black_box(&mut m)));
                }
                assert!(m.ok(), "and is unblocked after every cycle");
            } else {
                let mut c = ffi::Cycle::new();
                for _ in 0..iters {
                    black_box(black_box(&mut c).cycle());
                }
                assert_eq!(c.cycle() as usize, iters + 1, "every C cycle unblocks");
            }
        }
        _ => return false,
    }
    true
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = || {
        eprintln!("usage: gdlm-callgrind <function> <rust|c> <iterations>");
        eprintln!("       gdlm-callgrind --list   (function rust_symbol c_symbol)");
        ExitCode::from(2)
    };
    if args.get(1).map(String::as_str) == Some("--list") {
        for (f, r, c) in FUNCTIONS {
            println!("{f} {r} {c}");
        }
        return ExitCode::SUCCESS;
    }
    let (Some(func), Some(side), Some(iters)) = (args.get(1), args.get(2), args.get(3)) else {
        return usage();
    };
    let rust = match side.as_str() {
        "rust" => true,
        "c" => false,
        _ => return usage(),
    };
    let Ok(iters) = iters.parse::<usize>() else {
        return usage();
    };
    if !run(func, rust, iters) {
        return usage();
    }
    ExitCode::SUCCESS
}
