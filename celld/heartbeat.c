/* heartbeat.c: POST /v1/heartbeat, the batched sign of life of node agents
 * (machines, liveness.c) and schedulers (sched_lease.c). One request may
 * carry both lists; a malformed one is refused whole, so a typo never
 * keeps half a batch alive. Only the writer keeps heartbeats (it is a
 * write: other members redirect it). */
#include <string.h>

#include "core.h"

#define HEARTBEAT_MAX_MACHINES   100000
#define HEARTBEAT_MAX_SCHEDULERS 10000
#define HEARTBEAT_SHAPE                                                        \
	"a heartbeat is {\"machines\": [NAME, ...], \"schedulers\": [NAME, "   \
	"...]}, either list may be absent but not both"

/* One list of the body: its key, what its names are, how many at most. */
struct beat_list {
	const char *key, *noun;
	size_t max;
};

static const struct beat_list machines = {"machines", "machine",
                                          HEARTBEAT_MAX_MACHINES};
static const struct beat_list schedulers = {"schedulers", "scheduler",
                                            HEARTBEAT_MAX_SCHEDULERS};

/* body[key] as a list of names (NULL when absent); false with 400 sent
 * when it is anything else. */
static bool get_list(struct cc_request *r, const json_t *body,
                     const struct beat_list *b, json_t **out)
{
	json_t *v = json_object_get(body, b->key), *name;
	size_t i;
	*out = v;
	if (!v)
		return true;
	if (!json_is_array(v)) {
		cc_reply_error(r, 400, "bad_heartbeat",
		               "%s: expected an array of %s names, got %s (%s)",
		               b->key, b->noun, cs_json_type_name(v),
		               HEARTBEAT_SHAPE);
		return false;
	}
	if (json_array_size(v) > b->max) {
		cc_reply_error(r, 400, "bad_heartbeat",
		               "%s: expected at most %zu names, got %zu",
		               b->key, b->max, json_array_size(v));
		return false;
	}
	/* a name that is not a string is a malformed heartbeat, not an
	 * unknown one: say which element, and take none of it */
	json_array_foreach (v, i, name) {
		if (json_is_string(name))
			continue;
		cc_reply_error(r, 400, "bad_heartbeat",
		               "%s[%zu]: expected a %s name (a string), got %s",
		               b->key, i, b->noun, cs_json_type_name(name));
		return false;
	}
	return true;
}

/* Only the two lists, and at least one of them. */
static bool check_fields(struct cc_request *r, json_t *body)
{
	const char *key;
	json_t *v;
	json_object_foreach (body, key, v) {
		if (strcmp(key, machines.key) && strcmp(key, schedulers.key)) {
			cc_reply_error(r, 400, "bad_heartbeat",
			               "%.64s: unknown field (expected "
			               "machines, schedulers; %s)",
			               key, HEARTBEAT_SHAPE);
			return false;
		}
	}
	if (json_object_size(body))
		return true;
	cc_reply_error(r, 400, "bad_heartbeat",
	               "expected \"machines\", \"schedulers\" or both (%s)",
	               HEARTBEAT_SHAPE);
	return false;
}

static json_t *parse(struct cc_request *r, json_t **ms, json_t **ss)
{
	char err[CC_ERRMSG_SIZE];
	json_t *body = cc_request_json(r, err, sizeof(err));
	if (!body) {
		cc_reply_error(r, 400, "bad_heartbeat", "%s", err);
		return NULL;
	}
	if (!json_is_object(body)) {
		cc_reply_error(r, 400, "bad_heartbeat",
		               "(root): expected an object, got %s (%s)",
		               cs_json_type_name(body), HEARTBEAT_SHAPE);
	} else if (check_fields(r, body) && get_list(r, body, &machines, ms) &&
	           get_list(r, body, &schedulers, ss)) {
		return body;
	}
	json_decref(body);
	return NULL;
}

/* Beats every name of list; returns the names nobody registered. */
static json_t *beat_all(cd_core *c, const json_t *list,
                        bool (*beat)(cd_core *c, const char *name))
{
	json_t *unknown = json_array(), *v;
	size_t i;
	json_array_foreach (list, i, v) {
		if (!beat(c, json_string_value(v)))
			json_array_append(unknown, v);
	}
	return unknown;
}

/* The answer: the TTLs to beat within, and the names nobody registered
 * (an agent registers its machine again, a scheduler registers again). */
void cd_post_heartbeat(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	json_t *ms = NULL, *ss = NULL;
	if (!cd_write_checks(c, r, (const char *const[]){NULL}))
		return;
	json_t *body = parse(r, &ms, &ss);
	if (!body)
		return;
	json_t *answer = json_pack(
	    "{s:I,s:o,s:I,s:o}", "ttl_ms", (json_int_t)c->cfg.machine_ttl_ms,
	    "unknown", beat_all(c, ms, cd_machine_beat), "sched_ttl_ms",
	    (json_int_t)c->cfg.sched_ttl_ms, "unknown_schedulers",
	    beat_all(c, ss, cd_sched_beat));
	json_decref(body);
	cc_reply_json(r, 200, answer);
}
