/*
 * tenantedge/module.h: the one header a tenantedge module needs.
 *
 * A module is a te_module descriptor: a name, the ABI it was built for,
 * its configuration directives, per-snapshot and per-worker set-up, and a
 * handler for each request phase it takes part in. The operator orders
 * modules with `chain a b c;`; within one phase, handlers run in chain
 * order, and a module missing from the chain never runs.
 *
 * Modules see a request only through the accessors below: never a socket,
 * a wire format or the event loop. Work that must wait (a Redis lookup)
 * goes through a core service that calls back on the request's worker,
 * and the handler returns TE_AGAIN until then.
 *
 * Threads: every call here is made on the worker that owns the request;
 * nothing a module keeps per request or per worker needs a lock. Module
 * configuration is part of the immutable config snapshot: read-only once
 * finish_conf has returned.
 */
#ifndef TENANTEDGE_MODULE_H
#define TENANTEDGE_MODULE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <tenantedge/status.h>
#include <tenantedge/tcs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever this header changes incompatibly; load_module refuses
 * a module built for another value. te_module.abi stays the first field
 * in every ABI, so that the check can read it. */
#define TE_MODULE_ABI 1

typedef struct te_request te_request;
typedef struct te_conf_ctx te_conf_ctx;
typedef struct te_module te_module;

/* ---------------------------------------------------------------- phases */

/*
 * Request phases, in the order they run. Handlers of the first four
 * return:
 *   TE_OK       carry on with the next handler;
 *   TE_DONE     the handler answered (te_respond...): stop the chain;
 *   TE_AGAIN    suspended: the handler started async work and will call
 *               te_request_resume from its callback;
 *   TE_DECLINED same as TE_OK (nothing for this module to do);
 *   TE_ERROR    answer 500 (the handler has logged why).
 * TE_PHASE_RESPONSE handlers run once the backend's (or a module's)
 * response head is known and may add response fields; TE_PHASE_LOG
 * handlers run when the request ends, whatever happened. Both return
 * TE_OK.
 */
enum te_phase {
    TE_PHASE_IDENTIFY = 0, /* who calls: session, JWT, service token */
    TE_PHASE_TENANT,       /* Host -> site -> tenant context */
    TE_PHASE_POLICY,       /* may the caller and tenant do this? */
    TE_PHASE_ROUTE,        /* product -> shard (the core picks backends) */
    TE_PHASE_RESPONSE,     /* response head filters */
    TE_PHASE_LOG,          /* the request is over */
    TE_PHASE_COUNT
};

typedef te_status (*te_phase_handler)(te_request *r, void *mconf);

/* ----------------------------------------------------------- directives */

/*
 * A directive of a module. By default it is allowed inside the module's
 * own block, `module NAME { ... }`; TE_DIR_TOP also allows it at top
 * level (`product jira /jira/;`). TE_DIR_BLOCK means it takes a block
 * whose content is read with the `block` table; set runs first, with
 * the directive's own arguments, then the block's directives in order.
 * argv[0] is the directive's name; argc counts it. set returns 0, or -1
 * after te_conf_error.
 */
#define TE_DIR_TOP 0x1
#define TE_DIR_BLOCK 0x2
#define TE_DIR_ARGS_ANY 0xffffu

typedef struct te_directive {
    const char *name;
    unsigned min_args; /* not counting the name */
    unsigned max_args; /* TE_DIR_ARGS_ANY: no upper bound */
    unsigned flags;
    int (*set)(te_conf_ctx *cx, void *mconf, unsigned argc,
               const char *const *argv);
    const struct te_directive *block; /* with TE_DIR_BLOCK; NULL-named end */
} te_directive;

/* Report a configuration error at argument argi (0 = the directive name)
 * as "file:line:col: message". Always returns -1. In finish_conf, where
 * there is no directive, the position is the module's first directive or
 * block, or its name in `chain`, or the end of the file. */
int te_conf_error(te_conf_ctx *cx, unsigned argi, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Helpers for setters: parse with the core's units; 0 or -1 (after
 * reporting the error at argi). */
int te_conf_size(te_conf_ctx *cx, unsigned argi, const char *s,
                 uint64_t *out);
int te_conf_duration(te_conf_ctx *cx, unsigned argi, const char *s,
                     unsigned *out_ms);
int te_conf_uint(te_conf_ctx *cx, unsigned argi, const char *s,
                 unsigned min, unsigned max, unsigned *out);

/* A string that lives as long as the config snapshot. */
const char *te_conf_strdup(te_conf_ctx *cx, const char *s);

/* Sets the name of a field the core forwards the request's principal
 * in (the top-level principal_headers block): <which> is "user", "kind"
 * or "scopes". For a module's alias of that block. 0, or -1 after
 * reporting the error at argi. */
int te_conf_principal_header(te_conf_ctx *cx, unsigned argi,
                             const char *which, const char *name);

/* The directory of the file being read, for relative paths (a string
 * of the snapshot, with a trailing "/"); NULL for text that comes from no
 * file, which may then name no file at all. */
const char *te_conf_dir(te_conf_ctx *cx);

/* Shard and region names declared by the core's region blocks: 1 if a
 * shard of that name exists (and *region gets its region's name). Valid
 * in finish_conf. */
int te_conf_shard_region(te_conf_ctx *cx, const char *shard,
                         const char **region);

/* Products declared by the core's `product NAME PREFIX;` lines: 1 if
 * one is called name (and *prefix gets its PREFIX, a string of the
 * snapshot). Valid in finish_conf. */
int te_conf_product_prefix(te_conf_ctx *cx, const char *name,
                           const char **prefix);

/* 1 when this configuration can look sessions up (te_session_lookup):
 * the tenant context service uses Redis, `tcs { store redis; }`. Valid
 * in finish_conf. */
int te_conf_sessions_available(te_conf_ctx *cx);

/* ------------------------------------------------------------- modules */

struct te_module {
    unsigned abi;     /* TE_MODULE_ABI */
    const char *name; /* as written in `chain` and `module NAME {}` */
    const te_directive *directives; /* NULL-named end; may be NULL */

    /* Per config snapshot: allocate the module's conf with its
     * defaults, check it once the whole file is read, free it. */
    void *(*create_conf)(void);
    int (*finish_conf)(te_conf_ctx *cx, void *mconf);
    void (*free_conf)(void *mconf);

    /* Per worker, on the worker's thread, before it accepts and after
     * it stopped: state the module keeps per worker. Only for modules
     * in the chain. init_worker returns 0, or -1 after logging why (the
     * daemon then does not start). */
    int (*init_worker)(void *mconf, void **wstate);
    void (*exit_worker)(void *mconf, void *wstate);

    te_phase_handler handlers[TE_PHASE_COUNT];

    /* Bytes of zeroed per-request storage (te_request_ctx). */
    size_t request_ctx_size;
};

/* The module's per-worker state (from init_worker) on r's worker. */
void *te_request_worker_state(te_request *r, const te_module *m);

/*
 * Loadable modules. `load_module PATH;` dlopens PATH (relative to the
 * file that says it) and reads the one symbol te_module_export, a
 * pointer to the module's descriptor; TE_MODULE_EXPORT(desc) defines
 * it. A module whose abi differs from this TE_MODULE_ABI is refused with
 * both numbers in the error. Functions of this header resolve against
 * the daemon, which exports them. load_module comes before `chain` and
 * before any directive of the module; a loaded module may take the name
 * of a built-in one, which it then replaces for that configuration.
 */
#define TE_MODULE_EXPORT(desc)                                              \
    __attribute__((visibility("default"))) const te_module                 \
        *const te_module_export = &(desc)

/* --------------------------------------------------- request accessors */

/*
 * Strings of the request live until it ends. Those with a length
 * out-parameter are not NUL-terminated unless said otherwise; len may be
 * NULL for the NUL-terminated ones.
 */
const char *te_request_method(const te_request *r, size_t *len);
/* The target as sent in origin form: path and query. */
const char *te_request_path(const te_request *r, size_t *len);
/* The Host (HTTP/1.1) or :authority (HTTP/2), lowercased, without port
 * or trailing dot; NUL-terminated; NULL when the request has none. */
const char *te_request_host(te_request *r, size_t *len);
/* Text id of the request (X-Request-Id), NUL-terminated. */
const char *te_request_id(const te_request *r);
const char *te_request_client_addr(const te_request *r);

/* First field of that name (case-insensitive), NULL if none. */
const char *te_request_header(const te_request *r, const char *name,
                              size_t *len);
/* Fields by index, 0..te_request_header_count-1, as received. */
unsigned te_request_header_count(const te_request *r);
int te_request_header_at(const te_request *r, unsigned i, const char **name,
                         size_t *name_len, const char **value,
                         size_t *value_len);

/* Fields the backend receives besides the client's (copied, in the
 * order added). 0, or -1 when the name is not a field name token, is
 * one that frames the message or that the core sets (Content-Length,
 * Transfer-Encoding, Connection, X-Request-Id...), or the value holds
 * CR, LF or NUL (nothing is added), or out of memory. A field added
 * here replaces every client field of that name, and any field of that
 * name a module added before (the last one added stands). The core
 * strips the configured internal_headers from what the client sent
 * whatever the chain does; fields added here are not stripped. */
int te_request_add_upstream_header(te_request *r, const char *name,
                                   const char *value);
/* Drop every client field of that name on the way to the backend. */
void te_request_remove_upstream_header(te_request *r, const char *name);

/*
 * Products: `product NAME PREFIX;` is a core directive, because several
 * modules need the answer (policy checks the licence, route picks the
 * product's shard, others may count per product). The product of a
 * request is the one with the longest PREFIX its path starts with;
 * NULL when none matches. te_request_products_configured says how many
 * `product` lines there are (0: the simple mode of static sites).
 */
const char *te_request_product(te_request *r);
unsigned te_request_products_configured(const te_request *r);

/* -------------------------------------------------- principal, tenant */

typedef enum te_principal_kind {
    TE_PRINCIPAL_NONE = 0,
    TE_PRINCIPAL_USER,
    TE_PRINCIPAL_SERVICE
} te_principal_kind;

typedef struct te_principal {
    te_principal_kind kind;
    const char *subject; /* user or service id */
    const char *tenant;  /* the tenant the credential was issued for */
    const char *issuer;
    const char *scopes;  /* space-separated */
    const char *via;     /* the module that proved it: "jwt", "session" */
} te_principal;

/* Copies p's strings into the request. */
int te_request_set_principal(te_request *r, const te_principal *p);
const te_principal *te_request_principal(const te_request *r);

/* The tenant context the tenant phase resolved (NULL before, or when
 * none). set takes a new reference (the caller keeps its own); the
 * request drops it at its end. */
void te_request_set_tenant(te_request *r, te_tcs_context *ctx);
const te_tcs_context *te_request_tenant(const te_request *r);
/* The site label of the Host under `domain` ("acme" for
 * acme.example.net), NUL-terminated; NULL when the host is not exactly
 * one label under the domain. */
const char *te_request_site(te_request *r, size_t *len);

/*
 * The shard the request goes to (the core then picks a backend in it,
 * same zone first). TE_ERROR if no shard has that name; TE_DECLINED if
 * the request has a tenant and the shard's region is not the tenant's:
 * the core never forwards a tenant's request out of its region, whatever
 * the modules do. Either way nothing is set.
 */
te_status te_request_set_shard(te_request *r, const char *shard);
const char *te_request_shard(const te_request *r);
/* The region whose block declares shard, or NULL if none does. */
const char *te_shard_region(const te_request *r, const char *shard);

/* ---------------------------------------------------- answering, async */

/* Answer with status (200..599), a content type (may be NULL) and a
 * body (copied). The handler then returns TE_DONE. The first answer
 * stands: a second one, or a bad status, is TE_ERROR. */
te_status te_respond(te_request *r, int status, const char *content_type,
                     const char *body, size_t len);

/* Answer with the house JSON error body:
 * {"error":"<reason>","request_id":"<id>"}. */
te_status te_respond_error(te_request *r, int status, const char *reason);

/* A field for the response to the client (Retry-After,
 * WWW-Authenticate...), copied; on module answers and on proxied ones.
 * 0, or -1 as for te_request_add_upstream_header. */
int te_response_add_header(te_request *r, const char *name,
                           const char *value);

/* The response status, once known (TE_PHASE_RESPONSE, TE_PHASE_LOG). */
int te_response_status(const te_request *r);

/*
 * Resume a request whose handler returned TE_AGAIN, from the callback of
 * the async work, on the same worker. rc is what the handler would have
 * returned had the work been synchronous (TE_OK, TE_DONE after
 * responding, TE_ERROR). The chain goes on after that handler, from the
 * event loop (never inside this call). Never from a cleanup.
 */
void te_request_resume(te_request *r, te_status rc);

/*
 * Run fn(arg) when the request ends, in the reverse order of
 * registration: normally, or because the client went away while the
 * request was suspended. A module that suspends registers one that
 * cancels its async work, so that resume is never called on a request
 * that is gone. 0, or -1 out of memory. A cleanup may not use r.
 */
int te_request_add_cleanup(te_request *r, void (*fn)(void *arg),
                           void *arg);

/* Zeroed storage of m->request_ctx_size bytes, for this request; NULL
 * when m is not a module of the request's configuration, has no
 * storage, or memory is out. */
void *te_request_ctx(te_request *r, const te_module *m);

/* Zeroed memory, 16-byte aligned, freed when the request ends (from a
 * per-request arena the connection reuses); NULL when out of memory. */
void *te_request_alloc(te_request *r, size_t size);

/* ----------------------------------------------- tenant context service */

/*
 * The core's tenant context service (TCS): per-worker cache, then the
 * configured store (static site lines, a JSON file, or Redis), with
 * lifecycle events evicting entries on every worker.
 *
 * te_tcs_lookup looks up site's context:
 *   TE_OK       *ctx is set now (a new reference; fresh, or stale within
 *               the stale bound while a refresh runs);
 *   TE_DECLINED no such site (a negative entry or the store said so);
 *   TE_AGAIN    cb(r, rc, ctx, arg) runs later on this worker with rc one
 *               of TE_OK (ctx a new reference), TE_DECLINED or TE_ERROR;
 *               never after the request ended (the core registered a
 *               cleanup that cancels the wait), never inside this call;
 *   TE_ERROR    the store cannot answer and nothing usable is cached:
 *               answer 503 with Retry-After, never guess.
 * A malformed record in the store is TE_ERROR too, logged once.
 */
typedef void (*te_tcs_cb)(te_request *r, te_status rc, te_tcs_context *ctx,
                          void *arg);

te_status te_tcs_lookup(te_request *r, const char *site, size_t len,
                        te_tcs_context **ctx, te_tcs_cb cb, void *arg);

/* ------------------------------------------------------------ sessions */

/*
 * Login sessions, written by the identity system at
 * <prefix>session:<id> as JSON {"user":..., "tenant":..., "expires":...}
 * (expires in unix seconds) and looked up through the same per-worker
 * Redis client and cache tiers as tenant contexts. A session-revoke
 * event, {"event":"session-revoke","session":"<id>"} on the events
 * channel, evicts it on every worker at once.
 *
 * A session id is TE_SESSION_ID_MIN..TE_SESSION_ID_MAX bytes of
 * [A-Za-z0-9._-]; anything else is no session's id and is never sent to
 * Redis.
 */
#define TE_SESSION_ID_MIN   16
#define TE_SESSION_ID_MAX   128
#define TE_SESSION_USER_MAX 256

/* One session, copied into the request: it lives until the request
 * ends. */
typedef struct te_session {
    const char *id;
    const char *user;   /* 1..TE_SESSION_USER_MAX bytes of visible ASCII */
    const char *tenant; /* a tenant id (te_tcs_id_valid) */
    int64_t expires;    /* unix seconds */
} te_session;

/* 1 when s of len bytes is a valid session id, else 0. */
int te_session_id_valid(const char *s, size_t len);

/*
 * te_session_lookup looks up the session id (len bytes):
 *   TE_OK       *session is set now: a live session (expires is later
 *               than now);
 *   TE_DECLINED no such session: unknown, expired, revoked, or id is not
 *               a valid session id;
 *   TE_AGAIN    cb(r, rc, session, arg) runs later on this worker with
 *               rc one of TE_OK (session set), TE_DECLINED or TE_ERROR;
 *               never after the request ended (the core registered a
 *               cleanup that cancels the wait), never inside this call;
 *   TE_ERROR    the store cannot answer (Redis unreachable, a malformed
 *               record, logged once by the core, or a configuration
 *               without `store redis`): answer 503 with Retry-After.
 * Cached sessions are never served stale: past its cache time, or once
 * Redis is unreachable, a session is fetched again or refused.
 */
typedef void (*te_session_cb)(te_request *r, te_status rc,
                              const te_session *session, void *arg);

te_status te_session_lookup(te_request *r, const char *id, size_t len,
                            const te_session **session, te_session_cb cb,
                            void *arg);

/* -------------------------------------------------------------- logging */

enum te_module_log_level {
    TE_MLOG_DEBUG = 0,
    TE_MLOG_INFO,
    TE_MLOG_NOTICE,
    TE_MLOG_WARN,
    TE_MLOG_ERROR
};

/* One line with " req=<id> tenant=<id>" appended ("-" when unknown). */
void te_request_log(const te_request *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line for events outside any request (start-up, outages), with
 * " module=<name>" appended. */
void te_module_log(const te_module *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
