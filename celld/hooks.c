/* hooks.c: what the store tells the core: role changes, becoming the
 * writer, every applied transaction, a replaced state, log lines. They may
 * run while the store opens (replaying its log), before the core serves:
 * the watch window fills then, and nothing here needs the store itself. */
#include "core.h"

static void on_role(void *arg, enum cst_role old_role, enum cst_role new_role)
{
	(void)arg;
	CC_INFO("role %s -> %s", cst_role_name(old_role),
	        cst_role_name(new_role));
}

static void on_writer(void *arg, uint64_t epoch, uint64_t applied_index)
{
	cd_core *c = arg;
	CC_INFO("leader of term %llu, serving writes",
	        (unsigned long long)epoch);
	c->led_from = applied_index; /* for cd_own_txn_id */
	cd_duties_writer(c);
}

static void on_applied(void *arg, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	cd_core *c = arg;
	cd_count_ops(c, res);
	cd_watch_applied(c->watch, index, res);
	cd_duties_applied(c, index, txn, res);
}

static void on_restore(void *arg, uint64_t applied_index)
{
	cd_core *c = arg;
	CC_INFO("state replaced by a snapshot at index %llu",
	        (unsigned long long)applied_index);
	cd_watch_restored(c->watch, applied_index);
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	(void)arg;
	_Static_assert((int)CST_LOG_ERROR == (int)CC_LOG_ERROR,
	               "log levels differ");
	cc_log((enum cc_log_level)level, "store: %s", msg);
}

void cd_core_store_hooks(cd_core *c, struct cst_hooks *out)
{
	*out = (struct cst_hooks){on_role,    on_writer, on_applied,
	                          on_restore, on_log,    c};
}
