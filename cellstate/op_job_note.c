/* op_job_note.c: job_note, a scheduler's word on why a job is still
 * pending, for people asking; an accepted place of the job clears it. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_job_note(cs_txn *txn, const char *job, const char *note)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_NOTE);
	op->job = cs_arena_strdup(txn->arena, job);
	/* one form for "no note", so encodings of a clear agree */
	op->note = note && *note ? cs_arena_strdup(txn->arena, note) : NULL;
	return op;
}

/* ---- JSON ---- */

static const char *const job_note_fields[] = {"op", "job", "note", NULL};

/* "note" is required: "" clears, so a forgotten field never does. */
static int job_note_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job, *note;
	if (cs_jget_job(d, o, &job) < 0 ||
	    cs_jget_str(d, o, "note", CS_JREQ, cs_jnote_valid, CS_EXPECT_NOTE,
	                &note) < 0)
		return -1;
	cs_txn_job_note(t, job, note);
	return 0;
}

static void job_note_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "job", op->job);
	cs_jset_str(o, "note", op->note ? op->note : "");
}

/* NULL clears the note, like "". */
static int job_note_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_name_at(d, "job", op->job, CS_EXPECT_JOB) < 0 ||
	    cs_jcheck_opt_at(d, "note", op->note, cs_jnote_valid,
	                     CS_EXPECT_NOTE) < 0)
		return -1;
	return 0;
}

/* ---- binary: str job, str note (NULL: a clear) ---- */

static void job_note_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->job);
	cs_bput_str(w, op->note);
}

static void job_note_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	op->job = cs_bget_str(r);
	op->note = cs_bget_str(r);
}

/* ---- apply ---- */

/* A note explains why a job waits; an ended job waits for nothing, and its
 * last note (why it never ran) stays as it was. */
static enum cs_reason job_note_apply(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_active_job(a, op->job, &job);
	if (r)
		return r;
	cs_set_job_note(a, job, op->note);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_job_note = {
    .name = "job_note",
    .seq = CS_SEQ_NEVER,
    .fields = job_note_fields,
    .json_read = job_note_json_read,
    .json_write = job_note_json_write,
    .check = job_note_check,
    .bin_put = job_note_bin_put,
    .bin_get = job_note_bin_get,
    .apply = job_note_apply,
};
