// SPDX-License-Identifier: GPL-2.0-only
//! `gdlm-linux-sys`: the part of libdlm's C API (`libdlm.h`, `linux/dlm.h`) this crate uses,
//! declared by hand. Found and linked through pkg-config (`libdlm`, see `build.rs`).
//!
//! Nothing here is safe to call on its own; the [`crate::Lockspace`] wrapper is the only user.

use core::ffi::{c_char, c_int, c_uint, c_void};

/// `DLM_LVB_LEN` / `DLM_USER_LVB_LEN`: the lock value block of a userspace lockspace.
pub const DLM_LVB_LEN: usize = 32;
/// `DLM_RESNAME_MAXLEN`: the longest resource name.
pub const DLM_RESNAME_MAXLEN: usize = 64;

/// libdlm's userspace status codes (positive; the kernel's are these, negated).
pub const ECANCEL: c_int = 0x10001;
/// See [`ECANCEL`].
pub const EUNLOCK: c_int = 0x10002;
/// libdlm writes this into `sb_status` while a request is in flight.
pub const EINPROG: c_int = 0x10003;

/// `struct dlm_lksb` (include/uapi/linux/dlm.h).
#[repr(C)]
#[derive(Debug)]
pub struct DlmLksb {
    /// `sb_status`: libdlm stores the kernel's status with its sign flipped (0, `EAGAIN`, `EUNLOCK`…).
    pub sb_status: c_int,
    /// `sb_lkid`: the lock id, valid once the first request has been granted.
    pub sb_lkid: u32,
    /// `sb_flags`: `DLM_SBF_DEMOTED` 1, `DLM_SBF_VALNOTVALID` 2, `DLM_SBF_ALTMODE` 4.
    pub sb_flags: c_char,
    /// `sb_lvbptr`: [`DLM_LVB_LEN`] bytes the LVB is read into / written from (`VALBLK`).
    pub sb_lvbptr: *mut c_char,
}

/// `dlm_lshandle_t`.
pub type DlmLsHandle = *mut c_void;
/// The AST and BAST callback type (`void (*)(void *astarg)`).
pub type AstFn = extern "C" fn(*mut c_void);

#[link(name = "dlm")]
extern "C" {
    pub fn dlm_create_lockspace(name: *const c_char, mode: libc::mode_t) -> DlmLsHandle;
    pub fn dlm_open_lockspace(name: *const c_char) -> DlmLsHandle;
    pub fn dlm_release_lockspace(name: *const c_char, ls: DlmLsHandle, force: c_int) -> c_int;
    pub fn dlm_close_lockspace(ls: DlmLsHandle) -> c_int;
    pub fn dlm_ls_get_fd(ls: DlmLsHandle) -> c_int;
    /// Reads the results the lockspace fd has and runs their AST or BAST callbacks (libdlm
    /// sets `O_NONBLOCK` for the loop; the test stub reads one and would block on an empty
    /// fd), so call it when `poll` says the fd is readable.
    pub fn dlm_dispatch(fd: c_int) -> c_int;
    #[allow(clippy::too_many_arguments)]
    pub fn dlm_ls_lock(
        ls: DlmLsHandle,
        mode: u32,
        lksb: *mut DlmLksb,
        flags: u32,
        name: *const c_void,
        namelen: c_uint,
        parent: u32,
        astaddr: Option<AstFn>,
        astarg: *mut c_void,
        bastaddr: Option<AstFn>,
        range: *mut c_void,
    ) -> c_int;
    pub fn dlm_ls_unlock(
        ls: DlmLsHandle,
        lkid: u32,
        flags: u32,
        lksb: *mut DlmLksb,
        astarg: *mut c_void,
    ) -> c_int;
}
