//! The scheduler's enabled set, kept up to date incrementally (issue 15): each node's
//! enabled actions as a bit mask, recomputed only when something touched the node, and a
//! Fenwick tree over the masks' sizes so the k-th enabled action (in [`crate::sim::Sim::enabled`]'s
//! order: node by node, each node's deliver, CPG deliver, run) is found in O(log n)
//! without listing them. Nodes that become runnable only as virtual time passes (an
//! engine timer, a replay finishing) wait in a heap ordered by their wake time; every
//! node's next timer (for the idle jump) is kept in another.
//!
//! What keeps it exact: a node's mask depends only on the node (touched by the simulator
//! whenever it acts on it), the DLM's undelivered callbacks for it (the DLM reports the
//! nodes whose outbox changed), the CPG log (every CPG change touches all nodes), the
//! node being frozen, and the time (the wake set). Debug builds compare the result with
//! a full recomputation after every event.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-heap of (time, node index) with lazy deletion: an entry is live while it matches
/// the node's current time in the side table; stale entries are dropped when they reach
/// the top, and the heap is rebuilt from the table when they pile up.
#[derive(Clone, Debug, Default)]
struct Times {
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    at: Vec<Option<u64>>,
}

impl Times {
    fn new(n: usize) -> Self {
        Times {
            heap: BinaryHeap::new(),
            at: vec![None; n],
        }
    }

    fn set(&mut self, i: usize, t: Option<u64>) {
        if self.at[i] == t {
            return;
        }
        self.at[i] = t;
        if let Some(t) = t {
            self.heap.push(Reverse((t, i as u32)));
            if self.heap.len() > 4 * self.at.len() + 16 {
                let live = self.at.iter().enumerate();
                self.heap = live
                    .filter_map(|(i, t)| t.map(|t| Reverse((t, i as u32))))
                    .collect();
            }
        }
    }

    /// The earliest live entry.
    fn first(&mut self) -> Option<(u64, u32)> {
        while let Some(&Reverse((t, i))) = self.heap.peek() {
            if self.at[i as usize] == Some(t) {
                return Some((t, i));
            }
            self.heap.pop();
        }
        None
    }
}

/// Deliver the node's oldest DLM callback.
pub(crate) const DELIVER: u8 = 1;
/// Deliver the node's next CPG item.
pub(crate) const DELIVER_CPG: u8 = 2;
/// Run one of the node's internal steps.
pub(crate) const RUN: u8 = 4;

/// Per node (index `i` is node `i + 1`): enabled-action masks and their order statistic.
#[derive(Clone, Debug, Default)]
pub(crate) struct Runnable {
    masks: Vec<u8>,
    /// Fenwick tree (1-based) over the masks' popcounts.
    fen: Vec<u32>,
    total: u32,
    /// Nodes not runnable now that become so at a time (ms).
    wake: Times,
    /// Every node's next timer (ms), for the jump when nothing is enabled.
    timers: Times,
    /// Nodes to recompute (indices), deduplicated by `pending`.
    touched: Vec<u32>,
    pending: Vec<bool>,
    /// Recompute every node.
    all: bool,
    /// The time the wake set was last judged at (time going back recomputes all).
    judged_at: u64,
}

impl Runnable {
    /// `n` nodes, every one to be computed.
    pub(crate) fn new(n: usize) -> Self {
        Runnable {
            masks: vec![0; n],
            fen: vec![0; n + 1],
            total: 0,
            wake: Times::new(n),
            timers: Times::new(n),
            touched: Vec::new(),
            pending: vec![false; n],
            all: true,
            judged_at: 0,
        }
    }

    /// Node index `i` changed: recompute it at the next refresh.
    pub(crate) fn touch(&mut self, i: usize) {
        if let Some(p) = self.pending.get_mut(i) {
            if !*p {
                *p = true;
                self.touched.push(i as u32);
            }
        }
    }

    /// Every node changed.
    pub(crate) fn touch_all(&mut self) {
        self.all = true;
    }

    /// Nothing to recompute, and the wake times were judged at `now`.
    pub(crate) fn is_clean(&self, now: u64) -> bool {
        !self.all && self.touched.is_empty() && self.judged_at == now
    }

    /// Take the nodes to recompute (all of them if `touch_all` was called, or time went
    /// back from `judged_at` to `now`), for [`Runnable::set`].
    pub(crate) fn take_touched(&mut self, now: u64, out: &mut Vec<u32>) {
        out.clear();
        if now < self.judged_at {
            self.all = true;
        }
        if self.all {
            self.all = false;
            for i in self.touched.drain(..) {
                self.pending[i as usize] = false;
            }
            out.extend(0..self.masks.len() as u32);
        } else {
            for i in self.touched.drain(..) {
                self.pending[i as usize] = false;
                out.push(i);
            }
        }
    }

    fn fen_add(&mut self, i: usize, delta: i32) {
        let mut k = i + 1;
        while k < self.fen.len() {
            self.fen[k] = self.fen[k].wrapping_add_signed(delta);
            k += k & k.wrapping_neg();
        }
        self.total = self.total.wrapping_add_signed(delta);
    }

    fn set_mask(&mut self, i: usize, m: u8) {
        let old = self.masks[i];
        if old != m {
            self.masks[i] = m;
            self.fen_add(i, m.count_ones() as i32 - old.count_ones() as i32);
        }
    }

    /// Node `i` now has `mask` (without [`RUN`]), is runnable regardless of time if
    /// `run`, else at `wake` (ms) if given, and its next timer is `timer`; judged at `now`.
    pub(crate) fn set(
        &mut self,
        i: usize,
        mask: u8,
        run: bool,
        wake: Option<u64>,
        timer: Option<u64>,
        now: u64,
    ) {
        let due = run || wake.is_some_and(|w| w <= now);
        let wake = if due { None } else { wake };
        self.wake.set(i, wake);
        self.timers.set(i, timer);
        self.set_mask(i, mask | if due { RUN } else { 0 });
    }

    /// Set or clear one bit other than [`RUN`] of node `i`'s mask.
    pub(crate) fn set_bit(&mut self, i: usize, bit: u8, on: bool) {
        let m = if on {
            self.masks[i] | bit
        } else {
            self.masks[i] & !bit
        };
        self.set_mask(i, m);
    }

    /// Time is `now`: nodes whose wake time came are runnable.
    pub(crate) fn judge(&mut self, now: u64) {
        self.judged_at = now;
        while let Some((w, i)) = self.wake.first() {
            if w > now {
                break;
            }
            self.wake.set(i as usize, None);
            let m = self.masks[i as usize] | RUN;
            self.set_mask(i as usize, m);
        }
    }

    /// Enabled node actions.
    pub(crate) fn total(&self) -> u32 {
        self.total
    }

    /// Node index `i`'s mask.
    #[cfg(test)]
    pub(crate) fn mask(&self, i: usize) -> u8 {
        self.masks[i]
    }

    /// The earliest timer of any node.
    pub(crate) fn next_timer(&mut self) -> Option<u64> {
        self.timers.first().map(|(t, _)| t)
    }

    /// The `k`-th enabled node action (`k < total`): node index and the action's bit.
    pub(crate) fn select(&self, mut k: u32) -> (usize, u8) {
        // Fenwick descent: the largest prefix of nodes holding at most k actions.
        let n = self.fen.len() - 1;
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let nx = pos + step;
            if nx <= n && self.fen[nx] <= k {
                pos = nx;
                k -= self.fen[nx];
            }
            step >>= 1;
        }
        // Node index `pos` holds the action; its k-th set bit, lowest first.
        let mut m = self.masks[pos];
        for _ in 0..k {
            m &= m - 1;
        }
        (pos, m & m.wrapping_neg())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_walks_masks_in_order_and_wakes_at_their_time() {
        let mut r = Runnable::new(5);
        let mut t = Vec::new();
        r.take_touched(0, &mut t);
        assert_eq!(t, vec![0, 1, 2, 3, 4]);
        r.set(0, DELIVER, true, None, None, 0);
        r.set(2, DELIVER | DELIVER_CPG, false, Some(10), Some(10), 0);
        r.set(4, 0, true, None, Some(7), 0);
        assert_eq!(r.total(), 5);
        let all: Vec<_> = (0..r.total()).map(|k| r.select(k)).collect();
        let want = [
            (0, DELIVER),
            (0, RUN),
            (2, DELIVER),
            (2, DELIVER_CPG),
            (4, RUN),
        ];
        assert_eq!(all, want);
        assert_eq!(r.next_timer(), Some(7));
        r.judge(9);
        assert_eq!(r.mask(2) & RUN, 0);
        r.judge(10);
        assert_eq!(r.mask(2), DELIVER | DELIVER_CPG | RUN);
        assert_eq!(r.total(), 6);
        assert_eq!(r.select(4), (2, RUN));
        assert_eq!(r.select(5), (4, RUN));
        // Time going back recomputes every node.
        r.touch(1);
        r.take_touched(3, &mut t);
        assert_eq!(t.len(), 5);
    }
}
