//! Engine tests against a one-node DLM stand-in: each test drives the whole lifecycle
//! through `handle`/`poll`/`handle_timeout` and checks the actions, in order.

use gdlm_core::consts::{DLM_EUNLOCK, EAGAIN, EINVAL};
use gdlm_core::engine::*;
use gdlm_core::flags::DlmLkf;
use gdlm_core::lvb::{ControlLvb, JidSet};
use gdlm_core::membership::Member;
use gdlm_core::mode::DlmMode;
use gdlm_core::Profile;

/// A DLM that answers at once: grants everything unless `busy` names the lock, keeps the
/// control LVB as a resource would (written on a down-conversion with VALBLK, returned on
/// every grant with VALBLK).
struct Dlm {
    res_lvb: [u8; 32],
    control_mode: DlmMode,
    busy: Vec<LockRef>,
    fail_replay: Vec<u32>,
    seen: Vec<Action>,
}

impl Dlm {
    fn new() -> Self {
        Dlm {
            res_lvb: [0; 32],
            control_mode: DlmMode::Nl,
            busy: Vec::new(),
            fail_replay: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// `lvb`: the engine's buffer for the call ([`Engine::request_lvb`]).
    fn answer(&mut self, req: &DlmRequest, lvb: Option<&ControlLvb>) -> Event<'static> {
        match req.op {
            DlmOp::Unlock => Event::DlmDone {
                lock: req.lock,
                status: -DLM_EUNLOCK,
                sb_flags: 0,
                lvb: None,
            },
            DlmOp::Lock { mode, flags } => {
                if self.busy.contains(&req.lock) {
                    return Event::DlmDone {
                        lock: req.lock,
                        status: -EAGAIN,
                        sb_flags: 0,
                        lvb: None,
                    };
                }
                let mut out = None;
                if req.lock == LockRef::Control && flags.contains(DlmLkf::VALBLK) {
                    if self.control_mode == DlmMode::Ex && mode != DlmMode::Ex {
                        if let Some(l) = lvb {
                            self.res_lvb = *l.as_bytes();
                        }
                    }
                    out = Some(self.res_lvb);
                }
                if req.lock == LockRef::Control {
                    self.control_mode = mode;
                }
                Event::DlmDone {
                    lock: req.lock,
                    status: 0,
                    sb_flags: 0,
                    lvb: out,
                }
            }
        }
    }

    /// Execute every action and fire due timers until nothing is left at `now`.
    fn run<const N: usize>(&mut self, e: &mut Engine<N>, now: Instant) {
        for _ in 0..10_000 {
            if let Some(a) = e.poll() {
                self.seen.push(a);
                match a {
                    Action::Dlm(req) => {
                        let ev = self.answer(&req, e.request_lvb(&req));
                        let r = e.handle(now, ev);
                        // After the release, completions are refused (nothing waits).
                        assert!(r.is_ok() || e.is_finished(), "{r:?}");
                    }
                    Action::Replay { jid, .. } => {
                        let outcome = if self.fail_replay.contains(&jid) {
                            ReplayOutcome::Failed(-5)
                        } else {
                            ReplayOutcome::Success
                        };
                        e.handle(now, Event::ReplayDone { jid, outcome }).unwrap();
                    }
                    _ => {}
                }
                continue;
            }
            match e.poll_timeout() {
                Some(t) if t <= now => e.handle_timeout(now),
                _ => return,
            }
        }
        panic!("no quiescence");
    }

    fn replays(&self) -> Vec<u32> {
        self.seen
            .iter()
            .filter_map(|a| match a {
                Action::Replay { jid, .. } => Some(*jid),
                _ => None,
            })
            .collect()
    }
}

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

/// Mount with the DLM's first recovery cycle (we are `our_slot` among `slots`).
fn mount<const N: usize>(dlm: &mut Dlm, e: &mut Engine<N>, slots: &[i32], our: i32, gen: u32) {
    e.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    assert_eq!(
        e.poll(),
        Some(Action::NewLockspace {
            flags: e.config().lockspace_flags
        })
    );
    e.handle(
        ms(0),
        Event::RecoverDone {
            slots,
            our_slot: our,
            generation: gen,
        },
    )
    .unwrap();
    e.handle(ms(0), Event::LockspaceJoined).unwrap();
    dlm.run(e, ms(0));
    // control_mount sleeps 500 ms before its first EX attempt.
    dlm.run(e, ms(500));
}

#[test]
fn a_lone_node_is_first_mounter_and_recovers_every_journal() {
    let mut dlm = Dlm::new();
    let mut e: Engine<16> = Engine::new(Config::default());
    mount(&mut dlm, &mut e, &[1], 1, 1);
    assert_eq!(e.phase(), Phase::Mounted);
    assert!(e.is_first() && e.holds_own_journal() && e.accessing());
    assert_eq!(
        dlm.replays(),
        [0, 1, 2],
        "init_journal replays every journal in order"
    );
    assert!(dlm.seen.contains(&Action::Mounted {
        jid: 0,
        first: true
    }));
    // control_first_done wrote a clean LVB at generation 1.
    let l = ControlLvb::from_array(dlm.res_lvb);
    assert_eq!(l.generation(), 1);
    assert!(l.all_jid_bits_clear());
    assert!(dlm
        .seen
        .contains(&Action::Log(LogEvent::FirstMounter { generation: 0 })));
}

#[test]
fn a_first_mounter_whose_replay_fails_fails_its_mount() {
    let mut dlm = Dlm::new();
    dlm.fail_replay.push(1);
    let mut e: Engine<16> = Engine::new(Config::default());
    mount(&mut dlm, &mut e, &[1], 1, 1);
    assert_eq!(e.phase(), Phase::Failed);
    let n = dlm.seen.len();
    assert_eq!(
        &dlm.seen[n - 2..],
        &[
            Action::MountFailed(MountFailure::FirstMountJournal { jid: 1, error: -5 }),
            Action::Release(Release::Normal)
        ]
    );
    assert!(!dlm.seen.iter().any(|a| matches!(a, Action::Mounted { .. })));
    // Nobody was let in: the LVB was never written clean.
    assert_eq!(ControlLvb::from_array(dlm.res_lvb).generation(), 0);
    // Finished: later input is refused and changes nothing...
    let before = e.clone();
    assert!(e.handle(ms(600), Event::Unmount).is_err());
    assert_eq!(e, before);
    // ...but the recovery callbacks the DLM makes while it releases the lockspace are
    // taken and dropped: no action, still failed.
    e.handle(ms(600), Event::RecoverPrep).unwrap();
    assert!(e.poll().is_none());
    assert_eq!(e.phase(), Phase::Failed);
}

#[test]
fn under_the_retry_option_the_first_mounter_retries_after_hz() {
    let mut dlm = Dlm::new();
    dlm.fail_replay.push(2);
    let cfg = Config {
        first_mount_failure: FirstMountFailure::RetryAfterHz,
        ..Config::default()
    };
    let mut e: Engine<16> = Engine::new(cfg);
    mount(&mut dlm, &mut e, &[1], 1, 1);
    assert_eq!(e.phase(), Phase::FirstRecovery);
    assert_eq!(e.poll_timeout(), Some(ms(1500)));
    dlm.fail_replay.clear();
    dlm.run(&mut e, ms(1500));
    assert_eq!(e.phase(), Phase::Mounted);
    assert_eq!(dlm.replays(), [0, 1, 2, 2]);
}

/// A second node mounted (jid 1) under a first mounter whose LVB is at generation 2.
fn second_node() -> (Dlm, Engine<16>) {
    second_node_with(Config::default())
}

fn second_node_with(cfg: Config) -> (Dlm, Engine<16>) {
    let mut dlm = Dlm::new();
    dlm.res_lvb = *control_lvb_at(2, &[]).as_bytes();
    // mounted_lock EX is refused (someone is mounted): PR is granted.
    let mut e: Engine<16> = Engine::new(cfg);
    e.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    e.poll();
    e.handle(
        ms(0),
        Event::RecoverDone {
            slots: &[1, 2],
            our_slot: 2,
            generation: 2,
        },
    )
    .unwrap();
    e.handle(ms(0), Event::LockspaceJoined).unwrap();
    dlm.run(&mut e, ms(0));
    // The EX probe of mounted_lock fails with -EAGAIN, PR is granted.
    let mut ex_refused = false;
    for _ in 0..100 {
        match e.poll() {
            Some(Action::Dlm(req)) => {
                dlm.seen.push(Action::Dlm(req));
                let ev = match req.op {
                    DlmOp::Lock {
                        mode: DlmMode::Ex, ..
                    } if req.lock == LockRef::Mounted && !ex_refused => {
                        ex_refused = true;
                        Event::DlmDone {
                            lock: req.lock,
                            status: -EAGAIN,
                            sb_flags: 0,
                            lvb: None,
                        }
                    }
                    _ => dlm.answer(&req, e.request_lvb(&req)),
                };
                e.handle(ms(500), ev).unwrap();
            }
            Some(a) => {
                dlm.seen.push(a);
                if let Action::Replay { jid, .. } = a {
                    e.handle(
                        ms(500),
                        Event::ReplayDone {
                            jid,
                            outcome: ReplayOutcome::Success,
                        },
                    )
                    .unwrap();
                }
            }
            None => match e.poll_timeout() {
                Some(t) if t <= ms(500) => e.handle_timeout(ms(500)),
                _ => break,
            },
        }
    }
    (dlm, e)
}

fn control_lvb_at(gen: u32, jids: &[u32]) -> ControlLvb {
    let mut l = ControlLvb::zeroed();
    l.set_generation(gen);
    for &j in jids {
        l.set_jid(j, true).unwrap();
    }
    l
}

#[test]
fn a_second_node_mounts_and_replays_its_own_journal() {
    let (dlm, e) = second_node();
    assert_eq!(e.phase(), Phase::Mounted);
    assert!(!e.is_first());
    assert_eq!(dlm.replays(), [1]);
    assert!(dlm.seen.contains(&Action::Mounted {
        jid: 1,
        first: false
    }));
}

#[test]
fn debug_lines_only_with_debug_logs_and_nothing_else_changes() {
    let mut runs = Vec::new();
    for debug_logs in [false, true] {
        let (mut dlm, mut e) = second_node_with(Config {
            debug_logs,
            ..Config::default()
        });
        // Another node joins: one control step, with the LVB written at generation 3.
        e.handle(ms(1000), Event::RecoverPrep).unwrap();
        e.handle(
            ms(1000),
            Event::RecoverDone {
                slots: &[1, 2, 3],
                our_slot: 2,
                generation: 3,
            },
        )
        .unwrap();
        dlm.run(&mut e, ms(1000));
        assert!(dlm.seen.contains(&Action::Unblocked { generation: 3 }));
        let locked = dlm
            .seen
            .iter()
            .filter(|a| matches!(a, Action::Log(LogEvent::ControlLocked { .. })))
            .count();
        // One for this control step with the flag, none without.
        assert_eq!(locked, usize::from(debug_logs), "{debug_logs}");
        assert!(dlm
            .seen
            .iter()
            .all(|a| debug_logs || !matches!(a, Action::Log(l) if l.level() == Level::Debug)));
        let rest: Vec<Action> = dlm
            .seen
            .iter()
            .copied()
            .filter(|a| !matches!(a, Action::Log(l) if l.level() == Level::Debug))
            .collect();
        runs.push((rest, dlm.res_lvb, e.recovery().clone()));
    }
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn a_failure_is_folded_recovered_retried_after_gaveup_and_unblocked() {
    let (mut dlm, mut e) = second_node();
    dlm.seen.clear();
    // Node 1 (slot 1, jid 0) fails.
    e.handle(ms(1000), Event::RecoverPrep).unwrap();
    assert!(e.locks_blocked());
    e.handle(ms(1000), Event::RecoverSlot { slot: 1 }).unwrap();
    e.handle(
        ms(1000),
        Event::RecoverDone {
            slots: &[2],
            our_slot: 2,
            generation: 3,
        },
    )
    .unwrap();
    // Someone else holds journal 0 (TRY fails): GAVEUP, retry after HZ.
    dlm.busy.push(LockRef::Journal(0));
    dlm.run(&mut e, ms(1000));
    assert!(dlm.seen.contains(&Action::Log(LogEvent::RecoverJids {
        generation: 3,
        jids: {
            let mut s = JidSet::new();
            s.insert(0).unwrap();
            s
        }
    })));
    assert!(dlm
        .seen
        .contains(&Action::Log(LogEvent::JournalBusy { jid: 0 })));
    assert!(dlm.seen.contains(&Action::Log(LogEvent::RecoveryResult {
        jid: 0,
        gaveup: true
    })));
    assert!(e.locks_blocked());
    assert_eq!(e.poll_timeout(), Some(ms(2000)));
    assert_eq!(ControlLvb::from_array(dlm.res_lvb), control_lvb_at(3, &[0]));
    // The other node gave up the journal: we replay it and unblock.
    dlm.busy.clear();
    dlm.run(&mut e, ms(2000));
    assert_eq!(dlm.replays(), [0]);
    assert!(!e.locks_blocked());
    assert!(dlm.seen.contains(&Action::Unblocked { generation: 3 }));
    assert_eq!(ControlLvb::from_array(dlm.res_lvb), control_lvb_at(3, &[]));
}

#[test]
fn unmount_flushes_and_releases_normally_and_withdraw_recovers() {
    let (mut dlm, mut e) = second_node();
    let mut w = e.clone();
    e.handle(ms(900), Event::Unmount).unwrap();
    dlm.run(&mut e, ms(900));
    assert_eq!(e.phase(), Phase::Down);
    assert_eq!(dlm.seen.last(), Some(&Action::Release(Release::Normal)));
    // The reference has only the normal release (L1314): its withdraw leaves cleanly.
    w.handle(ms(900), Event::Withdraw).unwrap();
    assert_eq!(w.poll(), Some(Action::Release(Release::Normal)));
    assert_eq!(w.phase(), Phase::Withdrawn);
}

#[test]
fn linux72_withdraw_ignores_callbacks_and_releases_as_failed() {
    let mut dlm = Dlm::new();
    let mut e: Engine<16> = Engine::new(Config::for_profile(Profile::Linux72));
    assert_eq!(
        e.config().lockspace_flags,
        gdlm_core::consts::DLM_LSFL_NEWEXCL
    );
    mount(&mut dlm, &mut e, &[1], 1, 1);
    assert_eq!(e.phase(), Phase::Mounted);
    // A control step in flight keeps the release back until it completes.
    e.handle(ms(600), Event::RecoverPrep).unwrap();
    e.handle(
        ms(600),
        Event::RecoverDone {
            slots: &[1],
            our_slot: 1,
            generation: 2,
        },
    )
    .unwrap();
    e.handle_timeout(ms(600));
    let Some(Action::Dlm(ex)) = e.poll() else {
        panic!("control_lock EX")
    };
    e.handle(ms(600), Event::Withdraw).unwrap();
    assert_eq!(e.phase(), Phase::Unmounting);
    let before = e.recovery().clone();
    e.handle(ms(600), Event::RecoverPrep).unwrap();
    e.handle(ms(600), Event::RecoverSlot { slot: 1 }).unwrap();
    assert_eq!(e.recovery(), &before, "callbacks ignored once withdrawn");
    // with 7.2's fs_err lines
    let logs: Vec<_> = std::iter::from_fn(|| e.poll()).collect();
    assert_eq!(
        logs,
        [
            Action::Log(LogEvent::PrepIgnored),
            Action::Log(LogEvent::SlotIgnored { jid: 0 })
        ]
    );
    assert_eq!(
        LogEvent::SlotIgnored { jid: 0 }.to_string(),
        "recover_slot jid 0 ignored due to withdraw."
    );
    let ev = dlm.answer(&ex, e.request_lvb(&ex));
    e.handle(ms(600), ev).unwrap();
    dlm.run(&mut e, ms(600));
    assert_eq!(e.phase(), Phase::Withdrawn);
    assert_eq!(dlm.seen.last(), Some(&Action::Release(Release::Recover)));
    // The release's own recovery (the DLM's leave): recover_prep is logged as ignored,
    // as 7.2's withdrawn gfs2 printed it in the withdraw-72 VM scenario.
    e.handle(ms(700), Event::RecoverPrep).unwrap();
    assert_eq!(e.poll(), Some(Action::Log(LogEvent::PrepIgnored)));
    assert!(e.poll().is_none());
    assert_eq!(
        LogEvent::PrepIgnored.to_string(),
        "recover_prep ignored due to withdraw."
    );
}

#[test]
fn mount_disabled_by_the_lvb_fails_with_einval() {
    let mut dlm = Dlm::new();
    dlm.res_lvb = *control_lvb_at(gdlm_core::lvb::DISABLED_GENERATION, &[]).as_bytes();
    let mut e: Engine<16> = Engine::new(Config::default());
    mount(&mut dlm, &mut e, &[1], 1, 1);
    assert_eq!(e.phase(), Phase::Failed);
    assert!(dlm
        .seen
        .contains(&Action::MountFailed(MountFailure::ControlMount {
            error: -EINVAL,
            reason: gdlm_core::mount::MountFailure::Disabled
        })));
    assert!(dlm.seen.contains(&Action::Log(LogEvent::MountDisabled)));
}

#[test]
fn events_that_do_not_fit_are_refused_and_change_nothing() {
    let (_dlm, mut e) = second_node();
    let cases: [Event<'_>; 8] = [
        Event::Mount { journals: 3 },
        Event::LockspaceJoined,
        Event::RecoverSlot { slot: 0 },
        Event::RecoverSlot { slot: 17 },
        Event::DlmDone {
            lock: LockRef::Control,
            status: 0,
            sb_flags: 0,
            lvb: None,
        },
        Event::DlmDone {
            lock: LockRef::Journal(2),
            status: 0,
            sb_flags: 0,
            lvb: None,
        },
        Event::ReplayDone {
            jid: 1,
            outcome: ReplayOutcome::Success,
        },
        Event::CpgMessage {
            from: Member::new(1, 1),
            bytes: b"GDMS",
        },
    ];
    for ev in cases {
        let before = e.clone();
        assert!(e.handle(ms(5000), ev).is_err(), "{ev:?}");
        assert_eq!(e, before, "{ev:?} changed the state");
    }
    let mut idle: Engine<16> = Engine::new(Config::default());
    let before = idle.clone();
    assert!(idle.handle(ms(0), Event::Unmount).is_err());
    assert!(idle.handle(ms(0), Event::RecoverPrep).is_err());
    assert_eq!(idle, before);
}

#[test]
fn cpg_mode_takes_callbacks_from_the_group_and_refuses_the_dlms() {
    let me = Member::new(1, 7);
    let mut dlm = Dlm::new();
    let mut e: Engine<16> = Engine::new(Config {
        callbacks: Callbacks::Cpg(me),
        ..Config::default()
    });
    e.handle(ms(0), Event::Mount { journals: 2 }).unwrap();
    e.poll();
    assert!(e.handle(ms(0), Event::RecoverPrep).is_err());
    e.handle(ms(0), Event::LockspaceJoined).unwrap();
    assert_eq!(e.poll(), Some(Action::JoinGroup));
    e.handle(
        ms(0),
        Event::CpgConfchg {
            members: &[me],
            left: &[],
            joined: &[me],
        },
    )
    .unwrap();
    assert_eq!(e.jid(), Some(0));
    dlm.run(&mut e, ms(0));
    dlm.run(&mut e, ms(500));
    assert_eq!(e.phase(), Phase::Mounted);
    assert_eq!(dlm.replays(), [0, 1]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn event(k: u8, a: u32, b: i32) -> Event<'static> {
        const SLOTS: [&[i32]; 3] = [&[1], &[1, 2], &[2, 3]];
        match k % 12 {
            0 => Event::Mount { journals: a % 5 },
            1 => Event::LockspaceJoined,
            2 => Event::RecoverPrep,
            3 => Event::RecoverSlot { slot: b % 20 },
            4 => Event::RecoverDone {
                slots: SLOTS[(a % 3) as usize],
                our_slot: b % 4,
                generation: a % 7,
            },
            5 | 6 => Event::DlmDone {
                lock: match a % 4 {
                    0 => LockRef::Control,
                    1 => LockRef::Mounted,
                    j => LockRef::Journal(j - 2),
                },
                status: [0, -11, -DLM_EUNLOCK, -22][(b.unsigned_abs() % 4) as usize],
                sb_flags: (a >> 8) as u8,
                lvb: (a % 3 == 0).then_some([(b & 0xff) as u8; 32]),
            },
            7 => Event::ReplayDone {
                jid: a % 4,
                outcome: if b % 3 == 0 {
                    ReplayOutcome::Failed(-5)
                } else {
                    ReplayOutcome::Success
                },
            },
            8 => Event::Unmount,
            9 => Event::Withdraw,
            10 => Event::Interrupt,
            _ => Event::LockspaceFailed(-b.abs()),
        }
    }

    proptest! {
        /// Any event sequence (with timers firing in between): never a panic, and a
        /// refused event leaves the engine exactly as it was.
        #[test]
        fn arbitrary_events_never_panic_and_refusals_change_nothing(
            evs in proptest::collection::vec((any::<u8>(), any::<u32>(), any::<i32>(), any::<bool>()), 1..80)
        ) {
            let mut e: Engine<4> = Engine::new(Config::default());
            let mut t = 0u64;
            for (k, a, b, tick) in evs {
                if tick {
                    t += 600;
                    e.handle_timeout(ms(t));
                }
                let before = e.clone();
                if e.handle(ms(t), event(k, a, b)).is_err() {
                    prop_assert_eq!(&e, &before);
                }
                while e.poll().is_some() {}
                prop_assert!(e.recovery().check().is_ok());
            }
        }
    }
}

#[test]
fn stop_means_what_the_phase_allows() {
    // Before the first recover_done: the join is given up.
    let mut e: Engine<16> = Engine::new(Config::default());
    e.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    e.poll();
    e.handle(ms(0), Event::Stop).unwrap();
    assert_eq!(
        e.poll(),
        Some(Action::MountFailed(MountFailure::Interrupted))
    );
    assert_eq!(e.poll(), Some(Action::Release(Release::Normal)));
    assert!(e.is_finished());
    assert!(e.handle(ms(0), Event::Stop).is_err());
    // Mounted: an unmount.
    let (mut dlm, mut e) = second_node();
    e.handle(ms(900), Event::Stop).unwrap();
    dlm.run(&mut e, ms(900));
    assert_eq!(e.phase(), Phase::Down);
    // Past control_mount (replaying its own journal): it mounts, then unmounts.
    let mut dlm = Dlm::new();
    dlm.res_lvb = *control_lvb_at(2, &[]).as_bytes();
    let mut e: Engine<16> = Engine::new(Config::default());
    mount(&mut dlm, &mut e, &[1], 1, 1);
    let mut e2: Engine<16> = Engine::new(Config::default());
    e2.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    e2.poll();
    e2.handle(
        ms(0),
        Event::RecoverDone {
            slots: &[1],
            our_slot: 1,
            generation: 1,
        },
    )
    .unwrap();
    e2.handle(ms(0), Event::LockspaceJoined).unwrap();
    let mut d2 = Dlm::new();
    d2.fail_replay.clear();
    d2.run(&mut e2, ms(0));
    e2.handle(ms(500), Event::Stop).unwrap();
    d2.run(&mut e2, ms(500));
    assert!(d2.seen.iter().any(|a| matches!(a, Action::Mounted { .. })));
    assert_eq!(e2.phase(), Phase::Down, "{:?}", d2.seen);
    assert!(d2
        .seen
        .contains(&Action::Log(LogEvent::JournalLockedForUse { jid: 0 })));
}

#[test]
fn the_first_recover_done_may_come_after_dlm_new_lockspace_returned() {
    // 6.1 can return from dlm_new_lockspace before its first recover_done; gdlm_mount
    // goes on into control_mount, whose requests the DLM grants only after recovery.
    let mut dlm = Dlm::new();
    let mut e: Engine<16> = Engine::new(Config::default());
    e.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    e.poll();
    e.handle(ms(0), Event::LockspaceJoined).unwrap();
    assert_eq!(e.phase(), Phase::Mounting);
    e.handle(
        ms(0),
        Event::RecoverDone {
            slots: &[1],
            our_slot: 1,
            generation: 1,
        },
    )
    .unwrap();
    dlm.run(&mut e, ms(0));
    dlm.run(&mut e, ms(500));
    assert_eq!(e.phase(), Phase::Mounted);
    assert!(dlm.seen.contains(&Action::Mounted {
        jid: 0,
        first: true
    }));
}

#[test]
fn polled_actions_leave_no_trace_in_eq_hash_or_debug() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let hash = |e: &Engine<16>| {
        let mut h = DefaultHasher::new();
        e.hash(&mut h);
        h.finish()
    };
    // The action queue is a ring: a polled slot keeps its stale action, which
    // neither ==, Hash nor Debug may see.
    let (_, mut a) = second_node();
    a.handle(ms(1000), Event::RecoverPrep).unwrap();
    a.handle(
        ms(1000),
        Event::RecoverDone {
            slots: &[1, 2],
            our_slot: 2,
            generation: 3,
        },
    )
    .unwrap();
    a.handle_timeout(ms(1000));
    assert!(format!("{a:?}").contains("Dlm(DlmRequest"), "{a:?}");
    let mut d = a.clone();
    assert!(matches!(d.poll(), Some(Action::Dlm(_))));
    assert_eq!(d.poll(), None);
    assert!(!format!("{d:?}").contains("Dlm(DlmRequest"), "{d:?}");
    assert_ne!(a, d);
    assert_ne!(hash(&a), hash(&d));
    // Two engines in the same state, one of which queued and polled more: equal.
    let mut e = d.clone();
    e.handle(ms(1000), Event::Interrupt).unwrap();
    assert_eq!(e.poll(), None);
    assert_eq!(d, e);
    assert_eq!(hash(&d), hash(&e));
}

/// A first mounter whose pass over the journals sees a join's `recover_prep`: its
/// `control_first_done` waits for that recovery; the join's recover_done then wakes it
/// and queues the control work, which run in `order`.
fn first_done_woken_by_a_join(order: FirstDoneOrder) -> (Dlm, Engine<16>) {
    let mut dlm = Dlm::new();
    let mut e: Engine<16> = Engine::new(Config::default());
    e.handle(ms(0), Event::Mount { journals: 3 }).unwrap();
    e.poll();
    let first = Event::RecoverDone {
        slots: &[1],
        our_slot: 1,
        generation: 1,
    };
    e.handle(ms(0), first).unwrap();
    e.handle(ms(0), Event::LockspaceJoined).unwrap();
    dlm.run(&mut e, ms(0));
    // control_mount's EX after its 500 ms sleep, then the pass; node 2 joins during it.
    e.handle_timeout(ms(500));
    let mut prep_sent = false;
    loop {
        let Some(a) = e.poll() else {
            match e.poll_timeout() {
                Some(t) if t <= ms(500) => {
                    e.handle_timeout(ms(500));
                    continue;
                }
                _ => break,
            }
        };
        dlm.seen.push(a);
        match a {
            Action::Dlm(req) => {
                let ev = dlm.answer(&req, e.request_lvb(&req));
                e.handle(ms(500), ev).unwrap();
            }
            Action::Replay { jid, .. } => {
                if !prep_sent {
                    e.handle(ms(500), Event::RecoverPrep).unwrap();
                    prep_sent = true;
                }
                let outcome = ReplayOutcome::Success;
                e.handle(ms(500), Event::ReplayDone { jid, outcome })
                    .unwrap();
            }
            _ => {}
        }
    }
    assert!(prep_sent && e.first_done_waiting(), "{:?}", e.phase());
    assert!(dlm
        .seen
        .contains(&Action::Log(LogEvent::FirstDoneWait { generation: 1 })));
    e.set_first_done_order(order);
    let done = Event::RecoverDone {
        slots: &[1, 2],
        our_slot: 1,
        generation: 2,
    };
    e.handle(ms(600), done).unwrap();
    dlm.run(&mut e, ms(600));
    (dlm, e)
}

#[test]
fn both_orders_of_the_woken_first_done_and_the_control_work_unblock() {
    let done2 = Action::Log(LogEvent::RecoverDone { generation: 2 });
    // control_first_done clears DFL_FIRST_MOUNT first: the work runs the control step.
    let (dlm, e) = first_done_woken_by_a_join(FirstDoneOrder::FirstDoneFirst);
    assert!(e.phase() == Phase::Mounted && e.accessing() && !e.first_done_waiting());
    assert!(dlm.seen.contains(&done2));
    // The work first: it sees DFL_FIRST_MOUNT and returns (L595-597); no done 2, and
    // nothing is queued that would print it later.
    let (dlm, mut e) = first_done_woken_by_a_join(FirstDoneOrder::WorkFirst);
    assert!(e.phase() == Phase::Mounted && e.accessing());
    assert!(!dlm.seen.contains(&done2));
    assert_eq!(e.poll_timeout(), None);
    // The LVB is control_first_done's either way: generation 2, no jid bits.
    let l = ControlLvb::from_array(dlm.res_lvb);
    assert_eq!((l.generation(), l.all_jid_bits_clear()), (2, true));
    // The next recovery is an ordinary one again.
    e.handle(ms(700), Event::RecoverPrep).unwrap();
    let d3 = Event::RecoverDone {
        slots: &[1],
        our_slot: 1,
        generation: 3,
    };
    e.handle(ms(700), d3).unwrap();
    let mut dlm = dlm;
    dlm.run(&mut e, ms(700));
    assert!(dlm
        .seen
        .contains(&Action::Log(LogEvent::RecoverDone { generation: 3 })));
}
