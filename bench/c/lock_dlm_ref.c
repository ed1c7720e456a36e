// SPDX-License-Identifier: GPL-2.0-only
/*
 * lock_dlm_ref.c -- a C transcription of the benchmarked functions of the
 * reference (fs/gfs2/lock_dlm.c, v3.10-v3.16, as in shared/reference/lock_dlm.c
 * with the missing lines of shared/reference/NOTES.md filled in), over plain C
 * data: no kernel headers, the kernel types and helpers it needs are defined
 * here. Kernel calls that leave the computation (gfs2_glock_complete,
 * gfs2_glock_free, dlm_lock, gfs2_recover_set, gfs2_glock_thaw, printk) are
 * replaced by recording what they would have been given.
 *
 * Build with -O2 -fwrapv: the kernel is built with -fno-strict-overflow, so
 * its s64 arithmetic wraps (gfs2_update_stats relies on it for extreme
 * samples), and right shifts of negative values are arithmetic (GCC/Clang).
 *
 * Copyright (C) Sistina Software, Inc. 1997-2003 All rights reserved.
 * Copyright 2004-2011 Red Hat, Inc.
 */

#include <stdint.h>
#include <string.h>

typedef int64_t s64;
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint32_t __le32;

/* ---- constants (include/linux/dlmconstants.h, fs/gfs2/glock.h, incore.h) ---- */

#define DLM_LOCK_IV -1
#define DLM_LOCK_NL 0
#define DLM_LOCK_CR 1
#define DLM_LOCK_CW 2
#define DLM_LOCK_PR 3
#define DLM_LOCK_PW 4
#define DLM_LOCK_EX 5

#define DLM_LKF_NOQUEUE 0x00000001
#define DLM_LKF_CONVERT 0x00000004
#define DLM_LKF_VALBLK 0x00000008
#define DLM_LKF_QUECVT 0x00000010
#define DLM_LKF_NOQUEUEBAST 0x00000800
#define DLM_LKF_HEADQUE 0x00001000
#define DLM_LKF_NOORDER 0x00002000
#define DLM_LKF_ALTPR 0x00008000
#define DLM_LKF_ALTCW 0x00010000

#define DLM_ECANCEL 0x10001
#define DLM_EUNLOCK 0x10002
#define EAGAIN 11
#define EINVAL 22
#define EDEADLK 35
#define ETIMEDOUT 110

#define DLM_SBF_DEMOTED 0x01
#define DLM_SBF_VALNOTVALID 0x02
#define DLM_SBF_ALTMODE 0x04

#define LM_ST_UNLOCKED 0
#define LM_ST_EXCLUSIVE 1
#define LM_ST_DEFERRED 2
#define LM_ST_SHARED 3

#define LM_FLAG_TRY 0x0001
#define LM_FLAG_TRY_1CB 0x0002
#define LM_FLAG_NOEXP 0x0004
#define LM_FLAG_ANY 0x0008
#define LM_FLAG_PRIORITY 0x0010

#define LM_OUT_ERROR 0x04
#define LM_OUT_CANCELED 0x08

#define LM_RD_GAVEUP 308
#define LM_RD_SUCCESS 309

#define GLF_INITIAL 10
#define GLF_BLOCKING 15

#define DFL_BLOCK_LOCKS 0

#define GDLM_STRNAME_BYTES 25
#define GDLM_LVB_SIZE 32
#define JID_BITMAP_OFFSET 8 /* 4 byte generation number + 4 byte unused */
#define REF_MAX_JIDS 192

/* ---- the kernel helpers used (non-atomic is enough: one thread) ---- */

static inline int test_bit(int nr, const unsigned long *addr)
{
	return 1UL & (*addr >> nr);
}

static inline void set_bit(int nr, unsigned long *addr)
{
	*addr |= 1UL << nr;
}

static inline void clear_bit(int nr, unsigned long *addr)
{
	*addr &= ~(1UL << nr);
}

/* little-endian bit numbering over a byte buffer (x86: test_bit on the bytes) */
static inline int test_bit_le(int nr, const void *addr)
{
	const unsigned char *p = addr;
	return 1 & (p[nr >> 3] >> (nr & 7));
}

static inline void __set_bit_le(int nr, void *addr)
{
	unsigned char *p = addr;
	p[nr >> 3] |= (unsigned char)(1U << (nr & 7));
}

static inline void __clear_bit_le(int nr, void *addr)
{
	unsigned char *p = addr;
	p[nr >> 3] &= (unsigned char)~(1U << (nr & 7));
}

#define abs64(x) ({ s64 __x = (x); (__x < 0) ? -__x : __x; })
#define le32_to_cpu(x) ((u32)(x)) /* x86-64 */
#define cpu_to_le32(x) ((__le32)(x))

static const char hex_asc[] = "0123456789abcdef";

/* ---- plain C data standing in for the kernel structures ---- */

struct lm_lockname {
	u64 ln_number;
	unsigned int ln_type;
};

struct dlm_lksb {
	int sb_status;
	u32 sb_lkid;
	char sb_flags;
	char *sb_lvbptr;
};

struct gfs2_lkstats {
	s64 stats[8];
};

/* what the AST hands to gfs2_glock_complete / gfs2_glock_free */
enum ref_ast_action { REF_AST_NONE = 0, REF_AST_COMPLETE = 1, REF_AST_FREE = 2 };
enum ref_bug { REF_OK = 0, REF_BUG_DEMOTED = 1, REF_BUG_STATUS = 2, REF_BUG_ALTMODE = 3, REF_BUG_ANY = 4 };

struct gfs2_glock {
	unsigned long gl_flags;
	unsigned int gl_state;
	unsigned int gl_req;
	struct dlm_lksb gl_lksb;
	char gl_lvb[GDLM_LVB_SIZE];
	int gl_action;        /* enum ref_ast_action */
	unsigned int gl_ret;  /* argument of gfs2_glock_complete */
};

struct lm_lockstruct {
	unsigned long ls_recover_flags;
	u32 ls_recover_block;
	u32 ls_recover_start;
	u32 ls_recover_size;
	u32 ls_recover_submit[REF_MAX_JIDS];
	u32 ls_recover_result[REF_MAX_JIDS];
	char ls_control_lvb[GDLM_LVB_SIZE];
	char ls_lvb_bits[GDLM_LVB_SIZE];
};

enum ref_control_exit {
	REF_CONTROL_BLOCK1 = 1,
	REF_CONTROL_RECOVER_SET = 2,
	REF_CONTROL_DONE = 3,
	REF_CONTROL_BLOCK2 = 4,
};

struct ref_control_out {
	int exit;            /* enum ref_control_exit */
	u32 lvb_gen;
	int write_lvb;
	u32 nl_flags;        /* flags of the control_lock NL conversion */
	u32 recover_count;   /* gfs2_recover_set calls */
	u32 recover_jids[REF_MAX_JIDS];
};

/* ---- gfs2_update_stats (L45-51, index++ at L50) ---- */

static inline void gfs2_update_stats(struct gfs2_lkstats *s, unsigned index,
				     s64 sample)
{
	s64 delta = sample - s->stats[index];
	s->stats[index] += (delta >> 3);
	index++;
	s->stats[index] += ((abs64(delta) - s->stats[index]) >> 2);
}

void ref_update_stats(struct gfs2_lkstats *s, unsigned index, s64 sample)
{
	gfs2_update_stats(s, index, sample);
}

/* ---- gdlm_ast (L115-161) without the reply-time stats update (L120) ---- */

int ref_gdlm_ast(struct gfs2_glock *gl)
{
	unsigned ret = gl->gl_state;

	if (gl->gl_lksb.sb_flags & DLM_SBF_DEMOTED)
		return REF_BUG_DEMOTED; /* BUG_ON */

	if ((gl->gl_lksb.sb_flags & DLM_SBF_VALNOTVALID) && gl->gl_lksb.sb_lvbptr)
		memset(gl->gl_lksb.sb_lvbptr, 0, GDLM_LVB_SIZE);

	switch (gl->gl_lksb.sb_status) {
	case -DLM_EUNLOCK: /* Unlocked, so glock can be freed */
		gl->gl_action = REF_AST_FREE; /* gfs2_glock_free(gl) */
		return REF_OK;
	case -DLM_ECANCEL: /* Cancel while getting lock */
		ret |= LM_OUT_CANCELED;
		goto out;
	case -EAGAIN: /* Try lock fails */
	case -EDEADLK: /* Deadlock detected */
		goto out;
	case -ETIMEDOUT: /* Canceled due to timeout */
		ret |= LM_OUT_ERROR;
		goto out;
	case 0: /* Success */
		break;
	default: /* Something unexpected */
		return REF_BUG_STATUS; /* BUG() */
	}

	ret = gl->gl_req;
	if (gl->gl_lksb.sb_flags & DLM_SBF_ALTMODE) {
		if (gl->gl_req == LM_ST_SHARED)
			ret = LM_ST_DEFERRED;
		else if (gl->gl_req == LM_ST_DEFERRED)
			ret = LM_ST_SHARED;
		else
			return REF_BUG_ALTMODE; /* BUG() */
	}

	set_bit(GLF_INITIAL, &gl->gl_flags);
	gl->gl_action = REF_AST_COMPLETE; /* gfs2_glock_complete(gl, ret) */
	gl->gl_ret = ret;
	return REF_OK;
out:
	if (!test_bit(GLF_INITIAL, &gl->gl_flags))
		gl->gl_lksb.sb_lkid = 0;
	gl->gl_action = REF_AST_COMPLETE; /* gfs2_glock_complete(gl, ret) */
	gl->gl_ret = ret;
	return REF_OK;
}

/* ---- make_flags (L203-239), v3.12 ---- */

static inline int make_flags(const struct gfs2_glock *gl, const unsigned int gfs_flags,
			     const int req, u32 *out)
{
	u32 lkf = 0;

	if (gl->gl_lksb.sb_lvbptr)
		lkf |= DLM_LKF_VALBLK;

	if (gfs_flags & LM_FLAG_TRY)
		lkf |= DLM_LKF_NOQUEUE;

	if (gfs_flags & LM_FLAG_TRY_1CB) {
		lkf |= DLM_LKF_NOQUEUE;
		lkf |= DLM_LKF_NOQUEUEBAST;
	}

	if (gfs_flags & LM_FLAG_PRIORITY) {
		lkf |= DLM_LKF_NOORDER;
		lkf |= DLM_LKF_HEADQUE;
	}

	if (gfs_flags & LM_FLAG_ANY) {
		if (req == DLM_LOCK_PR)
			lkf |= DLM_LKF_ALTCW;
		else if (req == DLM_LOCK_CW)
			lkf |= DLM_LKF_ALTPR;
		else
			return REF_BUG_ANY; /* BUG() */
	}

	if (gl->gl_lksb.sb_lkid != 0) {
		lkf |= DLM_LKF_CONVERT;
		if (test_bit(GLF_BLOCKING, &gl->gl_flags))
			lkf |= DLM_LKF_QUECVT;
	}

	*out = lkf;
	return REF_OK;
}

int ref_make_flags(const struct gfs2_glock *gl, unsigned int gfs_flags, int req, u32 *lkf)
{
	return make_flags(gl, gfs_flags, req, lkf);
}

/* ---- gfs2_reverse_hex (L242-248, *c = '0' at L244) and the name of gdlm_lock (L257-269) ---- */

static inline void gfs2_reverse_hex(char *c, u64 value)
{
	*c = '0';
	while (value) {
		*c-- = hex_asc[value & 0x0f];
		value >>= 4;
	}
}

void ref_lock_name(char *strname, const struct lm_lockname *name)
{
	memset(strname, ' ', GDLM_STRNAME_BYTES - 1);
	strname[GDLM_STRNAME_BYTES - 1] = '\0';
	gfs2_reverse_hex(strname + 7, name->ln_type);
	gfs2_reverse_hex(strname + 23, name->ln_number);
}

/* ---- control_lvb_read / control_lvb_write (L466-481) over ls_control_lvb ---- */

static inline void control_lvb_read(struct lm_lockstruct *ls, uint32_t *lvb_gen,
				    char *lvb_bits)
{
	__le32 gen;
	memcpy(lvb_bits, ls->ls_control_lvb, GDLM_LVB_SIZE);
	memcpy(&gen, lvb_bits, sizeof(__le32));
	*lvb_gen = le32_to_cpu(gen);
}

static inline void control_lvb_write(struct lm_lockstruct *ls, uint32_t lvb_gen,
				     char *lvb_bits)
{
	__le32 gen;
	memcpy(ls->ls_control_lvb, lvb_bits, GDLM_LVB_SIZE);
	gen = cpu_to_le32(lvb_gen);
	memcpy(ls->ls_control_lvb, &gen, sizeof(__le32));
}

/* The same two functions with the LVB given alone (the lock struct reduced to
 * its ls_control_lvb), for benchmarking them on their own. */
struct ref_lvb_ls {
	char ls_control_lvb[GDLM_LVB_SIZE];
};

void ref_control_lvb_read(const struct ref_lvb_ls *ls, uint32_t *lvb_gen, char *lvb_bits)
{
	__le32 gen;
	memcpy(lvb_bits, ls->ls_control_lvb, GDLM_LVB_SIZE);
	memcpy(&gen, lvb_bits, sizeof(__le32));
	*lvb_gen = le32_to_cpu(gen);
}

/* control_lvb_read of an LVB handed over from outside as (pointer, length), as a shim
 * gets an untrusted buffer: refused with -EINVAL unless it is GDLM_LVB_SIZE bytes (the
 * kernel trusts the DLM's buffer and checks nothing), then read as above. The C
 * counterpart of the Rust slice path's length check. */
int ref_control_lvb_read_checked(const char *raw, size_t len, uint32_t *lvb_gen,
				 char *lvb_bits)
{
	__le32 gen;

	if (len != GDLM_LVB_SIZE)
		return -EINVAL;
	memcpy(lvb_bits, raw, GDLM_LVB_SIZE);
	memcpy(&gen, lvb_bits, sizeof(__le32));
	*lvb_gen = le32_to_cpu(gen);
	return 0;
}

void ref_control_lvb_write(struct ref_lvb_ls *ls, uint32_t lvb_gen, const char *lvb_bits)
{
	__le32 gen;
	memcpy(ls->ls_control_lvb, lvb_bits, GDLM_LVB_SIZE);
	gen = cpu_to_le32(lvb_gen);
	memcpy(ls->ls_control_lvb, &gen, sizeof(__le32));
}

/*
 * ---- gfs2_control_func, middle part (L632-749) ----
 *
 * Entered after control_lock EX was granted with ls_control_lvb; block_gen and
 * start_gen were read at L600-601, ls_recover_block/start are the values seen
 * at L635 and L740 (no callback runs in between). Both control_lock NL calls
 * succeed.
 */
void ref_control_step(struct lm_lockstruct *ls, uint32_t block_gen, uint32_t start_gen,
		      struct ref_control_out *out)
{
	uint32_t lvb_gen, flags;
	int recover_set = 0;
	int write_lvb = 0;
	int recover_size;
	int i;

	out->recover_count = 0;
	out->write_lvb = 0;

	control_lvb_read(ls, &lvb_gen, ls->ls_lvb_bits);
	out->lvb_gen = lvb_gen;

	/* spin_lock(&ls->ls_recover_spin); */
	if (block_gen != ls->ls_recover_block ||
	    start_gen != ls->ls_recover_start) {
		/* spin_unlock; control_lock(sdp, DLM_LOCK_NL, DLM_LKF_CONVERT); */
		out->nl_flags = DLM_LKF_CONVERT;
		out->exit = REF_CONTROL_BLOCK1;
		return;
	}

	recover_size = ls->ls_recover_size;

	if (lvb_gen <= start_gen) {
		/*
		 * Clear lvb bits for jids we've successfully recovered.
		 */
		for (i = 0; i < recover_size; i++) {
			if (ls->ls_recover_result[i] != LM_RD_SUCCESS)
				continue;

			ls->ls_recover_result[i] = 0;

			if (!test_bit_le(i, ls->ls_lvb_bits + JID_BITMAP_OFFSET))
				continue;

			__clear_bit_le(i, ls->ls_lvb_bits + JID_BITMAP_OFFSET);
			write_lvb = 1;
		}
	}

	if (lvb_gen == start_gen) {
		/*
		 * Failed slots before start_gen are already set in lvb.
		 */
		for (i = 0; i < recover_size; i++) {
			if (!ls->ls_recover_submit[i])
				continue;
			if (ls->ls_recover_submit[i] < lvb_gen)
				ls->ls_recover_submit[i] = 0;
		}
	} else if (lvb_gen < start_gen) {
		/*
		 * Failed slots before start_gen are not yet set in lvb.
		 */
		for (i = 0; i < recover_size; i++) {
			if (!ls->ls_recover_submit[i])
				continue;
			if (ls->ls_recover_submit[i] < start_gen) {
				ls->ls_recover_submit[i] = 0;
				__set_bit_le(i, ls->ls_lvb_bits + JID_BITMAP_OFFSET);
			}
		}
		/* even if there are no bits to set, we need to write the
		   latest generation to the lvb */
		write_lvb = 1;
	} else {
		/*
		 * we should be getting a recover_done() for lvb_gen soon
		 */
	}
	/* spin_unlock(&ls->ls_recover_spin); */

	if (write_lvb) {
		control_lvb_write(ls, start_gen, ls->ls_lvb_bits);
		flags = DLM_LKF_CONVERT | DLM_LKF_VALBLK;
	} else {
		flags = DLM_LKF_CONVERT;
	}
	out->write_lvb = write_lvb;
	out->nl_flags = flags;

	/* error = control_lock(sdp, DLM_LOCK_NL, flags); -- succeeds */

	/*
	 * Everyone will see jid bits set in the lvb, run gfs2_recover_set(),
	 * and clear a jid bit in the lvb if the recovery is a success.
	 */
	for (i = 0; i < recover_size; i++) {
		if (test_bit_le(i, ls->ls_lvb_bits + JID_BITMAP_OFFSET)) {
			/* gfs2_recover_set(sdp, i); */
			out->recover_jids[out->recover_count++] = (u32)i;
			recover_set++;
		}
	}

	if (recover_set) {
		out->exit = REF_CONTROL_RECOVER_SET;
		return;
	}

	/*
	 * No more jid bits set in lvb, all recovery is done, unblock locks
	 */
	/* spin_lock(&ls->ls_recover_spin); */
	if (ls->ls_recover_block == block_gen &&
	    ls->ls_recover_start == start_gen) {
		clear_bit(DFL_BLOCK_LOCKS, &ls->ls_recover_flags);
		/* spin_unlock; gfs2_glock_thaw(sdp); */
		out->exit = REF_CONTROL_DONE;
		return;
	}
	/* spin_unlock */
	out->exit = REF_CONTROL_BLOCK2;
}

/*
 * ---- one recovery cycle: what engine_cycle does, in the reference's terms ----
 *
 * gdlm_recover_prep (L1069-1085), gdlm_recover_done with set_recover_size
 * (L1114-1137, L1009-1053; the arrays are already large enough), the queued
 * control work run once: gfs2_control_func L585-611, control_lock EX with the
 * LVB (L626), the middle above (ref_control_step), control_lock NL (L709) and the
 * thaw (L742-744). Each control_lock is sync_lock (L518-546) over a one-node DLM
 * stand-in that grants at once and keeps the resource's LVB, as the Rust
 * benchmark's stand-in does: the name is built as gdlm_lock builds it
 * (ref_lock_name; sync_lock's snprintf would cost several times more), the
 * completion (sync_wait_cb) stores the status and wakes the waiter.
 */

#define DFL_FIRST_MOUNT 2
#define DFL_MOUNT_DONE 4
#define DFL_UNMOUNT 5
#define DFL_DLM_RECOVERY 6
#define LM_TYPE_NONDISK 1
#define GFS2_CONTROL_LOCK 4
#define RECOVER_SIZE_INC 16

struct dlm_slot {
	int nodeid;
	int slot;
	u32 generation;
};

struct ref_cycle {
	struct lm_lockstruct ls;
	struct dlm_lksb ls_control_lksb;
	u32 ls_recover_mount;
	int ls_jid;
	int work_queued;      /* queue_delayed_work(gfs2_control_wq, ..., 0) */
	int sync_done;        /* ls_sync_wait */
	u32 thawed;           /* gfs2_glock_thaw calls */
	char name[GDLM_STRNAME_BYTES];
	/* the stand-in DLM's resource */
	char res_lvb[GDLM_LVB_SIZE];
	int res_ex;
};

/* sync_wait_cb (L511-516): complete(&ls->ls_sync_wait) */
static void sync_wait_cb(struct ref_cycle *c)
{
	c->sync_done = 1;
}

/* the DLM: grant the request at once; an LVB goes back to the resource on a
 * down-conversion from EX and is read from it into the lksb on every VALBLK call */
static __attribute__((noinline)) int ref_dlm_lock(struct ref_cycle *c, int mode,
						  struct dlm_lksb *lksb, u32 flags,
						  const char *name)
{
	(void)name;
	if (flags & DLM_LKF_VALBLK) {
		if (c->res_ex && mode != DLM_LOCK_EX)
			memcpy(c->res_lvb, lksb->sb_lvbptr, GDLM_LVB_SIZE);
		memcpy(lksb->sb_lvbptr, c->res_lvb, GDLM_LVB_SIZE);
	}
	c->res_ex = mode == DLM_LOCK_EX;
	lksb->sb_status = 0;
	sync_wait_cb(c);
	return 0;
}

static int sync_lock(struct ref_cycle *c, int mode, uint32_t flags, unsigned int num,
		     struct dlm_lksb *lksb)
{
	struct lm_lockname n = { .ln_number = num, .ln_type = LM_TYPE_NONDISK };
	int error, status;

	ref_lock_name(c->name, &n);
	c->sync_done = 0;
	error = ref_dlm_lock(c, mode, lksb, flags, c->name);
	if (error)
		return error;
	/* wait_for_completion(&ls->ls_sync_wait) */
	if (!c->sync_done)
		return -1;
	status = lksb->sb_status;
	if (status && status != -EAGAIN)
		return status;
	return 0;
}

static int control_lock(struct ref_cycle *c, int mode, uint32_t flags)
{
	return sync_lock(c, mode, flags, GFS2_CONTROL_LOCK, &c->ls_control_lksb);
}

static void set_recover_size(struct ref_cycle *c, struct dlm_slot *slots, int num_slots)
{
	struct lm_lockstruct *ls = &c->ls;
	u32 old_size, new_size;
	int i, max_jid = 0;

	for (i = 0; i < num_slots; i++) {
		if (max_jid < slots[i].slot - 1)
			max_jid = slots[i].slot - 1;
	}
	old_size = ls->ls_recover_size;
	if (old_size >= (u32)(max_jid + 1))
		return;
	new_size = old_size + RECOVER_SIZE_INC;
	if (new_size > REF_MAX_JIDS)
		new_size = REF_MAX_JIDS;
	/* the fixed arrays are already that large, and zero beyond old_size */
	ls->ls_recover_size = new_size;
}

static void gdlm_recover_prep(struct ref_cycle *c)
{
	struct lm_lockstruct *ls = &c->ls;

	ls->ls_recover_block = ls->ls_recover_start;
	set_bit(DFL_DLM_RECOVERY, &ls->ls_recover_flags);
	if (!test_bit(DFL_MOUNT_DONE, &ls->ls_recover_flags) ||
	    test_bit(DFL_FIRST_MOUNT, &ls->ls_recover_flags))
		return;
	set_bit(DFL_BLOCK_LOCKS, &ls->ls_recover_flags);
}

static void gdlm_recover_done(struct ref_cycle *c, struct dlm_slot *slots, int num_slots,
			      int our_slot, uint32_t generation)
{
	struct lm_lockstruct *ls = &c->ls;

	set_recover_size(c, slots, num_slots);
	ls->ls_recover_start = generation;
	if (!c->ls_recover_mount) {
		c->ls_recover_mount = generation;
		c->ls_jid = our_slot - 1;
	}
	if (!test_bit(DFL_UNMOUNT, &ls->ls_recover_flags))
		c->work_queued = 1;
	clear_bit(DFL_DLM_RECOVERY, &ls->ls_recover_flags);
	/* wake_up_bit: nobody waits */
}

static void gfs2_control_func(struct ref_cycle *c)
{
	struct lm_lockstruct *ls = &c->ls;
	struct ref_control_out out;
	uint32_t block_gen, start_gen;

	if (!test_bit(DFL_MOUNT_DONE, &ls->ls_recover_flags) ||
	    test_bit(DFL_FIRST_MOUNT, &ls->ls_recover_flags))
		return;
	block_gen = ls->ls_recover_block;
	start_gen = ls->ls_recover_start;
	if (block_gen == start_gen)
		return;
	if (control_lock(c, DLM_LOCK_EX, DLM_LKF_CONVERT | DLM_LKF_VALBLK))
		return;
	ref_control_step(ls, block_gen, start_gen, &out);
	if (out.exit == REF_CONTROL_BLOCK1) {
		control_lock(c, DLM_LOCK_NL, DLM_LKF_CONVERT);
		return;
	}
	if (control_lock(c, DLM_LOCK_NL, out.nl_flags))
		return;
	if (out.exit == REF_CONTROL_DONE)
		c->thawed++; /* gfs2_glock_thaw(sdp) */
}

/* the size of struct ref_cycle, for the Rust side's allocation */
unsigned long ref_cycle_size(void)
{
	return sizeof(struct ref_cycle);
}

/* a node mounted as jid 1 at generation 2 (slots 1 and 2), as the Rust bench node */
void ref_cycle_init(struct ref_cycle *c)
{
	struct dlm_slot slots[2] = { { 1, 1, 0 }, { 2, 2, 0 } };

	memset(c, 0, sizeof(*c));
	c->ls_control_lksb.sb_lvbptr = c->ls.ls_control_lvb;
	c->res_lvb[0] = 2;
	set_bit(DFL_MOUNT_DONE, &c->ls.ls_recover_flags);
	gdlm_recover_done(c, slots, 2, 2, 2);
	c->work_queued = 0;
}

/* one cycle: another node's join (nothing to recover); returns the thaw count */
u32 ref_engine_cycle(struct ref_cycle *c, u32 generation)
{
	struct dlm_slot slots[2] = { { 1, 1, generation }, { 2, 2, generation } };

	gdlm_recover_prep(c);
	gdlm_recover_done(c, slots, 2, 2, generation);
	if (c->work_queued) {
		c->work_queued = 0;
		gfs2_control_func(c);
	}
	return c->thawed;
}
