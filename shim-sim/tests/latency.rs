//! The time model's DLM reply latencies and timer slack, the `sleep` step, and the real
//! logs' reply times and control_mount wait counts.

use std::path::PathBuf;

use gdlm_sim::busy::{real_waits, sim_waits, CLUSTER3_HARNESS, CLUSTER3_KILL};
use gdlm_sim::grant_times::{quantile, scenario_times, Class, Master, Reply};
use gdlm_sim::schedule::{Schedule, Step};
use gdlm_sim::sim::TraceEvent;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// (node, lock, ms from the request to its AST) of every AST in a trace.
fn ast_latencies(trace: &[TraceEvent]) -> Vec<(u32, String, u64)> {
    let mut asked: std::collections::BTreeMap<(u32, u64), u64> = Default::default();
    let mut v = Vec::new();
    for e in trace {
        let lkid = e.fields.get("lkid").and_then(|l| l.as_u64());
        let lock = e.fields.get("lock").and_then(|l| l.as_str()).unwrap_or("");
        match (e.kind, lkid) {
            ("dlm_request", Some(k)) => {
                asked.insert((e.node, k), e.t);
            }
            ("ast", Some(k)) => {
                if let Some(t) = asked.remove(&(e.node, k)) {
                    v.push((e.node, lock.to_string(), e.t - t));
                }
            }
            _ => {}
        }
    }
    v
}

fn kill_with(steps: Vec<Step>) -> Schedule {
    let mut s = Schedule::from_json(CLUSTER3_KILL).unwrap();
    s.steps.splice(0..0, steps);
    s
}

#[test]
fn remote_replies_take_their_latency_and_local_ones_do_not() {
    let s = kill_with(vec![
        Step::GrantTimes {
            local_us: vec![0],
            remote_us: vec![40_000],
        },
        Step::TimerSlack(vec![]),
    ]);
    let out = s.run().unwrap();
    assert!(out.violation.is_none(), "{:?}", out.violation);
    let lat = ast_latencies(&out.trace);
    // Node 1 mounts first: it masters control_lock and mounted_lock; its replies on them
    // come at the scheduler's next picks, but for the few that wait for node 2 to
    // release (node 2's own requests are slow).
    let n1: Vec<u64> = lat
        .iter()
        .filter(|(n, l, _)| *n == 1 && (l == "control_lock" || l == "mounted_lock"))
        .map(|x| x.2)
        .collect();
    let quick = n1.iter().filter(|&&ms| ms < 40).count();
    assert!(!n1.is_empty() && 4 * quick >= 3 * n1.len(), "{n1:?}");
    // Node 2's requests on them go to node 1: every up-conversion or new lock waits 40 ms,
    // its down-conversions complete at once.
    let n2: Vec<u64> = lat
        .iter()
        .filter(|(n, l, _)| *n == 2 && l == "control_lock")
        .map(|x| x.2)
        .collect();
    assert!(n2.iter().filter(|&&ms| ms >= 40).count() >= 2, "{n2:?}");
    assert!(
        n2.iter().any(|&ms| ms < 40),
        "down-conversions are local: {n2:?}"
    );
    // Without the latency the same schedule finishes sooner.
    let fast = kill_with(vec![
        Step::GrantTimes {
            local_us: vec![],
            remote_us: vec![],
        },
        Step::TimerSlack(vec![]),
    ])
    .run()
    .unwrap();
    assert!(
        fast.stats.time_ms + 200 < out.stats.time_ms,
        "{} vs {}",
        fast.stats.time_ms,
        out.stats.time_ms
    );
}

#[test]
fn timer_slack_makes_the_mount_retry_late() {
    // Node 2 mounts during node 1's first-mount pass (6.1's 1.3-2.1 s own-journal head
    // lookup) and retries control_mount every 500 ms (plus the slack) while node 1 holds
    // control_lock in EX.
    let gaps = |slack: Vec<u64>| -> Vec<u64> {
        let mut s = Schedule::from_json(
            r#"{"nodes": 2, "steps": [{"mount": 1}, {"sleep": 300}, {"mount": 2}, "settle"]}"#,
        )
        .unwrap();
        s.steps.insert(0, Step::TimerSlack(slack));
        let mut gaps = Vec::new();
        for seed in 1..=5 {
            s.seed = seed;
            let out = s.run().unwrap();
            assert!(out.violation.is_none(), "{:?}", out.violation);
            let t: Vec<u64> = out
                .trace
                .iter()
                .filter(|e| e.node == 2 && e.what == "control_mount control_lock busy")
                .map(|e| e.t)
                .collect();
            gaps.extend(t.windows(2).map(|w| w[1] - w[0]));
        }
        gaps
    };
    let on_time = gaps(vec![]);
    let late = gaps(vec![300]);
    assert!(
        !on_time.is_empty() && !late.is_empty(),
        "{on_time:?} {late:?}"
    );
    assert!(on_time.iter().all(|&g| g < 800), "{on_time:?}");
    assert!(late.iter().all(|&g| g >= 800), "{late:?}");
}

#[test]
fn sleep_runs_virtual_time_busy_or_idle() {
    let s = Schedule::from_json(
        r#"{"nodes": 2, "steps": [{"mount": 1}, {"sleep": 5000}, {"mount": 2}, "settle"]}"#,
    )
    .unwrap();
    let out = s.run().unwrap();
    assert!(out.violation.is_none(), "{:?}", out.violation);
    let joined = |n: u32| {
        out.trace
            .iter()
            .find(|e| e.node == n && e.what.starts_with("mount: join lockspace"))
            .map(|e| e.t)
    };
    // Node 1 was mounted long before; the sleep still lasted its 5 s.
    assert_eq!(joined(1), Some(0));
    let t2 = joined(2).unwrap();
    assert!((5000..5010).contains(&t2), "{t2}");
    // Nothing to do at all: the time passes idle.
    let idle = Schedule::from_json(r#"{"nodes": 1, "steps": [{"sleep": 3000}]}"#)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(idle.stats.time_ms, 3000);
}

#[test]
fn real_reply_times_show_local_and_remote_masters() {
    let st = scenario_times(&fixture("glock-lock-time-6.1"));
    assert_eq!(st.traced, vec![1, 2]);
    assert!(st.not_available.is_empty());
    assert_eq!(st.kernels[&1], "6.1.0-57-amd64");
    assert!(st.samples.len() > 200, "{}", st.samples.len());
    let of = |m: Master, r: Reply| -> Vec<u64> {
        let mut v: Vec<u64> = st
            .samples
            .iter()
            .filter(|s| s.master == m && s.reply == r && s.class != Class::Blocking)
            .map(|s| s.tdiff_ns / 1000)
            .collect();
        v.sort_unstable();
        v
    };
    let local_unlock = of(Master::Local, Reply::Unlocked);
    let remote_unlock = of(Master::Remote, Reply::Unlocked);
    assert!(!local_unlock.is_empty() && !remote_unlock.is_empty());
    // A round trip to another VM is an order of magnitude and more.
    assert!(
        quantile(&remote_unlock, 0.5) > 10 * quantile(&local_unlock, 0.5),
        "{local_unlock:?} {remote_unlock:?}"
    );
    // Old results have no buffer: nothing traced, nothing claimed.
    let old = scenario_times(&fixture("cluster3-kill-6.1"));
    assert!(old.traced.is_empty() && old.samples.is_empty());
}

#[test]
fn wait_paths_are_counted_per_mount() {
    // The real fixture: three gfs2 mounts, one first mounter, no wait.
    let w = real_waits(&fixture("cluster3-kill-6.1"));
    let g = w["gfs2"];
    assert_eq!(
        (g.mounts, g.first, g.mounts_waited, g.waits()),
        (3, 1, 0, 0)
    );
    // A mount that waited twice counts once; a later mount of the same node again.
    let d = std::env::temp_dir().join(format!("gdlm-waits-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("node2.log"),
        "[ 1.0] gfs2: fsid=gdlm:gfs1: Trying to join cluster \"lock_dlm\", \"gdlm:gfs1\"\n\
         [ 2.0] gfs2: fsid=gdlm:gfs1: control_mount wait1 block 2 start 2 mount 2 lvb 1 flags 0\n\
         [ 2.5] gfs2: fsid=gdlm:gfs1: control_mount wait2 block 2 start 3 mount 2 lvb 2 flags 0\n\
         [ 9.0] gfs2: fsid=gdlm:gfs1: Trying to join cluster \"lock_dlm\", \"gdlm:gfs1\"\n\
         [ 9.5] gfs2: fsid=gdlm:gfs1: control_mount wait3 block 4 start 4 mount 4 lvb 4 flags 0\n\
         GDLM-DMESG [ 2.0] gfs2: fsid=gdlm:gfs1: control_mount wait1 block 2 start 2 mount 2 lvb 1 flags 0\n",
    )
    .unwrap();
    let w = real_waits(&d);
    std::fs::remove_dir_all(&d).unwrap();
    let g = w["gfs2"];
    assert_eq!(
        (g.mounts, g.wait1, g.wait2, g.wait3, g.mounts_waited),
        (2, 1, 1, 1, 2)
    );
    // The simulator: every mount of the schedule is counted.
    let s = Schedule::from_json(CLUSTER3_HARNESS).unwrap();
    let w = sim_waits(&s, 3).unwrap();
    assert_eq!((w.mounts, w.first), (9, 3));
}
