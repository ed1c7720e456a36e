// SPDX-License-Identifier: GPL-2.0-only
//! `gdlmd`: gfs2's lock_dlm mount and journal-recovery protocol over a userspace DLM
//! lockspace, with recovery callbacks synthesized from a corosync CPG group.
//!
//! ```text
//! gdlmd LOCKSPACE --recover-cmd CMD [--journals N] [--log-file PATH]
//! ```
//! It creates (or joins) the lockspace, joins the CPG group `gdlmd:LOCKSPACE`, and once the
//! group has given it a slot and generation (`gdlm_core::membership`) mounts like
//! `gdlm_mount` (`control_mount` over control_lock/mounted_lock, first-mounter election), then
//! holds its journal lock (`LM_TYPE_JOURNAL`, number = jid, EX) like gfs2's `init_journal`.
//! When members fail it runs the control step (`gfs2_control_func`) and, for each jid it must
//! recover, tries that journal's lock (NOQUEUE): busy → result GAVEUP, the control work runs
//! again after 1 s (`gdlm_recovery_result`); granted → `sh -c CMD gdlmd-recover JID` with
//! `GDLM_LOCKSPACE`, `GDLM_JID`, `GDLM_GENERATION`, `GDLM_REASON` (`failed`, `mount` for its
//! own journal, `first-mount` for the first mounter's pass over every journal) and
//! `GDLM_NODEID` in the environment; exit status 0 is success, anything else failure
//! (reported as GAVEUP, as gfs2's `gfs2_recover_func` does, so it is retried after 1 s).
//! The command must be idempotent: as in gfs2, the journal lock is released before the
//! result is reported, so another member may run it again for a journal already recovered.
//! All protocol decisions are gdlm-core's; this file does the I/O and the logging.
//!
//! Log lines go to stderr (and `--log-file`), `[monotonic s] gdlmd: LOCKSPACE: text`, with
//! the kernel's texts where lock_dlm.c has one. SIGTERM or SIGINT unmounts cleanly: journal
//! lock, mounted_lock and control_lock unlocked, lockspace released, CPG left (the others
//! see a clean leave: no journal recovery).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use gdlm_core::consts::{LM_RD_GAVEUP, LM_RD_SUCCESS};
use gdlm_core::membership::{Change, LeftReason, Member, Membership, SyncMsg};
use gdlm_core::mount::{FirstDoneStep, RetryReason};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId as SyncId, ResultOutcome,
    SyncLock,
};
use gdlm_core::{
    ControlLvb, ControlMount, DlmLkf, DlmMode, FirstDone, LockName, MountStep, Recovery, SizePolicy,
};
use gdlm_linux::cpg::reason_name;
use gdlm_linux::status::LM_TYPE_JOURNAL;
use gdlm_linux::{Cpg, CpgEvent, CpgMember, LockId, Lockspace, Status};

/// Members, slots and jids this daemon handles.
const MAX: usize = 16;
/// How long one DLM request may take before the daemon gives up on it.
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
/// `HZ`: the GAVEUP requeue delay of `gdlm_recovery_result`.
const GAVEUP_DELAY: Duration = Duration::from_secs(1);
/// How long running recovery commands may delay an unmount before they are killed.
const UNMOUNT_CHILD_WAIT: Duration = Duration::from_secs(30);

/// The recovery command's contract and the exit statuses (`gdlmd --help`, README).
const AFTER_HELP: &str = "\
Recovery command (--recover-cmd CMD):
  Run as `/bin/sh -c CMD gdlmd-recover JID` (so $1 is the jid) while gdlmd holds that
  journal's lock (LM_TYPE_JOURNAL 9, number JID) EX, with stdin /dev/null, gdlmd's stdout
  and stderr, and in the environment:
    GDLM_LOCKSPACE   the lockspace
    GDLM_JID         the journal to recover
    GDLM_GENERATION  the recovery generation it belongs to
    GDLM_REASON      failed (a member failed), mount (this node's own journal at mount),
                     first-mount (the first mounter's pass over every journal)
    GDLM_NODEID      this node's corosync node id
  Exit status 0: the journal is recovered (`recover jid J result success`). Anything else,
  or death by a signal: failure, reported as gaveup and retried about 1 s later, by this or
  another member. Different jids may run concurrently; one jid never runs twice at once
  cluster-wide, but may run again after a success (the lock is released before the result
  is shared), so the command must be idempotent, as gfs2's journal replay is. On SIGTERM or
  SIGINT running commands get up to 30 s, then SIGKILL.

Exit status:
  0  stopped by SIGTERM or SIGINT and unmounted cleanly (locks released, lockspace
     released, CPG group left: the others recover nothing for this node)
  1  an error (lockspace, CPG or DLM request failed; logged as `error: ...`); the other
     members treat the exit as a failure of this node and recover its journal
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
        when members fail runs the recovery command for their journals. Logs go to stderr \
        (and --log-file) as `[monotonic s] gdlmd: LOCKSPACE: text`.",
    after_help = AFTER_HELP
)]
struct Args {
    /// The DLM lockspace (also names the CPG group `gdlmd:LOCKSPACE`).
    lockspace: String,
    /// Shell command that recovers a journal (see "Recovery command" below).
    #[arg(long, value_name = "CMD")]
    recover_cmd: String,
    /// Journals the first mounter recovers (jids 0..N); 0: only its own.
    #[arg(long, default_value_t = 0)]
    journals: u32,
    /// Also append every log line to this file.
    #[arg(long)]
    log_file: Option<std::path::PathBuf>,
}

/// Why a journal is being recovered (`GDLM_REASON`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    /// The first mounter recovers every journal before `first_done`.
    FirstMount,
    /// A non-first mounter replays its own journal.
    Mount,
    /// The control step found the jid's bit set: a member failed.
    Failed,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::FirstMount => "first-mount",
            Reason::Mount => "mount",
            Reason::Failed => "failed",
        }
    }
}

/// One journal recovery (`gfs2_recover_set` queues it, `gfs2_recover_func` runs it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Job {
    jid: u32,
    generation: u32,
    reason: Reason,
}

struct Running {
    job: Job,
    child: Child,
    /// The journal lock taken with TRY for this job (none for our own journal).
    lock: Option<LockId>,
}

/// What the daemon is doing in gfs2's mount sequence.
enum Phase {
    /// Waiting for the group to give us a slot and generation (our first recover_done).
    Joining,
    /// In `control_mount`, sleeping until the deadline before the next control_lock EX.
    Mounting(ControlMount, Option<Instant>),
    /// First mounter: recovering every journal, then `control_first_done`.
    FirstRecovery,
    /// `control_first_done` waits for a DLM recovery cycle to end.
    FirstDoneWait(FirstDone),
    /// Mounted.
    Mounted,
}

/// `[monotonic] gdlmd: LS: text` (the monotonic clock is the guest's uptime, like dmesg).
fn stamp() -> String {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    format!("[{:5}.{:06}]", ts.tv_sec, ts.tv_nsec / 1000)
}

fn log_line(ls: &str, msg: &str) -> String {
    format!("{} gdlmd: {ls}: {msg}", stamp())
}

/// The text `gdlm_recovery_result` logs for a result (the kernel says "busy" for GAVEUP and
/// "success" for anything else; gdlmd names command failures apart).
fn result_name(result: u32, failed_cmd: bool) -> &'static str {
    match result {
        LM_RD_SUCCESS => "success",
        _ if failed_cmd => "failure",
        LM_RD_GAVEUP => "gaveup",
        _ => "failure",
    }
}

fn journal_name(jid: u32) -> gdlm_core::name::ResName {
    LockName::new(LM_TYPE_JOURNAL, u64::from(jid)).encode()
}

fn member(m: CpgMember) -> Member {
    Member::new(m.nodeid, m.pid)
}

/// A CPG configuration change as `Membership::confchg` takes it.
#[allow(clippy::type_complexity)]
fn membership_inputs(
    members: &[CpgMember],
    left: &[(CpgMember, u32)],
    joined: &[CpgMember],
) -> (Vec<Member>, Vec<(Member, LeftReason)>, Vec<Member>) {
    (
        members.iter().copied().map(member).collect(),
        left.iter()
            .map(|&(m, r)| (member(m), LeftReason::from_cpg(r)))
            .collect(),
        joined.iter().copied().map(member).collect(),
    )
}

fn slots_text(slots: &[i32]) -> String {
    slots
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The signals that unmount: SIGTERM and SIGINT.
fn stop_signals() -> libc::sigset_t {
    // SAFETY: `sigset_t` is plain data; the calls only write the local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        set
    }
}

/// A signalfd for SIGTERM and SIGINT (blocked for the process, so they only arrive here).
struct Signals(RawFd);

impl Signals {
    fn new() -> io::Result<Signals> {
        let set = stop_signals();
        // SAFETY: `sigprocmask` only changes this (single-threaded) process's mask;
        // `signalfd(-1, ..)` makes a new fd we own.
        unsafe {
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Signals(fd))
        }
    }

    /// The signal number read, if one is pending.
    fn read(&self) -> Option<u32> {
        // SAFETY: `signalfd_siginfo` is plain data; `read` fills at most its size.
        unsafe {
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let n = libc::read(
                self.0,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            );
            (n as usize == std::mem::size_of::<libc::signalfd_siginfo>()).then_some(info.ssi_signo)
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // SAFETY: the fd is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

struct Daemon {
    name: String,
    recover_cmd: String,
    journals: u32,
    log_file: Option<File>,
    ls: Lockspace,
    cpg: Cpg,
    rec: Recovery<MAX>,
    members: Membership<MAX>,
    phase: Phase,
    control: Option<LockId>,
    mounted: Option<LockId>,
    journal: Option<LockId>,
    /// When the control work (`sd_control_work`) is queued to run.
    control_at: Option<Instant>,
    queue: VecDeque<Job>,
    /// Recoveries in progress, one per jid (gfs2's recovery workqueue runs them concurrently).
    running: Vec<Running>,
    stop: bool,
}

impl Daemon {
    fn log(&mut self, msg: &str) {
        let line = log_line(&self.name, msg);
        // One write per line, newline included: a console shared with the kernel's printk
        // then never gets a kernel message between a line and its end.
        let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
        if let Some(f) = self.log_file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }

    fn lock_slot(&mut self, which: SyncId) -> &mut Option<LockId> {
        match which {
            SyncId::Control => &mut self.control,
            SyncId::Mounted => &mut self.mounted,
        }
    }

    /// `sync_lock`: make the call and wait for its completion; returns the status as the
    /// kernel sees it and the LVB read when the call had VALBLK.
    fn sync_lock(&mut self, call: SyncLock) -> io::Result<(i32, Option<ControlLvb>)> {
        let lvb = call.lvb.map(|l| *l.as_bytes());
        let id = if call.flags.contains(DlmLkf::CONVERT) {
            let id = self
                .lock_slot(call.lock)
                .ok_or_else(|| io::Error::other(format!("convert of unheld {:?}", call.lock)))?;
            self.ls.convert(id, call.mode, call.flags, lvb.as_ref())?;
            id
        } else {
            let name = call.lock.name();
            let id = self
                .ls
                .lock(name.as_bytes(), call.mode, call.flags, lvb.as_ref())?;
            *self.lock_slot(call.lock) = Some(id);
            id
        };
        let c = self.ls.wait_completion(id, LOCK_TIMEOUT)?;
        if c.last {
            *self.lock_slot(call.lock) = None;
        }
        Ok((c.status.kernel_status(), c.lvb.map(ControlLvb::from_array)))
    }

    /// `sync_unlock`.
    fn sync_unlock(&mut self, which: SyncId) -> io::Result<i32> {
        let Some(id) = self.lock_slot(which).take() else {
            return Ok(0);
        };
        self.ls.unlock(id, DlmLkf::empty(), None)?;
        let c = self.ls.wait_completion(id, LOCK_TIMEOUT)?;
        Ok(match c.status {
            Status::Unlocked => 0,
            s => s.kernel_status(),
        })
    }

    fn unlock_lock(&mut self, id: LockId) -> io::Result<()> {
        self.ls.unlock(id, DlmLkf::empty(), None)?;
        self.ls.wait_completion(id, LOCK_TIMEOUT).map(|_| ())
    }

    // ------------------------------------------------------------ membership → callbacks

    fn on_cpg(&mut self, ev: CpgEvent) -> io::Result<()> {
        let change = match ev {
            CpgEvent::ConfChg {
                members,
                left,
                joined,
            } => {
                let show = |v: &[CpgMember]| {
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
                    if joined.is_empty() {
                        "-".to_string()
                    } else {
                        show(&joined)
                    }
                ));
                let (m, l, j) = membership_inputs(&members, &left, &joined);
                self.members.confchg(&m, &l, &j)
            }
            CpgEvent::Deliver { from, msg } => self.members.deliver(member(from), &msg),
        };
        match change {
            Ok(c) => self.on_change(c),
            Err(e) => {
                self.log(&format!("membership refused an event: {e}"));
                Ok(())
            }
        }
    }

    /// The DLM's callbacks, synthesized: recover_prep, recover_slot per failed slot,
    /// recover_done (`gdlm_recover_prep/slot/done`), then the sync message to joiners.
    fn on_change(&mut self, c: Change<MAX>) -> io::Result<()> {
        if c.prep {
            self.rec.recover_prep();
        }
        for &slot in &c.failed {
            match self.rec.recover_slot(slot) {
                Ok(r) => {
                    let msg = match r.prev {
                        Some(p) => {
                            format!("recover_slot jid {} gen {} prev {p}", r.jid, r.generation)
                        }
                        None => format!("recover_slot jid {} gen {}", r.jid, r.generation),
                    };
                    self.log(&msg);
                }
                Err(e) => self.log(&format!("recover_slot slot {slot}: {e}")),
            }
        }
        let mut first_done = false;
        if let Some(d) = &c.done {
            let first = self.rec.recover_mount() == 0;
            match self.rec.recover_done(&d.slots, d.our_slot, d.generation) {
                Ok(work) => {
                    self.log(&format!(
                        "recover_done generation {} our slot {} slots {}",
                        d.generation,
                        d.our_slot,
                        slots_text(&d.slots)
                    ));
                    if work.is_some() {
                        self.queue_control(Duration::ZERO);
                    }
                    first_done = first;
                }
                Err(e) => self.log(&format!("recover_done generation {}: {e}", d.generation)),
            }
        }
        if let Some(sync) = &c.sync {
            let mut buf = [0u8; SyncMsg::<MAX>::MAX_LEN];
            if let Some(n) = sync.encode(&mut buf) {
                self.cpg.mcast(&buf[..n])?;
            }
        }
        if c.done.is_some() {
            if first_done && matches!(self.phase, Phase::Joining) {
                self.start_mount()?;
            } else if matches!(self.phase, Phase::FirstDoneWait(_)) {
                // wake_up_bit(DFL_DLM_RECOVERY): control_first_done goes on.
                let Phase::FirstDoneWait(fd) =
                    std::mem::replace(&mut self.phase, Phase::FirstRecovery)
                else {
                    unreachable!()
                };
                self.run_first_done(fd)?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ mount

    /// `gdlm_mount` → `control_mount`, once the first recover_done gave us a jid.
    fn start_mount(&mut self) -> io::Result<()> {
        let mut m = ControlMount::new();
        let step = m.start(&mut self.rec);
        self.phase = Phase::Mounting(m, None);
        self.drive_mount(step)
    }

    fn mount_machine(&mut self) -> &mut ControlMount {
        match &mut self.phase {
            Phase::Mounting(m, _) => m,
            _ => unreachable!("mount step outside control_mount"),
        }
    }

    fn drive_mount(&mut self, mut step: MountStep) -> io::Result<()> {
        loop {
            step = match step {
                MountStep::Lock(call) => {
                    let (status, lvb) = self.sync_lock(call)?;
                    if status != 0 && status != -gdlm_core::consts::EAGAIN {
                        self.log(&format!(
                            "control_mount {} {:?} error {status}",
                            lock_text(call.lock),
                            call.mode
                        ));
                    }
                    // The machine (in `self.phase`) is Copy: step a copy, then put it back.
                    let mut m = *self.mount_machine();
                    let r = m.on_lock_result(&mut self.rec, status, lvb.as_ref());
                    *self.mount_machine() = m;
                    r.map_err(|e| io::Error::other(format!("control_mount: {e}")))?
                }
                MountStep::Unlock(which) => {
                    let status = self.sync_unlock(which)?;
                    let mut m = *self.mount_machine();
                    let r = m.on_unlock_result(status);
                    *self.mount_machine() = m;
                    r.map_err(|e| io::Error::other(format!("control_mount: {e}")))?
                }
                MountStep::Sleep { ms } => {
                    let m = *self.mount_machine();
                    if m.retries() > 1 {
                        self.log_mount_wait(&m);
                    }
                    let at = Instant::now() + Duration::from_millis(u64::from(ms));
                    if let Phase::Mounting(_, sleep) = &mut self.phase {
                        *sleep = Some(at);
                    }
                    return Ok(());
                }
                MountStep::Mounted { first } => return self.after_mount(first),
                MountStep::Failed { error, .. } => {
                    self.log(&format!("mount control error {error}"));
                    return Err(io::Error::other(format!("mount failed: {error}")));
                }
            };
        }
    }

    /// control_mount's restart lines.
    fn log_mount_wait(&mut self, m: &ControlMount) {
        let (b, s, mnt) = (
            self.rec.recover_block(),
            self.rec.recover_start(),
            self.rec.recover_mount(),
        );
        let lvb = m.lvb_gen().unwrap_or(0);
        let flags = self.rec.flags().bits();
        let vals = format!("block {b} start {s} mount {mnt} lvb {lvb} flags {flags:x}");
        match m.last_retry() {
            Some(RetryReason::WaitJournals) => self.log("control_mount wait for journal recovery"),
            Some(RetryReason::Wait1) => self.log(&format!("control_mount wait1 {vals}")),
            Some(RetryReason::Wait2) => self.log(&format!("control_mount wait2 {vals}")),
            Some(RetryReason::Wait3) => self.log(&format!("control_mount wait3 {vals}")),
            Some(RetryReason::ControlBusy) | None => {}
        }
    }

    fn mount_sleep_done(&mut self) -> io::Result<()> {
        let mut m = *self.mount_machine();
        let r = m.on_sleep_done();
        *self.mount_machine() = m;
        let step = r.map_err(|e| io::Error::other(format!("control_mount: {e}")))?;
        self.drive_mount(step)
    }

    /// After `gdlm_mount`: gfs2's `init_journal` takes our journal lock EX (waiting for it),
    /// then recovers journals: every one if first mounter, else our own.
    fn after_mount(&mut self, first: bool) -> io::Result<()> {
        let m = *self.mount_machine();
        let jid = u32::try_from(self.rec.jid()).map_err(|_| io::Error::other("no jid"))?;
        if first {
            self.log(&format!(
                "first mounter control generation {}",
                m.lvb_gen().unwrap_or(0)
            ));
        }
        let name = journal_name(jid);
        let id = self
            .ls
            .lock(name.as_bytes(), DlmMode::Ex, DlmLkf::empty(), None)?;
        let c = self.ls.wait_completion(id, LOCK_TIMEOUT)?;
        if c.status != Status::Granted {
            return Err(io::Error::other(format!(
                "journal lock jid {jid}: {:?}",
                c.status
            )));
        }
        self.journal = Some(id);
        self.log(&format!("jid={jid}, already locked for use"));
        let generation = self.rec.recover_start();
        if first {
            self.phase = Phase::FirstRecovery;
            let all = (0..self.journals.max(jid + 1)).filter(|&j| (j as usize) < MAX);
            for j in all {
                self.queue.push_back(Job {
                    jid: j,
                    generation,
                    reason: Reason::FirstMount,
                });
            }
        } else {
            self.phase = Phase::Mounted;
            self.queue.push_back(Job {
                jid,
                generation,
                reason: Reason::Mount,
            });
            self.log(&format!("mounted jid {jid} generation {generation}"));
        }
        Ok(())
    }

    /// `gdlm_first_done` → `control_first_done`.
    fn run_first_done(&mut self, mut fd: FirstDone) -> io::Result<()> {
        let mut step = fd
            .start(&mut self.rec)
            .map_err(|e| io::Error::other(format!("first_done: {e}")))?;
        loop {
            step = match step {
                FirstDoneStep::Lock(call) => {
                    let (status, _) = self.sync_lock(call)?;
                    if status != 0 {
                        self.log(&format!(
                            "control_first_done {} {:?} error {status}",
                            lock_text(call.lock),
                            call.mode
                        ));
                    }
                    fd.on_lock_result(status)
                }
                FirstDoneStep::Unlock(which) => {
                    let status = self.sync_unlock(which)?;
                    fd.on_unlock_result(status)
                }
                FirstDoneStep::WaitDlmRecovery => {
                    self.log(&format!(
                        "control_first_done wait gen {}",
                        self.rec.recover_start()
                    ));
                    self.phase = Phase::FirstDoneWait(fd);
                    return Ok(());
                }
                FirstDoneStep::Done { result } => {
                    if result != 0 {
                        self.log(&format!("mount first_done error {result}"));
                    }
                    self.phase = Phase::Mounted;
                    let jid = self.rec.jid();
                    let g = self.rec.recover_start();
                    self.log(&format!(
                        "first mount done, others may mount (jid {jid} generation {g})"
                    ));
                    self.log(&format!("mounted jid {jid} generation {g}"));
                    return Ok(());
                }
            }
            .map_err(|e| io::Error::other(format!("first_done: {e}")))?;
        }
    }

    // ------------------------------------------------------------ control work

    /// `queue_delayed_work(gfs2_control_wq, …)`: a no-op if the work is already queued.
    fn queue_control(&mut self, delay: Duration) {
        if self.control_at.is_none() {
            self.control_at = Some(Instant::now() + delay);
        }
    }

    /// `gfs2_control_func`.
    fn control_work(&mut self) -> io::Result<()> {
        let (mut ticket, ex) = match self.rec.control_begin() {
            ControlBegin::Lock(t, ex) => (t, ex),
            ControlBegin::NotReady | ControlBegin::DlmRecovering => return Ok(()),
        };
        let (status, lvb) = self.sync_lock(ex)?;
        if status != 0 {
            self.log(&format!("control lock EX error {status}"));
            return Ok(());
        }
        let lvb = lvb.unwrap_or_else(ControlLvb::zeroed);
        match self.rec.control_locked(&mut ticket, &lvb) {
            ControlUpdate::Stale(nl) => {
                self.log(&format!(
                    "recover generation {} block1 {} {}",
                    ticket.start_gen,
                    ticket.block_gen,
                    self.rec.recover_block()
                ));
                self.sync_lock(nl)?;
            }
            ControlUpdate::Convert { call, .. } => {
                let (status, _) = self.sync_lock(call)?;
                if status != 0 {
                    self.log(&format!("control lock NL error {status}"));
                    return Ok(());
                }
                match self.rec.control_converted(&ticket) {
                    ControlFinish::Recover(jids) => {
                        for jid in jids.iter() {
                            self.log(&format!(
                                "recover generation {} jid {jid}",
                                ticket.start_gen
                            ));
                            self.recover_set(Job {
                                jid,
                                generation: ticket.start_gen,
                                reason: Reason::Failed,
                            });
                        }
                    }
                    ControlFinish::Unblocked { generation } => {
                        self.log(&format!("recover generation {generation} done"));
                    }
                    ControlFinish::StillBlocked => {
                        self.log(&format!(
                            "recover generation {} block2 {} {}",
                            ticket.start_gen,
                            ticket.block_gen,
                            self.rec.recover_block()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ journal recovery

    /// `gfs2_recover_set`: queue the jid's recovery unless it is already queued or running.
    fn recover_set(&mut self, job: Job) {
        let busy = self.running.iter().any(|r| r.job.jid == job.jid)
            || self.queue.iter().any(|q| q.jid == job.jid);
        if !busy {
            self.queue.push_back(job);
        }
    }

    /// Starts every queued recovery (`gfs2_recover_func`).
    fn kick_recovery(&mut self) -> io::Result<()> {
        while let Some(job) = self.queue.pop_front() {
            let own = i64::from(job.jid) == i64::from(self.rec.jid());
            let mut lock = None;
            if !own {
                self.log(&format!(
                    "jid={}: Trying to acquire journal lock...",
                    job.jid
                ));
                let name = journal_name(job.jid);
                let id = self
                    .ls
                    .lock(name.as_bytes(), DlmMode::Ex, DlmLkf::NOQUEUE, None)?;
                let c = self.ls.wait_completion(id, LOCK_TIMEOUT)?;
                match c.status {
                    Status::Granted => lock = Some(id),
                    Status::Again => {
                        self.log(&format!("jid={}: Busy", job.jid));
                        self.recovery_done(job, LM_RD_GAVEUP, false);
                        continue;
                    }
                    s => {
                        self.log(&format!("jid={}: journal lock {s:?}", job.jid));
                        self.recovery_done(job, LM_RD_GAVEUP, true);
                        continue;
                    }
                }
            }
            self.log(&format!(
                "jid={}: Looking at journal... (reason {}, generation {})",
                job.jid,
                job.reason.as_str(),
                job.generation
            ));
            match self.spawn(job) {
                Ok(child) => self.running.push(Running { job, child, lock }),
                Err(e) => {
                    self.log(&format!(
                        "jid={}: cannot run the recovery command: {e}",
                        job.jid
                    ));
                    if let Some(id) = lock {
                        self.unlock_lock(id)?;
                    }
                    self.recovery_done(job, LM_RD_GAVEUP, true);
                }
            }
        }
        Ok(())
    }

    fn spawn(&self, job: Job) -> io::Result<Child> {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&self.recover_cmd)
            .arg("gdlmd-recover")
            .arg(job.jid.to_string())
            .env("GDLM_LOCKSPACE", &self.name)
            .env("GDLM_JID", job.jid.to_string())
            .env("GDLM_GENERATION", job.generation.to_string())
            .env("GDLM_REASON", job.reason.as_str())
            .env("GDLM_NODEID", self.cpg.me().nodeid.to_string())
            .stdin(Stdio::null());
        let set = stop_signals();
        // SAFETY: between fork and exec only async-signal-safe calls: unblock the signals
        // the daemon blocked for its signalfd, so the command gets default dispositions.
        unsafe {
            cmd.pre_exec(move || {
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                Ok(())
            });
        }
        cmd.spawn()
    }

    /// Reaps finished recovery commands: release the journal lock, then report the result
    /// (`gfs2_recover_func` unlocks before `gfs2_recovery_done`).
    fn reap(&mut self) -> io::Result<()> {
        let mut i = 0;
        while i < self.running.len() {
            match self.running[i].child.try_wait()? {
                Some(status) => {
                    let r = self.running.swap_remove(i);
                    self.finish(r, status)?;
                }
                None => i += 1,
            }
        }
        Ok(())
    }

    fn finish(&mut self, r: Running, status: ExitStatus) -> io::Result<()> {
        if let Some(id) = r.lock {
            self.unlock_lock(id)?;
        }
        let ok = status.success();
        self.log(&format!(
            "jid={}: {} ({})",
            r.job.jid,
            if ok { "Done" } else { "Failed" },
            exit_text(status)
        ));
        if ok {
            self.recovery_done(r.job, LM_RD_SUCCESS, false);
        } else {
            self.recovery_done(r.job, LM_RD_GAVEUP, true);
        }
        Ok(())
    }

    /// `gdlm_recovery_result` (and, for the first mounter, the end of its recovery pass).
    fn recovery_done(&mut self, job: Job, result: u32, failed_cmd: bool) {
        match self.rec.recovery_result(job.jid, result) {
            Ok(ResultOutcome::Recorded(work)) => {
                self.log(&format!(
                    "recover jid {} result {}",
                    job.jid,
                    result_name(result, failed_cmd)
                ));
                match work {
                    Some(ControlWork::AfterHz) => self.queue_control(GAVEUP_DELAY),
                    Some(ControlWork::Now) => self.queue_control(Duration::ZERO),
                    None => {}
                }
            }
            Ok(ResultOutcome::Ignored(_)) => {}
            Err(e) => self.log(&format!("recovery_result jid {}: {e}", job.jid)),
        }
    }

    // ------------------------------------------------------------ loop and unmount

    fn next_deadline(&self) -> Option<Instant> {
        let sleep = match &self.phase {
            Phase::Mounting(_, at) => *at,
            _ => None,
        };
        [sleep, self.control_at].into_iter().flatten().min()
    }

    fn run(&mut self, sig: &Signals) -> io::Result<()> {
        while !self.stop {
            let now = Instant::now();
            if let Phase::Mounting(_, Some(at)) = &self.phase {
                if *at <= now {
                    if let Phase::Mounting(_, sleep) = &mut self.phase {
                        *sleep = None;
                    }
                    self.mount_sleep_done()?;
                }
            }
            if self.control_at.is_some_and(|t| t <= now) {
                self.control_at = None;
                self.control_work()?;
            }
            self.reap()?;
            self.kick_recovery()?;
            if matches!(self.phase, Phase::FirstRecovery)
                && self.running.is_empty()
                && self.queue.is_empty()
            {
                self.run_first_done(FirstDone::new())?;
            }
            let mut timeout = self
                .next_deadline()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            if !self.running.is_empty() {
                timeout = timeout.min(Duration::from_millis(50));
            }
            let mut fds = [
                libc::pollfd {
                    fd: self.cpg.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.ls.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: sig.0,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(1000);
            // SAFETY: `fds` is a valid array of three pollfds for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if fds[2].revents != 0 {
                if let Some(s) = sig.read() {
                    self.log(&format!("signal {s}: unmounting"));
                    self.stop = true;
                }
            }
            if fds[0].revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                return Err(io::Error::other("corosync connection lost"));
            }
            if fds[0].revents != 0 {
                for ev in self.cpg.dispatch()? {
                    self.on_cpg(ev)?;
                }
            }
            if fds[1].revents != 0 {
                // Nothing is asynchronous here (every request is waited for), so anything the
                // fd delivers now is a BAST the daemon does not act on.
                self.ls.dispatch()?;
                while self.ls.next_event(Duration::ZERO)?.is_some() {}
            }
        }
        Ok(())
    }

    /// `gdlm_unmount`: no more control work; wait for running recoveries; drop the journal
    /// lock, mounted_lock and control_lock; release the lockspace; leave the group.
    fn unmount(mut self) -> io::Result<()> {
        self.rec.unmount();
        self.control_at = None;
        self.queue.clear();
        let end = Instant::now() + UNMOUNT_CHILD_WAIT;
        for mut r in std::mem::take(&mut self.running) {
            self.log(&format!(
                "waiting for the recovery of jid {} to end",
                r.job.jid
            ));
            loop {
                if r.child.try_wait()?.is_some() {
                    break;
                }
                if Instant::now() >= end {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if let Some(id) = r.lock {
                self.unlock_lock(id)?;
            }
        }
        if let Some(id) = self.journal.take() {
            self.unlock_lock(id)?;
        }
        self.sync_unlock(SyncId::Mounted)?;
        self.sync_unlock(SyncId::Control)?;
        self.rec.release();
        let Daemon {
            ls, mut cpg, name, ..
        } = self;
        // gdlm_unmount releases with force (2): nothing of ours is left, but be sure.
        ls.release(true)?;
        cpg.leave()?;
        // Let corosync deliver our leave before the connection closes.
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            match cpg.dispatch() {
                Ok(evs) => {
                    if evs.iter().any(|e| {
                        matches!(e, CpgEvent::ConfChg { left, .. }
                            if left.iter().any(|(m, _)| *m == cpg.me()))
                    }) {
                        break;
                    }
                }
                Err(_) => break,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = io::stderr().write_all(format!("{}\n", log_line(&name, "unmounted")).as_bytes());
        Ok(())
    }
}

fn lock_text(which: SyncId) -> &'static str {
    match which {
        SyncId::Control => "control_lock",
        SyncId::Mounted => "mounted_lock",
    }
}

fn exit_text(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown".into(),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match start(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} gdlmd: {e}", stamp());
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> io::Result<()> {
    let sig = Signals::new()?;
    let log_file = match &args.log_file {
        Some(p) => Some(File::options().create(true).append(true).open(p)?),
        None => None,
    };
    let ls = Lockspace::create(&args.lockspace)?;
    let cpg = Cpg::join(&format!("gdlmd:{}", args.lockspace))?;
    let me = member(cpg.me());
    let mut d = Daemon {
        name: args.lockspace.clone(),
        recover_cmd: args.recover_cmd,
        journals: args.journals,
        log_file,
        ls,
        cpg,
        rec: Recovery::new(SizePolicy::Fit),
        members: Membership::new(me),
        phase: Phase::Joining,
        control: None,
        mounted: None,
        journal: None,
        control_at: None,
        queue: VecDeque::new(),
        running: Vec::new(),
        stop: false,
    };
    d.log(&format!(
        "started: node {} pid {} group {}",
        me.nodeid,
        me.pid,
        d.cpg.group()
    ));
    let r = d.run(&sig);
    if let Err(e) = &r {
        d.log(&format!("error: {e}"));
        return r;
    }
    d.unmount()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lock_name_is_gfs2s() {
        // gfs2 names a glock "%8x%16x" of (type, number): journal 2 is type 9, number 2.
        assert_eq!(journal_name(2).as_str(), "       9               2");
    }

    #[test]
    fn result_words() {
        assert_eq!(result_name(LM_RD_SUCCESS, false), "success");
        assert_eq!(result_name(LM_RD_GAVEUP, false), "gaveup");
        assert_eq!(result_name(LM_RD_GAVEUP, true), "failure");
    }

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
        assert!(a.log_file.is_none());
        assert!(Args::try_parse_from(["gdlmd", "ls1"]).is_err());
    }

    #[test]
    fn log_lines_carry_the_prefix() {
        let l = log_line("ls1", "recover generation 4 done");
        assert!(l.starts_with('['));
        assert!(l.ends_with("] gdlmd: ls1: recover generation 4 done"));
        assert_eq!(slots_text(&[1, 3]), "1,3");
    }

    /// Every daemon of a group, fed the same CPG events in the same order (what corosync
    /// guarantees), sync messages relayed in agreed order: the scenario of
    /// `ci/realdlm/scenarios/gdlmd-cluster3.sh` and the generations, slots and failed slots
    /// it asserts.
    #[test]
    fn the_cluster3_scenario_derives_the_same_generations_everywhere() {
        use gdlm_linux::cpg::{CPG_REASON_LEAVE, CPG_REASON_NODEDOWN, CPG_REASON_PROCDOWN};
        let p = |nodeid, pid| CpgMember { nodeid, pid };
        let mut view: Vec<CpgMember> = Vec::new();
        let mut nodes: Vec<(CpgMember, Membership<MAX>)> = Vec::new();
        // per change: (member, generation, failed slots, our slot) of every recover_done
        let step = |view: &mut Vec<CpgMember>,
                    nodes: &mut Vec<(CpgMember, Membership<MAX>)>,
                    left: Vec<(CpgMember, u32)>,
                    joined: Vec<CpgMember>|
         -> Vec<(CpgMember, u32, Vec<i32>, i32)> {
            view.retain(|m| !left.iter().any(|(l, _)| l == m));
            view.extend(joined.iter().copied());
            nodes.retain(|(m, _)| view.contains(m));
            for &j in &joined {
                nodes.push((j, Membership::new(member(j))));
            }
            let (m, l, j) = membership_inputs(view, &left, &joined);
            let mut out = Vec::new();
            let mut bus = Vec::new();
            for (me, ms) in nodes.iter_mut() {
                let c = ms.confchg(&m, &l, &j).unwrap();
                if let Some(d) = &c.done {
                    out.push((*me, d.generation, c.failed.to_vec(), d.our_slot));
                }
                if let Some(sync) = &c.sync {
                    let mut buf = [0u8; SyncMsg::<MAX>::MAX_LEN];
                    let n = sync.encode(&mut buf).unwrap();
                    bus.push((*me, buf[..n].to_vec()));
                }
            }
            for (from, msg) in bus {
                for (me, ms) in nodes.iter_mut() {
                    let c = ms.deliver(member(from), &msg).unwrap();
                    if let Some(d) = &c.done {
                        out.push((*me, d.generation, c.failed.to_vec(), d.our_slot));
                    }
                }
            }
            out.sort();
            out
        };
        let (n1, n2a, n3a) = (p(1, 10), p(2, 20), p(3, 30));
        let (n3b, n2b, n2c) = (p(3, 31), p(2, 21), p(2, 22));
        let g = step(&mut view, &mut nodes, vec![], vec![n1]);
        assert_eq!(g, vec![(n1, 1, vec![], 1)]);
        let g = step(&mut view, &mut nodes, vec![], vec![n2a]);
        assert_eq!(g, vec![(n1, 2, vec![], 1), (n2a, 2, vec![], 2)]);
        let g = step(&mut view, &mut nodes, vec![], vec![n3a]);
        assert_eq!(
            g.iter().map(|x| (x.1, x.3)).collect::<Vec<_>>(),
            [(3, 1), (3, 2), (3, 3)]
        );
        // node 3's gdlmd is SIGKILLed: slot 3 (jid 2) failed, generation 4
        let g = step(
            &mut view,
            &mut nodes,
            vec![(n3a, CPG_REASON_PROCDOWN)],
            vec![],
        );
        assert_eq!(g, vec![(n1, 4, vec![3], 1), (n2a, 4, vec![3], 2)]);
        // it re-mounts: slot 3 again (jid 2), generation 5
        let g = step(&mut view, &mut nodes, vec![], vec![n3b]);
        assert_eq!(g.last(), Some(&(n3b, 5, vec![], 3)));
        // node 2's gdlmd is SIGKILLed: slot 2 (jid 1), generation 6
        let g = step(
            &mut view,
            &mut nodes,
            vec![(n2a, CPG_REASON_PROCDOWN)],
            vec![],
        );
        assert_eq!(g, vec![(n1, 6, vec![2], 1), (n3b, 6, vec![2], 3)]);
        let g = step(&mut view, &mut nodes, vec![], vec![n2b]);
        assert!(g.contains(&(n2b, 7, vec![], 2)));
        // clean unmount: no failed slot, generation 8
        let g = step(&mut view, &mut nodes, vec![(n2b, CPG_REASON_LEAVE)], vec![]);
        assert_eq!(g, vec![(n1, 8, vec![], 1), (n3b, 8, vec![], 3)]);
        let g = step(&mut view, &mut nodes, vec![], vec![n2c]);
        assert!(g.contains(&(n2c, 9, vec![], 2)));
        // node 3's VM is killed: slot 3 (jid 2), generation 10
        let g = step(
            &mut view,
            &mut nodes,
            vec![(n3b, CPG_REASON_NODEDOWN)],
            vec![],
        );
        assert_eq!(g, vec![(n1, 10, vec![3], 1), (n2c, 10, vec![3], 2)]);
    }

    #[test]
    fn reasons_are_named() {
        assert_eq!(Reason::Failed.as_str(), "failed");
        assert_eq!(Reason::FirstMount.as_str(), "first-mount");
        assert_eq!(Reason::Mount.as_str(), "mount");
    }
}
