/* dict.h -- Hash table with binary keys, type callbacks, SipHash-1-3 keyed by a
 * process-wide secret seed, and incremental rehashing (grow at load 1, shrink
 * below 1/8, an emptied table frees its buckets). Iteration order is
 * unspecified. */
#ifndef DICT_H
#define DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dict dict;
typedef struct dict_entry dict_entry;

/* How a dict treats its keys and values. Every callback may be NULL. */
typedef struct dict_type {
    /* NULL: dict_hash(). */
    uint64_t (*hash)(const void *key, size_t len);
    /* NULL: equal lengths and equal bytes. */
    bool (*key_eq)(const void *a, size_t a_len, const void *b, size_t b_len);
    /* Returns an owned copy of the key. NULL: the dict stores the caller's
     * pointer, which must then outlive the entry (borrowed key). */
    void *(*key_dup)(const void *key, size_t len);
    void (*key_free)(void *key, size_t len);
    /* Called on the value when its entry is deleted or the dict is freed. */
    void (*val_free)(void *val);
    /* Bytes of caller metadata stored inside each entry, zeroed on add and
     * reached with dict_entry_extra(); pointer-aligned. */
    size_t entry_extra;
} dict_type;

/* key_dup / key_free for dicts that own a copy of each key (NUL-terminated
 * too, so keys can be read as C strings). */
void *dict_key_copy(const void *key, size_t len);
void dict_key_release(void *key, size_t len);

/* ---- Hashing ------------------------------------------------------------ */

/* Sets the 128-bit SipHash key used by every dict. Call once at startup with
 * random bytes, before any dict holds entries (existing entries would no
 * longer be found). Until called, the key is all zeroes. */
void dict_set_hash_seed(const uint8_t seed[16]);
/* SipHash-1-3 of len bytes at key under the seed. */
uint64_t dict_hash(const void *key, size_t len);

/* ---- Table -------------------------------------------------------------- */

/* Returns an owned, empty dict; no buckets are allocated until the first add.
 * type is borrowed and must outlive the dict (normally static const). */
dict *dict_new(const dict_type *type);
/* Deletes every entry (running key_free/val_free) and frees d. NULL is a no-op. */
void dict_free(dict *d);

/* Adds key -> val. Returns the new entry, or NULL (and changes nothing) if the
 * key is already present. The key is copied with key_dup, or borrowed if the
 * type has none. An entry's address is stable until the entry is deleted. */
dict_entry *dict_add_entry(dict *d, const void *key, size_t len, void *val);
/* As dict_add_entry(); returns 0, or -1 if the key exists. */
int dict_add(dict *d, const void *key, size_t len, void *val);
/* Returns the entry for key, or NULL. Never changes the dict. */
dict_entry *dict_find(const dict *d, const void *key, size_t len);
/* Returns the value for key, or NULL if absent (or if the value is NULL). */
void *dict_fetch(const dict *d, const void *key, size_t len);
/* Deletes key, running key_free and val_free. Returns 0, or -1 if absent.
 * key may point into the entry's own key or value: it is not read after
 * the callbacks run. */
int dict_del(dict *d, const void *key, size_t len);

/* Number of entries. */
size_t dict_size(const dict *d);
/* Buckets allocated across both tables (0 for an empty dict); for tests and
 * memory figures. */
size_t dict_buckets(const dict *d);
bool dict_is_rehashing(const dict *d);

/* ---- Entries ------------------------------------------------------------ */

const void *dict_entry_key(const dict_entry *e);
size_t dict_entry_key_len(const dict_entry *e);
void *dict_entry_val(const dict_entry *e);
/* Replaces the value without calling val_free on the old one. */
void dict_entry_set_val(dict_entry *e, void *val);
/* The type's entry_extra bytes of this entry (undefined if entry_extra is 0). */
void *dict_entry_extra(dict_entry *e);

/* ---- Iteration ---------------------------------------------------------- */

/* A safe iterator: while it is open, rehashing and resizing are paused, and
 * the entry it last returned may be deleted with dict_del(). Deleting any
 * other entry is not allowed. Entries added meanwhile may or may not be
 * returned. Every dict_iter_init() needs a dict_iter_done(), which resumes
 * resizing (an emptied dict frees its buckets then). */
typedef struct dict_iter {
    dict *d;            /* borrowed */
    int table;          /* 0 or 1 */
    size_t bucket;      /* next bucket to visit in table */
    dict_entry *next;   /* next entry to return, saved before returning one */
} dict_iter;

void dict_iter_init(dict_iter *it, dict *d);
/* Returns the next entry, or NULL at the end. */
dict_entry *dict_iter_next(dict_iter *it);
void dict_iter_done(dict_iter *it);

/* Calls fn(ctx, e) for every entry; fn must not modify the dict. */
typedef void dict_foreach_fn(void *ctx, const dict_entry *e);
void dict_foreach(const dict *d, dict_foreach_fn *fn, void *ctx);

#endif
