//! The races the reference's comment block walks through, as named schedules, each run
//! under many seeds (the seed orders every callback, AST and work item), and the
//! injected DLM defects, each shown to be caught by an invariant.

use gdlm_sim::explore::seed_config;
use gdlm_sim::node::Phase;
use gdlm_sim::schedule::{Schedule, Step, Until};
use gdlm_sim::sim::{run_seed, Defects, Outcome, SimConfig};

const SEEDS: u64 = 150;

fn until(node: u32, phase: Phase) -> Step {
    Step::Until(Until {
        node,
        phase,
        limit: 50_000,
    })
}

fn schedule(nodes: u32, steps: Vec<Step>) -> Schedule {
    Schedule {
        nodes,
        seed: 1,
        defects: vec![],
        traffic: false,
        ignore: vec![],
        fixes: vec![],
        cpg: false,
        profile: None,
        node_profiles: Default::default(),
        max_steps: 200_000,
        steps,
    }
}

/// The schedule with recovery callbacks from the DLM (kernel) and, second, from a CPG
/// group through gdlm-core's membership (userspace lockspace, as gdlmd): every race must
/// come out the same either way.
fn both(nodes: u32, steps: Vec<Step>) -> [Schedule; 2] {
    let kernel = schedule(nodes, steps);
    let cpg = Schedule {
        cpg: true,
        ..kernel.clone()
    };
    [kernel, cpg]
}

/// Mount nodes 1..=n one after another (node 1 is the first mounter) and settle.
fn mounted(n: u32) -> Vec<Step> {
    let mut v = vec![Step::Mount(1), until(1, Phase::Mounted)];
    v.extend((2..=n).map(Step::Mount));
    v.push(Step::Settle);
    v
}

/// Run a schedule under SEEDS seeds; every run must be clean. Returns the outcomes.
fn clean_under_seeds(base: &Schedule) -> Vec<Outcome> {
    (1..=SEEDS)
        .map(|seed| {
            let mut s = base.clone();
            s.seed = seed;
            let out = s.run().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            if let Some(v) = &out.violation {
                let tail: Vec<String> = out
                    .trace
                    .iter()
                    .rev()
                    .take(30)
                    .map(|e| format!("{e:?}"))
                    .collect();
                panic!("seed {seed}: {v}\n{}", tail.join("\n"));
            }
            out
        })
        .collect()
}

fn logged(out: &Outcome, node: u32, what: &str) -> bool {
    out.trace
        .iter()
        .any(|e| e.node == node && e.what.contains(what))
}

#[test]
fn mount_during_recovery() {
    let mut steps = mounted(3);
    steps.extend([
        Step::Crash(2),
        Step::Run(3),
        Step::Mount(4),
        until(4, Phase::Mounted),
        Step::Settle,
    ]);
    for sched in both(4, steps) {
        let outs = clean_under_seeds(&sched);
        for o in &outs {
            assert_eq!(
                o.phases,
                [Phase::Mounted, Phase::Dead, Phase::Mounted, Phase::Mounted]
            );
            assert!(o.stats.recoveries <= 1);
        }
        // The journal of node 2 was dirty (it was mounted and writing) in every run.
        assert!(
            outs.iter().all(|o| o.stats.recoveries == 1),
            "node 2's journal replayed each time"
        );
    }
}

#[test]
fn second_failure_while_recovering() {
    let mut steps = mounted(4);
    steps.extend([Step::Crash(1), Step::Run(6), Step::Crash(2), Step::Settle]);
    for sched in both(4, steps) {
        let outs = clean_under_seeds(&sched);
        for o in &outs {
            assert_eq!(
                o.phases,
                [Phase::Dead, Phase::Dead, Phase::Mounted, Phase::Mounted]
            );
            assert_eq!(o.stats.recoveries, 2, "both journals replayed");
        }
    }
}

#[test]
fn jid_reused_by_a_new_mount() {
    let mut steps = mounted(3);
    steps.extend([
        Step::Crash(2),
        Step::Run(2),
        Step::Mount(2),
        until(2, Phase::Mounted),
        Step::Settle,
    ]);
    for sched in both(3, steps) {
        let outs = clean_under_seeds(&sched);
        for o in &outs {
            assert_eq!(o.phases, [Phase::Mounted; 3]);
            // Its slot was the only free one: node 2 gets its jid back (jid 1 under the
            // kernel's slot order; with CPG the group join order picks the first jid).
            let jid_at = |what: &str| {
                o.trace
                    .iter()
                    .filter(|e| e.node == 2 && e.what.starts_with(what))
                    .map(|e| e.what.clone())
                    .next_back()
            };
            let crashed = jid_at("CRASH (jid Some(").expect("node 2 crashed");
            let jid = &crashed["CRASH (jid Some(".len()..crashed.find(')').unwrap()];
            let remounted = jid_at("mounted (first false) jid").expect("node 2 remounted");
            assert_eq!(remounted, format!("mounted (first false) jid Some({jid})"));
            if !sched.cpg {
                assert_eq!(jid, "1");
            }
        }
    }
}

#[test]
fn all_nodes_leave_while_another_mounts() {
    let mut steps = mounted(2);
    steps.extend([
        Step::Mount(3),
        until(3, Phase::Mounting),
        Step::Crash(1),
        Step::Run(1),
        Step::Crash(2),
        until(3, Phase::Mounted),
        Step::Settle,
    ]);
    for sched in both(3, steps) {
        let outs = clean_under_seeds(&sched);
        for o in &outs {
            assert_eq!(o.phases, [Phase::Dead, Phase::Dead, Phase::Mounted]);
            // Node 3 ends up first mounter and recovers both journals itself.
            assert!(
                logged(o, 3, "mounted (first true)"),
                "node 3 became first mounter"
            );
            assert_eq!(o.stats.recoveries, 2);
        }
    }
}

#[test]
fn first_mounter_fails_during_first_recovery() {
    let steps = vec![
        Step::Mount(1),
        until(1, Phase::FirstRecovery),
        Step::Mount(2),
        Step::Run(4),
        Step::Crash(1),
        until(2, Phase::Mounted),
        Step::Settle,
    ];
    for sched in both(3, steps) {
        let outs = clean_under_seeds(&sched);
        for o in &outs {
            assert_eq!(o.phases[..2], [Phase::Dead, Phase::Mounted]);
            assert!(
                logged(o, 2, "mounted (first true)"),
                "node 2 took over as first mounter"
            );
        }
    }
}

#[test]
fn gaveup_then_success() {
    let mut steps = mounted(4);
    steps.extend([Step::Crash(4), Step::Settle]);
    for sched in both(4, steps) {
        let outs = clean_under_seeds(&sched);
        // Survivors race for journal 3: some lose the TRY lock ("busy", GAVEUP, retry after
        // HZ) and still finish.
        let busy = outs
            .iter()
            .filter(|o| o.trace.iter().any(|e| e.what.contains("result busy")))
            .count();
        assert!(busy > 0, "no seed exercised GAVEUP");
        assert!(outs.iter().all(|o| o.stats.recoveries == 1));
    }
}

#[test]
fn same_seed_same_trace() {
    let cfg = SimConfig {
        trace: true,
        ..SimConfig::default()
    };
    let a = run_seed(&cfg, 42);
    let b = run_seed(&cfg, 42);
    assert_eq!(a.trace, b.trace);
    assert!(a.trace.len() > 100);
    let c = run_seed(&cfg, 43);
    assert_ne!(a.trace, c.trace);
}

#[test]
fn swarm_is_clean() {
    let base = SimConfig::default();
    for seed in 1..=300 {
        let out = run_seed(&seed_config(&base, seed, true), seed);
        assert!(out.violation.is_none(), "seed {seed}: {:?}", out.violation);
    }
}

/// The first seed (of `n`) whose run breaks an invariant, with that invariant.
fn first_violation(defects: &[&str], n: u64) -> Option<(u64, u8)> {
    let base = SimConfig {
        defects: Defects::parse(defects).expect("defects"),
        ..SimConfig::default()
    };
    (1..=n).find_map(|seed| {
        run_seed(&seed_config(&base, seed, true), seed)
            .violation
            .map(|v| (seed, v.invariant))
    })
}

#[test]
fn defect_slot_growth_is_caught() {
    // RACES 1: a node in slot 40 fails; the reference grows the arrays by 16 only, drops
    // the failure ("short size"), and the others unblock over its dirty journal.
    let mut steps = mounted(3);
    steps.extend([
        Step::Mount(4),
        until(4, Phase::Mounted),
        Step::Run(5),
        Step::Crash(4),
        Step::Settle,
    ]);
    let mut s = schedule(4, steps);
    s.defects = vec!["slot-growth".into()];
    let out = s.run().expect("schedule");
    let v = out.violation.expect("the dropped failure must be caught");
    assert_eq!(v.invariant, 1, "{v}");
    // The same schedule without the defect is clean.
    s.defects.clear();
    let out = s.run().expect("schedule");
    assert!(out.violation.is_none(), "{:?}", out.violation);
}

#[test]
fn defect_sticky_altmode_is_caught() {
    let (_, inv) = first_violation(&["sticky-altmode"], 100).expect("caught");
    assert_eq!(
        inv, 0,
        "the core refuses ALTMODE on an EX grant (the kernel BUGs)"
    );
}

#[test]
fn defect_stale_lvb_is_caught() {
    let (_, inv) = first_violation(&["stale-lvb"], 50).expect("caught");
    assert_eq!(inv, 5, "mounts wait forever on a stale generation");
}

#[test]
fn defect_lvb_remaster_is_caught() {
    let (_, inv) = first_violation(&["lvb-remaster"], 200).expect("caught");
    assert_eq!(inv, 4);
}

#[test]
fn schedule_json_round_trip() {
    let text = include_str!("../schedules/mount-during-recovery.json");
    let s = Schedule::from_json(text).expect("parses");
    assert_eq!(s.nodes, 4);
    let out = s.run().expect("runs");
    assert!(out.violation.is_none());
    assert!(Schedule::from_json(r#"{"nodes": 2, "steps": [{"explode": 1}]}"#).is_err());
    let bad = Schedule::from_json(r#"{"nodes": 2, "steps": [{"mount": 7}]}"#).expect("parses");
    assert!(bad.run().is_err(), "node 7 does not exist");
}

#[test]
fn shrinking_keeps_the_violation_and_replays_from_json() {
    let base = SimConfig {
        defects: Defects::parse(&["slot-growth"]).expect("defects"),
        ..SimConfig::default()
    };
    let (seed, inv) = (1..=300u64)
        .find_map(|seed| {
            run_seed(&seed_config(&base, seed, true), seed)
                .violation
                .map(|v| (seed, v.invariant))
        })
        .expect("some seed fails with the defect");
    let cfg = seed_config(&base, seed, true);
    let s = gdlm_sim::shrink::shrink(&cfg, seed, &["slot-growth".to_string()], 3000)
        .expect("reproducible")
        .expect("it fails");
    assert_eq!(s.violation.invariant, inv);
    assert!(
        s.schedule.steps.len() < s.original_steps / 2,
        "{} of {}",
        s.schedule.steps.len(),
        s.original_steps
    );
    // The written schedule replays to the same violation.
    let json = serde_json::to_string(&s.schedule).expect("json");
    let back = Schedule::from_json(&json).expect("parses");
    let out = back.run().expect("runs");
    assert_eq!(out.violation.map(|v| v.invariant), Some(inv));
}

#[test]
fn withdraw_is_a_failure_for_the_others() {
    // Linux 7.2: DLM_RELEASE_RECOVER: the withdrawn node's journal is recovered like a
    // crash's, and it can mount again afterwards.
    let mut steps = mounted(3);
    steps.extend([
        Step::Run(10),
        Step::Withdraw(2),
        Step::Run(5),
        Step::Mount(2),
        Step::Settle,
    ]);
    let mut sched = schedule(3, steps.clone());
    sched.profile = Some("linux-7.2".into());
    let outs = clean_under_seeds(&sched);
    // The reference (v3.12) releases normally on withdraw (gdlm_unmount, L1314): the
    // others see a clean leave, recover nothing and unblock over the withdrawn node's
    // dirty journal (the bug "gfs2: Force withdraw to replay journals" fixed upstream).
    let out = schedule(3, steps).run().expect("runs");
    let v = out
        .violation
        .expect("the reference loses the withdrawn journal");
    assert_eq!(v.invariant, 1, "{v}");
    assert!(v.message.contains("journal 1"), "{v}");
    for o in &outs {
        assert_eq!(o.phases, [Phase::Mounted; 3]);
        assert_eq!(
            o.stats.recoveries, 1,
            "the withdrawn node's journal was replayed"
        );
        assert!(o
            .trace
            .iter()
            .any(|e| e.what.contains("recover_slot node 2")));
    }
}

#[test]
fn exhaustive_three_nodes_two_crashes_completes_in_both_modes() {
    use gdlm_sim::exhaustive::{check, CheckConfig};
    // The whole state space under the canonical state (issue 15): no bound is hit.
    // (Release, on this 2-core machine: about 0.5 s kernel, 12 s CPG.)
    for cpg in [false, true] {
        let r = check(&CheckConfig {
            cpg,
            ..CheckConfig::new(3, 2)
        })
        .expect("set up");
        assert!(r.violation.is_none(), "cpg {cpg}: {:?}", r.violation);
        assert!(!r.truncated, "cpg {cpg}: bounded at {} states", r.states);
        assert!(r.max_depth < 400, "cpg {cpg}: {r:?}");
        assert!(r.quiet_states > 0 && r.states > 1000, "cpg {cpg}: {r:?}");
    }
}

#[test]
fn exhaustive_one_remount_completes_with_two_nodes() {
    use gdlm_sim::exhaustive::{check, CheckConfig};
    // A remount in the whole space: 2 nodes, up to 2 crashes and 1 remount, every state
    // (shim-sim/README.md: 60,921 states reduced, 64,125 without the reduction, about
    // 1.3 s each in release), no invariant broken, the same quiet states either way.
    let run = |reduce| {
        check(&CheckConfig {
            mounts: 1,
            keep_going: true,
            depth: 100_000,
            reduce,
            skip_basts: reduce,
            ..CheckConfig::new(2, 2)
        })
        .expect("set up")
    };
    let (with, without) = (run(true), run(false));
    for r in [&with, &without] {
        assert!(!r.truncated, "bounded at {} states", r.states);
        assert_eq!(r.violations, 0, "{:?}", r.first_by_invariant);
        assert!(r.states > 10_000, "{r:?}");
    }
    assert_eq!(with.quiet, without.quiet);
    assert!(with.reduced > 0 && with.states < without.states);
}

#[test]
fn exhaustive_state_counts_do_not_depend_on_the_engine_capacity() {
    use gdlm_sim::exhaustive::{check_sized, CheckConfig, CHECK_CAPACITY};
    // The check runs Engine<8>s (a state is cloned per transition); the capacity must
    // change no decision of a cluster that fits: the same states, transitions, quiet
    // states and depth as with the Engine<192>s every other command runs.
    for (nodes, crashes, cpg) in [(3, 2, false), (2, 2, true)] {
        let cfg = CheckConfig {
            cpg,
            ..CheckConfig::new(nodes, crashes)
        };
        let a = check_sized::<CHECK_CAPACITY>(&cfg).expect("set up");
        let b = check_sized::<192>(&cfg).expect("set up");
        assert!(!a.truncated && a.violation.is_none(), "{a:?}");
        assert_eq!(
            (a.states, a.transitions, a.quiet_states, a.max_depth),
            (b.states, b.transitions, b.quiet_states, b.max_depth),
            "{nodes} nodes, {crashes} crashes, cpg {cpg}"
        );
    }
}

#[test]
fn finding_a_stale_recovery_result_clears_the_bit_of_a_reused_jid() {
    use gdlm_sim::sim::Action;
    // Found by `check --exhaustive --nodes 3 --crashes 2 --mounts 1` (no injected
    // defect; the path below is the check's, shrunk by removing single actions). Node 2
    // (jid 1) crashes; node 2 mounts again while the others recover jid 1; node 1's
    // replay of jid 1 for generation 4 succeeds (ls_recover_result[1] = LM_RD_SUCCESS)
    // but its control work, run after node 2's second crash, stops at "block1"
    // (block_gen != start_gen), so the result is never consumed. In generation 5 node 3
    // sets jid 1's bit for the new failure (lvb_gen 4 < start_gen 5); node 1 then reads
    // lvb_gen 5 == start_gen and clears every bit with a successful result
    // (gfs2_control_func L646-665: results carry no generation), finds no bit left and
    // unblocks while node 3 is still replaying journal 1.
    let path = concat!(
        "C2 R D1 D3 R D1 D3 M2 R D1 D3 R R R D1 D2 D2 D2 D3 N3 D3 N2 D3 N3 D3 N3 D3 D2 D2 D2 ",
        "D2 D2 N2 D2 D2 D2 N1 N3 D2 D2 N2 D2 N2 D1 D3 D3 D2 N2 D2 D2 D2 D1 D1 N1 D2 N2 D2 D2 ",
        "D1 N1 D2 N2 C2 D1 D1 R D3 N1 D1 R D3 D1 R D1 D1 R D3 N3 D3 D1 N1 D1 D1 ",
    );
    let mut s = gdlm_sim::exhaustive::mounted_cluster(3, false).expect("set up");
    for (k, a) in path.split_whitespace().enumerate() {
        let n = a[1..].parse().unwrap_or(0);
        let a = match &a[..1] {
            "R" => Action::DlmRecovery,
            "D" => Action::Deliver(n),
            "N" => Action::Run(n),
            "C" => Action::Crash(n),
            _ => Action::Mount(n),
        };
        assert!(s.violation().is_none(), "action {k}: {:?}", s.violation());
        assert!(
            matches!(a, Action::Crash(_) | Action::Mount(_)) || s.enabled().contains(&a),
            "action {k} {a:?} not enabled"
        );
        s.perform(a);
        s.check_invariants();
    }
    let v = s.violation().expect("node 1 unblocks over a dirty journal");
    assert_eq!(v.invariant, 1, "{v}");
    assert!(
        v.message
            .contains("node 1 unblocked at generation 5 while journal 1"),
        "{v}"
    );
    assert!(s.journals()[1].dirty);
}

#[test]
fn exhaustive_check_catches_injected_defects() {
    use gdlm_sim::exhaustive::{check, CheckConfig};
    use gdlm_sim::sim::Defects;
    // The canonical state keeps what the defects break; breadth-first search reports a
    // shortest path to the violation.
    for (defect, cpg, inv) in [
        ("lvb-remaster", false, 4),
        ("lvb-remaster", true, 4),
        ("slot-growth", false, 1),
    ] {
        let r = check(&CheckConfig {
            cpg,
            defects: Defects::parse(&[defect]).expect("defect"),
            ..CheckConfig::new(3, 2)
        })
        .expect("set up");
        let (v, path) = r.violation.expect(defect);
        assert_eq!(v.invariant, inv, "{defect} cpg {cpg}: {v}");
        assert!(
            !path.is_empty() && path.len() <= r.max_depth + 1,
            "{defect}: {path:?}"
        );
        // With and without the partial-order reduction, the whole space (keep-going)
        // breaks the same invariants, and the same quiet states are reached.
        let whole = |reduce| {
            check(&CheckConfig {
                cpg,
                reduce,
                skip_basts: reduce,
                keep_going: true,
                defects: Defects::parse(&[defect]).expect("defect"),
                ..CheckConfig::new(3, 2)
            })
            .expect("set up")
        };
        let (with, without) = (whole(true), whole(false));
        let broke = |r: &gdlm_sim::exhaustive::CheckResult| r.by_invariant.map(|n| n > 0);
        assert_eq!(broke(&with), broke(&without), "{defect} cpg {cpg}");
        assert!(
            with.by_invariant[usize::from(inv)] > 0,
            "{defect} cpg {cpg}"
        );
        assert_eq!(with.quiet, without.quiet, "{defect} cpg {cpg}");
        assert!(with.states <= without.states);
    }
    // stale-lvb already stops the setup (mounts wait forever: invariant 5).
    let e = gdlm_sim::exhaustive::mounted_cluster_with(
        3,
        false,
        Defects::parse(&["stale-lvb"]).expect("defect"),
    )
    .err()
    .expect("stale-lvb stops the mounts");
    assert!(e.contains("invariant 5"), "{e}");
}

#[test]
fn canonical_state_merges_only_states_with_equal_successors() {
    use gdlm_sim::exhaustive::{audit, CheckConfig};
    for (nodes, crashes, cpg, max) in [
        (2, 2, false, 100_000),
        (2, 2, true, 100_000),
        (3, 1, false, 3_000),
        (3, 2, true, 3_000),
    ] {
        let a = audit(&CheckConfig {
            cpg,
            max_states: max,
            ..CheckConfig::new(nodes, crashes)
        })
        .unwrap_or_else(|e| panic!("{nodes} nodes, {crashes} crashes, cpg {cpg}: {e}"));
        assert!(a.merges > 0, "{a:?}");
        // Some merged states differ in what the canonical state leaves out.
        if cpg {
            assert!(a.distinct_raw > 0, "{a:?}");
        }
    }
}

#[test]
fn finding_stale_submit_entry_blocks_a_reused_jid_forever() {
    // A finding of the simulator about the reference protocol itself (no injected
    // defect): node 3 records the failure of jid 1 (submit[1] = 1) but its control work
    // loses the race with the next two recover_preps, so it never folds that entry.
    // Meanwhile node 1 recovers jid 1 and clears its bit, and node 2 mounts again with
    // jid 1. When node 1 then fails, node 3 reads LVB generation 3 < start 4 and, per
    // gfs2_control_func L680-689, sets the bit of every submit entry below start_gen,
    // including the stale jid 1. Nobody can clear it: the other nodes' TRY on journal 1
    // fails while node 2 holds it (GAVEUP forever) and node 2 ignores results for its
    // own jid (L1151). Locking stays blocked on every node.
    // (Shrunk from seed 22473 of `explore --defects lvb-remaster --ignore 4 --no-traffic`;
    // the shrunk schedule needs no defect. Re-derived when the nodes moved onto the engine,
    // whose steps are finer: own-journal replays and replay completions are steps. It was
    // recorded before DLM replies and timers took time: its first steps pin that time
    // model, no AST latency and no timer slack, as they pin instant replays.)
    let text = include_str!("../schedules/stale-submit-reused-jid.json");
    let s = Schedule::from_json(text).expect("parses");
    assert!(s.defects.is_empty());
    let out = s.run().expect("runs");
    let v = out.violation.expect("the stale bit blocks everyone");
    assert_eq!(v.invariant, 5, "{v}");
    assert!(v.message.contains("control LVB still has jids {1}"), "{v}");
    assert!(out
        .trace
        .iter()
        .any(|e| e.node == 3 && e.what.contains("control lvb gen 3 start 4 write true")));
    // With SubmitPolicy::DropFolded the same schedule settles.
    let mut fixed = s.clone();
    fixed.fixes = vec!["stale-submit".into()];
    let out = fixed.run().expect("runs");
    assert!(out.violation.is_none(), "{:?}", out.violation);
}

#[test]
fn exhaustive_cpg_two_nodes_is_clean() {
    use gdlm_sim::exhaustive::{check, CheckConfig};
    // Every interleaving of group deliveries, sync messages, DLM recovery steps and node
    // steps with two crashes: the whole space (a GAVEUP retry that finds the state as it
    // was is the same canonical state, so retries no longer make longer paths).
    let r = check(&CheckConfig {
        cpg: true,
        ..CheckConfig::new(2, 2)
    })
    .expect("set up");
    assert!(r.violation.is_none(), "{:?}", r.violation);
    assert!(!r.truncated && r.quiet_states > 0, "{r:?}");
}

#[test]
fn cpg_swarm_is_clean() {
    let base = SimConfig {
        cpg: true,
        ..SimConfig::default()
    };
    let mut replays = 0;
    for seed in 1..=300 {
        let out = run_seed(&seed_config(&base, seed, true), seed);
        assert!(out.violation.is_none(), "seed {seed}: {:?}", out.violation);
        replays += out.stats.recoveries;
    }
    assert!(replays > 100, "failed journals replayed: {replays}");
}

#[test]
fn cpg_callbacks_come_from_the_membership() {
    // One after another, so the group join order (and so the slots) is 1, 2, 3.
    let [_, sched] = both(
        3,
        vec![
            Step::Mount(1),
            until(1, Phase::Mounted),
            Step::Mount(2),
            until(2, Phase::Mounted),
            Step::Mount(3),
            until(3, Phase::Mounted),
            Step::Settle,
            Step::Crash(3),
            Step::Settle,
        ],
    );
    let out = sched.run().expect("runs");
    assert!(out.violation.is_none(), "{:?}", out.violation);
    assert!(logged(
        &out,
        1,
        "recover_done gen 1 our slot 1 slots [1] (cpg)"
    ));
    assert!(logged(
        &out,
        2,
        "recover_done gen 2 our slot 2 slots [1, 2] (cpg)"
    ));
    assert!(logged(&out, 1, "recover_slot slot 3 (cpg)"));
    assert!(logged(&out, 2, "recover_slot slot 3 (cpg)"));
    assert!(logged(
        &out,
        1,
        "recover_done gen 4 our slot 1 slots [1, 2] (cpg)"
    ));
    // The DLM's own callbacks are not delivered to a userspace lockspace.
    assert!(!out.trace.iter().any(|e| e.what == "recover_prep"));
    assert_eq!(out.stats.recoveries, 1);
}

#[test]
fn fix_stale_submit_keeps_the_swarm_clean() {
    let base = SimConfig {
        fix_stale_submit: true,
        ..SimConfig::default()
    };
    for seed in 1..=300 {
        let out = run_seed(&seed_config(&base, seed, true), seed);
        assert!(out.violation.is_none(), "seed {seed}: {:?}", out.violation);
    }
}

#[test]
fn a_first_mounter_whose_replay_fails_lets_nobody_mount_over_the_journal() {
    // Nodes 1 and 2 crash with dirty journals; node 3 mounts first (slot 1, jid 0) but
    // cannot replay journal 1: init_journal fails its mount (it releases the lockspace, and first_done
    // never writes a clean LVB). Node 1 then mounts as first mounter and replays both.
    let text = include_str!("../schedules/first-mounter-replay-fails.json");
    for cpg in [false, true] {
        let mut s = Schedule::from_json(text).expect("parses");
        s.cpg = cpg;
        let out = s.run().expect("runs");
        assert!(out.violation.is_none(), "cpg {cpg}: {:?}", out.violation);
        let failed = out
            .trace
            .iter()
            .position(|e| e.node == 3 && e.what.contains("mount failed FirstMountJournal { jid: 1"))
            .expect("node 3's mount fails on journal 1");
        assert!(out
            .trace
            .iter()
            .any(|e| e.node == 3 && e.what == "error recovering journal 1: -5"));
        assert!(
            !out.trace
                .iter()
                .any(|e| e.node == 3 && e.what.starts_with("mounted")),
            "cpg {cpg}: node 3 never mounts"
        );
        // Journal 1 is replayed by node 1, after node 3 failed.
        assert!(out.trace[failed..]
            .iter()
            .any(|e| e.node == 1 && e.what == "journal 1 replayed"));
        assert_eq!(out.phases[0], Phase::Mounted);
        assert_eq!(out.phases[2], Phase::Down);
        assert!(out.stats.mount_failures >= 1);
    }
}

#[test]
fn swarm_with_failing_and_slow_replays_is_clean() {
    let mut base = SimConfig::default();
    base.faults.replay_fail = true;
    base.faults.replay_delay_ms = 400;
    let mut failures = 0;
    for seed in 1..=200 {
        let out = run_seed(&seed_config(&base, seed, false), seed);
        assert!(out.violation.is_none(), "seed {seed}: {:?}", out.violation);
        failures += out.stats.mount_failures;
    }
    assert!(failures > 0, "some replay failure hit a mount");
}

fn wait(cond: gdlm_sim::schedule::Cond) -> Step {
    Step::Wait(gdlm_sim::schedule::Wait {
        cond,
        limit: 50_000,
    })
}

#[test]
fn stale_lvb_switched_on_after_mounting_is_caught_and_shrinks_short() {
    // The defect is off while three nodes mount, then on: a crash and a remount later
    // the cluster never becomes live. Liveness is judged at the model's bound after the
    // faults stop, so the violation comes early and the shrunk schedule is short.
    let text = include_str!("../schedules/stale-lvb-after-mount.json");
    let s = Schedule::from_json(text).expect("parses");
    let out = s.run().expect("runs");
    let v = out.violation.expect("caught");
    assert_eq!(v.invariant, 5, "{v}");
    assert!(
        v.step < 5_000,
        "judged at the bound, not at the step limit: {v}"
    );
    assert!(v.message.contains("not live"), "{v}");
    let shrunk = gdlm_sim::shrink::shrink_schedule(&s, 5, 400).expect("shrinks");
    assert!(
        shrunk.schedule.steps.len() <= 10,
        "{:?}",
        shrunk.schedule.steps
    );
    assert!(shrunk.violation.step < 5_000, "{}", shrunk.violation);
    // The same schedule without the defect switch is clean.
    let mut clean = s.clone();
    clean.steps.retain(|st| !matches!(st, Step::Defect { .. }));
    let out = clean.run().expect("runs");
    assert!(out.violation.is_none(), "{:?}", out.violation);
}

#[test]
fn an_admin_lvb_write_disables_mounts() {
    use gdlm_sim::schedule::{Cond, LockSel};
    let mut steps = mounted(2);
    steps.extend([
        wait(Cond::LockHeld {
            node: 1,
            lock: LockSel::Control,
            mode: "NL".into(),
        }),
        Step::WriteLvb {
            generation: u32::MAX,
            jids: vec![],
        },
        Step::Mount(3),
        Step::Run(3_000),
    ]);
    let out = schedule(3, steps).run().expect("runs");
    assert!(out.violation.is_none(), "{:?}", out.violation);
    assert!(logged(&out, 3, "control_mount control_lock disabled"));
    assert!(out.trace.iter().any(|e| e.node == 3
        && e.what
            .contains("mount failed ControlMount { error: -22, reason: Disabled }")));
    assert_eq!(out.phases[2], Phase::Down);
    // Without anyone holding control_lock the write is skipped, and says so.
    let out = schedule(
        3,
        vec![
            Step::WriteLvb {
                generation: u32::MAX,
                jids: vec![],
            },
            Step::Mount(1),
            until(1, Phase::Mounted),
        ],
    )
    .run()
    .expect("runs");
    assert!(logged(
        &out,
        0,
        "admin LVB write skipped: nobody holds control_lock"
    ));
}

#[test]
fn a_frozen_node_holds_recovery_until_thawed() {
    use gdlm_sim::schedule::{Cond, JournalState};
    // Node 2 is frozen (a silent member): node 3's failure cannot finish recovery, because
    // the DLM waits for every member's recover_prep; thawed, everything recovers.
    let mut steps = mounted(3);
    steps.extend([
        Step::Freeze(2),
        Step::Crash(3),
        Step::Run(2_000),
        wait(Cond::Blocked {
            node: 1,
            blocked: true,
        }),
        wait(Cond::Journal {
            jid: 2,
            state: JournalState::Dirty,
        }),
        Step::Thaw(2),
        wait(Cond::Journal {
            jid: 2,
            state: JournalState::Replayed,
        }),
        wait(Cond::LvbBit { jid: 2, set: false }),
        Step::Settle,
    ]);
    let outs = clean_under_seeds(&schedule(3, steps));
    for o in &outs {
        assert_eq!(o.stats.recoveries, 1);
        let frozen_at = o
            .trace
            .iter()
            .position(|e| e.what == "frozen")
            .expect("frozen");
        let thawed_at = o
            .trace
            .iter()
            .position(|e| e.what == "thawed")
            .expect("thawed");
        // While frozen, node 2 takes no step at all.
        assert!(!o.trace[frozen_at + 1..thawed_at]
            .iter()
            .any(|e| e.node == 2));
        assert!(!o.trace[frozen_at..thawed_at]
            .iter()
            .any(|e| e.what == "journal 2 replayed"));
    }
}

#[test]
fn schedule_errors_are_typed() {
    use gdlm_sim::schedule::{Cond, LockSel};
    let bad = [
        Step::Defect {
            name: "slot-growth".into(),
            on: true,
        },
        Step::Defect {
            name: "nonsense".into(),
            on: true,
        },
        wait(Cond::LockHeld {
            node: 1,
            lock: LockSel::Mounted,
            mode: "XX".into(),
        }),
        wait(Cond::Journal {
            jid: 99,
            state: gdlm_sim::schedule::JournalState::Dirty,
        }),
        Step::WriteLvb {
            generation: 1,
            jids: vec![500],
        },
    ];
    for st in bad {
        let r = schedule(2, vec![Step::Mount(1), st.clone()]).run();
        assert!(r.is_err(), "{st:?} accepted");
    }
    // And they round-trip through JSON.
    let s = Schedule::from_json(
        r#"{"nodes": 2, "steps": [{"freeze": 1}, {"thaw": 1}, {"defect": {"name": "stale-lvb", "on": false}},
            {"write_lvb": {"generation": 4, "jids": [1]}},
            {"wait": {"for": {"lock_held": {"node": 1, "lock": {"journal": 0}, "mode": "EX"}}, "limit": 10}},
            {"wait": {"for": {"grant_pending": {"node": 2}}}}]}"#,
    )
    .expect("parses");
    assert_eq!(s.steps.len(), 6);
}

#[test]
fn a_mixed_kernel_cluster_recovers_and_a_72_node_withdraws_safely() {
    // Node 2 runs Linux 7.2's lock_dlm beside two reference nodes: the protocol is the
    // same on the wire, so failures recover; its withdraw leaves as failed (the others
    // replay its journal), where a reference node's would not.
    let mut steps = mounted(3);
    steps.extend([
        Step::Run(20),
        Step::Crash(3),
        Step::Run(50),
        Step::Mount(3),
        Step::Settle,
        Step::Run(20),
        Step::Withdraw(2),
        Step::Run(10),
        Step::Mount(2),
        Step::Settle,
    ]);
    let mut s = schedule(3, steps);
    s.node_profiles.insert(2, "linux-7.2".into());
    for o in clean_under_seeds(&s) {
        assert_eq!(o.phases, [Phase::Mounted; 3]);
        assert_eq!(o.stats.withdrawals, 1);
        assert!(o
            .trace
            .iter()
            .any(|e| e.node == 2 && e.what.contains("WITHDRAW: released Recover")));
    }
    let mut bad = s.clone();
    bad.node_profiles.insert(9, "linux-7.2".into());
    assert!(
        bad.run().is_err(),
        "a profile for a node that does not exist"
    );
}
