// SPDX-License-Identifier: GPL-2.0-only
//! The safe wrapper over libdlm: [`Lockspace`] and its locks ([`LockId`]).
//!
//! Memory: libdlm keeps the address of each lock's `struct dlm_lksb` (and through it the LVB
//! buffer) from the request until the completion, and writes both when `dlm_dispatch` runs the
//! AST. So every lock's lksb and LVB live in a heap cell owned by the lockspace, at a fixed
//! address; a cell is reused for a later lock only after its lock's last completion (and once
//! no request of the submit thread names it) and freed when the lockspace is closed. A
//! [`LockId`] names a cell and the cell's use (a generation), so a stale id never names a
//! later lock; checking it is one compare with the cell's id. libdlm's callbacks get the cell's address as their
//! `astarg` and only append it to the lockspace's callback list; the events are built after
//! `dlm_dispatch` returns.
//!
//! Threads: no libdlm thread is started (`dlm_ls_pthread_init` is never called). ASTs and BASTs
//! run inside [`Lockspace::dispatch`], on the caller's thread, when it has polled the
//! lockspace fd ([`Lockspace::as_raw_fd`]; [`Lockspace::next_event`] does both). Requests are
//! written to the kernel by the calling thread, unless [`Lockspace::start_submit_thread`]
//! moved them to a thread of their own: the kernel's `write()` of a request blocks while the
//! lockspace is stopped for recovery (`dlm_user_request` → `dlm_lock_recovery`), and a poll
//! loop must go on reading its other fds meanwhile. Then Rust code on either thread touches a
//! cell's lksb and LVB only while the other does not (`Cell::inflight`, `Cell::outstanding`),
//! and results are read only while no request is in flight (`dispatch_into`), so libdlm's own
//! stores into an lksb on the two threads (`sb_lkid` after a request's `write()`, a
//! completion's in `dlm_dispatch`) never overlap either; that is also what lets a cancel go
//! out while the request it cancels is outstanding.
//!
//! A `NOQUEUE` first request in a mode above NL is made as an NL request, a `NOQUEUE`
//! conversion and, if that is refused, an unlock (`Via`): Linux 7.2.13 panics on a refused new
//! `NOQUEUE` request from user space. The caller sees the request's one completion.

use std::collections::VecDeque;
use std::ffi::{c_void, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use gdlm_core::flags::DlmLkf;
use gdlm_core::mode::DlmMode;
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::event::{Completion, Event, LockId, Status};
use crate::sys;

/// The LVB of a userspace lockspace.
pub type Lvb = [u8; sys::DLM_LVB_LEN];

/// How long closing waits for the submit thread to finish the request it is writing.
const SUBMIT_JOIN: Duration = Duration::from_secs(5);

/// One callback, as the trampolines record it: the cell's address, [`BAST`] in bit 0 (cells
/// are 8-byte aligned), so recording it is one store.
type Fired = usize;

/// Bit 0 of a [`Fired`]: a blocking callback.
const BAST: usize = 1;

/// How many callbacks one `dlm_dispatch` records without touching the heap.
const FIRED_INLINE: usize = 16;

/// The callbacks of one `dlm_dispatch`, in order: the first [`FIRED_INLINE`] in place, any
/// more (libdlm's dispatch reads every result the fd has) in `more`.
struct FiredList {
    n: usize,
    buf: [Fired; FIRED_INLINE],
    more: Vec<Fired>,
}

/// More than [`FIRED_INLINE`] callbacks in one dispatch (kept out of the trampolines; an
/// `extern "C"` function cannot unwind, so the trampolines need no frame to call it).
///
/// # Safety
/// `l` is the live callback list of a lockspace, not otherwise borrowed.
#[cold]
#[inline(never)]
unsafe extern "C" fn push_more(l: *mut FiredList, f: Fired) {
    // SAFETY: per the contract.
    unsafe { (*l).more.push(f) };
}

impl FiredList {
    fn len(&self) -> usize {
        self.n + self.more.len()
    }

    fn get(&self, i: usize) -> Fired {
        if i < FIRED_INLINE {
            self.buf[i]
        } else {
            self.more[i - FIRED_INLINE]
        }
    }

    fn clear(&mut self) {
        self.n = 0;
        self.more.clear();
    }
}

/// Bit 31 of [`Cell::id`]: no lock uses the cell (its last completion was delivered). A
/// [`LockId`] never has it, so one comparison checks both the generation and that the lock
/// is live.
const ENDED: u64 = 1 << 31;
/// One generation: a [`LockId`] is `generation << 32 | index` (index below 2^31).
const GENERATION: u64 = 1 << 32;

/// One lock's state shared with libdlm (at a fixed heap address until the lockspace closes).
struct Cell {
    lksb: sys::DlmLksb,
    lvb: Lvb,
    /// The [`LockId`] of the cell's current (or, with [`ENDED`], last) lock.
    id: u64,
    /// The lockspace's callback list (the trampolines append to it).
    fired: *mut FiredList,
    /// The lock has been granted at least once (so a failed or cancelled request leaves it).
    granted: bool,
    /// The lock was asked for with `VALBLK` last.
    valblk: bool,
    /// Submit thread only: a request was handed over and its completion (or refusal) has
    /// not been delivered. A further request (but a cancel) is refused with `EBUSY`
    /// meanwhile, as the kernel refuses it.
    outstanding: bool,
    /// Requests handed to the submit thread and not yet acknowledged: while this is not 0,
    /// only the submit thread's libdlm call touches `lksb` and `lvb` from Rust's side, the
    /// cell is not reused, and callbacks for it wait (`Lockspace::deferred`).
    inflight: u32,
    /// Where an anchored `NOQUEUE` request is ([`Via`]; `Via::Direct` for every other).
    via: Via,
    /// The anchored request's mode and flags (the conversion made once the NL is granted).
    want_mode: u32,
    want_flags: u32,
    /// The failed conversion's `sb_status` and `sb_flags` while its NL lock is unlocked.
    saved_status: i32,
    saved_flags: u8,
}

/// An anchored `NOQUEUE` first request (see [`Lockspace::lock`]): Linux 7.2.13's
/// `dlm_user_request` frees the lkb of a new `NOQUEUE` request whose remote master refuses it
/// before it adds the lkb to the process's lock list (the reply runs in softirq context and
/// drops the last reference between `request_lock` and `hold_lkb`): "refcount_t: addition
/// on 0" then list corruption and a panic, seen in `ci/realdlm` gdlmd-cluster3-mixed on
/// every few journal tries. A conversion's failure never ends its lkb, so such a request is
/// made as an NL request, a `NOQUEUE` conversion and, if that fails, an unlock; the caller
/// sees one completion, as for the request itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    /// A plain request (or an anchored one past its last hidden step).
    Direct,
    /// The NL request is out.
    Anchor,
    /// The `NOQUEUE` conversion is out.
    Convert,
    /// The conversion failed; the NL lock's unlock is out.
    Unwind,
}

/// Flags an anchored request may carry: each means the same on a conversion (an NL request
/// carries none of them; `EXPEDITE`, `PERSISTENT`, `ORPHAN`, ... keep the direct request).
const ANCHORABLE: DlmLkf = DlmLkf::NOQUEUE
    .union(DlmLkf::NOQUEUEBAST)
    .union(DlmLkf::VALBLK)
    .union(DlmLkf::IVVALBLK)
    .union(DlmLkf::NOORDER)
    .union(DlmLkf::HEADQUE)
    .union(DlmLkf::ALTPR)
    .union(DlmLkf::ALTCW);

/// Whether a first request is made anchored (see [`Via`]).
#[inline(always)]
fn anchored(mode: DlmMode, flags: DlmLkf) -> bool {
    flags.contains(DlmLkf::NOQUEUE) && mode != DlmMode::Nl && ANCHORABLE.contains(flags)
}

/// The cell's callback: append it to the lockspace's list.
///
/// # Safety
/// `c` is the `astarg` this crate gave libdlm: a cell of a live lockspace, whose list is not
/// otherwise borrowed while `dlm_dispatch` runs.
#[inline(always)]
unsafe fn fire(c: *mut Cell, tag: usize) {
    // SAFETY: see the function's contract; only the dispatching thread runs callbacks.
    unsafe {
        let l = (*c).fired;
        let n = (*l).n;
        if n < FIRED_INLINE {
            (*l).buf[n] = c as usize | tag;
            (*l).n = n + 1;
        } else {
            push_more(l, c as usize | tag);
        }
    }
}

extern "C" fn ast_trampoline(arg: *mut c_void) {
    // SAFETY: libdlm passes back the astarg of a request made by `Lockspace` (a cell).
    unsafe { fire(arg.cast(), 0) }
}

extern "C" fn bast_trampoline(arg: *mut c_void) {
    // SAFETY: as in `ast_trampoline`.
    unsafe { fire(arg.cast(), BAST) }
}

/// A raw pointer handed to the submit thread (see `Submitter` for who touches what).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the pointee (libdlm's handle, a cell) outlives the thread, which `close` joins
// before freeing either; the cell's fields are divided between the threads (`Cell::inflight`).
unsafe impl<T> Send for SendPtr<T> {}

/// One request, as the libdlm call takes it.
#[derive(Clone, Copy)]
enum OpRef<'a> {
    Lock {
        mode: u32,
        flags: u32,
        name: &'a [u8],
    },
    Unlock {
        flags: u32,
        lkid: u32,
    },
}

/// What the submit thread writes (an owned [`OpRef`]).
#[derive(Clone, Copy)]
enum Op {
    Lock {
        mode: u32,
        flags: u32,
        name: [u8; sys::DLM_RESNAME_MAXLEN],
        len: u8,
    },
    Unlock {
        flags: u32,
        /// `sb_lkid`, read by the caller's thread (libdlm stores it after the first
        /// request's `write()` returns, on the submit thread, before that request's ack).
        lkid: u32,
    },
    /// `dlm_ls_unlock(.., DLM_LKF_CANCEL, ..)`; the lkid is read on the submit thread when
    /// the cancel is written (the request it cancels may have been written just before).
    Cancel,
}

/// What an acknowledged request was (what its refusal means).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AckKind {
    /// A first request: a refusal ends the handle.
    First,
    /// A conversion or an unlock: a refusal is its completion.
    Other,
    /// A cancel: a refusal (the request had completed) delivers nothing; the request's own
    /// completion still comes.
    Cancel,
}

/// A request for the submit thread.
struct Req {
    cell: SendPtr<Cell>,
    op: Op,
}

/// The submit thread's answer: the request was written (`errno` 0) or refused at once.
struct Ack {
    cell: SendPtr<Cell>,
    errno: i32,
    kind: AckKind,
}

/// The submit thread and its channels.
struct Submitter {
    tx: Option<mpsc::Sender<Req>>,
    acks: mpsc::Receiver<Ack>,
    wake: Arc<EventFd>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A DLM lockspace opened through libdlm.
pub struct Lockspace {
    handle: NonNull<c_void>,
    name: CString,
    fd: RawFd,
    /// Created (released on drop) rather than only opened (closed on drop).
    created: bool,
    /// Every cell ever made, by index (`Box::into_raw`; freed in `close`).
    cells: Vec<*mut Cell>,
    /// Cells no lock uses and no request names.
    free: Vec<*mut Cell>,
    /// The callback list (`Box::into_raw`; freed in `close`).
    fired: *mut FiredList,
    /// Callbacks of cells with a request in flight on the submit thread, in order.
    deferred: Vec<Fired>,
    pending: VecDeque<Event>,
    submit: Option<Submitter>,
    /// Requests handed to the submit thread and not yet acknowledged (all cells).
    inflight: usize,
    /// The error of the last slow wait (see [`RawCompletion::FAILED`]).
    wait_error: Option<io::Error>,
    closed: bool,
}

// SAFETY: the handle is libdlm's heap struct with the lockspace fd; no libdlm call used here has
// thread affinity (no AST thread is started), callbacks run synchronously inside `dispatch` on
// whichever thread calls it, and the cells are only touched through `&mut self` (and by the
// submit thread, as `Cell::inflight` describes).
unsafe impl Send for Lockspace {}

/// A [`Completion`] in two words (returned in two registers): the lock, then the status in
/// bits 0..32, `sb_flags` 32..40, `last` bit 40, `valblk` bit 41, [`Self::FAILED`] bit 63.
#[derive(Clone, Copy)]
struct RawCompletion(u64, u64);

impl RawCompletion {
    /// The wait failed; its error is in `Lockspace::wait_error`.
    const FAILED: u64 = 1 << 63;

    #[inline(always)]
    fn pack(c: Completion) -> RawCompletion {
        RawCompletion(
            c.lock.0,
            u64::from(c.status.kernel_status() as u32)
                | u64::from(c.sb_flags) << 32
                | u64::from(c.last) << 40
                | u64::from(c.valblk) << 41,
        )
    }

    #[inline(always)]
    fn unpack(self) -> Completion {
        Completion {
            lock: LockId(self.0),
            status: Status::from_kernel(self.1 as u32 as i32),
            sb_flags: (self.1 >> 32) as u8,
            last: self.1 & 1 << 40 != 0,
            valblk: self.1 & 1 << 41 != 0,
        }
    }
}

/// A wait's bound as poll(2) takes it (milliseconds, -1 for none), converted from a
/// [`Duration`] once: build it once (`const T: Timeout = Timeout::from_secs(5)`) and a wait
/// does no arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout(i32);

impl Timeout {
    /// No bound.
    pub const NEVER: Timeout = Timeout(-1);

    /// `ms` milliseconds (saturating at `i32::MAX`).
    pub const fn from_millis(ms: u64) -> Timeout {
        Timeout(if ms > i32::MAX as u64 {
            i32::MAX
        } else {
            ms as i32
        })
    }

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Timeout {
        Timeout::from_millis(s.saturating_mul(1000))
    }

    /// The milliseconds poll(2) gets.
    pub const fn as_millis(self) -> i32 {
        self.0
    }
}

impl From<Duration> for Timeout {
    /// Whole milliseconds (`u64` arithmetic: `as_millis` is `u128`).
    fn from(t: Duration) -> Timeout {
        Timeout::from_millis(
            t.as_secs()
                .saturating_mul(1000)
                .saturating_add(u64::from(t.subsec_millis())),
        )
    }
}

#[cold]
fn bad_name() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "resource name must be 1..=64 bytes",
    )
}

#[cold]
fn use_convert() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "use convert() or cancel()")
}

/// `errno` of a libdlm call as an error (kept out of the callers' hot path).
#[cold]
fn os_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// The `errno` a libdlm call left.
#[cold]
fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

#[inline(always)]
fn check_mode(mode: DlmMode) -> io::Result<u32> {
    match u32::try_from(mode.raw()) {
        Ok(m) => Ok(m),
        Err(_) => Err(not_a_mode()),
    }
}

#[cold]
fn not_a_mode() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "DLM_LOCK_IV is not a mode")
}

/// Milliseconds on `CLOCK_MONOTONIC_COARSE` (cheap; a few ms of resolution is plenty for
/// timeouts).
fn coarse_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

/// `timeout` as poll(2)'s milliseconds.
fn poll_ms(timeout: Option<Duration>) -> i32 {
    timeout.map_or(Timeout::NEVER, Timeout::from).0
}

/// What is left of `ms` (from `start`, on the coarse clock); -1 stays -1.
fn left_ms(start: u64, ms: i32) -> i32 {
    if ms < 0 {
        return -1;
    }
    let end = start.saturating_add(ms as u64);
    end.saturating_sub(coarse_ms()) as i32
}

#[cold]
fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no such event in time")
}

#[cold]
fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such lock in this lockspace")
}

/// The libdlm call for one request; `Err(errno)` if it failed at once.
///
/// # Safety
/// As [`call_rv`].
#[inline(always)]
unsafe fn call(h: *mut c_void, c: *mut Cell, op: OpRef<'_>) -> Result<(), i32> {
    // SAFETY: per the contract.
    if unsafe { call_rv(h, c, op) } != 0 {
        return Err(errno());
    }
    Ok(())
}

/// The libdlm call for one request: its return value (0, or -1 with `errno` set).
///
/// # Safety
/// `h` is a live libdlm handle and `c` a live cell of its lockspace that no other thread
/// touches but through libdlm's dispatch (see `Cell::inflight`).
#[inline(always)]
unsafe fn call_rv(h: *mut c_void, c: *mut Cell, op: OpRef<'_>) -> i32 {
    // SAFETY: per the contract. libdlm stores `&(*c).lksb` (and through `sb_lvbptr`, set
    // once when the cell was made, `(*c).lvb`) and writes them only inside `dlm_dispatch`;
    // the name is valid for `len` bytes during the call (libdlm copies it); the callbacks
    // only record the cell.
    unsafe {
        match op {
            OpRef::Lock { mode, flags, name } => sys::dlm_ls_lock(
                h,
                mode,
                ptr::addr_of_mut!((*c).lksb),
                flags,
                name.as_ptr().cast(),
                name.len() as u32,
                0,
                Some(ast_trampoline),
                c.cast(),
                Some(bast_trampoline),
                ptr::null_mut(),
            ),
            OpRef::Unlock { flags, lkid } => {
                sys::dlm_ls_unlock(h, lkid, flags, ptr::addr_of_mut!((*c).lksb), c.cast())
            }
        }
    }
}

fn submit_thread(
    h: SendPtr<c_void>,
    rx: mpsc::Receiver<Req>,
    acks: mpsc::Sender<Ack>,
    wake: Arc<EventFd>,
    stop: Arc<AtomicBool>,
) {
    while let Ok(r) = rx.recv() {
        let kind = match r.op {
            Op::Lock { flags, .. } if flags & DlmLkf::CONVERT.bits() == 0 => AckKind::First,
            Op::Cancel => AckKind::Cancel,
            _ => AckKind::Other,
        };
        let errno = if stop.load(Ordering::Acquire) {
            libc::ECANCELED
        } else {
            let op = match &r.op {
                Op::Lock {
                    mode,
                    flags,
                    name,
                    len,
                } => Some(OpRef::Lock {
                    mode: *mode,
                    flags: *flags,
                    name: &name[..usize::from(*len)],
                }),
                Op::Unlock { flags, lkid } => Some(OpRef::Unlock {
                    flags: *flags,
                    lkid: *lkid,
                }),
                // SAFETY: the cell's lksb is this thread's while the cancel is in flight
                // (`Cell::inflight`); libdlm stored `sb_lkid` here, after the request's
                // write(), if that request went out.
                Op::Cancel => match unsafe { (*r.cell.0).lksb.sb_lkid } {
                    0 => None,
                    lkid => Some(OpRef::Unlock {
                        flags: DlmLkf::CANCEL.bits(),
                        lkid,
                    }),
                },
            };
            match op {
                // SAFETY: `close` joins this thread before releasing the handle or freeing
                // a cell; the main thread leaves the cell's lksb/LVB alone until the ack.
                Some(op) => match unsafe { call(h.0, r.cell.0, op) } {
                    Ok(()) => 0,
                    Err(e) => e,
                },
                None => libc::ENOENT,
            }
        };
        if acks
            .send(Ack {
                cell: r.cell,
                errno,
                kind,
            })
            .is_err()
        {
            return;
        }
        let _ = wake.write(1);
    }
}

impl Lockspace {
    /// `dlm_create_lockspace(name, 0600)`: create (or join, if this node already has it) the
    /// lockspace; needs root, the `dlm` module, dlm_controld and udev's `/dev/misc/dlm_*`.
    /// It blocks while the DLM adds this node (a caller with a loop to keep runs it on a
    /// thread of its own: a [`Lockspace`] is `Send`).
    pub fn create(name: &str) -> io::Result<Lockspace> {
        let cname = CString::new(name)?;
        // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
        let h = unsafe { sys::dlm_create_lockspace(cname.as_ptr(), 0o600) };
        match NonNull::new(h) {
            Some(h) => Self::wrap(h, cname, true),
            None => {
                let err = io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::EEXIST) {
                    Self::open(name)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// `dlm_open_lockspace(name)`: open a lockspace that exists on this node.
    pub fn open(name: &str) -> io::Result<Lockspace> {
        let cname = CString::new(name)?;
        // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
        let h = unsafe { sys::dlm_open_lockspace(cname.as_ptr()) };
        let h = NonNull::new(h).ok_or_else(io::Error::last_os_error)?;
        Self::wrap(h, cname, false)
    }

    fn wrap(handle: NonNull<c_void>, name: CString, created: bool) -> io::Result<Lockspace> {
        // SAFETY: `handle` was just returned non-NULL by libdlm and has not been released.
        let fd = unsafe { sys::dlm_ls_get_fd(handle.as_ptr()) };
        let ls = Lockspace {
            handle,
            name,
            fd,
            created,
            cells: Vec::new(),
            free: Vec::new(),
            fired: Box::into_raw(Box::new(FiredList {
                n: 0,
                buf: [0; FIRED_INLINE],
                more: Vec::new(),
            })),
            deferred: Vec::new(),
            pending: VecDeque::new(),
            submit: None,
            inflight: 0,
            wait_error: None,
            closed: false,
        };
        if fd < 0 {
            return Err(io::Error::other("dlm_ls_get_fd returned no fd"));
        }
        Ok(ls)
    }

    /// Moves the writing of requests to a thread of its own, so that a request the kernel
    /// holds (its `write()` blocks while the lockspace is stopped for recovery) does not stop
    /// the caller. From then on [`Lockspace::lock`], [`Lockspace::convert`],
    /// [`Lockspace::unlock`] and [`Lockspace::cancel`] only check their arguments and queue
    /// the request; one the kernel refuses comes back as its [`Completion`] with that status
    /// (`-errno`). Callbacks still run on the dispatching thread. Poll
    /// [`Lockspace::submit_fd`] beside the lockspace fd and call
    /// [`Lockspace::take_submitted`] when it is readable.
    pub fn start_submit_thread(&mut self) -> io::Result<()> {
        if self.submit.is_some() {
            return Ok(());
        }
        let wake = Arc::new(EventFd::from_flags(
            EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
        )?);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let (atx, acks) = mpsc::channel();
        let h = SendPtr(self.handle.as_ptr());
        let (w, s) = (wake.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("gdlm-submit".into())
            .spawn(move || submit_thread(h, rx, atx, w, s))?;
        self.submit = Some(Submitter {
            tx: Some(tx),
            acks,
            wake,
            stop,
            thread: Some(thread),
        });
        Ok(())
    }

    /// The submit thread's wake-up fd (readable when requests were written or refused), if
    /// [`Lockspace::start_submit_thread`] started it.
    pub fn submit_fd(&self) -> Option<BorrowedFd<'_>> {
        self.submit.as_ref().map(|s| s.wake.as_fd())
    }

    /// Requests in the submit thread's queue or being written, not yet acknowledged.
    pub fn submissions_in_flight(&self) -> usize {
        self.inflight
    }

    /// The lockspace name.
    pub fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }

    /// Locks whose handle is still valid.
    pub fn live_locks(&self) -> usize {
        self.cells
            .iter()
            // SAFETY: cells stay allocated until `close`; `id` is the main thread's.
            .filter(|&&c| unsafe { (*c).id } & ENDED == 0)
            .count()
    }

    /// The live cell of `lock`: its index names a cell whose current lock it is (one
    /// comparison: generation, index and [`ENDED`]).
    #[inline(always)]
    fn get(&self, lock: LockId) -> Option<*mut Cell> {
        let c = *self.cells.get(lock.0 as u32 as usize)?;
        // SAFETY: cells stay allocated until `close`; `id` is the main thread's.
        (unsafe { (*c).id } == lock.0).then_some(c)
    }

    #[inline(always)]
    fn alloc(&mut self, lvb: Option<&Lvb>, valblk: bool) -> *mut Cell {
        let c = match self.free.pop() {
            Some(c) => c,
            None => self.new_cell(),
        };
        // SAFETY: a free cell: its last completion was delivered and no request of the
        // submit thread names it (`release_cell`), so nothing else reads or writes it.
        unsafe {
            (*c).id = ((*c).id & !ENDED).wrapping_add(GENERATION);
            (*c).lksb.sb_status = 0;
            (*c).lksb.sb_lkid = 0;
            (*c).lksb.sb_flags = 0;
            (*c).lvb = match lvb {
                Some(v) => *v,
                None => [0; sys::DLM_LVB_LEN],
            };
            (*c).granted = false;
            (*c).valblk = valblk;
            (*c).via = Via::Direct;
        }
        c
    }

    /// A new cell (none free): allocated once, kept until `close`.
    #[cold]
    #[inline(never)]
    fn new_cell(&mut self) -> *mut Cell {
        let i = self.cells.len() as u64;
        assert!(i < ENDED, "2^31 locks in one lockspace");
        let c = Box::into_raw(Box::new(Cell {
            lksb: sys::DlmLksb {
                sb_status: 0,
                sb_lkid: 0,
                sb_flags: 0,
                sb_lvbptr: ptr::null_mut(),
            },
            lvb: [0; sys::DLM_LVB_LEN],
            id: i | ENDED,
            fired: self.fired,
            granted: false,
            valblk: false,
            outstanding: false,
            inflight: 0,
            via: Via::Direct,
            want_mode: 0,
            want_flags: 0,
            saved_status: 0,
            saved_flags: 0,
        }));
        // SAFETY: just allocated; the LVB buffer is the cell's own, at a fixed address.
        unsafe { (*c).lksb.sb_lvbptr = ptr::addr_of_mut!((*c).lvb).cast() };
        self.cells.push(c);
        c
    }

    /// The lock of `c` is gone (its last completion): its handle names nothing from now on;
    /// the cell is reused once no request of the submit thread names it (`take_acks`).
    #[inline(always)]
    fn release_cell(&mut self, c: *mut Cell) {
        // SAFETY: a cell of ours; `id` and `inflight` are the main thread's.
        unsafe {
            (*c).id |= ENDED;
            if (*c).inflight == 0 {
                self.free.push(c);
            }
        }
    }

    /// A first request that failed at once: its handle ends; the error.
    #[cold]
    #[inline(never)]
    fn refused(&mut self, c: *mut Cell) -> io::Error {
        let e = errno();
        self.release_cell(c);
        os_error(e)
    }

    /// Hands the request to the submit thread.
    #[inline(never)]
    fn queue(
        &mut self,
        c: *mut Cell,
        mut op: OpRef<'_>,
        lvb: Option<&Lvb>,
        valblk: bool,
    ) -> io::Result<()> {
        let s = self
            .submit
            .as_ref()
            .ok_or_else(|| io::Error::other("no submit thread"))?;
        // SAFETY: `c` is a live cell of this lockspace; `outstanding` false means no request
        // on `c` is in flight on the submit thread (and `inflight` is 0 with it).
        unsafe {
            if (*c).outstanding {
                return Err(io::Error::from_raw_os_error(libc::EBUSY));
            }
            let tx =
                s.tx.as_ref()
                    .ok_or_else(|| io::Error::other("submit thread stopped"))?;
            if let Some(v) = lvb {
                (*c).lvb = *v;
            }
            (*c).valblk = valblk;
            let op = match &mut op {
                OpRef::Lock { mode, flags, name } => {
                    let mut n = [0u8; sys::DLM_RESNAME_MAXLEN];
                    n[..name.len()].copy_from_slice(name);
                    Op::Lock {
                        mode: *mode,
                        flags: *flags,
                        name: n,
                        len: name.len() as u8,
                    }
                }
                OpRef::Unlock { flags, .. } => Op::Unlock {
                    flags: *flags,
                    lkid: (*c).lksb.sb_lkid,
                },
            };
            if tx
                .send(Req {
                    cell: SendPtr(c),
                    op,
                })
                .is_err()
            {
                return Err(io::Error::other("submit thread gone"));
            }
            (*c).inflight += 1;
            (*c).outstanding = true;
        }
        self.inflight += 1;
        Ok(())
    }

    /// [`Lockspace::queue`] for a conversion.
    #[inline(never)]
    fn queue_convert(
        &mut self,
        c: *mut Cell,
        mode: u32,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<()> {
        let op = OpRef::Lock {
            mode,
            flags: (flags | DlmLkf::CONVERT).bits(),
            name: b"-",
        };
        self.queue(c, op, lvb, flags.contains(DlmLkf::VALBLK))
    }

    /// [`Lockspace::queue`] for a first request: a refusal here ends the handle.
    #[inline(never)]
    fn queue_first(
        &mut self,
        c: *mut Cell,
        id: LockId,
        mode: u32,
        flags: DlmLkf,
        name: &[u8],
    ) -> io::Result<LockId> {
        let op = OpRef::Lock {
            mode,
            flags: flags.bits(),
            name,
        };
        match self.queue(c, op, None, flags.contains(DlmLkf::VALBLK)) {
            Ok(()) => Ok(id),
            Err(e) => {
                self.release_cell(c);
                Err(e)
            }
        }
    }

    /// `dlm_ls_lock`: request a new lock on `name` in `mode`. With `DLM_LKF_VALBLK` the LVB is
    /// read into the lock's buffer on grant (`lvb` only sets its initial contents). The
    /// outcome arrives as an [`Event::Completion`]. `CONVERT` and `CANCEL` are refused here
    /// (see [`Lockspace::convert`], [`Lockspace::cancel`]).
    ///
    /// A `NOQUEUE` request above NL (with flags a conversion also takes) goes out as an NL
    /// request, then a `NOQUEUE` conversion, then, if that is refused, the NL's unlock
    /// (Linux 7.2.13 frees a refused new `NOQUEUE` request's lkb in use); the completion is the
    /// request's own (`Again` with `last`, or the grant), and a cancel meanwhile finds nothing
    /// to cancel. Other nodes see an NL lock for that time, which blocks no mode. As for any
    /// first request, convert or unlock the lock only after its completion (with the submit
    /// thread an earlier one is refused with `EBUSY`; without it, it is the caller's error: a
    /// check on every conversion cost 10 instructions per lock cycle, `bench/libdlm-callgrind.sh`).
    #[inline(always)]
    pub fn lock(
        &mut self,
        name: &[u8],
        mode: DlmMode,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<LockId> {
        if name.is_empty() || name.len() > sys::DLM_RESNAME_MAXLEN {
            return Err(bad_name());
        }
        let m = check_mode(mode)?;
        if flags.intersects(DlmLkf::CONVERT | DlmLkf::CANCEL) {
            return Err(use_convert());
        }
        if anchored(mode, flags) {
            return self.lock_anchored(name, m, flags, lvb);
        }
        let valblk = flags.contains(DlmLkf::VALBLK);
        let c = self.alloc(lvb, valblk);
        // SAFETY: `alloc` returned a live cell.
        let id = LockId(unsafe { (*c).id });
        self.send_first(c, id, m, flags, name)
    }

    /// A first request on the new cell `c`: through the submit thread if there is one, else
    /// written here; a refusal ends the handle.
    #[inline(always)]
    fn send_first(
        &mut self,
        c: *mut Cell,
        id: LockId,
        mode: u32,
        flags: DlmLkf,
        name: &[u8],
    ) -> io::Result<LockId> {
        if self.submit.is_some() {
            return self.queue_first(c, id, mode, flags, name);
        }
        let op = OpRef::Lock {
            mode,
            flags: flags.bits(),
            name,
        };
        // SAFETY: `c` is a live cell of this lockspace; no libdlm call is running (we hold
        // `&mut self`) and no submit thread exists.
        if unsafe { call_rv(self.handle.as_ptr(), c, op) } != 0 {
            return Err(self.refused(c));
        }
        Ok(id)
    }

    /// A `NOQUEUE` first request, anchored (see [`Via`]): the NL request now, the conversion
    /// when it is granted ([`Lockspace::anchor_step`]).
    #[cold]
    #[inline(never)]
    fn lock_anchored(
        &mut self,
        name: &[u8],
        mode: u32,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<LockId> {
        let c = self.alloc(lvb, false);
        // SAFETY: `alloc` returned a live cell; `via` and the wanted request are the main
        // thread's fields.
        let id = unsafe {
            (*c).via = Via::Anchor;
            (*c).want_mode = mode;
            (*c).want_flags = flags.bits();
            LockId((*c).id)
        };
        self.send_first(c, id, DlmMode::Nl as u32, DlmLkf::empty(), name)
    }

    /// The next hidden step of an anchored request after its current one completed with
    /// `sb_status` (the callback's or, if the request was refused, `-errno`): the
    /// completion for the caller once there is one.
    #[cold]
    #[inline(never)]
    fn anchor_step(&mut self, c: *mut Cell, sb_status: i32, sb_flags: u8) -> Option<Completion> {
        // SAFETY: a live cell with no request in flight (its completion or refusal is being
        // handled); the main thread's fields.
        let (via, id, valblk) = unsafe {
            (*c).outstanding = false;
            ((*c).via, (*c).id, (*c).valblk)
        };
        match via {
            Via::Anchor if sb_status == 0 => {
                // SAFETY: as above.
                let (mode, flags) = unsafe {
                    (*c).granted = true;
                    (*c).via = Via::Convert;
                    ((*c).want_mode, DlmLkf::from_bits_retain((*c).want_flags))
                };
                match self.reissue_convert(c, mode, flags) {
                    Ok(()) => None,
                    Err(e) => self.anchor_unwind(c, -e, 0),
                }
            }
            Via::Convert if sb_status != 0 => self.anchor_unwind(c, sb_status, sb_flags),
            Via::Unwind => {
                // Whatever the unlock's outcome, the caller's request failed as the
                // conversion did; the handle ends.
                // SAFETY: as above.
                let (status, flags) = unsafe { ((*c).saved_status, (*c).saved_flags) };
                self.end_anchored(c);
                Some(Completion {
                    lock: LockId(id),
                    status: Status::from_sb_status(status),
                    sb_flags: flags,
                    last: true,
                    valblk,
                })
            }
            // The NL request failed (the handle ends: never granted), or the conversion was
            // granted: the caller's completion, as a direct request's.
            _ => {
                // SAFETY: as above.
                let granted = unsafe {
                    (*c).via = Via::Direct;
                    (*c).granted
                };
                let status = Status::from_sb_status(sb_status);
                let last = sb_status != 0 && !granted;
                if sb_status == 0 {
                    // SAFETY: as above.
                    unsafe { (*c).granted = true };
                } else if last {
                    self.release_cell(c);
                }
                Some(Completion {
                    lock: LockId(id),
                    status,
                    sb_flags,
                    last,
                    valblk,
                })
            }
        }
    }

    /// The anchored request failed after its NL was granted: unlock the NL, keeping the
    /// failure for the caller's completion.
    fn anchor_unwind(&mut self, c: *mut Cell, sb_status: i32, sb_flags: u8) -> Option<Completion> {
        // SAFETY: as in `anchor_step`.
        unsafe {
            (*c).via = Via::Unwind;
            (*c).saved_status = sb_status;
            (*c).saved_flags = sb_flags;
            (*c).valblk = false;
        }
        match self.reissue_unlock(c) {
            Ok(()) => None,
            // The NL lock stays until the lockspace is closed (it blocks nobody); the caller
            // gets the request's failure.
            Err(_) => {
                // SAFETY: as in `anchor_step`.
                let id = unsafe { (*c).id };
                self.end_anchored(c);
                Some(Completion {
                    lock: LockId(id),
                    status: Status::from_sb_status(sb_status),
                    sb_flags,
                    last: true,
                    valblk: false,
                })
            }
        }
    }

    fn end_anchored(&mut self, c: *mut Cell) {
        // SAFETY: as in `anchor_step`.
        unsafe { (*c).via = Via::Direct };
        self.release_cell(c);
    }

    /// An anchored request's conversion: through the submit thread if there is one.
    fn reissue_convert(&mut self, c: *mut Cell, mode: u32, flags: DlmLkf) -> Result<(), i32> {
        if self.submit.is_some() {
            return self
                .queue_convert(c, mode, flags, None)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO));
        }
        // SAFETY: as in `convert`: no submit thread, `&mut self`, a live cell.
        unsafe {
            (*c).valblk = flags.contains(DlmLkf::VALBLK);
            let op = OpRef::Lock {
                mode,
                flags: (flags | DlmLkf::CONVERT).bits(),
                name: b"-",
            };
            call(self.handle.as_ptr(), c, op)
        }
    }

    /// An anchored request's unlock of its NL lock.
    fn reissue_unlock(&mut self, c: *mut Cell) -> Result<(), i32> {
        if self.submit.is_some() {
            return self
                .queue_unlock(c, DlmLkf::empty(), None)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO));
        }
        // SAFETY: as in `reissue_convert`.
        unsafe {
            let op = OpRef::Unlock {
                flags: 0,
                lkid: (*c).lksb.sb_lkid,
            };
            call(self.handle.as_ptr(), c, op)
        }
    }

    /// `dlm_ls_lock(.., flags | DLM_LKF_CONVERT, ..)`: convert `lock` to `mode`. With
    /// `VALBLK`, a down-conversion from PW/EX writes `lvb` (or, if `None`, the lock's current
    /// LVB, see [`Lockspace::lvb_mut`]) and an up-conversion reads the resource's LVB.
    #[inline(always)]
    pub fn convert(
        &mut self,
        lock: LockId,
        mode: DlmMode,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<()> {
        let m = check_mode(mode)?;
        let c = self.get(lock).ok_or_else(not_found)?;
        if self.submit.is_some() {
            return self.queue_convert(c, m, flags, lvb);
        }
        let valblk = flags.contains(DlmLkf::VALBLK);
        // The name is ignored for a conversion (libdlm sends the lkid), but must be non-empty.
        let op = OpRef::Lock {
            mode: m,
            flags: (flags | DlmLkf::CONVERT).bits(),
            name: b"-",
        };
        // SAFETY: as in `lock`; the cell is live (`get`).
        unsafe {
            if let Some(v) = lvb {
                (*c).lvb = *v;
            }
            (*c).valblk = valblk;
            if call_rv(self.handle.as_ptr(), c, op) != 0 {
                return Err(os_error(errno()));
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn unlock_flags(&mut self, lock: LockId, flags: DlmLkf, lvb: Option<&Lvb>) -> io::Result<()> {
        let c = self.get(lock).ok_or_else(not_found)?;
        if self.submit.is_some() {
            return self.queue_unlock(c, flags, lvb);
        }
        // SAFETY: as in `convert`.
        unsafe {
            if let Some(v) = lvb {
                (*c).lvb = *v;
            }
            let op = OpRef::Unlock {
                flags: flags.bits(),
                lkid: (*c).lksb.sb_lkid,
            };
            if call_rv(self.handle.as_ptr(), c, op) != 0 {
                return Err(os_error(errno()));
            }
        }
        Ok(())
    }

    /// [`Lockspace::queue`] for an unlock (or a cancel without the thread's ordering).
    #[inline(never)]
    fn queue_unlock(&mut self, c: *mut Cell, flags: DlmLkf, lvb: Option<&Lvb>) -> io::Result<()> {
        // SAFETY: `valblk` is the main thread's field.
        let valblk = unsafe { (*c).valblk };
        let op = OpRef::Unlock {
            flags: flags.bits(),
            lkid: 0,
        };
        self.queue(c, op, lvb, valblk)
    }

    /// `dlm_ls_unlock`: release `lock` (with `VALBLK`, from PW/EX, writing `lvb` or the
    /// lock's current LVB). The [`Completion`] has [`Status::Unlocked`] and ends the handle.
    #[inline(always)]
    pub fn unlock(&mut self, lock: LockId, flags: DlmLkf, lvb: Option<&Lvb>) -> io::Result<()> {
        if flags.contains(DlmLkf::CANCEL) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "use cancel()"));
        }
        self.unlock_flags(lock, flags, lvb)
    }

    /// `dlm_ls_unlock(.., DLM_LKF_CANCEL, ..)`: cancel `lock`'s pending request or conversion.
    /// The request's own completion then has [`Status::Cancelled`] (a first request that is
    /// cancelled ends the handle; a cancelled conversion leaves the lock in its granted mode);
    /// a request that completed first keeps its own status, and the cancel has no completion
    /// of its own (the kernel's `dlm_user_cancel` ignores `-EBUSY`).
    ///
    /// With a submit thread the cancel goes through that thread, behind the request it
    /// cancels (so also while that request's write is still queued or blocked), and it reads
    /// the lock id there, after the request's write; a cancel the kernel refuses (the
    /// request had completed and the lock is gone, or the request itself was refused) is
    /// dropped: the request's completion says what happened.
    pub fn cancel(&mut self, lock: LockId) -> io::Result<()> {
        // An anchored request's hidden steps (a NOQUEUE request's) are not cancelled: its
        // completion comes as one that beat the cancel.
        if self
            .get(lock)
            // SAFETY: a live cell; `via` is the main thread's.
            .is_some_and(|c| unsafe { (*c).via } != Via::Direct)
        {
            return Ok(());
        }
        if self.submit.is_none() {
            return self.unlock_flags(lock, DlmLkf::CANCEL, None);
        }
        let c = self.get(lock).ok_or_else(not_found)?;
        let s = self
            .submit
            .as_ref()
            .ok_or_else(|| io::Error::other("no submit thread"))?;
        let tx =
            s.tx.as_ref()
                .ok_or_else(|| io::Error::other("submit thread stopped"))?;
        tx.send(Req {
            cell: SendPtr(c),
            op: Op::Cancel,
        })
        .map_err(|_| io::Error::other("submit thread gone"))?;
        // SAFETY: `inflight` is the main thread's; the cancel is not `outstanding` (it may go
        // out while the request it cancels is).
        unsafe { (*c).inflight += 1 };
        self.inflight += 1;
        Ok(())
    }

    /// The lock's DLM id (`sb_lkid`), 0 until first granted.
    pub fn lkid(&self, lock: LockId) -> Option<u32> {
        let c = self.get(lock)?;
        // SAFETY: a live cell; libdlm only writes it inside `dispatch` (needs `&mut self`) or
        // on the submit thread while `inflight` is not 0.
        unsafe { ((*c).inflight == 0).then(|| (*c).lksb.sb_lkid) }
    }

    /// The lock's LVB buffer as last read or written.
    pub fn lvb(&self, lock: LockId) -> Option<Lvb> {
        let c = self.get(lock)?;
        // SAFETY: as in `lkid`.
        unsafe { ((*c).inflight == 0).then(|| (*c).lvb) }
    }

    /// The lock's LVB buffer, to change in place: a down-conversion or unlock with `VALBLK`
    /// and no `lvb` argument writes it (as C callers write `sb_lvbptr`). `None` for a stale
    /// handle or while a request of the submit thread uses the buffer.
    #[inline]
    pub fn lvb_mut(&mut self, lock: LockId) -> Option<&mut Lvb> {
        let c = self.get(lock)?;
        // SAFETY: a live cell; libdlm writes the buffer only inside `dispatch` (`&mut self`,
        // which this borrow excludes), the submit thread reads it only while `inflight` is
        // not 0.
        unsafe { ((*c).inflight == 0).then(|| &mut (*c).lvb) }
    }

    /// The LVB a completion delivered (`None` without `VALBLK`), read on demand from the
    /// lock's buffer: also after the lock's last completion, until a new lock reuses its cell.
    #[inline]
    pub fn completion_lvb(&self, c: &Completion) -> Option<&Lvb> {
        if !c.valblk {
            return None;
        }
        let cell = *self.cells.get(c.lock.0 as u32 as usize)?;
        // SAFETY: cells stay allocated until `close` (which needs `&mut self`); the id says it
        // is still this lock's (live or ended, not reused); libdlm writes the LVB only inside
        // `dispatch` (`&mut self`), the submit thread only reads it (`inflight` checked).
        unsafe { ((*cell).id & !ENDED == c.lock.0 && (*cell).inflight == 0).then(|| &(*cell).lvb) }
    }

    /// Runs `dlm_dispatch` (the results the fd has) and queues the events they produced.
    /// Call it when the fd is readable. Returns how many callbacks ran.
    pub fn dispatch(&mut self) -> io::Result<usize> {
        self.dispatch_into(None, &mut None)
    }

    /// [`Lockspace::dispatch`], putting `want`'s first completion in `found` instead of
    /// queueing it (the wait loop's fast path: no queue round trip).
    fn dispatch_into(
        &mut self,
        want: Option<LockId>,
        found: &mut Option<Completion>,
    ) -> io::Result<usize> {
        if self.submit.is_some() {
            self.take_acks();
            // Results are read only once no write is in flight: libdlm stores into an lksb
            // after a request's write() (on the submit thread) and in dlm_dispatch (here),
            // and the two must not overlap. (This does not close the Linux 7.2.13
            // use-after-free of a refused new NOQUEUE request, which needs no read: the
            // reply frees the lkb in softirq context; see `Via`.)
            if self.inflight > 0 {
                return Ok(0);
            }
        }
        // SAFETY: `self.fd` is the open fd of this live handle; the callbacks only append to
        // `*self.fired`; the lksb/LVB addresses libdlm writes through are cells of
        // `self.cells` (allocated until `close`). No request is in flight (above).
        let rv = unsafe { sys::dlm_dispatch(self.fd) };
        let n = self.run_callbacks(want, found);
        if rv < 0 && n == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n)
    }

    /// Turns the recorded callbacks into events (or `want`'s completion into `found`).
    fn run_callbacks(&mut self, want: Option<LockId>, found: &mut Option<Completion>) -> usize {
        // SAFETY: the list is only touched by the callbacks, which ran and returned.
        let fired = unsafe { &mut *self.fired };
        let n = fired.len();
        for i in 0..n {
            let f = fired.get(i);
            match self.event_of(f) {
                Some(Event::Completion(c)) if found.is_none() && want == Some(c.lock) => {
                    *found = Some(c)
                }
                Some(ev) => self.pending.push_back(ev),
                None => {}
            }
        }
        fired.clear();
        n
    }

    /// The event of one callback; `None` if it waits for its cell's request to be
    /// acknowledged, or names no live lock.
    fn event_of(&mut self, f: Fired) -> Option<Event> {
        let c = (f & !BAST) as *mut Cell;
        // SAFETY: `c` is a cell of `self.cells` (the astarg of one of our requests);
        // `inflight` and `id` are the main thread's.
        unsafe {
            if (*c).inflight != 0 {
                self.deferred.push(f);
                return None;
            }
            if (*c).id & ENDED != 0 {
                return None;
            }
            if f & BAST != 0 {
                return Some(Event::Blocking {
                    lock: LockId((*c).id),
                });
            }
            if (*c).via != Via::Direct {
                let (st, fl) = ((*c).lksb.sb_status, (*c).lksb.sb_flags as u8);
                return self.anchor_step(c, st, fl).map(Event::Completion);
            }
        }
        Some(Event::Completion(self.complete::<false>(c)))
    }

    /// The completion of `c`'s request (`SYNC`: no submit thread, so no request is
    /// outstanding or in flight and the cell is free once ended).
    #[inline(always)]
    fn complete<const SYNC: bool>(&mut self, c: *mut Cell) -> Completion {
        // SAFETY: a live cell with no request in flight; `dlm_dispatch` has returned, so
        // libdlm is not writing it now.
        unsafe {
            let raw = (*c).lksb.sb_status;
            let id = (*c).id;
            if !SYNC {
                (*c).outstanding = false;
            }
            let status = Status::from_sb_status(raw);
            let last = if raw == 0 {
                (*c).granted = true;
                false
            } else if status == Status::Unlocked || !(*c).granted {
                if SYNC {
                    (*c).id |= ENDED;
                    self.free.push(c);
                } else {
                    self.release_cell(c);
                }
                true
            } else {
                false
            };
            Completion {
                lock: LockId(id),
                status,
                sb_flags: (*c).lksb.sb_flags as u8,
                last,
                valblk: (*c).valblk,
            }
        }
    }

    /// Acknowledgements from the submit thread: refusals become completions, deferred
    /// callbacks are delivered.
    fn take_acks(&mut self) {
        let Some(s) = self.submit.as_mut() else {
            return;
        };
        let _ = s.wake.read();
        let mut acked = false;
        while let Some(Ok(a)) = self.submit.as_ref().map(|s| s.acks.try_recv()) {
            acked = true;
            let c = a.cell.0;
            self.inflight -= 1;
            // SAFETY: `inflight` is the main thread's; the thread is done with this request.
            let (id, granted, valblk, idle, via) = unsafe {
                (*c).inflight -= 1;
                if a.errno != 0 && a.kind != AckKind::Cancel {
                    (*c).outstanding = false;
                }
                (
                    (*c).id,
                    (*c).granted,
                    (*c).valblk,
                    (*c).inflight == 0,
                    (*c).via,
                )
            };
            if a.errno != 0 && a.kind != AckKind::Cancel && id & ENDED == 0 && via != Via::Direct {
                if let Some(done) = self.anchor_step(c, -a.errno, 0) {
                    self.pending.push_back(Event::Completion(done));
                }
            } else if a.errno != 0 && a.kind != AckKind::Cancel && id & ENDED == 0 {
                let last = a.kind == AckKind::First && !granted;
                self.pending.push_back(Event::Completion(Completion {
                    lock: LockId(id),
                    status: Status::from_kernel(-a.errno),
                    sb_flags: 0,
                    last,
                    valblk,
                }));
                if last {
                    self.release_cell(c);
                }
            } else if idle && id & ENDED != 0 {
                // The lock ended while a request (a cancel) still named the cell: reusable
                // now.
                self.free.push(c);
            }
        }
        if !acked {
            return;
        }
        // Deferred callbacks whose cell has no request in flight any more, in order.
        if !self.deferred.is_empty() {
            let deferred = std::mem::take(&mut self.deferred);
            for f in deferred {
                if let Some(ev) = self.event_of(f) {
                    self.pending.push_back(ev);
                }
            }
        }
    }

    /// After [`Lockspace::submit_fd`] became readable: takes the submit thread's
    /// acknowledgements and queues what they produced (refused requests as completions,
    /// callbacks that waited for them); returns how many events are queued now.
    pub fn take_submitted(&mut self) -> usize {
        self.take_acks();
        self.pending.len()
    }

    /// The oldest event [`Lockspace::dispatch`] queued, without any I/O (a poll loop
    /// dispatches when the fd is readable, then takes the events here).
    pub fn take_event(&mut self) -> Option<Event> {
        self.pending.pop_front()
    }

    /// Polls the lockspace fd (not while a request is in flight, see `dispatch_into`) and
    /// the submit thread's for up to `ms` (-1: forever): (lockspace fd readable, submit fd
    /// readable).
    fn poll2(&self, ms: i32) -> io::Result<(bool, bool)> {
        let mut pfd = [
            libc::pollfd {
                fd: if self.inflight > 0 { -1 } else { self.fd },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.submit.as_ref().map_or(-1, |s| s.wake.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let n = if self.submit.is_some() { 2 } else { 1 };
        loop {
            // SAFETY: `pfd` holds `n` valid pollfds for the duration of the call.
            let rv = unsafe { libc::poll(pfd.as_mut_ptr(), n, ms) };
            if rv >= 0 {
                return Ok((pfd[0].revents != 0, pfd[1].revents != 0));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Waits up to `timeout` (`None`: forever) for the lockspace fd to become readable.
    pub fn poll(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = poll_ms(timeout);
        loop {
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            let rv = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rv >= 0 {
                return Ok(rv > 0);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// One wait step: polls both fds for up to `ms` and runs what is ready; false on timeout.
    fn step(
        &mut self,
        ms: i32,
        want: Option<LockId>,
        found: &mut Option<Completion>,
    ) -> io::Result<bool> {
        let (ls, sub) = self.poll2(ms)?;
        if sub {
            self.take_acks();
        }
        if ls {
            self.dispatch_into(want, found)?;
        }
        Ok(ls || sub)
    }

    /// The next event, polling and dispatching as needed; `None` once `timeout` passes.
    pub fn next_event(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        let (start, ms) = (coarse_ms(), poll_ms(Some(timeout)));
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }
            if !self.step(left_ms(start, ms), None, &mut None)? {
                return Ok(None);
            }
        }
    }

    /// Waits up to `timeout` for the first event `want` accepts (queued or new) and takes it;
    /// the other events stay queued, in order.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Event) -> bool,
    ) -> io::Result<Event> {
        let (start, ms) = (coarse_ms(), poll_ms(Some(timeout)));
        let mut seen = 0;
        loop {
            if let Some(i) = self.pending.iter().skip(seen).position(&mut want) {
                if let Some(ev) = self.pending.remove(seen + i) {
                    return Ok(ev);
                }
            }
            seen = self.pending.len();
            if !self.step(left_ms(start, ms), None, &mut None)? {
                return Err(timed_out());
            }
        }
    }

    fn take_queued_completion(&mut self, lock: LockId) -> Option<Completion> {
        let mine = |e: &Event| matches!(e, Event::Completion(c) if c.lock == lock);
        let i = self.pending.iter().position(mine)?;
        match self.pending.remove(i) {
            Some(Event::Completion(c)) => Some(c),
            _ => None,
        }
    }

    /// Waits for `lock`'s next completion (other events stay queued): up to `timeout`, or up
    /// to twice that when other events keep waking it. A [`Timeout`] made once (a `const`)
    /// costs nothing per wait; a [`Duration`] is converted here.
    #[inline(always)]
    pub fn wait_completion(
        &mut self,
        lock: LockId,
        timeout: impl Into<Timeout>,
    ) -> io::Result<Completion> {
        let ms = timeout.into().0;
        let raw = if self.pending.is_empty() && self.submit.is_none() {
            // The hot path of every synchronous caller (inlined into it): one poll, one
            // `dlm_dispatch`, and the completion taken from the callback list, where the
            // AST trampoline recorded it.
            let mut pfd = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
            if ready > 0 {
                // SAFETY: as in `dispatch_into` (no submit thread).
                let rv = unsafe { sys::dlm_dispatch(self.fd) };
                // SAFETY: the list is only touched by the callbacks, which ran and returned.
                let fired = unsafe { &mut *self.fired };
                if fired.n == 1 {
                    let f = fired.buf[0];
                    let cell = f as *mut Cell;
                    // SAFETY: an AST's `f` is one of our cells (allocated until `close`);
                    // with no submit thread nothing else touches it now. An anchored
                    // request's step takes the slow path.
                    let mine = unsafe { (*cell).id == lock.0 && (*cell).via == Via::Direct };
                    if f & BAST == 0 && mine {
                        fired.n = 0;
                        return Ok(self.complete::<true>(f as *mut Cell));
                    }
                }
                self.wait_after_dispatch(lock, ms, rv)
            } else {
                self.wait_not_ready(lock, ms, ready)
            }
        } else {
            self.wait_completion_slow(lock, ms)
        };
        // The slow paths answer in two registers (an `io::Result<Completion>` would come
        // back through memory and keep the fast path's result there too).
        if raw.1 & RawCompletion::FAILED != 0 {
            return Err(self.take_wait_error());
        }
        Ok(raw.unpack())
    }

    /// The error a slow wait left (see [`RawCompletion::FAILED`]).
    #[cold]
    #[inline(never)]
    fn take_wait_error(&mut self) -> io::Error {
        self.wait_error
            .take()
            .unwrap_or_else(|| io::Error::other("wait failed"))
    }

    /// A slow wait's outcome in registers; an error is kept in `wait_error`.
    #[cold]
    fn raw(&mut self, r: io::Result<Completion>) -> RawCompletion {
        match r {
            Ok(c) => RawCompletion::pack(c),
            Err(e) => {
                self.wait_error = Some(e);
                RawCompletion(0, RawCompletion::FAILED)
            }
        }
    }

    /// The fast path's dispatch delivered something else (or more): queue it, then wait on.
    #[cold]
    #[inline(never)]
    fn wait_after_dispatch(&mut self, lock: LockId, ms: i32, rv: i32) -> RawCompletion {
        let mut found = None;
        let n = self.run_callbacks(Some(lock), &mut found);
        if let Some(c) = found {
            return RawCompletion::pack(c);
        }
        if rv < 0 && n == 0 {
            return self.raw(Err(io::Error::last_os_error()));
        }
        self.wait_completion_slow(lock, ms)
    }

    /// The fast path's poll timed out (0) or failed (-1).
    #[cold]
    #[inline(never)]
    fn wait_not_ready(&mut self, lock: LockId, ms: i32, ready: i32) -> RawCompletion {
        if ready == 0 {
            return self.raw(Err(timed_out()));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return self.raw(Err(e));
        }
        self.wait_completion_slow(lock, ms)
    }

    /// [`Lockspace::wait_completion`] once something else woke it (or with a submit thread):
    /// the deadline starts now.
    #[inline(never)]
    fn wait_completion_slow(&mut self, lock: LockId, ms: i32) -> RawCompletion {
        let r = self.wait_completion_loop(lock, ms);
        self.raw(r)
    }

    fn wait_completion_loop(&mut self, lock: LockId, ms: i32) -> io::Result<Completion> {
        if let Some(c) = self.take_queued_completion(lock) {
            return Ok(c);
        }
        let start = coarse_ms();
        let mut left = ms;
        loop {
            let mut found = None;
            if !self.step(left, Some(lock), &mut found)? {
                return Err(timed_out());
            }
            if let Some(c) = found {
                return Ok(c);
            }
            if let Some(c) = self.take_queued_completion(lock) {
                return Ok(c);
            }
            left = left_ms(start, ms);
        }
    }

    /// Waits up to `timeout` for a BAST on `lock` (other events stay queued).
    pub fn wait_blocking(&mut self, lock: LockId, timeout: Duration) -> io::Result<()> {
        self.wait_event(timeout, |e| *e == Event::Blocking { lock })
            .map(|_| ())
    }

    /// Takes the queued events that are BASTs for `lock`.
    pub fn take_basts(&mut self, lock: LockId) -> usize {
        let before = self.pending.len();
        self.pending
            .retain(|e| !matches!(e, Event::Blocking { lock: l } if *l == lock));
        before - self.pending.len()
    }

    /// `dlm_release_lockspace` (created) or `dlm_close_lockspace` (opened). `force` releases
    /// even with locks still held. With a submit thread, requests not yet written are dropped
    /// and the one being written is waited for (5 s); if the kernel still holds it, the
    /// lockspace is left to the process's exit (nothing is freed that the thread uses) and
    /// this returns an error.
    pub fn release(mut self, force: bool) -> io::Result<()> {
        self.close(force)
    }

    fn close(&mut self, force: bool) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if let Some(mut s) = self.submit.take() {
            s.stop.store(true, Ordering::Release);
            drop(s.tx.take());
            let end = std::time::Instant::now() + SUBMIT_JOIN;
            let t = s.thread.take();
            while t.as_ref().is_some_and(|t| !t.is_finished()) && std::time::Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
            match t {
                Some(t) if !t.is_finished() => {
                    // The thread is inside libdlm with our handle and a cell: leak both.
                    std::mem::forget(t);
                    return Err(io::Error::other(
                        "a request is still being written to the kernel; the lockspace is \
                         left to the process's exit",
                    ));
                }
                Some(t) => {
                    let _ = t.join();
                }
                None => {}
            }
        }
        // SAFETY: the handle is live and released exactly once (guarded by `closed`); libdlm
        // frees it and closes the fd. No submit thread is running.
        let rv = unsafe {
            if self.created {
                sys::dlm_release_lockspace(
                    self.name.as_ptr(),
                    self.handle.as_ptr(),
                    i32::from(force),
                )
            } else {
                sys::dlm_close_lockspace(self.handle.as_ptr())
            }
        };
        let r = if rv != 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        };
        // The fd is closed: no more callbacks can reach the cells.
        for c in std::mem::take(&mut self.cells) {
            // SAFETY: every cell came from `Box::into_raw` in `alloc` and is freed only here.
            drop(unsafe { Box::from_raw(c) });
        }
        self.free.clear();
        // SAFETY: from `Box::into_raw` in `wrap`, freed only here (`closed` guards).
        drop(unsafe { Box::from_raw(self.fired) });
        self.fired = ptr::null_mut();
        r
    }
}

impl Drop for Lockspace {
    fn drop(&mut self) {
        let _ = self.close(true);
    }
}

impl AsRawFd for Lockspace {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsFd for Lockspace {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd stays open as long as `self` (closed only by `close`).
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

impl std::fmt::Debug for Lockspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockspace")
            .field("name", &self.name)
            .field("fd", &self.fd)
            .field("locks", &self.live_locks())
            .field("submit_thread", &self.submit.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_polls_milliseconds() {
        const T: Timeout = Timeout::from_secs(5);
        assert_eq!(T.as_millis(), 5000);
        assert_eq!(Timeout::NEVER.as_millis(), -1);
        assert_eq!(Timeout::from_millis(u64::MAX).as_millis(), i32::MAX);
        assert_eq!(Timeout::from_secs(u64::MAX).as_millis(), i32::MAX);
        assert_eq!(Timeout::from(Duration::from_micros(2500)).as_millis(), 2);
        assert_eq!(left_ms(coarse_ms(), -1), -1);
        let left = left_ms(coarse_ms(), 10_000);
        assert!((9_000..=10_000).contains(&left), "{left}");
        assert_eq!(
            left_ms(0, 5),
            0,
            "a deadline in the past leaves 0, not a negative wait"
        );
    }

    #[test]
    fn a_raw_completion_carries_every_field() {
        for status in [0, -11, -35, -5, -22, -0x10001, -0x10002, i32::MIN, 1] {
            for (sb_flags, last, valblk) in
                [(0, false, false), (7, true, false), (0xff, false, true)]
            {
                let c = Completion {
                    lock: LockId(0xdead_beef_0000_0042),
                    status: Status::from_kernel(status),
                    sb_flags,
                    last,
                    valblk,
                };
                let r = RawCompletion::pack(c);
                assert_eq!(r.1 & RawCompletion::FAILED, 0);
                assert_eq!(r.unpack(), c);
            }
        }
    }

    #[test]
    fn poll_timeouts_convert_once_and_saturate() {
        assert_eq!(poll_ms(None), -1);
        assert_eq!(poll_ms(Some(Duration::from_millis(1500))), 1500);
        assert_eq!(poll_ms(Some(Duration::from_micros(999))), 0);
        assert_eq!(poll_ms(Some(Duration::from_secs(u64::MAX))), i32::MAX);
    }

    #[test]
    fn a_cell_is_small_and_an_op_carries_a_whole_name() {
        // lksb 24 + LVB 32 + id 8 + list 8 + flags/counters: two cache lines at most.
        assert!(std::mem::size_of::<Cell>() <= 128);
        let op = Op::Lock {
            mode: 5,
            flags: 0,
            name: [b'x'; sys::DLM_RESNAME_MAXLEN],
            len: 64,
        };
        assert!(matches!(op, Op::Lock { len: 64, .. }));
    }
}
