//! DLM completion latency in the time model: a completion AST (grant, convert, unlock,
//! cancel, `-EAGAIN`) reaches its node a time drawn from the measured request-to-reply
//! times ([`crate::schedule::REAL_GRANT_US_LOCAL`] when the node masters the resource,
//! [`crate::schedule::REAL_GRANT_US_REMOTE`] when another node does) after the DLM
//! queued it. The seeded scheduler delivers a node's callbacks in order and only once the
//! oldest is due; BASTs and recovery callbacks have no latency of their own (they wait
//! behind an AST queued before them). Scripted `deliver` steps and the exhaustive check
//! (time abstracted away) deliver whatever is queued.
//!
//! The same place draws each node's engine timer slack: a timer armed for later (the
//! mount's 500 ms sleep, the GAVEUP retry after `HZ`) fires a time drawn from
//! [`crate::schedule::REAL_TIMER_SLACK_MS`] late (the node adds it when the engine arms
//! the timer; work queued to run at once is not delayed).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{Action, Sim, SimConfig};
use crate::dlm::Latency;

/// The AST latency lists, their random source and the nodes waiting for a due callback.
#[derive(Clone, Debug)]
pub(crate) struct Grants {
    /// Local-master ASTs (µs); empty: no latency.
    pub(crate) local_us: Vec<u64>,
    /// Remote-master ASTs (µs); empty: no latency.
    pub(crate) remote_us: Vec<u64>,
    /// Engine timers' slack (ms); empty: none.
    pub(crate) slack_ms: Vec<u64>,
    rng: Pcg64Mcg,
    slack_rng: Pcg64Mcg,
    /// Per node index: the latest delivery time given to one of its callbacks (they are
    /// delivered in order, so a later one is never due earlier).
    last_due: Vec<u64>,
    /// (due time, node index) of nodes whose oldest callback is not due yet; stale
    /// entries are dropped when they surface.
    wake: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Grants {
    pub(crate) fn new(cfg: &SimConfig) -> Self {
        Grants {
            local_us: cfg.faults.grant_us.to_vec(),
            remote_us: cfg.faults.remote_grant_us.to_vec(),
            slack_ms: cfg.faults.timer_slack_ms.to_vec(),
            rng: Pcg64Mcg::seed_from_u64(cfg.seed ^ 0x6A47_6A47_6A47_6A47),
            slack_rng: Pcg64Mcg::seed_from_u64(cfg.seed ^ 0x5E7A_5E7A_5E7A_5E7A),
            last_due: vec![0; cfg.nodes as usize],
            wake: BinaryHeap::new(),
        }
    }

    /// A latency for a callback of this kind, in virtual ms: the drawn µs rounded down or
    /// up at random in proportion to the remainder, so the mean is kept at 1 ms resolution.
    fn draw_ms(&mut self, kind: Latency) -> u64 {
        let list = match kind {
            Latency::LocalAst => &self.local_us,
            Latency::RemoteAst => &self.remote_us,
            Latency::None => return 0,
        };
        if list.is_empty() {
            return 0;
        }
        let us = list[self.rng.random_range(0..list.len())];
        us / 1000 + u64::from(self.rng.random_range(0..1000) < us % 1000)
    }

    /// The slack of a node's next engine timer (ms).
    pub(crate) fn draw_slack_ms(&mut self) -> u64 {
        if self.slack_ms.is_empty() {
            return 0;
        }
        self.slack_ms[self.slack_rng.random_range(0..self.slack_ms.len())]
    }

    /// Per node, for the liveness bound: the longest latency the lists can draw (virtual
    /// ms, rounded up) times the DLM calls of eight `control_mount` rounds (six each, as
    /// the bound's eight mount retries), plus the longest slack for each of those retries
    /// and the four GAVEUP retries.
    pub(crate) fn bound_ms(&self) -> u64 {
        let max = self.local_us.iter().chain(&self.remote_us).max();
        let slack = self.slack_ms.iter().max().copied().unwrap_or(0);
        48 * max.map_or(0, |us| us.div_ceil(1000)) + 12 * slack
    }
}

impl<const N: usize> Sim<N> {
    /// Stamp the DLM's new callbacks with their delivery times and wake the nodes whose
    /// oldest callback became due by `now`.
    pub(super) fn grants_due(&mut self, now: u64) {
        if self.dlm.has_unstamped() {
            let g = &mut self.grants;
            self.dlm.stamp_events(|node, kind| {
                let ms = g.draw_ms(kind);
                let i = (node as usize).wrapping_sub(1);
                let Some(last) = g.last_due.get_mut(i) else {
                    return now;
                };
                let due = (now + ms).max(*last);
                *last = due;
                due
            });
        }
        while let Some(&Reverse((t, i))) = self.grants.wake.peek() {
            if t > now {
                break;
            }
            self.grants.wake.pop();
            self.sched.touch(i as usize);
        }
    }

    /// Node `id` has a callback that may be delivered at `now` (if not, and it has one,
    /// it is woken when that one is due).
    pub(super) fn deliver_ready(&mut self, id: u32, now: u64) -> bool {
        match self.dlm.head_due_for(id) {
            None => false,
            Some(_) if self.untimed => true,
            Some(t) if t <= now => true,
            Some(t) => {
                self.grants.wake.push(Reverse((t, id - 1)));
                false
            }
        }
    }

    /// When a node's oldest callback becomes due next (for the jump when nothing is
    /// enabled), dropping entries that no longer hold.
    pub(super) fn next_grant_due(&mut self) -> Option<u64> {
        while let Some(&Reverse((t, i))) = self.grants.wake.peek() {
            if t > self.now && self.dlm.head_due_for(i + 1) == Some(t) {
                return Some(t);
            }
            self.grants.wake.pop();
            if t <= self.now {
                self.sched.touch(i as usize);
            }
        }
        None
    }

    /// [`Sim::enabled`] as the seeded scheduler sees it: a node's DLM callback only once
    /// it is due.
    pub(super) fn enabled_timed(&self) -> Vec<Action> {
        let now = self.now;
        let untimed = self.untimed;
        self.enabled()
            .into_iter()
            .filter(|a| match *a {
                Action::Deliver(id) => {
                    untimed || self.dlm.head_due_for(id).is_some_and(|t| t <= now)
                }
                _ => true,
            })
            .collect()
    }

    /// From now on every node's engine timers fire a time drawn out of `ms` late (empty:
    /// on time).
    pub fn set_timer_slack(&mut self, ms: &[u64]) {
        self.rec(crate::schedule::Step::TimerSlack(ms.to_vec()));
        self.grants.slack_ms = ms.to_vec();
        for i in 0..self.nodes.len() {
            self.nodes[i].next_slack_ms = self.grants.draw_slack_ms();
        }
        self.log(
            0,
            format!("engine timers fire a time drawn from {ms:?} ms late"),
        );
    }

    /// Give every node its first timer slack (at the start of a run).
    pub(super) fn init_slack(&mut self) {
        for i in 0..self.nodes.len() {
            self.nodes[i].next_slack_ms = self.grants.draw_slack_ms();
        }
    }

    /// From now on completion ASTs of locks the node masters take a time drawn out of
    /// `local_us`, the others out of `remote_us` (µs; empty: no latency).
    pub fn set_grant_times(&mut self, local_us: &[u64], remote_us: &[u64]) {
        self.rec(crate::schedule::Step::GrantTimes {
            local_us: local_us.to_vec(),
            remote_us: remote_us.to_vec(),
        });
        self.grants.local_us = local_us.to_vec();
        self.grants.remote_us = remote_us.to_vec();
        self.log(
            0,
            format!(
                "DLM ASTs take a time drawn from {local_us:?} µs (local master), {remote_us:?} µs (remote)"
            ),
        );
    }
}
