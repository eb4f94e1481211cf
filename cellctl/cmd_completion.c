/* cmd_completion.c: `cellctl completion bash`: a bash completion script
 * generated from the command registry itself, so every command,
 * subcommand and flag it offers is one cellctl really takes. */
#include "cellctl.h"

#include <string.h>

/* Values a flag takes, where they form a short fixed list ("" = files). */
static const struct {
	const char *flag, *values;
} choices[] = {
    {"output", "table wide json"},
    {"mode", "incremental all_or_nothing"},
    {"detect", "fine coarse"},
    {"role", "voter standby spare"},
    {"file", ""},
    {"token-file", ""},
};

static void print_flags(const struct cc_flag *f, bool with_values)
{
	for (; f->name; f++)
		if (!with_values || !ctl_flag_is_bool(f))
			printf(" --%s", f->name);
}

/* One case arm per command: "group sub) flags=...". */
static void print_cases(void)
{
	for (size_t g = 0; ctl_groups[g]; g++) {
		const struct ctl_group *grp = ctl_groups[g];
		for (const struct ctl_cmd *k = grp->cmds; k->run; k++) {
			printf("\t\"%s %s\") flags=\"", grp->name,
			       k->name ? k->name : "");
			print_flags(k->flags, false);
			printf("\" ;;\n");
		}
	}
}

static void print_subs(void)
{
	for (size_t g = 0; ctl_groups[g]; g++) {
		const struct ctl_group *grp = ctl_groups[g];
		printf("\t%s) subs=\"", grp->name);
		for (const struct ctl_cmd *k = grp->cmds; k->run; k++)
			if (k->name)
				printf(" %s", k->name);
		printf("\" ;;\n");
	}
}

/* Adds the value-taking flags of f not yet in seen (n of them). */
static void collect_valued(const struct cc_flag *f, const char **seen,
                           size_t *n, size_t max)
{
	for (; f->name; f++) {
		bool dup = ctl_flag_is_bool(f);
		for (size_t i = 0; i < *n && !dup; i++)
			dup = !strcmp(seen[i], f->name);
		if (!dup && *n < max)
			seen[(*n)++] = f->name;
	}
}

/* Flags that take a value, over every command: a word after one of them
 * is its value, not a command. */
static void print_valued(void)
{
	const char *seen[256];
	size_t n = 0;
	collect_valued(ctl_common_flags(), seen, &n, 256);
	for (size_t g = 0; ctl_groups[g]; g++)
		for (const struct ctl_cmd *k = ctl_groups[g]->cmds; k->run; k++)
			collect_valued(k->flags, seen, &n, 256);
	printf("\tlocal valued=\" -f -o");
	for (size_t i = 0; i < n; i++)
		printf(" --%s", seen[i]);
	printf(" \"\n");
}

static void print_values(void)
{
	printf("\tcase \"$prev\" in\n");
	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		const char *v = choices[i].values;
		printf("\t--%s%s)\n", choices[i].flag,
		       !strcmp(choices[i].flag, "file")     ? "|-f"
		       : !strcmp(choices[i].flag, "output") ? "|-o"
		                                            : "");
		if (*v)
			printf(
			    "\t\tCOMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))"
			    "\n\t\treturn ;;\n",
			    v);
		else
			printf("\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
			       "\t\treturn ;;\n");
	}
	printf("\tesac\n");
}

static const char head[] =
    "# bash completion for cellctl: commands, subcommands and flags.\n"
    "# Load it with:  source <(cellctl completion bash)\n"
    "_cellctl() {\n"
    "\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    "\tlocal prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "\tlocal group=\"\" sub=\"\" subs=\"\" flags=\"\" i w skip=0\n";

static const char find_words[] =
    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
    "\t\tw=\"${COMP_WORDS[i]}\"\n"
    "\t\tif ((skip)); then skip=0; continue; fi\n"
    "\t\tcase \"$w\" in\n"
    "\t\t--*=*) continue ;;\n"
    "\t\t-*) [[ $valued == *\" $w \"* ]] && skip=1; continue ;;\n"
    "\t\tesac\n"
    "\t\tif [[ -z $group ]]; then group=$w\n"
    "\t\telif [[ -z $sub ]]; then sub=$w; fi\n"
    "\tdone\n";

static const char tail[] =
    "\tif [[ -z $group ]]; then\n"
    "\t\tif [[ $cur == -* ]]; then flags=\"$common\"; else flags=\"$groups\"; "
    "fi\n"
    "\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
    "\t\treturn\n"
    "\tfi\n"
    "\tif [[ -n $subs && -z $sub && $cur != -* ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
    "\t\treturn\n"
    "\tfi\n"
    "\t[[ \"$subs \" == *\" $sub \"* ]] || sub=\"\"\n"
    "\tcase \"$group $sub\" in\n";

static const char end[] =
    "\tesac\n"
    "\tCOMPREPLY=($(compgen -W \"$flags $common --help\" -- \"$cur\"))\n"
    "}\n"
    "complete -F _cellctl cellctl\n";

static int completion_bash(struct ctl *c, int argc, char **argv)
{
	(void)c;
	(void)argv;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	fputs(head, stdout);
	print_valued();
	printf("\tlocal common=\"");
	print_flags(ctl_common_flags(), false);
	printf(" -o\"\n\tlocal groups=\"help");
	for (size_t g = 0; ctl_groups[g]; g++)
		printf(" %s", ctl_groups[g]->name);
	printf("\"\n");
	print_values();
	fputs(find_words, stdout);
	printf("\tcase \"$group\" in\n");
	print_subs();
	printf("\tesac\n");
	fputs(tail, stdout);
	print_cases();
	fputs(end, stdout);
	return CTL_OK;
}

static const struct cc_flag no_flags[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd completion_cmds[] = {
    {
        .name = "bash",
        .summary = "print the bash completion script",
        .usage = "cellctl completion bash",
        .about = "Prints a bash completion script for cellctl's commands,\n"
                 "subcommands and flags (and the values of --output, --mode,\n"
                 "--detect, --role and file flags). Load it in the current\n"
                 "shell, or from ~/.bashrc.",
        .examples =
            "  $ source <(cellctl completion bash)\n"
            "  $ cellctl completion bash \\\n"
            "        > ~/.local/share/bash-completion/completions/cellctl\n",
        .flags = no_flags,
        .run = completion_bash,
        .offline = true,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_completion = {
    "completion", "print a shell completion script (bash)", completion_cmds};
