// SPDX-License-Identifier: GPL-2.0-only
//! `status` over fixture trees in the kernel's formats (`tests/fixtures/status/*`: the
//! sysfs, configfs, debugfs and `/dev/kmsg` of `cluster3-kill` while node 1 holds journal 2's
//! lock after node 3 was killed, seen from node 1, node 2, and a node outside the lockspace).

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/status")
        .join(name)
}

fn status_of(name: &str, probe: Option<Probe>) -> Status {
    analyze("gfs1", &gather(&fixture(name), "gfs1"), probe)
}

#[test]
fn master_node_decodes_the_control_lvb_and_the_journal_holder() {
    let s = status_of("kill-node1", None);
    assert!(s.member);
    assert_eq!(s.nodeid, Some(1));
    assert_eq!(s.generation, Some(4));
    assert_eq!(s.disabled, Some(false));
    assert_eq!(s.jids, Some(vec![2]));
    assert_eq!(s.mounted, Some(true));
    let lvb = s.lvb.as_ref().unwrap();
    assert_eq!(lvb.source, "debugfs");
    assert!(!lvb.invalid);
    assert_eq!(&lvb.hex[..20], "04000000000000000400");
    assert_eq!(s.control_lock.master, Master::Here);
    assert_eq!(s.control_lock.holders.len(), 2);
    assert_eq!(s.control_lock.holders[1].nodeid, Some(2));
    assert!(!s.control_lock.holders[1].local);
    let slots: Vec<(i32, Option<i32>)> = s.members.iter().map(|m| (m.nodeid, m.slot)).collect();
    assert_eq!(slots, vec![(1, Some(1)), (2, Some(2))]);
    let d = s.dlm.as_ref().unwrap();
    assert_eq!(d.generation, Some(4));
    assert_eq!(d.blocked, Some(false));
    assert_eq!(d.blocked_since_us, None);
    assert_eq!(d.last_recover_seq, Some(7));
    let jids: Vec<u32> = s.journals.iter().map(|j| j.jid).collect();
    assert_eq!(jids, vec![0, 2]);
    let j2 = &s.journals[1];
    assert_eq!(j2.needs_recovery, Some(true));
    assert_eq!(j2.lock.holders.len(), 1);
    let h = &j2.lock.holders[0];
    assert_eq!(
        (h.nodeid, h.local, h.pid, h.granted),
        (Some(1), true, Some(612), "EX")
    );
    assert_eq!(h.queued_us, Some(1_900_000));
    assert!(s.journals[0].ours);
    assert_eq!(s.journals[0].needs_recovery, Some(false));
    assert_eq!(s.gfs2.as_ref().unwrap().blocked, Some(true));
    assert!(s
        .waiting_for
        .iter()
        .any(|w| w.starts_with("gfs2's control step")));
    assert!(s
        .waiting_for
        .iter()
        .any(|w| w.contains("journal 2: its lock is held EX by node 1 (this node, pid 612)")));
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn json_keeps_the_inspect_fields_first() {
    let s = status_of("kill-node1", None);
    let j = s.json();
    assert!(
        j.starts_with(
            r#"{"lockspace":"gfs1","generation":4,"disabled":false,"jids":[2],"mounted":true,"#
        ),
        "{j}"
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["journals"][1]["lock"]["holders"][0]["pid"], 612);
    assert_eq!(v["control_lock"]["master"]["kind"], "here");
    assert_eq!(v["dlm"]["generation"], 4);
}

#[test]
fn a_copy_of_the_lvb_on_a_non_master_is_not_trusted() {
    // node 2's local copy of control_lock carries an old LVB (generation 3): only the
    // master's is current, so status says where it lives instead.
    let s = status_of("kill-node2", None);
    assert_eq!(s.generation, None);
    assert_eq!(s.jids, None);
    assert_eq!(s.control_lock.master, Master::Node(1));
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("lives on node 1 (its master)")));
    assert_eq!(s.mounted, Some(true)); // its own PR on mounted_lock
    let jids: Vec<(u32, bool, Option<bool>)> = s
        .journals
        .iter()
        .map(|j| (j.jid, j.ours, j.needs_recovery))
        .collect();
    assert_eq!(jids, vec![(1, true, None), (2, false, None)]);
    assert_eq!(s.journals[1].lock.master, Master::Absent);
    assert!(s
        .waiting_for
        .iter()
        .any(|w| w.starts_with("journal 2: gfs2 here logged `recover generation 4 jid 2`")));
    assert_eq!(s.dlm.as_ref().unwrap().recover_status, Some(0x55));
}

#[test]
fn probe_result_replaces_what_debugfs_cannot_show() {
    let mut lvb = [0u8; 32];
    lvb[0] = 5;
    lvb[8] = 0b10;
    let s = status_of(
        "kill-node2",
        Some(Probe {
            lvb,
            valnotvalid: true,
        }),
    );
    assert_eq!(s.generation, Some(5));
    assert_eq!(s.jids, Some(vec![1]));
    let l = s.lvb.unwrap();
    assert_eq!((l.source, l.invalid), ("probe", true));
    assert_eq!(s.journals[0].needs_recovery, Some(true));
}

#[test]
fn a_node_outside_the_lockspace_reads_only_what_it_has() {
    let root = fixture("nonmember-node4");
    assert!(lockspaces(&root).is_empty());
    let s = status_of("nonmember-node4", None);
    assert!(!s.member);
    assert_eq!(s.nodeid, Some(4));
    assert!(s.members.is_empty() && s.journals.is_empty() && s.dlm.is_none());
    assert_eq!(s.control_lock.master, Master::Absent);
    assert!(s.notes.iter().any(|n| n.contains("not in lockspace gfs1")));
    assert!(s.human().contains("this node (node 4) is not a member"));
}

#[test]
fn lockspaces_lists_sysfs() {
    assert_eq!(lockspaces(&fixture("kill-node1")), vec!["gfs1".to_string()]);
}

#[test]
fn human_output_names_members_generation_and_holders() {
    let h = status_of("kill-node1", None).human();
    for want in [
        "lockspace gfs1: this node (node 1) is a member",
        "members      node 1 (slot 1, jid 0, this node), node 2 (slot 2, jid 1)",
        "running (recovery done); recover_status 0xff; generation 4; locking not blocked",
        "glocks blocked (block 1)",
        "control_lock generation 4, mounts allowed, jids needing recovery: 2",
        "journal 2    NEEDS RECOVERY; mastered here",
        "EX node 1 (this node, pid 612)",
        "log: recover jid 2 result busy",
        "last recovered jid 2 (result gaveup)",
    ] {
        assert!(h.contains(want), "missing {want:?} in\n{h}");
    }
}

#[test]
fn dlm_stage_from_recover_status() {
    assert!(stage(0, None).starts_with("stopped"));
    assert!(stage(rs::NODES | rs::DIR | rs::LOCKS | rs::DONE, Some(1)).starts_with("running"));
    let s = stage(rs::NODES | rs::DIR, Some(3));
    assert!(
        s.contains("directory rebuilt") && s.ends_with("(last message to node 3)"),
        "{s}"
    );
    assert!(stage(rs::NODES, None).contains("rebuilding the resource directory"));
    assert!(stage(rs::NODES | rs::DIR | rs::LOCKS, None).contains("DLM_RS_LOCKS_ALL"));
}

#[test]
fn a_running_dlm_recovery_blocks_locking_since_its_start() {
    let mut src = gather(&fixture("kill-node1"), "gfs1");
    src.kmsg = Some(format!(
        "{}6,960,99000000,-;dlm: gfs1: dlm_recover 8\n",
        src.kmsg.unwrap()
    ));
    src.sysfs.as_mut().unwrap().recover_status = Some(rs::NODES);
    let s = analyze("gfs1", &src, None);
    let d = s.dlm.unwrap();
    assert_eq!(d.blocked, Some(true));
    assert_eq!(d.blocked_since_us, Some(99_000_000));
    assert!(s.waiting_for[0].starts_with("the DLM: recovering"));
    // the gfs2 block is then the DLM's doing, not reported as the control step's
    assert!(!s
        .waiting_for
        .iter()
        .any(|w| w.starts_with("gfs2's control step")));
}

#[test]
fn kernel_log_pending_jids() {
    let k = "6,1,10,-;gfs2: fsid=c:gfs1.0: recover generation 4 jid 2\n\
6,2,11,-;gfs2: fsid=c:gfs1.0: recover generation 4 jid 1\n\
6,3,12,-;gfs2: fsid=c:other.0: recover generation 9 jid 5\n\
6,4,13,-;gfs2: fsid=c:gfs1.0: recover jid 1 result success\n";
    let f = log_facts(k, "gfs1");
    assert_eq!(f.gfs2_pending, Some((4, vec![2])));
    assert_eq!(f.gfs2.len(), 3);
    let f = log_facts(
        &format!("{k}6,5,14,-;gfs2: fsid=c:gfs1.0: recover generation 4 done\n"),
        "gfs1",
    );
    assert_eq!(f.gfs2_pending, None);
    let f = log_facts(
        &format!("{k}6,5,14,-;gfs2: fsid=c:gfs1.0: recover generation 5 jid 0\n"),
        "gfs1",
    );
    assert_eq!(f.gfs2_pending, Some((5, vec![0])));
    // other lockspaces and malformed records are ignored
    let f = log_facts(
        "6,1,x,-;dlm: gfs1: generation 2 slots 1 1:1\nno semicolon\n",
        "gfs1",
    );
    assert_eq!(f, LogFacts::default());
    let f = log_facts("6,1,5,-;dlm: gfs10: generation 2 slots 1 1:1\n", "gfs1");
    assert_eq!(f.slots, None);
}

#[test]
fn disabled_mounts_are_reported() {
    let mut src = gather(&fixture("kill-node1"), "gfs1");
    let all = src
        .all
        .take()
        .unwrap()
        .replace("lvb 14 32 04 00 00 00", "lvb 14 32 ff ff ff ff");
    src.all = Some(all);
    let s = analyze("gfs1", &src, None);
    assert_eq!(s.generation, Some(0xFFFF_FFFF));
    assert_eq!(s.disabled, Some(true));
    assert!(s
        .waiting_for
        .iter()
        .any(|w| w.starts_with("mounts are disabled")));
    assert!(s.human().contains("(mounts disabled)"));
}

#[test]
fn unreadable_debugfs_is_a_note_not_a_failure() {
    let mut src = gather(&fixture("kill-node1"), "gfs1");
    src.all = Some("rsb truncated\n".into());
    src.kmsg = None;
    let s = analyze("gfs1", &src, None);
    assert_eq!(s.generation, None);
    assert!(s
        .notes
        .iter()
        .any(|n| n.starts_with("gfs1_all: unreadable format")));
    assert!(s.members.iter().all(|m| m.slot.is_none()));
    src.all = None;
    src.debugfs = false;
    let s = analyze("gfs1", &src, None);
    assert!(s
        .notes
        .iter()
        .any(|n| n.starts_with("debugfs is not mounted")));
}

#[test]
fn captured_in_a_vm_prints_what_the_vm_printed() {
    // tests/fixtures/status/vm-node{1,2}: cluster3-kill's survivors during the hold
    for n in [1, 2] {
        let want = fs::read_to_string(fixture(&format!("vm-node{n}.expected"))).unwrap();
        let s = status_of(&format!("vm-node{n}"), None);
        assert_eq!(s.human(), want, "vm-node{n}");
    }
    let s = status_of("vm-node1", None);
    assert_eq!((s.generation, s.jids.clone()), (Some(4), Some(vec![2])));
    assert_eq!(s.dlm.as_ref().unwrap().generation, Some(4));
    let j2 = s.journals.iter().find(|j| j.jid == 2).unwrap();
    assert_eq!(j2.lock.holders[0].pid, Some(337)); // gdlm-linux-smoke hold
    let s = status_of("vm-node2", None);
    assert_eq!(s.generation, None);
    assert_eq!(s.control_lock.master, Master::Node(1));
}
