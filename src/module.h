/*
 * module.h (core, private): the modules of one configuration snapshot
 * and what the chain needs from it.
 *
 * A te_chainconf belongs to a te_config: the modules the daemon knows
 * (built in, and those `load_module` loaded for this snapshot), each
 * one's configuration, the chain, the handlers of each phase in chain
 * order, the products and the internal header patterns. It is built by
 * the config loader through the core directives below (`chain`,
 * `module`, `load_module`, `product`, `internal_headers`,
 * `underscores_in_headers`), which are written against the same
 * te_directive API modules use, and is
 * read-only once the load has finished.
 *
 * The core knows no module by name: the built-in list and the default
 * chain come from modules/ (modules/modules.am).
 */
#ifndef TE_MODULE_PRIV_H
#define TE_MODULE_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "tenantedge/module.h"

/* Module names: [a-z0-9_-], 1..TE_MODULE_NAME_MAX bytes. */
#define TE_MODULE_NAME_MAX 32

/* A place in the configuration text; valid while the load runs. */
typedef struct te_conf_where {
    const char *file;
    unsigned line, col;
} te_conf_where;

typedef struct te_mod_entry {
    const te_module *m;
    void *conf; /* from create_conf; NULL before or without one */
    void *dl;   /* dlopen handle of a loaded module, else NULL */
    bool made;  /* create_conf ran (conf may still be NULL) */
    bool in_chain;
    bool block;          /* a `module NAME { }` block was read */
    bool placed;         /* where is set */
    te_conf_where where; /* first directive, block or chain mention */
} te_mod_entry;

/* One handler of one phase, in chain order. */
typedef struct te_phase_slot {
    const te_module *m;
    te_phase_handler fn;
    void *conf;
} te_phase_slot;

typedef struct te_product_conf {
    const char *name;
    const char *prefix;
    size_t prefix_len;
} te_product_conf;

typedef struct te_header_pattern {
    const char *name; /* lowercase, without the '*' */
    size_t len;
    bool prefix; /* written with a trailing '*' */
} te_header_pattern;

typedef struct te_chainconf {
    te_mod_entry **mods; /* built in first, then loaded */
    unsigned nmods;
    unsigned *chain; /* indexes into mods, in chain order */
    unsigned nchain;
    bool chain_set;
    bool internal_set;
    te_phase_slot *slots[TE_PHASE_COUNT];
    unsigned nslots[TE_PHASE_COUNT];
    te_product_conf *products; /* longest prefix first after finish */
    unsigned nproducts;
    te_header_pattern *internal;
    unsigned ninternal;
    bool underscores;        /* underscores_in_headers on */
    bool underscores_set;    /* the directive was read */
    const te_shard **shards; /* by name, for te_chainconf_shard */
    unsigned nshards;
    char **strings; /* te_conf_strdup and the like */
    unsigned nstrings;
    /* principal_headers: user, kind, scopes; the core forwards the
     * request's principal in these and drops the client's */
    const char *principal_hdr[3];
    bool principal_set; /* the block was read */
} te_chainconf;

/* Built-in modules and the default chain, NULL-terminated; generated
 * from modules/modules.am into modules/builtin.c. */
extern const te_module *const te_builtin_modules[];
extern const char *const te_default_chain[];

/* For unit tests: more built-in modules (NULL-terminated), read by every
 * te_chainconf_new; NULL normally. */
extern const te_module *const *te_module_extra;

/* A chainconf with the built-in modules and nothing configured; NULL
 * when out of memory. */
te_chainconf *te_chainconf_new(void);

/* free_conf for each module configured, then dlclose. NULL is a no-op. */
void te_chainconf_free(te_chainconf *cc);

/* Takes ownership of s (which may be NULL: out of memory) until the
 * snapshot goes; returns s, or NULL after freeing it. */
char *te_chainconf_keep(te_chainconf *cc, char *s);

/* ---- the load (config.c calls these) ---- */

/* The core's own te_directive table (chain, module, ...), whose mconf
 * is the chainconf itself. */
extern const te_directive te_chainconf_directives[];

/* A top-level module directive (TE_DIR_TOP) named name, with its module
 * in *me; NULL if none. The core table is config.c's to search. */
const te_directive *te_chainconf_top(const te_chainconf *cc, const char *name,
                                     te_mod_entry **me);

/* The module's conf, made now if need be. -1 when create_conf failed. */
int te_mod_entry_conf(te_mod_entry *me, void **conf);

/*
 * Once the whole text is read: the default chain when none was given,
 * each configured module's finish_conf (errors at its place), the phase
 * tables, the shard index, the default internal headers. 0 or -1 after
 * te_conf_error.
 */
int te_chainconf_finish(te_chainconf *cc, te_conf_ctx *cx, const te_config *cf);

/* Implemented by config.c for the directives above. */
/* The block of this TE_DIR_BLOCK directive is read with table, for me
 * (NULL: the core). */
void te_conf_enter_block(te_conf_ctx *cx, te_mod_entry *me,
                         const te_directive *table);
/* Where argument argi is, to report later from finish_conf. */
void te_conf_where_arg(te_conf_ctx *cx, unsigned argi, te_conf_where *w);
/* Report errors without a token at w from now on (finish_conf). */
void te_conf_at(te_conf_ctx *cx, const te_conf_where *w);
/* Is name a directive of config.c's own table? */
int te_config_core_directive(const char *name);

/* ---- requests and workers ---- */

unsigned te_chainconf_count(const te_chainconf *cc);
/* m's index in mods, or -1. */
int te_chainconf_index(const te_chainconf *cc, const te_module *m);
/* Is the field name (len bytes) one of the internal headers? '_' in
 * either matches '-'. */
int te_chainconf_internal(const te_chainconf *cc, const char *name, size_t len);
/* The product of path (len bytes; the query is ignored), or NULL. */
const te_product_conf *te_chainconf_product(const te_chainconf *cc,
                                            const char *path, size_t len);
const te_shard *te_chainconf_shard(const te_chainconf *cc, const char *name);

/* init_worker of each module in the chain, in chain order, into
 * wstate[index]; on failure the ones done are exited and -1 returned
 * with the failed module in *failed. */
int te_chainconf_init_worker(const te_chainconf *cc, void **wstate,
                             const te_module **failed);
/* exit_worker of each module in the chain, in reverse chain order. */
void te_chainconf_exit_worker(const te_chainconf *cc, void **wstate);

#endif
