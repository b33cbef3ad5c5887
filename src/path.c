/*
 * path.c: the path rules of a request-target; see path.h.
 */
#include "path.h"

#include <string.h>

/* Is p[0..n) the percent-encoding %<hi><lo>? lo is a digit or a
 * lowercase hex letter; RFC 3986 2.1: the letter matches in any case. */
static int pct_is(const char *p, size_t n, char hi, char lo)
{
    char c;

    if (n < 3 || p[0] != '%' || p[1] != hi)
        return 0;
    c = p[2];
    if (c >= 'A' && c <= 'F')
        c = (char)(c - 'A' + 'a');
    return c == lo;
}

/* The length of the segment separator at p[0..n), 0 when there is none:
 * '/' (RFC 3986 3.3), and '\', "%2F", "%5C", which some origins also
 * split on after decoding. */
static size_t separator_len(const char *p, size_t n)
{
    if (p[0] == '/' || p[0] == '\\')
        return 1;
    if (pct_is(p, n, '2', 'f') || pct_is(p, n, '5', 'c'))
        return 3;
    return 0;
}

int te_path_is_safe(const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);
    size_t end = q != NULL ? (size_t)(q - path) : len;
    size_t dots = 0; /* '.' or "%2E" in this segment so far */
    int other = 0;   /* any other byte in it */
    int params = 0;  /* after ';': skipped up to the next separator */
    size_t i = 0;

    /* Bounded: every pass moves i forward by 1 or 3, up to end. */
    for (;;) {
        size_t sep = i < end ? separator_len(path + i, end - i) : 0;

        if (i >= end || sep > 0) {
            /* RFC 3986 5.2.4: "." and ".." are the dot segments. */
            if (!other && (dots == 1 || dots == 2))
                return 0;
            if (i >= end)
                return 1;
            dots = 0;
            other = 0;
            params = 0;
            i += sep;
            continue;
        }

        if (pct_is(path + i, end - i, '0', '0'))
            return 0;
        if (params) {
            i++;
        } else if (path[i] == ';') {
            params = 1;
            i++;
        } else if (path[i] == '.') {
            dots++;
            i++;
        } else if (pct_is(path + i, end - i, '2', 'e')) {
            dots++;
            i += 3;
        } else {
            other = 1;
            i++;
        }
    }
}
