/* log.c -- Levelled log lines in Redis's format, to stdout or a file. The
 * file is opened per line (as Redis does) so that logrotate needs no signal. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int level = LOG_NOTICE;
static char file_path[1024];
static char role = 'M';

static const char *names[] = {"debug", "verbose", "notice", "warning"};
static const char marks[] = {'.', '-', '*', '#'};

void log_set_level(int lvl) { level = lvl; }
int log_get_level(void) { return level; }
void log_set_role(char r) { role = r; }

int log_set_file(const char *path) {
    if (!path || !path[0]) {
        file_path[0] = '\0';
        return 0;
    }
    FILE *fp = fopen(path, "a");
    if (!fp) return -1;
    fclose(fp);
    snprintf(file_path, sizeof(file_path), "%s", path);
    return 0;
}

int log_level_from_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(name, names[i])) return i;
    return -1;
}

const char *log_level_name(int lvl) {
    return (lvl >= 0 && lvl < 4) ? names[lvl] : "notice";
}

void log_msg(int lvl, const char *fmt, ...) {
    if (lvl < level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));

    FILE *fp = file_path[0] ? fopen(file_path, "a") : stdout;
    if (!fp) return;
    fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), role, when, marks[lvl], msg);
    fflush(fp);
    if (fp != stdout) fclose(fp);
}
