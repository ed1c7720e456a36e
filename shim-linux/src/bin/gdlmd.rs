// SPDX-License-Identifier: GPL-2.0-only
//! `gdlmd`: gfs2's lock_dlm mount and journal-recovery protocol over a userspace DLM
//! lockspace, with recovery callbacks synthesized from a corosync CPG group.
//!
//! ```text
//! gdlmd LOCKSPACE --recover-cmd CMD --journals N [--log-file PATH] [--replay-grace SECS]
//! ```
//! Every protocol decision is gdlm-core's [`Engine`] (`core/src/engine`): mount
//! (`control_mount`, first-mounter election), our journal lock, the first mounter's pass
//! over every journal, `control_first_done`, the control step after membership changes,
//! journal recovery with TRY/GAVEUP and the `HZ` retry, unmount. This file only executes
//! its actions, as `shim-sim/src/node.rs` does in the simulator:
//! - `NewLockspace` → `dlm_create_lockspace`; `JoinGroup` → join the CPG group
//!   `gdlmd:LOCKSPACE`, whose configuration changes and messages go back as
//!   `CpgConfchg`/`CpgMessage`; `Multicast` → `cpg_mcast_joined` (agreed order);
//! - `Dlm` → libdlm's asynchronous `dlm_ls_lock`/`dlm_ls_unlock`, written by the
//!   lockspace's submit thread (the kernel's write() blocks while the lockspace is stopped
//!   for recovery; the loop goes on meanwhile); the completions are read from the lockspace
//!   fd and fed back as `DlmDone` (a request refused at once is its completion with that
//!   status);
//! - `Replay` → `sh -c CMD gdlmd-recover JID` under a reaper (gdlmd re-executed, see
//!   `reaper_main`; the command's process group gets SIGKILL if gdlmd dies); its exit is
//!   `ReplayDone`;
//! - `Log` → one log line per line of its `Display` (the kernel's text);
//! - `Release` → release the lockspace and leave the group (clean), or leave as failed.
//!
//! One non-blocking `poll` loop waits on the lockspace fd, the submit thread's eventfd, the
//! CPG fd and a signalfd
//! (SIGTERM, SIGINT, SIGCHLD for the recovery commands), with the engine's
//! `poll_timeout()` as the timeout. Nothing waits for the DLM: a request that takes long
//! is logged every 30 s and still waited for. Log lines go to stderr (and `--log-file`),
//! `[monotonic s] gdlmd: LOCKSPACE: text`.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use clap::Parser;
use gdlm_core::consts::{EINTR, EINVAL, MAX_JIDS};
use gdlm_core::engine::{
    Action, Callbacks, Config, DlmOp, DlmRequest, Engine, EngineError, Event,
    Instant as EngineInstant, LockRef, LogEvent, MountFailure, Release, ReplayOutcome,
    ReplayReason,
};
use gdlm_core::membership::{LeftReason, Member, SyncMsg};
use gdlm_core::mount::MountFailure as ControlFailure;
use gdlm_core::DlmLkf;
use gdlm_linux::cpg::reason_name;
use gdlm_linux::{Cpg, CpgEvent, CpgMember, LockId, Lockspace};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::signal::{kill, killpg, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;

/// The engine's capacity in jids: what the control LVB describes (192).
const N: usize = MAX_JIDS;
/// `EIO`: the status of a replay whose command failed.
const EIO: i32 = 5;
/// A DLM request outstanding this long is logged (and logged again each such period).
const SLOW_REQUEST: Duration = Duration::from_secs(30);
/// After a stop signal, how long the engine may take to finish before gdlmd leaves as
/// failed (withdraw): past the recovery commands' grace, for the DLM calls after them.
const STOP_EXTRA: Duration = Duration::from_secs(20);
/// How long the leave may take to be delivered before the connection closes.
const LEAVE_WAIT: Duration = Duration::from_secs(5);
/// `cpg_join` retries while corosync answers `CS_ERR_TRY_AGAIN` (it is syncing): every
/// 100 ms from the loop's timer, for at most 10 s.
const JOIN_RETRY: Duration = Duration::from_millis(100);
const JOIN_WAIT: Duration = Duration::from_secs(10);
/// A multicast corosync flow-controls is retried every 10 ms from the loop's timer (in
/// order, never dropped); logged when it has waited 5 s, and every 5 s after.
const MCAST_RETRY: Duration = Duration::from_millis(10);
const MCAST_WARN: Duration = Duration::from_secs(5);
/// At release: how long the lockspace's release may take before gdlmd exits without it.
const RELEASE_WAIT: Duration = Duration::from_secs(30);

/// The recovery command's contract and the exit statuses (`gdlmd --help`, README).
const AFTER_HELP: &str = "\
Recovery command (--recover-cmd CMD):
  Run as `/bin/sh -c CMD gdlmd-recover JID` (so $1 is the jid) while gdlmd holds that
  journal's lock (LM_TYPE_JOURNAL 9, number JID) EX, in its own process group, with stdin
  /dev/null, gdlmd's stdout and stderr, and in the environment:
    GDLM_LOCKSPACE   the lockspace
    GDLM_JID         the journal to recover
    GDLM_GENERATION  the recovery generation it belongs to (for `failed`, the generation
                     whose control step found the journal dirty)
    GDLM_REASON      failed (a member failed), mount (this node's own journal at mount),
                     first-mount (the first mounter's pass over every journal)
    GDLM_NODEID      this node's corosync node id
    GDLM_DAEMON_PID  gdlmd's pid
  Exit status 0: the journal is recovered (`recover jid J result success`). Anything else,
  or death by a signal, is a failed replay (-EIO): for a failed member's journal it is
  reported as busy and retried about 1 s later, by this or another member; for the first
  mounter's pass or this node's own journal it fails the mount (as gfs2's init_journal
  does), so nobody mounts over a journal that was not replayed. One journal is recovered
  at a time. A journal may be recovered again after a success (the lock is released
  after the result is shared), so the command must be idempotent, as gfs2's journal
  replay is. On SIGTERM or SIGINT a running command gets --replay-grace seconds, then
  its process group gets SIGKILL. If gdlmd itself dies (killed, crashed), the command's
  process group gets SIGKILL at once (a small reaper process, gdlmd re-executed as
  gdlmd-reaper, sits between gdlmd and the shell: PR_SET_PDEATHSIG tells it of gdlmd's
  death): the others recover this node's journals then, and the command must not go on.
  When the shell exits, whatever it left running in its process group is killed too.
  Processes that leave the group (setsid) are not reached.

Exit status:
  0  stopped by SIGTERM or SIGINT and released cleanly (unmounted, or the mount
     interrupted): lockspace released, CPG group left, the others recover nothing
  1  an error: the mount failed (logged as `mount failed: ...`), or the lockspace or CPG
     failed (`error: ...`); after a failed mount gdlmd has released cleanly, otherwise the
     other members treat the exit as a failure of this node and recover its journal
  2  invalid arguments";

#[derive(Parser, Debug)]
#[command(
    name = "gdlmd",
    version,
    about = "gfs2 lock_dlm mount and journal recovery over a userspace DLM lockspace",
    long_about = "gfs2 lock_dlm mount and journal recovery over a userspace DLM lockspace.\n\n\
        Creates or joins the lockspace, joins the corosync CPG group gdlmd:LOCKSPACE (slots and \
        generations from its configuration changes), mounts like gfs2's control_mount (first \
        mounter election over control_lock and mounted_lock), holds its own journal lock, and \
        when members fail runs the recovery command for their journals. Every decision is \
        gdlm-core's lifecycle engine; gdlmd executes it. Logs go to stderr (and --log-file) \
        as `[monotonic s] gdlmd: LOCKSPACE: text`.",
    after_help = AFTER_HELP
)]
struct Args {
    /// The DLM lockspace (also names the CPG group `gdlmd:LOCKSPACE`).
    lockspace: String,
    /// Shell command that recovers a journal (see "Recovery command" below).
    #[arg(long, value_name = "CMD")]
    recover_cmd: String,
    /// Journals of the cluster (jids 0..N, at most 192): the first mounter recovers them
    /// all before others mount; a member whose slot has no journal fails its mount.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=N as i64))]
    journals: u32,
    /// Also append every log line to this file.
    #[arg(long)]
    log_file: Option<std::path::PathBuf>,
    /// Seconds a running recovery command gets after SIGTERM/SIGINT before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    replay_grace: u64,
    /// Test aid: a one-member group inside the process instead of corosync.
    #[arg(long, hide = true)]
    loopback_group: bool,
    /// Test aid: the loopback group answers "try again" (corosync's CS_ERR_TRY_AGAIN) to
    /// this many join and multicast attempts first.
    #[arg(long, hide = true, default_value_t = 0)]
    loopback_busy: u32,
    /// Whose lock_dlm to follow where it changed: `reference` (v3.12) or `linux-7.2`
    /// (7.2.13: its lockspace flags; a withdraw leaves as failed).
    #[arg(long, default_value = "reference", value_parser = ["reference", "linux-7.2"])]
    profile: String,
}

/// `[monotonic] ` (the monotonic clock is the guest's uptime, like dmesg).
fn stamp() -> String {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap_or(nix::sys::time::TimeSpec::new(0, 0));
    format!("[{:5}.{:06}]", ts.tv_sec(), ts.tv_nsec() / 1000)
}

fn log_line(ls: &str, msg: &str) -> String {
    format!("{} gdlmd: {ls}: {msg}", stamp())
}

/// `GDLM_REASON` and `GDLM_GENERATION` of a replay (the names of gdlmd's contract).
fn reason_env(reason: ReplayReason, recover_start: u32) -> (&'static str, u32) {
    match reason {
        ReplayReason::Own => ("mount", recover_start),
        ReplayReason::FirstMount => ("first-mount", recover_start),
        ReplayReason::Recovery { generation } => ("failed", generation),
    }
}

/// A replay's outcome from its command's exit: 0 is success, anything else `-EIO`.
fn outcome_of(status: ExitStatus) -> ReplayOutcome {
    if status.success() {
        ReplayOutcome::Success
    } else {
        ReplayOutcome::Failed(-EIO)
    }
}

fn exit_text(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown".into(),
    }
}

fn lock_text(l: LockRef) -> String {
    match l {
        LockRef::Control => "control_lock".into(),
        LockRef::Mounted => "mounted_lock".into(),
        LockRef::Journal(j) => format!("journal lock {j}"),
    }
}

fn op_text(op: &DlmOp) -> String {
    match op {
        DlmOp::Lock { mode, flags, .. } if flags.contains(DlmLkf::CONVERT) => {
            format!("convert to {mode:?}")
        }
        DlmOp::Lock { mode, .. } => format!("lock {mode:?}"),
        DlmOp::Unlock => "unlock".into(),
    }
}

/// A mount failure for a person.
fn failure_text(f: MountFailure) -> String {
    match f {
        MountFailure::ControlMount {
            error,
            reason: ControlFailure::Interrupted,
        } => format!("control_mount interrupted ({error})"),
        MountFailure::ControlMount {
            error,
            reason: ControlFailure::Disabled,
        } => format!("mounts are disabled in the control LVB ({error})"),
        MountFailure::ControlMount { error, reason } => {
            format!("control_mount failed: {reason:?} ({error})")
        }
        MountFailure::JidPreset => "the lockspace gave no jid".into(),
        MountFailure::Lockspace(e) => format!("cannot join the lockspace ({e})"),
        MountFailure::NoJournal { jid } => {
            format!("our slot gives jid {jid}, beyond --journals")
        }
        MountFailure::OwnJournalLock(e) => format!("cannot lock our own journal ({e})"),
        MountFailure::OwnJournal(e) => format!("our own journal's recovery failed ({e})"),
        MountFailure::FirstMountJournal { jid, error } => format!(
            "the first mounter could not recover journal {jid} ({error}); \
             it stays dirty and no one mounts over it"
        ),
        MountFailure::Interrupted => "stopped before the mount began".into(),
    }
}

fn member(m: CpgMember) -> Member {
    Member::new(m.nodeid, m.pid)
}

fn io_status(e: &io::Error) -> i32 {
    -e.raw_os_error().unwrap_or(EINVAL)
}

/// The CPG group, or (`--loopback-group`, for tests without corosync) a group of one.
enum Group {
    Cpg(Cpg),
    Loopback {
        me: CpgMember,
        queue: VecDeque<CpgEvent>,
        /// Test aid: joins and multicasts answered "try again" before one goes through.
        busy: u32,
    },
}

impl Group {
    fn me(&self) -> CpgMember {
        match self {
            Group::Cpg(c) => c.me(),
            Group::Loopback { me, .. } => *me,
        }
    }

    /// One join attempt: `Ok(false)` if corosync said try again.
    fn try_join(&mut self, name: &str) -> io::Result<bool> {
        match self {
            Group::Cpg(c) => c.try_join_group(name),
            Group::Loopback { me, queue, busy } => {
                if *busy > 0 {
                    *busy -= 1;
                    return Ok(false);
                }
                queue.push_back(CpgEvent::ConfChg {
                    members: vec![*me],
                    left: vec![],
                    joined: vec![*me],
                });
                Ok(true)
            }
        }
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Group::Cpg(c) => Some(c.as_fd()),
            Group::Loopback { .. } => None,
        }
    }

    fn has_pending(&self) -> bool {
        matches!(self, Group::Loopback { queue, .. } if !queue.is_empty())
    }

    fn dispatch(&mut self) -> io::Result<Vec<CpgEvent>> {
        match self {
            Group::Cpg(c) => c.dispatch(),
            Group::Loopback { queue, .. } => Ok(queue.drain(..).collect()),
        }
    }

    /// One multicast attempt: `Ok(false)` if corosync applied flow control (nothing sent).
    fn try_mcast(&mut self, msg: &[u8]) -> io::Result<bool> {
        match self {
            Group::Cpg(c) => c.try_mcast(msg),
            Group::Loopback { me, queue, busy } => {
                if *busy > 0 {
                    *busy -= 1;
                    return Ok(false);
                }
                queue.push_back(CpgEvent::Deliver {
                    from: *me,
                    msg: msg.to_vec(),
                });
                Ok(true)
            }
        }
    }

    /// Leaves cleanly (`cpg_leave`, which does not block); `true` if corosync will deliver
    /// the leave as a configuration change to wait for (the loop waits, bounded).
    fn start_leave(&mut self) -> io::Result<bool> {
        match self {
            Group::Cpg(c) => {
                c.leave()?;
                Ok(true)
            }
            Group::Loopback { .. } => Ok(false),
        }
    }
}

/// The configuration change says that `me` left.
fn own_leave(ev: &CpgEvent, me: CpgMember) -> bool {
    matches!(ev, CpgEvent::ConfChg { left, .. } if left.iter().any(|(m, _)| *m == me))
}

/// A blocking libdlm call (joining or releasing the lockspace: neither has an asynchronous
/// form) on a thread of its own; the loop polls `fd` and takes the result.
struct Background<T> {
    rx: mpsc::Receiver<io::Result<T>>,
    wake: Arc<EventFd>,
    since: Instant,
    /// When to log it as slow next.
    warn_at: Instant,
}

impl<T: Send + 'static> Background<T> {
    fn spawn(name: &str, f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<Self> {
        let wake = Arc::new(EventFd::from_flags(
            EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
        )?);
        let (tx, rx) = mpsc::channel();
        let w = wake.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(f());
                let _ = w.write(1);
            })?;
        let now = Instant::now();
        Ok(Background {
            rx,
            wake,
            since: now,
            warn_at: now + SLOW_REQUEST,
        })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The result, once the call returned.
    fn try_take(&self) -> Option<io::Result<T>> {
        let _ = self.wake.read();
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(io::Error::other(
                "the call's thread ended without a result",
            ))),
        }
    }
}

/// A recovery command the engine asked for.
struct Replay {
    jid: u32,
    child: Child,
    killed: bool,
}

/// One DLM request in flight.
struct Pending {
    op: DlmOp,
    since: Instant,
    /// When to log it as slow next.
    warn_at: Instant,
}

/// What ended the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Released(Release),
}

struct Daemon {
    name: String,
    recover_cmd: String,
    journals: u32,
    replay_grace: Duration,
    log_file: Option<File>,
    engine: Box<Engine<N>>,
    epoch: Instant,
    ls: Option<Lockspace>,
    group: Group,
    /// The engine's locks and their libdlm handles.
    locks: BTreeMap<LockRef, LockId>,
    by_id: BTreeMap<LockId, LockRef>,
    pending: BTreeMap<LockRef, Pending>,
    /// DLM calls that failed at once: fed back as their completions.
    immediate: Vec<(LockRef, i32)>,
    replays: Vec<Replay>,
    /// Replays that could not start: fed back as failed.
    failed_spawns: Vec<u32>,
    /// A stop signal came at this time.
    stop_at: Option<Instant>,
    stop_sent: bool,
    withdrawn: bool,
    killed_on_stop: bool,
    mount_failure: Option<MountFailure>,
    /// Membership refusals since the last accepted CPG event.
    refused: u32,
    end: Option<End>,
    /// `dlm_create_lockspace` running on its thread.
    creating: Option<Background<Lockspace>>,
    /// The lockspace's release running on its thread (at the end).
    releasing: Option<Background<()>>,
    /// What the release gave.
    release_result: Option<io::Result<()>>,
    /// The release began (commands killed) at this time.
    release_at: Option<Instant>,
    /// The clean leave was sent; wait for its configuration change until then.
    leave_until: Option<Instant>,
    left: bool,
    /// `cpg_join` answered try-again: (next attempt, first attempt).
    join_retry: Option<(Instant, Instant)>,
    /// Multicasts not yet accepted by corosync (flow control), in order.
    outbox: VecDeque<Vec<u8>>,
    /// The next attempt at `outbox`'s head; the head's first attempt; the next log line.
    mcast_retry: Option<Instant>,
    mcast_since: Option<Instant>,
    mcast_warn_at: Option<Instant>,
}

impl Daemon {
    fn new(args: &Args, group: Group, log_file: Option<File>) -> Daemon {
        let profile = gdlm_core::Profile::from_policy_name(Some(&args.profile))
            .unwrap_or(gdlm_core::Profile::Reference);
        let cfg = Config {
            callbacks: Callbacks::Cpg(member(group.me())),
            // The daemon's log keeps the engine's debug lines (the CPG-synthesized
            // callbacks), which Config::debug_logs leaves out by default.
            debug_logs: true,
            ..Config::for_profile(profile)
        };
        Daemon {
            name: args.lockspace.clone(),
            recover_cmd: args.recover_cmd.clone(),
            journals: args.journals,
            replay_grace: Duration::from_secs(args.replay_grace),
            log_file,
            engine: Box::new(Engine::new(cfg)),
            epoch: Instant::now(),
            ls: None,
            group,
            locks: BTreeMap::new(),
            by_id: BTreeMap::new(),
            pending: BTreeMap::new(),
            immediate: Vec::new(),
            replays: Vec::new(),
            failed_spawns: Vec::new(),
            stop_at: None,
            stop_sent: false,
            withdrawn: false,
            killed_on_stop: false,
            mount_failure: None,
            refused: 0,
            end: None,
            creating: None,
            releasing: None,
            release_result: None,
            release_at: None,
            leave_until: None,
            left: false,
            join_retry: None,
            outbox: VecDeque::new(),
            mcast_retry: None,
            mcast_since: None,
            mcast_warn_at: None,
        }
    }

    fn log(&mut self, msg: &str) {
        let line = log_line(&self.name, msg);
        // One write per line, newline included: a console shared with the kernel's printk
        // then never gets a kernel message between a line and its end.
        let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
        if let Some(f) = self.log_file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }

    fn now(&self) -> EngineInstant {
        EngineInstant::from_nanos(
            u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX),
        )
    }

    fn wall(&self, t: EngineInstant) -> Instant {
        self.epoch + Duration::from_nanos(t.as_nanos())
    }

    /// Feeds one event, then executes what the engine asks for.
    fn feed(&mut self, ev: Event<'_>) -> io::Result<()> {
        let now = self.now();
        let cpg = matches!(ev, Event::CpgConfchg { .. } | Event::CpgMessage { .. });
        match self.engine.handle(now, ev) {
            Ok(()) => {
                if cpg && self.refused > 0 {
                    let n = std::mem::take(&mut self.refused);
                    self.log(&format!(
                        "membership accepted again after {n} refused event(s)"
                    ));
                }
            }
            Err(EngineError::Membership(e)) => {
                // One clear line, then only a count: the refused event changed nothing
                // and the daemon goes on with the view the engine last accepted.
                if self.refused == 0 {
                    self.log(&format!(
                        "membership refused: {e} (capacity {N}); the event is dropped, \
                         gdlmd keeps running"
                    ));
                }
                self.refused = self.refused.saturating_add(1);
            }
            Err(e) if self.engine.is_finished() => {
                self.log(&format!("after release, ignored: {e}"));
            }
            Err(e) => self.log(&format!("engine refused an event: {e}")),
        }
        self.pump()
    }

    /// Executes every action; feeds back immediate failures until there are none.
    fn pump(&mut self) -> io::Result<()> {
        loop {
            while let Some(a) = self.engine.poll() {
                self.execute(a)?;
            }
            if let Some((lock, status)) = self.immediate.pop() {
                self.log(&format!("{} failed at once: {status}", lock_text(lock)));
                let ev = Event::DlmDone {
                    lock,
                    status,
                    sb_flags: 0,
                    lvb: None,
                };
                let now = self.now();
                if let Err(e) = self.engine.handle(now, ev) {
                    self.log(&format!("engine refused an event: {e}"));
                }
                continue;
            }
            if let Some(jid) = self.failed_spawns.pop() {
                let ev = Event::ReplayDone {
                    jid,
                    outcome: ReplayOutcome::Failed(-EIO),
                };
                let now = self.now();
                if let Err(e) = self.engine.handle(now, ev) {
                    self.log(&format!("engine refused an event: {e}"));
                }
                continue;
            }
            return Ok(());
        }
    }

    fn execute(&mut self, a: Action) -> io::Result<()> {
        match a {
            Action::NewLockspace { .. } => {
                // dlm_create_lockspace blocks while the DLM adds this node (dlm_controld,
                // the first recovery): on a thread of its own, so the loop goes on reading
                // signals and CPG meanwhile; its result is `lockspace_created`.
                let name = self.name.clone();
                self.creating = Some(Background::spawn("gdlm-create", move || {
                    Lockspace::create(&name)
                })?);
            }
            Action::JoinGroup => self.try_join()?,
            Action::Multicast => {
                let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
                if let Some(n) = self.engine.multicast_message(&mut buf) {
                    self.outbox.push_back(buf[..n].to_vec());
                    if self.mcast_retry.is_none() {
                        self.flush_outbox()?;
                    }
                }
            }
            Action::Dlm(req) => self.dlm_call(req),
            Action::Replay { jid, reason } => self.replay(jid, reason),
            Action::Mounted { jid, first } => {
                let g = self.engine.recovery().recover_start();
                if first {
                    self.log(&format!(
                        "first mount done, others may mount (jid {jid} generation {g})"
                    ));
                }
                self.log(&format!("mounted jid {jid} generation {g}"));
            }
            Action::MountFailed(why) => {
                self.log(&format!("mount failed: {}", failure_text(why)));
                self.mount_failure = Some(why);
            }
            Action::Unblocked { .. } => {}
            Action::Release(how) => self.end = Some(End::Released(how)),
            Action::Log(l) => self.log_event(l),
        }
        Ok(())
    }

    /// `dlm_create_lockspace` returned (on its thread).
    fn lockspace_created(&mut self, r: io::Result<Lockspace>) -> io::Result<()> {
        self.creating = None;
        if self.end.is_some() {
            // The engine gave the join up meanwhile: the release takes what came.
            match r {
                Ok(ls) => self.ls = Some(ls),
                Err(e) => self.log(&format!("dlm_create_lockspace after the stop: {e}")),
            }
            return Ok(());
        }
        match r {
            Ok(mut ls) => {
                // Requests are written by a thread of their own: the kernel's write()
                // blocks while the lockspace is stopped for recovery, and this loop must
                // go on reading CPG events, signals and completions meanwhile.
                ls.start_submit_thread()?;
                self.ls = Some(ls);
                self.feed(Event::LockspaceJoined)
            }
            Err(e) => {
                self.log(&format!("error: dlm_create_lockspace: {e}"));
                self.feed(Event::LockspaceFailed(io_status(&e)))
            }
        }
    }

    /// One `cpg_join` attempt; corosync's "try again" (it is syncing) is retried from the
    /// loop's timer, for at most [`JOIN_WAIT`].
    fn try_join(&mut self) -> io::Result<()> {
        let g = format!("gdlmd:{}", self.name);
        if self.group.try_join(&g)? {
            if let Some((_, since)) = self.join_retry.take() {
                self.log(&format!(
                    "cpg join: joined after {} ms of CS_ERR_TRY_AGAIN",
                    since.elapsed().as_millis()
                ));
            }
            return Ok(());
        }
        let now = Instant::now();
        let since = match self.join_retry {
            Some((_, since)) => since,
            None => {
                self.log("cpg join: corosync answered CS_ERR_TRY_AGAIN; retrying every 100 ms");
                now
            }
        };
        if now.duration_since(since) >= JOIN_WAIT {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "cpg join: CS_ERR_TRY_AGAIN for 10 s",
            ));
        }
        self.join_retry = Some((now + JOIN_RETRY, since));
        Ok(())
    }

    /// Sends the queued multicasts in order; one corosync flow-controls stays at the head
    /// and is retried from the loop's timer.
    fn flush_outbox(&mut self) -> io::Result<()> {
        self.mcast_retry = None;
        while let Some(m) = self.outbox.front() {
            if self.group.try_mcast(m)? {
                self.outbox.pop_front();
                if let Some(since) = self.mcast_since.take() {
                    if self
                        .mcast_warn_at
                        .take()
                        .is_some_and(|w| w > since + MCAST_WARN)
                    {
                        self.log(&format!(
                            "cpg mcast: sent after {} ms of flow control",
                            since.elapsed().as_millis()
                        ));
                    }
                }
                continue;
            }
            let now = Instant::now();
            let since = *self.mcast_since.get_or_insert(now);
            let warn_at = *self.mcast_warn_at.get_or_insert(since + MCAST_WARN);
            if now >= warn_at {
                self.mcast_warn_at = Some(now + MCAST_WARN);
                self.log(&format!(
                    "cpg mcast: flow control (CS_ERR_TRY_AGAIN) for {} s, {} message(s) \
                     queued; still retrying",
                    now.duration_since(since).as_secs(),
                    self.outbox.len()
                ));
            }
            self.mcast_retry = Some(now + MCAST_RETRY);
            return Ok(());
        }
        Ok(())
    }

    /// After the engine's `Release`, one step at a time, nothing blocking the loop: running
    /// commands are killed and reaped (the engine only releases with none, or when leaving
    /// as failed), a join still in flight is waited for, the lockspace is released on a
    /// thread (forced: the DLM drops what the engine still holds), then the group is left
    /// cleanly and its leave waited for (bounded), or, leaving as failed, not at all (the
    /// others then see this process fail and recover its journal). True once done.
    fn release_progress(&mut self) -> io::Result<bool> {
        let Some(End::Released(how)) = self.end else {
            return Ok(false);
        };
        let now = Instant::now();
        let at = *self.release_at.get_or_insert_with(|| {
            self.join_retry = None;
            now
        });
        self.kill_replays("releasing");
        if !self.replays.is_empty() {
            return Ok(false);
        }
        if let Some(c) = &self.creating {
            if now.duration_since(at) < STOP_EXTRA {
                return Ok(false);
            }
            let waited = c.since.elapsed().as_secs();
            self.log(&format!(
                "dlm_create_lockspace has not returned after {waited} s; exiting without it"
            ));
            self.creating = None;
            self.release_result = Some(Err(io::Error::other("the lockspace join never returned")));
        }
        if let Some(ls) = self.ls.take() {
            self.releasing = Some(Background::spawn("gdlm-release", move || ls.release(true))?);
            return Ok(false);
        }
        if let Some(r) = &self.releasing {
            if r.since.elapsed() < RELEASE_WAIT {
                return Ok(false);
            }
            self.log(&format!(
                "the lockspace release has not returned after {} s; exiting without it",
                r.since.elapsed().as_secs()
            ));
            self.releasing = None;
            self.release_result = Some(Err(io::Error::other(
                "the lockspace release never returned",
            )));
        }
        if how == Release::Recover {
            return Ok(true);
        }
        match self.leave_until {
            None => {
                self.outbox.clear();
                self.mcast_retry = None;
                if !self.group.start_leave()? {
                    return Ok(true);
                }
                self.leave_until = Some(now + LEAVE_WAIT);
                Ok(false)
            }
            Some(until) => Ok(self.left || now >= until),
        }
    }

    /// An engine log line, one write per line of its text.
    fn log_event(&mut self, l: LogEvent) {
        if let LogEvent::CpgSlot { slot } = l {
            // The slot's submit entry is now the block generation: the line the kernel's
            // recover_slot has the values for (jid = slot - 1).
            let g = self.engine.recovery().recover_block();
            return self.log(&format!("recover_slot jid {} gen {g}", slot - 1));
        }
        let text = l.to_string();
        for line in text.split('\n') {
            self.log(line);
        }
    }

    fn dlm_call(&mut self, req: DlmRequest) {
        match self.submit(req) {
            Ok(()) => {
                let now = Instant::now();
                self.pending.insert(
                    req.lock,
                    Pending {
                        op: req.op,
                        since: now,
                        warn_at: now + SLOW_REQUEST,
                    },
                );
            }
            Err(status) => self.immediate.push((req.lock, status)),
        }
    }

    /// The libdlm call for `req`; `Err(status)` if it failed at once.
    fn submit(&mut self, req: DlmRequest) -> Result<(), i32> {
        let ls = self.ls.as_mut().ok_or(-EINVAL)?;
        let held = self.locks.get(&req.lock).copied();
        match req.op {
            DlmOp::Lock { mode, flags } => {
                // The engine's lksb buffer, lent with the call.
                let lvb = self.engine.request_lvb(&req).map(|l| *l.as_bytes());
                if flags.contains(DlmLkf::CONVERT) {
                    let id = held.ok_or(-EINVAL)?;
                    ls.convert(id, mode, flags, lvb.as_ref())
                        .map_err(|e| io_status(&e))
                } else {
                    let name = req.name();
                    let id = ls
                        .lock(name.as_bytes(), mode, flags, lvb.as_ref())
                        .map_err(|e| io_status(&e))?;
                    if let Some(old) = self.locks.insert(req.lock, id) {
                        self.by_id.remove(&old);
                    }
                    self.by_id.insert(id, req.lock);
                    Ok(())
                }
            }
            DlmOp::Unlock => {
                let id = held.ok_or(-EINVAL)?;
                ls.unlock(id, DlmLkf::empty(), None)
                    .map_err(|e| io_status(&e))
            }
        }
    }

    /// Completions read from the lockspace fd → `DlmDone`.
    /// `fd`: the lockspace fd is readable; `submitted`: the submit thread's fd is (requests
    /// written, or refused: those come back as completions with the kernel's status).
    fn dlm_ready(&mut self, fd: bool, submitted: bool) -> io::Result<()> {
        let Some(ls) = self.ls.as_mut() else {
            return Ok(());
        };
        if submitted {
            ls.take_submitted();
        }
        if fd {
            ls.dispatch()?;
        }
        while let Some(ev) = self.ls.as_mut().and_then(Lockspace::take_event) {
            if self.end.is_some() {
                continue; // released: completions of what the release drops
            }
            // BASTs: the engine's locks do not act on them (lock_dlm's control_lock and
            // journal locks have none that matter).
            let gdlm_linux::Event::Completion(c) = ev else {
                continue;
            };
            let Some(&lock) = self.by_id.get(&c.lock) else {
                continue;
            };
            if c.last {
                self.by_id.remove(&c.lock);
                self.locks.remove(&lock);
            }
            if let Some(p) = self.pending.remove(&lock) {
                let waited = p.since.elapsed();
                if waited >= SLOW_REQUEST {
                    self.log(&format!(
                        "{} {} completed after {} s",
                        lock_text(lock),
                        op_text(&p.op),
                        waited.as_secs()
                    ));
                }
            }
            let lvb = self
                .ls
                .as_ref()
                .and_then(|ls| ls.completion_lvb(&c).copied());
            self.feed(Event::DlmDone {
                lock,
                status: c.status.kernel_status(),
                sb_flags: c.sb_flags,
                lvb,
            })?;
        }
        Ok(())
    }

    fn replay(&mut self, jid: u32, reason: ReplayReason) {
        let start = self.engine.recovery().recover_start();
        let (why, generation) = reason_env(reason, start);
        if Some(jid) == self.engine.jid() {
            // gfs2_recover_func's line for our own journal (its lock is ours already).
            self.log(&format!("jid={jid}, already locked for use"));
        }
        self.log(&format!(
            "jid={jid}: Looking at journal... (reason {why}, generation {generation})"
        ));
        // The command runs under a reaper (this binary re-executed, see `reaper_main`): it
        // gets SIGTERM when gdlmd dies (PR_SET_PDEATHSIG) and then kills the command's whole
        // process group, which a pdeathsig on the shell alone would not reach.
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg0("gdlmd-reaper")
            .args(["/bin/sh", "-c"])
            .arg(&self.recover_cmd)
            .arg("gdlmd-recover")
            .arg(jid.to_string())
            .env(REAPER_ENV, std::process::id().to_string())
            .env("GDLM_LOCKSPACE", &self.name)
            .env("GDLM_JID", jid.to_string())
            .env("GDLM_GENERATION", generation.to_string())
            .env("GDLM_REASON", why)
            .env("GDLM_NODEID", self.group.me().nodeid.to_string())
            .stdin(Stdio::null())
            .env("GDLM_DAEMON_PID", std::process::id().to_string())
            // Its own process group: a terminal's ^C reaches gdlmd only, which then gives
            // the command its grace.
            .process_group(0);
        let parent = nix::unistd::getpid();
        // SAFETY: the hook runs in the forked child before exec and makes only system calls
        // that are async-signal-safe (prctl, pthread_sigmask, getppid); it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                // The reaper hears of gdlmd's death (PR_SET_PDEATHSIG, kept across exec;
                // this is the main thread, which lives as long as the process): once gdlmd
                // is gone its journal lock is released and another node may replay that
                // journal, so the command must not go on. It starts with SIGTERM and SIGCHLD
                // blocked (read from its signalfd: no window in which SIGTERM would kill it
                // before it can kill the command). If gdlmd died before the prctl, no signal
                // would come: then do not start at all.
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
                reaper_signals().thread_set_mask()?;
                if nix::unistd::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(child) => self.replays.push(Replay {
                jid,
                child,
                killed: false,
            }),
            Err(e) => {
                self.log(&format!("jid={jid}: cannot run the recovery command: {e}"));
                self.failed_spawns.push(jid);
            }
        }
    }

    /// Reaps finished recovery commands → `ReplayDone`.
    fn reap(&mut self) -> io::Result<()> {
        let mut i = 0;
        while i < self.replays.len() {
            match self.replays[i].child.try_wait()? {
                Some(status) => {
                    let r = self.replays.swap_remove(i);
                    let killed = if r.killed { ", killed on stop" } else { "" };
                    self.log(&format!(
                        "jid={}: recovery command {}{killed}",
                        r.jid,
                        exit_text(status)
                    ));
                    if self.end.is_some() {
                        continue; // killed by the release: the engine is done
                    }
                    self.feed(Event::ReplayDone {
                        jid: r.jid,
                        outcome: outcome_of(status),
                    })?;
                }
                None => i += 1,
            }
        }
        Ok(())
    }

    fn kill_replays(&mut self, why: &str) {
        let mut lines = Vec::new();
        for r in &mut self.replays {
            if !r.killed {
                r.killed = true;
                // The reaper kills the command's process group (SIGKILL) and exits as the
                // command did (SIGUSR1: its SIGTERM means that gdlmd died).
                let pid = i32::try_from(r.child.id()).unwrap_or(0);
                let _ = kill(Pid::from_raw(pid), Signal::SIGUSR1);
                lines.push(format!(
                    "jid={}: killing the recovery command (pid {pid}): {why}",
                    r.jid
                ));
            }
        }
        for l in lines {
            self.log(&l);
        }
    }

    fn on_cpg(&mut self, ev: CpgEvent) -> io::Result<()> {
        match ev {
            CpgEvent::ConfChg {
                members,
                left,
                joined,
            } => {
                let show = |v: &[CpgMember]| {
                    if v.is_empty() {
                        return "-".to_string();
                    }
                    v.iter()
                        .map(|m| format!("{}:{}", m.nodeid, m.pid))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let gone = left
                    .iter()
                    .map(|(m, r)| format!("{}:{}/{}", m.nodeid, m.pid, reason_name(*r)))
                    .collect::<Vec<_>>()
                    .join(",");
                self.log(&format!(
                    "cpg confchg members {} left {} joined {}",
                    show(&members),
                    if gone.is_empty() { "-" } else { &gone },
                    show(&joined)
                ));
                let m: Vec<Member> = members.iter().copied().map(member).collect();
                let l: Vec<(Member, LeftReason)> = left
                    .iter()
                    .map(|&(m, r)| (member(m), LeftReason::from_cpg(r)))
                    .collect();
                let j: Vec<Member> = joined.iter().copied().map(member).collect();
                self.feed(Event::CpgConfchg {
                    members: &m,
                    left: &l,
                    joined: &j,
                })
            }
            CpgEvent::Deliver { from, msg } => self.feed(Event::CpgMessage {
                from: member(from),
                bytes: &msg,
            }),
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        if sig == Signal::SIGCHLD {
            return; // reaped after every wake-up
        }
        if self.stop_at.is_none() {
            self.log(&format!(
                "signal {}: stopping (phase {:?})",
                sig.as_str(),
                self.engine.phase()
            ));
            self.stop_at = Some(Instant::now());
        } else {
            self.log(&format!("signal {}: already stopping", sig.as_str()));
        }
    }

    /// After a stop signal: tell the engine once; the commands' grace; as a last resort
    /// leave as failed.
    fn stop_progress(&mut self) -> io::Result<()> {
        let Some(at) = self.stop_at else {
            return Ok(());
        };
        if self.engine.is_finished() {
            return Ok(());
        }
        // What the stop means in each phase is the engine's (Event::Stop): give up a join,
        // interrupt control_mount, or unmount once mounted.
        if !self.stop_sent {
            self.stop_sent = true;
            if self.engine.is_mounted() {
                self.log("unmounting");
            } else {
                self.log(&format!("stopping (phase {:?})", self.engine.phase()));
            }
            self.feed(Event::Stop)?;
        }
        let waited = at.elapsed();
        if waited >= self.replay_grace && self.replays.iter().any(|r| !r.killed) {
            self.killed_on_stop = true;
            let why = format!("still running {} s after the stop signal", waited.as_secs());
            self.kill_replays(&why);
        }
        if waited >= self.replay_grace + STOP_EXTRA && !self.withdrawn && !self.engine.is_finished()
        {
            self.withdrawn = true;
            self.log(&format!(
                "the engine did not finish {} s after the stop signal (phase {:?}): \
                 leaving as failed",
                waited.as_secs(),
                self.engine.phase()
            ));
            self.kill_replays("leaving as failed");
            self.feed(Event::Withdraw)?;
        }
        Ok(())
    }

    /// When the loop must wake up at the latest.
    fn next_wake(&self) -> Option<Instant> {
        let mut t = self.engine.poll_timeout().map(|t| self.wall(t));
        let mut at = |x: Instant| t = Some(t.map_or(x, |y: Instant| y.min(x)));
        for p in self.pending.values() {
            at(p.warn_at);
        }
        if let Some(s) = self.stop_at {
            if self.replays.iter().any(|r| !r.killed) {
                at(s + self.replay_grace);
            }
            if !self.withdrawn {
                at(s + self.replay_grace + STOP_EXTRA);
            }
        }
        if self.group.has_pending() {
            at(Instant::now());
        }
        if let Some((next, _)) = self.join_retry {
            at(next);
        }
        if let Some(next) = self.mcast_retry {
            at(next);
        }
        for b in [
            self.creating.as_ref().map(|b| b.warn_at),
            self.releasing.as_ref().map(|b| b.since + RELEASE_WAIT),
        ]
        .into_iter()
        .flatten()
        {
            at(b);
        }
        if let (Some(r), Some(_)) = (self.release_at, &self.creating) {
            at(r + STOP_EXTRA);
        }
        if let Some(until) = self.leave_until {
            at(until);
        }
        t
    }

    fn warn_slow(&mut self) {
        let now = Instant::now();
        let mut lines = Vec::new();
        for (lock, p) in self.pending.iter_mut() {
            if p.warn_at <= now {
                p.warn_at = now + SLOW_REQUEST;
                lines.push(format!(
                    "{} {}: no completion after {} s; still waiting",
                    lock_text(*lock),
                    op_text(&p.op),
                    p.since.elapsed().as_secs()
                ));
            }
        }
        if let Some(c) = self.creating.as_mut() {
            if c.warn_at <= now {
                c.warn_at = now + SLOW_REQUEST;
                lines.push(format!(
                    "dlm_create_lockspace: still waiting after {} s",
                    c.since.elapsed().as_secs()
                ));
            }
        }
        for l in lines {
            self.log(&l);
        }
    }

    fn run(&mut self, sig: &mut SignalFd) -> io::Result<End> {
        self.feed(Event::Mount {
            journals: self.journals,
        })?;
        loop {
            self.stop_progress()?;
            if let Some(end) = self.end {
                if self.release_progress()? {
                    return Ok(end);
                }
            }
            let timeout = match self.next_wake() {
                None => PollTimeout::NONE,
                Some(t) => {
                    let d = t.saturating_duration_since(Instant::now());
                    // Round up: waking a little late is fine, spinning early is not.
                    let ms = d.as_nanos().div_ceil(1_000_000);
                    PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::MAX)
                }
            };
            let (sig_ready, group_ready, group_hup, ls_ready, sub_ready, bg_ready) = {
                let mut fds = Vec::with_capacity(6);
                fds.push(PollFd::new(sig.as_fd(), PollFlags::POLLIN));
                let g = self.group.fd().map(|fd| {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                    fds.len() - 1
                });
                // Not while a request is being written: results are read only after the
                // write returned (see `Lockspace::dispatch`); the submit fd says when.
                let l = self
                    .ls
                    .as_ref()
                    .filter(|ls| ls.submissions_in_flight() == 0)
                    .map(|ls| {
                        fds.push(PollFd::new(ls.as_fd(), PollFlags::POLLIN));
                        fds.len() - 1
                    });
                let sub = self.ls.as_ref().and_then(Lockspace::submit_fd).map(|fd| {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                    fds.len() - 1
                });
                // The join's or the release's thread.
                let bg = self
                    .creating
                    .as_ref()
                    .map(Background::fd)
                    .or_else(|| self.releasing.as_ref().map(Background::fd))
                    .map(|fd| {
                        fds.push(PollFd::new(fd, PollFlags::POLLIN));
                        fds.len() - 1
                    });
                match poll(&mut fds, timeout) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                }
                let rev = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
                let gr = g.map(rev).unwrap_or(PollFlags::empty());
                (
                    !rev(0).is_empty(),
                    !gr.is_empty(),
                    gr.intersects(PollFlags::POLLERR | PollFlags::POLLHUP),
                    l.map(rev).is_some_and(|r| !r.is_empty()),
                    sub.map(rev).is_some_and(|r| !r.is_empty()),
                    bg.map(rev).is_some_and(|r| !r.is_empty()),
                )
            };
            if sig_ready {
                while let Some(info) = sig.read_signal()? {
                    if let Ok(s) = Signal::try_from(info.ssi_signo as i32) {
                        self.on_signal(s);
                    }
                }
            }
            self.reap()?;
            if group_hup {
                return Err(io::Error::other("corosync connection lost"));
            }
            if group_ready || self.group.has_pending() {
                for ev in self.group.dispatch()? {
                    if self.end.is_some() {
                        // Released: only our own leave matters now.
                        self.left |= own_leave(&ev, self.group.me());
                        continue;
                    }
                    self.on_cpg(ev)?;
                }
            }
            if ls_ready || sub_ready {
                self.dlm_ready(ls_ready, sub_ready)?;
            }
            if bg_ready {
                if let Some(r) = self.creating.as_ref().and_then(Background::try_take) {
                    self.lockspace_created(r)?;
                } else if let Some(r) = self.releasing.as_ref().and_then(Background::try_take) {
                    self.releasing = None;
                    self.release_result = Some(r);
                }
            }
            let now = Instant::now();
            if self.join_retry.is_some_and(|(next, _)| next <= now) {
                self.try_join()?;
            }
            if self.mcast_retry.is_some_and(|next| next <= now) {
                self.flush_outbox()?;
            }
            // Every item due now, one at a time (the engine's call order).
            let mut rounds = 0;
            while self.end.is_none()
                && rounds < 64
                && self.engine.poll_timeout().is_some_and(|t| t <= self.now())
            {
                rounds += 1;
                let now = self.now();
                self.engine.handle_timeout(now);
                self.pump()?;
            }
            self.warn_slow();
        }
    }

    /// After the release (`release_progress`): the last line and the release's result.
    fn finish(mut self, how: Release) -> io::Result<()> {
        let r = self.release_result.take().unwrap_or(Ok(()));
        match how {
            Release::Normal => {
                self.log(if self.mount_failure.is_some() {
                    "released after the failed mount"
                } else {
                    "unmounted"
                });
                r
            }
            Release::Recover => {
                let jid = self.engine.jid();
                self.log(&format!(
                    "released as failed: the others recover jid {}",
                    jid.map_or("-".into(), |j| j.to_string())
                ));
                // No leave: closing the connection at exit is a process failure.
                std::mem::forget(self.group);
                r
            }
        }
    }

    /// The exit status (see `--help`).
    fn clean_stop(&self, how: Release) -> bool {
        if how != Release::Normal || self.stop_at.is_none() {
            return false;
        }
        match self.mount_failure {
            None => true,
            Some(MountFailure::ControlMount { error, .. }) if error == -EINTR => true,
            // Stopped before control_mount began (e.g. while joining the lockspace).
            Some(MountFailure::Interrupted) => true,
            // A command we killed on stop failed the mount; nothing is left dirty that
            // another mount would not replay again.
            Some(MountFailure::FirstMountJournal { .. } | MountFailure::OwnJournal(_)) => {
                self.killed_on_stop
            }
            Some(_) => false,
        }
    }
}

/// The environment variable that makes gdlmd a recovery command's reaper (its value:
/// gdlmd's pid).
const REAPER_ENV: &str = "GDLMD_REAPER_FOR";

/// The reaper's arguments: the command it runs.
#[derive(Parser, Debug)]
#[command(
    name = "gdlmd-reaper",
    about = "gdlmd's recovery-command reaper (internal)"
)]
struct ReaperArgs {
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<std::ffi::OsString>,
}

/// The signals the reaper reads from its signalfd (blocked from its exec on).
fn reaper_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGUSR1);
    set.add(Signal::SIGCHLD);
    set
}

/// gdlmd (`pid`) is still this reaper's parent and not exiting. PR_SET_PDEATHSIG fires when
/// the thread that started the reaper (gdlmd's main thread) exits: the reaper may then have
/// been handed to another of gdlmd's threads (same pid) that is dying too, so `getppid`
/// alone does not tell; the main thread's state does (a zombie once it has exited).
fn parent_alive(pid: i32) -> bool {
    if nix::unistd::getppid().as_raw() != pid {
        return false;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|t| t.trim_start().chars().next()))
        .flatten()
        .is_some_and(|c| c != 'Z' && c != 'X')
}

/// A recovery command's reaper: gdlmd re-executed (`GDLMD_REAPER_FOR` set) between gdlmd
/// and the command's shell. It runs the command in a process group of its own and waits;
/// SIGTERM (gdlmd died: PR_SET_PDEATHSIG, set before exec) or SIGUSR1 (gdlmd stops the
/// command) kills that whole group with SIGKILL; when the shell exits, whatever it left running in
/// its group is killed too (nothing may go on replaying once the result is reported). It
/// exits as the shell did (same code, or the same signal), which is what gdlmd reports.
/// Why a process: PR_SET_PDEATHSIG reaches only a direct child, and a subreaper or killpg
/// in gdlmd's exit path does nothing when gdlmd is SIGKILLed or crashes.
fn reaper_main(parent: &std::ffi::OsStr) -> ExitCode {
    let args = ReaperArgs::parse();
    let parent: i32 = parent.to_str().and_then(|p| p.parse().ok()).unwrap_or(0);
    if nix::unistd::getppid().as_raw() != parent {
        return ExitCode::from(125); // gdlmd is gone already: do not start
    }
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        eprintln!("{} gdlmd-reaper: {what}: {e}", stamp());
        ExitCode::from(126)
    };
    let sig = match SignalFd::with_flags(&reaper_signals(), SfdFlags::SFD_CLOEXEC) {
        Ok(s) => s,
        Err(e) => return fail("signalfd", &e),
    };
    let mut cmd = Command::new(&args.command[0]);
    cmd.args(&args.command[1..])
        .env_remove(REAPER_ENV)
        .process_group(0);
    // SAFETY: as in `Daemon::replay`: only async-signal-safe calls, no allocation.
    unsafe {
        cmd.pre_exec(|| {
            // If the reaper itself is killed, the shell goes with it.
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            SigSet::empty().thread_set_mask()?;
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fail("cannot run the command", &e),
    };
    let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    let mut said = false;
    loop {
        match sig.read_signal() {
            Ok(Some(info)) if info.ssi_signo == Signal::SIGUSR1 as u32 => {
                // gdlmd stops the command (it logs that itself).
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            Ok(Some(info)) if info.ssi_signo == Signal::SIGTERM as u32 => {
                let _ = killpg(pgid, Signal::SIGKILL);
                // PR_SET_PDEATHSIG (gdlmd died; it may come once per thread of gdlmd's that
                // inherits the reaper while dying), or someone else's SIGTERM. Say which,
                // once, in gdlmd's log form and one write, so the run's end is on record.
                if !said {
                    said = true;
                    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "-".into());
                    // The dying thread may not be a zombie yet: look again a little later.
                    let alive = parent_alive(parent) && {
                        std::thread::sleep(Duration::from_millis(100));
                        parent_alive(parent)
                    };
                    let why = if alive {
                        format!("the reaper got SIGTERM (gdlmd pid {parent} runs)")
                    } else {
                        format!("gdlmd (pid {parent}) died")
                    };
                    let line = log_line(
                        &var("GDLM_LOCKSPACE"),
                        &format!("jid={}: recovery command killed: {why}", var("GDLM_JID")),
                    );
                    let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
                }
            }
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                let _ = killpg(pgid, Signal::SIGKILL);
                let _ = child.wait();
                return fail("signalfd", &e);
            }
        }
        // Exited? Look without reaping: the zombie keeps the group's id from being reused
        // while the rest of the group is killed.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(pgid), flags) {
            Ok(WaitStatus::StillAlive) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return fail("waitid", &e),
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        return match child.wait() {
            Ok(st) => exit_as(st),
            Err(e) => fail("wait", &e),
        };
    }
}

/// Ends this process as `st` ended: the same exit code, or the same signal.
fn exit_as(st: ExitStatus) -> ExitCode {
    if let Some(code) = st.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(s) = st.signal().and_then(|s| Signal::try_from(s).ok()) {
        // SAFETY: restoring the default action of one signal in this single-threaded
        // process, which then raises it at itself.
        unsafe {
            let _ = nix::sys::signal::signal(s, nix::sys::signal::SigHandler::SigDfl);
        }
        let mut one = SigSet::empty();
        one.add(s);
        let _ = one.thread_unblock();
        let _ = nix::sys::signal::raise(s);
        return ExitCode::from(128u8.saturating_add(s as u8));
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    if let Some(parent) = std::env::var_os(REAPER_ENV) {
        return reaper_main(&parent);
    }
    let args = Args::parse();
    match start(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{} gdlmd: {e}", stamp());
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM and SIGINT stop; SIGCHLD wakes the loop for a finished recovery command.
fn signals() -> io::Result<SignalFd> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.add(Signal::SIGCHLD);
    set.thread_block()?;
    Ok(SignalFd::with_flags(
        &set,
        SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    )?)
}

/// Runs the daemon; `Ok(true)` for a clean stop.
fn start(args: Args) -> io::Result<bool> {
    let mut sig = signals()?;
    let log_file = match &args.log_file {
        Some(p) => Some(File::options().create(true).append(true).open(p)?),
        None => None,
    };
    let group = if args.loopback_group {
        Group::Loopback {
            me: CpgMember {
                nodeid: 1,
                pid: std::process::id(),
            },
            queue: VecDeque::new(),
            busy: args.loopback_busy,
        }
    } else {
        Group::Cpg(Cpg::connect()?)
    };
    let mut d = Daemon::new(&args, group, log_file);
    let me = member(d.group.me());
    d.log(&format!(
        "started: node {} pid {} group gdlmd:{}",
        me.nodeid, me.pid, d.name
    ));
    match d.run(&mut sig) {
        Ok(End::Released(how)) => {
            let clean = d.clean_stop(how);
            let failed = d.mount_failure.is_some();
            d.finish(how)?;
            Ok(clean || (!failed && how == Release::Normal))
        }
        Err(e) => {
            d.log(&format!("error: {e}"));
            d.kill_replays("exiting on an error");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses() {
        let a = Args::try_parse_from([
            "gdlmd",
            "ls1",
            "--recover-cmd",
            "echo $GDLM_JID",
            "--journals",
            "3",
        ])
        .unwrap();
        assert_eq!(a.lockspace, "ls1");
        assert_eq!(a.journals, 3);
        assert_eq!(a.replay_grace, 30);
        assert!(a.log_file.is_none() && !a.loopback_group);
        assert!(Args::try_parse_from(["gdlmd", "ls1", "--recover-cmd", "x"]).is_err());
        for bad in ["0", "193"] {
            let r = Args::try_parse_from(["gdlmd", "l", "--recover-cmd", "x", "--journals", bad]);
            assert!(r.is_err(), "--journals {bad}");
        }
        let a = Args::try_parse_from(["gdlmd", "l", "--recover-cmd", "x", "--journals", "192"]);
        assert_eq!(a.unwrap().journals, 192);
    }

    #[test]
    fn log_lines_carry_the_prefix() {
        let l = log_line("ls1", "recover generation 4 done");
        assert!(l.starts_with('['));
        assert!(l.ends_with("] gdlmd: ls1: recover generation 4 done"));
    }

    #[test]
    fn replay_reasons_keep_the_contracts_names() {
        assert_eq!(reason_env(ReplayReason::Own, 7), ("mount", 7));
        assert_eq!(reason_env(ReplayReason::FirstMount, 1), ("first-mount", 1));
        let r = ReplayReason::Recovery { generation: 4 };
        assert_eq!(reason_env(r, 9), ("failed", 4));
    }

    #[test]
    fn exit_statuses_map_to_outcomes() {
        let ok = ExitStatus::from_raw(0);
        let three = ExitStatus::from_raw(3 << 8);
        let killed = ExitStatus::from_raw(9);
        assert_eq!(outcome_of(ok), ReplayOutcome::Success);
        assert_eq!(outcome_of(three), ReplayOutcome::Failed(-EIO));
        assert_eq!(outcome_of(killed), ReplayOutcome::Failed(-EIO));
        assert_eq!(exit_text(three), "exit 3");
        assert_eq!(exit_text(killed), "signal 9");
    }

    #[test]
    fn failures_read_for_a_person() {
        let f = MountFailure::FirstMountJournal { jid: 1, error: -5 };
        assert!(failure_text(f).contains("journal 1 (-5)"));
        let i = MountFailure::ControlMount {
            error: -EINTR,
            reason: ControlFailure::Interrupted,
        };
        assert_eq!(failure_text(i), "control_mount interrupted (-4)");
    }

    /// The engines of a group, fed the same CPG events in the same order (what corosync
    /// guarantees), sync messages relayed in agreed order: the generations, slots and
    /// failed jids `ci/realdlm/scenarios/gdlmd-cluster3.sh` asserts from gdlmd's lines.
    #[test]
    fn the_cluster3_scenario_derives_the_same_generations_everywhere() {
        use gdlm_linux::cpg::{CPG_REASON_LEAVE, CPG_REASON_NODEDOWN, CPG_REASON_PROCDOWN};
        type Node = (CpgMember, Box<Engine<N>>);
        let p = |nodeid, pid| CpgMember { nodeid, pid };
        let t = EngineInstant::ZERO;
        let mut view: Vec<CpgMember> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        // (member, generation, jids of recover_slot lines) of every synthesized recover_done
        let drain = |me: CpgMember,
                     e: &mut Engine<N>,
                     out: &mut Vec<(CpgMember, u32, Vec<i32>)>,
                     bus: &mut Vec<(CpgMember, Vec<u8>)>| {
            let mut slots = Vec::new();
            while let Some(a) = e.poll() {
                match a {
                    Action::Log(LogEvent::CpgSlot { slot }) => slots.push(slot - 1),
                    Action::Log(LogEvent::CpgDone { generation, .. }) => {
                        out.push((me, generation, std::mem::take(&mut slots)))
                    }
                    Action::Multicast => {
                        let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
                        let n = e.multicast_message(&mut buf).unwrap();
                        bus.push((me, buf[..n].to_vec()));
                    }
                    _ => {}
                }
            }
        };
        let mut step = |left: Vec<(CpgMember, u32)>, joined: Vec<CpgMember>| {
            view.retain(|m| !left.iter().any(|(l, _)| l == m));
            view.extend(joined.iter().copied());
            nodes.retain(|(m, _)| view.contains(m));
            for &j in &joined {
                let mut e = Box::new(Engine::<N>::new(Config {
                    callbacks: Callbacks::Cpg(member(j)),
                    // The CpgSlot/CpgDone lines below are debug lines.
                    debug_logs: true,
                    ..Config::default()
                }));
                e.handle(t, Event::Mount { journals: 3 }).unwrap();
                e.handle(t, Event::LockspaceJoined).unwrap();
                while e.poll().is_some() {}
                nodes.push((j, e));
            }
            let m: Vec<Member> = view.iter().copied().map(member).collect();
            let l: Vec<(Member, LeftReason)> = left
                .iter()
                .map(|&(m, r)| (member(m), LeftReason::from_cpg(r)))
                .collect();
            let j: Vec<Member> = joined.iter().copied().map(member).collect();
            let mut out = Vec::new();
            let mut bus = Vec::new();
            for (me, e) in nodes.iter_mut() {
                let ev = Event::CpgConfchg {
                    members: &m,
                    left: &l,
                    joined: &j,
                };
                e.handle(t, ev).unwrap();
                drain(*me, e, &mut out, &mut bus);
            }
            let mut i = 0;
            while i < bus.len() {
                let (from, msg) = bus[i].clone();
                for (me, e) in nodes.iter_mut() {
                    let ev = Event::CpgMessage {
                        from: member(from),
                        bytes: &msg,
                    };
                    e.handle(t, ev).unwrap();
                    let mut more = Vec::new();
                    drain(*me, e, &mut out, &mut more);
                    bus.extend(more);
                }
                i += 1;
            }
            out.sort();
            out
        };
        let (n1, n2a, n3a) = (p(1, 10), p(2, 20), p(3, 30));
        let (n3b, n2b, n2c) = (p(3, 31), p(2, 21), p(2, 22));
        assert_eq!(step(vec![], vec![n1]), vec![(n1, 1, vec![])]);
        assert_eq!(
            step(vec![], vec![n2a]),
            vec![(n1, 2, vec![]), (n2a, 2, vec![])]
        );
        let g = step(vec![], vec![n3a]);
        assert_eq!(g.iter().map(|x| x.1).collect::<Vec<_>>(), [3, 3, 3]);
        // node 3's gdlmd is SIGKILLed: jid 2 failed, generation 4
        let g = step(vec![(n3a, CPG_REASON_PROCDOWN)], vec![]);
        assert_eq!(g, vec![(n1, 4, vec![2]), (n2a, 4, vec![2])]);
        let g = step(vec![], vec![n3b]);
        assert_eq!(g.last(), Some(&(n3b, 5, vec![])));
        // node 2's gdlmd is SIGKILLed: jid 1, generation 6
        let g = step(vec![(n2a, CPG_REASON_PROCDOWN)], vec![]);
        assert_eq!(g, vec![(n1, 6, vec![1]), (n3b, 6, vec![1])]);
        assert!(step(vec![], vec![n2b]).contains(&(n2b, 7, vec![])));
        // clean unmount: no failed jid, generation 8
        let g = step(vec![(n2b, CPG_REASON_LEAVE)], vec![]);
        assert_eq!(g, vec![(n1, 8, vec![]), (n3b, 8, vec![])]);
        assert!(step(vec![], vec![n2c]).contains(&(n2c, 9, vec![])));
        // node 3's VM is killed: jid 2, generation 10
        let g = step(vec![(n3b, CPG_REASON_NODEDOWN)], vec![]);
        assert_eq!(g, vec![(n1, 10, vec![2]), (n2c, 10, vec![2])]);
    }
    /// corosync's flow control on a multicast: the message stays queued (in order, with the
    /// ones behind it), the loop's timer is armed for the retry, and once corosync takes
    /// them they go out in order.
    #[test]
    fn a_flow_controlled_multicast_is_retried_from_the_timer_in_order() {
        let args =
            Args::try_parse_from(["gdlmd", "lsm", "--recover-cmd", "true", "--journals", "2"])
                .unwrap();
        let me = CpgMember { nodeid: 1, pid: 7 };
        let group = Group::Loopback {
            me,
            queue: VecDeque::new(),
            busy: 3,
        };
        let mut d = Daemon::new(&args, group, None);
        d.outbox.push_back(vec![1]);
        d.outbox.push_back(vec![2]);
        for _ in 0..3 {
            d.flush_outbox().unwrap();
            let retry = d.mcast_retry.expect("a retry is armed");
            assert!(d.next_wake().is_some_and(|t| t <= retry));
            assert_eq!(d.outbox.len(), 2);
            assert!(!d.group.has_pending(), "nothing was sent");
        }
        d.flush_outbox().unwrap();
        assert!(d.mcast_retry.is_none() && d.outbox.is_empty());
        let sent: Vec<Vec<u8>> = d
            .group
            .dispatch()
            .unwrap()
            .into_iter()
            .map(|e| match e {
                CpgEvent::Deliver { msg, .. } => msg,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sent, [vec![1], vec![2]]);
    }

    /// A refused membership change is one clear line, then a count; the daemon goes on
    /// and says when the group is accepted again.
    #[test]
    fn a_membership_refusal_is_logged_once_and_does_not_stop_the_daemon() {
        let dir = std::env::temp_dir().join(format!("gdlmd-refusal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let args =
            Args::try_parse_from(["gdlmd", "lsr", "--recover-cmd", "true", "--journals", "2"])
                .unwrap();
        let me = CpgMember { nodeid: 1, pid: 7 };
        let group = Group::Loopback {
            me,
            queue: VecDeque::new(),
            busy: 0,
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let mut d = Daemon::new(&args, group, Some(log));
        // Mounting as far as joining the group (no lockspace: the DLM calls fail at once,
        // which the engine takes as their completions).
        d.engine
            .handle(d.now(), Event::Mount { journals: 2 })
            .unwrap();
        d.engine.handle(d.now(), Event::LockspaceJoined).unwrap();
        while d.engine.poll().is_some() {}
        let other = CpgMember { nodeid: 2, pid: 9 };
        // A view without us, twice: refused (NotInGroup), state unchanged.
        for _ in 0..2 {
            let ev = CpgEvent::ConfChg {
                members: vec![other],
                left: vec![],
                joined: vec![other],
            };
            d.on_cpg(ev).unwrap();
        }
        assert_eq!(d.refused, 2);
        assert_eq!(d.engine.phase(), gdlm_core::engine::Phase::Joining);
        // Our own join (alone) is accepted: the engine goes on to mount.
        let ev = CpgEvent::ConfChg {
            members: vec![me],
            left: vec![],
            joined: vec![me],
        };
        d.on_cpg(ev).unwrap();
        assert_eq!(d.refused, 0);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("membership refused:").count(), 1, "{text}");
        assert!(text.contains("gdlmd keeps running"), "{text}");
        assert!(
            text.contains("membership accepted again after 2 refused event(s)"),
            "{text}"
        );
        assert_ne!(
            d.engine.phase(),
            gdlm_core::engine::Phase::Joining,
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
