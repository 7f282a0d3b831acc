/* SPDX-License-Identifier: MIT */
/* opts.c - getopt_long parsing and validation of the command line. */
#include "opts.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_serve.h"

#define LT_SPEED_MIN 0.01
#define LT_SPEED_MAX 1e6

enum {
	OPT_JSON = 256,
	OPT_NO_TUI,
	OPT_TUI,
	OPT_DURATION,
	OPT_MAX_FLOWS,
	OPT_RING,
	OPT_SPEED,
	OPT_DEMO,
	OPT_REPORT,
	OPT_FORMAT,
	OPT_BACKEND,
	OPT_ATTACH,
	OPT_NETNS,
	OPT_SORT,
	/* metrics and service outputs */
	OPT_METRICS,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	OPT_NO_PAYLOAD,
};

static const struct option long_opts[] = {
	{ "read", required_argument, 0, 'r' },
	{ "port", required_argument, 0, 'p' },
	{ "interface", required_argument, 0, 'i' },
	{ "write", required_argument, 0, 'w' },
	{ "count", required_argument, 0, 'c' },
	{ "backend", required_argument, 0, OPT_BACKEND },
	{ "attach", required_argument, 0, OPT_ATTACH },
	{ "netns", required_argument, 0, OPT_NETNS },
	{ "json", optional_argument, 0, OPT_JSON },
	{ "format", required_argument, 0, OPT_FORMAT },
	{ "no-tui", no_argument, 0, OPT_NO_TUI },
	{ "tui", no_argument, 0, OPT_TUI },
	{ "duration", required_argument, 0, OPT_DURATION },
	{ "max-flows", required_argument, 0, OPT_MAX_FLOWS },
	{ "ring-size", required_argument, 0, OPT_RING },
	{ "speed", required_argument, 0, OPT_SPEED },
	{ "demo", no_argument, 0, OPT_DEMO },
	{ "report", required_argument, 0, OPT_REPORT },
	{ "sort", required_argument, 0, OPT_SORT },
	{ "no-payload", no_argument, 0, OPT_NO_PAYLOAD },
	{ "quiet", no_argument, 0, 'q' },
	{ "metrics", required_argument, 0, OPT_METRICS },
	{ "metrics-file", required_argument, 0, OPT_METRICS_FILE },
	{ "metrics-interval", required_argument, 0, OPT_METRICS_INTERVAL },
	{ "relinquish-privileges", required_argument, 0, 'Z' },
	{ "verbose", no_argument, 0, 'v' },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' },
	{ 0, 0, 0, 0 },
};

void opts_usage(FILE *out)
{
	fputs("usage: lotrace [options]              watch TCP handshakes on loopback, live\n"
	      "       lotrace -r FILE [options]      explain every connection in a capture\n"
	      "       lotrace report -r FILE [options]  a summary to paste into a bug report\n"
	      "  any of them may end with a pcap-filter EXPRESSION, as tcpdump takes it\n"
	      "\n"
	      "  -p, --port N[,N...]   server port(s) to watch (0-65535, ranges as 61900-61911);\n"
	      "                        repeatable; default all\n"
	      "  -r, --read FILE       replay a pcap/pcapng capture (gzip is fine; - reads "
	      "stdin);\n"
	      "                        repeat -r (or give a glob) to merge files by time\n"
	      "  -i, --interface IF    live capture device (default: the loopback, lo/lo0)\n"
	      "      --backend B       auto (default), ebpf or pcap\n"
	      "      --attach A        eBPF hook: auto (tcx, else tc), tcx, or tc (clsact filter)\n"
	      "      --netns NS        only this network namespace: an `ip netns` name, a path\n"
	      "                        (/proc/PID/ns/net) or host; default with eBPF: every\n"
	      "                        namespace's lo, a netns column once two are seen\n"
	      "  -w, --write FILE      also write the packets seen: pcap, pcapng with verdict\n"
	      "                        comments if FILE ends in .pcapng, - for stdout\n"
	      "  -c, --count N         stop after N connections\n"
	      "      --duration D      stop after D (e.g. 10s, 500ms, 2m)\n"
	      "      --json [FILE]     newline-delimited JSON instead of text; to FILE if\n"
	      "                        given (reopened on SIGHUP, for logrotate)\n"
	      "      --format F        text, json, zeek (conn.log JSON lines) or markdown "
	      "(report)\n"
	      "  -t / -tt / -ttt / -tttt / -ttttt\n"
	      "                        no time / epoch seconds / since the previous line /\n"
	      "                        date and time / since the first line (as tcpdump)\n"
	      "  -n                    accepted for tcpdump habits: lotrace never resolves names\n"
	      "  -q, --quiet           the summary only, no line per connection\n"
	      "      --sort S          end (default: a line as each connection ends) or start\n"
	      "                        (by first packet; capture files only)\n"
	      "      --report FILE     write a bug-report summary to FILE at the end\n"
	      "      --no-payload      keep no payload bytes: no protocol classification\n"
	      "      --no-tui          plain lines even on a terminal\n"
	      "      --tui             the full-screen view even when not a terminal\n"
	      "      --speed S         replay speed: instant, 1 (real time), 10 (10x)...\n"
	      "      --max-flows N     connections tracked at once (default 65536)\n"
	      "      --ring-size BYTES eBPF ring buffer size (default 16 MiB)\n"
	      "      --demo            replay the bundled demo capture\n"
	      "      --metrics [ADDR:]PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	      "                        (ADDR defaults to 127.0.0.1)\n"
	      "      --metrics-file PATH  write the same metrics to PATH (node_exporter's\n"
	      "                        textfile collector) every --metrics-interval\n"
	      "      --metrics-interval D  how often (default 15s)\n"
	      "  -Z, --relinquish-privileges USER\n"
	      "                        once the capture and the outputs are open, run as\n"
	      "                        USER (default nobody when root; root keeps root)\n"
	      "  -v, --verbose         say more about what lotrace is doing\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         the version, the live backends and library versions\n"
	      "\n"
	      "Exit status: 0 done, 1 runtime or input error, 2 bad usage.\n"
	      "\n"
	      "Examples:\n"
	      "  sudo lotrace --port 61900          live view of handshakes to port 61900\n"
	      "  lotrace -r capture.pcap --json     every connection of a capture, as JSON\n"
	      "  tcpdump -i lo -w - | lotrace -r -  what tcpdump captures, explained\n"
	      "  lotrace -r a.pcap -r b.pcap 'tcp port 80 and host ::1'\n"
	      "  lotrace report -r capture.pcap --port 61900 > report.md\n",
	      out);
}

/*
 * Numbers on the command line are plain decimals: digits, then
 * optionally '.' and digits. No sign, no exponent, no hex, no inf or nan,
 * no spaces: strtod and strtoull would take "0x10", "nan", "1e-300" or
 * wrap "18446744073709551616" silently, and the locale would decide what
 * '.' means. Returns a pointer past the number, or NULL.
 */
static const char *parse_decimal(const char *s, double *out)
{
	const char *p = s;
	double v = 0, scale = 1;

	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9') {
			scale /= 10;
			v += (*p++ - '0') * scale;
		}
	}
	if (!isfinite(v))
		return NULL;
	*out = v;
	return p;
}

int64_t opts_parse_duration(const char *s)
{
	double v, mult;
	const char *end = parse_decimal(s, &v);

	if (!end)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "us"))
		mult = 1e3;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else
		return -1;
	if (v * mult > 9e18)
		return -1;
	return (int64_t)(v * mult);
}

/* Decimal digits only, no sign, no overflow (18446744073709551616 is an
 * error, not UINT64_MAX), at most max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

#define FAIL(...)                                              \
	do {                                                   \
		snprintf(o->err, sizeof(o->err), __VA_ARGS__); \
		return -1;                                     \
	} while (0)

int opts_parse(struct lt_opts *o, int argc, char **argv)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->speed = 0;
	if (argc > 1 && !strcmp(argv[1], "report")) {
		o->report_cmd = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":r:p:i:w:c:Z:tnqvhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->nread >= LT_MAX_READ)
				FAIL("too many -r files: at most %d; merge them first with "
				     "mergecap",
				     LT_MAX_READ);
			for (int i = 0; i < o->nread; i++)
				if (!strcmp(optarg, "-") && !strcmp(o->read_files[i], "-"))
					FAIL("-r - given twice: standard input can be read once");
			o->read_files[o->nread++] = optarg;
			o->read_file = o->read_files[0];
			break;
		case 'p':
			if (ports_add(&o->ports, optarg, o->err, sizeof(o->err)) < 0)
				return -1;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) >= 16)
				FAIL("invalid interface name '%s': expected 1-15 characters, e.g. "
				     "lo",
				     optarg);
			o->ifname = optarg;
			break;
		case 'w':
			o->write_file = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, UINT64_MAX, &v) < 0 || v == 0)
				FAIL("invalid count '%s': expected an integer from 1 to "
				     "18446744073709551615",
				     optarg);
			o->count = v;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "auto"))
				o->backend = LT_BACKEND_AUTO;
			else if (!strcmp(optarg, "ebpf") || !strcmp(optarg, "bpf"))
				o->backend = LT_BACKEND_EBPF;
			else if (!strcmp(optarg, "pcap"))
				o->backend = LT_BACKEND_PCAP;
			else
				FAIL("invalid backend '%s': expected auto, ebpf or pcap", optarg);
			break;
		case OPT_ATTACH:
			if (!strcmp(optarg, "auto"))
				o->attach = 0;
			else if (!strcmp(optarg, "tcx"))
				o->attach = 1;
			else if (!strcmp(optarg, "tc") || !strcmp(optarg, "clsact"))
				o->attach = 2;
			else
				FAIL("invalid attach mode '%s': expected auto, tcx or tc", optarg);
			break;
		case OPT_NETNS:
			if (!optarg[0])
				FAIL("invalid network namespace '': expected an `ip netns` name, a "
				     "path or host");
			o->netns = optarg;
			break;
		case OPT_JSON:
			o->format = LT_FMT_JSON;
			o->format_set = 1;
			/* "--json FILE": lotrace takes no operands, so a word that
			 * follows and is not an option can only be the file */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (optarg && !*optarg)
				FAIL("option '--json' needs a file name, or no value for stdout");
			o->json_file = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				o->format = LT_FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				o->format = LT_FMT_JSON;
			else if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md"))
				o->format = LT_FMT_MARKDOWN;
			else if (!strcmp(optarg, "zeek"))
				o->format = LT_FMT_ZEEK;
			else
				FAIL("invalid format '%s': expected text, json, zeek or markdown",
				     optarg);
			o->format_set = 1;
			break;
		case OPT_NO_PAYLOAD:
			o->no_payload = 1;
			break;
		case OPT_NO_TUI:
			o->no_tui = 1;
			break;
		case OPT_TUI:
			o->tui = 1;
			break;
		case OPT_DURATION: {
			int64_t d = opts_parse_duration(optarg);
			if (d <= 0)
				FAIL("invalid duration '%s': expected e.g. 10s, 500ms, 2m", optarg);
			o->duration_ns = (uint64_t)d;
			break;
		}
		case OPT_MAX_FLOWS:
			if (parse_uint(optarg, 1u << 24, &v) < 0 || v < 16)
				FAIL("invalid --max-flows '%s': expected 16 to 16777216", optarg);
			o->max_flows = (uint32_t)v;
			break;
		case OPT_RING:
			if (parse_uint(optarg, 1u << 30, &v) < 0 || v < 4096 || (v & (v - 1)))
				FAIL("invalid --ring-size '%s': expected a power of two from 4096 "
				     "to 1073741824",
				     optarg);
			o->ring_bytes = (uint32_t)v;
			break;
		case OPT_SPEED:
			if (!strcmp(optarg, "instant")) {
				o->speed = 0;
			} else {
				double s;
				const char *end = parse_decimal(optarg, &s);
				/* below 0.01 a replay would all but stop */
				if (!end || (*end && strcmp(end, "x")) || s < LT_SPEED_MIN ||
				    s > LT_SPEED_MAX)
					FAIL("invalid speed '%s': expected instant or a factor "
					     "from 0.01 to 1000000, e.g. 1, 10, 0.5",
					     optarg);
				o->speed = s;
			}
			break;
		case OPT_DEMO:
			o->demo = 1;
			break;
		case OPT_REPORT:
			o->report_file = optarg;
			break;
		/* ---- how connection lines look (sink.h) ---- */
		case 't':
			if (++o->ts_mode > 5)
				FAIL("too many -t: -t, -tt, -ttt, -tttt or -ttttt");
			break;
		case 'n':
			break; /* lotrace never resolves names */
		case 'q':
			o->quiet = 1;
			break;
		case OPT_SORT:
			if (!strcmp(optarg, "end"))
				o->sort_start = 0;
			else if (!strcmp(optarg, "start"))
				o->sort_start = 1;
			else
				FAIL("invalid --sort '%s': expected end or start", optarg);
			break;
		/* ---- */
		/* metrics and service outputs */
		case OPT_METRICS: {
			struct sockaddr_storage sa;
			socklen_t len;
			if (metrics_listen_parse(optarg, &sa, &len, o->err, sizeof(o->err)) < 0)
				return -1;
			o->metrics_listen = optarg;
			break;
		}
		case OPT_METRICS_FILE:
			if (!*optarg)
				FAIL("option '--metrics-file' needs a file name, e.g. "
				     "/var/lib/prometheus/node-exporter/lotrace.prom");
			o->metrics_file = optarg;
			break;
		case OPT_METRICS_INTERVAL: {
			int64_t d = opts_parse_duration(optarg);
			if (d < 1000000000 || d > 86400000000000)
				FAIL("invalid --metrics-interval '%s': expected 1s to 24h, e.g. "
				     "15s",
				     optarg);
			o->metrics_interval_ns = (uint64_t)d;
			break;
		}
		case 'Z':
			o->run_as = optarg; /* resolved by privdrop_resolve (main.c) */
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			o->help = 1;
			return 0;
		case 'V':
			o->version = 1;
			return 0;
		case ':':
			FAIL("option '%s' needs a value; see lotrace --help", argv[optind - 1]);
		case '?':
		default:
			if (optopt)
				FAIL("unknown option '-%c'; see lotrace --help", optopt);
			FAIL("unknown option '%s'; see lotrace --help", argv[optind - 1]);
		}
	}
	/* What is left is a pcap-filter expression, as tcpdump takes it:
	 * the words joined by spaces (libpcap checks it: opts_check_filter). */
	for (size_t used = 0; optind < argc; optind++) {
		int n = snprintf(o->filter + used, sizeof(o->filter) - used, "%s%s",
				 used ? " " : "", argv[optind]);
		if (n < 0 || (size_t)n >= sizeof(o->filter) - used)
			FAIL("filter expression too long: at most %d characters",
			     LT_OPTS_FILTER_MAX - 1);
		used += (size_t)n;
	}
	/* -w -: stdout carries the packets, so no full-screen view on it */
	if (o->write_file && !strcmp(o->write_file, "-")) {
		if (o->tui)
			FAIL("--tui and -w - cannot be used together: -w - writes the packets to "
			     "stdout");
		o->no_tui = 1;
	}
	if (o->read_file && o->ifname)
		FAIL("-r and -i cannot be used together: replay a file or capture live");
	if (o->read_file && o->demo)
		FAIL("-r and --demo cannot be used together");
	if (o->metrics_interval_ns && !o->metrics_file)
		FAIL("--metrics-interval needs --metrics-file (the HTTP endpoint is always "
		     "current)");
	if (!o->metrics_interval_ns)
		o->metrics_interval_ns = METRICS_INTERVAL_DEFAULT_NS;
	if (o->tui && o->no_tui)
		FAIL("--tui and --no-tui cannot be used together");
	if (o->sort_start && !o->read_file && !o->demo)
		FAIL("--sort start needs a capture file (-r): a live run prints each connection as "
		     "it ends");
	if (o->report_cmd && o->format == LT_FMT_ZEEK)
		FAIL("--format zeek is for connection records, not the report: use markdown, text "
		     "or json");
	if (o->quiet && o->format == LT_FMT_ZEEK)
		FAIL("-q and --format zeek cannot be used together: conn.log has no summary");
	return 0;
}
