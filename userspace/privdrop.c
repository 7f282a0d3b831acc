/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c - the switch to the -Z user and the capability cut
 * (privdrop.h).
 *
 * Owns: resolving the -Z user, the order of the switch (bounding set while
 * CAP_SETPCAP is still held, keep-caps, groups, gid, uid, the kept
 * capabilities, no_new_privs) and the checks that it took. Plain
 * capget/capset and prctl: no libcap. Does not own what is opened before
 * (run.c, the sources) nor the choice of the kept set (run.c).
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define PRIVDROP_CAP_MAX 64

static const char *const cap_name[] = {
	"cap_chown",
	"cap_dac_override",
	"cap_dac_read_search",
	"cap_fowner",
	"cap_fsetid",
	"cap_kill",
	"cap_setgid",
	"cap_setuid",
	"cap_setpcap",
	"cap_linux_immutable",
	"cap_net_bind_service",
	"cap_net_broadcast",
	"cap_net_admin",
	"cap_net_raw",
	"cap_ipc_lock",
	"cap_ipc_owner",
	"cap_sys_module",
	"cap_sys_rawio",
	"cap_sys_chroot",
	"cap_sys_ptrace",
	"cap_sys_pacct",
	"cap_sys_admin",
	"cap_sys_boot",
	"cap_sys_nice",
	"cap_sys_resource",
	"cap_sys_time",
	"cap_sys_tty_config",
	"cap_mknod",
	"cap_lease",
	"cap_audit_write",
	"cap_audit_control",
	"cap_setfcap",
	"cap_mac_override",
	"cap_mac_admin",
	"cap_syslog",
	"cap_wake_alarm",
	"cap_block_suspend",
	"cap_audit_read",
	"cap_perfmon",
	"cap_bpf",
	"cap_checkpoint_restore",
};

const char *privdrop_cap_names(uint64_t caps, char *out, int outlen)
{
	int used = 0;

	out[0] = '\0';
	for (int i = 0; i < PRIVDROP_CAP_MAX && used < outlen; i++) {
		if (!(caps & (1ull << i)))
			continue;
		const char *n =
			i < (int)(sizeof(cap_name) / sizeof(cap_name[0])) ? cap_name[i] : NULL;
		int w = n ? snprintf(out + used, (size_t)(outlen - used), "%s%s", used ? "," : "",
				     n)
			  : snprintf(out + used, (size_t)(outlen - used), "%scap_%d",
				     used ? "," : "", i);
		if (w < 0)
			break;
		used += w;
	}
	if (!out[0])
		snprintf(out, (size_t)outlen, "none");
	return out;
}

static int cap_get(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	*perm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	return 0;
}

static int cap_set(uint64_t caps)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)caps;
	d[1].effective = d[1].permitted = (uint32_t)(caps >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

uint64_t privdrop_effective(void)
{
	uint64_t eff = 0, perm = 0;

	cap_get(&eff, &perm);
	return eff;
}

int privdrop_resolve(const char *user, int user_given, struct privdrop *pd, char *err, int errlen)
{
	struct passwd *pw;

	memset(pd, 0, sizeof(*pd));
	pd->resolved = 1;
	if (!user)
		user = PRIVDROP_DEFAULT_USER;
	snprintf(pd->user, sizeof(pd->user), "%s", user);
	if (!*user || strlen(user) >= sizeof(pd->user)) {
		snprintf(err, (size_t)errlen,
			 "unknown user '%s' for -Z: not a user name; give an existing user, e.g. "
			 "nobody, or root to keep root",
			 user);
		return -1;
	}
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		/* without root there is nothing to give up: the default user
		 * need not exist */
		if (!user_given && geteuid() != 0)
			return 0;
		snprintf(err, (size_t)errlen,
			 "unknown user '%s' for -Z: %s; give an existing user, e.g. nobody, or "
			 "root to keep root",
			 user, errno ? strerror(errno) : "no such user in the password database");
		return -1;
	}
	if (geteuid() == 0 && pw->pw_uid == 0) {
		pd->keep_all = 1; /* -Z root */
		return 0;
	}
	if (geteuid() != 0) {
		if (user_given && pw->pw_uid != geteuid()) {
			snprintf(err, (size_t)errlen,
				 "cannot become user '%s' for -Z: lotrace is not running as root; "
				 "run it as root or leave out -Z",
				 user);
			return -1;
		}
		return 0; /* stays who it is; capabilities are still cut */
	}
	pd->switch_user = 1;
	pd->uid = pw->pw_uid;
	pd->gid = pw->pw_gid;
	return 0;
}

#define FAIL(...)                                           \
	do {                                                \
		snprintf(err, (size_t)errlen, __VA_ARGS__); \
		return -1;                                  \
	} while (0)

int privdrop_apply(const struct privdrop *pd, uint64_t keep, char *err, int errlen)
{
	uint64_t eff, perm;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int e;

	if (!pd->resolved || pd->keep_all)
		return 0;
	if ((e = cap_get(&eff, &perm)) < 0)
		FAIL("cannot drop privileges: capget: %s; use -Z root to keep root", strerror(-e));
	keep &= perm; /* nothing is gained */

	/* The bounding set while CAP_SETPCAP is held: no later exec gets more. */
	if (eff & (1ull << CAP_SETPCAP))
		for (int c = 0; c < PRIVDROP_CAP_MAX; c++) {
			if (keep & (1ull << c))
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break; /* past the kernel's last capability */
				FAIL("cannot drop privileges: clearing capability %d from the "
				     "bounding set: %s; use -Z root to keep root",
				     c, strerror(errno));
			}
		}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	if (pd->switch_user) {
		/* keep the permitted set across the uid change; cut just below */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			FAIL("cannot drop privileges: PR_SET_KEEPCAPS: %s; use -Z root to keep "
			     "root",
			     strerror(errno));
		if (initgroups(pd->user, pd->gid) < 0 && setgroups(1, &pd->gid) < 0)
			FAIL("cannot drop privileges: setting the groups of '%s': %s; use -Z "
			     "root to keep root",
			     pd->user, strerror(errno));
		if (setresgid(pd->gid, pd->gid, pd->gid) < 0)
			FAIL("cannot drop privileges: setresgid(%u) for '%s': %s; use -Z root to "
			     "keep root",
			     (unsigned)pd->gid, pd->user, strerror(errno));
		if (setresuid(pd->uid, pd->uid, pd->uid) < 0)
			FAIL("cannot drop privileges: setresuid(%u) for '%s': %s; use -Z root to "
			     "keep root",
			     (unsigned)pd->uid, pd->user, strerror(errno));
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (getresuid(&ru, &eu, &su) < 0 || ru != pd->uid || eu != pd->uid ||
		    su != pd->uid || getresgid(&rg, &eg, &sg) < 0 || rg != pd->gid ||
		    eg != pd->gid || sg != pd->gid)
			FAIL("cannot drop privileges: still not user '%s' after setresuid; use -Z "
			     "root to keep root",
			     pd->user);
	}
	if ((e = cap_set(keep)) < 0)
		FAIL("cannot drop privileges: capset: %s; use -Z root to keep root", strerror(-e));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL("cannot drop privileges: PR_SET_NO_NEW_PRIVS: %s; use -Z root to keep root",
		     strerror(errno));
	/* it took: no way back to root, nothing more than keep */
	if (pd->switch_user && setresuid(0, 0, 0) == 0)
		FAIL("cannot drop privileges: setresuid(0) still works after becoming '%s'; use "
		     "-Z root to keep root",
		     pd->user);
	if ((e = cap_get(&eff, &perm)) < 0 || eff != keep || perm != keep)
		FAIL("cannot drop privileges: capabilities %llx remain, %llx expected; use -Z "
		     "root to keep root",
		     (unsigned long long)perm, (unsigned long long)keep);
	return 0;
}
