//! Recovery callbacks for lockspaces the kernel does not call back: `recover_prep`,
//! `recover_slot` and `recover_done` synthesized from a totally ordered group membership
//! (corosync CPG).
//!
//! The kernel DLM calls a filesystem's `dlm_lockspace_ops` on every membership change of
//! its lockspace; a userspace lockspace (libdlm) gets none of them. A daemon that wants
//! gfs2's journal-recovery protocol ([`crate::recovery`]) over libdlm therefore joins a
//! process group whose configuration changes every member sees in the same order (CPG's
//! agreed ordering with virtual synchrony), and feeds each change and each group message
//! to [`Membership`]. It yields what the kernel DLM would have called, with the same rules:
//!
//! * every configuration change is one DLM recovery: `recover_prep` (not on the joining
//!   member's first one), `recover_slot` for each member that *failed* (CPG reason
//!   node-down or process-down; a clean leave gets none, as `dlm_lsop_recover_slot` skips
//!   members removed by `dlm_release_lockspace`), then `recover_done` with the next
//!   generation;
//! * slots start at 1; members keep theirs; joiners get the lowest free slots in ascending
//!   member order (`dlm_slots_assign`, which walks the members sorted by node id);
//! * the generation starts at 1 with the first members (`dlm: generation 1 slots 1 1:1`)
//!   and grows by one per change.
//!
//! A joiner cannot derive the generation and slot table from its first change alone, so
//! after each change that leaves members unsynced, the lowest synced member multicasts a
//! [`SyncMsg`] (generation + slot table of the current view); joiners adopt it, and every
//! member marks the view synced when it is delivered. Virtual synchrony makes that
//! message arrive before the next change, or not at all if its sender fails, in which case
//! the next change makes the next lowest synced member send it. The protocol does not rely
//! on virtual synchrony for safety: the message names the view it was made for by each
//! member's *age* (changes seen since it joined, counted by everyone alike), so a message
//! that arrives after later changes, even ones that restored the same member set, is
//! ignored, and the one sent after the last change is adopted. If every synced member is
//! gone before a joiner synced, nobody can be mounted (members mount only after their
//! first `recover_done`), so the oldest cohort of joiners starts afresh at generation 1,
//! and the lowest of them sends the table to later joiners.
//!
//! A merge of two partitions (both sides synced) is outside this protocol, as it is
//! outside the DLM's without fencing: a sync message that matches the view but disagrees
//! with the local state is reported as [`MembershipError::Diverged`].
//!
//! A daemon's loop, with two members in one process for the example (each would feed its
//! own CPG events in a real cluster):
//!
//! ```
//! use gdlm_core::membership::{LeftReason, Member, Membership, SyncMsg};
//! use gdlm_core::recovery::{ControlWork, Recovery, SizePolicy};
//!
//! let (a, b) = (Member::new(1, 4242), Member::new(2, 777));
//! let mut ma: Membership<16> = Membership::new(a);
//! let mut mb: Membership<16> = Membership::new(b);
//! let mut rec_a: Recovery<16> = Recovery::new(SizePolicy::Fit);
//!
//! // The first member: generation 1, slot 1 (jid 0); then run the control work.
//! let change = ma.confchg(&[a], &[], &[a])?;
//! assert_eq!(change.apply(&mut rec_a)?, Some(ControlWork::Now));
//! assert_eq!(rec_a.jid(), 0);
//!
//! // B joins: A (the lowest synced member) must multicast the sync message.
//! let change = ma.confchg(&[a, b], &[], &[b])?;
//! change.apply(&mut rec_a)?;
//! let mut buf = [0u8; SyncMsg::<16>::MAX_LEN];
//! let len = change.sync.as_ref().and_then(|s| s.encode(&mut buf)).ok_or("A sends")?;
//! assert!(mb.confchg(&[a, b], &[], &[b])?.done.is_none()); // B waits for it
//! let done = mb.deliver(a, &buf[..len])?.done.ok_or("B synced")?;
//! assert_eq!((done.generation, done.our_slot), (2, 2));
//! ma.deliver(a, &buf[..len])?; // everyone sees it, the sender too
//!
//! // B's process dies: A gets recover_prep, recover_slot(2), recover_done(generation 3).
//! let change = ma.confchg(&[a], &[(b, LeftReason::ProcDown)], &[])?;
//! assert_eq!(&change.failed[..], &[2]);
//! change.apply(&mut rec_a)?;
//! assert_eq!(rec_a.recover_start(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use heapless::Vec;

use crate::recovery::{ControlWork, Recovery, RecoveryError};
use crate::text::{self, Sink};

/// A member of the group: a process on a node (CPG's `nodeid` and `pid`). Ordered by
/// node id, then pid, the order in which slots are assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Member {
    /// Cluster node id.
    pub nodeid: u32,
    /// Process id on that node.
    pub pid: u32,
}

impl Member {
    /// A member.
    pub const fn new(nodeid: u32, pid: u32) -> Self {
        Member { nodeid, pid }
    }
}

/// Why a member left the group (CPG's `CPG_REASON_*` of the left list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LeftReason {
    /// `CPG_REASON_LEAVE` (2): the process left on purpose (a clean unmount).
    Leave,
    /// `CPG_REASON_NODEDOWN` (3): its node left the cluster.
    NodeDown,
    /// `CPG_REASON_PROCDOWN` (5): the process died.
    ProcDown,
    /// Any other code: treated as a failure, since recovering a journal that needed none
    /// is harmless and skipping one that did is not.
    Other(u32),
}

impl LeftReason {
    /// The reason for a CPG reason code.
    pub const fn from_cpg(code: u32) -> Self {
        match code {
            2 => LeftReason::Leave,
            3 => LeftReason::NodeDown,
            5 => LeftReason::ProcDown,
            c => LeftReason::Other(c),
        }
    }

    /// Whether the member failed, i.e. its slot must be recovered (`recover_slot`).
    pub const fn failed(self) -> bool {
        !matches!(self, LeftReason::Leave)
    }
}

/// A refused input. The membership is unchanged after any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MembershipError {
    /// The view has more members than the capacity `N`.
    TooManyMembers {
        /// Members in the view.
        count: usize,
        /// The capacity.
        capacity: usize,
    },
    /// A member appears twice in one list, or in both the left list and the view.
    Duplicate(Member),
    /// The change neither contains nor removes the local member, or we already left.
    NotInGroup,
    /// The change does not follow from the previous view (a joiner that was a member, a
    /// leaver that was not, or a view that is not previous − left + joined).
    Inconsistent,
    /// A group message that is not a well-formed [`SyncMsg`].
    BadMessage,
    /// A sync message for the current view that disagrees with the local generation or
    /// slots: two histories met (a partition merge).
    Diverged {
        /// Our generation.
        ours: u32,
        /// The message's generation.
        theirs: u32,
    },
}

impl MembershipError {
    /// Write the message into `out` (`Display` is this over a `Formatter`).
    pub fn write_to<S: Sink>(&self, out: &mut S) {
        match *self {
            Self::TooManyMembers { count, capacity } => {
                out.u(count as u64)
                    .s(" members exceed the capacity of ")
                    .u(capacity as u64);
            }
            Self::Duplicate(m) => {
                out.s("member ")
                    .u(m.nodeid)
                    .s(":")
                    .u(m.pid)
                    .s(" listed twice");
            }
            Self::NotInGroup => {
                out.s("the local member is not in the group");
            }
            Self::Inconsistent => {
                out.s("configuration change does not follow from the previous view");
            }
            Self::BadMessage => {
                out.s("malformed sync message");
            }
            Self::Diverged { ours, theirs } => {
                out.s("sync message diverges: our generation ")
                    .u(ours)
                    .s(", theirs ")
                    .u(theirs);
            }
        }
    }
}

impl core::fmt::Display for MembershipError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        text::display(f, |out| self.write_to(out))
    }
}

impl core::error::Error for MembershipError {}

/// `recover_done`'s arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done<const N: usize> {
    /// The new lockspace generation.
    pub generation: u32,
    /// Our slot (our jid + 1).
    pub our_slot: i32,
    /// Every member's slot, in member order.
    pub slots: Vec<i32, N>,
}

/// What one input asks of the caller, in this order: `recover_prep`, `recover_slot` for
/// each failed slot, `recover_done`, then multicast the sync message.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Change<const N: usize> {
    /// Call `recover_prep`.
    pub prep: bool,
    /// Call `recover_slot` for each of these slots.
    pub failed: Vec<i32, N>,
    /// Call `recover_done`.
    pub done: Option<Done<N>>,
    /// Multicast this (encoded with [`SyncMsg::encode`]) to the group, agreed ordering.
    pub sync: Option<SyncMsg<N>>,
}

impl<const N: usize> Change<N> {
    /// Make the calls on `rec` in the kernel's order (`gdlm_recover_prep`,
    /// `gdlm_recover_slot`, `gdlm_recover_done`). Returns the control work
    /// `recover_done` asks for. Stops at the first refused call; the calls before it
    /// stay made, as they would in the kernel.
    pub fn apply(&self, rec: &mut Recovery<N>) -> Result<Option<ControlWork>, RecoveryError> {
        if self.prep {
            rec.recover_prep();
        }
        for &slot in &self.failed {
            rec.recover_slot(slot)?;
        }
        match &self.done {
            Some(d) => rec.recover_done(&d.slots, d.our_slot, d.generation),
            None => Ok(None),
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        !self.prep && self.failed.is_empty() && self.done.is_none() && self.sync.is_none()
    }
}

/// The state transfer to joiners: the generation and slot table of a view.
///
/// Wire format (little endian): `b"GDMS"`, version `1`, three zero bytes, generation
/// `u32`, count `u32`, then per member `nodeid u32`, `pid u32`, `slot i32`, `age u32`, in
/// member order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncMsg<const N: usize> {
    /// The generation of the view.
    pub generation: u32,
    /// `(member, slot)` for every member of the view, ascending by member.
    pub table: Vec<(Member, i32), N>,
    /// Per table entry: configuration changes since that member joined, counting its own
    /// join, as the sender saw them when it made the message; [`AGE_UNKNOWN`] for members
    /// that joined before the sender (they are synced).
    pub ages: Vec<u32, N>,
}

/// The age of a member that joined before the sender of a [`SyncMsg`].
pub const AGE_UNKNOWN: u32 = u32::MAX;

const MAGIC: &[u8; 4] = b"GDMS";
const VERSION: u8 = 1;
const HEADER: usize = 16;
const ENTRY: usize = 16;

impl<const N: usize> SyncMsg<N> {
    /// Bytes the encoding of `count` members takes.
    pub const fn encoded_len(count: usize) -> usize {
        HEADER + ENTRY * count
    }

    /// The most bytes any message of capacity `N` takes.
    pub const MAX_LEN: usize = HEADER + ENTRY * N;

    /// Encode into `out`; returns the length, or `None` if `out` is too short or `ages`
    /// does not match the table.
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        if self.ages.len() != self.table.len() {
            return None;
        }
        let len = Self::encoded_len(self.table.len());
        let out = out.get_mut(..len)?;
        out[..4].copy_from_slice(MAGIC);
        out[4..8].copy_from_slice(&[VERSION, 0, 0, 0]);
        out[8..12].copy_from_slice(&self.generation.to_le_bytes());
        out[12..16].copy_from_slice(&(self.table.len() as u32).to_le_bytes());
        let entries = self.table.iter().zip(&self.ages);
        // ok: `out` is `len` ≥ HEADER bytes long, and every chunk ENTRY bytes.
        for (chunk, ((m, slot), age)) in out[HEADER..].chunks_exact_mut(ENTRY).zip(entries) {
            chunk[..4].copy_from_slice(&m.nodeid.to_le_bytes());
            chunk[4..8].copy_from_slice(&m.pid.to_le_bytes());
            chunk[8..12].copy_from_slice(&slot.to_le_bytes());
            chunk[12..].copy_from_slice(&age.to_le_bytes());
        }
        Some(len)
    }

    /// Decode and validate a message: magic, version, exact length, at most `N`
    /// members, strictly ascending members, slots ≥ 1 and distinct.
    pub fn decode(bytes: &[u8]) -> Result<Self, MembershipError> {
        let bad = MembershipError::BadMessage;
        let head = bytes.get(..HEADER).ok_or(bad)?;
        if &head[..4] != MAGIC || head[4] != VERSION || head[5..8] != [0, 0, 0] {
            return Err(bad);
        }
        let generation = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let count = u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize;
        if count > N {
            return Err(MembershipError::TooManyMembers { count, capacity: N });
        }
        if bytes.len() != Self::encoded_len(count) {
            return Err(bad);
        }
        let mut table: Vec<(Member, i32), N> = Vec::new();
        let mut ages: Vec<u32, N> = Vec::new();
        let word = |c: &[u8], i: usize| [c[i], c[i + 1], c[i + 2], c[i + 3]];
        // ok: the length was checked to be HEADER + ENTRY·count above; chunks are ENTRY bytes.
        for chunk in bytes[HEADER..].chunks_exact(ENTRY) {
            let m = Member::new(
                u32::from_le_bytes(word(chunk, 0)),
                u32::from_le_bytes(word(chunk, 4)),
            );
            let slot = i32::from_le_bytes(word(chunk, 8));
            if slot < 1 || table.iter().any(|&(_, s)| s == slot) {
                return Err(bad);
            }
            if table.last().is_some_and(|&(prev, _)| prev >= m) {
                return Err(bad);
            }
            table.push((m, slot)).map_err(|_| bad)?;
            ages.push(u32::from_le_bytes(word(chunk, 12)))
                .map_err(|_| bad)?;
        }
        Ok(SyncMsg {
            generation,
            table,
            ages,
        })
    }

    fn members_equal(&self, view: &[Member]) -> bool {
        self.table.len() == view.len() && self.table.iter().zip(view).all(|((m, _), v)| m == v)
    }

    /// The age the message gives `m`.
    pub fn age_of(&self, m: Member) -> Option<u32> {
        let i = self.table.iter().position(|(t, _)| *t == m)?;
        self.ages.get(i).copied()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// Before our first configuration change.
    Outside,
    /// In the group, waiting for the generation and slots.
    Joining,
    /// In the group with a generation and a slot.
    Synced,
    /// We left the group.
    Left,
}

/// The synthesized recovery callbacks of one group member; see the module docs.
/// `N` is the capacity in members (and so in slots).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Membership<const N: usize> {
    me: Member,
    phase: Phase,
    /// The current view, ascending.
    view: Vec<Member, N>,
    /// When synced: every view member's slot, ascending by member.
    table: Vec<(Member, i32), N>,
    generation: u32,
    /// When synced: view members that have not adopted a sync message yet.
    unsynced: Vec<Member, N>,
    /// Configuration changes delivered since (and including) our join.
    seen: u32,
    /// Members that joined after us or with us, with our `seen` at their join (1: with us).
    /// While joining, the view members not in it were here before us and may hold the
    /// state.
    joins: Vec<(Member, u32), N>,
}

/// Sorts `s` ascending by `key`, stable, in place: an insertion sort rather than
/// `slice::sort*`, whose `core::slice::sort` instantiations objtool cannot follow in a
/// kernel module (`panic_on_ord_violation` is not in its Rust noreturn list,
/// tools/objtool/check.c `is_rust_noreturn`). The slices here hold at most `N ≤ 192` members
/// and are sorted once per configuration change; the slot table is already sorted except for
/// the joiners pushed at its end, so the usual cost is one pass.
fn insertion_sort_by_key<T: Copy, K: Ord>(s: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..s.len() {
        let mut j = i;
        while j > 0 && key(&s[j - 1]) > key(&s[j]) {
            s.swap(j - 1, j);
            j -= 1;
        }
    }
}

fn sorted<const N: usize>(list: &[Member]) -> Result<Vec<Member, N>, MembershipError> {
    let mut v: Vec<Member, N> =
        Vec::from_slice(list).map_err(|_| MembershipError::TooManyMembers {
            count: list.len(),
            capacity: N,
        })?;
    insertion_sort_by_key(&mut v, |&m| m);
    if let Some(w) = v.windows(2).find(|w| w[0] == w[1]) {
        return Err(MembershipError::Duplicate(w[0]));
    }
    Ok(v)
}

impl<const N: usize> Membership<N> {
    /// The membership of `me`, before its first configuration change.
    pub const fn new(me: Member) -> Self {
        Membership {
            me,
            phase: Phase::Outside,
            view: Vec::new(),
            table: Vec::new(),
            generation: 0,
            unsynced: Vec::new(),
            seen: 0,
            joins: Vec::new(),
        }
    }

    /// The local member.
    pub fn me(&self) -> Member {
        self.me
    }

    /// The generation of the last `recover_done`, once synced.
    pub fn generation(&self) -> Option<u32> {
        (self.phase == Phase::Synced).then_some(self.generation)
    }

    /// Our slot, once synced.
    pub fn our_slot(&self) -> Option<i32> {
        self.slot_of(self.me)
    }

    /// A member's slot, once synced.
    pub fn slot_of(&self, m: Member) -> Option<i32> {
        if self.phase != Phase::Synced {
            return None;
        }
        self.table.iter().find(|(t, _)| *t == m).map(|&(_, s)| s)
    }

    /// The slot table (empty until synced), ascending by member.
    pub fn table(&self) -> &[(Member, i32)] {
        &self.table
    }

    /// The current view, ascending.
    pub fn view(&self) -> &[Member] {
        &self.view
    }

    /// Whether we have a generation and a slot.
    pub fn is_synced(&self) -> bool {
        self.phase == Phase::Synced
    }

    /// Whether we left the group.
    pub fn has_left(&self) -> bool {
        self.phase == Phase::Left
    }

    /// A configuration change, in delivery order: the new view, who left (and why) and
    /// who joined.
    pub fn confchg(
        &mut self,
        members: &[Member],
        left: &[(Member, LeftReason)],
        joined: &[Member],
    ) -> Result<Change<N>, MembershipError> {
        if self.phase == Phase::Left {
            return Err(MembershipError::NotInGroup);
        }
        let view = sorted::<N>(members)?;
        let mut gone: Vec<Member, N> = Vec::new();
        for &(m, _) in left {
            if view.contains(&m) || gone.contains(&m) {
                return Err(MembershipError::Duplicate(m));
            }
            // More leavers than capacity cannot have been members.
            gone.push(m).map_err(|_| MembershipError::Inconsistent)?;
        }
        let joined = sorted::<N>(joined)?;
        if joined.iter().any(|j| !view.contains(j)) {
            return Err(MembershipError::Inconsistent);
        }
        if gone.contains(&self.me) {
            return Ok(self.leave_group());
        }
        if !view.contains(&self.me) {
            return Err(MembershipError::NotInGroup);
        }
        match self.phase {
            Phase::Outside => {
                if !joined.contains(&self.me) {
                    return Err(MembershipError::Inconsistent);
                }
                self.count_change(&gone, &joined);
                self.first_change(view)
            }
            Phase::Joining => {
                self.check_follows(&view, &gone, &joined)?;
                self.count_change(&gone, &joined);
                self.view = view;
                if self.no_candidates() {
                    // Every member that could hold the state is gone: no one is mounted.
                    return Ok(self.fresh_start());
                }
                Ok(Change::default())
            }
            Phase::Synced => {
                self.check_follows(&view, &gone, &joined)?;
                self.count_change(&gone, &joined);
                Ok(self.synced_change(view, left, &joined))
            }
            Phase::Left => Err(MembershipError::NotInGroup),
        }
    }

    /// A message multicast in the group. Sync messages for another view are ignored
    /// (an empty change); anything that is not a sync message is refused.
    pub fn deliver(&mut self, _from: Member, msg: &[u8]) -> Result<Change<N>, MembershipError> {
        let sync = SyncMsg::<N>::decode(msg)?;
        match self.phase {
            Phase::Outside | Phase::Left => Ok(Change::default()),
            _ if !sync.members_equal(&self.view) => Ok(Change::default()),
            // Made for this view only if it ages the members we wait for as we do.
            Phase::Joining if sync.age_of(self.me) != Some(self.seen) => Ok(Change::default()),
            Phase::Synced
                if self.unsynced.is_empty()
                    || self
                        .unsynced
                        .iter()
                        .any(|&u| sync.age_of(u) != Some(self.age_of(u))) =>
            {
                Ok(Change::default())
            }
            Phase::Synced => {
                if sync.generation != self.generation || sync.table != self.table {
                    return Err(MembershipError::Diverged {
                        ours: self.generation,
                        theirs: sync.generation,
                    });
                }
                self.unsynced.clear();
                Ok(Change::default())
            }
            Phase::Joining => {
                self.table = sync.table;
                self.generation = sync.generation;
                self.phase = Phase::Synced;
                self.unsynced.clear();
                Ok(Change {
                    done: Some(self.done()),
                    ..Change::default()
                })
            }
        }
    }

    /// Count a validated change and remember who joined in it.
    fn count_change(&mut self, gone: &[Member], joined: &[Member]) {
        self.seen = self.seen.wrapping_add(1);
        self.joins.retain(|(m, _)| !gone.contains(m));
        for &j in joined {
            // joined ⊆ view and the view fits N; departures were removed first.
            let _ = self.joins.push((j, self.seen));
        }
    }

    /// Changes since `m` joined (counting its join), or [`AGE_UNKNOWN`] if it was here
    /// before us.
    fn age_of(&self, m: Member) -> u32 {
        self.joins
            .iter()
            .find(|(j, _)| *j == m)
            .map_or(AGE_UNKNOWN, |&(_, at)| {
                self.seen.wrapping_sub(at).wrapping_add(1)
            })
    }

    fn leave_group(&mut self) -> Change<N> {
        self.phase = Phase::Left;
        self.view.clear();
        self.table.clear();
        self.unsynced.clear();
        self.joins.clear();
        Change::default()
    }

    /// The view must be the previous one minus the leavers plus the joiners.
    fn check_follows(
        &self,
        view: &[Member],
        gone: &[Member],
        joined: &[Member],
    ) -> Result<(), MembershipError> {
        let follows = gone.iter().all(|g| self.view.contains(g))
            && joined.iter().all(|j| !self.view.contains(j))
            && view.len() + gone.len() == self.view.len() + joined.len()
            && view
                .iter()
                .all(|m| joined.contains(m) || self.view.contains(m));
        if follows {
            Ok(())
        } else {
            Err(MembershipError::Inconsistent)
        }
    }

    /// Whether every view member joined with us or after us: nobody left who may hold the
    /// state.
    fn no_candidates(&self) -> bool {
        self.view
            .iter()
            .all(|m| self.joins.iter().any(|(j, _)| j == m))
    }

    /// Whether `m` joined in the same change as we did (our cohort).
    fn in_cohort(&self, m: &Member) -> bool {
        self.joins.iter().any(|&(j, at)| j == *m && at == 1)
    }

    fn first_change(&mut self, view: Vec<Member, N>) -> Result<Change<N>, MembershipError> {
        self.view = view;
        self.phase = Phase::Joining;
        if self.no_candidates() {
            return Ok(self.fresh_start());
        }
        Ok(Change::default())
    }

    /// The oldest cohort starts at generation 1 with slots in member order; the lowest
    /// of it tells the rest of the view.
    fn fresh_start(&mut self) -> Change<N> {
        self.table.clear();
        for (i, &m) in self.view.iter().enumerate() {
            // view.len() ≤ N, so the table fits and i + 1 fits an i32 for any real N.
            let _ = self.table.push((m, i as i32 + 1));
        }
        self.generation = 1;
        self.phase = Phase::Synced;
        self.unsynced = self
            .view
            .iter()
            .copied()
            .filter(|m| !self.in_cohort(m))
            .collect();
        let sender = self.view.iter().find(|m| self.in_cohort(m)).copied();
        let sync = (!self.unsynced.is_empty() && sender == Some(self.me)).then(|| self.sync());
        Change {
            done: Some(self.done()),
            sync,
            ..Change::default()
        }
    }

    fn synced_change(
        &mut self,
        view: Vec<Member, N>,
        left: &[(Member, LeftReason)],
        joined: &[Member],
    ) -> Change<N> {
        let mut change = Change {
            prep: true,
            ..Change::default()
        };
        for &(m, why) in left {
            if let Some(pos) = self.table.iter().position(|(t, _)| *t == m) {
                let (_, slot) = self.table.remove(pos);
                if why.failed() {
                    // At most N slots were in the table.
                    let _ = change.failed.push(slot);
                }
            }
        }
        // dlm_slots_assign: joiners in ascending order take the lowest free slots.
        for &j in joined {
            let mut slot = 1;
            while self.table.iter().any(|&(_, s)| s == slot) {
                slot += 1;
            }
            // Fits: the table has one entry per view member and view.len() ≤ N.
            let _ = self.table.push((j, slot));
        }
        insertion_sort_by_key(&mut self.table, |&(m, _)| m);
        self.generation = self.generation.wrapping_add(1);
        self.unsynced
            .retain(|u| view.contains(u) && !joined.contains(u));
        for &j in joined {
            let _ = self.unsynced.push(j);
        }
        self.view = view;
        change.done = Some(self.done());
        let lowest_synced = self.view.iter().find(|m| !self.unsynced.contains(m));
        if !self.unsynced.is_empty() && lowest_synced == Some(&self.me) {
            change.sync = Some(self.sync());
        }
        change
    }

    fn done(&self) -> Done<N> {
        Done {
            generation: self.generation,
            our_slot: self.slot_of(self.me).unwrap_or(0),
            slots: self.table.iter().map(|&(_, s)| s).collect(),
        }
    }

    fn sync(&self) -> SyncMsg<N> {
        SyncMsg {
            generation: self.generation,
            table: self.table.clone(),
            ages: self.table.iter().map(|&(m, _)| self.age_of(m)).collect(),
        }
    }
}

/// Model checkers: the generation this member holds
/// ([`crate::engine::Engine::visit_generations`]).
impl<const N: usize> Membership<N> {
    /// Calls `f` on the member's generation; `f` may rewrite it. `seen` and the join
    /// marks count configuration changes, they are not generations.
    pub fn visit_generations<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        f(&mut self.generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The insertion sort orders exactly as the standard library's stable sort (the
        /// `sort_unstable*` it replaced gives the same order: the keys sorted here are
        /// distinct members, or equal members that are equal values), and `sorted` reports
        /// the smallest duplicate as it did.
        #[test]
        fn insertion_sort_matches_std(list in proptest::collection::vec((0u32..6, 0u32..4, any::<i32>()), 0..40)) {
            // the index makes the reference stable: equal members keep their input order
            let items: Vec<(Member, i32, usize), 64> = list
                .iter()
                .enumerate()
                .map(|(i, &(n, p, s))| (Member::new(n, p), s, i))
                .collect();
            let mut ours = items.clone();
            insertion_sort_by_key(&mut ours, |&(m, _, _)| m);
            let mut stable = items.clone();
            stable.sort_unstable_by_key(|&(m, _, i)| (m, i));
            prop_assert_eq!(&ours, &stable);
            let members: Vec<Member, 64> = items.iter().map(|&(m, _, _)| m).collect();
            let mut reference = members.clone();
            reference.sort_unstable();
            let expect = match reference.windows(2).find(|w| w[0] == w[1]) {
                Some(w) => Err(MembershipError::Duplicate(w[0])),
                None => Ok(reference),
            };
            prop_assert_eq!(sorted::<64>(&members), expect);
        }
    }

    const A: Member = Member::new(1, 100);
    const B: Member = Member::new(2, 200);
    const C: Member = Member::new(3, 300);

    type M = Membership<8>;

    fn encode(s: &SyncMsg<8>) -> [u8; SyncMsg::<8>::MAX_LEN] {
        let mut buf = [0u8; SyncMsg::<8>::MAX_LEN];
        s.encode(&mut buf).unwrap();
        buf
    }

    fn deliver(m: &mut M, s: &SyncMsg<8>) -> Result<Change<8>, MembershipError> {
        let buf = encode(s);
        m.deliver(A, &buf[..SyncMsg::<8>::encoded_len(s.table.len())])
    }

    #[test]
    fn founder_gets_generation_1_slot_1() {
        let mut a = M::new(A);
        let c = a.confchg(&[A], &[], &[A]).unwrap();
        assert!(!c.prep && c.failed.is_empty() && c.sync.is_none());
        let d = c.done.unwrap();
        assert_eq!((d.generation, d.our_slot, &d.slots[..]), (1, 1, &[1][..]));
    }

    #[test]
    fn joiner_syncs_from_lowest_old_member() {
        let mut a = M::new(A);
        let mut b = M::new(B);
        a.confchg(&[A], &[], &[A]).unwrap();
        let ca = a.confchg(&[A, B], &[], &[B]).unwrap();
        assert!(ca.prep);
        assert_eq!(ca.done.as_ref().unwrap().generation, 2);
        let sync = ca.sync.expect("lowest synced member sends");
        let cb = b.confchg(&[B, A], &[], &[B]).unwrap();
        assert!(cb.is_empty(), "joiner waits: {cb:?}");
        assert_eq!(b.generation(), None);
        let cb = deliver(&mut b, &sync).unwrap();
        let d = cb.done.unwrap();
        assert_eq!(
            (d.generation, d.our_slot, &d.slots[..]),
            (2, 2, &[1, 2][..])
        );
        assert!(!cb.prep);
        // The sender sees its own message: everyone synced, nothing to do.
        assert!(deliver(&mut a, &sync).unwrap().is_empty());
        // Next change: nobody is unsynced, so no message.
        let ca = a.confchg(&[A], &[(B, LeftReason::Leave)], &[]).unwrap();
        assert!(ca.sync.is_none() && ca.failed.is_empty() && ca.prep);
        assert_eq!(ca.done.unwrap().generation, 3);
    }

    #[test]
    fn failure_gives_recover_slot_clean_leave_does_not() {
        let mut a = M::new(A);
        a.confchg(&[A], &[], &[A]).unwrap();
        let s = a.confchg(&[A, B, C], &[], &[B, C]).unwrap().sync.unwrap();
        deliver(&mut a, &s).unwrap();
        assert_eq!(a.slot_of(C), Some(3));
        let c = a
            .confchg(&[A, C], &[(B, LeftReason::ProcDown)], &[])
            .unwrap();
        assert_eq!(&c.failed[..], &[2]);
        assert_eq!(&c.done.as_ref().unwrap().slots[..], &[1, 3]);
        let c = a.confchg(&[A], &[(C, LeftReason::Leave)], &[]).unwrap();
        assert!(c.failed.is_empty());
        // A new joiner takes the lowest free slot (2), not 4.
        let c = a.confchg(&[A, B], &[], &[B]).unwrap();
        assert_eq!(&c.done.unwrap().slots[..], &[1, 2]);
    }

    #[test]
    fn lost_sync_is_resent_by_next_lowest() {
        let mut a = M::new(A);
        let mut b = M::new(B);
        let mut c = M::new(C);
        a.confchg(&[A], &[], &[A]).unwrap();
        let s = a.confchg(&[A, B], &[], &[B]).unwrap().sync.unwrap();
        b.confchg(&[A, B], &[], &[B]).unwrap();
        deliver(&mut a, &s).unwrap();
        deliver(&mut b, &s).unwrap();
        // C joins; A sends a sync, but A dies before it is delivered.
        assert!(a.confchg(&[A, B, C], &[], &[C]).unwrap().sync.is_some());
        let cb = b.confchg(&[A, B, C], &[], &[C]).unwrap();
        assert!(cb.sync.is_none(), "A is the lowest synced member");
        assert!(c.confchg(&[A, B, C], &[], &[C]).unwrap().is_empty());
        let cb = b
            .confchg(&[B, C], &[(A, LeftReason::NodeDown)], &[])
            .unwrap();
        let s = cb.sync.expect("B is now the lowest synced member");
        assert_eq!(&cb.failed[..], &[1]);
        assert!(c
            .confchg(&[B, C], &[(A, LeftReason::NodeDown)], &[])
            .unwrap()
            .is_empty());
        let d = deliver(&mut c, &s).unwrap().done.unwrap();
        assert_eq!((d.generation, d.our_slot), (4, 3));
        assert_eq!(b.generation(), Some(4));
    }

    #[test]
    fn orphaned_joiners_start_fresh_and_tell_later_joiners() {
        let mut a = M::new(A);
        let mut b = M::new(B);
        let mut c = M::new(C);
        a.confchg(&[A], &[], &[A]).unwrap();
        a.confchg(&[A, B], &[], &[B]).unwrap();
        b.confchg(&[A, B], &[], &[B]).unwrap();
        // C joins before B synced; then A dies before any sync was delivered.
        b.confchg(&[A, B, C], &[], &[C]).unwrap();
        c.confchg(&[A, B, C], &[], &[C]).unwrap();
        let cb = b
            .confchg(&[B, C], &[(A, LeftReason::NodeDown)], &[])
            .unwrap();
        let d = cb.done.clone().unwrap();
        assert_eq!(
            (d.generation, d.our_slot, &d.slots[..]),
            (1, 1, &[1, 2][..])
        );
        let s = cb.sync.expect("lowest of the oldest cohort tells C");
        assert!(c
            .confchg(&[B, C], &[(A, LeftReason::NodeDown)], &[])
            .unwrap()
            .is_empty());
        let d = deliver(&mut c, &s).unwrap().done.unwrap();
        assert_eq!((d.generation, d.our_slot), (1, 2));
    }

    #[test]
    fn stale_sync_is_ignored_and_divergence_reported() {
        let mut a = M::new(A);
        let mut b = M::new(B);
        a.confchg(&[A], &[], &[A]).unwrap();
        let s = a.confchg(&[A, B], &[], &[B]).unwrap().sync.unwrap();
        b.confchg(&[A, B], &[], &[B]).unwrap();
        let mut stale = s.clone();
        stale.table.pop();
        stale.ages.pop();
        assert!(deliver(&mut b, &stale).unwrap().is_empty());
        assert!(!b.is_synced());
        let mut forged = s.clone();
        forged.generation = 9;
        assert_eq!(
            deliver(&mut a, &forged),
            Err(MembershipError::Diverged { ours: 2, theirs: 9 })
        );
        assert_eq!(a.generation(), Some(2));
    }

    #[test]
    fn bad_inputs_are_refused_without_change() {
        let mut a = M::new(A);
        assert_eq!(a.confchg(&[B], &[], &[B]), Err(MembershipError::NotInGroup));
        assert_eq!(
            a.confchg(&[A, A], &[], &[A]),
            Err(MembershipError::Duplicate(A))
        );
        assert_eq!(
            a.confchg(&[A], &[], &[B]),
            Err(MembershipError::Inconsistent)
        );
        a.confchg(&[A], &[], &[A]).unwrap();
        // B "leaves" without ever having been a member.
        assert_eq!(
            a.confchg(&[A], &[(B, LeftReason::Leave)], &[]),
            Err(MembershipError::Inconsistent)
        );
        // A view that does not follow.
        assert_eq!(
            a.confchg(&[A, B], &[], &[]),
            Err(MembershipError::Inconsistent)
        );
        let nine: [Member; 9] = core::array::from_fn(|i| Member::new(i as u32 + 1, 1));
        assert_eq!(
            a.confchg(&nine, &[], &nine[1..]),
            Err(MembershipError::TooManyMembers {
                count: 9,
                capacity: 8
            })
        );
        assert_eq!(a.generation(), Some(1));
        assert_eq!(a.deliver(B, b"hello"), Err(MembershipError::BadMessage));
        assert_eq!(a.view(), &[A]);
        // Leaving: later changes are refused.
        assert!(a
            .confchg(&[B], &[(A, LeftReason::Leave)], &[B])
            .unwrap()
            .is_empty());
        assert!(a.has_left());
        assert_eq!(a.confchg(&[A], &[], &[A]), Err(MembershipError::NotInGroup));
    }

    /// Found by the simulator without virtual synchrony: a sync message made for view
    /// {A, C} arrives after B joined and failed, when the view is {A, C} again. Matching
    /// the member set alone adopted the old generation; the ages tell the views apart.
    #[test]
    fn sync_for_an_earlier_equal_view_is_ignored() {
        let mut a = M::new(A);
        let mut c = M::new(C);
        a.confchg(&[A], &[], &[A]).unwrap();
        let log = [
            (&[A, C][..], &[][..], &[C][..]),
            (&[A, B, C][..], &[][..], &[B][..]),
            (&[A, C][..], &[(B, LeftReason::NodeDown)][..], &[][..]),
        ];
        let mut sent: Vec<SyncMsg<8>, 3> = Vec::new();
        for (v, l, j) in log {
            sent.push(a.confchg(v, l, j).unwrap().sync.unwrap())
                .unwrap();
        }
        for (v, l, j) in log {
            assert!(c.confchg(v, l, j).unwrap().is_empty());
        }
        // The first two were made for other views (the first for an equal member set).
        assert!(deliver(&mut c, &sent[0]).unwrap().is_empty());
        assert!(deliver(&mut c, &sent[1]).unwrap().is_empty());
        assert!(deliver(&mut a, &sent[0]).unwrap().is_empty());
        let d = deliver(&mut c, &sent[2]).unwrap().done.unwrap();
        assert_eq!((d.generation, d.our_slot), (4, 2));
        assert!(deliver(&mut a, &sent[2]).unwrap().is_empty());
        assert_eq!(a.generation(), c.generation());
    }

    #[test]
    fn sync_codec_round_trip_and_rejections() {
        let mut table: Vec<(Member, i32), 8> = Vec::new();
        table.push((A, 1)).unwrap();
        table.push((C, 3)).unwrap();
        let s = SyncMsg::<8> {
            generation: 0x0102_0304,
            table,
            ages: Vec::from_slice(&[AGE_UNKNOWN, 2]).unwrap(),
        };
        let mut buf = [0u8; 64];
        let n = s.encode(&mut buf).unwrap();
        assert_eq!(n, 48);
        assert_eq!(&buf[..16], b"GDMS\x01\0\0\0\x04\x03\x02\x01\x02\0\0\0");
        assert_eq!(&buf[40..48], b"\x03\0\0\0\x02\0\0\0");
        assert_eq!(SyncMsg::<8>::decode(&buf[..n]).unwrap(), s);
        assert!(s.encode(&mut buf[..47]).is_none());
        let mut short_ages = s.clone();
        short_ages.ages.pop();
        assert!(short_ages.encode(&mut buf.clone()).is_none());
        assert_eq!(
            SyncMsg::<8>::decode(&buf[..n - 1]),
            Err(MembershipError::BadMessage)
        );
        let mut dup = buf;
        dup[40..44].copy_from_slice(&1i32.to_le_bytes());
        assert_eq!(
            SyncMsg::<8>::decode(&dup[..n]),
            Err(MembershipError::BadMessage)
        );
        let mut zero = buf;
        zero[40..44].copy_from_slice(&0i32.to_le_bytes());
        assert_eq!(
            SyncMsg::<8>::decode(&zero[..n]),
            Err(MembershipError::BadMessage)
        );
        let mut unsorted = buf;
        unsorted[32..36].copy_from_slice(&1u32.to_le_bytes());
        unsorted[36..40].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(
            SyncMsg::<8>::decode(&unsorted[..n]),
            Err(MembershipError::BadMessage)
        );
        assert_eq!(
            SyncMsg::<1>::decode(&buf[..n]),
            Err(MembershipError::TooManyMembers {
                count: 2,
                capacity: 1
            })
        );
    }

    #[test]
    fn change_applies_in_kernel_order() {
        let mut rec: Recovery<8> = Recovery::new(crate::SizePolicy::Fit);
        let mut a = M::new(A);
        let c = a.confchg(&[A], &[], &[A]).unwrap();
        assert_eq!(c.apply(&mut rec), Ok(Some(ControlWork::Now)));
        assert_eq!(rec.jid(), 0);
        a.confchg(&[A, B], &[], &[B])
            .unwrap()
            .apply(&mut rec)
            .unwrap();
        let c = a.confchg(&[A], &[(B, LeftReason::NodeDown)], &[]).unwrap();
        c.apply(&mut rec).unwrap();
        assert_eq!(rec.recover_start(), 3);
    }
}
