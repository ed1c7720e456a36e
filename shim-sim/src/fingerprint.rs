//! The canonical state of a simulated cluster, for the exhaustive check (issue 15).
//!
//! Two states with the same canonical state have the same futures, so the check explores
//! one of them. The canonical state is the protocol-relevant state only, written as bytes
//! into [`Canon`] and hashed with XXH3-128 (a 128-bit key: no collision is to be expected
//! among a few billion states, where a 64-bit SipHash key, besides costing most of the
//! checker's time, made one likely at a few billion):
//!
//! - every node's engine (phase, recovery state, mount machines, membership, outstanding
//!   requests, journal-recovery queue, which timers are armed), its lock-id maps, pending
//!   replays, unmount progress and replay model;
//! - the DLM model: membership and recovery state, every resource's grant/convert/wait
//!   queues (lock ids, with each lock's modes, flags and LVB), resource LVBs and
//!   VALNOTVALID, deferred calls and undelivered callbacks;
//! - the journals' dirty flags and the generation of their writer's failure, the CPG log
//!   still to be delivered, pending and wanted mounts, and invariant 4's LVB high-water
//!   mark.
//!
//! Renamed canonically: DLM lock ids, by first sight in a fixed traversal (resources by
//! name, each queue in order, then node by node, lock by lock). The model only compares
//! lock ids for equality and allocates each new id above every live one, so any
//! renaming that keeps them distinct keeps every future. CPG log positions are shifted by
//! the oldest position a member still has to deliver (see [`crate::cpg::Cpg`]).
//!
//! Generations are renamed in the state itself ([`Generations::rename`], after every
//! transition of the check; the audit renames a copy), through gdlm-core's
//! `Engine::visit_generations` and the simulator's visitors, which reach every copy: the
//! engines' (`ls_recover_mount/start/block`, every `ls_recover_submit` entry, the
//! generation in `ls_lvb_bits`, in the lksb's LVB buffer, in control_mount's and
//! control_first_done's LVBs, control_mount's `lvb_gen`, the control step's ticket, the
//! running recovery's, the CPG membership's and its sync message's), the DLM model's
//! (its recovery generation, undelivered recover_done's, and the generation bytes of every
//! copy of control_lock's LVB: the resource's, each lock's buffer, deferred calls',
//! undelivered completions'), the CPG log's sync messages still to be delivered, the
//! journals' failure generations (kernel callbacks) and invariant 4's marks. Why it is
//! sound:
//! - Everything that reads a generation only compares it (`==`, `<`, `<=`) with another
//!   one, or with 0 (`ls_recover_mount == 0`: the first recover_done; a zero LVB: the
//!   first mounter; a zero submit entry: nothing recorded), 1 (a CPG lineage's founder
//!   starts at 1, and the simulator's invariant 4 tells a new lineage by it) or
//!   0xFFFFFFFF (`control_mount`'s disabled LVB, L856): gfs2_control_func L611-L741,
//!   control_mount L895-L917, control_first_done L965, gdlm_recover_slot/done, the
//!   membership's sync check, invariants 1 and 4. The renaming keeps 0, 1 and
//!   0xFFFFFFFF and maps every other value onto 2, 3, … keeping order, so every such
//!   comparison comes out as before.
//! - New generations are made only by counting on: the DLM model's recovery adds 1 to
//!   its generation (the highest lockspace generation with kernel callbacks), a CPG
//!   member adds 1 per configuration change (`Membership::confchg`), a joiner adopts a
//!   sync message's and counts on from it. Those values are marked as counters, and from
//!   the lowest counter up the renaming is a translation (distances kept), so every
//!   member's next generations stay equal to each other's and above every renamed value;
//!   only the gaps below it, among values that are only compared, are closed.
//! - The one generation made from nothing is a new CPG lineage's 1, after every member
//!   left; its later values would be compared with old ones at distances the renaming
//!   does not keep. The check therefore does not rename with CPG callbacks when it may
//!   crash every node (`exhaustive::renames_generations`); with fewer crashes a node
//!   that never crashed stays in the group. The DLM model's counter never restarts.
//! - LVB bytes other than the generation, `ls_recover_result` (`LM_RD_*` values), the
//!   membership's `seen` and join marks and sync messages' ages (counts of changes, read
//!   as differences and compared with each other) are not generations and stay.
//!
//! Checked: `exhaustive::audit` keys raw states by a renamed copy and requires states it
//! merges to have equal successors (with one remount it merges states by the renaming
//! alone, and their successors agree); unit test
//! `renaming_in_place_commutes_with_every_transition` requires a cluster renamed after
//! every step and the same one renamed only at the end to have one canonical state along
//! random walks with two crashes and a remount; the injected defects are still caught
//! (test `exhaustive_check_catches_injected_defects`).
//!
//! Other counters that grow and could tell otherwise equal states apart after a remount,
//! and what the canonical state does with them: `control_mount`'s retry count (written as
//! "retried or not", its `Hash`), CPG log positions (shifted, above), DLM lock ids
//! (renamed), a node's CPG pid (one more per mount of that node, so bounded by the
//! mounts; compared for equality only), the membership's `seen` (bounded by the changes
//! a member saw; kept), jids and slots (the lowest free slot, a function of the state;
//! kept), journals' replay counts and the engines' statistics (left out, below). None is
//! unbounded under a fault budget, so none makes the space infinite; what makes the
//! one-remount space large is interleaving (shim-sim/README.md).
//!
//! Excluded, and why none of it changes what happens next:
//! - the engine's journal-lock statistics (`GlockStats`): written on every journal-lock
//!   request and reply, read by nothing but `journal_stats()` (gfs2's stats are only
//!   reported, never decide); stripped from the engine's bytes by [`Canon::engine`];
//! - the engine's clock: in untimed mode ([`crate::sim::Sim::set_untimed`]) every call
//!   is made at one instant beyond every timer, so the clock and every armed timer hold
//!   that same instant (the bytes are equal), and a node's cached `poll_timeout` and its
//!   pending replays' finish times only say "due at the next step": hashed as "armed";
//! - the DLM's next lock id (see above) and the LVB sequence numbers unless the
//!   `lvb-remaster` defect is on (only its remaster reads them);
//! - a node's `choice` (the simulator writes it before every step that reads it) and
//!   `fresh` (whether remaking the engine can be skipped: a fresh engine equals a new one);
//! - the simulator's random generator (it only draws glock-traffic choices, and the check
//!   runs without traffic), step counter, statistics, trace, timeline and recording, and a
//!   journal's replay count (statistics);
//! - the CPG log before every member's cursor (no member delivers it again; a new member
//!   starts at the end);
//! - the order in which different nodes' DLM callbacks sit in the outbox: it is written
//!   node by node, each node's callbacks in their order (the check delivers a node's
//!   oldest callback and asks only whether a node has one).

use std::hash::{Hash, Hasher};

use gdlm_core::engine::Engine;
use xxhash_rust::xxh3::xxh3_128;

/// The canonical state being written: a byte buffer (a [`Hasher`] that keeps what it is
/// fed) and the lock-id renaming.
#[derive(Default)]
pub struct Canon {
    buf: Vec<u8>,
    lkids: Vec<(u32, u32)>,
    scratch: Recorder,
    tail: Recorder,
    /// CPG mode: the log position every member has delivered (positions are written
    /// relative to it).
    pub(crate) log_base: usize,
    /// Engines whose statistics could not be stripped (the engine's layout changed).
    pub(crate) unstripped: u32,
    /// Byte offsets where parts of the DLM model's bytes end (for the census).
    pub(crate) marks: Vec<usize>,
}

/// A [`Hasher`] that records the bytes it is fed.
#[derive(Default)]
struct Recorder(Vec<u8>);

impl Hasher for Recorder {
    fn write(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn finish(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.0)
    }
}

impl Hasher for Canon {
    fn write(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    fn finish(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.buf)
    }
}

thread_local! {
    static CANON: std::cell::RefCell<Canon> = std::cell::RefCell::new(Canon::new());
}

/// Run `f` on this thread's canonical-state buffer, emptied first (its allocations are
/// reused from state to state).
pub fn with_canon<R>(f: impl FnOnce(&mut Canon) -> R) -> R {
    CANON.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        f(&mut c)
    })
}

impl Canon {
    /// An empty canonical state.
    pub fn new() -> Self {
        Canon::default()
    }

    /// Empty it (keeping its allocations).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lkids.clear();
        self.log_base = 0;
        self.unstripped = 0;
        self.marks.clear();
    }

    /// Write a value as its derived `Hash` writes it.
    pub fn put<T: Hash + ?Sized>(&mut self, v: &T) {
        v.hash(self);
    }

    /// The canonical name of DLM lock id `id` (0, "no lock", stays 0): 1, 2, … in order
    /// of first sight.
    pub fn lkid(&mut self, id: u32) -> u32 {
        if id == 0 {
            return 0;
        }
        if let Some(&(_, c)) = self.lkids.iter().find(|&&(l, _)| l == id) {
            return c;
        }
        let c = self.lkids.len() as u32 + 1;
        self.lkids.push((id, c));
        c
    }

    /// The canonical name of `id` if it was seen.
    pub fn seen(&self, id: u32) -> bool {
        id == 0 || self.lkids.iter().any(|&(l, _)| l == id)
    }

    /// Write an engine without its journal-lock statistics.
    ///
    /// `Engine`'s derived `Hash` writes its fields in order and ends with the statistics
    /// and the (drained, so empty) action queue's length. Those bytes are recognised as
    /// the tail and left out; if the tail does not match (a changed layout, or actions
    /// not drained), the whole engine is written and [`Canon::unstripped`] counts it: the
    /// state is then finer than needed, never coarser.
    pub fn engine<const N: usize>(&mut self, e: &Engine<N>) {
        self.scratch.0.clear();
        e.hash(&mut self.scratch);
        self.tail.0.clear();
        e.journal_stats().hash(&mut self.tail);
        0usize.hash(&mut self.tail);
        let (all, tail) = (&self.scratch.0, &self.tail.0);
        if all.len() > tail.len() && all.ends_with(tail) {
            self.buf.extend_from_slice(&all[..all.len() - tail.len()]);
        } else {
            self.unstripped += 1;
            self.buf.extend_from_slice(all);
        }
    }

    /// Mark the end of a part (the census splits the bytes there).
    pub(crate) fn mark(&mut self) {
        self.marks.push(self.buf.len());
    }

    /// The key: XXH3-128 of the canonical bytes.
    pub fn key(&self) -> u128 {
        xxh3_128(&self.buf)
    }

    /// The canonical bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Which generations a value is comparable with ([`Generations`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Lockspace generations as the engines see them: recover_done's, the control LVB's,
    /// the journals' failure generations, invariant 4's marks; with kernel callbacks also
    /// the DLM's own.
    Lockspace,
    /// CPG callbacks: the DLM model's own recovery generations, which only it reads.
    Dlm,
}

/// How a generation value is used ([`Generations`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gen {
    /// Its family.
    pub family: Family,
    /// Something counts on from it (adds 1 per change): the DLM's recovery generation,
    /// a CPG member's generation, a sync message's.
    pub counter: bool,
}

impl Gen {
    /// A value only compared.
    pub fn compared(family: Family) -> Gen {
        Gen {
            family,
            counter: false,
        }
    }
    /// A value counted on from.
    pub fn counter(family: Family) -> Gen {
        Gen {
            family,
            counter: true,
        }
    }
}

/// Generations kept as they are: 0 ("none yet": `ls_recover_mount == 0` is the first
/// recover_done, a zero LVB is the first mounter's), 1 (a CPG lineage's founder starts at
/// 1, and the simulator's invariant 4 tells a new lineage by it) and `0xFFFFFFFF`
/// (`DISABLED_GENERATION`).
fn fixed(g: u32) -> bool {
    g <= 1 || g == gdlm_core::lvb::DISABLED_GENERATION
}

/// The canonical renaming of every generation in a cluster, per [`Family`]: an
/// order-preserving map onto 2, 3, … that keeps [`fixed`] values, compresses gaps
/// among values only compared, and translates (keeps the distances of) everything from
/// the lowest counter up, so that what is counted on from them stays consistent.
#[derive(Default)]
pub struct Generations {
    vals: [Vec<u32>; 2],
    lo: [Option<u32>; 2],
}

thread_local! {
    static GENERATIONS: std::cell::RefCell<Generations> = std::cell::RefCell::new(Generations::default());
}

impl Generations {
    fn fam(f: Family) -> usize {
        match f {
            Family::Lockspace => 0,
            Family::Dlm => 1,
        }
    }

    /// Rename `sim`'s generations in place (with this thread's buffers).
    pub fn rename<const N: usize>(sim: &mut crate::sim::Sim<N>) {
        GENERATIONS.with(|g| g.borrow_mut().rename_with(sim));
    }

    fn rename_with<const N: usize>(&mut self, sim: &mut crate::sim::Sim<N>) {
        for v in &mut self.vals {
            v.clear();
        }
        self.lo = [None; 2];
        sim.visit_generations(&mut |g, v| {
            if fixed(*v) {
                return;
            }
            let i = Self::fam(g.family);
            self.vals[i].push(*v);
            if g.counter {
                let lo = &mut self.lo[i];
                *lo = Some(lo.map_or(*v, |l| l.min(*v)));
            }
        });
        for v in &mut self.vals {
            v.sort_unstable();
            v.dedup();
        }
        // Per family: below `lo`, rank (2, 3, …); from `lo` up, shift by one offset.
        let mut shift = [0u32; 2];
        for ((s, lo), vals) in shift.iter_mut().zip(self.lo).zip(&self.vals) {
            if let Some(lo) = lo {
                *s = lo - (2 + vals.partition_point(|&v| v < lo) as u32);
            }
        }
        if self
            .vals
            .iter()
            .zip(&shift)
            .all(|(v, &s)| s == 0 && v.iter().enumerate().all(|(r, &g)| g == r as u32 + 2))
        {
            return; // already canonical
        }
        let (vals, lo) = (&self.vals, self.lo);
        sim.visit_generations(&mut |g, v| {
            if fixed(*v) {
                return;
            }
            let i = Self::fam(g.family);
            *v = match lo[i] {
                Some(l) if *v >= l => *v - shift[i],
                _ => 2 + vals[i].partition_point(|&x| x < *v) as u32,
            };
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::exhaustive::mounted_cluster;
    use crate::sim::Action;

    #[test]
    fn engine_statistics_are_stripped_and_lock_ids_renamed() {
        for cpg in [false, true] {
            let mut s = mounted_cluster(3, cpg).unwrap();
            let c = s.canon();
            assert_eq!(c.unstripped, 0, "the engine's layout changed (cpg {cpg})");
            // The engines are 14 KB each; their canonical bytes far fewer.
            assert!(c.len() < 3 * std::mem::size_of::<gdlm_core::engine::Engine<192>>());
            // Crash a node and let the others recover: journal locks come and go (the
            // statistics change), the DLM hands out new lock ids.
            s.perform(Action::Crash(3));
            s.check_invariants();
            for _ in 0..10_000 {
                let Some(&a) = s.enabled().first() else { break };
                s.perform(a);
                s.check_invariants();
            }
            assert!(s.violation().is_none());
            assert!(s.enabled().is_empty(), "settles");
            let c = s.canon();
            assert_eq!(c.unstripped, 0);
            assert!(s.nodes()[0].engine().journal_stats() != &gdlm_core::GlockStats::new());
            // Equal states, equal keys; the key does not depend on the thread's buffer.
            assert_eq!(s.canonical_key(), c.key());
            assert_eq!(s.clone().canonical_key(), s.canonical_key());
        }
    }
}
