//! An arbitrary sequence of DLM recovery callbacks, control steps, `after_new_lockspace`,
//! unmount and release → `Recovery<192>` or `Recovery<16>` under either `SizePolicy`:
//! the pure functions of `ls_recover_*`, each against a model of the reference.
//!
//! The lifecycle (the mount ladder, first_done, the journal recovery and their order) is
//! no longer driven here by a hand-written sequence of `ControlMount` / `FirstDone`
//! inputs: the `engine` target drives the one engine every shim runs, with arbitrary
//! events, and checks what that driver checked (see its docs).
//!
//! After every event: `check()` is Ok; `recover_start` changes only through
//! recover_done, `recover_block` only through recover_prep, `recover_mount` and `jid`
//! only through the first recover_done; no jid in a returned `JidSet` reaches the
//! capacity (or the ticket's size); an `Err` leaves the state (and the machine) equal
//! to a clone taken before; each callback's result equals a model of the reference;
//! an LVB the core asks to write never has an older generation than the one read,
//! keeps the unused bytes, and sets no jid bit beyond `recover_size`.
#![no_main]

use arbitrary::Arbitrary;
use gdlm_core::lvb::{ControlLvb, JidSet};
use gdlm_core::mode::DlmMode;
use gdlm_core::mount::{after_new_lockspace, MountOptions, OpsMode, TableError};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId, RecoverFlags, Recovery,
    RecoveryError, ResultIgnored, ResultOutcome, SizePolicy, SlotRecorded,
};
use libfuzzer_sys::fuzz_target;

const LM_RD_GAVEUP: u32 = 308;
const LM_RD_SUCCESS: u32 = 309;

/// A DLM slot: small values (−4…251) most of the time, any i32 otherwise.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum SlotV {
    Small(u8),
    Raw(i32),
}

/// A generation relative to `recover_start`, or any u32.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum GenV {
    Next,
    Delta(i8),
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum JidV {
    Small(u8),
    Own,
    LastRecovered,
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ResV {
    Success,
    GaveUp,
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone)]
enum Cb {
    Prep,
    Slot(SlotV),
    Done {
        slots: Vec<SlotV>,
        our: SlotV,
        gen: GenV,
    },
    Result {
        jid: JidV,
        result: ResV,
    },
}

/// The LVB the DLM returns: the cluster's current one, any 32 bytes, or one built
/// from a generation near ours and a few low jid bits.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum LvbV {
    Cluster,
    Raw([u8; 32]),
    Smart { gen: GenV, unused: u8, bits: u32 },
}

#[derive(Arbitrary, Debug, Clone)]
enum Event {
    Cb(Cb),
    Control {
        lvb: LvbV,
        mid1: Vec<Cb>,
        mid2: Vec<Cb>,
        converted_after_stale: bool,
    },
    Unmount,
    Release,
    NewLockspace {
        ops_result: i32,
        jid: Option<u32>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    small: bool,
    reference: bool,
    events: Vec<Event>,
}

fn slot(v: SlotV) -> i32 {
    match v {
        SlotV::Small(s) => i32::from(s) - 4,
        SlotV::Raw(s) => s,
    }
}

struct World<const N: usize> {
    policy: SizePolicy,
    rec: Recovery<N>,
    /// The control LVB as the cluster holds it (what control_lock EX would return).
    cluster: ControlLvb,
    last_recovered: Option<u32>,
    events: u64,
}

impl<const N: usize> World<N> {
    fn gen(&self, g: GenV) -> u32 {
        let s = self.rec.recover_start();
        match g {
            GenV::Next => s.wrapping_add(1),
            GenV::Delta(d) => s.wrapping_add_signed(i32::from(d)),
            GenV::Raw(v) => v,
        }
    }

    fn lvb(&self, v: LvbV) -> ControlLvb {
        match v {
            LvbV::Cluster => self.cluster,
            LvbV::Raw(b) => ControlLvb::from_array(b),
            LvbV::Smart { gen, unused, bits } => {
                let mut b = [0u8; 32];
                b[..4].copy_from_slice(&self.gen(gen).to_le_bytes());
                b[4] = unused;
                b[8..12].copy_from_slice(&bits.to_le_bytes());
                ControlLvb::from_array(b)
            }
        }
    }

    fn jid(&self, v: JidV) -> u32 {
        match v {
            JidV::Small(j) => u32::from(j),
            JidV::Own => self.rec.jid() as u32,
            JidV::LastRecovered => self.last_recovered.unwrap_or(0),
            JidV::Raw(j) => j,
        }
    }

    /// The state's invariants, and what may change across one event.
    fn check(
        &self,
        before: &Recovery<N>,
        what: &str,
        start_may_change: bool,
        block_may_change: bool,
    ) {
        let r = &self.rec;
        assert_eq!(r.check(), Ok(()), "check() after {what}: {r:?}");
        assert!(r.recover_size() as usize <= N);
        assert_eq!(r.submit().len(), r.result().len());
        assert_eq!(r.capacity(), N);
        assert_eq!(r.policy(), self.policy);
        if !start_may_change {
            assert_eq!(
                r.recover_start(),
                before.recover_start(),
                "recover_start moved in {what}"
            );
            assert_eq!(
                r.recover_mount(),
                before.recover_mount(),
                "recover_mount moved in {what}"
            );
            assert_eq!(r.jid(), before.jid(), "jid moved in {what}");
        }
        if !block_may_change {
            assert_eq!(
                r.recover_block(),
                before.recover_block(),
                "recover_block moved in {what}"
            );
        }
        assert_eq!(
            r.locks_blocked(),
            r.flags().contains(RecoverFlags::BLOCK_LOCKS)
        );
        assert_eq!(
            r.dlm_recovery_in_progress(),
            r.flags().contains(RecoverFlags::DLM_RECOVERY)
        );
        // DLM_RECOVERY is set only by recover_prep (block := start) and cleared by
        // recover_done (the only writer of start), and a mounted non-first node is
        // blocked for the whole DLM recovery.
        let f = r.flags();
        if f.contains(RecoverFlags::DLM_RECOVERY) {
            assert_eq!(
                r.recover_block(),
                r.recover_start(),
                "DLM_RECOVERY with block != start after {what}"
            );
            if f.contains(RecoverFlags::MOUNT_DONE) && !f.contains(RecoverFlags::FIRST_MOUNT) {
                assert!(
                    r.locks_blocked(),
                    "unblocked during DLM recovery after {what}"
                );
            }
        }
        // Once set, these flags stay.
        for f in [
            RecoverFlags::MOUNT_DONE,
            RecoverFlags::UNMOUNT,
            RecoverFlags::NO_DLM_OPS,
        ] {
            if before.flags().contains(f) {
                assert!(r.flags().contains(f), "{f:?} cleared by {what}");
            }
        }
    }

    fn callback(&mut self, cb: &Cb) {
        self.events += 1;
        let before = self.rec.clone();
        match *cb {
            Cb::Prep => {
                self.rec.recover_prep();
                let r = &self.rec;
                assert_eq!(r.recover_block(), before.recover_start());
                assert!(r.dlm_recovery_in_progress());
                let should_block = before.locks_blocked()
                    || (before.flags().contains(RecoverFlags::MOUNT_DONE)
                        && !before.flags().contains(RecoverFlags::FIRST_MOUNT));
                assert_eq!(r.locks_blocked(), should_block);
                let mut f = before.flags() | RecoverFlags::DLM_RECOVERY;
                if should_block {
                    f |= RecoverFlags::BLOCK_LOCKS;
                }
                assert_eq!(r.flags(), f);
                self.check(&before, "recover_prep", false, true);
            }
            Cb::Slot(s) => {
                let s = slot(s);
                let got = self.rec.recover_slot(s);
                let size = before.recover_size();
                let want = if s <= 0 {
                    Err(RecoveryError::InvalidSlot(s))
                } else if (s - 1) as usize >= N {
                    Err(RecoveryError::SlotBeyondCapacity {
                        slot: s,
                        capacity: N,
                    })
                } else if (s - 1) as u32 >= size {
                    Err(RecoveryError::ShortSize {
                        jid: (s - 1) as u32,
                        size,
                    })
                } else {
                    let j = (s - 1) as usize;
                    let old = before.submit()[j];
                    Ok(SlotRecorded {
                        jid: j as u32,
                        generation: before.recover_block(),
                        prev: (old != 0).then_some(old),
                    })
                };
                assert_eq!(got, want, "recover_slot({s})");
                match got {
                    Err(_) => assert_eq!(self.rec, before, "refused recover_slot changed state"),
                    Ok(rec) => {
                        let j = rec.jid as usize;
                        assert_eq!(self.rec.submit()[j], before.recover_block());
                        for (i, (a, b)) in self.rec.submit().iter().zip(before.submit()).enumerate()
                        {
                            if i != j {
                                assert_eq!(a, b);
                            }
                        }
                        assert_eq!(self.rec.result(), before.result());
                        assert_eq!(self.rec.flags(), before.flags());
                    }
                }
                self.check(&before, "recover_slot", false, false);
            }
            Cb::Done {
                ref slots,
                our,
                gen,
            } => {
                let slots: Vec<i32> = slots.iter().map(|&s| slot(s)).collect();
                let our = slot(our);
                let gen = self.gen(gen);
                let got = self.rec.recover_done(&slots, our, gen);
                let first = before.recover_mount() == 0;
                let bad = slots
                    .iter()
                    .copied()
                    .chain(first.then_some(our))
                    .enumerate()
                    .find_map(|(i, s)| {
                        let is_our = first && i == slots.len();
                        if s <= 0 {
                            is_our.then_some(RecoveryError::InvalidSlot(s))
                        } else if (s - 1) as usize >= N {
                            Some(RecoveryError::SlotBeyondCapacity {
                                slot: s,
                                capacity: N,
                            })
                        } else {
                            None
                        }
                    });
                match (got, bad) {
                    (Err(e), Some(b)) => {
                        assert_eq!(e, b);
                        assert_eq!(self.rec, before, "refused recover_done changed state");
                    }
                    (Ok(work), None) => {
                        let r = &self.rec;
                        let unmount = before.flags().contains(RecoverFlags::UNMOUNT);
                        assert_eq!(work, (!unmount).then_some(ControlWork::Now));
                        assert_eq!(r.recover_start(), gen);
                        if first {
                            assert_eq!(r.recover_mount(), gen);
                            assert_eq!(r.jid(), our - 1);
                        } else {
                            assert_eq!(r.recover_mount(), before.recover_mount());
                            assert_eq!(r.jid(), before.jid());
                        }
                        assert!(!r.dlm_recovery_in_progress());
                        assert_eq!(r.flags(), before.flags() - RecoverFlags::DLM_RECOVERY);
                        // Size: every slot fits; Fit rounds up by 16, Reference adds 16 once.
                        // The kernel's max_jid starts at 0, so even no slots need size 1.
                        let old = before.recover_size();
                        let need = slots
                            .iter()
                            .map(|&s| i64::from(s))
                            .max()
                            .unwrap_or(0)
                            .max(1);
                        let want = if i64::from(old) >= need {
                            old
                        } else if self.policy == SizePolicy::Reference {
                            old + 16
                        } else {
                            let mut s = old;
                            while i64::from(s) < need {
                                s += 16;
                            }
                            s
                        };
                        assert_eq!(r.recover_size(), want.min(N as u32));
                        let n = before.submit().len();
                        assert_eq!(&r.submit()[..n], before.submit());
                        assert_eq!(&r.result()[..n], before.result());
                        assert!(r.submit()[n..].iter().all(|&v| v == 0));
                        assert!(r.result()[n..].iter().all(|&v| v == 0));
                    }
                    (got, bad) => {
                        panic!("recover_done({slots:?}, {our}, {gen}) = {got:?}, model {bad:?}")
                    }
                }
                self.check(&before, "recover_done", true, false);
            }
            Cb::Result { jid, result } => {
                let jid = self.jid(jid);
                let result = match result {
                    ResV::Success => LM_RD_SUCCESS,
                    ResV::GaveUp => LM_RD_GAVEUP,
                    ResV::Raw(r) => r,
                };
                let got = self.rec.recovery_result(jid, result);
                let f = before.flags();
                let size = before.recover_size();
                let want = if f.contains(RecoverFlags::NO_DLM_OPS) {
                    Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps))
                } else if jid == before.jid() as u32 {
                    Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid))
                } else if f.contains(RecoverFlags::FIRST_MOUNT) {
                    Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount))
                } else if jid as usize >= N {
                    Err(RecoveryError::JidBeyondCapacity { jid, capacity: N })
                } else if jid >= size {
                    Err(RecoveryError::ShortSize { jid, size })
                } else {
                    Ok(ResultOutcome::Recorded(
                        (!f.contains(RecoverFlags::UNMOUNT)).then_some(if result == LM_RD_GAVEUP {
                            ControlWork::AfterHz
                        } else {
                            ControlWork::Now
                        }),
                    ))
                };
                assert_eq!(got, want, "recovery_result({jid}, {result})");
                match got {
                    Ok(ResultOutcome::Recorded(_)) => {
                        assert_eq!(self.rec.result()[jid as usize], result);
                        assert_eq!(self.rec.submit(), before.submit());
                        assert_eq!(self.rec.flags(), before.flags());
                    }
                    _ => assert_eq!(self.rec, before, "ignored/refused result changed state"),
                }
                self.check(&before, "recovery_result", false, false);
            }
        }
    }

    fn control(&mut self, lvb: LvbV, mid1: &[Cb], mid2: &[Cb], after_stale: bool) {
        self.events += 1;
        let before = self.rec.clone();
        let begin = self.rec.control_begin();
        assert_eq!(self.rec, before, "control_begin changed state");
        let f = before.flags();
        let (mut t, ex) = match begin {
            ControlBegin::NotReady => {
                assert!(
                    !f.contains(RecoverFlags::MOUNT_DONE) || f.contains(RecoverFlags::FIRST_MOUNT)
                );
                return;
            }
            ControlBegin::DlmRecovering => {
                assert_eq!(before.recover_block(), before.recover_start());
                return;
            }
            ControlBegin::Lock(t, ex) => (t, ex),
        };
        assert!(f.contains(RecoverFlags::MOUNT_DONE) && !f.contains(RecoverFlags::FIRST_MOUNT));
        assert_eq!(
            (t.block_gen, t.start_gen),
            (before.recover_block(), before.recover_start())
        );
        assert_ne!(t.block_gen, t.start_gen);
        assert_eq!(t.recover_size, before.recover_size());
        assert_eq!(
            (ex.lock, ex.mode, ex.lvb),
            (LockId::Control, DlmMode::Ex, None)
        );

        for cb in mid1 {
            self.callback(cb);
        }
        let read = self.lvb(lvb);
        let before = self.rec.clone();
        let upd = self.rec.control_locked(&mut t, &read);
        // ls_lvb_bits is the read copy (bytes 0-7 too) with our updates below the size.
        let bits = self.rec.lvb_bits();
        assert_eq!(
            &bits.as_bytes()[..8],
            &read.as_bytes()[..8],
            "lvb_bits header"
        );
        for j in before.recover_size()..192 {
            assert_eq!(bits.jid(j), read.jid(j), "lvb_bits jid {j} beyond size");
        }
        let stale = match upd {
            ControlUpdate::Stale(call) => {
                assert!(
                    t.block_gen != before.recover_block() || t.start_gen != before.recover_start()
                );
                assert_eq!(
                    (call.lock, call.mode, call.lvb),
                    (LockId::Control, DlmMode::Nl, None)
                );
                assert_eq!(self.rec.submit(), before.submit());
                assert_eq!(self.rec.result(), before.result());
                true
            }
            ControlUpdate::Convert { call, lvb_gen } => {
                assert_eq!(lvb_gen, read.generation());
                assert_eq!(t.recover_size, self.rec.recover_size());
                assert_eq!((call.lock, call.mode), (LockId::Control, DlmMode::Nl));
                assert_eq!(
                    call.flags.contains(gdlm_core::DlmLkf::VALBLK),
                    call.lvb.is_some()
                );
                if let Some(w) = call.lvb {
                    assert_eq!(w.generation(), t.start_gen);
                    assert!(w.generation() >= lvb_gen, "LVB generation goes backwards");
                    assert_eq!(&w.as_bytes()[4..8], &read.as_bytes()[4..8], "unused bytes");
                    for j in w.jids().iter() {
                        assert!(j < 192);
                        if !read.jids().contains(j) {
                            assert!(j < t.recover_size, "new jid bit {j} beyond size");
                        }
                    }
                    self.cluster = w;
                }
                if lvb_gen > t.start_gen {
                    assert_eq!(call.lvb, None);
                    assert_eq!(self.rec.submit(), before.submit());
                    assert_eq!(self.rec.result(), before.result());
                }
                false
            }
        };
        self.check(&before, "control_locked", false, false);
        for cb in mid2 {
            self.callback(cb);
        }
        if stale && !after_stale {
            return;
        }
        let before = self.rec.clone();
        let fin = self.rec.control_converted(&t);
        match fin {
            ControlFinish::Recover(jids) => {
                assert!(!jids.is_empty());
                check_jids(&jids, N, t.recover_size);
                for j in jids.iter() {
                    assert_eq!(self.rec.lvb_bits().jid(j), Ok(true));
                }
                assert_eq!(self.rec, before);
                self.last_recovered = jids.iter().last();
            }
            ControlFinish::Unblocked { generation } => {
                assert_eq!(generation, t.start_gen);
                assert_eq!(
                    (t.block_gen, t.start_gen),
                    (self.rec.recover_block(), self.rec.recover_start())
                );
                assert!(!self.rec.locks_blocked());
                assert!(self.rec.lvb_bits().jids_below(t.recover_size).is_empty());
            }
            ControlFinish::StillBlocked => {
                assert!(
                    t.block_gen != self.rec.recover_block()
                        || t.start_gen != self.rec.recover_start()
                );
                assert_eq!(self.rec, before);
            }
        }
        self.check(&before, "control_converted", false, false);
    }

    fn event(&mut self, ev: &Event) {
        match ev {
            Event::Cb(cb) => self.callback(cb),
            Event::Control {
                lvb,
                mid1,
                mid2,
                converted_after_stale,
            } => self.control(*lvb, mid1, mid2, *converted_after_stale),
            Event::Unmount => {
                let before = self.rec.clone();
                self.rec.unmount();
                assert!(self.rec.flags().contains(RecoverFlags::UNMOUNT));
                self.check(&before, "unmount", false, false);
            }
            Event::Release => {
                let before = self.rec.clone();
                self.rec.release();
                assert_eq!(self.rec.recover_size(), 0);
                assert!(self.rec.lvb_bits().all_jid_bits_clear());
                self.check(&before, "release", false, false);
            }
            Event::NewLockspace { ops_result, jid } => {
                let before = self.rec.clone();
                let opts = MountOptions {
                    jid: *jid,
                    ..MountOptions::default()
                };
                let r = after_new_lockspace(&mut self.rec, *ops_result, &opts);
                if *ops_result < 0 {
                    assert_eq!(r, Ok(OpsMode::NoOps));
                    assert!(self.rec.flags().contains(RecoverFlags::NO_DLM_OPS));
                    assert_eq!(self.rec.recover_size(), 0);
                } else {
                    let want = if jid.is_some() {
                        Err(TableError::JidPreset)
                    } else {
                        Ok(OpsMode::DlmOps)
                    };
                    assert_eq!(r, want);
                    assert_eq!(self.rec, before);
                }
                self.check(&before, "after_new_lockspace", false, false);
            }
        }
    }
}

fn check_jids(jids: &JidSet, cap: usize, size: u32) {
    assert!(jids.len() <= cap);
    for j in jids.iter() {
        assert!((j as usize) < cap, "jid {j} beyond capacity {cap}");
        assert!(j < size, "jid {j} beyond the ticket's size {size}");
    }
}

fn run<const N: usize>(policy: SizePolicy, events: &[Event]) {
    let mut w = World::<N> {
        policy,
        rec: Recovery::new(policy),
        cluster: ControlLvb::zeroed(),
        last_recovered: None,
        events: 0,
    };
    for ev in events {
        w.event(ev);
        if w.events > 4096 {
            break;
        }
    }
}

fuzz_target!(|input: Input| {
    let policy = if input.reference {
        SizePolicy::Reference
    } else {
        SizePolicy::Fit
    };
    if input.small {
        run::<16>(policy, &input.events);
    } else {
        run::<192>(policy, &input.events);
    }
});
