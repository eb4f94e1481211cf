/* cst_backend.h: what a store backend implements for the dispatch in
 * store.c: a table of operations, the part of a store every backend shares
 * (hooks, the closing flag, the last error message), and the helpers a
 * backend reports through. For backends only (the fake in this folder, the
 * Raft group in raft/); users include cellstore.h and see an opaque store.
 *
 * A backend embeds struct cst_store in its own (finding itself again with
 * cu_container_of), fills it with cst_store_init, and returns &embedded
 * from its constructor. */
#ifndef CELL_CST_BACKEND_H
#define CELL_CST_BACKEND_H

#include "cellstore.h"
#include "cellutil.h"

/* The dispatch has already refused what every backend refuses alike: a
 * NULL txn or callback (CST_EINVAL), every write once the store is closing
 * (CST_ESHUTDOWN), and the membership calls of a store without one
 * (CST_ENOTSUP). So submit, barrier and the membership changes never see
 * a closing store, and close is called once. The reads (dry_run among
 * them) work until the backend frees itself. */
struct cst_ops {
	const cs_state *(*state)(const cst_store *s);
	uint64_t (*applied_index)(const cst_store *s);
	void (*status)(const cst_store *s, struct cst_status *out);
	void (*stats)(const cst_store *s, struct cst_stats *out);
	bool (*writable)(const cst_store *s);
	uint64_t (*writer)(const cst_store *s, struct cst_member *out);
	int (*submit)(cst_store *s, cs_txn *txn, cst_submit_cb cb, void *arg);
	void (*dry_run)(cst_store *s, const cs_txn *txn, cs_result *out);
	int (*barrier)(cst_store *s, cst_done_cb cb, void *arg);
	/* Starts closing; the backend answers what is pending with
	 * CST_ESHUTDOWN from its loop, frees itself, then runs cb(arg). */
	void (*close)(cst_store *s, cst_close_cb cb, void *arg);
};

/* The membership extra, a table of its own: whether a store has one may
 * differ from one store of a kind to the next (the fake's is optional). */
struct cst_member_ops {
	int (*list)(const cst_store *s, struct cst_member **out, unsigned *n);
	int (*add)(cst_store *s, uint64_t id, const char *address,
	           const char *api_address, enum cst_member_role role,
	           cst_done_cb cb, void *arg);
	int (*assign)(cst_store *s, uint64_t id, enum cst_member_role role,
	              cst_done_cb cb, void *arg);
	int (*remove)(cst_store *s, uint64_t id, cst_done_cb cb, void *arg);
	int (*transfer)(cst_store *s, uint64_t id, cst_done_cb cb, void *arg);
};

struct cst_store {
	const struct cst_ops *ops; /* static, borrowed */
	/* static, borrowed; NULL: no membership (CST_ENOTSUP) */
	const struct cst_member_ops *members;
	struct cst_hooks hooks; /* the caller's, copied at open */
	bool closing;           /* cst_close was called: only once */
	char errmsg[CST_ERRMSG_SIZE];
};

/* members NULL: no membership; hooks NULL: none. */
void cst_store_init(cst_store *s, const struct cst_ops *ops,
                    const struct cst_member_ops *members,
                    const struct cst_hooks *hooks);

/* Sets cst_errmsg and returns code, so error paths read
 *   return cst_seterr(s, CST_ENOTWRITER, "member %llu ...", ...); */
int cst_seterr(cst_store *s, int code, const char *fmt, ...) CU_PRINTF(3, 4);

/* The hooks, each skipped when NULL. */
void cst_hook_role(const cst_store *s, enum cst_role old_role,
                   enum cst_role new_role);
void cst_hook_writer(const cst_store *s, uint64_t epoch,
                     uint64_t applied_index);
void cst_hook_applied(const cst_store *s, uint64_t index, const cs_txn *txn,
                      const cs_result *res);
void cst_hook_restore(const cst_store *s, uint64_t applied_index);

#endif /* CELL_CST_BACKEND_H */
