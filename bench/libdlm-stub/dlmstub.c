// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stand-in for libdlm's lock calls, preloaded (LD_PRELOAD) under callgrind on a host
 * without the kernel DLM: every request completes at once through a pipe, so the C
 * baseline (ci/realdlm/src/dlmbench.c) and gdlm-linux (`gdlm-linux-smoke bench`) run
 * their real code paths (request, poll, dlm_dispatch, AST) and the instructions each
 * spends *in user space* can be compared exactly. The stub's own work is the same for
 * both, so differences are the caller's. LVB rules: a down-conversion from PW/EX with
 * VALBLK stores the lock's LVB in the resource, a grant with VALBLK copies it out.
 *
 * Built with -DDLMSTUB_TEST (gdlmd's tests; the benchmark builds without it, so its code is
 * unchanged) it also stores a new lock's id into sb_lkid when the request is made (as libdlm
 * does after its write() returns), and supports LKF_CANCEL: a request whose completion has not
 * been dispatched yet completes with ECANCEL instead (a first request then ends, a conversion
 * leaves the lock in its mode before it); with nothing to cancel the call succeeds and no AST
 * comes (dlm_user_cancel ignores -EBUSY). It has two switches, read from the environment
 * before main:
 *   DLMSTUB_THREADS=1    a mutex around the stub's state (requests written from one thread,
 *                        dlm_dispatch on another: gdlmd's submit thread);
 *   DLMSTUB_BLOCK=PATH   while PATH exists, dlm_ls_lock and dlm_ls_unlock block before
 *                        doing anything, as the kernel's write() does while the lockspace
 *                        is stopped for recovery (dlm_user_request -> dlm_lock_recovery);
 *   DLMSTUB_BLOCK_LS=PATH  while PATH exists, dlm_create_lockspace and
 *                        dlm_release_lockspace block, as they do while dlm_controld adds or
 *                        removes this node.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

struct dlm_lksb {
	int sb_status;
	uint32_t sb_lkid;
	char sb_flags;
	char *sb_lvbptr;
};

#define LKF_NOQUEUE 0x00000001
#define LKF_VALBLK 0x00000008
#define LKF_CONVERT 0x00000004
#define LKF_CANCEL 0x00000002
#define EUNLOCK 0x10002
#define ECANCEL 0x10001
#define MAXR 8
#define MAXL 64

struct res { char name[64]; unsigned namelen; char lvb[32]; };
struct lk { int used; int mode; struct res *r;
#ifdef DLMSTUB_TEST
	int prev; /* the mode before the pending request (-1: a first request) */
#endif
};
struct pend { struct dlm_lksb *lksb; void (*ast)(void *); void *arg; int status; uint32_t lkid; int copy_out; struct res *r; };

static struct res res[MAXR];
static unsigned nres;
static struct lk locks[MAXL];
static struct pend q[MAXL];
static unsigned qh, qt;
static int fds[2] = { -1, -1 };
static int ls_token;

#ifdef DLMSTUB_TEST
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static int cfg_threads;
static const char *cfg_block, *cfg_block_ls;
static FILE *cfg_log;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void cfg(void)
{
	const char *t = getenv("DLMSTUB_THREADS");
	cfg_threads = t && *t == '1';
	cfg_block = getenv("DLMSTUB_BLOCK");
	cfg_block_ls = getenv("DLMSTUB_BLOCK_LS");
	const char *l = getenv("DLMSTUB_LOG");
	if (l)
		cfg_log = fopen(l, "w");
}

/* DLMSTUB_LOG: one line per call ("lock|convert MODE FLAGS NAME", "unlock LKID") */
#define LOGF(...) do { if (cfg_log) { fprintf(cfg_log, __VA_ARGS__); fflush(cfg_log); } } while (0)

/* The DLM's compatibility of two granted modes (NL 0 .. EX 5), for NOQUEUE. */
static int compat(int a, int b)
{
	static const unsigned char m[6][6] = {
		{ 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1, 0 }, { 1, 1, 1, 0, 0, 0 },
		{ 1, 1, 0, 1, 0, 0 }, { 1, 1, 0, 0, 0, 0 }, { 1, 0, 0, 0, 0, 0 },
	};
	return a < 0 || b < 0 || m[a][b];
}

static void block_ls(void)
{
	if (cfg_block_ls)
		while (access(cfg_block_ls, F_OK) == 0)
			usleep(10000);
}

static void enter(void)
{
	if (cfg_block)
		while (access(cfg_block, F_OK) == 0)
			usleep(10000);
	if (cfg_threads)
		pthread_mutex_lock(&mu);
}

static void leave(void)
{
	if (cfg_threads)
		pthread_mutex_unlock(&mu);
}
#define ENTER() enter()
#define LOCKED() do { if (cfg_threads) pthread_mutex_lock(&mu); } while (0)
#define LEAVE() leave()
#else
#define LOGF(...) do { } while (0)
#define ENTER() do { } while (0)
#define LOCKED() do { } while (0)
#define LEAVE() do { } while (0)
#define block_ls() do { } while (0)
#endif

void *dlm_create_lockspace(const char *name, unsigned mode)
{
	(void)name; (void)mode;
	block_ls();
	if (fds[0] < 0 && pipe(fds))
		return NULL;
	return &ls_token;
}

void *dlm_open_lockspace(const char *name) { return dlm_create_lockspace(name, 0); }
int dlm_release_lockspace(const char *name, void *ls, int force) { (void)name; (void)ls; (void)force; block_ls(); return 0; }
int dlm_close_lockspace(void *ls) { (void)ls; return 0; }
int dlm_ls_get_fd(void *ls) { (void)ls; return fds[0]; }

static struct res *find_res(const void *name, unsigned len)
{
	for (unsigned i = 0; i < nres; i++)
		if (res[i].namelen == len && !memcmp(res[i].name, name, len))
			return &res[i];
	if (nres == MAXR || len > 64)
		return NULL;
	memcpy(res[nres].name, name, len);
	res[nres].namelen = len;
	return &res[nres++];
}

static int queue(struct dlm_lksb *lksb, void (*ast)(void *), void *arg, int status,
		 uint32_t lkid, int copy_out, struct res *r)
{
	q[qt % MAXL] = (struct pend){ lksb, ast, arg, status, lkid, copy_out, r };
	qt++;
	return write(fds[1], "x", 1) == 1 ? 0 : -1;
}

static int ls_lock(void *ls, uint32_t mode, struct dlm_lksb *lksb, uint32_t flags,
		const void *name, unsigned namelen, uint32_t parent,
		void (*ast)(void *), void *astarg, void (*bast)(void *), void *range)
{
	(void)ls; (void)parent; (void)bast; (void)range;
	uint32_t id;
	if (flags & LKF_CONVERT) {
		id = lksb->sb_lkid;
		if (id == 0 || id > MAXL || !locks[id - 1].used) { errno = EINVAL; return -1; }
	} else {
		for (id = 1; id <= MAXL && locks[id - 1].used; id++)
			;
		if (id > MAXL) { errno = ENOMEM; return -1; }
		locks[id - 1] = (struct lk){ 1, -1, find_res(name, namelen) };
		if (!locks[id - 1].r) { errno = EINVAL; return -1; }
	}
	struct lk *l = &locks[id - 1];
	int valblk = (flags & LKF_VALBLK) && lksb->sb_lvbptr;
	/* PW = 4, EX = 5: a down-conversion from them writes the LVB. */
	if (valblk && l->mode >= 4 && (int)mode < l->mode)
		memcpy(l->r->lvb, lksb->sb_lvbptr, 32);
	int up = valblk && (int)mode > l->mode && !(l->mode >= 4 && (int)mode < l->mode);
#ifdef DLMSTUB_TEST
	LOGF("%s %u %#x %.*s\n", (flags & LKF_CONVERT) ? "convert" : "lock", mode, flags,
	     (flags & LKF_CONVERT) ? 1 : (int)namelen, (flags & LKF_CONVERT) ? "-" : (const char *)name);
	/* NOQUEUE against a granted lock of another handle in a conflicting mode: -EAGAIN; a
	 * first request ends, a conversion keeps its mode. */
	if (flags & LKF_NOQUEUE)
		for (unsigned j = 0; j < MAXL; j++)
			if (j != id - 1 && locks[j].used && locks[j].r == l->r &&
			    !compat(locks[j].mode, (int)mode)) {
				if (!(flags & LKF_CONVERT)) {
					l->used = 0;
					lksb->sb_lkid = id;
				}
				return queue(lksb, ast, astarg, -EAGAIN, id, 0, l->r);
			}
	l->prev = l->mode;
	if (!(flags & LKF_CONVERT))
		lksb->sb_lkid = id;
#endif
	l->mode = mode;
	return queue(lksb, ast, astarg, 0, id, up, l->r);
}

#ifdef DLMSTUB_TEST
/* LKF_CANCEL: the lock's request still waiting for dispatch completes with ECANCEL. */
static int ls_cancel(uint32_t lkid, struct dlm_lksb *lksb, void *astarg)
{
	if (lkid == 0 || lkid > MAXL || !locks[lkid - 1].used) { errno = ENOENT; return -1; }
	for (unsigned i = qh; i != qt; i++) {
		struct pend *p = &q[i % MAXL];
		if (p->lkid != lkid || p->status != 0)
			continue;
		struct lk *l = &locks[lkid - 1];
		p->status = ECANCEL;
		p->copy_out = 0;
		p->lksb = lksb;
		p->arg = astarg;
		if (l->prev < 0)
			l->used = 0;
		l->mode = l->prev;
		return 0;
	}
	return 0;
}
#endif

static int ls_unlock(void *ls, uint32_t lkid, uint32_t flags, struct dlm_lksb *lksb, void *astarg)
{
	(void)ls; (void)flags;
#ifdef DLMSTUB_TEST
	if (flags & LKF_CANCEL)
		return ls_cancel(lkid, lksb, astarg);
#endif
	LOGF("unlock %u\n", lkid);
	if (lkid == 0 || lkid > MAXL || !locks[lkid - 1].used) { errno = EINVAL; return -1; }
	locks[lkid - 1].used = 0;
	/* The AST of an unlock goes to the lock's original AST routine: the callers here use
	 * the same one for both, which the stub takes from the pending entry of the lock. */
	void (*ast)(void *) = NULL;
	for (unsigned i = qh; i != qt; i++)
		if (q[i % MAXL].lkid == lkid) ast = q[i % MAXL].ast;
	extern void (*dlmstub_last_ast[MAXL])(void *);
	if (!ast) ast = dlmstub_last_ast[lkid - 1];
	return queue(lksb, ast, astarg, EUNLOCK, lkid, 0, NULL);
}

void (*dlmstub_last_ast[MAXL])(void *);

int dlm_ls_lock(void *ls, uint32_t mode, struct dlm_lksb *lksb, uint32_t flags,
		const void *name, unsigned namelen, uint32_t parent,
		void (*ast)(void *), void *astarg, void (*bast)(void *), void *range)
{
	ENTER();
	int rv = ls_lock(ls, mode, lksb, flags, name, namelen, parent, ast, astarg, bast, range);
	LEAVE();
	return rv;
}

int dlm_ls_unlock(void *ls, uint32_t lkid, uint32_t flags, struct dlm_lksb *lksb, void *astarg)
{
	ENTER();
	int rv = ls_unlock(ls, lkid, flags, lksb, astarg);
	LEAVE();
	return rv;
}

int dlm_dispatch(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1)
		return -1;
	LOCKED();
	if (qh == qt) {
		LEAVE();
		return -1;
	}
	struct pend p = q[qh % MAXL];
	qh++;
	p.lksb->sb_status = p.status;
	p.lksb->sb_lkid = p.lkid;
	p.lksb->sb_flags = 0;
	if (p.copy_out && p.r)
		memcpy(p.lksb->sb_lvbptr, p.r->lvb, 32);
	if (p.status == 0)
		dlmstub_last_ast[p.lkid - 1] = p.ast;
	LEAVE();
	if (p.ast)
		p.ast(p.arg);
	return 0;
}
