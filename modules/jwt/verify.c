/*
 * verify.c: a compact JWS (RFC 7515 7.1) in, its verified payload out.
 *
 * The order is the point (RFC 8725 2 lists the attacks it stops): the
 * size first, then the form (three strict base64url segments), then the
 * header's rules, the key chosen by kid and the algorithm that key is
 * pinned to; the signature is checked before the payload is even
 * parsed, so an attacker's JSON meets jansson only after a valid
 * signature. Nothing of the token chooses a key or an algorithm on its
 * own: "none", HMAC against a public key, a key shipped in the header
 * (jwk, jku, x5u, x5c) all fail before any cryptography runs.
 *
 * One verifier per worker: its digest and MAC contexts are reused for
 * every token and never shared between threads, while the keys (read
 * only) are shared by all.
 */
#include "jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* DER of an ECDSA signature over P-521 is at most 139 bytes. */
#define ECDSA_DER_MAX 160

struct te_jwt_verifier {
    EVP_MD *sha[3]; /* SHA256, SHA384, SHA512, pre-fetched */
    EVP_MD_CTX *md_ctx;
    EVP_MD_CTX *dg_ctx; /* the cache key's digest */
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac_ctx; /* digest SHA256 set once */
    unsigned char *buf;   /* decoded segments of one token */
    size_t cap;
};

te_jwt_verifier *te_jwt_verifier_new(size_t max_size)
{
    static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
    te_jwt_verifier *v = calloc(1, sizeof(*v));
    OSSL_PARAM params[2];

    if (v == NULL)
        return NULL;

    /* Pre-fetch: implicit fetches take a lock on every call in OpenSSL
     * 3.0 (LIBRARIES.md 2). */
    for (int i = 0; i < 3; i++)
        if ((v->sha[i] = EVP_MD_fetch(NULL, names[i], NULL)) == NULL)
            goto fail;
    v->md_ctx = EVP_MD_CTX_new();
    v->dg_ctx = EVP_MD_CTX_new();
    v->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    v->mac_ctx = v->hmac != NULL ? EVP_MAC_CTX_new(v->hmac) : NULL;
    if (v->md_ctx == NULL || v->dg_ctx == NULL || v->mac_ctx == NULL)
        goto fail;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(v->mac_ctx, params) != 1)
        goto fail;

    /* Header, payload and signature decode to less than the token. */
    v->cap = te_b64url_max(max_size) + 8;
    v->buf = malloc(v->cap);
    if (v->buf == NULL)
        goto fail;
    return v;

fail:
    te_jwt_verifier_free(v);
    return NULL;
}

void te_jwt_verifier_free(te_jwt_verifier *v)
{
    if (v == NULL)
        return;
    for (int i = 0; i < 3; i++)
        EVP_MD_free(v->sha[i]);
    EVP_MD_CTX_free(v->md_ctx);
    EVP_MD_CTX_free(v->dg_ctx);
    EVP_MAC_CTX_free(v->mac_ctx);
    EVP_MAC_free(v->hmac);
    free(v->buf);
    free(v);
}

int te_jwt_digest(te_jwt_verifier *v, const void *data, size_t len,
                  unsigned char out[TE_JWT_DIGEST_LEN])
{
    unsigned n = 0;

    /* A context kept per worker: EVP_Digest would allocate one per
     * call. */
    if (EVP_DigestInit_ex(v->dg_ctx, v->sha[0], NULL) != 1 ||
        EVP_DigestUpdate(v->dg_ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(v->dg_ctx, out, &n) != 1 || n != TE_JWT_DIGEST_LEN)
        return -1;
    return 0;
}

int te_jwt_json_depth_ok(const unsigned char *s, size_t len, unsigned max)
{
    unsigned depth = 0;
    int in_str = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 0;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

/* A JSON object from decoded segment bytes: depth checked first (the
 * parser recurses), then parsed with duplicate names refused, since two
 * parsers that pick different duplicates see different tokens
 * (RFC 7515 4 and RFC 7519 4 allow only reject or last-wins; RFC 8725
 * 2.6). */
static json_t *parse_object(const unsigned char *s, size_t len,
                            unsigned max_depth)
{
    json_t *j;

    if (!te_jwt_json_depth_ok(s, len, max_depth))
        return NULL;
    j = json_loadb((const char *)s, len, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* RFC 7515 4.1.9 / RFC 8725 3.11: typ absent, or one of the JWT media
 * types (the "application/" prefix may be left out; case-insensitive
 * like every media type). */
static int typ_ok(const json_t *typ)
{
    static const char *const ok[] = {"JWT", "application/jwt", "at+jwt",
                                     "application/at+jwt"};
    const char *s;

    if (typ == NULL)
        return 1;
    if (!json_is_string(typ))
        return 0;
    s = json_string_value(typ);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(s, ok[i]) == 0)
            return 1;
    return 0;
}

/*
 * The header's rules; the key in *key. Returns NULL or the reason.
 *  - alg is required and never "none", in any case (RFC 8725 3.2);
 *  - crit: we implement no extension, so any is refused (RFC 7515
 *    4.1.11); jku, x5u, x5c, jwk: keys never come from the token
 *    (RFC 8725 3.10, RFC 7515 4.1.2-4.1.6); cty: no nested or typed
 *    content (RFC 7519 5.2); enc, zip: JWE, not JWS;
 *  - the key is looked up by kid, required when several keys exist, and
 *    the token's alg must be exactly the one that key is pinned to
 *    (RFC 8725 3.1): no key confusion, no fallback to other keys.
 */
static const char *check_header(const json_t *h, const te_jwt_keys *ks,
                                const te_jwt_key **key)
{
    static const char *const refused[] = {"crit", "jku", "x5u", "x5c",
                                          "jwk",  "cty", "enc", "zip"};
    const json_t *alg = json_object_get(h, "alg");
    const json_t *kid = json_object_get(h, "kid");
    const char *name;
    int a;

    if (!json_is_string(alg))
        return "header without alg";
    name = json_string_value(alg);
    if (strcasecmp(name, "none") == 0)
        return "alg none";
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (json_object_get(h, refused[i]) != NULL)
            return "header names a refused parameter (crit, jku, x5u, "
                   "x5c, jwk, cty, enc or zip)";
    if (!typ_ok(json_object_get(h, "typ")))
        return "typ is not JWT or at+jwt";

    if (kid != NULL && !json_is_string(kid))
        return "kid is not a string";
    if (kid == NULL && ks->nkeys > 1)
        return "no kid, and several keys";
    *key = te_jwt_keys_find(ks, kid != NULL ? json_string_value(kid) : NULL);
    if (*key == NULL)
        return "unknown kid";
    a = te_jwt_alg_parse(name);
    if (a < 0)
        return "unsupported alg";
    if ((te_jwt_alg)a != (*key)->alg)
        return "alg is not the one of its key";
    return NULL;
}

/* RSASSA-PKCS1-v1_5 or ECDSA (DER-encoded) with the key's digest. */
static int pkey_verify(te_jwt_verifier *v, const te_jwt_key *k,
                       const unsigned char *sig, size_t siglen,
                       const char *data, size_t len)
{
    static const int md_of[TE_JWT_ALG_COUNT] = {
        [TE_JWT_RS256] = 0, [TE_JWT_RS384] = 1, [TE_JWT_RS512] = 2,
        [TE_JWT_ES256] = 0, [TE_JWT_ES384] = 1, [TE_JWT_ES512] = 2,
    };
    int ok;

    if (EVP_DigestVerifyInit(v->md_ctx, NULL, v->sha[md_of[k->alg]], NULL,
                             k->pkey) != 1) {
        EVP_MD_CTX_reset(v->md_ctx);
        return 0;
    }
    ok = EVP_DigestVerify(v->md_ctx, sig, siglen, (const unsigned char *)data,
                          len) == 1;
    EVP_MD_CTX_reset(v->md_ctx);
    return ok;
}

/* RFC 7518 3.4: ECDSA signatures are R || S, each the curve's size;
 * OpenSSL wants DER, so convert. r = 0 or s = 0 is refused here already
 * (CVE-2022-21449 was a verifier that accepted them). */
static int ecdsa_verify(te_jwt_verifier *v, const te_jwt_key *k,
                        const unsigned char *sig, const char *data, size_t len)
{
    unsigned char der[ECDSA_DER_MAX], *p = der;
    size_t half = k->sig_len / 2;
    ECDSA_SIG *es = NULL;
    BIGNUM *r, *s;
    int n, ok = 0;

    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    if (r == NULL || s == NULL || BN_is_zero(r) || BN_is_zero(s))
        goto done;
    es = ECDSA_SIG_new();
    if (es == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto done;
    r = s = NULL; /* owned by es now */

    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || n > (int)sizeof(der) || i2d_ECDSA_SIG(es, &p) != n)
        goto done;
    ok = pkey_verify(v, k, der, (size_t)n, data, len);

done:
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return ok;
}

/* HMAC-SHA256 with the pre-fetched MAC, compared in constant time
 * (RFC 7518 3.2; never memcmp). */
static int hmac_verify(te_jwt_verifier *v, const te_jwt_key *k,
                       const unsigned char *sig, const char *data, size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t n = 0;

    if (EVP_MAC_init(v->mac_ctx, k->secret, k->secret_len, NULL) != 1 ||
        EVP_MAC_update(v->mac_ctx, (const unsigned char *)data, len) != 1 ||
        EVP_MAC_final(v->mac_ctx, mac, &n, sizeof(mac)) != 1 || n != k->sig_len)
        return 0;
    return CRYPTO_memcmp(mac, sig, n) == 0;
}

static int signature_ok(te_jwt_verifier *v, const te_jwt_key *k,
                        const unsigned char *sig, size_t siglen,
                        const char *data, size_t len)
{
    /* Exact lengths: a DER or truncated ECDSA signature, a short RSA
     * one, a truncated MAC all stop here (RFC 7518 3.3, 3.4). */
    if (siglen != k->sig_len)
        return 0;
    switch (k->alg) {
    case TE_JWT_HS256:
        return hmac_verify(v, k, sig, data, len);
    case TE_JWT_ES256:
    case TE_JWT_ES384:
    case TE_JWT_ES512:
        return ecdsa_verify(v, k, sig, data, len);
    default:
        return pkey_verify(v, k, sig, siglen, data, len);
    }
}

const char *te_jwt_verify(te_jwt_verifier *v, const te_jwt_keys *ks,
                          const te_jwt_limits *lim, const char *tok, size_t len,
                          json_t **payload)
{
    const char *dot1, *dot2, *why = NULL;
    const te_jwt_key *key = NULL;
    unsigned char *hbuf, *pbuf, *sbuf;
    ssize_t hlen, plen, slen;
    size_t n1, n2, n3;
    json_t *h;

    *payload = NULL;

    /* Bound the work before parsing anything (RFC 8725 3.4: validate
     * every cryptographic input). */
    if (len == 0 || len > lim->max_size || te_b64url_max(len) + 8 > v->cap)
        return "token too large";

    /* RFC 7515 7.1: exactly three segments. */
    dot1 = memchr(tok, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok))
                        : NULL;
    if (dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - tok)) != NULL)
        return "not three segments";
    n1 = (size_t)(dot1 - tok);
    n2 = (size_t)(dot2 - dot1 - 1);
    n3 = len - (size_t)(dot2 + 1 - tok);
    if (n1 == 0 || n2 == 0 || n3 == 0)
        return "empty segment";

    hbuf = v->buf;
    hlen = te_b64url_decode(tok, n1, hbuf);
    if (hlen < 0)
        return "header is not base64url";
    pbuf = hbuf + hlen;
    plen = te_b64url_decode(dot1 + 1, n2, pbuf);
    if (plen < 0)
        return "payload is not base64url";
    sbuf = pbuf + plen;
    slen = te_b64url_decode(dot2 + 1, n3, sbuf);
    if (slen < 0)
        return "signature is not base64url";

    h = parse_object(hbuf, (size_t)hlen, lim->max_depth);
    if (h == NULL)
        return "header is not a JSON object (or too deep, or duplicate "
               "names)";
    why = check_header(h, ks, &key);
    json_decref(h);
    if (why != NULL)
        return why;

    /* The signing input is the first two segments as sent
     * (RFC 7515 5.2 step 8). */
    if (!signature_ok(v, key, sbuf, (size_t)slen, tok, n1 + 1 + n2))
        return "bad signature";

    *payload = parse_object(pbuf, (size_t)plen, lim->max_depth);
    if (*payload == NULL)
        return "payload is not a JSON object (or too deep, or duplicate "
               "names)";
    return NULL;
}
