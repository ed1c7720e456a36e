//! gdlm-kernel: `gdlm-core` behind a narrow C ABI for a Linux kernel module.
//!
//! The module's C glue (`include/gdlm_kernel.h`) owns everything the kernel provides:
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

use gdlm_core::ast::{gdlm_ast, AstInput, AstOutcome, AstStyle};
use gdlm_core::consts::{GDLM_LVB_SIZE, JID_BITMAP_OFFSET};
use gdlm_core::flags::{lock_request, FlagPolicy, LmFlags, LockContext};
use gdlm_core::mode::{bast_state, BastMode};
use gdlm_core::mount::{ControlMount, FirstDone, FirstDoneStep, MountStep};
use gdlm_core::name::{LockName, NameStyle};
use gdlm_core::recovery::{
    ControlBegin, ControlFinish, ControlTicket, ControlUpdate, ControlWork, LockId, ResultOutcome,
    SizePolicy, SyncLock,
};
use gdlm_core::{ControlLvb, LmState, Recovery};

/// `-EINVAL`: a null pointer or an input the core refuses.
const EINVAL: i32 = -22;

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
    /// 0 control_lock, 1 mounted_lock.
    pub lock: u32,
    /// 0 dlm_lock, 1 dlm_unlock.
    pub op: u32,
    /// `DLM_LOCK_*`.
    pub mode: i32,
    /// `DLM_LKF_*`.
    pub flags: u32,
    /// 1: copy `lvb` into the lksb's LVB before the call.
    pub write_lvb: u32,
    /// The LVB to write.
    pub lvb: [u8; GDLM_LVB_SIZE],
}

/// `enum gdlm_k_step`.
pub mod step {
    /// Make the call, pass its status back.
    pub const CALL: i32 = 1;
    /// Sleep 500 ms, then `gdlm_k_mount_sleep_done`.
    pub const SLEEP: i32 = 2;
    /// Mounted.
    pub const MOUNTED: i32 = 3;
    /// The mount failed.
    pub const FAILED: i32 = 4;
    /// first_done waits for the end of a DLM recovery cycle.
    pub const WAIT: i32 = 5;
    /// first_done finished.
    pub const DONE: i32 = 6;
}

impl Call {
    const fn empty() -> Call {
        Call {
            lock: 0,
            op: 0,
            mode: 0,
            flags: 0,
            write_lvb: 0,
            lvb: [0; GDLM_LVB_SIZE],
        }
    }

    fn lock(c: &SyncLock) -> Call {
        Call {
            lock: lock_index(c.lock),
            op: 0,
            mode: c.mode.raw(),
            flags: c.flags.bits(),
            write_lvb: u32::from(c.lvb.is_some()),
            lvb: c.lvb.map(|l| *l.as_bytes()).unwrap_or([0; GDLM_LVB_SIZE]),
        }
    }

    fn unlock(l: LockId) -> Call {
        Call {
            lock: lock_index(l),
            op: 1,
            ..Call::empty()
        }
    }
}

fn lock_index(l: LockId) -> u32 {
    match l {
        LockId::Control => 0,
        LockId::Mounted => 1,
    }
}

fn work_code(w: Option<ControlWork>) -> i32 {
    match w {
        None => 0,
        Some(ControlWork::Now) => 1,
        Some(ControlWork::AfterHz) => 2,
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

/// `gdlm_recover_slot`: 0 recorded, negative refused.
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recover_slot(st: *mut State, slot: i32) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    match s.rec.recover_slot(slot) {
        Ok(_) => 0,
        Err(_) => EINVAL,
    }
}

/// `gdlm_recover_done`: the work to queue (0 none, 1 now), negative refused.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `slots` is null (with `nslots` 0) or points to `nslots`
/// readable ints.
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
        return EINVAL;
    };
    let list: &[i32] = if slots.is_null() || nslots == 0 {
        &[]
    } else {
        // SAFETY: non-null and valid for nslots reads per the contract; the slice
        // lives only during this call, while the DLM keeps the array alive.
        unsafe { core::slice::from_raw_parts(slots, nslots as usize) }
    };
    match s.rec.recover_done(list, our_slot, generation) {
        Ok(w) => work_code(w),
        Err(_) => EINVAL,
    }
}

/// `gdlm_recovery_result`: the work to queue (0 none or ignored, 1 now, 2 after HZ).
///
/// # Safety
/// As [`gdlm_k_init`]'s result.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_recovery_result(st: *mut State, jid: u32, result: u32) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    match s.rec.recovery_result(jid, result) {
        Ok(ResultOutcome::Recorded(w)) => work_code(w),
        Ok(ResultOutcome::Ignored(_)) => 0,
        Err(_) => EINVAL,
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

/// Control step, part 1: 0 nothing to do, 1 make `*call` (control_lock EX).
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_control_begin(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    match s.rec.control_begin() {
        ControlBegin::NotReady | ControlBegin::DlmRecovering => 0,
        ControlBegin::Lock(t, c) => {
            s.ticket = Some(t);
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            1
        }
    }
}

/// Control step, part 2, with the LVB control_lock EX returned: 1 make `*call` then
/// `gdlm_k_control_converted`; 2 make `*call` and stop (a recovery began meanwhile).
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
        return EINVAL;
    };
    // SAFETY: forwarded contract.
    let Some(lvb) = (unsafe { read_lvb(lvb) }) else {
        return EINVAL;
    };
    let Some(t) = s.ticket.as_mut() else {
        return EINVAL;
    };
    match s.rec.control_locked(t, &lvb) {
        ControlUpdate::Stale(c) => {
            s.ticket = None;
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            2
        }
        ControlUpdate::Convert { call: c, .. } => {
            // SAFETY: forwarded contract.
            unsafe { put(call, Call::lock(&c)) };
            1
        }
    }
}

/// Control step, part 3, after control_lock is back in NL: 1 recover the jids in
/// `jids` (24-byte LE bitmap), 2 unblocked at `*generation`, 3 still blocked.
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
        return EINVAL;
    };
    let Some(t) = s.ticket.take() else {
        return EINVAL;
    };
    match s.rec.control_converted(&t) {
        ControlFinish::Recover(set) => {
            if !jids.is_null() {
                // SAFETY: non-null and valid for 24 bytes of writes per the contract.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        set.as_bytes().as_ptr(),
                        jids,
                        GDLM_LVB_SIZE - JID_BITMAP_OFFSET,
                    )
                };
            }
            1
        }
        ControlFinish::Unblocked { generation: g } => {
            // SAFETY: forwarded contract.
            unsafe { put(generation, g) };
            2
        }
        ControlFinish::StillBlocked => 3,
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
                step::CALL
            }
            MountStep::Unlock(l) => {
                put(call, Call::unlock(l));
                step::CALL
            }
            MountStep::Sleep { .. } => step::SLEEP,
            MountStep::Mounted { first: f } => {
                put(first, i32::from(f));
                step::MOUNTED
            }
            MountStep::Failed { error: e } => {
                put(error, e);
                step::FAILED
            }
        }
    }
}

/// Start control_mount (after the lockspace's first recover_done).
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_mount_start(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    let m = s.mount.start(&mut s.rec);
    // SAFETY: forwarded contract.
    unsafe { mount_out(m, call, core::ptr::null_mut(), core::ptr::null_mut()) }
}

/// The status of the call control_mount asked for (for an unlock too); `lvb` is the
/// control_lock LVB after the call (null if none).
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
        return EINVAL;
    };
    // SAFETY: forwarded contract.
    let lvb = unsafe { read_lvb(lvb) };
    let r = match s.mount.on_lock_result(&mut s.rec, status, lvb.as_ref()) {
        Err(gdlm_core::mount::MountError::UnexpectedInput) => s.mount.on_unlock_result(status),
        other => other,
    };
    match r {
        // SAFETY: forwarded contract.
        Ok(m) => unsafe { mount_out(m, call, first, error) },
        Err(_) => EINVAL,
    }
}

/// The 500 ms sleep ended.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_mount_sleep_done(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    match s.mount.on_sleep_done() {
        // SAFETY: forwarded contract.
        Ok(m) => unsafe { mount_out(m, call, core::ptr::null_mut(), core::ptr::null_mut()) },
        Err(_) => EINVAL,
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
                step::CALL
            }
            FirstDoneStep::Unlock(l) => {
                put(call, Call::unlock(l));
                step::CALL
            }
            FirstDoneStep::WaitDlmRecovery => step::WAIT,
            FirstDoneStep::Done { result } => {
                put(error, result);
                step::DONE
            }
        }
    }
}

/// Start (or restart after WAIT) control_first_done.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `call` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_first_done_start(st: *mut State, call: *mut Call) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    s.first_done = FirstDone::new();
    match s.first_done.start(&mut s.rec) {
        // SAFETY: forwarded contract.
        Ok(f) => unsafe { first_out(f, call, core::ptr::null_mut()) },
        Err(_) => EINVAL,
    }
}

/// The status of the call control_first_done asked for.
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
        return EINVAL;
    };
    let r = match s.first_done.on_lock_result(status) {
        Err(_) => s.first_done.on_unlock_result(status),
        ok => ok,
    };
    match r {
        // SAFETY: forwarded contract.
        Ok(f) => unsafe { first_out(f, call, error) },
        Err(_) => EINVAL,
    }
}

/// `gdlm_lock`'s decision for a glock: the 24-byte name (new locks only), mode and
/// flags, under the reference policy. 0, or negative where the kernel would BUG.
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
    let Ok(r) = lock_request(
        &FlagPolicy::REFERENCE,
        &LockName::new(ln_type, ln_number),
        NameStyle::Reference,
        req_state,
        LmFlags::from_bits_retain(gfs_flags),
        &ctx,
    ) else {
        return EINVAL;
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

/// `gdlm_ast`'s decision: 1 complete (outputs set), 2 free the glock, negative where
/// the kernel would BUG.
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
    let (Ok(gl_state), Ok(gl_req)) = (LmState::try_from(gl_state), LmState::try_from(gl_req))
    else {
        return EINVAL;
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
            1
        }
        Ok(AstOutcome::Free { lvb_zeroed: z }) => {
            // SAFETY: forwarded contract.
            unsafe { put(lvb_zeroed, i32::from(z)) };
            2
        }
        Ok(AstOutcome::Ignored) | Err(_) => EINVAL,
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
    pub lvb_jids: [u8; GDLM_LVB_SIZE - JID_BITMAP_OFFSET],
}

/// Fill `*out` with the state's generations, flags and jid (for status output).
/// 0, or negative for a null pointer.
///
/// # Safety
/// As [`gdlm_k_init`]'s result; `out` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_info(st: *mut State, out: *mut Info) -> i32 {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { state(st) }) else {
        return EINVAL;
    };
    let mut jids = [0u8; GDLM_LVB_SIZE - JID_BITMAP_OFFSET];
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
        return EINVAL;
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

/// `sync_lock`'s resource name for lock 0 (control_lock) or 1 (mounted_lock):
/// 24 bytes written to `name`. 0, or negative for another lock or a null pointer.
///
/// # Safety
/// `name` is null or valid for 24 bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn gdlm_k_sync_lock_name(lock: u32, name: *mut u8) -> i32 {
    let id = match lock {
        0 => LockId::Control,
        1 => LockId::Mounted,
        _ => return EINVAL,
    };
    if name.is_null() {
        return EINVAL;
    }
    let n = id.name();
    // SAFETY: non-null and valid for 24 bytes of writes per the contract; n is a local.
    unsafe { core::ptr::copy_nonoverlapping(n.as_bytes().as_ptr(), name, n.as_bytes().len()) };
    0
}

/// `gdlm_bast`: the glock state (`LM_ST_*`) a holder must drop to for a blocked
/// request of DLM mode `mode`; negative where the kernel would BUG.
#[no_mangle]
pub extern "C" fn gdlm_k_bast_state(mode: i32) -> i32 {
    match bast_state(BastMode::Mode(mode)) {
        Ok(s) => s.raw() as i32,
        Err(_) => EINVAL,
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
            assert_eq!(gdlm_k_recover_done(st, slots.as_ptr(), 2, 1, 1), 1);
            assert_eq!(gdlm_k_jid(st), 0);
            assert_eq!(gdlm_k_mount_start(st, &mut call), step::CALL);
            assert_eq!((call.lock, call.op, call.mode, call.flags), (0, 0, 0, 8));
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                step::CALL
            );
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                step::SLEEP
            );
            assert_eq!(gdlm_k_mount_sleep_done(st, &mut call), step::CALL);
            assert_eq!((call.mode, call.flags), (5, 4 | 1 | 8));
            let lvb = [0u8; 32];
            assert_eq!(
                gdlm_k_mount_result(st, 0, lvb.as_ptr(), &mut call, &mut first, &mut err),
                step::CALL
            );
            assert_eq!(
                gdlm_k_mount_result(st, 0, null(), &mut call, &mut first, &mut err),
                step::MOUNTED
            );
            assert_eq!(first, 1);
            assert_eq!(gdlm_k_first_done_start(st, &mut call), step::CALL);
            assert_eq!((call.lock, call.mode), (1, 3));
            assert_eq!(
                gdlm_k_first_done_result(st, 0, &mut call, &mut err),
                step::CALL
            );
            assert_eq!((call.lock, call.mode, call.write_lvb), (0, 0, 1));
            assert_eq!(&call.lvb[..4], &1u32.to_le_bytes());
            assert_eq!(
                gdlm_k_first_done_result(st, 0, &mut call, &mut err),
                step::DONE
            );
            assert_eq!(err, 0);
            assert_eq!(gdlm_k_locks_blocked(st), 0);

            // Node in slot 2 fails.
            gdlm_k_recover_prep(st);
            assert_eq!(gdlm_k_locks_blocked(st), 1);
            assert_eq!(gdlm_k_recover_slot(st, 2), 0);
            assert_eq!(gdlm_k_recover_slot(st, 0), EINVAL);
            let slots = [1];
            assert_eq!(gdlm_k_recover_done(st, slots.as_ptr(), 1, 1, 2), 1);
            assert_eq!(gdlm_k_control_begin(st, &mut call), 1);
            let mut lvb = [0u8; 32];
            lvb[0] = 1;
            assert_eq!(gdlm_k_control_locked(st, lvb.as_ptr(), &mut call), 1);
            assert_eq!(call.write_lvb, 1);
            assert_eq!(call.lvb[8], 0b10, "jid 1 set");
            let mut jids = [0u8; 24];
            let mut gen = 0;
            assert_eq!(gdlm_k_control_converted(st, jids.as_mut_ptr(), &mut gen), 1);
            assert_eq!(jids[0], 0b10);
            assert_eq!(gdlm_k_recovery_result(st, 1, 309), 1);
            assert_eq!(gdlm_k_control_begin(st, &mut call), 1);
            let written = call.lvb;
            assert_eq!(gdlm_k_control_locked(st, written.as_ptr(), &mut call), 1);
            assert_eq!(call.lvb[8], 0);
            assert_eq!(gdlm_k_control_converted(st, jids.as_mut_ptr(), &mut gen), 2);
            assert_eq!(gen, 2);
            assert_eq!(gdlm_k_locks_blocked(st), 0);
            // Out of order: converted without a step in progress.
            assert_eq!(gdlm_k_control_converted(st, null_mut(), null_mut()), EINVAL);
            // Null state.
            assert_eq!(gdlm_k_recover_slot(null_mut(), 1), EINVAL);
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
            assert_eq!(gdlm_k_recover_done(st, slots.as_ptr(), 2, 2, 7), 1);
            assert_eq!(gdlm_k_info(st, &mut info), 0);
            assert_eq!((info.jid, info.start_gen), (1, 7));
            assert_eq!(gdlm_k_control_generation(st), 7);
            assert_eq!(gdlm_k_info(st, null_mut()), EINVAL);
            assert_eq!(gdlm_k_sync_lock_name(0, name.as_mut_ptr()), 0);
            assert_eq!(&name, LockId::Control.name().as_bytes());
            assert_eq!(gdlm_k_sync_lock_name(1, name.as_mut_ptr()), 0);
            assert_eq!(&name, LockId::Mounted.name().as_bytes());
            assert_eq!(gdlm_k_sync_lock_name(2, name.as_mut_ptr()), EINVAL);
        }
        assert_eq!(gdlm_k_bast_state(5), 0, "EX blocked: drop to UNLOCKED");
        assert_eq!(gdlm_k_bast_state(3), 3, "PR blocked: drop to SHARED");
        assert_eq!(gdlm_k_bast_state(2), 2, "CW blocked: drop to DEFERRED");
        assert_eq!(gdlm_k_bast_state(4), EINVAL);
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
        assert_eq!(bug, EINVAL, "LM_FLAG_ANY with EX");
        let (mut ret, mut lk, mut gi, mut z) = (0, 0, 0, 0);
        // SAFETY: outputs are live locals.
        let r = unsafe { gdlm_k_ast(0, 3, 0, 4, 1, 0, 7, &mut ret, &mut lk, &mut gi, &mut z) };
        assert_eq!(
            (r, ret, lk, gi, z),
            (1, 2, 7, 1, 0),
            "ALTMODE grants DEFERRED"
        );
        // SAFETY: outputs are null.
        assert_eq!(
            unsafe {
                gdlm_k_ast(
                    0,
                    1,
                    0,
                    4,
                    1,
                    0,
                    7,
                    null_mut(),
                    null_mut(),
                    null_mut(),
                    null_mut(),
                )
            },
            EINVAL
        );
    }
}
