/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gdlm_kernel.h - the C side of the gdlm-kernel ABI.
 *
 * The Rust object decides (lock names, modes, flags, AST outcomes, the recovery
 * state and the control_lock / mounted_lock protocol); this glue does the I/O:
 * dlm_lock/dlm_unlock, waiting, work queues, printk. Every gdlm_k_* call on one
 * mount's state must be made under one spinlock (the kernel's ls_recover_spin).
 */
#ifndef GDLM_KERNEL_H
#define GDLM_KERNEL_H

#include <linux/types.h>

/* Opaque state: allocate gdlm_k_size() bytes aligned to gdlm_k_align(). */
struct gdlm_k_state;

/* A sync lock call (sync_lock / sync_unlock) the glue must make. */
struct gdlm_k_call {
	u32 lock;        /* 0 control_lock, 1 mounted_lock */
	u32 op;          /* 0 dlm_lock, 1 dlm_unlock */
	s32 mode;        /* DLM_LOCK_* */
	u32 flags;       /* DLM_LKF_* */
	u32 write_lvb;   /* 1: copy lvb into the lksb's LVB before the call */
	u8 lvb[32];
};

/* What control_mount / control_first_done ask for next (return of gdlm_k_mount_*). */
enum gdlm_k_step {
	GDLM_K_CALL = 1,     /* make *call, pass its status to ..._result */
	GDLM_K_SLEEP = 2,    /* msleep_interruptible(500), then gdlm_k_mount_sleep_done */
	GDLM_K_MOUNTED = 3,  /* mounted; *first says first mounter */
	GDLM_K_FAILED = 4,   /* mount failed with *error */
	GDLM_K_WAIT = 5,     /* first_done: wait for DFL_DLM_RECOVERY to clear, restart */
	GDLM_K_DONE = 6,     /* first_done finished with *error */
};

size_t gdlm_k_size(void);
size_t gdlm_k_align(void);
void gdlm_k_init(struct gdlm_k_state *st);

/* dlm_lockspace_ops; recover_done and recovery_result return the work to queue:
 * 0 none, 1 now, 2 after HZ; negative: refused input (state unchanged). */
void gdlm_k_recover_prep(struct gdlm_k_state *st);
int gdlm_k_recover_slot(struct gdlm_k_state *st, int slot);
int gdlm_k_recover_done(struct gdlm_k_state *st, const int *slots, u32 nslots,
			int our_slot, u32 generation);
int gdlm_k_recovery_result(struct gdlm_k_state *st, u32 jid, u32 result);
int gdlm_k_locks_blocked(const struct gdlm_k_state *st);
int gdlm_k_jid(const struct gdlm_k_state *st);
void gdlm_k_unmount(struct gdlm_k_state *st);

/* gfs2_control_func: begin -> (call) -> locked -> (call) -> converted.
 * begin: 0 nothing to do, 1 make *call. locked: 1 make *call then converted, 2 make
 * *call and stop (stale). converted: 1 recover the jids in *jids (24-byte LE bitmap),
 * 2 unblocked (*generation), 3 still blocked. */
int gdlm_k_control_begin(struct gdlm_k_state *st, struct gdlm_k_call *call);
int gdlm_k_control_locked(struct gdlm_k_state *st, const u8 *lvb,
			  struct gdlm_k_call *call);
int gdlm_k_control_converted(struct gdlm_k_state *st, u8 *jids, u32 *generation);

/* control_mount and control_first_done (see enum gdlm_k_step). */
int gdlm_k_mount_start(struct gdlm_k_state *st, struct gdlm_k_call *call);
int gdlm_k_mount_result(struct gdlm_k_state *st, int status, const u8 *lvb,
			struct gdlm_k_call *call, int *first, int *error);
int gdlm_k_mount_sleep_done(struct gdlm_k_state *st, struct gdlm_k_call *call);
int gdlm_k_first_done_start(struct gdlm_k_state *st, struct gdlm_k_call *call);
int gdlm_k_first_done_result(struct gdlm_k_state *st, int status,
			     struct gdlm_k_call *call, int *error);

/* gdlm_lock / gdlm_ast for glock-style locks. name: 24 bytes out (unchanged for a
 * conversion). Returns 0, or negative when the kernel would BUG. */
int gdlm_k_lock_request(u32 ln_type, u64 ln_number, u32 req_state, u32 gfs_flags,
			int has_lvb, int converting, int blocking, u8 *name,
			s32 *mode, u32 *flags);
/* Returns 1 complete (*ret, *lkid, *glf_initial, *lvb_zeroed), 2 free, <0 BUG. */
int gdlm_k_ast(u32 gl_state, u32 gl_req, int status, u8 sb_flags, int has_lvb,
	       int glf_initial, u32 lkid, u32 *ret, u32 *lkid_after,
	       int *glf_initial_after, int *lvb_zeroed);

/* Status snapshot (gdlm_k_info). */
struct gdlm_k_info {
	s32 jid;           /* ls_jid, -1 before the first recover_done */
	u32 blocked;       /* DFL_BLOCK_LOCKS */
	u32 flags;         /* ls_recover_flags, 1 << DFL_* */
	u32 block_gen;     /* ls_recover_block */
	u32 start_gen;     /* ls_recover_start */
	u32 mount_gen;     /* ls_recover_mount */
	u32 recover_size;  /* ls_recover_size */
	u32 mount_lvb_gen; /* control LVB generation control_mount read, ~0 if none */
	u8 lvb_jids[24];   /* ls_lvb_bits jid map, LE bit order */
};
int gdlm_k_info(struct gdlm_k_state *st, struct gdlm_k_info *out);
/* start_gen of the control step in progress (ls_recover_start if none). */
u32 gdlm_k_control_generation(struct gdlm_k_state *st);
/* sync_lock's 24-byte resource name of lock 0 (control) or 1 (mounted). */
int gdlm_k_sync_lock_name(u32 lock, u8 *name);
/* gdlm_bast: LM_ST_* to drop to for a blocked request of DLM mode, <0 BUG. */
int gdlm_k_bast_state(int mode);

/* Provided by the glue. */
void gdlm_glue_panic(const u8 *msg, size_t len);

#endif
