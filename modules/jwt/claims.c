/*
 * claims.c: what a verified token says, and whether it holds now.
 *
 * A good signature only proves who wrote the claims; these checks make
 * the token valid here and now: the time claims with the configured
 * leeway (RFC 7519 4.1.4-4.1.6), an issuer we trust (RFC 8725 3.8), our
 * audience (RFC 8725 3.9), and a subject. Values that end up in fields
 * sent to backends (sub, tenant, scope) must be plain visible ASCII:
 * the edge never forwards a byte it would have to escape.
 */
#include "jwt.h"

#include <string.h>

/* A NumericDate (RFC 7519 2): any JSON number, fractions included.
 * 1 present and valid, 0 absent, -1 present and not a number. */
static int numeric_date(const json_t *payload, const char *name, double *out)
{
    const json_t *v = json_object_get(payload, name);

    if (v == NULL)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 1;
}

/* 1..max bytes of visible ASCII (sub, tenant), or, with spaces allowed,
 * RFC 6749 3.3 scope-tokens separated by spaces. */
static int plain_text(const char *s, size_t max, int spaces)
{
    size_t n = strlen(s);

    if (n > max || (n == 0 && !spaces))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ' ' && spaces)
            continue;
        if (c < 0x21 || c > 0x7e || (spaces && (c == '"' || c == '\\')))
            return 0;
    }
    return 1;
}

static int one_of(const char *s, const char *const *list, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* RFC 7519 4.1.3: aud is one string or an array of strings, and must
 * hold ours. An array with anything but strings is malformed. */
static int audience_ok(const json_t *aud, const char *ours)
{
    size_t i;
    json_t *v;
    int found = 0;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), ours) == 0;
    if (!json_is_array(aud))
        return 0;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v))
            return 0;
        if (strcmp(json_string_value(v), ours) == 0)
            found = 1;
    }
    return found;
}

/* The time claims: exp required and in the future, nbf and iat (when
 * present) not beyond now, each with the leeway for clock skew. */
static const char *check_times(const json_t *payload, double now, double leeway,
                               double *exp)
{
    double nbf, iat;
    int rc;

    rc = numeric_date(payload, "exp", exp);
    if (rc == 0)
        return "no exp";
    if (rc < 0)
        return "exp is not a number";
    if (now >= *exp + leeway) /* RFC 7519 4.1.4 */
        return "expired";

    rc = numeric_date(payload, "nbf", &nbf);
    if (rc < 0)
        return "nbf is not a number";
    if (rc > 0 && now + leeway < nbf) /* RFC 7519 4.1.5 */
        return "not valid yet (nbf)";

    rc = numeric_date(payload, "iat", &iat);
    if (rc < 0)
        return "iat is not a number";
    if (rc > 0 && iat > now + leeway) /* RFC 7519 4.1.6 */
        return "issued in the future (iat)";
    return NULL;
}

const char *te_jwt_claims_check(const te_jwt_claim_rules *rules,
                                json_t *payload, double now,
                                te_jwt_identity *id)
{
    const json_t *iss, *sub, *tenant, *scope;
    const char *why;

    memset(id, 0, sizeof(*id));
    why = check_times(payload, now, (double)rules->leeway, &id->exp);
    if (why != NULL)
        return why;

    /* RFC 8725 3.8: the issuer must be one we trust, exactly; which list
     * it is on says whether a user or a service calls. */
    iss = json_object_get(payload, "iss");
    if (!json_is_string(iss))
        return "no iss";
    id->issuer = json_string_value(iss);
    if (one_of(id->issuer, rules->issuers, rules->nissuers))
        id->kind = TE_PRINCIPAL_USER;
    else if (one_of(id->issuer, rules->service_issuers,
                    rules->nservice_issuers))
        id->kind = TE_PRINCIPAL_SERVICE;
    else
        return "untrusted issuer";

    /* RFC 8725 3.9: a token for another relying party is not ours. */
    if (!audience_ok(json_object_get(payload, "aud"), rules->audience))
        return "wrong audience";

    sub = json_object_get(payload, "sub");
    if (!json_is_string(sub) ||
        !plain_text(json_string_value(sub), TE_JWT_MAX_SUBJECT, 0))
        return "no sub, or not plain text";
    id->subject = json_string_value(sub);

    tenant = json_object_get(payload, rules->tenant_claim);
    if (tenant != NULL &&
        (!json_is_string(tenant) ||
         !plain_text(json_string_value(tenant), TE_JWT_MAX_SUBJECT, 0)))
        return "tenant claim is not plain text";
    id->tenant = tenant != NULL ? json_string_value(tenant) : NULL;

    scope = json_object_get(payload, "scope"); /* RFC 8693 4.2 */
    if (scope != NULL &&
        (!json_is_string(scope) ||
         !plain_text(json_string_value(scope), TE_JWT_MAX_SCOPES, 1)))
        return "scope is not a list of scope tokens";
    id->scopes = scope != NULL ? json_string_value(scope) : "";
    return NULL;
}

int te_jwt_scope_has(const char *has, const char *word)
{
    size_t n = strlen(word);
    const char *p = has;

    while (*p != '\0') {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len == n && memcmp(p, word, n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}
