/* info.c -- INFO sections and CLIENT LIST lines, in Redis's key:value format
 * and section order, with the fields client libraries and exporters read.
 * Every figure comes from another module's *_stats() call or public state;
 * this file only formats. Sections that describe what we do not have
 * (persistence, replication, keyspace) report the empty state Redis would. */
#include "info.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "client.h"
#include "cmd_handlers.h"
#include "config.h"
#include "ev.h"
#include "frame.h"
#include "mem.h"
#include "pubsub.h"
#include "history.h"
#include "history_log.h"
#include "upstream.h"
#include "version.h"

#define SAMPLES 16

static struct {
    char run_id[41];
    size_t peak_memory;
    long long ops_samples[SAMPLES], in_samples[SAMPLES], out_samples[SAMPLES];
    int sample_idx;
    long long last_ops, last_in, last_out, last_sample_us;
} I;

void info_init(void) {
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[20];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, rnd, sizeof(rnd)) : -1;
    if (fd >= 0) close(fd);
    for (int i = 0; i < 20; i++) {
        unsigned char v = n == (ssize_t)sizeof(rnd) ? rnd[i] : (unsigned char)(getpid() * 31 + i * 7);
        I.run_id[i * 2] = hex[v >> 4];
        I.run_id[i * 2 + 1] = hex[v & 15];
    }
    I.run_id[40] = '\0';
}

const char *info_run_id(void) {
    return I.run_id;
}

void info_cron_sample(void) {
    client_stats st;
    client_get_stats(&st);
    long long now = util_monotonic_us();
    long long ops = commands_total_processed();
    if (I.last_sample_us) {
        long long dt = now - I.last_sample_us;
        if (dt <= 0) dt = 1;
        I.ops_samples[I.sample_idx] = (ops - I.last_ops) * 1000000 / dt;
        I.in_samples[I.sample_idx] = (st.total_net_input_bytes - I.last_in) * 1000000 / dt;
        I.out_samples[I.sample_idx] = (st.total_net_output_bytes - I.last_out) * 1000000 / dt;
        I.sample_idx = (I.sample_idx + 1) % SAMPLES;
    }
    I.last_sample_us = now;
    I.last_ops = ops;
    I.last_in = st.total_net_input_bytes;
    I.last_out = st.total_net_output_bytes;
    size_t used = mem_used();
    if (used > I.peak_memory) I.peak_memory = used;
}

static long long sample_avg(const long long *s) {
    long long sum = 0;
    for (int i = 0; i < SAMPLES; i++) sum += s[i];
    return sum / SAMPLES;
}

/* "1.50M" style, as Redis's bytesToHuman. */
static void human(char *dst, size_t len, double n) {
    if (n < 1024) snprintf(dst, len, "%.0fB", n);
    else if (n < 1024.0 * 1024) snprintf(dst, len, "%.2fK", n / 1024);
    else if (n < 1024.0 * 1024 * 1024) snprintf(dst, len, "%.2fM", n / (1024.0 * 1024));
    else snprintf(dst, len, "%.2fG", n / (1024.0 * 1024 * 1024));
}

/* ------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------ */

static void section_server(buf *o) {
    struct utsname un;
    uname(&un);
    long long now_us = util_time_us();
    long long up = (util_monotonic_us() - cmd_env.start_mono_us) / 1000000;
    buf_printf(o, "# Server\r\n");
    buf_printf(o, "redis_version:%s\r\n", REDIS_COMPAT_VERSION);
    buf_printf(o, "redis_pubsub_version:%s\r\n", REDIS_PUBSUB_VERSION);
    buf_printf(o, "redis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\n");
    buf_printf(o, "redis_mode:standalone\r\n");
    buf_printf(o, "os:%s %s %s\r\n", un.sysname, un.release, un.machine);
    buf_printf(o, "arch_bits:%d\r\n", (int)(sizeof(void *) * 8));
    buf_printf(o, "monotonic_clock:POSIX clock_gettime\r\n");
    buf_printf(o, "multiplexing_api:%s\r\n", ev_backend_name());
    buf_printf(o, "atomicvar_api:c11-builtin\r\n");
#ifdef __GNUC__
    buf_printf(o, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    buf_printf(o, "process_id:%d\r\n", (int)getpid());
    static const char *const supervised[] = {"upstart", "systemd", "auto", "no"};
    buf_printf(o, "process_supervised:%s\r\n",
               cfg.supervised >= 0 && cfg.supervised <= CONFIG_SUPERVISED_NO ? supervised[cfg.supervised] : "no");
    buf_printf(o, "run_id:%s\r\n", I.run_id);
    buf_printf(o, "tcp_port:%d\r\n", cfg.port);
    buf_printf(o, "server_time_usec:%lld\r\n", now_us);
    buf_printf(o, "uptime_in_seconds:%lld\r\n", up);
    buf_printf(o, "uptime_in_days:%lld\r\n", up / 86400);
    buf_printf(o, "hz:%d\r\nconfigured_hz:%d\r\n", cfg.hz, cfg.hz);
    buf_printf(o, "lru_clock:%lld\r\n", (now_us / 1000000) & ((1 << 24) - 1));
    buf_printf(o, "executable:%s\r\n", cmd_env.executable ? cmd_env.executable : "");
    buf_printf(o, "config_file:%s\r\n", config_file_path() ? config_file_path() : "");
    buf_printf(o, "io_threads_active:0\r\n");
}

static void section_clients(buf *o) {
    client_stats st;
    client_get_stats(&st);
    buf_printf(o, "# Clients\r\n");
    buf_printf(o, "connected_clients:%lld\r\n", st.connected);
    buf_printf(o, "cluster_connections:0\r\n");
    buf_printf(o, "maxclients:%u\r\n", cfg.maxclients);
    buf_printf(o, "client_recent_max_input_buffer:%lld\r\n", st.client_recent_max_input_buffer);
    buf_printf(o, "client_recent_max_output_buffer:%lld\r\n", st.client_recent_max_output_buffer);
    /* Redis 7.4's fields in its order: exporters read pubsub_clients. */
    buf_printf(o, "blocked_clients:%lld\r\ntracking_clients:0\r\n", client_blocked_count());
    buf_printf(o, "pubsub_clients:%lld\r\n", st.pubsub_clients);
    buf_printf(o, "watching_clients:0\r\nclients_in_timeout_table:0\r\ntotal_watched_keys:0\r\n");
    buf_printf(o, "total_blocking_keys:0\r\ntotal_blocking_keys_on_nokey:0\r\n");
}

static void section_memory(buf *o) {
    size_t used = mem_used(), rss = mem_rss();
    if (used > I.peak_memory) I.peak_memory = used;
    size_t alloc, active, resident;
    mem_allocator_stats(&alloc, &active, &resident);
    size_t frames, frame_bytes;
    frame_stats(&frames, &frame_bytes);
    char h1[32], h2[32], h3[32], h4[32];
    human(h1, sizeof(h1), (double)used);
    human(h2, sizeof(h2), (double)rss);
    human(h3, sizeof(h3), (double)I.peak_memory);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double total = (double)pages * (double)psize;
    human(h4, sizeof(h4), total);
    buf_printf(o, "# Memory\r\n");
    buf_printf(o, "used_memory:%zu\r\nused_memory_human:%s\r\n", used, h1);
    buf_printf(o, "used_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n", rss, h2);
    buf_printf(o, "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n", I.peak_memory, h3);
    buf_printf(o, "used_memory_peak_perc:%.2f%%\r\n",
               I.peak_memory ? 100.0 * (double)used / (double)I.peak_memory : 100.0);
    buf_printf(o, "used_memory_overhead:%zu\r\nused_memory_startup:0\r\n", used);
    buf_printf(o, "used_memory_dataset:0\r\nused_memory_dataset_perc:0.00%%\r\n");
    buf_printf(o, "allocator_allocated:%zu\r\nallocator_active:%zu\r\nallocator_resident:%zu\r\n",
               alloc, active, resident);
    buf_printf(o, "total_system_memory:%.0f\r\ntotal_system_memory_human:%s\r\n", total, h4);
    buf_printf(o, "used_memory_lua:0\r\nused_memory_scripts:0\r\n");
    buf_printf(o, "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n");
    buf_printf(o, "mem_fragmentation_ratio:%.2f\r\n", used ? (double)rss / (double)used : 0.0);
    buf_printf(o, "mem_allocator:%s\r\n", mem_allocator_name());
    buf_printf(o, "mem_clients_normal:%zu\r\nmem_clients_slaves:0\r\n", used);
    buf_printf(o, "mem_pubsub_frames:%zu\r\nmem_pubsub_frame_bytes:%zu\r\n", frames, frame_bytes);
    buf_printf(o, "lazyfree_pending_objects:0\r\n");
}

static void section_persistence(buf *o) {
    buf_printf(o, "# Persistence\r\n");
    buf_printf(o, "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\n");
    buf_printf(o, "rdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\n");
    buf_printf(o, "rdb_last_save_time:%lld\r\n", cmd_env.start_ms / 1000);
    buf_printf(o, "rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n");
    buf_printf(o, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n");
    buf_printf(o, "aof_last_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\n");
    buf_printf(o, "aof_last_write_status:ok\r\nmodule_fork_in_progress:0\r\n");
}

static void section_stats(buf *o) {
    client_stats st;
    client_get_stats(&st);
    buf_printf(o, "# Stats\r\n");
    buf_printf(o, "total_connections_received:%lld\r\n", st.total_connections);
    buf_printf(o, "total_commands_processed:%lld\r\n", commands_total_processed());
    buf_printf(o, "instantaneous_ops_per_sec:%lld\r\n", sample_avg(I.ops_samples));
    buf_printf(o, "total_net_input_bytes:%lld\r\n", st.total_net_input_bytes);
    buf_printf(o, "total_net_output_bytes:%lld\r\n", st.total_net_output_bytes);
    buf_printf(o, "instantaneous_input_kbps:%.2f\r\n", (double)sample_avg(I.in_samples) / 1024);
    buf_printf(o, "instantaneous_output_kbps:%.2f\r\n", (double)sample_avg(I.out_samples) / 1024);
    buf_printf(o, "rejected_connections:%lld\r\n", st.rejected_connections);
    buf_printf(o, "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n");
    buf_printf(o, "expired_keys:0\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n");
    buf_printf(o, "evicted_keys:0\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\n");
    buf_printf(o, "keyspace_hits:0\r\nkeyspace_misses:0\r\n");
    buf_printf(o, "pubsub_channels:%zu\r\n", pubsub_channel_count(cmd_env.ps, PUBSUB_CHANNEL));
    buf_printf(o, "pubsub_patterns:%zu\r\n", pubsub_pattern_count(cmd_env.ps));
    buf_printf(o, "pubsubshard_channels:%zu\r\n", pubsub_channel_count(cmd_env.ps, PUBSUB_SHARD));
    buf_printf(o, "pubsub_messages_published:%lld\r\n", cmd_pubsub_messages_published());
    buf_printf(o, "latest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\n");
    buf_printf(o, "total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n");
    buf_printf(o, "tracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n");
    buf_printf(o, "unexpected_error_replies:0\r\ntotal_error_replies:%lld\r\ndump_payload_sanitizations:0\r\n",
               client_error_replies());
    buf_printf(o, "total_reads_processed:0\r\ntotal_writes_processed:0\r\n");
    buf_printf(o, "client_query_buffer_limit_disconnections:%lld\r\n", st.qbuf_limit_disconnections);
    buf_printf(o, "client_output_buffer_limit_disconnections:%lld\r\n", st.obuf_limit_disconnections);
}

static void section_replication(buf *o) {
    buf_printf(o, "# Replication\r\n");
    buf_printf(o, "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n");
    buf_printf(o, "master_replid:%s\r\n", I.run_id);
    buf_printf(o, "master_replid2:0000000000000000000000000000000000000000\r\n");
    buf_printf(o, "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n");
    buf_printf(o, "repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n");
    buf_printf(o, "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n");
}

static void section_cpu(buf *o) {
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#define TV(tv) ((double)(tv).tv_sec + (double)(tv).tv_usec / 1000000.0)
    buf_printf(o, "# CPU\r\n");
    buf_printf(o, "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\n", TV(self.ru_stime), TV(self.ru_utime));
    buf_printf(o, "used_cpu_sys_children:%.6f\r\nused_cpu_user_children:%.6f\r\n",
               TV(children.ru_stime), TV(children.ru_utime));
    buf_printf(o, "used_cpu_sys_main_thread:%.6f\r\nused_cpu_user_main_thread:%.6f\r\n",
               TV(self.ru_stime), TV(self.ru_utime));
#undef TV
}

static void section_empty(buf *o, const char *title) {
    buf_printf(o, "# %s\r\n", title);
}

static void section_cluster(buf *o) {
    buf_printf(o, "# Cluster\r\ncluster_enabled:0\r\n");
}

static void commandstat_line(buf *o, const command *cmd) {
    const command_stats *st = commands_stats(cmd);
    if (!st->calls && !st->rejected_calls && !st->failed_calls) return;
    buf_printf(o, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
               cmd->name, st->calls, st->usec, st->calls ? (double)st->usec / (double)st->calls : 0.0,
               st->rejected_calls, st->failed_calls);
}

static void section_commandstats(buf *o) {
    buf_printf(o, "# Commandstats\r\n");
    for (size_t i = 0; i < commands_count(); i++) {
        const command *cmd = commands_at(i);
        if (cmd->proc) commandstat_line(o, cmd);
        if (cmd->subcommands)
            for (const command *s = cmd->subcommands; s->name; s++) commandstat_line(o, s);
    }
}

static void errorstat_line(void *ctx, const char *code, long long count) {
    buf_printf(ctx, "errorstat_%s:count=%lld\r\n", code, count);
}

static void section_errorstats(buf *o) {
    buf_printf(o, "# Errorstats\r\n");
    client_error_codes_foreach(errorstat_line, o);
}

/* Shown only when some channel-history rule is configured. */
static bool history_present(void) {
    return history_enabled();
}

static void section_history(buf *o) {
    history_stats st;
    history_get_stats(&st);
    buf_printf(o, "# History\r\n");
    buf_printf(o, "history_rules:%zu\r\n", history_rule_count);
    buf_printf(o, "history_channels:%lld\r\n", st.channels);
    buf_printf(o, "history_entries:%lld\r\n", st.entries);
    buf_printf(o, "history_bytes:%lld\r\n", st.bytes);
    buf_printf(o, "history_max_memory:%lld\r\n", st.max_memory);
    buf_printf(o, "history_evictions:%lld\r\n", st.evictions);
    buf_printf(o, "history_blocked_readers:%lld\r\n", client_blocked_count());
    history_log_stats ls;
    history_log_get_stats(&ls);
    static const char *const policies[] = {"always", "everysec", "no"};
    buf_printf(o, "history_persistence:%s\r\n", ls.enabled ? "enabled" : "disabled");
    buf_printf(o, "history_fsync:%s\r\n", policies[ls.fsync_policy]);
    buf_printf(o, "history_files:%lld\r\n", ls.files);
    buf_printf(o, "history_disk_bytes:%lld\r\n", ls.disk_bytes);
    buf_printf(o, "history_pending_bytes:%lld\r\n", ls.pending_bytes);
    buf_printf(o, "history_fsync_lag_ms:%lld\r\n", ls.fsync_lag_ms);
    buf_printf(o, "history_fsyncs:%lld\r\n", ls.fsyncs);
    buf_printf(o, "history_fsync_avg_us:%lld\r\n", ls.fsyncs ? ls.fsync_us_total / ls.fsyncs : 0);
    buf_printf(o, "history_fsync_max_us:%lld\r\n", ls.fsync_us_max);
    buf_printf(o, "history_compactions:%lld\r\n", ls.compactions);
    buf_printf(o, "history_write_errors:%lld\r\n", ls.write_errors);
    buf_printf(o, "history_memory_only_files:%lld\r\n", ls.broken_files);
    buf_printf(o, "history_last_disk_error:%s\r\n", ls.last_error);
    buf_printf(o, "history_loaded_entries:%lld\r\n", ls.loaded_entries);
    buf_printf(o, "history_truncated_files:%lld\r\n", ls.truncated_files);
    buf_printf(o, "history_skipped_records:%lld\r\n", ls.skipped_records);
}

typedef struct section {
    const char *name;
    const char *title;              /* for empty sections */
    void (*fn)(buf *o);
    bool in_default;
    bool (*present)(void);          /* NULL: always; else only when named, or when true */
} section;

static const section sections[] = {
    {"server", NULL, section_server, true, NULL},
    {"clients", NULL, section_clients, true, NULL},
    {"memory", NULL, section_memory, true, NULL},
    {"persistence", NULL, section_persistence, true, NULL},
    {"stats", NULL, section_stats, true, NULL},
    {"replication", NULL, section_replication, true, NULL},
    {"cpu", NULL, section_cpu, true, NULL},
    {"modules", "Modules", NULL, true, NULL},
    {"errorstats", NULL, section_errorstats, true, NULL},
    {"cluster", NULL, section_cluster, true, NULL},
    {"upstream", NULL, upstream_info, true, upstream_is_relay},
    {"history", NULL, section_history, true, history_present},
    {"keyspace", "Keyspace", NULL, true, NULL},
    {"commandstats", NULL, section_commandstats, false, NULL},
    {"latencystats", "Latencystats", NULL, false, NULL},
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

void info_generate(buf *out, int nsec, const slice *names) {
    bool want[NSECTIONS] = {false};
    bool any = false;
    if (nsec == 0) {
        for (size_t i = 0; i < NSECTIONS; i++)
            want[i] = sections[i].in_default && (!sections[i].present || sections[i].present());
    }
    for (int j = 0; j < nsec; j++) {
        const slice *n = &names[j];
        bool all = util_eq_nocase(n->ptr, n->len, "all");
        bool every = util_eq_nocase(n->ptr, n->len, "everything");
        bool def = util_eq_nocase(n->ptr, n->len, "default");
        for (size_t i = 0; i < NSECTIONS; i++) {
            bool m = util_eq_nocase(n->ptr, n->len, sections[i].name);
            bool shown = !sections[i].present || sections[i].present();
            if (m || (shown && (every || (def && sections[i].in_default) ||
                                (all && strcmp(sections[i].name, "modules") != 0))))
                want[i] = true;
        }
    }
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (!want[i]) continue;
        if (any) buf_append_str(out, "\r\n");
        any = true;
        if (sections[i].fn) sections[i].fn(out);
        else section_empty(out, sections[i].title);
    }
}

/* ------------------------------------------------------------------------
 * CLIENT LIST line
 * ------------------------------------------------------------------------ */

static void client_flags(const client *c, char *dst) {
    char *p = dst;
    if (c->flags & CLIENT_MONITOR) *p++ = 'O';
    if (c->subs) *p++ = 'P';
    if (c->flags & CLIENT_MULTI) *p++ = 'x';
    if (c->flags & CLIENT_HELD) *p++ = 'b';
    p = cmd_tracking_flags(c, p);
    if (c->state == CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->state == CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & CLIENT_UNIX_SOCKET) *p++ = 'U';
    if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH) *p++ = 'T';
    if (p == dst) *p++ = 'N';
    *p = '\0';
}

#define INFO_REPLY_CHUNK 16384   /* Redis's reply buffer and block size */

/* Redis 7.2's fields in its order, plus 7.4's watch= (keys WATCHed: there
 * are none to watch here) after multi=, which client libraries parse. */
void info_client_line(const client *c, buf *o) {
    char flags[16];
    client_flags(c, flags);
    long long now = util_time_ms();
    const char *events = (c->flags & CLIENT_WRITE_ARMED) ? "rw" : "r";
    if (c->state != CLIENT_ACTIVE || (c->flags & CLIENT_READ_PAUSED))
        events = (c->flags & CLIENT_WRITE_ARMED) ? "w" : "";
    char laddr[NET_ADDR_LEN];
    client_laddr(c, laddr, sizeof(laddr));
    size_t argv_mem = 0;
    for (size_t i = 0; i < c->parser.argc; i++) argv_mem += c->parser.argv[i].len;
    /* Redis keeps up to 16 KB of replies in its buffer (obl) and the rest
     * in a list of blocks (oll nodes, omem bytes), and monitoring reads
     * omem to find slow clients. Ours is one growable buffer plus a queue
     * of frame references: report the same split. */
    size_t obl = c->out.reply.len < INFO_REPLY_CHUNK ? c->out.reply.len : INFO_REPLY_CHUNK;
    size_t spill = c->out.reply.len - obl;
    size_t oll = c->out.count + (spill + INFO_REPLY_CHUNK - 1) / INFO_REPLY_CHUNK;
    size_t omem = c->out.bytes + spill;
    size_t rbs = client_reply_buf_size(c) < INFO_REPLY_CHUNK ? client_reply_buf_size(c) : INFO_REPLY_CHUNK;
    buf_printf(o, "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
                  "sub=%zu psub=%zu ssub=%zu multi=%d watch=0 qbuf=%zu qbuf-free=%zu argv-mem=%zu "
                  "multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=%s "
                  "cmd=%s user=%s redir=%lld resp=%d lib-name=%s lib-ver=%s",
               (unsigned long long)c->id, c->addr, laddr, c->fd, c->name ? c->name : "",
               (now - c->ctime_ms) / 1000, (now - c->last_active_ms) / 1000, flags, c->db,
               pubsub_sub_channels(c->subs, PUBSUB_CHANNEL), pubsub_sub_patterns(c->subs),
               pubsub_sub_channels(c->subs, PUBSUB_SHARD),
               (c->flags & CLIENT_MULTI) ? c->multi_count : -1, c->qbuf.len, c->qbuf.cap - c->qbuf.len,
               argv_mem, rbs, rbs, obl, oll, omem, client_memory(c), events, c->last_cmd, c->user ? c->user : "default",
               cmd_tracking_redir(c), c->resp, c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
}
