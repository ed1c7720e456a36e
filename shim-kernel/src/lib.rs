//! gdlm-kernel: `gdlm-core` behind a narrow C ABI for a Linux kernel module.
//!
//! The module's C glue (`include/gdlm_kernel.h`, generated from this file by cbindgen;
//! `tests/header.rs` fails when the committed copy differs) owns everything the kernel provides:
//! the DLM calls, waiting, work queues, printk and the spinlock. This crate owns the
//! decisions, by forwarding to the core's sans-IO machines. The ABI uses only integers,
//! fixed arrays and `#[repr(C)]` structs; the state is opaque to C (it allocates
//! [`gdlm_k_size`] bytes aligned to [`gdlm_k_align`]).
//!
//! `unsafe` lives only here: every exported function dereferences pointers the glue
//! passes, and says why that is sound.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

use core::mem::{align_of, size_of};

use gdlm_core::ast::{gdlm_ast, AstError, AstInput, AstOutcome, AstStyle};
use gdlm_core::consts::{GDLM_LVB_SIZE, JID_BITMAP_OFFSET};
use gdlm_core::flags::{lock_request, FlagPolicy, FlagsError, LmFlags, LockContext};
use gdlm_core::mode::{bast_state, BastMode, ModeError};
use gdlm_core::mount::{ControlMount, FirstDone, FirstDoneStep, MountError, MountStep};
use gdlm_core::name::{LockName, NameStyle};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlTicket, ControlUpdate, ControlWork, LockId, RecoveryError,
    ResultOutcome, SizePolicy, SyncLock,
};
use gdlm_core::{ControlLvb, LmState, Recovery};

/// Bytes in a lock value block (`GDLM_LVB_SIZE`).
pub const GDLM_K_LVB_SIZE: usize = 32;
/// Bytes of the LVB's jid bitmap (the LVB from `JID_BITMAP_OFFSET` on).
pub const GDLM_K_JID_BITMAP_SIZE: usize = 24;
/// Bytes of a DLM resource name (`GDLM_STRNAME_BYTES - 1`, no NUL).
pub const GDLM_K_NAME_LEN: usize = 24;
const _: () = assert!(GDLM_K_LVB_SIZE == GDLM_LVB_SIZE);
const _: () = assert!(GDLM_K_JID_BITMAP_SIZE == GDLM_LVB_SIZE - JID_BITMAP_OFFSET);
const _: () = assert!(GDLM_K_NAME_LEN == gdlm_core::consts::GDLM_STRNAME_BYTES - 1);

/// `gdlm_k_call.lock`: `control_lock`.
pub const GDLM_K_LOCK_CONTROL: u32 = 0;
/// `gdlm_k_call.lock`: `mounted_lock`.
pub const GDLM_K_LOCK_MOUNTED: u32 = 1;
/// `gdlm_k_call.op`: `dlm_lock` (a new lock or a conversion, per `flags`).
pub const GDLM_K_OP_LOCK: u32 = 0;
/// `gdlm_k_call.op`: `dlm_unlock`.
pub const GDLM_K_OP_UNLOCK: u32 = 1;

// Return codes. Each function returns one group's codes or a negative GDLM_K_E* error;
// within a group every value means one thing, whatever the function.

/// Work to queue (recover_done, recovery_result): none.
pub const GDLM_K_WORK_NONE: i32 = 0;
/// Work to queue: the control work, now.
pub const GDLM_K_WORK_NOW: i32 = 1;
/// Work to queue: the control work, after `HZ` (a journal recovery gave up).
pub const GDLM_K_WORK_AFTER_HZ: i32 = 2;

/// Control step (gfs2_control_func): nothing to do.
pub const GDLM_K_CONTROL_NONE: i32 = 0;
/// Control step: make `*call`, then the next part (locked after begin, converted after
/// locked).
pub const GDLM_K_CONTROL_CALL: i32 = 1;
/// Control step: make `*call` (control_lock back to NL) and stop: a recovery began meanwhile.
pub const GDLM_K_CONTROL_STALE: i32 = 2;
/// Control step done: recover the jids of the bitmap.
pub const GDLM_K_CONTROL_RECOVER: i32 = 3;
/// Control step done: locks are unblocked at `*generation`.
pub const GDLM_K_CONTROL_UNBLOCKED: i32 = 4;
/// Control step done: locks stay blocked.
pub const GDLM_K_CONTROL_BLOCKED: i32 = 5;

/// Mount step (control_mount, control_first_done): make `*call`, pass its status to the
/// `_result` function.
pub const GDLM_K_CALL: i32 = 1;
/// Mount step: `msleep_interruptible(500)`, then `gdlm_k_mount_sleep_done`.
pub const GDLM_K_SLEEP: i32 = 2;
/// Mount step: mounted; `*first` says first mounter.
pub const GDLM_K_MOUNTED: i32 = 3;
/// Mount step: the mount failed with `*error`.
pub const GDLM_K_FAILED: i32 = 4;
/// Mount step: first_done waits for `DFL_DLM_RECOVERY` to clear, then restarts.
pub const GDLM_K_WAIT: i32 = 5;
/// Mount step: first_done finished with `*error`.
pub const GDLM_K_DONE: i32 = 6;

/// `gdlm_ast`: the request completed (outputs set).
pub const GDLM_K_AST_COMPLETE: i32 = 1;
/// `gdlm_ast`: the lock is gone (unlock completed); free the glock.
pub const GDLM_K_AST_FREE: i32 = 2;

/// Error: a pointer the call needs (state, LVB, output) is null.
pub const GDLM_K_ENULL: i32 = -1;
/// Error: out of order: no control step in progress, or the mount / first_done machine is
/// not waiting for this result (`MountError::UnexpectedInput`).
pub const GDLM_K_EORDER: i32 = -2;
/// Error: a control_lock grant passed without its LVB (`MountError::MissingLvb`).
pub const GDLM_K_ENOLVB: i32 = -3;
/// Error: a DLM slot ≤ 0 (`RecoveryError::InvalidSlot`).
pub const GDLM_K_ESLOT: i32 = -4;
/// Error: a slot whose jid is beyond the state's 192 jids (`SlotBeyondCapacity`).
pub const GDLM_K_ESLOT_CAPACITY: i32 = -5;
/// Error: a jid beyond the state's 192 jids (`JidBeyondCapacity`).
pub const GDLM_K_EJID_CAPACITY: i32 = -6;
/// Error: a jid beyond `ls_recover_size` (`ShortSize`: the kernel logs and drops it).
pub const GDLM_K_ESHORT_SIZE: i32 = -7;
/// Error: the jid arrays would grow beyond 192 (`SizeBeyondCapacity`).
pub const GDLM_K_ESIZE_CAPACITY: i32 = -8;
/// Error: not an `LM_ST_*` state (`make_mode`: "unknown LM state", a kernel BUG).
pub const GDLM_K_ESTATE: i32 = -9;
/// Error: not a `DLM_LOCK_*` mode.
pub const GDLM_K_EMODE: i32 = -10;
/// Error: a BAST mode other than EX, CW or PR (`gdlm_bast`: "unknown bast mode", a BUG).
pub const GDLM_K_EBAST_MODE: i32 = -11;
/// Error: `LM_FLAG_ANY` with a mode other than PR or CW (`make_flags`, a BUG).
pub const GDLM_K_EANY_MODE: i32 = -12;
/// Error: a conversion whose held mode is needed and not known (`MissingCurrentMode`).
pub const GDLM_K_ECUR_MODE: i32 = -13;
/// Error: `DLM_SBF_DEMOTED` in a completion (`gdlm_ast`, a BUG).
pub const GDLM_K_EDEMOTED: i32 = -14;
/// Error: a completion status `gdlm_ast` does not expect (a BUG).
pub const GDLM_K_ESTATUS: i32 = -15;
/// Error: `DLM_SBF_ALTMODE` on a grant other than SHARED or DEFERRED (a BUG).
pub const GDLM_K_EALTMODE: i32 = -16;
/// Error: a cancel or unlock of a glock without a DLM lock (lkid 0).
pub const GDLM_K_ENOLOCK: i32 = -17;
/// Error: `gdlm_ast` ignored the completion (the lockspace is being released).
pub const GDLM_K_EIGNORED: i32 = -18;
/// Error: a sync lock other than `GDLM_K_LOCK_CONTROL` or `GDLM_K_LOCK_MOUNTED`.
pub const GDLM_K_ELOCK: i32 = -19;
/// Error: a recovery callback ignored because the file system withdrew (7.2's guard).
pub const GDLM_K_EWITHDRAWN: i32 = -20;
/// Error: a glock that is not dead passed where 7.2's put_lock expects a dead one.
pub const GDLM_K_ENOT_DEAD: i32 = -21;

fn recovery_error(e: RecoveryError) -> i32 {
    match e {
        RecoveryError::InvalidSlot(_) => GDLM_K_ESLOT,
        RecoveryError::SlotBeyondCapacity { .. } => GDLM_K_ESLOT_CAPACITY,
        RecoveryError::JidBeyondCapacity { .. } => GDLM_K_EJID_CAPACITY,
        RecoveryError::ShortSize { .. } => GDLM_K_ESHORT_SIZE,
        RecoveryError::SizeBeyondCapacity { .. } => GDLM_K_ESIZE_CAPACITY,
        RecoveryError::Withdrawn => GDLM_K_EWITHDRAWN,
    }
}

fn mount_error(e: MountError) -> i32 {
    match e {
        MountError::UnexpectedInput => GDLM_K_EORDER,
        MountError::MissingLvb => GDLM_K_ENOLVB,
    }
}

fn mode_error(e: ModeError) -> i32 {
    match e {
        ModeError::UnknownState(_) => GDLM_K_ESTATE,
        ModeError::UnknownMode(_) => GDLM_K_EMODE,
        ModeError::UnknownBastMode(_) => GDLM_K_EBAST_MODE,
    }
}

fn flags_error(e: FlagsError) -> i32 {
    match e {
        FlagsError::AnyWithMode(_) => GDLM_K_EANY_MODE,
        FlagsError::Mode(m) => mode_error(m),
        FlagsError::MissingCurrentMode => GDLM_K_ECUR_MODE,
    }
}

fn ast_error(e: AstError) -> i32 {
    match e {
        AstError::Demoted => GDLM_K_EDEMOTED,
        AstError::UnknownStatus(_) => GDLM_K_ESTATUS,
        AstError::AltMode(_) => GDLM_K_EALTMODE,
        AstError::NoLock => GDLM_K_ENOLOCK,
        AstError::NotDead => GDLM_K_ENOT_DEAD,
    }
}

/// One mount's state (opaque to C).
pub struct State {
    rec: Recovery<192>,
    mount: ControlMount,
    first_done: FirstDone,
    ticket: Option<ControlTicket>,
}

/// A sync lock call for the glue (`struct gdlm_k_call`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// `GDLM_K_LOCK_CONTROL` or `GDLM_K_LOCK_MOUNTED`.
    pub lock: u32,
    /// `GDLM_K_OP_LOCK` or `GDLM_K_OP_UNLOCK`.
    pub op: u32,
    /// `DLM_LOCK_*`.
    pub mode: i32,
    /// `DLM_LKF_*`.
    pub flags: u32,
    /// 1: copy `lvb` into the lksb's LVB before the call.
    pub write_lvb: u32,
    /// The LVB to write.
    pub lvb: [u8; GDLM_K_LVB_SIZE],
}

impl Call {
    const fn empty() -> Call {
        Call {
            lock: 0,
            op: 0,
            mode: 0,
            flags: 0,
            write_lvb: 0,
            lvb: [0; GDLM_K_LVB_SIZE],
        }
    }

    fn lock(c: &SyncLock) -> Call {
        Call {
            lock: lock_index(c.lock),
            op: GDLM_K_OP_LOCK,
            mode: c.mode.raw(),
            flags: c.flags.bits(),
            write_lvb: u32::from(c.lvb.is_some()),
            lvb: c.lvb.map(|l| *l.as_bytes()).unwrap_or([0; GDLM_K_LVB_SIZE]),
        }
    }

    fn unlock(l: LockId) -> Call {
        Call {
            lock: lock_index(l),
            op: GDLM_K_OP_UNLOCK,
            ..Call::empty()
        }
    }
}

fn lock_index(l: LockId) -> u32 {
    match l {
        LockId::Control => GDLM_K_LOCK_CONTROL,
        LockId::Mounted => GDLM_K_LOCK_MOUNTED,
    }
}

fn work_code(w: Option<ControlWork>) -> i32 {
    match w {
        None => GDLM_K_WORK_NONE,
        Some(ControlWork::Now) => GDLM_K_WORK_NOW,
        Some(ControlWork::AfterHz) => GDLM_K_WORK_AFTER_HZ,
    }
}

/// Bytes to allocate for one mount's state.
#[no_mangle]
pub extern "C" fn gdlm_k_size() -> usize {
    size_of::<State>()
}

/// Alignment of the state.
#[no_mangle]
pub extern "C" fn gdlm_k_align() -> usize {
    align_of::<State>()
}

/// Initialise the state (`gdlm_mount`'s initialisation).
///
/// # Safety
/// `st` is null or points to `gdlm_k_size()` writable bytes aligned to `gdlm_k_align()`.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_init(st: *mut State) {
    if st.is_null() {
        return;
    }
    let s = State {
        rec: Recovery::new(SizePolicy::Fit),
        mount: ControlMount::new(),
        first_done: FirstDone::new(),
        ticket: None,
    };
    // SAFETY: the caller guarantees st is valid for writes of a State and aligned;
    // write does not read or drop the uninitialised old contents.
    unsafe { st.write(s) };
}

/// # Safety
/// `st` is null or was initialised by [`gdlm_k_init`] and is not used concurrently.
unsafe fn state<'a>(st: *mut State) -> Option<&'a mut State> {
    // SAFETY: per the caller's contract, a non-null st points to an initialised State
    // with no other live reference (the glue serialises calls under its spinlock).
    unsafe { st.as_mut() }
}

/// Copy 32 bytes from a C LVB pointer.
///
/// # Safety
/// `p` is null or points to 32 readable bytes.
unsafe fn read_lvb(p: *const u8) -> Option<ControlLvb> {
    if p.is_null() {
        return None;
    }
    let mut b = [0u8; GDLM_LVB_SIZE];
    // SAFETY: p is non-null and, per the contract, valid for 32 bytes of reads; b is a
    // distinct local array, so the regions do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), GDLM_LVB_SIZE) };
    Some(ControlLvb::from_array(b))
}

/// Store `v` through `p` if `p` is not null.
///
/// # Safety
/// `p` is null or valid for a write of `T`.
unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-null and valid for writes per the caller's contract.
        unsafe { p.write(v) };
    }
}

/// `gdlm_recover_prep`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recover_prep(st: *mut State) {
    // SAFETY: forwarded contract.
    if let Some(s) = unsafe { state(st) } {
        s.rec.recover_prep();
    }
}

/// `gdlm_recover_slot`: 0 recorded, or a `GDLM_K_E*` error (state unchanged).
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recover_slot(st: *mut State, slot: i32) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    match s.rec.recover_slot(slot) {
        Ok(_) => 0,
        Err(e) => recovery_error(e),
    }
}

/// `gdlm_recover_done`: `GDLM_K_WORK_NONE` or `GDLM_K_WORK_NOW`, or a `GDLM_K_E*` error
/// (state unchanged).
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `slots` points to `nslots` readable ints (it may be null
/// when `nslots` is 0).
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recover_done(
    st: *mut State,
    slots: *const i32,
    nslots: u32,
    our_slot: i32,
    generation: u32,
) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    let list: &[i32] = if nslots == 0 {
        &[]
    } else if slots.is_null() {
        return GDLM_K_ENULL;
    } else {
        // SAFETY: non-null and valid for nslots reads per the contract; the slice
        // lives only during this call, while the DLM keeps the array alive.
        unsafe { core::slice::from_raw_parts(slots, nslots as usize) }
    };
    match s.rec.recover_done(list, our_slot, generation) {
        Ok(w) => work_code(w),
        Err(e) => recovery_error(e),
    }
}

/// `gdlm_recovery_result`: `GDLM_K_WORK_*` (`NONE` also when the result is ignored), or a
/// `GDLM_K_E*` error (state unchanged).
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recovery_result(st: *mut State, jid: u32, result: u32) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    match s.rec.recovery_result(jid, result) {
        Ok(ResultOutcome::Recorded(w)) => work_code(w),
        Ok(ResultOutcome::Ignored(_)) => GDLM_K_WORK_NONE,
        Err(e) => recovery_error(e),
    }
}

/// 1 when `DFL_BLOCK_LOCKS` is set.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_locks_blocked(st: *mut State) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { state(st) }.map_or(1, |s| i32::from(s.rec.locks_blocked()))
}

/// `ls_jid` (−1 before the first recover_done).
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_jid(st: *mut State) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { state(st) }.map_or(-1, |s| s.rec.jid())
}

/// `gdlm_unmount`'s critical section.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_unmount(st: *mut State) {
    // SAFETY: forwarded contract.
    if let Some(s) = unsafe { state(st) } {
        s.rec.unmount();
    }
}

/// Control step, part 1: `GDLM_K_CONTROL_NONE` (nothing to do) or `GDLM_K_CONTROL_CALL`
/// (make `*call`, control_lock EX, then `gdlm_k_control_locked`).
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_control_begin(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    match s.rec.control_begin() {
        ControlBegin::NotReady | ControlBegin::DlmRecovering => GDLM_K_CONTROL_NONE,
        ControlBegin::Lock(t, c) => {
            s.ticket = Some(t);
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            GDLM_K_CONTROL_CALL
        }
    }
}

/// Control step, part 2, with the LVB control_lock EX returned: `GDLM_K_CONTROL_CALL`
/// (make `*call`, then `gdlm_k_control_converted`) or `GDLM_K_CONTROL_STALE` (make
/// `*call` and stop: a recovery began meanwhile); `GDLM_K_EORDER` without a
/// `gdlm_k_control_begin` that asked for the call.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `lvb` points to 32 readable bytes; `call` is null or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_control_locked(
    st: *mut State,
    lvb: *const u8,
    call: *mut Call,
) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    // SAFETY: forwarded contract.
    let Some(lvb) = (unsafe { read_lvb(lvb) }) else {
        return GDLM_K_ENULL;
    };
    let Some(t) = s.ticket.as_mut() else {
        return GDLM_K_EORDER;
    };
    match s.rec.control_locked(t, &lvb) {
        ControlUpdate::Stale(c) => {
            s.ticket = None;
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            GDLM_K_CONTROL_STALE
        }
        ControlUpdate::Convert { call: c, .. } => {
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            GDLM_K_CONTROL_CALL
        }
    }
}

/// Control step, part 3, after control_lock is back in NL: `GDLM_K_CONTROL_RECOVER`
/// (recover the jids in `jids`, a 24-byte LE bitmap), `GDLM_K_CONTROL_UNBLOCKED` (at
/// `*generation`) or `GDLM_K_CONTROL_BLOCKED`; `GDLM_K_EORDER` without a step in progress.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `jids` is null or valid for 24 bytes of writes;
/// `generation` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_control_converted(
    st: *mut State,
    jids: *mut u8,
    generation: *mut u32,
) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    let Some(t) = s.ticket.take() else {
        return GDLM_K_EORDER;
    };
    match s.rec.control_converted(&t) {
        ControlFinish::Recover(set) => {
            if !jids.is_null() {
                // SAFETY: non-null and valid for 24 bytes of writes per the contract.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        set.as_bytes().as_ptr(),
                        jids,
                        GDLM_K_JID_BITMAP_SIZE,
                    )
                };
            }
            GDLM_K_CONTROL_RECOVER
        }
        ControlFinish::Unblocked { generation: g } => {
            // SAFETY: forwarded contract.
            unsafe { put(generation, g) };
            GDLM_K_CONTROL_UNBLOCKED
        }
        ControlFinish::StillBlocked => GDLM_K_CONTROL_BLOCKED,
    }
}

/// Translate a mount step for C.
///
/// # Safety
/// `call`, `first` and `error` are null or valid for writes.
unsafe fn mount_out(m: MountStep, call: *mut Call, first: *mut i32, error: *mut i32) -> i32 {
    // SAFETY (all puts below): forwarded contract.
    unsafe {
        match m {
            MountStep::Lock(c) => {
                put(call, Call::lock(&c));
                GDLM_K_CALL
            }
            MountStep::Unlock(l) => {
                put(call, Call::unlock(l));
                GDLM_K_CALL
            }
            MountStep::Sleep { .. } => GDLM_K_SLEEP,
            MountStep::Mounted { first: f } => {
                put(first, i32::from(f));
                GDLM_K_MOUNTED
            }
            MountStep::Failed { error: e, .. } => {
                put(error, e);
                GDLM_K_FAILED
            }
        }
    }
}

/// Start control_mount (after the lockspace's first recover_done): a mount step.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_mount_start(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    let m = s.mount.start(&mut s.rec);
    // SAFETY: forwarded contract.
    unsafe { mount_out(m, call, core::ptr::null_mut(), core::ptr::null_mut()) }
}

/// The status of the call control_mount asked for (for an unlock too); `lvb` is the
/// control_lock LVB after the call (null if none). A mount step (`GDLM_K_CALL`,
/// `GDLM_K_SLEEP`, `GDLM_K_MOUNTED`, `GDLM_K_FAILED`) or `GDLM_K_EORDER` /
/// `GDLM_K_ENOLVB`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `lvb` null or 32 readable bytes; outputs null or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_mount_result(
    st: *mut State,
    status: i32,
    lvb: *const u8,
    call: *mut Call,
    first: *mut i32,
    error: *mut i32,
) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    // SAFETY: forwarded contract.
    let lvb = unsafe { read_lvb(lvb) };
    let r = match s.mount.on_lock_result(&mut s.rec, status, lvb.as_ref()) {
        Err(MountError::UnexpectedInput) => s.mount.on_unlock_result(status),
        other => other,
    };
    match r {
        // SAFETY: forwarded contract.
        Ok(m) => unsafe { mount_out(m, call, first, error) },
        Err(e) => mount_error(e),
    }
}

/// The 500 ms sleep ended: a mount step, or `GDLM_K_EORDER` when none was asked for.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_mount_sleep_done(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    match s.mount.on_sleep_done() {
        // SAFETY: forwarded contract.
        Ok(m) => unsafe { mount_out(m, call, core::ptr::null_mut(), core::ptr::null_mut()) },
        Err(e) => mount_error(e),
    }
}

/// Translate a first_done step for C.
///
/// # Safety
/// `call` and `error` are null or valid for writes.
unsafe fn first_out(f: FirstDoneStep, call: *mut Call, error: *mut i32) -> i32 {
    // SAFETY (all puts below): forwarded contract.
    unsafe {
        match f {
            FirstDoneStep::Lock(c) => {
                put(call, Call::lock(&c));
                GDLM_K_CALL
            }
            FirstDoneStep::Unlock(l) => {
                put(call, Call::unlock(l));
                GDLM_K_CALL
            }
            FirstDoneStep::WaitDlmRecovery => GDLM_K_WAIT,
            FirstDoneStep::Done { result } => {
                put(error, result);
                GDLM_K_DONE
            }
        }
    }
}

/// Start (or restart after `GDLM_K_WAIT`) control_first_done: `GDLM_K_CALL`,
/// `GDLM_K_WAIT` or `GDLM_K_DONE`, or `GDLM_K_EORDER`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_first_done_start(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    s.first_done = FirstDone::new();
    match s.first_done.start(&mut s.rec) {
        // SAFETY: forwarded contract.
        Ok(f) => unsafe { first_out(f, call, core::ptr::null_mut()) },
        Err(e) => mount_error(e),
    }
}

/// The status of the call control_first_done asked for: `GDLM_K_CALL` or `GDLM_K_DONE`,
/// or `GDLM_K_EORDER`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; outputs null or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_first_done_result(
    st: *mut State,
    status: i32,
    call: *mut Call,
    error: *mut i32,
) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    let r = match s.first_done.on_lock_result(status) {
        Err(_) => s.first_done.on_unlock_result(status),
        ok => ok,
    };
    match r {
        // SAFETY: forwarded contract.
        Ok(f) => unsafe { first_out(f, call, error) },
        Err(e) => mount_error(e),
    }
}

/// `gdlm_lock`'s decision for a glock: the 24-byte name (new locks only), mode and
/// flags, under the reference policy. 0, or a `GDLM_K_E*` error where the kernel would
/// BUG (`GDLM_K_ESTATE`, `GDLM_K_EANY_MODE`).
///
/// # Safety
/// Outputs are null or valid for writes (`name`: 24 bytes).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gdlm_k_lock_request(
    ln_type: u32,
    ln_number: u64,
    req_state: u32,
    gfs_flags: u32,
    has_lvb: i32,
    converting: i32,
    blocking: i32,
    name: *mut u8,
    mode: *mut i32,
    flags: *mut u32,
) -> i32 {
    let ctx = LockContext {
        has_lvb: has_lvb != 0,
        converting: converting != 0,
        glf_blocking: blocking != 0,
        cur: None,
    };
    let r = match lock_request(
        &FlagPolicy::REFERENCE,
        &LockName::new(ln_type, ln_number),
        NameStyle::Reference,
        req_state,
        LmFlags::from_bits_retain(gfs_flags),
        &ctx,
    ) {
        Ok(r) => r,
        Err(e) => return flags_error(e),
    };
    if let (Some(n), false) = (r.name, name.is_null()) {
        // SAFETY: non-null and valid for 24 bytes of writes per the contract.
        unsafe { core::ptr::copy_nonoverlapping(n.as_bytes().as_ptr(), name, n.as_bytes().len()) };
    }
    // SAFETY: forwarded contract.
    unsafe {
        put(mode, r.mode.raw());
        put(flags, r.flags.bits());
    }
    0
}

/// `gdlm_ast`'s decision: `GDLM_K_AST_COMPLETE` (outputs set) or `GDLM_K_AST_FREE` (free
/// the glock), or a `GDLM_K_E*` error where the kernel would BUG.
///
/// # Safety
/// Outputs are null or valid for writes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gdlm_k_ast(
    gl_state: u32,
    gl_req: u32,
    status: i32,
    sb_flags: u8,
    has_lvb: i32,
    glf_initial: i32,
    lkid: u32,
    ret: *mut u32,
    lkid_after: *mut u32,
    glf_initial_after: *mut i32,
    lvb_zeroed: *mut i32,
) -> i32 {
    let (gl_state, gl_req) = match (LmState::try_from(gl_state), LmState::try_from(gl_req)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => return mode_error(e),
    };
    let a = AstInput {
        gl_state,
        gl_req,
        sb_status: status,
        sb_flags,
        has_lvb: has_lvb != 0,
        glf_initial: glf_initial != 0,
        lkid,
        dead: false,
    };
    match gdlm_ast(AstStyle::Reference, &a) {
        Ok(AstOutcome::Complete {
            ret: r,
            lvb_zeroed: z,
            lkid: l,
            glf_initial: g,
        }) => {
            // SAFETY: forwarded contract.
            unsafe {
                put(ret, r);
                put(lkid_after, l);
                put(glf_initial_after, i32::from(g));
                put(lvb_zeroed, i32::from(z));
            }
            GDLM_K_AST_COMPLETE
        }
        Ok(AstOutcome::Free { lvb_zeroed: z }) => {
            // SAFETY: forwarded contract.
            unsafe { put(lvb_zeroed, i32::from(z)) };
            GDLM_K_AST_FREE
        }
        // Only AstStyle::Modern ignores completions (of a dead lockspace).
        Ok(AstOutcome::Ignored) => GDLM_K_EIGNORED,
        Err(e) => ast_error(e),
    }
}

/// A snapshot of one mount's recovery state for status output (`struct gdlm_k_info`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// `ls_jid` (−1 before the first recover_done).
    pub jid: i32,
    /// 1 when `DFL_BLOCK_LOCKS` is set.
    pub blocked: u32,
    /// `ls_recover_flags` as a mask of `1 << DFL_*`.
    pub flags: u32,
    /// `ls_recover_block`.
    pub block_gen: u32,
    /// `ls_recover_start`.
    pub start_gen: u32,
    /// `ls_recover_mount`.
    pub mount_gen: u32,
    /// `ls_recover_size`.
    pub recover_size: u32,
    /// The control_lock LVB generation control_mount read (`u32::MAX` if none yet).
    pub mount_lvb_gen: u32,
    /// The jid bits of the control_lock LVB as this node last read or wrote them
    /// (`ls_lvb_bits`, 24 bytes, LE bit order).
    pub lvb_jids: [u8; GDLM_K_JID_BITMAP_SIZE],
}

/// Fill `*out` with the state's generations, flags and jid (for status output).
/// 0, or `GDLM_K_ENULL`.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `out` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_info(st: *mut State, out: *mut Info) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return GDLM_K_ENULL;
    };
    let mut jids = [0u8; GDLM_K_JID_BITMAP_SIZE];
    jids.copy_from_slice(&s.rec.lvb_bits().as_bytes()[JID_BITMAP_OFFSET..]);
    let i = Info {
        jid: s.rec.jid(),
        blocked: u32::from(s.rec.locks_blocked()),
        flags: s.rec.flags().bits(),
        block_gen: s.rec.recover_block(),
        start_gen: s.rec.recover_start(),
        mount_gen: s.rec.recover_mount(),
        recover_size: s.rec.recover_size(),
        mount_lvb_gen: s.mount.lvb_gen().unwrap_or(u32::MAX),
        lvb_jids: jids,
    };
    if out.is_null() {
        return GDLM_K_ENULL;
    }
    // SAFETY: non-null and valid for a write per the contract.
    unsafe { out.write(i) };
    0
}

/// The generation the control step in progress works on (`start_gen` of
/// gfs2_control_func, for "recover generation N jid J"); `ls_recover_start` when no
/// step is in progress.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_control_generation(st: *mut State) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { state(st) }.map_or(0, |s| {
        s.ticket
            .as_ref()
            .map_or(s.rec.recover_start(), |t| t.start_gen)
    })
}

/// `sync_lock`'s resource name for `GDLM_K_LOCK_CONTROL` or `GDLM_K_LOCK_MOUNTED`:
/// 24 bytes written to `name`. 0, `GDLM_K_ELOCK` for another lock, `GDLM_K_ENULL`.
///
/// # Safety
/// `name` is null or valid for 24 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_sync_lock_name(lock: u32, name: *mut u8) -> i32 {
    let id = match lock {
        GDLM_K_LOCK_CONTROL => LockId::Control,
        GDLM_K_LOCK_MOUNTED => LockId::Mounted,
        _ => return GDLM_K_ELOCK,
    };
    if name.is_null() {
        return GDLM_K_ENULL;
    }
    let n = id.name();
    // SAFETY: non-null and valid for 24 bytes of writes per the contract; n is a local.
    unsafe { core::ptr::copy_nonoverlapping(n.as_bytes().as_ptr(), name, n.as_bytes().len()) };
    0
}

/// `gdlm_bast`: the glock state (`LM_ST_*`) a holder must drop to for a blocked
/// request of DLM mode `mode`; `GDLM_K_EBAST_MODE` where the kernel would BUG.
#[no_mangle]
pub extern "C" fn gdlm_k_bast_state(mode: i32) -> i32 {
    match bast_state(BastMode::Mode(mode)) {
        Ok(s) => s.raw() as i32,
        Err(e) => mode_error(e),
    }
}

#[cfg(feature = "kernel")]
mod kernel {
    extern "C" {
        /// Provided by the C glue: `panic()`s, never returns.
        fn gdlm_glue_panic(msg: *const u8, len: usize);
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        const MSG: &[u8] = b"gdlm-kernel: Rust panic";
        // SAFETY: MSG is a static byte string; the glue only reads len bytes of it.
        unsafe { gdlm_glue_panic(MSG.as_ptr(), MSG.len()) };
        // Not reached (the glue panics). The trap ends the function for objtool, which
        // cannot see that gdlm_glue_panic does not return when it checks this object
        // alone ("unexpected end of section" otherwise), and stops a glue that returned.
        #[cfg(target_arch = "x86_64")]
        // SAFETY: ud2 only raises #UD; it touches no memory or stack.
        unsafe {
            core::arch::asm!("ud2", options(noreturn, nomem, nostack))
        }
        #[cfg(not(target_arch = "x86_64"))]
        loop {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::MaybeUninit;
    use core::ptr::{null, null_mut};

    fn fresh() -> MaybeUninit<State> {
        let mut m = MaybeUninit::<State>::uninit();
        // SAFETY: m is a properly sized and aligned State slot.
        unsafe { gdlm_k_init(m.as_mut_ptr()) };
        m
    }

    #[test]
    fn size_and_align_describe_state() {
        assert_eq!(gdlm_k_size(), size_of::<State>());
        assert!(gdlm_k_align().is_power_of_two());
    }

    #[test]
    fn first_mount_then_recovery_through_the_abi() {
        let mut m = fresh();
        let st = m.as_mut_ptr();
        let mut call = Call::empty();
        let (mut first, mut err) = (0, 0);
        // SAFETY (whole test): st was initialised by gdlm_k_init; all other pointers are
        // to live locals or null.
        unsafe {
            let slots = [1, 2];
            assert_eq!(
                gdlm_k_recover_done(st, slots.as_ptr(), 2, 1, 1),
                GDLM_K_WORK_NOW
            );
            assert_eq!(gdlm_k_jid(st), 0);
            assert_eq!(gdlm_k_mount_start(st, &mut call), GDLM_K_CALL);
            assert_eq!((call.lock, call.op, call.mode, call.flags), (0, 0, 0, 8));
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                GDLM_K_CALL
            );
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                GDLM_K_SLEEP
            );
            assert_eq!(gdlm_k_mount_sleep_done(st, &mut call), GDLM_K_CALL);
            assert_eq!((call.mode, call.flags), (5, 4 | 1 | 8));
            let lvb = [0u8; 32];
            assert_eq!(
                gdlm_k_mount_result(st, 0, lvb.as_ptr(), &mut call, &mut first, &mut err),
                GDLM_K_CALL
            );
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                GDLM_K_MOUNTED
            );
            assert_eq!(first, 1);
            assert_eq!(gdlm_k_first_done_start(st, &mut call), GDLM_K_CALL);
            assert_eq!((call.lock, call.mode), (1, 3));
            assert_eq!(
                gdlm_k_first_done_result(st, 0, &mut call, &mut err),
                GDLM_K_CALL
            );
            assert_eq!((call.lock, call.mode, call.write_lvb), (0, 0, 1));
            assert_eq!(&call.lvb[..4], &1u32.to_le_bytes());
            assert_eq!(
                gdlm_k_first_done_result(st, 0, &mut call, &mut err),
                GDLM_K_DONE
            );
            assert_eq!(err, 0);
            assert_eq!(gdlm_k_locks_blocked(st), 0);

            // Node in slot 2 fails.
            gdlm_k_recover_prep(st);
            assert_eq!(gdlm_k_locks_blocked(st), 1);
            assert_eq!(gdlm_k_recover_slot(st, 2), 0);
            assert_eq!(gdlm_k_recover_slot(st, 0), GDLM_K_ESLOT);
            assert_eq!(gdlm_k_recover_slot(st, 194), GDLM_K_ESLOT_CAPACITY);
            let slots = [1];
            assert_eq!(gdlm_k_recover_done(st, null(), 1, 1, 2), GDLM_K_ENULL);
            assert_eq!(
                gdlm_k_recover_done(st, slots.as_ptr(), 1, 1, 2),
                GDLM_K_WORK_NOW
            );
            let lvb0 = [0u8; GDLM_K_LVB_SIZE];
            assert_eq!(
                gdlm_k_control_locked(st, lvb0.as_ptr(), &mut call),
                GDLM_K_EORDER
            );
            assert_eq!(gdlm_k_control_begin(st, &mut call), GDLM_K_CONTROL_CALL);
            assert_eq!(gdlm_k_control_locked(st, null(), &mut call), GDLM_K_ENULL);
            let mut lvb = [0u8; 32];
            lvb[0] = 1;
            assert_eq!(
                gdlm_k_control_locked(st, lvb.as_ptr(), &mut call),
                GDLM_K_CONTROL_CALL
            );
            assert_eq!(call.write_lvb, 1);
            assert_eq!(call.lvb[8], 0b10, "jid 1 set");
            let mut jids = [0u8; 24];
            let mut gen = 0;
            assert_eq!(
                gdlm_k_control_converted(st, jids.as_mut_ptr(), &mut gen),
                GDLM_K_CONTROL_RECOVER
            );
            assert_eq!(jids[0], 0b10);
            assert_eq!(gdlm_k_recovery_result(st, 500, 309), GDLM_K_EJID_CAPACITY);
            assert_eq!(gdlm_k_recovery_result(st, 1, 309), GDLM_K_WORK_NOW);
            assert_eq!(gdlm_k_control_begin(st, &mut call), GDLM_K_CONTROL_CALL);
            let written = call.lvb;
            assert_eq!(
                gdlm_k_control_locked(st, written.as_ptr(), &mut call),
                GDLM_K_CONTROL_CALL
            );
            assert_eq!(call.lvb[8], 0);
            assert_eq!(
                gdlm_k_control_converted(st, jids.as_mut_ptr(), &mut gen),
                GDLM_K_CONTROL_UNBLOCKED
            );
            assert_eq!(gen, 2);
            assert_eq!(gdlm_k_locks_blocked(st), 0);
            // Out of order: converted without a step in progress.
            assert_eq!(
                gdlm_k_control_converted(st, null_mut(), null_mut()),
                GDLM_K_EORDER
            );
            assert_eq!(gdlm_k_mount_sleep_done(st, &mut call), GDLM_K_EORDER);
            // Null state.
            assert_eq!(gdlm_k_recover_slot(null_mut(), 1), GDLM_K_ENULL);
        }
    }

    #[test]
    fn abi_struct_sizes_match_the_header() {
        // gdlm_glue.c has the same BUILD_BUG_ONs for struct gdlm_k_call / gdlm_k_info.
        assert_eq!((size_of::<Call>(), align_of::<Call>()), (52, 4));
        assert_eq!((size_of::<Info>(), align_of::<Info>()), (56, 4));
    }

    #[test]
    fn info_names_and_bast_states() {
        let mut m = fresh();
        let st = m.as_mut_ptr();
        let mut info = Info::default();
        let mut name = [0u8; 24];
        // SAFETY: st was initialised by gdlm_k_init; outputs are live locals or null.
        unsafe {
            assert_eq!(gdlm_k_info(st, &mut info), 0);
            assert_eq!((info.jid, info.mount_lvb_gen), (-1, u32::MAX));
            let slots = [1, 2];
            assert_eq!(
                gdlm_k_recover_done(st, slots.as_ptr(), 2, 2, 7),
                GDLM_K_WORK_NOW
            );
            assert_eq!(gdlm_k_info(st, &mut info), 0);
            assert_eq!((info.jid, info.start_gen), (1, 7));
            assert_eq!(gdlm_k_control_generation(st), 7);
            assert_eq!(gdlm_k_info(st, null_mut()), GDLM_K_ENULL);
            assert_eq!(
                gdlm_k_sync_lock_name(GDLM_K_LOCK_CONTROL, name.as_mut_ptr()),
                0
            );
            assert_eq!(&name, LockId::Control.name().as_bytes());
            assert_eq!(
                gdlm_k_sync_lock_name(GDLM_K_LOCK_MOUNTED, name.as_mut_ptr()),
                0
            );
            assert_eq!(&name, LockId::Mounted.name().as_bytes());
            assert_eq!(gdlm_k_sync_lock_name(2, name.as_mut_ptr()), GDLM_K_ELOCK);
            assert_eq!(gdlm_k_sync_lock_name(0, null_mut()), GDLM_K_ENULL);
        }
        assert_eq!(gdlm_k_bast_state(5), 0, "EX blocked: drop to UNLOCKED");
        assert_eq!(gdlm_k_bast_state(3), 3, "PR blocked: drop to SHARED");
        assert_eq!(gdlm_k_bast_state(2), 2, "CW blocked: drop to DEFERRED");
        assert_eq!(gdlm_k_bast_state(4), GDLM_K_EBAST_MODE);
    }

    #[test]
    fn glock_helpers_match_the_core() {
        let mut name = [0u8; 24];
        let (mut mode, mut flags) = (0, 0);
        // SAFETY: outputs are live locals.
        let r = unsafe {
            gdlm_k_lock_request(
                2,
                0x1234,
                3,
                8,
                1,
                0,
                0,
                name.as_mut_ptr(),
                &mut mode,
                &mut flags,
            )
        };
        assert_eq!(r, 0);
        assert_eq!(&name, b"       2            1234");
        assert_eq!((mode, flags), (3, 0x10008));
        // SAFETY: outputs are null.
        let bug =
            unsafe { gdlm_k_lock_request(2, 1, 1, 8, 1, 0, 0, null_mut(), null_mut(), null_mut()) };
        assert_eq!(bug, GDLM_K_EANY_MODE, "LM_FLAG_ANY with EX");
        // SAFETY: outputs are null.
        let bad =
            unsafe { gdlm_k_lock_request(2, 1, 7, 0, 1, 0, 0, null_mut(), null_mut(), null_mut()) };
        assert_eq!(bad, GDLM_K_ESTATE, "no LM_ST_ 7");
        let (mut ret, mut lk, mut gi, mut z) = (0, 0, 0, 0);
        // SAFETY: outputs are live locals.
        let r = unsafe { gdlm_k_ast(0, 3, 0, 4, 1, 0, 7, &mut ret, &mut lk, &mut gi, &mut z) };
        assert_eq!(
            (r, ret, lk, gi, z),
            (GDLM_K_AST_COMPLETE, 2, 7, 1, 0),
            "ALTMODE grants DEFERRED"
        );
        // SAFETY: outputs are live locals.
        let r = unsafe {
            gdlm_k_ast(
                1, 0, -0x10002, 0, 1, 0, 7, &mut ret, &mut lk, &mut gi, &mut z,
            )
        };
        assert_eq!(r, GDLM_K_AST_FREE, "-DLM_EUNLOCK frees the glock");
        // (gl_state, gl_req, status, sb_flags) the kernel would BUG on, and the code each gets.
        let bugs = [
            ((0, 1, 0, 4), GDLM_K_EALTMODE),
            ((0, 1, 0, 1), GDLM_K_EDEMOTED),
            ((0, 1, -5, 0), GDLM_K_ESTATUS),
            ((9, 1, 0, 0), GDLM_K_ESTATE),
            ((0, 9, 0, 0), GDLM_K_ESTATE),
        ];
        for ((state, req, status, sbf), want) in bugs {
            // SAFETY: outputs are null.
            let got = unsafe {
                gdlm_k_ast(
                    state,
                    req,
                    status,
                    sbf,
                    1,
                    0,
                    7,
                    null_mut(),
                    null_mut(),
                    null_mut(),
                    null_mut(),
                )
            };
            assert_eq!(
                got, want,
                "state {state} req {req} status {status} sb_flags {sbf}"
            );
        }
    }

    #[test]
    fn error_codes_are_negative_and_distinct() {
        let errors = [
            GDLM_K_ENULL,
            GDLM_K_EORDER,
            GDLM_K_ENOLVB,
            GDLM_K_ESLOT,
            GDLM_K_ESLOT_CAPACITY,
            GDLM_K_EJID_CAPACITY,
            GDLM_K_ESHORT_SIZE,
            GDLM_K_ESIZE_CAPACITY,
            GDLM_K_ESTATE,
            GDLM_K_EMODE,
            GDLM_K_EBAST_MODE,
            GDLM_K_EANY_MODE,
            GDLM_K_ECUR_MODE,
            GDLM_K_EDEMOTED,
            GDLM_K_ESTATUS,
            GDLM_K_EALTMODE,
            GDLM_K_ENOLOCK,
            GDLM_K_EIGNORED,
            GDLM_K_ELOCK,
            GDLM_K_EWITHDRAWN,
            GDLM_K_ENOT_DEAD,
        ];
        let groups: [&[i32]; 4] = [
            &[GDLM_K_WORK_NONE, GDLM_K_WORK_NOW, GDLM_K_WORK_AFTER_HZ],
            &[
                GDLM_K_CONTROL_NONE,
                GDLM_K_CONTROL_CALL,
                GDLM_K_CONTROL_STALE,
                GDLM_K_CONTROL_RECOVER,
                GDLM_K_CONTROL_UNBLOCKED,
                GDLM_K_CONTROL_BLOCKED,
            ],
            &[
                GDLM_K_CALL,
                GDLM_K_SLEEP,
                GDLM_K_MOUNTED,
                GDLM_K_FAILED,
                GDLM_K_WAIT,
                GDLM_K_DONE,
            ],
            &[GDLM_K_AST_COMPLETE, GDLM_K_AST_FREE],
        ];
        for (i, e) in errors.iter().enumerate() {
            assert!(*e < 0, "error {e} is not negative");
            assert!(!errors[..i].contains(e), "error code {e} used twice");
        }
        for g in groups {
            for (i, c) in g.iter().enumerate() {
                assert!(*c >= 0, "result code {c} looks like an error");
                assert!(
                    !g[..i].contains(c),
                    "result code {c} used twice in one group"
                );
            }
        }
        // Every error variant of the core the ABI can meet has its own code.
        let mapped = [
            recovery_error(RecoveryError::InvalidSlot(0)),
            recovery_error(RecoveryError::SlotBeyondCapacity {
                slot: 200,
                capacity: 192,
            }),
            recovery_error(RecoveryError::JidBeyondCapacity {
                jid: 200,
                capacity: 192,
            }),
            recovery_error(RecoveryError::ShortSize { jid: 5, size: 4 }),
            recovery_error(RecoveryError::SizeBeyondCapacity {
                size: 200,
                capacity: 192,
            }),
            mount_error(MountError::UnexpectedInput),
            mount_error(MountError::MissingLvb),
            mode_error(ModeError::UnknownState(9)),
            mode_error(ModeError::UnknownMode(9)),
            mode_error(ModeError::UnknownBastMode(9)),
            flags_error(FlagsError::AnyWithMode(gdlm_core::DlmMode::Ex)),
            flags_error(FlagsError::MissingCurrentMode),
            ast_error(AstError::Demoted),
            ast_error(AstError::UnknownStatus(-5)),
            ast_error(AstError::AltMode(LmState::Exclusive)),
            ast_error(AstError::NoLock),
        ];
        for (i, e) in mapped.iter().enumerate() {
            assert!(errors.contains(e), "{e} is not a GDLM_K_E* code");
            assert!(!mapped[..i].contains(e), "two core errors share code {e}");
        }
    }
}
