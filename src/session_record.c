/*
 * session_record.c: session ids and session records (see
 * session_record.h).
 *
 * A session id becomes part of a Redis key and a cookie is anyone's to
 * write, so the id is checked before any key is built: a charset with
 * nothing Redis or a log line would read specially, and a length range
 * that refuses both trivially short ids and oversized ones.
 */
#include "session_record.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int te_session_id_valid(const char *s, size_t len)
{
    if (s == NULL || len < TE_SESSION_ID_MIN || len > TE_SESSION_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A user id goes to backends in a header field and into log lines:
 * visible ASCII only, no space. */
static int user_valid(const char *s, size_t len)
{
    if (len == 0 || len > TE_SESSION_USER_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x21 || c > 0x7e)
            return 0;
    }
    return 1;
}

/* The string member <key> of <root>, checked by <valid>; NULL after
 * setting <err>. */
static const char *get_string(json_t *root, const char *key,
                              int (*valid)(const char *, size_t), size_t *len,
                              char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);

    if (v == NULL) {
        set_err(err, errlen, "session record: %s: missing", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        set_err(err, errlen, "session record: %s: not a string", key);
        return NULL;
    }
    *len = json_string_length(v);
    if (!valid(json_string_value(v), *len)) {
        set_err(err, errlen, "session record: %s: invalid value", key);
        return NULL;
    }
    return json_string_value(v);
}

static int get_expires(json_t *root, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(root, "expires");
    json_int_t n;

    if (v == NULL) {
        set_err(err, errlen, "session record: expires: missing");
        return -1;
    }
    if (!json_is_integer(v)) {
        set_err(err, errlen, "session record: expires: not an integer");
        return -1;
    }
    n = json_integer_value(v);
    if (n < 1 || n > TE_SESSION_MAX_EXPIRES) {
        set_err(err, errlen, "session record: expires: out of range");
        return -1;
    }
    *out = (int64_t)n;
    return 0;
}

/* One block: the struct, then id, user and tenant, each terminated. */
static te_session *build(const char *id, size_t id_len, const char *user,
                         size_t user_len, const char *tenant, size_t tenant_len,
                         int64_t expires)
{
    size_t size = sizeof(te_session) + id_len + user_len + tenant_len + 3;
    te_session *s = malloc(size);
    char *p;

    if (s == NULL)
        return NULL;
    p = (char *)(s + 1);
    memcpy(p, id, id_len);
    p[id_len] = '\0';
    s->id = p;
    p += id_len + 1;
    memcpy(p, user, user_len);
    p[user_len] = '\0';
    s->user = p;
    p += user_len + 1;
    memcpy(p, tenant, tenant_len);
    p[tenant_len] = '\0';
    s->tenant = p;
    s->expires = expires;
    return s;
}

te_session *te_session_copy(const te_session *s)
{
    return build(s->id, strlen(s->id), s->user, strlen(s->user), s->tenant,
                 strlen(s->tenant), s->expires);
}

te_session *te_session_parse(const char *id, size_t id_len, const char *json,
                             size_t len, char *err, size_t errlen)
{
    const char *user, *tenant;
    size_t user_len, tenant_len;
    te_session *s = NULL;
    json_error_t jerr;
    int64_t expires;
    json_t *root;

    if (json == NULL || len == 0) {
        set_err(err, errlen, "session record: empty");
        return NULL;
    }
    if (len > TE_SESSION_MAX_RECORD) {
        set_err(err, errlen, "session record: %zu bytes, over the limit of %d",
                len, TE_SESSION_MAX_RECORD);
        return NULL;
    }

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        set_err(err, errlen,
                "session record: invalid JSON at line %d column %d", jerr.line,
                jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        set_err(err, errlen, "session record: not a JSON object");
        goto done;
    }

    user = get_string(root, "user", user_valid, &user_len, err, errlen);
    if (user == NULL)
        goto done;
    tenant =
        get_string(root, "tenant", te_tcs_id_valid, &tenant_len, err, errlen);
    if (tenant == NULL || get_expires(root, &expires, err, errlen) < 0)
        goto done;

    s = build(id, id_len, user, user_len, tenant, tenant_len, expires);
    if (s == NULL)
        set_err(err, errlen, "session record: out of memory");

done:
    json_decref(root);
    return s;
}
