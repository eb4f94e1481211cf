/* cmd_sched.c: `cellctl sched list|get`: the registered schedulers, their
 * class and policy, the Raft standby each named, and whether its lease is
 * alive as the leader sees it (a scheduler silent past the cell's
 * --sched-ttl is unregistered and its standby removed). */
#include "cellctl.h"

#include <stdlib.h>
#include <string.h>

static struct {
	char *class_name;
} S;

/* "yes", "no", or "-" when the member that answered cannot tell (only the
 * leader hears heartbeats, and cellctl reads from it once it is known). */
static const char *alive_word(const json_t *sc)
{
	const json_t *a = json_object_get(sc, "alive");
	return !a ? "-" : json_is_true(a) ? "yes" : "no";
}

/* ---- list ---- */

static bool listed(const json_t *sc)
{
	return !S.class_name || !strcmp(S.class_name, jstr(sc, "class"));
}

static void sched_table(json_t **scheds, size_t n)
{
	static const char *const h[] = {"NAME",   "CLASS", "POLICY",
	                                "MEMBER", "ALIVE", NULL};
	struct table *t = table_new(h);
	for (size_t i = 0; i < n; i++) {
		table_row(t);
		table_cell(t, jstr(scheds[i], "name"));
		table_cell(t, jstr(scheds[i], "class"));
		table_cell(t, jstr(scheds[i], "policy"));
		if (jint(scheds[i], "member"))
			table_cellf(t, "%lld", jint(scheds[i], "member"));
		else
			table_cell(t, "-");
		table_cell(t, alive_word(scheds[i]));
	}
	table_print(t, stdout);
}

static int sched_list(struct ctl *c, int argc, char **argv)
{
	json_t *body, *sc;
	size_t i, n = 0;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = ctl_get(c, "/v1/schedulers", &body);
	if (rc)
		return rc;
	/* the cell lists them sorted by name */
	json_t *all = json_object_get(body, "schedulers");
	json_t **scheds = cu_xcalloc(json_array_size(all) + 1, sizeof(*scheds));
	json_array_foreach (all, i, sc) {
		if (listed(sc))
			scheds[n++] = sc;
	}
	if (c->json)
		ctl_print_listing(body, "schedulers", scheds, n);
	else
		sched_table(scheds, n);
	free(scheds);
	json_decref(body);
	return CTL_OK;
}

/* ---- get ---- */

static void sched_details(const json_t *sc)
{
	const json_t *alive = json_object_get(sc, "alive");
	kv_line("name:", "%s", jstr(sc, "name"));
	kv_line("class:", "%s", jstr(sc, "class"));
	kv_line("policy:", "%s", jstr(sc, "policy"));
	if (jint(sc, "member"))
		kv_line("member:",
		        "%lld (its Raft standby; removed when the "
		        "lease expires)",
		        jint(sc, "member"));
	else
		kv_line("member:", "none");
	kv_line("alive:", "%s",
	        !alive                ? "unknown (only the leader can tell)"
	        : json_is_true(alive) ? "yes"
	                              : "no: silent past its lease, it is "
	                                "unregistered at the next sweep");
}

static int sched_get(struct ctl *c, int argc, char **argv)
{
	char path[256] = "/v1/schedulers/";
	json_t *sc;
	if (argc != 1)
		return ctl_usage(c, "expected one scheduler NAME");
	cc_url_escape(path, sizeof(path), argv[0]);
	int rc = ctl_get(c, path, &sc);
	if (rc)
		return rc;
	if (c->json)
		ctl_print_json(sc);
	else
		sched_details(sc);
	json_decref(sc);
	return CTL_OK;
}

static const struct cc_flag list_flags[] = {{"class", CC_FLAG_STRING, NULL,
                                             "only schedulers of this class",
                                             &S.class_name, 0, 0},
                                            {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag no_flags[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd sched_cmds[] = {
    {
        .name = "list",
        .summary = "list the registered schedulers",
        .usage = "cellctl sched list [flags]",
        .about =
            "Lists the schedulers registered in the cell, sorted by name:\n"
            "class, policy, the Raft standby member each runs its replica on,\n"
            "and whether its lease is alive (\"-\" when the member that\n"
            "answered is not the leader, which alone hears heartbeats).",
        .examples = "  $ cellctl sched list\n"
                    "  $ cellctl sched list --class batch --json\n",
        .flags = list_flags,
        .run = sched_list,
    },
    {
        .name = "get",
        .summary = "show one scheduler",
        .usage = "cellctl sched get NAME [flags]",
        .about =
            "Shows one registered scheduler: class, policy, its standby\n"
            "member and whether its lease is alive. Exit 1 when no scheduler\n"
            "of that name is registered (or its lease expired).",
        .examples = "  $ cellctl sched get batch-1\n",
        .flags = no_flags,
        .run = sched_get,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_sched = {
    "sched", "list and show the registered schedulers", sched_cmds};
