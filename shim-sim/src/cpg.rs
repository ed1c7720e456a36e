//! A corosync CPG group model for userspace lockspaces: recovery callbacks come from
//! gdlm-core's membership (inside each node's engine) fed with configuration changes, as
//! `gdlmd` gets them, instead of from the DLM.
//!
//! One global log of items (configuration changes and multicast messages) in CPG's total
//! order; each member delivers it from the point it joined, at its own pace (the scheduler
//! picks), so a member can see a failure long before or after the DLM has recovered it.
//! A message is appended when its sender delivered the item that made it, so it may land
//! after a later change: the membership must cope with that (it ignores a sync message for
//! another view and resends after the next change).

use gdlm_core::membership::{LeftReason, Member};

/// Members per group (the simulator's largest cluster).
pub const CAPACITY: usize = 192;

/// One item of the group's total order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// A configuration change.
    ConfChg {
        /// The new view.
        members: Vec<Member>,
        /// Who left, and why.
        left: Vec<(Member, LeftReason)>,
        /// Who joined.
        joined: Vec<Member>,
    },
    /// A message multicast by `from`.
    Msg {
        /// The sender.
        from: Member,
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Proc {
    member: Member,
    /// Next item to deliver.
    cursor: usize,
}

/// The group: its log, its current view and its members' delivery state (by node index).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cpg {
    items: Vec<Item>,
    view: Vec<Member>,
    procs: Vec<Option<Proc>>,
}

impl Cpg {
    /// A group for nodes `1..=nodes`, nobody in it.
    pub fn new(nodes: u32) -> Self {
        Cpg {
            items: Vec::new(),
            view: Vec::new(),
            procs: vec![None; nodes as usize],
        }
    }

    fn slot(&self, node: u32) -> Option<&Proc> {
        self.procs.get((node as usize).wrapping_sub(1))?.as_ref()
    }

    /// Whether `node` has a process in the group.
    pub fn is_member(&self, node: u32) -> bool {
        self.slot(node).is_some()
    }

    /// The log index the next item will get (items before it are "seen" by a member whose
    /// cursor passed them).
    pub fn log_len(&self) -> usize {
        self.items.len()
    }

    /// How far `node` has delivered (0 if not a member).
    pub fn cursor(&self, node: u32) -> usize {
        self.slot(node).map_or(0, |p| p.cursor)
    }

    /// A new process `m` of `node` joins. Returns its log index.
    pub fn join(&mut self, node: u32, m: Member) -> Option<usize> {
        let i = (node as usize).checked_sub(1)?;
        if self.procs.get(i)?.is_some() {
            return None;
        }
        self.view.push(m);
        self.view.sort();
        let at = self.items.len();
        self.items.push(Item::ConfChg {
            members: self.view.clone(),
            left: Vec::new(),
            joined: vec![m],
        });
        self.procs[i] = Some(Proc {
            member: m,
            cursor: at,
        });
        Some(at)
    }

    /// `node`'s process leaves (cleanly or not). Returns the log index of the change.
    pub fn leave(&mut self, node: u32, why: LeftReason) -> Option<usize> {
        let i = (node as usize).checked_sub(1)?;
        let p = self.procs.get_mut(i)?.take()?;
        self.view.retain(|&v| v != p.member);
        let at = self.items.len();
        self.items.push(Item::ConfChg {
            members: self.view.clone(),
            left: vec![(p.member, why)],
            joined: Vec::new(),
        });
        Some(at)
    }

    /// Whether `node` has an item to deliver.
    pub fn pending(&self, node: u32) -> bool {
        self.slot(node).is_some_and(|p| p.cursor < self.items.len())
    }

    /// `node`'s next item (its cursor moves past it).
    pub fn deliver(&mut self, node: u32) -> Option<Item> {
        let i = (node as usize).checked_sub(1)?;
        let p = self.procs.get_mut(i)?.as_mut()?;
        let item = self.items.get(p.cursor)?.clone();
        p.cursor += 1;
        Some(item)
    }

    /// `from` multicasts `bytes`: appended to the total order.
    pub fn multicast(&mut self, from: Member, bytes: Vec<u8>) {
        self.items.push(Item::Msg { from, bytes });
    }
}

/// The canonical state (see [`crate::fingerprint`]): the log from the oldest position a
/// member still has to deliver, positions relative to it (no member reads the log before
/// it again; a joiner starts at the end). Sets `c.log_base`.
impl Cpg {
    pub(crate) fn canon(&self, c: &mut crate::fingerprint::Canon) {
        let base = self
            .procs
            .iter()
            .flatten()
            .map(|p| p.cursor)
            .min()
            .unwrap_or(self.items.len())
            .min(self.items.len());
        c.log_base = base;
        c.put(&self.items[base..]);
        c.put(&self.view);
        c.put(&self.procs.len());
        for p in &self.procs {
            c.put(&p.as_ref().map(|p| (p.member, p.cursor - base)));
        }
    }
}

/// The exhaustive check's renaming ([`crate::fingerprint::Generations`]): the generation
/// of every sync message still to be delivered (a joiner adopts it and counts on from it);
/// the log before every cursor is never read again and is left as it is.
impl Cpg {
    pub(crate) fn visit_generations(
        &mut self,
        f: &mut dyn FnMut(crate::fingerprint::Gen, &mut u32),
    ) {
        use crate::fingerprint::{Family, Gen};
        let base = self
            .procs
            .iter()
            .flatten()
            .map(|p| p.cursor)
            .min()
            .unwrap_or(self.items.len())
            .min(self.items.len());
        for item in &mut self.items[base..] {
            let Item::Msg { bytes, .. } = item else {
                continue;
            };
            // `SyncMsg`'s encoding: magic, version, three zero bytes, generation (LE).
            if bytes.len() >= 12 && bytes.starts_with(b"GDMS") {
                let w = &mut bytes[8..12];
                let mut g = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                f(Gen::counter(Family::Lockspace), &mut g);
                w.copy_from_slice(&g.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlm_core::membership::{Change, Membership};

    fn feed(g: &mut Cpg, node: u32, m: &mut Membership<CAPACITY>) -> Change<CAPACITY> {
        let c = match g.deliver(node).unwrap() {
            Item::ConfChg {
                members,
                left,
                joined,
            } => m.confchg(&members, &left, &joined).unwrap(),
            Item::Msg { from, bytes } => m.deliver(from, &bytes).unwrap(),
        };
        if let Some(s) = &c.sync {
            let mut buf = vec![0u8; gdlm_core::SyncMsg::<CAPACITY>::MAX_LEN];
            let n = s.encode(&mut buf).unwrap();
            buf.truncate(n);
            g.multicast(m.me(), buf);
        }
        c
    }

    #[test]
    fn joiners_sync_and_failures_reach_survivors() {
        let mut g = Cpg::new(3);
        let (a, b) = (Member::new(1, 1), Member::new(2, 1));
        let (mut m1, mut m2) = (Membership::new(a), Membership::new(b));
        g.join(1, a);
        let d = feed(&mut g, 1, &mut m1).done.unwrap();
        assert_eq!((d.generation, d.our_slot), (1, 1));
        g.join(2, b);
        assert!(g.join(2, b).is_none(), "one process per node");
        // Node 2 sees its join but must wait for node 1's sync message.
        assert!(feed(&mut g, 2, &mut m2).is_empty());
        assert!(!g.pending(2));
        let c = feed(&mut g, 1, &mut m1);
        assert!(c.sync.is_some());
        assert!(g.pending(2));
        let d = feed(&mut g, 2, &mut m2).done.unwrap();
        assert_eq!((d.generation, d.our_slot), (2, 2));
        assert!(feed(&mut g, 1, &mut m1).is_empty());
        let at = g.leave(2, LeftReason::NodeDown).unwrap();
        assert_eq!(at, 3);
        assert!(!g.pending(2) && !g.is_member(2));
        let c = feed(&mut g, 1, &mut m1);
        assert!(c.prep);
        assert_eq!(&c.failed[..], &[2]);
        assert_eq!(c.done.unwrap().generation, 3);
        assert_eq!(g.cursor(1), 4);
    }
}
