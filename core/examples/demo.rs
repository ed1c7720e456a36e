//! A tour of gdlm-core: a glock's DLM name and flags, an AST, and one node's view of
//! a peer failing and its journal being recovered through the control_lock LVB.
//!
//! `cargo run -p gdlm-core --example demo`

use gdlm_core::ast::{gdlm_ast, AstInput, AstOutcome, AstStyle};
use gdlm_core::consts::LM_RD_SUCCESS;
use gdlm_core::flags::{lock_request, FlagPolicy, LmFlags, LockContext};
use gdlm_core::name::NameStyle;
use gdlm_core::recovery::{ControlBegin, ControlFinish, ControlUpdate, LockId};
use gdlm_core::{ControlLvb, LmState, LockName, Recovery, SizePolicy};

fn main() -> Result<(), gdlm_core::Error> {
    // An inode glock asking for SHARED with LM_FLAG_ANY, first request.
    let name = LockName::new(2, 0x1234);
    let ctx = LockContext {
        has_lvb: true,
        ..Default::default()
    };
    let req = lock_request(
        &FlagPolicy::REFERENCE,
        &name,
        NameStyle::Reference,
        LmState::Shared.raw(),
        LmFlags::ANY,
        &ctx,
    )?;
    println!("glock {name:?}");
    println!("  dlm_lock name  {:?}", req.name.map(|n| n.to_string()));
    println!(
        "  mode {:?}, flags {:?} ({:#x})",
        req.mode,
        req.flags,
        req.flags.bits()
    );
    println!("  control_lock is {:?}", LockId::Control.name().as_str());

    // The DLM granted the alternate mode (CW): the glock is DEFERRED.
    let out = gdlm_ast(
        AstStyle::Reference,
        &AstInput {
            gl_state: LmState::Unlocked,
            gl_req: LmState::Shared,
            sb_status: 0,
            sb_flags: gdlm_core::consts::DLM_SBF_ALTMODE,
            has_lvb: true,
            glf_initial: false,
            lkid: 0x10001,
            dead: false,
        },
    )?;
    if let AstOutcome::Complete { ret, .. } = out {
        println!("  AST with ALTMODE -> state {:?}", LmState::try_from(ret)?);
    }

    // Recovery: we are jid 0 in a 3-node cluster at generation 7; slot 2 fails.
    let mut rec = Recovery::<192>::new(SizePolicy::Fit);
    rec.recover_done(&[1, 2, 3], 1, 7)?;
    let mut lvb = ControlLvb::zeroed();
    lvb.set_generation(7);
    // (control_mount would run here; pretend it finished)
    let mut mount = gdlm_core::mount::ControlMount::new();
    mount.start(&mut rec);
    for _ in 0..2 {
        mount.on_lock_result(&mut rec, 0, None)?;
    }
    mount.on_sleep_done()?;
    mount.on_lock_result(&mut rec, 0, Some(&lvb))?; // control EX
    mount.on_lock_result(&mut rec, -gdlm_core::consts::EAGAIN, None)?; // mounted EX: others mounted
    mount.on_lock_result(&mut rec, 0, None)?; // mounted PR
    rec.recover_prep();
    rec.recover_done(&[1, 3], 1, 8)?;
    println!(
        "\nrecover_prep/slot/done: generation {}, blocked {}",
        rec.recover_start(),
        rec.locks_blocked()
    );
    let _ = mount.on_lock_result(&mut rec, 0, None)?; // control NL: waits (lvb gen 7 < 8)
    println!("  control_mount: retry because {:?}", mount.last_retry());

    // The mount is not finished, so the control work is not ready yet; show it on a
    // mounted node's state instead.
    let mut peer = Recovery::<192>::new(SizePolicy::Fit);
    peer.recover_done(&[1, 2, 3], 3, 7)?;
    let mut m = gdlm_core::mount::ControlMount::new();
    m.start(&mut peer);
    m.on_lock_result(&mut peer, 0, None)?;
    m.on_lock_result(&mut peer, 0, None)?;
    m.on_sleep_done()?;
    m.on_lock_result(&mut peer, 0, Some(&lvb))?;
    m.on_lock_result(&mut peer, -gdlm_core::consts::EAGAIN, None)?;
    m.on_lock_result(&mut peer, 0, None)?;
    println!(
        "  peer mounted: {:?}",
        m.on_lock_result(&mut peer, 0, None)?
    );
    peer.recover_prep();
    peer.recover_slot(2)?;
    peer.recover_done(&[1, 3], 3, 8)?;
    let ControlBegin::Lock(mut t, ex) = peer.control_begin() else {
        return Ok(());
    };
    println!("  control step: {:?} {:?} {:?}", ex.lock, ex.mode, ex.flags);
    let ControlUpdate::Convert { call, lvb_gen } = peer.control_locked(&mut t, &lvb) else {
        return Ok(());
    };
    let written = call.lvb.unwrap_or(lvb);
    println!("  read lvb gen {lvb_gen}, write {written:?}");
    if let ControlFinish::Recover(jids) = peer.control_converted(&t) {
        println!("  recover journals {jids:?}");
    }
    peer.recovery_result(1, LM_RD_SUCCESS)?;
    if let ControlBegin::Lock(mut t, _) = peer.control_begin() {
        if let ControlUpdate::Convert { call, .. } = peer.control_locked(&mut t, &written) {
            println!("  after success, lvb {:?}", call.lvb);
        }
        println!("  finish: {:?}", peer.control_converted(&t));
    }
    Ok(())
}
