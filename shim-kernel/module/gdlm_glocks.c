// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_glocks.c - test glocks of gdlm.ko on gdlm-core's per-glock machine
 * (core::glock::Glock through gdlm_k_glock_*): gdlm_lock (request), gdlm_ast (complete),
 * gdlm_bast (bast, then take_demote in a work item), gdlm_put_lock (put), under the
 * mount's profile. C keeps the lksb, the LVB bytes and the wait for the AST; every
 * lock_dlm decision (name, mode, flags, conversion, outcome, LVB zeroing, the demote's
 * state, put_lock's unlock) is the machine's. Requests wait for their AST (one at a
 * time per lock).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/ctype.h>
#include <linux/ktime.h>

#include "gdlm.h"

const char *gdlm_state_name(int s)
{
	switch (s) {
	case LM_ST_UNLOCKED: return "UN";
	case LM_ST_EXCLUSIVE: return "EX";
	case LM_ST_DEFERRED: return "DF";
	case LM_ST_SHARED: return "SH";
	}
	return "??";
}

int gdlm_parse_state(const char *s)
{
	if (!strcmp(s, "UN")) return LM_ST_UNLOCKED;
	if (!strcmp(s, "EX")) return LM_ST_EXCLUSIVE;
	if (!strcmp(s, "DF")) return LM_ST_DEFERRED;
	if (!strcmp(s, "SH")) return LM_ST_SHARED;
	return -EINVAL;
}

/* The LVB as printable text (up to the first NUL). */
void gdlm_lvb_text(const char *lvb, char *out)
{
	int i;

	for (i = 0; i < GDLM_LVB_SIZE && lvb[i]; i++)
		out[i] = isprint(lvb[i]) ? lvb[i] : '.';
	out[i] = '\0';
}

void glk_c_name(u32 type, u64 number, char *name)
{
	char buf[GDLM_NAME_LEN + 1];

	snprintf(buf, sizeof(buf), "%8x%16llx", type, (unsigned long long)number);
	memcpy(name, buf, GDLM_NAME_LEN);
}

/* gdlm_ast: the glock machine decides; C zeroes the LVB and wakes the requester. */
static void glk_ast(void *arg)
{
	struct gdlm_glk *lk = arg;
	int status = lk->lksb.sb_status;
	struct gdlm_k_glock_done d;
	int r;

	if (lk->c_only) {
		/* the C-only benchmark path: the cases the benchmark meets; gdlm_ast's
		 * gfs2_update_reply_times (lock_dlm.c L120) reads the clock */
		lk->c_stamp = ktime_get_real();
		if (status == -DLM_EUNLOCK) {
			lk->c_state = LM_ST_UNLOCKED;
			lk->ast_rc = 0;
		} else if (status == 0) {
			lk->c_state = lk->c_req;
			lk->ast_rc = 0;
		} else {
			lk->ast_rc = status;
		}
		complete(&lk->done);
		return;
	}
	spin_lock(&lk->sl);
	/* sb_lkid is the DLM's once dlm_lock accepted the request (gdlm_ast reads it there) */
	gdlm_k_glock_set_lkid(&lk->gl, lk->lksb.sb_lkid);
	r = gdlm_k_glock_complete(&lk->gl, status, lk->lksb.sb_flags, ktime_get_ns(), &d);
	spin_unlock(&lk->sl);
	if (r) {
		gdlm_err(lk->mp, "lock %x,%llx completion %d refused %d", lk->type,
			 (unsigned long long)lk->number, status, r);
		lk->ast_rc = -EINVAL;
	} else {
		if (d.lvb_zeroed)
			memset(lk->lvb, 0, GDLM_LVB_SIZE);
		switch (d.result) {
		case GDLM_K_GLOCK_GRANTED:
		case GDLM_K_GLOCK_FREED:
			lk->ast_rc = 0;
			break;
		case GDLM_K_GLOCK_TRY_FAILED:
			lk->ast_rc = -EAGAIN;
			break;
		case GDLM_K_GLOCK_CANCELED:
			lk->ast_rc = -ECANCELED;
			break;
		case GDLM_K_GLOCK_IGNORED:
			lk->ast_rc = -ENODEV;
			break;
		default:
			lk->ast_rc = status ? status : -EIO;
		}
	}
	complete(&lk->done);
}

/* gdlm_bast: the machine records the demote owed; the demote work starts it. */
static void glk_bast(void *arg, int mode)
{
	struct gdlm_glk *lk = arg;
	int r;

	spin_lock(&lk->sl);
	r = gdlm_k_glock_bast(&lk->gl, mode);
	spin_unlock(&lk->sl);
	if (r) {
		gdlm_err(lk->mp, "lock %x,%llx bast mode %d refused %d", lk->type,
			 (unsigned long long)lk->number, mode, r);
		return;
	}
	lk->bast_mode = mode;
	queue_work(gdlm_demote_wq, &lk->demote_work);
}

int glk_state(struct gdlm_glk *lk)
{
	struct gdlm_k_glock_info i;
	int r;

	if (lk->c_only)
		return lk->c_state;
	spin_lock(&lk->sl);
	r = gdlm_k_glock_info(&lk->gl, &i);
	spin_unlock(&lk->sl);
	return r ? r : (int)i.state;
}

u32 glk_lkid(struct gdlm_glk *lk)
{
	struct gdlm_k_glock_info i;
	int r;

	spin_lock(&lk->sl);
	r = gdlm_k_glock_info(&lk->gl, &i);
	spin_unlock(&lk->sl);
	return r ? 0 : i.lkid;
}

/* gdlm_lock + wait for the AST; lk->m held. 0 granted, -EAGAIN try failed. */
int glk_request(struct gdlm_mount *mp, struct gdlm_glk *lk, int req, u32 lmflags)
{
	struct gdlm_k_glock_call call;
	int rv;

	if (lk->c_only) {
		static const s32 modes[4] = { DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR };
		int converting = lk->lksb.sb_lkid != 0;

		/* gdlm_lock's clock reads: gfs2_update_request_times on a conversion (lock_dlm.c
		 * L264), gl_dstamp on every request (L270) */
		if (converting)
			lk->c_stamp = ktime_get_real();
		glk_c_name(lk->type, lk->number, (char *)call.name);
		call.mode = modes[req & 3];
		call.flags = DLM_LKF_VALBLK | (converting ? DLM_LKF_CONVERT : 0);
		lk->c_req = req;
		lk->c_stamp = ktime_get_real();
	} else {
		spin_lock(&lk->sl);
		rv = gdlm_k_glock_request(&lk->gl, req, lmflags, ktime_get_ns(), &call);
		spin_unlock(&lk->sl);
		if (rv) {
			gdlm_err(mp, "lock %x,%llx request refused %d", lk->type,
				 (unsigned long long)lk->number, rv);
			return -EINVAL;
		}
		/* a conversion names the lock by lkid; a new lock gets its own */
		lk->lksb.sb_lkid = call.lkid;
	}
	reinit_completion(&lk->done);
	rv = dlm_lock(mp->dlm, call.mode, &lk->lksb, call.flags, (char *)call.name,
		      GDLM_NAME_LEN, 0, glk_ast, lk, glk_bast);
	if (rv) {
		if (!lk->c_only) {
			spin_lock(&lk->sl);
			gdlm_k_glock_request_failed(&lk->gl);
			spin_unlock(&lk->sl);
		}
		return rv;
	}
	wait_for_completion(&lk->done);
	return lk->ast_rc;
}

/* gdlm_put_lock + wait for the unlock AST; lk->m held. The glock is dead afterwards. */
int glk_unlock(struct gdlm_mount *mp, struct gdlm_glk *lk)
{
	struct gdlm_k_glock_call call;
	int rv;

	if (lk->c_only) {
		if (!lk->lksb.sb_lkid)
			return 0;
		call.lkid = lk->lksb.sb_lkid;
		call.flags = lk->has_lvb ? DLM_LKF_VALBLK : 0;
		lk->c_req = LM_ST_UNLOCKED;
		/* gdlm_put_lock's gfs2_update_request_times (lock_dlm.c L295) */
		lk->c_stamp = ktime_get_real();
	} else {
		spin_lock(&lk->sl);
		rv = gdlm_k_glock_put(&lk->gl, 0, ktime_get_ns(), &call);
		spin_unlock(&lk->sl);
		if (rv) {
			gdlm_err(mp, "lock %x,%llx put refused %d", lk->type,
				 (unsigned long long)lk->number, rv);
			return -EINVAL;
		}
		if (call.op == GDLM_K_OP_NONE)
			return 0;
	}
	reinit_completion(&lk->done);
	rv = dlm_unlock(mp->dlm, call.lkid, call.flags, NULL, lk);
	if (rv) {
		if (!lk->c_only) {
			spin_lock(&lk->sl);
			gdlm_k_glock_request_failed(&lk->gl);
			spin_unlock(&lk->sl);
		}
		return rv;
	}
	wait_for_completion(&lk->done);
	lk->lksb.sb_lkid = 0;
	return lk->ast_rc;
}

/* A BAST: start the demote the machine owes (glock.c's run of the demote), writing the LVB. */
static void glk_demote_func(struct work_struct *w)
{
	struct gdlm_glk *lk = container_of(w, struct gdlm_glk, demote_work);
	struct gdlm_mount *mp = lk->mp;
	char txt[GDLM_LVB_SIZE + 1];
	int old, owed, rv;
	u32 target = 0;

	mutex_lock(&lk->m);
	if (!lk->used || !lk->demote || lk->c_only) {
		mutex_unlock(&lk->m);
		return;
	}
	old = glk_state(lk);
	spin_lock(&lk->sl);
	owed = gdlm_k_glock_take_demote(&lk->gl, &target);
	spin_unlock(&lk->sl);
	if (owed != 1) {
		mutex_unlock(&lk->m);
		return;
	}
	rv = glk_request(mp, lk, target, 0);
	gdlm_lvb_text(lk->lvb, txt);
	gdlm_info(mp, "bast %x,%llx mode %d: demote %s->%s rv %d lvb '%s'", lk->type,
		  (unsigned long long)lk->number, lk->bast_mode, gdlm_state_name(old),
		  gdlm_state_name(glk_state(lk)), rv, txt);
	mutex_unlock(&lk->m);
}

/* A new glock in the cell (after a put, the next cycle's glock). */
int glk_reset(struct gdlm_glk *lk)
{
	int r;

	spin_lock(&lk->sl);
	r = gdlm_k_glock_init(&lk->gl, lk->mp->profile, lk->type, lk->number, lk->has_lvb);
	spin_unlock(&lk->sl);
	lk->lksb.sb_lkid = 0;
	lk->c_state = LM_ST_UNLOCKED;
	return r;
}

void glk_init(struct gdlm_mount *mp, struct gdlm_glk *lk, u32 type, u64 number,
		     int has_lvb)
{
	memset(&lk->lksb, 0, sizeof(lk->lksb));
	memset(lk->lvb, 0, GDLM_LVB_SIZE);
	lk->mp = mp;
	lk->type = type;
	lk->number = number;
	lk->has_lvb = has_lvb;
	lk->lksb.sb_lvbptr = has_lvb ? lk->lvb : NULL;
	lk->ast_rc = 0;
	lk->c_only = 0;
	lk->c_req = LM_ST_UNLOCKED;
	lk->demote = 0;
	spin_lock_init(&lk->sl);
	init_completion(&lk->done);
	mutex_init(&lk->m);
	INIT_WORK(&lk->demote_work, glk_demote_func);
	/* the profile is the mount's (checked by gdlm_k_init), so this cannot fail */
	WARN_ON(glk_reset(lk));
	lk->used = 1;
}

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

int gdlm_cmd_lock(struct gdlm_mount *mp, u32 type, u64 number, int req, u32 lmflags,
		  const char *lvb)
{
	struct gdlm_glk *lk = find_glk(mp, type, number, 1);
	char txt[GDLM_LVB_SIZE + 1];
	int rv;

	if (!lk)
		return -ENOSPC;
	if (!(lmflags & LM_FLAG_NOEXP) &&
	    !wait_event_timeout(mp->wq, !gdlm_locks_blocked(mp), 120 * HZ)) {
		gdlm_err(mp, "lock %x,%llx: still blocked by recovery after 120 s", type,
			 (unsigned long long)number);
		return -ETIMEDOUT;
	}
	mutex_lock(&lk->m);
	rv = glk_request(mp, lk, req, lmflags);
	gdlm_lvb_text(lk->lvb, txt);
	gdlm_info(mp, "lock %x,%llx %s rv %d state %s lvb '%s'", type, (unsigned long long)number,
		  gdlm_state_name(req), rv, gdlm_state_name(glk_state(lk)), txt);
	if (rv == 0 && lvb && glk_state(lk) == LM_ST_EXCLUSIVE) {
		memset(lk->lvb, 0, GDLM_LVB_SIZE);
		strscpy(lk->lvb, lvb, GDLM_LVB_SIZE);
	}
	mutex_unlock(&lk->m);
	return rv;
}

int gdlm_cmd_unlock(struct gdlm_mount *mp, u32 type, u64 number)
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

/* Before the lockspace goes: no demote may run on it. */
void gdlm_glocks_stop(struct gdlm_mount *mp)
{
	int i;

	for (i = 0; i < GDLM_MAX_LOCKS; i++)
		if (mp->locks[i].used)
			cancel_work_sync(&mp->locks[i].demote_work);
}
