//! no_std link probe for `gdlm-core` (see `ci/check-no-std`).
//!
//! Every public module of gdlm-core is driven from a `#[no_mangle] extern "C"`
//! function that takes its inputs at run time and returns a value folded from the
//! core's results, so the optimiser keeps the calls. `ci/check-no-std` builds this
//! crate as a staticlib and proves from the archive's symbols that nothing in it
//! comes from `std` or `alloc`, and that it needs no allocator.
//!
//! The `violate-alloc` and `violate-std` features exist only for the checker's
//! self-test: each deliberately links what the check must reject.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "violate-alloc")]
extern crate alloc;
#[cfg(feature = "violate-std")]
extern crate std;

use core::fmt::{self, Write as _};
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embassy_sync::blocking_mutex::raw::NoopRawMutex;

use gdlm_core::ast::{
    cancel, cancel_linux72, put_lock, put_lock_linux72, put_lock_modern, put_lock_unlock_result,
    CancelRequest, PutLockInput, PutLockModern, UnlockDone,
};
use gdlm_core::consts::*;
use gdlm_core::engine::{
    Action as EngineAction, Callbacks, Config as EngineConfig, DlmOp, DlmRequest,
    Duration as EngineDuration, Engine, EngineError, Event as EngineEvent, EventKind,
    FirstMountFailure, Instant, Level, LockRef, MountFailure as MountFailureReason,
    Phase as EnginePhase, Release as EngineRelease, ReplayOutcome, ReplayReason, HZ,
    LM_TYPE_JOURNAL,
};
use gdlm_core::flags::{
    gdlm_lock_blocking, gdlm_lock_linux72, is_blocking_request, is_down_conversion,
    is_middle_conversion, lock_request, FlagsError, GdlmLock, LockGlock, QuecvtPolicy,
    RequestStamp, ValblkPolicy,
};
use gdlm_core::glock::{CancelLike, Glock, GlockDone, GlockError, Pending, Put};
use gdlm_core::lvb::{
    control_lvb_read, control_lvb_read_into, control_lvb_read_slice, control_lvb_write,
    LvbLengthError, DISABLED_GENERATION,
};
use gdlm_core::membership::{
    Change, LeftReason, Member, Membership, MembershipError, SyncMsg, AGE_UNKNOWN,
};
use gdlm_core::mode::{bast_state, bast_state_linux72, make_mode};
use gdlm_core::mount::{
    after_new_lockspace, FirstDoneStep, MountError, OpsMode, RetryReason, TableError,
    MOUNT_RETRY_DELAY_MS, SPECTATOR_WAIT_MS,
};
use gdlm_core::name::{NameStyle, NAME_LEN};
use gdlm_core::profile::DLM_BUSY_RETRY_MS;
use gdlm_core::recovery::{
    set_recover_size, sync_lock_outcome, sync_unlock_outcome, ControlTicket, ControlWork,
    Inconsistency, LockId, ResultIgnored, ResultOutcome, SlotRecorded, SyncLock, SyncOutcome,
    UnmountBegin,
};
use gdlm_core::signal::Signals;
use gdlm_core::stats::{StatPair, TypeStats, UnknownLockType, LM_TYPE_COUNT};
use gdlm_core::{
    gdlm_ast, gdlm_ast_apply, gdlm_ast_in_place, make_flags, AstAction, AstError, AstGlock,
    AstInput, AstOutcome, AstStyle, BastMode, ControlBegin, ControlFinish, ControlLvb,
    ControlMount, ControlUpdate, DlmAttempt, DlmLkf, DlmMode, DlmRetry, Error, FirstDone,
    FlagPolicy, GlockStats, JidSet, LkStats, LmFlags, LmState, LockContext, LockName, LockRequest,
    LockTable, LvbError, ModeError, MountFailure, MountOptions, MountStep, NameError, Profile,
    PutLock, RecoverFlags, Recovery, RecoveryError, ResName, SharedRecovery, SizePolicy,
    SubmitPolicy,
};

// ---------------------------------------------------------------------------
// Plumbing: a hashing fmt sink (Display/Debug without an allocator) and FFI-safe
// fixed-size inputs.
// ---------------------------------------------------------------------------

/// FNV-1a over everything written to it; stands in for a `String`.
struct Sink(u64);

impl Sink {
    const fn new() -> Self {
        Sink(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    fn fmt(&mut self, args: fmt::Arguments<'_>) -> &mut Self {
        // Sink::write_str never fails.
        let _ = self.write_fmt(args);
        self
    }
}

/// gdlm-core's text sink (log lines without `core::fmt`) into the same hash.
impl gdlm_core::text::Sink for Sink {
    fn put_str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.u64(v);
    }
    fn put_i64(&mut self, v: i64) {
        self.u64(v as u64);
    }
    fn put_hex(&mut self, v: u64) {
        self.u64(v);
    }
}

impl fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

fn hash_err(h: &mut Sink, e: Error) {
    // Display and Debug of the crate-wide error, and its core::error::Error impl.
    let dyn_err: &dyn core::error::Error = &e;
    h.fmt(format_args!("{e} {e:?} {}", dyn_err.source().is_none()));
}

fn st(v: u32) -> LmState {
    LmState::ALL[(v & 3) as usize]
}

fn text(t: &Text64) -> &str {
    let n = (t.len as usize).min(t.bytes.len());
    core::str::from_utf8(&t.bytes[..n]).unwrap_or("")
}

fn hash_call(h: &mut Sink, c: &SyncLock) {
    h.u64(u64::from(c.lock.number()))
        .bytes(c.lock.name().as_bytes())
        .u64(c.mode.raw() as u64)
        .u64(u64::from(c.flags.bits()));
    if let Some(lvb) = &c.lvb {
        h.bytes(lvb.as_bytes());
    }
    h.fmt(format_args!("{c:?}"));
}

/// 32 bytes by value (a control LVB).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Bytes32 {
    /// The bytes.
    pub b: [u8; 32],
}

/// Up to 64 bytes of text by value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Text64 {
    /// Used length.
    pub len: u32,
    /// The bytes (UTF-8).
    pub bytes: [u8; 64],
}

/// Four i64 samples by value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Samples4 {
    /// Samples, in ns.
    pub s: [i64; 4],
}

/// Inputs of [`gdlm_probe_recovery`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RecoveryInput {
    /// DLM member slots for recover_done.
    pub slots: [i32; 4],
    /// Our slot.
    pub our_slot: i32,
    /// The recover_done generation.
    pub generation: u32,
    /// The slot that fails (recover_slot).
    pub failed_slot: i32,
    /// A jid whose journal recovery finished.
    pub result_jid: u32,
    /// Its result (`LM_RD_*`).
    pub result: u32,
    /// Bit 0: [`SizePolicy::Reference`] instead of `Fit`.
    pub policy: u32,
    /// The control LVB as control_lock EX returns it.
    pub lvb: Bytes32,
}

/// Inputs of [`gdlm_probe_mount`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MountInput {
    /// The lock table, `cluster:fsname`.
    pub table: Text64,
    /// The host data, `jid=…:first=…:nodir=…`.
    pub hostdata: Text64,
    /// What `dlm_new_lockspace` returned as `ops_result`.
    pub ops_result: i32,
    /// Status of each successive lock/unlock call, cyclically.
    pub statuses: [i32; 8],
    /// Slots of the recover_done that precedes the mount.
    pub slots: [i32; 4],
    /// Our slot.
    pub our_slot: i32,
    /// Its generation.
    pub generation: u32,
    /// A signal is pending during the mount.
    pub interrupt: bool,
    /// control_lock's LVB as the cluster holds it.
    pub lvb: Bytes32,
}

// ---------------------------------------------------------------------------
// profile (Linux 7.2)
// ---------------------------------------------------------------------------

fn hash_unlock_done(h: &mut Sink, d: UnlockDone) {
    match d {
        UnlockDone::AwaitAst => h.u64(1),
        UnlockDone::Free => h.u64(2),
        UnlockDone::Logged(e) => h.u64(3).u64(e as u64),
    };
}

fn hash_sync(h: &mut Sink, o: SyncOutcome) {
    h.u64(o.ret as u64)
        .u64(u64::from(o.waited))
        .u64(u64::from(o.logged));
}

/// `gdlm_core::profile` and the Linux 7.2 rules of every module, for both profiles.
#[no_mangle]
pub extern "C" fn gdlm_probe_profile(
    linux72: bool,
    req_state: u32,
    gl_state: u8,
    gfs_flags: u32,
    lkid: u32,
    flags: u8,
    status: i32,
    table: Bytes32,
) -> u64 {
    let mut h = Sink::new();
    let p = if linux72 {
        Profile::Linux72
    } else {
        Profile::Reference
    };
    let pname = Profile::from_policy_name(Some(p.name()));
    h.u64(u64::from(pname == Some(p)))
        .fmt(format_args!("{:?}", p.flag_policy()))
        .fmt(format_args!("{:?}{:?}", p.ast_style(), p.name_style()))
        .fmt(format_args!("{:?}{}", p.size_policy(), p.withdraw_guard()));
    let st = LmState::ALL[usize::from(gl_state & 3)];
    let gl = LockGlock {
        gl_state: st,
        has_lvb: flags & 1 != 0,
        lkid,
        glf_initial: flags & 2 != 0,
        glf_blocking: flags & 4 != 0,
    };
    let name = LockName::new(2, u64::from(lkid));
    let lmf = LmFlags::from_bits_retain(gfs_flags);
    h.fmt(format_args!("{:?}", p.lock_context(&gl)));
    match p.gdlm_lock(&name, req_state, lmf, &gl) {
        Ok(GdlmLock {
            request,
            cur,
            blocking,
            glf_blocking_after,
            gl_req_after,
        }) => {
            h.u64(u64::from(request.flags.bits()))
                .u64(cur.raw() as u64)
                .u64(u64::from(blocking) | u64::from(glf_blocking_after) << 1)
                .fmt(format_args!("{gl_req_after:?}"));
        }
        Err(e) => hash_err(&mut h, e.into()),
    }
    if let Ok(l) = gdlm_lock_linux72(&name, req_state, lmf, &gl) {
        h.u64(u64::from(l.request.flags.bits()));
    }
    // The again: loop decisions.
    match p.dlm_attempt(flags & 8 != 0) {
        DlmAttempt::Call => h.u64(1),
        DlmAttempt::Released(e) => h.u64(e as u64),
    };
    match p.after_dlm_call(status) {
        DlmRetry::Done(r) => h.u64(r as u64),
        DlmRetry::Sleep { ms } => h.u64(u64::from(ms) << 32),
    };
    // AST in place, BAST, put_lock, cancel.
    let mut a = AstInput {
        gl_state: st,
        gl_req: LmState::ALL[usize::from((gl_state >> 2) & 3)],
        sb_status: status,
        sb_flags: flags >> 4,
        has_lvb: gl.has_lvb,
        glf_initial: gl.glf_initial,
        lkid,
        dead: flags & 8 != 0,
    };
    match gdlm_ast_in_place(p.ast_style(), &mut a) {
        Ok(AstAction::Complete { ret, lvb_zeroed }) => {
            h.u64(u64::from(ret)).u64(u64::from(lvb_zeroed))
        }
        Ok(AstAction::Free { lvb_zeroed }) => h.u64(7).u64(u64::from(lvb_zeroed)),
        Ok(AstAction::Ignored) => h.u64(8),
        Err(e) => {
            hash_err(&mut h, e.into());
            &mut h
        }
    };
    h.u64(u64::from(a.lkid)).u64(u64::from(a.glf_initial));
    // The callback form, on a glock of the probe's own.
    struct G(AstInput, [u8; 32], u32);
    impl AstGlock for G {
        fn ast_fields(&mut self) -> &mut AstInput {
            &mut self.0
        }
        fn zero_lvb(&mut self) {
            self.1 = [0; 32];
        }
        fn complete(&mut self, ret: u32) {
            self.2 = ret;
        }
        fn free(&mut self) {
            self.2 = u32::MAX;
        }
    }
    let mut g = G(a, [0xff; 32], 0);
    match gdlm_ast_apply(p.ast_style(), &mut g) {
        Ok(()) => h.u64(u64::from(g.2)).u64(u64::from(g.1[0])),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    match p.bast(BastMode::Mode(status), a.dead) {
        Ok(s) => h.fmt(format_args!("{s:?}")),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    h.fmt(format_args!(
        "{:?}",
        bast_state_linux72(BastMode::Unknown, a.dead)
    ));
    let pin = PutLockInput {
        lkid,
        has_lvb: gl.has_lvb,
        gl_state: st,
        skip_dlm_unlock: flags & 16 != 0,
    };
    match p.put_lock(&pin, gl.glf_initial, a.dead) {
        Ok(pl) => h.fmt(format_args!("{pl:?}")),
        Err(e @ AstError::NotDead) => h.fmt(format_args!("{e}")),
        Err(e) => h.fmt(format_args!("{e:?}")),
    };
    h.fmt(format_args!("{:?}", put_lock_linux72(&pin, true, true)));
    hash_unlock_done(&mut h, p.put_lock_unlock_result(status));
    hash_unlock_done(&mut h, put_lock_unlock_result(linux72, status));
    h.fmt(format_args!("{:?}", p.cancel(lkid, flags & 32 != 0)));
    h.fmt(format_args!("{:?}", cancel_linux72(lkid, flags & 32 != 0)));
    // Mount: spectator machine, lock table, flags, release options.
    let m = p.control_mount(flags & 64 != 0);
    h.u64(u64::from(m.is_spectator()));
    let text = core::str::from_utf8(&table.b).unwrap_or("c:");
    h.fmt(format_args!(
        "{:?}",
        p.lock_table(text).map(|t| t.fsname.len())
    ));
    h.fmt(format_args!(
        "{:?}",
        gdlm_core::LockTable::parse_linux72(text).is_ok()
    ));
    let opts = MountOptions {
        nodir: flags & 128 != 0,
        ..Default::default()
    };
    h.u64(u64::from(p.lockspace_flags(&opts)))
        .u64(u64::from(opts.lockspace_flags_linux72()))
        .u64(u64::from(p.release_option(flags & 1 != 0)));
    h.fmt(format_args!("{:?}", MountFailure::Disabled));
    // Recovery: withdraw guard, unmount, sync outcomes.
    let mut rec: Recovery<16> = p.recovery();
    let _ = rec.recover_done(&[1, 2], 1, 3);
    rec.withdraw();
    h.u64(u64::from(rec.withdrawn()) | u64::from(rec.ignores_callbacks()) << 1);
    rec.recover_prep();
    match rec.recover_slot(2) {
        Ok(s) => h.u64(u64::from(s.jid)),
        Err(e @ RecoveryError::Withdrawn) => h.fmt(format_args!("{e}")),
        Err(e) => h.fmt(format_args!("{e:?}")),
    };
    hash_result(&mut h, rec.recovery_result(1, LM_RD_SUCCESS));
    let rec2 = Recovery::<16>::new(SizePolicy::Fit).with_withdraw_guard(linux72);
    h.u64(u64::from(rec2.withdraw_guard()));
    match rec.begin_unmount() {
        UnmountBegin::FlushThenRelease => h.u64(1),
        UnmountBegin::Release => h.u64(2),
    };
    hash_sync(&mut h, sync_lock_outcome(status, -EAGAIN));
    hash_sync(&mut h, sync_unlock_outcome(0, status));
    h.0
}

// ---------------------------------------------------------------------------
// consts
// ---------------------------------------------------------------------------

/// `gdlm_core::consts` (and the other modules' constants), indexed at run time.
#[no_mangle]
pub extern "C" fn gdlm_probe_consts(i: u32) -> i64 {
    const ALL: [i64; 121] = [
        DLM_LOCK_IV as i64,
        DLM_LOCK_NL as i64,
        DLM_LOCK_CR as i64,
        DLM_LOCK_CW as i64,
        DLM_LOCK_PR as i64,
        DLM_LOCK_PW as i64,
        DLM_LOCK_EX as i64,
        DLM_LKF_NOQUEUE as i64,
        DLM_LKF_CANCEL as i64,
        DLM_LKF_CONVERT as i64,
        DLM_LKF_VALBLK as i64,
        DLM_LKF_QUECVT as i64,
        DLM_LKF_IVVALBLK as i64,
        DLM_LKF_CONVDEADLK as i64,
        DLM_LKF_PERSISTENT as i64,
        DLM_LKF_NODLCKWT as i64,
        DLM_LKF_NODLCKBLK as i64,
        DLM_LKF_EXPEDITE as i64,
        DLM_LKF_NOQUEUEBAST as i64,
        DLM_LKF_HEADQUE as i64,
        DLM_LKF_NOORDER as i64,
        DLM_LKF_ORPHAN as i64,
        DLM_LKF_ALTPR as i64,
        DLM_LKF_ALTCW as i64,
        DLM_LKF_FORCEUNLOCK as i64,
        DLM_LKF_TIMEOUT as i64,
        DLM_ECANCEL as i64,
        DLM_EUNLOCK as i64,
        DLM_SBF_DEMOTED as i64,
        DLM_SBF_VALNOTVALID as i64,
        DLM_SBF_ALTMODE as i64,
        EAGAIN as i64,
        EINVAL as i64,
        EINTR as i64,
        EDEADLK as i64,
        ETIMEDOUT as i64,
        LM_TYPE_NONDISK as i64,
        LM_ST_UNLOCKED as i64,
        LM_ST_EXCLUSIVE as i64,
        LM_ST_DEFERRED as i64,
        LM_ST_SHARED as i64,
        LM_FLAG_TRY as i64,
        LM_FLAG_TRY_1CB as i64,
        LM_FLAG_NOEXP as i64,
        LM_FLAG_ANY as i64,
        LM_FLAG_PRIORITY as i64,
        LM_OUT_ST_MASK as i64,
        LM_OUT_ERROR as i64,
        LM_OUT_CANCELED as i64,
        LM_OUT_DEADLOCK as i64,
        LM_OUT_TRY_AGAIN as i64,
        LM_RD_GAVEUP as i64,
        LM_RD_SUCCESS as i64,
        GFS2_CONTROL_LOCK as i64,
        GFS2_MOUNTED_LOCK as i64,
        GDLM_STRNAME_BYTES as i64,
        GDLM_LVB_SIZE as i64,
        JID_BITMAP_OFFSET as i64,
        RECOVER_SIZE_INC as i64,
        MAX_JIDS as i64,
        GFS2_LKS_SRTT as i64,
        GFS2_LKS_SRTTVAR as i64,
        GFS2_LKS_SRTTB as i64,
        GFS2_LKS_SRTTVARB as i64,
        GFS2_LKS_SIRT as i64,
        GFS2_LKS_SIRTVAR as i64,
        GFS2_LKS_DCOUNT as i64,
        GFS2_LKS_QCOUNT as i64,
        DFL_BLOCK_LOCKS as i64,
        DFL_NO_DLM_OPS as i64,
        DFL_FIRST_MOUNT as i64,
        DFL_FIRST_MOUNT_DONE as i64,
        DFL_MOUNT_DONE as i64,
        DFL_UNMOUNT as i64,
        DFL_DLM_RECOVERY as i64,
        DLM_LSFL_NODIR as i64,
        DLM_LSFL_FS as i64,
        DLM_LSFL_NEWEXCL as i64,
        DLM_LOCKSPACE_LEN as i64,
        GFS2_LOCKNAME_LEN as i64,
        NAME_LEN as i64,
        DISABLED_GENERATION as i64,
        MOUNT_RETRY_DELAY_MS as i64,
        LM_TYPE_COUNT as i64,
        RecoverFlags::BLOCK_LOCKS.bits() as i64,
        RecoverFlags::all().bits() as i64,
        DlmLkf::all().bits() as i64,
        LmFlags::GL_NOCACHE.bits() as i64,
        FlagPolicy::LINUX_3_6.priority as i64,
        LM_FLAG_RECOVER as i64,
        LM_FLAG_NODE_SCOPE as i64,
        GL_ASYNC as i64,
        GL_EXACT as i64,
        GL_SKIP as i64,
        GL_NOPID as i64,
        GL_NOCACHE as i64,
        GL_NOBLOCK as i64,
        LM_TYPE_RESERVED as i64,
        GLF_INITIAL as i64,
        GLF_BLOCKING as i64,
        SDF_WITHDRAWN as i64,
        SDF_NOJOURNALID as i64,
        SDF_SKIP_DLM_UNLOCK as i64,
        DLM_LSFL_TIMEWARN as i64,
        DLM_RELEASE_NO_LOCKS as i64,
        DLM_RELEASE_UNUSED as i64,
        DLM_RELEASE_NORMAL as i64,
        DLM_RELEASE_NO_EVENT as i64,
        DLM_RELEASE_RECOVER as i64,
        ENOMEM as i64,
        EBUSY as i64,
        ENODEV as i64,
        DLM_BUSY_RETRY_MS as i64,
        SPECTATOR_WAIT_MS as i64,
        LmFlags::RECOVER.union(LmFlags::NODE_SCOPE).bits() as i64,
        LmFlags::GL_NOPID.union(LmFlags::GL_NOBLOCK).bits() as i64,
        FlagPolicy::LINUX_7_2.any as i64,
        FlagPolicy::MODERN.any as i64,
        FlagPolicy::REFERENCE.any as i64,
        is_middle_conversion(DlmMode::Pr, DlmMode::Cw) as i64,
        gdlm_lock_blocking(DlmMode::Ex, DlmMode::Pr, LmFlags::empty()) as i64,
    ];
    ALL.get(i as usize).copied().unwrap_or(i64::MIN)
}

// ---------------------------------------------------------------------------
// name
// ---------------------------------------------------------------------------

/// `gdlm_core::name`: encode both styles, decode back, and the error paths.
#[no_mangle]
pub extern "C" fn gdlm_probe_name(ln_type: u32, ln_number: u64, blank: bool, bad: u8) -> u64 {
    let style = if blank {
        NameStyle::Blank
    } else {
        NameStyle::Reference
    };
    let mut h = Sink::new();
    let n = LockName::new(ln_type, ln_number);
    let r: ResName = n.encode_with(style);
    let r2 = n.encode();
    let nd = LockName::nondisk(ln_type).encode();
    let mut into = nd;
    n.encode_into(style, &mut into);
    h.bytes(into.as_bytes());
    h.bytes(r.as_bytes())
        .bytes(r2.as_str().as_bytes())
        .bytes(&nd.to_strname())
        .bytes(r2.as_ref())
        .fmt(format_args!("{r} {r:?} {n:?} {:?}", NameStyle::default()));
    let strname = r.to_strname();
    for res in [
        LockName::decode_with(&strname, style),
        LockName::decode_with(r.as_bytes(), style),
        LockName::decode(&strname[..NAME_LEN]),
        LockName::try_from(&r2.as_bytes()[..]),
        r2.decode(),
    ] {
        match res {
            Ok(d) => {
                h.u64(u64::from(d.ln_type)).u64(d.ln_number);
            }
            Err(e) => hash_err(&mut h, Error::from(e)),
        }
    }
    // Corrupt one byte and decode again (BadByte / LeadingZero / BlankField).
    let mut broken = *r.as_bytes();
    broken[(bad as usize) % NAME_LEN] = bad;
    match LockName::decode(&broken) {
        Ok(d) => h.u64(d.ln_number),
        Err(e @ NameError::BadByte { pos, byte }) => {
            hash_err(&mut h, e.into());
            h.u64(pos as u64).u64(u64::from(byte))
        }
        Err(e) => h.fmt(format_args!("{e}")),
    };
    h.0
}

// ---------------------------------------------------------------------------
// mode
// ---------------------------------------------------------------------------

/// `gdlm_core::mode`: make_mode, state/mode conversions, compatibility, bast_state.
#[no_mangle]
pub extern "C" fn gdlm_probe_mode(lmstate: u32, dlm: i32, bast: i32) -> u64 {
    let mut h = Sink::new();
    match make_mode(lmstate) {
        Ok(m) => h.u64(m.raw() as u64),
        Err(e) => h.fmt(format_args!("{e} {:?}", Error::Mode(e))),
    };
    match LmState::try_from(lmstate) {
        Ok(s) => h.u64(u64::from(s.raw())).u64(s.to_dlm().raw() as u64),
        Err(ModeError::UnknownState(v)) => h.u64(u64::from(v)),
        Err(e) => h.fmt(format_args!("{e:?}")),
    };
    match DlmMode::try_from(dlm) {
        Ok(m) => {
            for s in LmState::ALL {
                h.u64(u64::from(m.compatible(s.to_dlm())));
            }
            h.u64(m.to_state().map_or(9, LmState::raw).into());
        }
        Err(e) => hash_err(&mut h, e.into()),
    }
    let bm = if bast == i32::MIN {
        BastMode::Unknown
    } else {
        BastMode::Mode(bast)
    };
    match bast_state(bm) {
        Ok(s) => h.u64(u64::from(s.raw())),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    h.0
}

// ---------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------

/// `gdlm_core::flags`: make_flags and lock_request under each policy.
///
/// `ctx` bit 0: has_lvb, bit 1: converting, bit 2: GLF_BLOCKING, bit 3: blank names.
#[no_mangle]
pub extern "C" fn gdlm_probe_flags(
    policy: u32,
    gfs_flags: u32,
    req_state: u32,
    ctx: u32,
    cur: i32,
    ln_type: u32,
    ln_number: u64,
) -> u64 {
    let policy = match policy % 4 {
        0 => FlagPolicy::REFERENCE,
        1 => FlagPolicy::LINUX_3_6,
        2 => FlagPolicy::MODERN,
        _ => FlagPolicy::default(),
    };
    let mut h = Sink::new();
    h.u64(u64::from(policy.valblk == ValblkPolicy::Always))
        .u64(u64::from(policy.quecvt == QuecvtPolicy::UpwardOnly))
        .u64(u64::from(policy.priority));
    let flags = LmFlags::from_bits_retain(gfs_flags);
    let c = LockContext {
        has_lvb: ctx & 1 != 0,
        converting: ctx & 2 != 0,
        glf_blocking: ctx & 4 != 0,
        cur: DlmMode::try_from(cur).ok(),
    };
    let style = if ctx & 8 != 0 {
        NameStyle::Blank
    } else {
        NameStyle::Reference
    };
    let lkf = make_mode(req_state)
        .map_err(FlagsError::from)
        .and_then(|m| make_flags(&policy, flags, m, &c));
    match lkf {
        Ok(f) => h.u64(u64::from(f.bits())).fmt(format_args!("{f:?}")),
        Err(e) => h.fmt(format_args!("{e} {e:?}")),
    };
    let req: Result<LockRequest, FlagsError> = lock_request(
        &policy,
        &LockName::new(ln_type, ln_number),
        style,
        req_state,
        flags,
        &c,
    );
    match req {
        Ok(r) => {
            h.bytes(&r.strname())
                .u64(u64::from(r.flags.bits()))
                .u64(r.mode.raw() as u64)
                .u64(u64::from(r.name.is_some()))
                .u64(match r.stamp {
                    RequestStamp::UpdateRequestTimes => 1,
                    RequestStamp::SetDstamp => 2,
                });
        }
        Err(FlagsError::AnyWithMode(m)) => {
            h.u64(m.raw() as u64);
        }
        Err(e) => hash_err(&mut h, e.into()),
    }
    if let (Some(cm), Ok(rm)) = (c.cur, make_mode(req_state)) {
        h.u64(u64::from(is_down_conversion(cm, rm)));
    }
    h.u64(u64::from(is_blocking_request(
        st(cur as u32),
        st(req_state),
        flags,
    )));
    h.0
}

// ---------------------------------------------------------------------------
// ast
// ---------------------------------------------------------------------------

/// `gdlm_core::ast`: gdlm_ast in both styles, put_lock, cancel.
///
/// `bits` 0: has_lvb, 1: GLF_INITIAL, 2: dead, 3: SDF_SKIP_DLM_UNLOCK.
#[no_mangle]
pub extern "C" fn gdlm_probe_ast(
    modern: bool,
    gl_state: u32,
    gl_req: u32,
    sb_status: i32,
    sb_flags: u8,
    bits: u32,
    lkid: u32,
) -> u64 {
    let style = if modern {
        AstStyle::Modern
    } else {
        AstStyle::default()
    };
    let a = AstInput {
        gl_state: st(gl_state),
        gl_req: st(gl_req),
        sb_status,
        sb_flags,
        has_lvb: bits & 1 != 0,
        glf_initial: bits & 2 != 0,
        lkid,
        dead: bits & 4 != 0,
    };
    let mut h = Sink::new();
    match gdlm_ast(style, &a) {
        Ok(AstOutcome::Complete {
            ret,
            lvb_zeroed,
            lkid,
            glf_initial,
        }) => h
            .u64(u64::from(ret))
            .u64(u64::from(lvb_zeroed))
            .u64(u64::from(lkid))
            .u64(u64::from(glf_initial)),
        Ok(AstOutcome::Free { lvb_zeroed }) => h.u64(0x100 | u64::from(lvb_zeroed)),
        Ok(o @ AstOutcome::Ignored) => h.fmt(format_args!("{o:?}")),
        Err(e @ AstError::AltMode(s)) => {
            hash_err(&mut h, e.into());
            h.u64(u64::from(s.raw()))
        }
        Err(e) => h.fmt(format_args!("{e} {a:?}")),
    };
    let pin = PutLockInput {
        lkid,
        has_lvb: a.has_lvb,
        gl_state: a.gl_state,
        skip_dlm_unlock: bits & 8 != 0,
    };
    let modern = put_lock_modern(
        &pin,
        &PutLockModern {
            glf_initial: bits & 16 != 0,
            unmounted: bits & 32 != 0,
        },
    );
    h.u64(u64::from(modern.updates_request_times()));
    let p = put_lock(&pin);
    h.u64(u64::from(p.updates_request_times()));
    match p {
        PutLock::Free => h.u64(1),
        PutLock::FreeSkipUnlock => h.u64(2),
        PutLock::Unlock { lkid, flags } => h.u64(u64::from(lkid)).u64(u64::from(flags.bits())),
    };
    match cancel(lkid) {
        Ok(CancelRequest { lkid, flags }) => h.u64(u64::from(lkid) ^ u64::from(flags.bits())),
        Err(e) => h.fmt(format_args!("{e:?}")),
    };
    h.0
}

// ---------------------------------------------------------------------------
// stats
// ---------------------------------------------------------------------------

/// `gdlm_core::stats`: LkStats, GlockStats and TypeStats over four samples.
#[no_mangle]
pub extern "C" fn gdlm_probe_stats(
    samples: Samples4,
    ln_type: u32,
    blocking: bool,
    req_state: u32,
    converting: bool,
) -> i64 {
    let mut ts: TypeStats = TypeStats::new();
    let small: TypeStats<3> = TypeStats::default();
    let mut g = GlockStats::new();
    let ctx = LockContext {
        converting,
        ..LockContext::default()
    };
    let req = lock_request(
        &FlagPolicy::REFERENCE,
        &LockName::new(ln_type, 1),
        NameStyle::Reference,
        req_state,
        LmFlags::empty(),
        &ctx,
    );
    for (i, &s) in samples.s.iter().enumerate() {
        let per = ts.get_mut(ln_type).ok();
        match i {
            0 => {
                if let Ok(r) = &req {
                    g.on_request(r, s, per);
                }
            }
            1 => {
                g.on_reply(s, blocking, per);
            }
            2 => g.on_put_lock(s, per),
            _ => {
                g.request_times(s, per);
            }
        }
    }
    let mut l = if blocking {
        LkStats::new()
    } else {
        LkStats::default()
    };
    l.update(StatPair::reply(blocking), samples.s[0]);
    l.inc_dcount();
    l.inc_qcount();
    let mut acc = g.dstamp ^ l.stats[GFS2_LKS_QCOUNT];
    for i in 0..8 {
        if let Some(p) = StatPair::from_index(i) {
            acc = acc
                .wrapping_mul(31)
                .wrapping_add(g.stats.mean(p) ^ g.stats.var(p) ^ l.mean(p) ^ l.var(p))
                .wrapping_add(p.index() as i64);
        }
    }
    match ts.get(ln_type) {
        Ok(t) => acc ^= t.stats.iter().fold(0i64, |a, &v| a.wrapping_add(v)),
        Err(e @ UnknownLockType(v)) => {
            let mut h = Sink::new();
            h.fmt(format_args!("{e} {e:?} {v}"));
            acc ^= h.0 as i64;
        }
    }
    if small.get(ln_type).is_err() {
        acc = acc.wrapping_add(1);
    }
    acc ^ (GlockStats::default() == g) as i64
}

// ---------------------------------------------------------------------------
// lvb
// ---------------------------------------------------------------------------

/// `gdlm_core::lvb`: the control LVB and JidSet.
/// Drives `membership`: a founder, a joiner synced by message, a failure, and the
/// resulting recovery calls applied to a `Recovery`.
#[no_mangle]
pub extern "C" fn gdlm_probe_membership(node: u32, pid: u32, reason: u32, msg: Bytes32) -> u64 {
    let mut h = Sink::new();
    let a = Member::new(node, pid);
    let b = Member::new(node.wrapping_add(1), pid);
    let mut ma: Membership<8> = Membership::new(a);
    let mut mb: Membership<8> = Membership::new(b);
    let policy = if reason & 1 == 0 {
        SubmitPolicy::Reference
    } else {
        SubmitPolicy::DropFolded
    };
    let mut rec: Recovery<8> = Recovery::new(SizePolicy::Fit).with_submit_policy(policy);
    h.u64(u64::from(rec.submit_policy() == policy))
        .u64(SyncMsg::<8>::encoded_len(2) as u64);
    let mut buf = [0u8; SyncMsg::<8>::MAX_LEN];
    let steps: [Result<Change<8>, MembershipError>; 2] =
        [ma.confchg(&[a], &[], &[a]), ma.confchg(&[a, b], &[], &[b])];
    for c in steps {
        match c {
            Ok(c) => {
                h.u64(u64::from(c.is_empty()));
                if let Some(s) = &c.sync {
                    let n = s.encode(&mut buf).unwrap_or(0);
                    let _ = mb.confchg(&[a, b], &[], &[b]);
                    if let Ok(d) = mb.deliver(a, &buf[..n]) {
                        h.u64(u64::from(d.done.map_or(0, |d| d.generation)));
                    }
                }
                match c.apply(&mut rec) {
                    Ok(w) => {
                        h.fmt(format_args!("{w:?}"));
                    }
                    Err(e) => hash_err(&mut h, e.into()),
                }
            }
            Err(e) => hash_err(&mut h, Error::from(e)),
        }
    }
    let why = LeftReason::from_cpg(reason);
    match ma.confchg(&[a], &[(b, why)], &[]) {
        Ok(c) => h.u64(c.failed.len() as u64).u64(u64::from(why.failed())),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    match SyncMsg::<8>::decode(&msg.b) {
        Ok(s) => h
            .u64(u64::from(s.generation))
            .u64(u64::from(s.age_of(a).unwrap_or(AGE_UNKNOWN))),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    h.u64(u64::from(ma.generation().unwrap_or(0)))
        .u64(ma.our_slot().unwrap_or(0) as u64)
        .u64(mb.slot_of(b).unwrap_or(0) as u64)
        .u64(ma.table().len() as u64)
        .u64(ma.view().len() as u64)
        .u64(u64::from(ma.is_synced() && !ma.has_left()))
        .u64(u64::from(ma.me().nodeid));
    h.0
}

/// `gdlm_core::lvb`: read, write, jid bits and sets, both decoding paths.
#[no_mangle]
pub extern "C" fn gdlm_probe_lvb(lvb: Bytes32, jid: u32, value: bool, gen: u32, limit: u32) -> u64 {
    let mut h = Sink::new();
    let mut c = ControlLvb::from_array(lvb.b);
    let (g, bits) = control_lvb_read(&c);
    let w = control_lvb_write(gen, &bits);
    h.u64(u64::from(g))
        .bytes(w.as_bytes())
        .u64(u64::from(c.is_disabled()))
        .u64(u64::from(ControlLvb::zeroed() == ControlLvb::default()));
    c.set_generation(gen ^ g);
    if let Err(e) = c.set_jid(jid, value) {
        hash_err(&mut h, e.into());
    }
    match c.jid(jid) {
        Ok(b) => h.u64(u64::from(b)),
        Err(LvbError::JidOutOfRange { jid }) => h.u64(u64::from(jid)),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    h.u64(u64::from(c.all_jid_bits_clear()))
        .u64(u64::from(c.generation()))
        .u64(u64::from(c.any_jid_below(limit)));
    let all: JidSet = c.jids();
    let below = c.jids_below(limit);
    let mut s = JidSet::new();
    if let Err(e) = s.insert(jid) {
        h.fmt(format_args!("{e:?}"));
    }
    for set in [&all, &below, &s] {
        h.u64(set.len() as u64)
            .u64(u64::from(set.is_empty()))
            .u64(u64::from(set.contains(jid)))
            .bytes(set.as_bytes());
        for j in set.iter() {
            h.u64(u64::from(j));
        }
    }
    match ControlLvb::from_bytes(&lvb.b[..(limit as usize) % 33]) {
        Ok(x) => h.bytes(x.as_bytes()),
        Err(e @ LvbError::WrongLength { len }) => {
            hash_err(&mut h, e.into());
            h.u64(len as u64)
        }
        Err(e) => h.fmt(format_args!("{e}")),
    };
    if let Ok(x) = ControlLvb::try_from(&lvb.b[..]) {
        h.u64(u64::from(x.generation()));
    }
    let mut copy = ControlLvb::zeroed();
    match copy.copy_from_bytes(&lvb.b[..(limit as usize) % 33]) {
        Ok(()) => h.u64(u64::from(control_lvb_read_into(&copy, &mut c))),
        Err(e) => {
            hash_err(&mut h, e.into());
            h.bytes(copy.as_bytes())
        }
    };
    match control_lvb_read_slice(&lvb.b[..(limit as usize) % 33], &mut copy) {
        Ok(g) => h.u64(u64::from(g)),
        Err(e @ LvbLengthError { len }) => {
            h.fmt(format_args!("{e}"));
            hash_err(&mut h, LvbError::from(e).into());
            h.u64(u64::from(len))
        }
    };
    h.fmt(format_args!("{c:?} {all:?}"));
    h.0
}

// ---------------------------------------------------------------------------
// recovery
// ---------------------------------------------------------------------------

fn hash_work(h: &mut Sink, w: Result<Option<ControlWork>, RecoveryError>) {
    match w {
        Ok(Some(ControlWork::Now)) => h.u64(1),
        Ok(Some(ControlWork::AfterHz)) => h.u64(2),
        Ok(None) => h.u64(3),
        Err(e) => {
            hash_err(h, e.into());
            h
        }
    };
}

fn hash_result(h: &mut Sink, r: Result<ResultOutcome, RecoveryError>) {
    match r {
        Ok(ResultOutcome::Recorded(w)) => hash_work(h, Ok(w)),
        Ok(ResultOutcome::Ignored(why)) => {
            h.u64(match why {
                ResultIgnored::NoDlmOps => 10,
                ResultIgnored::OwnJid => 11,
                ResultIgnored::FirstMount => 12,
                ResultIgnored::Withdrawn => 13,
            });
        }
        Err(e) => hash_err(h, e.into()),
    }
}

/// `gdlm_core::recovery`: the DLM callbacks, a full control step, and the
/// state behind [`SharedRecovery`] (a `spin::Mutex`).
#[no_mangle]
pub extern "C" fn gdlm_probe_recovery(input: RecoveryInput) -> u64 {
    let policy = if input.policy & 1 == 0 {
        SizePolicy::Fit
    } else {
        SizePolicy::Reference
    };
    let mut h = Sink::new();
    let shared: SharedRecovery<MAX_JIDS> = SharedRecovery::new(Recovery::new(policy));
    {
        let mut r = shared.lock();
        hash_work(
            &mut h,
            r.recover_done(&input.slots, input.our_slot, input.generation),
        );
        r.recover_prep();
        match r.recover_slot(input.failed_slot) {
            Ok(SlotRecorded {
                jid,
                generation,
                prev,
            }) => {
                h.u64(u64::from(jid))
                    .u64(u64::from(generation))
                    .u64(prev.map_or(0, u64::from));
            }
            Err(e) => hash_err(&mut h, e.into()),
        }
        h.u64(u64::from(r.dlm_recovery_in_progress()));
        hash_work(
            &mut h,
            r.recover_done(
                &input.slots,
                input.our_slot,
                input.generation.wrapping_add(1),
            ),
        );
        h.u64(u64::from(r.recover_size()))
            .u64(u64::from(r.recover_mount()))
            .u64(r.jid() as u64)
            .u64(r.capacity() as u64);
    }

    // A mounted (not first-mounter) node: rebuild the state with MOUNT_DONE from
    // its parts, then run one whole control step.
    let mut r = {
        let g = shared.lock();
        match Recovery::<MAX_JIDS>::from_parts(
            g.policy(),
            g.flags() | RecoverFlags::MOUNT_DONE | RecoverFlags::BLOCK_LOCKS,
            g.recover_mount(),
            g.recover_start(),
            g.recover_block(),
            g.submit(),
            g.result(),
            g.jid(),
            *g.lvb_bits(),
        ) {
            Ok(r) => r,
            Err(e) => {
                hash_err(&mut h, e.into());
                g.clone()
            }
        }
    };
    hash_result(&mut h, r.recovery_result(input.result_jid, input.result));
    let lvb = ControlLvb::from_array(input.lvb.b);
    match r.control_begin() {
        ControlBegin::NotReady => {
            h.u64(20);
        }
        ControlBegin::DlmRecovering => {
            h.u64(21);
        }
        ControlBegin::Lock(mut t, call) => {
            let ControlTicket {
                block_gen,
                start_gen,
                recover_size,
            } = t;
            h.u64(u64::from(recover_size));
            h.u64(u64::from(block_gen)).u64(u64::from(start_gen));
            hash_call(&mut h, &call);
            match r.control_locked(&mut t, &lvb) {
                ControlUpdate::Stale(call) => hash_call(&mut h, &call),
                ControlUpdate::Convert { call, lvb_gen } => {
                    hash_call(&mut h, &call);
                    h.u64(u64::from(lvb_gen));
                    match r.control_converted(&t) {
                        ControlFinish::Recover(jids) => {
                            for j in jids.iter() {
                                hash_result(&mut h, r.recovery_result(j, LM_RD_SUCCESS));
                            }
                        }
                        ControlFinish::Unblocked { generation } => {
                            h.u64(u64::from(generation));
                        }
                        ControlFinish::StillBlocked => {
                            h.u64(22);
                        }
                    }
                }
            }
        }
    }
    match r.check() {
        Ok(()) => h.u64(30),
        Err(Inconsistency::Size) => h.u64(31),
        Err(Inconsistency::FirstMountFlags) => h.u64(32),
        Err(i @ Inconsistency::BlockFlags) => h.fmt(format_args!("{i:?}")),
    };
    h.u64(u64::from(r.locks_blocked()))
        .u64(u64::from(r.flags().bits()))
        .fmt(format_args!("{:?}", r.policy()));
    r.unmount();
    hash_result(&mut h, r.recovery_result(input.result_jid, LM_RD_GAVEUP));
    r.release();
    hash_result(&mut h, r.recovery_result(input.result_jid, input.result));
    *shared.lock() = r;

    // A small-capacity state without DLM recovery ops.
    let mut small: Recovery<16> = Recovery::default();
    small.set_no_dlm_ops();
    hash_result(
        &mut h,
        small.recovery_result(input.result_jid, input.result),
    );
    if let Err(e) = small.recover_slot(input.failed_slot) {
        h.fmt(format_args!("{e}"));
    }
    h.u64(u64::from(set_recover_size(
        policy,
        input.generation % 64,
        &input.slots,
    )));
    if let Some(g) = shared.try_lock() {
        h.u64(u64::from(g.recover_start()));
    }
    h.bytes(LockId::Mounted.name().as_bytes());
    h.0
}

// ---------------------------------------------------------------------------
// mount
// ---------------------------------------------------------------------------

/// `gdlm_core::mount`: lock table and host data, after_new_lockspace, and the
/// ControlMount / FirstDone machines driven by the given call statuses.
#[no_mangle]
pub extern "C" fn gdlm_probe_mount(input: MountInput) -> u64 {
    let mut h = Sink::new();
    match LockTable::parse(text(&input.table)) {
        Ok(t) => h.bytes(t.cluster.as_bytes()).bytes(t.fsname.as_bytes()),
        Err(e) => {
            hash_err(&mut h, e.into());
            &mut h
        }
    };
    let opts = match MountOptions::parse(text(&input.hostdata)) {
        Ok(o) => o,
        Err(e @ TableError::UnknownHostdata) => {
            h.fmt(format_args!("{e}"));
            MountOptions::default()
        }
        Err(e) => {
            hash_err(&mut h, e.into());
            MountOptions::default()
        }
    };
    h.u64(u64::from(opts.lockspace_flags()))
        .u64(opts.jid.map_or(u64::MAX, u64::from))
        .u64(u64::from(opts.first))
        .u64(u64::from(opts.nodir));

    let mut rec: Recovery = Recovery::new(SizePolicy::Fit);
    match after_new_lockspace(&mut rec, input.ops_result, &opts) {
        Ok(OpsMode::DlmOps) => h.u64(40),
        Ok(OpsMode::NoOps) => h.u64(41),
        Err(e) => h.fmt(format_args!("{e:?}")),
    };
    hash_work(
        &mut h,
        rec.recover_done(&input.slots, input.our_slot, input.generation),
    );

    let lvb = ControlLvb::from_array(input.lvb.b);
    let mut status = input.statuses.iter().copied().cycle();
    let mut cm = if input.interrupt {
        ControlMount::new()
    } else {
        ControlMount::default()
    };
    if input.interrupt {
        cm.interrupt();
    }
    let mut step = Ok(cm.start(&mut rec));
    let mut first = None;
    for _ in 0..32 {
        step = match step {
            Ok(MountStep::Lock(call)) => {
                hash_call(&mut h, &call);
                let s = status.next().unwrap_or(0);
                let l = if s == 1 { None } else { Some(&lvb) };
                cm.on_lock_result(&mut rec, if s == 1 { 0 } else { s }, l)
            }
            Ok(MountStep::Unlock(id)) => {
                h.u64(u64::from(id.number()));
                cm.on_unlock_result(status.next().unwrap_or(0))
            }
            Ok(MountStep::Sleep { ms }) => {
                h.u64(u64::from(ms));
                cm.on_sleep_done()
            }
            Ok(MountStep::Mounted { first: f }) => {
                first = Some(f);
                break;
            }
            Ok(MountStep::Failed { error, reason }) => {
                h.u64(error as u64).fmt(format_args!("{reason:?}"));
                break;
            }
            Err(e @ MountError::MissingLvb) => {
                hash_err(&mut h, e.into());
                break;
            }
            Err(e) => {
                h.fmt(format_args!("{e}"));
                break;
            }
        };
    }
    // Misuse is refused, not a panic.
    if let Err(e) = cm.on_sleep_done() {
        h.fmt(format_args!("{e:?}"));
    }
    h.u64(cm.lvb_gen().map_or(0, u64::from))
        .u64(cm.mounted_mode().raw() as u64)
        .u64(u64::from(cm.retries()))
        .fmt(format_args!("{:?}", cm.last_retry()));
    if let Some(RetryReason::ControlBusy | RetryReason::WaitJournals) = cm.last_retry() {
        h.u64(50);
    }

    if first == Some(true) {
        let mut fd = FirstDone::new();
        let mut step = fd.start(&mut rec);
        for round in 0..16u32 {
            step = match step {
                Ok(FirstDoneStep::Lock(call)) => {
                    hash_call(&mut h, &call);
                    fd.on_lock_result(status.next().unwrap_or(0))
                }
                Ok(FirstDoneStep::Unlock(id)) => {
                    h.u64(u64::from(id.number()));
                    fd.on_unlock_result(status.next().unwrap_or(0))
                }
                Ok(FirstDoneStep::WaitDlmRecovery) => {
                    // A DLM recovery cycle finishes, then first_done starts over.
                    rec.recover_prep();
                    let _ = rec.recover_done(
                        &input.slots,
                        input.our_slot,
                        input.generation.wrapping_add(round + 1),
                    );
                    fd.start(&mut rec)
                }
                Ok(FirstDoneStep::Done { result }) => {
                    h.u64(result as u64);
                    break;
                }
                Err(e) => {
                    hash_err(&mut h, e.into());
                    break;
                }
            };
        }
        h.bytes(fd.lvb().as_bytes())
            .u64(fd.mounted_pr_error() as u64)
            .fmt(format_args!("{:?}", FirstDone::default() == fd));
    }
    h.u64(u64::from(rec.flags().bits()));
    h.0
}

// ---------------------------------------------------------------------------
// signal
// ---------------------------------------------------------------------------

/// `gdlm_core::signal`: raise, take and await (polled with a no-op waker) the
/// mount's signals over embassy-sync's `NoopRawMutex`.
#[no_mangle]
pub extern "C" fn gdlm_probe_signal(v: u32, later: bool) -> u64 {
    let s: Signals<NoopRawMutex> = Signals::new();
    let d: Signals<NoopRawMutex> = Signals::default();
    let mut h = Sink::new();
    s.control_work.signal(if later {
        ControlWork::AfterHz
    } else {
        ControlWork::Now
    });
    h.u64(u64::from(s.control_work.signaled()));
    match s.control_work.try_take() {
        Some(ControlWork::Now) => h.u64(1),
        Some(ControlWork::AfterHz) => h.u64(2),
        None => h.u64(3),
    };
    s.unblocked.signal(v);
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(x) = pin!(s.unblocked.wait()).poll(&mut cx) {
        h.u64(u64::from(x));
    }
    {
        let mut w = pin!(d.dlm_recovery_done.wait());
        h.u64(u64::from(w.as_mut().poll(&mut cx).is_pending()));
        d.dlm_recovery_done.signal(v.wrapping_add(1));
        if let Poll::Ready(x) = w.as_mut().poll(&mut cx) {
            h.u64(u64::from(x));
        }
    }
    d.unblocked.signal(v);
    d.unblocked.reset();
    h.u64(u64::from(d.unblocked.signaled()));
    h.0
}

// ---------------------------------------------------------------------------
// Error (lib.rs)
// ---------------------------------------------------------------------------

/// The crate-wide `gdlm_core::Error`: every `From` conversion, Display and Debug.
#[no_mangle]
pub extern "C" fn gdlm_probe_error(kind: u32, v: i32) -> u64 {
    let e: Error = match kind % 8 {
        0 => NameError::WrongLength { len: v as usize }.into(),
        1 => ModeError::UnknownMode(v).into(),
        2 => FlagsError::Mode(ModeError::UnknownBastMode(v)).into(),
        3 => AstError::UnknownStatus(v).into(),
        4 => LvbError::JidOutOfRange { jid: v as u32 }.into(),
        5 => RecoveryError::ShortSize {
            jid: v as u32,
            size: kind,
        }
        .into(),
        6 => MountError::UnexpectedInput.into(),
        _ => TableError::JidPreset.into(),
    };
    let mut h = Sink::new();
    hash_err(&mut h, e);
    h.0
}

// ---------------------------------------------------------------------------
// engine and glock: the lifecycle machine and the per-glock machine.
// ---------------------------------------------------------------------------

/// Answer one engine DLM request as a lone node's DLM would (grant, unlock replies).
fn engine_answer(
    req: &DlmRequest,
    lvb: Option<&ControlLvb>,
    res_lvb: &mut [u8; 32],
    ex: &mut bool,
) -> EngineEvent<'static> {
    match req.op {
        DlmOp::Unlock => EngineEvent::DlmDone {
            lock: req.lock,
            status: -DLM_EUNLOCK,
            sb_flags: 0,
            lvb: None,
        },
        DlmOp::Lock { mode, flags } => {
            let mut out = None;
            if req.lock == LockRef::Control && flags.contains(DlmLkf::VALBLK) {
                if *ex && mode != DlmMode::Ex {
                    if let Some(l) = lvb {
                        *res_lvb = *l.as_bytes();
                    }
                }
                out = Some(*res_lvb);
            }
            if req.lock == LockRef::Control {
                *ex = mode == DlmMode::Ex;
            }
            EngineEvent::DlmDone {
                lock: req.lock,
                status: 0,
                sb_flags: 0,
                lvb: out,
            }
        }
    }
}

/// `gdlm_core::engine`: a lone node mounts (first mounter over `journals`), a failure
/// of slot 2 is recovered, then it unmounts or withdraws; every action is hashed.
#[no_mangle]
pub extern "C" fn gdlm_probe_engine(
    journals: u32,
    linux72: bool,
    fail_replay: u32,
    withdraw: bool,
) -> u64 {
    let profile = if linux72 {
        Profile::Linux72
    } else {
        Profile::Reference
    };
    let mut cfg = EngineConfig::for_profile(profile);
    cfg.first_mount_failure = if fail_replay & 1 == 0 {
        FirstMountFailure::FailMount
    } else {
        FirstMountFailure::RetryAfterHz
    };
    let mut e: Engine<192> = Engine::new(cfg);
    let mut h = Sink::new();
    let mut res_lvb = [0u8; 32];
    let mut ex = false;
    let mut now = Instant::ZERO;
    let feed = |e: &mut Engine<192>, h: &mut Sink, now: Instant, ev: EngineEvent<'_>| {
        if let Err(err) = e.handle(now, ev) {
            h.fmt(format_args!("{err} {err:?}"));
        }
    };
    feed(
        &mut e,
        &mut h,
        now,
        EngineEvent::Mount {
            journals: journals % 8,
        },
    );
    feed(
        &mut e,
        &mut h,
        now,
        EngineEvent::RecoverDone {
            slots: &[1],
            our_slot: 1,
            generation: 1,
        },
    );
    feed(&mut e, &mut h, now, EngineEvent::LockspaceJoined);
    for round in 0..400u32 {
        match round {
            100 => {
                feed(&mut e, &mut h, now, EngineEvent::RecoverPrep);
                feed(&mut e, &mut h, now, EngineEvent::RecoverSlot { slot: 2 });
                feed(
                    &mut e,
                    &mut h,
                    now,
                    EngineEvent::RecoverDone {
                        slots: &[1],
                        our_slot: 1,
                        generation: 2,
                    },
                );
            }
            300 => feed(
                &mut e,
                &mut h,
                now,
                if withdraw {
                    EngineEvent::Withdraw
                } else {
                    EngineEvent::Unmount
                },
            ),
            _ => {}
        }
        while let Some(a) = e.poll() {
            h.fmt(format_args!("{a:?}"));
            match a {
                EngineAction::Dlm(req) => {
                    h.bytes(req.name().as_bytes());
                    let ev = engine_answer(&req, e.request_lvb(&req), &mut res_lvb, &mut ex);
                    feed(&mut e, &mut h, now, ev);
                }
                EngineAction::Replay { jid, reason } => {
                    let outcome = if fail_replay >> 1 == jid + 1 {
                        ReplayOutcome::Failed(-5)
                    } else {
                        ReplayOutcome::Success
                    };
                    h.fmt(format_args!("{reason:?}"));
                    feed(
                        &mut e,
                        &mut h,
                        now,
                        EngineEvent::ReplayDone { jid, outcome },
                    );
                }
                EngineAction::Log(l) => {
                    h.fmt(format_args!("{l} {:?}", l.level()));
                }
                EngineAction::Multicast => {
                    let mut buf = [0u8; 64];
                    h.u64(e.multicast_message(&mut buf).unwrap_or(0) as u64);
                }
                EngineAction::MountFailed(MountFailureReason::ControlMount { error, reason }) => {
                    h.u64(error as u64).fmt(format_args!("{reason:?}"));
                }
                EngineAction::Release(r) => {
                    h.fmt(format_args!("{r:?} {:?}", r == EngineRelease::Recover));
                }
                _ => {}
            }
        }
        match e.poll_timeout() {
            Some(t) if t > now => now = t,
            Some(_) => e.handle_timeout(now),
            None => now = now + EngineDuration::from_millis(100),
        }
        e.handle_timeout(now);
    }
    h.u64(u64::from(e.phase() == EnginePhase::Down))
        .u64(u64::from(e.is_first()))
        .u64(u64::from(e.jid().unwrap_or(u32::MAX)))
        .u64(u64::from(e.dropped_logs()))
        .u64(e.journal_stats().stats.stats[6] as u64)
        .u64(
            now.as_millis() + now.as_millis_ceil() + now.saturating_since(Instant::ZERO).as_nanos(),
        )
        .u64(Instant::from_nanos(HZ.as_nanos()).as_nanos())
        .fmt(format_args!(
            "{:?} {} {} {} {:?} {:?} {} {}",
            e.config().callbacks,
            e.accessing(),
            e.locks_blocked(),
            e.holds_own_journal(),
            e.recovery_queue(),
            e.replaying(),
            e.sync_pending(),
            e.is_finished() || e.is_mounted()
        ));
    let _ = (
        e.membership().is_some(),
        e.control_mount().retries(),
        e.recovery().jid(),
    );
    // The order of a woken control_first_done and the control work (set back after).
    let waiting = e.first_done_waiting();
    e.set_first_done_order(gdlm_core::engine::FirstDoneOrder::WorkFirst);
    e.set_first_done_order(gdlm_core::engine::FirstDoneOrder::FirstDoneFirst);
    h.u64(u64::from(waiting));
    // Every generation the engine holds, as a model checker renames them (identity here).
    e.visit_generations(&mut |g: &mut u32| *g = core::hint::black_box(*g));
    let mut lvb = ControlLvb::zeroed();
    lvb.visit_generation(&mut |g: &mut u32| *g = g.wrapping_add(1));
    h.u64(u64::from(lvb.generation()));
    let _ = (
        Callbacks::Dlm,
        LM_TYPE_JOURNAL,
        EventKind::Mount,
        Level::Info,
    );
    let _ = core::mem::size_of::<(EngineError, MountFailureReason)>();
    // A log line through the text sink, as `Display` (one line), and a membership message.
    let ev = gdlm_core::engine::log::LogEvent::JournalDone { jid: waiting.into() };
    ev.write_line(&mut h, 0);
    let line: gdlm_core::engine::Line<'_> = ev.line(0);
    h.fmt(format_args!("{line}"));
    MembershipError::NotInGroup.write_to(&mut h);
    h.u64(u64::from(ReplayReason::Own == ReplayReason::FirstMount))
        .u64(u64::from(ControlMount::new_spectator().retries()));
    h.0
}

/// `gdlm_core::glock`: one glock taken, converted, demoted, cancelled and put.
#[no_mangle]
pub extern "C" fn gdlm_probe_glock(linux72: bool, bast: i32, status: i32, skip: bool) -> u64 {
    let profile = if linux72 {
        Profile::Linux72
    } else {
        Profile::Reference
    };
    let mut g = Glock::new(profile, LockName::new(2, 100), true);
    let mut h = Sink::new();
    let step = |h: &mut Sink, r: Result<GlockDone, GlockError>| match r {
        Ok(d) => {
            h.fmt(format_args!("{d:?}"));
        }
        Err(e) => {
            h.fmt(format_args!("{e} {e:?}"));
        }
    };
    match g.request(LmState::Shared, LmFlags::TRY, 1) {
        Ok(r) => h.fmt(format_args!("{r:?}")),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    g.set_lkid(9);
    let r = g.complete(status, 0, 2);
    step(&mut h, r);
    let _ = g.request(LmState::Exclusive, LmFlags::empty(), 3);
    if let Ok(Some(c)) = g.cancel() {
        h.u64(u64::from(c.lkid));
    }
    let r = g.complete(0, 0, 4);
    step(&mut h, r);
    h.fmt(format_args!("{:?}", g.bast(bast)));
    if let Some(d) = g.take_demote() {
        let _ = g.request(d, LmFlags::empty(), 5);
        let r = g.complete(0, 0, 6);
        step(&mut h, r);
    } else {
        g.request_failed();
    }
    match g.put(skip, 7) {
        Ok(Put::Freed) => h.u64(1),
        Ok(Put::Unlock(CancelLike { lkid, flags })) => h.u64(u64::from(lkid) ^ u64::from(flags)),
        Err(e) => h.fmt(format_args!("{e}")),
    };
    let r = g.complete(-DLM_EUNLOCK, 0, 8);
    step(&mut h, r);
    h.u64(u64::from(g.is_dead()))
        .u64(u64::from(g.lkid()))
        .u64(g.state().raw() as u64)
        .u64(u64::from(g.cancelled()))
        .u64(g.stats().stats.stats[0] as u64)
        .fmt(format_args!(
            "{:?} {:?} {:?}",
            g.name(),
            g.pending(),
            g.demote()
        ));
    let _ = Pending::Unlock;
    h.0
}

// ---------------------------------------------------------------------------
// defmt (feature `defmt`): every defmt::Format impl of gdlm-core, through a no-op
// global logger.
// ---------------------------------------------------------------------------

#[cfg(feature = "defmt")]
mod defmt_probe {
    use super::*;

    #[defmt::global_logger]
    struct NoopLogger;

    // SAFETY: the logger does nothing, so every call is trivially sound.
    #[allow(unsafe_code)]
    unsafe impl defmt::Logger for NoopLogger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(_bytes: &[u8]) {}
    }

    defmt::timestamp!("{=u32}", 0);

    // What defmt's linker script would otherwise PROVIDE: with this the defmt
    // archive leaves no defmt hook unresolved.
    #[defmt::panic_handler]
    fn defmt_panic() -> ! {
        core::panic!()
    }

    /// Log one value of each public type of gdlm-core with defmt.
    #[no_mangle]
    pub extern "C" fn gdlm_probe_defmt(ln_type: u32, ln_number: u64, lvb: Bytes32, v: i32) {
        let n = LockName::new(ln_type, ln_number);
        let c = ControlLvb::from_array(lvb.b);
        let mut rec: Recovery = Recovery::default();
        let e: Error = ModeError::UnknownMode(v).into();
        defmt::info!(
            "{} {} {} {} {} {} {}",
            n,
            n.encode(),
            c,
            c.jids(),
            e,
            LmFlags::from_bits_retain(v as u32),
            DlmLkf::from_bits_truncate(v as u32)
        );
        defmt::info!(
            "{} {} {} {}",
            rec.flags(),
            rec.recover_slot(v),
            rec.control_begin(),
            ControlMount::new().start(&mut rec)
        );
        defmt::info!(
            "{} {} {} {}",
            FirstDone::new(),
            MountOptions::default(),
            LkStats::new(),
            GlockStats::new()
        );
        defmt::info!(
            "{} {}",
            gdlm_ast(
                AstStyle::Modern,
                &AstInput {
                    gl_state: st(v as u32),
                    gl_req: st(ln_type),
                    sb_status: v,
                    sb_flags: ln_type as u8,
                    has_lvb: true,
                    glf_initial: false,
                    lkid: ln_type,
                    dead: false,
                }
            ),
            make_mode(ln_type)
        );
    }
}

// ---------------------------------------------------------------------------
// Self-test violations (features `violate-alloc`, `violate-std`).
// ---------------------------------------------------------------------------

#[cfg(feature = "violate-alloc")]
mod violate_alloc {
    use alloc::vec::Vec;
    use core::alloc::{GlobalAlloc, Layout};

    struct NullAlloc;

    // SAFETY: never hands out memory; a null return is an allocation failure.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for NullAlloc {
        unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
            core::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ALLOC: NullAlloc = NullAlloc;

    /// Deliberately allocates: the checker must reject this archive.
    #[no_mangle]
    pub extern "C" fn gdlm_probe_violate_alloc(n: u32) -> u32 {
        let v: Vec<u32> = (0..n).collect();
        v.iter().sum()
    }
}

/// Deliberately uses std: the checker must reject this archive.
#[cfg(feature = "violate-std")]
#[no_mangle]
pub extern "C" fn gdlm_probe_violate_std(n: u32) -> u32 {
    let v: std::vec::Vec<u32> = (0..n).collect();
    std::println!("{}", v.len());
    v.iter().sum()
}

#[cfg(not(feature = "violate-std"))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
