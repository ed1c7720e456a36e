// SPDX-License-Identifier: GPL-2.0-only
//! The safe wrapper over libdlm: [`Lockspace`] and its locks ([`LockId`]).
//!
//! Memory: libdlm keeps the address of each lock's `struct dlm_lksb` (and through it the LVB
//! buffer) from the request until the completion, and writes both when `dlm_dispatch` runs the
//! AST. So every lock's lksb and LVB live in a heap cell owned by the lockspace, at a fixed
//! address, freed only after the lock's last completion or when the lockspace is gone; a
//! [`LockId`] is a plain number naming the cell. libdlm's callbacks get that number as their
//! `astarg` and only record it; the events are built after `dlm_dispatch` returns.
//!
//! Threads: no libdlm thread is started (`dlm_ls_pthread_init` is never called). ASTs and BASTs
//! run inside [`Lockspace::dispatch`], on the caller's thread, when it has polled the
//! lockspace fd ([`Lockspace::as_raw_fd`]; [`Lockspace::next_event`] does both).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{c_void, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::ptr::{self, NonNull};
use std::time::Duration;

use gdlm_core::flags::DlmLkf;
use gdlm_core::mode::DlmMode;

use crate::event::{Completion, Event, LockId, Status};
use crate::sys;

/// The LVB of a userspace lockspace.
pub type Lvb = [u8; sys::DLM_LVB_LEN];

/// How many finished cells a lockspace keeps for reuse.
const SPARE_CELLS: usize = 64;

/// One lock's state shared with libdlm (at a fixed heap address while the lock exists).
struct Cell {
    lksb: sys::DlmLksb,
    lvb: Lvb,
    /// The lock has been granted at least once (so a failed or cancelled request leaves it).
    granted: bool,
    /// The lock was asked for with `VALBLK` last.
    valblk: bool,
}

/// The lockspace's cells, indexed by the low 32 bits of a [`LockId`]; the high 32 bits are the
/// slot's generation, so a stale id never names a newer lock in a reused slot.
#[derive(Default)]
struct Slab {
    slots: Vec<(u32, Option<NonNull<Cell>>)>,
    free: Vec<u32>,
    live: usize,
}

impl Slab {
    fn insert(&mut self, p: NonNull<Cell>) -> u64 {
        self.live += 1;
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push((0, None));
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[i as usize];
        slot.0 = slot.0.wrapping_add(1);
        slot.1 = Some(p);
        (u64::from(slot.0) << 32) | u64::from(i)
    }

    fn get(&self, id: u64) -> Option<NonNull<Cell>> {
        match self.slots.get(id as u32 as usize) {
            Some(&(gen, Some(p))) if u64::from(gen) == id >> 32 => Some(p),
            _ => None,
        }
    }

    fn remove(&mut self, id: u64) -> Option<NonNull<Cell>> {
        let p = self.get(id)?;
        self.slots[id as u32 as usize].1 = None;
        self.free.push(id as u32);
        self.live -= 1;
        Some(p)
    }

    fn ids(&self) -> Vec<u64> {
        let slots = self.slots.iter().enumerate();
        slots
            .filter(|(_, s)| s.1.is_some())
            .map(|(i, s)| (u64::from(s.0) << 32) | i as u64)
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Fired {
    Ast(u64),
    Bast(u64),
}

thread_local! {
    /// Callbacks run by the current `dlm_dispatch` call, drained right after it returns.
    static FIRED: RefCell<Vec<Fired>> = const { RefCell::new(Vec::new()) };
}

extern "C" fn ast_trampoline(arg: *mut c_void) {
    let _ = FIRED.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            f.push(Fired::Ast(arg as usize as u64));
        }
    });
}

extern "C" fn bast_trampoline(arg: *mut c_void) {
    let _ = FIRED.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            f.push(Fired::Bast(arg as usize as u64));
        }
    });
}

/// A DLM lockspace opened through libdlm.
pub struct Lockspace {
    handle: NonNull<c_void>,
    name: CString,
    fd: RawFd,
    /// Created (released on drop) rather than only opened (closed on drop).
    created: bool,
    cells: Slab,
    /// Cells of finished locks kept for reuse (saves an allocation per lock).
    spare: Vec<NonNull<Cell>>,
    /// The callback buffer swapped with `FIRED` around each `dlm_dispatch` (no allocation).
    fired: Vec<Fired>,
    pending: VecDeque<Event>,
    closed: bool,
}

// SAFETY: the handle is libdlm's heap struct with the lockspace fd; no libdlm call used here has
// thread affinity (no AST thread is started), callbacks run synchronously inside `dispatch` on
// whichever thread calls it, and the cells are only touched through `&mut self`.
unsafe impl Send for Lockspace {}

fn check_name(name: &[u8]) -> io::Result<()> {
    if name.is_empty() || name.len() > sys::DLM_RESNAME_MAXLEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "resource name must be 1..=64 bytes",
        ));
    }
    Ok(())
}

fn check_mode(mode: DlmMode) -> io::Result<u32> {
    u32::try_from(mode.raw())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "DLM_LOCK_IV is not a mode"))
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

/// A deadline `timeout` from now, on the coarse clock; `left()` is what remains of it.
struct Deadline(u64);

impl Deadline {
    fn after(timeout: Duration) -> Deadline {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX / 2);
        Deadline(coarse_ms().saturating_add(ms))
    }

    fn left(&self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(coarse_ms()))
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no such event in time")
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such lock in this lockspace")
}

impl Lockspace {
    /// `dlm_create_lockspace(name, 0600)`: create (or join, if this node already has it) the
    /// lockspace; needs root, the `dlm` module, dlm_controld and udev's `/dev/misc/dlm_*`.
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
            cells: Slab::default(),
            spare: Vec::new(),
            fired: Vec::new(),
            pending: VecDeque::new(),
            closed: false,
        };
        if fd < 0 {
            return Err(io::Error::other("dlm_ls_get_fd returned no fd"));
        }
        Ok(ls)
    }

    /// The lockspace name.
    pub fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }

    /// Locks whose handle is still valid.
    pub fn live_locks(&self) -> usize {
        self.cells.live
    }

    fn alloc(&mut self, lvb: Option<&Lvb>, valblk: bool) -> (u64, NonNull<Cell>) {
        let cell = Cell {
            lksb: sys::DlmLksb {
                sb_status: 0,
                sb_lkid: 0,
                sb_flags: 0,
                sb_lvbptr: ptr::null_mut(),
            },
            lvb: lvb.copied().unwrap_or([0; sys::DLM_LVB_LEN]),
            granted: false,
            valblk,
        };
        let p = match self.spare.pop() {
            Some(p) => {
                // SAFETY: a spare cell is an allocation of `Box<Cell>` no lock uses any more
                // (see `free`); overwriting a plain-data `Cell` needs no drop.
                unsafe { p.as_ptr().write(cell) };
                p
            }
            None => NonNull::from(Box::leak(Box::new(cell))),
        };
        (self.cells.insert(p), p)
    }

    fn free(&mut self, id: u64) {
        if let Some(p) = self.cells.remove(id) {
            // libdlm holds no pending request on `p` (its last completion was delivered, or the
            // lockspace fd is closed), so it can be reused or released.
            if self.spare.len() < SPARE_CELLS && !self.closed {
                self.spare.push(p);
            } else {
                // SAFETY: `p` came from `Box::leak` in `alloc` and left `cells` just now; it is
                // in no other list, so this is its only release.
                drop(unsafe { Box::from_raw(p.as_ptr()) });
            }
        }
    }

    fn submit(
        &mut self,
        id: u64,
        cell: NonNull<Cell>,
        mode: u32,
        flags: DlmLkf,
        name: &[u8],
    ) -> io::Result<()> {
        let c = cell.as_ptr();
        // SAFETY: `c` is a live cell owned by `self.cells` (fixed heap address until `free`).
        // libdlm stores `&(*c).lksb` (and through `sb_lvbptr`, `(*c).lvb`) and writes them only
        // inside `dlm_dispatch`, which runs under `&mut self`; `name` is valid for `namelen`
        // bytes during the call (libdlm copies it); the callbacks only record their argument.
        let rv = unsafe {
            (*c).lksb.sb_lvbptr = ptr::addr_of_mut!((*c).lvb).cast();
            sys::dlm_ls_lock(
                self.handle.as_ptr(),
                mode,
                ptr::addr_of_mut!((*c).lksb),
                flags.bits(),
                name.as_ptr().cast(),
                name.len() as u32,
                0,
                Some(ast_trampoline),
                id as usize as *mut c_void,
                Some(bast_trampoline),
                ptr::null_mut(),
            )
        };
        if rv != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// `dlm_ls_lock`: request a new lock on `name` in `mode`. With `DLM_LKF_VALBLK` the LVB is
    /// read into the lock's buffer on grant (`lvb` only sets its initial contents). The
    /// outcome arrives as an [`Event::Completion`]. `CONVERT` and `CANCEL` are refused here
    /// (see [`Lockspace::convert`], [`Lockspace::cancel`]).
    pub fn lock(
        &mut self,
        name: &[u8],
        mode: DlmMode,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<LockId> {
        check_name(name)?;
        let m = check_mode(mode)?;
        if flags.intersects(DlmLkf::CONVERT | DlmLkf::CANCEL) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "use convert() or cancel()",
            ));
        }
        let (id, cell) = self.alloc(lvb, flags.contains(DlmLkf::VALBLK));
        match self.submit(id, cell, m, flags, name) {
            Ok(()) => Ok(LockId(id)),
            Err(e) => {
                self.free(id);
                Err(e)
            }
        }
    }

    /// `dlm_ls_lock(.., flags | DLM_LKF_CONVERT, ..)`: convert `lock` to `mode`. With
    /// `VALBLK`, a down-conversion from PW/EX writes `lvb` (or, if `None`, the lock's current
    /// LVB) and an up-conversion reads the resource's LVB.
    pub fn convert(
        &mut self,
        lock: LockId,
        mode: DlmMode,
        flags: DlmLkf,
        lvb: Option<&Lvb>,
    ) -> io::Result<()> {
        let m = check_mode(mode)?;
        let cell = self.cells.get(lock.0).ok_or_else(not_found)?;
        let c = cell.as_ptr();
        // SAFETY: `c` is a live cell of `self.cells`; no libdlm call is running (we hold
        // `&mut self`), so nothing else reads or writes it now.
        unsafe {
            if let Some(v) = lvb {
                (*c).lvb = *v;
            }
            (*c).valblk = flags.contains(DlmLkf::VALBLK);
        }
        // The name is ignored for a conversion (libdlm sends the lkid), but must be non-empty.
        self.submit(lock.0, cell, m, flags | DlmLkf::CONVERT, b"-")
    }

    fn unlock_flags(&mut self, lock: LockId, flags: DlmLkf, lvb: Option<&Lvb>) -> io::Result<()> {
        let cell = self.cells.get(lock.0).ok_or_else(not_found)?;
        let c = cell.as_ptr();
        // SAFETY: `c` is a live cell of `self.cells` (see `submit`); libdlm keeps `&(*c).lksb`
        // until the unlock/cancel completion, which `dispatch` delivers before freeing it.
        let rv = unsafe {
            if let Some(v) = lvb {
                (*c).lvb = *v;
            }
            (*c).lksb.sb_lvbptr = ptr::addr_of_mut!((*c).lvb).cast();
            sys::dlm_ls_unlock(
                self.handle.as_ptr(),
                (*c).lksb.sb_lkid,
                flags.bits(),
                ptr::addr_of_mut!((*c).lksb),
                lock.0 as usize as *mut c_void,
            )
        };
        if rv != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// `dlm_ls_unlock`: release `lock` (with `VALBLK`, from PW/EX, writing `lvb` or the
    /// lock's current LVB). The [`Completion`] has [`Status::Unlocked`] and ends the handle.
    pub fn unlock(&mut self, lock: LockId, flags: DlmLkf, lvb: Option<&Lvb>) -> io::Result<()> {
        if flags.contains(DlmLkf::CANCEL) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "use cancel()"));
        }
        self.unlock_flags(lock, flags, lvb)
    }

    /// `dlm_ls_unlock(.., DLM_LKF_CANCEL, ..)`: cancel `lock`'s pending request or conversion.
    /// The request's own completion then has [`Status::Cancelled`] (a first request that is
    /// cancelled ends the handle; a cancelled conversion leaves the lock in its granted mode).
    pub fn cancel(&mut self, lock: LockId) -> io::Result<()> {
        self.unlock_flags(lock, DlmLkf::CANCEL, None)
    }

    /// The lock's DLM id (`sb_lkid`), 0 until first granted.
    pub fn lkid(&self, lock: LockId) -> Option<u32> {
        let c = self.cells.get(lock.0)?.as_ptr();
        // SAFETY: a live cell; libdlm only writes it inside `dispatch` (needs `&mut self`).
        Some(unsafe { (*c).lksb.sb_lkid })
    }

    /// The lock's LVB buffer as last read or written.
    pub fn lvb(&self, lock: LockId) -> Option<Lvb> {
        let c = self.cells.get(lock.0)?.as_ptr();
        // SAFETY: as in `lkid`.
        Some(unsafe { (*c).lvb })
    }

    /// Runs `dlm_dispatch` once (one result from the fd) and queues the events it produced.
    /// Blocks if nothing is pending: call it when the fd is readable.
    pub fn dispatch(&mut self) -> io::Result<usize> {
        self.dispatch_into(None, &mut None)
    }

    /// [`Lockspace::dispatch`], putting `want`'s first completion in `found` instead of
    /// queueing it (the wait loop's fast path: no queue round trip, no large moves).
    fn dispatch_into(
        &mut self,
        want: Option<LockId>,
        found: &mut Option<Completion>,
    ) -> io::Result<usize> {
        // SAFETY: `self.fd` is the open fd of this live handle; the callbacks only push to
        // `FIRED`; the lksb/LVB addresses libdlm writes through are live cells of `self.cells`
        // (cells are freed only after their last completion is drained below).
        let rv = unsafe { sys::dlm_dispatch(self.fd) };
        let mut fired = std::mem::take(&mut self.fired);
        FIRED.with(|f| std::mem::swap(&mut *f.borrow_mut(), &mut fired));
        let n = fired.len();
        for &f in &fired {
            let ev = match f {
                Fired::Bast(id) => Event::Blocking { lock: LockId(id) },
                Fired::Ast(id) => match self.complete(id) {
                    Some(c) if found.is_none() && want == Some(c.lock) => {
                        *found = Some(c);
                        continue;
                    }
                    Some(c) => Event::Completion(c),
                    None => continue,
                },
            };
            self.pending.push_back(ev);
        }
        fired.clear();
        self.fired = fired;
        if rv < 0 && n == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n)
    }

    fn complete(&mut self, id: u64) -> Option<Completion> {
        let c = self.cells.get(id)?.as_ptr();
        // SAFETY: a live cell of `self.cells`; `dlm_dispatch` has returned, so libdlm is not
        // writing it now.
        let (raw, lkid, flags, lvb, granted, valblk) = unsafe {
            (
                (*c).lksb.sb_status,
                (*c).lksb.sb_lkid,
                (*c).lksb.sb_flags as u8,
                (*c).lvb,
                (*c).granted,
                (*c).valblk,
            )
        };
        let status = Status::from_sb_status(raw);
        let last = match status {
            Status::Granted => {
                // SAFETY: as above.
                unsafe { (*c).granted = true };
                false
            }
            Status::Unlocked => true,
            _ => !granted,
        };
        let completion = Completion {
            lock: LockId(id),
            lkid,
            status,
            sb_flags: flags,
            lvb: valblk.then_some(lvb),
            last,
        };
        if last {
            self.free(id);
        }
        Some(completion)
    }

    /// The oldest event [`Lockspace::dispatch`] queued, without any I/O (a poll loop
    /// dispatches when the fd is readable, then takes the events here).
    pub fn take_event(&mut self) -> Option<Event> {
        self.pending.pop_front()
    }

    /// Waits up to `timeout` (`None`: forever) for the lockspace fd to become readable.
    pub fn poll(&self, timeout: Option<Duration>) -> io::Result<bool> {
        // u64 arithmetic: `as_millis` is u128 and costs more than the rest of a wait.
        let ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t
                    .as_secs()
                    .saturating_mul(1000)
                    .saturating_add(u64::from(t.subsec_millis()));
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
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

    /// The next event, polling and dispatching as needed; `None` once `timeout` passes.
    pub fn next_event(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        let deadline = Deadline::after(timeout);
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(Some(ev));
            }
            let left = deadline.left();
            if !self.poll(Some(left))? {
                return Ok(None);
            }
            self.dispatch()?;
        }
    }

    /// Waits up to `timeout` for the first event `want` accepts (queued or new) and takes it;
    /// the other events stay queued, in order.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Event) -> bool,
    ) -> io::Result<Event> {
        let deadline = Deadline::after(timeout);
        let mut seen = 0;
        loop {
            if let Some(i) = self.pending.iter().skip(seen).position(&mut want) {
                if let Some(ev) = self.pending.remove(seen + i) {
                    return Ok(ev);
                }
            }
            seen = self.pending.len();
            let left = deadline.left();
            if !self.poll(Some(left))? {
                return Err(timed_out());
            }
            self.dispatch()?;
        }
    }

    /// Waits for `lock`'s next completion (other events stay queued): up to `timeout`, or up
    /// to twice that when other events keep waking it.
    pub fn wait_completion(&mut self, lock: LockId, timeout: Duration) -> io::Result<Completion> {
        let mine = |e: &Event| matches!(e, Event::Completion(c) if c.lock == lock);
        if let Some(i) = self.pending.iter().position(mine) {
            if let Some(Event::Completion(c)) = self.pending.remove(i) {
                return Ok(c);
            }
        }
        // The hot path of every synchronous caller: poll, dispatch, and take the completion
        // straight from the callback list. The clock is read only once something else woke
        // us (the deadline starts then, so such a wait is bounded by twice `timeout`).
        let mut deadline: Option<Deadline> = None;
        let mut left = timeout;
        loop {
            if !self.poll(Some(left))? {
                return Err(timed_out());
            }
            let mut found = None;
            self.dispatch_into(Some(lock), &mut found)?;
            if let Some(c) = found {
                return Ok(c);
            }
            left = deadline
                .get_or_insert_with(|| Deadline::after(timeout))
                .left();
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
    /// even with locks still held.
    pub fn release(mut self, force: bool) -> io::Result<()> {
        self.close(force)
    }

    fn close(&mut self, force: bool) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        // SAFETY: the handle is live and released exactly once (guarded by `closed`); libdlm
        // frees it and closes the fd.
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
        for id in self.cells.ids() {
            self.free(id);
        }
        for p in std::mem::take(&mut self.spare) {
            // SAFETY: spare cells came from `Box::leak` in `alloc` and are in no other list.
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
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
            .field("locks", &self.cells.live)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_ids_are_not_reused_across_generations() {
        let mut s = Slab::default();
        let p = NonNull::<Cell>::dangling(); // never dereferenced
        let a = s.insert(p);
        let b = s.insert(p);
        assert_ne!(a, b);
        assert_eq!(s.live, 2);
        assert!(s.remove(a).is_some());
        assert!(s.get(a).is_none());
        assert!(s.remove(a).is_none());
        let c = s.insert(p); // reuses a's slot with a new generation
        assert_eq!(c as u32, a as u32);
        assert_ne!(c, a);
        assert!(s.get(a).is_none());
        assert!(s.get(c).is_some());
        let mut ids = s.ids();
        ids.sort();
        let mut want = vec![b, c];
        want.sort();
        assert_eq!(ids, want);
        assert_eq!(s.live, 2);
        assert!(s.get(u64::MAX).is_none());
    }
}
