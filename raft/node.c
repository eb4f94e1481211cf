/* node.c: a replica node's life: configuration checks, raft and libuv setup,
 * bootstrap, start, role polling with the post-election barrier that makes a
 * leader trusted, lookups, and the clean close. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "cr_node.h"

/* ---- errors -------------------------------------------------------------- */

static const char *const error_text[] = {
#define CR_ERROR_TEXT(id, text) text,
    CR_ERRORS(CR_ERROR_TEXT)
#undef CR_ERROR_TEXT
};

const char *cr_strerror(int code)
{
	if (code < 0 || code >= CR_ERROR__COUNT)
		return "unknown error";
	return error_text[code];
}

int cr_error_from_raft(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case RAFT_NOTLEADER:
		return CR_ENOTLEADER;
	case RAFT_LEADERSHIPLOST:
		return CR_ELEADERSHIPLOST;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return CR_ESHUTDOWN;
	case RAFT_CANTCHANGE:
		return CR_EBUSY;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
		return CR_ENOTFOUND;
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
	case RAFT_BADROLE:
	case RAFT_INVALID:
		return CR_EINVAL;
	case RAFT_TOOBIG:
		return CR_ETOOBIG;
	default:
		return CR_EIO;
	}
}

int64_t cr_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static void log_line(struct cr_node *n, enum cst_log_level level,
                     const char *msg)
{
	if (n->hooks.log)
		n->hooks.log(n->hooks.arg, level, msg);
	else
		fprintf(stderr, "cellraft[%llu] %s: %s\n",
		        (unsigned long long)n->id, level_names[level], msg);
}

void cr_node_log(struct cr_node *n, enum cst_log_level level, const char *fmt,
                 ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(n, level, msg);
}

void cr_node_seterr(struct cr_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n->errmsg, sizeof(n->errmsg), fmt, ap);
	va_end(ap);
}

/* ---- configuration checks ------------------------------------------------ */

/* raft accepts IPv4 literals only: "localhost:..." fails at start (notes
 * §2), so say so at init, naming the field. */
int cr_check_raft_address(const char *field, const char *addr, char *errbuf,
                          size_t errlen)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	struct in_addr in;
	char *end;
	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		goto bad;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (inet_pton(AF_INET, host, &in) != 1 || *end || end == colon + 1 ||
	    port == 0 || port > 65535 || errno)
		goto bad;
	return 0;
bad:
	snprintf(errbuf, errlen,
	         "%s: expected an IPv4 literal with a port like "
	         "127.0.0.1:9001, got '%s'",
	         field, addr ? addr : "(null)");
	return CR_EINVAL;
}

static int check_peers(const struct cst_raft_config *c, char *errbuf,
                       size_t errlen)
{
	bool self = false;
	char field[64];
	for (unsigned i = 0; i < c->npeers; i++) {
		const struct cst_raft_peer *p = &c->peers[i];
		snprintf(field, sizeof(field), "peers[%u].raft_address", i);
		if (p->id == 0) {
			snprintf(errbuf, errlen, "peers[%u].id: must be > 0",
			         i);
			return CR_EINVAL;
		}
		if (cr_check_raft_address(field, p->address, errbuf, errlen))
			return CR_EINVAL;
		if (p->api_address &&
		    strlen(p->api_address) >= CST_API_ADDR_MAX) {
			snprintf(errbuf, errlen,
			         "peers[%u].api_address: longer than %d", i,
			         CST_API_ADDR_MAX - 1);
			return CR_EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			if (c->peers[j].id == p->id ||
			    strcmp(c->peers[j].address, p->address) == 0) {
				snprintf(errbuf, errlen,
				         "peers[%u]: id %llu or address %s "
				         "already used by peers[%u]",
				         i, (unsigned long long)p->id,
				         p->address, j);
				return CR_EINVAL;
			}
		}
		if (p->id == c->id) {
			if (strcmp(p->address, c->address) != 0) {
				snprintf(errbuf, errlen,
				         "peers[%u].raft_address: '%s' but "
				         "this node (id %llu) is at '%s'",
				         i, p->address,
				         (unsigned long long)c->id, c->address);
				return CR_EINVAL;
			}
			self = true;
		}
	}
	if (c->npeers && !self) {
		snprintf(errbuf, errlen,
		         "peers: this node (id %llu) is not in the bootstrap "
		         "list",
		         (unsigned long long)c->id);
		return CR_EINVAL;
	}
	return 0;
}

static int check_config(const struct cst_raft_config *c, char *errbuf,
                        size_t errlen)
{
	if (c->id == 0) {
		snprintf(errbuf, errlen, "id: must be > 0");
		return CR_EINVAL;
	}
	if (cr_check_raft_address("raft_address", c->address, errbuf, errlen))
		return CR_EINVAL;
	if (c->api_address && strlen(c->api_address) >= CST_API_ADDR_MAX) {
		snprintf(errbuf, errlen, "api_address: longer than %d",
		         CST_API_ADDR_MAX - 1);
		return CR_EINVAL;
	}
	if (!c->data_dir || !*c->data_dir) {
		snprintf(errbuf, errlen, "data_dir: required");
		return CR_EINVAL;
	}
	unsigned election = c->election_timeout_ms
	                        ? c->election_timeout_ms
	                        : CR_ELECTION_TIMEOUT_DEFAULT;
	unsigned heartbeat = c->heartbeat_timeout_ms
	                         ? c->heartbeat_timeout_ms
	                         : CR_HEARTBEAT_TIMEOUT_DEFAULT;
	if (heartbeat >= election) {
		snprintf(errbuf, errlen,
		         "heartbeat_timeout_ms: %u must be below "
		         "election_timeout_ms %u",
		         heartbeat, election);
		return CR_EINVAL;
	}
	if (c->npeers && !c->peers) {
		snprintf(errbuf, errlen, "peers: NULL with npeers %u",
		         c->npeers);
		return CR_EINVAL;
	}
	return check_peers(c, errbuf, errlen);
}

static int make_dir(const char *dir, char *errbuf, size_t errlen)
{
	struct stat st;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(errbuf, errlen, "data_dir: mkdir %s: %s", dir,
		         strerror(errno));
		return CR_EIO;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "data_dir: %s is not a directory",
		         dir);
		return CR_EIO;
	}
	return 0;
}

/* ---- FSM hooks: adapt the FSM's to the node's ---------------------------- */

static void fsm_on_applied(void *arg, uint64_t index, const cs_txn *txn,
                           const cs_result *res)
{
	struct cr_node *n = arg;
	if (n->hooks.on_applied)
		n->hooks.on_applied(n, index, txn, res, n->hooks.arg);
}

static void fsm_on_restore(void *arg, uint64_t applied_index)
{
	struct cr_node *n = arg;
	cr_node_log(n, CST_LOG_INFO, "state restored from a snapshot at %llu",
	            (unsigned long long)applied_index);
	if (n->hooks.on_restore)
		n->hooks.on_restore(n, applied_index, n->hooks.arg);
}

static void fsm_log(void *arg, enum cst_log_level level, const char *msg)
{
	log_line(arg, level, msg);
}

/* ---- init ---------------------------------------------------------------- */

static void copy_config(struct cr_node *n, const struct cr_config *cfg)
{
	const struct cst_raft_config *c = &cfg->raft;
	n->id = c->id;
	snprintf(n->raft_address, sizeof(n->raft_address), "%s", c->address);
	snprintf(n->api_address, sizeof(n->api_address), "%s",
	         c->api_address ? c->api_address : "");
	n->data_dir = cu_xstrdup(c->data_dir);
	n->npeers = c->npeers;
	n->peers = cu_xcalloc(c->npeers, sizeof(*n->peers));
	for (unsigned i = 0; i < c->npeers; i++) {
		n->peers[i].id = c->peers[i].id;
		snprintf(n->peers[i].raft_address,
		         sizeof(n->peers[i].raft_address), "%s",
		         c->peers[i].address);
		snprintf(n->peers[i].api_address,
		         sizeof(n->peers[i].api_address), "%s",
		         c->peers[i].api_address ? c->peers[i].api_address
		                                 : "");
	}
	if (cfg->hooks)
		n->hooks = *cfg->hooks;
	n->batch_max_txns =
	    c->batch_max_txns ? c->batch_max_txns : CR_BATCH_MAX_TXNS_DEFAULT;
	n->batch_max_bytes = c->batch_max_bytes ? c->batch_max_bytes
	                                        : CR_BATCH_MAX_BYTES_DEFAULT;
	/* Batch ids: a random start per incarnation, so an old entry
	 * replayed after a restart never matches a batch waiting now. */
	if (getrandom(&n->next_batch_id, sizeof(n->next_batch_id), 0) !=
	    (ssize_t)sizeof(n->next_batch_id))
		n->next_batch_id = (uint64_t)cr_wall_ms() * 1000003u;
}

static void free_node(struct cr_node *n)
{
	cr_fsm_close(&n->fsm);
	cr_entry_free(&n->queue.entry);
	free(n->queue.waiters);
	free(n->peers);
	free(n->data_dir);
	free(n);
}

static void init_closed_cb(struct raft *r)
{
	*(bool *)r->data = true;
}

/* Init failed after raft_init succeeded: close raft synchronously. Safe here
 * because this libuv loop is ours and not running. */
static void teardown_after_raft(struct cr_node *n)
{
	bool closed = false;
	n->raft.data = &closed;
	raft_close(&n->raft, init_closed_cb);
	while (!closed && uv_run(&n->bridge.uv, UV_RUN_ONCE))
		;
	raft_uv_close(&n->io);
	cr_transport_close(&n->transport);
	cr_bridge_close(&n->bridge);
	free_node(n);
}

void cr_node_discard(struct cr_node *n)
{
	cr_bridge_stop(&n->bridge);
	teardown_after_raft(n);
}

static void teardown_before_raft(struct cr_node *n, bool io, bool transport)
{
	if (io)
		raft_uv_close(&n->io);
	if (transport)
		cr_transport_close(&n->transport);
	cr_bridge_close(&n->bridge);
	free_node(n);
}

static int bootstrap(struct cr_node *n, char *errbuf, size_t errlen)
{
	struct raft_configuration conf;
	int rv = 0;
	if (n->npeers == 0)
		return 0; /* joining: a running cell adds this node */
	raft_configuration_init(&conf);
	for (unsigned i = 0; i < n->npeers && rv == 0; i++)
		rv = raft_configuration_add(&conf, n->peers[i].id,
		                            n->peers[i].raft_address,
		                            RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&n->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP)
		return 0; /* already has state: a restart */
	if (rv != 0) {
		snprintf(errbuf, errlen, "bootstrap %u voters in %s: %s",
		         n->npeers, n->data_dir, raft_errmsg(&n->raft));
		return cr_error_from_raft(rv);
	}
	cr_node_log(n, CST_LOG_INFO, "bootstrapped %u voters", n->npeers);
	return 0;
}

static void apply_settings(struct cr_node *n, const struct cst_raft_config *c)
{
	struct raft *r = &n->raft;
	raft_set_election_timeout(r, c->election_timeout_ms
	                                 ? c->election_timeout_ms
	                                 : CR_ELECTION_TIMEOUT_DEFAULT);
	raft_set_heartbeat_timeout(r, c->heartbeat_timeout_ms
	                                  ? c->heartbeat_timeout_ms
	                                  : CR_HEARTBEAT_TIMEOUT_DEFAULT);
	raft_set_snapshot_threshold(r, c->snapshot_threshold
	                                   ? c->snapshot_threshold
	                                   : CR_SNAPSHOT_THRESHOLD_DEFAULT);
	raft_set_snapshot_trailing(r, c->snapshot_trailing
	                                  ? c->snapshot_trailing
	                                  : CR_SNAPSHOT_TRAILING_DEFAULT);
	raft_set_pre_vote(r, !c->no_pre_vote);
	/* After raft_init, which resets I/O sizes (RAFT.md §2). */
	raft_uv_set_segment_size(&n->io, c->segment_size
	                                     ? c->segment_size
	                                     : CR_SEGMENT_SIZE_DEFAULT);
}

static void node_pre(void *arg);
static void node_drained(void *arg);

int cr_node_init(cr_node **out, struct ev_loop *loop, const struct cr_config *c,
                 char *errbuf, size_t errlen)
{
	*out = NULL;
	int rv = check_config(&c->raft, errbuf, errlen);
	if (rv == 0)
		rv = make_dir(c->raft.data_dir, errbuf, errlen);
	if (rv != 0)
		return rv;
	signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write */
	struct cr_node *n = cu_xcalloc(1, sizeof(*n));
	copy_config(n, c);
	cu_list_init(&n->sealed);
	cu_list_init(&n->in_flight);
	cu_list_init(&n->barriers);
	cr_entry_init(&n->queue.entry);
	struct cr_fsm_hooks fh = {cr_batch_claim, fsm_on_applied,
	                          fsm_on_restore, fsm_log, n};
	cr_fsm_init(&n->fsm, &c->raft.state, &fh);
	cr_fsm_track_changes(&n->fsm, c->track_changes);
	if (cr_bridge_init(&n->bridge, loop, errbuf, errlen) != 0) {
		free_node(n);
		return CR_EIO;
	}
	n->bridge.pre = node_pre;
	n->bridge.drained = node_drained;
	n->bridge.arg = n;
	if ((rv = cr_transport_init(&n->transport, &n->bridge.uv)) != 0) {
		snprintf(errbuf, errlen, "raft tcp transport: %s",
		         raft_strerror(rv));
		teardown_before_raft(n, false, false);
		return CR_EIO;
	}
	if ((rv = raft_uv_init(&n->io, &n->bridge.uv, n->data_dir,
	                       &n->transport.iface)) != 0) {
		snprintf(errbuf, errlen, "raft io in %s: %s", n->data_dir,
		         n->io.errmsg);
		teardown_before_raft(n, false, true);
		return CR_EIO;
	}
	if ((rv = raft_init(&n->raft, &n->io, &n->fsm.fsm, n->id,
	                    n->raft_address)) != 0) {
		snprintf(errbuf, errlen, "raft init (id %llu, %s, %s): %s",
		         (unsigned long long)n->id, n->raft_address,
		         n->data_dir, raft_errmsg(&n->raft));
		teardown_before_raft(n, true, true);
		return cr_error_from_raft(rv) == CR_EINVAL ? CR_EINVAL : CR_EIO;
	}
	cr_fsm_bind(&n->fsm, &n->raft);
	if ((rv = bootstrap(n, errbuf, errlen)) != 0) {
		teardown_after_raft(n);
		return rv;
	}
	n->raft.data = n;
	apply_settings(n, &c->raft);
	cr_bridge_start(&n->bridge);
	*out = n;
	return 0;
}

int cr_node_start(cr_node *n, char *errbuf, size_t errlen)
{
	if (n->close_requested) {
		snprintf(errbuf, errlen, "node %llu is closing",
		         (unsigned long long)n->id);
		return CR_ESHUTDOWN;
	}
	if (n->started) {
		snprintf(errbuf, errlen, "node %llu already started",
		         (unsigned long long)n->id);
		return CR_EINVAL;
	}
	int rv = raft_start(&n->raft);
	if (rv != 0) {
		/* raft's own message is often empty here; the I/O layer's (a
		 * failed listen, a bad segment) says more. */
		const char *msg = raft_errmsg(&n->raft);
		if (!*msg)
			msg = n->io.errmsg;
		if (!*msg)
			msg = n->transport.iface.errmsg;
		snprintf(errbuf, errlen, "raft start (id %llu, %s, %s): %s",
		         (unsigned long long)n->id, n->raft_address,
		         n->data_dir,
		         *msg ? msg
		              : "I/O error (is the raft address free to "
		                "listen on, the data dir readable?)");
		return CR_EIO;
	}
	n->started = true;
	cr_node_log(n, CST_LOG_INFO,
	            "started at %s, data in %s, applied index %llu",
	            n->raft_address, n->data_dir,
	            (unsigned long long)raft_last_applied(&n->raft));
	cr_bridge_kick(&n->bridge);
	return 0;
}

/* ---- role polling and the post-election barrier -------------------------- */

struct election_barrier {
	struct raft_barrier req;
	struct cr_node *node;
	uint64_t term;
};

static void on_election_barrier(struct raft_barrier *req, int status)
{
	struct election_barrier *b = req->data;
	struct cr_node *n = b->node;
	uint64_t term = b->term;
	free(b);
	n->barrier_pending = false;
	if (n->closing)
		return;
	if (status != 0) {
		n->barrier_term = 0; /* the next poll retries if still leader */
		return;
	}
	if (raft_state(&n->raft) != RAFT_LEADER || n->raft.current_term != term)
		return;
	n->trusted = true;
	cr_node_log(n, CST_LOG_INFO, "leader of term %llu, trusted at %llu",
	            (unsigned long long)term,
	            (unsigned long long)raft_last_applied(&n->raft));
	cr_members_refresh(n);
	if (n->hooks.on_trusted)
		n->hooks.on_trusted(n, term, n->hooks.arg);
}

/* 0.15 appends no entry on election, so a new leader's state may lag what
 * is committed: the barrier's callback runs once everything before it has
 * been applied (RAFT.md §2). */
static void issue_election_barrier(struct cr_node *n)
{
	struct election_barrier *b = cu_xmalloc(sizeof(*b));
	b->req.data = b;
	b->node = n;
	b->term = n->raft.current_term;
	int rv = raft_barrier(&n->raft, &b->req, on_election_barrier);
	if (rv != 0) { /* e.g. a transfer in progress: retried next poll */
		free(b);
		return;
	}
	n->barrier_pending = true;
	n->barrier_term = b->term;
}

static void poll_role(struct cr_node *n)
{
	enum cst_role now = (enum cst_role)raft_state(&n->raft);
	uint64_t term = n->raft.current_term;
	if (now != CST_ROLE_LEADER || n->barrier_term != term)
		n->trusted = false;
	if (now != n->role) {
		enum cst_role old = n->role;
		n->role = now;
		cr_node_log(n, CST_LOG_INFO, "role %s -> %s (term %llu)",
		            cst_role_name(old), cst_role_name(now),
		            (unsigned long long)term);
		if (n->hooks.on_role)
			n->hooks.on_role(n, old, now, n->hooks.arg);
	}
	if (now == CST_ROLE_LEADER && !n->barrier_pending &&
	    n->barrier_term != term)
		issue_election_barrier(n);
}

/* ---- close --------------------------------------------------------------- */

static void on_raft_closed(struct raft *r)
{
	struct cr_node *n = r->data;
	raft_uv_close(&n->io);
	cr_transport_close(&n->transport);
	n->raft_closed = true;
	n->bridge.closing = true; /* the bridge finishes once libuv drains */
	cr_bridge_kick(&n->bridge);
}

static void begin_close(struct cr_node *n)
{
	n->closing = true;
	n->trusted = false;
	cr_batch_fail_queued(n, CR_ESHUTDOWN);
	/* raft fails in-flight requests (LEADERSHIPLOST, mapped to
	 * CR_ESHUTDOWN since closing is set) and closes its I/O. */
	raft_close(&n->raft, on_raft_closed);
}

static void node_drained(void *arg)
{
	struct cr_node *n = arg;
	cr_close_cb cb = n->close_cb;
	void *cb_arg = n->close_arg;
	cr_bridge_close(&n->bridge);
	cr_members_abort(n);
	cr_node_log(n, CST_LOG_INFO, "closed");
	free_node(n);
	if (cb)
		cb(cb_arg);
}

void cr_node_close(cr_node *n, cr_close_cb cb, void *arg)
{
	if (n->close_requested)
		return;
	n->close_requested = true;
	n->close_cb = cb;
	n->close_arg = arg;
	cr_bridge_kick(&n->bridge);
}

/* Runs in the bridge's ev_prepare, outside uv_run: the one place where raft
 * gets new work (entries, barriers, membership steps) and where the close
 * begins, so no raft call is ever made re-entrantly from a raft callback. */
static void node_pre(void *arg)
{
	struct cr_node *n = arg;
	if (n->closing)
		return;
	if (n->close_requested) {
		begin_close(n);
		return;
	}
	poll_role(n);
	cr_batch_flush(n);
	cr_members_step(n);
}

/* ---- lookups ------------------------------------------------------------- */

const cs_state *cr_node_state(const cr_node *n)
{
	return n->fsm.state;
}

uint64_t cr_node_id(const cr_node *n)
{
	return n->id;
}

enum cst_role cr_node_role(const cr_node *n)
{
	return (enum cst_role)raft_state((struct raft *)&n->raft);
}

bool cr_node_trusted(const cr_node *n)
{
	return n->trusted && !n->close_requested &&
	       raft_state((struct raft *)&n->raft) == RAFT_LEADER &&
	       n->raft.current_term == n->barrier_term;
}

uint64_t cr_node_term(const cr_node *n)
{
	return n->raft.current_term;
}

uint64_t cr_node_commit_index(const cr_node *n)
{
	return n->raft.commit_index;
}

uint64_t cr_node_applied_index(const cr_node *n)
{
	return raft_last_applied((struct raft *)&n->raft);
}

uint64_t cr_node_last_index(const cr_node *n)
{
	return raft_last_index((struct raft *)&n->raft);
}

const char *cr_node_errmsg(const cr_node *n)
{
	return n->errmsg;
}

/* API address of a member: the replicated table first, then what this node
 * was configured with (itself, the static list) until the record lands. */
static const char *api_address_of(const struct cr_node *n, uint64_t id)
{
	const struct cr_member_meta *m = cr_fsm_member(&n->fsm, id);
	if (m)
		return m->api_address;
	if (id == n->id)
		return n->api_address;
	for (unsigned i = 0; i < n->npeers; i++)
		if (n->peers[i].id == id)
			return n->peers[i].api_address;
	return "";
}

static void fill_member(const struct cr_node *n, const struct raft_server *s,
                        struct cst_member *out)
{
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->role = (enum cst_member_role)s->role;
	snprintf(out->address, sizeof(out->address), "%s", s->address);
	snprintf(out->api_address, sizeof(out->api_address), "%s",
	         api_address_of(n, s->id));
}

uint64_t cr_node_leader(const cr_node *n, struct cst_member *out)
{
	raft_id id = 0;
	const char *addr = NULL;
	raft_leader((struct raft *)&n->raft, &id, &addr);
	if (out)
		memset(out, 0, sizeof(*out));
	if (id == 0 || !out)
		return id;
	const struct raft_configuration *conf = &n->raft.configuration;
	for (unsigned i = 0; i < conf->n; i++)
		if (conf->servers[i].id == id)
			fill_member(n, &conf->servers[i], out);
	out->id = id;
	snprintf(out->address, sizeof(out->address), "%s", addr ? addr : "");
	if (!out->api_address[0])
		snprintf(out->api_address, sizeof(out->api_address), "%s",
		         api_address_of(n, id));
	return id;
}

void cr_node_members(const cr_node *node, struct cst_member **out, unsigned *n)
{
	const struct raft_configuration *conf = &node->raft.configuration;
	*n = conf->n;
	*out = NULL;
	if (conf->n == 0)
		return;
	*out = cu_xcalloc(conf->n, sizeof(**out));
	for (unsigned i = 0; i < conf->n; i++)
		fill_member(node, &conf->servers[i], &(*out)[i]);
}

void cr_node_stats(const cr_node *n, struct cst_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->submitted = n->submitted;
	out->queued = n->queue.n;
	for (const struct cu_list *l = cu_list_first(&n->sealed); l;
	     l = cu_list_next(&n->sealed, l))
		out->queued +=
		    cu_container_of(l, const struct cr_batch, link)->sink.n;
	out->batches = n->batches;
	out->inflight = n->inflight;
	out->applied = n->fsm.applied_txns;
	out->malformed = n->fsm.malformed;
	out->snapshots = n->fsm.snapshots;
	out->restores = n->fsm.restores;
}
