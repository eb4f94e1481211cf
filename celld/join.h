/* join.h: part of the celld binary (not the core): a new member asks a
 * running cell to add it as a voter (POST /v1/members, --join URL). */
#ifndef CELL_CELLD_JOIN_H
#define CELL_CELLD_JOIN_H

#include <stdint.h>

struct ev_loop;
struct join;

/* Starts asking url (a member's API base) on loop, which must run for the
 * add to complete: it completes only once this member has caught up.
 * Strings are copied; token may be NULL. The outcome is logged. */
struct join *join_start(struct ev_loop *loop, const char *url, uint64_t id,
                        const char *raft_address, const char *api_address,
                        const char *token);
/* Stops asking (what is in flight is cancelled). NULL is fine. */
void join_free(struct join *j);

#endif /* CELL_CELLD_JOIN_H */
