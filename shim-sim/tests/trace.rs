//! The `--trace` JSONL records (schema in `gdlm_sim::trace`) and the CLI's pipe handling.

use std::io::Read;
use std::process::{Command, Stdio};

use gdlm_sim::schedule::Schedule;

const KILL: &str = r#"{"nodes": 3, "seed": 1, "steps": [
  {"mount": 1}, {"until": {"node": 1, "phase": "Mounted"}},
  {"mount": 2}, {"until": {"node": 2, "phase": "Mounted"}},
  {"mount": 3}, {"until": {"node": 3, "phase": "Mounted"}},
  {"replay_delay": 3000}, {"crash": 3}, "settle"]}"#;

#[test]
fn a_kill_trace_has_the_dlm_and_journal_records() {
    let out = Schedule::from_json(KILL).unwrap().run().unwrap();
    assert!(out.violation.is_none());
    let kinds = |k: &'static str| out.trace.iter().filter(move |e| e.kind == k);
    // The first mounter read generation 0.
    let first: Vec<_> = kinds("first_mounter").collect();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].fields["generation"], 0);
    // control_lock: a conversion down from EX writes the LVB, an AST reads it back.
    let write = kinds("dlm_request").find(|e| {
        e.fields["lock"] == "control_lock"
            && e.fields.get("lvb_jids") == Some(&serde_json::json!([2]))
    });
    assert!(
        write.is_some(),
        "someone writes jid 2's bit into the control LVB"
    );
    let read = kinds("ast")
        .filter(|e| e.fields.get("lock").is_some_and(|l| l == "control_lock"))
        .filter_map(|e| e.fields.get("lvb_gen").and_then(|g| g.as_u64()))
        .max();
    assert_eq!(read, Some(4), "the last LVB read says generation 4");
    // Journal 2 was dirty when it was replayed; journals replayed at mount were clean.
    let replays: Vec<_> = kinds("replay_start")
        .filter(|e| e.fields["jid"] == 2 && e.node != 3)
        .collect();
    assert!(replays.iter().any(|e| e.fields["dirty"] == true));
    assert!(kinds("replay_start").any(|e| e.fields["dirty"] == false));
    // The other survivor's tries were busy while the replay took 3 s.
    assert!(kinds("recovery_result").any(|e| e.fields["result"] == "busy"));
    assert!(kinds("recovery_result").any(|e| e.fields["result"] == "success"));
    // Every line serializes with i, t, node, kind, what.
    let line = serde_json::to_value(&out.trace[0]).unwrap();
    for k in ["i", "t", "node", "kind", "what"] {
        assert!(line.get(k).is_some(), "{k}");
    }
}

#[test]
fn no_trace_keeps_no_records() {
    let cfg = gdlm_sim::sim::SimConfig::default();
    let out = gdlm_sim::sim::run_seed(&cfg, 1);
    assert!(out.trace.iter().all(|e| e.kind == "text"
        || e.kind == "log"
        || e.kind.starts_with("recover")
        || e.kind == "first_mounter"
        || e.kind == "control_locked"));
}

#[test]
fn a_closed_stdout_neither_panics_nor_loses_the_trace() {
    let dir = std::env::temp_dir().join(format!("gdlm-sim-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdlm-sim"))
        .args(["run", "--trace"])
        .arg(&trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -0`: the reader goes away at once.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
    let lines = std::fs::read_to_string(&trace).unwrap().lines().count();
    assert!(lines > 100, "{lines} trace lines");
    let _ = std::fs::remove_dir_all(&dir);
}
