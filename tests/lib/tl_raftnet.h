/* tl_raftnet.h: scaffolding for the tests that run several Raft members in
 * one process over loopback TCP, all on one libev loop: cellraft nodes
 * (cellraft.h) or Raft stores (cellstore.h). The net holds the loop with a
 * tick that wakes it so conditions are re-checked and a scratch folder for
 * the data dirs; it gives each member its addresses and folder, waits by
 * polling a condition against a deadline (never a fixed sleep), finds the
 * member that writes, and closes every member still open at the end, even
 * when a test failed.
 *
 * The test's object starts with the net and holds its members in an array
 * whose elements each keep their node or store in a pointer (NULL: closed;
 * the net sets it to NULL once a close it started has finished). The kind
 * says where: TL_RAFTNET_KIND. cmocka makes the object: list each test as
 * TL_RAFTNET_TEST(test, kind); its *state is then the object. */
#ifndef CELL_TL_RAFTNET_H
#define CELL_TL_RAFTNET_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "cellutil.h"

#define TL_RAFTNET_MAX      4
#define TL_RAFTNET_ADDR_MAX 32  /* "127.0.0.1:65535" */
#define TL_RAFTNET_API_MAX  64  /* "http://127.0.0.1:8004" */
#define TL_RAFTNET_DIR_MAX  512 /* "<scratch folder>/member4" */

/* What the members are: the pointers hold a cr_node * or a cst_store *. */
enum tl_raftnet_members { TL_RAFTNET_NODES, TL_RAFTNET_STORES };

struct tl_raftnet_kind {
	enum tl_raftnet_members what;
	size_t size;        /* of the test's object; the net comes first */
	const char *prefix; /* names the scratch folder */
	double deadline;    /* seconds the net's own waits may take */
	unsigned members;   /* the array's length, at most TL_RAFTNET_MAX */
	size_t first;       /* offset of the first member's pointer */
	size_t stride;      /* from one member's pointer to the next's */
};

/* The kind of a test object `type` whose members are array[0..], each
 * keeping its node or store in the pointer field `ptr`. */
#define TL_RAFTNET_KIND(what_, type, array, ptr, prefix_, deadline_)           \
	{                                                                      \
		.what = (what_), .size = sizeof(type), .prefix = (prefix_),    \
		.deadline = (deadline_),                                       \
		.members = CU_ARRAY_LEN(((type *)0)->array),                   \
		.first = offsetof(type, array[0].ptr),                         \
		.stride = sizeof(((type *)0)->array[0]),                       \
	}

struct tl_raftnet {
	const struct tl_raftnet_kind *kind; /* static, borrowed */
	struct ev_loop *loop;               /* owned */
	ev_timer tick; /* wakes the loop: conditions are re-checked */
	char *dir;     /* owned: the scratch folder, removed at the end */
	/* Asked to close and not yet seen closed: such a member is open but
	 * no longer counts (tl_raftnet_writer passes it over). */
	bool closing[TL_RAFTNET_MAX];
};

/* cmocka's setup and teardown: *state goes from the kind to a new zeroed
 * object of kind->size bytes with a loop and a scratch folder (the test
 * fails if they cannot be made), and back. Teardown closes every member
 * still open, waits for them, frees the loop and the object, and removes
 * the folder; it fails (-1) if a member did not close in time or the
 * folder stayed. */
int tl_raftnet_setup(void **state);
int tl_raftnet_teardown(void **state);
#define TL_RAFTNET_TEST(test, kind)                                            \
	cmocka_unit_test_prestate_setup_teardown(                              \
	    test, tl_raftnet_setup, tl_raftnet_teardown, (void *)&(kind))

/* A condition to wait for; ctx is the test's object (which starts with the
 * net, so it is the net's address too). */
typedef bool (*tl_raftnet_cond)(void *ctx, void *arg);

/* Runs the loop until cond(ctx, arg) holds or secs pass; returns whether
 * it holds. */
bool tl_raftnet_run_until(struct tl_raftnet *net, tl_raftnet_cond cond,
                          void *arg, double secs);

/* Member i's places: a Raft address on a free loopback port, the API
 * address it advertises (nothing listens there: 8001 + i) and its data
 * dir in the scratch folder. */
void tl_raftnet_place(const struct tl_raftnet *net, unsigned i,
                      char address[TL_RAFTNET_ADDR_MAX],
                      char api_address[TL_RAFTNET_API_MAX],
                      char dir[TL_RAFTNET_DIR_MAX]);

/* Starts closing member i when it is open and not closing already. */
void tl_raftnet_close(struct tl_raftnet *net, unsigned i);
/* Closes member i and waits until it has; fails the test past the
 * deadline. */
void tl_raftnet_close_and_wait(struct tl_raftnet *net, unsigned i);

/* The first member open, not closing, that takes writes now (a trusted
 * leader, a writable store), or -1. */
int tl_raftnet_writer(struct tl_raftnet *net);
/* Waits until there is one and returns it; past the deadline the test
 * fails ("no trusted leader within 10 s", "no writer ..."). */
unsigned tl_raftnet_wait_writer(struct tl_raftnet *net);

#endif
