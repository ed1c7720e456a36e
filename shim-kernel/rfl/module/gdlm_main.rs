// SPDX-License-Identifier: GPL-2.0-only
//! gdlm_rfl: GFS2's lock_dlm glue as a Rust-for-Linux module; gdlm-core's engine decides.
//! First slice: the module links gdlm-core and runs its engine in init.
use kernel::prelude::*;

use gdlm_core::engine::{Action, Config, Engine, Event, Instant, LockRef};
use gdlm_core::Profile;

module! {
    type: GdlmRfl,
    name: "gdlm_rfl",
    authors: ["gdlm"],
    description: "gdlm: GFS2 lock_dlm (gdlm-core's engine) as a Rust-for-Linux module",
    license: "GPL",
}

struct GdlmRfl;

/// Drive the engine through the start of a one-node mount with no DLM behind it: it must
/// ask to join, then (after the first recover_done) for a control_lock request.
fn self_test() -> Result {
    let mut e: KBox<Engine<16>> = KBox::new(Engine::new(Config::for_profile(Profile::Linux72)), GFP_KERNEL)?;
    let now = Instant::from_millis(0);
    e.handle(now, Event::Mount { journals: 3 }).map_err(|_| EINVAL)?;
    let mut n = 0;
    while let Some(a) = e.poll() {
        pr_info!("gdlm_rfl: self-test: mount -> {:?}\n", a);
        n += 1;
    }
    e.handle(now, Event::RecoverDone { slots: &[1], our_slot: 1, generation: 1 }).map_err(|_| EINVAL)?;
    e.handle(now, Event::LockspaceJoined).map_err(|_| EINVAL)?;
    let mut asked_control = false;
    while let Some(a) = e.poll() {
        pr_info!("gdlm_rfl: self-test: joined -> {:?}\n", a);
        if let Action::Dlm(req) = a {
            asked_control |= req.lock == LockRef::Control;
        }
        n += 1;
    }
    pr_info!("gdlm_rfl: self-test: {} actions, control_lock asked {}\n", n, asked_control);
    if asked_control { Ok(()) } else { Err(EINVAL) }
}

impl kernel::Module for GdlmRfl {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        self_test()?;
        pr_info!("gdlm_rfl: loaded\n");
        Ok(GdlmRfl)
    }
}

impl Drop for GdlmRfl {
    fn drop(&mut self) {
        pr_info!("gdlm_rfl: unloaded\n");
    }
}
