// SPDX-License-Identifier: GPL-2.0-only
//! The kernel DLM API (`include/linux/dlm.h`, `include/uapi/linux/dlm.h`, Linux 7.2) as safe
//! calls: the only file of gdlm_rfl with `unsafe`. The kernel crate has no DLM bindings
//! (`rust/bindings/bindings_helper.h` does not include `linux/dlm.h`), so the four exported
//! functions and the three structures are declared here, field for field.
//!
//! Callbacks: the DLM calls [`LockspaceOwner`]'s methods for `recover_prep/slot/done` and
//! [`AstTarget::ast`] for a lock's completion, from its own threads, with the argument
//! registered here. Both objects must outlive the lockspace: [`Lockspace::release`]
//! returns only after the DLM's callbacks have stopped, and the owner keeps them alive
//! (in an `Arc`) until then.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_uint, c_void};

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::ffi::c_char;

use kernel::prelude::*;

/// `DLM_LVB_LEN` as gfs2 uses it (`GDLM_LVB_SIZE`).
pub(crate) const LVB_LEN: usize = 32;

/// `struct dlm_lksb` (uapi/linux/dlm.h).
#[repr(C)]
struct RawLksb {
    sb_status: c_int,
    sb_lkid: u32,
    sb_flags: c_char,
    sb_lvbptr: *mut c_char,
}

/// `struct dlm_slot`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    /// The member's nodeid.
    pub(crate) nodeid: c_int,
    /// Its slot (1-based).
    pub(crate) slot: c_int,
}

/// `struct dlm_lockspace_ops`.
#[repr(C)]
struct RawOps {
    recover_prep: Option<unsafe extern "C" fn(*mut c_void)>,
    recover_slot: Option<unsafe extern "C" fn(*mut c_void, *mut Slot)>,
    recover_done: Option<unsafe extern "C" fn(*mut c_void, *mut Slot, c_int, c_int, u32)>,
}

extern "C" {
    fn dlm_new_lockspace(
        name: *const c_char,
        cluster: *const c_char,
        flags: u32,
        lvblen: c_int,
        ops: *const RawOps,
        ops_arg: *mut c_void,
        ops_result: *mut c_int,
        lockspace: *mut *mut c_void,
    ) -> c_int;
    fn dlm_release_lockspace(lockspace: *mut c_void, release_option: c_uint) -> c_int;
    fn dlm_lock(
        lockspace: *mut c_void,
        mode: c_int,
        lksb: *mut RawLksb,
        flags: u32,
        name: *const c_void,
        namelen: c_uint,
        parent_lkid: u32,
        lockast: Option<unsafe extern "C" fn(*mut c_void)>,
        astarg: *mut c_void,
        bast: Option<unsafe extern "C" fn(*mut c_void, c_int)>,
    ) -> c_int;
    fn dlm_unlock(
        lockspace: *mut c_void,
        lkid: u32,
        flags: u32,
        lksb: *mut RawLksb,
        astarg: *mut c_void,
    ) -> c_int;
}

/// Who gets a lockspace's recovery callbacks.
pub(crate) trait LockspaceOwner: Sync {
    /// `recover_prep`.
    fn recover_prep(&self);
    /// `recover_slot` of a failed member.
    fn recover_slot(&self, slot: Slot);
    /// `recover_done`: every member's slot, ours, the generation.
    fn recover_done(&self, slots: &[Slot], our_slot: i32, generation: u32);
}

/// Who gets a lock's completion.
pub(crate) trait AstTarget: Sync {
    /// The request on `lock` completed: `sb_status`, `sb_flags` and (for a lock with an
    /// LVB buffer) the buffer as the DLM left it.
    fn ast(&self, lock: &DlmLock, status: i32, sb_flags: u8, lkid: u32, lvb: Option<[u8; LVB_LEN]>);
    /// Another node wants `mode` (`bast`), for locks made with a blocking callback.
    fn bast(&self, lock: &DlmLock, mode: i32);
}

/// One DLM lock: its lksb and LVB buffer, and the target of its completions.
///
/// At most one request is outstanding per lock (the engine's rule; `busy` enforces it):
/// the DLM owns the lksb and buffer from the call until the AST, the owner at all other
/// times. That is what makes the accesses below exclusive.
pub(crate) struct DlmLock {
    lksb: UnsafeCell<RawLksb>,
    lvb: UnsafeCell<[u8; LVB_LEN]>,
    has_lvb: bool,
    with_bast: bool,
    busy: AtomicBool,
    target: *const dyn AstTarget,
    /// The owner's tag for this lock (which of its locks it is).
    pub(crate) tag: u32,
}

// SAFETY: the lksb and buffer are accessed by one side at a time (see the type's comment,
// enforced by `busy`), and `target` is only used for `&self` calls of a `Sync` object that
// outlives the lock (the `new` contract).
unsafe impl Sync for DlmLock {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for DlmLock {}

impl DlmLock {
    /// A lock with no DLM lock yet, whose completions go to `target`. `target` must
    /// outlive every request made on this lock (the owner holds both in one `Arc`).
    pub(crate) fn new(target: *const dyn AstTarget, tag: u32, has_lvb: bool) -> Self {
        DlmLock {
            lksb: UnsafeCell::new(RawLksb {
                sb_status: 0,
                sb_lkid: 0,
                sb_flags: 0,
                sb_lvbptr: core::ptr::null_mut(),
            }),
            lvb: UnsafeCell::new([0; LVB_LEN]),
            has_lvb,
            with_bast: false,
            busy: AtomicBool::new(false),
            target,
            tag,
        }
    }

    /// The same lock, whose requests also register a blocking callback (`bast`).
    pub(crate) fn with_bast(mut self) -> Self {
        self.with_bast = true;
        self
    }

    /// A request is outstanding.
    pub(crate) fn busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    /// The LVB buffer, while no request is outstanding.
    pub(crate) fn lvb(&self) -> Option<[u8; LVB_LEN]> {
        if self.busy() {
            return None;
        }
        // SAFETY: no request is outstanding, so the DLM does not write the buffer; the
        // owner's writers (`set_lvb`) run on its pump, serialized with this reader's
        // callers by the owner (the pump lock), and only while not busy.
        Some(unsafe { *self.lvb.get() })
    }

    /// Write the LVB buffer (passed to the DLM with the next VALBLK request). Refused
    /// (`EBUSY`) while a request is outstanding.
    pub(crate) fn set_lvb(&self, v: &[u8; LVB_LEN]) -> Result {
        if self.busy() {
            return Err(EBUSY);
        }
        // SAFETY: as in `lvb`: not busy, and the owner serializes its own accesses.
        unsafe { *self.lvb.get() = *v };
        Ok(())
    }

    /// `sb_flags` of the last completion, while no request is outstanding.
    pub(crate) fn sb_flags(&self) -> Option<u8> {
        if self.busy() {
            return None;
        }
        // SAFETY: not busy: the DLM does not write the lksb now.
        Some(unsafe { (*self.lksb.get()).sb_flags as u8 })
    }

    fn begin(&self) -> Result {
        self.busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| EBUSY)
    }
}

unsafe extern "C" fn ast_trampoline(arg: *mut c_void) {
    // SAFETY: `arg` is the `DlmLock` this request was made on (`Lockspace::lock`/`unlock`),
    // which lives until the lockspace is released (its owner's contract).
    let lock = unsafe { &*(arg as *const DlmLock) };
    // SAFETY: the DLM has finished with the lksb and the buffer: this is the completion
    // of the one outstanding request, and `busy` is still set, so nobody else touches them.
    let (status, flags, lkid, lvb) = unsafe {
        let l = &*lock.lksb.get();
        (
            l.sb_status,
            l.sb_flags as u8,
            l.sb_lkid,
            lock.has_lvb.then(|| *lock.lvb.get()),
        )
    };
    lock.busy.store(false, Ordering::Release);
    // SAFETY: `target` outlives the lock's requests (`DlmLock::new`'s contract).
    let target = unsafe { &*lock.target };
    target.ast(lock, status, flags, lkid, lvb);
}

unsafe extern "C" fn bast_trampoline(arg: *mut c_void, mode: c_int) {
    // SAFETY: as in `ast_trampoline`: `arg` is a `DlmLock` alive until the lockspace is
    // released. Only `tag` and `target` are read (never written after `new`); the lksb is
    // not touched (a BAST may come while a request is outstanding).
    let lock = unsafe { &*(arg as *const DlmLock) };
    // SAFETY: `target` outlives the lock's requests (`DlmLock::new`'s contract).
    let target = unsafe { &*lock.target };
    target.bast(lock, mode);
}

/// The `recover_*` trampolines: `ops_arg` is a `*const O` registered by
/// `Lockspace::new`, alive until `release` returns.
unsafe extern "C" fn recover_prep_tr<O: LockspaceOwner>(arg: *mut c_void) {
    // SAFETY: `arg` is the `&O` given to `Lockspace::new`, alive until `release` returns.
    unsafe { &*(arg as *const O) }.recover_prep();
}
unsafe extern "C" fn recover_slot_tr<O: LockspaceOwner>(arg: *mut c_void, slot: *mut Slot) {
    // SAFETY: as `recover_prep_tr`; `slot` points to one valid `dlm_slot` for the call.
    let (o, s) = unsafe { (&*(arg as *const O), *slot) };
    o.recover_slot(s);
}
unsafe extern "C" fn recover_done_tr<O: LockspaceOwner>(
    arg: *mut c_void,
    slots: *mut Slot,
    num: c_int,
    our_slot: c_int,
    generation: u32,
) {
    // SAFETY: as `recover_prep_tr`; the DLM passes `num` valid slots (dlm_slots_copy_out:
    // `ls_slots`, `ls_slots_size` entries), readable for the duration of the call.
    let (o, s) = unsafe {
        let n = usize::try_from(num).unwrap_or(0);
        let s: &[Slot] = if slots.is_null() || n == 0 {
            &[]
        } else {
            core::slice::from_raw_parts(slots, n)
        };
        (&*(arg as *const O), s)
    };
    o.recover_done(s, our_slot, generation);
}

struct OpsFor<O>(core::marker::PhantomData<O>);
impl<O: LockspaceOwner> OpsFor<O> {
    const OPS: RawOps = RawOps {
        recover_prep: Some(recover_prep_tr::<O>),
        recover_slot: Some(recover_slot_tr::<O>),
        recover_done: Some(recover_done_tr::<O>),
    };
}

/// A joined DLM lockspace (`dlm_lockspace_t *`).
pub(crate) struct Lockspace(*mut c_void);

// SAFETY: a lockspace handle may be used from any thread (the DLM locks internally).
unsafe impl Send for Lockspace {}
// SAFETY: as above.
unsafe impl Sync for Lockspace {}

/// What `dlm_new_lockspace` returned.
pub(crate) struct Joined {
    /// The lockspace.
    pub(crate) ls: Lockspace,
    /// `ops_result`: 0 when the recovery callbacks are in use.
    pub(crate) ops_result: i32,
}

impl Lockspace {
    /// `dlm_new_lockspace(name, cluster, flags, 32, ops, owner)`. The callbacks go to
    /// `owner`, which must stay alive (not move) until [`Lockspace::release`] returned.
    pub(crate) fn new<O: LockspaceOwner>(
        name: &CStr,
        cluster: &CStr,
        flags: u32,
        owner: &O,
    ) -> Result<Joined> {
        let mut ls: *mut c_void = core::ptr::null_mut();
        let mut ops_result: c_int = -1;
        let ops: &'static RawOps = &OpsFor::<O>::OPS;
        // SAFETY: the names are NUL-terminated, `ops` is static, `owner` outlives the
        // lockspace (this function's contract), and the out-pointers are valid locals.
        let rv = unsafe {
            dlm_new_lockspace(
                name.as_char_ptr(),
                cluster.as_char_ptr(),
                flags,
                LVB_LEN as c_int,
                ops,
                owner as *const O as *mut c_void,
                &mut ops_result,
                &mut ls,
            )
        };
        if rv != 0 || ls.is_null() {
            return Err(Error::from_errno(if rv < 0 { rv } else { -22 }));
        }
        Ok(Joined {
            ls: Lockspace(ls),
            ops_result,
        })
    }

    /// `dlm_lock(ls, mode, &lksb, flags, name, 24, 0, ast, lock, NULL)`: a new lock by
    /// name or, with `DLM_LKF_CONVERT`, a conversion of the lock's DLM lock. `lvb`: the
    /// buffer's contents to pass first (VALBLK). Ok means the AST will come; an error
    /// means it will not (the caller reports it as the completion).
    pub(crate) fn lock(
        &self,
        lk: &DlmLock,
        mode: i32,
        flags: u32,
        name: &[u8],
        lvb: Option<&[u8; LVB_LEN]>,
    ) -> Result {
        lk.begin()?;
        // SAFETY: `begin` made this the one outstanding request: nobody else touches the
        // lksb or buffer until the AST (or until we clear `busy` on an immediate error).
        unsafe {
            if let Some(v) = lvb {
                *lk.lvb.get() = *v;
            }
            (*lk.lksb.get()).sb_lvbptr =
                if lk.has_lvb || flags & gdlm_core::consts::DLM_LKF_VALBLK != 0 {
                    lk.lvb.get().cast()
                } else {
                    core::ptr::null_mut()
                };
        }
        // SAFETY: `self.0` is a joined lockspace; `lk` (lksb, buffer, AST argument) lives
        // until the lockspace is released (`DlmLock::new`'s contract); `name` is read
        // during the call only (the DLM copies resource names).
        let rv = unsafe {
            dlm_lock(
                self.0,
                mode,
                lk.lksb.get(),
                flags,
                name.as_ptr().cast(),
                name.len() as c_uint,
                0,
                Some(ast_trampoline),
                lk as *const DlmLock as *mut c_void,
                if lk.with_bast {
                    Some(bast_trampoline)
                } else {
                    None
                },
            )
        };
        if rv != 0 {
            lk.busy.store(false, Ordering::Release);
            return Err(Error::from_errno(rv));
        }
        Ok(())
    }

    /// `dlm_unlock(ls, lkid, flags, &lksb, lock)`: as [`Lockspace::lock`].
    pub(crate) fn unlock(&self, lk: &DlmLock, flags: u32) -> Result {
        lk.begin()?;
        // SAFETY: as in `lock`: the one outstanding request, so the lksb is ours to read
        // and point at the buffer.
        let lkid = unsafe {
            let l = &mut *lk.lksb.get();
            if flags & gdlm_core::consts::DLM_LKF_VALBLK != 0 {
                l.sb_lvbptr = lk.lvb.get().cast();
            }
            l.sb_lkid
        };
        // SAFETY: as in `lock`.
        let rv = unsafe {
            dlm_unlock(
                self.0,
                lkid,
                flags,
                lk.lksb.get(),
                lk as *const DlmLock as *mut c_void,
            )
        };
        if rv != 0 {
            lk.busy.store(false, Ordering::Release);
            return Err(Error::from_errno(rv));
        }
        Ok(())
    }

    /// `dlm_release_lockspace(ls, option)`; the handle is gone either way (a failed release
    /// leaves the lockspace to the DLM, as gfs2's `gdlm_unmount` does).
    pub(crate) fn release(self, option: u32) -> i32 {
        // SAFETY: `self.0` is a joined lockspace, released once (consumed here).
        unsafe { dlm_release_lockspace(self.0, option) }
    }
}

/// Wait until a mount's pump work item is neither queued nor running (`flush_work`; the
/// kernel crate's workqueue has no flush). The caller has stopped new enqueues first (its
/// timer cancelled), so nothing is queued after this returns (what lets the module unload).
pub(crate) fn flush_work_item<T: ?Sized, const A: u64>(kick: &kernel::workqueue::Work<T, A>) {
    use kernel::bindings;
    use kernel::workqueue::Work;
    // SAFETY: `kick` points to an initialized, pinned work item that lives as long as the
    // reference.
    unsafe { bindings::flush_work(Work::raw_get(kick)) };
}
