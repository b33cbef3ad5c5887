/*
 * jwks.c: the key set the jwt module verifies with.
 *
 * Keys come from a JWKS file (RFC 7517) and an optional HMAC secret,
 * and are turned into OpenSSL keys once per load (EVP_PKEY_fromdata),
 * never per request: parsing a PEM per call is what makes libjwt 20
 * times slower (LIBRARIES.md 1). Each key is pinned to one algorithm,
 * the JWK's "alg" or the one its type implies, and a token may only
 * name that one (RFC 8725 3.1): an RSA key never checks an HMAC.
 *
 * Anything doubtful makes the whole set unusable rather than quietly
 * smaller: a weak RSA modulus, an EC point off its curve, private
 * material in a public set, two keys with one kid. JWKs we do not
 * verify with (encryption keys, other key types or algorithms) are
 * skipped and counted, as an identity provider's set may hold them.
 */
#include "jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const alg_names[TE_JWT_ALG_COUNT] = {
    [TE_JWT_RS256] = "RS256", [TE_JWT_RS384] = "RS384",
    [TE_JWT_RS512] = "RS512", [TE_JWT_ES256] = "ES256",
    [TE_JWT_ES384] = "ES384", [TE_JWT_ES512] = "ES512",
    [TE_JWT_HS256] = "HS256",
};

/* The curves we accept, each pinned to its one ECDSA algorithm (RFC 7518
 * 3.4): coordinate size in bytes and the signature's (r || s). */
static const struct curve {
    const char *crv;
    te_jwt_alg alg;
    size_t coord;
} curves[] = {
    {"P-256", TE_JWT_ES256, 32},
    {"P-384", TE_JWT_ES384, 48},
    {"P-521", TE_JWT_ES512, 66},
};

const char *te_jwt_alg_name(te_jwt_alg alg)
{
    return (unsigned)alg < TE_JWT_ALG_COUNT ? alg_names[alg] : NULL;
}

int te_jwt_alg_parse(const char *name)
{
    for (int i = 0; i < TE_JWT_ALG_COUNT; i++)
        if (strcmp(alg_names[i], name) == 0)
            return i;
    return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---------------------------------------------------------------- files */

char *te_jwt_read_file(const char *path, size_t *len, te_jwt_file_id *id,
                       char *err, size_t errlen)
{
    char *buf = NULL;
    struct stat st;
    size_t n = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fail(err, errlen, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size > (off_t)TE_JWT_MAX_FILE) {
        fail(err, errlen, "%s: larger than %u bytes", path, TE_JWT_MAX_FILE);
        goto fail;
    }

    /* Read what is there now, up to one byte past the limit, so that a
     * file growing meanwhile is caught too. */
    buf = malloc(TE_JWT_MAX_FILE + 2);
    if (buf == NULL) {
        fail(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (n <= TE_JWT_MAX_FILE) {
        ssize_t r = read(fd, buf + n, TE_JWT_MAX_FILE + 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > TE_JWT_MAX_FILE) {
        fail(err, errlen, "%s: larger than %u bytes", path, TE_JWT_MAX_FILE);
        goto fail;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    if (id != NULL)
        *id = (te_jwt_file_id){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return buf;

fail:
    free(buf);
    close(fd);
    return NULL;
}

/* ----------------------------------------------------------------- JWKs */

/* A string member, or NULL when absent; -1 when present and not a
 * string. */
static int member_str(const json_t *jwk, const char *name, const char **out)
{
    const json_t *v = json_object_get(jwk, name);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* A base64url member decoded into a new buffer (RFC 7518 6: every key
 * value is base64url). -1 when missing or not strict base64url. */
static int member_bytes(const json_t *jwk, const char *name,
                        unsigned char **out, size_t *outlen)
{
    const json_t *v = json_object_get(jwk, name);
    size_t len;
    ssize_t n;

    if (!json_is_string(v))
        return -1;
    len = json_string_length(v);
    if (len == 0)
        return -1;
    *out = malloc(te_b64url_max(len));
    if (*out == NULL)
        return -1;
    n = te_b64url_decode(json_string_value(v), len, *out);
    if (n <= 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    *outlen = (size_t)n;
    return 0;
}

/* An EVP_PKEY of type from the parameters in bld. NULL on failure. */
static EVP_PKEY *pkey_from(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (params == NULL)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/* RSA from n and e (RFC 7518 6.3.1). The modulus must be at least 2048
 * bits (RFC 7518 3.3) and the exponent odd and above 1: e = 1 would make
 * any message its own signature. */
static int rsa_key(const json_t *jwk, te_jwt_key *k, char *err, size_t errlen)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    int bits, rc = -1;

    if (member_bytes(jwk, "n", &n, &nlen) < 0 ||
        member_bytes(jwk, "e", &e, &elen) < 0) {
        fail(err, errlen, "RSA key needs base64url \"n\" and \"e\"");
        goto done;
    }
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn == NULL || be == NULL || bld == NULL) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (!BN_is_odd(bn) || !BN_is_odd(be) || BN_is_one(be) ||
        BN_num_bits(be) > 64) {
        fail(err, errlen, "RSA key with an implausible modulus or exponent");
        goto done;
    }
    bits = BN_num_bits(bn);
    if (bits < TE_JWT_MIN_RSA_BITS || bits > TE_JWT_MAX_RSA_BITS) {
        fail(err, errlen, "RSA key of %d bits (%d to %d accepted)", bits,
             TE_JWT_MIN_RSA_BITS, TE_JWT_MAX_RSA_BITS);
        goto done;
    }

    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        (k->pkey = pkey_from("RSA", bld)) == NULL) {
        fail(err, errlen, "OpenSSL refused the RSA key");
        goto done;
    }
    k->sig_len = (size_t)EVP_PKEY_get_size(k->pkey);
    rc = 0;

done:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return rc;
}

/* EC from crv, x and y (RFC 7518 6.2.1): a named curve of ours, both
 * coordinates at their full length, and a point OpenSSL finds on the
 * curve. */
static int ec_key(const json_t *jwk, const struct curve *cv, te_jwt_key *k,
                  char *err, size_t errlen)
{
    unsigned char *x = NULL, *y = NULL, point[1 + 2 * 66];
    size_t xlen = 0, ylen = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY_CTX *check = NULL;
    int rc = -1;

    if (member_bytes(jwk, "x", &x, &xlen) < 0 ||
        member_bytes(jwk, "y", &y, &ylen) < 0 || xlen != cv->coord ||
        ylen != cv->coord) {
        fail(err, errlen,
             "EC key needs base64url \"x\" and \"y\" of %zu "
             "bytes each",
             cv->coord);
        goto done;
    }
    point[0] = 0x04; /* uncompressed, SEC 1 2.3.3 */
    memcpy(point + 1, x, xlen);
    memcpy(point + 1 + xlen, y, ylen);

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         cv->crv, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          1 + xlen + ylen) ||
        (k->pkey = pkey_from("EC", bld)) == NULL) {
        fail(err, errlen, "OpenSSL refused the EC key (point not on %s?)",
             cv->crv);
        goto done;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        fail(err, errlen, "EC key fails the public key check on %s", cv->crv);
        goto done;
    }
    k->sig_len = 2 * cv->coord;
    rc = 0;

done:
    EVP_PKEY_CTX_free(check);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return rc;
}

enum jwk_result { JWK_KEY, JWK_SKIP, JWK_BAD };

/* One JWK into k: JWK_KEY, JWK_SKIP (not a signing key of ours) or
 * JWK_BAD with the reason in err. */
static enum jwk_result read_jwk(const json_t *jwk, te_jwt_key *k, char *err,
                                size_t errlen)
{
    const char *kty, *use, *alg, *kid, *crv;
    const struct curve *cv = NULL;
    int want = -1;

    if (!json_is_object(jwk) || member_str(jwk, "kty", &kty) < 0 ||
        kty == NULL || member_str(jwk, "use", &use) < 0 ||
        member_str(jwk, "alg", &alg) < 0 || member_str(jwk, "kid", &kid) < 0) {
        fail(err, errlen, "not a JWK: kty, use, alg, kid must be strings");
        return JWK_BAD;
    }
    if (use != NULL && strcmp(use, "sig") != 0)
        return JWK_SKIP; /* an encryption key (RFC 7517 4.2) */
    if (strcmp(kty, "oct") == 0) {
        fail(err, errlen,
             "symmetric key in the JWKS: give HMAC secrets "
             "with hmac_secret");
        return JWK_BAD;
    }
    if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0)
        return JWK_SKIP; /* OKP and others: not verified here */
    if (json_object_get(jwk, "d") != NULL ||
        json_object_get(jwk, "p") != NULL) {
        fail(err, errlen, "private key material in the JWKS");
        return JWK_BAD;
    }
    if (kid != NULL && (kid[0] == '\0' || strlen(kid) > TE_JWT_MAX_KID)) {
        fail(err, errlen, "kid of 1 to %d bytes", TE_JWT_MAX_KID);
        return JWK_BAD;
    }

    if (strcmp(kty, "EC") == 0) {
        if (member_str(jwk, "crv", &crv) < 0 || crv == NULL) {
            fail(err, errlen, "EC key without crv");
            return JWK_BAD;
        }
        for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
            if (strcmp(curves[i].crv, crv) == 0)
                cv = &curves[i];
        if (cv == NULL) {
            fail(err, errlen, "EC curve %s (P-256, P-384, P-521 accepted)",
                 crv);
            return JWK_BAD;
        }
    }

    /* The pinned algorithm: the JWK's own, which must suit the key, or
     * the one the key type implies. An alg we do not implement (PS256,
     * EdDSA...) skips the key; one that contradicts it is an error. */
    if (alg != NULL) {
        want = te_jwt_alg_parse(alg);
        if (want < 0)
            return JWK_SKIP;
    }
    if (cv != NULL) {
        if (want >= 0 && want != (int)cv->alg) {
            fail(err, errlen, "alg %s does not suit an EC %s key", alg,
                 cv->crv);
            return JWK_BAD;
        }
        k->alg = cv->alg;
    } else {
        if (want >= 0 && want != TE_JWT_RS256 && want != TE_JWT_RS384 &&
            want != TE_JWT_RS512) {
            fail(err, errlen, "alg %s does not suit an RSA key", alg);
            return JWK_BAD;
        }
        k->alg = want >= 0 ? (te_jwt_alg)want : TE_JWT_RS256;
    }

    if (kid != NULL && (k->kid = strdup(kid)) == NULL) {
        fail(err, errlen, "out of memory");
        return JWK_BAD;
    }
    if ((cv != NULL ? ec_key(jwk, cv, k, err, errlen)
                    : rsa_key(jwk, k, err, errlen)) < 0)
        return JWK_BAD;
    return JWK_KEY;
}

/* ------------------------------------------------------------------ set */

static void key_clear(te_jwt_key *k)
{
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret != NULL)
        OPENSSL_clear_free(k->secret, k->secret_len);
    memset(k, 0, sizeof(*k));
}

static void keys_free(te_jwt_keys *ks)
{
    if (ks == NULL)
        return;
    for (unsigned i = 0; i < ks->nkeys; i++)
        key_clear(&ks->keys[i]);
    free(ks->keys);
    free(ks);
}

/* The JWKS text's keys into ks. 0, or -1 with the reason in err. */
static int read_jwks(te_jwt_keys *ks, const char *name, const char *text,
                     size_t len, char *err, size_t errlen)
{
    char why[256];
    json_error_t je;
    json_t *root, *arr;
    size_t i;
    int rc = -1;

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return fail(err, errlen, "%s: invalid JSON at line %d: %s", name,
                    je.line, je.text);
    arr = json_object_get(root, "keys");
    if (!json_is_object(root) || !json_is_array(arr)) {
        fail(err, errlen, "%s: not a JWKS: {\"keys\": [...]} expected", name);
        goto done;
    }
    if (json_array_size(arr) > TE_JWT_MAX_KEYS) {
        fail(err, errlen, "%s: more than %d keys", name, TE_JWT_MAX_KEYS);
        goto done;
    }

    for (i = 0; i < json_array_size(arr); i++) {
        te_jwt_key *k = &ks->keys[ks->nkeys];

        switch (read_jwk(json_array_get(arr, i), k, why, sizeof(why))) {
        case JWK_KEY:
            ks->nkeys++;
            break;
        case JWK_SKIP:
            key_clear(k);
            ks->skipped++;
            break;
        default:
            key_clear(k);
            fail(err, errlen, "%s: key %zu: %s", name, i + 1, why);
            goto done;
        }
    }
    rc = 0;

done:
    json_decref(root);
    return rc;
}

/* The HMAC secret as the set's last key, pinned to HS256. */
static int add_secret(te_jwt_keys *ks, const unsigned char *secret, size_t len,
                      const char *kid, char *err, size_t errlen)
{
    te_jwt_key *k = &ks->keys[ks->nkeys];

    if (len < TE_JWT_MIN_HMAC_BYTES)
        return fail(err, errlen,
                    "hmac secret of %zu bytes, at least %d "
                    "needed",
                    len, TE_JWT_MIN_HMAC_BYTES);
    if (kid != NULL && (kid[0] == '\0' || strlen(kid) > TE_JWT_MAX_KID))
        return fail(err, errlen, "hmac kid of 1 to %d bytes", TE_JWT_MAX_KID);
    k->alg = TE_JWT_HS256;
    k->sig_len = 32;
    k->secret_len = len;
    k->secret = OPENSSL_malloc(len);
    if (k->secret == NULL || (kid != NULL && (k->kid = strdup(kid)) == NULL)) {
        key_clear(k);
        return fail(err, errlen, "out of memory");
    }
    memcpy(k->secret, secret, len);
    ks->nkeys++;
    return 0;
}

/* Kids tell keys apart: unique, and present on every key of a set of
 * several (RFC 7517 4.5). */
static int check_kids(const te_jwt_keys *ks, char *err, size_t errlen)
{
    for (unsigned i = 0; i < ks->nkeys; i++) {
        if (ks->nkeys > 1 && ks->keys[i].kid == NULL)
            return fail(err, errlen,
                        "a key without kid in a set of %u "
                        "keys: tokens could not name it",
                        ks->nkeys);
        for (unsigned j = 0; j < i; j++)
            if (ks->keys[j].kid != NULL &&
                strcmp(ks->keys[i].kid, ks->keys[j].kid) == 0)
                return fail(err, errlen, "kid \"%s\" given to two keys",
                            ks->keys[i].kid);
    }
    return 0;
}

te_jwt_keys *te_jwt_keys_build(const char *name, const char *jwks,
                               size_t jwks_len, const unsigned char *secret,
                               size_t secret_len, const char *secret_kid,
                               char *err, size_t errlen)
{
    te_jwt_keys *ks = calloc(1, sizeof(*ks));

    if (ks == NULL ||
        (ks->keys = calloc(TE_JWT_MAX_KEYS + 1, sizeof(*ks->keys))) == NULL) {
        fail(err, errlen, "out of memory");
        goto fail;
    }
    atomic_init(&ks->refs, 1);

    if (jwks != NULL && read_jwks(ks, name != NULL ? name : "jwks", jwks,
                                  jwks_len, err, errlen) < 0)
        goto fail;
    if (secret != NULL &&
        add_secret(ks, secret, secret_len, secret_kid, err, errlen) < 0)
        goto fail;
    if (ks->nkeys == 0) {
        fail(err, errlen, "%s: no key to verify with (%u skipped)",
             name != NULL ? name : "jwks", ks->skipped);
        goto fail;
    }
    if (check_kids(ks, err, errlen) < 0)
        goto fail;
    return ks;

fail:
    keys_free(ks);
    return NULL;
}

const te_jwt_key *te_jwt_keys_find(const te_jwt_keys *ks, const char *kid)
{
    if (kid == NULL)
        return ks->nkeys == 1 ? &ks->keys[0] : NULL;
    for (unsigned i = 0; i < ks->nkeys; i++)
        if (ks->keys[i].kid != NULL && strcmp(ks->keys[i].kid, kid) == 0)
            return &ks->keys[i];
    return NULL;
}

te_jwt_keys *te_jwt_keys_ref(te_jwt_keys *ks)
{
    if (ks != NULL)
        atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
    return ks;
}

void te_jwt_keys_unref(te_jwt_keys *ks)
{
    if (ks != NULL &&
        atomic_fetch_sub_explicit(&ks->refs, 1, memory_order_acq_rel) == 1)
        keys_free(ks);
}
