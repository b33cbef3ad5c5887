/*
 * tls.c: the SSL_CTXs one config load built, the callbacks every
 * handshake runs through (SNI, ALPN, session tickets), the process-wide
 * ticket keys and the handshake counters. tls_conf.c reads and checks
 * the `tls { }` block and builds a te_tls through the functions below;
 * see tls.h for the policy and the ownership of a te_tls.
 */
#include "tls.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"

/* Longest DNS name (RFC 1035 2.3.4). */
#define NAME_MAX_LEN 253

/* All contexts share it, so a ticket issued under one context resumes
 * on another once SNI has switched (OpenSSL compares it on resumption). */
static const unsigned char sid_ctx[] = "tenantedge";

struct sni_entry {
    char *name; /* exact name, or the parent of a "*." wildcard */
    SSL_CTX *ctx;
    unsigned order; /* insertion order: the first one wins */
};

struct te_tls {
    atomic_int refs;
    SSL_CTX **ctxs; /* ctxs[0] is the default */
    unsigned nctx;
    struct sni_entry *exact, *wild;
    unsigned nexact, nwild, norder;
    int http2;
    char *hsts;
    unsigned handshake_timeout;
    int tickets;
    unsigned ticket_rotate;
    unsigned char keys[TE_TLS_TICKET_KEYS_MAX][TE_TLS_TICKET_KEY_LEN];
    unsigned nkeys;
};

/* ---- process-wide set-up ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int ssl_idx = -1;          /* SSL ex_data: its te_tls */
static EVP_CIPHER *ticket_cipher; /* AES-256-CBC, fetched once */
static EVP_MAC *ticket_mac;       /* HMAC, fetched once */

/* SSL_free drops the SSL's reference on its te_tls here. */
static void ssl_free_tls(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                         long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    te_tls_unref(ptr);
}

/*
 * Explicit fetches, once: the implicit ones (EVP_aes_256_cbc()) look the
 * method up under a lock on every handshake (LIBRARIES.md 2). libssl
 * makes the ticket's EVP_MAC_CTX itself; fetching HMAC here checks at
 * start-up that the provider has it, and keeps it cached.
 */
static void init_global(void)
{
    ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_free_tls);
    ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    ticket_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

void te_tls_cleanup(void)
{
    EVP_CIPHER_free(ticket_cipher);
    EVP_MAC_free(ticket_mac);
    ticket_cipher = NULL;
    ticket_mac = NULL;
}

/* "what: <OpenSSL's reason>" into err; clears OpenSSL's error queue. */
static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

    snprintf(err, errlen, "%s: %s", what, why != NULL ? why : "unknown error");
    ERR_clear_error();
}

/* ---- references ---- */

te_tls *te_tls_ref(te_tls *t)
{
    if (t != NULL)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void te_tls_unref(te_tls *t)
{
    if (t == NULL ||
        atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* SSLs still using a context hold OpenSSL's own reference on it. */
    for (unsigned i = 0; i < t->nctx; i++)
        SSL_CTX_free(t->ctxs[i]);
    free(t->ctxs);
    for (unsigned i = 0; i < t->nexact; i++)
        free(t->exact[i].name);
    for (unsigned i = 0; i < t->nwild; i++)
        free(t->wild[i].name);
    free(t->exact);
    free(t->wild);
    free(t->hsts);
    OPENSSL_cleanse(t->keys, sizeof(t->keys));
    free(t);
}

/* ---- session-ticket keys ---- */

/*
 * Handshakes on every worker read the keys while the main thread
 * rotates them, and a handshake must never wait on a lock. The keys sit
 * in a ring of slots: key i of those in use (0 encrypts) is in slot
 * head - i. A writer (the main thread only) bumps the sequence to odd,
 * writes new keys into the slots after head, moves head and count, and
 * bumps it to even; a reader copies what it needs and starts again if
 * the sequence was odd or moved meanwhile (a seqlock). Slots are arrays
 * of relaxed atomics so that the racing copy is defined behaviour.
 */
#define RING_SLOTS (4 * TE_TLS_TICKET_KEYS_MAX)
#define KEY_WORDS  (TE_TLS_TICKET_KEY_LEN / 8)
#define NAME_WORDS 2 /* the 16-byte name */
/* A reader gives up (no ticket, or a full handshake) after this many
 * tries: only a writer stopped in the middle could cause it. */
#define READ_TRIES 1000

static _Atomic uint64_t ring[RING_SLOTS][KEY_WORDS];
static atomic_uint ring_seq;
static atomic_uint ring_head;
static atomic_uint ring_count;
/* Main thread only: the keys in use were generated (rotation applies),
 * not read from files. */
static int ring_generated;

/* Main thread: keys[0..n-1] become the keys in use, keys[0] encrypting.
 * n and the count in use are at most TE_TLS_TICKET_KEYS_MAX each and the
 * ring holds four times that, so the slots written are never ones in
 * use: a reader is disturbed only if the ring wraps under it. */
static void ring_publish(const unsigned char (*keys)[TE_TLS_TICKET_KEY_LEN],
                         unsigned n)
{
    unsigned seq = atomic_load_explicit(&ring_seq, memory_order_relaxed);
    unsigned head = atomic_load_explicit(&ring_head, memory_order_relaxed);

    atomic_store_explicit(&ring_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (unsigned i = 0; i < n; i++) {
        unsigned slot = (head + n - i) % RING_SLOTS;

        for (unsigned w = 0; w < KEY_WORDS; w++) {
            uint64_t v;

            memcpy(&v, keys[i] + 8 * w, 8);
            atomic_store_explicit(&ring[slot][w], v, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&ring_head, (head + n) % RING_SLOTS,
                          memory_order_relaxed);
    atomic_store_explicit(&ring_count, n, memory_order_relaxed);
    atomic_store_explicit(&ring_seq, seq + 2, memory_order_release);
}

/* Does the key in slot carry the 16-byte name nm? */
static int slot_named(unsigned slot, const uint64_t *nm)
{
    return atomic_load_explicit(&ring[slot][0], memory_order_relaxed) ==
               nm[0] &&
           atomic_load_explicit(&ring[slot][1], memory_order_relaxed) == nm[1];
}

/*
 * Any thread: copies the key in use at position want (name NULL), or
 * the one named name, into out. Returns its position (0 encrypts), -1
 * when there is none, -2 when no stable copy could be made.
 */
static int ring_read(const unsigned char *name, unsigned want,
                     unsigned char *out)
{
    uint64_t buf[KEY_WORDS], nm[NAME_WORDS] = {0, 0};

    if (name != NULL)
        memcpy(nm, name, sizeof(nm));
    for (unsigned tries = 0; tries < READ_TRIES; tries++) {
        unsigned seq, head, count, i, slot;
        int found = -1;

        seq = atomic_load_explicit(&ring_seq, memory_order_acquire);
        if (seq & 1) {
            sched_yield();
            continue;
        }
        head = atomic_load_explicit(&ring_head, memory_order_relaxed);
        count = atomic_load_explicit(&ring_count, memory_order_relaxed);
        for (i = 0; i < count && found < 0; i++) {
            slot = (head + RING_SLOTS - i) % RING_SLOTS;
            if (name != NULL ? !slot_named(slot, nm) : i != want)
                continue;
            for (unsigned w = 0; w < KEY_WORDS; w++)
                buf[w] =
                    atomic_load_explicit(&ring[slot][w], memory_order_relaxed);
            found = (int)i;
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&ring_seq, memory_order_relaxed) != seq)
            continue;
        if (found >= 0)
            memcpy(out, buf, TE_TLS_TICKET_KEY_LEN);
        OPENSSL_cleanse(buf, sizeof(buf));
        return found;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return -2;
}

int te_tls_ticket_key(unsigned i, unsigned char *out)
{
    return ring_read(NULL, i, out) < 0 ? -1 : 0;
}

/* Main thread: a generated key becomes current and the current one
 * (generated or from a file) decrypts for one more period. */
static int ring_generate(void)
{
    unsigned char keys[2][TE_TLS_TICKET_KEY_LEN];
    unsigned n = 1;

    if (RAND_bytes(keys[0], TE_TLS_TICKET_KEY_LEN) != 1) {
        ERR_clear_error();
        return -1;
    }
    if (ring_read(NULL, 0, keys[1]) == 0)
        n = 2;
    ring_publish((const unsigned char(*)[TE_TLS_TICKET_KEY_LEN])keys, n);
    ring_generated = 1;
    OPENSSL_cleanse(keys, sizeof(keys));
    return 0;
}

int te_tls_tickets_load(const te_config *cf, char *err, size_t errlen)
{
    const te_tls *t = cf->tls;

    if (t == NULL || !t->tickets)
        return 0;
    if (t->nkeys > 0) {
        ring_publish((const unsigned char(*)[TE_TLS_TICKET_KEY_LEN])t->keys,
                     t->nkeys);
        ring_generated = 0;
        return 0;
    }
    /* Generated keys survive a reload: clients keep their tickets. */
    if (ring_generated)
        return 0;
    if (ring_generate() < 0) {
        snprintf(err, errlen, "cannot generate a session ticket key");
        return -1;
    }
    return 0;
}

unsigned te_tls_tickets_period(const te_config *cf)
{
    const te_tls *t = cf->tls;

    if (t == NULL || !t->tickets || t->nkeys > 0)
        return 0;
    return t->ticket_rotate;
}

void te_tls_tickets_rotate(void)
{
    if (!ring_generated)
        return;
    if (ring_generate() < 0)
        te_log(TE_LOG_ERROR, "cannot generate a session ticket key; "
                             "the current one stays in use");
}

/* The ticket's HMAC-SHA256 key; the digest is named, not fetched, as
 * libssl's EVP_MAC_CTX expects. */
static int ticket_mac_key(EVP_MAC_CTX *hctx, unsigned char *key)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end()};

    return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * libssl's ticket callback. enc: name the current key, make an IV and
 * set the cipher and MAC; 1, 0 for no ticket, -1 on error. Decrypt: the
 * key of that name; 1, or 2 to have a new ticket issued (an older key,
 * or any TLS 1.3 resumption: OpenSSL 3.0 renews none otherwise,
 * LIBRARIES.md 2), 0 for an unknown name (a full handshake).
 */
static int ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
                     EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    unsigned char key[TE_TLS_TICKET_KEY_LEN];
    int pos, rc = -1;

    pos = enc ? ring_read(NULL, 0, key) : ring_read(name, 0, key);
    if (pos < 0)
        return 0;
    if (enc) {
        memcpy(name, key, 16);
        if (RAND_bytes(iv, 16) != 1 ||
            EVP_EncryptInit_ex(cctx, ticket_cipher, NULL, key + 48, iv) != 1 ||
            ticket_mac_key(hctx, key + 16) != 1)
            goto out;
        rc = 1;
    } else {
        if (EVP_DecryptInit_ex(cctx, ticket_cipher, NULL, key + 48, iv) != 1 ||
            ticket_mac_key(hctx, key + 16) != 1)
            goto out;
        rc = pos > 0 || SSL_version(ssl) == TLS1_3_VERSION ? 2 : 1;
    }
out:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* ---- SNI and ALPN ---- */

static int sni_cmp(const void *a, const void *b)
{
    const struct sni_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Names are unique once sealed. */
static int sni_cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct sni_entry *)a)->name,
                  ((const struct sni_entry *)b)->name);
}

static const struct sni_entry *sni_find(const struct sni_entry *tab, unsigned n,
                                        const char *name)
{
    struct sni_entry key = {.name = (char *)name};

    return bsearch(&key, tab, n, sizeof(*tab), sni_cmp_name);
}

SSL_CTX *te_tls_sni_ctx(const te_tls *t, const char *name)
{
    const struct sni_entry *e = sni_find(t->exact, t->nexact, name);
    const char *dot;

    if (e != NULL)
        return e->ctx;
    /* "*.example.test" covers exactly one label before example.test. */
    dot = strchr(name, '.');
    if (dot != NULL && dot != name && dot[1] != '\0') {
        e = sni_find(t->wild, t->nwild, dot + 1);
        if (e != NULL)
            return e->ctx;
    }
    return t->ctxs[0];
}

/*
 * The host_name of a server_name extension (RFC 6066 3), lowercased into
 * out (NAME_MAX_LEN + 1 bytes). 1, 0 when there is no usable name (the
 * default context then serves), -1 when the extension is malformed.
 */
static int sni_parse(const unsigned char *p, size_t len, char *out)
{
    size_t list, off = 2;

    if (len < 2)
        return -1;
    list = (size_t)p[0] << 8 | p[1];
    if (list != len - 2)
        return -1;
    while (off < len) {
        size_t n;
        unsigned type;

        if (len - off < 3)
            return -1;
        type = p[off];
        n = (size_t)p[off + 1] << 8 | p[off + 2];
        off += 3;
        if (n > len - off)
            return -1;
        if (type != TLSEXT_NAMETYPE_host_name) {
            off += n;
            continue;
        }
        if (n > 0 && p[off + n - 1] == '.')
            n--; /* a fully qualified name: same host */
        if (n == 0 || n > NAME_MAX_LEN)
            return 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = p[off + i];

            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_'))
                return 0;
            out[i] = (char)c;
        }
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* Runs first in ClientHello processing, before resumption and cipher
 * choice (LIBRARIES.md 2): the context of the name the client asks for. */
static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
    const te_tls *t = SSL_get_ex_data(ssl, ssl_idx);
    const unsigned char *ext;
    char name[NAME_MAX_LEN + 1];
    SSL_CTX *ctx;
    size_t len;
    int rc;

    (void)arg;
    if (t == NULL ||
        !SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len))
        return SSL_CLIENT_HELLO_SUCCESS;
    rc = sni_parse(ext, len, name);
    if (rc < 0) {
        *al = SSL_AD_DECODE_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (rc == 0)
        return SSL_CLIENT_HELLO_SUCCESS;
    ctx = te_tls_sni_ctx(t, name);
    if (ctx != SSL_get_SSL_CTX(ssl) && SSL_set_SSL_CTX(ssl, ctx) == NULL) {
        *al = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* The name was handled in client_hello_cb; OpenSSL still wants the
 * extension acknowledged here. */
static int servername_cb(SSL *ssl, int *al, void *arg)
{
    (void)ssl;
    (void)al;
    (void)arg;
    return SSL_TLSEXT_ERR_OK;
}

/* h2 when http2 is on and the client offers it, else http/1.1 when
 * offered; a client offering neither gets no ALPN (then HTTP/1.1). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg)
{
    const te_tls *t = SSL_get_ex_data(ssl, ssl_idx);
    const unsigned char *h1 = NULL;
    unsigned i = 0;

    (void)arg;
    while (i < inlen) {
        unsigned n = in[i];

        if (n == 0 || n > inlen - i - 1)
            return SSL_TLSEXT_ERR_NOACK;
        if (n == 2 && memcmp(in + i + 1, "h2", 2) == 0 && t != NULL &&
            t->http2) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        if (n == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0)
            h1 = in + i + 1;
        i += n + 1;
    }
    if (h1 == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    *out = h1;
    *outlen = 8;
    return SSL_TLSEXT_ERR_OK;
}

/* ---- building ---- */

te_tls *te_tls_new(const te_tls_policy *pol, char *err, size_t errlen)
{
    te_tls *t;

    pthread_once(&init_once, init_global);
    if (ssl_idx < 0 || ticket_cipher == NULL || ticket_mac == NULL) {
        ssl_error(err, errlen, "cannot set up TLS");
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->http2 = pol->http2;
    t->handshake_timeout = pol->handshake_timeout;
    t->tickets = pol->tickets;
    t->ticket_rotate = pol->ticket_rotate;
    if (pol->hsts != NULL && (t->hsts = strdup(pol->hsts)) == NULL) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return t;
}

/* The policy of LIBRARIES.md 2 on ctx. 0, or -1 with err. */
static int apply_policy(SSL_CTX *ctx, const te_tls_policy *pol, char *err,
                        size_t errlen)
{
    if (!SSL_CTX_set_min_proto_version(ctx, pol->min_version) ||
        !SSL_CTX_set_max_proto_version(ctx, pol->max_version)) {
        ssl_error(err, errlen, "cannot set the TLS versions");
        return -1;
    }
    if (!SSL_CTX_set_cipher_list(ctx, pol->ciphers) ||
        (pol->ciphersuites != NULL &&
         !SSL_CTX_set_ciphersuites(ctx, pol->ciphersuites))) {
        ssl_error(err, errlen, "cannot set the ciphers");
        return -1;
    }
    if (!SSL_CTX_set1_groups_list(ctx, pol->groups)) {
        ssl_error(err, errlen, "cannot set the groups");
        return -1;
    }
    if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
        ssl_error(err, errlen, "cannot set the session id context");
        return -1;
    }
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION |
                 (pol->tickets ? 0 : SSL_OP_NO_TICKET));
    /* RELEASE_BUFFERS: an idle connection keeps ~14 KiB, not ~46. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
                              SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    /* Resumption only by tickets: no per-process session state. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, pol->tickets ? 1 : 0);
    if (pol->tickets) {
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
        /* A generated key decrypts for two periods: a ticket issued
         * under it stays good for its whole lifetime hint. */
        if (pol->ticket_rotate >= 1000)
            SSL_CTX_set_timeout(ctx, (long)(pol->ticket_rotate / 1000));
    }
    SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
    return 0;
}

SSL_CTX *te_tls_add_ctx(te_tls *t, const te_tls_policy *pol, char *err,
                        size_t errlen)
{
    SSL_CTX *ctx, **ctxs;

    ctxs = realloc(t->ctxs, (t->nctx + 1) * sizeof(*ctxs));
    if (ctxs == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->ctxs = ctxs;
    ctx = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
    if (ctx == NULL) {
        ssl_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    if (apply_policy(ctx, pol, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    t->ctxs[t->nctx++] = ctx;
    return ctx;
}

int te_tls_ctx_set_names_id(SSL_CTX *ctx, const char *const *names,
                            unsigned n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    int ok = mc != NULL && EVP_DigestInit_ex(mc, EVP_sha256(), NULL);

    /* Config load only: the implicit fetch costs nothing that matters. */
    for (unsigned i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(mc, names[i], strlen(names[i]) + 1);
    ok = ok && EVP_DigestFinal_ex(mc, md, &mdlen);
    EVP_MD_CTX_free(mc);
    if (!ok || mdlen < SSL_MAX_SID_CTX_LENGTH)
        return -1;
    return SSL_CTX_set_session_id_context(ctx, md, SSL_MAX_SID_CTX_LENGTH)
               ? 0
               : -1;
}

int te_tls_add_name(te_tls *t, const char *name, SSL_CTX *ctx)
{
    int wild = strncmp(name, "*.", 2) == 0;
    struct sni_entry **tab = wild ? &t->wild : &t->exact, *grown;
    unsigned *n = wild ? &t->nwild : &t->nexact;
    char *copy = strdup(wild ? name + 2 : name);

    if (copy == NULL)
        return -1;
    grown = realloc(*tab, (*n + 1) * sizeof(**tab));
    if (grown == NULL) {
        free(copy);
        return -1;
    }
    *tab = grown;
    grown[(*n)++] = (struct sni_entry){copy, ctx, t->norder++};
    return 0;
}

int te_tls_add_ticket_key(te_tls *t, const unsigned char *key)
{
    if (t->nkeys == TE_TLS_TICKET_KEYS_MAX)
        return -1;
    memcpy(t->keys[t->nkeys++], key, TE_TLS_TICKET_KEY_LEN);
    return 0;
}

/* Sorted by name, then order; of equal names only the first stays. */
static void sni_sort(struct sni_entry *tab, unsigned *n)
{
    unsigned i, j = 0;

    if (*n == 0)
        return;
    qsort(tab, *n, sizeof(*tab), sni_cmp);
    for (i = 1; i < *n; i++) {
        if (strcmp(tab[i].name, tab[j].name) == 0) {
            free(tab[i].name);
            continue;
        }
        tab[++j] = tab[i];
    }
    *n = j + 1;
}

void te_tls_seal(te_tls *t)
{
    sni_sort(t->exact, &t->nexact);
    sni_sort(t->wild, &t->nwild);
}

unsigned te_tls_nctx(const te_tls *t)
{
    return t->nctx;
}

/* ---- connections ---- */

SSL *te_tls_new_ssl(te_tls *t, int fd)
{
    SSL *ssl = SSL_new(t->ctxs[0]);

    if (ssl == NULL)
        goto fail;
    if (!SSL_set_ex_data(ssl, ssl_idx, te_tls_ref(t))) {
        te_tls_unref(t);
        goto fail;
    }
    if (!SSL_set_fd(ssl, fd))
        goto fail;
    SSL_set_accept_state(ssl);
    return ssl;

fail:
    SSL_free(ssl);
    ERR_clear_error();
    te_log(TE_LOG_ERROR, "cannot set up a TLS connection: out of memory");
    return NULL;
}

int te_tls_is_h2(SSL *ssl)
{
    const unsigned char *p;
    unsigned len;

    SSL_get0_alpn_selected(ssl, &p, &len);
    return len == 2 && memcmp(p, "h2", 2) == 0;
}

const char *te_tls_hsts(const te_tls *t)
{
    return t->hsts;
}

unsigned te_tls_handshake_timeout(const te_tls *t)
{
    return t->handshake_timeout;
}

/* ---- counters ---- */

static atomic_uint_fast64_t n_handshakes, n_failures, n_resumed;

void te_tls_count(int ok, SSL *ssl)
{
    if (!ok) {
        atomic_fetch_add_explicit(&n_failures, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&n_handshakes, 1, memory_order_relaxed);
    if (ssl != NULL && SSL_session_reused(ssl))
        atomic_fetch_add_explicit(&n_resumed, 1, memory_order_relaxed);
}

void te_tls_stats_get(te_tls_stats *out)
{
    out->handshakes = atomic_load_explicit(&n_handshakes, memory_order_relaxed);
    out->handshake_failures =
        atomic_load_explicit(&n_failures, memory_order_relaxed);
    out->resumed = atomic_load_explicit(&n_resumed, memory_order_relaxed);
}
