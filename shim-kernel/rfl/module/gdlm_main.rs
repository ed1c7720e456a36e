// SPDX-License-Identifier: GPL-2.0-only
//! gdlm_rfl: GFS2's lock_dlm glue (fs/gfs2/lock_dlm.c) as a Rust-for-Linux module for
//! Debian's stock Linux 7.2. gdlm-core's `Engine` decides everything (lockspace flags,
//! control_mount, own journal, first mounter's pass, the control step, journal recovery,
//! the release option); this module only executes its actions, like the C-glue gdlm.ko
//! (shim-kernel/module) and gdlmd:
//!
//! - every DLM callback (AST, recover_prep/slot/done) and every result becomes one
//!   `Engine::handle` under the mount's spin lock (`ls_recover_spin`), then a kick of the
//!   pump;
//! - the pump (a work item) drains `Engine::poll` and performs each action outside the
//!   lock, then (re)starts an hrtimer for `Engine::poll_timeout`, whose callback queues the
//!   pump again.
//!
//! The DLM API is bound in `dlm.rs`, the only file with `unsafe`. Control and status are the
//! C-glue module's debugfs files (`/sys/kernel/debug/gdlm/{ctl,status}`) and commands
//! (`mount`, `lock`, `unlock`, `bench`, `unmount`, `withdraw`).
//!
//! A journal "replay" never writes a disk, as in the C glue: `recovery=gaveup` (a lockspace
//! shared with GFS2) gives another node's journal up (`-EROFS`, the engine reports GAVEUP);
//! `recovery=success` (module-only lockspaces) uses the journal lock's LVB as the journal:
//! invalid (`DLM_SBF_VALNOTVALID`) or not `gdlm-journal-clean` means dirty, "replayed" by
//! holding the lock `REPLAY_MS` and writing it clean (the engine's unlock writes it back).
//! The DLM keeps a resource's LVB only while some lock exists on it (fs/dlm/lock.c
//! `deactivate_rsb` frees `res_lvbptr` with the last lock), so each node holds an NL
//! "anchor" on every journal resource while in the lockspace: the replayer's clean write
//! outlives its unlock (the C glue's `take_anchors`, which says more).

mod dlm;

use kernel::debugfs::{Dir, File};
use kernel::fmt;
use kernel::impl_has_hr_timer;
use kernel::new_condvar;
use kernel::new_mutex;
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, ArcBorrow, CondVar, Mutex, SpinLock};
use kernel::time::hrtimer::{
    ArcHrTimerHandle, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerPointer,
    HrTimerRestart, RelativeMode,
};
use kernel::time::{msecs_to_jiffies, Delta, Monotonic};
use kernel::uaccess::UserSliceReader;
use kernel::workqueue::{self, impl_has_work, new_work, Work, WorkItem};

use gdlm_core::consts::{
    DLM_EUNLOCK, DLM_LKF_CONVERT, DLM_LKF_VALBLK, DLM_LOCK_EX, DLM_LOCK_NL, DLM_RELEASE_NORMAL,
    DLM_RELEASE_RECOVER, DLM_SBF_VALNOTVALID,
};
use gdlm_core::engine::{
    Action, Config, DlmOp, Engine, Event, Instant, Level, LockRef, LogEvent, MountFailure, Phase,
    Release, ReplayOutcome, ReplayReason,
};
use gdlm_core::flags::{LmFlags, LockRequest};
use gdlm_core::glock::{Glock, GlockDone, Put};
use gdlm_core::mode::LmState;
use gdlm_core::mount::LockTable;
use gdlm_core::name::LockName;
use gdlm_core::Profile;

use dlm::{AstTarget, DlmLock, Lockspace, LockspaceOwner, Slot, LVB_LEN};

module! {
    type: GdlmRfl,
    name: "gdlm_rfl",
    authors: ["gdlm"],
    description: "gdlm: GFS2 lock_dlm (gdlm-core's engine) as a Rust-for-Linux module",
    license: "GPL",
}

/// Journals the engine can track: gfs2's usual cluster sizes. `Engine<192>::handle` has a
/// frame of about 28 KiB, more than a kernel stack (16 KiB); the C-glue module runs 16 too.
const MAXJ: usize = 16;
/// The C glue's `journals=` default (gfs2's jindex stands behind it).
const DEFAULT_JOURNALS: u32 = 8;
/// How long a recovery=success "replay" holds the journal lock (the C glue's GDLM_REPLAY_MS).
const REPLAY_MS: u64 = 300;
/// The longest the pump's timer is set for (the engine's deadlines are 500 ms and `HZ`; this
/// only bounds the `Delta`).
const PUMP_MAX_SLEEP_MS: u64 = 3_600_000;
const JOURNAL_CLEAN: &[u8] = b"gdlm-journal-clean\0";
const MAX_MOUNTS: usize = 2;

/// Tags of the engine's locks in their [`DlmLock`]s.
const TAG_CONTROL: u32 = 1000;
const TAG_MOUNTED: u32 = 1001;
/// Test lock `i` is tagged `TAG_TEST + i`.
const TAG_TEST: u32 = 2000;
/// Journal anchor `j` is tagged `TAG_ANCHOR + j`.
const TAG_ANCHOR: u32 = 3000;
/// Test locks per mount (the C glue's GDLM_MAX_LOCKS).
const MAXT: usize = 16;

/// A glock-style test lock: gdlm-core's `Glock` (gdlm_lock, gdlm_ast, gdlm_bast, put_lock)
/// decides; the module makes its DLM calls.
struct TestLock {
    glock: Glock,
    /// The completion of the request in flight arrived.
    done: bool,
    /// Freed (the unlock completed).
    freed: bool,
    /// The benchmark's C-only path: `glock` is not used, the decisions are the C glue's
    /// hard-coded ones (`c_only` in shim-kernel/module/gdlm_glocks.c).
    bare: Option<Bare>,
}

/// The C-only path's lock state (the C glue's `c_state`, `c_req`, `lksb.sb_lkid`).
#[derive(Clone, Copy)]
struct Bare {
    state: LmState,
    req: LmState,
    lkid: u32,
}

impl TestLock {
    fn new(name: LockName, bare: bool) -> Self {
        TestLock {
            glock: Glock::new(Profile::Linux72, name, true),
            done: true,
            freed: false,
            bare: bare.then_some(Bare {
                state: LmState::Unlocked,
                req: LmState::Unlocked,
                lkid: 0,
            }),
        }
    }
}

/// A NUL-terminated name of at most 64 bytes (cluster or lockspace name).
#[derive(Clone, Copy)]
struct Name([u8; 65]);

impl Name {
    fn new(s: &str) -> Self {
        let mut n = [0u8; 65];
        let l = s.len().min(64);
        n[..l].copy_from_slice(&s.as_bytes()[..l]);
        Name(n)
    }
    fn as_str(&self) -> &str {
        let l = self.0.iter().position(|&b| b == 0).unwrap_or(64);
        core::str::from_utf8(&self.0[..l]).unwrap_or("?")
    }
    fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"")
    }
}

/// What the engine's actions said, for the ctl waiters and the status file, and the
/// engine itself: everything guarded by the mount's spin lock.
struct Inner {
    engine: Engine<MAXJ>,
    /// The mount itself, for kicks from callbacks (which get `&Mount`); dropped at free.
    me: Option<Arc<Mount>>,
    mounted: bool,
    first: bool,
    jid: u32,
    failed: bool,
    released: bool,
    mount_error: i32,
    last_done_gen: u32,
    recover_dones: u32,
    control_lvb: [u8; LVB_LEN],
    /// A recovery=success replay in progress: its jid and when it is done.
    replay: Option<(u32, Instant)>,
    refused: u32,
    /// Being freed: nothing is queued any more.
    stopping: bool,
    tl: [Option<TestLock>; MAXT],
    /// A BAST asked for a demote: the pump runs it.
    demote_owed: bool,
    /// The pump's timer while started (its handle: dropping it cancels the timer).
    timer: Option<ArcHrTimerHandle<Mount>>,
}

#[pin_data]
struct Mount {
    cluster: Name,
    fsname: Name,
    recovery_success: bool,
    t0: kernel::time::Instant<Monotonic>,
    #[pin]
    inner: SpinLock<Inner>,
    #[pin]
    cond: CondVar,
    /// The joined lockspace; set and taken by the pump, used by it for the DLM calls
    /// (never under `inner`: an AST may run inside dlm_lock and take `inner`).
    #[pin]
    ls: Mutex<Option<Lockspace>>,
    /// One pump at a time.
    #[pin]
    pump_lock: Mutex<()>,
    #[pin]
    kick: Work<Mount, 0>,
    /// The engine's next deadline: an hrtimer, restarted by every pump (a `DelayedWork`
    /// cannot be moved earlier once queued: the kernel crate has no `mod_delayed_work`),
    /// that queues `kick`.
    #[pin]
    timer: HrTimer<Mount>,
    control: DlmLock,
    mounted_lk: DlmLock,
    journal: [DlmLock; MAXJ],
    /// recovery=success: the NL anchors of the journal resources (`journals` of them).
    anchors: [DlmLock; MAXJ],
    journals: u32,
    /// The glock-style test locks' DLM locks (`lock`/`unlock` commands).
    tlocks: [DlmLock; MAXT],
}

impl_has_work! {
    impl HasWork<Self, 0> for Mount { self.kick }
}
impl_has_hr_timer! {
    impl HasHrTimer<Self> for Mount { mode: RelativeMode<Monotonic>, field: self.timer }
}

impl WorkItem<0> for Mount {
    type Pointer = Arc<Mount>;
    fn run(this: Arc<Mount>) {
        pump(&this);
    }
}
impl HrTimerCallback for Mount {
    type Pointer<'a> = Arc<Mount>;
    /// Hard interrupt context: no lock (`inner` is taken with interrupts on), only
    /// `queue_work`, which is interrupt-safe. `free` cancels the timer before it flushes
    /// `kick`.
    fn run(this: ArcBorrow<'_, Mount>, _ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let _ = workqueue::system_unbound().enqueue::<Arc<Mount>, 0>(Arc::from(this));
        HrTimerRestart::NoRestart
    }
}

macro_rules! info {
    ($m:expr, $($arg:tt)*) => {
        pr_info!("gdlm: {}: {}\n", $m.fsname.as_str(), format_args!($($arg)*))
    };
}
macro_rules! err {
    ($m:expr, $($arg:tt)*) => {
        pr_err!("gdlm: {}: {}\n", $m.fsname.as_str(), format_args!($($arg)*))
    };
}

impl Mount {
    fn new(
        t: &LockTable,
        recovery_success: bool,
        profile: Profile,
        journals: u32,
    ) -> Result<Arc<Mount>> {
        let cfg = Config::for_profile(profile);
        let journal_lvb = recovery_success;
        Arc::pin_init(
            pin_init!(&this in Mount {
                cluster: Name::new(t.cluster.as_str()),
                fsname: Name::new(t.fsname.as_str()),
                recovery_success,
                t0: kernel::time::Instant::<Monotonic>::now(),
                inner <- new_spinlock!(Inner {
                    engine: Engine::new(cfg),
                    me: None,
                    mounted: false,
                    first: false,
                    jid: 0,
                    failed: false,
                    released: false,
                    mount_error: 0,
                    last_done_gen: 0,
                    recover_dones: 0,
                    control_lvb: [0; LVB_LEN],
                    replay: None,
                    refused: 0,
                    stopping: false,
                    tl: [const { None }; MAXT],
                    demote_owed: false,
                    timer: None,
                }, "gdlm_rfl::ls_recover_spin"),
                cond <- new_condvar!("gdlm_rfl::wq"),
                ls <- new_mutex!(None, "gdlm_rfl::ls"),
                pump_lock <- new_mutex!((), "gdlm_rfl::pump"),
                kick <- new_work!("gdlm_rfl::pump"),
                timer <- HrTimer::new(),
                // `this` is the Arc's final address: the locks' completions go to it, and
                // the Arc is kept until the lockspace is released (see `free`).
                control: DlmLock::new(this.as_ptr() as *const Mount, TAG_CONTROL, true),
                mounted_lk: DlmLock::new(this.as_ptr() as *const Mount, TAG_MOUNTED, false),
                journal: core::array::from_fn(|j| {
                    DlmLock::new(this.as_ptr() as *const Mount, j as u32, journal_lvb)
                }),
                anchors: core::array::from_fn(|j| {
                    DlmLock::new(this.as_ptr() as *const Mount, TAG_ANCHOR + j as u32, false)
                }),
                journals,
                tlocks: core::array::from_fn(|i| {
                    DlmLock::new(this.as_ptr() as *const Mount, TAG_TEST + i as u32, true).with_bast()
                }),
            }),
            GFP_KERNEL,
        )
    }

    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.t0.elapsed().as_millis()).unwrap_or(0))
    }

    fn elock(&self, r: LockRef) -> Option<&DlmLock> {
        match r {
            LockRef::Control => Some(&self.control),
            LockRef::Mounted => Some(&self.mounted_lk),
            LockRef::Journal(j) => self.journal.get(j as usize),
        }
    }

    /// `Engine::handle` under the spin lock, then a kick of the pump.
    fn event(&self, ev: Event<'_>) -> Result {
        let mut g = self.inner.lock();
        let now = self.now();
        match g.engine.handle(now, ev) {
            Ok(()) => {
                g.kick();
                Ok(())
            }
            Err(e) => {
                g.refused += 1;
                drop(g);
                err!(self, "event refused: {}", e);
                Err(EINVAL)
            }
        }
    }

    fn log(&self, ev: &LogEvent) {
        // one line per jid (the kernel prints `recover generation N jid J` per jid)
        if let LogEvent::RecoverJids { jids, .. } = ev {
            for j in jids.iter() {
                info!(self, "{}", ev.line(j));
            }
            return;
        }
        match ev.level() {
            Level::Err => err!(self, "{}", ev),
            Level::Info => info!(self, "{}", ev),
            Level::Debug => {}
        }
    }
}

impl Inner {
    /// Run the pump now (under the lock, so that `free`'s flush is never overtaken).
    fn kick(&self) {
        if let (Some(me), false) = (self.me.clone(), self.stopping) {
            let _ = workqueue::system_unbound().enqueue::<Arc<Mount>, 0>(me);
        }
    }

    /// Run the pump in `ms`, earlier or later than the timer was set for. The old handle is
    /// dropped first (its drop cancels the timer, waiting for a running callback, which takes
    /// no lock), then the timer is started anew.
    fn arm(&mut self, ms: u64) {
        drop(self.timer.take());
        if let (Some(me), false) = (self.me.clone(), self.stopping) {
            let ms = ms.clamp(1, PUMP_MAX_SLEEP_MS) as i64;
            self.timer = Some(me.start(Delta::from_millis(ms)));
        }
    }
}

impl LockspaceOwner for Mount {
    fn recover_prep(&self) {
        let _ = self.event(Event::RecoverPrep);
    }
    fn recover_slot(&self, s: Slot) {
        info!(self, "recover_slot nodeid {} slot {}", s.nodeid, s.slot);
        let _ = self.event(Event::RecoverSlot { slot: s.slot });
    }
    fn recover_done(&self, slots: &[Slot], our_slot: i32, generation: u32) {
        info!(
            self,
            "recover_done generation {} slots {} our_slot {}",
            generation,
            slots.len(),
            our_slot
        );
        let mut ids = [0i32; MAXJ];
        let n = slots.len().min(MAXJ);
        for (d, s) in ids.iter_mut().zip(slots.iter()) {
            *d = s.slot;
        }
        if slots.len() > MAXJ {
            err!(
                self,
                "recover_done with {} slots, more than {}",
                slots.len(),
                MAXJ
            );
        }
        let _ = self.event(Event::RecoverDone {
            slots: &ids[..n],
            our_slot,
            generation,
        });
        self.inner.lock().recover_dones += 1;
        self.cond.notify_all();
    }
}

impl Mount {
    fn now_ns(&self) -> i64 {
        self.t0.elapsed().as_nanos()
    }

    /// `gdlm_ast` of a test lock: gdlm-core's Glock takes the completion.
    fn test_ast(&self, lock: &DlmLock, status: i32, sb_flags: u8, lkid: u32) {
        let i = (lock.tag - TAG_TEST) as usize;
        let now = self.now_ns();
        let mut g = self.inner.lock();
        let Some(t) = g.tl.get_mut(i).and_then(|t| t.as_mut()) else {
            drop(g);
            err!(self, "completion for test lock {} that does not exist", i);
            return;
        };
        if let Some(b) = t.bare.as_mut() {
            // the C glue's c_only glk_ast: the cases the benchmark meets; gdlm_ast's
            // gfs2_update_reply_times reads the clock (lock_dlm.c L120)
            clock_read();
            if status == -DLM_EUNLOCK {
                b.state = LmState::Unlocked;
                b.lkid = 0;
                t.freed = true;
            } else if status == 0 {
                b.state = b.req;
                b.lkid = lkid;
            }
            t.done = true;
            drop(g);
            self.cond.notify_all();
            return;
        }
        t.glock.set_lkid(lkid);
        let r = t.glock.complete(status, sb_flags, now);
        t.done = true;
        let owed = t.glock.demote().is_some();
        match r {
            Ok(GlockDone::Complete {
                lvb_zeroed: true, ..
            })
            | Ok(GlockDone::Freed { lvb_zeroed: true }) => {
                let _ = lock.set_lvb(&[0; LVB_LEN]);
            }
            _ => {}
        }
        if matches!(r, Ok(GlockDone::Freed { .. })) {
            t.freed = true;
        }
        if owed {
            g.demote_owed = true;
            g.kick();
        }
        drop(g);
        if let Err(e) = r {
            err!(self, "test lock completion refused: {:?}", e);
        }
        self.cond.notify_all();
    }
}

impl AstTarget for Mount {
    fn bast(&self, lock: &DlmLock, mode: i32) {
        let Some(i) = lock.tag.checked_sub(TAG_TEST).map(|i| i as usize) else {
            return;
        };
        let mut g = self.inner.lock();
        let Some(t) =
            g.tl.get_mut(i)
                .and_then(|t| t.as_mut().filter(|t| t.bare.is_none()))
        else {
            return;
        };
        let name = t.glock.name();
        let from = t.glock.state();
        let r = t.glock.bast(mode);
        if let Ok(Some(_)) = r {
            g.demote_owed = true;
            g.kick();
        }
        drop(g);
        match r {
            Ok(Some(to)) => info!(
                self,
                "bast {:x},{:x} mode {}: demote {} -> {}",
                name.ln_type,
                name.ln_number,
                mode,
                state_name(from),
                state_name(to)
            ),
            Ok(None) => {}
            Err(e) => err!(self, "bast refused: {:?}", e),
        }
    }

    fn ast(
        &self,
        lock: &DlmLock,
        status: i32,
        sb_flags: u8,
        lkid: u32,
        lvb: Option<[u8; LVB_LEN]>,
    ) {
        if lock.tag >= TAG_ANCHOR {
            // NL is compatible with every mode: only a lockspace that goes fails it
            if status != 0 {
                err!(
                    self,
                    "journal anchor {} status {}",
                    lock.tag - TAG_ANCHOR,
                    status
                );
            }
            return;
        }
        if lock.tag >= TAG_TEST {
            return self.test_ast(lock, status, sb_flags, lkid);
        }
        let r = match lock.tag {
            TAG_CONTROL => LockRef::Control,
            TAG_MOUNTED => LockRef::Mounted,
            j => LockRef::Journal(j),
        };
        // only control_lock's LVB is the engine's; a journal lock's is the module's disk
        let lvb = if r == LockRef::Control { lvb } else { None };
        if let Some(l) = lvb {
            self.inner.lock().control_lvb = l;
        }
        let _ = self.event(Event::DlmDone {
            lock: r,
            status,
            sb_flags,
            lvb,
        });
    }
}

// ------------------------------------------------------------------ actions

fn do_new_lockspace(m: &Mount, flags: u32) {
    let joined = Lockspace::new(m.fsname.as_cstr(), m.cluster.as_cstr(), flags, m);
    let ev = match joined {
        Err(e) => Event::LockspaceFailed(e.to_errno()),
        Ok(j) => {
            let ops_result = j.ops_result;
            *m.ls.lock() = Some(j.ls);
            let mut g = m.inner.lock();
            if ops_result < 0 {
                drop(g);
                err!(m, "dlm lockspace ops not used");
            } else {
                // the engine takes the first recover_done before LockspaceJoined, as
                // dlm_new_lockspace usually delivers it; a join can return first (seen on
                // 6.1 by the C glue), so wait for it (bounded)
                let mut waited = 0;
                while g.recover_dones == 0 && waited < 600 {
                    let _ = m
                        .cond
                        .wait_interruptible_timeout(&mut g, msecs_to_jiffies(100));
                    waited += 1;
                }
                let none = g.recover_dones == 0;
                drop(g);
                if none {
                    err!(m, "no recover_done within 60 s of dlm_new_lockspace");
                }
            }
            if m.recovery_success {
                take_anchors(m);
            }
            Event::LockspaceJoined
        }
    };
    let _ = m.event(ev);
}

/// recovery=success: an NL lock on every journal's resource (the engine's journal lock
/// names), so that the stand-in disk (the LVB) outlives a replayer's unlock; the release
/// drops them with the lockspace.
fn take_anchors(m: &Mount) {
    let n = m.journals.min(MAXJ as u32);
    let lsg = m.ls.lock();
    let Some(ls) = lsg.as_ref() else { return };
    for j in 0..n {
        let name = LockRef::Journal(j).name();
        if let Err(e) = ls.lock(
            &m.anchors[j as usize],
            DLM_LOCK_NL,
            0,
            name.as_bytes(),
            None,
        ) {
            err!(m, "journal anchor {}: dlm_lock error {}", j, e.to_errno());
        }
    }
    drop(lsg);
    info!(m, "journal anchors {} (NL)", n);
}

fn do_dlm(m: &Mount, req: gdlm_core::engine::DlmRequest, lvb: Option<[u8; LVB_LEN]>) {
    let Some(lk) = m.elock(req.lock) else {
        err!(
            m,
            "dlm call for {:?}: no such lock (capacity {})",
            req.lock,
            MAXJ
        );
        return;
    };
    // the journal lock's LVB is the module's stand-in for the journal (recovery=success)
    let disk = if matches!(req.lock, LockRef::Journal(_)) && m.recovery_success {
        DLM_LKF_VALBLK
    } else {
        0
    };
    let lsg = m.ls.lock();
    let Some(ls) = lsg.as_ref() else {
        drop(lsg);
        err!(m, "dlm call for {:?} without a lockspace", req.lock);
        return;
    };
    let rv = match req.op {
        DlmOp::Lock { mode, flags } => {
            let name = req.name();
            // `lvb`: the engine's lksb buffer, passed with the call.
            if let Some(l) = lvb {
                if req.lock == LockRef::Control {
                    m.inner.lock().control_lvb = l;
                }
            }
            ls.lock(
                lk,
                mode.raw(),
                flags.bits() | disk,
                name.as_bytes(),
                lvb.as_ref(),
            )
        }
        DlmOp::Unlock => ls.unlock(lk, disk),
    };
    drop(lsg);
    if let Err(e) = rv {
        // failed at once: that is its completion
        err!(
            m,
            "dlm {:?} of {:?} error {}",
            req.op,
            req.lock,
            e.to_errno()
        );
        let _ = m.event(Event::DlmDone {
            lock: req.lock,
            status: e.to_errno(),
            sb_flags: 0,
            lvb: None,
        });
    }
}

/// The demotes BASTs asked for (glock.c's work on a BAST): each idle test lock owing one
/// requests the state gdlm_bast named; its completion arrives as usual.
fn run_demotes(m: &Mount) {
    for i in 0..MAXT {
        let now = m.now_ns();
        let mut g = m.inner.lock();
        let Some(t) = g.tl[i].as_mut() else { continue };
        if t.glock.pending().is_some() {
            continue;
        }
        let Some(to) = t.glock.take_demote() else {
            continue;
        };
        let req = t.glock.request(to, LmFlags::empty(), now);
        if req.is_ok() {
            t.done = false;
        }
        let name = t.glock.name();
        drop(g);
        match req {
            Ok(r) => {
                if let Err(e) = test_dlm_lock(m, i, name, &r) {
                    err!(
                        m,
                        "demote of test lock {:x},{:x} failed at once: {}",
                        name.ln_type,
                        name.ln_number,
                        e.to_errno()
                    );
                }
            }
            Err(e) => err!(m, "demote refused: {:?}", e),
        }
    }
}

/// The `dlm_lock` call of a test lock's request; a failure at once ends the request.
fn test_dlm_lock(m: &Mount, i: usize, name: LockName, r: &LockRequest) -> Result {
    let rn = name.encode();
    let lsg = m.ls.lock();
    let rv = match lsg.as_ref() {
        Some(ls) => ls.lock(
            &m.tlocks[i],
            r.mode.raw(),
            r.flags.bits(),
            rn.as_bytes(),
            None,
        ),
        None => Err(ENODEV),
    };
    drop(lsg);
    if rv.is_err() {
        if let Some(t) = m.inner.lock().tl[i].as_mut() {
            t.glock.request_failed();
            t.done = true;
        }
    }
    rv
}

fn state_name(s: LmState) -> &'static str {
    match s {
        LmState::Unlocked => "UN",
        LmState::Exclusive => "EX",
        LmState::Deferred => "DF",
        LmState::Shared => "SH",
    }
}

fn parse_state(s: &str) -> Option<LmState> {
    Some(match s {
        "UN" => LmState::Unlocked,
        "EX" => LmState::Exclusive,
        "DF" => LmState::Deferred,
        "SH" => LmState::Shared,
        _ => return None,
    })
}

/// `lock FSNAME TYPE NUMBER STATE [try] [noexp] [lvb=TEXT]`: a glock-style request through
/// gdlm-core's Glock; waits for its completion. `lvb=TEXT` is stored in the LVB once EX is
/// granted (the DLM writes it on the next down-conversion). Waits while recovery blocks
/// locking unless `noexp`, as glock.c does.
fn cmd_lock(
    m: &Mount,
    ty: u32,
    number: u64,
    req: LmState,
    flags: LmFlags,
    lvb: Option<&str>,
) -> Result {
    if !flags.contains(LmFlags::NOEXP) && !wait_for(m, 120_000, |g| !g.engine.locks_blocked()) {
        return Err(ETIMEDOUT);
    }
    let name = LockName::new(ty, number);
    let now = m.now_ns();
    let mut g = m.inner.lock();
    let i = match g
        .tl
        .iter()
        .position(|t| t.as_ref().is_some_and(|t| t.glock.name() == name))
    {
        Some(i) => i,
        None => {
            let i = g.tl.iter().position(|t| t.is_none()).ok_or(ENOSPC)?;
            g.tl[i] = Some(TestLock::new(name, false));
            i
        }
    };
    let t = g.tl[i].as_mut().ok_or(EINVAL)?;
    let r = t.glock.request(req, flags, now).map_err(|e| {
        pr_err!("gdlm: test lock request refused: {:?}\n", e);
        EINVAL
    });
    if r.is_ok() {
        t.done = false;
    }
    drop(g);
    let r = r?;
    test_dlm_lock(m, i, name, &r)?;
    if !wait_for(m, 120_000, |g| g.tl[i].as_ref().is_some_and(|t| t.done)) {
        return Err(ETIMEDOUT);
    }
    let state = m.inner.lock().tl[i].as_ref().map(|t| t.glock.state());
    if state != Some(req) {
        return Err(EAGAIN);
    }
    if let (Some(text), LmState::Exclusive) = (lvb, req) {
        let mut v = [0u8; LVB_LEN];
        let n = text.len().min(LVB_LEN - 1);
        v[..n].copy_from_slice(&text.as_bytes()[..n]);
        m.tlocks[i].set_lvb(&v)?;
    }
    Ok(())
}

/// `unlock FSNAME TYPE NUMBER`: gdlm_put_lock through the Glock, waits for the free.
fn cmd_unlock(m: &Mount, ty: u32, number: u64) -> Result {
    let name = LockName::new(ty, number);
    let now = m.now_ns();
    let mut g = m.inner.lock();
    let i =
        g.tl.iter()
            .position(|t| t.as_ref().is_some_and(|t| t.glock.name() == name))
            .ok_or(ENOENT)?;
    let t = g.tl[i].as_mut().ok_or(ENOENT)?;
    let p = t.glock.put(false, now).map_err(|_| EBUSY)?;
    if let Put::Freed = p {
        g.tl[i] = None;
        return Ok(());
    }
    t.done = false;
    drop(g);
    let Put::Unlock(c) = p else { return Ok(()) };
    let lsg = m.ls.lock();
    let rv = match lsg.as_ref() {
        Some(ls) => ls.unlock(&m.tlocks[i], c.flags),
        None => Err(ENODEV),
    };
    drop(lsg);
    if rv.is_err() {
        m.inner.lock().tl[i] = None;
        return rv;
    }
    let ok = wait_for(m, 60_000, |g| g.tl[i].as_ref().is_some_and(|t| t.freed));
    m.inner.lock().tl[i] = None;
    if ok {
        Ok(())
    } else {
        Err(ETIMEDOUT)
    }
}

/// Unmount puts every test lock first (gfs2 puts its glocks before lm_unmount).
fn put_test_locks(m: &Mount) {
    for i in 0..MAXT {
        let name = m.inner.lock().tl[i].as_ref().map(|t| t.glock.name());
        if let Some(n) = name {
            let _ = cmd_unlock(m, n.ln_type, n.ln_number);
        }
    }
}

fn do_replay(m: &Mount, jid: u32, reason: ReplayReason) {
    // (the engine logs `jid=J, already locked for use` for our own journal itself)
    if !m.recovery_success {
        let outcome = if reason == ReplayReason::Own {
            ReplayOutcome::Success
        } else {
            info!(m, "jid={}: would replay: giving up (recovery=gaveup, the module never writes the disk)", jid);
            ReplayOutcome::Failed(-30) // -EROFS
        };
        let _ = m.event(Event::ReplayDone { jid, outcome });
        return;
    }
    let Some(lk) = m.journal.get(jid as usize) else {
        let _ = m.event(Event::ReplayDone {
            jid,
            outcome: ReplayOutcome::Failed(-22),
        });
        return;
    };
    // the engine holds the journal lock EX now: its LVB is ours to read and write
    let lvb = lk.lvb().unwrap_or([0; LVB_LEN]);
    let flags = lk.sb_flags().unwrap_or(0);
    let clean = &lvb[..JOURNAL_CLEAN.len()] == JOURNAL_CLEAN;
    let dirty = flags & DLM_SBF_VALNOTVALID != 0
        || (matches!(reason, ReplayReason::Recovery { .. }) && !clean);
    let txt = lvb_text(&lvb);
    if !dirty {
        info!(
            m,
            "jid={}: Looking at journal... clean (lvb '{}')",
            jid,
            txt.as_str()
        );
        let _ = m.event(Event::ReplayDone {
            jid,
            outcome: ReplayOutcome::Success,
        });
        return;
    }
    info!(
        m,
        "jid={}: Looking at journal... dirty (lvb '{}' sb_flags 0x{:x})",
        jid,
        txt.as_str(),
        flags
    );
    info!(
        m,
        "jid={}: Replaying journal... (no disk: nothing to write)", jid
    );
    let mut c = [0u8; LVB_LEN];
    c[..JOURNAL_CLEAN.len()].copy_from_slice(JOURNAL_CLEAN);
    if lk.set_lvb(&c).is_err() {
        let _ = m.event(Event::ReplayDone {
            jid,
            outcome: ReplayOutcome::Failed(-16),
        });
        return;
    }
    // a replay holds the journal lock a while; a survivor trying meanwhile is Busy
    let mut g = m.inner.lock();
    let at = m.now() + gdlm_core::engine::Duration::from_millis(REPLAY_MS);
    g.replay = Some((jid, at));
}

/// The printable prefix of an LVB (the C glue's gdlm_lvb_text).
fn lvb_text(l: &[u8; LVB_LEN]) -> Name {
    let mut n = [0u8; 65];
    for (d, &b) in n.iter_mut().zip(l.iter().take_while(|&&b| b != 0)) {
        *d = if (0x20..0x7f).contains(&b) { b } else { b'.' };
    }
    Name(n)
}

fn do_release(m: &Mount, how: Release) {
    let option = match how {
        Release::Normal => DLM_RELEASE_NORMAL,
        Release::Recover => DLM_RELEASE_RECOVER,
    };
    let ls = m.ls.lock().take();
    if let Some(ls) = ls {
        // the engine's option: DLM_RELEASE_NORMAL, or 7.2's DLM_RELEASE_RECOVER (4) after a
        // withdraw, so that the other nodes recover our journal (the C glue's line too)
        info!(m, "release option {}", option);
        let rv = ls.release(option);
        info!(m, "dlm_release_lockspace {}", rv);
    }
    m.inner.lock().released = true;
    m.cond.notify_all();
}

/// `lvb`: for a DLM call, the engine's lksb buffer to lend with it (read under the lock).
fn perform(m: &Mount, a: Action, lvb: Option<[u8; LVB_LEN]>) {
    match a {
        Action::NewLockspace { flags } => do_new_lockspace(m, flags),
        // userspace lockspaces only; this engine takes the DLM's callbacks
        Action::JoinGroup | Action::Multicast => {}
        Action::Dlm(req) => do_dlm(m, req, lvb),
        Action::Replay { jid, reason } => do_replay(m, jid, reason),
        Action::Mounted { jid, first } => {
            if first {
                info!(m, "first mount done, others may mount");
            }
            info!(
                m,
                "mounted jid {} first {} recovery={}",
                jid,
                u32::from(first),
                if m.recovery_success {
                    "success"
                } else {
                    "gaveup"
                }
            );
            let mut g = m.inner.lock();
            g.jid = jid;
            g.first = first;
            g.mounted = true;
            drop(g);
            m.cond.notify_all();
        }
        Action::MountFailed(f) => {
            err!(m, "mount failed: {}", f);
            let error = match f {
                MountFailure::ControlMount { error, .. }
                | MountFailure::Lockspace(error)
                | MountFailure::OwnJournalLock(error)
                | MountFailure::OwnJournal(error)
                | MountFailure::FirstMountJournal { error, .. } => error,
                MountFailure::Interrupted => -4,
                MountFailure::JidPreset | MountFailure::NoJournal { .. } => -22,
            };
            let mut g = m.inner.lock();
            g.mount_error = if error < 0 { error } else { -5 };
            g.failed = true;
            if matches!(f, MountFailure::Lockspace(_)) {
                g.released = true; // nothing joined, nothing to release
            }
            drop(g);
            m.cond.notify_all();
        }
        Action::Unblocked { generation } => {
            m.inner.lock().last_done_gen = generation;
            m.cond.notify_all();
        }
        Action::Release(how) => do_release(m, how),
        Action::Log(ev) => m.log(&ev),
    }
}

enum Step {
    Act(Action, Option<[u8; LVB_LEN]>),
    ReplayDone(u32),
    Demote,
    Timeout,
    Idle,
}

/// The pump: drain the actions, run what is due, re-arm for the next deadline.
fn pump(this: &Arc<Mount>) {
    let _p = this.pump_lock.lock();
    for _ in 0..10000 {
        let step = {
            let mut g = this.inner.lock();
            let now = this.now();
            if let Some(a) = g.engine.poll() {
                let lvb = match &a {
                    Action::Dlm(r) => g.engine.request_lvb(r).map(|l| *l.as_bytes()),
                    _ => None,
                };
                Step::Act(a, lvb)
            } else if let Some((jid, _)) = g.replay.filter(|&(_, at)| at <= now) {
                g.replay = None;
                Step::ReplayDone(jid)
            } else if g.demote_owed {
                g.demote_owed = false;
                Step::Demote
            } else if g.engine.poll_timeout().is_some_and(|at| at <= now) {
                g.engine.handle_timeout(now);
                Step::Timeout
            } else {
                let next = match (g.engine.poll_timeout(), g.replay.map(|r| r.1)) {
                    (Some(a), Some(b)) => Some(if a < b { a } else { b }),
                    (a, b) => a.or(b),
                };
                match next {
                    Some(at) => g.arm(at.saturating_since(now).as_millis()),
                    None => drop(g.timer.take()),
                }
                Step::Idle
            }
        };
        match step {
            Step::Act(a, lvb) => perform(this, a, lvb),
            Step::ReplayDone(jid) => {
                let _ = this.event(Event::ReplayDone {
                    jid,
                    outcome: ReplayOutcome::Success,
                });
            }
            Step::Demote => run_demotes(this),
            Step::Timeout => {}
            Step::Idle => return,
        }
    }
    // not quiet after that many steps: come back in a few ms rather than spin
    this.inner.lock().arm(4);
}

// ------------------------------------------------------------------ mount / unmount

/// The mounts, for the ctl and status files.
#[pin_data]
struct Registry {
    #[pin]
    mounts: Mutex<KVec<Arc<Mount>>>,
    /// One ctl command at a time (the C glue's gdlm_ctl_mutex).
    #[pin]
    ctl: Mutex<()>,
}

impl Registry {
    fn find(&self, fsname: &str) -> Option<Arc<Mount>> {
        self.mounts
            .lock()
            .iter()
            .find(|m| m.fsname.as_str() == fsname)
            .cloned()
    }

    fn remove(&self, m: &Arc<Mount>) {
        let mut v = self.mounts.lock();
        if let Some(i) = v.iter().position(|x| Arc::ptr_eq(x, m)) {
            let _ = v.remove(i);
        }
    }
}

/// Wait (bounded, `ms`) until `done` holds; true if it does.
fn wait_for(m: &Mount, ms: u32, done: impl Fn(&Inner) -> bool) -> bool {
    let mut g = m.inner.lock();
    let mut left = ms / 100;
    while !done(&g) && left > 0 {
        let _ = m
            .cond
            .wait_interruptible_timeout(&mut g, msecs_to_jiffies(100));
        left -= 1;
    }
    done(&g)
}

/// The mount is finished with: stop its work, break the self-reference.
fn free(reg: &Registry, m: &Arc<Mount>) {
    let timer = {
        let mut g = m.inner.lock();
        g.stopping = true;
        g.timer.take()
    };
    // cancelled (a running callback finished) before the kick is flushed: nothing queues
    // the pump after this
    drop(timer);
    dlm::flush_work_item(&m.kick);
    m.inner.lock().me = None;
    reg.remove(m);
}

fn mount(reg: &Registry, table: &str, success: bool, journals: u32, profile: Profile) -> Result {
    let t = LockTable::parse(table).map_err(|_| {
        pr_err!("gdlm: lock table '{}' refused\n", table);
        EINVAL
    })?;
    if reg.find(t.fsname.as_str()).is_some() {
        return Err(EEXIST);
    }
    if reg.mounts.lock().len() >= MAX_MOUNTS {
        return Err(EBUSY);
    }
    let m = Mount::new(&t, success, profile, journals)?;
    m.inner.lock().me = Some(m.clone());
    reg.mounts.lock().push(m.clone(), GFP_KERNEL)?;
    info!(
        m,
        "Trying to join cluster \"lock_dlm\", \"{}\" recovery={} journals {}",
        table,
        if success { "success" } else { "gaveup" },
        journals
    );
    if m.event(Event::Mount { journals }).is_err() {
        free(reg, &m);
        return Err(EINVAL);
    }
    // control_mount may wait for the others (500 ms retries, the engine's timer)
    if !wait_for(&m, 120_000, |g| g.mounted || g.failed) {
        err!(m, "mount not done in 120 s");
        let _ = m.event(Event::Interrupt);
        wait_for(&m, 30_000, |g| g.mounted || g.failed);
    }
    let (mounted, failed) = {
        let g = m.inner.lock();
        (g.mounted, g.failed)
    };
    if mounted {
        return Ok(());
    }
    if !failed || !wait_for(&m, 60_000, |g| g.released) {
        err!(m, "mount neither done nor failed: state kept");
        return Err(ETIMEDOUT);
    }
    let e = m.inner.lock().mount_error;
    free(reg, &m);
    Err(Error::from_errno(e))
}

/// A clean unmount (`Event::Unmount`) or a withdraw (`Event::Withdraw`: 7.2's
/// gfs2_withdraw_func calls lm_unmount(sdp, false)); the engine chooses the release option.
fn leave(reg: &Registry, m: &Arc<Mount>, ev: Event<'_>) -> Result {
    put_test_locks(m);
    let (mounted, released) = {
        let g = m.inner.lock();
        (g.mounted, g.released)
    };
    if mounted && !released && m.event(ev).is_err() {
        return Err(EBUSY);
    }
    if !wait_for(m, 60_000, |g| g.released) {
        err!(m, "unmount: no release within 60 s");
        return Err(ETIMEDOUT);
    }
    free(reg, m);
    Ok(())
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Idle => "idle",
        Phase::Joining => "joining",
        Phase::Mounting => "mounting",
        Phase::OwnJournal => "own_journal",
        Phase::OwnReplay => "own_replay",
        Phase::FirstRecovery => "first_recovery",
        Phase::FirstDone => "first_done",
        Phase::Mounted => "mounted",
        Phase::Unmounting => "unmounting",
        Phase::Down => "down",
        Phase::Failed => "failed",
        Phase::Withdrawn => "withdrawn",
    }
}

/// The C glue's status line (`gdlm_k_status` plus the glue's fields).
fn status_show(reg: &Arc<Registry>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let v = reg.mounts.lock();
    for m in v.iter() {
        let g = m.inner.lock();
        let e = &g.engine;
        let r = e.recovery();
        write!(f, "fsname {} cluster {} recovery={} mounted {} first {} jid {} blocked {} phase {} flags 0x{:x} block {} start {} mount {} size {} control_lvb_gen {} jids",
            m.fsname.as_str(), m.cluster.as_str(), if m.recovery_success { "success" } else { "gaveup" },
            u32::from(e.is_mounted()), u32::from(e.is_first()), e.jid().map_or(-1, i64::from),
            u32::from(e.locks_blocked()), phase_name(e.phase()), r.flags().bits(), r.recover_block(),
            r.recover_start(), r.recover_mount(), r.recover_size(),
            u32::from_le_bytes([g.control_lvb[0], g.control_lvb[1], g.control_lvb[2], g.control_lvb[3]]))?;
        let bits = r.lvb_bits().jids();
        let mut any = false;
        for j in bits.iter() {
            write!(f, "{}{}", if any { "," } else { " " }, j)?;
            any = true;
        }
        if !any {
            f.write_str(" -")?;
        }
        writeln!(
            f,
            " last_done {} recover_dones {} refused {}",
            g.last_done_gen, g.recover_dones, g.refused
        )?;
        for (k, t) in g.tl.iter().enumerate() {
            if let Some(t) = t {
                let n = t.glock.name();
                let lvb = m.tlocks[k].lvb().map(|l| lvb_text(&l));
                writeln!(
                    f,
                    "  lock {} {:x},{:x} state {} lkid {:x} lvb '{}'",
                    m.fsname.as_str(),
                    n.ln_type,
                    n.ln_number,
                    state_name(t.glock.state()),
                    t.glock.lkid(),
                    lvb.as_ref().map_or("?", |l| l.as_str())
                )?;
            }
        }
    }
    Ok(())
}

/// One ctl command: `mount CLUSTER:FSNAME [recovery=gaveup|success] [journals=N]
/// [profile=7.2|reference]`, `lock ...`, `unlock ...`, `bench FSNAME CYCLES ROUNDS`,
/// `unmount FSNAME`, `withdraw FSNAME` (the C glue's commands).
fn ctl_write(reg: &Arc<Registry>, r: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 256];
    let n = r.len();
    if n >= buf.len() {
        return Err(EINVAL);
    }
    r.read_slice(&mut buf[..n])?;
    let s = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?;
    let mut w = s.split_ascii_whitespace();
    let _c = reg.ctl.lock();
    match (w.next(), w.next()) {
        (Some("mount"), Some(table)) => {
            let (mut success, mut journals, mut profile) =
                (true, DEFAULT_JOURNALS, Profile::Linux72);
            for a in w {
                match a {
                    "recovery=gaveup" => success = false,
                    "recovery=success" => success = true,
                    "profile=reference" => profile = Profile::Reference,
                    "profile=7.2" => profile = Profile::Linux72,
                    _ => match a.strip_prefix("journals=").map(|v| v.parse::<u32>()) {
                        Some(Ok(j)) => journals = j,
                        _ => return Err(EINVAL),
                    },
                }
            }
            mount(reg, table, success, journals, profile)
        }
        (Some(c @ ("lock" | "unlock")), Some(fs)) => {
            let m = reg.find(fs).ok_or(ENOENT)?;
            if !m.inner.lock().mounted {
                return Err(ENOENT);
            }
            let ty = w
                .next()
                .and_then(|v| u32::from_str_radix(v, 16).ok())
                .ok_or(EINVAL)?;
            let number = w
                .next()
                .and_then(|v| u64::from_str_radix(v, 16).ok())
                .ok_or(EINVAL)?;
            if c == "unlock" {
                return cmd_unlock(&m, ty, number);
            }
            let req = w.next().and_then(parse_state).ok_or(EINVAL)?;
            let (mut flags, mut lvb) = (LmFlags::empty(), None);
            for a in w {
                match a {
                    "try" => flags |= LmFlags::TRY,
                    "noexp" => flags |= LmFlags::NOEXP,
                    _ => lvb = Some(a.strip_prefix("lvb=").ok_or(EINVAL)?),
                }
            }
            cmd_lock(&m, ty, number, req, flags, lvb)
        }
        (Some("bench"), Some(fs)) => {
            let m = reg.find(fs).ok_or(ENOENT)?;
            if !m.inner.lock().mounted {
                return Err(ENOENT);
            }
            let n = w.next().and_then(|v| v.parse::<u32>().ok()).ok_or(EINVAL)?;
            let rounds = w
                .next()
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or(EINVAL)?;
            cmd_bench(&m, n, rounds)
        }
        (Some("unmount"), Some(fs)) => {
            let m = reg.find(fs).ok_or(ENOENT)?;
            info!(m, "unmount");
            leave(reg, &m, Event::Unmount)
        }
        (Some("withdraw"), Some(fs)) => {
            let m = reg.find(fs).ok_or(ENOENT)?;
            info!(m, "withdraw");
            leave(reg, &m, Event::Withdraw)
        }
        _ => Err(EINVAL),
    }
}

// ------------------------------------------------------------------ benchmark

/// The C glue's benchmark (shim-kernel/module/gdlm_bench.c) in this module: the same DLM
/// cycle (new EX, convert to NL, unlock, with an LVB) with the decisions from gdlm-core's
/// `Glock` (the module's path: a new glock per cycle, request, complete, put) and from the
/// C glue's C-only path, transcribed (hard-coded mode and flags, `%8x%16x` name, no
/// gdlm-core), through the same binding and the same wait for the AST.
const BENCH_TYPE: u32 = 2;
const BENCH_NUMBER: u64 = 0xbe4c;
/// Pairs of blocks at most (the C glue's GDLM_BENCH_MAX_ROUNDS).
const BENCH_MAX_ROUNDS: usize = 2001;

/// `glk_c_name`'s "%8x%16llx" (right-aligned lower-case hex, space-padded) into the 24-byte
/// resource name, by hand: `core::fmt` here cost 1.2 µs per cycle under TCG (session 5),
/// which made the C-only baseline slower than the module's path.
fn bare_name(ty: u32, number: u64) -> [u8; 24] {
    fn hex_right(out: &mut [u8], mut v: u64) {
        for c in out.iter_mut().rev() {
            *c = b"0123456789abcdef"[(v & 15) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
    }
    let mut n = [b' '; 24];
    hex_right(&mut n[..8], u64::from(ty));
    hex_right(&mut n[8..], number);
    n
}

/// The C-only path's `ktime_get_real()` (lock_dlm.c's `gl_dstamp` and stats), as the C
/// glue's `c_only` path reads it.
fn clock_read() {
    core::hint::black_box(kernel::time::Instant::<kernel::time::RealTime>::now());
}

/// One request on bench lock `i` and the wait for its AST; `Err` unless granted.
fn bench_request(m: &Mount, i: usize, req: LmState) -> Result {
    let now = m.now_ns();
    let mut g = m.inner.lock();
    let t = g.tl[i].as_mut().ok_or(EINVAL)?;
    let (mode, flags, name) = match t.bare.as_mut() {
        // glk_request's c_only branch
        Some(b) => {
            // gdlm_lock's clock reads: request times on a conversion (lock_dlm.c L264),
            // gl_dstamp on every request (L270)
            if b.lkid != 0 {
                clock_read();
            }
            clock_read();
            b.req = req;
            let mode = if req == LmState::Exclusive {
                DLM_LOCK_EX
            } else {
                DLM_LOCK_NL
            };
            let convert = if b.lkid != 0 { DLM_LKF_CONVERT } else { 0 };
            (
                mode,
                DLM_LKF_VALBLK | convert,
                bare_name(BENCH_TYPE, BENCH_NUMBER),
            )
        }
        None => {
            let r = t
                .glock
                .request(req, LmFlags::empty(), now)
                .map_err(|_| EINVAL)?;
            (
                r.mode.raw(),
                r.flags.bits(),
                *t.glock.name().encode().as_bytes(),
            )
        }
    };
    t.done = false;
    drop(g);
    let rv = match m.ls.lock().as_ref() {
        Some(ls) => ls.lock(&m.tlocks[i], mode, flags, &name, None),
        None => Err(ENODEV),
    };
    if let Err(e) = rv {
        if let Some(t) = m.inner.lock().tl[i].as_mut() {
            t.glock.request_failed();
        }
        return Err(e);
    }
    if !wait_for(m, 60_000, |g| g.tl[i].as_ref().is_some_and(|t| t.done)) {
        return Err(ETIMEDOUT);
    }
    let g = m.inner.lock();
    let t = g.tl[i].as_ref().ok_or(EINVAL)?;
    let state = t.bare.map_or(t.glock.state(), |b| b.state);
    if state == req {
        Ok(())
    } else {
        Err(EAGAIN)
    }
}

/// The unlock (gdlm_put_lock; the C-only path: VALBLK) and the wait for its AST.
fn bench_unlock(m: &Mount, i: usize) -> Result {
    let now = m.now_ns();
    let mut g = m.inner.lock();
    let t = g.tl[i].as_mut().ok_or(EINVAL)?;
    let flags = match t.bare {
        Some(b) if b.lkid == 0 => return Ok(()),
        Some(_) => {
            // gdlm_put_lock's gfs2_update_request_times (lock_dlm.c L295)
            clock_read();
            DLM_LKF_VALBLK
        }
        None => match t.glock.put(false, now).map_err(|_| EINVAL)? {
            Put::Unlock(c) => c.flags,
            _ => return Ok(()),
        },
    };
    t.done = false;
    t.freed = false;
    drop(g);
    let rv = match m.ls.lock().as_ref() {
        Some(ls) => ls.unlock(&m.tlocks[i], flags),
        None => Err(ENODEV),
    };
    rv?;
    if wait_for(m, 60_000, |g| g.tl[i].as_ref().is_some_and(|t| t.freed)) {
        Ok(())
    } else {
        Err(ETIMEDOUT)
    }
}

/// `n` cycles (new lock EX, convert NL, unlock) on bench lock `i`; ns per cycle.
fn bench_block(m: &Mount, i: usize, bare: bool, n: u32) -> Result<u64> {
    let t0 = kernel::time::Instant::<Monotonic>::now();
    for _ in 0..n {
        // the previous cycle's put left the glock dead: a new one (glk_reset)
        m.inner.lock().tl[i] = Some(TestLock::new(LockName::new(BENCH_TYPE, BENCH_NUMBER), bare));
        bench_request(m, i, LmState::Exclusive)?;
        bench_request(m, i, LmState::Unlocked)?;
        bench_unlock(m, i)?;
    }
    let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0);
    // checked: objtool cannot follow a division's panic_const_div_by_zero (see build)
    Ok(ns.checked_div(u64::from(n)).unwrap_or(0))
}

/// The decisions alone, without the DLM (the C glue's bench_decide): per cycle, the
/// request and AST decisions of new EX, convert to NL, unlock. ns per cycle.
fn bench_decide(bare: bool, n: u32) -> u64 {
    let mut sink = 0u32;
    let t0 = kernel::time::Instant::<Monotonic>::now();
    for i in 0..n {
        let number = BENCH_NUMBER + u64::from(i & 7);
        if bare {
            let name = bare_name(BENCH_TYPE, number);
            let (mode, flags, ret) = (DLM_LOCK_EX, DLM_LKF_VALBLK, 1u32);
            sink = sink
                .wrapping_add(mode as u32)
                .wrapping_add(flags)
                .wrapping_add(ret)
                .wrapping_add(u32::from(name[23]));
            let (mode, flags, ret) = (DLM_LOCK_NL, DLM_LKF_VALBLK | DLM_LKF_CONVERT, 0u32);
            sink = sink
                .wrapping_add(mode as u32)
                .wrapping_add(flags)
                .wrapping_add(ret);
            sink = sink.wrapping_add(1);
        } else {
            let now = i64::from(i);
            let mut gl = Glock::new(Profile::Linux72, LockName::new(BENCH_TYPE, number), true);
            if let Ok(r) = gl.request(LmState::Exclusive, LmFlags::empty(), now) {
                sink = sink
                    .wrapping_add(r.mode.raw() as u32)
                    .wrapping_add(r.flags.bits())
                    .wrapping_add(u32::from(r.strname()[23]));
            }
            gl.set_lkid(i.wrapping_add(1));
            sink = sink.wrapping_add(u32::from(gl.complete(0, 0, now).is_ok()));
            if let Ok(r) = gl.request(LmState::Unlocked, LmFlags::empty(), now) {
                sink = sink
                    .wrapping_add(r.mode.raw() as u32)
                    .wrapping_add(r.flags.bits());
            }
            sink = sink.wrapping_add(u32::from(gl.complete(0, 0, now).is_ok()));
            if let Ok(Put::Unlock(c)) = gl.put(false, now) {
                sink = sink.wrapping_add(c.flags);
            }
            sink = sink.wrapping_add(u32::from(gl.complete(-DLM_EUNLOCK, 0, now).is_ok()));
        }
        sink = core::hint::black_box(sink);
    }
    let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(0);
    ns.checked_div(u64::from(n)).unwrap_or(0)
}

/// Ascending, in place (not `slice::sort`: see `insertion_sort_by_key` in gdlm-core).
fn sort_u64(v: &mut [u64]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The 0-based indices of the ends of the 95% interval for the median of `n` sorted values:
/// the order statistics at ranks j and n+1-j, j = floor((n - 1.96 sqrt(n)) / 2), at least 1
/// (the sign test's distribution-free interval; the C glue's `bench_interval`).
fn bench_interval(n: usize) -> (usize, usize) {
    let n64 = n as u64;
    let s = (n64 * 10_000).isqrt();
    let j = ((100 * n64).saturating_sub(196 * s / 100) / 200).max(1) as usize;
    (j - 1, n - j)
}

/// A ratio in 1/10000 (10000: equal) as a signed percentage, "+1.23%".
struct Pct(u64);
impl core::fmt::Display for Pct {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let d = self.0 as i64 - 10_000;
        let sign = if d < 0 { '-' } else { '+' };
        write!(f, "{}{}.{:02}%", sign, d.abs() / 100, d.abs() % 100)
    }
}

/// `bench FSNAME CYCLES ROUNDS`: ROUNDS pairs of CYCLES-cycle blocks, one per path, the
/// order alternating; the median of the per-pair ratios module/C-only and its 95% interval.
fn cmd_bench(m: &Mount, n: u32, rounds: usize) -> Result {
    if !(1..=100_000).contains(&n) || !(1..=BENCH_MAX_ROUNDS).contains(&rounds) {
        return Err(EINVAL);
    }
    let i = {
        let mut g = m.inner.lock();
        let i = g.tl.iter().position(|t| t.is_none()).ok_or(ENOSPC)?;
        g.tl[i] = Some(TestLock::new(
            LockName::new(BENCH_TYPE, BENCH_NUMBER),
            false,
        ));
        i
    };
    let r = bench_rounds(m, i, n, rounds);
    m.inner.lock().tl[i] = None;
    r
}

fn bench_rounds(m: &Mount, i: usize, n: u32, rounds: usize) -> Result {
    let mut rust = KVec::with_capacity(rounds, GFP_KERNEL)?;
    let mut bare = KVec::with_capacity(rounds, GFP_KERNEL)?;
    let mut ratio = KVec::with_capacity(rounds, GFP_KERNEL)?;
    // warm up: the resource's master is this node afterwards
    bench_block(m, i, false, 10)?;
    for k in 0..rounds {
        let (r, b) = if k & 1 == 1 {
            let b = bench_block(m, i, true, n)?;
            (bench_block(m, i, false, n)?, b)
        } else {
            let r = bench_block(m, i, false, n)?;
            (r, bench_block(m, i, true, n)?)
        };
        rust.push(r, GFP_KERNEL)?;
        bare.push(b, GFP_KERNEL)?;
        ratio.push(
            r.saturating_mul(10_000).checked_div(b).unwrap_or(u64::MAX),
            GFP_KERNEL,
        )?;
    }
    sort_u64(&mut rust);
    sort_u64(&mut bare);
    sort_u64(&mut ratio);
    let mid = rounds / 2;
    let (lo, hi) = bench_interval(rounds);
    info!(
        m,
        "bench {} cycles x {} rounds (lock EX + convert NL + unlock, VALBLK): module best {} median {} ns/cycle; c-only best {} median {} ns/cycle",
        n, rounds, rust[0], rust[mid], bare[0], bare[mid]
    );
    info!(
        m,
        "bench paired: module vs c-only over {} pairs of {}-cycle blocks: median {}, 95% interval [{}, {}] (ranks {}..{}); within 5%: {}",
        rounds,
        n,
        Pct(ratio[mid]),
        Pct(ratio[lo]),
        Pct(ratio[hi]),
        lo + 1,
        hi + 1,
        if ratio[hi] <= 10_500 { "yes" } else { "no" }
    );
    let (mut dr, mut dc) = (u64::MAX, u64::MAX);
    for _ in 0..rounds.min(31) {
        dr = dr.min(bench_decide(false, 100_000));
        dc = dc.min(bench_decide(true, 100_000));
    }
    info!(
        m,
        "bench decisions only (no DLM), best of {} x 100000 cycles: module {} ns/cycle, c-only {} ns/cycle",
        rounds.min(31),
        dr,
        dc
    );
    Ok(())
}

// ------------------------------------------------------------------ module

/// Drive an engine through the start of a one-node mount with no DLM behind it: it must
/// ask to join, then (after the first recover_done) for a control_lock request. Proves
/// at load that the linked engine runs under the kernel's core and flags.
fn self_test() -> Result {
    let mut e: KBox<Engine<MAXJ>> = KBox::new(
        Engine::new(Config::for_profile(Profile::Linux72)),
        GFP_KERNEL,
    )?;
    let now = Instant::from_millis(0);
    e.handle(now, Event::Mount { journals: 3 })
        .map_err(|_| EINVAL)?;
    let mut n = 0;
    while let Some(a) = e.poll() {
        pr_info!("gdlm_rfl: self-test: mount -> {:?}\n", a);
        n += 1;
    }
    e.handle(
        now,
        Event::RecoverDone {
            slots: &[1],
            our_slot: 1,
            generation: 1,
        },
    )
    .map_err(|_| EINVAL)?;
    e.handle(now, Event::LockspaceJoined).map_err(|_| EINVAL)?;
    let mut asked_control = false;
    while let Some(a) = e.poll() {
        pr_info!("gdlm_rfl: self-test: joined -> {:?}\n", a);
        if let Action::Dlm(req) = a {
            asked_control |= req.lock == LockRef::Control;
        }
        n += 1;
    }
    pr_info!(
        "gdlm_rfl: self-test: {} actions, control_lock asked {}\n",
        n,
        asked_control
    );
    if asked_control {
        Ok(())
    } else {
        Err(EINVAL)
    }
}

struct GdlmRfl {
    reg: Arc<Registry>,
    _ctl: Pin<KBox<File<Arc<Registry>>>>,
    _status: Pin<KBox<File<Arc<Registry>>>>,
    _dir: Dir,
}

impl kernel::Module for GdlmRfl {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        self_test()?;
        let reg = Arc::pin_init(
            pin_init!(Registry {
                mounts <- new_mutex!(KVec::new(), "gdlm_rfl::mounts"),
                ctl <- new_mutex!((), "gdlm_rfl::ctl"),
            }),
            GFP_KERNEL,
        )?;
        let dir = Dir::new(c"gdlm");
        let ctl = KBox::pin_init(
            dir.write_callback_file(c"ctl", reg.clone(), &ctl_write),
            GFP_KERNEL,
        )?;
        let status = KBox::pin_init(
            dir.read_callback_file(c"status", reg.clone(), &status_show),
            GFP_KERNEL,
        )?;
        pr_info!(
            "gdlm_rfl: loaded (gdlm-core engine state {} bytes)\n",
            core::mem::size_of::<Engine<MAXJ>>()
        );
        Ok(GdlmRfl {
            reg,
            _ctl: ctl,
            _status: status,
            _dir: dir,
        })
    }
}

impl Drop for GdlmRfl {
    fn drop(&mut self) {
        let _c = self.reg.ctl.lock();
        loop {
            let m = self.reg.mounts.lock().first().cloned();
            let Some(m) = m else { break };
            if leave(&self.reg, &m, Event::Unmount).is_err() {
                free(&self.reg, &m);
            }
        }
        pr_info!("gdlm_rfl: unloaded\n");
    }
}
