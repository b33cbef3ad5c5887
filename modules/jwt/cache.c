/*
 * cache.c: verified tokens, per worker, so that a client sending the
 * same token on every request pays for its signature once.
 *
 * The key is the SHA-256 of the whole token: strict base64url makes a
 * token's text canonical (b64url.c), so equal digests mean the same
 * header, claims and signature. Only tokens that passed every check of
 * verify.c and claims.c get in; the tenant, scope and service rules are
 * checked on every request, hit or miss, since they depend on the
 * request. An entry lives until its token expires (with the leeway),
 * the set is bounded (least recently used out first), and the worker
 * clears it whenever the key set changes, so that a removed key stops
 * working at once.
 *
 * One worker's cache is touched only by that worker: no locks.
 */
#include "jwt.h"

#include <stdlib.h>
#include <string.h>

/* Claims worth caching: a token whose strings are longer is verified
 * every time instead of pinning that much memory per entry. */
#define ENTRY_TEXT_MAX 2048

typedef struct entry {
    unsigned char digest[TE_JWT_DIGEST_LEN];
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* recency, most recent first */
    te_jwt_identity id;        /* strings point into text */
    char text[];
} entry;

struct te_jwt_cache {
    entry **buckets;
    size_t mask;
    entry *first, *last;
    unsigned count, cap;
};

te_jwt_cache *te_jwt_cache_new(unsigned cap)
{
    te_jwt_cache *c;
    size_t n = 1;

    if (cap == 0)
        return NULL;
    while (n < cap)
        n <<= 1;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->buckets = calloc(n, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    c->cap = cap;
    return c;
}

/* Digests are uniform: their first bytes make a fine bucket index. */
static entry **bucket(te_jwt_cache *c, const unsigned char *digest)
{
    size_t h;

    memcpy(&h, digest, sizeof(h));
    return &c->buckets[h & c->mask];
}

static void unlink_recency(te_jwt_cache *c, entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->first = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->last = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(te_jwt_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->first;
    if (c->first != NULL)
        c->first->prev = e;
    c->first = e;
    if (c->last == NULL)
        c->last = e;
}

static void drop(te_jwt_cache *c, entry *e)
{
    entry **p = bucket(c, e->digest);

    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
    unlink_recency(c, e);
    c->count--;
    free(e);
}

void te_jwt_cache_clear(te_jwt_cache *c)
{
    if (c == NULL)
        return;
    while (c->first != NULL)
        drop(c, c->first);
}

void te_jwt_cache_free(te_jwt_cache *c)
{
    if (c == NULL)
        return;
    te_jwt_cache_clear(c);
    free(c->buckets);
    free(c);
}

static entry *find(te_jwt_cache *c, const unsigned char *digest)
{
    for (entry *e = *bucket(c, digest); e != NULL; e = e->hnext)
        if (memcmp(e->digest, digest, TE_JWT_DIGEST_LEN) == 0)
            return e;
    return NULL;
}

const te_jwt_identity *te_jwt_cache_get(te_jwt_cache *c,
                                        const unsigned char *digest, double now,
                                        unsigned leeway)
{
    entry *e = find(c, digest);

    if (e == NULL)
        return NULL;
    /* The same rule as claims.c: valid while now < exp + leeway. */
    if (now >= e->id.exp + (double)leeway) {
        drop(c, e);
        return NULL;
    }
    unlink_recency(c, e);
    push_front(c, e);
    return &e->id;
}

/* Copies s into the entry's text at *at; returns the copy. */
static const char *put_text(entry *e, size_t *at, const char *s)
{
    char *dst = e->text + *at;
    size_t n = strlen(s) + 1;

    memcpy(dst, s, n);
    *at += n;
    return dst;
}

int te_jwt_cache_put(te_jwt_cache *c, const unsigned char *digest,
                     const te_jwt_identity *id)
{
    const char *tenant = id->tenant != NULL ? id->tenant : "";
    size_t len, at = 0;
    entry *e, **b;

    len = strlen(id->subject) + strlen(tenant) + strlen(id->scopes) +
          strlen(id->issuer) + 4;
    if (len > ENTRY_TEXT_MAX)
        return -1;
    e = find(c, digest);
    if (e != NULL)
        drop(c, e);
    if (c->count == c->cap)
        drop(c, c->last);

    e = malloc(sizeof(*e) + len);
    if (e == NULL)
        return -1;
    memcpy(e->digest, digest, TE_JWT_DIGEST_LEN);
    e->id = *id;
    e->id.subject = put_text(e, &at, id->subject);
    e->id.tenant = id->tenant != NULL ? put_text(e, &at, tenant) : NULL;
    e->id.scopes = put_text(e, &at, id->scopes);
    e->id.issuer = put_text(e, &at, id->issuer);

    b = bucket(c, digest);
    e->hnext = *b;
    *b = e;
    push_front(c, e);
    c->count++;
    return 0;
}

unsigned te_jwt_cache_count(const te_jwt_cache *c)
{
    return c != NULL ? c->count : 0;
}
