/*
 * session_record.h: reading a session record, for the core only.
 *
 * What a session is, as modules see it, is public (te_session in
 * include/tenantedge/module.h). How one is read from the JSON the
 * identity system stores at <prefix>session:<id> stays here, so that a
 * record is checked in one place and the cache keeps only what passed.
 */
#ifndef TE_SESSION_RECORD_H
#define TE_SESSION_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "tenantedge/module.h"

/* Bytes of JSON a session record may take; a longer one is refused. */
#define TE_SESSION_MAX_RECORD 4096

/* The latest expiry accepted: 9999-12-31T23:59:59Z. Anything later is
 * a writer's mistake, and would overflow the cache's arithmetic. */
#define TE_SESSION_MAX_EXPIRES INT64_C(253402300799)

/*
 * Parses the record <json> (<len> bytes, not necessarily terminated)
 * stored for session <id> (<id_len> bytes, already valid). Returns one
 * malloc'd block holding the te_session and its strings (free() it), or
 * NULL with a one-line reason in <err>. Refused: over
 * TE_SESSION_MAX_RECORD bytes, invalid JSON, a duplicate key anywhere, a
 * top level that is not an object, "user" missing or not a string of
 * 1..TE_SESSION_USER_MAX visible ASCII bytes, "tenant" missing or not a
 * valid tenant id, "expires" missing or not an integer in
 * 1..TE_SESSION_MAX_EXPIRES. Other members are ignored, so that the
 * identity system can add one without every edge refusing every session.
 * An expired session parses: the expiry is the caller's to judge. The
 * reason never quotes the record, which may hold personal data. Logs
 * nothing.
 */
te_session *te_session_parse(const char *id, size_t id_len, const char *json,
                             size_t len, char *err, size_t errlen);

/* A copy of <s> in one new block (free() it); NULL when out of
 * memory. */
te_session *te_session_copy(const te_session *s);

#endif
