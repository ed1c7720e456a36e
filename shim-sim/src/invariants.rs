//! Counters for the per-event invariant checks (issue 15): what invariants 1 and 3 and
//! the journal writes read of each node, kept per node and summed, updated only for the
//! nodes an event touched, so a check costs O(nodes touched), not O(nodes). When a
//! counter says an invariant may be broken, the simulator runs the full check (the same
//! code as before the counters) to decide and to word the violation.

/// What the checks read of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct View {
    /// Uses the file system with locking unblocked (writes its journal).
    pub accessing: bool,
    /// Its jid.
    pub jid: Option<u32>,
    /// Alive with `DFL_FIRST_MOUNT` (invariant 3).
    pub first: bool,
    /// Mounted and not a first mounter (invariant 3).
    pub mounted_other: bool,
}

/// The per-node views and their sums.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    views: Vec<View>,
    /// Nodes with `first`.
    pub firsts: u32,
    /// Nodes with `mounted_other`.
    pub mounted_others: u32,
    /// Accessing nodes per jid (jids of existing journals only).
    accessing_by_jid: Vec<u32>,
    /// Journals to mark dirty again if an accessing node has them (a node started
    /// accessing, or the journal was cleaned).
    pub recheck: Vec<u32>,
    /// Journals whose writer failed (`failed_gen` set), in no particular order.
    pub failed_jids: Vec<u32>,
    /// The failed dirty journals (jid, generation) at the last check.
    pub failed_prev: Vec<(usize, u32)>,
    /// Per node: breaks invariant 1 against `failed_prev`.
    pub suspect: Vec<bool>,
    /// Nodes with `suspect`.
    pub suspects: u32,
    /// Nodes whose view was refreshed since the last check (for `suspect`).
    pub touched: Vec<u32>,
}

impl Counters {
    /// `nodes` nodes (all down) and `journals` journals.
    pub(crate) fn new(nodes: usize, journals: usize) -> Self {
        Counters {
            views: vec![View::default(); nodes],
            accessing_by_jid: vec![0; journals],
            suspect: vec![false; nodes],
            ..Counters::default()
        }
    }

    fn count(&mut self, v: View, add: bool) {
        let d = |c: &mut u32| {
            if add {
                *c += 1
            } else {
                *c -= 1
            }
        };
        if v.first {
            d(&mut self.firsts);
        }
        if v.mounted_other {
            d(&mut self.mounted_others);
        }
        if let (true, Some(j)) = (v.accessing, v.jid) {
            if let Some(c) = self.accessing_by_jid.get_mut(j as usize) {
                d(c);
                if add {
                    self.recheck.push(j);
                }
            }
        }
    }

    /// Node index `i` now looks like `v`.
    pub(crate) fn update(&mut self, i: usize, v: View) {
        self.touched.push(i as u32);
        let old = self.views[i];
        if old != v {
            self.count(old, false);
            self.count(v, true);
            self.views[i] = v;
        }
    }

    /// Node index `i`'s view.
    pub(crate) fn view(&self, i: usize) -> View {
        self.views[i]
    }

    /// Some accessing node has journal `jid`.
    pub(crate) fn accessed(&self, jid: u32) -> bool {
        self.accessing_by_jid
            .get(jid as usize)
            .is_some_and(|&c| c > 0)
    }

    /// Journal `jid`'s writer failed.
    pub(crate) fn failed(&mut self, jid: u32) {
        if !self.failed_jids.contains(&jid) {
            self.failed_jids.push(jid);
        }
    }

    /// Journal `jid` was replayed (its failure is forgotten) or cleaned.
    pub(crate) fn cleaned(&mut self, jid: u32, replayed: bool) {
        if replayed {
            self.failed_jids.retain(|&j| j != jid);
        }
        self.recheck.push(jid);
    }

    /// Set node `i`'s invariant-1 suspicion.
    pub(crate) fn set_suspect(&mut self, i: usize, s: bool) {
        if self.suspect[i] != s {
            self.suspect[i] = s;
            if s {
                self.suspects += 1;
            } else {
                self.suspects -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_follow_views_and_accessing_nodes_recheck_their_journal() {
        let mut c = Counters::new(3, 3);
        let a = View {
            accessing: true,
            jid: Some(1),
            first: false,
            mounted_other: true,
        };
        c.update(0, a);
        c.update(
            1,
            View {
                first: true,
                ..View::default()
            },
        );
        assert_eq!((c.firsts, c.mounted_others), (1, 1));
        assert!(c.accessed(1) && !c.accessed(0) && !c.accessed(7));
        assert_eq!(c.recheck, vec![1]);
        c.update(0, View::default());
        assert_eq!((c.firsts, c.mounted_others), (1, 0));
        assert!(!c.accessed(1));
        c.failed(2);
        c.failed(2);
        assert_eq!(c.failed_jids, vec![2]);
        c.cleaned(2, true);
        assert!(c.failed_jids.is_empty());
        c.set_suspect(2, true);
        c.set_suspect(2, true);
        assert_eq!(c.suspects, 1);
        c.set_suspect(2, false);
        assert_eq!(c.suspects, 0);
    }
}
