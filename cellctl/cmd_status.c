/* cmd_status.c: `cellctl status`: every member's own view of the cell
 * (role, term, commit and applied index, state hash), asked of each member
 * directly, so a lagging or diverged replica shows. */
#include "cellctl.h"

#include <stdlib.h>
#include <string.h>

/* The member list from whichever server answers first; NULL when none
 * does (printed). */
static int member_list(struct ctl *c, json_t **members)
{
	json_t *body;
	int rc = ctl_get(c, "/v1/members", &body);
	if (rc)
		return rc;
	*members = json_incref(json_object_get(body, "members"));
	json_decref(body);
	if (!json_is_array(*members))
		return json_decref(*members),
		       ctl_fail("the cell's member list is not an array");
	return 0;
}

/* One member's row: the member entry merged with its own /v1/status
 * (renamed where the names clash), or reachable=false and why. */
static json_t *member_view(struct ctl *c, const json_t *m)
{
	static const char *const copy[] = {
	    "term",       "trusted",    "commit_index", "applied_index",
	    "last_index", "state_hash", "content_hash", "machines",
	    "jobs",       NULL};
	struct ctl_reply r = {0};
	char err[CC_ERRMSG_SIZE];
	json_t *v = json_pack(
	    "{s:I,s:s,s:s,s:s,s:b}", "id", (json_int_t)jint(m, "id"), "role",
	    jstr(m, "role"), "raft_address", jstr(m, "raft_address"),
	    "api_address", jstr(m, "api_address"), "leader",
	    json_is_true(json_object_get(m, "leader")));
	int rc = ctl_exchange(c, "GET", jstr(m, "api_address"), "/v1/status",
	                      NULL, &r, err, sizeof(err));
	json_object_set_new(v, "reachable",
	                    json_boolean(!rc && r.status == 200));
	if (rc || r.status != 200) {
		char why[160];
		if (rc)
			ctl_transport_reason(rc, err, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "HTTP %ld: %s", r.status,
			         r.detail);
		json_object_set_new(v, "error", json_string(why));
	} else {
		json_object_set(v, "raft_role",
		                json_object_get(r.body, "role"));
		for (size_t i = 0; copy[i]; i++)
			json_object_set(v, copy[i],
			                json_object_get(r.body, copy[i]));
	}
	ctl_reply_clear(&r);
	return v;
}

/* True when every reachable pair of members at the same applied index has
 * the same state hash. */
static bool hashes_agree(const json_t *views)
{
	size_t i, k;
	json_t *a, *b;
	json_array_foreach (views, i, a) {
		json_array_foreach (views, k, b) {
			if (k <= i ||
			    !json_is_true(json_object_get(a, "reachable")) ||
			    !json_is_true(json_object_get(b, "reachable")))
				continue;
			if (jint(a, "applied_index") ==
			        jint(b, "applied_index") &&
			    strcmp(jstr(a, "state_hash"),
			           jstr(b, "state_hash")))
				return false;
		}
	}
	return true;
}

static void status_row(const struct ctl *c, struct table *t, const json_t *v)
{
	bool up = json_is_true(json_object_get(v, "reachable"));
	table_row(t);
	table_cellf(t, "%lld", jint(v, "id"));
	table_cell(t, jstr(v, "role"));
	table_cell(t, up ? jstr(v, "raft_role") : "unreachable");
	table_cell(t, jstr(v, "api_address"));
	if (!up) { /* the reason where the hash would be */
		for (int i = 0; i < 3; i++)
			table_cell(t, "-");
		table_cell(t, jstr(v, "error"));
		return;
	}
	table_cellf(t, "%lld", jint(v, "term"));
	table_cellf(t, "%lld", jint(v, "commit_index"));
	table_cellf(t, "%lld", jint(v, "applied_index"));
	table_cell(t, jstr(v, "state_hash"));
	if (!c->wide)
		return;
	table_cellf(t, "%lld", jint(v, "last_index"));
	table_cell(t, jstr(v, "content_hash"));
	table_cell(t, jstr(v, "raft_address"));
	table_cellf(t, "%lld", jint(v, "machines"));
	table_cellf(t, "%lld", jint(v, "jobs"));
}

static void print_table(const struct ctl *c, const json_t *out)
{
	static const char *const narrow[] = {"ID",      "ROLE",       "RAFT",
	                                     "API",     "TERM",       "COMMIT",
	                                     "APPLIED", "STATE HASH", NULL};
	static const char *const wide[] = {
	    "ID",           "ROLE",     "RAFT",       "API",  "TERM",
	    "COMMIT",       "APPLIED",  "STATE HASH", "LAST", "CONTENT HASH",
	    "RAFT ADDRESS", "MACHINES", "JOBS",       NULL};
	const json_t *leader = json_object_get(out, "leader");
	size_t i;
	json_t *v;
	if (json_is_object(leader))
		printf("leader: member %lld at %s\n", jint(leader, "id"),
		       jstr(leader, "api_address"));
	else
		printf("leader: none (the cell is electing one, or has lost "
		       "its majority)\n");
	struct table *t = table_new(c->wide ? wide : narrow);
	json_array_foreach (json_object_get(out, "members"), i, v) {
		status_row(c, t, v);
	}
	table_print(t, stdout);
	if (!json_is_true(json_object_get(out, "hashes_agree")))
		printf("WARNING: members at the same applied index have "
		       "different state hashes\n");
}

static int run_status(struct ctl *c, int argc, char **argv)
{
	json_t *members, *views = json_array(), *leader = json_null();
	size_t i;
	json_t *m;
	if (argc > 0)
		return json_decref(views),
		       ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = member_list(c, &members);
	if (rc)
		return json_decref(views), rc;
	json_array_foreach (members, i, m) {
		json_t *v = member_view(c, m);
		if (json_is_true(json_object_get(v, "leader"))) {
			json_decref(leader);
			leader = json_pack(
			    "{s:I,s:s}", "id", (json_int_t)jint(v, "id"),
			    "api_address", jstr(v, "api_address"));
		}
		json_array_append_new(views, v);
	}
	json_t *out =
	    json_pack("{s:o,s:b,s:o}", "leader", leader, "hashes_agree",
	              hashes_agree(views), "members", views);
	if (c->json)
		ctl_print_json(out);
	else
		print_table(c, out);
	json_decref(out);
	json_decref(members);
	return CTL_OK;
}

static const struct cc_flag no_flags[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd status_cmds[] = {
    {
        .summary = "show every member's view of the cell",
        .usage = "cellctl status [flags]",
        .about =
            "Lists the cell's members (from GET /v1/members) and asks each\n"
            "one directly for its status: its Raft role and term, the\n"
            "commit and applied index, and the hash of its state. Members\n"
            "that applied the same index must show the same state hash; a\n"
            "member that cannot be reached is shown as unreachable, with\n"
            "why.",
        .examples =
            "  $ cellctl status\n"
            "  $ cellctl status -o wide   # last index, content hash, counts\n"
            "  $ cellctl status --json | jq '.members[].applied_index'\n",
        .flags = no_flags,
        .run = run_status,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_status = {
    "status", "members, roles, leader, indexes and state hashes", status_cmds};
