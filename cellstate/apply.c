/* apply.c: applying one transaction (ARCHITECTURE.md §2): de-duplication by id,
 * the per-op verdicts, and the two commit modes. incremental keeps every op
 * that validated; all_or_nothing runs under a journal and undoes everything
 * when any op is rejected. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cs_reason cs_reject(struct cs_apply *a, enum cs_reason r, const char *fmt,
                         ...)
{
	va_list ap;
	char buf[320];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(a->detail);
	a->detail = cu_xstrdup(buf);
	return r;
}

static enum cs_reason run_op(struct cs_apply *a, const struct cs_op *op)
{
	const struct cs_op_desc *d = cs_op_desc(op->kind);
	if (!d)
		return cs_reject(a, CS_R_UNKNOWN_TASK,
		                 "op kind %d is not an op", (int)op->kind);
	return d->apply(a, op);
}

static void abort_all(cs_result *out)
{
	for (uint32_t i = 0; i < out->nops; i++) {
		if (out->ops[i].reason != CS_R_OK)
			continue;
		out->ops[i].reason = CS_R_ABORTED;
		out->ops[i].detail =
		    cu_xstrdup("valid, but another op of this all_or_nothing "
		               "transaction was rejected");
	}
}

/* Runs every op; with keep == false the state is left as it was (dry run). */
static void run(cs_state *s, const cs_txn *txn, int64_t now_ms, bool keep,
                cs_result *out)
{
	bool journaled = !keep || txn->mode == CS_ALL_OR_NOTHING;
	struct cs_apply a = {.s = s,
	                     .txn = txn,
	                     .now_ms = now_ms,
	                     .journal = journaled ? cs_journal_new() : NULL};
	uint32_t rejected = 0;
	s->txn_serial++;
	out->nops = txn->nops;
	out->ops = cu_xcalloc(txn->nops, sizeof(*out->ops));
	for (uint32_t i = 0; i < txn->nops; i++) {
		enum cs_reason r = run_op(&a, &txn->ops[i]);
		out->ops[i].reason = r;
		out->ops[i].detail = a.detail;
		a.detail = NULL;
		rejected += r != CS_R_OK;
	}
	bool whole = txn->mode == CS_ALL_OR_NOTHING && rejected;
	if (whole)
		abort_all(out);
	out->committed = !whole;
	out->accepted = whole ? 0 : txn->nops - rejected;
	if (a.journal) {
		if (whole || !keep)
			cs_journal_undo(a.journal, s);
		else
			cs_journal_commit(a.journal, s);
	}
	if (keep && !whole) { /* the feed tells only what happened */
		out->changes = a.changes;
		out->nchanges = a.nchanges;
	} else {
		free(a.changes);
	}
}

static void replay_verdict(const struct cs_dedup_rec *rec, cs_result *out)
{
	out->index = rec->index;
	out->duplicate = true;
	out->committed = rec->committed;
	out->nops = rec->nops;
	out->ops = cu_xcalloc(rec->nops, sizeof(*out->ops));
	for (uint32_t i = 0; i < rec->nops; i++) {
		out->ops[i].reason = (enum cs_reason)rec->reasons[i];
		out->accepted += rec->reasons[i] == CS_R_OK;
	}
}

void cs_apply(cs_state *s, const cs_txn *txn, uint64_t index, int64_t now_ms,
              cs_result *out)
{
	memset(out, 0, sizeof(*out));
	cs_dedup_expire(&s->dedup, &s->cfg, now_ms);
	const struct cs_dedup_rec *rec =
	    txn->id ? cs_dedup_find(&s->dedup, txn->id) : NULL;
	if (rec) {
		replay_verdict(rec, out);
	} else {
		out->index = index;
		run(s, txn, now_ms, true, out);
		if (txn->id)
			cs_dedup_record(&s->dedup, &s->cfg, txn->id, index,
			                now_ms, out);
	}
	s->applied_index = index;
}

void cs_dry_run(cs_state *s, const cs_txn *txn, cs_result *out)
{
	memset(out, 0, sizeof(*out));
	const struct cs_dedup_rec *rec =
	    txn->id ? cs_dedup_find(&s->dedup, txn->id) : NULL;
	if (rec) {
		replay_verdict(rec, out);
		return;
	}
	out->index = s->applied_index + 1;
	run(s, txn, 0, false, out);
}

void cs_result_clear(cs_result *res)
{
	if (!res)
		return;
	for (uint32_t i = 0; i < res->nops; i++)
		free(res->ops[i].detail);
	free(res->ops);
	free(res->changes);
	memset(res, 0, sizeof(*res));
}
