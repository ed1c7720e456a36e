// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_lockspace.c - the pump between the kernel DLM and gdlm-core's engine.
 *
 * The engine (gdlm_kernel.o) decides everything fs/gfs2/lock_dlm.c and gfs2's journal
 * recovery decide: the lockspace flags, control_mount with its retry sleep, the own
 * journal lock, the first mounter's pass, control_first_done, the control step on
 * every recover_done, journal recovery with TRY and the HZ retry, the release option.
 * This file only moves data: every DLM callback (AST, recover_prep/slot/done) and
 * every result becomes a gdlm_k_handle() under mp->spin (ls_recover_spin); the pump
 * (a delayed work item) drains gdlm_k_poll() and performs each action outside the
 * lock, and re-arms itself for gdlm_k_poll_timeout().
 *
 * A "replay" never writes a disk. recovery=gaveup (a lockspace shared with GFS2
 * nodes): another node's journal is never claimed: the replay fails (-EROFS), so the
 * engine reports LM_RD_GAVEUP and retries after HZ until a GFS2 node has replayed it
 * and cleared its bit; our own journal was never written, so it is clean. recovery=
 * success (module-only lockspaces): each journal lock carries an LVB standing in for
 * the journal (the module's disk): a holder that died leaves it invalid (VALNOTVALID)
 * or, seen by a recoverer, not "gdlm-journal-clean": "dirty", replayed (held
 * GDLM_REPLAY_MS as a replay holds the lock) and marked clean, written back by the
 * engine's unlock.
 *
 * The DLM keeps a resource's LVB only while some lock exists on it: the last unlock frees
 * it (fs/dlm/lock.c deactivate_rsb, 7.2.13 L1462: res_lvbptr freed; set_lvb_lock L1911
 * then leaves a new lock's LVB untouched, without VALNOTVALID). The replayer's EX unlock
 * with VALBLK does write "clean" (set_lvb_unlock L1945), but when no other node held a
 * lock on that journal the write was gone 75 ms later and the second survivor replayed
 * again (kmod-cluster3-72, session 4). So every node anchors each journal resource with
 * an NL lock for as long as it is in the lockspace (the stand-in disk outlives a replayer's
 * unlock, and a holder that dies leaves VALNOTVALID: dlm_recover_purge/recover_lvb); the
 * release drops them with the lockspace.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/jiffies.h>
#include <linux/sched/signal.h>

#include "gdlm.h"

#define GDLM_JOURNAL_CLEAN "gdlm-journal-clean"
#define GDLM_REPLAY_MS 300

struct gdlm_mount gdlm_mounts[GDLM_MAX_MOUNTS];
/* held by the status reader and while a mount's state is allocated or freed */
DEFINE_MUTEX(gdlm_state_mutex);

static u64 gdlm_now_ms(void)
{
	return jiffies64_to_msecs(get_jiffies_64());
}

/* gdlm_k_handle under the spinlock, then run the pump. */
static int gdlm_event(struct gdlm_mount *mp, const struct gdlm_k_event *ev)
{
	int rv;

	spin_lock(&mp->spin);
	rv = gdlm_k_handle(mp->st, ev, gdlm_now_ms());
	if (!rv)
		mod_delayed_work(gdlm_pump_wq, &mp->pump, 0);
	spin_unlock(&mp->spin);
	if (rv)
		gdlm_err(mp, "event %u refused %d", ev->kind, rv);
	return rv;
}

int gdlm_locks_blocked(struct gdlm_mount *mp)
{
	int b;

	spin_lock(&mp->spin);
	b = gdlm_k_locks_blocked(mp->st);
	spin_unlock(&mp->spin);
	return b;
}

/* ------------------------------------------------------------ DLM callbacks */

static void gdlm_elock_ast(void *arg)
{
	struct gdlm_elock *lk = arg;
	struct gdlm_k_event ev = {
		.kind = GDLM_K_EV_DLM_DONE,
		.lock = lk->ref,
		.status = lk->lksb.sb_status,
		.sb_flags = lk->lksb.sb_flags,
	};

	if (lk->ref.kind == GDLM_K_LOCK_CONTROL) {
		ev.has_lvb = 1;
		memcpy(ev.lvb, lk->lvb, GDLM_LVB_SIZE);
	}
	gdlm_event(lk->mp, &ev);
}

static void gdlm_recover_prep(void *arg)
{
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_RECOVER_PREP };

	gdlm_event(arg, &ev);
}

static void gdlm_recover_slot(void *arg, struct dlm_slot *slot)
{
	struct gdlm_mount *mp = arg;
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_RECOVER_SLOT, .slot = slot->slot };

	gdlm_info(mp, "recover_slot nodeid %d slot %d", slot->nodeid, slot->slot);
	gdlm_event(mp, &ev);
}

static void gdlm_recover_done(void *arg, struct dlm_slot *slots, int num_slots, int our_slot,
			      uint32_t generation)
{
	struct gdlm_mount *mp = arg;
	struct gdlm_k_event ev = {
		.kind = GDLM_K_EV_RECOVER_DONE,
		.slots = (const struct gdlm_k_slot *)slots,
		.nslots = num_slots,
		.slot = our_slot,
		.generation = generation,
	};

	gdlm_info(mp, "recover_done generation %u slots %d our_slot %d", generation, num_slots,
		  our_slot);
	gdlm_event(mp, &ev);
	mp->recover_dones++;
	wake_up(&mp->wq);
}

static const struct dlm_lockspace_ops gdlm_lockspace_ops = {
	.recover_prep = gdlm_recover_prep,
	.recover_slot = gdlm_recover_slot,
	.recover_done = gdlm_recover_done,
};

/* ------------------------------------------------------------ actions */

static struct gdlm_elock *gdlm_elock(struct gdlm_mount *mp, const struct gdlm_k_lock_ref *r)
{
	switch (r->kind) {
	case GDLM_K_LOCK_CONTROL:
		return &mp->control_lock;
	case GDLM_K_LOCK_MOUNTED:
		return &mp->mounted_lock;
	case GDLM_K_LOCK_JOURNAL:
		return r->jid < GDLM_K_MAX_JIDS ? &mp->journal[r->jid] : NULL;
	}
	return NULL;
}

/* an anchor's completion: NL is compatible with every mode, so it only fails if the
 * lockspace goes; nothing to tell the engine (the anchors are the stand-in disk's) */
static void gdlm_anchor_ast(void *arg)
{
	struct dlm_lksb *lksb = arg;

	if (lksb->sb_status)
		pr_err("gdlm: journal anchor lock status %d\n", lksb->sb_status);
}

/* recovery=success: an NL lock on every journal's resource (see the top of the file) */
static void take_anchors(struct gdlm_mount *mp)
{
	u8 name[GDLM_NAME_LEN];
	u32 j;
	int rv;

	for (j = 0; j < mp->journals && j < GDLM_K_MAX_JIDS; j++) {
		struct gdlm_k_lock_ref ref = { .kind = GDLM_K_LOCK_JOURNAL, .jid = j };

		if (gdlm_k_lock_name(&ref, name))
			break;
		rv = dlm_lock(mp->dlm, DLM_LOCK_NL, &mp->anchor[j], 0, (void *)name,
			      GDLM_NAME_LEN, 0, gdlm_anchor_ast, &mp->anchor[j], NULL);
		if (rv)
			gdlm_err(mp, "journal anchor %u: dlm_lock error %d", j, rv);
	}
	gdlm_info(mp, "journal anchors %u (NL)", j);
}

static void do_new_lockspace(struct gdlm_mount *mp, u32 flags)
{
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_LOCKSPACE_JOINED };
	int ops_result = -1, error;

	error = dlm_new_lockspace(mp->fsname, mp->cluster, flags, GDLM_LVB_SIZE,
				  &gdlm_lockspace_ops, mp, &ops_result, &mp->dlm);
	if (error) {
		mp->dlm = NULL;
		ev.kind = GDLM_K_EV_LOCKSPACE_FAILED;
		ev.status = error;
	} else if (ops_result < 0) {
		/* no recover_done will come: the engine fails the mount (jid preset) */
		gdlm_err(mp, "dlm lockspace ops not used");
	} else if (!wait_event_timeout(mp->wq, mp->recover_dones > 0, 60 * HZ)) {
		/*
		 * The engine takes the first recover_done before LockspaceJoined, as
		 * dlm_new_lockspace usually delivers it; on 6.1 a join of a lockspace with
		 * other members can return first (seen in kmod-cluster3), so the join is
		 * reported once the first recover_done was handled.
		 */
		gdlm_err(mp, "no recover_done within 60 s of dlm_new_lockspace");
	}
	if (!error && mp->recovery_success)
		take_anchors(mp);
	gdlm_event(mp, &ev);
}

static void do_dlm(struct gdlm_mount *mp, const struct gdlm_k_action *a)
{
	struct gdlm_elock *lk = gdlm_elock(mp, &a->lock);
	/* the journal lock's LVB is the module's stand-in for the journal (recovery=success) */
	u32 disk = a->lock.kind == GDLM_K_LOCK_JOURNAL && mp->recovery_success ? DLM_LKF_VALBLK : 0;
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_DLM_DONE, .lock = a->lock };
	int rv;

	if (!lk) {
		gdlm_err(mp, "dlm call for lock %u,%u: no such lock", a->lock.kind, a->lock.jid);
		return;
	}
	if (a->op == GDLM_K_OP_UNLOCK) {
		rv = dlm_unlock(mp->dlm, lk->lksb.sb_lkid, disk, &lk->lksb, lk);
	} else {
		if (a->write_lvb)
			memcpy(lk->lvb, a->lvb, GDLM_LVB_SIZE);
		rv = dlm_lock(mp->dlm, a->mode, &lk->lksb, a->flags | disk, (void *)a->name,
			      GDLM_NAME_LEN, 0, gdlm_elock_ast, lk, NULL);
	}
	if (rv) {
		/* failed at once: that is its completion */
		gdlm_err(mp, "dlm %s lock %u,%u mode %d flags %x error %d",
			 a->op == GDLM_K_OP_UNLOCK ? "unlock" : "lock", a->lock.kind, a->lock.jid,
			 a->mode, a->flags, rv);
		ev.status = rv;
		gdlm_event(mp, &ev);
	}
}

static void gdlm_replay_func(struct work_struct *w)
{
	struct gdlm_mount *mp = container_of(to_delayed_work(w), struct gdlm_mount, replay_work);
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_REPLAY_DONE, .jid = mp->replay_jid };

	gdlm_event(mp, &ev);
}

static void do_replay(struct gdlm_mount *mp, const struct gdlm_k_action *a)
{
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_REPLAY_DONE, .jid = a->jid };
	struct gdlm_elock *lk = &mp->journal[a->jid % GDLM_K_MAX_JIDS];
	char txt[GDLM_LVB_SIZE + 1];
	int dirty;

	if (a->own)
		gdlm_info(mp, "jid=%u, already locked for use", a->jid);
	if (!mp->recovery_success) {
		if (a->reason != GDLM_K_REPLAY_OWN) {
			gdlm_info(mp, "jid=%u: would replay: giving up (recovery=gaveup, the module never writes the disk)",
				  a->jid);
			ev.status = -EROFS;
		}
		gdlm_event(mp, &ev);
		return;
	}
	dirty = (lk->lksb.sb_flags & DLM_SBF_VALNOTVALID) ||
		(a->reason == GDLM_K_REPLAY_RECOVERY &&
		 memcmp(lk->lvb, GDLM_JOURNAL_CLEAN, sizeof(GDLM_JOURNAL_CLEAN)));
	gdlm_lvb_text(lk->lvb, txt);
	if (!dirty) {
		gdlm_info(mp, "jid=%u: Looking at journal... clean (lvb '%s')", a->jid, txt);
		gdlm_event(mp, &ev);
		return;
	}
	gdlm_info(mp, "jid=%u: Looking at journal... dirty (lvb '%s' sb_flags 0x%x)", a->jid, txt,
		  lk->lksb.sb_flags);
	gdlm_info(mp, "jid=%u: Replaying journal... (no disk: nothing to write)", a->jid);
	memset(lk->lvb, 0, GDLM_LVB_SIZE);
	memcpy(lk->lvb, GDLM_JOURNAL_CLEAN, sizeof(GDLM_JOURNAL_CLEAN));
	/* a replay holds the journal lock a while; a survivor trying meanwhile is Busy */
	mp->replay_jid = a->jid;
	queue_delayed_work(gdlm_pump_wq, &mp->replay_work, msecs_to_jiffies(GDLM_REPLAY_MS));
}

static void do_release(struct gdlm_mount *mp, u32 option)
{
	int rv = 0;

	if (mp->dlm) {
		/* the engine's option: DLM_RELEASE_NORMAL, or 7.2's DLM_RELEASE_RECOVER (4) after
		 * a withdraw, so that the other nodes recover our journal */
		gdlm_info(mp, "release option %u", option);
		rv = dlm_release_lockspace(mp->dlm, option);
		gdlm_info(mp, "dlm_release_lockspace %d", rv);
	}
	mp->dlm = NULL;
	mp->released = 1;
	wake_up(&mp->wq);
}

static void gdlm_perform(struct gdlm_mount *mp, const struct gdlm_k_action *a)
{
	switch (a->kind) {
	case GDLM_K_ACT_NEW_LOCKSPACE:
		do_new_lockspace(mp, a->flags);
		break;
	case GDLM_K_ACT_DLM:
		do_dlm(mp, a);
		break;
	case GDLM_K_ACT_REPLAY:
		do_replay(mp, a);
		break;
	case GDLM_K_ACT_MOUNTED:
		mp->jid = a->jid;
		mp->first = a->first;
		if (a->first)
			gdlm_info(mp, "first mount done, others may mount");
		gdlm_info(mp, "mounted jid %u first %u recovery=%s", a->jid, a->first,
			  mp->recovery_success ? "success" : "gaveup");
		mp->mounted = 1;
		wake_up(&mp->wq);
		break;
	case GDLM_K_ACT_MOUNT_FAILED:
		gdlm_err(mp, "mount failed: reason %u error %d jid %u", a->reason, a->error, a->jid);
		mp->mount_error = a->error < 0 ? a->error : -EIO;
		mp->failed = 1;
		if (a->reason == GDLM_K_MOUNT_FAIL_LOCKSPACE)
			mp->released = 1; /* nothing joined, nothing to release */
		wake_up(&mp->wq);
		break;
	case GDLM_K_ACT_UNBLOCKED:
		mp->last_done_gen = a->generation;
		wake_up(&mp->wq);
		break;
	case GDLM_K_ACT_RELEASE:
		do_release(mp, a->flags);
		break;
	case GDLM_K_ACT_LOG:
		if (a->level == GDLM_K_LEVEL_ERR)
			gdlm_err(mp, "%s", a->text);
		else
			gdlm_info(mp, "%s", a->text);
		break;
	default:
		gdlm_err(mp, "unknown action %u", a->kind);
	}
}

/*
 * The pump: drain the actions, run what is due, re-arm for the next timeout. Arming
 * happens under mp->spin, as every event's kick does, so a kick is never overtaken.
 */
static void gdlm_pump_func(struct work_struct *w)
{
	struct gdlm_mount *mp = container_of(to_delayed_work(w), struct gdlm_mount, pump);
	struct gdlm_k_action a;
	u64 now, at;
	int n;

	for (n = 0; n < 10000; n++) {
		spin_lock(&mp->spin);
		if (gdlm_k_poll(mp->st, &a) == 1) {
			spin_unlock(&mp->spin);
			gdlm_perform(mp, &a);
			continue;
		}
		now = gdlm_now_ms();
		if (gdlm_k_poll_timeout(mp->st, &at) == 1) {
			if (at <= now) {
				gdlm_k_handle_timeout(mp->st, now);
				spin_unlock(&mp->spin);
				continue;
			}
			mod_delayed_work(gdlm_pump_wq, &mp->pump, msecs_to_jiffies(at - now));
		}
		spin_unlock(&mp->spin);
		return;
	}
	/* not quiet after that many steps: come back in a jiffy rather than spin */
	spin_lock(&mp->spin);
	mod_delayed_work(gdlm_pump_wq, &mp->pump, 1);
	spin_unlock(&mp->spin);
}

/* ------------------------------------------------------------ mount / unmount */

struct gdlm_mount *gdlm_find_mount(const char *fsname)
{
	int i;

	for (i = 0; i < GDLM_MAX_MOUNTS; i++)
		if (gdlm_mounts[i].used && !strcmp(gdlm_mounts[i].fsname, fsname))
			return &gdlm_mounts[i];
	return NULL;
}

static void gdlm_elock_init(struct gdlm_mount *mp, struct gdlm_elock *lk, u32 kind, u32 jid,
			    int has_lvb)
{
	lk->mp = mp;
	lk->ref.kind = kind;
	lk->ref.jid = jid;
	lk->lksb.sb_lvbptr = has_lvb ? lk->lvb : NULL;
}

static void gdlm_free(struct gdlm_mount *mp)
{
	cancel_delayed_work_sync(&mp->replay_work);
	cancel_delayed_work_sync(&mp->pump);
	mutex_lock(&gdlm_state_mutex);
	if (mp->st) {
		gdlm_k_destroy(mp->st);
		kfree(mp->st);
	}
	memset(mp, 0, sizeof(*mp));
	mutex_unlock(&gdlm_state_mutex);
}

int gdlm_mount(const char *table, int recovery_success, u32 journals, u32 profile)
{
	struct gdlm_k_table t;
	struct gdlm_k_event ev = { .kind = GDLM_K_EV_MOUNT, .journals = journals };
	struct gdlm_mount *mp = NULL;
	struct gdlm_k_state *st;
	int i, rv;

	BUILD_BUG_ON(sizeof(struct dlm_slot) != sizeof(struct gdlm_k_slot));
	BUILD_BUG_ON(offsetof(struct dlm_slot, slot) != offsetof(struct gdlm_k_slot, slot));
	rv = gdlm_k_parse_table((const u8 *)table, strlen(table), &t);
	if (rv) {
		pr_err("gdlm: lock table '%s' refused %d\n", table, rv);
		return -EINVAL;
	}
	if (gdlm_k_align() > ARCH_KMALLOC_MINALIGN)
		return -EINVAL;
	if (gdlm_find_mount((const char *)t.fsname))
		return -EEXIST;
	for (i = 0; i < GDLM_MAX_MOUNTS; i++)
		if (!gdlm_mounts[i].used) {
			mp = &gdlm_mounts[i];
			break;
		}
	if (!mp)
		return -EBUSY;
	st = kzalloc(gdlm_k_size(), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	rv = gdlm_k_init(st, profile);
	if (rv) {
		kfree(st);
		return -EINVAL;
	}
	mutex_lock(&gdlm_state_mutex);
	memset(mp, 0, sizeof(*mp));
	memcpy(mp->cluster, t.cluster, sizeof(mp->cluster));
	memcpy(mp->fsname, t.fsname, sizeof(mp->fsname));
	mp->recovery_success = recovery_success;
	mp->profile = profile;
	mp->journals = journals;
	spin_lock_init(&mp->spin);
	INIT_DELAYED_WORK(&mp->pump, gdlm_pump_func);
	INIT_DELAYED_WORK(&mp->replay_work, gdlm_replay_func);
	init_waitqueue_head(&mp->wq);
	gdlm_elock_init(mp, &mp->control_lock, GDLM_K_LOCK_CONTROL, 0, 1);
	gdlm_elock_init(mp, &mp->mounted_lock, GDLM_K_LOCK_MOUNTED, 0, 0);
	for (i = 0; i < GDLM_K_MAX_JIDS; i++)
		gdlm_elock_init(mp, &mp->journal[i], GDLM_K_LOCK_JOURNAL, i, recovery_success);
	mp->st = st;
	mp->used = 1;
	mutex_unlock(&gdlm_state_mutex);

	gdlm_info(mp, "Trying to join cluster \"lock_dlm\", \"%s\" recovery=%s journals %u", table,
		  recovery_success ? "success" : "gaveup", journals);
	if (gdlm_event(mp, &ev)) {
		gdlm_free(mp);
		return -EINVAL;
	}
	/* control_mount may wait for the others (500 ms retries, the engine's timer) */
	if (wait_event_interruptible_timeout(mp->wq, mp->mounted || mp->failed, 120 * HZ) <= 0 &&
	    !mp->mounted && !mp->failed) {
		struct gdlm_k_event intr = { .kind = GDLM_K_EV_INTERRUPT };

		gdlm_err(mp, "mount interrupted or not done in 120 s");
		gdlm_event(mp, &intr);
		wait_event_timeout(mp->wq, mp->mounted || mp->failed, 30 * HZ);
	}
	if (mp->mounted)
		return 0;
	if (!mp->failed || !wait_event_timeout(mp->wq, mp->released, 60 * HZ)) {
		gdlm_err(mp, "mount neither done nor failed: state kept");
		return -ETIMEDOUT;
	}
	rv = mp->mount_error;
	gdlm_free(mp);
	return rv;
}

/* A clean unmount (GDLM_K_EV_UNMOUNT) or a withdraw (GDLM_K_EV_WITHDRAW: gfs2_withdraw's
 * lm_unmount(sdp, false)); the engine chooses the release option. */
static int gdlm_leave(struct gdlm_mount *mp, u32 kind)
{
	struct gdlm_k_event ev = { .kind = kind };

	gdlm_glocks_stop(mp);
	if (mp->mounted && !mp->released && gdlm_event(mp, &ev))
		return -EBUSY;
	if (!wait_event_timeout(mp->wq, mp->released, 60 * HZ)) {
		gdlm_err(mp, "unmount: no release within 60 s");
		return -ETIMEDOUT;
	}
	gdlm_free(mp);
	return 0;
}

int gdlm_unmount(struct gdlm_mount *mp)
{
	return gdlm_leave(mp, GDLM_K_EV_UNMOUNT);
}

int gdlm_withdraw(struct gdlm_mount *mp)
{
	return gdlm_leave(mp, GDLM_K_EV_WITHDRAW);
}
