//! Every lockspace generation an engine holds, for model checkers.
//!
//! gdlm-sim's exhaustive check renames generations canonically (by their order) so that
//! states that differ only in how far the generation counter has run are explored once.
//! That is sound only if every copy of a generation is renamed alike, and the engine keeps
//! them in private fields; [`Engine::visit_generations`] reaches each of them. Nothing
//! here is used by the engine itself.

use super::{Engine, PendingSync, ReplayReason, Running, SyncUser};

impl<const N: usize> Engine<N> {
    /// Calls `f` on every lockspace generation the engine holds, in a fixed order; `f` may
    /// rewrite them (a renaming must keep their order and `0`, and leave
    /// [`crate::lvb::DISABLED_GENERATION`] alone, for the engine to decide as before).
    ///
    /// Visited: the recovery state (`ls_recover_mount/start/block`, every
    /// `ls_recover_submit` entry, the generation in `ls_lvb_bits`), `control_mount`'s LVB
    /// generation and LVB, `control_first_done`'s LVB, the lksb's LVB buffer, the control
    /// step's ticket (`block_gen`, `start_gen`) while its call is outstanding, the running
    /// journal recovery's generation, and with CPG callbacks the membership's generation
    /// and the sync message waiting to be multicast. Not visited: the action queue (drain
    /// it first, as a shim does after every call); journal-lock statistics hold none.
    pub fn visit_generations<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        self.rec.visit_generations(f);
        self.mount.visit_generations(f);
        self.first_done.visit_generations(f);
        self.lksb_lvb.visit_generation(f);
        if let Some(PendingSync {
            user: SyncUser::ControlEx(t) | SyncUser::ControlNl(t),
            ..
        }) = &mut self.sync
        {
            f(&mut t.block_gen);
            f(&mut t.start_gen);
        }
        if let Some(Running {
            reason: ReplayReason::Recovery { generation },
            ..
        }) = &mut self.running
        {
            f(generation);
        }
        if let Some(m) = &mut self.membership {
            m.visit_generations(f);
        }
        if let Some(s) = &mut self.sync_msg {
            f(&mut s.generation);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Config, Engine, Event, Instant};

    /// Adding 10 to every generation the engine holds changes its `Hash` exactly where
    /// generations are, and adding it back restores the state: after a recover_done at
    /// generation 7 the recovery state holds it, and the visitor sees it.
    #[test]
    fn visits_and_rewrites_the_recovery_generations() {
        let mut e: Engine<8> = Engine::new(Config::default());
        let now = Instant::ZERO;
        e.handle(now, Event::Mount { journals: 2 }).unwrap();
        while e.poll().is_some() {}
        e.handle(
            now,
            Event::RecoverDone {
                slots: &[1],
                our_slot: 1,
                generation: 7,
            },
        )
        .unwrap();
        while e.poll().is_some() {}
        let mut seen = heapless::Vec::<u32, 64>::new();
        e.visit_generations(&mut |g| {
            let _ = seen.push(*g);
        });
        assert!(seen.iter().filter(|&&g| g == 7).count() >= 2, "{seen:?}");
        let before = e.clone();
        e.visit_generations(&mut |g| {
            if *g != 0 {
                *g += 10
            }
        });
        assert_eq!(e.rec.recover_start(), 17);
        assert_eq!(e.rec.recover_mount(), 17);
        assert!(e != before);
        e.visit_generations(&mut |g| {
            if *g != 0 {
                *g -= 10
            }
        });
        assert!(e == before);
    }
}
