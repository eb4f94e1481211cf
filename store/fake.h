/* fake.h: the in-memory fake store's insides, shared by fake.c (the log,
 * the writer role, the controls) and fake_members.c (its trivial
 * membership). Private to store/. */
#ifndef CELL_STORE_FAKE_H
#define CELL_STORE_FAKE_H

#include <ev.h>

#include "cst_backend.h"

/* One call waiting for a flush: a submitted transaction (in `queue` until
 * its entry, or straight in `due` when it is answered without applying),
 * or a completion (a barrier, a membership change, a transfer) in `due`.
 * Invariant: each is in exactly one of the two lists until its callback
 * runs, which frees it. */
struct fake_call {
	struct cu_list link;
	cs_txn *txn;             /* owned while queued; NULL once due */
	cst_submit_cb submit_cb; /* a transaction's; else done_cb */
	cst_done_cb done_cb;
	void *arg;
	int status;      /* the answer; for a queued txn, what fail_next set */
	bool apply;      /* status != 0, yet applied first (fail_next) */
	bool barrier;    /* losing the writer role fails it */
	bool change;     /* a membership change: ends `changing` */
	const char *msg; /* static text for done_cb; "" on 0 */
};

/* Who writes, as a transition table (flush: the next cst_fake_flush):
 *
 *   from      event                        to        effect
 *   follower  set_writer(true)             electing
 *   writer    set_writer(true)             electing  still writable
 *   electing  flush                        writer    role leader, one
 *                                                    entry of its own,
 *                                                    epoch + 1, on_writer
 *   any       set_writer(false, other)     follower  queued txns answered
 *             or transfer(other)                     ENOTCOMMITTED, due
 *                                                    barriers ENOTWRITER;
 *                                                    role follower at the
 *                                                    flush; epoch + 1 when
 *                                                    other != 0
 *
 * Invariant: writable implies writer_id == id. */
struct fake {
	cst_store base;
	struct ev_loop *loop; /* NULL: flushed by hand */
	ev_prepare prepare;   /* flushes before the loop blocks */
	ev_idle kick;         /* keeps it from blocking until then */
	int64_t (*now_ms)(void *arg);
	void *clock_arg;
	uint64_t id;
	char api_address[CST_API_ADDR_MAX];

	cs_state *state; /* owned; change tracking on */
	uint64_t index;  /* the last entry applied: >= the state's index,
	                    since taking the writer role is an entry too */
	uint64_t epoch;
	enum cst_role role; /* as the hooks last told it */
	bool electing;      /* on_writer is due at the next flush */
	bool writable;
	uint64_t writer_id; /* 0: nobody */
	char writer_api[CST_API_ADDR_MAX];

	unsigned fail_n; /* cst_fake_fail_next: how many more */
	int fail_status;
	bool fail_apply;

	struct cu_list queue; /* fake_call: the next entry, in order */
	struct cu_list due;   /* fake_call: answered after it, in order */
	bool flushing;        /* inside a flush: nested ones do nothing */
	bool applying;        /* inside cs_apply and on_applied */
	/* Closing: cst_close sets base.closing (writes refused from then
	 * on); the next flush, or the end of the one running, answers what
	 * waits with CST_ESHUTDOWN, frees, and runs close_cb last. */
	cst_close_cb close_cb;
	void *close_arg;

	/* The membership, when configured: sorted by id, ids unique, this
	 * member always in it. changing: a change's completion is due. */
	struct cst_member *members;
	uint32_t nmembers;
	uint32_t members_cap;
	bool changing;

	struct cst_stats stats; /* queued and inflight computed */
};

static inline struct fake *fake_of(cst_store *s)
{
	return cu_container_of(s, struct fake, base);
}
static inline const struct fake *cfake_of(const cst_store *s)
{
	const char *p = (const char *)s - offsetof(struct fake, base);
	return (const struct fake *)(const void *)p;
}

/* fake.c */
/* Makes sure a flush runs soon (with a loop; without one, the test's). */
void fake_kick(struct fake *f);
/* A completion for the next flush; the call is returned for its flags. */
struct fake_call *fake_due(struct fake *f, cst_done_cb cb, void *arg,
                           int status, const char *msg);
/* Loses the writer role to `other` (0: nobody). */
void fake_lose_writer(struct fake *f, uint64_t other, const char *other_api);
int fake_refuse_not_writer(struct fake *f, const char *what);

/* fake_members.c */
extern const struct cst_member_ops fake_member_ops;
void fake_members_init(struct fake *f);
const struct cst_member *fake_member(const struct fake *f, uint64_t id);

#endif /* CELL_STORE_FAKE_H */
