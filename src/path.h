/*
 * path.h: rules on the path of a request-target that hold whatever
 * protocol carried it: the HTTP/1.1 parser applies them to origin-form
 * and absolute-form targets, and an HTTP/2 :path must go through the
 * same function.
 *
 * The edge routes and applies product policy by the raw path prefix and
 * forwards the path unchanged, so a path that an origin would resolve
 * to somewhere else (/wiki/../jira/secret) is refused here rather than
 * normalised: the edge and the backend then always mean the same
 * resource.
 */
#ifndef TE_PATH_H
#define TE_PATH_H

#include <stddef.h>

/*
 * Is path[0..len) (a path, maybe followed by '?' and a query) safe to
 * route by its prefix? Returns 0 when the part before the first '?'
 *   - holds a dot segment (RFC 3986 3.3, 5.2.4): a segment that is "."
 *     or ".." once each "%2E" is read as '.', where segments are
 *     separated by '/', '\', "%2F" or "%5C" (any case): every separator
 *     some origin splits on; a segment's ";parameters" are left out
 *     first, as servlet containers do ("..;x" is "..");
 *   - holds "%00", which a C backend reads as the end of the path;
 * and 1 otherwise. "%2F" inside an ordinary segment is allowed (APIs
 * encode identifiers with it); the query is not looked at. Reads each
 * byte once, never allocates; len 0 is safe.
 */
int te_path_is_safe(const char *path, size_t len);

#endif
