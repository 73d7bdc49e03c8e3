/* info.h -- INFO sections and CLIENT LIST / CLIENT INFO lines. */
#ifndef INFO_H
#define INFO_H

#include "buf.h"
#include "util.h"

typedef struct client client;

/* Appends the INFO text for the requested sections (none: "default") to out.
 * Section names are case-insensitive; unknown ones are ignored, as in Redis. */
void info_generate(buf *out, int nsections, const slice *sections);
/* Appends the CLIENT LIST line of c (no trailing newline) to out. */
void info_client_line(const client *c, buf *out);
/* Called every 100 ms by the server cron: samples ops/s and bytes/s. */
void info_cron_sample(void);
/* Run id: 40 random hex characters chosen at start-up. */
const char *info_run_id(void);
void info_init(void);

#endif
