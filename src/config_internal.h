/* config_internal.h -- What config.c shares with config_rewrite.c and
 * nothing else: the directive table and scratch values. */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"

/* A scratch copy of one directive's value. */
typedef struct value {
    long long num;                              /* BOOL, INT, MEMORY, OCTAL, ENUM */
    char *str;                                  /* STRING: owned */
    char **list;                                /* BIND: owned */
    int list_count;
    config_obuf_limit obuf[CONFIG_CLASS_COUNT]; /* OBUF */
} value;

size_t config_defs_count(void);
const config_def *config_def_at(size_t i);
/* Index of the directive called name (or an alias of it), or -1. */
int config_def_lookup(const char *name, size_t len, bool *is_alias);

/* Copies the stored value into v; pointers are shared, not duplicated. */
void config_value_load(const config_def *d, value *v);
/* The directive's default, parsed into v (owned: config_value_free). */
void config_value_default(const config_def *d, value *v);
/* Appends v as CONFIG GET shows it. */
void config_value_format(const config_def *d, const value *v, buf *out);
bool config_value_changed(const config_def *d, const value *a, const value *b);
void config_value_free(value *v);

/* Reads a whole file into out; -1 with err set on failure. */
int config_read_file(const char *path, buf *out, char *err, size_t errlen);

extern char *config_file_path_abs;   /* the loaded file, NULL if none */
extern const char *const config_obuf_class_names[CONFIG_CLASS_COUNT];

#endif
