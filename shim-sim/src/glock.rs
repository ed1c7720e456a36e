//! Glock traffic of a mounted node: inode glocks taken, converted, demoted on blocking
//! callbacks, released and cancelled through the core's `name`, `flags`, `ast` and
//! `stats` modules (what `gdlm_lock`, `gdlm_ast`, `gdlm_bast`, `gdlm_put_lock` and
//! `gdlm_cancel` do for glock.c).

use gdlm_core::ast::{cancel, gdlm_ast, put_lock, AstInput, AstOutcome, PutLock, PutLockInput};
use gdlm_core::flags::{is_blocking_request, lock_request, LmFlags, LockContext};
use gdlm_core::mode::{bast_state, BastMode};
use gdlm_core::name::{LockName, NameStyle};
use gdlm_core::stats::GlockStats;
use gdlm_core::LmState;

use crate::dlm::{Dlm, LockTarget, Lvb};

/// `LM_TYPE_INODE`.
pub const LM_TYPE_INODE: u32 = 2;
/// Inode glocks each node works on (shared by all nodes: they contend).
pub const GLOCKS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pending {
    Lock { req: LmState, blocking: bool },
    Unlock,
}

/// One glock as glock.c would hold it.
#[derive(Clone, Copy, Debug, Hash)]
pub struct Glock {
    /// `gl_state`.
    pub state: LmState,
    /// `sb_lkid` (0: no DLM lock).
    pub lkid: u32,
    pending: Option<Pending>,
    cancelled: bool,
    glf_initial: bool,
    /// A blocking callback asked to drop to this state.
    demote: Option<LmState>,
    lvb: Lvb,
    /// Stats.
    pub stats: GlockStats,
}

impl Default for Glock {
    fn default() -> Self {
        Glock {
            state: LmState::Unlocked,
            lkid: 0,
            pending: None,
            cancelled: false,
            glf_initial: false,
            demote: None,
            lvb: [0; 32],
            stats: GlockStats::new(),
        }
    }
}

/// The node's glocks.
#[derive(Clone, Debug, Default, Hash)]
pub struct Glocks {
    /// By index; glock `i` is inode number `100 + i`.
    pub glocks: [Glock; GLOCKS],
    /// Whose `gdlm_lock`/`gdlm_ast` policies (flags, ALTMODE, conversions).
    pub profile: gdlm_core::Profile,
}

fn name(i: usize) -> LockName {
    LockName::new(LM_TYPE_INODE, 100 + i as u64)
}

impl Glocks {
    /// Idle glocks under `profile`'s policies.
    pub fn new(profile: gdlm_core::Profile) -> Self {
        Glocks {
            profile,
            ..Glocks::default()
        }
    }

    /// Owns the lock `lkid`?
    pub fn owns(&self, lkid: u32) -> bool {
        lkid != 0 && self.glocks.iter().any(|g| g.lkid == lkid)
    }

    /// Any request in flight.
    pub fn busy(&self) -> bool {
        self.glocks.iter().any(|g| g.pending.is_some())
    }

    /// A demote is owed (runnable even while locking is blocked: it only releases).
    pub fn demote_ready(&self) -> bool {
        self.glocks
            .iter()
            .any(|g| g.demote.is_some() && g.pending.is_none())
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
        let blocking = is_blocking_request(g.state, req, flags);
        let ctx = LockContext {
            has_lvb: true,
            // A conversion: sb_lkid != 0 in the reference (L233), !GLF_INITIAL in 7.2.
            converting: match self.profile {
                gdlm_core::Profile::Reference => g.lkid != 0,
                gdlm_core::Profile::Linux72 => !g.glf_initial,
            },
            glf_blocking: blocking,
            cur: Some(g.state.to_dlm()),
        };
        let r = lock_request(
            &self.profile.flag_policy(),
            &name(i),
            NameStyle::Reference,
            req.raw(),
            flags,
            &ctx,
        )
        .map_err(|e| format!("gdlm_lock: {e}"))?;
        g.stats.on_request(&r, now as i64, None);
        let target = match (&r.name, g.lkid) {
            (Some(n), _) => LockTarget::Name(n.as_bytes()),
            (None, id) => LockTarget::Lkid(id),
        };
        match dlm.lock(node, r.mode.raw(), r.flags.bits(), target, Some(g.lvb)) {
            Ok(id) => {
                g.lkid = id;
                g.pending = Some(Pending::Lock { req, blocking });
                g.cancelled = false;
                Ok(())
            }
            // A request the DLM refuses up front (e.g. -EINVAL) changes nothing.
            Err(e) => Err(format!("dlm_lock {req:?} on glock {i}: {e}")),
        }
    }

    /// Handle a blocking AST.
    pub fn bast(&mut self, lkid: u32, mode: i32) -> Result<(), String> {
        let Some(g) = self.glocks.iter_mut().find(|g| g.lkid == lkid) else {
            return Ok(());
        };
        let want = bast_state(BastMode::Mode(mode)).map_err(|e| format!("gdlm_bast: {e}"))?;
        // glock.c demotes EX to what the other node asked for, anything else to UNLOCKED.
        g.demote = Some(if g.state == LmState::Exclusive {
            want
        } else {
            LmState::Unlocked
        });
        Ok(())
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
        let Some(g) = self.glocks.iter_mut().find(|g| g.lkid == lkid) else {
            return Ok(());
        };
        let (req, blocking) = match g.pending {
            Some(Pending::Lock { req, blocking }) => (req, blocking),
            Some(Pending::Unlock) => (g.state, false),
            None => return Ok(()),
        };
        g.stats.on_reply(now as i64, blocking, None);
        let out = gdlm_ast(
            self.profile.ast_style(),
            &AstInput {
                gl_state: g.state,
                gl_req: req,
                sb_status: status,
                sb_flags,
                has_lvb: true,
                glf_initial: g.glf_initial,
                lkid,
                dead: false,
            },
        )
        .map_err(|e| format!("gdlm_ast on glock lkid {lkid}: {e}"))?;
        g.pending = None;
        match out {
            AstOutcome::Complete {
                ret,
                lvb_zeroed,
                lkid,
                glf_initial,
            } => {
                if let Some(l) = lvb {
                    g.lvb = l;
                }
                if lvb_zeroed {
                    g.lvb = [0; 32];
                }
                g.lkid = lkid;
                g.glf_initial = glf_initial;
                if status == 0 {
                    g.state = LmState::try_from(ret & 3).map_err(|e| e.to_string())?;
                    if g.state == LmState::Exclusive {
                        // The holder updates the value block.
                        g.lvb[0] = g.lvb[0].wrapping_add(1);
                    }
                }
                if g.demote.is_some_and(|d| d == g.state) || g.state == LmState::Unlocked {
                    g.demote = None;
                }
            }
            AstOutcome::Free { .. } | AstOutcome::Ignored => {
                *g = Glock {
                    stats: g.stats,
                    ..Glock::default()
                }
            }
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
        if let Some(i) = self
            .glocks
            .iter()
            .position(|g| g.demote.is_some() && g.pending.is_none())
        {
            let g = self.glocks[i];
            let target = g.demote.unwrap_or(LmState::Unlocked);
            self.glocks[i].demote = None;
            if g.lkid == 0 || target == g.state || g.state == LmState::Unlocked {
                return Ok(());
            }
            return self.request(dlm, node, i, target, LmFlags::empty(), now);
        }
        if !traffic {
            return Ok(());
        }
        let i = (choice as usize) % GLOCKS;
        let g = self.glocks[i];
        let pick = (choice >> 8) % 8;
        if let Some(p) = g.pending {
            if matches!(p, Pending::Lock { blocking: true, .. }) && pick == 0 && !g.cancelled {
                // gdlm_cancel: give up waiting.
                let c = cancel(g.lkid).map_err(|e| e.to_string())?;
                self.glocks[i].cancelled = true;
                let _ = dlm.unlock(node, c.lkid, c.flags.bits(), None);
            }
            return Ok(());
        }
        let flags = match (choice >> 12) % 4 {
            0 => LmFlags::TRY,
            1 => LmFlags::TRY_1CB,
            _ => LmFlags::empty(),
        };
        match g.state {
            LmState::Unlocked if g.lkid != 0 && pick < 2 => {
                // gdlm_put_lock: the glock is freed.
                let p = put_lock(&PutLockInput {
                    lkid: g.lkid,
                    has_lvb: true,
                    gl_state: g.state,
                    skip_dlm_unlock: false,
                });
                self.glocks[i].stats.on_put_lock(now as i64, None);
                if let PutLock::Unlock { lkid, flags } = p {
                    dlm.unlock(node, lkid, flags.bits(), Some(g.lvb))
                        .map_err(|e| format!("dlm_unlock glock {i}: {e}"))?;
                    self.glocks[i].pending = Some(Pending::Unlock);
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
