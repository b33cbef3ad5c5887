/*
 * tls_conf.c: the `tls { }` block. Every setting is checked where it is
 * written, so a config asking for less than the policy of tls.h (a
 * protocol below TLS 1.2, a TLS 1.2 suite without ECDHE or AEAD, an
 * unknown group, a certificate that does not load or whose key does not
 * match) is refused at load with the place of the directive, by -t and
 * by a reload alike. Ticket keys are read here, certificates and keys
 * in tls_cert.c, at load only; te_tls_conf_finish then builds the
 * te_tls (tls.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include "module.h"
#include "tls.h"
#include "tls_cert.h"

#define DEFAULT_CIPHERS           "ECDHE+AESGCM:ECDHE+CHACHA20"
#define DEFAULT_GROUPS            "X25519:P-256:P-384"
#define DEFAULT_ROTATE            (60 * 60 * 1000)
#define DEFAULT_HANDSHAKE_TIMEOUT (10 * 1000)
#define ROTATE_MIN                1000u
#define ROTATE_MAX                (168u * 60 * 60 * 1000)
/* Longest name in a colon-separated list (suites, groups). */
#define LIST_NAME_MAX 64

/* Directives that may appear once in the block. */
enum {
    SEEN_PROTOCOLS = 1 << 0,
    SEEN_CIPHERS = 1 << 1,
    SEEN_SUITES = 1 << 2,
    SEEN_GROUPS = 1 << 3,
    SEEN_TICKETS = 1 << 4,
    SEEN_ROTATE = 1 << 5,
    SEEN_HSTS = 1 << 6,
    SEEN_TIMEOUT = 1 << 7
};

enum { PROTO_12 = 1, PROTO_13 = 2 };

struct te_tls_conf {
    bool block;       /* a tls block was read */
    te_conf_where at; /* its `tls` */
    unsigned seen;
    struct te_tls_cert *certs;
    unsigned ncerts;
    unsigned protocols; /* PROTO_* */
    const char *ciphers, *ciphersuites, *groups;
    int tickets;
    unsigned char keys[TE_TLS_TICKET_KEYS_MAX][TE_TLS_TICKET_KEY_LEN];
    const char *key_paths[TE_TLS_TICKET_KEYS_MAX];
    unsigned nkeys;
    unsigned rotate;
    const char *hsts;
    unsigned handshake_timeout;
};

te_tls_conf *te_tls_conf_new(void)
{
    te_tls_conf *tc = calloc(1, sizeof(*tc));

    if (tc == NULL)
        return NULL;
    tc->protocols = PROTO_12 | PROTO_13;
    tc->ciphers = DEFAULT_CIPHERS;
    tc->groups = DEFAULT_GROUPS;
    tc->tickets = 1;
    tc->rotate = DEFAULT_ROTATE;
    tc->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
    return tc;
}

void te_tls_conf_free(te_tls_conf *tc)
{
    if (tc == NULL)
        return;
    for (unsigned i = 0; i < tc->ncerts; i++)
        te_tls_cert_clear(&tc->certs[i]);
    free(tc->certs);
    OPENSSL_cleanse(tc->keys, sizeof(tc->keys));
    free(tc);
}

/* ---- helpers ---- */

static int once(te_conf_ctx *cx, te_tls_conf *tc, unsigned bit,
                const char *name)
{
    if (tc->seen & bit)
        return te_conf_error(cx, 0, "duplicate directive \"%s\"", name);
    tc->seen |= bit;
    return 0;
}

/* A file named in the config: relative to the directory of the file
 * that names it. A string of the snapshot, or NULL after the error. */
static const char *file_path(te_conf_ctx *cx, unsigned argi, const char *p)
{
    const char *dir = te_conf_dir(cx), *out;
    char *joined;
    size_t n;

    if (dir == NULL) {
        te_conf_error(cx, argi, "a file cannot be named in unnamed text");
        return NULL;
    }
    if (p[0] == '\0') {
        te_conf_error(cx, argi, "empty file name");
        return NULL;
    }
    if (p[0] == '/')
        out = te_conf_strdup(cx, p);
    else {
        n = strlen(dir) + strlen(p) + 1;
        joined = malloc(n);
        if (joined != NULL)
            snprintf(joined, n, "%s%s", dir, p);
        out = joined != NULL ? te_conf_strdup(cx, joined) : NULL;
        free(joined);
    }
    if (out == NULL)
        te_conf_error(cx, argi, "out of memory");
    return out;
}

/* A context to try settings on; the real ones are made in finish. */
static SSL_CTX *scratch_ctx(te_conf_ctx *cx)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        ERR_clear_error();
        te_conf_error(cx, 0, "cannot create a TLS context");
    }
    return ctx;
}

/*
 * Calls check(ctx, name) for each name of the colon-separated list s;
 * the first refused is reported at argument 1 as "unknown <what>". 0,
 * or -1 after the error.
 */
static int check_list(te_conf_ctx *cx, SSL_CTX *ctx, const char *s,
                      const char *what, int (*check)(SSL_CTX *, const char *))
{
    char name[LIST_NAME_MAX + 1];
    const char *p = s, *end;
    size_t n;

    for (;;) {
        end = strchr(p, ':');
        n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            return te_conf_error(cx, 1, "empty name in \"%s\"", s);
        if (n > LIST_NAME_MAX)
            return te_conf_error(cx, 1, "unknown %s \"%.*s\"", what, (int)n, p);
        memcpy(name, p, n);
        name[n] = '\0';
        if (!check(ctx, name)) {
            ERR_clear_error();
            return te_conf_error(cx, 1, "unknown %s \"%s\"", what, name);
        }
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

/* ---- setters ---- */

static int set_tls(te_conf_ctx *cx, void *mconf, unsigned argc,
                   const char *const *argv)
{
    te_tls_conf *tc = mconf;

    (void)argc;
    (void)argv;
    if (tc->block)
        return te_conf_error(cx, 0, "duplicate directive \"tls\"");
    tc->block = true;
    te_conf_where_arg(cx, 0, &tc->at);
    return 0;
}

/* protocols TLSv1.2 [TLSv1.3]: nothing below TLS 1.2 is ever allowed. */
static int set_protocols(te_conf_ctx *cx, void *mconf, unsigned argc,
                         const char *const *argv)
{
    static const char *const old[] = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.0",
                                      "TLSv1.1"};
    te_tls_conf *tc = mconf;
    unsigned bits = 0, bit;

    if (once(cx, tc, SEEN_PROTOCOLS, "protocols") < 0)
        return -1;
    for (unsigned i = 1; i < argc; i++) {
        for (size_t j = 0; j < sizeof(old) / sizeof(old[0]); j++)
            if (strcmp(argv[i], old[j]) == 0)
                return te_conf_error(cx, i, "\"%s\" is below TLS 1.2: refused",
                                     argv[i]);
        if (strcmp(argv[i], "TLSv1.2") == 0)
            bit = PROTO_12;
        else if (strcmp(argv[i], "TLSv1.3") == 0)
            bit = PROTO_13;
        else
            return te_conf_error(cx, i,
                                 "unknown protocol \"%s\" (TLSv1.2 or "
                                 "TLSv1.3)",
                                 argv[i]);
        if (bits & bit)
            return te_conf_error(cx, i, "duplicate protocol \"%s\"", argv[i]);
        bits |= bit;
    }
    tc->protocols = bits;
    return 0;
}

/*
 * ciphers LIST: the TLS 1.2 suites it yields (OpenSSL's cipher-string
 * syntax) must all be ECDHE (forward secrecy), AEAD, and authenticated
 * by a certificate; a string that yields none is refused too.
 */
static int set_ciphers(te_conf_ctx *cx, void *mconf, unsigned argc,
                       const char *const *argv)
{
    te_tls_conf *tc = mconf;
    STACK_OF(SSL_CIPHER) * sk;
    SSL_CTX *ctx;
    int rc = -1, n;

    (void)argc;
    if (once(cx, tc, SEEN_CIPHERS, "ciphers") < 0 ||
        (ctx = scratch_ctx(cx)) == NULL)
        return -1;
    /* Without TLS 1.3 suites the list holds only what the string says. */
    if (!SSL_CTX_set_ciphersuites(ctx, "") ||
        !SSL_CTX_set_cipher_list(ctx, argv[1]) ||
        (sk = SSL_CTX_get_ciphers(ctx)) == NULL ||
        (n = sk_SSL_CIPHER_num(sk)) == 0) {
        ERR_clear_error();
        te_conf_error(cx, 1, "\"%s\" yields no TLS 1.2 cipher", argv[1]);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        const char *name = SSL_CIPHER_get_name(c);
        int auth = SSL_CIPHER_get_auth_nid(c);

        if (SSL_CIPHER_get_kx_nid(c) != NID_kx_ecdhe) {
            te_conf_error(cx, 1,
                          "cipher %s has no ECDHE key exchange (no forward "
                          "secrecy): refused",
                          name);
            goto out;
        }
        if (!SSL_CIPHER_is_aead(c)) {
            te_conf_error(cx, 1, "cipher %s is not AEAD: refused", name);
            goto out;
        }
        if (auth != NID_auth_rsa && auth != NID_auth_ecdsa) {
            te_conf_error(cx, 1,
                          "cipher %s is not authenticated by a "
                          "certificate: refused",
                          name);
            goto out;
        }
    }
    tc->ciphers = te_conf_strdup(cx, argv[1]);
    rc = tc->ciphers != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
out:
    SSL_CTX_free(ctx);
    return rc;
}

/* Does ctx, its TLS 1.3 suites set to name alone, have one? (OpenSSL
 * skips unknown names silently.) */
static int known_suite(SSL_CTX *ctx, const char *name)
{
    STACK_OF(SSL_CIPHER) * sk;
    int n = 0;

    if (!SSL_CTX_set_ciphersuites(ctx, name) ||
        (sk = SSL_CTX_get_ciphers(ctx)) == NULL)
        return 0;
    for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
        if (SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(sk, i)) == NID_kx_any)
            n++;
    return n == 1;
}

/* ciphersuites LIST: TLS 1.3 suites, all AEAD with (EC)DHE by design;
 * each name must be one OpenSSL knows. */
static int set_ciphersuites(te_conf_ctx *cx, void *mconf, unsigned argc,
                            const char *const *argv)
{
    te_tls_conf *tc = mconf;
    SSL_CTX *ctx;
    int rc;

    (void)argc;
    if (once(cx, tc, SEEN_SUITES, "ciphersuites") < 0 ||
        (ctx = scratch_ctx(cx)) == NULL)
        return -1;
    rc = check_list(cx, ctx, argv[1], "TLS 1.3 cipher suite", known_suite);
    SSL_CTX_free(ctx);
    if (rc < 0)
        return -1;
    tc->ciphersuites = te_conf_strdup(cx, argv[1]);
    return tc->ciphersuites != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
}

static int known_group(SSL_CTX *ctx, const char *name)
{
    return SSL_CTX_set1_groups_list(ctx, name);
}

/* groups LIST: key-exchange groups, in the server's order. */
static int set_groups(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    te_tls_conf *tc = mconf;
    SSL_CTX *ctx;
    int rc;

    (void)argc;
    if (once(cx, tc, SEEN_GROUPS, "groups") < 0 ||
        (ctx = scratch_ctx(cx)) == NULL)
        return -1;
    rc = check_list(cx, ctx, argv[1], "group", known_group);
    SSL_CTX_free(ctx);
    if (rc < 0)
        return -1;
    tc->groups = te_conf_strdup(cx, argv[1]);
    return tc->groups != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
}

static int set_session_tickets(te_conf_ctx *cx, void *mconf, unsigned argc,
                               const char *const *argv)
{
    te_tls_conf *tc = mconf;

    (void)argc;
    if (once(cx, tc, SEEN_TICKETS, "session_tickets") < 0)
        return -1;
    if (strcmp(argv[1], "on") == 0)
        tc->tickets = 1;
    else if (strcmp(argv[1], "off") == 0)
        tc->tickets = 0;
    else
        return te_conf_error(cx, 1,
                             "\"session_tickets\" takes on or off, not "
                             "\"%s\"",
                             argv[1]);
    return 0;
}

/* Reads path whole into buf if it holds exactly len bytes. 0, or -1
 * after the error (at argument argi; what names the file's role). */
static int read_exact(te_conf_ctx *cx, unsigned argi, const char *what,
                      const char *path, unsigned char *buf, size_t len)
{
    struct stat st;
    ssize_t got;
    int fd, e;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return te_conf_error(cx, argi, "cannot read %s \"%s\": %s", what, path,
                             strerror(e));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size != (off_t)len) {
        close(fd);
        return te_conf_error(cx, argi,
                             "%s \"%s\" must be exactly %zu bytes "
                             "(openssl rand %zu)",
                             what, path, len, len);
    }
    got = read(fd, buf, len);
    e = errno;
    close(fd);
    if (got != (ssize_t)len)
        return te_conf_error(cx, argi, "cannot read %s \"%s\": %s", what, path,
                             got < 0 ? strerror(e) : "short read");
    return 0;
}

/* ticket_key FILE: repeatable; the first encrypts, the others only
 * decrypt, so a fleet can roll a new key out before using it. */
static int set_ticket_key(te_conf_ctx *cx, void *mconf, unsigned argc,
                          const char *const *argv)
{
    te_tls_conf *tc = mconf;
    unsigned char *key;
    const char *path;

    (void)argc;
    if (tc->nkeys == TE_TLS_TICKET_KEYS_MAX)
        return te_conf_error(cx, 0, "more than %d ticket_key files",
                             TE_TLS_TICKET_KEYS_MAX);
    path = file_path(cx, 1, argv[1]);
    if (path == NULL)
        return -1;
    key = tc->keys[tc->nkeys];
    if (read_exact(cx, 1, "ticket key file", path, key, TE_TLS_TICKET_KEY_LEN) <
        0) {
        OPENSSL_cleanse(key, TE_TLS_TICKET_KEY_LEN);
        return -1;
    }
    for (unsigned i = 0; i < tc->nkeys; i++) {
        if (memcmp(tc->keys[i], key, 16) == 0) {
            OPENSSL_cleanse(key, TE_TLS_TICKET_KEY_LEN);
            return te_conf_error(cx, 1,
                                 "ticket key \"%s\" has the same name (first "
                                 "16 bytes) as \"%s\"",
                                 path, tc->key_paths[i]);
        }
    }
    tc->key_paths[tc->nkeys++] = path;
    return 0;
}

static int set_ticket_rotate(te_conf_ctx *cx, void *mconf, unsigned argc,
                             const char *const *argv)
{
    te_tls_conf *tc = mconf;
    unsigned ms;

    (void)argc;
    if (once(cx, tc, SEEN_ROTATE, "ticket_rotate") < 0 ||
        te_conf_duration(cx, 1, argv[1], &ms) < 0)
        return -1;
    if (ms < ROTATE_MIN || ms > ROTATE_MAX)
        return te_conf_error(cx, 1,
                             "\"ticket_rotate\" must be between 1s and 168h");
    tc->rotate = ms;
    return 0;
}

/* hsts VALUE: the Strict-Transport-Security field value, sent as it is,
 * so it must be a valid field value with its required max-age. */
static int set_hsts(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    te_tls_conf *tc = mconf;
    const char *v = argv[1];

    (void)argc;
    if (once(cx, tc, SEEN_HSTS, "hsts") < 0)
        return -1;
    for (const char *p = v; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return te_conf_error(cx, 1, "\"hsts\" holds a control character");
    /* RFC 6797 6.1.1: max-age is required. */
    for (const char *p = v;; p++) {
        if (*p == '\0')
            return te_conf_error(cx, 1,
                                 "\"hsts\" needs max-age=SECONDS "
                                 "(RFC 6797 6.1.1)");
        if (strncasecmp(p, "max-age=", 8) == 0)
            break;
    }
    tc->hsts = te_conf_strdup(cx, v);
    return tc->hsts != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
}

static int set_handshake_timeout(te_conf_ctx *cx, void *mconf, unsigned argc,
                                 const char *const *argv)
{
    te_tls_conf *tc = mconf;
    unsigned ms;

    (void)argc;
    if (once(cx, tc, SEEN_TIMEOUT, "handshake_timeout") < 0 ||
        te_conf_duration(cx, 1, argv[1], &ms) < 0)
        return -1;
    if (ms == 0)
        return te_conf_error(cx, 1, "\"handshake_timeout\" must not be 0");
    tc->handshake_timeout = ms;
    return 0;
}

/* certificate CRT KEY: repeatable; loaded and checked now. */
static int set_certificate(te_conf_ctx *cx, void *mconf, unsigned argc,
                           const char *const *argv)
{
    te_tls_conf *tc = mconf;
    struct te_tls_cert c = {0}, *grown;

    (void)argc;
    c.crt = file_path(cx, 1, argv[1]);
    if (c.crt == NULL)
        return -1;
    c.key = file_path(cx, 2, argv[2]);
    if (c.key == NULL)
        return -1;
    te_conf_where_arg(cx, 0, &c.at);
    if (te_tls_cert_load(cx, &c) < 0)
        goto fail;
    grown = realloc(tc->certs, (tc->ncerts + 1) * sizeof(*grown));
    if (grown == NULL) {
        te_conf_error(cx, 0, "out of memory");
        goto fail;
    }
    tc->certs = grown;
    tc->certs[tc->ncerts++] = c;
    return 0;
fail:
    te_tls_cert_clear(&c);
    return -1;
}

static const te_directive tls_block[] = {
    {"certificate", 2, 2, 0, set_certificate, NULL},
    {"protocols", 1, 8, 0, set_protocols, NULL},
    {"ciphers", 1, 1, 0, set_ciphers, NULL},
    {"ciphersuites", 1, 1, 0, set_ciphersuites, NULL},
    {"groups", 1, 1, 0, set_groups, NULL},
    {"session_tickets", 1, 1, 0, set_session_tickets, NULL},
    {"ticket_key", 1, 1, 0, set_ticket_key, NULL},
    {"ticket_rotate", 1, 1, 0, set_ticket_rotate, NULL},
    {"hsts", 1, 1, 0, set_hsts, NULL},
    {"handshake_timeout", 1, 1, 0, set_handshake_timeout, NULL},
    {NULL, 0, 0, 0, NULL, NULL}};

const te_directive te_tls_directives[] = {
    {"tls", 0, 0, TE_DIR_TOP | TE_DIR_BLOCK, set_tls, tls_block},
    {NULL, 0, 0, 0, NULL, NULL}};

/* ---- building ---- */

/* Certificates that serve the same names share a context: at most one
 * RSA and one ECDSA. */
struct group {
    const struct te_tls_cert *rsa, *ec;
    SSL_CTX *ctx;
};

static int same_names(const struct te_tls_cert *a, const struct te_tls_cert *b)
{
    if (a->nnames != b->nnames)
        return 0;
    for (unsigned i = 0; i < a->nnames; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return 0;
    return 1;
}

/* Sorts the certificates into groups (each in the order of its first
 * certificate). 0, or -1 after the error at the certificate at fault. */
static int group_certs(te_conf_ctx *cx, const te_tls_conf *tc, struct group *g,
                       unsigned *ng)
{
    *ng = 0;
    for (unsigned i = 0; i < tc->ncerts; i++) {
        const struct te_tls_cert *c = &tc->certs[i], **slot, *other;
        unsigned k;

        for (k = 0; k < *ng; k++) {
            other = g[k].rsa != NULL ? g[k].rsa : g[k].ec;
            if (same_names(c, other))
                break;
        }
        if (k == *ng)
            g[(*ng)++] = (struct group){NULL, NULL, NULL};
        slot = c->rsa ? &g[k].rsa : &g[k].ec;
        if (*slot != NULL) {
            te_conf_at(cx, &c->at);
            return te_conf_error(cx, 0,
                                 "a second %s certificate for the names "
                                 "of the one at %s:%u:%u",
                                 c->rsa ? "RSA" : "ECDSA", (*slot)->at.file,
                                 (*slot)->at.line, (*slot)->at.col);
        }
        *slot = c;
    }
    return 0;
}

/* Puts c into ctx, and its names into t. */
static int use_cert(te_conf_ctx *cx, te_tls *t, SSL_CTX *ctx,
                    const struct te_tls_cert *c)
{
    unsigned long e;

    if (c == NULL)
        return 0;
    if (SSL_CTX_use_cert_and_key(ctx, c->leaf, c->pkey, c->chain, 1) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        e = ERR_peek_last_error();
        te_conf_at(cx, &c->at);
        te_conf_error(cx, 0, "cannot use certificate \"%s\": %s", c->crt,
                      e != 0 && ERR_reason_error_string(e) != NULL
                          ? ERR_reason_error_string(e)
                          : "unknown error");
        ERR_clear_error();
        return -1;
    }
    for (unsigned i = 0; i < c->nnames; i++)
        if (te_tls_add_name(t, c->names[i], ctx) < 0)
            return te_conf_error(cx, 0, "out of memory");
    return 0;
}

static te_tls *build(te_conf_ctx *cx, const te_config *cf,
                     const te_tls_conf *tc, struct group *g, unsigned ng)
{
    char err[256];
    te_tls_policy pol = {
        .min_version =
            tc->protocols & PROTO_12 ? TLS1_2_VERSION : TLS1_3_VERSION,
        .max_version =
            tc->protocols & PROTO_13 ? TLS1_3_VERSION : TLS1_2_VERSION,
        .ciphers = tc->ciphers,
        .ciphersuites = tc->ciphersuites,
        .groups = tc->groups,
        .tickets = tc->tickets,
        .ticket_rotate = tc->nkeys > 0 ? 0 : tc->rotate,
        .http2 = cf->http2,
        .hsts = tc->hsts,
        .handshake_timeout = tc->handshake_timeout};
    te_tls *t = te_tls_new(&pol, err, sizeof(err));

    if (t == NULL) {
        te_conf_error(cx, 0, "%s", err);
        return NULL;
    }
    for (unsigned k = 0; k < ng; k++) {
        const struct te_tls_cert *c = g[k].rsa != NULL ? g[k].rsa : g[k].ec;

        g[k].ctx = te_tls_add_ctx(t, &pol, err, sizeof(err));
        if (g[k].ctx == NULL ||
            te_tls_ctx_set_names_id(g[k].ctx, (const char *const *)c->names,
                                    c->nnames) < 0) {
            if (g[k].ctx != NULL)
                snprintf(err, sizeof(err),
                         "cannot set the session id "
                         "context");
            te_conf_error(cx, 0, "%s", err);
            goto fail;
        }
    }
    /* Names in the order of the certificates: the first one that names
     * a host serves it. */
    for (unsigned i = 0; i < tc->ncerts; i++) {
        const struct te_tls_cert *c = &tc->certs[i];

        for (unsigned k = 0; k < ng; k++)
            if ((g[k].rsa == c || g[k].ec == c) &&
                use_cert(cx, t, g[k].ctx, c) < 0)
                goto fail;
    }
    for (unsigned i = 0; i < tc->nkeys; i++)
        te_tls_add_ticket_key(t, tc->keys[i]);
    te_tls_seal(t);
    return t;
fail:
    te_tls_unref(t);
    return NULL;
}

int te_tls_conf_finish(te_conf_ctx *cx, te_config *cf)
{
    const te_tls_conf *tc = cf->tls_conf;
    const te_listen *tls_listen = NULL;
    struct group *g;
    unsigned ng;
    te_tls *t;

    for (unsigned i = 0; i < cf->nlistens && tls_listen == NULL; i++)
        if (cf->listens[i].tls)
            tls_listen = &cf->listens[i];
    if (!tc->block) {
        if (tls_listen != NULL)
            return te_conf_error(cx, 0,
                                 "listen %s has tls but there is no tls "
                                 "block",
                                 tls_listen->name);
        return 0;
    }
    te_conf_at(cx, &tc->at);
    if (tls_listen == NULL)
        return te_conf_error(cx, 0,
                             "tls block but no listener has tls (listen "
                             "ADDR tls;)");
    if (tc->ncerts == 0)
        return te_conf_error(cx, 0, "tls block without a certificate");

    g = calloc(tc->ncerts, sizeof(*g));
    if (g == NULL)
        return te_conf_error(cx, 0, "out of memory");
    t = group_certs(cx, tc, g, &ng) < 0 ? NULL : build(cx, cf, tc, g, ng);
    free(g);
    if (t == NULL)
        return -1;
    cf->tls = t;
    return 0;
}
