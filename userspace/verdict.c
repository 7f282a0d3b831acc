/* SPDX-License-Identifier: MIT */
/*
 * verdict.c - what happened to one connection: its verdict, outcome, Zeek
 * conn_state, handshake latencies, and the words for them.
 *
 * Pure functions of a struct flow (and, for the live "connecting"
 * verdict, the clock). Owns no state. The table that fills struct flow
 * is flow.c; findings over many connections are diagnose.c.
 */
#include "verdict.h"

#include <inttypes.h>
#include <string.h>

#include "flow.h"
#include "fmt.h"
#include "sbuf.h"

/* ---- names ------------------------------------------------------------- */

static const char *const verdict_names[LT_V_COUNT] = {
	[LT_V_CONNECTING] = "connecting",
	[LT_V_REFUSED] = "refused",
	[LT_V_UNANSWERED] = "unanswered",
	[LT_V_HALF_OPEN] = "half-open",
	[LT_V_OPEN] = "open",
	[LT_V_HALF_CLOSED] = "half-closed",
	[LT_V_CLOSED] = "closed",
	[LT_V_RESET_CLIENT] = "reset-by-client",
	[LT_V_RESET_SERVER] = "reset-by-server",
	[LT_V_MIDSTREAM] = "mid-stream",
};

static const char *const verdict_labels[LT_V_COUNT] = {
	[LT_V_CONNECTING] = "CONNECTING",
	[LT_V_REFUSED] = "REFUSED",
	[LT_V_UNANSWERED] = "UNANSWERED",
	[LT_V_HALF_OPEN] = "HALF-OPEN",
	[LT_V_OPEN] = "OPEN",
	[LT_V_HALF_CLOSED] = "HALF-CLOSED",
	[LT_V_CLOSED] = "CLOSED",
	[LT_V_RESET_CLIENT] = "RESET-CLIENT",
	[LT_V_RESET_SERVER] = "RESET-SERVER",
	[LT_V_MIDSTREAM] = "MID-STREAM",
};

const char *lt_verdict_name(enum lt_verdict v)
{
	return (unsigned)v < LT_V_COUNT ? verdict_names[v] : "?";
}

const char *lt_verdict_label(enum lt_verdict v)
{
	return (unsigned)v < LT_V_COUNT ? verdict_labels[v] : "?";
}

const char *lt_rst_phase_name(enum lt_rst_phase p)
{
	switch (p) {
	case LT_RST_NONE:
		return "none";
	case LT_RST_HANDSHAKE:
		return "handshake";
	case LT_RST_BEFORE_DATA:
		return "before-data";
	case LT_RST_AFTER_DATA:
		return "after-data";
	case LT_RST_AFTER_FIN:
		return "after-fin";
	}
	return "?";
}

bool lt_verdict_ended(enum lt_verdict v)
{
	switch (v) {
	case LT_V_REFUSED:
	case LT_V_CLOSED:
	case LT_V_RESET_CLIENT:
	case LT_V_RESET_SERVER:
		return true;
	case LT_V_CONNECTING:
	case LT_V_UNANSWERED:
	case LT_V_HALF_OPEN:
	case LT_V_OPEN:
	case LT_V_HALF_CLOSED:
	case LT_V_MIDSTREAM:
	case LT_V_COUNT:
		break;
	}
	return false;
}

/* ---- verdicts ---------------------------------------------------------- */

bool flow_established(const struct flow *f)
{
	return f->t_ack != 0 || f->role_basis == LT_ROLE_PORT;
}

static bool any_rst(const struct flow *f)
{
	return f->side[0].rst_count + f->side[1].rst_count > 0;
}

/* How an established (or mid-stream) connection stands. */
enum lt_verdict flow_outcome(const struct flow *f)
{
	uint32_t fins = (f->side[0].fin_count > 0) + (f->side[1].fin_count > 0);

	if (any_rst(f) && !(f->anomalies & LT_A_RST_AFTER_CLOSE))
		return f->rst_dir == LT_DIR_C2S ? LT_V_RESET_CLIENT : LT_V_RESET_SERVER;
	if (fins == 2)
		return LT_V_CLOSED;
	if (fins == 1)
		return LT_V_HALF_CLOSED;
	return LT_V_OPEN;
}

enum lt_verdict flow_verdict(const struct flow *f, uint64_t now_ns, bool final,
			     uint64_t connecting_ns)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];

	if (f->role_basis == LT_ROLE_PORT)
		return LT_V_MIDSTREAM;
	if (s->syn_count == 0) {
		if (s->rst_count > 0)
			return LT_V_REFUSED;
		if (!final && c->syn_count <= 1 && c->rst_count == 0 && c->fin_count == 0 &&
		    now_ns - c->t_syn_first < connecting_ns)
			return LT_V_CONNECTING;
		return LT_V_UNANSWERED;
	}
	if (!flow_established(f)) {
		if (any_rst(f))
			return f->rst_dir == LT_DIR_C2S ? LT_V_RESET_CLIENT : LT_V_RESET_SERVER;
		if (!final && s->syn_count <= 1 && now_ns - s->t_syn_first < connecting_ns)
			return LT_V_CONNECTING;
		return LT_V_HALF_OPEN;
	}
	return flow_outcome(f);
}

enum zeek_ep {
	ZEP_INACTIVE,
	ZEP_SYN_SENT,
	ZEP_PARTIAL,
	ZEP_ESTABLISHED,
	ZEP_CLOSED,
	ZEP_RESET,
};

static enum zeek_ep zeek_endpoint(const struct flow *f, int dir)
{
	const struct flow_side *sd = &f->side[dir];
	bool synack = f->side[LT_DIR_S2C].syn_count > 0;

	if (sd->rst_count)
		return ZEP_RESET;
	if (sd->fin_count)
		return ZEP_CLOSED;
	if (sd->pkts == 0)
		return ZEP_INACTIVE;
	if (dir == LT_DIR_C2S && sd->syn_count && !synack)
		return ZEP_SYN_SENT;
	if (f->role_basis == LT_ROLE_PORT)
		return ZEP_PARTIAL;
	if (synack)
		return ZEP_ESTABLISHED;
	return ZEP_PARTIAL;
}

/* Zeek's conn_state precedence (base/protocols/conn): responder reset,
 * originator reset, closes, then attempts and establishment. */
const char *flow_zeek_state(const struct flow *f)
{
	enum zeek_ep o = zeek_endpoint(f, LT_DIR_C2S);
	enum zeek_ep r = zeek_endpoint(f, LT_DIR_S2C);
	bool syn = f->side[LT_DIR_C2S].syn_count > 0;
	bool synack = f->side[LT_DIR_S2C].syn_count > 0;
	bool payload = f->side[0].bytes + f->side[1].bytes > 0;

	if (r == ZEP_RESET) {
		if (o == ZEP_SYN_SENT || (syn && !synack) || (o == ZEP_RESET && !payload))
			return "REJ";
		if (!syn && synack)
			return "RSTRH";
		return "RSTR";
	}
	if (o == ZEP_RESET) {
		if (r == ZEP_INACTIVE)
			return syn ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (o == ZEP_CLOSED && r == ZEP_CLOSED)
		return "SF";
	if (o == ZEP_CLOSED)
		return r == ZEP_INACTIVE ? "SH" : "S2";
	if (r == ZEP_CLOSED)
		return o == ZEP_INACTIVE ? "SHR" : "S3";
	if (o == ZEP_SYN_SENT && r == ZEP_INACTIVE)
		return "S0";
	if (o == ZEP_ESTABLISHED && r == ZEP_ESTABLISHED)
		return "S1";
	return "OTH";
}

int64_t flow_syn_to_synack(const struct flow *f)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	if (!c->syn_count || !s->syn_count || s->t_syn_first < c->t_syn_first)
		return -1;
	return (int64_t)(s->t_syn_first - c->t_syn_first);
}

int64_t flow_synack_to_ack(const struct flow *f)
{
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	if (!s->syn_count || !f->t_ack || f->t_ack < s->t_syn_first)
		return -1;
	return (int64_t)(f->t_ack - s->t_syn_first);
}

int64_t flow_syn_to_rst(const struct flow *f)
{
	const struct flow_side *c = &f->side[LT_DIR_C2S];
	const struct flow_side *s = &f->side[LT_DIR_S2C];
	if (!c->syn_count || !s->rst_count || s->syn_count || s->t_rst < c->t_syn_first)
		return -1;
	return (int64_t)(s->t_rst - c->t_syn_first);
}


/* ---- anomalies --------------------------------------------------------- */

const char *lt_anomaly_name(uint32_t bit)
{
	switch (bit) {
	case LT_A_SYN_NOT_SEEN:
		return "syn-not-seen";
	case LT_A_TIME_BACKWARDS:
		return "timestamps-out-of-order";
	case LT_A_EVICTED:
		return "evicted";
	case LT_A_REUSED:
		return "tuple-reused";
	case LT_A_TIMELINE_CUT:
		return "timeline-cut";
	case LT_A_RST_AFTER_CLOSE:
		return "rst-after-close";
	case LT_A_LISTEN_OVERFLOW:
		return "accept-queue-overflow";
	case LT_A_EVENTS_LOST:
		return "events-lost";
	case LT_A_DUP_COPIES:
		return "duplicate-copies";
	case LT_A_TIME_JUMP:
		return "after-time-jump";
	}
	return NULL;
}

/* ---- words ------------------------------------------------------------- */

void verdict_text(struct sbuf *b, const struct flow *f, enum lt_verdict v)
{
	sbuf_puts(b, lt_verdict_name(v));
	if (v == LT_V_MIDSTREAM) {
		sbuf_puts(b, ", ");
		sbuf_puts(b, lt_verdict_name(flow_outcome(f)));
	} else if ((v == LT_V_RESET_CLIENT || v == LT_V_RESET_SERVER) &&
		   f->rst_phase != LT_RST_NONE) {
		sbuf_printf(b, " (%s)", lt_rst_phase_name(f->rst_phase));
	} else if (v == LT_V_UNANSWERED && f->side[LT_DIR_C2S].syn_count > 1) {
		sbuf_printf(b, " (%u SYNs)", f->side[LT_DIR_C2S].syn_count);
	}
}

void verdict_explain(struct sbuf *b, const struct flow *f, enum lt_verdict v,
		     const struct verdict_explain_ctx *x)
{
	char srv[FMT_EP_LEN], os[FMT_EP_LEN], d[24], d2[24];
	bool other = x && x->other_id;
	uint64_t now = x ? x->now_ns : 0;

	fmt_endpoint(srv, f->family, &f->server);
	switch (v) {
	case LT_V_CONNECTING:
		sbuf_printf(b,
			    "A SYN went out to %s %s ago and nothing answered yet; "
			    "after %s without an answer lotrace calls it unanswered.",
			    srv, fmt_dur(d, (int64_t)(now > f->t_first ? now - f->t_first : 0)),
			    fmt_dur(d2, (int64_t)(x ? x->connecting_ns : 0)));
		break;
	case LT_V_REFUSED:
		sbuf_printf(b,
			    "The server side answered the SYN with a RST: nothing listens on %s "
			    "(or a firewall rejects it); the client gets ECONNREFUSED.",
			    srv);
		if (other)
			sbuf_printf(b,
				    " Yet connections to %s succeed (connection #%" PRIu64
				    "): the server listens on IPv%d only; make it listen on both, "
				    "or connect to %s.",
				    fmt_endpoint(os, x->other_family, &x->other_server),
				    x->other_id, x->other_family, os);
		if (f->reset_reason[0])
			sbuf_printf(b, " The kernel's reason for the RST: %s.", f->reset_reason);
		break;
	case LT_V_UNANSWERED:
		sbuf_printf(b,
			    "The SYN got no answer (%u sent). On loopback nothing is lost "
			    "by accident: a firewall DROP rule, a full SYN or accept queue, or a "
			    "listener that stopped accepting swallowed it.",
			    f->side[LT_DIR_C2S].syn_count ? f->side[LT_DIR_C2S].syn_count : 1);
		break;
	case LT_V_HALF_OPEN:
		sbuf_puts(b, "The server answered with a SYN-ACK but the handshake never "
			     "completed: the client's ACK did not come (the client gave up) or was "
			     "dropped, often because the server's accept queue was full.");
		break;
	case LT_V_OPEN:
		sbuf_puts(b, "The handshake completed (SYN, SYN-ACK, ACK) and the connection "
			     "is still open.");
		break;
	case LT_V_HALF_CLOSED:
		sbuf_printf(b,
			    "The connection was established, then the %s sent a FIN and the "
			    "other side has not closed yet: it still has to call close() or "
			    "shutdown().",
			    f->side[LT_DIR_C2S].fin_count ? "client" : "server");
		break;
	case LT_V_CLOSED:
		sbuf_puts(b, "A healthy connection: the handshake completed and both sides "
			     "closed it with a FIN.");
		break;
	case LT_V_RESET_CLIENT:
		sbuf_printf(b,
			    "The client aborted the connection with a RST (%s): usually "
			    "close() with unread data, SO_LINGER 0, or the client process died.",
			    lt_rst_phase_name((enum lt_rst_phase)f->rst_phase));
		break;
	case LT_V_RESET_SERVER:
		sbuf_printf(b,
			    "The server aborted the connection with a RST (%s): the "
			    "application closed with unread data, crashed, or the socket was torn "
			    "down%s.",
			    lt_rst_phase_name((enum lt_rst_phase)f->rst_phase),
			    f->reset_reason[0] ? "; the kernel's reason is below" : "");
		break;
	case LT_V_MIDSTREAM:
		sbuf_printf(b,
			    "The capture started after the handshake, so only the middle "
			    "of this connection was seen; what followed: %s.",
			    lt_verdict_name(flow_outcome(f)));
		break;
	case LT_V_COUNT:
		sbuf_puts(b, "?");
		break;
	}
	if (f->anomalies & LT_A_EVENTS_LOST)
		sbuf_puts(b, " lotrace lost events while this connection was live, so some of "
			     "its segments may be missing: the verdict may be wrong.");
}
