/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_tc.c - the clsact fallback hook on lo: stale filters, attach,
 * detach, and the guard process that cleans up after a killed lotrace
 * (src_bpf_tc.h). Not the tcx link, the program or its maps (src_bpf.c).
 */
#include "src_bpf_tc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <bpf/libbpf.h>

/* Our filter: handle 1, the first free priority from here. */
#define LT_TC_HANDLE 1
#define LT_TC_PRIO_BASE 0x4c54 /* "LT" */
#define LT_TC_PRIO_TRIES 16
#define LT_TC_NAME_PREFIX "lotrace_tc:[" /* libbpf names filters "prog:[id]" */

struct tc_filter {
	uint32_t handle;
	uint32_t prio;
	uint32_t prog_id;
	char kind[16];
	char name[64];
};

/*
 * One netlink dump of the traffic-control objects of `type`
 * (RTM_GETTFILTER, RTM_GETQDISC) on ifindex (filters: under parent):
 * on_msg is called with each reply's tcmsg and its attributes. Returns 0
 * or a negative errno; no clsact qdisc (filters) is an empty dump.
 */
typedef void (*tc_on_msg)(const struct tcmsg *t, struct rtattr *attrs, int alen, void *arg);

static int tc_dump(uint16_t type, uint16_t reply_type, int ifindex, uint32_t parent,
		   tc_on_msg on_msg, void *arg)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req = {
		.n = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.t = {
			.tcm_family = AF_UNSPEC,
			.tcm_ifindex = ifindex,
			.tcm_parent = parent,
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)];
	int fd, err = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (len == 0)
			goto out;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct tcmsg *t = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				/* no qdisc: no filters */
				if (e->error != -EINVAL && e->error != -ENOENT)
					err = e->error;
				goto out;
			}
			if (h->nlmsg_type != reply_type || t->tcm_ifindex != ifindex)
				continue;
			on_msg(t, (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t))),
			       (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*t))), arg);
		}
	}
out:
	close(fd);
	return err;
}

struct tc_filter_list {
	struct tc_filter *out;
	int max, cnt;
};

static void on_filter(const struct tcmsg *t, struct rtattr *a, int alen, void *arg)
{
	struct tc_filter_list *l = arg;
	struct tc_filter f;

	if (!t->tcm_handle)
		return; /* chain heads carry no handle */
	memset(&f, 0, sizeof(f));
	f.handle = t->tcm_handle;
	f.prio = TC_H_MAJ(t->tcm_info) >> 16;
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == TCA_KIND) {
			snprintf(f.kind, sizeof(f.kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
		} else if (a->rta_type == TCA_OPTIONS) {
			struct rtattr *o = RTA_DATA(a);
			int olen = (int)RTA_PAYLOAD(a);

			for (; RTA_OK(o, olen); o = RTA_NEXT(o, olen)) {
				if (o->rta_type == TCA_BPF_NAME)
					snprintf(f.name, sizeof(f.name), "%.*s",
						 (int)RTA_PAYLOAD(o), (char *)RTA_DATA(o));
				else if (o->rta_type == TCA_BPF_ID && RTA_PAYLOAD(o) >= 4)
					memcpy(&f.prog_id, RTA_DATA(o), 4);
			}
		}
	}
	if (l->cnt < l->max)
		l->out[l->cnt] = f;
	l->cnt++;
}

/*
 * List the filters of one clsact direction (parent ffff:fff2 ingress,
 * ffff:fff3 egress). Returns how many exist (only max are stored), or a
 * negative errno; no clsact qdisc is 0 filters.
 */
static int tc_list(int ifindex, uint32_t parent, struct tc_filter *out, int max)
{
	struct tc_filter_list l = { .out = out, .max = max };
	int err = tc_dump(RTM_GETTFILTER, RTM_NEWTFILTER, ifindex, parent, on_filter, &l);

	return err ? err : l.cnt;
}

static void on_qdisc(const struct tcmsg *t, struct rtattr *a, int alen, void *arg)
{
	(void)t;
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == TCA_KIND && RTA_PAYLOAD(a) >= sizeof("clsact") &&
		    !memcmp(RTA_DATA(a), "clsact", sizeof("clsact")))
			*(int *)arg = 1;
}

/* Does ifindex have a clsact qdisc? 1, 0, or a negative errno. */
static int clsact_present(int ifindex)
{
	int found = 0;
	int err = tc_dump(RTM_GETQDISC, RTM_NEWQDISC, ifindex, 0, on_qdisc, &found);

	return err ? err : found;
}

/* Does any process hold a descriptor of BPF program `id`? */
static int prog_held(uint32_t id)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char want[32];
	int held = 0;

	if (!proc)
		return 1; /* cannot tell: assume it is alive */
	snprintf(want, sizeof(want), "prog_id:\t%u\n", id);
	while (!held && (de = readdir(proc))) {
		char path[300], line[128];
		struct dirent *fe;
		DIR *fds;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", de->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!held && (fe = readdir(fds))) {
			FILE *f;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", de->d_name, fe->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (!strcmp(line, want)) {
					held = 1;
					break;
				}
			fclose(f);
		}
		closedir(fds);
	}
	closedir(proc);
	return held;
}

/* Remove lotrace filters on egress whose program no process holds: left
 * by an earlier run that was killed. Others' filters are never touched. */
int tc_clsact_sweep_stale(int ifindex)
{
	struct tc_filter f[32];
	int n = tc_list(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), f, 32);
	int removed = 0;

	for (int i = 0; i < n && i < 32; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_EGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f[i].handle,
				    .priority = f[i].prio);

		if (strcmp(f[i].kind, "bpf") ||
		    strncmp(f[i].name, LT_TC_NAME_PREFIX, strlen(LT_TC_NAME_PREFIX)))
			continue;
		if (!f[i].prog_id || prog_held(f[i].prog_id))
			continue; /* another lotrace is running */
		if (!bpf_tc_detach(&hook, &opts))
			removed++;
	}
	return removed;
}

/* No filter on either side of the clsact qdisc (or no qdisc). */
static int tc_empty(int ifindex)
{
	struct tc_filter f[1];

	return tc_list(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), f, 1) == 0 &&
	       tc_list(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), f, 1) == 0;
}


/* ---- the guard ------------------------------------------------------------ */

/* What lotrace tells its guard; one message is one atomic write. */
struct guard_msg {
	uint8_t what; /* GUARD_QDISC_MAYBE .. GUARD_DONE */
	uint8_t pad[3];
	uint32_t handle, prio, prog_id;
};

/*
 * MAYBE: lotrace is about to create the clsact qdisc, absent until now
 * (a kill inside the create call leaves it made and unannounced); NOT: it
 * was there after all (someone else's); QDISC: lotrace made it.
 */
enum {
	GUARD_QDISC_MAYBE = 'M',
	GUARD_QDISC_NOT = 'N',
	GUARD_QDISC = 'Q',
	GUARD_FILTER = 'F',
	GUARD_DONE = 'D'
};

static void destroy_qdisc(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	bpf_tc_hook_destroy(&hook);
}

/* Detach the filter at handle/prio if it still runs prog_id (ours). */
static void detach_ours(int ifindex, uint32_t handle, uint32_t prio, uint32_t prog_id)
{
	struct tc_filter f[32];
	int n = tc_list(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), f, 32);

	for (int i = 0; i < n && i < 32; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_EGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);

		if (f[i].handle != handle || f[i].prio != prio || f[i].prog_id != prog_id ||
		    strcmp(f[i].kind, "bpf"))
			continue;
		bpf_tc_detach(&hook, &opts);
	}
}

/* Keep CAP_NET_ADMIN only (deleting a filter or qdisc), no new privileges. */
static void guard_drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[CAP_NET_ADMIN / 32].effective = d[CAP_NET_ADMIN / 32].permitted = 1u
									    << (CAP_NET_ADMIN % 32);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	syscall(SYS_capset, &h, d);
}

/* The guard: fd 3 is its end of the socket pair, 0-2 are /dev/null,
 * nothing else is open. Waits; cleans up only if lotrace went away
 * without saying "done". Never returns. */
static void guard_main(int fd, int ifindex)
{
	struct guard_msg m, filter = { 0 };
	int qdisc = 0;
	sigset_t all;

	sigfillset(&all); /* the terminal's ^C or ^Z are lotrace's business */
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_NAME, "lotrace-tcguard", 0, 0, 0);
	if (dup2(fd, 3) < 0)
		_exit(1);
	if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0)
		for (int i = 4; i < 65536; i++)
			close(i);
	int null = open("/dev/null", O_RDWR);
	for (int i = 0; i < 3; i++)
		if (null != i)
			dup2(null, i);
	if (null > 2)
		close(null);
	guard_drop_caps();
	for (;;) {
		ssize_t n = recv(3, &m, sizeof(m), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			break; /* EOF: lotrace is gone */
		if (m.what == GUARD_DONE)
			_exit(0);
		if (m.what == GUARD_QDISC || m.what == GUARD_QDISC_MAYBE)
			qdisc = 1;
		else if (m.what == GUARD_QDISC_NOT)
			qdisc = 0;
		else if (m.what == GUARD_FILTER)
			filter = m;
	}
	if (filter.what)
		detach_ours(ifindex, filter.handle, filter.prio, filter.prog_id);
	if (qdisc && tc_empty(ifindex))
		destroy_qdisc(ifindex);
	_exit(0);
}

static int guard_start(struct tc_clsact *t)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(NULL); /* nothing buffered twice */
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0)
		guard_main(sv[1], t->ifindex);
	close(sv[1]);
	t->guard_pid = pid;
	t->guard_fd = sv[0];
	return 0;
}

static void guard_send(struct tc_clsact *t, uint8_t what)
{
	struct guard_msg m = {
		.what = what, .handle = t->handle, .prio = t->prio, .prog_id = t->prog_id
	};

	if (t->guard_fd >= 0)
		send(t->guard_fd, &m, sizeof(m), MSG_NOSIGNAL);
}

/* Tell the guard all is clean, and wait for it to go. */
static void guard_release(struct tc_clsact *t)
{
	if (t->guard_fd >= 0) {
		guard_send(t, GUARD_DONE);
		close(t->guard_fd);
		t->guard_fd = -1;
	}
	if (t->guard_pid > 0) {
		while (waitpid(t->guard_pid, NULL, 0) < 0 && errno == EINTR)
			;
		t->guard_pid = 0;
	}
}

/* ---- attach and detach ---------------------------------------------------- */

int tc_clsact_attach(struct tc_clsact *t, int ifindex, int prog_fd, int stale_removed)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	int err;

	memset(t, 0, sizeof(*t));
	t->ifindex = ifindex;
	t->guard_fd = -1;
	/* The guard first: from the qdisc on, whatever we add is undone
	 * even if we are killed the next moment. */
	err = guard_start(t);
	if (err)
		return err;
	if (clsact_present(ifindex) == 0)
		guard_send(t, GUARD_QDISC_MAYBE);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto fail;
	t->qdisc_created = !err;
	if (err == -EEXIST)
		guard_send(t, GUARD_QDISC_NOT);
	/* An empty clsact whose only filter was a killed run's is most likely
	 * that run's: treat it as ours, so it goes if still empty at the end. */
	if (err == -EEXIST && stale_removed && tc_empty(ifindex))
		t->qdisc_created = 1;
	if (t->qdisc_created)
		guard_send(t, GUARD_QDISC);
	for (int i = 0; i < LT_TC_PRIO_TRIES; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = LT_TC_HANDLE,
				    .priority = LT_TC_PRIO_BASE + i, .prog_fd = prog_fd);

		err = bpf_tc_attach(&hook, &opts);
		if (!err) {
			t->handle = opts.handle;
			t->prio = opts.priority;
			t->prog_id = opts.prog_id;
			t->attached = 1;
			guard_send(t, GUARD_FILTER);
			return 0;
		}
		if (err != -EEXIST)
			break;
	}
fail:
	if (t->qdisc_created && tc_empty(ifindex))
		destroy_qdisc(ifindex);
	t->qdisc_created = 0;
	guard_release(t);
	return err;
}

/* Close the pipe without "done": the guard removes what we added (lotrace
 * gave up CAP_NET_ADMIN with -Z), and is waited for. */
static void guard_handover(struct tc_clsact *t)
{
	if (t->guard_fd >= 0) {
		close(t->guard_fd);
		t->guard_fd = -1;
	}
	guard_release(t);
}

void tc_clsact_detach(struct tc_clsact *t)
{
	if (t->attached) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
				    .attach_point = BPF_TC_EGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = t->handle, .priority = t->prio);

		int err = bpf_tc_detach(&hook, &opts);
		t->attached = 0;
		if (err == -EPERM || err == -EACCES) {
			guard_handover(t);
			t->qdisc_created = 0;
			return;
		}
		/* The qdisc goes only if we made it and nobody else uses it
		 * (destroying clsact would flush their filters too). */
		if (t->qdisc_created && tc_empty(t->ifindex))
			destroy_qdisc(t->ifindex);
		t->qdisc_created = 0;
	}
	guard_release(t);
}
