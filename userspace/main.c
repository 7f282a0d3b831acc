/* SPDX-License-Identifier: MIT */
/*
 * main.c - lotrace: what happens to TCP connections on loopback.
 *
 * Wires a source (capture file, libpcap live, eBPF) to the engine and its
 * outputs (text, JSON, report, TUI), runs the loop, and maps failures to
 * one-line messages and exit codes: 0 done, 1 runtime or input error,
 * 2 bad usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "opts.h"
#include "source.h"
#include "frontends.h"
#include "listen_note.h"
#include "pcapw.h"
#include "report.h"

#ifdef LT_HAVE_BPF
#include "src_bpf.h"
#endif

#ifndef LT_VERSION
#define LT_VERSION "0.0.0"
#endif
#ifndef LT_DATADIR
#define LT_DATADIR "."
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Set by SIGINT/SIGTERM/SIGHUP; the loop checks it. The only global. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = sig;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int lt_stop_requested(void)
{
	return stop_requested != 0;
}

const char *lt_demo_capture(void)
{
	return LT_DATADIR "/captures/busy-mixed.pcap";
}

/* Open the live source the options ask for; note says why, if it matters. */
static struct lt_source *open_live(const struct lt_opts *o, char *note,
				   size_t notelen, char err[LT_ERR_LEN])
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
			.verbose = o->verbose,
			.attach = o->attach == 1 ? SRC_BPF_TCX
				  : o->attach == 2 ? SRC_BPF_CLSACT : 0,
		};
		char berr[LT_ERR_LEN];
		s = src_bpf_open(&bo, berr);
		if (s) {
			struct src_bpf_info info;
			src_bpf_get_info(s, &info);
			if (info.missing[0])
				snprintf(note, notelen, "eBPF (%s) on %s; not available on this kernel: %s",
					 info.attach == SRC_BPF_TCX ? "tcx" : "tc clsact",
					 ifname, info.missing);
		}
		if (s || o->backend == LT_BACKEND_EBPF) {
			if (!s)
				snprintf(err, LT_ERR_LEN, "%s", berr);
			return s;
		}
		snprintf(note, notelen, "eBPF unavailable (%s); using libpcap", berr);
	}
#else
	if (o->backend == LT_BACKEND_EBPF) {
		snprintf(err, LT_ERR_LEN,
			 "this lotrace was built without eBPF support; use --backend pcap or rebuild with libbpf");
		return NULL;
	}
	if (o->backend == LT_BACKEND_AUTO)
		snprintf(note, notelen, "built without eBPF; using libpcap");
#endif
	s = src_pcap_live_open(ifname, o->ports.list, o->ports.n, 0, err);
	return s;
}

int lt_open_source(const struct lt_opts *o, struct lt_source **out,
		   char *note, size_t notelen, char err[LT_ERR_LEN])
{
	note[0] = '\0';
	if (o->read_file || o->demo) {
		*out = src_pcap_file_open(o->read_file ? o->read_file
						       : lt_demo_capture(),
					  err);
	} else {
		*out = open_live(o, note, notelen, err);
	}
	return *out ? 0 : -1;
}

int lt_source_is_live(const struct lt_source *s)
{
	return s->ops->fd((struct lt_source *)s) >= 0;
}

/*
 * Run src into the engine until it ends, the user stops it, the duration
 * passes or enough connections went out. Returns 0 or -errno.
 */
int lt_pump(struct lt_source *src, struct engine *eng, uint64_t duration_ns,
	    int poll_ms)
{
	int fd = src->ops->fd(src);
	uint64_t start = src->ops->now(src);
	int rc = 0;

	while (!stop_requested && !engine_done(eng)) {
		if (fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int pr = poll(&pfd, 1, poll_ms);
			if (pr < 0 && errno != EINTR) {
				rc = -errno;
				break;
			}
		}
		int r = src->ops->dispatch(src, fd >= 0 ? 4096 : 65536, engine_obs,
					   eng);
		if (r == LT_SRC_EOF)
			break;
		if (r < 0 && r != -EINTR && r != -EAGAIN) {
			rc = r;
			break;
		}
		uint64_t now = src->ops->now(src);
		if (fd >= 0)
			engine_tick(eng, now);
		if (!start)
			start = now;
		if (duration_ns && now - start >= duration_ns)
			break;
		if (ferror(stdout)) {
			rc = -EPIPE;
			break;
		}
	}
	return rc;
}

static struct lt_sink *make_sink(const struct lt_opts *o)
{
	if (o->format == LT_FMT_JSON)
		return sink_json_new(stdout);
	return sink_text_new(stdout);
}

void lt_run_info_fill(struct lt_run_info *ri, const struct lt_opts *o,
		      const struct lt_source *src, const char *note)
{
	memset(ri, 0, sizeof(*ri));
	ri->version = LT_VERSION;
	ri->backend = src->ops->name;
	ri->backend_note = note && *note ? note : NULL;
	ri->input = src->desc;
	ri->link_name = src->link_type >= 0 && src->link_name[0] ? src->link_name
								 : NULL;
	ri->ports = &o->ports;
	ri->max_flows = o->max_flows ? o->max_flows : LT_FLOWS_DEFAULT;
}

void lt_flow_config(struct flow_config *cfg, const struct lt_opts *o,
		    int live)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = o->max_flows;
	cfg->port_filter = ports_filter(&o->ports);
	/* Live: show an ended connection a second after its last packet;
	 * replay: keep it longer, late packets cost nothing there. */
	cfg->linger_ns = live ? 1000000000ull : 5000000000ull;
}

static int run_headless(const struct lt_opts *o)
{
	struct lt_source *src;
	struct engine eng;
	struct flow_config cfg;
	struct lt_run_info ri;
	struct lt_source_stats ss;
	char err[LT_ERR_LEN], note[LT_ERR_LEN];
	int status = 0;

	if (lt_open_source(o, &src, note, sizeof(note), err) < 0) {
		fprintf(stderr, "lotrace: %s\n", err);
		return EXIT_RUNTIME;
	}
	int live = lt_source_is_live(src);
	if (note[0])
		fprintf(stderr, "lotrace: %s\n", note);
	lt_flow_config(&cfg, o, live);
	if (engine_init(&eng, &cfg) < 0) {
		fprintf(stderr, "lotrace: out of memory for %u flows; lower --max-flows\n",
			cfg.max_flows ? cfg.max_flows : LT_FLOWS_DEFAULT);
		src->ops->close(src);
		return EXIT_RUNTIME;
	}
	eng.max_conns = o->count;
	for (int i = 0; i < o->ports.n; i++)
		stats_watch(eng.stats, o->ports.list[i]);
	engine_add_sink(&eng, make_sink(o));
	if (o->write_file) {
		eng.writer = pcapw_open(o->write_file, err);
		if (!eng.writer) {
			fprintf(stderr, "lotrace: %s\n", err);
			engine_release(&eng);
			src->ops->close(src);
			return EXIT_RUNTIME;
		}
	}
	struct listen_note *notes = NULL;
	if (live && (notes = malloc(sizeof(*notes)))) {
		listen_note_attach(notes, &eng, stdout, o->format == LT_FMT_JSON);
		for (int i = 0; i < o->ports.n; i++)
			listen_note_print(notes, o->ports.list[i], "start", NULL);
	}
	struct report *rep = o->report_file ? report_attach(&eng, o, live) : NULL;
	lt_run_info_fill(&ri, o, src, note);
	if (live && o->verbose)
		fprintf(stderr, "lotrace: capturing with %s on %s\n", src->ops->name,
			src->desc);
	engine_begin(&eng, &ri);

	int rc = lt_pump(src, &eng, o->duration_ns, 100);
	engine_finish(&eng);
	src->ops->stats(src, &ss);
	/* A file that yields not one frame gets an error, not an empty summary. */
	if (!(ss.read_error[0] && !live && ss.dec.frames == 0))
		engine_end(&eng, &ri, &ss);

	if (eng.writer) {
		uint64_t n = pcapw_count(eng.writer);
		if (pcapw_close(eng.writer) < 0) {
			fprintf(stderr, "lotrace: writing '%s' failed: %s\n",
				o->write_file, strerror(errno));
			status = EXIT_RUNTIME;
		} else if (o->verbose || live) {
			fprintf(stderr, "lotrace: wrote %llu segments to '%s' (header snapshots, snaplen %d)\n",
				(unsigned long long)n, o->write_file, PCAPW_SNAPLEN);
		}
		eng.writer = NULL;
	}
	if (rep) {
		FILE *rf = fopen(o->report_file, "w");
		if (!rf || report_write(rep, rf, report_format_for(o->report_file),
					&ri, &ss, 0) < 0) {
			fprintf(stderr, "lotrace: cannot write report '%s': %s\n",
				o->report_file, strerror(errno));
			status = EXIT_RUNTIME;
		}
		if (rf && fclose(rf) != 0 && !status) {
			fprintf(stderr, "lotrace: cannot write report '%s': %s\n",
				o->report_file, strerror(errno));
			status = EXIT_RUNTIME;
		}
		report_free(rep);
	}
	if (rc < 0 && rc != -EPIPE) {
		fprintf(stderr, "lotrace: capture failed: %s\n",
			ss.read_error[0] ? ss.read_error : strerror(-rc));
		status = EXIT_RUNTIME;
	}
	if (ss.read_error[0] && !live && ss.dec.frames == 0) {
		fprintf(stderr, "lotrace: cannot read capture '%s': %s\n", src->desc,
			ss.read_error);
		status = EXIT_RUNTIME;
	} else if (ss.read_error[0] && !live) {
		fprintf(stderr,
			"lotrace: capture '%s' ends early: %s; the connections above are what it held\n",
			src->desc, ss.read_error);
		status = EXIT_RUNTIME;
	}
	if (ss.lost)
		fprintf(stderr, "lotrace: %llu events were lost\n",
			(unsigned long long)ss.lost);
	src->ops->close(src);
	engine_release(&eng);
	free(notes);
	return status;
}

int main(int argc, char **argv)
{
	struct lt_opts o;

	if (opts_parse(&o, argc, argv) < 0) {
		fprintf(stderr, "lotrace: %s\n", o.err);
		return EXIT_USAGE;
	}
	if (o.help) {
		opts_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("lotrace %s\n", LT_VERSION);
		return 0;
	}
	install_signals();
	if (o.report_cmd)
		return lt_report_main(&o);
	if (lt_want_tui(&o))
		return lt_tui_main(&o);
	return run_headless(&o);
}
