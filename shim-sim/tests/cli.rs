//! The command line with `--schedule`: every option is honoured or refused, SEED
//! overrides the file's seed, and a failed step still writes the trace.

use std::process::Command;

fn sim(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gdlm-sim"))
        .args(args)
        .output()
        .expect("runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

const SCHED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schedules/first-mounter-replay-fails.json"
);

#[test]
fn options_the_schedule_decides_are_refused() {
    for args in [
        &["--nodes", "5"][..],
        &["--faults", "crash"],
        &["--fault-window", "10"],
        &["--max-crashes", "7"],
    ] {
        let mut a = vec!["replay", "--schedule", SCHED];
        a.extend_from_slice(args);
        let (ok, text) = sim(&a);
        assert!(!ok, "{args:?} accepted: {text}");
        assert!(text.contains("schedule"), "{args:?}: {text}");
    }
}

#[test]
fn options_are_honoured_and_seed_overrides() {
    let dir = std::env::temp_dir().join(format!("gdlm-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let trace = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (ok, text) = sim(&[
        "replay",
        "7",
        "--schedule",
        SCHED,
        "--callbacks",
        "cpg",
        "--trace",
        &trace("a.jsonl"),
    ]);
    assert!(ok, "{text}");
    let a = std::fs::read_to_string(trace("a.jsonl")).expect("trace");
    assert!(a.contains("(cpg)"), "--callbacks cpg honoured");
    let (_, _) = sim(&[
        "replay",
        "8",
        "--schedule",
        SCHED,
        "--callbacks",
        "cpg",
        "--trace",
        &trace("b.jsonl"),
    ]);
    let b = std::fs::read_to_string(trace("b.jsonl")).expect("trace");
    assert_ne!(a, b, "SEED overrides the file's seed");
    // A step that never happens fails the run but the trace is written.
    let bad = dir.join("until.json");
    std::fs::write(
        &bad,
        r#"{"nodes": 2, "steps": [{"mount": 1}, {"until": {"node": 1, "phase": "Dead", "limit": 300}}]}"#,
    )
    .expect("write");
    let (ok, text) = sim(&[
        "replay",
        "--schedule",
        &bad.to_string_lossy(),
        "--trace",
        &trace("c.jsonl"),
    ]);
    assert!(!ok && text.contains("never reached Dead"), "{text}");
    let c = std::fs::read_to_string(trace("c.jsonl")).expect("trace written");
    assert!(c.lines().count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn busy_prints_both_fractions_and_fails_when_they_differ() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let (ok, text) = sim(&["busy", "--seeds", "10", "--real", fixtures]);
    assert!(ok, "{text}");
    assert!(
        text.contains("cluster3-kill (no hold): simulated busy in 20/20 runs (100.0%); real kills without a hold: busy in 2/2"),
        "{text}"
    );
    assert!(
        text.contains("real kills with the harness hold: busy in 3/3"),
        "{text}"
    );
    // Instant replays: the second survivor rarely finds the lock held.
    let (ok, text) = sim(&[
        "busy",
        "--seeds",
        "10",
        "--replay-ms",
        "0",
        "--real",
        fixtures,
    ]);
    assert!(!ok && text.contains("NOT within"), "{text}");
}

#[test]
fn the_time_model_options_are_honoured_with_a_schedule() {
    let dir = std::env::temp_dir().join(format!("gdlm-sim-cli-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let trace = dir.join("t.jsonl").to_string_lossy().into_owned();
    let kill = concat!(env!("CARGO_MANIFEST_DIR"), "/schedules/cluster3-kill.json");
    let (ok, text) = sim(&[
        "replay",
        "--schedule",
        kill,
        "--replay-ms",
        "777",
        "--jhead-ms",
        "55",
        "--trace",
        &trace,
    ]);
    assert!(ok, "{text}");
    let t = std::fs::read_to_string(&trace).expect("trace");
    assert!(t.contains("own-journal head lookups take a time drawn from [55] ms"));
    assert!(t.contains("head lookup of its own journal 0 takes 55 ms"));
    // The fixed replay time: the dead node's journal 2 is replayed in 777 ms, not drawn.
    assert!(!t.contains("replay of journal 2 takes"), "fixed, not drawn");
    let at = |kind: &str| -> Vec<u64> {
        t.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .filter(|v| v["kind"] == kind && v["jid"] == 2 && v["node"] != 3)
            .map(|v| v["t"].as_u64().expect("t"))
            .collect()
    };
    let (start, end) = (at("replay_start"), at("replay_end"));
    assert!(!start.is_empty() && start.len() == end.len());
    // Node 1's pass over journal 2 at mount (clean) and a survivor's replay after the kill.
    assert!(
        start.iter().zip(&end).all(|(a, b)| b - a == 777),
        "{start:?} {end:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
