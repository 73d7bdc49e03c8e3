/* acl_file.c -- Where ACL users come from and go to: the `user` lines of
 * redis.conf at start-up, the aclfile (start-up and ACL LOAD, staged and
 * installed only when every line is valid, as Redis does) and ACL SAVE. */
#include "acl.h"
#include "acl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "util.h"

/* The `user` lines of redis.conf: users are created in file order; a
 * "user default" line starts from "reset". */
static int load_config_users(void) {
    for (int l = 0; l < cfg.users_count; l++) {
        const config_line *line = &cfg.users[l];
        const char *name = line->argv[0];
        size_t name_len = strlen(name);
        if (acl_name_has_spaces(name, name_len)) {
            log_warning("Spaces not allowed in ACL usernames");
            return -1;
        }
        slice *args = mem_alloc(sizeof(slice) * (size_t)(line->argc ? line->argc : 1));
        for (int i = 1; i < line->argc; i++) args[i - 1] = (slice){line->argv[i], strlen(line->argv[i])};
        slice *rules;
        int bad;
        int n = acl_rules_merge(line->argc - 1, args, &rules, &bad);
        mem_free(args);
        if (n == -1) {
            log_warning("Error loading ACL rule '%s' for the user named '%s': Unmatched parenthesis in acl "
                        "selector", line->argv[bad + 1], name);
            return -1;
        }
        acl_user *u = acl_find_user(name, name_len);
        if (u) {
            acl_user_apply(u, "reset", 5);
        } else {
            u = acl_user_new(name, name_len);
            acl_users_add(u);
        }
        for (int i = 0; i < n; i++) {
            int e = acl_user_apply(u, rules[i].ptr, rules[i].len);
            if (e) {
                log_warning("Error loading ACL rule '%s' for the user named '%s': %s", rules[i].ptr, name,
                            acl_error_text(e));
                acl_rules_free(rules, n);
                return -1;
            }
        }
        acl_rules_free(rules, n);
        if (acl_user_disabled(u))
            log_notice("The user '%s' is disabled (there is no 'on' modifier in the user description). Make "
                       "sure this is not a configuration error.", name);
    }
    return 0;
}

int acl_load_startup(void) {
    bool have_file = cfg.aclfile && cfg.aclfile[0];
    if (have_file && cfg.users_count > 0) {
        log_warning("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path "
                    "is invalid. This setup is very likely to lead to configuration errors and security holes, "
                    "please define either an ACL file or declare users directly in your redis.conf, but not "
                    "both.");
        return -1;
    }
    if (load_config_users() == -1) {
        log_warning("Critical error while loading ACLs. Exiting.");
        return -1;
    }
    if (!have_file) return 0;
    buf errors = {0};
    acl_userset *set = acl_load_stage(cfg.aclfile, &errors);
    if (!set) {
        log_warning("Aborting Redis startup because of ACL errors: %.*s", (int)errors.len, errors.data);
        buf_free(&errors);
        return -1;
    }
    acl_load_commit(set, NULL, NULL);
    buf_free(&errors);
    return 0;
}

static void trim(const char **p, size_t *len, const char *chars) {
    while (*len > 0 && (*p)[0] && strchr(chars, (*p)[0])) (*p)++, (*len)--;
    while (*len > 0 && (*p)[*len - 1] && strchr(chars, (*p)[*len - 1])) (*len)--;
}

/* Splits at every single space, as Redis's ACL file reader does: runs of
 * spaces give empty arguments, which rules ignore. */
static int split_spaces(const char *p, size_t len, slice **out) {
    int n = 1;
    for (size_t i = 0; i < len; i++) n += p[i] == ' ';
    *out = mem_alloc(sizeof(slice) * (size_t)n);
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == ' ') {
            (*out)[k++] = (slice){p + start, i - start};
            start = i + 1;
        }
    }
    return k;
}

/* One line of the ACL file into set; problems go to errors. */
static void load_line(acl_userset *set, const char *path, int lineno, const char *p, size_t len, buf *errors) {
    trim(&p, &len, " \t\r\n");
    if (len == 0) return;
    slice *argv;
    int argc = split_spaces(p, len, &argv);
    if (argc < 2 || argv[0].len != 4 || memcmp(argv[0].ptr, "user", 4) != 0) {
        buf_printf(errors, "%s:%d should start with user keyword followed by the username. ", path, lineno);
        mem_free(argv);
        return;
    }
    if (acl_name_has_spaces(argv[1].ptr, argv[1].len)) {
        buf_printf(errors, "'%s:%d: username '%.*s' contains invalid characters. ", path, lineno,
                   (int)argv[1].len, argv[1].ptr);
        mem_free(argv);
        return;
    }
    acl_user *u = acl_user_new(argv[1].ptr, argv[1].len);
    if (!acl_userset_insert(set, u)) {
        buf_printf(errors, "WARNING: Duplicate user '%.*s' found on line %d. ", (int)argv[1].len, argv[1].ptr,
                   lineno);
        acl_user_free(u);
        mem_free(argv);
        return;
    }
    slice *rules;
    int bad;
    int n = acl_rules_merge(argc - 2, argv + 2, &rules, &bad);
    mem_free(argv);
    if (n == -1) {
        buf_printf(errors, "%s:%d: Unmatched parenthesis in selector definition.", path, lineno);
        return;
    }
    bool reported = false;
    for (int i = 0; i < n; i++) {
        const char *r = rules[i].ptr;
        size_t rlen = rules[i].len;
        trim(&r, &rlen, "\t\r\n");
        int e = acl_user_apply(u, r, rlen);
        if (e == ACL_ERR_UNKNOWN) {
            /* Unknown names are safe to echo; other rules may hold secrets. */
            buf_printf(errors, "%s:%d: Error in applying operation '%.*s': %s. ", path, lineno, (int)rlen, r,
                       acl_error_text(e));
        } else if (e && !reported) {
            buf_printf(errors, "%s:%d: %s. ", path, lineno, acl_error_text(e));
            reported = true;
        }
    }
    acl_rules_free(rules, n);
}

acl_userset *acl_load_stage(const char *path, buf *errors) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        buf_printf(errors, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf text = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) buf_append(&text, chunk, got);
    fclose(fp);
    acl_userset *set = acl_userset_new();
    size_t start_len = errors->len, pos = 0;
    for (int lineno = 1; pos <= text.len; lineno++) {
        const char *line = text.data ? text.data + pos : "";
        const char *nl = text.len > pos ? memchr(line, '\n', text.len - pos) : NULL;
        size_t len = nl ? (size_t)(nl - line) : text.len - pos;
        load_line(set, path, lineno, line, len, errors);
        pos += len + 1;
    }
    buf_free(&text);
    if (errors->len != start_len) {
        buf_append_str(errors, "WARNING: ACL errors detected, no change to the previously active ACL rules "
                               "was performed");
        acl_userset_free(set);
        return NULL;
    }
    if (!acl_userset_find(set, "default", 7)) acl_userset_insert(set, acl_default_user_new());
    return set;
}

int acl_save_file(const char *path) {
    buf text = {0};
    for (size_t i = 0; i < acl_user_count(); i++) {
        const acl_user *u = acl_user_at(i);
        buf_append_str(&text, "user ");
        buf_append(&text, acl_user_name(u), acl_user_name_len(u));
        buf_append_char(&text, ' ');
        acl_user_describe(u, &text);
        buf_append_char(&text, '\n');
    }
    buf tmp = {0};
    buf_printf(&tmp, "%s.tmp-%d-%lld", path, (int)getpid(), util_time_ms());
    buf_append_char(&tmp, '\0');
    int rc = -1;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1) {
        log_warning("Opening temp ACL file for ACL SAVE: %s", strerror(errno));
        goto done;
    }
    size_t off = 0;
    while (off < text.len) {
        ssize_t n = write(fd, text.data + off, text.len - off);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) continue;
            log_warning("Writing ACL file for ACL SAVE: %s", strerror(errno));
            goto done;
        }
        off += (size_t)n;
    }
    if (fsync(fd) == -1) {
        log_warning("Syncing ACL file for ACL SAVE: %s", strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp.data, path) == -1) {
        log_warning("Renaming ACL file for ACL SAVE: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd != -1) close(fd);
    if (rc == -1) unlink(tmp.data);
    buf_free(&tmp);
    buf_free(&text);
    return rc;
}
