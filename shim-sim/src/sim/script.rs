//! Schedule-only features of the cluster: a lock held from outside the file system (the
//! VM harness's `gdlm-linux-smoke hold`) and `mount_slot`'s check of the slot a node gets.
//! Neither is drawn by the swarm or explored by the exhaustive check (their state is left
//! out of the fingerprints): they exist to replay what a real cluster did.

use gdlm_core::engine::LockRef;

use super::Sim;
use crate::dlm::{DlmEvent, DLM_EUNLOCK};
use crate::schedule::{parse_mode, Hold, LockSel};

/// Where an outside hold is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HoldState {
    /// Requested, not granted yet (queued behind the holders, or deferred by recovery).
    Waiting,
    /// Granted; unlocked at `until` (virtual ms).
    Granted { until: u64 },
    /// Unlock requested; its AST ends it.
    Releasing,
    /// Unlocked (or its lock went with its node): nothing more happens.
    Done,
}

/// A lock a process outside the file system holds through one node's DLM.
#[derive(Clone, Debug)]
pub(crate) struct OutsideHold {
    host: u32,
    label: String,
    ms: u64,
    lkid: u32,
    state: HoldState,
}

/// `mount_slot`: the slot a mounting node must get, and the step that asked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotWant {
    node: u32,
    slot: u32,
    step: usize,
}

fn lock_ref(l: LockSel) -> LockRef {
    match l {
        LockSel::Control => LockRef::Control,
        LockSel::Mounted => LockRef::Mounted,
        LockSel::Journal(j) => LockRef::Journal(j),
    }
}

impl<const N: usize> Sim<N> {
    /// A process outside the file system on node `h.node` requests `h.mode` on `h.lock`
    /// now (queued, no LVB), holds it `h.ms` virtual ms from its grant, then unlocks it.
    pub fn hold(&mut self, h: &Hold) -> Result<(), String> {
        if h.node == 0 || h.node > self.cfg.nodes {
            return Err(format!("hold: no node {}", h.node));
        }
        let mode = parse_mode(&h.mode).map_err(|e| format!("hold: {e}"))?;
        let lock = lock_ref(h.lock);
        if let LockRef::Journal(j) = lock {
            if j as usize >= self.journals.len() {
                return Err(format!("hold: no journal {j}"));
            }
        }
        if !self.dlm.members().contains(&h.node) {
            return Err(format!(
                "hold: node {} is not in the lockspace (the holding process opens the \
                 lockspace of a member, as `gdlm-linux-smoke hold` does on the VM)",
                h.node
            ));
        }
        let name = lock.name();
        let lkid = self
            .dlm
            .request(h.node, mode, 0, name.as_bytes(), None)
            .map_err(|e| format!("hold: dlm_lock {} {} failed: {e}", lock_label(lock), h.mode))?;
        self.rec(crate::schedule::Step::Hold(h.clone()));
        let label = lock_label(lock);
        self.log(
            h.node,
            format!(
                "HOLD requested {} on {label} from outside (lkid {lkid}, held {} ms once granted)",
                h.mode, h.ms
            ),
        );
        self.holds.push(OutsideHold {
            host: h.node,
            label,
            ms: h.ms,
            lkid,
            state: HoldState::Waiting,
        });
        Ok(())
    }

    /// A DLM callback for node `id`: `None` when it was for an outside hold (handled
    /// here), else the event back for the node.
    pub(super) fn hold_event(&mut self, id: u32, ev: DlmEvent) -> Option<DlmEvent> {
        let lkid = match ev {
            DlmEvent::Ast { lkid, .. } | DlmEvent::Bast { lkid, .. } => lkid,
            _ => return Some(ev),
        };
        let Some(k) = self
            .holds
            .iter()
            .position(|h| h.host == id && h.lkid == lkid)
        else {
            return Some(ev);
        };
        let now = self.now;
        let h = &mut self.holds[k];
        let was = h.state;
        let line = match ev {
            DlmEvent::Ast { status: 0, .. } if h.state == HoldState::Waiting => {
                h.state = HoldState::Granted { until: now + h.ms };
                format!("HOLD granted on {}; holding {} ms", h.label, h.ms)
            }
            DlmEvent::Ast { status, .. } if status == -DLM_EUNLOCK => {
                h.state = HoldState::Done;
                format!("HOLD released on {}", h.label)
            }
            DlmEvent::Ast { status, .. } => {
                h.state = HoldState::Done;
                format!("HOLD on {} ended: status {status}", h.label)
            }
            DlmEvent::Bast { mode, .. } => {
                // The harness's holder has no BAST callback: it holds for its time.
                format!("HOLD on {}: bast mode {mode} (ignored)", h.label)
            }
            _ => unreachable!("matched above"),
        };
        let (state, label) = (h.state, h.label.clone());
        if let Some(t) = self.timeline.as_mut() {
            match (was, state) {
                (HoldState::Waiting, HoldState::Granted { .. }) => t.hold(now, id, &label, true),
                (_, HoldState::Done) => t.hold(now, id, &label, false),
                _ => {}
            }
        }
        self.log(id, line);
        None
    }

    /// Unlock the holds whose time is up; forget those whose lock went with their node.
    pub(super) fn hold_tick(&mut self) {
        let now = self.now;
        for k in 0..self.holds.len() {
            let h = &self.holds[k];
            if h.state == HoldState::Done {
                continue;
            }
            let (host, lkid) = (h.host, h.lkid);
            if h.state != HoldState::Releasing && self.dlm.lock_view(lkid).is_none() {
                // Purged with a crashed or departed node, or already unlocked.
                let line = format!("HOLD on {} gone with node {host}'s lockspace", h.label);
                self.holds[k].state = HoldState::Done;
                self.log(host, line);
                continue;
            }
            if let HoldState::Granted { until } = h.state {
                if now >= until {
                    let r = self.dlm.unlock(host, lkid, 0, None);
                    let h = &mut self.holds[k];
                    let line = match r {
                        Ok(()) => {
                            h.state = HoldState::Releasing;
                            format!("HOLD unlock on {}", h.label)
                        }
                        Err(e) => {
                            h.state = HoldState::Done;
                            format!("HOLD unlock on {} failed: {e}", h.label)
                        }
                    };
                    self.log(host, line);
                }
            }
        }
    }

    /// When the next outside hold is to be unlocked.
    pub(super) fn hold_timer(&self) -> Option<u64> {
        self.holds
            .iter()
            .filter_map(|h| match h.state {
                HoldState::Granted { until } => Some(until),
                _ => None,
            })
            .min()
    }

    /// Virtual ms the outside holds may still keep their locks (for the liveness bound).
    pub(super) fn holds_remaining_ms(&self) -> u64 {
        self.holds
            .iter()
            .map(|h| match h.state {
                HoldState::Waiting => h.ms,
                HoldState::Granted { until } => until.saturating_sub(self.now),
                _ => 0,
            })
            .sum()
    }

    /// From now on every replay of another node's journal takes a time drawn (from the
    /// seed) out of `ms`; empty: the fixed `replay_delay` again.
    pub fn set_replay_times(&mut self, ms: &[u64]) {
        self.rec(crate::schedule::Step::ReplayTimes(ms.to_vec()));
        self.replay_times = ms.to_vec();
        self.clean_times.clear();
        self.log(0, format!("replays take a time drawn from {ms:?} ms"));
    }

    /// From now on every node's own-journal head lookup takes a time drawn out of `ms`;
    /// empty: none.
    pub fn set_jhead_times(&mut self, ms: &[u64]) {
        self.rec(crate::schedule::Step::JheadTimes(ms.to_vec()));
        self.jhead_times = Some(ms.to_vec());
        self.log(
            0,
            format!("own-journal head lookups take a time drawn from {ms:?} ms"),
        );
    }

    /// The own-journal head lookup times of node index `i`.
    fn jhead_list(&self, i: usize) -> &[u64] {
        match &self.jhead_times {
            Some(v) => v,
            None => self.cfg.faults.jhead_times.unwrap_or_else(|| {
                crate::schedule::jhead_ms(self.cfg.profile_of(self.nodes[i].id))
            }),
        }
    }

    /// The longest replay of another node's journal the model can draw (virtual ms).
    pub(super) fn replay_bound_ms(&self) -> u64 {
        let fixed = self.nodes.iter().map(|n| n.replay_model.delay_ms).max();
        let listed = self
            .replay_times
            .iter()
            .chain(&self.clean_times)
            .copied()
            .max();
        fixed
            .unwrap_or(0)
            .max(listed.unwrap_or(0))
            .max(self.cfg.faults.replay_delay_ms)
    }

    /// The longest own-journal head lookup any node can draw (virtual ms).
    pub(super) fn jhead_bound_ms(&self) -> u64 {
        (0..self.nodes.len())
            .filter_map(|i| self.jhead_list(i).iter().copied().max())
            .max()
            .unwrap_or(0)
    }

    /// A replay by node `by` of journal `jid` just started: draw its duration (its own
    /// journal: the head lookup at mount; another's: a replay time), unless fixed.
    pub(super) fn draw_replay_time(&mut self, by: u32, jid: u32) {
        use rand::Rng;
        let i = (by - 1) as usize;
        let own = self.nodes[i].jid() == Some(jid);
        let clean = !own
            && !self.clean_times.is_empty()
            && self.journals.get(jid as usize).is_some_and(|j| !j.dirty);
        let len = match (own, clean) {
            (true, _) => self.jhead_list(i).len(),
            (false, true) => self.clean_times.len(),
            (false, false) => self.replay_times.len(),
        };
        if len == 0 {
            return;
        }
        let k = self.time_rng.random_range(0..len);
        let ms = match (own, clean) {
            (true, _) => self.jhead_list(i)[k],
            (false, true) => self.clean_times[k],
            (false, false) => self.replay_times[k],
        };
        let at = self.now + ms;
        self.nodes[i].set_replay_end(jid, at);
        // A new timer for the node: the incremental enabled set must see it.
        self.sched.touch(i);
        let what = match (own, clean) {
            (true, _) => format!("head lookup of its own journal {jid} takes {ms} ms"),
            (false, true) => format!("head lookup of clean journal {jid} takes {ms} ms"),
            (false, false) => format!("replay of journal {jid} takes {ms} ms"),
        };
        self.log(by, what);
    }

    /// Mount node `id` expecting DLM slot `slot`; checked when its slot is assigned.
    pub fn mount_slot(&mut self, id: u32, slot: u32, step: usize) -> Result<(), String> {
        let n = self.cfg.nodes;
        if slot == 0 || slot > n {
            return Err(format!(
                "mount_slot: slot {slot} cannot be reached in a {n}-node cluster: a joiner \
                 takes the lowest free slot (dlm_slots_assign), so slot S needs S-1 other \
                 members holding slots 1..S-1"
            ));
        }
        let i = (id - 1) as usize;
        if self.nodes[i].alive() || self.pending_mount[i] {
            return Err(format!(
                "mount_slot: node {id} is already mounting or mounted (slot {})",
                self.nodes[i]
                    .jid()
                    .map_or("not yet assigned".into(), |j| (j + 1).to_string())
            ));
        }
        self.want_slot.retain(|w| w.node != id);
        self.want_slot.push(SlotWant {
            node: id,
            slot,
            step,
        });
        self.log(id, format!("mount expecting slot {slot}"));
        self.mount(id);
        Ok(())
    }

    /// After an event at node `id`: compare a slot it was just given with `mount_slot`'s.
    pub(super) fn check_slot(&mut self, id: u32) {
        let Some(k) = self.want_slot.iter().position(|w| w.node == id) else {
            return;
        };
        let i = (id - 1) as usize;
        let Some(jid) = self.nodes[i].jid() else {
            return;
        };
        let w = self.want_slot.remove(k);
        let got = jid + 1;
        if got == w.slot {
            self.log(id, format!("got slot {got}, as mount_slot asked"));
            return;
        }
        let table = self.slot_table(i);
        let shown: Vec<String> = table
            .iter()
            .map(|&(n, s)| format!("{s}: node {n}"))
            .collect();
        let hint = if got > w.slot {
            match table.iter().find(|&&(_, s)| s == w.slot) {
                Some(&(holder, _)) => format!(
                    "slot {} was node {holder}'s: a joiner takes the lowest free slot \
                     (dlm_slots_assign), so node {holder} must unmount, crash or withdraw \
                     before node {id} joins (or node {id} must join before it)",
                    w.slot
                ),
                None => format!(
                    "slot {} was held when node {id} joined (by a node that has left since)",
                    w.slot
                ),
            }
        } else {
            let below = match w.slot - 1 {
                1 => "slot 1 must be held".to_string(),
                k => format!("slots 1..{k} must all be held"),
            };
            format!(
                "slot {got} was free when node {id} joined: {below} then; mount other \
                 nodes first and wait until they are mounted"
            )
        };
        let msg = format!(
            "step {}: mount_slot: node {id} got slot {got}, not slot {} (event {}, t={} ms; \
             slots then: {}); {hint}",
            w.step,
            w.slot,
            self.step,
            self.now,
            shown.join(", ")
        );
        self.log(id, msg.clone());
        self.slot_error.get_or_insert(msg);
    }

    /// `(node, slot)` of every member as node index `i` sees them: the DLM's (kernel
    /// callbacks) or its CPG membership's table.
    fn slot_table(&self, i: usize) -> Vec<(u32, u32)> {
        if self.cpg.is_some() {
            return self.nodes[i]
                .engine()
                .membership()
                .map(|m| {
                    m.table()
                        .iter()
                        .map(|&(mb, s)| (mb.nodeid, s.max(0) as u32))
                        .collect()
                })
                .unwrap_or_default();
        }
        let mut v: Vec<(u32, u32)> = self
            .nodes
            .iter()
            .filter_map(|n| self.dlm.slot_of(n.id).map(|s| (n.id, s)))
            .collect();
        v.sort_by_key(|&(_, s)| s);
        v
    }

    /// Node `id`'s mount ended (`how`: crashed, left, failed) before it got a slot: a
    /// `mount_slot` applies to that one mount, so its check fails here rather than
    /// carrying over to the node's next mount.
    pub(super) fn end_slot_want(&mut self, id: u32, how: &str) {
        let Some(k) = self.want_slot.iter().position(|w| w.node == id) else {
            return;
        };
        let w = self.want_slot.remove(k);
        let msg = format!(
            "step {}: mount_slot: node {id} {how} before it got a slot (event {}, t={} ms); \
             a mount_slot applies to that one mount: let it join first (wait for \
             {{\"slot\": {{\"node\": {id}, \"slot\": {}}}}}), or use a plain mount",
            w.step, self.step, self.now, w.slot
        );
        self.log(id, msg.clone());
        self.slot_error.get_or_insert(msg);
    }

    /// A `mount_slot` mismatch seen since the last call.
    pub fn take_slot_error(&mut self) -> Option<String> {
        self.slot_error.take()
    }

    /// A `mount_slot` whose node has no slot yet (at the end of a schedule).
    pub fn unmet_slot(&self) -> Option<String> {
        let w = self.want_slot.first()?;
        let n = &self.nodes[(w.node - 1) as usize];
        Some(format!(
            "step {}: mount_slot: node {} never got a slot (it is {:?}); run longer \
             (\"settle\", or wait for {{\"slot\": {{\"node\": {}, \"slot\": {}}}}})",
            w.step, w.node, n.phase, w.node, w.slot
        ))
    }
}

fn lock_label(l: LockRef) -> String {
    match l {
        LockRef::Control => "control_lock".into(),
        LockRef::Mounted => "mounted_lock".into(),
        LockRef::Journal(j) => format!("journal {j}"),
    }
}
