/*
 * test_jwt.c: the jwt module's verifier (modules/jwt/verify.c), claims
 * (claims.c), key sets (jwks.c), strict base64url (b64url.c), reload
 * (reload.c), token cache (cache.c) and directives (conf.c).
 *
 * Keys are generated here and tokens signed here with OpenSSL directly,
 * header and payload written as JSON text, so that any malformed token
 * can be made: the verifier is judged on bytes, not on what a JWT
 * library would produce. Each hostile case of tests/cases/jwt has its
 * kind covered here, with variants (any case of "none", padding in any
 * segment, every refused header parameter).
 */
#define _GNU_SOURCE
#include "config.h"

#include <check.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../modules/jwt/jwt.h"

#define ISS    "https://id.example.test"
#define SVCISS "https://svc.example.test"
#define AUD    "tenantedge"
#define SECRET "0123456789abcdef0123456789abcdef-hmac"

static EVP_PKEY *rsa, *rsa_other, *rsa_weak, *ec256, *ec384, *ec_other;
static char *rsa_pub_pem;
static long now;

/* ---------------------------------------------------------------- helpers */

static char *b64u(const unsigned char *data, size_t len)
{
    char *out = malloc(len * 4 / 3 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return out;
}

static char *b64u_str(const char *s)
{
    return b64u((const unsigned char *)s, strlen(s));
}

static char *bn_b64u(const BIGNUM *bn, size_t pad)
{
    unsigned char buf[1024];
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);

    BN_bn2binpad(bn, buf, (int)n);
    return b64u(buf, n);
}

/* The public JWK of key as JSON text; alg may be NULL. */
static char *jwk(EVP_PKEY *key, const char *kid, const char *alg)
{
    char *out = malloc(4096), *a, *b;

    if (EVP_PKEY_is_a(key, "RSA")) {
        BIGNUM *n = NULL, *e = NULL;

        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
        a = bn_b64u(n, 0);
        b = bn_b64u(e, 0);
        snprintf(out, 4096,
                 "{\"kty\":\"RSA\",\"kid\":\"%s\"%s%s%s,\"n\":\"%s\","
                 "\"e\":\"%s\"}",
                 kid, alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "",
                 a, b);
        BN_free(n);
        BN_free(e);
    } else {
        unsigned char pub[200];
        size_t len = 0, c;
        char crv[32];

        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                        sizeof(pub), &len);
        c = (len - 1) / 2;
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, crv,
                                       sizeof(crv), NULL);
        a = b64u(pub + 1, c);
        b = b64u(pub + 1 + c, c);
        snprintf(out, 4096,
                 "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\"%s%s%s,"
                 "\"x\":\"%s\",\"y\":\"%s\"}",
                 kid,
                 strcmp(crv, "prime256v1") == 0  ? "P-256"
                 : strcmp(crv, "secp384r1") == 0 ? "P-384"
                                                 : crv,
                 alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "", a,
                 b);
    }
    free(a);
    free(b);
    return out;
}

/* Raw signature bytes of input with alg; ES* as r || s unless der. */
static unsigned char *sig_of(const char *alg, const void *key, size_t keylen,
                             const char *input, size_t *siglen, int der)
{
    const char *md = strstr(alg, "256")   ? "SHA256"
                     : strstr(alg, "384") ? "SHA384"
                                          : "SHA512";
    unsigned char *sig = malloc(1024);
    EVP_MD_CTX *ctx;

    if (alg[0] == 'H') {
        EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, keylen,
                  (const unsigned char *)input, strlen(input), sig, 1024,
                  siglen);
        return sig;
    }
    ctx = EVP_MD_CTX_new();
    *siglen = 1024;
    ck_assert_int_eq(
        EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, (EVP_PKEY *)key, NULL),
        1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, siglen,
                                    (const unsigned char *)input,
                                    strlen(input)),
                     1);
    EVP_MD_CTX_free(ctx);
    if (alg[0] == 'E' && !der) {
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*siglen);
        size_t half = strstr(alg, "256") ? 32 : strstr(alg, "384") ? 48 : 66;

        BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, (int)half);
        *siglen = 2 * half;
        ECDSA_SIG_free(es);
    }
    return sig;
}

/* header.payload.signature, each part from JSON text. */
static char *token_ex(const char *header, const char *payload, const char *alg,
                      const void *key, size_t keylen, int der)
{
    char *h = b64u_str(header), *p = b64u_str(payload), *s, *out;
    size_t n = strlen(h) + strlen(p) + 2, siglen;
    unsigned char *sig;

    out = malloc(n + 2048);
    snprintf(out, n, "%s.%s", h, p);
    sig = sig_of(alg, key, keylen, out, &siglen, der);
    s = b64u(sig, siglen);
    strcat(out, ".");
    strcat(out, s);
    free(h);
    free(p);
    free(s);
    free(sig);
    return out;
}

static char *token(const char *header, const char *payload, const char *alg,
                   EVP_PKEY *key)
{
    return token_ex(header, payload, alg, key, 0, 0);
}

/* The usual claims, with extra text spliced in before the closing brace
 * (e.g. ",\"scope\":\"read\""). */
static char *claims(const char *extra)
{
    char *out = malloc(4096 + strlen(extra));

    sprintf(out,
            "{\"iss\":\"%s\",\"sub\":\"user-1\",\"aud\":\"%s\","
            "\"tenant\":\"t-0001\",\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld%s}",
            ISS, AUD, now, now, now + 900, extra);
    return out;
}

static const char *const issuers[] = {ISS};
static const char *const service_issuers[] = {SVCISS};

static const te_jwt_claim_rules rules = {
    .issuers = issuers,
    .nissuers = 1,
    .service_issuers = service_issuers,
    .nservice_issuers = 1,
    .audience = AUD,
    .tenant_claim = "tenant",
    .leeway = 60,
};

static te_jwt_limits limits = {8192, 8};
static te_jwt_keys *keys;
static te_jwt_verifier *verifier;
static te_jwt_identity ident;
static json_t *last_payload;

/* The standard key set: rsa-1, ec-1, ec384-1, and the HMAC secret as
 * hs-1. */
static te_jwt_keys *standard_keys(void)
{
    char *a = jwk(rsa, "rsa-1", "RS256"), *b = jwk(ec256, "ec-1", "ES256");
    char *c = jwk(ec384, "ec384-1", NULL), text[16384], err[256];
    te_jwt_keys *ks;

    snprintf(text, sizeof(text), "{\"keys\":[%s,%s,%s]}", a, b, c);
    ks = te_jwt_keys_build("jwks.json", text, strlen(text),
                           (const unsigned char *)SECRET, strlen(SECRET),
                           "hs-1", err, sizeof(err));
    ck_assert_msg(ks != NULL, "%s", err);
    free(a);
    free(b);
    free(c);
    return ks;
}

/* The verdict on tok: NULL (accepted, ident filled) or the reason. */
static const char *judge(const char *tok)
{
    const char *why;

    json_decref(last_payload);
    last_payload = NULL;
    why =
        te_jwt_verify(verifier, keys, &limits, tok, strlen(tok), &last_payload);
    if (why != NULL)
        return why;
    return te_jwt_claims_check(&rules, last_payload, (double)now, &ident);
}

#define accepted(tok)                                                          \
    do {                                                                       \
        char *t_ = (tok);                                                      \
        const char *w_ = judge(t_);                                            \
        ck_assert_msg(w_ == NULL, "refused: %s", w_);                          \
        free(t_);                                                              \
    } while (0)

#define refused(tok, reason)                                                   \
    do {                                                                       \
        char *t_ = (tok);                                                      \
        const char *w_ = judge(t_);                                            \
        ck_assert_msg(w_ != NULL, "accepted: %s", t_);                         \
        ck_assert_msg(strstr(w_, reason) != NULL, "reason %s, want %s", w_,    \
                      reason);                                                 \
        free(t_);                                                              \
    } while (0)

static const char *RS = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\"}";
static const char *ES = "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec-1\"}";
static const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"hs-1\"}";

static char *rs_token(const char *extra)
{
    char *c = claims(extra), *t = token(RS, c, "RS256", rsa);

    free(c);
    return t;
}

static void setup(void)
{
    now = (long)time(NULL);
    keys = standard_keys();
    verifier = te_jwt_verifier_new(65536); /* room for larger limits */
    ck_assert_ptr_nonnull(verifier);
}

static void teardown(void)
{
    json_decref(last_payload);
    last_payload = NULL;
    te_jwt_verifier_free(verifier);
    te_jwt_keys_unref(keys);
}

/* ------------------------------------------------------------- base64url */

START_TEST(b64url_strict)
{
    unsigned char out[64];

    ck_assert_int_eq(te_b64url_decode("", 0, out), 0);
    ck_assert_int_eq(te_b64url_decode("Zm9v", 4, out), 3);
    ck_assert(memcmp(out, "foo", 3) == 0);
    ck_assert_int_eq(te_b64url_decode("Zm8", 3, out), 2);
    ck_assert_int_eq(te_b64url_decode("Zg", 2, out), 1);
    ck_assert_int_eq(te_b64url_decode("-_-_", 4, out), 3);
    ck_assert_int_eq(out[0], 0xfb);

    /* padding, the standard alphabet, blanks, stray bytes */
    ck_assert_int_eq(te_b64url_decode("Zg==", 4, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm8=", 4, out), -1);
    ck_assert_int_eq(te_b64url_decode("+/+/", 4, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm 9", 4, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm9v\n", 5, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm*v", 4, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm9\0", 4, out), -1);
    /* a lone last character, non-zero trailing bits */
    ck_assert_int_eq(te_b64url_decode("Zm9vY", 5, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zh", 2, out), -1);
    ck_assert_int_eq(te_b64url_decode("Zm9", 3, out), -1);
}
END_TEST

START_TEST(json_depth_prescan)
{
    const char *ok = "{\"a\":[1,{\"b\":\"[[[[[[\"}]}";
    char deep[4100];

    ck_assert(te_jwt_json_depth_ok((const unsigned char *)ok, strlen(ok), 3));
    ck_assert(!te_jwt_json_depth_ok((const unsigned char *)ok, strlen(ok), 2));
    ck_assert(
        te_jwt_json_depth_ok((const unsigned char *)"{\"\\\"[\":1}", 9, 1));
    memset(deep, '[', 4096);
    ck_assert(!te_jwt_json_depth_ok((unsigned char *)deep, 4096, 64));
}
END_TEST

/* ---------------------------------------------------------------- accept */

START_TEST(valid_rs256_es256_hs256_es384)
{
    char *c = claims(",\"scope\":\"read write\"");

    accepted(token(RS, c, "RS256", rsa));
    ck_assert_str_eq(ident.subject, "user-1");
    ck_assert_str_eq(ident.tenant, "t-0001");
    ck_assert_str_eq(ident.scopes, "read write");
    ck_assert_int_eq(ident.kind, TE_PRINCIPAL_USER);
    accepted(token(ES, c, "ES256", ec256));
    accepted(token_ex(HS, c, "HS256", SECRET, strlen(SECRET), 0));
    accepted(
        token("{\"alg\":\"ES384\",\"kid\":\"ec384-1\"}", c, "ES384", ec384));
    free(c);
}
END_TEST

START_TEST(typ_jwt_and_at_jwt_only)
{
    char *c = claims("");

    accepted(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", c, "RS256", rsa));
    accepted(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"at+jwt\"}",
                   c, "RS256", rsa));
    accepted(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\","
                   "\"typ\":\"application/at+JWT\"}",
                   c, "RS256", rsa));
    refused(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JOSE\"}", c,
                  "RS256", rsa),
            "typ");
    refused(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":1}", c, "RS256",
                  rsa),
            "typ");
    free(c);
}
END_TEST

START_TEST(extra_claims_nested_and_null_ignored)
{
    accepted(rs_token(",\"x\":[1,2,null],\"ctx\":{\"plan\":\"gold\"},"
                      "\"n\":null"));
    ck_assert_str_eq(ident.scopes, "");
}
END_TEST

/* ----------------------------------------------------------------- times */

START_TEST(expired_and_leeway)
{
    char c[512];

    refused(rs_token(",\"exp\":1"), "dup"); /* exp twice: duplicate */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld}", ISS,
             AUD, now - 3600);
    refused(token(RS, c, "RS256", rsa), "expired");
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld}", ISS,
             AUD, now - 30);
    accepted(token(RS, c, "RS256", rsa)); /* within 60 s */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld.5}", ISS,
             AUD, now + 100);
    accepted(token(RS, c, "RS256", rsa)); /* fractional NumericDate */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":\"%ld\"}",
             ISS, AUD, now + 100);
    refused(token(RS, c, "RS256", rsa), "exp is not a number");
    snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\"}", ISS,
             AUD);
    refused(token(RS, c, "RS256", rsa), "no exp");
}
END_TEST

START_TEST(nbf_and_iat_in_the_future)
{
    char c[512];

    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"nbf\":%ld}",
             ISS, AUD, now + 7200, now + 3600);
    refused(token(ES, c, "ES256", ec256), "nbf");
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"nbf\":%ld,\"iat\":%ld}",
             ISS, AUD, now + 900, now + 20, now + 20);
    accepted(token(ES, c, "ES256", ec256)); /* inside the leeway */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"iat\":%ld}",
             ISS, AUD, now + 7200, now + 3600);
    refused(token(ES, c, "ES256", ec256), "iat");
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"nbf\":true}",
             ISS, AUD, now + 900);
    refused(token(ES, c, "ES256", ec256), "nbf is not a number");
}
END_TEST

/* ------------------------------------------------------ iss, aud, sub */

static char *with(const char *iss, const char *aud_json, const char *sub)
{
    char c[1024];

    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":%s,\"aud\":%s,\"tenant\":\"t-0001\","
             "\"exp\":%ld}",
             iss, sub, aud_json, now + 900);
    return token(RS, c, "RS256", rsa);
}

START_TEST(issuer_exact)
{
    refused(with(ISS ".evil.test", "\"" AUD "\"", "\"u\""), "untrusted issuer");
    refused(with("https://id.example.tes", "\"" AUD "\"", "\"u\""),
            "untrusted issuer");
    accepted(with(SVCISS, "\"" AUD "\"", "\"billing\""));
    ck_assert_int_eq(ident.kind, TE_PRINCIPAL_SERVICE);
    ck_assert_str_eq(ident.subject, "billing");
}
END_TEST

START_TEST(audience_string_or_array)
{
    refused(with(ISS, "\"tenantedge-admin\"", "\"u\""), "wrong audience");
    refused(with(ISS, "[\"billing\"]", "\"u\""), "wrong audience");
    refused(with(ISS, "[\"tenantedge\",1]", "\"u\""), "wrong audience");
    refused(with(ISS, "{\"a\":\"tenantedge\"}", "\"u\""), "wrong audience");
    refused(with(ISS, "null", "\"u\""), "wrong audience");
    accepted(with(ISS, "[\"billing\",\"tenantedge\"]", "\"u\""));
}
END_TEST

START_TEST(subject_tenant_scope_plain_text)
{
    refused(with(ISS, "\"" AUD "\"", "1"), "sub");
    refused(with(ISS, "\"" AUD "\"", "\"a\\r\\nX-Evil: 1\""), "sub");
    refused(with(ISS, "\"" AUD "\"", "\"\""), "sub");
    refused(with(ISS, "\"" AUD "\"", "\"\\u00e9\""), "sub");
    refused(rs_token(",\"tenant\":1"), "dup");
    refused(rs_token(",\"scope\":[\"read\"]"), "scope");
    refused(rs_token(",\"scope\":\"read\\nwrite\""), "scope");
}
END_TEST

START_TEST(other_tenant_is_reported)
{
    char c[512];

    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"tenant\":\"t-0002\"}",
             ISS, AUD, now + 900);
    accepted(token(ES, c, "ES256", ec256));
    ck_assert_str_eq(ident.tenant, "t-0002"); /* the policy phase says 403 */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld}", ISS,
             AUD, now + 900);
    accepted(token(ES, c, "ES256", ec256));
    ck_assert_ptr_null(ident.tenant);
}
END_TEST

/* ------------------------------------------------- algorithm and key */

START_TEST(alg_none_any_case)
{
    static const char *const nones[] = {"none", "None", "NONE", "nOnE", "noNe"};
    char *c = claims(""), *p = b64u_str(c), h[256], *hb, tok[4096];

    for (size_t i = 0; i < sizeof(nones) / sizeof(nones[0]); i++) {
        const char *kids[] = {"", ",\"kid\":\"rsa-1\"", ",\"kid\":\"hs-1\""};

        for (int k = 0; k < 3; k++) {
            snprintf(h, sizeof(h), "{\"alg\":\"%s\"%s}", nones[i], kids[k]);
            hb = b64u_str(h);
            snprintf(tok, sizeof(tok), "%s.%s.", hb, p);
            refused(strdup(tok), "empty segment");
            snprintf(tok, sizeof(tok), "%s.%s.c2ln", hb, p);
            refused(strdup(tok), "alg none");
            free(hb);
        }
    }
    free(p);
    free(c);
}
END_TEST

START_TEST(hs256_keyed_with_the_rsa_public_pem)
{
    char *c = claims("");

    /* key confusion: the RSA key allows RS256 only */
    refused(token_ex("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", c, "HS256",
                     rsa_pub_pem, strlen(rsa_pub_pem), 0),
            "alg is not the one of its key");
    /* and the HMAC key allows HS256 only */
    refused(token("{\"alg\":\"RS256\",\"kid\":\"hs-1\"}", c, "RS256", rsa),
            "alg is not the one of its key");
    /* alg is case-sensitive (RFC 7515 4.1.1) */
    refused(token("{\"alg\":\"rs256\",\"kid\":\"rsa-1\"}", c, "RS256", rsa),
            "unsupported alg");
    refused(token("{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", c, "ES256", ec256),
            "alg is not the one of its key");
    refused(token("{\"kid\":\"rsa-1\"}", c, "RS256", rsa), "without alg");
    free(c);
}
END_TEST

START_TEST(kid_unknown_missing_or_not_a_string)
{
    char *c = claims(""), err[256], *j, text[4096];
    te_jwt_keys *one;

    refused(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1-404\"}", c, "RS256", rsa),
            "unknown kid");
    refused(token_ex("{\"alg\":\"HS256\",\"kid\":\"../../../../dev/null\"}", c,
                     "HS256", "", 0, 0),
            "unknown kid");
    refused(token("{\"alg\":\"RS256\"}", c, "RS256", rsa), "several keys");
    refused(token("{\"alg\":\"RS256\",\"kid\":7}", c, "RS256", rsa),
            "kid is not a string");

    /* a set of one: no kid needed */
    j = jwk(rsa, "only", NULL);
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", j);
    one = te_jwt_keys_build("one", text, strlen(text), NULL, 0, NULL, err,
                            sizeof(err));
    ck_assert_msg(one != NULL, "%s", err);
    te_jwt_keys_unref(keys);
    keys = one;
    accepted(token("{\"alg\":\"RS256\"}", c, "RS256", rsa));
    free(j);
    free(c);
}
END_TEST

START_TEST(refused_header_parameters)
{
    static const char *const params[] = {
        "\"crit\":[\"exp\"]",
        "\"crit\":[\"x-te\"],\"x-te\":1",
        "\"jku\":\"https://attacker.example.test/jwks.json\"",
        "\"x5u\":\"https://attacker.example.test/cert.pem\"",
        "\"x5c\":[\"MIIB\"]",
        "\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "\"cty\":\"JWT\"",
        "\"enc\":\"A128GCM\"",
        "\"zip\":\"DEF\"",
    };
    char *c = claims(""), h[512];

    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",%s}",
                 params[i]);
        refused(token(h, c, "RS256", rsa), "refused parameter");
    }
    /* a token signed by a key the jku points at */
    refused(token("{\"alg\":\"RS256\",\"kid\":\"attacker-1\","
                  "\"jku\":\"https://attacker.example.test/\"}",
                  c, "RS256", rsa_other),
            "refused parameter");
    refused(token("{\"alg\":\"RS256\",\"kid\":\"attacker-1\"}", c, "RS256",
                  rsa_other),
            "unknown kid");
    free(c);
}
END_TEST

/* ------------------------------------------------------ signature form */

START_TEST(tampered_truncated_stripped)
{
    char *t = rs_token(""), *dot = strrchr(t, '.'), *c2, *p2, *mod;
    size_t n = strlen(t);

    /* the payload of another token, the signature of this one */
    c2 = claims(",\"admin\":true");
    p2 = b64u_str(c2);
    mod = malloc(n + strlen(p2) + 8);
    sprintf(mod, "%.*s.%s%s", (int)(strchr(t, '.') - t), t, p2, dot);
    refused(mod, "bad signature");

    /* truncated: a byte short (2 characters), or a character short */
    refused(strndup(t, n - 2), "bad signature");
    refused(strndup(t, n - 1), "signature is not base64url");
    /* stripped */
    refused(strndup(t, (size_t)(dot - t) + 1), "empty segment");
    /* one bit flipped in the signature */
    mod = strdup(t);
    mod[n - 5] = mod[n - 5] == 'A' ? 'B' : 'A';
    refused(mod, "bad signature");
    /* extra segments, missing ones */
    mod = malloc(n + 8);
    sprintf(mod, "%s.AAAA", t);
    refused(mod, "three segments");
    refused(strndup(t, (size_t)(dot - t)), "three segments");
    free(p2);
    free(c2);
    free(t);
}
END_TEST

START_TEST(ecdsa_der_zero_and_wrong_length)
{
    char *c = claims(""), *t, *h, *p, tok[4096], *s;
    unsigned char zero[64] = {0};

    refused(token_ex(ES, c, "ES256", ec256, 0, 1), "bad signature");

    /* r = s = 0 (CVE-2022-21449) */
    h = b64u_str(ES);
    p = b64u_str(c);
    s = b64u(zero, sizeof(zero));
    snprintf(tok, sizeof(tok), "%s.%s.%s", h, p, s);
    refused(strdup(tok), "bad signature");
    free(s);

    /* an ES256 signature on the RSA kid, an RSA one on the EC kid */
    t = token(RS, c, "RS256", rsa);
    snprintf(tok, sizeof(tok), "%s.%s.%s", h, p, strrchr(t, '.') + 1);
    refused(strdup(tok), "bad signature");
    free(t);
    free(h);
    free(p);
    free(c);
}
END_TEST

START_TEST(padding_and_stray_characters)
{
    char *t = rs_token(",\"jti\":\"pad-x\""), *d1 = strchr(t, '.');
    char *d2 = strrchr(t, '.'), buf[8192];

    /* '=' after each segment in turn, a '+' and a blank inside */
    snprintf(buf, sizeof(buf), "%.*s=%s", (int)(d1 - t), t, d1);
    refused(strdup(buf), "base64url");
    snprintf(buf, sizeof(buf), "%.*s=%s", (int)(d2 - t), t, d2);
    refused(strdup(buf), "base64url");
    snprintf(buf, sizeof(buf), "%s==", t);
    refused(strdup(buf), "base64url");
    snprintf(buf, sizeof(buf), "%.*s+%s", (int)(d2 - t) + 1, t, d2 + 2);
    refused(strdup(buf), "base64url");
    snprintf(buf, sizeof(buf), "%.*s %s", (int)(d2 - t) + 3, t, d2 + 3);
    refused(strdup(buf), "base64url");
    snprintf(buf, sizeof(buf), "%.*s*!*%s", (int)(d2 - t) + 3, t, d2 + 3);
    refused(strdup(buf), "base64url");
    free(t);
}
END_TEST

START_TEST(oversized_token)
{
    char *pad = malloc(9000), *extra = malloc(9100);

    memset(pad, 'p', 8999);
    pad[8999] = '\0';
    snprintf(extra, 9100, ",\"pad\":\"%s\"", pad);
    refused(rs_token(extra), "too large");
    limits.max_size = 65536;
    accepted(rs_token(extra));
    limits.max_size = 8192;
    free(pad);
    free(extra);
}
END_TEST

/* ------------------------------------------------------------------ JSON */

START_TEST(duplicate_names)
{
    char c[512], *body;

    /* the same claim twice, also spelled with an escape */
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"tenant\":\"t-0002\",\"tenant\":\"t-0001\"}",
             ISS, AUD, now + 900);
    refused(token(RS, c, "RS256", rsa), "duplicate");
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"tenant\":\"t-0002\",\"ten\\u0061nt\":\"t-0001\"}",
             ISS, AUD, now + 900);
    refused(token(RS, c, "RS256", rsa), "duplicate");
    /* and in the header */
    body = claims("");
    refused(token("{\"alg\":\"HS256\",\"alg\":\"RS256\",\"kid\":\"rsa-1\"}",
                  body, "RS256", rsa),
            "duplicate");
    free(body);
}
END_TEST

START_TEST(deep_or_odd_json)
{
    char deep[9000], c[12000], *body = claims("");
    int n;

    /* 8 levels are fine, 9 are not, 3000 neither (and no crash) */
    n = snprintf(deep, sizeof(deep), "[[[[[[[1]]]]]]]");
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"x\":%s}",
             ISS, AUD, now + 900, deep);
    accepted(token(RS, c, "RS256", rsa));
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"x\":[%s]}",
             ISS, AUD, now + 900, deep);
    refused(token(RS, c, "RS256", rsa), "too deep");
    (void)n;
    memset(deep, '[', 3000);
    memset(deep + 3000, ']', 3000);
    deep[6000] = '\0';
    limits.max_size = 65536;
    snprintf(c, sizeof(c),
             "{\"iss\":\"%s\",\"sub\":\"u\",\"aud\":\"%s\",\"exp\":%ld,"
             "\"x\":%s}",
             ISS, AUD, now + 900, deep);
    refused(token(RS, c, "RS256", rsa), "too deep");
    refused(token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x\":[[[[[[[[[1]]]]]"
                  "]]]]}",
                  body, "RS256", rsa),
            "too deep");
    limits.max_size = 8192;

    /* not objects, not JSON */
    refused(token(RS, "[1,2]", "RS256", rsa), "payload is not a JSON object");
    refused(token(RS, "\"x\"", "RS256", rsa), "payload is not a JSON object");
    refused(token(RS, "{\"a\":1} x", "RS256", rsa),
            "payload is not a JSON object");
    refused(token("[\"RS256\"]", body, "RS256", rsa),
            "header is not a JSON object");
    free(body);
}
END_TEST

/* ---------------------------------------------------------------- JWKS */

static const char *build_error(const char *jwks, const unsigned char *secret,
                               size_t secret_len)
{
    static char err[512];
    te_jwt_keys *ks;

    err[0] = '\0';
    ks = te_jwt_keys_build("j", jwks, strlen(jwks), secret, secret_len, NULL,
                           err, sizeof(err));
    if (ks != NULL) {
        te_jwt_keys_unref(ks);
        return NULL;
    }
    return err;
}

#define build_refused(text, reason)                                            \
    do {                                                                       \
        const char *e_ = build_error((text), NULL, 0);                         \
        ck_assert_msg(e_ != NULL, "built: %s", (text));                        \
        ck_assert_msg(strstr(e_, (reason)) != NULL, "error %s, want %s", e_,   \
                      (reason));                                               \
    } while (0)

START_TEST(jwks_refuses_weak_or_doubtful_keys)
{
    char *weak = jwk(rsa_weak, "weak", NULL), *a = jwk(rsa, "a", NULL);
    char *b = jwk(ec256, "a", NULL), *e = jwk(ec256, "e", "RS256");
    char text[16384], *x;

    snprintf(text, sizeof(text), "{\"keys\":[%s]}", weak);
    build_refused(text, "1024 bits");
    snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", a, b);
    build_refused(text, "kid \"a\" given to two keys");
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", e);
    build_refused(text, "does not suit an EC");

    /* a point moved off the curve: y of another key */
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", b);
    x = strstr(text, "\"y\":\"") + 5;
    x[3] = x[3] == 'A' ? 'B' : 'A';
    build_refused(text, "EC key");

    /* private material, symmetric keys, exponent 1, a short coordinate */
    snprintf(text, sizeof(text), "{\"keys\":[%.*s,\"d\":\"AAAA\"}]}",
             (int)strlen(a) - 1, a);
    build_refused(text, "private key material");
    build_refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}",
                  "hmac_secret");
    snprintf(text, sizeof(text), "%s", a);
    x = strstr(text, "\"e\":\"") + 5;
    memcpy(x, "AQ\"}", 5);
    snprintf(text + strlen(text), sizeof(text) - strlen(text), "]}");
    memmove(text + 9, text, strlen(text) + 1);
    memcpy(text, "{\"keys\":[", 9);
    build_refused(text, "exponent");
    build_refused("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
                  "\"y\":\"AAAA\"}]}",
                  "32 bytes");
    build_refused("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"secp256k1\","
                  "\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
                  "curve");

    /* form */
    build_refused("{\"keys\":{}}", "not a JWKS");
    build_refused("{\"keys\":[]}", "no key");
    build_refused("{\"keys\":[1]}", "not a JWK");
    build_refused("{\"keys\":[],\"keys\":[]}", "invalid JSON");
    free(weak);
    free(a);
    free(b);
    free(e);
}
END_TEST

START_TEST(jwks_skips_keys_it_does_not_verify_with)
{
    char *a = jwk(rsa, "a", NULL), *b = jwk(rsa_other, "b", "PS256");
    char *enc = jwk(rsa_other, "c", NULL), text[16384], err[256];
    te_jwt_keys *ks;

    enc[strlen(enc) - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"keys\":[%s,%s,%s,\"use\":\"enc\"},{\"kty\":\"OKP\","
             "\"crv\":\"Ed25519\",\"x\":\"AAAA\",\"kid\":\"d\"}]}",
             a, b, enc);
    ks = te_jwt_keys_build("j", text, strlen(text), NULL, 0, NULL, err,
                           sizeof(err));
    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_uint_eq(ks->nkeys, 1);
    ck_assert_uint_eq(ks->skipped, 3);
    ck_assert_ptr_nonnull(te_jwt_keys_find(ks, "a"));
    ck_assert_ptr_null(te_jwt_keys_find(ks, "b"));
    ck_assert_ptr_eq(te_jwt_keys_find(ks, NULL), te_jwt_keys_find(ks, "a"));
    te_jwt_keys_unref(ks);
    free(a);
    free(b);
    free(enc);
}
END_TEST

START_TEST(hmac_secret_rules)
{
    char *a = jwk(rsa, "a", NULL), text[8192], err[256];
    te_jwt_keys *ks;

    ck_assert_ptr_nonnull(
        strstr(build_error("{\"keys\":[]}", (const unsigned char *)"short", 5),
               "at least 32"));
    /* a secret without kid next to a JWKS key cannot be named */
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", a);
    ck_assert_ptr_nonnull(
        strstr(build_error(text, (const unsigned char *)SECRET, strlen(SECRET)),
               "without kid"));
    /* alone, it needs none */
    ks = te_jwt_keys_build(NULL, NULL, 0, (const unsigned char *)SECRET,
                           strlen(SECRET), NULL, err, sizeof(err));
    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(te_jwt_keys_find(ks, NULL)->alg, TE_JWT_HS256);
    te_jwt_keys_unref(ks);
    free(a);
}
END_TEST

/* -------------------------------------------------------------- reload */

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char tmp[128], path[128];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);
}

static void jwks_file(EVP_PKEY *key, const char *kid)
{
    char *j = jwk(key, kid, NULL), text[8192];

    snprintf(text, sizeof(text), "{\"keys\":[%s]}", j);
    write_file("jwks.json", text);
    free(j);
}

START_TEST(rotation_new_kid_in_old_kid_out)
{
    char path[128], err[512];
    unsigned long gen, gen2;
    te_jwt_source *src;
    te_jwt_keys *ks;

    snprintf(dir, sizeof(dir), "/tmp/te-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/jwks.json", dir);
    jwks_file(rsa, "old");
    src = te_jwt_source_new(path, NULL, NULL, err, sizeof(err));
    ck_assert_msg(src != NULL, "%s", err);
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), 0);

    ks = te_jwt_source_get(src, &gen);
    ck_assert_ptr_nonnull(te_jwt_keys_find(ks, "old"));
    jwks_file(rsa_other, "new");
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), 1);
    ck_assert_uint_ne(te_jwt_source_gen(src), gen);
    /* the old set lives on while referenced */
    ck_assert_ptr_nonnull(te_jwt_keys_find(ks, "old"));
    te_jwt_keys_unref(ks);
    ks = te_jwt_source_get(src, &gen2);
    ck_assert_ptr_null(te_jwt_keys_find(ks, "old"));
    ck_assert_ptr_nonnull(te_jwt_keys_find(ks, "new"));
    te_jwt_keys_unref(ks);

    /* a bad file: refused once, the set stays */
    write_file("jwks.json", "{\"keys\":[");
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), -1);
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), 0);
    ck_assert_uint_eq(te_jwt_source_gen(src), gen2);
    unlink(path);
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), -1);
    ck_assert_int_eq(te_jwt_source_check(src, err, sizeof(err)), 0);
    ks = te_jwt_source_get(src, &gen);
    ck_assert_ptr_nonnull(te_jwt_keys_find(ks, "new"));
    te_jwt_keys_unref(ks);
    te_jwt_source_free(src);
    rmdir(dir);
}
END_TEST

static const te_module watcher_mod = {.abi = TE_MODULE_ABI, .name = "jwt"};

START_TEST(watcher_thread_publishes_within_seconds)
{
    char path[128], err[512];
    unsigned long gen;
    te_jwt_source *src;
    int i;

    snprintf(dir, sizeof(dir), "/tmp/te-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/jwks.json", dir);
    jwks_file(ec256, "one");
    src = te_jwt_source_new(path, NULL, NULL, err, sizeof(err));
    ck_assert_msg(src != NULL, "%s", err);
    gen = te_jwt_source_gen(src);
    ck_assert_int_eq(te_jwt_source_watch(src, &watcher_mod), 0);
    ck_assert_int_eq(te_jwt_source_watch(src, &watcher_mod), 0);
    jwks_file(ec256, "two");
    for (i = 0; i < 40 && te_jwt_source_gen(src) == gen; i++)
        usleep(100000);
    ck_assert_uint_ne(te_jwt_source_gen(src), gen);
    te_jwt_source_free(src); /* stops and joins the watcher */
    unlink(path);
    rmdir(dir);
}
END_TEST

/* --------------------------------------------------------------- cache */

static te_jwt_identity id_of(const char *sub, double exp)
{
    return (te_jwt_identity){TE_PRINCIPAL_USER, sub, "t-1", "read", ISS, exp};
}

START_TEST(cache_hits_expiry_and_bound)
{
    te_jwt_cache *c = te_jwt_cache_new(3);
    unsigned char d[5][TE_JWT_DIGEST_LEN];
    const te_jwt_identity *hit;
    te_jwt_identity id;

    for (int i = 0; i < 5; i++)
        te_jwt_digest(verifier, &i, sizeof(i), d[i]);
    id = id_of("u0", (double)now + 100);
    ck_assert_int_eq(te_jwt_cache_put(c, d[0], &id), 0);
    hit = te_jwt_cache_get(c, d[0], (double)now, 60);
    ck_assert_ptr_nonnull(hit);
    ck_assert_str_eq(hit->subject, "u0");
    ck_assert_str_eq(hit->tenant, "t-1");
    ck_assert_ptr_null(te_jwt_cache_get(c, d[1], (double)now, 60));

    /* expiry with leeway, then the entry is gone */
    ck_assert_ptr_nonnull(te_jwt_cache_get(c, d[0], (double)now + 159, 60));
    ck_assert_ptr_null(te_jwt_cache_get(c, d[0], (double)now + 160, 60));
    ck_assert_uint_eq(te_jwt_cache_count(c), 0);

    /* bounded: the least recently used goes */
    for (int i = 0; i < 3; i++) {
        char sub[8];

        snprintf(sub, sizeof(sub), "u%d", i);
        id = id_of(sub, (double)now + 100);
        te_jwt_cache_put(c, d[i], &id);
    }
    ck_assert_ptr_nonnull(te_jwt_cache_get(c, d[0], (double)now, 60));
    id = id_of("u3", (double)now + 100);
    te_jwt_cache_put(c, d[3], &id);
    ck_assert_uint_eq(te_jwt_cache_count(c), 3);
    ck_assert_ptr_null(te_jwt_cache_get(c, d[1], (double)now, 60));
    ck_assert_ptr_nonnull(te_jwt_cache_get(c, d[0], (double)now, 60));

    te_jwt_cache_clear(c);
    ck_assert_uint_eq(te_jwt_cache_count(c), 0);
    ck_assert_ptr_null(te_jwt_cache_get(c, d[0], (double)now, 60));
    te_jwt_cache_free(c);
    ck_assert_ptr_null(te_jwt_cache_new(0));
}
END_TEST

START_TEST(scope_words)
{
    ck_assert(te_jwt_scope_has("read write", "write"));
    ck_assert(te_jwt_scope_has("read write", "read"));
    ck_assert(!te_jwt_scope_has("read write", "rea"));
    ck_assert(!te_jwt_scope_has("read-write", "read"));
    ck_assert(!te_jwt_scope_has("", "read"));
}
END_TEST

/* -------------------------------------------------------------- config */

static char conf_err[1024];

static te_config *load_conf(const char *module_body)
{
    char text[4096], path[128];

    snprintf(dir, sizeof(dir), "/tmp/te-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    jwks_file(rsa, "rsa-1");
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    snprintf(text, sizeof(text),
             "listen 127.0.0.1:8080;\ndomain edge.test;\n"
             "region eu { shard eu-1 { backend 127.0.0.1:9101; } }\n"
             "module jwt {\n%s}\n",
             module_body);
    write_file("t.conf", text);
    return te_config_load(path, conf_err, sizeof(conf_err));
}

static void unload_conf(te_config *cf)
{
    char path[128];

    te_config_unref(cf);
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/jwks.json", dir);
    unlink(path);
    rmdir(dir);
}

#define conf_refused(body, msg)                                                \
    do {                                                                       \
        te_config *cf_ = load_conf(body);                                      \
        ck_assert_msg(cf_ == NULL, "loaded: %s", body);                        \
        ck_assert_msg(strstr(conf_err, (msg)) != NULL, "error %s, want %s",    \
                      conf_err, (msg));                                        \
        unload_conf(NULL);                                                     \
    } while (0)

START_TEST(config_checked_at_load)
{
    te_config *cf;

    cf = load_conf("jwks jwks.json; issuer " ISS "; audience " AUD ";\n"
                   "leeway 30s; max_token_size 16k; cache 5;\n"
                   "allow service billing { methods GET POST; paths /a/; }\n"
                   "principal_headers { user X-User; }\n");
    ck_assert_msg(cf != NULL, "%s", conf_err);
    unload_conf(cf);

    conf_refused("issuer " ISS "; audience " AUD ";\n",
                 "needs \"jwks\" or \"hmac_secret\"");
    conf_refused("jwks jwks.json; audience " AUD ";\n", "needs \"issuer\"");
    conf_refused("jwks jwks.json; issuer " ISS ";\n", "needs \"audience\"");
    conf_refused("jwks nope.json; issuer " ISS "; audience " AUD ";\n",
                 "nope.json");
    conf_refused("jwks jwks.json; issuer " ISS "; audience " AUD ";\n"
                 "allow service billing { methods GET; }\n",
                 "needs \"methods\" and \"paths\"");
    conf_refused("jwks jwks.json; issuer " ISS "; audience " AUD ";\n"
                 "allow user x { methods GET; paths /; }\n",
                 "t.conf:6:7: expected \"service NAME\"");
    conf_refused("jwks jwks.json; issuer " ISS "; audience " AUD ";\n"
                 "max_token_size 1m;\n",
                 "max_token_size must be between");
    conf_refused("jwks jwks.json; issuer " ISS "; service_issuer " ISS ";\n"
                 "audience " AUD ";\n",
                 "both an issuer and a service_issuer");
    conf_refused("jwks jwks.json; issuer " ISS "; audience " AUD ";\n"
                 "hmac_secret jwks.json kid;\n",
                 "expected \"kid NAME\"");
    conf_refused("jwks jwks.json; jwks jwks.json;\n", "duplicate directive");
}
END_TEST

static void make_keys(void)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem;
    long n;

    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa_weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ec_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    PEM_write_bio_PUBKEY(bio, rsa);
    n = BIO_get_mem_data(bio, &mem);
    rsa_pub_pem = strndup(mem, (size_t)n);
    BIO_free(bio);
}

static void free_keys(void)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(rsa_weak);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ec_other);
    free(rsa_pub_pem);
}

int main(void)
{
    Suite *s = suite_create("jwt");
    TCase *v = tcase_create("verify"), *k = tcase_create("keys");
    SRunner *sr;
    int failed;

    make_keys();
    tcase_add_checked_fixture(v, setup, teardown);
    tcase_add_test(v, b64url_strict);
    tcase_add_test(v, json_depth_prescan);
    tcase_add_test(v, valid_rs256_es256_hs256_es384);
    tcase_add_test(v, typ_jwt_and_at_jwt_only);
    tcase_add_test(v, extra_claims_nested_and_null_ignored);
    tcase_add_test(v, expired_and_leeway);
    tcase_add_test(v, nbf_and_iat_in_the_future);
    tcase_add_test(v, issuer_exact);
    tcase_add_test(v, audience_string_or_array);
    tcase_add_test(v, subject_tenant_scope_plain_text);
    tcase_add_test(v, other_tenant_is_reported);
    tcase_add_test(v, alg_none_any_case);
    tcase_add_test(v, hs256_keyed_with_the_rsa_public_pem);
    tcase_add_test(v, kid_unknown_missing_or_not_a_string);
    tcase_add_test(v, refused_header_parameters);
    tcase_add_test(v, tampered_truncated_stripped);
    tcase_add_test(v, ecdsa_der_zero_and_wrong_length);
    tcase_add_test(v, padding_and_stray_characters);
    tcase_add_test(v, oversized_token);
    tcase_add_test(v, duplicate_names);
    tcase_add_test(v, deep_or_odd_json);
    tcase_add_test(v, cache_hits_expiry_and_bound);
    tcase_add_test(v, scope_words);
    suite_add_tcase(s, v);

    tcase_add_checked_fixture(k, setup, teardown);
    tcase_set_timeout(k, 20);
    tcase_add_test(k, jwks_refuses_weak_or_doubtful_keys);
    tcase_add_test(k, jwks_skips_keys_it_does_not_verify_with);
    tcase_add_test(k, hmac_secret_rules);
    tcase_add_test(k, rotation_new_kid_in_old_kid_out);
    tcase_add_test(k, watcher_thread_publishes_within_seconds);
    tcase_add_test(k, config_checked_at_load);
    suite_add_tcase(s, k);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free_keys();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
