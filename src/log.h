/* log.h -- Levelled, Redis-style log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm * text". */
#ifndef LOG_H
#define LOG_H

enum {
    LOG_DEBUG = 0,
    LOG_VERBOSE = 1,
    LOG_NOTICE = 2,
    LOG_WARNING = 3,
};

/* Lines below level are dropped. */
void log_set_level(int level);
int log_get_level(void);
/* Logs to path (appending), or to stdout when path is NULL or "". Returns
 * 0, or -1 if the file cannot be opened (the previous target stays). */
int log_set_file(const char *path);
/* Role character shown after the pid: 'M' as in Redis, 'C' in a child. */
void log_set_role(char role);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps "debug", "verbose", "notice", "warning" to a level; -1 if unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
