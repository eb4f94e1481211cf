/* fake_members.c: the fake's trivial membership, for tests of code that
 * manages members: a list in memory that changes at once, with each
 * change's completion (always 0) delivered by the next flush. Nobody else
 * replicates anything: an added member is a name in the list. */
#include <stdio.h>
#include <stdlib.h>

#include "fake.h"

const struct cst_member *fake_member(const struct fake *f, uint64_t id)
{
	return cu_sorted_find(f->members, f->nmembers, sizeof(*f->members), id);
}

static void member_insert(struct fake *f, const struct cst_member *m)
{
	cu_sorted_put((void **)&f->members, &f->nmembers, &f->members_cap,
	              sizeof(*f->members), m);
}

void fake_members_init(struct fake *f)
{
	struct cst_member self = {.id = f->id, .role = CST_MEMBER_VOTER};
	snprintf(self.api_address, sizeof(self.api_address), "%s",
	         f->api_address);
	member_insert(f, &self);
}

static int fake_members(const cst_store *s, struct cst_member **out,
                        unsigned *n)
{
	const struct fake *f = cfake_of(s);
	*n = f->nmembers;
	*out = cu_xcalloc(f->nmembers, sizeof(**out));
	memcpy(*out, f->members, f->nmembers * sizeof(**out));
	return 0;
}

/* Writer only, one change at a time. */
static int check_change(struct fake *f, const char *what)
{
	int rc = fake_refuse_not_writer(f, what);
	if (rc == 0 && f->changing)
		rc = cst_seterr(&f->base, CST_EBUSY,
		                "%s: another membership change is in progress",
		                what);
	return rc;
}

static void change_due(struct fake *f, cst_done_cb cb, void *arg)
{
	f->changing = true;
	fake_due(f, cb, arg, 0, "")->change = true;
}

static int check_new_member(struct fake *f, uint64_t id, const char *address,
                            const char *api_address, enum cst_member_role r)
{
	if (id == 0 || (unsigned)r > CST_MEMBER_SPARE)
		return cst_seterr(&f->base, CST_EINVAL,
		                  "member add: id must be > 0 and the role "
		                  "valid");
	if (!address || strlen(address) >= CST_ADDR_MAX ||
	    (api_address && strlen(api_address) >= CST_API_ADDR_MAX))
		return cst_seterr(&f->base, CST_EINVAL,
		                  "member %llu: an address shorter than %d and "
		                  "an API address shorter than %d are required",
		                  (unsigned long long)id, CST_ADDR_MAX,
		                  CST_API_ADDR_MAX);
	if (fake_member(f, id))
		return cst_seterr(&f->base, CST_EINVAL,
		                  "member %llu: already a member",
		                  (unsigned long long)id);
	return 0;
}

static int fake_member_add(cst_store *s, uint64_t id, const char *address,
                           const char *api_address, enum cst_member_role role,
                           cst_done_cb cb, void *arg)
{
	struct fake *f = fake_of(s);
	int rc = check_change(f, "member add");
	if (rc == 0)
		rc = check_new_member(f, id, address, api_address, role);
	if (rc != 0)
		return rc;
	struct cst_member m = {.id = id, .role = role};
	snprintf(m.address, sizeof(m.address), "%s", address);
	snprintf(m.api_address, sizeof(m.api_address), "%s",
	         api_address ? api_address : "");
	member_insert(f, &m);
	change_due(f, cb, arg);
	return 0;
}

/* The member id that a change may touch, or NULL with the error set: a
 * change must be allowed now (check_change), and the fake keeps itself in
 * its membership. */
static struct cst_member *other_member(struct fake *f, uint64_t id,
                                       const char *what, int *rc)
{
	struct cst_member *m =
	    cu_sorted_find(f->members, f->nmembers, sizeof(*f->members), id);
	*rc = check_change(f, what);
	if (*rc == 0 && id == f->id)
		*rc =
		    cst_seterr(&f->base, CST_EINVAL,
		               "%s: member %llu is this member, which the fake "
		               "keeps as it is",
		               what, (unsigned long long)id);
	else if (*rc == 0 && !m)
		*rc = cst_seterr(&f->base, CST_ENOTFOUND, "%s: no member %llu",
		                 what, (unsigned long long)id);
	return *rc ? NULL : m;
}

static int fake_member_assign(cst_store *s, uint64_t id,
                              enum cst_member_role role, cst_done_cb cb,
                              void *arg)
{
	struct fake *f = fake_of(s);
	int rc;
	struct cst_member *m = other_member(f, id, "member assign", &rc);
	if (!m)
		return rc;
	if ((unsigned)role > CST_MEMBER_SPARE)
		return cst_seterr(&f->base, CST_EINVAL,
		                  "member assign: invalid role %d", (int)role);
	m->role = role;
	change_due(f, cb, arg);
	return 0;
}

static int fake_member_remove(cst_store *s, uint64_t id, cst_done_cb cb,
                              void *arg)
{
	struct fake *f = fake_of(s);
	int rc;
	if (!other_member(f, id, "member remove", &rc))
		return rc;
	cu_sorted_del(f->members, &f->nmembers, sizeof(*f->members), id);
	change_due(f, cb, arg);
	return 0;
}

/* The first voter other than this member, or 0. */
static uint64_t pick_voter(const struct fake *f)
{
	for (uint32_t i = 0; i < f->nmembers; i++)
		if (f->members[i].id != f->id &&
		    f->members[i].role == CST_MEMBER_VOTER)
			return f->members[i].id;
	return 0;
}

/* Writing moves at once (this member stops); cb(0) at the next flush. */
static int fake_transfer(cst_store *s, uint64_t id, cst_done_cb cb, void *arg)
{
	struct fake *f = fake_of(s);
	int rc = fake_refuse_not_writer(f, "transfer");
	if (rc != 0)
		return rc;
	uint64_t to = id ? id : pick_voter(f);
	const struct cst_member *m = to ? fake_member(f, to) : NULL;
	if (!m || to == f->id || m->role != CST_MEMBER_VOTER)
		return cst_seterr(&f->base, CST_ENOTFOUND,
		                  "transfer to %llu: not another voter",
		                  (unsigned long long)id);
	fake_lose_writer(f, to, m->api_address);
	fake_due(f, cb, arg, 0, "");
	return 0;
}

const struct cst_member_ops fake_member_ops = {
    .list = fake_members,
    .add = fake_member_add,
    .assign = fake_member_assign,
    .remove = fake_member_remove,
    .transfer = fake_transfer,
};
