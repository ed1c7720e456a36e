//! The order of two kernel threads one recover_done starts on a first mounter whose
//! `control_first_done` waits for the DLM's recovery (a node joined during its first
//! mount): `gdlm_recover_done` queues the control work and wakes the waiter (v3.12
//! L1132-1136, 7.2 L1235-1239). If the woken `control_first_done` clears
//! `DFL_FIRST_MOUNT` first (v3.12 L981, 7.2 L1070), the work runs the control step and
//! logs `recover generation N done`; if the work runs first, it returns at its
//! `DFL_FIRST_MOUNT` test (v3.12 L595-597, 7.2 L675-679) and nothing logs done N. Both
//! leave locking unblocked. The engine executes either ([`FirstDoneOrder`]); here the
//! swarm draws it from the seed, a schedule may force it (`{"first_done_order":
//! "work_first"}`), and the exhaustive check takes both ([`Sim::order_choices`]).

use gdlm_core::engine::FirstDoneOrder;

use super::{Action, Sim};
use crate::dlm::DlmEvent;

/// A schedule's `first_done_order`: force one order, or draw it from the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSel {
    /// `control_first_done` first (the work logs done N).
    FirstDoneFirst,
    /// The control work first (no done N).
    WorkFirst,
    /// Drawn from the seed at each such delivery (the default).
    Either,
}

impl<const N: usize> Sim<N> {
    /// From now on, force the order (or draw it with [`OrderSel::Either`]).
    pub fn set_first_done_order(&mut self, o: OrderSel) {
        self.rec(crate::schedule::Step::FirstDoneOrder(o));
        self.first_done_order = match o {
            OrderSel::FirstDoneFirst => Some(FirstDoneOrder::FirstDoneFirst),
            OrderSel::WorkFirst => Some(FirstDoneOrder::WorkFirst),
            OrderSel::Either => None,
        };
    }

    /// A schedule's `dlm_hold`: from now on (`on`) the DLM's recovery stops after it has
    /// enabled locking again and before it calls recover_done (`dlm_recoverd` between
    /// `enable_locking` and `dlm_lsop_recover_done`, held long), until released. Locks are
    /// granted meanwhile; a first mounter that finishes its pass then finds the recovery
    /// still running and its `control_first_done` waits.
    pub fn set_dlm_hold(&mut self, on: bool) {
        self.rec(crate::schedule::Step::DlmHold(on));
        self.hold_before_done = on;
        self.log(
            0,
            if on {
                "DLM recovery holds before recover_done".into()
            } else {
                "DLM recovery goes on".into()
            },
        );
    }

    /// Delivering `a` may wake a waiting `control_first_done` (so the order is a choice):
    /// the node waits and its next DLM callback is a recover_done (kernel callbacks), or
    /// it has a CPG item (which may carry one; if not, both orders are the same).
    fn order_matters(&self, a: Action) -> bool {
        let (id, cpg) = match a {
            Action::Deliver(id) => (id, false),
            Action::DeliverCpg(id) => (id, true),
            _ => return false,
        };
        let Some(n) = self.nodes.get((id as usize).wrapping_sub(1)) else {
            return false;
        };
        if !n.engine().first_done_waiting() {
            return false;
        }
        cpg || (self.cpg.is_none()
            && matches!(
                self.dlm.pending_events().iter().find(|e| e.node() == id),
                Some(DlmEvent::RecoverDone { .. })
            ))
    }

    fn work_first(a: Action) -> Action {
        match a {
            Action::Deliver(id) => Action::DeliverWorkFirst(id),
            Action::DeliverCpg(id) => Action::DeliverCpgWorkFirst(id),
            a => a,
        }
    }

    /// The swarm's pick `a`, with the order drawn (or forced) where it is a choice.
    pub(super) fn choose_first_done_order(&mut self, a: Action) -> Action {
        use rand::Rng;
        if !self.order_matters(a) {
            return a;
        }
        let work_first = match self.first_done_order {
            Some(o) => o == FirstDoneOrder::WorkFirst,
            None => self.rng.random_bool(0.5),
        };
        if work_first {
            Self::work_first(a)
        } else {
            a
        }
    }

    /// A forced [`FirstDoneOrder::WorkFirst`] applied to a delivery (a schedule's
    /// `deliver` step, a shrunk run's or the exhaustive check's choice).
    pub(super) fn forced_first_done_order(&self, a: Action) -> Action {
        if self.first_done_order == Some(FirstDoneOrder::WorkFirst) && self.order_matters(a) {
            Self::work_first(a)
        } else {
            a
        }
    }

    /// The exhaustive check's extra choices: for every delivery in `choices` that may wake
    /// a waiting `control_first_done`, the same delivery with the control work first.
    pub fn order_choices(&self, choices: &mut Vec<Action>) {
        let extra: Vec<Action> = choices
            .iter()
            .filter(|&&a| self.order_matters(a))
            .map(|&a| Self::work_first(a))
            .collect();
        choices.extend(extra);
    }

    /// Deliver with the control work first.
    pub(super) fn deliver_work_first(&mut self, a: Action) {
        let (id, cpg) = match a {
            Action::DeliverWorkFirst(id) => (id, false),
            Action::DeliverCpgWorkFirst(id) => (id, true),
            _ => return,
        };
        let i = (id - 1) as usize;
        let waiting = self.nodes[i].engine().first_done_waiting();
        self.nodes[i].set_first_done_order(FirstDoneOrder::WorkFirst);
        if cpg {
            self.deliver_cpg(id);
        } else {
            self.deliver(id);
        }
        self.nodes[i].set_first_done_order(FirstDoneOrder::FirstDoneFirst);
        if waiting && !self.nodes[i].engine().first_done_waiting() {
            self.log(
                id,
                "control work ran before the woken control_first_done: it saw \
                 DFL_FIRST_MOUNT and returned (no done for this generation)"
                    .into(),
            );
        }
    }
}
