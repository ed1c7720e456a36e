//! An arbitrary sequence of inputs and timer firings → `Engine<16>` or `Engine<192>`
//! (kernel or CPG callbacks, either size and submit policy, either first-mount
//! failure policy), executed against a small model of the DLM and the journals.
//!
//! The engine's own sequencing (mount ladder, first mounter's pass, control step,
//! journal recovery, unmount, withdraw) is what is driven here, through its public
//! API only, as every shim drives it. After every call:
//! - nothing panics, and `recovery().check()` holds;
//! - a refused event (`Err`) leaves the engine equal to a clone taken before;
//! - actions are well-formed: at most one DLM request per lock is outstanding, and the
//!   engine accepts a completion for every outstanding one (checked on a clone) while
//!   it is not finished; a conversion names a lock it holds; `Replay` only for a jid
//!   below the mount's journal count, one at a time, and the engine accepts its
//!   `ReplayDone` (on a clone); `Mounted` at most once per mount, only with the own
//!   journal held, MOUNT_DONE set, first_done run, after `control_mount` read an enabled
//!   LVB; `MountFailed` is followed by `Release` in the same drain (but for a failed
//!   `dlm_new_lockspace`: nothing to release); after
//!   `Release` the engine is finished and asks for nothing but log lines;
//! - `handle_timeout` called while `poll_timeout() <= now` reaches a later timeout (or
//!   none) within a bounded number of calls (no livelock at one instant);
//! - every log event formats (its `Display` is the kernel's text).
#![no_main]

use arbitrary::Arbitrary;
use gdlm_core::consts::DLM_EUNLOCK;
use gdlm_core::engine::{
    Action, Callbacks, Config, DlmOp, Duration, Engine, Event, FirstMountFailure, Instant, LockRef,
    MountFailure, ReplayOutcome, ReplayReason,
};
use gdlm_core::flags::DlmLkf;
use gdlm_core::membership::{LeftReason, Member};
use gdlm_core::mode::DlmMode;
use gdlm_core::recovery::{RecoverFlags, SizePolicy, SubmitPolicy};
use libfuzzer_sys::fuzz_target;

/// Found by this target, two engine bugs after a `Withdraw` (`Release`) during the mount:
/// - during `control_mount`'s retry sleep, `poll_timeout()` still reports the sleep and
///   `handle_timeout` then asks for a control-lock conversion on the released lockspace
///   (`Engine::handle_timeout` checks `phase.finished()` for the control work but not for
///   `sleep_until`);
/// - during the first mounter's replay of another journal, `ReplayDone` is still accepted
///   (`check_fits` does not look at the phase) and a failed replay then emits
///   `MountFailed(FirstMountJournal)` after the `Release`.
///
/// Fixed in the core (a finished engine has no timers and refuses `ReplayDone`); kept
/// as a switch, off, so the target checks both.
const TOLERATE_AFTER_RELEASE: bool = false;

/// Found by this target: the control step queues recovery of every jid bit in the LVB
/// below `recover_size`, and the engine then locks and asks to replay that jid even when
/// the file system has no such journal (jid ≥ the mount's journal count). gfs2's
/// `gfs2_recover_set` answers `-ENOENT` there and replays nothing. Reachable when a
/// member whose slot exceeds the journal count (its own mount failed with "can't find
/// journal") fails. Fixed in the core (such a jid is not queued, as `-ENOENT` drops it);
/// kept as a switch, off, so the target checks it.
const TOLERATE_RECOVERY_BEYOND_JOURNALS: bool = false;

/// Statuses a DLM completion carries, besides 0: EAGAIN, EINVAL, EINTR, EDEADLK,
/// ETIMEDOUT, -DLM_EUNLOCK, -DLM_ECANCEL, and two that are not errnos.
const STATUSES: [i32; 9] = [-11, -22, -4, -35, -110, -0x10002, -0x10001, 1, -1];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum StatusV {
    /// What a cooperative DLM answers (0 for a lock, -DLM_EUNLOCK for an unlock).
    Expected,
    Again,
    Known(u8),
    Raw(i32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum SlotV {
    Small(u8),
    Raw(i32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum GenV {
    Next,
    Delta(i8),
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum LvbV {
    /// The model cluster's current LVB.
    Cluster,
    None,
    Raw([u8; 32]),
    /// A generation near ours and a few low jid bits.
    Smart {
        gen: GenV,
        bits: u8,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum LockV {
    Control,
    Mounted,
    Journal(u8),
}

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Mount(u8),
    LockspaceJoined,
    LockspaceFailed(i32),
    RecoverPrep,
    RecoverSlot(SlotV),
    RecoverDone {
        slots: Vec<SlotV>,
        our: SlotV,
        gen: GenV,
    },
    /// A CPG change: members by node id (pid 1, ours is node 1), who left and why,
    /// who joined.
    Confchg {
        members: Vec<u8>,
        left: Vec<(u8, u8)>,
        joined: Vec<u8>,
    },
    /// The last sync message the engine multicast, delivered back from `from`.
    Echo {
        from: u8,
    },
    /// Raw bytes as a group message.
    CpgBytes {
        from: u8,
        bytes: Vec<u8>,
    },
    /// Complete the `i`-th outstanding DLM request.
    Complete {
        i: u8,
        status: StatusV,
        sb_flags: u8,
        lvb: LvbV,
    },
    /// A completion for any lock (mostly refused).
    Stray {
        lock: LockV,
        status: StatusV,
        sb_flags: u8,
        lvb: LvbV,
    },
    /// Finish the outstanding replay.
    Replayed {
        ok: bool,
    },
    /// A replay completion for any jid.
    StrayReplay {
        jid: u8,
        ok: bool,
    },
    Unmount,
    Withdraw,
    Interrupt,
    /// Time passes.
    Advance(u16),
    /// Run every timer that is due at once (at `max(now, poll_timeout())`).
    Timeout,
}

#[derive(Arbitrary, Debug)]
struct Input {
    small: bool,
    cpg: bool,
    reference_size: bool,
    drop_folded: bool,
    retry_first: bool,
    ops: Vec<Op>,
}

struct Pending {
    lock: LockRef,
    unlock: bool,
}

struct World<const N: usize> {
    e: Engine<N>,
    now: Instant,
    me: Member,
    journals: Option<u32>,
    /// The control LVB as the model DLM holds it.
    cluster: [u8; 32],
    pending: Vec<Pending>,
    /// Locks with a granted DLM lock (conversions need one).
    held: Vec<LockRef>,
    replay: Option<u32>,
    mounted: bool,
    finished: bool,
    last_msg: Option<Vec<u8>>,
}

fn member(n: u8) -> Member {
    Member::new(u32::from(n % 5) + 1, 1)
}

fn slot(v: SlotV) -> i32 {
    match v {
        SlotV::Small(s) => i32::from(s % 24) - 2,
        SlotV::Raw(s) => s,
    }
}

impl<const N: usize> World<N> {
    fn gen(&self, g: GenV) -> u32 {
        let s = self.e.recovery().recover_start();
        match g {
            GenV::Next => s.wrapping_add(1),
            GenV::Delta(d) => s.wrapping_add_signed(i32::from(d)),
            GenV::Raw(v) => v,
        }
    }

    fn lvb(&self, v: LvbV) -> Option<[u8; 32]> {
        match v {
            LvbV::Cluster => Some(self.cluster),
            LvbV::None => None,
            LvbV::Raw(b) => Some(b),
            LvbV::Smart { gen, bits } => {
                let mut b = [0u8; 32];
                b[..4].copy_from_slice(&self.gen(gen).to_le_bytes());
                b[8] = bits;
                Some(b)
            }
        }
    }

    fn status(p: &Pending, v: StatusV) -> i32 {
        match v {
            StatusV::Expected if p.unlock => -DLM_EUNLOCK,
            StatusV::Expected => 0,
            StatusV::Again => -11,
            StatusV::Known(i) => STATUSES[usize::from(i) % STATUSES.len()],
            StatusV::Raw(s) => s,
        }
    }

    /// Feed one event: a refusal changes nothing; then drain and check the actions.
    fn handle(&mut self, ev: Event<'_>) -> bool {
        let before = self.e.clone();
        let r = self.e.handle(self.now, ev);
        if let Err(err) = r {
            assert_eq!(self.e, before, "refused {ev:?} ({err}) changed the engine");
            let _ = format!("{err}");
        }
        self.drain();
        r.is_ok()
    }

    fn drain(&mut self) {
        let mut failed = false;
        let mut released = false;
        while let Some(a) = self.e.poll() {
            if self.finished {
                assert!(
                    matches!(a, Action::Log(_)),
                    "{a:?} after the engine released"
                );
            }
            match a {
                Action::Dlm(req) => {
                    assert!(
                        !self.pending.iter().any(|p| p.lock == req.lock),
                        "a second request for {:?} while one is outstanding",
                        req.lock
                    );
                    let unlock = match req.op {
                        DlmOp::Unlock => {
                            assert!(
                                self.held.contains(&req.lock),
                                "unlock of {:?} not held",
                                req.lock
                            );
                            true
                        }
                        DlmOp::Lock { mode, flags } => {
                            let lvb = self.e.request_lvb(&req).copied();
                            if flags.contains(DlmLkf::CONVERT) {
                                assert!(
                                    self.held.contains(&req.lock),
                                    "conversion of {:?} not held",
                                    req.lock
                                );
                            }
                            // A conversion down with VALBLK writes the LVB (the model DLM).
                            if let (Some(l), true) = (lvb, mode != DlmMode::Ex) {
                                if flags.contains(DlmLkf::VALBLK) {
                                    self.cluster = *l.as_bytes();
                                }
                            }
                            let _ = req.name();
                            false
                        }
                    };
                    self.pending.push(Pending {
                        lock: req.lock,
                        unlock,
                    });
                }
                Action::Replay { jid, reason } => {
                    let journals = self.journals.expect("replay before mount");
                    let recovery = matches!(reason, ReplayReason::Recovery { .. });
                    assert!(
                        jid < journals || (TOLERATE_RECOVERY_BEYOND_JOURNALS && recovery),
                        "replay of jid {jid} of {journals} journals ({reason:?}, own jid {:?})",
                        self.e.jid()
                    );
                    assert!(self.replay.is_none(), "two replays at once");
                    self.replay = Some(jid);
                }
                Action::Mounted { jid, first } => {
                    assert!(!self.mounted, "mounted twice");
                    assert_eq!(self.e.jid(), Some(jid));
                    assert!(
                        self.e.holds_own_journal(),
                        "mounted without its journal lock"
                    );
                    assert_eq!(self.e.is_first(), first);
                    // control_mount read an enabled LVB (what the old hand-written
                    // driver of recovery_events checked at MountStep::Mounted).
                    let g = self
                        .e
                        .control_mount()
                        .lvb_gen()
                        .expect("mounted without reading the LVB");
                    assert_ne!(g, 0xFFFF_FFFF, "mounted with a disabled LVB");
                    let f = self.e.recovery().flags();
                    assert!(f.contains(RecoverFlags::MOUNT_DONE));
                    assert!(!f.contains(RecoverFlags::FIRST_MOUNT), "first_done not run");
                    if !first {
                        assert!(g >= self.e.recovery().recover_mount());
                    }
                    self.mounted = true;
                }
                // dlm_new_lockspace failed: there is no lockspace to release (the
                // engine is finished without a Release).
                Action::MountFailed(MountFailure::Lockspace(_)) => {
                    assert!(self.e.is_finished());
                    self.finished = true;
                }
                Action::MountFailed(_) => failed = true,
                Action::Release(_) => {
                    assert!(self.e.is_finished(), "release but not finished");
                    self.finished = true;
                    released = true;
                }
                Action::Log(l) => {
                    let _ = format!("{l}");
                }
                Action::Multicast => {
                    let mut buf = [0u8; 2048];
                    if let Some(n) = self.e.multicast_message(&mut buf) {
                        self.last_msg = Some(buf[..n].to_vec());
                    }
                }
                Action::NewLockspace { .. } | Action::JoinGroup | Action::Unblocked { .. } => {}
            }
        }
        if failed {
            assert!(released, "MountFailed without Release");
        }
        assert_eq!(self.e.recovery().check(), Ok(()));
        assert_eq!(self.finished, self.e.is_finished());
        // Every outstanding request's completion would be accepted.
        if !self.finished {
            for p in &self.pending {
                let mut c = self.e.clone();
                let ev = Event::DlmDone {
                    lock: p.lock,
                    status: if p.unlock { -DLM_EUNLOCK } else { 0 },
                    sb_flags: 0,
                    lvb: Some(self.cluster),
                };
                assert_eq!(
                    c.handle(self.now, ev).map_err(|e| format!("{e}")),
                    Ok(()),
                    "{:?}",
                    p.lock
                );
            }
            if let Some(jid) = self.replay {
                let mut c = self.e.clone();
                let ev = Event::ReplayDone {
                    jid,
                    outcome: ReplayOutcome::Success,
                };
                assert!(c.handle(self.now, ev).is_ok(), "replay {jid} not accepted");
            }
        }
    }

    fn complete(
        &mut self,
        i: usize,
        lock: LockRef,
        status: i32,
        sb_flags: u8,
        lvb: Option<[u8; 32]>,
    ) {
        // The request is answered (and the lock held or gone) before the engine's next
        // requests, which may convert it, are drained; a refusal puts both back.
        let held = self.held.clone();
        let p = self.pending.remove(i);
        if p.unlock {
            self.held.retain(|&l| l != lock);
        } else if status == 0 && !self.held.contains(&lock) {
            self.held.push(lock);
        }
        let ok = self.handle(Event::DlmDone {
            lock,
            status,
            sb_flags,
            lvb,
        });
        if !ok {
            self.held = held;
            self.pending.insert(i, p);
        }
    }

    /// A replay completion; the replay is over before the engine's next actions are
    /// drained (they may start the next one), and back on a refusal.
    fn replayed(&mut self, jid: u32, ok: bool) -> bool {
        let outcome = if ok {
            ReplayOutcome::Success
        } else {
            ReplayOutcome::Failed(-5)
        };
        if TOLERATE_AFTER_RELEASE && self.finished {
            return self.replay == Some(jid);
        }
        let was = self.replay.take();
        let accepted = self.handle(Event::ReplayDone { jid, outcome });
        if !accepted {
            self.replay = was;
        }
        accepted
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Mount(j) => {
                let journals = u32::from(*j % 8);
                if self.handle(Event::Mount { journals }) {
                    self.journals = Some(journals);
                }
            }
            Op::LockspaceJoined => {
                self.handle(Event::LockspaceJoined);
            }
            Op::LockspaceFailed(e) => {
                self.handle(Event::LockspaceFailed(*e));
            }
            Op::RecoverPrep => {
                self.handle(Event::RecoverPrep);
            }
            Op::RecoverSlot(s) => {
                self.handle(Event::RecoverSlot { slot: slot(*s) });
            }
            Op::RecoverDone { slots, our, gen } => {
                let s: Vec<i32> = slots.iter().take(8).map(|&v| slot(v)).collect();
                let generation = self.gen(*gen);
                self.handle(Event::RecoverDone {
                    slots: &s,
                    our_slot: slot(*our),
                    generation,
                });
            }
            Op::Confchg {
                members,
                left,
                joined,
            } => {
                let members: Vec<Member> = members.iter().take(8).map(|&n| member(n)).collect();
                let left: Vec<(Member, LeftReason)> = left
                    .iter()
                    .take(4)
                    .map(|&(n, r)| {
                        let why = match r % 4 {
                            0 => LeftReason::Leave,
                            1 => LeftReason::NodeDown,
                            2 => LeftReason::ProcDown,
                            _ => LeftReason::Other(u32::from(r)),
                        };
                        (member(n), why)
                    })
                    .collect();
                let joined: Vec<Member> = joined.iter().take(8).map(|&n| member(n)).collect();
                self.handle(Event::CpgConfchg {
                    members: &members,
                    left: &left,
                    joined: &joined,
                });
            }
            Op::Echo { from } => {
                if let Some(bytes) = self.last_msg.clone() {
                    let from = if from % 2 == 0 {
                        self.me
                    } else {
                        member(*from)
                    };
                    self.handle(Event::CpgMessage {
                        from,
                        bytes: &bytes,
                    });
                }
            }
            Op::CpgBytes { from, bytes } => {
                self.handle(Event::CpgMessage {
                    from: member(*from),
                    bytes,
                });
            }
            Op::Complete {
                i,
                status,
                sb_flags,
                lvb,
            } => {
                if self.pending.is_empty() {
                    return;
                }
                let i = usize::from(*i) % self.pending.len();
                let p = &self.pending[i];
                let (lock, status) = (p.lock, Self::status(p, *status));
                // Mostly a clean completion: the sb_flags bits the DLM really sets.
                let lvb = self.lvb(*lvb);
                self.complete(i, lock, status, sb_flags & 0x07, lvb);
            }
            Op::Stray {
                lock,
                status,
                sb_flags,
                lvb,
            } => {
                let lock = match lock {
                    LockV::Control => LockRef::Control,
                    LockV::Mounted => LockRef::Mounted,
                    LockV::Journal(j) => LockRef::Journal(u32::from(*j % 12)),
                };
                let lvb = self.lvb(*lvb);
                match self.pending.iter().position(|p| p.lock == lock) {
                    Some(i) => {
                        let status = Self::status(&self.pending[i], *status);
                        self.complete(i, lock, status, *sb_flags, lvb);
                    }
                    None => {
                        let status = match status {
                            StatusV::Raw(s) => *s,
                            _ => 0,
                        };
                        let ev = Event::DlmDone {
                            lock,
                            status,
                            sb_flags: *sb_flags,
                            lvb,
                        };
                        assert!(!self.handle(ev), "accepted a completion nobody waits for");
                    }
                }
            }
            Op::Replayed { ok } => {
                if let Some(jid) = self.replay {
                    self.replayed(jid, *ok);
                }
            }
            Op::StrayReplay { jid, ok } => {
                let jid = u32::from(*jid % 12);
                let expected = self.replay == Some(jid);
                assert_eq!(self.replayed(jid, *ok), expected);
            }
            Op::Unmount => {
                self.handle(Event::Unmount);
            }
            Op::Withdraw => {
                self.handle(Event::Withdraw);
            }
            Op::Interrupt => {
                self.handle(Event::Interrupt);
            }
            Op::Advance(ms) => self.now = self.now + Duration::from_millis(u64::from(*ms)),
            Op::Timeout => {
                if TOLERATE_AFTER_RELEASE && self.finished {
                    return;
                }
                let Some(at) = self.e.poll_timeout() else {
                    return;
                };
                self.now = self.now.max(at);
                let mut calls = 0;
                while self.e.poll_timeout().is_some_and(|t| t <= self.now) {
                    calls += 1;
                    assert!(calls <= 256, "handle_timeout livelocks at {:?}", self.now);
                    self.e.handle_timeout(self.now);
                    self.drain();
                }
            }
        }
    }
}

fn run<const N: usize>(input: &Input) {
    let me = Member::new(1, 1);
    let cfg = Config {
        callbacks: if input.cpg {
            Callbacks::Cpg(me)
        } else {
            Callbacks::Dlm
        },
        size_policy: if input.reference_size {
            SizePolicy::Reference
        } else {
            SizePolicy::Fit
        },
        submit_policy: if input.drop_folded {
            SubmitPolicy::DropFolded
        } else {
            SubmitPolicy::Reference
        },
        first_mount_failure: if input.retry_first {
            FirstMountFailure::RetryAfterHz
        } else {
            FirstMountFailure::FailMount
        },
        ..Config::default()
    };
    let mut w = World::<N> {
        e: Engine::new(cfg),
        now: Instant::from_millis(1),
        me,
        journals: None,
        cluster: [0; 32],
        pending: Vec::new(),
        held: Vec::new(),
        replay: None,
        mounted: false,
        finished: false,
        last_msg: None,
    };
    for op in input.ops.iter().take(512) {
        w.op(op);
    }
}

fuzz_target!(|input: Input| {
    if input.small {
        run::<16>(&input);
    } else {
        run::<192>(&input);
    }
});
