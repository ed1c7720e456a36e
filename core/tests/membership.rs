//! Property tests of `gdlm_core::membership` against a model of CPG: configuration changes
//! reach every member of the new view in one total order; messages are delivered to the
//! view they were sent in before the next change (virtual synchrony) or, for a "late"
//! change, after it (what the protocol must survive without virtual synchrony); the
//! messages of a member that fails may be lost.

use std::collections::{BTreeMap, BTreeSet};

use gdlm_core::membership::{Change, LeftReason, Member, Membership, SyncMsg};
use proptest::prelude::*;

const N: usize = 8;

#[derive(Clone, Debug)]
enum Op {
    /// A new process joins (node id chosen from the index, pid fresh); `true`: messages in
    /// flight arrive after the change.
    Join(u32, bool),
    /// The member at this index (mod view size) leaves for this reason code; `true`:
    /// messages in flight arrive after the change.
    Leave(usize, u32, bool),
    /// Deliver every pending message.
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u32..6, any::<bool>()).prop_map(|(n, late)| Op::Join(n, late)),
        2 => (0usize..8, prop_oneof![Just(2u32), Just(3), Just(5)], any::<bool>())
            .prop_map(|(i, r, late)| Op::Leave(i, r, late)),
        2 => Just(Op::Flush),
    ]
}

struct Proc {
    m: Membership<N>,
    /// Generations of every recover_done seen, in order.
    dones: Vec<u32>,
    /// Slot of each done.
    slots: Vec<i32>,
    /// Failed slots reported since the last check.
    failed: Vec<i32>,
    /// Preps since the last done.
    preps: usize,
}

struct Cluster {
    procs: BTreeMap<Member, Proc>,
    pending: Vec<(Member, Vec<u8>)>,
    next_pid: u32,
    /// The slot table every synced member must agree on, maintained independently of
    /// the implementation: (member → slot), lowest free slot to joiners in member order.
    model: BTreeMap<Member, i32>,
    model_gen: u32,
}

impl Cluster {
    fn new() -> Self {
        Cluster {
            procs: BTreeMap::new(),
            pending: Vec::new(),
            next_pid: 1,
            model: BTreeMap::new(),
            model_gen: 0,
        }
    }

    fn absorb(&mut self, who: Member, c: Change<N>) {
        let p = self.procs.get_mut(&who).unwrap();
        if c.prep {
            p.preps += 1;
        }
        p.failed.extend(c.failed.iter().copied());
        if let Some(d) = &c.done {
            if let Some(&last) = p.dones.last() {
                assert!(
                    d.generation > last,
                    "{who:?}: generation {} after {last}",
                    d.generation
                );
            }
            p.dones.push(d.generation);
            p.slots.push(d.our_slot);
            assert!(d.our_slot >= 1);
            assert!(d.slots.contains(&d.our_slot));
        }
        if let Some(s) = c.sync {
            let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
            let n = s.encode(&mut buf).unwrap();
            self.pending.push((who, buf[..n].to_vec()));
        }
    }

    fn flush(&mut self) {
        let msgs = std::mem::take(&mut self.pending);
        for (from, bytes) in msgs {
            let members: Vec<Member> = self.procs.keys().copied().collect();
            for m in members {
                let c = self
                    .procs
                    .get_mut(&m)
                    .unwrap()
                    .m
                    .deliver(from, &bytes)
                    .unwrap();
                self.absorb(m, c);
            }
        }
    }

    fn confchg(&mut self, left: &[(Member, LeftReason)], joined: &[Member]) {
        let view: Vec<Member> = self.procs.keys().copied().collect();
        // Model: one DLM recovery.
        for (m, _) in left {
            self.model.remove(m);
        }
        for &j in joined {
            let mut s = 1;
            while self.model.values().any(|&v| v == s) {
                s += 1;
            }
            self.model.insert(j, s);
        }
        self.model_gen += 1;
        // The sync is sent by the lowest member synced before the change (none synced:
        // by a fresh starter).
        let synced_before: Vec<Member> = view
            .iter()
            .copied()
            .filter(|m| self.procs[m].m.is_synced())
            .collect();
        let before = self.pending.len();
        for &m in &view {
            let c = self
                .procs
                .get_mut(&m)
                .unwrap()
                .m
                .confchg(&view, left, joined)
                .unwrap();
            self.absorb(m, c);
        }
        let sent: Vec<Member> = self.pending[before..].iter().map(|(f, _)| *f).collect();
        assert!(sent.len() <= 1, "one sync per change, got {sent:?}");
        if let (Some(f), Some(low)) = (sent.first(), synced_before.first()) {
            assert_eq!(f, low, "the lowest synced member sends");
        }
        // Orphaned joiners (every synced member gone) start afresh: generation 1, slots
        // 1..k in member order, which the model adopts.
        let fresh = self
            .procs
            .values()
            .any(|p| p.m.is_synced() && p.m.generation() == Some(1));
        if fresh && self.model_gen != 1 {
            assert!(
                left.iter().any(|_| true),
                "a fresh start only follows a departure"
            );
            self.model = view
                .iter()
                .enumerate()
                .map(|(i, m)| (*m, i as i32 + 1))
                .collect();
            self.model_gen = 1;
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Flush => self.flush(),
            Op::Join(node, late) => {
                if self.procs.len() == N {
                    return;
                }
                // Messages sent in the old view reach it before the change (unless late).
                if !late {
                    self.flush();
                }
                let me = Member::new(node, self.next_pid);
                self.next_pid += 1;
                self.procs.insert(
                    me,
                    Proc {
                        m: Membership::new(me),
                        dones: vec![],
                        slots: vec![],
                        failed: vec![],
                        preps: 0,
                    },
                );
                if self.procs.len() == 1 {
                    // A fresh group: the model restarts.
                    self.model.clear();
                    self.model_gen = 0;
                }
                self.confchg(&[], &[me]);
            }
            Op::Leave(i, code, late) => {
                if self.procs.is_empty() {
                    return;
                }
                let who = *self.procs.keys().nth(i % self.procs.len()).unwrap();
                let why = LeftReason::from_cpg(code);
                if why.failed() {
                    // A failing member's unsent messages are lost; the others' arrive.
                    self.pending.retain(|(f, _)| *f != who);
                }
                if !late {
                    self.flush();
                }
                let mut gone = self.procs.remove(&who).unwrap();
                let c = gone.m.confchg(&[], &[(who, why)], &[]).unwrap();
                assert!(c.is_empty() && gone.m.has_left());
                let had = self.model.get(&who).copied();
                self.confchg(&[(who, why)], &[]);
                // Survivors that were synced report the failed slot, and only then.
                for (m, p) in self.procs.iter_mut() {
                    let expect: Vec<i32> = match (why.failed(), had) {
                        (true, Some(s)) if p.m.is_synced() && p.dones.len() > 1 => vec![s],
                        _ => vec![],
                    };
                    if p.m.is_synced() && p.dones.len() > 1 {
                        assert_eq!(p.failed, expect, "{m:?} after {who:?} left ({why:?})");
                    }
                    p.failed.clear();
                }
            }
        }
        self.check();
    }

    fn check(&self) {
        let view: Vec<Member> = self.procs.keys().copied().collect();
        let synced: Vec<&Proc> = self.procs.values().filter(|p| p.m.is_synced()).collect();
        // Every synced member agrees on the generation and the table.
        for w in synced.windows(2) {
            assert_eq!(w[0].m.generation(), w[1].m.generation());
            assert_eq!(w[0].m.table(), w[1].m.table());
        }
        for p in &synced {
            let t = p.m.table();
            assert_eq!(t.iter().map(|e| e.0).collect::<Vec<_>>(), view);
            let slots: BTreeSet<i32> = t.iter().map(|e| e.1).collect();
            assert_eq!(slots.len(), t.len(), "slots unique");
            assert_eq!(p.m.our_slot(), p.slots.last().copied());
            // A member's slot never changes.
            assert!(
                p.slots.windows(2).all(|w| w[0] == w[1]),
                "slot moved: {:?}",
                p.slots
            );
        }
        // The synced members' table and generation are the model's.
        if let Some(p) = synced.first() {
            assert_eq!(p.m.generation(), Some(self.model_gen));
            let model: Vec<(Member, i32)> = self.model.iter().map(|(m, s)| (*m, *s)).collect();
            assert_eq!(p.m.table(), &model[..]);
        }
        // With no message in flight everyone is synced.
        if self.pending.is_empty() && !view.is_empty() {
            assert_eq!(synced.len(), view.len(), "quiescent but unsynced");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn members_derive_identical_generations_and_slots(ops in proptest::collection::vec(op(), 1..60)) {
        let mut c = Cluster::new();
        for op in &ops {
            c.step(op);
        }
        c.flush();
        c.check();
    }

    #[test]
    fn decode_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        if let Ok(s) = SyncMsg::<N>::decode(&bytes) {
            let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
            let n = s.encode(&mut buf).unwrap();
            prop_assert_eq!(&buf[..n], &bytes[..]);
        }
    }
}
