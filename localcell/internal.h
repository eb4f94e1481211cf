/* internal.h: private to localcell: what its files (cell.c the profile and
 * the cells, proc.c processes and ports, daemon.c schedulers and agents,
 * http.c the conversation) call of one another. */
#ifndef CELL_LOCALCELL_INTERNAL_H
#define CELL_LOCALCELL_INTERNAL_H

#include "localcell.h"

/* The installed profile (trouble when lc_init was not called). */
const struct lc_profile *lci_profile(void);
/* The profile's trouble for c (NULL: the newest running cell). */
void lci_trouble(const struct lc_cell *c, const char *fmt, ...) CU_PRINTF(2, 3)
    __attribute__((noreturn));

/* A command line being built: the binary, then flag lists. */
#define LCI_ARGV_MAX 80
struct lci_argv {
	const char *v[LCI_ARGV_MAX + 1]; /* borrowed strings, NULL-ended */
	int n;
};
/* Appends every string of list (NULL-terminated; NULL is fine). */
void lci_argv_add(struct lci_argv *a, const char *const *list);

/* "http://127.0.0.1:P,http://..." of c's members, for --cell. */
void lci_member_urls(const struct lc_cell *c, char *out, size_t len);

/* daemon.c: stops the daemons d[0..n) at once (SIGTERM, then SIGKILL after
 * 10 s), kills the tasks the agents among them leave, frees their flags. */
void lci_daemons_stop(struct lc_daemon *d, int n);

/* http.c: frees c's conversation (lc_stop), and everything of the HTTP
 * side (the atexit handler, last). */
void lci_talk_free(struct lc_cell *c);
void lci_http_end(void);

#endif /* CELL_LOCALCELL_INTERNAL_H */
