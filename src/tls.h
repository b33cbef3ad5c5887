/*
 * tls.h: TLS termination: the `tls { }` block, the SSL_CTXs built from
 * it, session-ticket keys, and the counters of the handshakes.
 *
 * Policy (LIBRARIES.md 2): TLS 1.2 and 1.3 only; TLS 1.2 suites ECDHE
 * with AEAD only; groups X25519, P-256, P-384; server preference; no
 * renegotiation; SSL_MODE_RELEASE_BUFFERS; no server session cache;
 * tickets through our own key callback. A config asking for less is
 * refused at load, with the place of the directive.
 *
 * A te_tls is what one load of the config built: one SSL_CTX per group
 * of certificates that serve the same names (RSA and ECDSA side by
 * side), the SNI table (exact names and wildcards) and the default
 * context. It never changes once built; a reload (SIGHUP) builds a new
 * one and each worker swaps its pointer. It is reference counted with
 * atomics: the config snapshot holds one reference, each worker one,
 * and each handshake one until it ends (the SNI callback reads it).
 *
 * Ticket keys are process-wide, not per te_tls: a reload that only
 * changes certificates must not invalidate the tickets clients hold.
 * The main thread rotates them; handshakes on the workers read them
 * without a lock (see tls.c).
 */
#ifndef TE_TLS_H
#define TE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config.h"
#include "tenantedge/module.h"

typedef struct te_tls_conf te_tls_conf;
typedef struct te_tls te_tls;

/* ---- config (tls_conf.c) ---- */

/* The top-level `tls` block directive, for config.c's parse_top_module;
 * its mconf is te_config.tls_conf. NULL-named end. */
extern const te_directive te_tls_directives[];

/* A conf with the defaults; NULL when out of memory. */
te_tls_conf *te_tls_conf_new(void);
void te_tls_conf_free(te_tls_conf *tc);

/*
 * Once the whole file is read: a listener with `tls` needs a tls block
 * with at least one certificate; each certificate and key is loaded and
 * checked (the key matches, the names are read) and cf->tls is built.
 * Errors go through te_conf_error at the place of the directive at
 * fault. 0, or -1.
 */
int te_tls_conf_finish(te_conf_ctx *cx, te_config *cf);

/* ---- the built contexts (tls.c) ---- */

te_tls *te_tls_ref(te_tls *t);
void te_tls_unref(te_tls *t); /* NULL is a no-op */

/*
 * A server SSL for an accepted socket, on t's default context (the SNI
 * callback switches it) with a reference on t held by the SSL until it
 * is freed. NULL when out of memory (logged).
 */
SSL *te_tls_new_ssl(te_tls *t, int fd);

/* Did ALPN select h2 on this (handshaken) connection? */
int te_tls_is_h2(SSL *ssl);

/* The Strict-Transport-Security value configured, or NULL. */
const char *te_tls_hsts(const te_tls *t);

/* The handshake timeout, milliseconds (tls { handshake_timeout }). */
unsigned te_tls_handshake_timeout(const te_tls *t);

/* ---- session-ticket keys (tls.c) ---- */

/*
 * Install the ticket keys of cf: read from the key files of its tls
 * block when there are some (the first encrypts, the others only
 * decrypt), else generated: generated keys already in use stay (a
 * reload keeps clients' tickets good), and a generated key replacing
 * file keys leaves the old first one decrypting for a period. Nothing
 * without TLS or with session_tickets off. Main thread, at start and on
 * reload. 0, or -1 with a message in err (the keys in use stay).
 */
int te_tls_tickets_load(const te_config *cf, char *err, size_t errlen);

/* The rotation period in milliseconds; 0 when keys come from files, when
 * session_tickets is off, or without TLS. */
unsigned te_tls_tickets_period(const te_config *cf);

/* A new generated key becomes current, the current one decrypt-only,
 * the one before it is dropped. Main thread, on its timer. */
void te_tls_tickets_rotate(void);

/* ---- counters (process-wide, relaxed atomics) ---- */

typedef struct te_tls_stats {
    uint64_t handshakes;        /* completed */
    uint64_t handshake_failures;
    uint64_t resumed;           /* by ticket */
} te_tls_stats;

void te_tls_count(int ok, SSL *ssl);
void te_tls_stats_get(te_tls_stats *out);

/* At exit, after the last te_tls is gone: frees what te_tls_new fetched
 * once for the whole process (the ticket cipher and MAC). */
void te_tls_cleanup(void);

/* ---- building a te_tls: tls_conf.c drives, tls.c owns (tls.c) ---- */

/* An 80-byte ticket key file: 16 bytes of name, 32 of HMAC-SHA256 key,
 * 32 of AES-256 key (the layout nginx reads; `openssl rand 80`). */
#define TE_TLS_TICKET_KEY_LEN 80
#define TE_TLS_TICKET_KEYS_MAX 8

/* What every SSL_CTX of a te_tls gets; strings are borrowed. */
typedef struct te_tls_policy {
    int min_version, max_version; /* TLS1_2_VERSION, TLS1_3_VERSION */
    const char *ciphers;          /* TLS 1.2 suites, already checked */
    const char *ciphersuites;     /* TLS 1.3; NULL: OpenSSL's */
    const char *groups;
    int tickets;                  /* session_tickets on */
    unsigned ticket_rotate;       /* ms, period of generated keys */
    int http2;                    /* ALPN may select h2 */
    const char *hsts;             /* copied; NULL: none */
    unsigned handshake_timeout;   /* ms */
} te_tls_policy;

/* An empty te_tls with one reference, after the process-wide set-up
 * (done once). NULL with a message in err. */
te_tls *te_tls_new(const te_tls_policy *pol, char *err, size_t errlen);

/* A new SSL_CTX under pol with every callback, owned by t; the first one
 * added is the default for clients without SNI or with an unknown name.
 * NULL with a message in err (OpenSSL's reason). */
/*
 * The session id context of ctx from the names it serves (a digest of
 * them): a session or ticket made under one certificate's names never
 * resumes under another's (OpenSSL then does a full handshake), and
 * the same names after a reload keep resuming. 0, or -1.
 */
int te_tls_ctx_set_names_id(SSL_CTX *ctx, const char *const *names,
                            unsigned n);

SSL_CTX *te_tls_add_ctx(te_tls *t, const te_tls_policy *pol, char *err,
                        size_t errlen);

/* Name (lowercase; "*.example.test" for a wildcard of one label) served
 * by ctx. A name added twice keeps its first context. 0, or -1 when out
 * of memory. */
int te_tls_add_name(te_tls *t, const char *name, SSL_CTX *ctx);

/* A ticket key of the config (the first added encrypts). 0, or -1 when
 * more than TE_TLS_TICKET_KEYS_MAX. */
int te_tls_add_ticket_key(te_tls *t, const unsigned char *key);

/* Done adding: the name tables are sorted for lookups. */
void te_tls_seal(te_tls *t);

/* The context for a server name (lowercase, no trailing dot): exact
 * name, then the wildcard of its parent, then the default. The client
 * hello callback uses it; so do the tests. */
SSL_CTX *te_tls_sni_ctx(const te_tls *t, const char *name);

/* How many SSL_CTXs t holds (tests). */
unsigned te_tls_nctx(const te_tls *t);

/* A copy of ticket key i of those in use (0 encrypts, the others only
 * decrypt), read as a handshake reads it. 0, or -1 when there is none
 * (tests). */
int te_tls_ticket_key(unsigned i, unsigned char *out);

#endif
