/* cmd_members.c: `cellctl members list|add|remove`: the cell's Raft
 * membership (voters, standbys, spares). Membership changes are not
 * transactions (no id to de-duplicate them), so they are never resent
 * after a break that may have delivered them. */
#include "cellctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static struct {
	uint64_t id;
	char *raft_address, *api_address, *role;
} M;

static int members_list(struct ctl *c, int argc, char **argv)
{
	static const char *const narrow[] = {"ID", "ROLE", "API", "LEADER",
	                                     NULL};
	static const char *const wide[] = {"ID",     "ROLE",         "API",
	                                   "LEADER", "RAFT ADDRESS", NULL};
	json_t *body, *m;
	size_t i;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = ctl_get(c, "/v1/members", &body);
	if (rc)
		return rc;
	if (c->json) {
		ctl_print_json(body);
		json_decref(body);
		return CTL_OK;
	}
	struct table *t = table_new(c->wide ? wide : narrow);
	json_array_foreach (json_object_get(body, "members"), i, m) {
		table_row(t);
		table_cellf(t, "%lld", jint(m, "id"));
		table_cell(t, jstr(m, "role"));
		table_cell(t, jstr(m, "api_address"));
		table_cell(t, json_is_true(json_object_get(m, "leader")) ? "*"
		                                                         : "");
		if (c->wide)
			table_cell(t, jstr(m, "raft_address"));
	}
	table_print(t, stdout);
	json_decref(body);
	return CTL_OK;
}

/* Prints the outcome of a membership change; returns the exit code. */
static int member_done(struct ctl *c, struct ctl_reply *r, const char *what,
                       const char *done)
{
	int rc = CTL_OK;
	if (r->status != 200)
		rc = ctl_reply_fail(c, r, what, false);
	else if (c->json)
		ctl_print_json(r->body);
	else
		printf("%s\n", done);
	ctl_reply_clear(r);
	return rc;
}

static int members_add(struct ctl *c, int argc, char **argv)
{
	char what[64], done[256];
	struct ctl_reply r;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	if (!M.id)
		return ctl_usage(c, "--id is required (the new member's Raft "
		                    "id, unused in the cell)");
	if (!M.raft_address)
		return ctl_usage(c, "--raft-address is required (HOST:PORT "
		                    "the new member's Raft listens on)");
	if (strcmp(M.role, "voter") && strcmp(M.role, "standby") &&
	    strcmp(M.role, "spare"))
		return ctl_usage(c,
		                 "--role: expected voter, standby or spare, "
		                 "got \"%.64s\"",
		                 M.role);
	json_t *body =
	    json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)M.id,
	              "raft_address", M.raft_address, "api_address",
	              M.api_address ? M.api_address : "", "role", M.role);
	int rc = ctl_request(c, "POST", "/v1/members", body, CTL_NO_RETRY, &r);
	json_decref(body);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "adding member %" PRIu64, M.id);
	snprintf(done, sizeof(done),
	         "member %" PRIu64 " added as a %s (Raft %s)", M.id, M.role,
	         M.raft_address);
	return member_done(c, &r, what, done);
}

static int members_remove(struct ctl *c, int argc, char **argv)
{
	char path[64], what[64], done[64], *end;
	struct ctl_reply r;
	if (argc != 1)
		return ctl_usage(c, "expected one member ID");
	unsigned long long id = strtoull(argv[0], &end, 10);
	if (!argv[0][0] || *end || !id || argv[0][0] == '-')
		return ctl_usage(c,
		                 "expected a member ID (a number > 0), got "
		                 "\"%.64s\"",
		                 argv[0]);
	snprintf(path, sizeof(path), "/v1/members/%llu", id);
	int rc = ctl_request(c, "DELETE", path, NULL, CTL_NO_RETRY, &r);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "removing member %llu", id);
	snprintf(done, sizeof(done), "member %llu removed", id);
	return member_done(c, &r, what, done);
}

static const struct cc_flag add_flags[] = {
    {"id", CC_FLAG_UINT, NULL, "the new member's Raft id (required)", &M.id, 0,
     0},
    {"raft-address", CC_FLAG_STRING, NULL,
     "HOST:PORT its Raft listens on (required)", &M.raft_address, 0, 0},
    {"api-address", CC_FLAG_STRING, NULL,
     "its API URL, e.g. http://10.0.0.4:7111", &M.api_address, 0, 0},
    {"role", CC_FLAG_STRING, "voter", "voter, standby or spare", &M.role, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag no_flags[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd members_cmds[] = {
    {
        .name = "list",
        .summary = "list the members and the leader",
        .usage = "cellctl members list [flags]",
        .about =
            "Lists the cell's Raft members as the answering member knows\n"
            "them: id, role (voter, standby, spare), API URL, and which one\n"
            "leads.",
        .examples =
            "  $ cellctl members list\n"
            "  $ cellctl members list -o wide     # with Raft addresses\n",
        .flags = no_flags,
        .run = members_list,
    },
    {
        .name = "add",
        .summary = "add a member to the cell",
        .usage = "cellctl members add --id N --raft-address HOST:PORT [flags]",
        .about =
            "Adds a member to the Raft configuration through the leader.\n"
            "Start the new celld with --join first (or afterwards with the\n"
            "same id and addresses). The change is not retried after a\n"
            "connection break, since it carries no transaction id: check\n"
            "with members list.",
        .examples = "  $ cellctl members add --id 4 \\\n"
                    "        --raft-address 10.0.0.4:7104 \\\n"
                    "        --api-address http://10.0.0.4:7114\n"
                    "  $ cellctl members add --id 9 --role standby \\\n"
                    "        --raft-address 10.0.0.9:7109\n",
        .flags = add_flags,
        .run = members_add,
    },
    {
        .name = "remove",
        .summary = "remove a member from the cell",
        .usage = "cellctl members remove ID [flags]",
        .about = "Removes a member from the Raft configuration through the\n"
                 "leader.",
        .examples = "  $ cellctl members remove 4\n",
        .flags = no_flags,
        .run = members_remove,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_members = {
    "members", "list, add and remove the cell's Raft members", members_cmds};
