/* names.c: the store's vocabulary as text: error messages, role names and
 * the parser of member role names. */
#include <string.h>

#include "cellstore.h"
#include "cellutil.h"

static const char *const error_text[] = {
#define CST_ERROR_TEXT(id, text) text,
    CST_ERRORS(CST_ERROR_TEXT)
#undef CST_ERROR_TEXT
};

const char *cst_strerror(int code)
{
	if (code < 0 || code >= CST_ERROR__COUNT)
		return "unknown error";
	return error_text[code];
}

/* Indexed by enum cst_role and enum cst_member_role. */
static const char *const role_names[] = {"unavailable", "follower", "candidate",
                                         "leader"};
static const char *const member_role_names[] = {"standby", "voter", "spare"};

const char *cst_role_name(enum cst_role r)
{
	return (unsigned)r < CU_ARRAY_LEN(role_names) ? role_names[r]
	                                              : "invalid";
}

const char *cst_member_role_name(enum cst_member_role r)
{
	return (unsigned)r < CU_ARRAY_LEN(member_role_names)
	           ? member_role_names[r]
	           : "invalid";
}

int cst_member_role_parse(const char *name)
{
	for (unsigned i = 0; name && i < CU_ARRAY_LEN(member_role_names); i++)
		if (strcmp(name, member_role_names[i]) == 0)
			return (int)i;
	return -1;
}
