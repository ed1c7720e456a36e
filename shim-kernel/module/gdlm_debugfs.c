// SPDX-License-Identifier: GPL-2.0-only
/*
 * gdlm_debugfs.c - gdlm.ko's control surface and module init/exit.
 *
 * /sys/kernel/debug/gdlm/ctl (one command per write; the write returns when it is done):
 *   mount CLUSTER:FSNAME [recovery=gaveup|success] [journals=N] [profile=7.2|reference]
 *   unmount FSNAME
 *   withdraw FSNAME   (the file system withdrew: Event::Withdraw, then the engine's release)
 *   lock FSNAME TYPE NUMBER UN|EX|SH|DF [try] [noexp] [lvb=TEXT]   (TYPE, NUMBER hex)
 *   unlock FSNAME TYPE NUMBER
 *   bench FSNAME CYCLES ROUNDS
 * /sys/kernel/debug/gdlm/status: per mount, the engine's status line and the test locks.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/string.h>

#include "gdlm.h"

/* journals= default: gfs2's jindex stands behind it; the harness's file systems have 3 */
#define GDLM_DEFAULT_JOURNALS 8

static DEFINE_MUTEX(gdlm_ctl_mutex);
struct workqueue_struct *gdlm_pump_wq;
struct workqueue_struct *gdlm_demote_wq;
static struct dentry *gdlm_dir;

void gdlm_glue_panic(const u8 *msg, size_t len)
{
	panic("%.*s", (int)len, msg);
}

static int ctl_mount(int argc, char **argv)
{
	u32 journals = GDLM_DEFAULT_JOURNALS, profile = GDLM_K_PROFILE_LINUX72;
	int i, success = 1;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "recovery=gaveup"))
			success = 0;
		else if (!strcmp(argv[i], "recovery=success"))
			success = 1;
		else if (!strcmp(argv[i], "profile=reference"))
			profile = GDLM_K_PROFILE_REFERENCE;
		else if (!strcmp(argv[i], "profile=7.2"))
			profile = GDLM_K_PROFILE_LINUX72;
		else if (!strncmp(argv[i], "journals=", 9)) {
			if (kstrtou32(argv[i] + 9, 10, &journals))
				return -EINVAL;
		} else
			return -EINVAL;
	}
	return gdlm_mount(argv[1], success, journals, profile);
}

static ssize_t gdlm_ctl_write(struct file *file, const char __user *ubuf, size_t len,
			      loff_t *ppos)
{
	char buf[256], *p = buf, *argv[10];
	int argc = 0, rv = -EINVAL, i, req, n, rounds;
	struct gdlm_mount *mp;
	u32 type, lmflags = 0;
	u64 number;
	const char *lvb = NULL;

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
		rv = ctl_mount(argc, argv);
	} else if (!strcmp(argv[0], "unmount") && argc == 2) {
		mp = gdlm_find_mount(argv[1]);
		rv = -ENOENT;
		if (mp) {
			gdlm_info(mp, "unmount");
			rv = gdlm_unmount(mp);
		}
	} else if (!strcmp(argv[0], "withdraw") && argc == 2) {
		mp = gdlm_find_mount(argv[1]);
		rv = -ENOENT;
		if (mp) {
			gdlm_info(mp, "withdraw");
			rv = gdlm_withdraw(mp);
		}
	} else if ((!strcmp(argv[0], "lock") && argc >= 5) ||
		   (!strcmp(argv[0], "unlock") && argc == 4)) {
		mp = gdlm_find_mount(argv[1]);
		rv = -ENOENT;
		if (!mp || !mp->mounted)
			goto out;
		rv = -EINVAL;
		if (kstrtou32(argv[2], 16, &type) || kstrtou64(argv[3], 16, &number))
			goto out;
		if (argv[0][0] == 'u') {
			rv = gdlm_cmd_unlock(mp, type, number);
			goto out;
		}
		req = gdlm_parse_state(argv[4]);
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
		rv = gdlm_cmd_lock(mp, type, number, req, lmflags, lvb);
	} else if (!strcmp(argv[0], "bench") && argc == 4) {
		mp = gdlm_find_mount(argv[1]);
		rv = -ENOENT;
		if (!mp || !mp->mounted)
			goto out;
		rv = -EINVAL;
		if (kstrtoint(argv[2], 10, &n) || kstrtoint(argv[3], 10, &rounds))
			goto out;
		rv = gdlm_cmd_bench(mp, n, rounds);
	}
out:
	mutex_unlock(&gdlm_ctl_mutex);
	return rv < 0 ? rv : len;
}

static int gdlm_status_show(struct seq_file *s, void *unused)
{
	char line[640], txt[GDLM_LVB_SIZE + 1];
	int i, j;

	mutex_lock(&gdlm_state_mutex);
	for (i = 0; i < GDLM_MAX_MOUNTS; i++) {
		struct gdlm_mount *mp = &gdlm_mounts[i];

		if (!mp->used || !mp->st)
			continue;
		spin_lock(&mp->spin);
		gdlm_k_status(mp->st, (u8 *)line, sizeof(line));
		spin_unlock(&mp->spin);
		seq_printf(s, "fsname %s cluster %s recovery=%s %s last_done %u recover_dones %u\n",
			   mp->fsname, mp->cluster, mp->recovery_success ? "success" : "gaveup", line,
			   mp->last_done_gen, mp->recover_dones);
		for (j = 0; j < GDLM_MAX_LOCKS; j++) {
			struct gdlm_glk *lk = &mp->locks[j];

			if (!lk->used)
				continue;
			gdlm_lvb_text(lk->lvb, txt);
			seq_printf(s, "  lock %s %x,%llx state %s lkid %x lvb '%s'\n", mp->fsname,
				   lk->type, (unsigned long long)lk->number,
				   gdlm_state_name(glk_state(lk)), glk_lkid(lk), txt);
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
	BUILD_BUG_ON(sizeof(struct gdlm_k_lock_ref) != 8);
	BUILD_BUG_ON(sizeof(struct gdlm_k_action) != 240);
	BUILD_BUG_ON(sizeof(struct gdlm_k_table) != 2 * GDLM_K_TABLE_NAME_LEN);
	BUILD_BUG_ON(sizeof(struct gdlm_k_glock) != 8 + 8 * GDLM_K_GLOCK_WORDS);
	BUILD_BUG_ON(sizeof(struct gdlm_k_glock_call) != 16 + GDLM_K_NAME_LEN);
	BUILD_BUG_ON(sizeof(struct gdlm_k_glock_done) != 16);
	BUILD_BUG_ON(sizeof(struct gdlm_k_glock_info) != 24);
	gdlm_pump_wq = alloc_workqueue("gdlm_pump", WQ_UNBOUND | WQ_FREEZABLE | WQ_MEM_RECLAIM, 0);
	gdlm_demote_wq = alloc_workqueue("gdlm_demote", WQ_UNBOUND, 0);
	if (!gdlm_pump_wq || !gdlm_demote_wq)
		goto fail;
	gdlm_dir = debugfs_create_dir("gdlm", NULL);
	debugfs_create_file("ctl", 0200, gdlm_dir, NULL, &gdlm_ctl_fops);
	debugfs_create_file("status", 0444, gdlm_dir, NULL, &gdlm_status_fops);
	pr_info("gdlm: loaded (gdlm-core engine state %zu bytes, align %zu)\n", gdlm_k_size(),
		gdlm_k_align());
	return 0;
fail:
	if (gdlm_pump_wq)
		destroy_workqueue(gdlm_pump_wq);
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
			gdlm_unmount(&gdlm_mounts[i]);
	mutex_unlock(&gdlm_ctl_mutex);
	destroy_workqueue(gdlm_pump_wq);
	destroy_workqueue(gdlm_demote_wq);
	pr_info("gdlm: unloaded\n");
}

module_init(gdlm_init);
module_exit(gdlm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gdlm: GFS2 lock_dlm (gdlm-core's engine in Rust) as a DLM lockspace member");
