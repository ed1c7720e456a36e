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
