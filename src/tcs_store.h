/*
 * tcs_store.h: the tenant stores that need no network. `store static`
 * turns the config's `site` lines into contexts; `store file` reads a
 * JSON file of tenant records (conf/tenants.json) for one node without
 * Redis. Both end as one table per worker, sorted by site, built once
 * when the worker starts and never changed: a lookup is a binary search
 * and never waits.
 *
 * The file is read and checked whole by the config loader (so that
 * `tenantedge -t` names a bad file), and the workers build their tables
 * from the bytes it kept, so every worker sees the same tenants.
 */
#ifndef TE_TCS_STORE_H
#define TE_TCS_STORE_H

#include <stddef.h>

#include "config.h"
#include "tcs_context.h"

/* Bytes of a tenants file at most. */
#define TE_TCS_FILE_MAX (64u * 1024 * 1024)

typedef struct te_tcs_table te_tcs_table;

/*
 * Reads the tenants file at <path> and checks it: a JSON object with a
 * "tenants" array of records, each valid by te_tcs_context_parse's rules,
 * no site and no tenant id twice. With <cf> (the configuration being
 * loaded, its regions complete; NULL skips this), every shard a record
 * names, its own and its products', must be a shard of <cf> in the
 * record's region. Returns 0 with the file's bytes in <*text> (the
 * caller frees them) and their count in <*len>, or -1 with a one-line
 * reason in <err> that does not repeat the path. Logs nothing.
 */
int te_tcs_file_load(const char *path, const te_config *cf, char **text,
                     size_t *len, char *err, size_t errlen);

/* A table from the bytes te_tcs_file_load returned; NULL with a reason
 * in <err> (out of memory, or bytes it never checked). */
te_tcs_table *te_tcs_table_from_file(const char *text, size_t len, char *err,
                                     size_t errlen);

/* A table from the config's site lines: each becomes an active tenant
 * with no products, in the region of its shard. NULL when out of
 * memory. */
te_tcs_table *te_tcs_table_from_sites(const te_config *cf);

/* Frees the table and drops its references. NULL is a no-op. */
void te_tcs_table_free(te_tcs_table *tb);

/* The context of <site> (<len> bytes, lowercase), borrowed from the
 * table, or NULL when no tenant has that site. */
te_tcs_context *te_tcs_table_find(const te_tcs_table *tb, const char *site,
                                  size_t len);

/* How many tenants the table holds. */
size_t te_tcs_table_count(const te_tcs_table *tb);

#endif
