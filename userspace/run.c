/* SPDX-License-Identifier: MIT */
/*
 * run.c - the run lifecycle: open, loop, finish, and every failure mapped
 * to one message and an exit status.
 *
 * Owns: the source (paced for capture files), the engine, the taps the
 * options ask for (text/JSON sink and listener notes on stdout, the -w
 * writer, the report), when reading stops and why, and the check of every
 * output (stdout, the -w file, the report file) during the run and at its
 * end, and giving up root (-Z) once all of them are open. Exit status: 0 done (also when stdout's reader went away: a quiet
 * stop), 1 an input or output failed. Does not own: opening a particular
 * source (frontends.c), what a sink or the report write (sink_*.c,
 * report.c), the screen (tui/).
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "engine.h"
#include "fmt.h"
#include "frontends.h"
#include "listen_note.h"
#include "listeners.h"
#include "metrics.h"
#include "metrics_serve.h"
#include "pcapw.h"
#include "privdrop.h"
#include "report.h"
#include "source.h"
#include "src_pace.h"

#define CHECK_NS 100000000ull /* outputs are flushed and checked every 100 ms */
#define POLL_MS 100
/* Headless and report runs, where nobody watches rows change, wait longer:
 * an eBPF reader that drains the ring every 250 ms instead of every 100
 * is preempted less by the traffic it watches (flood of 60,000
 * connections: 110 involuntary context switches instead of 341) and
 * spends less CPU per connection (cpu-ab.sh: 1.18 -> 1.10 us median, lower
 * in 7 of 8 pairs); a line still reaches a pipe well within timely.sh's
 * 2 s, and the kernel wakes the reader sooner when the ring fills a
 * quarter (wake_bytes). */
#define POLL_MS_BATCH 250
#define METRICS_NS 1000000000ull /* the metrics text is rebuilt every second */
/* who listens is asked less often: finding owners reads every /proc/PID/fd */
#define METRICS_LISTEN_NS 10000000000ull

struct lt_run {
	const struct lt_opts *o;
	enum run_front fe;
	struct lt_source *src;
	struct engine *eng;
	struct lt_run_info ri;
	char note[LT_ERR_LEN];
	int live;
	int paced;	      /* src is a src_pace wrapper */
	int to_stdout;	      /* records go to out (stdout, or --json FILE): check it */
	FILE *out;	      /* where records go: stdout, stderr (-w -) or the --json file */
	int out_owned;	      /* out is the --json file: closed and reopened here */
	struct lt_sink *sink; /* headless */
	struct listen_note *notes;
	struct pcapw *pcap; /* -w */
	struct report *rep;
	FILE *rep_out;	     /* --report FILE, opened before root is given up */
	int rep_created;     /* ... by this run: removed if no report is written */
	struct metrics *met; /* --metrics, --metrics-file */
	struct metrics_serve *msrv;
	struct sbuf mtext;
	uint64_t next_metrics, next_metrics_file, next_listen;
	int mfile_err; /* -errno of the last failed --metrics-file write */
	enum run_stop stop;
	int in_err;	   /* -errno of a failed poll or dispatch */
	int out_err;	   /* errno of a failed write to out */
	int pcap_err;	   /* errno of a failed write to the -w file */
	uint64_t pcap_ino; /* the -w file's inode: SIGHUP reopens only a moved file */
	uint64_t first_ts; /* the source's clock when reading began */
	uint64_t next_check;
	struct lt_source_stats ss;
	char cut[LT_ERR_LEN]; /* ri.cut */
	char why[LT_ERR_LEN]; /* run_stop_text */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- taps ---------------------------------------------------------------- */

/* Why out failed: the errno of a write that failed just now, else that
 * of the listener notes' failed write (they share the stream, and a note
 * at the start can fail before any record is written), else EIO. */
static int out_errno(const struct lt_run *r)
{
	if (errno)
		return errno;
	if (r->notes && r->notes->out == r->out && r->notes->write_errno)
		return r->notes->write_errno;
	return EIO;
}

/* A failed write to stdout, noted while errno still says why; reading
 * stops at the next check. */
static void note_stdout(struct lt_run *r)
{
	if (r->to_stdout && !r->out_err && ferror(r->out))
		r->out_err = out_errno(r);
}

/* "to stdout" or "to 'FILE'" (--json FILE) */
static const char *out_name(const struct lt_run *r, char buf[LT_ERR_LEN])
{
	if (r->out == stderr)
		return "to stderr";
	if (r->out == stdout)
		return "to stdout";
	snprintf(buf, LT_ERR_LEN, "to '%s'", r->o->json_file);
	return buf;
}

static void sink_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct lt_run *r = ctx;
	if (r->out_err)
		return; /* nothing more goes to a failed stdout */
	errno = 0;
	r->sink->ops->conn(r->sink, f, v);
	note_stdout(r);
}

/* -w: a segment of a tracked connection, with its frame when there is one */
static void pcap_flow_obs(void *ctx, const struct lt_obs *o, const struct flow *f)
{
	struct lt_run *r = ctx;
	pcapw_obs(r->pcap, o, f ? f->id : 0);
}

/* -w FILE.pcapng: a retired connection's comments */
static void pcap_retire(void *ctx, const struct flow *f, enum lt_verdict v)
{
	struct lt_run *r = ctx;
	pcapw_retired(r->pcap, f, v);
}

/* ---- outputs ------------------------------------------------------------- */

/* Flush stdout and the -w file; a failure stops reading. */
static void check_outputs(struct lt_run *r)
{
	if (r->to_stdout && !r->out_err) {
		errno = 0;
		sink_flush(r->sink); /* what the sink holds goes first */
		if (fflush(r->out) != 0 || ferror(r->out))
			r->out_err = out_errno(r);
	}
	if (r->out_err)
		run_stop(r, r->out_err == EPIPE ? RUN_STOP_PIPE : RUN_STOP_OUTPUT);
	if (r->pcap && !r->pcap_err) {
		pcapw_flush(r->pcap);
		r->pcap_err = pcapw_error(r->pcap);
		/* -w - into a reader that went away: a quiet stop, as for lines */
		if (r->pcap_err)
			run_stop(r, r->pcap_err == EPIPE && !strcmp(r->o->write_file, "-")
					    ? RUN_STOP_PIPE
					    : RUN_STOP_OUTPUT);
	}
}

/* The inode of path, 0 if it is gone. */
static uint64_t file_ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* SIGHUP with file outputs: close and open them again by name, so that
 * after logrotate renamed one, what follows goes to a new file. Nothing
 * is lost: the old file is flushed before it is closed. */
static void reopen_outputs(struct lt_run *r)
{
	const struct lt_opts *o = r->o;
	char err[LT_ERR_LEN];

	if (r->out_owned && !r->out_err) {
		FILE *nf;
		errno = 0;
		sink_flush(r->sink);
		if (fflush(r->out) != 0 || ferror(r->out)) {
			r->out_err = out_errno(r);
			return;
		}
		if (!(nf = fopen(o->json_file, "a"))) {
			/* keep writing the old one: a record lost is worse */
			fprintf(stderr,
				"lotrace: cannot reopen '%s' after SIGHUP: %s; still writing the "
				"old file\n",
				o->json_file, strerror(errno));
		} else {
			FILE *old = r->out;
			r->out = nf;
			sink_buffer_output(nf);
			r->sink->out = nf;
			if (r->notes && r->notes->out == old)
				r->notes->out = nf;
			fclose(old);
		}
	}
	if (r->pcap && !r->pcap_err && r->pcap_ino) {
		struct pcapw *np;
		pcapw_flush(r->pcap);
		if ((r->pcap_err = pcapw_error(r->pcap)))
			return;
		/* a new -w file would be truncated: only when the old one moved */
		if (file_ino(o->write_file) == r->pcap_ino)
			return;
		if (!(np = pcapw_open(o->write_file, err))) {
			fprintf(stderr, "lotrace: %s after SIGHUP; still writing the old file\n",
				err);
			return;
		}
		uint64_t n = pcapw_count(r->pcap);
		int rc = pcapw_close(r->pcap);
		if (rc < 0)
			fprintf(stderr, "lotrace: closing the old -w file failed: %s\n",
				strerror(-rc));
		r->pcap = np;
		r->pcap_ino = file_ino(o->write_file);
		if (o->verbose)
			fprintf(stderr, "lotrace: SIGHUP: %llu segments went to the old -w file\n",
				(unsigned long long)n);
	}
}

/* ---- open ---------------------------------------------------------------- */

static int fail_open(struct lt_run *r, const char *msg, int *status)
{
	if (msg)
		fprintf(stderr, "lotrace: %s\n", msg);
	*status = 1;
	run_close(r);
	return -1;
}

/* --report FILE, opened at the start but truncated only when the report
 * is written: a run that fails leaves an existing file as it was. */
static FILE *open_report(const char *path, int *created)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	FILE *f;

	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "w")))
		close(fd);
	return f;
}

static int add_taps(struct lt_run *r, int *status)
{
	const struct lt_opts *o = r->o;
	char err[LT_ERR_LEN];

	/* -w -: the packets own stdout; lines go to stderr, as tcpdump does */
	int pcap_stdout = o->write_file && !strcmp(o->write_file, "-");
	FILE *out = pcap_stdout ? stderr : stdout;
	if (r->fe == RUN_HEADLESS) {
		if (o->json_file) {
			if (!(out = fopen(o->json_file, "a"))) {
				snprintf(err, sizeof(err),
					 "cannot open '%s' for --json: %s; choose a file in a "
					 "directory lotrace can write to",
					 o->json_file, strerror(errno));
				return fail_open(r, err, status);
			}
			r->out_owned = 1;
		}
		r->out = out;
		r->sink = sink_for_opts(out, o);
		struct lt_tap t = { .on_retire = sink_retire, .ctx = r };
		if (!r->sink || engine_add_tap(r->eng, &t) < 0)
			return fail_open(r, "out of memory for the output", status);
		r->to_stdout = !pcap_stdout || r->out_owned;
		if (r->live && (r->notes = malloc(sizeof(*r->notes))) &&
		    listen_note_attach(r->notes, r->eng,
				       o->format == LT_FMT_ZEEK ? stderr : out, /* conn.log only */
				       o->format == LT_FMT_JSON, r->sink) < 0) {
			free(r->notes);
			r->notes = NULL;
		}
	}
	if (r->fe == RUN_REPORT || r->fe == RUN_TUI || o->report_file) {
		r->rep = report_attach(r->eng, o, r->live);
		if (!r->rep)
			return fail_open(r, "out of memory for the report", status);
		if (r->fe == RUN_REPORT && !o->report_file)
			r->to_stdout = 1;
	}
	/* opened now, while lotrace may still write where root can */
	if (o->report_file && !(r->rep_out = open_report(o->report_file, &r->rep_created))) {
		snprintf(err, sizeof(err),
			 "cannot open '%s' for --report: %s; choose a file in a directory "
			 "lotrace can write to",
			 o->report_file, strerror(errno));
		return fail_open(r, err, status);
	}
	if (o->write_file) {
		const char *in = lt_writes_input(o);
		if (in) {
			snprintf(err, sizeof(err),
				 "refusing to write '%s': it is the capture being read ('%s'); "
				 "give -w another file",
				 o->write_file, in);
			return fail_open(r, err, status);
		}
		r->pcap = pcapw_open(o->write_file, err);
		struct lt_tap t = { .on_flow_obs = pcap_flow_obs, .ctx = r };
		if (!r->pcap)
			return fail_open(r, err, status);
		r->pcap_ino = pcap_stdout ? 0 : file_ino(o->write_file);
		if (pcapw_is_pcapng(r->pcap))
			t.on_retire = pcap_retire;
		if (!strcmp(r->src->ops->name, "ebpf") && r->fe != RUN_TUI)
			fprintf(stderr,
				"lotrace: -w writes header snapshots: the eBPF backend sees "
				"headers, not payload (--backend pcap writes whole packets)\n");
		if (engine_add_tap(r->eng, &t) < 0)
			return fail_open(r, "out of memory for the -w writer", status);
	}
	/* SIGHUP reopens file outputs (logrotate) instead of stopping */
	lt_hup_reopens(r->fe == RUN_HEADLESS && (r->out_owned || r->pcap_ino));
	return 0;
}

/* ---- metrics --------------------------------------------------------------- */

/* Rebuild the exposition: the endpoint gets it now, the file when due
 * (or always, with force). */
static void metrics_refresh(struct lt_run *r, int force_file)
{
	struct lt_source_stats ss;
	const struct flow_counters *fc = flow_tab_counters(engine_flows(r->eng));
	uint64_t m = mono_ns();

	run_source_stats(r, &ss);
	struct metrics_gauges g = { .events_lost = ss.lost,
				    .flows_evicted = fc->evicted,
				    .flows_active = fc->active,
				    .ncounters = ss.ncounters };
	memcpy(g.counters, ss.counters, sizeof(ss.counters[0]) * (size_t)ss.ncounters);
	metrics_set_gauges(r->met, &g);
	if (r->live && (force_file || m >= r->next_listen)) {
		uint16_t ports[LT_MAX_PORTS];
		struct listener ls[METRICS_MAX_LISTENERS];
		int n = metrics_ports(r->met, ports, LT_MAX_PORTS);
		metrics_set_listeners(r->met, ls,
				      n ? listeners_query(ports, n, ls, METRICS_MAX_LISTENERS) : 0);
		r->next_listen = m + METRICS_LISTEN_NS;
	}
	sbuf_reset(&r->mtext);
	metrics_text(r->met, &r->mtext);
	metrics_serve_publish(r->msrv, sbuf_str(&r->mtext), r->mtext.len);
	if (metrics_serve_has_file(r->msrv) && (force_file || m >= r->next_metrics_file)) {
		int rc = metrics_serve_write_file(r->msrv, sbuf_str(&r->mtext), r->mtext.len);
		/* a service keeps tracing; it says when the file fails and recovers */
		if (rc < 0 && !r->mfile_err)
			fprintf(stderr,
				"lotrace: cannot write --metrics-file '%s': %s; it is tried again "
				"every %llus\n",
				r->o->metrics_file, strerror(-rc),
				(unsigned long long)(r->o->metrics_interval_ns / 1000000000ull));
		else if (rc == 0 && r->mfile_err)
			fprintf(stderr, "lotrace: --metrics-file '%s' is written again\n",
				r->o->metrics_file);
		r->mfile_err = rc;
		r->next_metrics_file = m + r->o->metrics_interval_ns;
	}
	r->next_metrics = m + METRICS_NS;
}

static int open_metrics(struct lt_run *r, int *status)
{
	const struct lt_opts *o = r->o;
	char err[LT_ERR_LEN];

	if (!o->metrics_listen && !o->metrics_file)
		return 0;
	sbuf_init(&r->mtext, 4u << 20);
	r->met = metrics_new(&o->ports, r->ri.version, r->src->ops->name);
	struct lt_tap t = metrics_tap(r->met);
	if (!r->met || engine_add_tap(r->eng, &t) < 0)
		return fail_open(r, "out of memory for the metrics", status);
	r->msrv = metrics_serve_open(o->metrics_listen, o->metrics_file, err, sizeof(err));
	if (!r->msrv)
		return fail_open(r, err, status);
	return 0;
}

/* After the drop: the HTTP thread starts with the run's credentials, and
 * the first file write says at once whether the -Z user can replace it. */
static int start_metrics(struct lt_run *r, int *status)
{
	const struct lt_opts *o = r->o;
	char err[LT_ERR_LEN];

	if (!r->msrv)
		return 0;
	if (metrics_serve_start(r->msrv, o->metrics_listen, err, sizeof(err)) < 0)
		return fail_open(r, err, status);
	if (o->metrics_listen && (o->verbose || r->fe == RUN_HEADLESS))
		fprintf(stderr, "lotrace: metrics on http://%s/metrics\n",
			metrics_serve_address(r->msrv));
	int rc = metrics_serve_has_file(r->msrv) && o->drop.switch_user
			 ? metrics_serve_write_file(r->msrv, "", 0)
			 : 0;
	if (rc < 0) {
		snprintf(err, sizeof(err),
			 "cannot write --metrics-file '%s' as user '%s': %s; it is replaced every "
			 "interval, so give a directory '%s' can write to, or -Z root",
			 o->metrics_file, o->drop.user, strerror(-rc), o->drop.user);
		return fail_open(r, err, status);
	}
	metrics_refresh(r, 1);
	return 0;
}

/* ---- giving up root (-Z) --------------------------------------------------- */

/* Naming who listens (listeners.c: the socket links in every process's
 * /proc/PID/fd) reads other users' processes: CAP_DAC_READ_SEARCH to list
 * their fd directories, CAP_SYS_PTRACE to read the links. */
#define KEEP_OWNER_LOOKUPS (1ull << CAP_SYS_PTRACE | 1ull << CAP_DAC_READ_SEARCH)

/* Everything is open: the source, the outputs, the metrics socket. */
static int drop_privileges(struct lt_run *r, int *status)
{
	const struct privdrop *pd = &r->o->drop;
	uint64_t keep = r->live ? KEEP_OWNER_LOOKUPS | r->src->keep_caps : 0;
	char err[LT_ERR_LEN], names[LT_ERR_LEN];

	if (privdrop_apply(pd, keep, err, sizeof(err)) < 0)
		return fail_open(r, err, status);
	if (r->o->verbose && r->fe != RUN_TUI && !pd->keep_all)
		fprintf(stderr, "lotrace: running as uid %u, keeping %s\n", (unsigned)getuid(),
			privdrop_cap_names(privdrop_effective(), names, sizeof(names)));
	return 0;
}

struct lt_run *run_open(const struct lt_opts *o, enum run_front fe, int *status)
{
	struct lt_source *src;
	char err[LT_ERR_LEN], note[LT_ERR_LEN];

	*status = 0;
	if (lt_open_source(o, &src, note, sizeof(note), err) < 0) {
		fprintf(stderr, "lotrace: %s\n", err);
		*status = 1;
		return NULL;
	}
	if (note[0] && fe != RUN_TUI)
		fprintf(stderr, "lotrace: %s\n", note);
	if (!lt_source_is_live(src)) {
		src = src_pace_wrap(src, o->speed);
		if (!src) {
			fprintf(stderr, "lotrace: out of memory for the replay\n");
			*status = 1;
			return NULL;
		}
	}
	return run_open_source(o, fe, src, note, NULL, status);
}

struct lt_run *run_open_source(const struct lt_opts *o, enum run_front fe, struct lt_source *src,
			       const char *note, const struct flow_config *cfg_in, int *status)
{
	struct lt_run *r = calloc(1, sizeof(*r));
	struct flow_config cfg;
	char msg[LT_ERR_LEN + 64];

	*status = 0;
	if (!r) {
		fprintf(stderr, "lotrace: out of memory\n");
		src->ops->close(src);
		*status = 1;
		return NULL;
	}
	r->o = o;
	r->fe = fe;
	r->out = stdout;
	r->src = src;
	r->live = lt_source_is_live(src);
	r->paced = src_pace_is(src);
	snprintf(r->note, sizeof(r->note), "%s", note ? note : "");
	if (fe == RUN_REPORT && r->live && !o->duration_ns && !o->count)
		fprintf(stderr,
			"lotrace: capturing on %s; the report comes when you stop it (Ctrl-C) or "
			"use --duration\n",
			r->src->desc);
	if (cfg_in)
		cfg = *cfg_in;
	else
		lt_flow_config(&cfg, o, r->live);
	cfg.steady_clock = src->steady_clock != 0;
	r->eng = engine_init(&cfg);
	if (!r->eng) {
		snprintf(msg, sizeof(msg), "out of memory for %u flows; lower --max-flows",
			 cfg.max_flows ? cfg.max_flows : LT_FLOWS_DEFAULT);
		fail_open(r, msg, status);
		return NULL;
	}
	for (int i = 0; i < o->ports.n; i++)
		engine_watch(r->eng, o->ports.list[i]);
	engine_set_limit(r->eng, o->count);
	if (add_taps(r, status) < 0)
		return NULL;

	lt_run_info_fill(&r->ri, o, r->src, r->note);
	if (open_metrics(r, status) < 0 || drop_privileges(r, status) < 0 ||
	    start_metrics(r, status) < 0)
		return NULL;
	/* Who listens at the start, before saying "capturing": whoever waits
	 * for that line to start a server must not find it in the start note
	 * (the listeners query reads every /proc/PID/fd, slow on a busy
	 * machine). */
	if (r->notes)
		for (int i = 0; i < o->ports.n; i++)
			listen_note_print(r->notes, o->ports.list[i], "start", NULL);
	if (r->live && o->verbose && fe != RUN_TUI)
		fprintf(stderr, "lotrace: capturing with %s on %s\n", r->src->ops->name,
			r->src->desc);
	if (r->sink)
		r->sink->ops->begin(r->sink, &r->ri);
	if (r->live)
		r->first_ts = r->src->ops->now(r->src);
	r->next_check = mono_ns() + CHECK_NS;
	return r;
}

/* ---- the loop ------------------------------------------------------------ */

int run_fd(const struct lt_run *r)
{
	return r->stop ? -1 : r->src->ops->fd(r->src);
}

int run_wait_ms(const struct lt_run *r)
{
	if (r->stop)
		return 1000;
	if (r->live)
		return r->fe == RUN_TUI ? POLL_MS : POLL_MS_BATCH;
	return r->paced ? src_pace_wait_ms(r->src) : 0;
}

/* The run's observation callback: remember when reading began. */
static void run_obs(void *ctx, const struct lt_obs *o)
{
	struct lt_run *r = ctx;
	if (!r->first_ts)
		r->first_ts = o->ts_ns;
	engine_obs(r->eng, o);
}

int run_step(struct lt_run *r, uint64_t budget_ns)
{
	const struct lt_opts *o = r->o;
	uint64_t deadline = mono_ns() + budget_ns;
	/* -c and --duration stop reading at once: read one at a time */
	int batch = (!r->live && (o->count || o->duration_ns))		      ? 1
		    : r->live || run_speed(r) > 0 || budget_ns < 100000000ull ? 4096
									      : 65536;

	while (!r->stop) {
		if (lt_stop_requested()) {
			run_stop(r, RUN_STOP_SIGNAL);
			break;
		}
		int n = r->src->ops->dispatch(r->src, batch, run_obs, r);
		if (n == LT_SRC_EOF) {
			run_stop(r, RUN_STOP_END);
			break;
		}
		if (n < 0 && n != -EAGAIN && n != -EINTR) {
			r->in_err = n;
			run_stop(r, RUN_STOP_INPUT);
			break;
		}
		uint64_t now = r->src->ops->now(r->src);
		/* live and paced clocks move without packets */
		if (now && (r->live || run_speed(r) > 0))
			engine_tick(r->eng, now);
		uint64_t m = mono_ns();
		if (lt_take_hup())
			reopen_outputs(r);
		if (m >= r->next_check) {
			check_outputs(r);
			r->next_check = m + CHECK_NS;
		}
		if (r->met && m >= r->next_metrics)
			metrics_refresh(r, 0);
		if (engine_done(r->eng))
			run_stop(r, RUN_STOP_COUNT);
		else if (o->duration_ns && r->first_ts && now >= r->first_ts &&
			 now - r->first_ts >= o->duration_ns)
			run_stop(r, RUN_STOP_DURATION);
		if (n <= 0 || m >= deadline)
			break;
	}
	return !r->stop;
}

static void describe_stop(struct lt_run *r)
{
	const struct lt_opts *o = r->o;
	char d[24], name[LT_ERR_LEN];
	int replay = !r->live;

	switch (r->stop) {
	case RUN_STOP_COUNT:
		snprintf(r->why, sizeof(r->why), "stopped after %llu connections (-c %llu)",
			 (unsigned long long)o->count, (unsigned long long)o->count);
		break;
	case RUN_STOP_DURATION:
		snprintf(r->why, sizeof(r->why), "stopped after --duration %s%s",
			 fmt_dur(d, (int64_t)o->duration_ns), replay ? " of capture time" : "");
		break;
	case RUN_STOP_SIGNAL:
		snprintf(r->why, sizeof(r->why), "interrupted");
		break;
	case RUN_STOP_INPUT:
		if (r->ss.read_error[0] && replay)
			snprintf(r->why, sizeof(r->why), "capture ends early: %s",
				 r->ss.read_error);
		else
			snprintf(r->why, sizeof(r->why), "capture failed: %s",
				 r->ss.read_error[0] ? r->ss.read_error : strerror(-r->in_err));
		break;
	case RUN_STOP_OUTPUT:
		snprintf(r->why, sizeof(r->why), "cannot write %s: %s",
			 r->out_err ? out_name(r, name) : "the -w file",
			 strerror(r->out_err ? r->out_err : r->pcap_err));
		break;
	case RUN_READING:
	case RUN_STOP_END:
	case RUN_STOP_USER:
	case RUN_STOP_PIPE:
		r->why[0] = '\0';
		break;
	}
	/* The outputs say when they cover less than the input held. */
	r->cut[0] = '\0';
	uint64_t left = engine_unreported(r->eng);
	if (r->stop == RUN_STOP_COUNT || left) {
		snprintf(r->cut, sizeof(r->cut), "stopped after %llu connections (-c %llu)%s",
			 (unsigned long long)engine_reported(r->eng), (unsigned long long)o->count,
			 left ? "; " : "");
		if (left)
			snprintf(r->cut + strlen(r->cut), sizeof(r->cut) - strlen(r->cut),
				 "%llu more connections were not reported",
				 (unsigned long long)left);
	} else if (replay && (r->stop == RUN_STOP_DURATION || r->stop == RUN_STOP_SIGNAL ||
			      r->stop == RUN_STOP_USER || r->stop == RUN_STOP_OUTPUT)) {
		snprintf(r->cut, sizeof(r->cut), "%s; the rest of the capture was not read",
			 r->why[0] ? r->why : "quit before the end");
	}
	r->ri.cut = r->cut[0] ? r->cut : NULL;
}

void run_stop(struct lt_run *r, enum run_stop why)
{
	if (r->stop)
		return;
	r->stop = why;
	/* The run is over: every connection left gets its final verdict. */
	engine_finish(r->eng);
	r->src->ops->stats(r->src, &r->ss);
	describe_stop(r);
}

/* ---- finish -------------------------------------------------------------- */

static enum lt_format report_format(const struct lt_run *r)
{
	if (r->fe == RUN_REPORT && r->o->format_set)
		return r->o->format;
	if (r->o->report_file)
		return report_format_for(r->o->report_file);
	return LT_FMT_MARKDOWN;
}

/* The report at the end: to --report FILE, or stdout for "lotrace report". */
static int write_report(struct lt_run *r)
{
	const char *path = r->o->report_file;
	FILE *out = path ? r->rep_out : stdout;
	int rc;

	r->rep_out = NULL;
	if (!out) {
		rc = -EBADF;
	} else if (out != stdout && ftruncate(fileno(out), 0) < 0 && errno != EINVAL) {
		/* a regular file: what it held goes now (a device has no length) */
		rc = -errno;
		fclose(out);
	} else {
		rc = report_write(r->rep, out, report_format(r), &r->ri, &r->ss, 0);
		if (out != stdout && fclose(out) != 0 && rc == 0)
			rc = -errno;
	}
	if (rc == 0)
		return 0;
	if (!path) {
		r->out_err = -rc;
		return rc == -EPIPE ? 0 : -1;
	}
	fprintf(stderr, "lotrace: cannot write report '%s': %s\n", path, strerror(-rc));
	return -1;
}

int run_finish(struct lt_run *r)
{
	const struct lt_opts *o = r->o;
	int status = 0;

	run_stop(r, lt_stop_requested() ? RUN_STOP_SIGNAL : RUN_STOP_USER);
	r->src->ops->stats(r->src, &r->ss);
	int unreadable = r->ss.read_error[0] && !r->live && r->ss.dec.frames == 0;
	int quiet = r->stop == RUN_STOP_PIPE;

	/* A file that yields not one frame gets an error, not an empty summary. */
	if (r->sink && !unreadable && !r->out_err) {
		struct lt_run_end re = { .stats = engine_stats(r->eng),
					 .flows = flow_tab_counters(engine_flows(r->eng)),
					 .src = &r->ss };
		errno = 0;
		r->sink->ops->end(r->sink, &r->ri, &re);
		note_stdout(r);
	}
	if (r->pcap) {
		struct pcapw *w = r->pcap;
		uint64_t n = pcapw_count(w), synth = pcapw_synth(w), forced = pcapw_forced(w),
			 skipped = pcapw_skipped(w);
		int rc = pcapw_close(w);
		r->pcap = NULL;
		if ((rc < 0 || r->pcap_err) && r->stop == RUN_STOP_PIPE) {
			quiet = 1;
		} else if (rc < 0 || r->pcap_err) {
			fprintf(stderr, "lotrace: writing '%s' failed: %s\n", o->write_file,
				strerror(r->pcap_err ? r->pcap_err : -rc));
			status = 1;
		} else if (o->verbose || r->live) {
			fprintf(stderr, "lotrace: wrote %llu segments to '%s' (%s)\n",
				(unsigned long long)n, o->write_file,
				synth ? "header snapshots: the eBPF backend sees headers, not "
					"payload"
				      : "packets as captured");
		}
		if (forced)
			fprintf(stderr,
				"lotrace: %llu packets of '%s' went out before their connection "
				"ended (the %u MiB -w buffer was full); their comments say so\n",
				(unsigned long long)forced, o->write_file, PCAPW_HOLD_MAX >> 20);
		if (skipped) {
			fprintf(stderr,
				"lotrace: %llu packets of another link type were not written to "
				"'%s': a pcap file holds one link type; write pcapng (-w "
				"FILE.pcapng)\n",
				(unsigned long long)skipped, o->write_file);
			status = 1;
		}
	}
	if (r->met) {
		metrics_refresh(r, 1); /* the file keeps the final numbers */
		if (r->mfile_err)
			status = 1;
	}
	if (r->rep && !unreadable && (r->fe == RUN_REPORT || o->report_file) &&
	    !(r->fe == RUN_REPORT && !o->report_file && r->out_err) && write_report(r) < 0)
		status = 1;
	if (r->to_stdout && !r->out_err) {
		errno = 0;
		if (fflush(r->out) != 0 || ferror(r->out))
			r->out_err = out_errno(r);
	}
	if (r->out_owned && !r->out_err) {
		errno = 0;
		if (fclose(r->out) != 0)
			r->out_err = out_errno(r);
		r->out_owned = 0;
	}
	if (r->out_err == EPIPE && r->out == stdout)
		quiet = 1;
	else if (r->out_err) {
		char name[LT_ERR_LEN];
		fprintf(stderr, "lotrace: cannot write %s: %s\n", out_name(r, name),
			strerror(r->out_err));
		status = 1;
	}

	if (r->in_err && !quiet && !(r->ss.read_error[0] && !r->live)) {
		fprintf(stderr, "lotrace: capture failed: %s\n",
			r->ss.read_error[0] ? r->ss.read_error : strerror(-r->in_err));
		status = 1;
	}
	if (unreadable) {
		fprintf(stderr, "lotrace: cannot read capture '%s': %s\n", r->src->desc,
			r->ss.read_error);
		status = 1;
	} else if (r->ss.read_error[0] && !r->live) {
		if (!quiet)
			fprintf(stderr, "lotrace: capture '%s' ends early: %s; %s\n", r->src->desc,
				r->ss.read_error,
				r->fe == RUN_HEADLESS ? "the connections above are what it held"
				: r->fe == RUN_REPORT ? "the report covers what it held"
						      : "the view showed what it held");
		status = 1;
	}
	if (r->ss.lost && !quiet)
		fprintf(stderr, "lotrace: %llu events were lost\n", (unsigned long long)r->ss.lost);
	return status;
}

void run_close(struct lt_run *r)
{
	if (!r)
		return;
	if (r->rep)
		report_free(r->rep);
	if (r->rep_out) {
		/* no report was written: none is left behind, an old one stays */
		fclose(r->rep_out);
		if (r->rep_created)
			unlink(r->o->report_file);
	}
	if (r->pcap)
		pcapw_close(r->pcap);
	if (r->sink)
		r->sink->ops->free(r->sink);
	if (r->out_owned)
		fclose(r->out);
	metrics_serve_close(r->msrv);
	metrics_free(r->met);
	if (r->met)
		sbuf_release(&r->mtext);
	if (r->src)
		r->src->ops->close(r->src);
	engine_release(r->eng);
	free(r->notes);
	free(r);
}

int run_main(const struct lt_opts *o, enum run_front fe)
{
	int status;
	struct lt_run *r = run_open(o, fe, &status);
	if (!r)
		return status;
	while (run_step(r, 100000000ull)) {
		int fd = run_fd(r), ms = run_wait_ms(r);
		if (fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
				r->in_err = -errno;
				run_stop(r, RUN_STOP_INPUT);
			}
		} else if (ms > 0) {
			poll(NULL, 0, ms > POLL_MS ? POLL_MS : ms);
		}
	}
	status = run_finish(r);
	run_close(r);
	return status;
}

/* ---- read-only views and small controls ---------------------------------- */

int run_add_tap(struct lt_run *r, const struct lt_tap *t)
{
	return engine_add_tap(r->eng, t);
}

void run_remove_tap(struct lt_run *r, const void *ctx)
{
	engine_remove_tap(r->eng, ctx);
}

int run_live(const struct lt_run *r)
{
	return r->live;
}

enum run_stop run_stopped(const struct lt_run *r)
{
	return r->stop;
}

const char *run_stop_text(const struct lt_run *r)
{
	return r->why;
}

const struct lt_run_info *run_info(const struct lt_run *r)
{
	return &r->ri;
}

const struct stats *run_stats(const struct lt_run *r)
{
	return engine_stats(r->eng);
}

const struct flow_counters *run_flow_counters(const struct lt_run *r)
{
	return flow_tab_counters(engine_flows(r->eng));
}

const struct flow_config *run_flow_config(const struct lt_run *r)
{
	return engine_config(r->eng);
}

const struct flow_tab *run_flows(const struct lt_run *r)
{
	return engine_flows(r->eng);
}

void run_feed(struct lt_run *r, const struct lt_obs *o)
{
	run_obs(r, o);
}

void run_foreach_active(const struct lt_run *r, void (*fn)(void *ctx, const struct flow *f),
			void *ctx)
{
	flow_foreach(engine_flows(r->eng), fn, ctx);
}

void run_source_stats(const struct lt_run *r, struct lt_source_stats *ss)
{
	if (r->stop) {
		*ss = r->ss;
		return;
	}
	r->src->ops->stats(r->src, ss);
}

uint64_t run_now(const struct lt_run *r)
{
	return r->src->ops->now(r->src);
}

double run_speed(const struct lt_run *r)
{
	return r->paced ? src_pace_speed(r->src) : 0;
}

int run_set_speed(struct lt_run *r, double speed)
{
	if (!r->paced || r->stop)
		return -1;
	src_pace_set_speed(r->src, speed);
	return 0;
}

double run_next_speed(double speed, int dir)
{
	return src_pace_next_speed(speed, dir);
}

int run_write_report(struct lt_run *r, const char *path)
{
	struct lt_source_stats ss;
	FILE *f;
	int rc;

	if (!r->rep)
		return -ENOMEM;
	if (!(f = fopen(path, "w")))
		return -errno;
	run_source_stats(r, &ss);
	rc = report_write(r->rep, f, report_format_for(path), &r->ri, &ss, !r->stop);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
