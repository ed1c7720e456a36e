// SPDX-License-Identifier: GPL-2.0-only
/*
 * dlmbench: the C baseline for `gdlm-linux-smoke bench`. The same operations through libdlm
 * with the same delivery (poll the lockspace fd, then dlm_dispatch; no libdlm thread):
 *
 *   dlmbench N     N x (EX request + unlock) on one resource, then N x (NL->EX reading the
 *                  LVB, checking the counter, NL writing it) on another; prints
 *                  "BENCH c lock_unlock_us X" and "BENCH c convert_cycle_us Y".
 *
 * Built on the host (ci/realdlm/run: cc -O2 ... -ldlm) and run in the VMs.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libdlm.h>

static int done;

static void ast(void *arg)
{
	(void)arg;
	done = 1;
}

/* Wait (at most 30 s) for the AST of the request just made. */
static int wait_ast(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!done) {
		if (poll(&p, 1, 30000) <= 0)
			return -1;
		dlm_dispatch(fd);
	}
	done = 0;
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Iterations per timed chunk: each loop reports its fastest chunk (a chunk hit by a stall of
 * the emulator or the host is not the code's cost) and its mean. */
#define CHUNK 250

static void chunk_done(int i, double *t, double *best)
{
	if (i % CHUNK == CHUNK - 1) {
		double now = now_us(), per = (now - *t) / CHUNK;

		if (per < *best)
			*best = per;
		*t = now;
	}
}

static int req(dlm_lshandle_t ls, int fd, uint32_t mode, struct dlm_lksb *lksb,
	       uint32_t flags, const char *name)
{
	if (dlm_ls_lock(ls, mode, lksb, flags, name, strlen(name), 0, ast, lksb, NULL, NULL))
		return -errno;
	if (wait_ast(fd))
		return -ETIMEDOUT;
	return lksb->sb_status;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	dlm_lshandle_t ls = dlm_create_lockspace("gdlmbench", 0600);
	struct dlm_lksb lksb;
	char lvb[DLM_LVB_LEN];
	double t, t0, best;
	int fd, rv;

	if (!ls)
		ls = dlm_open_lockspace("gdlmbench");
	if (!ls) {
		perror("BENCH c lockspace");
		return 1;
	}
	fd = dlm_ls_get_fd(ls);

	t = now_us();
	t0 = t;
	best = 1e30;
	for (int i = 0; i < n; i++) {
		memset(&lksb, 0, sizeof(lksb));
		if ((rv = req(ls, fd, LKM_EXMODE, &lksb, 0, "bench-lock"))) {
			printf("BENCH c lock failed %d\n", rv);
			return 1;
		}
		if (dlm_ls_unlock(ls, lksb.sb_lkid, 0, &lksb, &lksb) || wait_ast(fd) ||
		    lksb.sb_status != EUNLOCK) {
			printf("BENCH c unlock failed %d\n", lksb.sb_status);
			return 1;
		}
		chunk_done(i, &t, &best);
	}
	printf("BENCH c lock_unlock_us %.2f\n", best);
	printf("BENCH c lock_unlock_mean_us %.2f\n", (now_us() - t0) / n);

	memset(&lksb, 0, sizeof(lksb));
	memset(lvb, 0, sizeof(lvb));
	lksb.sb_lvbptr = lvb;
	if ((rv = req(ls, fd, LKM_NLMODE, &lksb, LKF_VALBLK, "bench-convert"))) {
		printf("BENCH c NL lock failed %d\n", rv);
		return 1;
	}
	t = now_us();
	t0 = t;
	best = 1e30;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		uint32_t v;

		if ((rv = req(ls, fd, LKM_EXMODE, &lksb, LKF_CONVERT | LKF_VALBLK, "bench-convert"))) {
			printf("BENCH c up-convert failed %d\n", rv);
			return 1;
		}
		memcpy(&v, lvb, sizeof(v));
		if (i > 0 && v != i - 1) {
			printf("BENCH c LVB mismatch at %u: %u\n", i, v);
			return 1;
		}
		memcpy(lvb, &i, sizeof(i));
		if ((rv = req(ls, fd, LKM_NLMODE, &lksb, LKF_CONVERT | LKF_VALBLK, "bench-convert"))) {
			printf("BENCH c down-convert failed %d\n", rv);
			return 1;
		}
		chunk_done((int)i, &t, &best);
	}
	printf("BENCH c convert_cycle_us %.2f\n", best);
	printf("BENCH c convert_cycle_mean_us %.2f\n", (now_us() - t0) / n);
	dlm_ls_unlock(ls, lksb.sb_lkid, 0, &lksb, &lksb);
	wait_ast(fd);
	dlm_release_lockspace("gdlmbench", ls, 1);
	return 0;
}
