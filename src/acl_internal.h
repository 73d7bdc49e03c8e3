/* acl_internal.h -- What acl.c shares with acl_file.c and nothing else:
 * user sets, rule lists, and the checks the file readers repeat. */
#ifndef ACL_INTERNAL_H
#define ACL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "acl.h"
#include "util.h"

/* Redis refuses whitespace and NUL in user names and patterns. */
bool acl_name_has_spaces(const char *s, size_t len);
/* Joins "(a" "b)" style arguments into one "(a b)" rule, as Redis does for
 * selectors typed across arguments. Returns the rule count, or -1 with
 * *bad the index of the unclosed "(". out is owned (acl_rules_free). */
int acl_rules_merge(int n, const slice *in, slice **out, int *bad);
void acl_rules_free(slice *rules, int n);

/* An empty set (acl_userset_free). */
acl_userset *acl_userset_new(void);
acl_user *acl_userset_find(const acl_userset *set, const char *name, size_t len);
/* Adds u (taken) in name order; false if the name is already there. */
bool acl_userset_insert(acl_userset *set, acl_user *u);
/* A new "default" user with Redis's default rules. */
acl_user *acl_default_user_new(void);

/* Adds u (taken) to the live users. */
void acl_users_add(acl_user *u);
bool acl_user_disabled(const acl_user *u);

#endif
