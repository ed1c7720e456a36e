/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gdlm.h - what the files of gdlm.ko share.
 *
 * gdlm_lockspace.c: the pump between the DLM and gdlm-core's engine (events under
 *   mp->spin, actions performed outside it), mount and unmount.
 * gdlm_glocks.c:    test glocks on gdlm-core's per-glock machine (gdlm_k_glock_*), BAST demote.
 * gdlm_bench.c:     the benchmark: the same lock cycle decided by gdlm-core and by C.
 * gdlm_debugfs.c:   /sys/kernel/debug/gdlm/{ctl,status}, module init and exit.
 */
#ifndef GDLM_H
#define GDLM_H

#include <linux/dlm.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "gdlm_kernel.h"

#define GDLM_MAX_MOUNTS 2
#define GDLM_MAX_LOCKS 16
#define GDLM_LVB_SIZE GDLM_K_LVB_SIZE
#define GDLM_NAME_LEN GDLM_K_NAME_LEN

/* fs/gfs2/glock.h, for the test locks */
#define LM_ST_UNLOCKED 0
#define LM_ST_EXCLUSIVE 1
#define LM_ST_DEFERRED 2
#define LM_ST_SHARED 3
#define LM_FLAG_TRY 0x0001
#define LM_FLAG_NOEXP 0x0004

struct gdlm_mount;

/*
 * A test glock: gdlm-core's per-glock machine (struct gdlm_k_glock: gl_state, sb_lkid,
 * GLF_INITIAL, the request in flight, the demote owed) plus what C owns: the lksb, the
 * LVB, the wait for the AST. The C-only benchmark path keeps its own c_state.
 */
struct gdlm_glk {
	struct gdlm_mount *mp;
	int used;
	u32 type;
	u64 number;
	int has_lvb;
	int ast_rc;      /* 0 granted or freed, -EAGAIN try failed, <0 error */
	int c_only;      /* benchmark: decide in C, not through gdlm_k_glock_* */
	int c_state;     /* the C-only path's granted state */
	int c_req;
	ktime_t c_stamp; /* the C-only path's clock reads (lock_dlm.c's gl_dstamp, stats) */
	int demote;      /* demote on a BAST */
	int bast_mode;
	spinlock_t sl;   /* every gdlm_k_glock_* call on gl (the AST and BAST too) */
	struct gdlm_k_glock gl;
	struct dlm_lksb lksb;
	char lvb[GDLM_LVB_SIZE];
	struct completion done;
	struct mutex m;  /* one request at a time */
	struct work_struct demote_work;
};

/* One of the engine's locks (control, mounted, a journal): its lksb and LVB. */
struct gdlm_elock {
	struct gdlm_mount *mp;
	struct gdlm_k_lock_ref ref;
	struct dlm_lksb lksb;
	char lvb[GDLM_LVB_SIZE];
};

struct gdlm_mount {
	int used;
	char cluster[GDLM_K_TABLE_NAME_LEN];
	char fsname[GDLM_K_TABLE_NAME_LEN];
	int recovery_success; /* recovery=success (no disk) or gaveup (gfs2-mixed) */
	u32 profile;          /* GDLM_K_PROFILE_*: the engine's and the test glocks' */
	dlm_lockspace_t *dlm;
	spinlock_t spin;      /* ls_recover_spin: every gdlm_k_* call on st */
	struct gdlm_k_state *st;
	struct delayed_work pump;        /* polls and performs actions; the engine's timer */
	struct delayed_work replay_work; /* recovery=success: a replay's duration */
	u32 replay_jid;
	struct gdlm_elock control_lock, mounted_lock;
	struct gdlm_elock journal[GDLM_K_MAX_JIDS];
	/* recovery=success: NL locks that keep each journal resource's LVB alive */
	struct dlm_lksb anchor[GDLM_K_MAX_JIDS];
	u32 journals;
	wait_queue_head_t wq;
	/* what the actions said, for the ctl waiters and the status file */
	int mounted, first, failed, released, mount_error;
	u32 jid, last_done_gen, recover_dones;
	struct gdlm_glk locks[GDLM_MAX_LOCKS];
};

extern struct gdlm_mount gdlm_mounts[GDLM_MAX_MOUNTS];
extern struct mutex gdlm_state_mutex;
extern struct workqueue_struct *gdlm_pump_wq;
extern struct workqueue_struct *gdlm_demote_wq;

#define gdlm_info(mp, fmt, ...) pr_info("gdlm: %s: " fmt "\n", (mp)->fsname, ##__VA_ARGS__)
#define gdlm_err(mp, fmt, ...) pr_err("gdlm: %s: " fmt "\n", (mp)->fsname, ##__VA_ARGS__)

/* gdlm_lockspace.c */
struct gdlm_mount *gdlm_find_mount(const char *fsname);
int gdlm_mount(const char *table, int recovery_success, u32 journals, u32 profile);
int gdlm_unmount(struct gdlm_mount *mp);
int gdlm_withdraw(struct gdlm_mount *mp);
int gdlm_locks_blocked(struct gdlm_mount *mp);

/* gdlm_glocks.c */
const char *gdlm_state_name(int s);
int gdlm_parse_state(const char *s);
void gdlm_lvb_text(const char *lvb, char *out);
void glk_init(struct gdlm_mount *mp, struct gdlm_glk *lk, u32 type, u64 number, int has_lvb);
int glk_reset(struct gdlm_glk *lk);
int glk_state(struct gdlm_glk *lk);
u32 glk_lkid(struct gdlm_glk *lk);
void glk_c_name(u32 type, u64 number, char *name);
int glk_request(struct gdlm_mount *mp, struct gdlm_glk *lk, int req, u32 lmflags);
int glk_unlock(struct gdlm_mount *mp, struct gdlm_glk *lk);
int gdlm_cmd_lock(struct gdlm_mount *mp, u32 type, u64 number, int req, u32 lmflags,
		  const char *lvb);
int gdlm_cmd_unlock(struct gdlm_mount *mp, u32 type, u64 number);
void gdlm_glocks_stop(struct gdlm_mount *mp);

/* gdlm_bench.c */
/* rounds (pairs of blocks) at most: the paired statistic wants hundreds */
#define GDLM_BENCH_MAX_ROUNDS 2001
int gdlm_cmd_bench(struct gdlm_mount *mp, int n, int rounds);

#endif
