/* SPDX-License-Identifier: MIT */
/*
 * frontends.c - what the run (run.c) asks of the options: the stop
 * signals, opening the source they name (eBPF, libpcap live, a capture
 * file), the flow table's configuration and the run description.
 * Does not own: the loop, outputs, failures (run.c).
 */
#include "frontends.h"

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "src_filter.h"
#include "src_merge.h"

#ifdef LT_HAVE_BPF
#include "src_bpf.h"
#endif

#ifndef LT_VERSION
#define LT_VERSION "0.0.0"
#endif
#ifndef LT_DATADIR
#define LT_DATADIR "."
#endif

/* Set by SIGINT/SIGTERM (and SIGHUP when no output file can be
 * reopened); the run's loop checks it. */
static volatile sig_atomic_t stop_requested;
/* Set by SIGHUP; the run reopens its output files (lt_take_hup), or
 * stops when it has none (lt_stop_requested). */
static volatile sig_atomic_t hup_requested;
static volatile sig_atomic_t hup_reopens;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static void on_hup_signal(int sig)
{
	hup_requested = 1;
}

void lt_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup_signal;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int lt_stop_requested(void)
{
	return stop_requested != 0 || (hup_requested && !hup_reopens);
}

void lt_hup_reopens(int on)
{
	hup_reopens = on;
}

int lt_take_hup(void)
{
	if (!hup_reopens || !hup_requested)
		return 0;
	hup_requested = 0;
	return 1;
}

const char *lt_demo_capture(void)
{
	return LT_DATADIR "/captures/busy-mixed.pcap";
}

/* libpcap sees lotrace's own network namespace only: which one. */
static void pcap_netns_note(char *note, size_t notelen)
{
	struct stat self, init;
	size_t n = strlen(note);

	if (stat("/proc/self/ns/net", &self))
		return;
	snprintf(note + n, notelen - n, "%slibpcap watches one network namespace: %s (inode %lu)",
		 n ? "; " : "",
		 stat("/proc/1/ns/net", &init) == 0 && init.st_ino == self.st_ino ? "host"
										  : "lotrace's own",
		 (unsigned long)self.st_ino);
}

/* Open the live source the options ask for; note says why, if it matters. */
static struct lt_source *open_live(const struct lt_opts *o, char *note, size_t notelen,
				   char err[LT_ERR_LEN])
{
	const char *ifname = o->ifname ? o->ifname : src_pcap_loopback_name();
	struct lt_source *s = NULL;

	note[0] = '\0';
#ifdef LT_HAVE_BPF
	if (o->backend != LT_BACKEND_PCAP) {
		struct src_bpf_opts bo = {
			.ifname = ifname,
			.ports = o->ports.list,
			.nports = o->ports.n,
			.ringbuf_bytes = o->ring_bytes,
			.max_flows = o->max_flows,
			.verbose = o->verbose,
			.netns = o->netns,
			.no_payload = o->no_payload,
			.attach = o->attach == 1   ? SRC_BPF_TCX
				  : o->attach == 2 ? SRC_BPF_CLSACT
						   : 0,
		};
		char berr[LT_ERR_LEN];
		s = src_bpf_open(&bo, berr);
		if (s) {
			struct src_bpf_info info;
			src_bpf_get_info(s, &info);
			if (info.missing[0])
				snprintf(note, notelen,
					 "eBPF (%s) on %s; not available on this kernel: %s",
					 info.attach == SRC_BPF_TCX ? "tcx" : "tc clsact", ifname,
					 info.missing);
		}
		if (s && o->filter[0])
			/* the kernel keeps filtering ports; the expression is
			 * checked here, on each observation's headers */
			s = src_filter_wrap(s, o->filter, berr);
		/* another namespace is eBPF's to enter: no silent fallback */
		if (s || o->backend == LT_BACKEND_EBPF || (o->netns && strcmp(o->netns, "host"))) {
			if (!s)
				snprintf(err, LT_ERR_LEN, "%s", berr);
			return s;
		}
		snprintf(note, notelen, "eBPF unavailable (%s); using libpcap", berr);
	}
#else
	if (o->backend == LT_BACKEND_EBPF) {
		snprintf(err, LT_ERR_LEN,
			 "this lotrace was built without eBPF support; use --backend pcap or "
			 "rebuild with libbpf");
		return NULL;
	}
	if (o->backend == LT_BACKEND_AUTO)
		snprintf(note, notelen, "built without eBPF; using libpcap");
#endif
	/* -w wants whole packets, as tcpdump writes them */
	if (o->netns && strcmp(o->netns, "host")) {
		snprintf(err, LT_ERR_LEN,
			 "cannot watch network namespace '%s' with libpcap: it sees its own "
			 "only; use the eBPF backend (root) or run lotrace inside it "
			 "(ip netns exec %s lotrace)",
			 o->netns, o->netns);
		return NULL;
	}
	s = src_pcap_live_open(ifname, o->ports.list, o->ports.n,
			       o->write_file ? LT_FULL_SNAPLEN : 0, o->filter, err);
	if (s)
		pcap_netns_note(note, notelen);
	return s;
}

/* A -r argument that does not exist but has glob characters is a
 * pattern (quoted so the shell left it alone): its matches, sorted. */
static int is_pattern(const char *path)
{
	struct stat st;
	return strcmp(path, "-") && strpbrk(path, "*?[") && stat(path, &st) < 0;
}

/* Open every -r file (patterns expanded) and merge them by time. */
static struct lt_source *open_files(const struct lt_opts *o, char err[LT_ERR_LEN])
{
	struct lt_source *subs[LT_MAX_READ];
	const char *filter = o->filter[0] ? o->filter : NULL;
	/* a caller that set read_file alone (the fuzzer) means that one file */
	const char *const *files = o->nread ? o->read_files : &o->read_file;
	int nfiles = o->nread ? o->nread : 1;
	int n = 0, rc = 0;

	for (int i = 0; i < nfiles && !rc; i++) {
		glob_t g;
		if (!is_pattern(files[i])) {
			if (n == LT_MAX_READ) {
				rc = -1;
			} else if (!(subs[n] = src_pcap_file_open(files[i], filter, err))) {
				rc = -2;
			} else {
				n++;
			}
			continue;
		}
		if (glob(files[i], 0, NULL, &g) != 0) {
			snprintf(err, LT_ERR_LEN,
				 "cannot read capture '%s': no file matches that pattern",
				 files[i]);
			rc = -2;
			continue;
		}
		for (size_t j = 0; j < g.gl_pathc && !rc; j++) {
			if (n == LT_MAX_READ)
				rc = -1;
			else if (!(subs[n] = src_pcap_file_open(g.gl_pathv[j], filter, err)))
				rc = -2;
			else
				n++;
		}
		globfree(&g);
	}
	if (rc == -1)
		snprintf(err, LT_ERR_LEN,
			 "too many capture files: at most %d; merge some first with mergecap",
			 LT_MAX_READ);
	if (rc) {
		for (int i = 0; i < n; i++)
			subs[i]->ops->close(subs[i]);
		return NULL;
	}
	return n == 1 ? subs[0] : src_merge_open(subs, n, err);
}

int lt_open_source(const struct lt_opts *o, struct lt_source **out, char *note, size_t notelen,
		   char err[LT_ERR_LEN])
{
	note[0] = '\0';
	if (o->nread || o->read_file)
		*out = open_files(o, err);
	else if (o->demo)
		*out = src_pcap_file_open(lt_demo_capture(), o->filter[0] ? o->filter : NULL, err);
	else
		*out = open_live(o, note, notelen, err);
	return *out ? 0 : -1;
}

const char *lt_writes_input(const struct lt_opts *o)
{
	struct stat w, r;
	if (!o->write_file || stat(o->write_file, &w) < 0 || !S_ISREG(w.st_mode))
		return NULL;
	for (int i = 0; i < o->nread; i++)
		if (stat(o->read_files[i], &r) == 0 && r.st_dev == w.st_dev && r.st_ino == w.st_ino)
			return o->read_files[i];
	return NULL;
}

int lt_source_is_live(const struct lt_source *s)
{
	return s->ops->fd((struct lt_source *)s) >= 0;
}

void lt_run_info_fill(struct lt_run_info *ri, const struct lt_opts *o, const struct lt_source *src,
		      const char *note)
{
	memset(ri, 0, sizeof(*ri));
	ri->version = LT_VERSION;
	ri->backend = src->ops->name;
	ri->backend_note = note && *note ? note : NULL;
	ri->input = src->desc;
	ri->link_name = src->link_type >= 0 && src->link_name[0] ? src->link_name : NULL;
	ri->ports = &o->ports;
	ri->max_flows = o->max_flows ? o->max_flows : LT_FLOWS_DEFAULT;
}

void lt_flow_config(struct flow_config *cfg, const struct lt_opts *o, int live)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = o->max_flows;
	cfg->port_filter = ports_filter(&o->ports);
	/* Live: show an ended connection a second after its last packet;
	 * replay: keep it longer, late packets cost nothing there. */
	cfg->linger_ns = live ? 1000000000ull : 5000000000ull;
	cfg->no_payload = o->no_payload != 0;
}
