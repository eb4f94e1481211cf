/* args.c: the command line: finds the command in the registry, parses its
 * flags (anywhere on the line, -f/-o as short forms, list flags that may
 * repeat), prints help, and runs it with the cell located. */
#include "cellctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct ctl_group *const ctl_groups[] = {
    &ctl_group_status,     &ctl_group_members,
    &ctl_group_machine,    &ctl_group_job,
    &ctl_group_task,       &ctl_group_sched,
    &ctl_group_txn,        &ctl_group_watch,
    &ctl_group_completion, NULL};

/* The flags every command takes. They are parsed twice, before the
 * command and after it, and each parse starts from the defaults: the first
 * parse's values move to top_opts, and the command's own win over them. */
static struct ctl_opts top_opts, cmd_opts;

static const struct cc_flag common_flags[] = {
    {"server", CC_FLAG_STRING, NULL,
     "the cell's API URLs, comma-separated, tried in turn (else $CELL_SERVER, "
     "else http://127.0.0.1:7111,:7112,:7113)",
     &cmd_opts.server, 0, 0},
    {"token-file", CC_FLAG_STRING, NULL,
     "file holding the cell's bearer token, needed for changes when the cell "
     "has one (else $CELL_TOKEN_FILE)",
     &cmd_opts.token_file, 0, 0},
    {"output", CC_FLAG_STRING, NULL,
     "-o: table (default), wide (more columns) or json", &cmd_opts.output, 0,
     0},
    {"json", CC_FLAG_BOOL, NULL, "print JSON for scripts (-o json)",
     &cmd_opts.json, 0, 0},
    {"timeout", CC_FLAG_DURATION, NULL, "limit for each request (0: 10s)",
     &cmd_opts.timeout_ms, 0, 600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

const struct cc_flag *ctl_common_flags(void)
{
	return common_flags;
}

bool ctl_flag_is_bool(const struct cc_flag *f)
{
	return f->type == CC_FLAG_BOOL;
}

/* ---- messages ---- */

int ctl_usage(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cellctl: %s%s", c && c->where[0] ? c->where : "",
	        c && c->where[0] ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'cellctl %s%s--help' for usage.\n",
	        c && c->where[0] ? c->where : "", c && c->where[0] ? " " : "");
	return CTL_USAGE;
}

static void CC_PRINTF(1, 0) vnote(const char *fmt, va_list ap)
{
	fputs("cellctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
	return CTL_ERR;
}

void ctl_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

/* ---- help ---- */

static void top_help(FILE *out)
{
	fputs(
	    "Usage: cellctl [flags] COMMAND [SUBCOMMAND] [ARGS] "
	    "[flags]\n\ncellctl is the command-line client of a Cell cluster: "
	    "it shows the cell's\nmembers, machines, jobs and tasks, changes "
	    "them, follows the change stream,\nand commits transactions by "
	    "hand under the optimistic rules schedulers use.\n\nCommands:\n",
	    out);
	for (size_t i = 0; ctl_groups[i]; i++)
		fprintf(out, "  %-11s %s\n", ctl_groups[i]->name,
		        ctl_groups[i]->summary);
	char *h = cc_flags_help(common_flags, "", NULL);
	const char *flags = strstr(h, "Flags:");
	fprintf(out, "\nFlags of every command (before or after it):%s",
	        flags ? flags + 6 : "\n");
	free(h);
	fputs("\nThe cell: --server, else CELL_SERVER, else the local cell of "
	      "./scripts/run.sh;\na down member is skipped and writes follow "
	      "the leader. Token: --token-file,\nelse CELL_TOKEN_FILE.\n\nExit "
	      "codes: 0 done (every op accepted); 1 error (cell unreachable, "
	      "server\nerror, bad file); 2 wrong usage; 3 the cell rejected "
	      "the change (some or all ops).\n\nRun 'cellctl COMMAND --help' "
	      "for a command's flags and examples;\n'source <(cellctl "
	      "completion bash)' completes commands and flags in bash.\n",
	      out);
}

static void group_help(const struct ctl_group *g, FILE *out)
{
	fprintf(out,
	        "Usage: cellctl %s SUBCOMMAND [ARGS] "
	        "[flags]\n\n%s.\n\nSubcommands:\n",
	        g->name, g->summary);
	for (const struct ctl_cmd *k = g->cmds; k->run; k++)
		if (k->name)
			fprintf(out, "  %-9s %s\n", k->name, k->summary);
	fprintf(out,
	        "\nRun 'cellctl %s SUBCOMMAND --help' for its flags and "
	        "examples.\n",
	        g->name);
}

static void cmd_help(const struct ctl_group *g, const struct ctl_cmd *k,
                     const struct cc_flag *table)
{
	char *h = cc_flags_help(table, k->usage, k->about);
	fputs(h, stdout);
	free(h);
	bool subs = false;
	for (const struct ctl_cmd *s = g->cmds; s->run; s++)
		subs |= s->name != NULL;
	if (!k->name && subs) {
		printf("\nSubcommands (cellctl %s SUBCOMMAND --help):\n",
		       g->name);
		for (const struct ctl_cmd *s = g->cmds; s->run; s++)
			if (s->name)
				printf("  %-9s %s\n", s->name, s->summary);
	}
	if (k->examples)
		printf("\nExamples:\n%s", k->examples);
}

/* ---- argv: flags anywhere, short forms, repeated list flags ---- */

struct args {
	int argc;
	char **argv;  /* "cellctl", flags..., "--", positionals... */
	char **owned; /* strings argv points into that we allocated */
	size_t nowned;
};

static const struct cc_flag *find_flag(const struct cc_flag *t,
                                       const char *name, size_t len)
{
	for (; t->name; t++)
		if (strlen(t->name) == len && !memcmp(t->name, name, len))
			return t;
	return NULL;
}

static bool is_list(const char *const *lists, const struct cc_flag *f)
{
	for (; lists && f && *lists; lists++)
		if (!strcmp(*lists, f->name))
			return true;
	return false;
}

static char *own(struct args *a, char *s)
{
	a->owned = cu_xrealloc(a->owned, (a->nowned + 1) * sizeof(*a->owned));
	a->owned[a->nowned++] = s;
	return s;
}

/* Adds value to the comma-joined accumulator of list flag f. */
static void list_add(char **acc, const struct cc_flag *t,
                     const struct cc_flag *f, const char *value)
{
	char **slot = &acc[f - t];
	size_t old = *slot ? strlen(*slot) : 0, n = strlen(value);
	*slot = cu_xrealloc(*slot, old + n + 2);
	if (old)
		(*slot)[old++] = ',';
	memcpy(*slot + old, value, n + 1);
}

static const char *short_form(const char *s)
{
	if (!strcmp(s, "-f"))
		return "--file";
	if (!strcmp(s, "-o"))
		return "--output";
	return s;
}

/* One flag argument at argv[*i]: appended to flags (with its value), or
 * gathered into its list. */
static void take_flag(const struct cc_flag *t, const char *const *lists,
                      int argc, char **argv, int *i, char **flags, int *nf,
                      char **acc)
{
	const char *s = short_form(argv[*i]);
	const char *name = s + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cc_flag *f =
	    strncmp(s, "--", 2) ? NULL : find_flag(t, name, len);
	const char *value = eq ? eq + 1 : NULL;
	bool takes = f && !ctl_flag_is_bool(f);
	if (!value && takes && *i + 1 < argc)
		value = argv[++*i];
	if (is_list(lists, f) && value) {
		list_add(acc, t, f, value);
		return;
	}
	flags[(*nf)++] = (char *)s;
	if (!eq && takes && value)
		flags[(*nf)++] = (char *)value;
}

static void normalize(const struct cc_flag *t, const char *const *lists,
                      int argc, char **argv, struct args *a)
{
	size_t nt = 0;
	while (t[nt].name)
		nt++;
	char **flags = cu_xcalloc((size_t)argc * 2 + nt + 1, sizeof(char *));
	char **pos = cu_xcalloc((size_t)argc + 1, sizeof(char *));
	char **acc = cu_xcalloc(nt + 1, sizeof(char *));
	int nf = 0, np = 0;
	bool rest = false;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (rest || s[0] != '-' || !s[1])
			pos[np++] = argv[i];
		else if (!strcmp(s, "--"))
			rest = true;
		else
			take_flag(t, lists, argc, argv, &i, flags, &nf, acc);
	}
	memset(a, 0, sizeof(*a));
	a->argv = cu_xcalloc((size_t)(nf + np) + nt + 3, sizeof(char *));
	a->argv[a->argc++] = "cellctl";
	for (int k = 0; k < nf; k++)
		a->argv[a->argc++] = flags[k];
	for (size_t k = 0; k < nt; k++) {
		if (!acc[k])
			continue;
		size_t n = strlen(t[k].name) + strlen(acc[k]) + 4;
		char *s = own(a, cu_xmalloc(n));
		snprintf(s, n, "--%s=%s", t[k].name, acc[k]);
		a->argv[a->argc++] = s;
		free(acc[k]);
	}
	a->argv[a->argc++] = "--";
	for (int k = 0; k < np; k++)
		a->argv[a->argc++] = pos[k];
	free(flags);
	free(pos);
	free(acc);
}

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->argv);
}

/* The command's own flags, then the common ones. */
static struct cc_flag *merged_table(const struct ctl_cmd *k)
{
	size_t n = 0, m = 0;
	while (k->flags && k->flags[n].name)
		n++;
	while (common_flags[m].name)
		m++;
	struct cc_flag *t = cu_xcalloc(n + m + 1, sizeof(*t));
	if (n)
		memcpy(t, k->flags, n * sizeof(*t));
	memcpy(t + n, common_flags, m * sizeof(*t));
	return t;
}

/* ---- running one command ---- */

static int output_mode(struct ctl *c, const struct ctl_opts *o)
{
	const char *out = o->output ? o->output : "table";
	c->json = o->json || !strcmp(out, "json");
	c->wide = !strcmp(out, "wide");
	if (strcmp(out, "table") && strcmp(out, "wide") && strcmp(out, "json"))
		return ctl_usage(c,
		                 "--output: expected table, wide or json, "
		                 "got \"%.64s\"",
		                 out);
	return 0;
}

static void merge_opts(struct ctl_opts *o)
{
	o->server = cmd_opts.server ? cmd_opts.server : top_opts.server;
	o->token_file =
	    cmd_opts.token_file ? cmd_opts.token_file : top_opts.token_file;
	o->output = cmd_opts.output ? cmd_opts.output : top_opts.output;
	o->json = cmd_opts.json || top_opts.json;
	o->timeout_ms =
	    cmd_opts.timeout_ms ? cmd_opts.timeout_ms : top_opts.timeout_ms;
}

static int run_parsed(struct ctl *c, int argc, char **argv)
{
	struct ctl_opts o;
	merge_opts(&o);
	int rc = output_mode(c, &o);
	if (!rc && !c->cmd->offline)
		rc = ctl_connect_setup(c, &o);
	if (!rc)
		rc = c->cmd->run(c, argc, argv);
	ctl_disconnect(c);
	return rc;
}

static int run_cmd(struct ctl *c, int argc, char **argv)
{
	struct cc_flag *table = merged_table(c->cmd);
	struct args a;
	char err[CC_ERRMSG_SIZE];
	int next = 0;
	normalize(table, c->cmd->lists, argc, argv, &a);
	int rc = cc_flags_parse(table, a.argc, a.argv, &next, err, sizeof(err));
	if (rc == CC_HELP) {
		cmd_help(c->group, c->cmd, table);
		rc = CTL_OK;
	} else if (rc) {
		rc = ctl_usage(c, "%s", err);
	} else {
		rc = run_parsed(c, a.argc - next, a.argv + next);
	}
	cc_flags_free(table);
	free(table);
	args_free(&a);
	return rc;
}

static const struct ctl_group *find_group(const char *name)
{
	for (size_t i = 0; ctl_groups[i]; i++)
		if (!strcmp(ctl_groups[i]->name, name))
			return ctl_groups[i];
	return NULL;
}

static const struct ctl_cmd *find_cmd(const struct ctl_group *g,
                                      const char *name)
{
	for (const struct ctl_cmd *k = g->cmds; k->run; k++)
		if (name ? k->name && !strcmp(k->name, name) : !k->name)
			return k;
	return NULL;
}

static void sub_names(const struct ctl_group *g, char *buf, size_t len)
{
	buf[0] = 0;
	for (const struct ctl_cmd *k = g->cmds; k->run; k++)
		if (k->name)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			         buf[0] ? ", " : "", k->name);
}

/* Picks the subcommand at argv[0] (if the group has named ones);
 * *used is how many words it took. */
static int pick_cmd(struct ctl *c, int argc, char **argv, int *used)
{
	const struct ctl_group *g = c->group;
	char names[256];
	const char *w = argc ? argv[0] : NULL;
	const struct ctl_cmd *k = w && w[0] != '-' ? find_cmd(g, w) : NULL;
	sub_names(g, names, sizeof(names));
	*used = k ? 1 : 0;
	if (!k && w && w[0] != '-' && names[0])
		return ctl_usage(c,
		                 "unknown subcommand \"%.64s\" (expected "
		                 "one of: %s)",
		                 w, names);
	if (!k)
		k = find_cmd(g, NULL);
	if (!k && w && (!strcmp(w, "--help") || !strcmp(w, "-h"))) {
		group_help(g, stdout);
		return -1;
	}
	if (!k)
		return ctl_usage(c, "expected a subcommand: %s", names);
	c->cmd = k;
	if (k->name)
		snprintf(c->where, sizeof(c->where), "%s %s", g->name, k->name);
	return 0;
}

static int dispatch(int argc, char **argv);

/* `cellctl help [COMMAND [SUBCOMMAND]]`, as --help would print it. */
static int help_command(int argc, char **argv)
{
	if (argc < 1) {
		top_help(stdout);
		return CTL_OK;
	}
	const struct ctl_group *g = find_group(argv[0]);
	if (!g)
		return ctl_usage(NULL, "help: unknown command \"%.64s\"",
		                 argv[0]);
	/* a group with a form of its own (txn -f) lists its subcommands in
	 * that form's help */
	char *again[] = {argv[0], argc < 2 ? "--help" : argv[1], "--help",
	                 NULL};
	if (argc < 2 && !find_cmd(g, NULL)) {
		group_help(g, stdout);
		return CTL_OK;
	}
	return dispatch(argc < 2 ? 2 : 3, again);
}

static int dispatch(int argc, char **argv)
{
	struct ctl c;
	memset(&c, 0, sizeof(c));
	if (!strcmp(argv[0], "help"))
		return help_command(argc - 1, argv + 1);
	c.group = find_group(argv[0]);
	if (!c.group) {
		char names[256] = "";
		for (size_t i = 0; ctl_groups[i]; i++)
			snprintf(names + strlen(names),
			         sizeof(names) - strlen(names), "%s%s",
			         i ? ", " : "", ctl_groups[i]->name);
		return ctl_usage(NULL,
		                 "unknown command \"%.64s\" (expected "
		                 "one of: %s)",
		                 argv[0], names);
	}
	snprintf(c.where, sizeof(c.where), "%s", c.group->name);
	int used = 0, rc = pick_cmd(&c, argc - 1, argv + 1, &used);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	return run_cmd(&c, argc - 1 - used, argv + 1 + used);
}

int ctl_main(int argc, char **argv)
{
	char err[CC_ERRMSG_SIZE];
	int next = 0;
	/* -o before the command too: the flag parser knows long forms only */
	char **top = cu_xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++)
		top[i] = (char *)short_form(argv[i]);
	int rc =
	    cc_flags_parse(common_flags, argc, top, &next, err, sizeof(err));
	free(top);
	top_opts = cmd_opts; /* the strings move over */
	memset(&cmd_opts, 0, sizeof(cmd_opts));
	if (rc == CC_HELP) {
		top_help(stdout);
		rc = CTL_OK;
	} else if (rc) {
		rc = ctl_usage(NULL, "%s", err);
	} else if (next >= argc) {
		top_help(stderr);
		rc = ctl_usage(NULL, "expected a command");
	} else {
		rc = dispatch(argc - next, argv + next);
	}
	free(top_opts.server);
	free(top_opts.token_file);
	free(top_opts.output);
	memset(&top_opts, 0, sizeof(top_opts));
	return rc;
}
