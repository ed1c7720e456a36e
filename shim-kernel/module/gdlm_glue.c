// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_glue.c - the C half of the gdlm demonstration module.
 *
 * gdlm-core (the Rust object, gdlm_kernel.o) decides what the kernel's
 * fs/gfs2/lock_dlm.c decides: lock names, modes and flags, AST outcomes, the
 * recovery state (ls_recover_*), the control_lock / mounted_lock protocol
 * (control_mount, control_first_done, gfs2_control_func). This file does the
 * I/O the way lock_dlm.c does it: dlm_new_lockspace with recover_prep/slot/done
 * trampolines, sync_lock/sync_unlock with a completion, the control work on a
 * workqueue (requeued after HZ when a journal recovery gave up), journal
 * recovery (TRY on the journal lock; never replays: there is no disk here) and
 * glock-style locks with LVBs.
 *
 * Every gdlm_k_* call on a mount's state is made under mp->spin (the kernel's
 * ls_recover_spin); DLM calls and waits happen outside it, as in lock_dlm.c.
 *
 * Control and observation: /sys/kernel/debug/gdlm/ctl (commands, see
 * gdlm_ctl_write) and /sys/kernel/debug/gdlm/status.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/dlm.h>
#include <linux/completion.h>
#include <linux/workqueue.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/ctype.h>
#include <linux/bitops.h>
#include <linux/version.h>
/* 6.12 moved asm/unaligned.h to linux/unaligned.h (FINDINGS-7.2.md, trap 6) */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#include "gdlm_kernel.h"

#define GDLM_MAX_MOUNTS 2
#define GDLM_MAX_LOCKS 16
#define GDLM_MAX_JIDS 192
#define GDLM_LVB_SIZE GDLM_K_LVB_SIZE
#define GDLM_NAME_LEN GDLM_K_NAME_LEN
/* recovery=success: the journal lock's LVB after a recovery (no disk to look at) */
#define GDLM_JOURNAL_CLEAN "gdlm-journal-clean"
/* recovery=success: how long a "replay" holds the journal lock */
#define GDLM_REPLAY_MS 300

/* fs/gfs2/glock.h */
#define LM_TYPE_JOURNAL 9
#define LM_ST_UNLOCKED 0
#define LM_ST_EXCLUSIVE 1
#define LM_ST_DEFERRED 2
#define LM_ST_SHARED 3
#define LM_FLAG_TRY 0x0001
#define LM_FLAG_NOEXP 0x0004
#define LM_OUT_ST_MASK 0x0003
#define LM_OUT_ERROR 0x0004
#define LM_OUT_CANCELED 0x0008
#define LM_RD_GAVEUP 308
#define LM_RD_SUCCESS 309
/* fs/gfs2/incore.h, DFL_* bit numbers */
#define DFL_DLM_RECOVERY 6

struct gdlm_mount;

/* A glock-style lock (struct gfs2_glock's DLM side). */
struct gdlm_glk {
	struct gdlm_mount *mp;
	int used;
	u32 type;
	u64 number;
	int has_lvb;
	int state;       /* gl_state: LM_ST_* granted */
	int req;         /* gl_req */
	int glf_initial; /* GLF_INITIAL */
	int ast_rc;      /* 0 granted, -EAGAIN try failed, <0 error */
	int freed;
	int c_only;      /* benchmark: decide in C, not through gdlm_k_* */
	int demote;      /* demote on a BAST (glock-style test locks, not the journal) */
	int bast_mode;
	u8 sb_flags;     /* of the last AST */
	struct dlm_lksb lksb;
	char lvb[GDLM_LVB_SIZE];
	struct completion done;
	struct mutex m;  /* one request at a time */
	struct work_struct demote_work;
};

struct gdlm_mount {
	int used;
	char cluster[33];
	char fsname[33];
	int recovery_success; /* recovery=success (no disk) or gaveup (gfs2-mixed) */
	dlm_lockspace_t *dlm;
	spinlock_t spin; /* ls_recover_spin: every gdlm_k_* call on st */
	struct gdlm_k_state *st;
	struct mutex sync_mutex; /* one sync_lock at a time (ls_sync_wait) */
	struct dlm_lksb control_lksb;
	struct dlm_lksb mounted_lksb;
	char control_lvb[GDLM_LVB_SIZE];
	struct completion sync_wait;
	struct delayed_work control_work;
	struct work_struct recover_work;
	unsigned long recover_pending[BITS_TO_LONGS(GDLM_MAX_JIDS)];
	wait_queue_head_t wq;
	int mounted;
	int first;
	int jid;
	u32 last_done_gen;
	u32 recover_dones;
	struct gdlm_glk journal;
	struct gdlm_glk locks[GDLM_MAX_LOCKS];
};

static struct gdlm_mount gdlm_mounts[GDLM_MAX_MOUNTS];
static DEFINE_MUTEX(gdlm_ctl_mutex);
/* held by the status reader and while a mount's state is allocated or freed */
static DEFINE_MUTEX(gdlm_state_mutex);
static struct workqueue_struct *gdlm_control_wq;
static struct workqueue_struct *gdlm_recovery_wq;
static struct workqueue_struct *gdlm_demote_wq;
static struct dentry *gdlm_dir;

#define gdlm_info(mp, fmt, ...) pr_info("gdlm: %s: " fmt "\n", (mp)->fsname, ##__VA_ARGS__)
#define gdlm_err(mp, fmt, ...) pr_err("gdlm: %s: " fmt "\n", (mp)->fsname, ##__VA_ARGS__)

void gdlm_glue_panic(const u8 *msg, size_t len)
{
	panic("%.*s", (int)len, msg);
}

static const char *state_name(int s)
{
	switch (s) {
	case LM_ST_UNLOCKED: return "UN";
	case LM_ST_EXCLUSIVE: return "EX";
	case LM_ST_DEFERRED: return "DF";
	case LM_ST_SHARED: return "SH";
	}
	return "??";
}

static int parse_state(const char *s)
{
	if (!strcmp(s, "UN")) return LM_ST_UNLOCKED;
	if (!strcmp(s, "EX")) return LM_ST_EXCLUSIVE;
	if (!strcmp(s, "DF")) return LM_ST_DEFERRED;
	if (!strcmp(s, "SH")) return LM_ST_SHARED;
	return -EINVAL;
}

/* The LVB as printable text (up to the first NUL). */
static void lvb_text(const char *lvb, char *out)
{
	int i;

	for (i = 0; i < GDLM_LVB_SIZE && lvb[i]; i++)
		out[i] = isprint(lvb[i]) ? lvb[i] : '.';
	out[i] = '\0';
}

static int locks_blocked(struct gdlm_mount *mp)
{
	int b;

	spin_lock(&mp->spin);
	b = gdlm_k_locks_blocked(mp->st);
	spin_unlock(&mp->spin);
	return b;
}

/* ------------------------------------------------------------ sync_lock */

static void gdlm_sync_ast(void *arg)
{
	struct gdlm_mount *mp = arg;

	complete(&mp->sync_wait);
}

/* sync_lock / sync_unlock for a call the core asked for; returns the status. */
static int gdlm_sync(struct gdlm_mount *mp, const struct gdlm_k_call *c)
{
	int mounted = c->lock == GDLM_K_LOCK_MOUNTED;
	struct dlm_lksb *lksb = mounted ? &mp->mounted_lksb : &mp->control_lksb;
	const char *what = mounted ? "mounted_lock" : "control_lock";
	char name[GDLM_NAME_LEN];
	int error, status;

	mutex_lock(&mp->sync_mutex);
	if (c->op == GDLM_K_OP_UNLOCK) {
		error = dlm_unlock(mp->dlm, lksb->sb_lkid, 0, lksb, mp);
		if (error) {
			gdlm_err(mp, "%s lkid %x error %d", what, lksb->sb_lkid, error);
			goto out;
		}
		wait_for_completion(&mp->sync_wait);
		if (lksb->sb_status != -DLM_EUNLOCK) {
			gdlm_err(mp, "%s lkid %x status %d", what, lksb->sb_lkid, lksb->sb_status);
			error = -1;
		}
		goto out;
	}
	error = gdlm_k_sync_lock_name(c->lock, (u8 *)name);
	if (error) {
		gdlm_err(mp, "sync lock %u refused %d", c->lock, error);
		goto out;
	}
	if (c->write_lvb && c->lock == GDLM_K_LOCK_CONTROL)
		memcpy(mp->control_lvb, c->lvb, GDLM_LVB_SIZE);
	error = dlm_lock(mp->dlm, c->mode, lksb, c->flags, name, GDLM_NAME_LEN, 0,
			 gdlm_sync_ast, mp, NULL);
	if (error) {
		gdlm_err(mp, "%s lkid %x flags %x mode %d error %d", what, lksb->sb_lkid,
			 c->flags, c->mode, error);
		goto out;
	}
	wait_for_completion(&mp->sync_wait);
	status = lksb->sb_status;
	if (status && status != -EAGAIN)
		gdlm_err(mp, "%s lkid %x flags %x mode %d status %d", what, lksb->sb_lkid,
			 c->flags, c->mode, status);
	error = status;
out:
	mutex_unlock(&mp->sync_mutex);
	return error;
}

/* ------------------------------------------------------------ glock-style locks */

static void c_name(u32 type, u64 number, char *name)
{
	char buf[GDLM_NAME_LEN + 1];

	snprintf(buf, sizeof(buf), "%8x%16llx", type, (unsigned long long)number);
	memcpy(name, buf, GDLM_NAME_LEN);
}

/* gdlm_ast */
static void glk_ast(void *arg)
{
	struct gdlm_glk *lk = arg;
	int status = lk->lksb.sb_status;
	u32 ret = 0, lkid = 0;
	int gi = 0, z = 0, r;

	lk->sb_flags = lk->lksb.sb_flags;
	if (lk->c_only) {
		/* the C-only benchmark path: the cases the benchmark meets */
		if (status == -DLM_EUNLOCK) {
			lk->freed = 1;
			lk->state = LM_ST_UNLOCKED;
			lk->ast_rc = 0;
		} else if (status == 0) {
			lk->state = lk->req;
			lk->ast_rc = 0;
		} else {
			lk->ast_rc = status;
		}
		complete(&lk->done);
		return;
	}
	r = gdlm_k_ast(lk->state, lk->req, status, lk->lksb.sb_flags, lk->has_lvb,
		       lk->glf_initial, lk->lksb.sb_lkid, &ret, &lkid, &gi, &z);
	if (z)
		memset(lk->lvb, 0, GDLM_LVB_SIZE);
	if (r == GDLM_K_AST_COMPLETE) {
		lk->lksb.sb_lkid = lkid;
		lk->glf_initial = gi;
		if (!(ret & (LM_OUT_ERROR | LM_OUT_CANCELED)))
			lk->state = ret & LM_OUT_ST_MASK;
		if ((ret & LM_OUT_ST_MASK) == lk->req && !(ret & (LM_OUT_ERROR | LM_OUT_CANCELED)))
			lk->ast_rc = 0;
		else if (status == -EAGAIN)
			lk->ast_rc = -EAGAIN;
		else
			lk->ast_rc = status ? status : -EIO;
	} else if (r == GDLM_K_AST_FREE) {
		lk->freed = 1;
		lk->lksb.sb_lkid = 0;
		lk->state = LM_ST_UNLOCKED;
		lk->ast_rc = 0;
	} else {
		lk->ast_rc = -EINVAL;
	}
	complete(&lk->done);
}

static void glk_bast(void *arg, int mode)
{
	struct gdlm_glk *lk = arg;

	lk->bast_mode = mode;
	queue_work(gdlm_demote_wq, &lk->demote_work);
}

/* gdlm_lock + wait for the AST; lk->m held. 0 granted, -EAGAIN try failed. */
static int glk_request(struct gdlm_mount *mp, struct gdlm_glk *lk, int req, u32 lmflags)
{
	char name[GDLM_NAME_LEN];
	int converting = lk->lksb.sb_lkid != 0;
	s32 mode;
	u32 flags;
	int rv;

	if (lk->c_only) {
		static const s32 modes[4] = { DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR };

		c_name(lk->type, lk->number, name);
		mode = modes[req & 3];
		flags = DLM_LKF_VALBLK | (converting ? DLM_LKF_CONVERT : 0);
	} else {
		rv = gdlm_k_lock_request(lk->type, lk->number, req, lmflags, lk->has_lvb,
					 converting, 0, (u8 *)name, &mode, &flags);
		if (rv) {
			gdlm_err(mp, "lock %x,%llx request refused %d", lk->type,
				 (unsigned long long)lk->number, rv);
			return -EINVAL;
		}
	}
	if (!converting)
		lk->glf_initial = 1;
	lk->req = req;
	lk->freed = 0;
	reinit_completion(&lk->done);
	rv = dlm_lock(mp->dlm, mode, &lk->lksb, flags, name, GDLM_NAME_LEN, 0, glk_ast, lk,
		      glk_bast);
	if (rv)
		return rv;
	wait_for_completion(&lk->done);
	return lk->ast_rc;
}

/* gdlm_put_lock + wait for the unlock AST; lk->m held. */
static int glk_unlock(struct gdlm_mount *mp, struct gdlm_glk *lk)
{
	int rv;

	if (!lk->lksb.sb_lkid)
		return 0;
	lk->req = LM_ST_UNLOCKED;
	reinit_completion(&lk->done);
	rv = dlm_unlock(mp->dlm, lk->lksb.sb_lkid, lk->has_lvb ? DLM_LKF_VALBLK : 0, NULL, lk);
	if (rv)
		return rv;
	wait_for_completion(&lk->done);
	lk->lksb.sb_lkid = 0;
	return lk->ast_rc;
}

/* A BAST: drop to the state gdlm_bast names, writing the LVB (glock demote). */
static void glk_demote_func(struct work_struct *w)
{
	struct gdlm_glk *lk = container_of(w, struct gdlm_glk, demote_work);
	struct gdlm_mount *mp = lk->mp;
	int target = gdlm_k_bast_state(lk->bast_mode);
	char txt[GDLM_LVB_SIZE + 1];
	int old, rv;

	if (target < 0)
		return;
	mutex_lock(&lk->m);
	old = lk->state;
	if (!lk->used || !lk->demote || !lk->lksb.sb_lkid || old == target || old == LM_ST_UNLOCKED ||
	    (old == LM_ST_SHARED && target == LM_ST_SHARED)) {
		mutex_unlock(&lk->m);
		return;
	}
	rv = glk_request(mp, lk, target, 0);
	lvb_text(lk->lvb, txt);
	gdlm_info(mp, "bast %x,%llx mode %d: demote %s->%s rv %d lvb '%s'", lk->type,
		  (unsigned long long)lk->number, lk->bast_mode, state_name(old),
		  state_name(lk->state), rv, txt);
	mutex_unlock(&lk->m);
}

static void glk_init(struct gdlm_mount *mp, struct gdlm_glk *lk, u32 type, u64 number,
		     int has_lvb)
{
	memset(&lk->lksb, 0, sizeof(lk->lksb));
	memset(lk->lvb, 0, GDLM_LVB_SIZE);
	lk->mp = mp;
	lk->type = type;
	lk->number = number;
	lk->has_lvb = has_lvb;
	lk->lksb.sb_lvbptr = has_lvb ? lk->lvb : NULL;
	lk->state = LM_ST_UNLOCKED;
	lk->req = LM_ST_UNLOCKED;
	lk->glf_initial = 1;
	lk->ast_rc = 0;
	lk->freed = 0;
	lk->c_only = 0;
	lk->demote = 0;
	init_completion(&lk->done);
	mutex_init(&lk->m);
	INIT_WORK(&lk->demote_work, glk_demote_func);
	lk->used = 1;
}

/* ------------------------------------------------------------ recovery */

/* gfs2_recover_func for one jid: TRY on the journal lock, never a replay. */
static int gdlm_recover_journal(struct gdlm_mount *mp, int jid)
{
	struct gdlm_glk *lk;
	int rv, result;

	lk = kzalloc(sizeof(*lk), GFP_NOFS);
	if (!lk)
		return LM_RD_GAVEUP;
	/* recovery=success: the journal lock's LVB stands in for the journal's dirty state */
	glk_init(mp, lk, LM_TYPE_JOURNAL, jid, mp->recovery_success);
	gdlm_info(mp, "jid=%d: Trying to acquire journal glock...", jid);
	mutex_lock(&lk->m);
	rv = glk_request(mp, lk, LM_ST_EXCLUSIVE, LM_FLAG_NOEXP | LM_FLAG_TRY);
	if (rv == 0) {
		if (mp->recovery_success) {
			if (!memcmp(lk->lvb, GDLM_JOURNAL_CLEAN, sizeof(GDLM_JOURNAL_CLEAN))) {
				/* like gfs2: a later recoverer finds it clean, still a success */
				gdlm_info(mp, "jid=%d: Looking at journal... clean", jid);
			} else {
				/* zero or invalidated: its owner died holding it EX */
				char txt[GDLM_LVB_SIZE + 1];

				lvb_text(lk->lvb, txt);
				gdlm_info(mp, "jid=%d: Looking at journal... dirty (lvb '%s' sb_flags 0x%x)",
					  jid, txt, lk->sb_flags);
				gdlm_info(mp, "jid=%d: Replaying journal... (no disk: nothing to write)", jid);
				/*
				 * A replay holds the journal lock for a while (gfs2: hundreds of
				 * ms); a survivor trying meanwhile is Busy, as with gfs2. The
				 * "clean" LVB covers later tries, but the DLM does not always
				 * keep it (seen on 6.1 right after recovery), so hold it here.
				 */
				msleep(GDLM_REPLAY_MS);
				memset(lk->lvb, 0, GDLM_LVB_SIZE);
				memcpy(lk->lvb, GDLM_JOURNAL_CLEAN, sizeof(GDLM_JOURNAL_CLEAN));
			}
			result = LM_RD_SUCCESS;
		} else {
			gdlm_info(mp, "jid=%d: would replay: giving up (recovery=gaveup, the module never writes the disk)", jid);
			result = LM_RD_GAVEUP;
		}
		glk_unlock(mp, lk);
		if (result == LM_RD_SUCCESS)
			gdlm_info(mp, "jid=%d: Done", jid);
	} else {
		gdlm_info(mp, "jid=%d: Busy", jid);
		result = LM_RD_GAVEUP;
	}
	mutex_unlock(&lk->m);
	flush_work(&lk->demote_work);
	kfree(lk);
	return result;
}

static void gdlm_recover_func(struct work_struct *w)
{
	struct gdlm_mount *mp = container_of(w, struct gdlm_mount, recover_work);
	int jid, result, q;

	for (jid = 0; jid < GDLM_MAX_JIDS; jid++) {
		if (!test_and_clear_bit(jid, mp->recover_pending))
			continue;
		result = gdlm_recover_journal(mp, jid);
		/* gdlm_recovery_result */
		spin_lock(&mp->spin);
		q = gdlm_k_recovery_result(mp->st, jid, result);
		spin_unlock(&mp->spin);
		if (q == GDLM_K_WORK_NOW || q == GDLM_K_WORK_AFTER_HZ)
			gdlm_info(mp, "recover jid %d result %s", jid,
				  result == LM_RD_GAVEUP ? "busy" : "success");
		if (q == GDLM_K_WORK_NOW)
			queue_delayed_work(gdlm_control_wq, &mp->control_work, 0);
		else if (q == GDLM_K_WORK_AFTER_HZ)
			queue_delayed_work(gdlm_control_wq, &mp->control_work, HZ);
		else if (q < 0)
			gdlm_err(mp, "recover jid %d result refused %d", jid, q);
	}
}

/* gfs2_control_func */
static void gdlm_control_func(struct work_struct *w)
{
	struct gdlm_mount *mp = container_of(to_delayed_work(w), struct gdlm_mount, control_work);
	struct gdlm_k_call call;
	u8 jids[GDLM_K_JID_BITMAP_SIZE];
	u32 gen = 0, start_gen;
	int r, status, i, any = 0;

	spin_lock(&mp->spin);
	r = gdlm_k_control_begin(mp->st, &call);
	spin_unlock(&mp->spin);
	if (r < 0)
		gdlm_err(mp, "control step refused %d", r);
	if (r != GDLM_K_CONTROL_CALL)
		return;
	status = gdlm_sync(mp, &call);
	if (status) {
		gdlm_err(mp, "control lock EX error %d", status);
		return;
	}
	spin_lock(&mp->spin);
	start_gen = gdlm_k_control_generation(mp->st);
	r = gdlm_k_control_locked(mp->st, (const u8 *)mp->control_lvb, &call);
	spin_unlock(&mp->spin);
	if (r == GDLM_K_CONTROL_STALE) {
		gdlm_info(mp, "recover generation %u block1", start_gen);
		gdlm_sync(mp, &call);
		return;
	}
	if (r != GDLM_K_CONTROL_CALL) {
		gdlm_err(mp, "control step refused %d", r);
		return;
	}
	status = gdlm_sync(mp, &call);
	if (status) {
		gdlm_err(mp, "control lock NL error %d", status);
		return;
	}
	spin_lock(&mp->spin);
	r = gdlm_k_control_converted(mp->st, jids, &gen);
	spin_unlock(&mp->spin);
	if (r == GDLM_K_CONTROL_RECOVER) {
		for (i = 0; i < GDLM_MAX_JIDS; i++) {
			if (!(jids[i >> 3] & (1 << (i & 7))))
				continue;
			gdlm_info(mp, "recover generation %u jid %d", start_gen, i);
			set_bit(i, mp->recover_pending);
			any = 1;
		}
		if (any)
			queue_work(gdlm_recovery_wq, &mp->recover_work);
	} else if (r == GDLM_K_CONTROL_UNBLOCKED) {
		mp->last_done_gen = gen;
		gdlm_info(mp, "recover generation %u done", gen);
		wake_up(&mp->wq);
	} else if (r == GDLM_K_CONTROL_BLOCKED) {
		gdlm_info(mp, "recover generation %u block2", start_gen);
	} else {
		gdlm_err(mp, "control step refused %d", r);
	}
}

/* dlm_lockspace_ops */
static void gdlm_recover_prep(void *arg)
{
	struct gdlm_mount *mp = arg;

	spin_lock(&mp->spin);
	gdlm_k_recover_prep(mp->st);
	spin_unlock(&mp->spin);
}

static void gdlm_recover_slot(void *arg, struct dlm_slot *slot)
{
	struct gdlm_mount *mp = arg;
	int rv;

	spin_lock(&mp->spin);
	rv = gdlm_k_recover_slot(mp->st, slot->slot);
	spin_unlock(&mp->spin);
	if (rv)
		gdlm_info(mp, "recover_slot nodeid %d slot %d jid %d refused %d", slot->nodeid,
			  slot->slot, slot->slot - 1, rv);
	else
		gdlm_info(mp, "recover_slot nodeid %d slot %d jid %d", slot->nodeid, slot->slot,
			  slot->slot - 1);
}

static void gdlm_recover_done(void *arg, struct dlm_slot *slots, int num_slots, int our_slot,
			      uint32_t generation)
{
	struct gdlm_mount *mp = arg;
	int ids[32];
	int *list = ids, i, q;

	if (num_slots > ARRAY_SIZE(ids)) {
		list = kmalloc_array(num_slots, sizeof(int), GFP_NOFS);
		if (!list) {
			gdlm_err(mp, "recover_done: no memory for %d slots", num_slots);
			return;
		}
	}
	for (i = 0; i < num_slots; i++)
		list[i] = slots[i].slot;
	spin_lock(&mp->spin);
	q = gdlm_k_recover_done(mp->st, list, num_slots, our_slot, generation);
	mp->jid = gdlm_k_jid(mp->st);
	mp->recover_dones++;
	spin_unlock(&mp->spin);
	if (list != ids)
		kfree(list);
	gdlm_info(mp, "recover_done generation %u slots %d our_slot %d jid %d", generation,
		  num_slots, our_slot, mp->jid);
	if (q == GDLM_K_WORK_NOW)
		queue_delayed_work(gdlm_control_wq, &mp->control_work, 0);
	else if (q < 0)
		gdlm_err(mp, "recover_done refused %d", q);
	wake_up(&mp->wq);
}

static const struct dlm_lockspace_ops gdlm_lockspace_ops = {
	.recover_prep = gdlm_recover_prep,
	.recover_slot = gdlm_recover_slot,
	.recover_done = gdlm_recover_done,
};

/* ------------------------------------------------------------ mount / unmount */

static struct gdlm_mount *find_mount(const char *fsname)
{
	int i;

	for (i = 0; i < GDLM_MAX_MOUNTS; i++)
		if (gdlm_mounts[i].used && !strcmp(gdlm_mounts[i].fsname, fsname))
			return &gdlm_mounts[i];
	return NULL;
}

static void gdlm_release(struct gdlm_mount *mp)
{
	int i, rv;

	if (mp->st) {
		spin_lock(&mp->spin);
		gdlm_k_unmount(mp->st);
		spin_unlock(&mp->spin);
	}
	cancel_delayed_work_sync(&mp->control_work);
	flush_work(&mp->recover_work);
	for (i = 0; i < GDLM_MAX_LOCKS; i++)
		if (mp->locks[i].used)
			cancel_work_sync(&mp->locks[i].demote_work);
	cancel_work_sync(&mp->journal.demote_work);
	if (mp->dlm) {
		rv = dlm_release_lockspace(mp->dlm, 2);
		gdlm_info(mp, "dlm_release_lockspace %d", rv);
	}
	cancel_delayed_work_sync(&mp->control_work);
	mutex_lock(&gdlm_state_mutex);
	kfree(mp->st);
	memset(mp, 0, sizeof(*mp));
	mutex_unlock(&gdlm_state_mutex);
}

/* A step of control_mount / control_first_done needs the control_lock LVB
 * only after a dlm_lock of control_lock. */
static const u8 *call_lvb(struct gdlm_mount *mp, const struct gdlm_k_call *c)
{
	return (c->lock == GDLM_K_LOCK_CONTROL && c->op == GDLM_K_OP_LOCK) ?
		(const u8 *)mp->control_lvb : NULL;
}

/* gdlm_mount: join, control_mount, own journal lock, control_first_done. */
static int gdlm_mount(const char *table, int recovery_success)
{
	struct gdlm_mount *mp = NULL;
	struct gdlm_k_call call, made;
	struct gdlm_k_info info;
	const char *colon = strchr(table, ':');
	int i, r, status, first = 0, error = 0, ops_result = -1, steps;

	if (!colon || colon == table || !colon[1] || colon - table > 32 || strlen(colon + 1) > 32)
		return -EINVAL;
	if (gdlm_k_align() > ARCH_KMALLOC_MINALIGN)
		return -EINVAL;
	if (find_mount(colon + 1))
		return -EEXIST;
	for (i = 0; i < GDLM_MAX_MOUNTS; i++)
		if (!gdlm_mounts[i].used) {
			mp = &gdlm_mounts[i];
			break;
		}
	if (!mp)
		return -EBUSY;
	memset(mp, 0, sizeof(*mp));
	mp->used = 1;
	memcpy(mp->cluster, table, colon - table);
	strscpy(mp->fsname, colon + 1, sizeof(mp->fsname));
	mp->recovery_success = recovery_success;
	mp->jid = -1;
	spin_lock_init(&mp->spin);
	mutex_init(&mp->sync_mutex);
	init_completion(&mp->sync_wait);
	INIT_DELAYED_WORK(&mp->control_work, gdlm_control_func);
	INIT_WORK(&mp->recover_work, gdlm_recover_func);
	init_waitqueue_head(&mp->wq);
	mp->control_lksb.sb_lvbptr = mp->control_lvb;
	glk_init(mp, &mp->journal, LM_TYPE_JOURNAL, 0, 0);
	mp->journal.used = 0;
	mutex_lock(&gdlm_state_mutex);
	mp->st = kzalloc(gdlm_k_size(), GFP_KERNEL);
	if (mp->st)
		gdlm_k_init(mp->st);
	else
		mp->used = 0;
	mutex_unlock(&gdlm_state_mutex);
	if (!mp->st)
		return -ENOMEM;

	gdlm_info(mp, "Trying to join cluster \"lock_dlm\", \"%s\" recovery=%s", table,
		  recovery_success ? "success" : "gaveup");
	error = dlm_new_lockspace(mp->fsname, mp->cluster, DLM_LSFL_NEWEXCL, GDLM_LVB_SIZE,
				  &gdlm_lockspace_ops, mp, &ops_result, &mp->dlm);
	if (error) {
		gdlm_err(mp, "dlm_new_lockspace error %d", error);
		mp->dlm = NULL;
		goto fail;
	}
	if (ops_result < 0) {
		gdlm_err(mp, "dlm lockspace ops not used");
		error = -EOPNOTSUPP;
		goto fail;
	}
	if (!wait_event_timeout(mp->wq, mp->jid >= 0, 60 * HZ)) {
		gdlm_err(mp, "no recover_done (jid) within 60 s");
		error = -ETIMEDOUT;
		goto fail;
	}

	/* control_mount */
	spin_lock(&mp->spin);
	r = gdlm_k_mount_start(mp->st, &call);
	spin_unlock(&mp->spin);
	for (steps = 0; steps < 1000; steps++) {
		if (r == GDLM_K_CALL) {
			made = call;
			status = gdlm_sync(mp, &made);
			spin_lock(&mp->spin);
			r = gdlm_k_mount_result(mp->st, status, call_lvb(mp, &made), &call, &first,
						&error);
			spin_unlock(&mp->spin);
		} else if (r == GDLM_K_SLEEP) {
			msleep_interruptible(500);
			spin_lock(&mp->spin);
			r = gdlm_k_mount_sleep_done(mp->st, &call);
			spin_unlock(&mp->spin);
		} else {
			break;
		}
	}
	if (r != GDLM_K_MOUNTED) {
		gdlm_err(mp, "mount control error %d (step %d)", error, r);
		if (!error)
			error = -EIO;
		goto fail;
	}
	mp->first = first;
	spin_lock(&mp->spin);
	gdlm_k_info(mp->st, &info);
	spin_unlock(&mp->spin);
	if (first)
		gdlm_info(mp, "first mounter control generation %u", info.mount_lvb_gen);
	gdlm_info(mp, "Joined cluster. jid %d first %d", mp->jid, first);
	if (first && !recovery_success) {
		/* gfs2's first mounter replays every journal; this module cannot */
		gdlm_err(mp, "first mounter with recovery=gaveup: would have to replay journals, refusing");
		error = -EROFS;
		goto fail;
	}

	/* init_journal: own journal lock EX with LM_FLAG_NOEXP, held while mounted */
	glk_init(mp, &mp->journal, LM_TYPE_JOURNAL, mp->jid, recovery_success);
	mutex_lock(&mp->journal.m);
	r = glk_request(mp, &mp->journal, LM_ST_EXCLUSIVE, LM_FLAG_NOEXP);
	mutex_unlock(&mp->journal.m);
	if (r) {
		gdlm_err(mp, "jid=%d: journal lock error %d", mp->jid, r);
		error = r;
		goto fail;
	}
	gdlm_info(mp, "jid=%d, already locked for use", mp->jid);

	if (first) {
		/* first-mounter recovery of the other journals: there is no disk */
		spin_lock(&mp->spin);
		r = gdlm_k_first_done_start(mp->st, &call);
		spin_unlock(&mp->spin);
		for (steps = 0; steps < 100; steps++) {
			if (r == GDLM_K_CALL) {
				made = call;
				status = gdlm_sync(mp, &made);
				spin_lock(&mp->spin);
				r = gdlm_k_first_done_result(mp->st, status, &call, &error);
				spin_unlock(&mp->spin);
			} else if (r == GDLM_K_WAIT) {
				gdlm_info(mp, "control_first_done wait");
				wait_event_timeout(mp->wq, ({
					struct gdlm_k_info in;
					spin_lock(&mp->spin);
					gdlm_k_info(mp->st, &in);
					spin_unlock(&mp->spin);
					!(in.flags & (1u << DFL_DLM_RECOVERY));
				}), 60 * HZ);
				spin_lock(&mp->spin);
				r = gdlm_k_first_done_start(mp->st, &call);
				spin_unlock(&mp->spin);
			} else {
				break;
			}
		}
		if (r != GDLM_K_DONE || error) {
			gdlm_err(mp, "mount first_done error %d (step %d)", error, r);
			if (!error)
				error = -EIO;
			goto fail;
		}
		gdlm_info(mp, "first mount done, others may mount");
	}
	mp->mounted = 1;
	gdlm_info(mp, "mounted jid %d first %d recovery=%s", mp->jid, first,
		  recovery_success ? "success" : "gaveup");
	return 0;
fail:
	gdlm_release(mp);
	return error;
}

/* ------------------------------------------------------------ glock commands */

static struct gdlm_glk *find_glk(struct gdlm_mount *mp, u32 type, u64 number, int create)
{
	int i;

	for (i = 0; i < GDLM_MAX_LOCKS; i++)
		if (mp->locks[i].used && mp->locks[i].type == type && mp->locks[i].number == number)
			return &mp->locks[i];
	if (!create)
		return NULL;
	for (i = 0; i < GDLM_MAX_LOCKS; i++)
		if (!mp->locks[i].used) {
			glk_init(mp, &mp->locks[i], type, number, 1);
			mp->locks[i].demote = 1;
			return &mp->locks[i];
		}
	return NULL;
}

static int cmd_lock(struct gdlm_mount *mp, u32 type, u64 number, int req, u32 lmflags,
		    const char *lvb)
{
	struct gdlm_glk *lk = find_glk(mp, type, number, 1);
	char txt[GDLM_LVB_SIZE + 1];
	int rv;

	if (!lk)
		return -ENOSPC;
	if (!(lmflags & LM_FLAG_NOEXP) &&
	    !wait_event_timeout(mp->wq, !locks_blocked(mp), 120 * HZ)) {
		gdlm_err(mp, "lock %x,%llx: still blocked by recovery after 120 s", type,
			 (unsigned long long)number);
		return -ETIMEDOUT;
	}
	mutex_lock(&lk->m);
	rv = glk_request(mp, lk, req, lmflags);
	lvb_text(lk->lvb, txt);
	gdlm_info(mp, "lock %x,%llx %s rv %d state %s lvb '%s'", type, (unsigned long long)number,
		  state_name(req), rv, state_name(lk->state), txt);
	if (rv == 0 && lvb && lk->state == LM_ST_EXCLUSIVE) {
		memset(lk->lvb, 0, GDLM_LVB_SIZE);
		strscpy(lk->lvb, lvb, GDLM_LVB_SIZE);
	}
	mutex_unlock(&lk->m);
	return rv;
}

static int cmd_unlock(struct gdlm_mount *mp, u32 type, u64 number)
{
	struct gdlm_glk *lk = find_glk(mp, type, number, 0);
	int rv;

	if (!lk)
		return -ENOENT;
	mutex_lock(&lk->m);
	rv = glk_unlock(mp, lk);
	gdlm_info(mp, "unlock %x,%llx rv %d", type, (unsigned long long)number, rv);
	mutex_unlock(&lk->m);
	cancel_work_sync(&lk->demote_work);
	lk->used = 0;
	return rv;
}

/* ------------------------------------------------------------ benchmark */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* One round: n x (new EX, convert to NL (UN), unlock); ns per cycle. */
static int bench_round(struct gdlm_mount *mp, struct gdlm_glk *lk, int c_only, int n, u64 *ns)
{
	u64 t0 = ktime_get_ns();
	int i, rv;

	lk->c_only = c_only;
	for (i = 0; i < n; i++) {
		rv = glk_request(mp, lk, LM_ST_EXCLUSIVE, 0);
		if (!rv)
			rv = glk_request(mp, lk, LM_ST_UNLOCKED, 0);
		if (!rv)
			rv = glk_unlock(mp, lk);
		if (rv)
			return rv;
	}
	*ns = div_u64(ktime_get_ns() - t0, n);
	return 0;
}

/*
 * The decisions alone, without the DLM: per cycle, the request and AST decisions of
 * new EX, convert to NL, unlock; through gdlm_k_* or through C. ns per cycle.
 */
static u64 bench_decide(int c_only, int n)
{
	static const s32 modes[4] = { DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR };
	char name[GDLM_NAME_LEN];
	u32 flags = 0, ret = 0, lkid = 0, sink = 0;
	int gi = 0, z = 0, i;
	s32 mode = 0;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < n; i++) {
		if (c_only) {
			c_name(2, 0xbe4c + (i & 7), name);
			mode = modes[LM_ST_EXCLUSIVE];
			flags = DLM_LKF_VALBLK;
			ret = LM_ST_EXCLUSIVE; /* status 0: granted */
			sink += mode + flags + ret + name[23];
			mode = modes[LM_ST_UNLOCKED];
			flags = DLM_LKF_VALBLK | DLM_LKF_CONVERT;
			ret = LM_ST_UNLOCKED;
			sink += mode + flags + ret;
			sink += 1; /* -DLM_EUNLOCK: free */
		} else {
			gdlm_k_lock_request(2, 0xbe4c + (i & 7), LM_ST_EXCLUSIVE, 0, 1, 0, 0,
					    (u8 *)name, &mode, &flags);
			gdlm_k_ast(LM_ST_UNLOCKED, LM_ST_EXCLUSIVE, 0, 0, 1, 1, i + 1, &ret, &lkid,
				   &gi, &z);
			sink += mode + flags + ret + name[23];
			gdlm_k_lock_request(2, 0xbe4c + (i & 7), LM_ST_UNLOCKED, 0, 1, 1, 0, NULL,
					    &mode, &flags);
			gdlm_k_ast(LM_ST_EXCLUSIVE, LM_ST_UNLOCKED, 0, 0, 1, 0, i + 1, &ret, &lkid,
				   &gi, &z);
			sink += mode + flags + ret;
			sink += gdlm_k_ast(LM_ST_UNLOCKED, LM_ST_UNLOCKED, -DLM_EUNLOCK, 0, 1, 0,
					   i + 1, &ret, &lkid, &gi, &z);
		}
		barrier_data(&sink);
	}
	return div_u64(ktime_get_ns() - t0, n);
}

static int cmd_bench(struct gdlm_mount *mp, int n, int rounds)
{
	struct gdlm_glk *lk;
	u64 *rust, *c, *ratio;
	int i, rv = 0;
	long diff_best, diff_med, diff_pair;

	if (n < 1 || n > 100000 || rounds < 1 || rounds > 31)
		return -EINVAL;
	lk = kzalloc(sizeof(*lk), GFP_KERNEL);
	rust = kcalloc(rounds, sizeof(u64), GFP_KERNEL);
	c = kcalloc(rounds, sizeof(u64), GFP_KERNEL);
	ratio = kcalloc(rounds, sizeof(u64), GFP_KERNEL);
	if (!lk || !rust || !c || !ratio) {
		rv = -ENOMEM;
		goto out;
	}
	glk_init(mp, lk, 2, 0xbe4c, 1);
	mutex_lock(&lk->m);
	/* warm up: the resource's master is this node afterwards */
	rv = bench_round(mp, lk, 0, 10, &rust[0]);
	for (i = 0; !rv && i < rounds; i++) {
		if (i & 1) {
			rv = bench_round(mp, lk, 1, n, &c[i]);
			if (!rv)
				rv = bench_round(mp, lk, 0, n, &rust[i]);
		} else {
			rv = bench_round(mp, lk, 0, n, &rust[i]);
			if (!rv)
				rv = bench_round(mp, lk, 1, n, &c[i]);
		}
		if (!rv)
			gdlm_info(mp, "bench round %d: rust %llu ns/cycle, c %llu ns/cycle", i,
				  rust[i], c[i]);
	}
	mutex_unlock(&lk->m);
	if (rv) {
		gdlm_err(mp, "bench error %d", rv);
		goto out;
	}
	for (i = 0; i < rounds; i++)
		ratio[i] = div64_u64(rust[i] * 1000, c[i]);
	sort(ratio, rounds, sizeof(u64), cmp_u64, NULL);
	diff_pair = (long)ratio[rounds / 2] - 1000;
	sort(rust, rounds, sizeof(u64), cmp_u64, NULL);
	sort(c, rounds, sizeof(u64), cmp_u64, NULL);
	diff_best = (long)div64_s64(((s64)rust[0] - (s64)c[0]) * 1000, c[0]);
	diff_med = (long)div64_s64(((s64)rust[rounds / 2] - (s64)c[rounds / 2]) * 1000, c[rounds / 2]);
	gdlm_info(mp, "bench %d cycles x %d rounds (lock EX + convert NL + unlock, VALBLK): rust best %llu median %llu ns/cycle; c best %llu median %llu ns/cycle; rust vs c best %c%ld.%ld%% median %c%ld.%ld%% paired-median %c%ld.%ld%%",
		  n, rounds, rust[0], rust[rounds / 2], c[0], c[rounds / 2],
		  diff_best < 0 ? '-' : '+', abs(diff_best) / 10, abs(diff_best) % 10,
		  diff_med < 0 ? '-' : '+', abs(diff_med) / 10, abs(diff_med) % 10,
		  diff_pair < 0 ? '-' : '+', abs(diff_pair) / 10, abs(diff_pair) % 10);
	/* the decisions alone, 100000 cycles per path, best of the rounds */
	{
		u64 dr = U64_MAX, dc = U64_MAX, v;

		for (i = 0; i < rounds; i++) {
			v = bench_decide(0, 100000);
			dr = min(dr, v);
			v = bench_decide(1, 100000);
			dc = min(dc, v);
		}
		gdlm_info(mp, "bench decisions only (no DLM), best of %d x 100000 cycles: rust %llu ns/cycle, c %llu ns/cycle",
			  rounds, dr, dc);
	}
out:
	kfree(lk);
	kfree(rust);
	kfree(c);
	kfree(ratio);
	return rv;
}

/* ------------------------------------------------------------ debugfs */

/*
 * Commands written to /sys/kernel/debug/gdlm/ctl:
 *   mount CLUSTER:FSNAME [recovery=gaveup|success]
 *   unmount FSNAME
 *   lock FSNAME TYPE NUMBER UN|EX|SH|DF [try] [noexp] [lvb=TEXT]   (TYPE, NUMBER hex)
 *   unlock FSNAME TYPE NUMBER
 *   bench FSNAME CYCLES ROUNDS
 */
static ssize_t gdlm_ctl_write(struct file *file, const char __user *ubuf, size_t len,
			      loff_t *ppos)
{
	char buf[256], *p = buf, *argv[10];
	int argc = 0, rv = -EINVAL, i, success = 1, req;
	struct gdlm_mount *mp;
	u32 type, lmflags = 0;
	u64 number;
	const char *lvb = NULL;
	int n, rounds;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	while (argc < ARRAY_SIZE(argv)) {
		char *t = strsep(&p, " \t\n");

		if (!t)
			break;
		if (*t)
			argv[argc++] = t;
	}
	if (!argc)
		return -EINVAL;
	mutex_lock(&gdlm_ctl_mutex);
	if (!strcmp(argv[0], "mount") && argc >= 2) {
		for (i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "recovery=gaveup"))
				success = 0;
			else if (!strcmp(argv[i], "recovery=success"))
				success = 1;
			else
				goto out;
		}
		rv = gdlm_mount(argv[1], success);
	} else if (!strcmp(argv[0], "unmount") && argc == 2) {
		mp = find_mount(argv[1]);
		rv = -ENOENT;
		if (mp) {
			gdlm_info(mp, "unmount");
			gdlm_release(mp);
			rv = 0;
		}
	} else if ((!strcmp(argv[0], "lock") && argc >= 5) ||
		   (!strcmp(argv[0], "unlock") && argc == 4)) {
		mp = find_mount(argv[1]);
		rv = -ENOENT;
		if (!mp || !mp->mounted)
			goto out;
		rv = -EINVAL;
		if (kstrtou32(argv[2], 16, &type) || kstrtou64(argv[3], 16, &number))
			goto out;
		if (argv[0][0] == 'u') {
			rv = cmd_unlock(mp, type, number);
			goto out;
		}
		req = parse_state(argv[4]);
		if (req < 0)
			goto out;
		for (i = 5; i < argc; i++) {
			if (!strcmp(argv[i], "try"))
				lmflags |= LM_FLAG_TRY;
			else if (!strcmp(argv[i], "noexp"))
				lmflags |= LM_FLAG_NOEXP;
			else if (!strncmp(argv[i], "lvb=", 4))
				lvb = argv[i] + 4;
			else
				goto out;
		}
		rv = cmd_lock(mp, type, number, req, lmflags, lvb);
	} else if (!strcmp(argv[0], "bench") && argc == 4) {
		mp = find_mount(argv[1]);
		rv = -ENOENT;
		if (!mp || !mp->mounted)
			goto out;
		rv = -EINVAL;
		if (kstrtoint(argv[2], 10, &n) || kstrtoint(argv[3], 10, &rounds))
			goto out;
		rv = cmd_bench(mp, n, rounds);
	}
out:
	mutex_unlock(&gdlm_ctl_mutex);
	return rv < 0 ? rv : len;
}

static int gdlm_status_show(struct seq_file *s, void *unused)
{
	struct gdlm_k_info in;
	char txt[GDLM_LVB_SIZE + 1];
	int i, j, k;

	mutex_lock(&gdlm_state_mutex);
	for (i = 0; i < GDLM_MAX_MOUNTS; i++) {
		struct gdlm_mount *mp = &gdlm_mounts[i];
		u32 lvb_gen;

		if (!mp->used || !mp->st)
			continue;
		spin_lock(&mp->spin);
		gdlm_k_info(mp->st, &in);
		spin_unlock(&mp->spin);
		lvb_gen = get_unaligned_le32(mp->control_lvb);
		seq_printf(s, "fsname %s cluster %s recovery=%s mounted %d first %d jid %d blocked %u flags 0x%x block %u start %u mount %u last_done %u recover_dones %u control_lvb_gen %u jids",
			   mp->fsname, mp->cluster, mp->recovery_success ? "success" : "gaveup",
			   mp->mounted, mp->first, in.jid, in.blocked, in.flags, in.block_gen,
			   in.start_gen, in.mount_gen, mp->last_done_gen, mp->recover_dones,
			   lvb_gen);
		for (k = 0, j = 0; j < GDLM_MAX_JIDS; j++)
			if (in.lvb_jids[j >> 3] & (1 << (j & 7)))
				seq_printf(s, "%s%d", k++ ? "," : " ", j);
		seq_puts(s, k ? "\n" : " -\n");
		for (j = 0; j < GDLM_MAX_LOCKS; j++) {
			struct gdlm_glk *lk = &mp->locks[j];

			if (!lk->used)
				continue;
			lvb_text(lk->lvb, txt);
			seq_printf(s, "  lock %s %x,%llx state %s lkid %x lvb '%s'\n", mp->fsname,
				   lk->type, (unsigned long long)lk->number, state_name(lk->state),
				   lk->lksb.sb_lkid, txt);
		}
	}
	mutex_unlock(&gdlm_state_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdlm_status);

static const struct file_operations gdlm_ctl_fops = {
	.owner = THIS_MODULE,
	.write = gdlm_ctl_write,
	.llseek = noop_llseek,
};

static int __init gdlm_init(void)
{
	/* the Rust side's layouts (shim-kernel/src/lib.rs tests check the same) */
	BUILD_BUG_ON(sizeof(struct gdlm_k_call) != 52);
	BUILD_BUG_ON(sizeof(struct gdlm_k_info) != 56);
	gdlm_control_wq = alloc_workqueue("gdlm_control", WQ_UNBOUND | WQ_FREEZABLE, 0);
	gdlm_recovery_wq = alloc_workqueue("gdlm_recovery", WQ_UNBOUND | WQ_FREEZABLE, 0);
	gdlm_demote_wq = alloc_workqueue("gdlm_demote", WQ_UNBOUND, 0);
	if (!gdlm_control_wq || !gdlm_recovery_wq || !gdlm_demote_wq)
		goto fail;
	gdlm_dir = debugfs_create_dir("gdlm", NULL);
	debugfs_create_file("ctl", 0200, gdlm_dir, NULL, &gdlm_ctl_fops);
	debugfs_create_file("status", 0444, gdlm_dir, NULL, &gdlm_status_fops);
	pr_info("gdlm: loaded (gdlm-core state %zu bytes, align %zu)\n", gdlm_k_size(),
		gdlm_k_align());
	return 0;
fail:
	if (gdlm_control_wq)
		destroy_workqueue(gdlm_control_wq);
	if (gdlm_recovery_wq)
		destroy_workqueue(gdlm_recovery_wq);
	if (gdlm_demote_wq)
		destroy_workqueue(gdlm_demote_wq);
	return -ENOMEM;
}

static void __exit gdlm_exit(void)
{
	int i;

	debugfs_remove_recursive(gdlm_dir);
	mutex_lock(&gdlm_ctl_mutex);
	for (i = 0; i < GDLM_MAX_MOUNTS; i++)
		if (gdlm_mounts[i].used)
			gdlm_release(&gdlm_mounts[i]);
	mutex_unlock(&gdlm_ctl_mutex);
	destroy_workqueue(gdlm_control_wq);
	destroy_workqueue(gdlm_recovery_wq);
	destroy_workqueue(gdlm_demote_wq);
	pr_info("gdlm: unloaded\n");
}

module_init(gdlm_init);
module_exit(gdlm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gdlm: GFS2 lock_dlm recovery protocol (gdlm-core in Rust) as a DLM lockspace member");
