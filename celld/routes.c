/* routes.c: the API's route table, every endpoint README.md documents and
 * the handler that serves it. Reads are answered from the local replica
 * by any member; writes check the token and go to the writer. */
#include "core.h"

static const struct {
	const char *method, *path; /* a path ending in "/" is a prefix */
	cc_handler_fn fn;
} routes[] = {
    {"GET", "/v1/status", cd_get_status},
    {"GET", "/v1/members", cd_get_members},
    {"POST", "/v1/members", cd_post_member},
    {"PUT", "/v1/members/", cd_put_member},
    {"DELETE", "/v1/members/", cd_delete_member},
    {"GET", "/v1/machines/", cd_get_machines},
    {"PUT", "/v1/machines/", cd_put_machine},
    {"POST", "/v1/machines/", cd_post_machine},
    {"DELETE", "/v1/machines/", cd_delete_machine},
    {"GET", "/v1/jobs/", cd_get_jobs},
    {"POST", "/v1/jobs/", cd_post_job},
    {"DELETE", "/v1/jobs/", cd_delete_job},
    {"GET", "/v1/tasks", cd_get_tasks},
    {"POST", "/v1/txn", cd_post_txn},
    {"GET", "/v1/watch", cd_get_watch},
    {"GET", "/v1/schedulers/", cd_get_schedulers},
    {"POST", "/v1/heartbeat", cd_post_heartbeat},
    {"GET", "/metrics", cd_get_metrics},
};

int cd_routes_add(cd_core *c, char *errbuf, size_t errlen)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < CU_ARRAY_LEN(routes); i++)
		rc =
		    cc_server_route(c->server, routes[i].method, routes[i].path,
		                    routes[i].fn, c, errbuf, errlen);
	return rc;
}
