/* fsm.c: the raft_fsm over cellstate: applies group-commit entries on every
 * replica, snapshots and restores the cell state with the member table.
 * Deterministic: apply() reads no clock and no local setting; its only
 * inputs are the state, the entry bytes and the entry index. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_bytes.h"
#include "cr_fsm.h"

#define SNAPSHOT_MAGIC   0x534c4543u /* "CELS" */
#define SNAPSHOT_VERSION 1u

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cr_log(const struct cr_fsm_hooks *h, enum cst_log_level level,
            const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (h && h->log)
		h->log(h->arg, level, msg);
	else
		fprintf(stderr, "cellraft %s: %s\n", level_names[level], msg);
}

/* ---- member table -------------------------------------------------------- */

const struct cr_member_meta *cr_fsm_member(const struct cr_fsm *f, uint64_t id)
{
	return cu_sorted_find(f->members, f->nmembers, sizeof(*f->members), id);
}

/* ---- apply --------------------------------------------------------------- */

/* Decodes a member-put payload; false when malformed. */
static bool decode_member(const uint8_t *p, size_t len,
                          struct cr_member_meta *m)
{
	struct cu_reader r = cu_reader_of(p, len);
	memset(m, 0, sizeof(*m));
	m->id = cu_read_u64(&r);
	cr_read_str(&r, m->raft_address, sizeof(m->raft_address));
	cr_read_str(&r, m->api_address, sizeof(m->api_address));
	return !r.err && !cu_reader_left(&r) && m->id != 0;
}

static int apply_txn(struct cr_fsm *f, uint64_t index, int64_t now,
                     uint32_t rec, const uint8_t *p, size_t len, cs_result *out)
{
	char err[CS_ERRMSG_SIZE];
	cs_txn *txn = NULL;
	if (cs_txn_decode_bin(p, len, &txn, err, sizeof(err)) != 0) {
		cr_log(&f->hooks, CST_LOG_WARN,
		       "entry %llu record %u: malformed transaction, "
		       "rejected: %s",
		       (unsigned long long)index, rec, err);
		return CR_EMALFORMED;
	}
	cs_result res;
	cs_apply(f->state, txn, index, now, &res);
	f->applied_txns++;
	if (f->hooks.on_applied)
		f->hooks.on_applied(f->hooks.arg, index, txn, &res);
	cs_txn_free(txn);
	if (out)
		*out = res; /* ownership moves to the sink */
	else
		cs_result_clear(&res);
	return 0;
}

static int apply_member(struct cr_fsm *f, uint64_t index, uint8_t kind,
                        uint32_t rec, const uint8_t *p, size_t len,
                        cs_result *out)
{
	struct cr_member_meta m;
	if (kind == CR_REC_MEMBER_PUT && decode_member(p, len, &m)) {
		cu_sorted_put((void **)&f->members, &f->nmembers,
		              &f->members_cap, sizeof(*f->members), &m);
	} else if (kind == CR_REC_MEMBER_DEL && len == 8 && cu_get_u64(p)) {
		cu_sorted_del(f->members, &f->nmembers, sizeof(*f->members),
		              cu_get_u64(p));
	} else {
		cr_log(&f->hooks, CST_LOG_WARN,
		       "entry %llu record %u: malformed member record "
		       "(kind %u, %zu bytes), rejected",
		       (unsigned long long)index, rec, kind, len);
		return CR_EMALFORMED;
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		out->index = index;
		out->committed = true;
	}
	return 0;
}

static int apply_record(struct cr_fsm *f, uint64_t index, int64_t now,
                        uint32_t rec, uint8_t kind, const uint8_t *p,
                        size_t len, cs_result *out)
{
	switch (kind) {
	case CR_REC_TXN:
		return apply_txn(f, index, now, rec, p, len, out);
	case CR_REC_MEMBER_PUT:
	case CR_REC_MEMBER_DEL:
		return apply_member(f, index, kind, rec, p, len, out);
	default:
		cr_log(&f->hooks, CST_LOG_WARN,
		       "entry %llu record %u: unknown record kind %u, rejected",
		       (unsigned long long)index, rec, kind);
		return CR_EMALFORMED;
	}
}

struct entry_header {
	uint32_t count;
	int64_t now_ms;
	uint64_t proposer;
	uint64_t batch_id;
};

static bool read_header(struct cu_reader *r, struct entry_header *h)
{
	uint32_t magic = cu_read_u32(r);
	uint16_t version = cu_read_u16(r);
	uint16_t flags = cu_read_u16(r);
	h->count = cu_read_u32(r);
	(void)cu_read_u32(r); /* reserved */
	h->now_ms = (int64_t)cu_read_u64(r);
	h->proposer = cu_read_u64(r);
	h->batch_id = cu_read_u64(r);
	return !r->err && magic == CR_ENTRY_MAGIC &&
	       version == CR_ENTRY_VERSION && flags == 0;
}

static void apply_records(struct cr_fsm *f, uint64_t index, int64_t now,
                          struct cu_reader *r, uint32_t count,
                          struct cr_fsm_sink *sink)
{
	for (uint32_t i = 0; i < count; i++) {
		cs_result *out = sink && i < sink->n ? &sink->results[i] : NULL;
		uint8_t kind = 0;
		const uint8_t *hdr = cu_read(r, CR_RECORD_HEADER_SIZE);
		uint32_t len = hdr ? cu_get_u32(hdr + 4) : 0;
		const uint8_t *p = cu_read(r, len);
		int st = CR_EMALFORMED;
		if (p) {
			kind = hdr[0];
			st = apply_record(f, index, now, i, kind, p, len, out);
		} else {
			/* Framing broken: nothing after this can be found. */
			uint32_t lost = count - i;
			f->malformed += lost;
			cr_log(&f->hooks, CST_LOG_WARN,
			       "entry %llu: record %u of %u truncated; %u "
			       "records rejected as malformed",
			       (unsigned long long)index, i, count, lost);
			break;
		}
		if (st)
			f->malformed++;
		if (sink && i < sink->n)
			sink->status[i] = st;
	}
}

/* Never returns an error: a non-zero return would stall raft at this index
 * forever (RAFT.md §2); outcomes go to the sink and the log instead. */
static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf,
                     void **result)
{
	struct cr_fsm *f = rf->data;
	uint64_t index = raft_last_applied(f->raft) + 1;
	struct cu_reader r = cu_reader_of(buf->base, buf->len);
	struct entry_header h;
	*result = NULL;
	if (!read_header(&r, &h)) {
		f->malformed++;
		cr_log(&f->hooks, CST_LOG_ERROR,
		       "entry %llu: not a version %u Cell batch (%zu bytes), "
		       "ignored",
		       (unsigned long long)index, CR_ENTRY_VERSION, buf->len);
		return 0;
	}
	struct cr_fsm_sink *sink =
	    f->hooks.claim
	        ? f->hooks.claim(f->hooks.arg, h.proposer, h.batch_id)
	        : NULL;
	if (sink) {
		/* Records the entry does not reach stay malformed. */
		for (uint32_t i = 0; i < sink->n; i++)
			sink->status[i] = CR_EMALFORMED;
	}
	if (h.now_ms > f->clock_ms)
		f->clock_ms = h.now_ms;
	apply_records(f, index, f->clock_ms, &r, h.count, sink);
	if (sink) {
		sink->applied = true;
		sink->index = index;
		*result = sink;
	}
	return 0;
}

/* ---- snapshot and restore -------------------------------------------------
 * Format: u32 magic "CELS", u16 version, u16 flags, i64 clock_ms,
 * u32 nmembers, members (u64 id, u16 n + raft address, u16 n + API
 * address), u64 n + the cs_state_dump JSON, zeros to a multiple of 8 (as
 * entries; see CR_PAD8). */

static size_t snapshot_size(const struct cr_fsm *f, size_t json_len)
{
	size_t n = 4 + 2 + 2 + 8 + 4 + 8 + json_len;
	for (uint32_t i = 0; i < f->nmembers; i++)
		n += 8 + 2 + strlen(f->members[i].raft_address) + 2 +
		     strlen(f->members[i].api_address);
	return CR_PAD8(n);
}

static uint8_t *put_snap_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s); /* < CST_API_ADDR_MAX, fits u16 */
	cu_put_u16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return p + 2 + n;
}

void cr_fsm_encode_snapshot(const struct cr_fsm *f, struct raft_buffer *out)
{
	char *json = cs_state_dump(f->state);
	size_t json_len = strlen(json);
	size_t size = snapshot_size(f, json_len);
	uint8_t *base = raft_malloc(size);
	if (!base)
		abort();
	memset(base, 0, size); /* the padding */
	uint8_t *p = base;
	cu_put_u32(p, SNAPSHOT_MAGIC);
	cu_put_u16(p + 4, SNAPSHOT_VERSION);
	cu_put_u16(p + 6, 0);
	cu_put_u64(p + 8, (uint64_t)f->clock_ms);
	cu_put_u32(p + 16, f->nmembers);
	p += 20;
	for (uint32_t i = 0; i < f->nmembers; i++) {
		cu_put_u64(p, f->members[i].id);
		p = put_snap_str(p + 8, f->members[i].raft_address);
		p = put_snap_str(p, f->members[i].api_address);
	}
	cu_put_u64(p, json_len);
	memcpy(p + 8, json, json_len);
	free(json);
	out->base = base;
	out->len = size;
}

/* raft frees the array and the buffer (v2 FSM, snapshot_finalize NULL). */
static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
	struct cr_fsm *f = rf->data;
	*bufs = raft_malloc(sizeof(**bufs));
	if (!*bufs)
		abort();
	cr_fsm_encode_snapshot(f, &(*bufs)[0]);
	*n_bufs = 1;
	f->snapshots++;
	cr_log(&f->hooks, CST_LOG_INFO,
	       "snapshot of the state at %llu: %zu bytes",
	       (unsigned long long)cs_state_applied_index(f->state),
	       (*bufs)[0].len);
	return 0;
}

struct snapshot_content {
	int64_t clock_ms;
	struct cr_member_meta *members;
	uint32_t nmembers;
	cs_state *state;
};

static bool decode_snapshot(const struct raft_buffer *buf,
                            struct snapshot_content *c, char *err,
                            size_t errlen)
{
	struct cu_reader r = cu_reader_of(buf->base, buf->len);
	memset(c, 0, sizeof(*c));
	uint32_t magic = cu_read_u32(&r);
	uint16_t version = cu_read_u16(&r);
	(void)cu_read_u16(&r);
	c->clock_ms = (int64_t)cu_read_u64(&r);
	uint32_t n = cu_read_u32(&r);
	if (r.err || magic != SNAPSHOT_MAGIC || version != SNAPSHOT_VERSION ||
	    n > cu_reader_left(&r) / 12) {
		snprintf(err, errlen, "not a version %u Cell snapshot",
		         SNAPSHOT_VERSION);
		return false;
	}
	c->members = cu_xcalloc(n, sizeof(*c->members));
	for (uint32_t i = 0; i < n && !r.err; i++) {
		c->members[i].id = cu_read_u64(&r);
		cr_read_str(&r, c->members[i].raft_address,
		            sizeof(c->members[i].raft_address));
		cr_read_str(&r, c->members[i].api_address,
		            sizeof(c->members[i].api_address));
		if (i > 0 && c->members[i].id <= c->members[i - 1].id)
			cu_reader_fail(
			    &r, "members out of order"); /* the table invariant:
			                                    sorted, unique */
	}
	c->nmembers = n;
	uint64_t json_len = cu_read_u64(&r);
	const uint8_t *json = cu_read(&r, json_len);
	if (!json || CR_PAD8(buf->len - cu_reader_left(&r)) != buf->len) {
		snprintf(err, errlen, "member table or state framing broken");
		free(c->members);
		return false;
	}
	char why[CS_ERRMSG_SIZE];
	if (cs_state_load((const char *)json, json_len, &c->state, why,
	                  sizeof(why)) != 0) {
		snprintf(err, errlen, "state: %s", why);
		free(c->members);
		return false;
	}
	return true;
}

/* On success the FSM owns buf->base and frees it; on failure raft keeps it
 * (0.15 destroys the snapshot itself), so it must not be freed here. */
static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
	struct cr_fsm *f = rf->data;
	struct snapshot_content c;
	char err[CS_ERRMSG_SIZE + 32]; /* room for cellstate's message */
	if (!decode_snapshot(buf, &c, err, sizeof(err))) {
		cr_log(&f->hooks, CST_LOG_ERROR,
		       "restore snapshot (%zu bytes): %s", buf->len, err);
		return RAFT_MALFORMED;
	}
	cs_state_free(f->state);
	free(f->members);
	f->state = c.state;
	cs_state_track_changes(f->state, f->track_changes);
	f->members = c.members;
	f->nmembers = c.nmembers;
	f->members_cap = c.nmembers ? c.nmembers : 1;
	f->clock_ms = c.clock_ms;
	raft_free(buf->base);
	f->restores++;
	if (f->hooks.on_restore)
		f->hooks.on_restore(f->hooks.arg,
		                    cs_state_applied_index(f->state));
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

void cr_fsm_init(struct cr_fsm *f, const struct cs_config *cfg,
                 const struct cr_fsm_hooks *hooks)
{
	memset(f, 0, sizeof(*f));
	f->fsm.version = 2; /* snapshot_finalize NULL: raft frees buffers */
	f->fsm.data = f;
	f->fsm.apply = fsm_apply;
	f->fsm.snapshot = fsm_snapshot;
	f->fsm.restore = fsm_restore;
	bool defaults = !cfg || (cfg->dedup_max == 0 && cfg->dedup_ttl_ms == 0);
	f->state = cs_state_new(defaults ? NULL : cfg);
	if (hooks)
		f->hooks = *hooks;
}

void cr_fsm_bind(struct cr_fsm *f, struct raft *raft)
{
	f->raft = raft;
}

void cr_fsm_track_changes(struct cr_fsm *f, bool on)
{
	f->track_changes = on;
	cs_state_track_changes(f->state, on);
}

void cr_fsm_close(struct cr_fsm *f)
{
	cs_state_free(f->state);
	free(f->members);
	memset(f, 0, sizeof(*f));
}
