// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_bench.c - the in-kernel benchmark: the same DLM cycle (new EX, convert to NL,
 * unlock, with an LVB) with the decisions from gdlm-core's per-glock machine
 * (gdlm_k_glock_*: a new glock per cycle, request, complete, put) and from C alone,
 * interleaved round by round; then the decisions alone.
 *
 * A round is a pair of short blocks (one per path, the order alternating), so drift and
 * noise hit both; the statistic is the median of the per-pair ratios rust/c with a
 * distribution-free 95% interval for that median (the order statistics at ranks
 * j and n+1-j, j = floor((n - 1.96 sqrt(n)) / 2): the sign test's interval). The module is
 * "within 5%" of the C-only cycle when the interval's upper end is at most +5%.
 */
#include <linux/sched.h>
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/math.h>

#include "gdlm.h"

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
		/* the previous cycle's put_lock left the glock dead: a new one */
		rv = c_only ? 0 : glk_reset(lk);
		if (!rv)
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
 * new EX, convert to NL, unlock; through the glock machine or through C. ns per cycle.
 */
static u64 bench_decide(struct gdlm_mount *mp, struct gdlm_k_glock *gl, int c_only, int n)
{
	static const s32 modes[4] = { DLM_LOCK_NL, DLM_LOCK_EX, DLM_LOCK_CW, DLM_LOCK_PR };
	struct gdlm_k_glock_call call;
	struct gdlm_k_glock_done d;
	char name[GDLM_NAME_LEN];
	u32 flags = 0, ret = 0, sink = 0;
	int i;
	s32 mode = 0;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < n; i++) {
		if (c_only) {
			glk_c_name(2, 0xbe4c + (i & 7), name);
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
			s64 now = (s64)i;

			gdlm_k_glock_init(gl, mp->profile, 2, 0xbe4c + (i & 7), 1);
			gdlm_k_glock_request(gl, LM_ST_EXCLUSIVE, 0, now, &call);
			gdlm_k_glock_set_lkid(gl, i + 1);
			gdlm_k_glock_complete(gl, 0, 0, now, &d);
			sink += call.mode + call.flags + d.ret + call.name[23];
			gdlm_k_glock_request(gl, LM_ST_UNLOCKED, 0, now, &call);
			gdlm_k_glock_complete(gl, 0, 0, now, &d);
			sink += call.mode + call.flags + d.ret;
			gdlm_k_glock_put(gl, 0, now, &call);
			gdlm_k_glock_complete(gl, -DLM_EUNLOCK, 0, now, &d);
			sink += d.result;
		}
		barrier_data(&sink);
	}
	return div_u64(ktime_get_ns() - t0, n);
}

/* "+1.23%" from a ratio in 1/10000 (10000 = equal) */
static void pct(char *buf, size_t len, u64 ratio)
{
	long d = (long)ratio - 10000;

	snprintf(buf, len, "%c%ld.%02ld%%", d < 0 ? '-' : '+', abs(d) / 100, abs(d) % 100);
}

/*
 * The 0-based indices of the interval's ends in n sorted values: the ranks j and n+1-j,
 * j = floor((n - 1.96 sqrt(n)) / 2) (at least 1). Shared with the Rust module's benchmark
 * (shim-kernel/rfl/module/gdlm_main.rs, bench_interval).
 */
static void bench_interval(int n, int *lo, int *hi)
{
	long s = int_sqrt((unsigned long)n * 10000); /* 100 sqrt(n) */
	long j = (100L * n - 196 * s / 100) / 200;

	if (j < 1)
		j = 1;
	*lo = j - 1;
	*hi = n - j;
}

int gdlm_cmd_bench(struct gdlm_mount *mp, int n, int rounds)
{
	struct gdlm_glk *lk;
	u64 *rust, *c, *ratio;
	int i, rv = 0, lo, hi;
	long diff_best, diff_med;
	char med_s[16], lo_s[16], hi_s[16];

	if (n < 1 || n > 100000 || rounds < 1 || rounds > GDLM_BENCH_MAX_ROUNDS)
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
		if (!rv && rounds <= 31)
			gdlm_info(mp, "bench round %d: rust %llu ns/cycle, c %llu ns/cycle", i,
				  rust[i], c[i]);
		/* a whole run is tens of seconds under TCG: a non-preemptible 6.1 kernel would
		 * report a soft lockup (seen in kmod-1node) */
		cond_resched();
	}
	mutex_unlock(&lk->m);
	if (rv) {
		gdlm_err(mp, "bench error %d", rv);
		goto out;
	}
	for (i = 0; i < rounds; i++)
		ratio[i] = div64_u64(rust[i] * 10000, max_t(u64, c[i], 1));
	sort(ratio, rounds, sizeof(u64), cmp_u64, NULL);
	bench_interval(rounds, &lo, &hi);
	pct(med_s, sizeof(med_s), ratio[rounds / 2]);
	pct(lo_s, sizeof(lo_s), ratio[lo]);
	pct(hi_s, sizeof(hi_s), ratio[hi]);
	sort(rust, rounds, sizeof(u64), cmp_u64, NULL);
	sort(c, rounds, sizeof(u64), cmp_u64, NULL);
	diff_best = (long)div64_s64(((s64)rust[0] - (s64)c[0]) * 1000, c[0]);
	diff_med = (long)div64_s64(((s64)rust[rounds / 2] - (s64)c[rounds / 2]) * 1000, c[rounds / 2]);
	gdlm_info(mp, "bench %d cycles x %d rounds (lock EX + convert NL + unlock, VALBLK): rust best %llu median %llu ns/cycle; c best %llu median %llu ns/cycle; rust vs c best %c%ld.%ld%% median %c%ld.%ld%%",
		  n, rounds, rust[0], rust[rounds / 2], c[0], c[rounds / 2],
		  diff_best < 0 ? '-' : '+', abs(diff_best) / 10, abs(diff_best) % 10,
		  diff_med < 0 ? '-' : '+', abs(diff_med) / 10, abs(diff_med) % 10);
	gdlm_info(mp, "bench paired: module vs c-only over %d pairs of %d-cycle blocks: median %s, 95%% interval [%s, %s] (ranks %d..%d); within 5%%: %s",
		  rounds, n, med_s, lo_s, hi_s, lo + 1, hi + 1,
		  ratio[hi] <= 10500 ? "yes" : "no");
	/* the decisions alone, 100000 cycles per path, best of the rounds */
	{
		u64 dr = U64_MAX, dc = U64_MAX, v;

		for (i = 0; i < rounds; i++) {
			v = bench_decide(mp, &lk->gl, 0, 100000);
			dr = min(dr, v);
			v = bench_decide(mp, &lk->gl, 1, 100000);
			dc = min(dc, v);
			cond_resched();
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

