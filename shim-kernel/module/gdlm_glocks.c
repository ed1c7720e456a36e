// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_glocks.c - glock-style test locks of gdlm.ko: gdlm_lock (gdlm_k_lock_request),
 * gdlm_ast (gdlm_k_ast), gdlm_bast (gdlm_k_bast_state) with a demote, gdlm_put_lock.
 * Each lock has its lksb and LVB; requests wait for their AST (one at a time per lock).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/ctype.h>

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

/* gdlm_ast */
static void glk_ast(void *arg)
{
	struct gdlm_glk *lk = arg;
	int status = lk->lksb.sb_status;
	u32 ret = 0, lkid = 0;
	int gi = 0, z = 0, r;

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
int glk_request(struct gdlm_mount *mp, struct gdlm_glk *lk, int req, u32 lmflags)
{
	char name[GDLM_NAME_LEN];
	int converting = lk->lksb.sb_lkid != 0;
	s32 mode;
	u32 flags;
	int rv;

	if (lk->c_only) {
		static const s32 modes[4] = { DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR };

		glk_c_name(lk->type, lk->number, name);
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
int glk_unlock(struct gdlm_mount *mp, struct gdlm_glk *lk)
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
	gdlm_lvb_text(lk->lvb, txt);
	gdlm_info(mp, "bast %x,%llx mode %d: demote %s->%s rv %d lvb '%s'", lk->type,
		  (unsigned long long)lk->number, lk->bast_mode, gdlm_state_name(old),
		  gdlm_state_name(lk->state), rv, txt);
	mutex_unlock(&lk->m);
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
		  gdlm_state_name(req), rv, gdlm_state_name(lk->state), txt);
	if (rv == 0 && lvb && lk->state == LM_ST_EXCLUSIVE) {
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
