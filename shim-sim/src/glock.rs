//! Glock traffic of a mounted node: inode glocks taken, converted, demoted on blocking
//! callbacks, released and cancelled. Each glock is gdlm-core's [`Glock`] machine
//! (`gdlm_lock`, `gdlm_ast`, `gdlm_bast`, `gdlm_put_lock`, `gdlm_cancel` under the
//! node's profile); this file only picks what glock.c would do next and carries the
//! machine's calls to the DLM model, with each glock's value block.

use gdlm_core::glock::{Glock as CoreGlock, GlockDone, GlockError, Pending, Put};
use gdlm_core::name::LockName;
use gdlm_core::{LmFlags, LmState, Profile};

use crate::dlm::{Dlm, LockTarget, Lvb};

/// `LM_TYPE_INODE`.
pub const LM_TYPE_INODE: u32 = 2;
/// Inode glocks each node works on (shared by all nodes: they contend).
pub const GLOCKS: usize = 3;

/// One glock: the core's machine and the LVB buffer (`sb_lvbptr`).
#[derive(Clone, Copy, Debug, Hash)]
pub struct Glock {
    /// The lock_dlm side.
    pub g: CoreGlock,
    lvb: Lvb,
}

impl Glock {
    fn new(profile: Profile, i: usize) -> Self {
        Glock {
            g: CoreGlock::new(profile, name(i), true),
            lvb: [0; 32],
        }
    }

    /// `gl_state`.
    pub fn state(&self) -> LmState {
        self.g.state()
    }
}

/// The node's glocks.
#[derive(Clone, Debug, Hash)]
pub struct Glocks {
    /// By index; glock `i` is inode number `100 + i`.
    pub glocks: [Glock; GLOCKS],
    /// Whose lock_dlm the glocks follow.
    pub profile: Profile,
}

impl Default for Glocks {
    fn default() -> Self {
        Glocks::new(Profile::Reference)
    }
}

fn name(i: usize) -> LockName {
    LockName::new(LM_TYPE_INODE, 100 + i as u64)
}

impl Glocks {
    /// Idle glocks under `profile`'s policies.
    pub fn new(profile: Profile) -> Self {
        Glocks {
            glocks: core::array::from_fn(|i| Glock::new(profile, i)),
            profile,
        }
    }

    /// Owns the lock `lkid`?
    pub fn owns(&self, lkid: u32) -> bool {
        lkid != 0 && self.glocks.iter().any(|g| g.g.lkid() == lkid)
    }

    /// Any request in flight.
    pub fn busy(&self) -> bool {
        self.glocks.iter().any(|g| g.g.pending().is_some())
    }

    /// A demote is owed (runnable even while locking is blocked: it only releases).
    pub fn demote_ready(&self) -> bool {
        self.glocks.iter().any(|g| g.g.demote().is_some())
    }

    fn request(
        &mut self,
        dlm: &mut Dlm,
        node: u32,
        i: usize,
        req: LmState,
        flags: LmFlags,
        now: u64,
    ) -> Result<(), String> {
        let g = &mut self.glocks[i];
        let before = *g;
        let r =
            g.g.request(req, flags, now as i64)
                .map_err(|e| format!("gdlm_lock glock {i}: {e}"))?;
        let target = match &r.name {
            Some(n) => LockTarget::Name(n.as_bytes()),
            None => LockTarget::Lkid(g.g.lkid()),
        };
        match dlm.lock(node, r.mode.raw(), r.flags.bits(), target, Some(g.lvb)) {
            Ok(id) => {
                g.g.set_lkid(id);
                Ok(())
            }
            // A request the DLM refuses up front (e.g. -EINVAL) changes nothing.
            Err(e) => {
                *g = before;
                Err(format!("dlm_lock {req:?} on glock {i}: {e}"))
            }
        }
    }

    /// Handle a blocking AST.
    pub fn bast(&mut self, lkid: u32, mode: i32) -> Result<(), String> {
        let Some(g) = self.glocks.iter_mut().find(|g| g.g.lkid() == lkid) else {
            return Ok(());
        };
        match g.g.bast(mode) {
            Ok(_) => Ok(()),
            Err(GlockError::Freed) => Err(format!(
                "BAST for glock lkid {lkid} after gdlm_put_lock freed it (use after free)"
            )),
            Err(e) => Err(format!("gdlm_bast: {e}")),
        }
    }

    /// Handle a completion AST; `Err` when the core refused it (the kernel would BUG).
    pub fn ast(
        &mut self,
        lkid: u32,
        status: i32,
        sb_flags: u8,
        lvb: Option<Lvb>,
        now: u64,
    ) -> Result<(), String> {
        let profile = self.profile;
        let Some((i, g)) = self
            .glocks
            .iter_mut()
            .enumerate()
            .find(|(_, g)| g.g.lkid() == lkid)
        else {
            return Ok(());
        };
        if g.g.pending().is_none() {
            return Ok(());
        }
        let done =
            g.g.complete(status, sb_flags, now as i64)
                .map_err(|e| format!("gdlm_ast on glock lkid {lkid}: {e}"))?;
        match done {
            GlockDone::Complete {
                state, lvb_zeroed, ..
            } => {
                if let Some(l) = lvb {
                    g.lvb = l;
                }
                if lvb_zeroed {
                    g.lvb = [0; 32];
                }
                if status == 0 && state == LmState::Exclusive {
                    // The holder updates the value block.
                    g.lvb[0] = g.lvb[0].wrapping_add(1);
                }
            }
            // Freed: glock.c makes a new glock the next time the inode is used.
            GlockDone::Freed { .. } => *g = Glock::new(profile, i),
            GlockDone::Ignored => {}
        }
        Ok(())
    }

    /// One step: an owed demote, else (with `traffic`) a random request, release or cancel.
    pub fn step(
        &mut self,
        dlm: &mut Dlm,
        node: u32,
        choice: u32,
        traffic: bool,
        now: u64,
    ) -> Result<(), String> {
        if let Some(i) = self.glocks.iter().position(|g| g.g.demote().is_some()) {
            let Some(target) = self.glocks[i].g.take_demote() else {
                return Ok(());
            };
            return self.request(dlm, node, i, target, LmFlags::empty(), now);
        }
        if !traffic {
            return Ok(());
        }
        let i = (choice as usize) % GLOCKS;
        let g = self.glocks[i];
        let pick = (choice >> 8) % 8;
        if let Some(p) = g.g.pending() {
            if matches!(p, Pending::Lock { blocking: true, .. }) && pick == 0 && !g.g.cancelled() {
                // gdlm_cancel: give up waiting.
                if let Some(c) = self.glocks[i].g.cancel().map_err(|e| e.to_string())? {
                    let _ = dlm.unlock(node, c.lkid, c.flags.bits(), None);
                }
            }
            return Ok(());
        }
        let flags = match (choice >> 12) % 4 {
            0 => LmFlags::TRY,
            1 => LmFlags::TRY_1CB,
            _ => LmFlags::empty(),
        };
        match g.state() {
            LmState::Unlocked if g.g.lkid() != 0 && pick < 2 => {
                // gdlm_put_lock: the glock goes away.
                let put = self.glocks[i]
                    .g
                    .put(false, now as i64)
                    .map_err(|e| e.to_string())?;
                match put {
                    Put::Freed => self.glocks[i] = Glock::new(self.profile, i),
                    Put::Unlock(u) => {
                        if let Err(e) = dlm.unlock(node, u.lkid, u.flags, Some(g.lvb)) {
                            self.glocks[i] = Glock::new(self.profile, i);
                            return Err(format!("dlm_unlock glock {i}: {e}"));
                        }
                    }
                }
                Ok(())
            }
            // SHARED or DEFERRED (direct I/O) with LM_FLAG_ANY: the DLM may grant the other.
            LmState::Unlocked if pick < 5 => {
                self.request(dlm, node, i, LmState::Shared, flags | LmFlags::ANY, now)
            }
            LmState::Unlocked => {
                self.request(dlm, node, i, LmState::Deferred, flags | LmFlags::ANY, now)
            }
            LmState::Shared | LmState::Deferred if pick < 4 => {
                self.request(dlm, node, i, LmState::Exclusive, flags, now)
            }
            LmState::Shared | LmState::Deferred => {
                self.request(dlm, node, i, LmState::Unlocked, LmFlags::empty(), now)
            }
            LmState::Exclusive if pick < 4 => {
                self.request(dlm, node, i, LmState::Shared, LmFlags::empty(), now)
            }
            LmState::Exclusive => {
                self.request(dlm, node, i, LmState::Unlocked, LmFlags::empty(), now)
            }
        }
    }
}
