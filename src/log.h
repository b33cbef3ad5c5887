/*
 * log.h: one-line log records to stderr.
 *
 * A record is "<time> <level> <message>", one write(2) per line so that
 * workers never interleave. te_log_errno appends strerror(errno) (warn);
 * te_log does not (warnx). Messages are lowercase, no trailing period, and
 * carry their context as key=value pairs: req=, tenant=, backend=.
 */
#ifndef TE_LOG_H
#define TE_LOG_H

#include <stdarg.h>

enum te_log_level {
    TE_LOG_DEBUG = 0,
    TE_LOG_INFO,
    TE_LOG_NOTICE,
    TE_LOG_WARN,
    TE_LOG_ERROR
};

/* The threshold; records below it are dropped before formatting. */
extern int te_log_level;

#define te_log_enabled(lvl) ((lvl) >= te_log_level)

void te_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void te_log_errno(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses "debug", "info", "notice", "warn" or "error"; -1 if unknown. */
int te_log_level_parse(const char *name);
const char *te_log_level_name(int level);

#endif
