//! An arbitrary sequence of DLM recovery callbacks, control steps, mount and
//! first_done machine inputs, unmount and release → `Recovery<192>` or
//! `Recovery<16>` under either `SizePolicy`.
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
use gdlm_core::mount::{
    after_new_lockspace, ControlMount, FirstDone, FirstDoneStep, MountError, MountOptions,
    MountStep, OpsMode, TableError,
};
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

const STATUSES: [i32; 9] = [-11, -22, -4, -35, -110, -0x10001, -0x10002, 1, -1];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum StatusV {
    Ok,
    Again,
    Known(u8),
    Raw(i32),
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
    MountStart,
    MountLock {
        status: StatusV,
        lvb: Option<LvbV>,
    },
    MountUnlock(i32),
    MountSleepDone,
    MountInterrupt,
    FirstStart,
    FirstLock(StatusV),
    FirstUnlock(i32),
    NewFirstDone,
    Unmount,
    Release,
    NewLockspace {
        ops_result: i32,
        jid: Option<u32>,
    },
    Remount,
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

fn status(v: StatusV) -> i32 {
    match v {
        StatusV::Ok => 0,
        StatusV::Again => -11,
        StatusV::Known(i) => STATUSES[usize::from(i) % STATUSES.len()],
        StatusV::Raw(s) => s,
    }
}

struct World<const N: usize> {
    policy: SizePolicy,
    rec: Recovery<N>,
    mount: ControlMount,
    mount_started: bool,
    first: FirstDone,
    /// The control LVB as the cluster holds it (what control_lock EX would return).
    cluster: ControlLvb,
    /// An LVB a pending FirstDone control NL call will write.
    first_write: Option<ControlLvb>,
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

    fn mount_step(
        &mut self,
        what: &str,
        before_m: ControlMount,
        before: Recovery<N>,
        r: Result<MountStep, MountError>,
    ) {
        match r {
            Err(_) => {
                assert_eq!(self.mount, before_m, "refused {what} changed the machine");
                assert_eq!(self.rec, before, "refused {what} changed the state");
            }
            Ok(MountStep::Mounted { first }) => {
                let f = self.rec.flags();
                assert!(f.contains(RecoverFlags::MOUNT_DONE));
                assert!(!self.rec.locks_blocked());
                assert_eq!(f.contains(RecoverFlags::FIRST_MOUNT), first);
                let g = self
                    .mount
                    .lvb_gen()
                    .expect("mounted without reading the LVB");
                assert_ne!(g, 0xFFFF_FFFF, "mounted with a disabled LVB");
                if !first {
                    assert!(self.rec.lvb_bits().all_jid_bits_clear());
                    assert_eq!(g, self.rec.recover_start());
                    assert!(g >= self.rec.recover_mount());
                    assert_ne!(self.rec.recover_block(), self.rec.recover_start());
                    assert!(self.rec.submit().iter().all(|&v| v == 0));
                    assert!(self.rec.result().iter().all(|&v| v == 0));
                    assert_eq!(self.mount.mounted_mode(), DlmMode::Pr);
                } else {
                    assert_eq!(self.mount.mounted_mode(), DlmMode::Ex);
                }
            }
            Ok(MountStep::Failed { .. }) | Ok(_) => {}
        }
        self.check(&before, what, false, false);
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
            Event::MountStart => {
                // control_mount runs once per mount (the kernel never restarts it).
                if self.mount_started {
                    return;
                }
                self.mount_started = true;
                let before = self.rec.clone();
                let step = self.mount.start(&mut self.rec);
                assert!(matches!(step, MountStep::Lock(_)));
                assert!(self.rec.locks_blocked());
                self.check(&before, "ControlMount::start", false, false);
            }
            Event::MountLock { status: s, lvb } => {
                let (bm, before) = (self.mount, self.rec.clone());
                let l = lvb.map(|v| self.lvb(v));
                let r = self
                    .mount
                    .on_lock_result(&mut self.rec, status(*s), l.as_ref());
                self.mount_step("on_lock_result", bm, before, r);
            }
            Event::MountUnlock(s) => {
                let (bm, before) = (self.mount, self.rec.clone());
                let r = self.mount.on_unlock_result(*s);
                self.mount_step("on_unlock_result", bm, before, r);
            }
            Event::MountSleepDone => {
                let (bm, before) = (self.mount, self.rec.clone());
                let r = self.mount.on_sleep_done();
                self.mount_step("on_sleep_done", bm, before, r);
            }
            Event::MountInterrupt => self.mount.interrupt(),
            Event::FirstStart => {
                let (bf, before) = (self.first, self.rec.clone());
                let r = self.first.start(&mut self.rec);
                self.first_step("FirstDone::start", bf, before, r);
            }
            Event::FirstLock(s) => {
                let (bf, before) = (self.first, self.rec.clone());
                let st = status(*s);
                let r = self.first.on_lock_result(st);
                if r.is_ok() && st == 0 {
                    if let Some(w) = self.first_write.take() {
                        self.cluster = w;
                    }
                }
                self.first_step("FirstDone::on_lock_result", bf, before, r);
            }
            Event::FirstUnlock(s) => {
                let (bf, before) = (self.first, self.rec.clone());
                let r = self.first.on_unlock_result(*s);
                self.first_step("FirstDone::on_unlock_result", bf, before, r);
            }
            Event::NewFirstDone => {
                self.first = FirstDone::new();
                self.first_write = None;
            }
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
            Event::Remount => {
                self.rec = Recovery::new(self.policy);
                self.mount = ControlMount::new();
                self.mount_started = false;
                self.first = FirstDone::new();
                self.first_write = None;
                self.last_recovered = None;
            }
        }
    }

    fn first_step(
        &mut self,
        what: &str,
        bf: FirstDone,
        before: Recovery<N>,
        r: Result<FirstDoneStep, MountError>,
    ) {
        match r {
            Err(_) => {
                assert_eq!(self.first, bf, "refused {what} changed the machine");
                assert_eq!(self.rec, before, "refused {what} changed the state");
            }
            Ok(FirstDoneStep::Lock(call)) => {
                if let Some(w) = call.lvb {
                    assert_eq!(call.lock, LockId::Control);
                    assert!(w.all_jid_bits_clear());
                    // start_gen as FirstDone::start read it (a recover_done may come since).
                    assert_eq!(&w, self.first.lvb());
                    self.first_write = Some(w);
                }
                if what == "FirstDone::start" {
                    assert_eq!(self.first.lvb().generation(), self.rec.recover_start());
                    assert!(self.first.lvb().all_jid_bits_clear());
                    let f = self.rec.flags();
                    assert!(f.contains(RecoverFlags::FIRST_MOUNT_DONE));
                    assert!(!f.contains(RecoverFlags::FIRST_MOUNT));
                    assert!(self.rec.lvb_bits().all_jid_bits_clear());
                }
            }
            Ok(FirstDoneStep::WaitDlmRecovery) => {
                assert_eq!(self.rec.recover_block(), self.rec.recover_start());
                assert_eq!(self.rec, before);
                assert_eq!(self.first, bf);
            }
            Ok(FirstDoneStep::Unlock(_)) | Ok(FirstDoneStep::Done { .. }) => {
                assert_eq!(self.rec, before);
            }
        }
        self.check(&before, what, false, false);
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
        mount: ControlMount::new(),
        mount_started: false,
        first: FirstDone::new(),
        cluster: ControlLvb::zeroed(),
        first_write: None,
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
