/*
 * log.c: one-line records to stderr, written with a single write(2) so
 * that lines from several worker threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int te_log_level = TE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "notice", "warn",
                                          "error"};

const char *te_log_level_name(int level)
{
    if (level < TE_LOG_DEBUG || level > TE_LOG_ERROR)
        return "?";
    return level_names[level];
}

int te_log_level_parse(const char *name)
{
    for (int i = TE_LOG_DEBUG; i <= TE_LOG_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

/* Formats "<utc time> <level> <message>[: <errno text>]\n" and writes it
 * in one call; a record longer than the buffer is cut, never split. */
static void log_write(int level, int err, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ",
                 ts.tv_nsec / 1000000, te_log_level_name(level));
    n += (size_t)r;

    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n = r < 0 ? n : n + (size_t)r;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;

    if (err != 0) {
        r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
        n = r < 0 ? n : n + (size_t)r;
        if (n > sizeof(line) - 2)
            n = sizeof(line) - 2;
    }

    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}

void te_log(int level, const char *fmt, ...)
{
    va_list ap;

    if (!te_log_enabled(level))
        return;
    va_start(ap, fmt);
    log_write(level, 0, fmt, ap);
    va_end(ap);
}

void te_log_errno(int level, const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    if (!te_log_enabled(level))
        return;
    va_start(ap, fmt);
    log_write(level, err, fmt, ap);
    va_end(ap);
}
