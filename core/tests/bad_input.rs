//! Every row of `core/BAD_INPUT.md`: one test per row, named `row_<row name>` after
//! the row's first column, checking the exact error or outcome the table gives.
//! Every refused input must also leave the state as it was (checked with a clone).

use gdlm_core::ast::{
    cancel, gdlm_ast, put_lock, AstError, AstInput, AstOutcome, AstStyle, PutLock, PutLockInput,
};
use gdlm_core::consts::{
    DLM_ECANCEL, DLM_EUNLOCK, DLM_SBF_ALTMODE, DLM_SBF_DEMOTED, DLM_SBF_VALNOTVALID, EAGAIN, EBUSY,
    EINTR, EINVAL, ENODEV, LM_OUT_TRY_AGAIN, LM_RD_GAVEUP, LM_RD_SUCCESS,
};
use gdlm_core::flags::{
    lock_request, make_flags, DlmLkf, FlagPolicy, FlagsError, LmFlags, LockContext,
};
use gdlm_core::lvb::{ControlLvb, JidSet, LvbError};
use gdlm_core::mode::{bast_state, make_mode, BastMode, DlmMode, LmState, ModeError};
use gdlm_core::mount::{
    after_new_lockspace, ControlMount, FirstDone, FirstDoneStep, LockTable, MountError,
    MountFailure, MountOptions, MountStep, OpsMode, RetryReason, TableError,
};
use gdlm_core::name::{LockName, NameError, NameStyle};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlUpdate, ControlWork, LockId, RecoverFlags, Recovery,
    RecoveryError, ResultIgnored, ResultOutcome, SizePolicy,
};
use gdlm_core::stats::{GlockStats, LkStats, StatPair, TypeStats, UnknownLockType};
use gdlm_core::{ast::CancelRequest, ast::UnlockDone, flags::LockGlock};
use gdlm_core::{DlmAttempt, DlmRetry, Profile};

type R = Result<(), String>;

fn lvb(gen: u32, jids: &[u32]) -> ControlLvb {
    let mut l = ControlLvb::zeroed();
    l.set_generation(gen);
    for &j in jids {
        l.set_jid(j, true).expect("jid < 192");
    }
    l
}

/// A mounted (not first) node: generation 10 recovered, jid 0, size 16.
fn mounted<const N: usize>(policy: SizePolicy) -> Recovery<N> {
    Recovery::<N>::from_parts(
        policy,
        RecoverFlags::MOUNT_DONE,
        10,
        10,
        9,
        &[0; 16],
        &[0; 16],
        0,
        lvb(10, &[]),
    )
    .expect("16 ≤ N")
}

/// Run one control step with `read` as the LVB control_lock EX returns.
fn control_step<const N: usize>(
    r: &mut Recovery<N>,
    read: &ControlLvb,
) -> Result<(ControlUpdate, Option<ControlFinish>), String> {
    let ControlBegin::Lock(mut t, _) = r.control_begin() else {
        return Err(format!("no control step: {:?}", r.control_begin()));
    };
    let upd = r.control_locked(&mut t, read);
    let fin = match upd {
        ControlUpdate::Convert { .. } => Some(r.control_converted(&t)),
        ControlUpdate::Stale(_) => None,
    };
    Ok((upd, fin))
}

fn ast_in(status: i32, flags: u8, req: LmState) -> AstInput {
    AstInput {
        gl_state: LmState::Unlocked,
        gl_req: req,
        sb_status: status,
        sb_flags: flags,
        has_lvb: true,
        glf_initial: true,
        lkid: 7,
        dead: false,
    }
}

fn refused<T: Clone + PartialEq + std::fmt::Debug, O, E: std::fmt::Debug>(
    state: &mut T,
    f: impl FnOnce(&mut T) -> Result<O, E>,
) -> Result<String, String> {
    let before = state.clone();
    match f(state) {
        Ok(_) => Err("accepted".into()),
        Err(e) => {
            if *state != before {
                return Err(format!("refusal {e:?} changed the state"));
            }
            Ok(format!("{e:?}"))
        }
    }
}

// ---------------------------------------------------------------- control LVB

#[test]
fn row_lvb_short() {
    assert_eq!(
        ControlLvb::from_bytes(&[0u8; 31]),
        Err(LvbError::WrongLength { len: 31 })
    );
}

#[test]
fn row_lvb_empty() {
    assert_eq!(
        ControlLvb::from_bytes(&[]),
        Err(LvbError::WrongLength { len: 0 })
    );
}

#[test]
fn row_lvb_long() {
    assert_eq!(
        ControlLvb::from_bytes(&[0u8; 33]),
        Err(LvbError::WrongLength { len: 33 })
    );
    assert_eq!(
        ControlLvb::from_bytes(&[0xffu8; 64]),
        Err(LvbError::WrongLength { len: 64 })
    );
}

#[test]
fn row_lvb_garbage() -> R {
    let raw: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(0x9d) ^ 0x5a);
    let l = ControlLvb::from_bytes(&raw).map_err(|e| format!("{e:?}"))?;
    assert_eq!(l.as_bytes(), &raw);
    assert_eq!(
        l.generation(),
        u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])
    );
    assert!(l.jids().iter().all(|j| j < 192));
    assert_eq!(l.jids().as_bytes().as_slice(), &raw[8..]);
    // Writing it back keeps the unused bytes 4–7.
    let w = gdlm_core::lvb::control_lvb_write(1, &l);
    assert_eq!(&w.as_bytes()[4..], &raw[4..]);
    Ok(())
}

#[test]
fn row_lvb_jid_out_of_range() {
    let mut l = ControlLvb::zeroed();
    assert_eq!(l.jid(192), Err(LvbError::JidOutOfRange { jid: 192 }));
    assert_eq!(
        l.set_jid(u32::MAX, true),
        Err(LvbError::JidOutOfRange { jid: u32::MAX })
    );
    assert_eq!(l, ControlLvb::zeroed());
    let mut s = JidSet::new();
    assert_eq!(s.insert(192), Err(LvbError::JidOutOfRange { jid: 192 }));
    assert!(!s.contains(192) && s.is_empty());
}

#[test]
fn row_lvb_disabled_at_mount() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1, 2], 2, 5).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?; // control NL (new)
    m.on_lock_result(&mut rec, 0, None)?; // mounted NL (new) → sleep
    m.on_sleep_done()?;
    let disabled = lvb(0xFFFF_FFFF, &[]);
    assert!(disabled.is_disabled());
    m.on_lock_result(&mut rec, 0, Some(&disabled))?; // control EX
    assert_eq!(
        m.on_lock_result(&mut rec, -EAGAIN, None)?, // mounted EX busy
        MountStep::Lock(gdlm_core::recovery::SyncLock {
            lock: LockId::Mounted,
            mode: DlmMode::Pr,
            flags: DlmLkf::CONVERT | DlmLkf::NOQUEUE,
            lvb: None,
        })
    );
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?, // mounted PR → locks_done
        MountStep::Unlock(LockId::Mounted)
    );
    assert_eq!(m.on_unlock_result(0)?, MountStep::Unlock(LockId::Control));
    assert_eq!(
        m.on_unlock_result(0)?,
        MountStep::Failed {
            error: -EINVAL,
            reason: MountFailure::Disabled
        }
    );
    assert_eq!(m.lvb_gen(), Some(0xFFFF_FFFF));
    assert!(rec.locks_blocked());
    assert!(!rec.flags().contains(RecoverFlags::MOUNT_DONE));
    Ok(())
}

#[test]
fn row_lvb_disabled_first_mounter() -> Result<(), MountError> {
    // Even the node that would be first mounter (mounted EX granted) refuses.
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1], 1, 1).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    m.on_lock_result(&mut rec, 0, Some(&lvb(0xFFFF_FFFF, &[])))?;
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?,
        MountStep::Unlock(LockId::Mounted)
    );
    m.on_unlock_result(0)?;
    assert_eq!(
        m.on_unlock_result(0)?,
        MountStep::Failed {
            error: -EINVAL,
            reason: MountFailure::Disabled
        }
    );
    assert!(!rec.flags().contains(RecoverFlags::FIRST_MOUNT));
    Ok(())
}

#[test]
fn row_lvb_disabled_in_control_step() -> R {
    // A mounted node reads 0xFFFFFFFF: it is a generation above ours, so the step
    // changes and writes nothing and unblocks if no jid bit below the size is set.
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.recover_prep();
    r.recover_done(&[1, 2], 1, 11)
        .map_err(|e| format!("{e:?}"))?;
    let (upd, fin) = control_step(&mut r, &lvb(0xFFFF_FFFF, &[]))?;
    let ControlUpdate::Convert { call, lvb_gen } = upd else {
        return Err(format!("{upd:?}"));
    };
    assert_eq!((call.lvb, lvb_gen), (None, 0xFFFF_FFFF));
    assert_eq!(fin, Some(ControlFinish::Unblocked { generation: 11 }));
    Ok(())
}

#[test]
fn row_lvb_jid_bits_beyond_size() -> R {
    // Bits at or above recover_size are neither recovered nor cleared (the kernel
    // scans jid < ls_recover_size); with none below, locking is unblocked.
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.recover_prep();
    r.recover_done(&[1, 2], 1, 11)
        .map_err(|e| format!("{e:?}"))?;
    let (_, fin) = control_step(&mut r, &lvb(11, &[16, 100, 191]))?;
    assert_eq!(fin, Some(ControlFinish::Unblocked { generation: 11 }));
    assert_eq!(r.lvb_bits().jid(100), Ok(true));
    Ok(())
}

#[test]
fn row_lvb_jid_bits_at_mount() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1, 2], 2, 5).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    m.on_lock_result(&mut rec, 0, Some(&lvb(5, &[3])))?;
    m.on_lock_result(&mut rec, -EAGAIN, None)?;
    m.on_lock_result(&mut rec, 0, None)?; // mounted PR
                                          // control NL, then "wait for journal recovery": back to mounted NL, then sleep.
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?,
        MountStep::Lock(gdlm_core::recovery::SyncLock {
            lock: LockId::Mounted,
            mode: DlmMode::Nl,
            flags: DlmLkf::CONVERT,
            lvb: None,
        })
    );
    assert_eq!(m.last_retry(), Some(RetryReason::WaitJournals));
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?,
        MountStep::Sleep { ms: 500 }
    );
    assert!(rec.locks_blocked());
    Ok(())
}

// ---------------------------------------------------------------- recovery callbacks

#[test]
fn row_slot_zero() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    let e = refused(&mut r, |r| r.recover_slot(0))?;
    assert_eq!(e, format!("{:?}", RecoveryError::InvalidSlot(0)));
    Ok(())
}

#[test]
fn row_slot_negative() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    for s in [-1, -5, i32::MIN] {
        let e = refused(&mut r, |r| r.recover_slot(s))?;
        assert_eq!(e, format!("{:?}", RecoveryError::InvalidSlot(s)));
    }
    Ok(())
}

#[test]
fn row_slot_beyond_capacity() -> R {
    let mut small = mounted::<16>(SizePolicy::Fit);
    let e = refused(&mut small, |r| r.recover_slot(17))?;
    let want = RecoveryError::SlotBeyondCapacity {
        slot: 17,
        capacity: 16,
    };
    assert_eq!(e, format!("{want:?}"));
    let mut big = mounted::<192>(SizePolicy::Fit);
    for s in [193, i32::MAX] {
        let e = refused(&mut big, |r| r.recover_slot(s))?;
        let want = RecoveryError::SlotBeyondCapacity {
            slot: s,
            capacity: 192,
        };
        assert_eq!(e, format!("{want:?}"));
    }
    Ok(())
}

#[test]
fn row_slot_beyond_size() -> R {
    // Within the capacity but beyond the arrays: the reference's "short size", dropped.
    let mut r = mounted::<192>(SizePolicy::Fit);
    let e = refused(&mut r, |r| r.recover_slot(17))?;
    assert_eq!(
        e,
        format!("{:?}", RecoveryError::ShortSize { jid: 16, size: 16 })
    );
    Ok(())
}

#[test]
fn row_slot_reference_growth_drops_far_slot() -> R {
    // SizePolicy::Reference grows by 16 once: slot 40 in the member list leaves the
    // size at 16, and that member's later failure is dropped as short size.
    let mut r = Recovery::<192>::new(SizePolicy::Reference);
    r.recover_done(&[1, 40], 1, 3)
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(r.recover_size(), 16);
    let e = refused(&mut r, |r| r.recover_slot(40))?;
    assert_eq!(
        e,
        format!("{:?}", RecoveryError::ShortSize { jid: 39, size: 16 })
    );
    let mut fit = Recovery::<192>::new(SizePolicy::Fit);
    fit.recover_done(&[1, 40], 1, 3)
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(fit.recover_size(), 48);
    Ok(())
}

#[test]
fn row_done_slot_beyond_capacity() -> R {
    let mut r = mounted::<16>(SizePolicy::Fit);
    let e = refused(&mut r, |r| r.recover_done(&[1, 2, 40], 1, 11))?;
    let want = RecoveryError::SlotBeyondCapacity {
        slot: 40,
        capacity: 16,
    };
    assert_eq!(e, format!("{want:?}"));
    Ok(())
}

#[test]
fn row_done_slot_nonpositive_in_list() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(
        r.recover_done(&[0, -3, i32::MIN, 2], 1, 11),
        Ok(Some(ControlWork::Now))
    );
    assert_eq!((r.recover_size(), r.recover_start()), (16, 11));
    Ok(())
}

#[test]
fn row_done_our_slot_invalid_first() -> R {
    let mut r = Recovery::<192>::new(SizePolicy::Fit);
    let e = refused(&mut r, |r| r.recover_done(&[1, 2], 0, 5))?;
    assert_eq!(e, format!("{:?}", RecoveryError::InvalidSlot(0)));
    let mut small = Recovery::<16>::new(SizePolicy::Fit);
    let e = refused(&mut small, |r| r.recover_done(&[1, 2], 17, 5))?;
    let want = RecoveryError::SlotBeyondCapacity {
        slot: 17,
        capacity: 16,
    };
    assert_eq!(e, format!("{want:?}"));
    Ok(())
}

#[test]
fn row_done_our_slot_invalid_later() {
    // our_slot is read only by the first recover_done (ls_recover_mount == 0).
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(r.recover_done(&[1, 2], -7, 11), Ok(Some(ControlWork::Now)));
    assert_eq!((r.jid(), r.recover_mount(), r.recover_start()), (0, 10, 11));
}

#[test]
fn row_done_without_our_slot() {
    // Accepted as the kernel does; the size follows the list, not our slot.
    let mut r = Recovery::<192>::new(SizePolicy::Fit);
    assert_eq!(r.recover_done(&[1], 40, 7), Ok(Some(ControlWork::Now)));
    assert_eq!((r.jid(), r.recover_size(), r.recover_mount()), (39, 16, 7));
    // Our own journal's result is still recognised.
    assert_eq!(
        r.recovery_result(39, LM_RD_SUCCESS),
        Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid))
    );
}

#[test]
fn row_done_empty_slot_list() {
    // The kernel's max_jid starts at 0: even no slots make the arrays 16 long.
    let mut r = Recovery::<192>::new(SizePolicy::Fit);
    assert_eq!(r.recover_done(&[], 1, 7), Ok(Some(ControlWork::Now)));
    assert_eq!(r.recover_size(), 16);
}

#[test]
fn row_done_duplicate_slots() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(
        r.recover_done(&[2, 2, 2, 1, 1], 1, 11),
        Ok(Some(ControlWork::Now))
    );
    assert_eq!(r.recover_size(), 16);
}

#[test]
fn row_done_generation_backwards() {
    // Generations are the DLM's; the core records whatever recover_done says.
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(r.recover_done(&[1, 2], 1, 3), Ok(Some(ControlWork::Now)));
    assert_eq!((r.recover_start(), r.recover_mount()), (3, 10));
}

#[test]
fn row_done_generation_zero_first() {
    // A first recover_done at generation 0 leaves recover_mount 0, so the next one
    // is "first" again and re-reads our slot (as the kernel's `!ls_recover_mount`).
    let mut r = Recovery::<192>::new(SizePolicy::Fit);
    assert_eq!(r.recover_done(&[1, 2], 2, 0), Ok(Some(ControlWork::Now)));
    assert_eq!((r.recover_mount(), r.jid()), (0, 1));
    assert_eq!(r.recover_done(&[1, 2], 1, 4), Ok(Some(ControlWork::Now)));
    assert_eq!((r.recover_mount(), r.jid()), (4, 0));
}

#[test]
fn row_result_never_asked() {
    // A result for a jid no control step asked to recover (within the size) is
    // stored and the control work queued, as in the kernel.
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(
        r.recovery_result(5, LM_RD_SUCCESS),
        Ok(ResultOutcome::Recorded(Some(ControlWork::Now)))
    );
    assert_eq!(r.result()[5], LM_RD_SUCCESS);
}

#[test]
fn row_result_beyond_capacity() -> R {
    let mut r = mounted::<16>(SizePolicy::Fit);
    for jid in [16, 192, u32::MAX - 1] {
        let e = refused(&mut r, |r| r.recovery_result(jid, LM_RD_SUCCESS))?;
        let want = RecoveryError::JidBeyondCapacity { jid, capacity: 16 };
        assert_eq!(e, format!("{want:?}"));
    }
    Ok(())
}

#[test]
fn row_result_beyond_size() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    let e = refused(&mut r, |r| r.recovery_result(100, LM_RD_SUCCESS))?;
    assert_eq!(
        e,
        format!("{:?}", RecoveryError::ShortSize { jid: 100, size: 16 })
    );
    Ok(())
}

#[test]
fn row_result_own_jid() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    let before = r.clone();
    assert_eq!(
        r.recovery_result(0, LM_RD_SUCCESS),
        Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid))
    );
    // Before the first recover_done ls_jid is −1, which the unsigned compare matches.
    let mut fresh = Recovery::<192>::new(SizePolicy::Fit);
    assert_eq!(
        fresh.recovery_result(u32::MAX, 0),
        Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid))
    );
    assert_eq!(r, before);
}

#[test]
fn row_result_while_first_mounter() {
    let mut r = Recovery::<192>::from_parts(
        SizePolicy::Fit,
        RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT,
        1,
        1,
        0,
        &[0; 16],
        &[0; 16],
        0,
        ControlLvb::zeroed(),
    )
    .expect("fits");
    assert_eq!(
        r.recovery_result(3, LM_RD_SUCCESS),
        Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount))
    );
}

#[test]
fn row_result_no_dlm_ops() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.set_no_dlm_ops();
    assert_eq!(
        r.recovery_result(1_000_000, 7),
        Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps))
    );
}

#[test]
fn row_result_unknown_value() -> R {
    // Stored as given; only LM_RD_SUCCESS clears the jid's LVB bit later.
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(
        r.recovery_result(3, 7),
        Ok(ResultOutcome::Recorded(Some(ControlWork::Now)))
    );
    r.recover_prep();
    r.recover_done(&[1, 2], 1, 11)
        .map_err(|e| format!("{e:?}"))?;
    let (_, fin) = control_step(&mut r, &lvb(10, &[3]))?;
    let Some(ControlFinish::Recover(j)) = fin else {
        return Err(format!("{fin:?}"));
    };
    assert!(j.contains(3) && j.len() == 1);
    assert_eq!(r.result()[3], 7);
    Ok(())
}

#[test]
fn row_result_gaveup() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    assert_eq!(
        r.recovery_result(3, LM_RD_GAVEUP),
        Ok(ResultOutcome::Recorded(Some(ControlWork::AfterHz)))
    );
}

#[test]
fn row_after_unmount() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.unmount();
    r.recover_prep();
    assert!(r.locks_blocked());
    assert!(r.recover_slot(2).is_ok());
    assert_eq!(r.recover_done(&[1], 1, 11), Ok(None));
    assert_eq!(
        r.recovery_result(1, LM_RD_SUCCESS),
        Ok(ResultOutcome::Recorded(None))
    );
    assert_eq!(r.check(), Ok(()));
}

#[test]
fn row_after_release() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.unmount();
    r.release();
    assert_eq!(r.recover_size(), 0);
    let e = refused(&mut r, |r| r.recover_slot(1))?;
    assert_eq!(
        e,
        format!("{:?}", RecoveryError::ShortSize { jid: 0, size: 0 })
    );
    let e = refused(&mut r, |r| r.recovery_result(3, LM_RD_SUCCESS))?;
    assert_eq!(
        e,
        format!("{:?}", RecoveryError::ShortSize { jid: 3, size: 0 })
    );
    // A late recover_done grows the arrays again but queues no work.
    assert_eq!(r.recover_done(&[1, 2], 1, 11), Ok(None));
    assert_eq!(r.recover_size(), 16);
    assert_eq!(r.check(), Ok(()));
    Ok(())
}

#[test]
fn row_control_before_mount() {
    let r = Recovery::<192>::new(SizePolicy::Fit);
    assert_eq!(r.control_begin(), ControlBegin::NotReady);
}

#[test]
fn row_control_during_dlm_recovery() {
    let mut r = mounted::<192>(SizePolicy::Fit);
    r.recover_prep();
    assert_eq!(r.control_begin(), ControlBegin::DlmRecovering);
}

#[test]
fn row_control_stale_ticket() -> R {
    let mut r = mounted::<192>(SizePolicy::Fit);
    let ControlBegin::Lock(mut t, _) = r.control_begin() else {
        return Err("no step".into());
    };
    r.recover_prep();
    let before = r.submit().to_vec();
    let upd = r.control_locked(&mut t, &lvb(10, &[1]));
    assert!(matches!(upd, ControlUpdate::Stale(c) if c.lvb.is_none()));
    assert_eq!(r.submit(), before.as_slice());
    Ok(())
}

// ---------------------------------------------------------------- states, modes, flags

#[test]
fn row_unknown_lock_state() {
    assert_eq!(make_mode(4), Err(ModeError::UnknownState(4)));
    assert_eq!(
        LmState::try_from(u32::MAX),
        Err(ModeError::UnknownState(u32::MAX))
    );
    assert_eq!(
        lock_request(
            &FlagPolicy::REFERENCE,
            &LockName::new(2, 1),
            NameStyle::Reference,
            4,
            LmFlags::empty(),
            &LockContext::default()
        ),
        Err(FlagsError::Mode(ModeError::UnknownState(4)))
    );
}

#[test]
fn row_unknown_dlm_mode() {
    assert_eq!(DlmMode::try_from(6), Err(ModeError::UnknownMode(6)));
    assert_eq!(DlmMode::try_from(-2), Err(ModeError::UnknownMode(-2)));
}

#[test]
fn row_unknown_bast_mode() {
    for m in [-1, 0, 1, 4, 6, i32::MIN] {
        assert_eq!(
            bast_state(BastMode::Mode(m)),
            Err(ModeError::UnknownBastMode(m))
        );
    }
    assert_eq!(bast_state(BastMode::Unknown), Ok(LmState::Unlocked));
}

#[test]
fn row_any_with_wrong_mode() {
    for m in [
        DlmMode::Ex,
        DlmMode::Nl,
        DlmMode::Pw,
        DlmMode::Cr,
        DlmMode::Iv,
    ] {
        assert_eq!(
            make_flags(
                &FlagPolicy::REFERENCE,
                LmFlags::ANY,
                m,
                &LockContext::default()
            ),
            Err(FlagsError::AnyWithMode(m))
        );
    }
}

#[test]
fn row_modern_conversion_without_mode() {
    let ctx = LockContext {
        converting: true,
        ..LockContext::default()
    };
    assert_eq!(
        make_flags(&FlagPolicy::MODERN, LmFlags::empty(), DlmMode::Ex, &ctx),
        Err(FlagsError::MissingCurrentMode)
    );
}

#[test]
fn row_unknown_gfs2_flags() {
    let f = LmFlags::from_bits_retain(0xFFFF_0000 | 0x0004);
    assert_eq!(
        make_flags(
            &FlagPolicy::REFERENCE,
            f,
            DlmMode::Ex,
            &LockContext::default()
        ),
        Ok(DlmLkf::empty())
    );
}

// ---------------------------------------------------------------- completions

#[test]
fn row_ast_unknown_status() {
    for style in [AstStyle::Reference, AstStyle::Modern] {
        for s in [-1, 1, -EINVAL, DLM_EUNLOCK, i32::MIN] {
            assert_eq!(
                gdlm_ast(style, &ast_in(s, 0, LmState::Shared)),
                Err(AstError::UnknownStatus(s))
            );
        }
    }
}

#[test]
fn row_ast_demoted() {
    for style in [AstStyle::Reference, AstStyle::Modern] {
        for s in [0, -EAGAIN, -DLM_EUNLOCK, -1] {
            assert_eq!(
                gdlm_ast(style, &ast_in(s, DLM_SBF_DEMOTED, LmState::Shared)),
                Err(AstError::Demoted)
            );
        }
    }
}

#[test]
fn row_ast_altmode_on_ex_or_un() {
    for req in [LmState::Exclusive, LmState::Unlocked] {
        assert_eq!(
            gdlm_ast(AstStyle::Reference, &ast_in(0, DLM_SBF_ALTMODE, req)),
            Err(AstError::AltMode(req))
        );
    }
}

#[test]
fn row_ast_altmode_on_failure() {
    assert_eq!(
        gdlm_ast(
            AstStyle::Modern,
            &ast_in(-EAGAIN, DLM_SBF_ALTMODE, LmState::Exclusive)
        ),
        Ok(AstOutcome::Complete {
            ret: LM_OUT_TRY_AGAIN,
            lvb_zeroed: false,
            lkid: 0,
            glf_initial: true
        })
    );
}

#[test]
fn row_ast_unknown_sb_flags() {
    assert_eq!(
        gdlm_ast(AstStyle::Reference, &ast_in(0, 0xF8, LmState::Shared)),
        gdlm_ast(AstStyle::Reference, &ast_in(0, 0, LmState::Shared))
    );
}

#[test]
fn row_ast_valnotvalid_without_lvb() {
    let mut a = ast_in(-DLM_ECANCEL, DLM_SBF_VALNOTVALID, LmState::Shared);
    a.has_lvb = false;
    assert_eq!(
        gdlm_ast(AstStyle::Reference, &a),
        Ok(AstOutcome::Complete {
            ret: 8,
            lvb_zeroed: false,
            lkid: 7,
            glf_initial: true
        })
    );
}

#[test]
fn row_ast_dead_glock() {
    let mut a = ast_in(-1, DLM_SBF_DEMOTED, LmState::Exclusive);
    a.dead = true;
    assert_eq!(gdlm_ast(AstStyle::Modern, &a), Ok(AstOutcome::Ignored));
    assert_eq!(gdlm_ast(AstStyle::Reference, &a), Err(AstError::Demoted));
}

#[test]
fn row_cancel_without_lock() {
    assert_eq!(cancel(0), Err(AstError::NoLock));
}

#[test]
fn row_put_lock_without_lock() {
    let p = PutLockInput {
        lkid: 0,
        has_lvb: true,
        gl_state: LmState::Exclusive,
        skip_dlm_unlock: false,
    };
    assert_eq!(put_lock(&p), PutLock::Free);
    assert!(!put_lock(&p).updates_request_times());
}

// ---------------------------------------------------------------- resource names

#[test]
fn row_name_bad_hex() {
    assert_eq!(
        LockName::decode(b"       2              1g"),
        Err(NameError::BadByte {
            pos: 23,
            byte: b'g'
        })
    );
    assert_eq!(
        LockName::decode(b"      x2               1"),
        Err(NameError::BadByte { pos: 6, byte: b'x' })
    );
}

#[test]
fn row_name_uppercase() {
    assert_eq!(
        LockName::decode(b"       2              1A"),
        Err(NameError::BadByte {
            pos: 23,
            byte: b'A'
        })
    );
}

#[test]
fn row_name_leading_zero() {
    assert_eq!(
        LockName::decode(b"      02               1"),
        Err(NameError::LeadingZero { pos: 6 })
    );
    assert_eq!(
        LockName::decode(b"00000002000000000000000a"),
        Err(NameError::LeadingZero { pos: 0 })
    );
}

#[test]
fn row_name_wrong_length() {
    for len in [0usize, 23, 26, 100] {
        let b = vec![b'1'; len];
        assert_eq!(LockName::decode(&b), Err(NameError::WrongLength { len }));
    }
    let mut b25 = b"       2               1".to_vec();
    b25.push(b'\n');
    assert_eq!(
        LockName::decode(&b25),
        Err(NameError::WrongLength { len: 25 })
    );
    b25[24] = 0;
    assert_eq!(LockName::decode(&b25), Ok(LockName::new(2, 1)));
}

#[test]
fn row_name_blank_field() {
    assert_eq!(
        LockName::decode(b"                       1"),
        Err(NameError::BlankField { pos: 0 })
    );
    assert_eq!(
        LockName::decode(b"       2                "),
        Err(NameError::BlankField { pos: 8 })
    );
    assert_eq!(
        LockName::decode_with(b"                       1", NameStyle::Blank),
        Ok(LockName::new(0, 1))
    );
    assert_eq!(
        LockName::decode_with(b"       0               1", NameStyle::Blank),
        Err(NameError::LeadingZero { pos: 7 })
    );
}

#[test]
fn row_name_embedded_space_or_nul() {
    assert_eq!(
        LockName::decode(b"       2            1 23"),
        Err(NameError::BadByte {
            pos: 21,
            byte: b' '
        })
    );
    assert_eq!(
        LockName::decode(b"       2            1\x0023"),
        Err(NameError::BadByte { pos: 21, byte: 0 })
    );
}

// ---------------------------------------------------------------- statistics

#[test]
fn row_stats_reply_before_request() {
    // now < gl_dstamp: a negative round trip, folded in as the kernel's s64 does.
    let mut g = GlockStats::new();
    g.dstamp = 1000;
    assert_eq!(g.on_reply(200, false, None), -800);
    assert_eq!(g.stats.mean(StatPair::Srtt), -100);
    assert_eq!(g.stats.var(StatPair::Srtt), 200);
    assert_eq!(g.dstamp, 1000);
}

#[test]
fn row_stats_request_clock_backwards() {
    let mut g = GlockStats::new();
    g.dstamp = 5000;
    let mut t = LkStats::new();
    assert_eq!(g.request_times(1000, Some(&mut t)), -4000);
    assert_eq!(g.dstamp, 1000);
    assert_eq!(g.stats.mean(StatPair::Sirt), -500);
    assert_eq!(t.mean(StatPair::Sirt), -500);
    assert_eq!(t.var(StatPair::Sirt), 1000);
}

#[test]
fn row_stats_extremes_wrap() {
    let mut g = GlockStats::new();
    g.dstamp = i64::MAX;
    assert_eq!(g.on_reply(i64::MIN, true, None), 1);
    g.dstamp = i64::MIN;
    assert_eq!(g.request_times(i64::MAX, None), -1);
    let mut s = LkStats {
        stats: [i64::MIN; 8],
    };
    s.update(StatPair::Srtt, i64::MAX);
    s.inc_dcount();
    s.inc_qcount();
    // delta = MAX − MIN wraps to −1; −1 >> 3 = −1; MIN − 1 wraps to MAX.
    assert_eq!(s.stats[0], i64::MAX);
    assert_eq!(s.stats[6], i64::MIN + 1);
}

#[test]
fn row_stats_unknown_lock_type() {
    let mut t = TypeStats::<10>::new();
    assert_eq!(t.get(10), Err(UnknownLockType(10)));
    assert_eq!(
        t.get_mut(u32::MAX).map(|_| ()),
        Err(UnknownLockType(u32::MAX))
    );
    assert_eq!(StatPair::from_index(1), None);
}

// ---------------------------------------------------------------- mount machines

#[test]
fn row_mount_input_before_start() -> R {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    let mut m = ControlMount::new();
    let before = (m, rec.clone());
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None),
        Err(MountError::UnexpectedInput)
    );
    assert_eq!(m.on_sleep_done(), Err(MountError::UnexpectedInput));
    assert_eq!(m.on_unlock_result(0), Err(MountError::UnexpectedInput));
    assert_eq!((m, rec), before);
    Ok(())
}

#[test]
fn row_mount_input_out_of_order() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1], 1, 1).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    // Waiting for control NL: a sleep or unlock result is refused, nothing changes.
    let before = (m, rec.clone());
    assert_eq!(m.on_sleep_done(), Err(MountError::UnexpectedInput));
    assert_eq!(m.on_unlock_result(0), Err(MountError::UnexpectedInput));
    assert_eq!((m, rec.clone()), before);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?; // → Sleep
                                          // Sleeping: a lock result is refused.
    let before = (m, rec.clone());
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None),
        Err(MountError::UnexpectedInput)
    );
    assert_eq!((m, rec.clone()), before);
    Ok(())
}

#[test]
fn row_mount_control_ex_without_lvb() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1], 1, 1).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    let before = (m, rec.clone());
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None),
        Err(MountError::MissingLvb)
    );
    assert_eq!((m, rec.clone()), before);
    // The same grant with its LVB then proceeds.
    assert!(matches!(
        m.on_lock_result(&mut rec, 0, Some(&ControlLvb::zeroed()))?,
        MountStep::Lock(_)
    ));
    Ok(())
}

#[test]
fn row_mount_after_finished() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    let mut m = ControlMount::new();
    m.start(&mut rec);
    assert_eq!(
        m.on_lock_result(&mut rec, -EINVAL, None)?,
        MountStep::Failed {
            error: -EINVAL,
            reason: MountFailure::Lock {
                lock: LockId::Control,
                mode: DlmMode::Nl
            }
        }
    );
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None),
        Err(MountError::UnexpectedInput)
    );
    assert_eq!(m.on_unlock_result(0), Err(MountError::UnexpectedInput));
    Ok(())
}

#[test]
fn row_mount_lock_errors() -> Result<(), MountError> {
    // mounted NL (new) fails: only control_lock is unlocked, then the error.
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    assert_eq!(
        m.on_lock_result(&mut rec, 1, None)?,
        MountStep::Unlock(LockId::Control)
    );
    assert_eq!(
        m.on_unlock_result(-5)?,
        MountStep::Failed {
            error: 1,
            reason: MountFailure::Lock {
                lock: LockId::Mounted,
                mode: DlmMode::Nl
            }
        }
    );
    // control NL (new) fails: the error at once.
    let mut m = ControlMount::new();
    m.start(&mut rec);
    assert_eq!(
        m.on_lock_result(&mut rec, -EAGAIN, None)?,
        MountStep::Failed {
            error: -EAGAIN,
            reason: MountFailure::Lock {
                lock: LockId::Control,
                mode: DlmMode::Nl
            }
        }
    );
    // A later call (control EX) fails with anything but -EAGAIN: both unlocks.
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    assert_eq!(
        m.on_lock_result(&mut rec, -EINTR, None)?,
        MountStep::Unlock(LockId::Mounted)
    );
    assert_eq!(m.on_unlock_result(0)?, MountStep::Unlock(LockId::Control));
    assert_eq!(
        m.on_unlock_result(0)?,
        MountStep::Failed {
            error: -EINTR,
            reason: MountFailure::Lock {
                lock: LockId::Control,
                mode: DlmMode::Ex
            }
        }
    );
    Ok(())
}

#[test]
fn row_mount_interrupted() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1, 2], 2, 5).ok();
    let mut m = ControlMount::new();
    m.interrupt(); // ignored on the first pass
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?,
        MountStep::Sleep { ms: 500 }
    );
    m.on_sleep_done()?;
    assert_eq!(
        m.on_lock_result(&mut rec, -EAGAIN, None)?,
        MountStep::Unlock(LockId::Mounted)
    );
    m.on_unlock_result(0)?;
    assert_eq!(
        m.on_unlock_result(0)?,
        MountStep::Failed {
            error: -EINTR,
            reason: MountFailure::Interrupted
        }
    );
    Ok(())
}

#[test]
fn row_mount_start_twice() -> Result<(), MountError> {
    // start() on a machine that already started fails the mount with -EINVAL and
    // takes no lock (the caller must run control_mount once per mount).
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    let before = rec.clone();
    assert_eq!(
        m.start(&mut rec),
        MountStep::Failed {
            error: -22,
            reason: MountFailure::NotFresh
        }
    );
    assert_eq!(rec, before);
    Ok(())
}

#[test]
fn row_mount_start_on_used_state() -> Result<(), MountError> {
    // start() on a Recovery that already mounted (not the fresh state gdlm_mount
    // gives) fails with -EINVAL before taking a lock; the state stays consistent.
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1], 1, 1).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    m.on_lock_result(&mut rec, 0, Some(&lvb(1, &[])))?;
    assert_eq!(
        m.on_lock_result(&mut rec, 0, None)?,
        MountStep::Mounted { first: true }
    );
    let mut fd = FirstDone::new();
    fd.start(&mut rec)?;
    fd.on_lock_result(0)?;
    assert_eq!(fd.on_lock_result(0)?, FirstDoneStep::Done { result: 0 });
    let before = rec.clone();
    assert_eq!(
        ControlMount::new().start(&mut rec),
        MountStep::Failed {
            error: -22,
            reason: MountFailure::NotFresh
        }
    );
    assert_eq!(rec, before);
    assert_eq!(rec.check(), Ok(()));
    Ok(())
}

#[test]
fn row_first_done_not_first_mounter() -> Result<(), MountError> {
    let mut rec = mounted::<16>(SizePolicy::Fit);
    let before = rec.clone();
    let mut fd = FirstDone::new();
    assert_eq!(fd.start(&mut rec)?, FirstDoneStep::Unlock(LockId::Control));
    assert_eq!(fd.on_unlock_result(0)?, FirstDoneStep::Done { result: -1 });
    assert_eq!(rec, before);
    Ok(())
}

#[test]
fn row_first_done_during_dlm_recovery() -> Result<(), MountError> {
    let mut rec = Recovery::<16>::from_parts(
        SizePolicy::Fit,
        RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT,
        1,
        1,
        1,
        &[0; 16],
        &[0; 16],
        0,
        ControlLvb::zeroed(),
    )
    .map_err(|_| MountError::UnexpectedInput)?;
    let mut fd = FirstDone::new();
    assert_eq!(fd.start(&mut rec)?, FirstDoneStep::WaitDlmRecovery);
    rec.recover_done(&[1], 1, 2).ok();
    assert!(matches!(fd.start(&mut rec)?, FirstDoneStep::Lock(_)));
    Ok(())
}

#[test]
fn row_first_done_out_of_order() -> Result<(), MountError> {
    let mut fd = FirstDone::new();
    assert_eq!(fd.on_lock_result(0), Err(MountError::UnexpectedInput));
    assert_eq!(fd.on_unlock_result(0), Err(MountError::UnexpectedInput));
    let mut rec = Recovery::<16>::from_parts(
        SizePolicy::Fit,
        RecoverFlags::MOUNT_DONE | RecoverFlags::FIRST_MOUNT,
        1,
        1,
        0,
        &[0; 16],
        &[0; 16],
        0,
        ControlLvb::zeroed(),
    )
    .map_err(|_| MountError::UnexpectedInput)?;
    fd.start(&mut rec)?;
    let before = (fd, rec.clone());
    assert_eq!(fd.start(&mut rec), Err(MountError::UnexpectedInput));
    assert_eq!(fd.on_unlock_result(0), Err(MountError::UnexpectedInput));
    assert_eq!((fd, rec), before);
    // A mounted PR error is only logged; the step goes on.
    assert!(matches!(
        fd.on_lock_result(-EAGAIN)?,
        FirstDoneStep::Lock(_)
    ));
    assert_eq!(fd.mounted_pr_error(), -EAGAIN);
    assert_eq!(
        fd.on_lock_result(-EINVAL)?,
        FirstDoneStep::Done { result: -EINVAL }
    );
    Ok(())
}

// ---------------------------------------------------------------- lock table, host data

#[test]
fn row_table_no_colon() {
    assert_eq!(LockTable::parse("nofs"), Err(TableError::NoFsname));
    assert_eq!(LockTable::parse(""), Err(TableError::NoFsname));
}

#[test]
fn row_table_empty_fsname() {
    assert_eq!(LockTable::parse("c:"), Err(TableError::BadLength));
}

#[test]
fn row_table_empty_cluster() {
    let t = LockTable::parse(":fs").map(|t| (t.cluster.len(), t.fsname.as_str().to_owned()));
    assert_eq!(t, Ok((0, "fs".to_owned())));
}

#[test]
fn row_table_too_long() {
    let c64 = format!("{}:fs", "c".repeat(64));
    assert_eq!(LockTable::parse(&c64), Err(TableError::BadLength));
    let f65 = format!("c:{}", "f".repeat(65));
    assert_eq!(LockTable::parse(&f65), Err(TableError::BadLength));
    let ok = format!("{}:{}", "c".repeat(63), "f".repeat(64));
    assert!(LockTable::parse(&ok).is_ok());
}

#[test]
fn row_table_second_colon() {
    let t = LockTable::parse("a:b:c").map(|t| t.fsname.as_str().to_owned());
    assert_eq!(t, Ok("b:c".to_owned()));
}

#[test]
fn row_hostdata_unknown_option() {
    for h in ["spectator", "foo=1", "jid", "=1", "JID=1"] {
        assert_eq!(
            MountOptions::parse(h),
            Err(TableError::UnknownHostdata),
            "{h}"
        );
    }
}

#[test]
fn row_hostdata_bad_number() {
    for h in [
        "jid=-1",
        "jid=2147483648",
        "jid=5x",
        "jid=",
        "jid=+1",
        "jid=0x",
        "jid=08",
        "jid=-",
        "first=2",
        "nodir=-1",
        "id=x",
        "id=99999999999",
    ] {
        assert_eq!(
            MountOptions::parse(h),
            Err(TableError::UnknownHostdata),
            "{h}"
        );
    }
}

#[test]
fn row_hostdata_repeated_and_empty() {
    assert_eq!(
        MountOptions::parse("::jid=1:jid=2::id=-3:first=0X1:"),
        Ok(MountOptions {
            jid: Some(1),
            first: true,
            nodir: false
        })
    );
    assert_eq!(MountOptions::parse(""), Ok(MountOptions::default()));
}

#[test]
fn row_hostdata_jid_with_dlm_ops() {
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    let o = MountOptions {
        jid: Some(3),
        ..MountOptions::default()
    };
    assert_eq!(
        after_new_lockspace(&mut rec, 0, &o),
        Err(TableError::JidPreset)
    );
    assert_eq!(after_new_lockspace(&mut rec, -1, &o), Ok(OpsMode::NoOps));
    assert!(rec.flags().contains(RecoverFlags::NO_DLM_OPS));
}

// ---------------------------------------------------------------------------
// Group membership
// ---------------------------------------------------------------------------

use gdlm_core::membership::{
    LeftReason, Member, Membership, MembershipError, SyncMsg, AGE_UNKNOWN,
};

const MA: Member = Member::new(1, 10);
const MB: Member = Member::new(2, 20);
const MC: Member = Member::new(3, 30);

/// A synced founder `MA` with `MB` synced too (generation 2).
fn synced_pair() -> (Membership<8>, Membership<8>) {
    let mut a = Membership::<8>::new(MA);
    let mut b = Membership::<8>::new(MB);
    a.confchg(&[MA], &[], &[MA]).unwrap();
    let s = a.confchg(&[MA, MB], &[], &[MB]).unwrap().sync.unwrap();
    b.confchg(&[MA, MB], &[], &[MB]).unwrap();
    let mut buf = [0u8; SyncMsg::<8>::MAX_LEN];
    let n = s.encode(&mut buf).unwrap();
    a.deliver(MA, &buf[..n]).unwrap();
    b.deliver(MA, &buf[..n]).unwrap();
    (a, b)
}

fn sync_bytes(gen: u32, table: &[(Member, i32)]) -> Vec<u8> {
    sync_bytes_aged(gen, table, &vec![AGE_UNKNOWN; table.len()])
}

fn sync_bytes_aged(gen: u32, table: &[(Member, i32)], ages: &[u32]) -> Vec<u8> {
    let s = SyncMsg::<8> {
        generation: gen,
        table: table.iter().copied().collect(),
        ages: ages.iter().copied().collect(),
    };
    let mut buf = [0u8; SyncMsg::<8>::MAX_LEN];
    let n = s.encode(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn row_membership_too_many() {
    let (mut a, _) = synced_pair();
    let before = a.clone();
    let nine: Vec<Member> = (1..=9).map(|i| Member::new(i, i * 10)).collect();
    assert_eq!(
        a.confchg(&nine, &[], &nine[2..]),
        Err(MembershipError::TooManyMembers {
            count: 9,
            capacity: 8
        })
    );
    assert_eq!(a, before);
    let mut bytes = sync_bytes(1, &[(MA, 1)]);
    bytes[12..16].copy_from_slice(&9u32.to_le_bytes());
    bytes.resize(16 + 12 * 9, 0);
    assert_eq!(
        SyncMsg::<8>::decode(&bytes),
        Err(MembershipError::TooManyMembers {
            count: 9,
            capacity: 8
        })
    );
}

#[test]
fn row_membership_duplicate() {
    let (mut a, _) = synced_pair();
    let before = a.clone();
    assert_eq!(
        a.confchg(&[MA, MB, MB], &[], &[]),
        Err(MembershipError::Duplicate(MB))
    );
    assert_eq!(
        a.confchg(&[MA, MB], &[(MB, LeftReason::NodeDown)], &[]),
        Err(MembershipError::Duplicate(MB))
    );
    assert_eq!(a, before);
}

#[test]
fn row_membership_not_in_group() {
    let (mut a, _) = synced_pair();
    let before = a.clone();
    assert_eq!(
        a.confchg(&[MB, MC], &[], &[MC]),
        Err(MembershipError::NotInGroup)
    );
    assert_eq!(a, before);
    assert!(a
        .confchg(&[MB], &[(MA, LeftReason::Leave)], &[])
        .unwrap()
        .is_empty());
    let left = a.clone();
    assert_eq!(
        a.confchg(&[MA, MB], &[], &[MA]),
        Err(MembershipError::NotInGroup)
    );
    assert_eq!(a, left);
}

#[test]
fn row_membership_inconsistent() {
    let (mut a, _) = synced_pair();
    let before = a.clone();
    for (view, left, joined) in [
        (&[MA, MB][..], &[][..], &[MB][..]),
        (&[MA, MB][..], &[(MC, LeftReason::Leave)][..], &[][..]),
        (&[MA, MB, MC][..], &[][..], &[][..]),
        (&[MA][..], &[][..], &[][..]),
    ] {
        assert_eq!(
            a.confchg(view, left, joined),
            Err(MembershipError::Inconsistent),
            "{view:?} {left:?} {joined:?}"
        );
        assert_eq!(a, before);
    }
    let mut fresh = Membership::<8>::new(MC);
    let before = fresh.clone();
    assert_eq!(
        fresh.confchg(&[MA, MC], &[], &[MA]),
        Err(MembershipError::Inconsistent)
    );
    assert_eq!(fresh, before);
}

#[test]
fn row_membership_bad_message() {
    let (mut a, _) = synced_pair();
    let before = a.clone();
    let good = sync_bytes(2, &[(MA, 1), (MB, 2)]);
    let mut cases: Vec<Vec<u8>> = vec![good[..15].to_vec(), good[..good.len() - 1].to_vec()];
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut version = good.clone();
    version[4] = 2;
    let mut slot0 = good.clone();
    slot0[40..44].copy_from_slice(&0i32.to_le_bytes());
    let mut twice = good.clone();
    twice[40..44].copy_from_slice(&1i32.to_le_bytes());
    let unsorted = good
        .iter()
        .enumerate()
        .map(|(i, &b)| match i {
            16..=31 => good[i + 16],
            32..=47 => good[i - 16],
            _ => b,
        })
        .collect::<Vec<u8>>();
    cases.extend([magic, version, slot0, twice, unsorted]);
    for c in cases {
        assert_eq!(a.deliver(MB, &c), Err(MembershipError::BadMessage), "{c:?}");
        assert_eq!(a, before);
    }
    assert!(a.deliver(MB, &good).unwrap().is_empty());
}

#[test]
fn row_membership_diverged() {
    let (mut a, _) = synced_pair();
    // C joins: A waits for C to sync (C's age is 1 change).
    a.confchg(&[MA, MB, MC], &[], &[MC]).unwrap();
    let before = a.clone();
    let table = [(MA, 1), (MB, 2), (MC, 3)];
    let ages = [AGE_UNKNOWN, AGE_UNKNOWN, 1];
    assert_eq!(
        a.deliver(MB, &sync_bytes_aged(7, &table, &ages)),
        Err(MembershipError::Diverged { ours: 3, theirs: 7 })
    );
    let swapped = [(MA, 1), (MB, 3), (MC, 2)];
    assert_eq!(
        a.deliver(MB, &sync_bytes_aged(3, &swapped, &ages)),
        Err(MembershipError::Diverged { ours: 3, theirs: 3 })
    );
    assert_eq!(a, before);
    // With another age for C it is a message for another view: ignored.
    let other = [AGE_UNKNOWN, AGE_UNKNOWN, 2];
    assert!(a
        .deliver(MB, &sync_bytes_aged(7, &table, &other))
        .unwrap()
        .is_empty());
    assert_eq!(a, before);
}

#[test]
fn row_membership_stale_sync() {
    let (mut a, _) = synced_pair();
    a.confchg(&[MA, MB, MC], &[], &[MC]).unwrap();
    let mut c = Membership::<8>::new(MC);
    c.confchg(&[MA, MB, MC], &[], &[MC]).unwrap();
    let stale = sync_bytes(2, &[(MA, 1), (MB, 2)]);
    assert!(c.deliver(MA, &stale).unwrap().is_empty());
    assert!(!c.is_synced());
    assert!(a.deliver(MA, &stale).unwrap().is_empty());
    assert_eq!(a.generation(), Some(3));
}

#[test]
fn row_membership_unknown_reason() {
    let (mut a, _) = synced_pair();
    let c = a
        .confchg(&[MA], &[(MB, LeftReason::from_cpg(7))], &[])
        .unwrap();
    assert_eq!(LeftReason::from_cpg(7), LeftReason::Other(7));
    assert_eq!(&c.failed[..], &[2]);
    assert!(c.prep);
}

// ---- Linux 7.2 profile ------------------------------------------------------------

#[test]
fn row_p72_put_lock_not_dead() {
    let p = PutLockInput {
        lkid: 5,
        has_lvb: true,
        gl_state: LmState::Exclusive,
        skip_dlm_unlock: false,
    };
    for glf_initial in [false, true] {
        assert_eq!(
            Profile::Linux72.put_lock(&p, glf_initial, false),
            Err(AstError::NotDead)
        );
    }
    // The reference has no such check (no dead input).
    assert!(Profile::Reference.put_lock(&p, false, false).is_ok());
}

#[test]
fn row_p72_recovery_withdrawn() {
    let mut r = Profile::Linux72.recovery::<16>();
    r.recover_done(&[1, 2], 1, 3).ok();
    r.withdraw();
    let before = r.clone();
    r.recover_prep();
    // The guard comes first: even a slot the core would refuse is "withdrawn".
    for slot in [0, 2, 17, i32::MIN] {
        assert_eq!(r.recover_slot(slot), Err(RecoveryError::Withdrawn));
    }
    assert_eq!(
        r.recover_done(&[1, 40], 1, 4),
        Err(RecoveryError::Withdrawn)
    );
    assert_eq!(r.recover_done(&[1], -1, 4), Err(RecoveryError::Withdrawn));
    for jid in [0, 1, u32::MAX] {
        assert_eq!(
            r.recovery_result(jid, LM_RD_SUCCESS),
            Ok(ResultOutcome::Ignored(ResultIgnored::Withdrawn))
        );
    }
    assert_eq!(r, before);
}

#[test]
fn row_p72_any_not_refused() -> Result<(), FlagsError> {
    let ctx = LockContext {
        has_lvb: false,
        converting: false,
        glf_blocking: false,
        cur: None,
    };
    for m in [
        DlmMode::Ex,
        DlmMode::Nl,
        DlmMode::Pw,
        DlmMode::Cr,
        DlmMode::Iv,
        DlmMode::Pr,
    ] {
        let f = make_flags(&FlagPolicy::LINUX_7_2, LmFlags::ANY, m, &ctx)?;
        assert_eq!(f, DlmLkf::empty(), "{m:?}");
        let f = make_flags(&FlagPolicy::MODERN, LmFlags::ANY, m, &ctx)?;
        assert_eq!(f, DlmLkf::empty(), "{m:?}");
    }
    Ok(())
}

#[test]
fn row_p72_altmode_grant_ignored() {
    for req in LmState::ALL {
        let a = AstInput {
            gl_state: LmState::Unlocked,
            gl_req: req,
            sb_status: 0,
            sb_flags: DLM_SBF_ALTMODE,
            has_lvb: false,
            glf_initial: true,
            lkid: 4,
            dead: false,
        };
        assert_eq!(
            gdlm_ast(AstStyle::Modern, &a),
            Ok(AstOutcome::Complete {
                ret: req.raw(),
                lvb_zeroed: false,
                lkid: 4,
                glf_initial: false
            })
        );
    }
}

#[test]
fn row_p72_gdlm_lock_unknown_state() {
    let gl = LockGlock {
        gl_state: LmState::Shared,
        has_lvb: true,
        lkid: 1,
        glf_initial: false,
        glf_blocking: false,
    };
    for s in [4, 7, u32::MAX] {
        assert_eq!(
            Profile::Linux72.gdlm_lock(&LockName::new(2, 1), s, LmFlags::empty(), &gl),
            Err(FlagsError::Mode(ModeError::UnknownState(s)))
        );
    }
}

#[test]
fn row_p72_cancel_lkid_zero() {
    assert_eq!(
        Profile::Linux72.cancel(0, false),
        Ok(Some(CancelRequest {
            lkid: 0,
            flags: DlmLkf::CANCEL
        }))
    );
    assert_eq!(Profile::Linux72.cancel(0, true), Ok(None));
    assert_eq!(Profile::Reference.cancel(0, false), Err(AstError::NoLock));
}

#[test]
fn row_p72_bast_dead() {
    for m in [-1, 0, 1, 4, 6, i32::MIN] {
        assert_eq!(Profile::Linux72.bast(BastMode::Mode(m), true), Ok(None));
        assert_eq!(
            Profile::Linux72.bast(BastMode::Mode(m), false),
            Err(ModeError::UnknownBastMode(m))
        );
    }
}

#[test]
fn row_p72_empty_fsname() {
    assert_eq!(
        Profile::Linux72.lock_table("c:").map(|t| t.fsname.len()),
        Ok(0)
    );
    assert_eq!(
        Profile::Reference.lock_table("c:"),
        Err(TableError::BadLength)
    );
    assert_eq!(Profile::Linux72.lock_table(""), Err(TableError::NoFsname));
    let long = "x".repeat(64) + ":f";
    assert_eq!(
        Profile::Linux72.lock_table(&long),
        Err(TableError::BadLength)
    );
}

#[test]
fn row_p72_dlm_busy_and_released() {
    let p = Profile::Linux72;
    assert_eq!(p.dlm_attempt(true), DlmAttempt::Released(-ENODEV));
    assert_eq!(p.after_dlm_call(-EBUSY), DlmRetry::Sleep { ms: 20 });
    for r in [0, -ENODEV, -EINVAL, 1, i32::MIN] {
        assert_eq!(p.after_dlm_call(r), DlmRetry::Done(r));
    }
    assert_eq!(p.put_lock_unlock_result(-ENODEV), UnlockDone::Free);
    assert_eq!(
        Profile::Reference.put_lock_unlock_result(-ENODEV),
        UnlockDone::Logged(-ENODEV)
    );
}

#[test]
fn row_mount_lock_error_on_disabled_lvb() -> Result<(), MountError> {
    // mounted EX fails with -EINVAL while the LVB is disabled: the kernel fails at the
    // lock (L829-832) before it reads the LVB, so the reason is the lock.
    let mut rec = Recovery::<16>::new(SizePolicy::Fit);
    rec.recover_done(&[1], 1, 1).ok();
    let mut m = ControlMount::new();
    m.start(&mut rec);
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_lock_result(&mut rec, 0, None)?;
    m.on_sleep_done()?;
    m.on_lock_result(&mut rec, 0, Some(&lvb(0xFFFF_FFFF, &[])))?;
    m.on_lock_result(&mut rec, -EINVAL, None)?;
    m.on_unlock_result(0)?;
    assert_eq!(
        m.on_unlock_result(0)?,
        MountStep::Failed {
            error: -EINVAL,
            reason: MountFailure::Lock {
                lock: LockId::Mounted,
                mode: DlmMode::Ex
            }
        }
    );
    assert_eq!(m.lvb_gen(), None);
    Ok(())
}
