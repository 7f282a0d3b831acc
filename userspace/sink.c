/* SPDX-License-Identifier: MIT */
/*
 * sink.c - the sink the command line asks for: text, JSON or Zeek, with
 * the options that shape every record (-t.., -q, --sort).
 * Owns nothing else; the sinks are sink_text.c, sink_json.c, sink_zeek.c.
 */
#include "sink.h"

#include <stdio.h>

#include "opts.h"

void sink_netns_name(const struct lt_netns *ns, char *out, size_t len)
{
	int n;

	if (!len)
		return;
	out[0] = 0;
	if (!ns)
		return;
	if (ns->name[0])
		n = snprintf(out, len, "%s", ns->name);
	else
		n = snprintf(out, len, "netns:%u", (unsigned)ns->ino);
	if (ns->container[0] && n >= 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "/%s", ns->container);
}

void sink_netns_label(const struct flow *f, char *out, size_t len)
{
	sink_netns_name(f->ns, out, len);
}

struct lt_sink *sink_for_opts(FILE *out, const struct lt_opts *o)
{
	struct lt_sink_cfg cfg = {
		.ts_mode = (enum lt_ts_mode)o->ts_mode,
		.quiet = o->quiet,
		.sort_start = o->sort_start,
		.netns_always = o->netns != NULL,
	};
	switch (o->format) {
	case LT_FMT_JSON:
		return sink_json_open(out, &cfg);
	case LT_FMT_ZEEK:
		return sink_zeek_open(out, &cfg);
	case LT_FMT_TEXT:
	case LT_FMT_MARKDOWN:
		break;
	}
	return sink_text_open(out, &cfg);
}
