/* sync.h -- Checks of the hiredis synchronous API, by file. */
#ifndef SYNC_H
#define SYNC_H

#include "compat.h"

/* sync.c: subscribe, subscribed-mode rules, pipelining, payloads, ordering. */
int sync_subscribe(redisContext *c, const char *ch, int count);

/* sync_pubsub.c: PUBSUB introspection, shard channels, counts, glob, CLIENT KILL. */
int t_pubsub_introspection(void);
int t_shard_channels(void);
int t_channel_and_pattern_count_twice(void);
int t_two_patterns_count_twice(void);
int t_glob_table(void);
int t_client_kill_id_reconnect(void);
int t_client_kill_addr_reconnect(void);

/* sync_resp3.c: RESP3 via HELLO 3. */
int t_resp3_raw_hello(void);
int t_resp3_raw_push_frames(void);
int t_resp3_raw_shard_and_unsubscribe(void);
int t_resp3_push_callback(void);
int resp3_parsed_by_hiredis(void);

#endif
