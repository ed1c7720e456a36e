//! The benchmark is only fair if both sides compute the same thing: check gdlm-core
//! against the C transcription on generated inputs, for every compared function,
//! on both the benchmark mix (`realistic`) and edge-heavy inputs. Each test also
//! checks that its inputs reach the interesting paths, so a generator that
//! degenerated (e.g. to all-BUG or all-equal cases) fails instead of passing
//! vacuously.

use std::collections::BTreeSet;
use std::fmt::Debug;

use gdlm_bench::cases::{self, Rng};
use gdlm_bench::ffi;
use gdlm_bench::outcome::{self, AstResult};
use gdlm_core::lvb::LvbError;

const CASES: usize = 600;

fn check<C: Debug, O: PartialEq + Debug>(
    what: &str,
    cases: &[C],
    rust: impl Fn(&C) -> O,
    c: impl Fn(&C) -> O,
) -> Vec<O> {
    let mut outs = Vec::with_capacity(cases.len());
    let mut bad = 0;
    for case in cases {
        let (r, k) = (rust(case), c(case));
        if r != k {
            if bad < 5 {
                eprintln!("{what}: {case:?}\n  rust: {r:?}\n  c:    {k:?}");
            }
            bad += 1;
        }
        outs.push(r);
    }
    assert_eq!(bad, 0, "{what}: {bad} of {} cases differ", cases.len());
    outs
}

fn both<C>(gen: impl Fn(&mut Rng, usize, bool) -> Vec<C>, seed: u64) -> Vec<C> {
    let mut rng = Rng::new(seed);
    let mut v = gen(&mut rng, CASES / 2, true);
    v.extend(gen(&mut rng, CASES, false));
    v
}

#[test]
fn lock_name() {
    let cs = both(cases::name_cases, 1);
    let outs = check("lock_name", &cs, outcome::name_rust, outcome::name_c);
    check(
        "lock_name_value",
        &cs,
        outcome::name_value_rust,
        outcome::name_c,
    );
    let distinct: BTreeSet<_> = outs.iter().collect();
    assert!(distinct.len() > CASES, "names should mostly differ");
    assert!(outs.iter().any(|o| &o[..] == b"       0               0\0"));
    assert!(outs.iter().any(|o| &o[8..24] == b"ffffffffffffffff"));
}

#[test]
fn make_flags() {
    let cs = both(cases::flags_cases, 2);
    let outs = check("make_flags", &cs, outcome::flags_rust, outcome::flags_c);
    assert!(outs.contains(&Err(ffi::REF_BUG_ANY)), "BUG path reached");
    let lkfs: BTreeSet<_> = outs.iter().filter_map(|o| o.ok()).collect();
    assert!(lkfs.len() > 20, "flag combinations: {}", lkfs.len());
}

#[test]
fn gdlm_ast() {
    let cs = both(cases::ast_cases, 3);
    let outs = check("gdlm_ast", &cs, outcome::ast_rust, outcome::ast_c);
    for bug in [
        ffi::REF_BUG_DEMOTED,
        ffi::REF_BUG_STATUS,
        ffi::REF_BUG_ALTMODE,
    ] {
        assert!(outs.contains(&AstResult::Bug(bug)), "bug {bug} reached");
    }
    let done = |f: &dyn Fn(&AstResult) -> bool| outs.iter().filter(|o| f(o)).count();
    assert!(
        done(&|o| matches!(o, AstResult::Done { action, .. } if *action == ffi::REF_AST_FREE)) > 0
    );
    assert!(done(&|o| matches!(o, AstResult::Done { lvb, .. } if *lvb == [0; 32])) > 0);
    assert!(
        done(
            &|o| matches!(o, AstResult::Done { lkid: 0, action, .. } if *action == ffi::REF_AST_COMPLETE)
        ) > 0
    );
    assert!(done(&|o| matches!(o, AstResult::Done { ret, .. } if *ret & 0x0c != 0)) > 0);
}

#[test]
fn update_stats() {
    let cs = both(cases::stats_cases, 4);
    check("update_stats", &cs, outcome::stats_rust, outcome::stats_c);
    // A stream of updates on one array, as the benchmark runs it.
    let (mut r, _, _) = cs[0].rust();
    let (mut c, _, _) = cs[0].c();
    for case in &cs {
        let (_, pair, sample) = case.rust();
        gdlm_bench::rs_update_stats(&mut r, pair, sample);
        gdlm_bench::c_update_stats(&mut c, case.index, case.sample);
        assert_eq!(r.stats, c.stats, "after {case:?}");
    }
}

#[test]
fn lvb_read_write() {
    let cs = both(|rng, n, _| cases::lvb_cases(rng, n), 5);
    check("lvb_read", &cs, outcome::lvb_read_rust, outcome::lvb_read_c);
    check(
        "lvb_read_slice",
        &cs,
        |c| outcome::lvb_read_slice_rust(&c.bytes),
        |c| Ok(outcome::lvb_read_c(c)),
    );
    check(
        "lvb_write",
        &cs,
        outcome::lvb_write_rust,
        outcome::lvb_write_c,
    );
}

#[test]
fn lvb_read_checked_matches_the_c_on_every_length() {
    let cs = both(|rng, n, _| cases::lvb_cases(rng, n), 7);
    check(
        "lvb_read_checked",
        &cs,
        |c| outcome::lvb_read_checked_rust(&c.bytes),
        |c| outcome::lvb_read_checked_c(&c.bytes),
    );
    let raw: [u8; 64] = core::array::from_fn(|i| i as u8 ^ 0x3c);
    for len in 0..64 {
        let r = outcome::lvb_read_checked_rust(&raw[..len]);
        assert_eq!(r, outcome::lvb_read_checked_c(&raw[..len]), "{len} bytes");
        assert_eq!(r.0.is_ok(), len == 32, "{len} bytes");
    }
}

#[test]
fn lvb_read_slice_refuses_other_lengths() {
    let raw = [0x5au8; 64];
    for len in (0..64).filter(|&l| l != 32) {
        assert_eq!(
            outcome::lvb_read_slice_rust(&raw[..len]),
            Err(LvbError::WrongLength { len }),
            "{len} bytes"
        );
    }
    assert!(outcome::lvb_read_slice_rust(&raw[..32]).is_ok());
}

#[test]
fn control_step() {
    let cs = both(cases::control_cases, 6);
    let outs = check(
        "control_step",
        &cs,
        outcome::control_rust,
        outcome::control_c,
    );
    let exits: BTreeSet<_> = outs.iter().map(|o| o.exit).collect();
    for e in [
        ffi::REF_CONTROL_BLOCK1,
        ffi::REF_CONTROL_RECOVER_SET,
        ffi::REF_CONTROL_DONE,
    ] {
        assert!(exits.contains(&e), "exit {e} reached: {exits:?}");
    }
    // The three lvb_gen branches, with and without an LVB write.
    let mut branches = BTreeSet::new();
    for (case, o) in cs.iter().zip(&outs) {
        if let Some(g) = o.lvb_gen {
            branches.insert((g.cmp(&case.ticket.start_gen), o.write_lvb));
        }
    }
    assert!(branches.len() >= 4, "lvb_gen branches: {branches:?}");
    assert!(outs.iter().any(|o| o.recover.len() > 3));
}

/// The two engine cycles do the same work: each one unblocks locking again (the C
/// counts its thaws, the Rust engine reports `Unblocked` and is accessing), and each
/// Rust cycle executes the same four actions (EX, NL, the "recover generation N done"
/// line, Unblocked; the debug line `ControlLocked` only with `Config::debug_logs`).
#[test]
fn engine_cycle_unblocks_on_both_sides() {
    let mut c = ffi::Cycle::new();
    let mut m = gdlm_bench::engine_bench::Mounted::new();
    assert!(m.ok());
    for i in 1..=40u32 {
        assert_eq!(c.cycle(), i, "C cycle {i} thaws");
        assert_eq!(
            gdlm_bench::engine_bench::rs_engine_cycle(&mut m),
            4,
            "Rust cycle {i}"
        );
        assert!(m.ok(), "Rust cycle {i} unblocks");
    }
}
