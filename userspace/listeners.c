/* SPDX-License-Identifier: MIT */
/*
 * listeners.c - listening sockets via sock_diag, their owners via /proc;
 * and the portable rules about listeners (which one takes a SYN, the
 * cross-family mix-up, how one is written).
 */
#include "listeners.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "sbuf.h"

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#define LISTEN_STATE 10 /* TCP_LISTEN */

static int port_wanted(uint16_t port, const uint16_t *ports, int nports)
{
	if (nports <= 0)
		return 1;
	for (int i = 0; i < nports; i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

#ifdef __linux__
/* One inet_diag dump of LISTEN sockets of one family. */
static int diag_dump(int fd, int af, const uint16_t *ports, int nports, struct listener *out,
		     int max, int found)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.req = {
			.sdiag_family = (uint8_t)af,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = 1u << LISTEN_STATE,
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)];

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return found;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m;
			struct listener *l;
			struct rtattr *a;
			int alen;
			uint16_t port;

			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				/* no IPv6 in this kernel: not an error */
				if (e->error == -ENOENT || e->error == -EAFNOSUPPORT)
					return found;
				return e->error ? e->error : found;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			m = NLMSG_DATA(h);
			if (m->idiag_state != LISTEN_STATE)
				continue;
			port = ntohs(m->id.idiag_sport);
			if (!port_wanted(port, ports, nports))
				continue;
			if (found >= max) {
				found++;
				continue;
			}
			l = &out[found++];
			memset(l, 0, sizeof(*l));
			l->family = m->idiag_family == AF_INET6 ? 6 : 4;
			memcpy(l->addr, m->id.idiag_src, l->family == 6 ? 16 : 4);
			l->port = port;
			l->backlog = m->idiag_wqueue;
			l->queued = m->idiag_rqueue;
			l->inode = m->idiag_inode;
			l->pid = -1;
			a = (struct rtattr *)(m + 1);
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
					l->v6only = *(uint8_t *)RTA_DATA(a);
		}
	}
}

/* Set pid/comm of out[i] by finding socket:[inode] under /proc/PID/fd. */
static void find_owners(struct listener *out, int n)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int left = 0;

	for (int i = 0; i < n; i++)
		left += out[i].inode != 0;
	if (!proc)
		return;
	while (left && (de = readdir(proc))) {
		char path[300], link[64];
		struct dirent *fe;
		DIR *fds;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue; /* gone, or another user's process */
		while (left && (fe = readdir(fds))) {
			unsigned long ino;
			ssize_t len;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid, fe->d_name);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = 0;
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (int i = 0; i < n; i++) {
				FILE *f;

				if (out[i].inode != ino || out[i].pid >= 0)
					continue;
				out[i].pid = (int32_t)pid;
				left--;
				snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
				f = fopen(path, "r");
				if (f) {
					if (fgets(out[i].comm, sizeof(out[i].comm), f))
						out[i].comm[strcspn(out[i].comm, "\n")] = 0;
					fclose(f);
				}
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

int listeners_query(const uint16_t *ports, int nports, struct listener *out, int max)
{
	int fd, n;

	if (max < 0 || (max > 0 && !out))
		return -EINVAL;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	n = diag_dump(fd, AF_INET, ports, nports, out, max, 0);
	if (n >= 0)
		n = diag_dump(fd, AF_INET6, ports, nports, out, max, n);
	close(fd);
	if (n > 0)
		find_owners(out, n < max ? n : max);
	return n;
}
#else
int listeners_query(const uint16_t *ports, int nports, struct listener *out, int max)
{
	(void)ports;
	(void)nports;
	(void)out;
	(void)max;
	(void)port_wanted;
	return -ENOSYS;
}
#endif

int listeners_netstat(struct listen_counters *c)
{
	char *names = NULL, *vals = NULL;
	size_t nlen = 0, vlen = 0;
	FILE *f;
	int err = -ENOENT;

	c->overflows = c->drops = -1;
	f = fopen("/proc/net/netstat", "r");
	if (!f)
		return -errno;
	/* Pairs of lines: "TcpExt: Name Name ..." then "TcpExt: 1 2 ...". */
	while (getline(&names, &nlen, f) > 0 && getline(&vals, &vlen, f) > 0) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names + 7, " \n", &sn);
		v = strtok_r(vals + 7, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, "ListenOverflows"))
				c->overflows = strtoll(v, NULL, 10);
			else if (!strcmp(n, "ListenDrops"))
				c->drops = strtoll(v, NULL, 10);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		err = 0;
		break;
	}
	free(names);
	free(vals);
	fclose(f);
	return err;
}

static int read_sysctl(const char *name)
{
	char path[128];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

void listeners_sysctls(struct tcp_syn_sysctls *s)
{
	s->syn_retries = read_sysctl("tcp_syn_retries");
	s->synack_retries = read_sysctl("tcp_synack_retries");
	s->syn_linear_timeouts = read_sysctl("tcp_syn_linear_timeouts");
}

/* ---- rules (portable) --------------------------------------------------- */

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

static bool addr_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

bool listener_takes(const struct listener *l, uint8_t family, const uint8_t addr[16], uint16_t port)
{
	if (l->port != port)
		return false;
	if (l->family == family)
		return addr_zero(l->addr, addr_len(family)) ||
		       !memcmp(l->addr, addr, addr_len(family));
	/* [::]:port without IPV6_V6ONLY takes IPv4 too */
	return l->family == 6 && family == 4 && !l->v6only && addr_zero(l->addr, 16);
}

const struct listener *listener_find_taker(const struct listener *v, int n, uint8_t family,
					   const uint8_t addr[16], uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (listener_takes(&v[i], family, addr, port))
			return &v[i];
	return NULL;
}

bool lt_addr_loopback(uint8_t family, const uint8_t addr[16])
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (family == 4)
		return addr[0] == 127;
	return !memcmp(addr, v6lo, 16) || (!memcmp(addr, mapped, 12) && addr[12] == 127);
}

bool lt_cross_family(uint8_t fa, const uint8_t a[16], uint8_t fb, const uint8_t b[16])
{
	return fa != fb && lt_addr_loopback(fa, a) && lt_addr_loopback(fb, b);
}

void listener_format(struct sbuf *b, const struct listener *l, enum listener_style style, bool code)
{
	const char *q = code ? "`" : "";
	struct lt_endpoint e;
	char ep[FMT_EP_LEN];

	memset(&e, 0, sizeof(e));
	memcpy(e.addr, l->addr, 16);
	e.port = l->port;
	sbuf_printf(b, "%s%s%s", q, fmt_endpoint(ep, l->family, &e), q);
	switch (style) {
	case LISTENER_ENDPOINT:
		break;
	case LISTENER_CELL:
		if (l->family == 6 && l->v6only)
			sbuf_puts(b, " (IPv6 only)");
		break;
	case LISTENER_NOTE:
		if (l->pid >= 0)
			sbuf_printf(b, " %s%s%s[%d]", q, l->comm, q, l->pid);
		if (l->family == 6 && l->v6only)
			sbuf_puts(b, " (IPv6 only)");
		else if (l->family == 6)
			sbuf_puts(b, " (IPv6 and IPv4)");
		sbuf_printf(b, " backlog %u queued %u", l->backlog, l->queued);
		break;
	case LISTENER_BRIEF:
		if (l->pid >= 0)
			sbuf_printf(b, " %s%s%s[%d]", q, l->comm, q, l->pid);
		if (l->queued)
			sbuf_printf(b, " (%u/%u queued)", l->queued, l->backlog);
		break;
	case LISTENER_PROSE:
		sbuf_puts(b, " (");
		if (l->family == 6 && l->v6only)
			sbuf_puts(b, "IPv6 only, ");
		if (l->pid >= 0)
			sbuf_printf(b, "%s%s%s pid %d, ", q, l->comm, q, l->pid);
		sbuf_printf(b, "%u waiting for accept(), backlog %u)", l->queued, l->backlog);
		break;
	}
}
