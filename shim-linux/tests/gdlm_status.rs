// SPDX-License-Identifier: GPL-2.0-only
//! The `gdlm` binary over the fixture trees (`tests/fixtures/status`): output, JSON and exit
//! status; and that `inspect`'s probe refuses, without touching the DLM, on a node that is
//! not in the lockspace.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/status")
        .join(name)
}

fn gdlm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdlm"))
        .args(args)
        .output()
        .expect("gdlm runs")
}

#[test]
fn status_json_of_the_master_node() {
    let root = fixture("kill-node1");
    let o = gdlm(&["status", "gfs1", "--json", "--root", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["generation"], 4);
    assert_eq!(v["jids"], serde_json::json!([2]));
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
}

#[test]
fn status_of_every_lockspace_is_an_array() {
    let root = fixture("kill-node2");
    let o = gdlm(&["status", "--json", "--root", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["lockspace"], "gfs1");
    assert_eq!(v[0]["generation"], serde_json::Value::Null);
}

#[test]
fn a_non_member_exits_3_and_says_so() {
    let root = fixture("nonmember-node4");
    let o = gdlm(&["status", "gfs1", "--root", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("is not a member"), "{out}");
    let o = gdlm(&["status", "--root", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "no DLM lockspace on this node\n"
    );
}

#[test]
fn a_probe_is_refused_outside_the_lockspace_and_off_the_live_root() {
    // this host has no such lockspace: the probe must not create (join) one
    let o = gdlm(&["inspect", "gdlm-test-no-such-ls", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["generation"], serde_json::Value::Null);
    let notes = v["notes"].to_string();
    assert!(notes.contains("a probe would join it"), "{notes}");
    let root = fixture("kill-node2");
    let o = gdlm(&[
        "status",
        "gfs1",
        "--probe",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("it needs --root /"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(gdlm(&["status", "--bogus"]).status.code(), Some(2));
    assert_eq!(gdlm(&["inspect"]).status.code(), Some(2));
}
