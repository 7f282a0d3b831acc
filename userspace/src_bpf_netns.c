/* SPDX-License-Identifier: MIT */
/*
 * src_bpf_netns.c - find, enter and name network namespaces (eBPF source).
 *
 * Owns: the list of namespaces (from /run/netns and /proc/PID/ns/net,
 * deduplicated by inode), the short-lived thread that enters a new one
 * (setns) to find its lo and call the caller's attach, the descriptors
 * the attach returned (closed at the end or when the namespace is gone),
 * and the names shown for a namespace (ip netns name, "host", container
 * from the owner's cgroup). Does not own: the eBPF program, how it is
 * attached (src_bpf.c), the output.
 */
#include "src_bpf_netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_MAX 4096

struct ns_ent {
	struct lt_netns n;
	int fd;		/* held attach result; -1 none, -2 attach failed */
	int seen;	/* in the latest scan */
	int32_t cg_pid; /* last pid whose cgroup was read */
	int dead;	/* gone: a new namespace may reuse its inode */
};

struct netns_set {
	uint32_t self, init, only;
	char only_path[256];
	struct ns_ent **ent;
	size_t n, cap;
	struct ns_ent *last; /* lookup cache */
	int attached;
};

static uint32_t ino_of(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	return (uint32_t)st.st_ino;
}

/* The `ip netns` name of ino, "" when none. */
static void run_name(uint32_t ino, char *out, size_t len)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	char p[512];

	out[0] = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", NETNS_RUN_DIR, e->d_name);
		if (ino_of(p) == ino) {
			snprintf(out, len, "%s", e->d_name);
			break;
		}
	}
	closedir(d);
}

struct netns_set *netns_set_new(const char *only, char *err, int errlen)
{
	struct netns_set *ns = calloc(1, sizeof(*ns));

	err[0] = 0;
	if (!ns) {
		snprintf(err, (size_t)errlen, "cannot watch network namespaces: out of memory");
		return NULL;
	}
	ns->self = ino_of("/proc/self/ns/net");
	ns->init = ino_of("/proc/1/ns/net");
	if (!ns->init)
		ns->init = ns->self;
	if (!only)
		return ns;
	if (!strcmp(only, "host")) {
		snprintf(ns->only_path, sizeof(ns->only_path), "%s",
			 ns->init == ns->self ? "/proc/self/ns/net" : "/proc/1/ns/net");
	} else if (strchr(only, '/')) {
		snprintf(ns->only_path, sizeof(ns->only_path), "%s", only);
	} else {
		snprintf(ns->only_path, sizeof(ns->only_path), "%s/%s", NETNS_RUN_DIR, only);
	}
	ns->only = ino_of(ns->only_path);
	if (!ns->only) {
		snprintf(err, (size_t)errlen,
			 "no network namespace '%s': %s; use an `ip netns` name, a path "
			 "such as /proc/PID/ns/net, or host",
			 only, strerror(errno));
		free(ns);
		return NULL;
	}
	return ns;
}

uint32_t netns_self(const struct netns_set *ns)
{
	return ns->self;
}

uint32_t netns_only(const struct netns_set *ns)
{
	return ns->only;
}

int netns_attached(const struct netns_set *ns)
{
	return ns->attached;
}

static struct ns_ent *find(struct netns_set *ns, uint32_t ino)
{
	if (ns->last && ns->last->n.ino == ino && !ns->last->dead)
		return ns->last;
	for (size_t i = 0; i < ns->n; i++)
		if (ns->ent[i]->n.ino == ino && !ns->ent[i]->dead)
			return ns->last = ns->ent[i];
	return NULL;
}

static struct ns_ent *add(struct netns_set *ns, uint32_t ino)
{
	struct ns_ent *e;

	if (ns->n >= NETNS_MAX)
		return NULL;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		struct ns_ent **p = realloc(ns->ent, cap * sizeof(*p));

		if (!p)
			return NULL;
		ns->ent = p;
		ns->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->n.ino = ino;
	e->fd = -1;
	if (ino == ns->init)
		snprintf(e->n.name, sizeof(e->n.name), "host");
	else
		run_name(ino, e->n.name, sizeof(e->n.name));
	ns->ent[ns->n++] = e;
	return ns->last = e;
}

/* ---- entering a namespace ----------------------------------------------- */

struct enter {
	const char *path;
	uint32_t ino;
	netns_attach_fn fn;
	void *ctx;
	int ret;
};

static void *enter_thread(void *p)
{
	struct enter *a = p;
	int fd = open(a->path, O_RDONLY | O_CLOEXEC);
	unsigned idx;

	a->ret = -errno;
	if (fd < 0)
		return NULL;
	if (setns(fd, CLONE_NEWNET)) {
		a->ret = -errno;
		close(fd);
		return NULL;
	}
	close(fd);
	/* the path may have moved on (a process exited, its pid reused) */
	if (ino_of("/proc/thread-self/ns/net") != a->ino) {
		a->ret = -ESRCH;
		return NULL;
	}
	idx = if_nametoindex("lo");
	a->ret = idx ? a->fn(a->ctx, (int)idx) : -ENODEV;
	return NULL; /* the thread and its namespace end here */
}

static int enter_and_attach(const char *path, uint32_t ino, netns_attach_fn fn, void *ctx)
{
	struct enter a = { .path = path, .ino = ino, .fn = fn, .ctx = ctx, .ret = -EINVAL };
	pthread_t t;
	int e = pthread_create(&t, NULL, enter_thread, &a);

	if (e)
		return -e;
	pthread_join(t, NULL);
	return a.ret;
}

/* ---- scanning ----------------------------------------------------------- */

static void container_of_pid(struct ns_ent *e, int32_t pid);

static int consider(struct netns_set *ns, const char *path, netns_attach_fn fn, void *ctx,
		    int *failed)
{
	uint32_t ino = ino_of(path);
	struct ns_ent *e;
	int fd;

	if (!ino || ino == ns->self || (ns->only && ino != ns->only))
		return 0;
	e = find(ns, ino);
	if (!e && !(e = add(ns, ino)))
		return 0;
	if (e->seen)
		return 0;
	e->seen = 1;
	/* found by a process in it: its cgroup may name the container (the
	 * namespace's long-lived owner, which an event's short-lived client
	 * may not be) */
	if (!e->n.container[0] && ino != ns->init && !strncmp(path, "/proc/", 6))
		container_of_pid(e, (int32_t)atoi(path + 6));
	if (e->fd != -1)
		return 0; /* attached, or failed before: not again */
	fd = enter_and_attach(path, ino, fn, ctx);
	if (fd < 0) {
		e->fd = -2;
		if (failed)
			(*failed)++;
		return 0;
	}
	e->fd = fd;
	ns->attached++;
	return 1;
}

int netns_scan(struct netns_set *ns, netns_attach_fn fn, void *ctx, int *failed)
{
	char p[300];
	struct dirent *de;
	DIR *d;
	int got = 0;

	if (failed)
		*failed = 0;
	for (size_t i = 0; i < ns->n; i++)
		ns->ent[i]->seen = 0;
	if (ns->only) {
		struct ns_ent *e;
		/* after -Z, /proc/PID/ns/net of another user's process cannot
		 * be looked at: the namespace attached stays attached */
		if (!ino_of(ns->only_path) && (errno == EACCES || errno == EPERM) &&
		    (e = find(ns, ns->only)))
			e->seen = 1;
		else
			got += consider(ns, ns->only_path, fn, ctx, failed);
	} else {
		if ((d = opendir(NETNS_RUN_DIR))) {
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", NETNS_RUN_DIR, de->d_name);
				got += consider(ns, p, fn, ctx, failed);
			}
			closedir(d);
		}
		if ((d = opendir("/proc"))) {
			while ((de = readdir(d))) {
				if (de->d_name[0] < '1' || de->d_name[0] > '9')
					continue;
				snprintf(p, sizeof(p), "/proc/%s/ns/net", de->d_name);
				got += consider(ns, p, fn, ctx, failed);
			}
			closedir(d);
		}
	}
	/* Gone namespaces: let go (their inode may come back for a new one). */
	for (size_t i = 0; i < ns->n; i++) {
		struct ns_ent *e = ns->ent[i];

		if (e->seen || e->dead || e->n.ino == ns->self)
			continue;
		if (e->fd >= 0) {
			close(e->fd);
			ns->attached--;
		}
		e->fd = -1;
		if (!e->dead && e->n.ino != ns->init)
			e->dead = 1; /* its entry stays valid for old flows */
	}
	/* A namespace named after it was first seen. */
	for (size_t i = 0; i < ns->n; i++)
		if (ns->ent[i]->seen && !ns->ent[i]->dead && !ns->ent[i]->n.name[0])
			run_name(ns->ent[i]->n.ino, ns->ent[i]->n.name, sizeof(ns->ent[i]->n.name));
	ns->last = NULL;
	return got;
}

/* ---- names -------------------------------------------------------------- */

/* The id after prefix in s, up to a '.', '/' or the end; 12 chars kept. */
static int id_after(const char *s, const char *prefix, const char *kind, char *out, int outlen,
		    int keep)
{
	const char *p = strstr(s, prefix);
	int n = 0;

	if (!p)
		return 0;
	p += strlen(prefix);
	while (p[n] && p[n] != '.' && p[n] != '/' && p[n] != '\n' && n < keep)
		n++;
	if (!n)
		return 0;
	snprintf(out, (size_t)outlen, "%s:%.*s", kind, n, p);
	return 1;
}

void netns_container_of_cgroup(const char *cg, char *out, int outlen)
{
	out[0] = 0;
	if (id_after(cg, "/libpod-", "podman", out, outlen, 12) ||
	    id_after(cg, "/libpod_parent/libpod-", "podman", out, outlen, 12) ||
	    id_after(cg, "cri-containerd-", "containerd", out, outlen, 12) ||
	    id_after(cg, "/docker-", "docker", out, outlen, 12) ||
	    id_after(cg, "/docker/", "docker", out, outlen, 12) ||
	    id_after(cg, "/machine-", "nspawn", out, outlen, 32))
		return;
}

/* The container pid's cgroup names, once per pid. */
static void container_of_pid(struct ns_ent *e, int32_t pid)
{
	char p[64], cg[1024];
	FILE *f;
	size_t n;

	if (pid <= 0 || pid == e->cg_pid)
		return;
	e->cg_pid = pid;
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	if ((f = fopen(p, "re"))) {
		n = fread(cg, 1, sizeof(cg) - 1, f);
		cg[n] = 0;
		fclose(f);
		netns_container_of_cgroup(cg, e->n.container, sizeof(e->n.container));
	}
}

const struct lt_netns *netns_lookup(struct netns_set *ns, uint32_t ino, int32_t pid)
{
	struct ns_ent *e;

	if (!ino)
		return NULL;
	e = find(ns, ino);
	if (!e && !(e = add(ns, ino)))
		return NULL;
	if (!e->n.container[0] && ino != ns->init)
		container_of_pid(e, pid);
	return &e->n;
}

void netns_set_free(struct netns_set *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < ns->n; i++) {
		if (ns->ent[i]->fd >= 0)
			close(ns->ent[i]->fd);
		free(ns->ent[i]);
	}
	free(ns->ent);
	free(ns);
}
