/*
 * jwt.h (jwt module, private): what the files of the jwt module share.
 *
 * The module verifies bearer JWTs on OpenSSL, never with libjwt (see
 * LIBRARIES.md, section 1): libjwt 1.10 takes the algorithm from the
 * token and parses the key PEM on every call. The pieces:
 *   b64url.c   strict base64url (RFC 7515 2), canonical tokens
 *   jwks.c     JWKS file + optional HMAC secret -> a key set of
 *              EVP_PKEYs built once per load, each pinned to one alg
 *   reload.c   watches the files, builds a new set off the hot path,
 *              hands it to the workers
 *   verify.c   token -> verified payload (header rules, signature)
 *   claims.c   payload -> identity (exp, nbf, iat, iss, aud, sub...)
 *   cache.c    per-worker cache of verified tokens by SHA-256
 *   conf.c     directives and their checks
 *   jwt.c      the module: identify and policy handlers
 */
#ifndef TE_JWT_H
#define TE_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <tenantedge/module.h>

/* Limits of what the module reads; the configurable ones have their
 * defaults in conf.c. */
#define TE_JWT_MAX_KEYS       64          /* keys in one set */
#define TE_JWT_MAX_KID        256         /* bytes of a kid */
#define TE_JWT_MAX_FILE       (1u << 20)  /* JWKS or secret file */
#define TE_JWT_MAX_TOKEN      (64u << 10) /* max_token_size ceiling */
#define TE_JWT_MIN_RSA_BITS   2048        /* RFC 7518 3.3 */
#define TE_JWT_MAX_RSA_BITS   16384
#define TE_JWT_MIN_HMAC_BYTES 32   /* RFC 7518 3.2: >= hash size */
#define TE_JWT_MAX_SUBJECT    256  /* sub, tenant: header-safe */
#define TE_JWT_MAX_SCOPES     1024 /* the scope claim */
#define TE_JWT_DIGEST_LEN     32   /* SHA-256: the cache key */

/* ------------------------------------------------------------- base64 */

/* Decodes base64url without padding (RFC 7515 2, RFC 4648 5) into out,
 * which holds at least te_b64url_max(len) bytes. Refuses any byte
 * outside the alphabet, '=' included, a length of 4k+1 and non-zero
 * trailing bits, so that one byte string has exactly one encoding.
 * Returns the decoded length, or -1. */
ssize_t te_b64url_decode(const char *in, size_t len, unsigned char *out);
#define te_b64url_max(len) (((len) / 4) * 3 + 2)

/* ---------------------------------------------------------------- keys */

/* The algorithms the module verifies; a key allows exactly one. */
typedef enum te_jwt_alg {
    TE_JWT_RS256 = 0,
    TE_JWT_RS384,
    TE_JWT_RS512,
    TE_JWT_ES256,
    TE_JWT_ES384,
    TE_JWT_ES512,
    TE_JWT_HS256,
    TE_JWT_ALG_COUNT
} te_jwt_alg;

/* "RS256"... as written in a JOSE header; NULL for an unknown value. */
const char *te_jwt_alg_name(te_jwt_alg alg);
/* Exact, case-sensitive (RFC 7515 4.1.1); -1 when unsupported. */
int te_jwt_alg_parse(const char *name);

typedef struct te_jwt_key {
    char *kid;             /* NULL when the JWK has none (a set of one) */
    te_jwt_alg alg;        /* pinned: the only alg a token may name */
    EVP_PKEY *pkey;        /* RSA or EC public key; NULL for HMAC */
    unsigned char *secret; /* HS256 key bytes; NULL otherwise */
    size_t secret_len;
    size_t sig_len; /* exact signature length in bytes */
} te_jwt_key;

/*
 * A key set: read-only once built and shared by every worker, which
 * each hold a reference (atomic). Rotation builds a new set and swaps
 * it; a set is never changed in place.
 */
typedef struct te_jwt_keys {
    atomic_uint refs;
    te_jwt_key *keys;
    unsigned nkeys;
    unsigned skipped; /* JWKs of a kind or use we do not verify with */
} te_jwt_keys;

/*
 * Builds a key set from JWKS text (may be NULL: none) and an HMAC
 * secret (may be NULL) with its kid (may be NULL). name says where the
 * text came from, for messages. NULL with the reason in err when the
 * set is unusable: bad JSON, a weak or malformed key, private material,
 * a duplicate kid, a key without kid in a set of several, no key.
 */
te_jwt_keys *te_jwt_keys_build(const char *name, const char *jwks,
                               size_t jwks_len, const unsigned char *secret,
                               size_t secret_len, const char *secret_kid,
                               char *err, size_t errlen);

/* The key named kid (kid NULL: the only key of a set of one), or NULL:
 * no fallback to trying other keys (RFC 8725 3.1). */
const te_jwt_key *te_jwt_keys_find(const te_jwt_keys *ks, const char *kid);

te_jwt_keys *te_jwt_keys_ref(te_jwt_keys *ks);
void te_jwt_keys_unref(te_jwt_keys *ks);

/* Reads a whole file of at most TE_JWT_MAX_FILE bytes (NUL added after
 * them) and the identity of what was read (for reload). NULL with the
 * reason in err. The caller frees. */
typedef struct te_jwt_file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} te_jwt_file_id;

char *te_jwt_read_file(const char *path, size_t *len, te_jwt_file_id *id,
                       char *err, size_t errlen);

/* -------------------------------------------------------------- reload */

/*
 * Where a configuration's keys come from, and the current set. One per
 * config snapshot, shared by its workers: the only mutable thing of the
 * module's conf, so it lives behind a pointer. A watcher thread (started
 * by the first worker) stats the files once a second, builds a new set
 * when one changed and publishes it; workers compare gen on each
 * request (one atomic load) and take the new set when it moved.
 */
typedef struct te_jwt_source te_jwt_source;

/* Loads the files once (the configuration check): NULL with the reason
 * in err. */
te_jwt_source *te_jwt_source_new(const char *jwks_path, const char *secret_path,
                                 const char *secret_kid, char *err,
                                 size_t errlen);
/* Stops the watcher (if started) and drops the set. */
void te_jwt_source_free(te_jwt_source *src);
/* Starts the watcher once; later calls do nothing. 0 or -1. */
int te_jwt_source_watch(te_jwt_source *src, const te_module *m);
/* The generation of the current set (changes when a new one lands). */
unsigned long te_jwt_source_gen(te_jwt_source *src);
/* A new reference to the current set and its generation. */
te_jwt_keys *te_jwt_source_get(te_jwt_source *src, unsigned long *gen);
/* Checks the files now (the watcher's step; tests call it directly):
 * 1 a new set was published, 0 nothing changed, -1 a changed file was
 * refused (the old set stays; the reason in err). */
int te_jwt_source_check(te_jwt_source *src, char *err, size_t errlen);

/* -------------------------------------------------------------- verify */

typedef struct te_jwt_limits {
    size_t max_size;    /* the whole token, bytes */
    unsigned max_depth; /* nesting of header and payload JSON */
} te_jwt_limits;

/* Per worker: digest and MAC contexts, pre-fetched algorithms, scratch
 * space for max_size tokens. Never shared between threads. */
typedef struct te_jwt_verifier te_jwt_verifier;

te_jwt_verifier *te_jwt_verifier_new(size_t max_size);
void te_jwt_verifier_free(te_jwt_verifier *v);

/*
 * Verifies the compact JWS tok (len bytes, not NUL-terminated) against
 * ks: size, form, header rules, key and algorithm, signature, then the
 * payload's JSON. Returns NULL and *payload (a new reference) when the
 * signature is good; otherwise the reason, a static string for logs
 * (never for the client). Claims are not checked here.
 */
const char *te_jwt_verify(te_jwt_verifier *v, const te_jwt_keys *ks,
                          const te_jwt_limits *lim, const char *tok, size_t len,
                          json_t **payload);

/* SHA-256 of data with the verifier's pre-fetched digest. 0 or -1. */
int te_jwt_digest(te_jwt_verifier *v, const void *data, size_t len,
                  unsigned char out[TE_JWT_DIGEST_LEN]);

/* 1 when the JSON text's nesting never goes deeper than max (strings
 * skipped), 0 otherwise; run before jansson, whose parser recurses. */
int te_jwt_json_depth_ok(const unsigned char *s, size_t len, unsigned max);

/* -------------------------------------------------------------- claims */

typedef struct te_jwt_claim_rules {
    const char *const *issuers; /* user tokens */
    unsigned nissuers;
    const char *const *service_issuers; /* service tokens */
    unsigned nservice_issuers;
    const char *audience;
    const char *tenant_claim;
    unsigned leeway; /* seconds */
} te_jwt_claim_rules;

/* Who a verified token speaks for. Strings borrow the payload (or the
 * cache entry) they came from. */
typedef struct te_jwt_identity {
    te_principal_kind kind;
    const char *subject;
    const char *tenant; /* NULL when the token has no tenant claim */
    const char *scopes; /* "" when none */
    const char *issuer;
    double exp;
} te_jwt_identity;

/* Checks the registered claims of a verified payload at time now
 * (RFC 7519 4.1, RFC 8725 3.8/3.9) and fills id. NULL, or the reason
 * (static, for logs). */
const char *te_jwt_claims_check(const te_jwt_claim_rules *rules,
                                json_t *payload, double now,
                                te_jwt_identity *id);

/* 1 when the space-separated list <has> holds <word> (RFC 6749 3.3). */
int te_jwt_scope_has(const char *has, const char *word);

/* --------------------------------------------------------------- cache */

/* Per worker: verified tokens by SHA-256 of the whole token, at most
 * cap entries (least recently used goes first), each dropped once its
 * token expires. */
typedef struct te_jwt_cache te_jwt_cache;

te_jwt_cache *te_jwt_cache_new(unsigned cap);
void te_jwt_cache_free(te_jwt_cache *c);
/* Drops every entry (the key set changed). */
void te_jwt_cache_clear(te_jwt_cache *c);
/* The identity of a cached, unexpired token (valid until the next call
 * on c), else NULL; an expired entry is dropped. */
const te_jwt_identity *te_jwt_cache_get(te_jwt_cache *c,
                                        const unsigned char *digest, double now,
                                        unsigned leeway);
/* Remembers id for the token of digest; 0, or -1 when not kept (too
 * large to be worth it, or out of memory: the token is just verified
 * again next time). */
int te_jwt_cache_put(te_jwt_cache *c, const unsigned char *digest,
                     const te_jwt_identity *id);
unsigned te_jwt_cache_count(const te_jwt_cache *c);

/* ---------------------------------------------------------- the module */

/* `scope PRODUCT SCOPE...;`: a request for the product needs them all. */
typedef struct te_jwt_scope_rule {
    const char *product;
    const char **scopes;
    unsigned nscopes;
} te_jwt_scope_rule;

/* `allow service NAME { methods ...; paths ...; }` */
typedef struct te_jwt_allow_rule {
    const char *service;
    const char **methods;
    unsigned nmethods;
    const char **paths; /* prefixes */
    unsigned npaths;
} te_jwt_allow_rule;

/* The module's conf: read-only once finish_conf returned, except src,
 * which is shared mutable state behind its own locks. */
typedef struct te_jwt_conf {
    const char *jwks;        /* resolved path, or NULL */
    const char *hmac_secret; /* resolved path, or NULL */
    const char *hmac_kid;
    const char **issuers;
    unsigned nissuers;
    const char **service_issuers;
    unsigned nservice_issuers;
    const char *audience;
    const char *tenant_claim;
    bool tenant_claim_set;
    unsigned leeway_ms;
    bool leeway_set;
    uint64_t max_token_size;
    bool max_token_size_set;
    unsigned max_depth;
    bool max_depth_set;
    unsigned cache;
    bool cache_set;
    te_jwt_scope_rule *scopes;
    unsigned nscopes;
    te_jwt_allow_rule *allows;
    unsigned nallows;
    bool headers_set;

    /* Derived by finish_conf. */
    te_jwt_claim_rules rules;
    te_jwt_limits limits;
    te_jwt_source *src;
} te_jwt_conf;

/* conf.c */
extern const te_directive te_jwt_directives[];
void *te_jwt_create_conf(void);
int te_jwt_finish_conf(te_conf_ctx *cx, void *mconf);
void te_jwt_free_conf(void *mconf);

/* jwt.c */
extern const te_module te_module_jwt;

#endif
