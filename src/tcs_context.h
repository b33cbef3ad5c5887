/*
 * tcs_context.h: building tenant contexts, for the core only.
 *
 * What a context is and how it is read is public
 * (include/tenantedge/tcs.h). How one is made from a tenant record
 * (Redis, the tenants file) or from a static site line stays here, so
 * that no module can build one.
 */
#ifndef TE_TCS_CONTEXT_H
#define TE_TCS_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "tenantedge/tcs.h"

struct json_t;

/* Bytes of a Redis key prefix (`tcs { prefix P; }`, `tenantctl -p`). */
#define TE_TCS_PREFIX_MAX 64

/* A key prefix: [A-Za-z0-9:._-], 1..TE_TCS_PREFIX_MAX bytes. It goes into
 * every key and channel name, and into tenantctl's SCAN MATCH pattern,
 * where none of these bytes is a glob character. 1 when <s> of <len>
 * bytes is one, else 0. */
int te_tcs_prefix_valid(const char *s, size_t len);

/*
 * Parses and validates the record <json> of <len> bytes (not necessarily
 * NUL-terminated). Returns a new context with one reference, or NULL with
 * a one-line reason in <err> (always terminated when errlen > 0). Refused:
 * over TE_TCS_MAX_RECORD bytes, invalid JSON, a duplicate key anywhere, a
 * top level that is not an object, a missing or mistyped field, a status
 * outside its set, a name outside its charset or length, a negative or
 * fractional version or seat count, more than TE_TCS_MAX_PRODUCTS
 * products or TE_TCS_MAX_FEATURES features, a feature listed twice.
 * "shard" is optional; when present it follows the shard name rules.
 * Fields the edge does not know are ignored, so that a newer writer can
 * add one without every older edge refusing every tenant.
 * Logs nothing: the caller knows the tenant and logs once.
 */
te_tcs_context *te_tcs_context_parse(const char *json, size_t len, char *err,
                                     size_t errlen);

/* The same from a record already parsed by jansson (one element of the
 * tenants file); <root> is borrowed. */
te_tcs_context *te_tcs_context_from_json(struct json_t *root, char *err,
                                         size_t errlen);

/* A context for a static `site` line: active, no products, no features,
 * version 0. The strings are copied as they are (the config checked
 * them by its own rules); <shard> may be NULL. NULL when out of memory. */
te_tcs_context *te_tcs_context_make(const char *id, const char *site,
                                    const char *region, const char *shard);

#endif
