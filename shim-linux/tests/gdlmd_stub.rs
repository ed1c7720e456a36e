// SPDX-License-Identifier: GPL-2.0-only
//! gdlmd as an executor of gdlm-core's engine, on a host without the kernel DLM or
//! corosync: libdlm's lock calls are `bench/libdlm-stub/dlmstub.c` (preloaded; every
//! request is granted through the lockspace fd) and the group is gdlmd's hidden
//! one-member loopback group. So the daemon's loop, its asynchronous DLM calls and their
//! completions, the recovery commands (SIGCHLD), the signals and the exit statuses run as
//! they do on a cluster; conflicts, BASTs and real membership are checked in VMs
//! (`ci/realdlm/run gdlmd-cluster3`). The stub is built with `-DDLMSTUB_TEST`: gdlmd writes
//! its requests from a submit thread (`DLMSTUB_THREADS=1` serializes the stub's state), and
//! `DLMSTUB_BLOCK` makes the writes block as the kernel's do while a lockspace recovers.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The stub, built once per test process (see [`common::build_stub`]).
fn stub() -> PathBuf {
    static SO: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SO.get_or_init(|| common::build_stub("libdlmstub-gdlmd-test.so", true))
        .clone()
}

struct Run {
    dir: PathBuf,
    child: Child,
}

impl Run {
    /// gdlmd with `--journals 3` and a recovery command that appends its view to
    /// `rec.log`, then runs `extra` (shell) with `$1` the jid.
    fn start(name: &str, extra: &str, opts: &[&str]) -> Run {
        Run::start_env(name, extra, opts, &[])
    }

    /// [`Run::start`] with more environment for gdlmd (and the stub).
    fn start_env(name: &str, extra: &str, opts: &[&str], env: &[(&str, &Path)]) -> Run {
        let so = stub();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gdlmd-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("rec.sh");
        std::fs::write(
            &script,
            format!(
                "echo \"REC start jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON \
                 arg=$1 ls=$GDLM_LOCKSPACE $(grep SigBlk /proc/self/status)\" >> {d}/rec.log\n\
                 {extra}\n\
                 echo \"REC end jid=$1\" >> {d}/rec.log\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_gdlmd"))
            .arg(format!("t{name}"))
            .arg("--recover-cmd")
            // `exec`: the script is gdlmd's child itself (the pdeathsig test needs that)
            .arg(format!("exec sh {} \"$1\"", script.display()))
            .args(["--journals", "3", "--loopback-group", "--log-file"])
            .arg(dir.join("gdlmd.log"))
            .args(opts)
            .env("LD_PRELOAD", &so)
            .env("DLMSTUB_THREADS", "1")
            .envs(env.iter().map(|&(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gdlmd runs");
        Run { dir, child }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gdlmd.log")).unwrap_or_default()
    }

    fn rec(&self) -> String {
        std::fs::read_to_string(self.dir.join("rec.log")).unwrap_or_default()
    }

    fn wait_for(&self, needle: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {needle:?} in {secs} s:\n{}", self.log());
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits (bounded) for the exit: (code, stderr).
    fn exit(mut self, secs: u64) -> (Option<i32>, String, Run) {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return (st.code(), err, self);
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("gdlmd did not exit in {secs} s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Run {
    /// A failed test leaves no gdlmd behind (one blocked in the stub would hold the test
    /// harness's output pipe open).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes the stub's block file when dropped (also when a test fails).
struct Unblock<'a>(&'a Path);

impl Drop for Unblock<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// The process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|t| t.trim_start().starts_with(|c| c != 'Z'))
        })
        .unwrap_or(false)
}

/// Waits (bounded) until `pid` is gone; kills it if it is not (so no test leaves it).
fn gone_within(pid: u32, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while alive(pid) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    let gone = !alive(pid);
    if !gone {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    gone
}

/// The pids a recovery command wrote into `path` (one line), waited for up to 10 s.
fn pids_in(path: &Path) -> Vec<u32> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let t = std::fs::read_to_string(path).unwrap_or_default();
        if t.ends_with('\n') || Instant::now() > end {
            return t
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

fn pos(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
}

#[test]
fn first_mount_recovers_every_journal_then_sigterm_unmounts() {
    let r = Run::start("first", "", &[]);
    r.wait_for("mounted jid 0 generation 1", 20);
    r.signal("TERM");
    let (code, err, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    // The engine's own lines, each written once as a line of its own (stderr = log file).
    assert_eq!(
        lines_with(&err, "gdlmd: tfirst:").len(),
        log.lines().count()
    );
    assert!(log.contains("first mounter control generation 0"), "{log}");
    assert!(log.contains("jid=0, already locked for use"), "{log}");
    for j in [1, 2] {
        assert!(log.contains(&format!("jid={j}: Trying to acquire journal lock...")));
    }
    // Every journal recovered (first-mount, generation 1), one at a time, before others
    // may mount; the command got $1 and the environment, with no signal blocked.
    let rec = r.rec();
    let starts = lines_with(&rec, "REC start");
    assert_eq!(starts.len(), 3, "{rec}");
    for (j, l) in starts.iter().enumerate() {
        assert!(
            l.contains(&format!(
                "jid={j} gen=1 reason=first-mount arg={j} ls=tfirst"
            )),
            "{l}"
        );
        assert!(l.ends_with("SigBlk:\t0000000000000000"), "{l}");
    }
    let order: Vec<&str> = rec.lines().map(|l| &l[..9]).collect();
    assert_eq!(order, ["REC start", "REC end j"].repeat(3), "{rec}");
    assert!(pos(&log, "jid=2: Done") < pos(&log, "first mount done, others may mount"));
    assert!(pos(&log, "signal SIGTERM: stopping (phase Mounted)") < pos(&log, "unmounting"));
    assert!(log.trim_end().ends_with("unmounted"), "{log}");
}

#[test]
fn a_failed_first_mount_replay_fails_the_mount_and_exits_1() {
    let r = Run::start("fail", "[ \"$1\" = 1 ] && exit 3", &[]);
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("jid=1: recovery command exit 3"), "{log}");
    assert!(log.contains("jid=1: Failed"), "{log}");
    assert!(log.contains("error recovering journal 1: -5"), "{log}");
    assert!(log.contains("mount failed: the first mounter could not recover journal 1 (-5)"));
    assert!(
        log.trim_end().ends_with("released after the failed mount"),
        "{log}"
    );
    // Nothing after the failure: no other journal, no mount, no first_done.
    assert!(
        !log.contains("jid=2:") && !log.contains("mounted jid"),
        "{log}"
    );
    assert!(!log.contains("first mount done"), "{log}");
    assert_eq!(lines_with(&r.rec(), "REC start").len(), 2);
}

#[test]
fn sigterm_during_a_replay_gives_it_the_grace_then_kills_it() {
    let r = Run::start(
        "slow",
        "[ \"$1\" = 1 ] && exec sleep 60",
        &["--replay-grace", "1"],
    );
    r.wait_for("jid=1: Looking at journal...", 20);
    let t = Instant::now();
    r.signal("TERM");
    let (code, _, r) = r.exit(20);
    let log = r.log();
    // Bounded: the grace (1 s), not the command's 60 s.
    assert!(t.elapsed() < Duration::from_secs(10), "{log}");
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("jid=1: killing the recovery command"), "{log}");
    assert!(
        log.contains("jid=1: recovery command signal 9, killed on stop"),
        "{log}"
    );
    // The killed replay is a failure: the first mount fails and nobody mounts over jid 1.
    assert!(log.contains("error recovering journal 1: -5"), "{log}");
    assert!(
        !log.contains("mounted jid") && !log.contains("jid=2:"),
        "{log}"
    );
    assert!(
        log.trim_end().ends_with("released after the failed mount"),
        "{log}"
    );
}

#[test]
fn sigint_while_mounting_interrupts_or_unmounts() {
    let r = Run::start("intr", "", &[]);
    // control_mount sleeps (500 ms) before its first-mounter step: SIGINT then interrupts
    // it; if it comes later, the daemon is mounting its journals or mounted, and stops
    // cleanly from there. Either way: exit 0 and a clean release.
    r.wait_for("recover_done gen 1 our slot 1 (cpg)", 20);
    r.signal("INT");
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    if log.contains("control_mount interrupted") {
        assert!(
            log.contains("mount failed: control_mount interrupted (-4)"),
            "{log}"
        );
        assert!(!log.contains("mounted jid") && r.rec().is_empty(), "{log}");
        assert!(log.trim_end().ends_with("released after the failed mount"));
    } else {
        assert!(log.contains("mounted jid 0"), "{log}");
        assert!(log.trim_end().ends_with("unmounted"), "{log}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let st = Command::new(env!("CARGO_BIN_EXE_gdlmd"))
        .args(["x", "--recover-cmd", "true", "--journals", "0"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2));
    assert!(Path::new(env!("CARGO_BIN_EXE_gdlmd")).exists());
}

/// libdlm's write() of a request blocks while the lockspace is stopped for recovery; gdlmd
/// writes from its submit thread, so its loop goes on: a SIGTERM is read and acted on while
/// the control_lock request is still blocked, and once the write goes through the stop
/// completes cleanly.
#[test]
fn a_blocked_request_does_not_stop_the_loop() {
    let block = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gdlmd-blocked.block");
    std::fs::write(&block, b"").unwrap();
    let _unblock = Unblock(&block);
    let r = Run::start_env("blocked", "", &[], &[("DLMSTUB_BLOCK", &block)]);
    // The group is joined (one member), then control_lock is requested: blocked.
    r.wait_for("recover_done gen 1 our slot 1 (cpg)", 20);
    std::thread::sleep(Duration::from_millis(300));
    let log = r.log();
    assert!(!log.contains("first mounter"), "{log}");
    let t = Instant::now();
    r.signal("TERM");
    // Read at once, with the write still blocked (the file is still there).
    r.wait_for("signal SIGTERM: stopping", 5);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(block.exists());
    std::thread::sleep(Duration::from_millis(200));
    let log = r.log();
    assert!(!log.contains("first mounter"), "{log}");
    std::fs::remove_file(&block).unwrap();
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("mount failed: control_mount interrupted (-4)")
            || log.trim_end().ends_with("unmounted"),
        "{log}"
    );
    assert!(r.rec().is_empty() || log.contains("mounted jid"), "{log}");
}

/// A recovery command dies with its gdlmd (whose journal lock the DLM then releases, so
/// another node may replay that journal: the command must not go on), and so does what it
/// started in the background: its reaper hears of gdlmd's death (PR_SET_PDEATHSIG) and
/// kills the command's whole process group.
#[test]
fn a_recovery_command_and_its_children_die_with_their_gdlmd() {
    let pidfile = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gdlmd-orphan.pid");
    let _ = std::fs::remove_file(&pidfile);
    let extra = format!(
        "[ \"$1\" = 1 ] && {{ sleep 61 & echo $$ $! $GDLM_DAEMON_PID > {}; wait; }}",
        pidfile.display()
    );
    let r = Run::start("orphan", &extra, &[]);
    r.wait_for("jid=1: Looking at journal...", 20);
    let pids = pids_in(&pidfile);
    let [shell, bg, daemon] = pids[..] else {
        panic!("the command's pids: {pids:?}");
    };
    assert_eq!(daemon, r.child.id());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        alive(shell) && alive(bg),
        "the command runs while gdlmd does"
    );
    r.signal("KILL");
    let shell_gone = gone_within(shell, 5);
    let bg_gone = gone_within(bg, 5);
    assert!(
        shell_gone,
        "the recovery command (pid {shell}) outlived its gdlmd"
    );
    assert!(
        bg_gone,
        "the command's background child (pid {bg}) outlived gdlmd"
    );
    // The reaper says so on gdlmd's stderr (the log file was gdlmd's own).
    let (_, err, _) = r.exit(5);
    assert!(
        err.contains(&format!(
            "gdlmd: torphan: jid=1: recovery command killed: gdlmd (pid {daemon}) died"
        )),
        "{err}"
    );
    let _ = std::fs::remove_file(&pidfile);
}

/// On a stop, the command that outlives its grace is killed with everything in its process
/// group; a command that exits leaves nothing running behind it.
#[test]
fn a_stopped_or_finished_command_leaves_no_process_behind() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (done, slow) = (dir.join("gdlmd-left-0.pid"), dir.join("gdlmd-left-1.pid"));
    let _ = std::fs::remove_file(&done);
    let _ = std::fs::remove_file(&slow);
    // jid 0 exits at once leaving a background sleep; jid 1 runs until killed, with one.
    let extra = format!(
        "if [ \"$1\" = 0 ]; then sleep 62 & echo $! > {}; fi\n\
         if [ \"$1\" = 1 ]; then sleep 63 & echo $! > {}; exec sleep 60; fi",
        done.display(),
        slow.display()
    );
    let r = Run::start("leftover", &extra, &["--replay-grace", "1"]);
    r.wait_for("jid=1: Looking at journal...", 20);
    let left = pids_in(&done);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        gone_within(left[0], 5),
        "jid 0's background child outlived its command"
    );
    let bg = pids_in(&slow);
    assert_eq!(bg.len(), 1, "{bg:?}");
    assert!(alive(bg[0]), "jid 1's command runs");
    r.signal("TERM");
    let (code, err, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("jid=1: recovery command signal 9, killed on stop"),
        "{log}"
    );
    // gdlmd's own stop is not reported as its death.
    assert!(!err.contains("recovery command killed:"), "{err}");
    assert!(
        gone_within(bg[0], 5),
        "jid 1's background child outlived the stop"
    );
    let _ = std::fs::remove_file(&done);
    let _ = std::fs::remove_file(&slow);
}

/// dlm_create_lockspace blocks while dlm_controld adds the node; gdlmd runs it on a thread
/// of its own, so a SIGTERM meanwhile is read and acted on at once, and once the join
/// returns the lockspace is released and gdlmd exits 0 (stopped before the mount began).
#[test]
fn a_blocked_lockspace_join_does_not_stop_the_loop() {
    let block = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gdlmd-join.block");
    std::fs::write(&block, b"").unwrap();
    let _unblock = Unblock(&block);
    let r = Run::start_env("join", "", &[], &[("DLMSTUB_BLOCK_LS", &block)]);
    r.wait_for("started: node 1", 20);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    r.signal("TERM");
    r.wait_for("signal SIGTERM: stopping (phase Joining)", 5);
    assert!(t.elapsed() < Duration::from_secs(3));
    r.wait_for("stopping (phase Joining)", 5);
    assert!(block.exists(), "the join is still blocked");
    std::thread::sleep(Duration::from_millis(200));
    let log = r.log();
    assert!(
        !log.contains("recover_done") && !log.contains("released"),
        "{log}"
    );
    std::fs::remove_file(&block).unwrap();
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("mount failed: stopped before the mount began"),
        "{log}"
    );
    assert!(
        log.trim_end().ends_with("released after the failed mount"),
        "{log}"
    );
    assert!(r.rec().is_empty());
}

/// dlm_release_lockspace blocks too; at the unmount it runs on a thread, and the loop goes
/// on reading signals until it returns.
#[test]
fn a_blocked_lockspace_release_does_not_stop_the_loop() {
    let block = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gdlmd-release.block");
    let _ = std::fs::remove_file(&block);
    let _unblock = Unblock(&block);
    let r = Run::start_env("release", "", &[], &[("DLMSTUB_BLOCK_LS", &block)]);
    r.wait_for("mounted jid 0 generation 1", 20);
    std::fs::write(&block, b"").unwrap();
    r.signal("TERM");
    r.wait_for("unmounting", 5);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    r.signal("INT");
    r.wait_for("signal SIGINT: already stopping", 5);
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(block.exists());
    assert!(!r.log().contains("unmounted"), "{}", r.log());
    std::fs::remove_file(&block).unwrap();
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.trim_end().ends_with("unmounted"), "{log}");
}

/// corosync's CS_ERR_TRY_AGAIN on cpg_join is retried from the loop's timer (every 100 ms),
/// not in a sleep: the join goes through after the busy answers and the mount follows.
#[test]
fn cpg_try_again_is_retried_from_the_timer() {
    let r = Run::start("busy", "", &["--loopback-busy", "15"]);
    r.wait_for("mounted jid 0 generation 1", 20);
    let log = r.log();
    assert_eq!(
        lines_with(&log, "cpg join: corosync answered CS_ERR_TRY_AGAIN").len(),
        1,
        "{log}"
    );
    let ms: u64 = log
        .split("cpg join: joined after ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no join line:\n{log}"));
    // 15 answers 100 ms apart.
    assert!((1400..10_000).contains(&ms), "{ms} ms\n{log}");
    assert!(pos(&log, "cpg join: joined") < pos(&log, "recover_done gen 1"));
    r.signal("TERM");
    let (code, _, r) = r.exit(20);
    assert_eq!(code, Some(0), "{}", r.log());
}

/// A SIGTERM while the join is being retried is acted on at once (the loop is not asleep).
#[test]
fn sigterm_while_cpg_says_try_again_stops_at_once() {
    let r = Run::start("busystop", "", &["--loopback-busy", "80"]);
    r.wait_for("cpg join: corosync answered CS_ERR_TRY_AGAIN", 20);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    r.signal("TERM");
    let (code, _, r) = r.exit(20);
    let log = r.log();
    assert!(t.elapsed() < Duration::from_secs(3), "{log}");
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("cpg join: joined"), "{log}");
    assert!(log.contains("signal SIGTERM: stopping"), "{log}");
    assert!(
        log.trim_end().ends_with("released after the failed mount"),
        "{log}"
    );
}
