//! Every numeric constant the reference uses, with the kernel's values.
//!
//! Sources are listed in `shared/reference/CONSTANTS.md`; `core/tests/vectors.rs`
//! checks each one against the golden `constants.jsonl`.

/// `DLM_LOCK_IV`: invalid mode (include/linux/dlmconstants.h).
pub const DLM_LOCK_IV: i32 = -1;
/// `DLM_LOCK_NL`: null mode.
pub const DLM_LOCK_NL: i32 = 0;
/// `DLM_LOCK_CR`: concurrent read.
pub const DLM_LOCK_CR: i32 = 1;
/// `DLM_LOCK_CW`: concurrent write.
pub const DLM_LOCK_CW: i32 = 2;
/// `DLM_LOCK_PR`: protected read.
pub const DLM_LOCK_PR: i32 = 3;
/// `DLM_LOCK_PW`: protected write.
pub const DLM_LOCK_PW: i32 = 4;
/// `DLM_LOCK_EX`: exclusive.
pub const DLM_LOCK_EX: i32 = 5;

/// `DLM_LKF_NOQUEUE`: fail with -EAGAIN instead of waiting.
pub const DLM_LKF_NOQUEUE: u32 = 0x0000_0001;
/// `DLM_LKF_CANCEL`: cancel a pending request (dlm_unlock).
pub const DLM_LKF_CANCEL: u32 = 0x0000_0002;
/// `DLM_LKF_CONVERT`: convert an existing lock.
pub const DLM_LKF_CONVERT: u32 = 0x0000_0004;
/// `DLM_LKF_VALBLK`: read/write the lock value block.
pub const DLM_LKF_VALBLK: u32 = 0x0000_0008;
/// `DLM_LKF_QUECVT`: queue the conversion at the back of the convert queue.
pub const DLM_LKF_QUECVT: u32 = 0x0000_0010;
/// `DLM_LKF_IVVALBLK`: invalidate the value block.
pub const DLM_LKF_IVVALBLK: u32 = 0x0000_0020;
/// `DLM_LKF_CONVDEADLK`: allow the DLM to demote to resolve conversion deadlock.
pub const DLM_LKF_CONVDEADLK: u32 = 0x0000_0040;
/// `DLM_LKF_PERSISTENT`: do not unlock when the process exits.
pub const DLM_LKF_PERSISTENT: u32 = 0x0000_0080;
/// `DLM_LKF_NODLCKWT`: exclude from deadlock detection.
pub const DLM_LKF_NODLCKWT: u32 = 0x0000_0100;
/// `DLM_LKF_NODLCKBLK`: unused by the kernel.
pub const DLM_LKF_NODLCKBLK: u32 = 0x0000_0200;
/// `DLM_LKF_EXPEDITE`: grant NL requests ahead of the queue.
pub const DLM_LKF_EXPEDITE: u32 = 0x0000_0400;
/// `DLM_LKF_NOQUEUEBAST`: send blocking ASTs even for a NOQUEUE request.
pub const DLM_LKF_NOQUEUEBAST: u32 = 0x0000_0800;
/// `DLM_LKF_HEADQUE`: put the request at the head of the wait queue.
pub const DLM_LKF_HEADQUE: u32 = 0x0000_1000;
/// `DLM_LKF_NOORDER`: grant without respecting queue order.
pub const DLM_LKF_NOORDER: u32 = 0x0000_2000;
/// `DLM_LKF_ORPHAN`: keep the lock as an orphan when its owner exits.
pub const DLM_LKF_ORPHAN: u32 = 0x0000_4000;
/// `DLM_LKF_ALTPR`: accept PR if the requested mode is not grantable.
pub const DLM_LKF_ALTPR: u32 = 0x0000_8000;
/// `DLM_LKF_ALTCW`: accept CW if the requested mode is not grantable.
pub const DLM_LKF_ALTCW: u32 = 0x0001_0000;
/// `DLM_LKF_FORCEUNLOCK`: unlock even a lock with pending operations.
pub const DLM_LKF_FORCEUNLOCK: u32 = 0x0002_0000;
/// `DLM_LKF_TIMEOUT`: cancel the request after a timeout.
pub const DLM_LKF_TIMEOUT: u32 = 0x0004_0000;

/// `DLM_ECANCEL`: the AST status is `-DLM_ECANCEL` after a successful cancel.
pub const DLM_ECANCEL: i32 = 0x10001;
/// `DLM_EUNLOCK`: the AST status is `-DLM_EUNLOCK` after a successful unlock.
pub const DLM_EUNLOCK: i32 = 0x10002;

/// `DLM_SBF_DEMOTED`: the lock was demoted to resolve a deadlock.
pub const DLM_SBF_DEMOTED: u8 = 0x01;
/// `DLM_SBF_VALNOTVALID`: the value block is not valid (a PW/EX holder died).
pub const DLM_SBF_VALNOTVALID: u8 = 0x02;
/// `DLM_SBF_ALTMODE`: the alternate mode (ALTPR/ALTCW) was granted.
pub const DLM_SBF_ALTMODE: u8 = 0x04;

/// `EAGAIN` (asm-generic/errno-base.h).
pub const EAGAIN: i32 = 11;
/// `EINVAL` (asm-generic/errno-base.h).
pub const EINVAL: i32 = 22;
/// `EINTR` (asm-generic/errno-base.h): control_mount interrupted by a signal.
pub const EINTR: i32 = 4;
/// `EDEADLK` (asm-generic/errno.h).
pub const EDEADLK: i32 = 35;
/// `ETIMEDOUT` (asm-generic/errno.h).
pub const ETIMEDOUT: i32 = 110;

/// `LM_TYPE_NONDISK`: the glock type of the control and mounted locks.
pub const LM_TYPE_NONDISK: u32 = 0x01;

/// `LM_ST_UNLOCKED` (fs/gfs2/glock.h).
pub const LM_ST_UNLOCKED: u32 = 0;
/// `LM_ST_EXCLUSIVE`.
pub const LM_ST_EXCLUSIVE: u32 = 1;
/// `LM_ST_DEFERRED`.
pub const LM_ST_DEFERRED: u32 = 2;
/// `LM_ST_SHARED`.
pub const LM_ST_SHARED: u32 = 3;

/// `LM_FLAG_TRY`: do not wait.
pub const LM_FLAG_TRY: u32 = 0x0001;
/// `LM_FLAG_TRY_1CB`: do not wait, but send one blocking callback.
pub const LM_FLAG_TRY_1CB: u32 = 0x0002;
/// `LM_FLAG_NOEXP`: ignored by make_flags (used by glock.c); [`LM_FLAG_RECOVER`] in 7.2.
pub const LM_FLAG_NOEXP: u32 = 0x0004;
/// `LM_FLAG_ANY`: accept SHARED or DEFERRED.
pub const LM_FLAG_ANY: u32 = 0x0008;
/// `LM_FLAG_PRIORITY`: jump the queue (reference only; gone from 7.2's glock.h).
pub const LM_FLAG_PRIORITY: u32 = 0x0010;

/// `LM_OUT_ST_MASK`: the state bits of an AST result.
pub const LM_OUT_ST_MASK: u32 = 0x03;
/// `LM_OUT_ERROR`: the request failed.
pub const LM_OUT_ERROR: u32 = 0x04;
/// `LM_OUT_CANCELED`: the request was canceled.
pub const LM_OUT_CANCELED: u32 = 0x08;
/// `LM_OUT_DEADLOCK` (7.2 glock.h L114): the DLM reported a deadlock.
pub const LM_OUT_DEADLOCK: u32 = 0x10;
/// `LM_OUT_TRY_AGAIN` (7.2 glock.h L113): a TRY request failed.
pub const LM_OUT_TRY_AGAIN: u32 = 0x20;

/// `LM_RD_GAVEUP`: journal recovery gave up (another node holds the journal).
pub const LM_RD_GAVEUP: u32 = 308;
/// `LM_RD_SUCCESS`: journal recovery succeeded.
pub const LM_RD_SUCCESS: u32 = 309;

/// `GFS2_CONTROL_LOCK` (linux/gfs2_ondisk.h): number of control_lock.
pub const GFS2_CONTROL_LOCK: u32 = 4;
/// `GFS2_MOUNTED_LOCK`: number of mounted_lock.
pub const GFS2_MOUNTED_LOCK: u32 = 5;

/// `GDLM_STRNAME_BYTES`: the name buffer, 24 significant bytes and a NUL.
pub const GDLM_STRNAME_BYTES: usize = 25;
/// `GDLM_LVB_SIZE`: lock value block length.
pub const GDLM_LVB_SIZE: usize = 32;
/// `JID_BITMAP_OFFSET`: where the jid bitmap starts in the control LVB.
pub const JID_BITMAP_OFFSET: usize = 8;
/// `RECOVER_SIZE_INC`: the per-jid arrays grow in steps of 16.
pub const RECOVER_SIZE_INC: u32 = 16;
/// Largest number of jids the 32-byte control LVB can describe (24 bytes × 8).
pub const MAX_JIDS: usize = (GDLM_LVB_SIZE - JID_BITMAP_OFFSET) * 8;

/// `GFS2_LKS_SRTT`: smoothed round-trip time of non-blocking requests.
pub const GFS2_LKS_SRTT: usize = 0;
/// `GFS2_LKS_SRTTVAR`: its variance.
pub const GFS2_LKS_SRTTVAR: usize = 1;
/// `GFS2_LKS_SRTTB`: smoothed round-trip time of blocking requests.
pub const GFS2_LKS_SRTTB: usize = 2;
/// `GFS2_LKS_SRTTVARB`: its variance.
pub const GFS2_LKS_SRTTVARB: usize = 3;
/// `GFS2_LKS_SIRT`: smoothed inter-request time.
pub const GFS2_LKS_SIRT: usize = 4;
/// `GFS2_LKS_SIRTVAR`: its variance.
pub const GFS2_LKS_SIRTVAR: usize = 5;
/// `GFS2_LKS_DCOUNT`: count of DLM requests.
pub const GFS2_LKS_DCOUNT: usize = 6;
/// `GFS2_LKS_QCOUNT`: count of glock holder queueings.
pub const GFS2_LKS_QCOUNT: usize = 7;

/// `DFL_BLOCK_LOCKS` bit number of `ls_recover_flags`.
pub const DFL_BLOCK_LOCKS: u32 = 0;
/// `DFL_NO_DLM_OPS` bit number.
pub const DFL_NO_DLM_OPS: u32 = 1;
/// `DFL_FIRST_MOUNT` bit number.
pub const DFL_FIRST_MOUNT: u32 = 2;
/// `DFL_FIRST_MOUNT_DONE` bit number.
pub const DFL_FIRST_MOUNT_DONE: u32 = 3;
/// `DFL_MOUNT_DONE` bit number.
pub const DFL_MOUNT_DONE: u32 = 4;
/// `DFL_UNMOUNT` bit number.
pub const DFL_UNMOUNT: u32 = 5;
/// `DFL_DLM_RECOVERY` bit number.
pub const DFL_DLM_RECOVERY: u32 = 6;

/// `DLM_LSFL_NODIR` (dlm_new_lockspace flags): no resource directory.
pub const DLM_LSFL_NODIR: u32 = 0x0000_0001;
/// `DLM_LSFL_FS`: the lockspace belongs to a kernel filesystem.
pub const DLM_LSFL_FS: u32 = 0x0000_0004;
/// `DLM_LSFL_NEWEXCL`: fail if the lockspace already exists locally.
pub const DLM_LSFL_NEWEXCL: u32 = 0x0000_0008;
/// `DLM_LOCKSPACE_LEN`: the longest lockspace name.
pub const DLM_LOCKSPACE_LEN: usize = 64;
/// `GFS2_LOCKNAME_LEN`: the longest lock table / lock protocol name.
pub const GFS2_LOCKNAME_LEN: usize = 64;

// ---- Linux 7.2.13 (shared/reference/linux-7.2/UPSTREAM-7.2.md §1) -------------------

/// `LM_FLAG_RECOVER` (7.2 glock.h L83): the 0x4 bit, `LM_FLAG_NOEXP` renamed; not
/// mapped by make_flags.
pub const LM_FLAG_RECOVER: u32 = 0x0004;
/// `LM_FLAG_NODE_SCOPE` (7.2 glock.h L85): glock.c only.
pub const LM_FLAG_NODE_SCOPE: u32 = 0x0020;
/// `GL_ASYNC` (glock.h L86).
pub const GL_ASYNC: u32 = 0x0040;
/// `GL_EXACT` (glock.h L87).
pub const GL_EXACT: u32 = 0x0080;
/// `GL_SKIP` (glock.h L88).
pub const GL_SKIP: u32 = 0x0100;
/// `GL_NOPID` (7.2 glock.h L89).
pub const GL_NOPID: u32 = 0x0200;
/// `GL_NOCACHE` (glock.h L90).
pub const GL_NOCACHE: u32 = 0x0400;
/// `GL_NOBLOCK` (7.2 glock.h L91).
pub const GL_NOBLOCK: u32 = 0x0800;

/// `LM_TYPE_RESERVED` (glock.h L29): glock type 0.
pub const LM_TYPE_RESERVED: u32 = 0x00;

/// `GLF_INITIAL` bit number of `gl_flags` (incore.h L321). In 7.2 it is set at glock
/// creation and cleared by the first grant; in the reference the first grant sets it.
pub const GLF_INITIAL: u32 = 10;
/// `GLF_BLOCKING` bit number of `gl_flags` (incore.h L326).
pub const GLF_BLOCKING: u32 = 15;

/// `SDF_WITHDRAWN` bit number of `sd_flags` (7.2 incore.h L598).
pub const SDF_WITHDRAWN: u32 = 2;
/// `SDF_NOJOURNALID` bit number (incore.h L602): no `jid=` given yet.
pub const SDF_NOJOURNALID: u32 = 6;
/// `SDF_SKIP_DLM_UNLOCK` bit number (incore.h L604): free glocks without `dlm_unlock`.
pub const SDF_SKIP_DLM_UNLOCK: u32 = 8;

/// `DLM_LSFL_TIMEWARN` (uapi/linux/dlm.h): "deprecated and reserved".
pub const DLM_LSFL_TIMEWARN: u32 = 0x0000_0002;

/// `DLM_RELEASE_NO_LOCKS` (7.2 linux/dlm.h L91-115): release only without locks.
pub const DLM_RELEASE_NO_LOCKS: u32 = 0;
/// `DLM_RELEASE_UNUSED`: release only without remote locks.
pub const DLM_RELEASE_UNUSED: u32 = 1;
/// `DLM_RELEASE_NORMAL`: release with locks (the reference's literal `2`).
pub const DLM_RELEASE_NORMAL: u32 = 2;
/// `DLM_RELEASE_NO_EVENT`: as NORMAL without the uevent.
pub const DLM_RELEASE_NO_EVENT: u32 = 3;
/// `DLM_RELEASE_RECOVER`: as NORMAL, but the other nodes handle the leave as a
/// failure (`recover_slot()`), so they replay this node's journal.
pub const DLM_RELEASE_RECOVER: u32 = 4;

/// `ENOMEM` (asm-generic/errno-base.h).
pub const ENOMEM: i32 = 12;
/// `EBUSY` (asm-generic/errno-base.h): 7.2's DLM calls retry after 20 ms.
pub const EBUSY: i32 = 16;
/// `ENODEV` (asm-generic/errno-base.h): 7.2's DLM calls on a released lockspace.
pub const ENODEV: i32 = 19;
