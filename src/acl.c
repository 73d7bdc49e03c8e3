/* acl.c -- ACL users and their permissions, with Redis 7.0's semantics.
 *
 *   user --+-- flags (on/off, nopass, sanitize-payload)
 *          +-- passwords: hex SHA-256 of each
 *          +-- selectors[0] (root), selectors[1..] from "(...)" rules
 *                 each: command bitmap by catalog id, first-args,
 *                       key patterns (stored, never checked: no keyspace),
 *                       channel patterns, ALLKEYS/ALLCHANNELS/ALLCOMMANDS
 *
 * A command is allowed when any selector allows it and all its channel
 * arguments. The catalog (id -> name, categories, channel arguments) is
 * filled by the command layer; this file never sees a client or a socket.
 * Rules are applied the way Redis applies them, and users are described
 * back from their bitmaps (ACL LIST, GETUSER, SAVE) with Redis's algorithm:
 * start from +@all or -@all, add the best-fitting categories, then fix the
 * remaining single commands. Single commands come out in catalog order
 * (Redis uses its hash-table order, which varies between runs).
 *
 * Users live in an array sorted by name (bytewise, like Redis's radix tree),
 * so ACL USERS and ACL LIST need no sorting. The default user is never
 * freed: clients may hold its address for the life of the server. */
#include "acl.h"
#include "acl_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "glob.h"
#include "log.h"
#include "mem.h"
#include "sha256.h"

#define CMD_WORDS (ACL_MAX_COMMANDS / 64)

/* acl_selector.flags */
#define SEL_ROOT        0x01
#define SEL_ALLKEYS     0x02
#define SEL_ALLCHANNELS 0x04
#define SEL_ALLCOMMANDS 0x08        /* +@all and no command removed since */
#define SEL_FUTURE      0x10        /* from +@all: described as "+@all ..." */

/* acl_user.flags */
#define USER_ENABLED   0x01
#define USER_DISABLED  0x02
#define USER_NOPASS    0x04
#define USER_SKIP_SANITIZE 0x08
#define USER_SANITIZE  0x10

/* Key pattern permissions. */
#define KEY_READ  0x1
#define KEY_WRITE 0x2
#define KEY_ALL   (KEY_READ | KEY_WRITE)

typedef struct acl_cmd {
    char *name;                 /* owned, lower case: "client|id" */
    size_t name_len;
    int parent;                 /* id of the container, -1 at top level */
    int *subs;                  /* owned: ids of the subcommands */
    int sub_count;
    uint32_t categories;        /* bit per category index */
    unsigned flags;             /* ACL_CMD_* */
    acl_channel_args channels;
    acl_key_args keys;
} acl_cmd;

typedef struct pattern {
    char *s;                    /* owned, NUL-terminated copy */
    size_t len;
    int perm;                   /* KEY_* for key patterns; 0 for channels */
} pattern;

typedef struct firstarg {
    int id;                     /* command the argument opens up */
    char *arg;                  /* owned */
} firstarg;

typedef struct acl_selector {
    unsigned flags;             /* SEL_* */
    uint64_t allowed[CMD_WORDS];
    pattern *keys;              /* owned */
    int key_count;
    pattern *channels;          /* owned */
    int channel_count;
    firstarg *firstargs;        /* owned */
    int firstarg_count;
} acl_selector;

struct acl_user {
    char *name;                 /* owned */
    size_t name_len;
    unsigned flags;             /* USER_* */
    char (*passwords)[SHA256_HEX_LEN + 1]; /* owned */
    int password_count;
    acl_selector *sel;          /* owned; sel[0] is the root selector */
    int sel_count;
};

struct acl_userset {
    acl_user **v;               /* owned, sorted by name */
    size_t n;
};

static const char *const categories[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    NULL,
};
enum { CAT_COUNT = 21, CAT_FAST = 14, CAT_SLOW = 15 };

static struct {
    acl_cmd cmds[ACL_MAX_COMMANDS];
    int cmd_count;
    acl_userset users;
    acl_user *default_user;     /* lives in users */
} A;

const char *acl_error_text(int err) {
    switch (err) {
    case ACL_ERR_UNKNOWN: return "Unknown command or category name in ACL";
    case ACL_ERR_SYNTAX: return "Syntax error";
    case ACL_ERR_KEYS_AFTER_ALL:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case ACL_ERR_CHANNELS_AFTER_ALL:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
               "any effect. Try 'resetchannels' to start with an empty list of channels";
    case ACL_ERR_NO_SUCH_PASSWORD: return "The password you are trying to remove from the user does not exist";
    case ACL_ERR_BAD_HASH:
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case ACL_ERR_FIRSTARG_OF_SUB: return "Allowing first-arg of a subcommand is not supported";
    default: return "Wrong format";
    }
}

/* Case-insensitive equality of a counted string and a C string. */
static bool eq(const char *s, size_t len, const char *cstr) {
    return util_eq_nocase(s, len, cstr);
}

/* Redis refuses whitespace and NUL in user names and patterns. */
bool acl_name_has_spaces(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) return true;
    return false;
}

/* ------------------------------------------------------------------------
 * Command catalog and categories
 * ------------------------------------------------------------------------ */

const char *acl_category_name(int i) {
    return i >= 0 && i < CAT_COUNT ? categories[i] : NULL;
}

int acl_category_find(const char *name, size_t len) {
    for (int i = 0; i < CAT_COUNT; i++)
        if (eq(name, len, categories[i])) return i;
    return -1;
}

static uint32_t parse_categories(const char *s) {
    uint32_t bits = 0;
    while (s && *s) {
        while (*s == ' ') s++;
        size_t n = strcspn(s, " ");
        if (n > 1 && s[0] == '@') {
            int cat = acl_category_find(s + 1, n - 1);
            if (cat >= 0) bits |= 1u << cat;
        }
        s += n;
    }
    if (!(bits & (1u << CAT_FAST))) bits |= 1u << CAT_SLOW;
    return bits;
}

int acl_catalog_find(const char *name, size_t len) {
    for (int i = 0; i < A.cmd_count; i++)
        if (A.cmds[i].name_len == len && strncasecmp(A.cmds[i].name, name, len) == 0) return i;
    return -1;
}

int acl_catalog_add(const char *name, const char *cats, unsigned flags, acl_channel_args channels) {
    size_t len = strlen(name);
    if (A.cmd_count >= ACL_MAX_COMMANDS || acl_catalog_find(name, len) != -1) return -1;
    const char *bar = memchr(name, '|', len);
    int parent = -1;
    if (bar) {
        parent = acl_catalog_find(name, (size_t)(bar - name));
        if (parent == -1 || A.cmds[parent].parent != -1) return -1;
    }
    int id = A.cmd_count++;
    acl_cmd *c = &A.cmds[id];
    memset(c, 0, sizeof(*c));
    c->name = mem_strndup(name, len);
    for (size_t i = 0; i < len; i++)
        if (c->name[i] >= 'A' && c->name[i] <= 'Z') c->name[i] = (char)(c->name[i] + 32);
    c->name_len = len;
    c->parent = parent;
    c->categories = parse_categories(cats);
    c->flags = flags;
    c->channels = channels;
    if (parent != -1) {
        acl_cmd *p = &A.cmds[parent];
        p->subs = mem_realloc(p->subs, sizeof(int) * (size_t)(p->sub_count + 1));
        p->subs[p->sub_count++] = id;
    }
    return id;
}

int acl_catalog_count(void) {
    return A.cmd_count;
}

const char *acl_catalog_name(int id) {
    return id >= 0 && id < A.cmd_count ? A.cmds[id].name : NULL;
}

bool acl_command_in_category(int id, int category) {
    return id >= 0 && id < A.cmd_count && category >= 0 && category < CAT_COUNT &&
           (A.cmds[id].categories & (1u << category));
}

void acl_catalog_clear(void) {
    for (int i = 0; i < A.cmd_count; i++) {
        mem_free(A.cmds[i].name);
        mem_free(A.cmds[i].subs);
    }
    A.cmd_count = 0;
}

/* ------------------------------------------------------------------------
 * Selectors: command bits, first-args, key and channel patterns
 * ------------------------------------------------------------------------ */

static void patterns_free(pattern **v, int *n) {
    for (int i = 0; i < *n; i++) mem_free((*v)[i].s);
    mem_free(*v);
    *v = NULL;
    *n = 0;
}

static pattern *patterns_find(pattern *v, int n, const char *s, size_t len) {
    for (int i = 0; i < n; i++)
        if (v[i].len == len && memcmp(v[i].s, s, len) == 0) return &v[i];
    return NULL;
}

static void patterns_add(pattern **v, int *n, const char *s, size_t len, int perm) {
    *v = mem_realloc(*v, sizeof(pattern) * (size_t)(*n + 1));
    (*v)[*n].s = mem_strndup(s, len);
    (*v)[*n].len = len;
    (*v)[*n].perm = perm;
    (*n)++;
}

static void firstargs_reset(acl_selector *s, int id) {
    int kept = 0;
    for (int i = 0; i < s->firstarg_count; i++) {
        if (id == -1 || s->firstargs[i].id == id) mem_free(s->firstargs[i].arg);
        else s->firstargs[kept++] = s->firstargs[i];
    }
    s->firstarg_count = kept;
    if (kept == 0) {
        mem_free(s->firstargs);
        s->firstargs = NULL;
    }
}

static void firstargs_add(acl_selector *s, int id, const char *arg, size_t len) {
    for (int i = 0; i < s->firstarg_count; i++)
        if (s->firstargs[i].id == id && strlen(s->firstargs[i].arg) == len &&
            strncasecmp(s->firstargs[i].arg, arg, len) == 0)
            return;
    s->firstargs = mem_realloc(s->firstargs, sizeof(firstarg) * (size_t)(s->firstarg_count + 1));
    s->firstargs[s->firstarg_count].id = id;
    s->firstargs[s->firstarg_count].arg = mem_strndup(arg, len);
    s->firstarg_count++;
}

static void selector_init(acl_selector *s, unsigned flags) {
    memset(s, 0, sizeof(*s));
    s->flags = flags;
    if (cfg.acl_pubsub_default == CONFIG_ACL_ALLCHANNELS) s->flags |= SEL_ALLCHANNELS;
}

static void selector_free(acl_selector *s) {
    patterns_free(&s->keys, &s->key_count);
    patterns_free(&s->channels, &s->channel_count);
    firstargs_reset(s, -1);
}

static void selector_copy(acl_selector *dst, const acl_selector *src) {
    *dst = *src;
    dst->keys = NULL, dst->key_count = 0;
    dst->channels = NULL, dst->channel_count = 0;
    dst->firstargs = NULL, dst->firstarg_count = 0;
    for (int i = 0; i < src->key_count; i++)
        patterns_add(&dst->keys, &dst->key_count, src->keys[i].s, src->keys[i].len, src->keys[i].perm);
    for (int i = 0; i < src->channel_count; i++)
        patterns_add(&dst->channels, &dst->channel_count, src->channels[i].s, src->channels[i].len, 0);
    for (int i = 0; i < src->firstarg_count; i++)
        firstargs_add(dst, src->firstargs[i].id, src->firstargs[i].arg, strlen(src->firstargs[i].arg));
}

static bool bit_get(const acl_selector *s, int id) {
    return (s->allowed[id / 64] >> (id % 64)) & 1;
}

/* Clearing any bit means the selector no longer allows every command. */
static void bit_set(acl_selector *s, int id, bool on) {
    if (on) {
        s->allowed[id / 64] |= 1ull << (id % 64);
    } else {
        s->allowed[id / 64] &= ~(1ull << (id % 64));
        s->flags &= ~SEL_ALLCOMMANDS;
    }
}

/* Allows or blocks a command; a container takes its subcommands along. */
static void change_perm(acl_selector *s, int id, bool allow) {
    bit_set(s, id, allow);
    firstargs_reset(s, id);
    const acl_cmd *c = &A.cmds[id];
    for (int i = 0; i < c->sub_count; i++) bit_set(s, c->subs[i], allow);
}

static void change_category(acl_selector *s, int cat, bool allow) {
    for (int id = 0; id < A.cmd_count; id++)
        if (A.cmds[id].categories & (1u << cat)) change_perm(s, id, allow);
}

static void all_commands(acl_selector *s, bool allow) {
    memset(s->allowed, allow ? 0xff : 0, sizeof(s->allowed));
    if (allow) s->flags |= SEL_ALLCOMMANDS | SEL_FUTURE;
    else s->flags &= ~(SEL_ALLCOMMANDS | SEL_FUTURE);
    firstargs_reset(s, -1);
}

/* ~pattern, %R~pattern, %W~pattern, %RW~pattern. */
static int apply_key_pattern(acl_selector *s, const char *op, size_t len) {
    if (s->flags & SEL_ALLKEYS) return ACL_ERR_KEYS_AFTER_ALL;
    int perm = 0;
    size_t off = 1;
    if (op[0] == '%') {
        for (; off < len; off++) {
            char ch = op[off];
            if ((ch == 'R' || ch == 'r') && !(perm & KEY_READ)) perm |= KEY_READ;
            else if ((ch == 'W' || ch == 'w') && !(perm & KEY_WRITE)) perm |= KEY_WRITE;
            else if (ch == '~') {
                off++;
                break;
            } else return ACL_ERR_SYNTAX;
        }
        if (perm == 0) return ACL_ERR_SYNTAX;
    } else {
        perm = KEY_ALL;
    }
    if (acl_name_has_spaces(op + off, len - off)) return ACL_ERR_SYNTAX;
    pattern *p = patterns_find(s->keys, s->key_count, op + off, len - off);
    if (p) p->perm |= perm;
    else patterns_add(&s->keys, &s->key_count, op + off, len - off, perm);
    return 0;
}

static int apply_channel_pattern(acl_selector *s, const char *op, size_t len) {
    if (s->flags & SEL_ALLCHANNELS) return ACL_ERR_CHANNELS_AFTER_ALL;
    if (acl_name_has_spaces(op + 1, len - 1)) return ACL_ERR_SYNTAX;
    if (!patterns_find(s->channels, s->channel_count, op + 1, len - 1))
        patterns_add(&s->channels, &s->channel_count, op + 1, len - 1, 0);
    return 0;
}

/* +command, +container|sub, +command|first-arg. */
static int apply_allow(acl_selector *s, const char *op, size_t len) {
    const char *name = op + 1;
    size_t nlen = len - 1;
    const char *bar = NULL;
    for (size_t i = nlen; i > 0; i--)
        if (name[i - 1] == '|') {
            bar = name + i - 1;
            break;
        }
    if (!bar) {
        int id = acl_catalog_find(name, nlen);
        if (id == -1) return ACL_ERR_UNKNOWN;
        change_perm(s, id, true);
        return 0;
    }
    int id = acl_catalog_find(name, (size_t)(bar - name));
    if (id == -1) return ACL_ERR_UNKNOWN;
    if (A.cmds[id].parent != -1) return ACL_ERR_FIRSTARG_OF_SUB;
    size_t sub_len = nlen - (size_t)(bar - name) - 1;
    if (sub_len == 0) return ACL_ERR_SYNTAX;
    if (A.cmds[id].sub_count > 0) {
        int sub = acl_catalog_find(name, nlen);
        if (sub == -1) return ACL_ERR_UNKNOWN;
        change_perm(s, sub, true);
        return 0;
    }
    log_warning("Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL "
                "and may get disabled in the future (offender: +%.*s)", (int)nlen, name);
    firstargs_add(s, id, bar + 1, sub_len);
    return 0;
}

/* The rules a selector understands, inside "(...)" or on the root. */
static int selector_apply(acl_selector *s, const char *op, size_t len) {
    if (eq(op, len, "allkeys") || eq(op, len, "~*")) {
        s->flags |= SEL_ALLKEYS;
        patterns_free(&s->keys, &s->key_count);
    } else if (eq(op, len, "resetkeys")) {
        s->flags &= ~SEL_ALLKEYS;
        patterns_free(&s->keys, &s->key_count);
    } else if (eq(op, len, "allchannels") || eq(op, len, "&*")) {
        s->flags |= SEL_ALLCHANNELS;
        patterns_free(&s->channels, &s->channel_count);
    } else if (eq(op, len, "resetchannels")) {
        s->flags &= ~SEL_ALLCHANNELS;
        patterns_free(&s->channels, &s->channel_count);
    } else if (eq(op, len, "allcommands") || eq(op, len, "+@all")) {
        all_commands(s, true);
    } else if (eq(op, len, "nocommands") || eq(op, len, "-@all")) {
        all_commands(s, false);
    } else if (op[0] == '~' || op[0] == '%') {
        return apply_key_pattern(s, op, len);
    } else if (op[0] == '&') {
        return apply_channel_pattern(s, op, len);
    } else if (op[0] == '+' && (len < 2 || op[1] != '@')) {
        return apply_allow(s, op, len);
    } else if (op[0] == '-' && (len < 2 || op[1] != '@')) {
        int id = acl_catalog_find(op + 1, len - 1);
        if (id == -1) return ACL_ERR_UNKNOWN;
        change_perm(s, id, false);
    } else if ((op[0] == '+' || op[0] == '-') && len >= 2 && op[1] == '@') {
        int cat = acl_category_find(op + 2, len - 2);
        if (cat == -1) return ACL_ERR_UNKNOWN;
        change_category(s, cat, op[0] == '+');
    } else {
        return ACL_ERR_SYNTAX;
    }
    return 0;
}

/* "(rule rule ...)": a new selector, split as redis.conf arguments are. */
static int add_selector(acl_user *u, const char *op, size_t len) {
    acl_selector s;
    selector_init(&s, 0);
    config_line rules = {0};
    if (config_split_line(op + 1, len - 2, &rules) == 0) {
        for (int i = 0; i < rules.argc; i++) {
            int err = selector_apply(&s, rules.argv[i], strlen(rules.argv[i]));
            if (err) {
                config_line_free(&rules);
                selector_free(&s);
                return err;
            }
        }
    }
    config_line_free(&rules);
    u->sel = mem_realloc(u->sel, sizeof(acl_selector) * (size_t)(u->sel_count + 1));
    u->sel[u->sel_count++] = s;
    return 0;
}

/* ------------------------------------------------------------------------
 * Users
 * ------------------------------------------------------------------------ */

acl_user *acl_user_new(const char *name, size_t len) {
    acl_user *u = mem_calloc(sizeof(*u));
    u->name = mem_strndup(name, len);
    u->name_len = len;
    u->flags = USER_DISABLED;
    u->sel = mem_alloc(sizeof(acl_selector));
    u->sel_count = 1;
    selector_init(&u->sel[0], SEL_ROOT);
    return u;
}

static void user_clear_rules(acl_user *u) {
    for (int i = 0; i < u->sel_count; i++) selector_free(&u->sel[i]);
    mem_free(u->sel);
    mem_free(u->passwords);
    u->sel = NULL;
    u->sel_count = 0;
    u->passwords = NULL;
    u->password_count = 0;
}

void acl_user_free(acl_user *u) {
    if (!u) return;
    user_clear_rules(u);
    mem_free(u->name);
    mem_free(u);
}

/* dst gets src's flags, passwords and selectors; dst keeps its name. */
static void user_copy_rules(acl_user *dst, const acl_user *src) {
    user_clear_rules(dst);
    dst->flags = src->flags;
    if (src->password_count) {
        dst->passwords = mem_alloc(sizeof(*dst->passwords) * (size_t)src->password_count);
        memcpy(dst->passwords, src->passwords, sizeof(*dst->passwords) * (size_t)src->password_count);
        dst->password_count = src->password_count;
    }
    dst->sel = mem_alloc(sizeof(acl_selector) * (size_t)src->sel_count);
    dst->sel_count = src->sel_count;
    for (int i = 0; i < src->sel_count; i++) selector_copy(&dst->sel[i], &src->sel[i]);
}

static int password_index(const acl_user *u, const char *hex) {
    for (int i = 0; i < u->password_count; i++)
        if (memcmp(u->passwords[i], hex, SHA256_HEX_LEN) == 0) return i;
    return -1;
}

static bool valid_hash(const char *s, size_t len) {
    if (len != SHA256_HEX_LEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* >pass, #hash, <pass, !hash. */
static int apply_password(acl_user *u, const char *op, size_t len) {
    char hex[SHA256_HEX_LEN + 1];
    if (op[0] == '>' || op[0] == '<') {
        sha256_hex(op + 1, len - 1, hex);
    } else {
        if (!valid_hash(op + 1, len - 1)) return ACL_ERR_BAD_HASH;
        memcpy(hex, op + 1, SHA256_HEX_LEN);
        hex[SHA256_HEX_LEN] = '\0';
    }
    int at = password_index(u, hex);
    if (op[0] == '>' || op[0] == '#') {
        if (at == -1) {
            u->passwords = mem_realloc(u->passwords, sizeof(*u->passwords) * (size_t)(u->password_count + 1));
            memcpy(u->passwords[u->password_count++], hex, sizeof(hex));
        }
        u->flags &= ~USER_NOPASS;
        return 0;
    }
    if (at == -1) return ACL_ERR_NO_SUCH_PASSWORD;
    memmove(&u->passwords[at], &u->passwords[at + 1], sizeof(*u->passwords) * (size_t)(u->password_count - at - 1));
    u->password_count--;
    return 0;
}

static void clear_passwords(acl_user *u) {
    mem_free(u->passwords);
    u->passwords = NULL;
    u->password_count = 0;
}

static void clear_selectors(acl_user *u) {
    for (int i = 1; i < u->sel_count; i++) selector_free(&u->sel[i]);
    u->sel_count = 1;
}

int acl_user_apply(acl_user *u, const char *op, size_t len) {
    if (len == 0) return 0;
    if (eq(op, len, "on")) {
        u->flags = (u->flags | USER_ENABLED) & ~USER_DISABLED;
    } else if (eq(op, len, "off")) {
        u->flags = (u->flags | USER_DISABLED) & ~USER_ENABLED;
    } else if (eq(op, len, "skip-sanitize-payload")) {
        u->flags = (u->flags | USER_SKIP_SANITIZE) & ~USER_SANITIZE;
    } else if (eq(op, len, "sanitize-payload")) {
        u->flags = (u->flags | USER_SANITIZE) & ~USER_SKIP_SANITIZE;
    } else if (eq(op, len, "nopass")) {
        u->flags |= USER_NOPASS;
        clear_passwords(u);
    } else if (eq(op, len, "resetpass")) {
        u->flags &= ~USER_NOPASS;
        clear_passwords(u);
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return apply_password(u, op, len);
    } else if (op[0] == '(' && op[len - 1] == ')') {
        return add_selector(u, op, len);
    } else if (eq(op, len, "clearselectors")) {
        clear_selectors(u);
    } else if (eq(op, len, "reset")) {
        u->flags &= ~USER_NOPASS;
        clear_passwords(u);
        selector_apply(&u->sel[0], "resetkeys", 9);
        selector_apply(&u->sel[0], "resetchannels", 13);
        if (cfg.acl_pubsub_default == CONFIG_ACL_ALLCHANNELS) selector_apply(&u->sel[0], "allchannels", 11);
        u->flags = (u->flags | USER_DISABLED | USER_SANITIZE) & ~(USER_ENABLED | USER_SKIP_SANITIZE);
        clear_selectors(u);
        all_commands(&u->sel[0], false);
    } else {
        return selector_apply(&u->sel[0], op, len);
    }
    return 0;
}

/* ---- The user set --------------------------------------------------------- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of name in set, or -(insertion point) - 1. */
static long set_search(const acl_userset *set, const char *name, size_t len) {
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(name, len, set->v[mid]->name, set->v[mid]->name_len);
        if (c == 0) return (long)mid;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return -(long)lo - 1;
}

acl_userset *acl_userset_new(void) {
    return mem_calloc(sizeof(acl_userset));
}

acl_user *acl_userset_find(const acl_userset *set, const char *name, size_t len) {
    long at = set_search(set, name, len);
    return at >= 0 ? set->v[at] : NULL;
}

/* Links u (owned) into set; false if the name is taken. */
bool acl_userset_insert(acl_userset *set, acl_user *u) {
    long at = set_search(set, u->name, u->name_len);
    if (at >= 0) return false;
    size_t pos = (size_t)(-at - 1);
    set->v = mem_realloc(set->v, sizeof(acl_user *) * (set->n + 1));
    memmove(&set->v[pos + 1], &set->v[pos], sizeof(acl_user *) * (set->n - pos));
    set->v[pos] = u;
    set->n++;
    return true;
}

static void set_remove(acl_userset *set, const acl_user *u) {
    long at = set_search(set, u->name, u->name_len);
    if (at < 0) return;
    memmove(&set->v[at], &set->v[at + 1], sizeof(acl_user *) * (set->n - (size_t)at - 1));
    set->n--;
}

void acl_userset_free(acl_userset *set) {
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) acl_user_free(set->v[i]);
    mem_free(set->v);
    mem_free(set);
}

acl_user *acl_default_user_new(void) {
    acl_user *u = acl_user_new("default", 7);
    acl_user_apply(u, "+@all", 5);
    acl_user_apply(u, "~*", 2);
    acl_user_apply(u, "&*", 2);
    acl_user_apply(u, "on", 2);
    acl_user_apply(u, "nopass", 6);
    return u;
}

void acl_init(void) {
    acl_free();
    A.default_user = acl_default_user_new();
    acl_userset_insert(&A.users, A.default_user);
}

void acl_free(void) {
    for (size_t i = 0; i < A.users.n; i++) acl_user_free(A.users.v[i]);
    mem_free(A.users.v);
    A.users.v = NULL;
    A.users.n = 0;
    A.default_user = NULL;
    acl_log_reset();
}

acl_user *acl_default_user(void) {
    return A.default_user;
}

bool acl_default_is_nopass(void) {
    return A.default_user && (A.default_user->flags & USER_NOPASS);
}

bool acl_default_is_open(void) {
    return acl_default_is_nopass() && !(A.default_user->flags & USER_DISABLED);
}

void acl_set_default_password(const char *pass) {
    acl_user_apply(A.default_user, "resetpass", 9);
    if (!pass || !pass[0]) {
        acl_user_apply(A.default_user, "nopass", 6);
        return;
    }
    size_t len = strlen(pass);
    char *op = mem_alloc(len + 2);
    op[0] = '>';
    memcpy(op + 1, pass, len + 1);
    acl_user_apply(A.default_user, op, len + 1);
    mem_free(op);
}

acl_user *acl_find_user(const char *name, size_t len) {
    return acl_userset_find(&A.users, name, len);
}

void acl_users_add(acl_user *u) {
    acl_userset_insert(&A.users, u);
}

bool acl_user_disabled(const acl_user *u) {
    return (u->flags & USER_DISABLED) != 0;
}

size_t acl_user_count(void) {
    return A.users.n;
}

acl_user *acl_user_at(size_t i) {
    return i < A.users.n ? A.users.v[i] : NULL;
}

const char *acl_user_name(const acl_user *u) {
    return u->name;
}

size_t acl_user_name_len(const acl_user *u) {
    return u->name_len;
}

acl_user *acl_authenticate(const char *name, size_t name_len, const char *pass, size_t pass_len) {
    acl_user *u = acl_find_user(name, name_len);
    if (!u || (u->flags & USER_DISABLED)) return NULL;
    if (u->flags & USER_NOPASS) return u;
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(pass, pass_len, hex);
    bool ok = false;
    for (int i = 0; i < u->password_count; i++) {
        /* Every byte is compared, so the time taken tells nothing. */
        unsigned diff = 0;
        for (int j = 0; j < SHA256_HEX_LEN; j++) diff |= (unsigned char)(hex[j] ^ u->passwords[i][j]);
        ok |= diff == 0;
    }
    return ok ? u : NULL;
}

/* ---- ACL SETUSER ---------------------------------------------------------- */

/* Joins "(a" "b)" style arguments into one "(a b)" rule, as Redis does for
 * selectors typed across arguments. Returns the rule count, or -1 with
 * *bad the index of the unclosed "(". out is owned (acl_rules_free). */
int acl_rules_merge(int n, const slice *in, slice **out, int *bad) {
    *out = mem_calloc(sizeof(slice) * (size_t)(n ? n : 1));
    int count = 0, open_at = -1;
    buf joined = {0};
    for (int i = 0; i < n; i++) {
        const char *p = in[i].ptr;
        size_t len = in[i].len;
        /* An opening argument (re)starts a selector, even inside one. */
        if (len > 0 && p[0] == '(' && p[len - 1] != ')') {
            open_at = i;
            joined.len = 0;
            buf_append(&joined, p, len);
            continue;
        }
        if (open_at != -1) {
            buf_append_char(&joined, ' ');
            buf_append(&joined, p, len);
            if (len > 0 && p[len - 1] == ')') {
                (*out)[count].ptr = mem_strndup(joined.data, joined.len);
                (*out)[count++].len = joined.len;
                open_at = -1;
            }
            continue;
        }
        (*out)[count].ptr = mem_strndup(p, len);
        (*out)[count++].len = len;
    }
    buf_free(&joined);
    if (open_at != -1) {
        for (int i = 0; i < count; i++) mem_free((void *)(*out)[i].ptr);
        mem_free(*out);
        *out = NULL;
        *bad = open_at;
        return -1;
    }
    return count;
}

void acl_rules_free(slice *rules, int n) {
    for (int i = 0; i < n; i++) mem_free((void *)rules[i].ptr);
    mem_free(rules);
}

acl_user *acl_setuser_stage(const char *name, size_t name_len, int nrules, const slice *rules, char *err,
                            size_t errlen) {
    if (acl_name_has_spaces(name, name_len)) {
        snprintf(err, errlen, "ERR Usernames can't contain spaces or null characters");
        return NULL;
    }
    slice *merged;
    int bad;
    int n = acl_rules_merge(nrules, rules, &merged, &bad);
    if (n == -1) {
        snprintf(err, errlen, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.",
                 (int)rules[bad].len, rules[bad].ptr);
        return NULL;
    }
    acl_user *staged = acl_user_new(name, name_len);
    acl_user *live = acl_find_user(name, name_len);
    if (live) user_copy_rules(staged, live);
    for (int i = 0; i < n; i++) {
        int e = acl_user_apply(staged, merged[i].ptr, merged[i].len);
        if (e) {
            snprintf(err, errlen, "ERR Error in ACL SETUSER modifier '%.*s': %s", (int)merged[i].len,
                     merged[i].ptr, acl_error_text(e));
            acl_user_free(staged);
            acl_rules_free(merged, n);
            return NULL;
        }
    }
    acl_rules_free(merged, n);
    return staged;
}

acl_user *acl_setuser_commit(acl_user *staged) {
    acl_user *live = acl_find_user(staged->name, staged->name_len);
    if (!live) {
        acl_userset_insert(&A.users, staged);
        return staged;
    }
    user_copy_rules(live, staged);
    acl_user_free(staged);
    return live;
}

void acl_deluser(acl_user *u) {
    if (!u || u == A.default_user) return;
    set_remove(&A.users, u);
    acl_user_free(u);
}

/* ------------------------------------------------------------------------
 * Describing users: ACL LIST, ACL GETUSER, ACL SAVE
 * ------------------------------------------------------------------------ */

int acl_user_flags(const acl_user *u, const char *names[5]) {
    static const struct {
        unsigned flag;
        const char *name;
    } order[] = {{USER_ENABLED, "on"}, {USER_DISABLED, "off"}, {USER_NOPASS, "nopass"},
                 {USER_SKIP_SANITIZE, "skip-sanitize-payload"}, {USER_SANITIZE, "sanitize-payload"}};
    int n = 0;
    for (int i = 0; i < 5; i++)
        if (u->flags & order[i].flag) names[n++] = order[i].name;
    return n;
}

int acl_user_password_count(const acl_user *u) {
    return u->password_count;
}

const char *acl_user_password(const acl_user *u, int i) {
    return u->passwords[i];
}

int acl_user_selector_count(const acl_user *u) {
    return u->sel_count;
}

static void count_category(const acl_selector *s, int cat, unsigned long *on, unsigned long *off) {
    *on = *off = 0;
    for (int id = 0; id < A.cmd_count; id++) {
        if (!(A.cmds[id].categories & (1u << cat))) continue;
        if (bit_get(s, id)) (*on)++;
        else (*off)++;
    }
}

/* Picks categories greedily: each round, the category with the fewest
 * commands that disagree with the user among those where agreement wins,
 * ties going to the larger agreement. "fake" follows the emitted rules;
 * "rest" loses each chosen category so it is not counted twice. */
static void describe_categories(const acl_selector *s, acl_selector *fake, bool additive, buf *out) {
    acl_selector rest;
    memset(&rest, 0, sizeof(rest));
    memcpy(rest.allowed, s->allowed, sizeof(rest.allowed));
    bool applied[CAT_COUNT] = {false};
    for (;;) {
        int best = -1;
        unsigned long min_diff = (unsigned long)-1, max_same = 0;
        for (int cat = 0; cat < CAT_COUNT; cat++) {
            if (applied[cat]) continue;
            unsigned long on, off;
            count_category(&rest, cat, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
                best = cat;
                min_diff = diff;
                max_same = same;
            }
        }
        if (best == -1) break;
        change_category(fake, best, additive);
        change_category(&rest, best, !additive);
        buf_printf(out, "%c@%s ", additive ? '+' : '-', categories[best]);
        applied[best] = true;
    }
}

/* Then single commands, containers before their subcommands, and the
 * first-args of blocked commands. */
static void describe_singles(const acl_selector *s, acl_selector *fake, buf *out) {
    for (int id = 0; id < A.cmd_count; id++) {
        bool user_bit = bit_get(s, id);
        if (user_bit != bit_get(fake, id)) {
            buf_printf(out, "%c%s ", user_bit ? '+' : '-', A.cmds[id].name);
            change_perm(fake, id, user_bit);
        }
        if (user_bit) continue;
        for (int i = 0; i < s->firstarg_count; i++)
            if (s->firstargs[i].id == id) buf_printf(out, "+%s|%s ", A.cmds[id].name, s->firstargs[i].arg);
    }
}

static void describe_commands(const acl_selector *s, buf *out) {
    acl_selector fake;
    memset(&fake, 0, sizeof(fake));
    bool additive = !(s->flags & SEL_FUTURE);
    buf_append_str(out, additive ? "-@all " : "+@all ");
    all_commands(&fake, !additive);
    describe_categories(s, &fake, additive, out);
    describe_singles(s, &fake, out);
    out->len--; /* the last space */
}

static void describe_key(const pattern *p, buf *out) {
    buf_append_str(out, p->perm == KEY_ALL ? "~" : p->perm == KEY_READ ? "%R~" : "%W~");
    buf_append(out, p->s, p->len);
}

static void describe_selector(const acl_selector *s, buf *out) {
    if (s->flags & SEL_ALLKEYS) {
        buf_append_str(out, "~* ");
    } else {
        for (int i = 0; i < s->key_count; i++) {
            describe_key(&s->keys[i], out);
            buf_append_char(out, ' ');
        }
    }
    if (s->flags & SEL_ALLCHANNELS) {
        buf_append_str(out, "&* ");
    } else {
        buf_append_str(out, "resetchannels ");
        for (int i = 0; i < s->channel_count; i++) {
            buf_append_char(out, '&');
            buf_append(out, s->channels[i].s, s->channels[i].len);
            buf_append_char(out, ' ');
        }
    }
    describe_commands(s, out);
}

void acl_user_describe(const acl_user *u, buf *out) {
    const char *flags[5];
    int n = acl_user_flags(u, flags);
    for (int i = 0; i < n; i++) buf_printf(out, "%s ", flags[i]);
    for (int i = 0; i < u->password_count; i++) buf_printf(out, "#%s ", u->passwords[i]);
    for (int i = 0; i < u->sel_count; i++) {
        if (i > 0) buf_append_str(out, " (");
        describe_selector(&u->sel[i], out);
        if (i > 0) buf_append_char(out, ')');
    }
}

void acl_selector_commands(const acl_user *u, int i, buf *out) {
    describe_commands(&u->sel[i], out);
}

void acl_selector_keys(const acl_user *u, int i, buf *out) {
    const acl_selector *s = &u->sel[i];
    if (s->flags & SEL_ALLKEYS) {
        buf_append_str(out, "~*");
        return;
    }
    for (int k = 0; k < s->key_count; k++) {
        if (k) buf_append_char(out, ' ');
        describe_key(&s->keys[k], out);
    }
}

void acl_selector_channels(const acl_user *u, int i, buf *out) {
    const acl_selector *s = &u->sel[i];
    if (s->flags & SEL_ALLCHANNELS) {
        buf_append_str(out, "&*");
        return;
    }
    for (int k = 0; k < s->channel_count; k++) {
        if (k) buf_append_char(out, ' ');
        buf_append_char(out, '&');
        buf_append(out, s->channels[k].s, s->channels[k].len);
    }
}

/* ------------------------------------------------------------------------
 * Permission checks
 * ------------------------------------------------------------------------ */

void acl_catalog_set_keys(int id, acl_key_args keys) {
    if (id >= 0 && id < A.cmd_count) A.cmds[id].keys = keys;
}

bool acl_user_unrestricted(const acl_user *u) {
    unsigned all = SEL_ALLCOMMANDS | SEL_ALLCHANNELS | SEL_ALLKEYS;
    return (u->sel[0].flags & all) == all;
}

static bool channel_in(const acl_selector *s, const char *ch, size_t len, bool literal) {
    for (int i = 0; i < s->channel_count; i++) {
        const pattern *p = &s->channels[i];
        if (literal ? (p->len == len && memcmp(p->s, ch, len) == 0) : glob_match(p->s, p->len, ch, len))
            return true;
    }
    return false;
}

static bool firstarg_allows(const acl_selector *s, int id, int argc, const slice *argv) {
    int pos = A.cmds[id].parent != -1 ? 2 : 1;
    if (argc <= pos) return false;
    for (int i = 0; i < s->firstarg_count; i++) {
        const firstarg *f = &s->firstargs[i];
        if (f->id == id && eq(argv[pos].ptr, argv[pos].len, f->arg)) return true;
    }
    return false;
}

static bool key_in(const acl_selector *s, const slice *key, int perm) {
    for (int i = 0; i < s->key_count; i++) {
        const pattern *p = &s->keys[i];
        if ((p->perm & perm) == perm && glob_match(p->s, p->len, key->ptr, key->len)) return true;
    }
    return false;
}

/* The key arguments [*first, *end) of c in argv. */
static void key_range(const acl_cmd *c, int argc, const slice *argv, int *first, int *end) {
    *first = *end = 0;
    switch (c->keys) {
    case ACL_KEYS_NONE: return;
    case ACL_KEYS_FIRST_READ:
    case ACL_KEYS_FIRST_WRITE: *first = 1, *end = argc > 1 ? 2 : 1; return;
    case ACL_KEYS_SECOND_READ: *first = 2, *end = argc > 2 ? 3 : 2; return;
    case ACL_KEYS_STREAMS_READ:
        for (int i = 1; i < argc; i++) {
            if (argv[i].len == 7 && strncasecmp(argv[i].ptr, "streams", 7) == 0) {
                *first = i + 1;
                *end = *first + (argc - *first) / 2;
                return;
            }
        }
        return;
    }
}

static int selector_check(const acl_selector *s, int id, int argc, const slice *argv, int *arg_idx) {
    const acl_cmd *c = &A.cmds[id];
    if (!(s->flags & SEL_ALLCOMMANDS) && !(c->flags & ACL_CMD_NO_AUTH) && !bit_get(s, id) &&
        !firstarg_allows(s, id, argc, argv))
        return ACL_DENIED_CMD;
    if (!(s->flags & SEL_ALLKEYS) && c->keys != ACL_KEYS_NONE) {
        int perm = c->keys == ACL_KEYS_FIRST_WRITE ? KEY_WRITE : KEY_READ, first, end;
        key_range(c, argc, argv, &first, &end);
        for (int j = first; j < end; j++) {
            if (!key_in(s, &argv[j], perm)) {
                *arg_idx = j;
                return ACL_DENIED_KEY;
            }
        }
    }
    if ((s->flags & SEL_ALLCHANNELS) || c->channels == ACL_CHANNELS_NONE) return ACL_OK;
    int last = c->channels == ACL_CHANNELS_FIRST ? (argc > 1 ? 2 : 1) : argc;
    bool literal = c->channels == ACL_CHANNELS_PATTERNS;
    for (int j = 1; j < last; j++) {
        if (!channel_in(s, argv[j].ptr, argv[j].len, literal)) {
            *arg_idx = j;
            return ACL_DENIED_CHANNEL;
        }
    }
    return ACL_OK;
}

int acl_check(const acl_user *u, int id, int argc, const slice *argv, int *arg_idx) {
    if (acl_user_unrestricted(u)) return ACL_OK;
    if (id < 0 || id >= A.cmd_count) return ACL_DENIED_CMD;
    /* When no selector allows the command, report the most specific
     * refusal: a channel over the command, the later argument first. */
    int worst = ACL_DENIED_CMD, worst_idx = 0, idx = 0;
    for (int i = 0; i < u->sel_count; i++) {
        int r = selector_check(&u->sel[i], id, argc, argv, &idx);
        if (r == ACL_OK) return ACL_OK;
        if (r > worst || (r == worst && idx > worst_idx)) {
            worst = r;
            worst_idx = idx;
        }
    }
    *arg_idx = worst_idx;
    return worst;
}

bool acl_user_allows_channel(const acl_user *u, const char *name, size_t len, bool is_pattern) {
    for (int i = 0; i < u->sel_count; i++) {
        if (u->sel[i].flags & SEL_ALLCHANNELS) return true;
        if (channel_in(&u->sel[i], name, len, is_pattern)) return true;
    }
    return false;
}

bool acl_channels_may_shrink(const acl_user *new_rights, const acl_user *old_rights) {
    for (int i = 0; i < new_rights->sel_count; i++)
        if (new_rights->sel[i].flags & SEL_ALLCHANNELS) return false;
    for (int i = 0; i < old_rights->sel_count; i++) {
        const acl_selector *s = &old_rights->sel[i];
        if (s->flags & SEL_ALLCHANNELS) return true;
        for (int k = 0; k < s->channel_count; k++) {
            bool kept = false;
            for (int j = 0; j < new_rights->sel_count && !kept; j++)
                kept = patterns_find(new_rights->sel[j].channels, new_rights->sel[j].channel_count,
                                     s->channels[k].s, s->channels[k].len) != NULL;
            if (!kept) return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Start-up, ACL LOAD and ACL SAVE
 * ------------------------------------------------------------------------ */

const acl_user *acl_userset_default(const acl_userset *set) {
    return acl_userset_find(set, "default", 7);
}

void acl_load_commit(acl_userset *set, void (*on_removed)(void *ctx, acl_user *u), void *ctx) {
    /* The default user keeps its address: the new rules are copied in. */
    acl_user *new_default = acl_userset_find(set, "default", 7);
    set_remove(set, new_default);
    user_copy_rules(A.default_user, new_default);
    acl_user_free(new_default);
    acl_userset_insert(set, A.default_user);
    for (size_t i = 0; i < A.users.n; i++) {
        acl_user *old = A.users.v[i];
        if (old == A.default_user) continue;
        if (on_removed) on_removed(ctx, old);
        acl_user_free(old);
    }
    mem_free(A.users.v);
    A.users = *set;
    mem_free(set);
}
