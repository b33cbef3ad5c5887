/*
 * http1_parser.c: the strict HTTP/1.1 head parser and chunked decoder
 * declared in http1_parser.h.
 *
 * A head is read in two passes. The scan (te_h1_scan) walks only the new
 * bytes of each call and refuses bad bytes, bad line ends, malformed lines
 * and oversized heads as soon as they arrive; it keeps offsets, never
 * pointers, so the caller's buffer may move between calls. Once the empty
 * line has arrived, one more pass over the complete head fills in the
 * request or response and makes the checks that need every field (Host,
 * message framing, Connection). Each byte is thus looked at a bounded
 * number of times however the head is fed.
 */
#include "http1_parser.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "core.h"
#include "path.h"

#define H1_BAD       (-400)
#define H1_URI_LONG  (-414)
#define H1_EXPECT    (-417)
#define H1_HEAD_LONG (-431)
#define H1_NOT_IMPL  (-501)
#define H1_VERSION   (-505)

/* RFC 9112 2.2 asks servers to ignore "at least one" empty line before
 * the request line; a few are plenty, more is someone probing. */
#define MAX_LEADING_EMPTY 8

/* RFC 9110 5.6.2: tchar, the bytes of a token. A table, not strchr:
 * this runs for every byte of every field name. */
static const unsigned char tchar_special[128] = {
    ['!'] = 1,  ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,
    ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['^'] = 1,  ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c < 128 && tchar_special[c];
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 5.5: field-vchar, SP and HTAB; every CTL but HTAB is out,
 * DEL included. */
static int is_field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Bytes allowed in a request-target: VCHAR without '#' (RFC 9112 3.2
 * has no fragment; a backend cutting at '#' would route differently). */
static int is_target_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* ASCII case-insensitive comparison of two spans; locale-independent so
 * that obs-text bytes never fold into letters. */
static int span_eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        if (ascii_lower((unsigned char)a[i]) !=
            ascii_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* Inlined so that strlen of a literal is a constant: most calls then
 * end at the length test. */
static inline __attribute__((always_inline)) int eq_ci(const char *p, size_t n,
                                                       const char *lit)
{
    return span_eq_ci(p, n, lit, strlen(lit));
}

static int all_tchar(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_tchar((unsigned char)p[i]))
            return 0;
    }
    return n > 0;
}

/*
 * Steps through a comma-separated list (RFC 9110 5.6.1). On each call
 * stores the next element, trimmed of OWS and possibly empty, and returns
 * 1; returns 0 once the list is exhausted. Start with *pos = 0.
 */
static int list_next(const char *v, size_t n, size_t *pos, const char **elem,
                     size_t *elen)
{
    size_t s = *pos;
    size_t t;
    size_t e;

    if (s > n)
        return 0;

    t = s;
    while (t < n && v[t] != ',')
        t++;

    e = t;
    while (s < e && is_ows((unsigned char)v[s]))
        s++;
    while (e > s && is_ows((unsigned char)v[e - 1]))
        e--;

    *elem = v + s;
    *elen = e - s;
    *pos = t + 1;
    return 1;
}

/* RFC 9110 8.6: Content-Length = 1*DIGIT, refused when it does not fit
 * in 64 bits rather than wrapped. */
static int parse_content_length(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return H1_BAD;
    for (size_t i = 0; i < n; i++) {
        unsigned d;

        if (p[i] < '0' || p[i] > '9')
            return H1_BAD;
        d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return H1_BAD;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* RFC 3986 3.2.3: port = *DIGIT; we want 1 to 5 digits up to 65535. */
static int check_port(const char *p, size_t n)
{
    unsigned v = 0;

    if (n == 0 || n > 5)
        return H1_BAD;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return H1_BAD;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535 ? 0 : H1_BAD;
}

/*
 * RFC 9110 7.2, RFC 3986 3.2.2: uri-host [ ":" port ]. The host is an
 * IPv6 literal in brackets (checked with inet_pton), or a reg-name that
 * we narrow to ALPHA / DIGIT / "-" / "." / "_" / "~" (this also covers
 * IPv4). Userinfo, percent-encoding, sub-delims and IPvFuture are
 * refused: nothing legitimate sends them to an edge.
 */
static int check_host(const char *p, size_t n)
{
    size_t i = 0;

    if (n == 0)
        return H1_BAD;

    if (p[0] == '[') {
        const char *close = memchr(p, ']', n);
        char addr[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        size_t alen;

        if (close == NULL)
            return H1_BAD;
        alen = (size_t)(close - p) - 1;
        if (alen == 0 || alen >= sizeof(addr))
            return H1_BAD;
        memcpy(addr, p + 1, alen);
        addr[alen] = '\0';
        if (inet_pton(AF_INET6, addr, &a6) != 1)
            return H1_BAD;
        i = alen + 2;
    } else {
        while (i < n) {
            unsigned char c = (unsigned char)p[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                  c == '~'))
                break;
            i++;
        }
        if (i == 0)
            return H1_BAD;
    }

    if (i == n)
        return 0;
    if (p[i] != ':')
        return H1_BAD;
    return check_port(p + i + 1, n - i - 1);
}

/* RFC 9112 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
 * A well-formed version other than 1.0 or 1.1 is 505, anything else 400. */
static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' ||
        p[6] != '.' || p[7] < '0' || p[7] > '9')
        return H1_BAD;
    if (p[5] != '1' || p[7] > '1')
        return H1_VERSION;
    *minor = p[7] - '0';
    return 0;
}

static int method_id(const char *m, size_t n)
{
    static const struct {
        const char *name;
        int id;
    } methods[] = {
        {"GET", TE_H1_GET},       {"HEAD", TE_H1_HEAD},
        {"POST", TE_H1_POST},     {"PUT", TE_H1_PUT},
        {"DELETE", TE_H1_DELETE}, {"OPTIONS", TE_H1_OPTIONS},
        {"PATCH", TE_H1_PATCH},   {"CONNECT", TE_H1_CONNECT},
        {"TRACE", TE_H1_TRACE},
    };

    /* RFC 9110 9.1: method names are case-sensitive. */
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strlen(methods[i].name) == n && memcmp(methods[i].name, m, n) == 0)
            return methods[i].id;
    }
    return TE_H1_OTHER;
}

/*
 * If the target is in absolute-form, stores its authority and returns 1;
 * returns 0 for any other form. Only http and https are recognised
 * (scheme names are case-insensitive, RFC 3986 3.1).
 */
static int absolute_authority(const char *t, size_t n, const char **auth,
                              size_t *alen)
{
    size_t skip;
    size_t e;

    if (n >= 7 && eq_ci(t, 7, "http://"))
        skip = 7;
    else if (n >= 8 && eq_ci(t, 8, "https://"))
        skip = 8;
    else
        return 0;

    e = skip;
    while (e < n && t[e] != '/' && t[e] != '?')
        e++;
    *auth = t + skip;
    *alen = e - skip;
    return 1;
}

/*
 * RFC 9112 3.2: which of the four target forms, and the path to route.
 * The path of origin-form and absolute-form must pass te_path_is_safe:
 * routing and product policy go by its raw prefix and it is forwarded
 * as sent, so a dot segment an origin resolves (RFC 3986 5.2.4) would
 * reach another product than the one checked.
 */
static int parse_target_form(te_h1_request *req)
{
    const char *t = req->target;
    size_t n = req->target_len;
    const char *auth;
    size_t alen;
    size_t rest;

    /* RFC 9112 3.2.1: origin-form = absolute-path [ "?" query ] */
    if (t[0] == '/') {
        req->path = t;
        req->path_len = n;
        return te_path_is_safe(t, n) ? 0 : H1_BAD;
    }

    /* RFC 9112 3.2.4: asterisk-form is for OPTIONS only. */
    if (n == 1 && t[0] == '*') {
        if (req->method_id != TE_H1_OPTIONS)
            return H1_BAD;
        req->path = t;
        req->path_len = 1;
        return 0;
    }

    /* RFC 9112 3.2.2: absolute-form; the Host check comes with the
     * fields. A query with no path would need a "/" inserted before it:
     * refused rather than rewritten. */
    if (!absolute_authority(t, n, &auth, &alen))
        return H1_BAD;
    if (check_host(auth, alen) < 0)
        return H1_BAD;
    rest = (size_t)(auth + alen - t);
    if (rest == n) {
        req->path = "/";
        req->path_len = 1;
        return 0;
    }
    if (t[rest] != '/')
        return H1_BAD;
    req->path = t + rest;
    req->path_len = n - rest;
    return te_path_is_safe(req->path, req->path_len) ? 0 : H1_BAD;
}

/* RFC 9112 3: request-line = method SP request-target SP HTTP-version,
 * single spaces, nothing else; fills the request-line part of req. */
static int parse_request_line(const char *p, size_t n, te_h1_request *req)
{
    size_t i = 0;
    size_t t;
    int rc;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ')
        return H1_BAD;
    req->method = p;
    req->method_len = i;
    req->method_id = method_id(p, i);

    t = ++i;
    while (i < n && is_target_byte((unsigned char)p[i]))
        i++;
    if (i == t || i == n || p[i] != ' ')
        return H1_BAD;
    req->target = p + t;
    req->target_len = i - t;

    rc = parse_version(p + i + 1, n - i - 1, &req->version_minor);
    if (rc < 0)
        return rc;

    /* RFC 9110 9.3.6: CONNECT asks for a tunnel, which we do not offer. */
    if (req->method_id == TE_H1_CONNECT)
        return H1_NOT_IMPL;

    return parse_target_form(req);
}

/* RFC 9112 4: status-line = HTTP-version SP status-code SP
 * [ reason-phrase ]; the reason may be empty, the second SP may not. */
static int parse_status_line(const char *p, size_t n, te_h1_response *res)
{
    int rc;

    if (n < 13 || p[8] != ' ' || p[12] != ' ')
        return H1_BAD;
    rc = parse_version(p, 8, &res->version_minor);
    if (rc < 0)
        return rc;

    /* RFC 9110 15: three digits, 100 to 599. */
    res->status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return H1_BAD;
        res->status = res->status * 10 + (p[i] - '0');
    }
    if (res->status < 100 || res->status > 599)
        return H1_BAD;

    res->reason = p + 13;
    res->reason_len = n - 13;
    return 0;
}

/*
 * RFC 9112 5: field-line = field-name ":" OWS field-value OWS. The name
 * must be a token running right up to the colon (RFC 9112 5.1: no
 * whitespace before it); a line starting with whitespace is obs-fold and
 * never reaches here. The bytes of the value were checked by the scan.
 */
static int parse_field_line(const char *p, size_t n, te_h1_field *f)
{
    size_t i = 0;
    size_t v;
    size_t e;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ':')
        return H1_BAD;

    v = i + 1;
    while (v < n && is_ows((unsigned char)p[v]))
        v++;
    e = n;
    while (e > v && is_ows((unsigned char)p[e - 1]))
        e--;

    f->name = p;
    f->name_len = i;
    f->value = p + v;
    f->value_len = e - v;
    return 0;
}

/* Validates one complete line of a head (without its CRLF): the start
 * line when lineno is 0, a field line otherwise. */
static int check_line(const char *p, size_t n, size_t lineno, int is_request)
{
    te_h1_request req;
    te_h1_response res;
    te_h1_field f;

    if (lineno > 0)
        return parse_field_line(p, n, &f);
    if (is_request)
        return parse_request_line(p, n, &req);
    return parse_status_line(p, n, &res);
}

/*
 * Ends the line that started at s->line_start with the CRLF at cr.
 * Returns 1 when it was the empty line closing the head (*head_len set),
 * 0 to go on, or minus a status.
 */
static int end_line(te_h1_scan *s, const char *buf, size_t cr, int is_request,
                    size_t *head_len)
{
    int rc;

    if (cr == s->line_start) {
        if (s->lines == 0) {
            /* RFC 9112 2.2: empty lines before a request line are
             * skipped; a response has no such allowance. */
            if (!is_request || s->skipped >= MAX_LEADING_EMPTY)
                return H1_BAD;
            s->skipped++;
            s->line_start = cr + 2;
            return 0;
        }
        *head_len = cr + 2;
        return 1;
    }

    rc = check_line(buf + s->line_start, cr - s->line_start, s->lines,
                    is_request);
    if (rc < 0)
        return rc;
    s->lines++;
    s->line_start = cr + 2;
    return 0;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/*
 * Where scan_plain must stop at the latest: before the byte at which a
 * request line (line 0 of a request) would exceed max_request_line,
 * before max_head, before INT_MAX - 1, and at len. scan_head's own
 * checks then run at that byte.
 */
static size_t scan_plain_end(const te_h1_scan *s, size_t len,
                             const te_h1_limits *lim, int is_request)
{
    size_t end = min_size(len, lim->max_head);

    end = min_size(end, (size_t)INT_MAX - 1);
    if (is_request && s->lines == 0) {
        /* scan_head refuses a byte at col + 3 > max_request_line */
        if (lim->max_request_line < 3)
            return s->line_start;
        end = min_size(end, s->line_start + lim->max_request_line - 2);
    }
    return end;
}

/* The first index from i, before end, of a byte that is no field byte
 * (CR, LF and the other controls are not); end if there is none. */
static size_t scan_plain(const char *buf, size_t i, size_t end)
{
    while (i < end && is_field_byte((unsigned char)buf[i]))
        i++;
    return i;
}

/*
 * Looks at buf[s->scanned..len) for the end of the head. Returns 1 with
 * *head_len once the closing empty line is in, 0 when more bytes are
 * needed, or minus a status. Every rule here depends only on the bytes
 * up to the one being looked at, so a head gets the same answer however
 * it is split. The state is left at the byte that decided (the closing
 * CRLF, the offending byte, or a CR still waiting for its LF), so a
 * repeated call gives the same answer at no cost.
 */
static int scan_head(te_h1_scan *s, const char *buf, size_t len,
                     const te_h1_limits *lim, size_t max_fields, int is_request,
                     size_t *head_len)
{
    size_t i;
    int rc = TE_H1_INCOMPLETE;

    if (s->scanned > len || s->line_start > s->scanned)
        return H1_BAD;

    for (i = s->scanned; i < len; i++) {
        unsigned char c;
        size_t col = i - s->line_start;

        /* Inside a line, plain field bytes only need the limits: skip
         * them in a tight loop up to the first byte that needs a look
         * (CR, LF, a control) or a limit, which the steps below then
         * judge exactly as if every byte had come through them. */
        if (col > 0) {
            i = scan_plain(buf, i, scan_plain_end(s, len, lim, is_request));
            if (i == len)
                break;
            col = i - s->line_start;
        }
        c = (unsigned char)buf[i];

        if (is_request && s->lines == 0 && c != '\r' &&
            col + 3 > lim->max_request_line) {
            rc = H1_URI_LONG;
            break;
        }
        /* The head's length must also fit the int we return. */
        if (i >= lim->max_head || i >= INT_MAX - 1) {
            rc = H1_HEAD_LONG;
            break;
        }

        if (c == '\r') {
            /* RFC 9112 2.2: a CR only ever comes as part of CRLF. */
            if (i + 1 == len)
                break;
            if (buf[i + 1] != '\n') {
                rc = H1_BAD;
                break;
            }
            if (i + 1 >= lim->max_head) {
                rc = H1_HEAD_LONG;
                break;
            }
            rc = end_line(s, buf, i, is_request, head_len);
            if (rc != 0)
                break;
            i++;
            continue;
        }

        /* RFC 9112 2.2: a bare LF does not end a line here. */
        if (c == '\n' || !is_field_byte(c)) {
            rc = H1_BAD;
            break;
        }

        if (col == 0 && s->lines > 0) {
            /* RFC 9112 5.2: obs-fold is refused, not unfolded. */
            if (is_ows(c)) {
                rc = H1_BAD;
                break;
            }
            if (s->lines > max_fields) {
                rc = H1_HEAD_LONG;
                break;
            }
        }
    }

    s->scanned = i;
    return rc;
}

/*
 * Second pass over a complete, scanned head: the start line goes to
 * start_line, each field line into fields[0..max). The lines were
 * validated and counted by the scan, so this only splits them; max is
 * checked again in case the caller changed cap between calls.
 */
static int split_head(const char *buf, size_t head_len, size_t skipped,
                      const char **start_line, size_t *start_len,
                      te_h1_field *fields, size_t max, unsigned *nfields)
{
    const char *p = buf + 2 * skipped;
    const char *end = buf + head_len - 2;
    const char *cr;
    unsigned n = 0;

    cr = memchr(p, '\r', (size_t)(end - p));
    if (cr == NULL)
        return H1_BAD;
    *start_line = p;
    *start_len = (size_t)(cr - p);
    p = cr + 2;

    while (p < end) {
        if (n >= max)
            return H1_HEAD_LONG;
        cr = memchr(p, '\r', (size_t)(end - p));
        if (cr == NULL || parse_field_line(p, (size_t)(cr - p), &fields[n]))
            return H1_BAD;
        n++;
        p = cr + 2;
    }
    *nfields = n;
    return 0;
}

/* What the Connection fields of a message say (RFC 9112 9.3, 9.6). */
typedef struct conn_opts {
    unsigned count; /* options over all Connection fields */
    unsigned close : 1;
    unsigned keep_alive : 1;
} conn_opts;

/*
 * RFC 9110 7.6.1: Connection = #connection-option, each a token. Host and
 * Content-Length may never be named: a proxy that dropped them as
 * hop-by-hop would change the message's routing or framing. More than
 * TE_H1_MAX_CONN_OPTIONS options in all, repeats included, are refused:
 * every field of the message is matched against them (te_h1_hop_match),
 * and nothing legitimate names more than a few.
 */
static int parse_connection(const te_h1_field *f, conn_opts *o)
{
    size_t pos = 0;
    const char *e;
    size_t elen;

    while (list_next(f->value, f->value_len, &pos, &e, &elen)) {
        if (elen == 0)
            continue;
        if (!all_tchar(e, elen) || ++o->count > TE_H1_MAX_CONN_OPTIONS)
            return H1_BAD;
        if (eq_ci(e, elen, "close"))
            o->close = 1;
        else if (eq_ci(e, elen, "keep-alive"))
            o->keep_alive = 1;
        else if (eq_ci(e, elen, "host") || eq_ci(e, elen, "content-length"))
            return H1_BAD;
    }
    return 0;
}

/* The framing fields every message shares, gathered over all fields. */
typedef struct msg_framing {
    uint64_t content_length;
    unsigned has_content_length : 1;
    unsigned chunked : 1;
    conn_opts conn;
} msg_framing;

/*
 * Checks the fields that decide how the message is framed and whether
 * the connection persists. Returns 1 when f was one of them, 0 when not,
 * or minus a status.
 */
static int framing_field(const te_h1_field *f, msg_framing *fr)
{
    if (eq_ci(f->name, f->name_len, "content-length")) {
        uint64_t v;

        /* RFC 9110 8.6: several lines or a list are refused outright,
         * even when the values agree; one value, 1*DIGIT. */
        if (fr->has_content_length)
            return H1_BAD;
        if (parse_content_length(f->value, f->value_len, &v) < 0)
            return H1_BAD;
        fr->content_length = v;
        fr->has_content_length = 1;
        return 1;
    }

    if (eq_ci(f->name, f->name_len, "transfer-encoding")) {
        /* RFC 9112 6.1, 7: we decode chunked and nothing else, so the
         * whole coding list must be exactly one "chunked"; a second line
         * would make it a list of two. */
        if (fr->chunked || !eq_ci(f->value, f->value_len, "chunked"))
            return H1_BAD;
        fr->chunked = 1;
        return 1;
    }

    if (eq_ci(f->name, f->name_len, "connection"))
        return parse_connection(f, &fr->conn) < 0 ? H1_BAD : 1;

    return 0;
}

/* RFC 9112 6.1, 6.3: the framing rules shared by requests and
 * responses. */
static int check_framing(const msg_framing *fr, int version_minor)
{
    /* RFC 9112 6.3 (3): Transfer-Encoding with Content-Length is a
     * smuggling attempt; refused, not resolved in favour of either. */
    if (fr->chunked && fr->has_content_length)
        return H1_BAD;

    /* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing. */
    if (fr->chunked && version_minor == 0)
        return H1_BAD;
    return 0;
}

/* RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with
 * "keep-alive". */
static int persists(const msg_framing *fr, int version_minor)
{
    if (fr->conn.close)
        return 0;
    return version_minor == 1 || fr->conn.keep_alive;
}

/* The field checks of a request that need the whole head. */
static int check_request(te_h1_request *req)
{
    msg_framing fr;
    int saw_host = 0;
    int rc;
    const char *auth;
    size_t alen;

    memset(&fr, 0, sizeof(fr));

    for (unsigned i = 0; i < req->nfields; i++) {
        const te_h1_field *f = &req->fields[i];

        rc = framing_field(f, &fr);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;

        if (eq_ci(f->name, f->name_len, "host")) {
            /* RFC 9112 3.2: one Host, and a valid one. */
            if (saw_host || check_host(f->value, f->value_len) < 0)
                return H1_BAD;
            saw_host = 1;
            req->host = f->value;
            req->host_len = f->value_len;
        } else if (eq_ci(f->name, f->name_len, "expect")) {
            /* RFC 9110 10.1.1: 100-continue is the only expectation;
             * HTTP/1.0 clients must not get an interim response. */
            if (!eq_ci(f->value, f->value_len, "100-continue"))
                return H1_EXPECT;
            if (req->version_minor == 1)
                req->expect_continue = 1;
        } else if (eq_ci(f->name, f->name_len, "upgrade")) {
            req->upgrade = 1;
        }
    }

    /* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. */
    if (req->version_minor == 1 && !saw_host)
        return H1_BAD;

    /* RFC 9112 3.2.2 lets the absolute-form authority override Host; an
     * edge that routes by Host refuses the disagreement instead. Without
     * a Host (HTTP/1.0) the authority is the host: it routes the request
     * and is the Host the backend gets. */
    if (absolute_authority(req->target, req->target_len, &auth, &alen)) {
        if (saw_host && !span_eq_ci(auth, alen, req->host, req->host_len))
            return H1_BAD;
        if (!saw_host) {
            req->host = auth;
            req->host_len = alen;
        }
    }

    rc = check_framing(&fr, req->version_minor);
    if (rc < 0)
        return rc;

    req->content_length = fr.content_length;
    req->has_content_length = fr.has_content_length;
    req->chunked = fr.chunked;
    req->keep_alive = persists(&fr, req->version_minor);
    return 0;
}

static size_t field_limit(unsigned max_fields, unsigned cap)
{
    return max_fields < cap ? max_fields : cap;
}

void te_h1_scan_reset(te_h1_scan *scan)
{
    memset(scan, 0, sizeof(*scan));
}

int te_h1_parse_request(te_h1_scan *scan, const char *buf, size_t len,
                        const te_h1_limits *lim, te_h1_request *req,
                        te_h1_field *fields, unsigned cap)
{
    size_t head_len = 0;
    const char *line;
    size_t line_len;
    int rc;

    memset(req, 0, sizeof(*req));

    rc = scan_head(scan, buf, len, lim, field_limit(lim->max_fields, cap), 1,
                   &head_len);
    if (rc <= 0)
        return rc;

    rc = split_head(buf, head_len, scan->skipped, &line, &line_len, fields,
                    field_limit(lim->max_fields, cap), &req->nfields);
    if (rc < 0)
        return rc;
    req->fields = fields;

    rc = parse_request_line(line, line_len, req);
    if (rc < 0)
        return rc;

    rc = check_request(req);
    if (rc < 0)
        return rc;

    req->head_len = head_len;
    return (int)head_len;
}

int te_h1_parse_response(te_h1_scan *scan, const char *buf, size_t len,
                         const te_h1_limits *lim, int request_method,
                         te_h1_response *res, te_h1_field *fields, unsigned cap)
{
    size_t head_len = 0;
    const char *line;
    size_t line_len;
    msg_framing fr;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&fr, 0, sizeof(fr));

    rc = scan_head(scan, buf, len, lim, field_limit(lim->max_fields, cap), 0,
                   &head_len);
    if (rc <= 0)
        return rc;

    rc = split_head(buf, head_len, 0, &line, &line_len, fields,
                    field_limit(lim->max_fields, cap), &res->nfields);
    if (rc < 0)
        return rc;
    res->fields = fields;

    rc = parse_status_line(line, line_len, res);
    if (rc < 0)
        return rc;

    for (unsigned i = 0; i < res->nfields; i++) {
        rc = framing_field(&fields[i], &fr);
        if (rc < 0)
            return rc;
    }
    rc = check_framing(&fr, res->version_minor);
    if (rc < 0)
        return rc;

    res->keep_alive = persists(&fr, res->version_minor);

    /* RFC 9112 6.3: without a body the framing fields describe nothing
     * (HEAD, 304); with a body but neither field, the body runs to the
     * close, so the connection cannot be reused. */
    if (!te_h1_response_has_body(request_method, res->status)) {
        fr.chunked = 0;
        fr.has_content_length = 0;
        fr.content_length = 0;
    } else if (!fr.chunked && !fr.has_content_length) {
        res->keep_alive = 0;
    }
    res->content_length = fr.content_length;
    res->has_content_length = fr.has_content_length;
    res->chunked = fr.chunked;

    res->head_len = head_len;
    return (int)head_len;
}

int te_h1_response_has_body(int request_method, int status)
{
    /* RFC 9112 6.3 (1), (2): HEAD, 1xx, 204, 304, and 2xx to CONNECT. */
    if (request_method == TE_H1_HEAD)
        return 0;
    if (status < 200 || status == 204 || status == 304)
        return 0;
    if (request_method == TE_H1_CONNECT && status < 300)
        return 0;
    return 1;
}

const te_h1_field *te_h1_find(const te_h1_field *fields, unsigned n,
                              const char *name)
{
    for (unsigned i = 0; i < n; i++) {
        if (eq_ci(fields[i].name, fields[i].name_len, name))
            return &fields[i];
    }
    return NULL;
}

/* RFC 9110 7.6.1, plus Trailer, which names fields of this hop's
 * chunked framing. */
static const struct {
    const char *name;
    size_t len;
} hop_fixed[] = {
    {"connection", 10}, {"keep-alive", 10},        {"proxy-connection", 16},
    {"te", 2},          {"transfer-encoding", 17}, {"trailer", 7},
    {"upgrade", 7},
};

void te_h1_hop_init(te_h1_hop *hop, const te_h1_field *fields, unsigned n,
                    int fold)
{
    hop->nopt = 0;
    hop->fold = fold != 0;

    for (unsigned i = 0; i < n; i++) {
        size_t pos = 0;
        const char *e;
        size_t elen;

        if (!eq_ci(fields[i].name, fields[i].name_len, "connection"))
            continue;
        /* Bounded by the value's length; the parser allowed no more
         * options than there is room for, and any beyond are left out
         * rather than written past the array. */
        while (
            list_next(fields[i].value, fields[i].value_len, &pos, &e, &elen)) {
            if (elen == 0 || hop->nopt == TE_H1_MAX_CONN_OPTIONS)
                continue;
            hop->opt[hop->nopt] = e;
            hop->opt_len[hop->nopt] = elen;
            hop->nopt++;
        }
    }
}

int te_h1_hop_match(const te_h1_hop *hop, const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(hop_fixed) / sizeof(hop_fixed[0]); i++) {
        if (te_field_name_eq(name, len, hop_fixed[i].name, hop_fixed[i].len,
                             hop->fold))
            return 1;
    }

    /* Nominating Host or Content-Length is refused by the parser; never
     * honour it here either. */
    if (eq_ci(name, len, "host") || eq_ci(name, len, "content-length"))
        return 0;

    for (unsigned i = 0; i < hop->nopt; i++) {
        if (te_field_name_eq(name, len, hop->opt[i], hop->opt_len[i],
                             hop->fold))
            return 1;
    }
    return 0;
}

/* Chunked decoder states, in the order the bytes come. */
enum {
    CH_SIZE_START,     /* first byte of chunk-size */
    CH_SIZE,           /* more hex digits, or what follows them */
    CH_EXT_BWS,        /* BWS that must lead to ";" */
    CH_EXT_NAME_START, /* after ";": BWS, then a token */
    CH_EXT_NAME,       /* in chunk-ext-name */
    CH_EXT_NAME_BWS,   /* BWS after a name: "=" or ";" next */
    CH_EXT_VAL_START,  /* after "=": BWS, then token or quoted-string */
    CH_EXT_VAL,        /* in a token value */
    CH_EXT_QUOTED,     /* in a quoted-string */
    CH_EXT_QUOTED_ESC, /* after a backslash in a quoted-string */
    CH_EXT_AFTER_VAL,  /* after a closing quote */
    CH_SIZE_LF,        /* the LF of the chunk-size line */
    CH_DATA,           /* payload */
    CH_DATA_CR,        /* the CRLF after the payload */
    CH_DATA_LF,        /* and its LF */
    CH_TRAILER_START,  /* a trailer line or the final empty line */
    CH_TRAILER_NAME,   /* in a trailer field name */
    CH_TRAILER_VALUE,  /* in a trailer field value */
    CH_TRAILER_LF,     /* the LF ending a trailer line */
    CH_END_LF,         /* the LF of the final empty line */
    CH_DONE,           /* the message has ended */
    CH_ERROR           /* bad framing seen; sticky */
};

void te_h1_chunked_init(te_h1_chunked *c, size_t max_trailer)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_SIZE_START;
    c->max_trailer = max_trailer ? max_trailer : TE_H1_MAX_CHUNK_EXT * 4;
}

/*
 * RFC 9112 7.1, 7.1.1: one byte of a chunk-size line:
 *   chunk-size [ chunk-ext ] CRLF
 *   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val = token / quoted-string
 * The whole line is bounded by TE_H1_MAX_CHUNK_EXT (CVE-2024-22019).
 */
static int size_line_byte(te_h1_chunked *c, unsigned char b)
{
    int d;

    if (b != '\r' && ++c->line_len > TE_H1_MAX_CHUNK_EXT)
        return H1_BAD;

    switch (c->state) {
    case CH_SIZE_START:
    case CH_SIZE:
        d = hex_value(b);
        if (d >= 0) {
            /* RFC 9112 7.1: a size past 64 bits is refused, not wrapped. */
            if (c->remaining > (UINT64_MAX >> 4))
                return H1_BAD;
            c->remaining = (c->remaining << 4) | (uint64_t)d;
            c->state = CH_SIZE;
            return 0;
        }
        if (c->state == CH_SIZE_START)
            return H1_BAD;
        break;
    case CH_EXT_BWS:
        if (is_ows(b))
            return 0;
        if (b == ';') {
            c->state = CH_EXT_NAME_START;
            return 0;
        }
        return H1_BAD;
    case CH_EXT_NAME_START:
        if (is_ows(b))
            return 0;
        if (!is_tchar(b))
            return H1_BAD;
        c->state = CH_EXT_NAME;
        return 0;
    case CH_EXT_NAME:
        if (is_tchar(b))
            return 0;
        if (b == '=') {
            c->state = CH_EXT_VAL_START;
            return 0;
        }
        if (is_ows(b)) {
            c->state = CH_EXT_NAME_BWS;
            return 0;
        }
        break;
    case CH_EXT_NAME_BWS:
        if (is_ows(b))
            return 0;
        if (b == '=') {
            c->state = CH_EXT_VAL_START;
            return 0;
        }
        if (b == ';') {
            c->state = CH_EXT_NAME_START;
            return 0;
        }
        return H1_BAD;
    case CH_EXT_VAL_START:
        if (is_ows(b))
            return 0;
        if (b == '"') {
            c->state = CH_EXT_QUOTED;
            return 0;
        }
        if (!is_tchar(b))
            return H1_BAD;
        c->state = CH_EXT_VAL;
        return 0;
    case CH_EXT_VAL:
        if (is_tchar(b))
            return 0;
        break;
    case CH_EXT_QUOTED:
        /* RFC 9110 5.6.4: qdtext or a quoted-pair; no CTLs but HTAB. */
        if (b == '"')
            c->state = CH_EXT_AFTER_VAL;
        else if (b == '\\')
            c->state = CH_EXT_QUOTED_ESC;
        else if (!is_field_byte(b))
            return H1_BAD;
        return 0;
    case CH_EXT_QUOTED_ESC:
        if (!is_field_byte(b))
            return H1_BAD;
        c->state = CH_EXT_QUOTED;
        return 0;
    case CH_EXT_AFTER_VAL:
        break;
    default:
        return H1_BAD;
    }

    /* After a size, a token value or a quoted string: the line ends
     * (RFC 9112 7.1: CRLF, never a bare LF), another extension starts,
     * or BWS leads to one. */
    if (b == '\r') {
        c->state = CH_SIZE_LF;
        return 0;
    }
    if (b == ';') {
        c->state = CH_EXT_NAME_START;
        return 0;
    }
    if (is_ows(b)) {
        c->state = CH_EXT_BWS;
        return 0;
    }
    return H1_BAD;
}

/*
 * RFC 9112 7.1.2: one byte of the trailer section, field lines checked
 * like those of a head (token name, colon right after it, no obs-fold,
 * no CTLs), the whole section bounded by max_trailer.
 */
static int trailer_byte(te_h1_chunked *c, unsigned char b)
{
    if (++c->trailer_len > c->max_trailer)
        return H1_BAD;

    switch (c->state) {
    case CH_TRAILER_START:
        if (b == '\r') {
            c->state = CH_END_LF;
            return 0;
        }
        if (!is_tchar(b))
            return H1_BAD;
        c->state = CH_TRAILER_NAME;
        return 0;
    case CH_TRAILER_NAME:
        if (is_tchar(b))
            return 0;
        if (b != ':')
            return H1_BAD;
        c->state = CH_TRAILER_VALUE;
        return 0;
    case CH_TRAILER_VALUE:
        if (b == '\r') {
            c->state = CH_TRAILER_LF;
            return 0;
        }
        return is_field_byte(b) ? 0 : H1_BAD;
    case CH_TRAILER_LF:
        if (b != '\n')
            return H1_BAD;
        c->state = CH_TRAILER_START;
        return 0;
    case CH_END_LF:
        if (b != '\n')
            return H1_BAD;
        c->state = CH_DONE;
        return 0;
    default:
        return H1_BAD;
    }
}

/* One framing byte, whatever part of the framing it belongs to. */
static int framing_byte(te_h1_chunked *c, unsigned char b)
{
    switch (c->state) {
    case CH_SIZE_LF:
        if (b != '\n')
            return H1_BAD;
        c->line_len = 0;
        c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
        return 0;
    case CH_DATA_CR:
        /* RFC 9112 7.1: chunk-data is followed by exactly CRLF. */
        if (b != '\r')
            return H1_BAD;
        c->state = CH_DATA_LF;
        return 0;
    case CH_DATA_LF:
        if (b != '\n')
            return H1_BAD;
        c->state = CH_SIZE_START;
        return 0;
    case CH_TRAILER_START:
    case CH_TRAILER_NAME:
    case CH_TRAILER_VALUE:
    case CH_TRAILER_LF:
    case CH_END_LF:
        return trailer_byte(c, b);
    default:
        return size_line_byte(c, b);
    }
}

/* See http1_parser.h. On an error, *framing is the offset of the byte
 * that showed it, and every later call fails the same way. */
int te_h1_chunked_step(te_h1_chunked *c, const char *p, size_t len,
                       size_t *framing, size_t *data)
{
    size_t i = 0;

    *framing = 0;
    *data = 0;
    if (c->state == CH_ERROR)
        return H1_BAD;
    if (c->state == CH_DONE)
        return TE_H1_CHUNK_DONE;

    while (i < len) {
        if (c->state == CH_DATA) {
            uint64_t n = len - i;

            if (n > c->remaining)
                n = c->remaining;
            if (c->total > UINT64_MAX - n) {
                c->state = CH_ERROR;
                return H1_BAD;
            }
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            *framing = i;
            *data = (size_t)n;
            return TE_H1_CHUNK_MORE;
        }

        if (framing_byte(c, (unsigned char)p[i]) < 0) {
            c->state = CH_ERROR;
            *framing = i;
            return H1_BAD;
        }
        i++;

        if (c->state == CH_DONE) {
            *framing = i;
            return TE_H1_CHUNK_DONE;
        }
    }

    *framing = i;
    return TE_H1_CHUNK_MORE;
}
