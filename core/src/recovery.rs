//! Journal-recovery coordination (reference: `gdlm_recover_prep`,
//! `gdlm_recover_slot`, `gdlm_recover_done`, `gdlm_recovery_result`,
//! `set_recover_size`, `gfs2_control_func`).
//!
//! [`Recovery`] is the state the kernel guards with `ls_recover_spin`. Each method is
//! one critical section of the reference; between them the caller performs the DLM
//! calls the methods ask for, without holding the lock, exactly as the kernel drops
//! the spinlock around `dlm_lock`. Share it as [`SharedRecovery`].
//!
//! The control step (`gfs2_control_func`) is three calls:
//! [`Recovery::control_begin`] → (convert control_lock to EX, read the LVB) →
//! [`Recovery::control_locked`] → (convert back to NL, maybe writing the LVB) →
//! [`Recovery::control_converted`].

use core::fmt;

use bitflags::bitflags;
use heapless::Vec;

use crate::consts::*;
use crate::flags::DlmLkf;
use crate::lvb::{control_lvb_read, control_lvb_write, ControlLvb, JidSet};
use crate::mode::DlmMode;

bitflags! {
    /// `ls_recover_flags` as a mask of `1 << DFL_*`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct RecoverFlags: u32 {
        /// `DFL_BLOCK_LOCKS`: normal locking is blocked.
        const BLOCK_LOCKS = 1 << DFL_BLOCK_LOCKS;
        /// `DFL_NO_DLM_OPS`: the DLM has no recovery callbacks (old dlm_controld).
        const NO_DLM_OPS = 1 << DFL_NO_DLM_OPS;
        /// `DFL_FIRST_MOUNT`: this node is the first mounter, doing first recovery.
        const FIRST_MOUNT = 1 << DFL_FIRST_MOUNT;
        /// `DFL_FIRST_MOUNT_DONE`: first-mounter recovery finished.
        const FIRST_MOUNT_DONE = 1 << DFL_FIRST_MOUNT_DONE;
        /// `DFL_MOUNT_DONE`: control_mount finished; the control work owns BLOCK_LOCKS.
        const MOUNT_DONE = 1 << DFL_MOUNT_DONE;
        /// `DFL_UNMOUNT`: unmounting; no more control work is queued.
        const UNMOUNT = 1 << DFL_UNMOUNT;
        /// `DFL_DLM_RECOVERY`: between recover_prep and recover_done.
        const DLM_RECOVERY = 1 << DFL_DLM_RECOVERY;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for RecoverFlags {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "RecoverFlags({=u32:#x})", self.bits())
    }
}

/// How `set_recover_size` grows the per-jid arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SizePolicy {
    /// Grow by `RECOVER_SIZE_INC` until the largest slot fits (upstream fix, 2019).
    #[default]
    Fit,
    /// The reference: grow by 16 once, even if the largest slot needs more. A slot
    /// beyond the new size is then dropped by recover_slot ("short size"), and its
    /// journal is never replayed. Kept for exactness and for bug hunting.
    Reference,
}

/// What the control step does with a failure recorded (in `recover_submit`) before the
/// generation the LVB already carries, when the LVB is behind `start_gen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubmitPolicy {
    /// The reference (L680-689): set the jid bit of every entry below `start_gen`. A
    /// stale entry can re-set the bit of a journal already recovered and now reused by
    /// a new mount, which then blocks every node forever (see the simulator's
    /// `stale-submit-reused-jid` schedule).
    #[default]
    Reference,
    /// Drop entries below the LVB's generation without setting their bits, as the
    /// `lvb_gen == start_gen` branch (L674-678) already does: the node that wrote
    /// that generation folded those failures in. Not the kernel's behaviour.
    DropFolded,
}

/// `set_recover_size`'s size computation over the DLM slot numbers
/// (jid = slot − 1), without a capacity limit.
pub fn set_recover_size(policy: SizePolicy, old_size: u32, slots: &[i32]) -> u32 {
    let max_jid = slots.iter().map(|&s| i64::from(s) - 1).fold(0i64, i64::max);
    grow_recover_size(policy, old_size, max_jid)
}

/// [`set_recover_size`] from the largest jid (at least 0).
#[inline]
fn grow_recover_size(policy: SizePolicy, old_size: u32, max_jid: i64) -> u32 {
    let need = max_jid + 1;
    if i64::from(old_size) >= need {
        return old_size;
    }
    match policy {
        SizePolicy::Reference => old_size.wrapping_add(RECOVER_SIZE_INC),
        SizePolicy::Fit => {
            let inc = i64::from(RECOVER_SIZE_INC);
            let steps = (need - i64::from(old_size) + inc - 1) / inc;
            u32::try_from(i64::from(old_size) + steps * inc).unwrap_or(u32::MAX)
        }
    }
}

/// Jids per step of the control step's scans ([`hits`]): two bytes of the LVB bitmap.
const SCAN: usize = 16;

/// Bit k set where `f(v[k])`, for the at most [`SCAN`] entries of `v`; no branches,
/// so a whole chunk is a few vector compares.
#[inline]
fn hits(v: &[u32], f: impl Fn(u32) -> bool) -> u16 {
    match <&[u32; SCAN]>::try_from(v) {
        Ok(a) => a
            .iter()
            .enumerate()
            .fold(0, |m, (k, &x)| m | (u16::from(f(x)) << k)),
        Err(_) => v
            .iter()
            .enumerate()
            .fold(0, |m, (k, &x)| m | (u16::from(f(x)) << (k % SCAN))),
    }
}

/// Some entry of `v` satisfies `f`: a fold without an early exit, so that it
/// vectorizes (cheaper than [`hits`] for the usual answer, none).
#[inline]
fn any(v: &[u32], f: impl Fn(u32) -> bool) -> bool {
    v.iter().fold(false, |a, &x| a | f(x))
}

/// Zero the entries of `v` whose bits are set in `m` (a [`hits`] mask of `v`).
#[inline]
fn clear_hits(v: &mut [u32], mut m: u16) {
    while m != 0 {
        if let Some(x) = v.get_mut(m.trailing_zeros() as usize) {
            *x = 0;
        }
        m &= m - 1;
    }
}

/// `x != 0 && x < bound` as one unsigned compare (`x - 1 < bound - 1`; nothing is
/// below a bound of 0 or 1).
#[inline]
fn in_1_below(x: u32, bound: u32) -> bool {
    x.wrapping_sub(1) < bound.saturating_sub(1)
}

/// When the control work should run (`queue_delayed_work(gfs2_control_wq, …)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlWork {
    /// Delay 0.
    Now,
    /// Delay `HZ` (one second): after GAVEUP, give the other node time to finish.
    AfterHz,
}

/// A recovery input the core refuses; the state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecoveryError {
    /// A DLM slot ≤ 0 (slots start at 1; the kernel would write `submit[-1]`).
    InvalidSlot(i32),
    /// A slot whose jid does not fit the fixed capacity `N`.
    SlotBeyondCapacity {
        /// The slot.
        slot: i32,
        /// The capacity in jids.
        capacity: usize,
    },
    /// A jid beyond the capacity (recovery_result).
    JidBeyondCapacity {
        /// The jid.
        jid: u32,
        /// The capacity in jids.
        capacity: usize,
    },
    /// The jid is beyond the current `recover_size` (the reference's "short size":
    /// it logs and drops the event).
    ShortSize {
        /// The jid.
        jid: u32,
        /// `ls_recover_size`.
        size: u32,
    },
    /// The per-jid arrays would grow beyond the capacity.
    SizeBeyondCapacity {
        /// The size wanted.
        size: u32,
        /// The capacity in jids.
        capacity: usize,
    },
    /// Linux 7.2: the filesystem is withdrawn, the callback is ignored ("… ignored due
    /// to withdraw", 7.2:L1190-1194, L1219-1222); see [`Recovery::withdraw`].
    Withdrawn,
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RecoveryError::InvalidSlot(s) => write!(f, "invalid DLM slot {s} (slots start at 1)"),
            RecoveryError::SlotBeyondCapacity { slot, capacity } => {
                write!(f, "slot {slot} beyond capacity {capacity}")
            }
            RecoveryError::JidBeyondCapacity { jid, capacity } => {
                write!(f, "jid {jid} beyond capacity {capacity}")
            }
            RecoveryError::ShortSize { jid, size } => write!(f, "jid {jid} short size {size}"),
            RecoveryError::SizeBeyondCapacity { size, capacity } => {
                write!(f, "recover size {size} beyond capacity {capacity}")
            }
            RecoveryError::Withdrawn => f.write_str("ignored due to withdraw"),
        }
    }
}

impl core::error::Error for RecoveryError {}

/// What `gdlm_recover_slot` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SlotRecorded {
    /// The failed member's jid.
    pub jid: u32,
    /// The generation recorded (`ls_recover_block`).
    pub generation: u32,
    /// A failure of this jid already waiting to be put in the LVB ("prev").
    pub prev: Option<u32>,
}

/// Why `gdlm_recovery_result` ignored a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResultIgnored {
    /// `DFL_NO_DLM_OPS`: recovery is coordinated elsewhere.
    NoDlmOps,
    /// Our own journal, recovered during mount.
    OwnJid,
    /// First-mounter recovery is coordinated by control_mount / first_done.
    FirstMount,
    /// Linux 7.2: the filesystem is withdrawn (checked first, 7.2:L1250-1254).
    Withdrawn,
}

/// What `gdlm_recovery_result` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResultOutcome {
    /// Stored in `ls_recover_result[jid]`; run the control work as given (`None`
    /// while unmounting).
    Recorded(Option<ControlWork>),
    /// Not stored.
    Ignored(ResultIgnored),
}

/// Which of the two sync locks (`sync_lock` / `sync_unlock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LockId {
    /// `control_lock` (`GFS2_CONTROL_LOCK`, LVB-carrying).
    Control,
    /// `mounted_lock` (`GFS2_MOUNTED_LOCK`).
    Mounted,
}

impl LockId {
    /// The lock number `sync_lock` names (type `LM_TYPE_NONDISK`).
    pub const fn number(self) -> u32 {
        match self {
            LockId::Control => GFS2_CONTROL_LOCK,
            LockId::Mounted => GFS2_MOUNTED_LOCK,
        }
    }

    /// The resource name (a constant: the bytes `sync_lock` builds on each call).
    #[inline]
    pub fn name(self) -> crate::name::ResName {
        const CONTROL: crate::name::ResName =
            crate::name::LockName::nondisk(LockId::Control.number()).encode_const();
        const MOUNTED: crate::name::ResName =
            crate::name::LockName::nondisk(LockId::Mounted.number()).encode_const();
        match self {
            LockId::Control => CONTROL,
            LockId::Mounted => MOUNTED,
        }
    }
}

/// A synchronous lock call the caller must make and wait for (`sync_lock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SyncLock {
    /// Which lock.
    pub lock: LockId,
    /// The mode.
    pub mode: DlmMode,
    /// The flags.
    pub flags: DlmLkf,
    /// With `VALBLK` on a conversion down from EX: the LVB to write.
    pub lvb: Option<ControlLvb>,
}

/// How a `sync_lock` / `sync_unlock` call ends (ref:L490-547, 7.2:L567-627).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SyncOutcome {
    /// The function's return.
    pub ret: i32,
    /// The completion was waited for (the DLM accepted the call).
    pub waited: bool,
    /// The kernel logs it (`fs_err`).
    pub logged: bool,
}

/// `sync_lock` once `dlm_lock` returned `call_ret` (7.2: `-ENODEV` for a released
/// lockspace, [`crate::Profile::dlm_attempt`]) and, when that was 0, the completion
/// left `sb_status`: the status is the result; every error but a status of
/// `-EAGAIN` is logged.
pub const fn sync_lock_outcome(call_ret: i32, sb_status: i32) -> SyncOutcome {
    if call_ret != 0 {
        return sync_call_failed(call_ret);
    }
    SyncOutcome {
        ret: sb_status,
        waited: true,
        logged: sb_status != 0 && sb_status != -EAGAIN,
    }
}

/// The DLM refused the call (or the lockspace is gone): logged, returned, no wait.
const fn sync_call_failed(call_ret: i32) -> SyncOutcome {
    SyncOutcome {
        ret: call_ret,
        waited: false,
        logged: true,
    }
}

/// `sync_unlock`: as [`sync_lock_outcome`], but a completion other than
/// `-DLM_EUNLOCK` is logged and returns −1.
pub const fn sync_unlock_outcome(call_ret: i32, sb_status: i32) -> SyncOutcome {
    if call_ret != 0 {
        return sync_call_failed(call_ret);
    }
    let ok = sb_status == -DLM_EUNLOCK;
    SyncOutcome {
        ret: if ok { 0 } else { -1 },
        waited: true,
        logged: !ok,
    }
}

/// The local variables of one control step (`gfs2_control_func`): the generations it
/// started from (L600) and the `recover_size` it read under the lock (L644).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ControlTicket {
    /// `ls_recover_block` when the step began.
    pub block_gen: u32,
    /// `ls_recover_start` when the step began.
    pub start_gen: u32,
    /// `ls_recover_size` as [`Recovery::control_locked`] read it; the jid scan after the
    /// NL conversion uses this value, not the size at that later time.
    pub recover_size: u32,
}

/// First part of the control step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlBegin {
    /// Still mounting, or first mounter: control_mount / first_done own recovery.
    NotReady,
    /// Between recover_prep and recover_done: wait for recover_done.
    DlmRecovering,
    /// Make this call (control_lock EX), then [`Recovery::control_locked`].
    Lock(ControlTicket, SyncLock),
}

/// Second part of the control step, after control_lock was granted EX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlUpdate {
    /// A recover_prep or recover_done came meanwhile ("block1"): convert back to NL
    /// without writing, and stop; the next recover_done queues the work again.
    Stale(SyncLock),
    /// Convert back to NL with this call (which writes the LVB when it carries one),
    /// then [`Recovery::control_converted`].
    Convert {
        /// The NL conversion, with the new LVB when it changed.
        call: SyncLock,
        /// The generation read from the LVB.
        lvb_gen: u32,
    },
}

/// Last part of the control step, after control_lock is back in NL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlFinish {
    /// Journals need recovery: start recovery of each (`gfs2_recover_set`); each
    /// result comes back through [`Recovery::recovery_result`].
    Recover(JidSet),
    /// All journals recovered and no new recovery began: locking is unblocked
    /// (`gfs2_glock_thaw`). "recover generation N done".
    Unblocked {
        /// The generation recovered.
        generation: u32,
    },
    /// A recovery began meanwhile ("block2"): stay blocked.
    StillBlocked,
}

/// An internal inconsistency found by [`Recovery::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Inconsistency {
    /// `recover_size` exceeds the capacity or disagrees with the arrays.
    Size,
    /// FIRST_MOUNT without MOUNT_DONE, or FIRST_MOUNT with FIRST_MOUNT_DONE.
    FirstMountFlags,
    /// Between recover_prep and recover_done (`DFL_DLM_RECOVERY`) the generations must
    /// be equal and a mounted node (not first mounter) must have locking blocked.
    BlockFlags,
}

/// The recovery state of one mount (`ls_recover_*`, `ls_jid`, `ls_lvb_bits`), with
/// capacity for `N` jids (at most 192, what the LVB can describe).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Recovery<const N: usize = MAX_JIDS> {
    flags: RecoverFlags,
    recover_mount: u32,
    recover_start: u32,
    recover_block: u32,
    submit: Vec<u32, N>,
    result: Vec<u32, N>,
    jid: i32,
    lvb_bits: ControlLvb,
    policy: SizePolicy,
    submit_policy: SubmitPolicy,
    withdraw_guard: bool,
    withdrawn: bool,
    /// Which arrays may hold an entry for the control step's scans.
    hints: ScanHints,
}

/// What [`Recovery::control_locked`]'s scans may find, so that they are skipped over
/// arrays known to hold none (the steady state: no node failed, nothing recovered).
/// A hint is only ever conservative: `false` means certainly none, `true` means
/// scan. It is not part of the state: two recoveries with the same arrays are equal
/// and hash alike whatever their hints.
#[derive(Clone, Copy, Debug, Default)]
struct ScanHints {
    /// `result[]` may hold an `LM_RD_SUCCESS`.
    success: bool,
    /// `submit[]` may hold a non-zero entry.
    submitted: bool,
}

impl PartialEq for ScanHints {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for ScanHints {}
impl core::hash::Hash for ScanHints {
    fn hash<H: core::hash::Hasher>(&self, _: &mut H) {}
}

/// What `gdlm_unmount` does before the release ([`Recovery::begin_unmount`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UnmountBegin {
    /// `DFL_UNMOUNT` was set: flush the control work, then release the lockspace.
    FlushThenRelease,
    /// `DFL_NO_DLM_OPS`: straight to the release (`goto release`).
    Release,
}

/// The recovery state behind a spin lock, as `ls_recover_spin` guards it.
pub type SharedRecovery<const N: usize = MAX_JIDS> = spin::Mutex<Recovery<N>>;

impl<const N: usize> Default for Recovery<N> {
    fn default() -> Self {
        Self::new(SizePolicy::default())
    }
}

impl<const N: usize> Recovery<N> {
    const CAPACITY_OK: () = assert!(N <= MAX_JIDS, "the control LVB holds at most 192 jids");

    /// A fresh mount (`gdlm_mount`'s initialisation): no flags, generations 0,
    /// size 0, jid −1 until the first recover_done.
    pub fn new(policy: SizePolicy) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAPACITY_OK;
        Recovery {
            flags: RecoverFlags::empty(),
            recover_mount: 0,
            recover_start: 0,
            recover_block: 0,
            submit: Vec::new(),
            result: Vec::new(),
            jid: -1,
            lvb_bits: ControlLvb::zeroed(),
            policy,
            submit_policy: SubmitPolicy::Reference,
            withdraw_guard: false,
            withdrawn: false,
            hints: ScanHints {
                success: false,
                submitted: false,
            },
        }
    }

    /// Ignore the recovery callbacks once withdrawn, as Linux 7.2 does (its
    /// `gfs2_withdrawn()` guard, 7.2:L1164-1167, L1190-1194, L1219-1222, L1250-1254);
    /// the reference has no guard. [`crate::Profile::recovery`] sets this.
    pub fn with_withdraw_guard(mut self, on: bool) -> Self {
        self.withdraw_guard = on;
        self
    }

    /// Whether the withdraw guard is on.
    pub fn withdraw_guard(&self) -> bool {
        self.withdraw_guard
    }

    /// The filesystem withdrew (`SDF_WITHDRAWN`). With the withdraw guard, every later
    /// recover_prep/slot/done and recovery_result is ignored, state unchanged.
    pub fn withdraw(&mut self) {
        self.withdrawn = true;
    }

    /// `SDF_WITHDRAWN` as recorded by [`Recovery::withdraw`].
    pub fn withdrawn(&self) -> bool {
        self.withdrawn
    }

    /// The recovery callbacks are ignored now (withdrawn, with the guard).
    pub fn ignores_callbacks(&self) -> bool {
        self.withdraw_guard && self.withdrawn
    }

    /// `gdlm_unmount`'s critical section as both kernels write it (ref:L1301-1309,
    /// 7.2:L1415-1427): with `DFL_NO_DLM_OPS` nothing is set; otherwise `DFL_UNMOUNT`
    /// so no more control work is queued, and the caller flushes pending work. The
    /// release that follows is [`crate::Profile::release_option`], then
    /// [`Recovery::release`]. ([`Recovery::unmount`] sets `DFL_UNMOUNT` in both cases.)
    pub fn begin_unmount(&mut self) -> UnmountBegin {
        if self.flags.contains(RecoverFlags::NO_DLM_OPS) {
            return UnmountBegin::Release;
        }
        self.flags |= RecoverFlags::UNMOUNT;
        UnmountBegin::FlushThenRelease
    }

    /// Choose what the control step does with stale `recover_submit` entries
    /// ([`SubmitPolicy`]; the default is the reference's).
    pub fn with_submit_policy(mut self, p: SubmitPolicy) -> Self {
        self.submit_policy = p;
        self
    }

    /// The submit policy.
    pub fn submit_policy(&self) -> SubmitPolicy {
        self.submit_policy
    }

    /// Build a state from raw parts (tests, replay, differential checks). The arrays
    /// give `recover_size`; it must not exceed `N`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        policy: SizePolicy,
        flags: RecoverFlags,
        recover_mount: u32,
        recover_start: u32,
        recover_block: u32,
        submit: &[u32],
        result: &[u32],
        jid: i32,
        lvb_bits: ControlLvb,
    ) -> Result<Self, RecoveryError> {
        let too_big = |len: usize| RecoveryError::SizeBeyondCapacity {
            size: u32::try_from(len).unwrap_or(u32::MAX),
            capacity: N,
        };
        if submit.len() != result.len() {
            return Err(too_big(submit.len().max(result.len())));
        }
        let mut r = Self::new(policy);
        r.flags = flags;
        r.recover_mount = recover_mount;
        r.recover_start = recover_start;
        r.recover_block = recover_block;
        r.submit = Vec::from_slice(submit).map_err(|_| too_big(submit.len()))?;
        r.result = Vec::from_slice(result).map_err(|_| too_big(result.len()))?;
        r.jid = jid;
        r.lvb_bits = lvb_bits;
        r.hints = ScanHints {
            success: true,
            submitted: true,
        };
        Ok(r)
    }

    /// The flags.
    pub fn flags(&self) -> RecoverFlags {
        self.flags
    }
    /// `ls_recover_mount`: the generation of our first recover_done.
    pub fn recover_mount(&self) -> u32 {
        self.recover_mount
    }
    /// `ls_recover_start`: the generation of the latest recover_done.
    pub fn recover_start(&self) -> u32 {
        self.recover_start
    }
    /// `ls_recover_block`: `recover_start` as of the latest recover_prep.
    pub fn recover_block(&self) -> u32 {
        self.recover_block
    }
    /// `ls_recover_size`.
    pub fn recover_size(&self) -> u32 {
        // len ≤ N ≤ 192
        self.submit.len() as u32
    }
    /// `ls_recover_submit[]`: per jid, the generation it failed in (0: none pending).
    pub fn submit(&self) -> &[u32] {
        &self.submit
    }
    /// `ls_recover_result[]`: per jid, the latest journal recovery result.
    pub fn result(&self) -> &[u32] {
        &self.result
    }
    /// `ls_jid`: our journal id (−1 before the first recover_done).
    pub fn jid(&self) -> i32 {
        self.jid
    }
    /// `ls_lvb_bits`: the last control LVB read, with this node's updates.
    pub fn lvb_bits(&self) -> &ControlLvb {
        &self.lvb_bits
    }
    /// The size policy.
    pub fn policy(&self) -> SizePolicy {
        self.policy
    }
    /// Capacity in jids.
    pub const fn capacity(&self) -> usize {
        N
    }
    /// Locking is blocked (`DFL_BLOCK_LOCKS`): the caller must not grant glocks.
    pub fn locks_blocked(&self) -> bool {
        self.flags.contains(RecoverFlags::BLOCK_LOCKS)
    }
    /// Between recover_prep and recover_done (`DFL_DLM_RECOVERY`).
    pub fn dlm_recovery_in_progress(&self) -> bool {
        self.flags.contains(RecoverFlags::DLM_RECOVERY)
    }

    pub(crate) fn flags_mut(&mut self) -> &mut RecoverFlags {
        &mut self.flags
    }
    pub(crate) fn set_lvb_bits(&mut self, lvb: ControlLvb) {
        self.lvb_bits = lvb;
    }
    pub(crate) fn zero_arrays(&mut self) {
        self.submit.iter_mut().for_each(|v| *v = 0);
        self.result.iter_mut().for_each(|v| *v = 0);
    }

    /// `gdlm_mount` when the DLM has no recovery ops: `free_recover_size` and
    /// `DFL_NO_DLM_OPS`; recovery results are then ignored.
    pub fn set_no_dlm_ops(&mut self) {
        self.submit.clear();
        self.result.clear();
        self.flags |= RecoverFlags::NO_DLM_OPS;
    }

    /// `gdlm_unmount`'s critical section: set `DFL_UNMOUNT` so no more control work
    /// is queued. The caller then flushes pending work and releases the lockspace.
    pub fn unmount(&mut self) {
        self.flags |= RecoverFlags::UNMOUNT;
    }

    /// `free_recover_size` after the lockspace is released: the arrays are emptied,
    /// so any later callback is refused as "short size".
    pub fn release(&mut self) {
        self.submit.clear();
        self.result.clear();
        self.lvb_bits = ControlLvb::zeroed();
    }

    /// `gdlm_recover_prep`: the DLM is about to recover; block locking (once mounted
    /// and not first mounter) and remember the generation it blocked at.
    pub fn recover_prep(&mut self) {
        if self.ignores_callbacks() {
            return;
        }
        self.recover_block = self.recover_start;
        self.flags |= RecoverFlags::DLM_RECOVERY;
        if !self.flags.contains(RecoverFlags::MOUNT_DONE)
            || self.flags.contains(RecoverFlags::FIRST_MOUNT)
        {
            return;
        }
        self.flags |= RecoverFlags::BLOCK_LOCKS;
    }

    fn slot_jid(slot: i32) -> Result<u32, RecoveryError> {
        if slot <= 0 {
            return Err(RecoveryError::InvalidSlot(slot));
        }
        // slot ≥ 1 here
        let jid = (slot - 1) as u32;
        if jid as usize >= N {
            return Err(RecoveryError::SlotBeyondCapacity { slot, capacity: N });
        }
        Ok(jid)
    }

    /// `gdlm_recover_slot`: a member in `slot` failed; record the generation its
    /// journal must be recovered for.
    pub fn recover_slot(&mut self, slot: i32) -> Result<SlotRecorded, RecoveryError> {
        if self.ignores_callbacks() {
            return Err(RecoveryError::Withdrawn);
        }
        let jid = Self::slot_jid(slot)?;
        let size = self.recover_size();
        let entry = self
            .submit
            .get_mut(jid as usize)
            .ok_or(RecoveryError::ShortSize { jid, size })?;
        let prev = (*entry != 0).then_some(*entry);
        *entry = self.recover_block;
        self.hints.submitted = true;
        Ok(SlotRecorded {
            jid,
            generation: self.recover_block,
            prev,
        })
    }

    /// `gdlm_recover_done`: the DLM finished recovery at `generation` with these
    /// members' slots. Grows the arrays (`set_recover_size`), records the generation
    /// (and, the first time, our mount generation and jid) and asks for the control
    /// work unless unmounting.
    ///
    /// A slot list without `our_slot` is accepted, as the kernel does. A slot ≤ 0 in
    /// the list is ignored for sizing (as the kernel's `max_jid` ignores it), but an
    /// `our_slot` ≤ 0 or any slot beyond the capacity is refused before any change.
    #[inline]
    pub fn recover_done(
        &mut self,
        slots: &[i32],
        our_slot: i32,
        generation: u32,
    ) -> Result<Option<ControlWork>, RecoveryError> {
        // 7.2: the guard comes before set_recover_size.
        if self.ignores_callbacks() {
            return Err(RecoveryError::Withdrawn);
        }
        // One branch-free pass for the largest slot; only if it is beyond N, the pass
        // that finds the first slot refused.
        let max_slot = slots.iter().fold(0, |m: i32, &s| m.max(s));
        if max_slot as usize > N {
            for &s in slots {
                if s > 0 {
                    Self::slot_jid(s)?;
                }
            }
        }
        let first = self.recover_mount == 0;
        if first {
            Self::slot_jid(our_slot)?;
        }
        // Every slot fits N here, so only the 16-step rounding can exceed N: clamp.
        let max_jid = (i64::from(max_slot) - 1).max(0);
        let new_size = grow_recover_size(self.policy, self.recover_size(), max_jid);
        let new_len = usize::try_from(new_size).unwrap_or(N).min(N);
        if new_len > self.submit.len() {
            self.grow(new_len);
        }

        self.recover_start = generation;
        if first {
            self.recover_mount = generation;
            self.jid = our_slot - 1;
        }
        let work = (!self.flags.contains(RecoverFlags::UNMOUNT)).then_some(ControlWork::Now);
        self.flags.remove(RecoverFlags::DLM_RECOVERY);
        Ok(work)
    }

    /// [`Recovery::recover_done`] when it can neither refuse nor grow (not the first
    /// recover_done, no withdraw guard in force, every slot within `recover_size`):
    /// the same changes, made by a leaf with no error or growth path, so that the
    /// engine's mounted path saves no registers. `None` (nothing changed) otherwise:
    /// the caller then takes the general path.
    #[inline(always)]
    pub(crate) fn recover_done_steady(
        &mut self,
        slots: &[i32],
        generation: u32,
    ) -> Option<Option<ControlWork>> {
        let size = self.submit.len();
        let max_slot = slots.iter().fold(0, |m: i32, &s| m.max(s));
        // set_recover_size keeps the size when it is at least max(max_slot - 1, 0) + 1,
        // i.e. max(max_slot, 1); size ≤ N, so every slot then fits N as well.
        if self.ignores_callbacks()
            || self.recover_mount == 0
            || size == 0
            || max_slot as i64 > size as i64
        {
            return None;
        }
        self.recover_start = generation;
        let work = (!self.flags.contains(RecoverFlags::UNMOUNT)).then_some(ControlWork::Now);
        self.flags.remove(RecoverFlags::DLM_RECOVERY);
        Some(work)
    }

    /// `set_recover_size`'s growth of both arrays to `new_len` (≤ N), zero-filled.
    /// Out of line: it happens a few times per mount, and its loops would otherwise
    /// cost `recover_done` register saves on every call.
    #[inline(never)]
    fn grow(&mut self, new_len: usize) {
        // Cannot fail: new_len ≤ N.
        let _ = self.submit.resize(new_len, 0);
        let _ = self.result.resize(new_len, 0);
    }

    /// `gdlm_recovery_result`: the journal recovery of `jid` finished with `result`
    /// (`LM_RD_SUCCESS`, `LM_RD_GAVEUP`, or anything else, stored as given).
    pub fn recovery_result(
        &mut self,
        jid: u32,
        result: u32,
    ) -> Result<ResultOutcome, RecoveryError> {
        if self.ignores_callbacks() {
            return Ok(ResultOutcome::Ignored(ResultIgnored::Withdrawn));
        }
        if self.flags.contains(RecoverFlags::NO_DLM_OPS) {
            return Ok(ResultOutcome::Ignored(ResultIgnored::NoDlmOps));
        }
        // The kernel compares `unsigned int jid == int ls_jid`: −1 matches 0xFFFFFFFF.
        if jid == self.jid as u32 {
            return Ok(ResultOutcome::Ignored(ResultIgnored::OwnJid));
        }
        if self.flags.contains(RecoverFlags::FIRST_MOUNT) {
            return Ok(ResultOutcome::Ignored(ResultIgnored::FirstMount));
        }
        if jid as usize >= N {
            return Err(RecoveryError::JidBeyondCapacity { jid, capacity: N });
        }
        let size = self.recover_size();
        let entry = self
            .result
            .get_mut(jid as usize)
            .ok_or(RecoveryError::ShortSize { jid, size })?;
        *entry = result;
        self.hints.success |= result == LM_RD_SUCCESS;
        let work =
            (!self.flags.contains(RecoverFlags::UNMOUNT)).then_some(if result == LM_RD_GAVEUP {
                ControlWork::AfterHz
            } else {
                ControlWork::Now
            });
        Ok(ResultOutcome::Recorded(work))
    }

    /// `gfs2_control_func`, first critical section.
    pub fn control_begin(&self) -> ControlBegin {
        if !self.flags.contains(RecoverFlags::MOUNT_DONE)
            || self.flags.contains(RecoverFlags::FIRST_MOUNT)
        {
            return ControlBegin::NotReady;
        }
        let t = ControlTicket {
            block_gen: self.recover_block,
            start_gen: self.recover_start,
            recover_size: self.recover_size(),
        };
        if t.block_gen == t.start_gen {
            return ControlBegin::DlmRecovering;
        }
        ControlBegin::Lock(
            t,
            SyncLock {
                lock: LockId::Control,
                mode: DlmMode::Ex,
                flags: DlmLkf::CONVERT | DlmLkf::VALBLK,
                lvb: None,
            },
        )
    }

    fn generations_moved(&self, t: &ControlTicket) -> bool {
        t.block_gen != self.recover_block || t.start_gen != self.recover_start
    }

    /// `gfs2_control_func` after control_lock EX was granted with `lvb`: fold our
    /// failed jids (`recover_submit`) and successful recoveries (`recover_result`)
    /// into the LVB.
    pub fn control_locked(&mut self, t: &mut ControlTicket, lvb: &ControlLvb) -> ControlUpdate {
        let Some((lvb_gen, write_lvb, _)) = self.control_locked_step(t, lvb) else {
            return ControlUpdate::Stale(Self::nl_call(false, None));
        };
        let lvb = write_lvb.then(|| control_lvb_write(t.start_gen, &self.lvb_bits));
        ControlUpdate::Convert {
            call: Self::nl_call(write_lvb, lvb),
            lvb_gen,
        }
    }

    /// [`Recovery::control_locked`] on the lksb's LVB buffer, which the kernel's
    /// `control_lvb_write` writes in place (`ls_control_lvb`): the LVB to write goes
    /// into `lksb` and the call's `lvb` is `None` (its `VALBLK` says the buffer goes
    /// with it). When no scan changed `ls_lvb_bits`, it is the buffer as read, so the
    /// write is the generation alone: no 32-byte copy back right after the copy in
    /// (whose loads would wait for the stores still in flight).
    #[inline(always)]
    pub(crate) fn control_locked_lksb(
        &mut self,
        t: &mut ControlTicket,
        lksb: &mut ControlLvb,
    ) -> ControlUpdate {
        let Some((lvb_gen, write_lvb, folded)) = self.control_locked_step(t, lksb) else {
            return ControlUpdate::Stale(Self::nl_call(false, None));
        };
        if write_lvb {
            if folded {
                *lksb = control_lvb_write(t.start_gen, &self.lvb_bits);
            } else {
                lksb.set_generation(t.start_gen);
            }
        }
        ControlUpdate::Convert {
            call: Self::nl_call(write_lvb, None),
            lvb_gen,
        }
    }

    /// control_lock NL after the step (`DLM_LKF_CONVERT`, with `VALBLK` to write).
    #[inline(always)]
    fn nl_call(write_lvb: bool, lvb: Option<ControlLvb>) -> SyncLock {
        SyncLock {
            lock: LockId::Control,
            mode: DlmMode::Nl,
            flags: if write_lvb {
                DlmLkf::CONVERT | DlmLkf::VALBLK
            } else {
                DlmLkf::CONVERT
            },
            lvb,
        }
    }

    /// The step between control_lock EX and NL (L632-707): `None` if a recovery began
    /// meanwhile (block1); otherwise the LVB's generation, whether the LVB must be
    /// written, and whether the scans ran (so `lvb_bits` may differ from `lvb`).
    #[inline(always)]
    fn control_locked_step(
        &mut self,
        t: &mut ControlTicket,
        lvb: &ControlLvb,
    ) -> Option<(u32, bool, bool)> {
        let (lvb_gen, bits) = control_lvb_read(lvb);
        self.lvb_bits = bits;
        if self.generations_moved(t) {
            return None;
        }
        let start_gen = t.start_gen;
        t.recover_size = self.recover_size();
        // The scans only where a hint says an array may hold an entry (out of line:
        // the steady state then saves no registers).
        let mut write_lvb = false;
        let folded = self.hints.success || self.hints.submitted;
        if folded {
            write_lvb = self.fold_into_lvb(lvb_gen, start_gen);
        }
        if lvb_gen < start_gen {
            // Even with no bits to set, the LVB must carry the latest generation.
            write_lvb = true;
        }
        // lvb_gen > start_gen: a recover_done for lvb_gen is coming; change nothing.
        Some((lvb_gen, write_lvb, folded))
    }

    /// [`Recovery::control_locked`]'s scans (L644-706): clear the LVB bits of the jids
    /// we recovered, fold our failed jids into it; true if a cleared bit means the LVB
    /// must be written.
    #[inline(never)]
    fn fold_into_lvb(&mut self, lvb_gen: u32, start_gen: u32) -> bool {
        let mut write_lvb = false;
        // Each scan first checks the whole array without branches (a scan that
        // vectorizes) for an entry to change: usually none is. Then it goes SCAN (16)
        // jids at a time: a mask of the entries to change, built without branches, and
        // the 16 matching LVB bits (two bytes) updated at once.
        // Chunk c holds jids 16c.. < recover_size ≤ N ≤ 192, so every bit exists.
        if lvb_gen <= start_gen && self.hints.success && self.any_success() {
            // Clear bits of jids we recovered; another node may have cleared them.
            for (c, chunk) in self.result.chunks_mut(SCAN).enumerate() {
                let m = hits(chunk, |r| r == LM_RD_SUCCESS);
                if m == 0 {
                    continue;
                }
                clear_hits(chunk, m);
                let w = self.lvb_bits.jid_bits16(c);
                if w & m != 0 {
                    self.lvb_bits.set_jid_bits16(c, w & !m);
                    write_lvb = true;
                }
            }
            // Every success is cleared.
            self.hints.success = false;
        }
        if lvb_gen == start_gen {
            // Failures before start_gen are already in the LVB: drop those below
            // lvb_gen (an unconditional store of the same or zero, so it vectorizes;
            // nothing to drop when every entry is zero).
            let submit = if self.hints.submitted {
                &mut self.submit[..]
            } else {
                &mut []
            };
            for s in submit.iter_mut() {
                *s = if in_1_below(*s, lvb_gen) { 0 } else { *s };
            }
        } else if lvb_gen < start_gen && self.hints.submitted && self.any_submitted_below(start_gen)
        {
            // Failures before start_gen are not yet in the LVB.
            let drop_folded = self.submit_policy == SubmitPolicy::DropFolded;
            for (c, chunk) in self.submit.chunks_mut(SCAN).enumerate() {
                let m = hits(chunk, |s| in_1_below(s, start_gen));
                if m == 0 {
                    continue;
                }
                // DropFolded: entries below lvb_gen are dropped without their bit.
                let set = if drop_folded {
                    m & !hits(chunk, |s| s < lvb_gen)
                } else {
                    m
                };
                clear_hits(chunk, m);
                let w = self.lvb_bits.jid_bits16(c);
                self.lvb_bits.set_jid_bits16(c, w | set);
            }
        }
        write_lvb
    }

    /// Some `result[]` entry is `LM_RD_SUCCESS`; if none, the hint says so from now on.
    #[inline]
    fn any_success(&mut self) -> bool {
        let found = any(&self.result, |r| r == LM_RD_SUCCESS);
        self.hints.success = found;
        found
    }

    /// Some `submit[]` entry is in `1..start_gen`; if none, and no entry is non-zero
    /// at all, the hint says so from now on.
    #[inline]
    fn any_submitted_below(&mut self, start_gen: u32) -> bool {
        let found = any(&self.submit, |s| in_1_below(s, start_gen));
        if !found {
            self.hints.submitted = any(&self.submit, |s| s != 0);
        }
        found
    }

    /// `gfs2_control_func` after control_lock is back in NL: recover the jids whose
    /// bits are set, or unblock locking if none are and no new recovery began.
    pub fn control_converted(&mut self, t: &ControlTicket) -> ControlFinish {
        // A ticket from elsewhere may claim more than N jids: never report beyond N.
        let limit = t.recover_size.min(N as u32);
        if self.lvb_bits.any_jid_below(limit) {
            return ControlFinish::Recover(self.lvb_bits.jids_below(limit));
        }
        if self.generations_moved(t) {
            return ControlFinish::StillBlocked;
        }
        self.flags.remove(RecoverFlags::BLOCK_LOCKS);
        ControlFinish::Unblocked {
            generation: t.start_gen,
        }
    }

    /// Check the state's own consistency (for fuzzing and the simulator).
    pub fn check(&self) -> Result<(), Inconsistency> {
        if self.submit.len() != self.result.len() || self.submit.len() > N {
            return Err(Inconsistency::Size);
        }
        let f = self.flags;
        if f.contains(RecoverFlags::FIRST_MOUNT)
            && (!f.contains(RecoverFlags::MOUNT_DONE) || f.contains(RecoverFlags::FIRST_MOUNT_DONE))
        {
            return Err(Inconsistency::FirstMountFlags);
        }
        if f.contains(RecoverFlags::DLM_RECOVERY) {
            // recover_prep sets block = start; only recover_done moves start on.
            let mounted =
                f.contains(RecoverFlags::MOUNT_DONE) && !f.contains(RecoverFlags::FIRST_MOUNT);
            if self.recover_block != self.recover_start
                || (mounted && !f.contains(RecoverFlags::BLOCK_LOCKS))
            {
                return Err(Inconsistency::BlockFlags);
            }
        }
        Ok(())
    }
}

/// Model checkers: the generations this state holds ([`crate::engine::Engine::visit_generations`]).
impl<const N: usize> Recovery<N> {
    /// Calls `f` on `ls_recover_mount`, `ls_recover_start`, `ls_recover_block`, every
    /// `ls_recover_submit` entry and the generation in `ls_lvb_bits`; `f` may rewrite
    /// them. `ls_recover_result` holds `LM_RD_*` values, not generations.
    pub fn visit_generations<F: FnMut(&mut u32) + ?Sized>(&mut self, f: &mut F) {
        f(&mut self.recover_mount);
        f(&mut self.recover_start);
        f(&mut self.recover_block);
        for g in self.submit.iter_mut() {
            f(g);
        }
        self.lvb_bits.visit_generation(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounted() -> Recovery<32> {
        let mut r = Recovery::<32>::new(SizePolicy::Fit);
        assert_eq!(
            r.recover_done(&[1, 2, 3], 1, 10),
            Ok(Some(ControlWork::Now))
        );
        *r.flags_mut() |= RecoverFlags::MOUNT_DONE;
        r
    }

    #[test]
    fn withdraw_guard_ignores_callbacks_state_unchanged() {
        let mut r = mounted().with_withdraw_guard(true);
        r.withdraw();
        let before = r.clone();
        r.recover_prep();
        assert_eq!(r.recover_slot(2), Err(RecoveryError::Withdrawn));
        assert_eq!(
            r.recover_done(&[1, 40], 1, 11),
            Err(RecoveryError::Withdrawn)
        );
        assert_eq!(
            r.recovery_result(1, LM_RD_SUCCESS),
            Ok(ResultOutcome::Ignored(ResultIgnored::Withdrawn))
        );
        assert_eq!(r, before);
        // Without the guard (the reference) a withdrawn state still takes callbacks.
        let mut r = mounted();
        r.withdraw();
        assert!(r.withdrawn() && !r.ignores_callbacks());
        r.recover_prep();
        assert!(r.dlm_recovery_in_progress());
        assert!(r.recover_slot(2).is_ok());
    }

    #[test]
    fn begin_unmount_skips_with_no_dlm_ops() {
        let mut r = mounted();
        assert_eq!(r.begin_unmount(), UnmountBegin::FlushThenRelease);
        assert!(r.flags().contains(RecoverFlags::UNMOUNT));
        let mut r = Recovery::<16>::new(SizePolicy::Fit);
        r.set_no_dlm_ops();
        assert_eq!(r.begin_unmount(), UnmountBegin::Release);
        assert!(!r.flags().contains(RecoverFlags::UNMOUNT));
    }

    #[test]
    fn sync_outcomes() {
        assert_eq!(
            sync_lock_outcome(0, -EAGAIN),
            SyncOutcome {
                ret: -EAGAIN,
                waited: true,
                logged: false
            }
        );
        assert!(sync_lock_outcome(0, -EINVAL).logged);
        assert!(!sync_lock_outcome(-ENODEV, 0).waited);
        assert_eq!(sync_unlock_outcome(0, -DLM_EUNLOCK).ret, 0);
        assert_eq!(sync_unlock_outcome(0, 0).ret, -1);
        assert_eq!(sync_unlock_outcome(-16, 0).ret, -16);
    }

    #[test]
    fn sizes() {
        assert_eq!(set_recover_size(SizePolicy::Reference, 0, &[40]), 16);
        assert_eq!(set_recover_size(SizePolicy::Fit, 0, &[40]), 48);
        assert_eq!(set_recover_size(SizePolicy::Fit, 16, &[16]), 16);
        assert_eq!(set_recover_size(SizePolicy::Fit, 16, &[0, -5]), 16);
    }

    #[test]
    fn bad_slots_refused_without_change() {
        let mut r = mounted();
        let before = r.clone();
        assert_eq!(r.recover_slot(0), Err(RecoveryError::InvalidSlot(0)));
        assert_eq!(
            r.recover_slot(33),
            Err(RecoveryError::SlotBeyondCapacity {
                slot: 33,
                capacity: 32
            })
        );
        assert_eq!(
            r.recover_slot(17),
            Err(RecoveryError::ShortSize { jid: 16, size: 16 })
        );
        assert_eq!(
            r.recover_done(&[1, 40], 1, 11),
            Err(RecoveryError::SlotBeyondCapacity {
                slot: 40,
                capacity: 32
            })
        );
        assert_eq!(r, before);
    }

    #[test]
    fn one_failure_full_cycle() -> Result<(), &'static str> {
        let mut r = mounted();
        r.recover_prep();
        assert!(r.locks_blocked());
        assert_eq!(r.control_begin(), ControlBegin::DlmRecovering);
        assert_eq!(
            r.recover_slot(2),
            Ok(SlotRecorded {
                jid: 1,
                generation: 10,
                prev: None
            })
        );
        assert_eq!(r.recover_done(&[1, 3], 1, 11), Ok(Some(ControlWork::Now)));
        let ControlBegin::Lock(mut t, ex) = r.control_begin() else {
            return Err("expected a lock");
        };
        assert_eq!(ex.mode, DlmMode::Ex);
        let mut lvb = ControlLvb::zeroed();
        lvb.set_generation(10);
        let ControlUpdate::Convert { call, lvb_gen } = r.control_locked(&mut t, &lvb) else {
            return Err("expected convert");
        };
        assert_eq!(lvb_gen, 10);
        let written = call.lvb.unwrap_or_default();
        assert_eq!(written.generation(), 11);
        assert_eq!(written.jid(1), Ok(true));
        let ControlFinish::Recover(jids) = r.control_converted(&t) else {
            return Err("expected recover");
        };
        assert!(jids.contains(1) && jids.len() == 1);
        assert_eq!(
            r.recovery_result(1, LM_RD_SUCCESS),
            Ok(ResultOutcome::Recorded(Some(ControlWork::Now)))
        );
        let ControlBegin::Lock(mut t, _) = r.control_begin() else {
            return Err("expected a lock");
        };
        let ControlUpdate::Convert { call, .. } = r.control_locked(&mut t, &written) else {
            return Err("expected convert");
        };
        assert_eq!(call.lvb.map(|l| l.all_jid_bits_clear()), Some(true));
        assert_eq!(
            r.control_converted(&t),
            ControlFinish::Unblocked { generation: 11 }
        );
        assert!(!r.locks_blocked());
        assert_eq!(r.check(), Ok(()));
        Ok(())
    }

    #[test]
    fn prep_during_step_keeps_blocked() -> Result<(), &'static str> {
        let mut r = mounted();
        r.recover_prep();
        r.recover_done(&[1, 2], 1, 11).ok();
        let ControlBegin::Lock(mut t, _) = r.control_begin() else {
            return Err("expected a lock");
        };
        r.recover_prep();
        assert!(matches!(
            r.control_locked(&mut t, &ControlLvb::zeroed()),
            ControlUpdate::Stale(_)
        ));
        assert!(r.locks_blocked());
        Ok(())
    }

    #[test]
    fn drop_folded_skips_entries_the_lvb_already_carries() -> Result<(), &'static str> {
        for (policy, want_bit) in [
            (SubmitPolicy::Reference, true),
            (SubmitPolicy::DropFolded, false),
        ] {
            let mut r = Recovery::<32>::new(SizePolicy::Fit).with_submit_policy(policy);
            r.recover_done(&[1, 2, 3], 1, 10).ok();
            *r.flags_mut() |= RecoverFlags::MOUNT_DONE;
            // jid 1 failed at generation 10 and was folded into LVB generation 11...
            r.recover_prep();
            r.recover_slot(2).ok();
            r.recover_done(&[1, 3], 1, 11).ok();
            r.recover_prep();
            r.recover_done(&[1, 3], 1, 12).ok();
            // ...and this node only now runs its control step, at generation 12.
            let ControlBegin::Lock(mut t, _) = r.control_begin() else {
                return Err("expected a lock");
            };
            let mut lvb = ControlLvb::zeroed();
            lvb.set_generation(11);
            let ControlUpdate::Convert { call, .. } = r.control_locked(&mut t, &lvb) else {
                return Err("expected convert");
            };
            let written = call.lvb.ok_or("expected a write")?;
            assert_eq!(written.generation(), 12);
            assert_eq!(written.jid(1), Ok(want_bit), "{policy:?}");
            assert_eq!(r.submit()[1], 0);
        }
        Ok(())
    }

    /// `gfs2_control_func` L644-706 entry by entry, as the kernel loops: the model the
    /// chunked scans of `control_locked` must match.
    fn control_locked_model(
        r: &mut Recovery<192>,
        start: u32,
        lvb: &ControlLvb,
    ) -> (Option<ControlLvb>, u32) {
        let lvb_gen = lvb.generation();
        let mut bits = *lvb;
        let mut write = false;
        let drop_folded = r.submit_policy == SubmitPolicy::DropFolded;
        for i in 0..r.submit.len() {
            let j = i as u32;
            if lvb_gen <= start && r.result[i] == LM_RD_SUCCESS {
                r.result[i] = 0;
                if bits.jid(j) == Ok(true) {
                    bits.set_jid(j, false).ok();
                    write = true;
                }
            }
            let s = r.submit[i];
            if lvb_gen == start && s != 0 && s < lvb_gen {
                r.submit[i] = 0;
            } else if lvb_gen < start && s != 0 && s < start {
                r.submit[i] = 0;
                if !(drop_folded && s < lvb_gen) {
                    bits.set_jid(j, true).ok();
                }
            }
        }
        write |= lvb_gen < start;
        r.lvb_bits = bits;
        (write.then(|| control_lvb_write(start, &bits)), lvb_gen)
    }

    #[test]
    fn chunked_scans_match_the_per_entry_loop() -> Result<(), &'static str> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for case in 0..3000 {
            let policy = if case % 2 == 0 {
                SubmitPolicy::Reference
            } else {
                SubmitPolicy::DropFolded
            };
            let size = [0, 1, 15, 16, 17, 31, 32, 33, 100, 191, 192][case % 11];
            let start = 3 + next(20) as u32;
            let mut r = Recovery::<192>::new(SizePolicy::Fit).with_submit_policy(policy);
            *r.flags_mut() |= RecoverFlags::MOUNT_DONE;
            r.recover_block = start - 1;
            r.recover_start = start;
            for _ in 0..size {
                // Dense or sparse entries: every chunk or only a few have work.
                let dense = case % 3 == 0;
                let pick = |v: u64| if dense || v < 2 { v } else { 9 };
                r.submit
                    .push(match pick(next(12)) {
                        0 => start - 1,
                        1 => start + 1,
                        2 => 1,
                        3 => start,
                        4 => u32::MAX,
                        5 => start - 2,
                        _ => 0,
                    })
                    .ok();
                r.result
                    .push(match pick(next(10)) {
                        0 | 1 => LM_RD_SUCCESS,
                        2 => LM_RD_GAVEUP,
                        _ => 0,
                    })
                    .ok();
            }
            // Filled in place: the scans must look.
            r.hints = ScanHints {
                success: true,
                submitted: true,
            };
            let mut raw = [0u8; 32];
            raw.iter_mut().for_each(|b| *b = next(256) as u8);
            let lvb_gen = [start - 1, start, start + 1, start - 3][next(4) as usize];
            raw[..4].copy_from_slice(&lvb_gen.to_le_bytes());
            let lvb = ControlLvb::from_array(raw);
            let mut model = r.clone();
            let (want_lvb, want_gen) = control_locked_model(&mut model, start, &lvb);
            let ControlBegin::Lock(mut t, _) = r.control_begin() else {
                return Err("expected a lock");
            };
            // The in-place form writes the same LVB into the buffer it read.
            let (mut r2, mut t2, mut lksb) = (r.clone(), t, lvb);
            let ControlUpdate::Convert { call: call2, .. } =
                r2.control_locked_lksb(&mut t2, &mut lksb)
            else {
                return Err("expected convert");
            };
            assert_eq!(call2.lvb, None, "case {case}");
            assert_eq!(
                call2.flags.contains(DlmLkf::VALBLK),
                want_lvb.is_some(),
                "case {case}"
            );
            assert_eq!(lksb, want_lvb.unwrap_or(lvb), "case {case}");
            assert_eq!(r2, model, "case {case}");
            let ControlUpdate::Convert { call, lvb_gen } = r.control_locked(&mut t, &lvb) else {
                return Err("expected convert");
            };
            assert_eq!(lvb_gen, want_gen, "case {case}");
            assert_eq!(call.lvb, want_lvb, "case {case}");
            assert_eq!(r, model, "case {case}");
        }
        Ok(())
    }

    /// The scan hints never change an answer: random recovery histories through the
    /// public calls, one copy with its own hints and one whose hints say "scan"
    /// before every step, give the same updates and the same state; and the steady
    /// state (nothing failed, nothing recovered) does drop them.
    #[test]
    fn scan_hints_change_no_answer() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut dropped = 0;
        for case in 0..400 {
            let policy = if case % 2 == 0 {
                SubmitPolicy::Reference
            } else {
                SubmitPolicy::DropFolded
            };
            let mut a = Recovery::<64>::new(SizePolicy::Fit).with_submit_policy(policy);
            let _ = a.recover_done(&[1, 2, 3], 1, 1);
            *a.flags_mut() |= RecoverFlags::MOUNT_DONE;
            let mut lvb = ControlLvb::zeroed();
            let mut generation = 1;
            for _ in 0..40 {
                let mut b = a.clone();
                b.hints = ScanHints {
                    success: true,
                    submitted: true,
                };
                let op = next(8);
                let slot = 1 + next(40) as i32;
                let jid = next(40) as u32;
                let res = [LM_RD_SUCCESS, LM_RD_GAVEUP, 7][next(3) as usize];
                let other_gen = (next(3) == 0).then(|| generation + 1);
                for r in [&mut a, &mut b] {
                    match op {
                        0 => r.recover_prep(),
                        1 => {
                            let _ = r.recover_slot(slot);
                        }
                        2 => {
                            let _ = r.recover_done(&[1, slot], 1, generation + 1);
                        }
                        3 => {
                            let _ = r.recovery_result(jid, res);
                        }
                        _ => {}
                    }
                }
                if op == 2 {
                    generation += 1;
                }
                let (ba, bb) = (a.control_begin(), b.control_begin());
                assert_eq!(ba, bb, "case {case}");
                let ControlBegin::Lock(mut ta, _) = ba else {
                    continue;
                };
                let mut tb = ta;
                // Another node may have moved the LVB on.
                if let Some(g) = other_gen {
                    lvb.set_generation(g);
                }
                // A third copy takes the in-place form (no scan ran: the generation
                // alone is written) and must write what the others return.
                let (mut c, mut tc, mut lksb) = (a.clone(), ta, lvb);
                let uc = c.control_locked_lksb(&mut tc, &mut lksb);
                let (ua, ub) = (
                    a.control_locked(&mut ta, &lvb),
                    b.control_locked(&mut tb, &lvb),
                );
                assert_eq!(ua, ub, "case {case}");
                assert_eq!(ta, tb, "case {case}");
                assert_eq!(tc, ta, "case {case}");
                assert_eq!(c, a, "case {case}");
                match (ua, uc) {
                    (ControlUpdate::Stale(x), ControlUpdate::Stale(y)) => assert_eq!(x, y),
                    (
                        ControlUpdate::Convert {
                            call: x,
                            lvb_gen: gx,
                        },
                        ControlUpdate::Convert {
                            call: y,
                            lvb_gen: gy,
                        },
                    ) => {
                        assert_eq!((x.flags, gx, y.lvb), (y.flags, gy, None), "case {case}");
                        assert_eq!(x.lvb.unwrap_or(lvb), lksb, "case {case}");
                    }
                    _ => panic!("case {case}: {ua:?} / {uc:?}"),
                }
                if let ControlUpdate::Convert {
                    call: SyncLock { lvb: Some(l), .. },
                    ..
                } = ua
                {
                    lvb = l;
                }
                assert_eq!(a.control_converted(&ta), b.control_converted(&tb));
                assert_eq!(a, b, "case {case}");
                assert_eq!(a.submit(), b.submit());
                assert_eq!(a.result(), b.result());
                if !a.hints.success && !a.hints.submitted {
                    dropped += 1;
                }
            }
        }
        assert!(dropped > 100, "the hints were dropped {dropped} times");
    }

    #[test]
    fn scan_uses_size_read_under_the_lock() -> Result<(), &'static str> {
        // L644 reads recover_size once; a recover_done that grows the arrays before the
        // scan at L722 must not widen it (the step ends "block2" instead).
        let mut r = mounted();
        r.recover_prep();
        r.recover_done(&[1, 2], 1, 11).ok();
        let ControlBegin::Lock(mut t, _) = r.control_begin() else {
            return Err("expected a lock");
        };
        let mut lvb = ControlLvb::zeroed();
        lvb.set_generation(11);
        lvb.set_jid(20, true).ok();
        let ControlUpdate::Convert { .. } = r.control_locked(&mut t, &lvb) else {
            return Err("expected convert");
        };
        assert_eq!(t.recover_size, 16);
        r.recover_done(&[1, 21], 1, 12).ok();
        assert_eq!(r.recover_size(), 32);
        assert_eq!(r.control_converted(&t), ControlFinish::StillBlocked);
        Ok(())
    }
}
