/* cluster.h -- The Redis Cluster map for relay mode: key slots (CRC16), the
 * shards and nodes read from CLUSTER SHARDS or CLUSTER SLOTS replies, and
 * -MOVED parsing. No sockets, no I/O. */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp_reply.h"

#define CLUSTER_SLOTS 16384

/* ------------------------------------------------------------------------
 * Slots
 * ------------------------------------------------------------------------ */

/* CRC16-XMODEM (poly 0x1021, init 0) of the key, or of its {hash tag} when
 * it has a non-empty one (first '{', then the first '}' after it, something
 * between), mod 16384: Redis's keyHashSlot rule. */
int cluster_key_slot(const char *key, size_t len);

/* ------------------------------------------------------------------------
 * The map
 * ------------------------------------------------------------------------ */

typedef struct cluster_node {
    char host[64];            /* endpoint if usable (not "", not "?"), else ip; "" = the host we asked */
    int port;                 /* "port" (or "tls-port" when want_tls) */
    bool primary;             /* role master */
    bool loading;             /* health "loading" (a fresh replica shows it ~10 s) */
    char id[41];              /* node id, "" if the reply gave none */
} cluster_node;

typedef struct cluster_shard {
    cluster_node *nodes;      /* owned; primary first if there is one, then replicas in reply order */
    int node_count;           /* may be 0: every node of a slot-owning shard failed */
    bool has_primary;
} cluster_shard;

typedef struct cluster_map {
    cluster_shard *shards;    /* owned; only shards that own slots */
    int shard_count;
    int16_t slot_shard[CLUSTER_SLOTS];   /* shard index owning each slot, -1 if none */
} cluster_map;

/* Builds a map from a CLUSTER SHARDS reply (RESP2 flat key/value lists or
 * RESP3 maps; unknown keys ignored). Nodes whose health is "fail" (or
 * "failed") are left out, and so are nodes without a usable port; shards
 * owning no slots are left out (a dead ex-master stays listed so). Returns
 * an owned map, or NULL with err filled ("CLUSTER SHARDS: ..." for logs). A
 * slot claimed by two shards is an error: the caller asks again later. */
cluster_map *cluster_map_from_shards(const rreply *r, bool want_tls, char *err, size_t errlen);
/* The same from a CLUSTER SLOTS reply (servers without CLUSTER SHARDS).
 * Ranges served by the same primary form one shard; the first node of each
 * range is the primary. A NULL, "" or "?" endpoint becomes the "ip" of the
 * node's metadata if given, else "" (connect to the host that answered).
 * CLUSTER SLOTS gives no health: loading is false. */
cluster_map *cluster_map_from_slots(const rreply *r, char *err, size_t errlen);
/* Frees the map; NULL is a no-op. */
void cluster_map_free(cluster_map *m);

/* Index of the shard holding the node host:port (host compared without
 * case), or -1. */
int cluster_map_find_node(const cluster_map *m, const char *host, int port);
/* True if both maps give every slot to shards with the same node sets
 * (nodes compared by id, host, port, role and loading; order aside): a
 * refresh found no change. */
bool cluster_map_equal(const cluster_map *a, const cluster_map *b);

/* ------------------------------------------------------------------------
 * Redirections
 * ------------------------------------------------------------------------ */

/* Parses "MOVED <slot> <host>:<port>" error text, with or without the
 * leading '-' (rreply ERROR str holds "MOVED 3999 127.0.0.1:6381"). The
 * port follows the last ':' (IPv6 hosts keep theirs). Returns 0 and fills
 * slot, host (NUL-terminated) and port, or -1 (also when host does not fit
 * in hostlen). "MOVED 1 :7000" means the host of the connection: host[0]
 * is then 0. */
int cluster_parse_moved(const char *err, size_t len, int *slot, char *host, size_t hostlen, int *port);

#endif
