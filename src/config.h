/*
 * config.h: the configuration snapshot.
 *
 * A te_config is built once from files, validated whole, and then never
 * changed: workers read it without locks. It is reference counted so that
 * a reload can swap in a new snapshot while requests in flight finish on
 * the one they started with.
 */
#ifndef TE_CONFIG_H
#define TE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct te_region te_region;
typedef struct te_shard te_shard;
struct te_chainconf;

typedef struct te_backend {
    char *name;                 /* "127.0.0.1:9101" as written */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *zone;
    te_shard *shard;
    unsigned index;             /* 0..te_config.nbackends-1, for pools */
} te_backend;

struct te_shard {
    char *name;
    te_region *region;
    te_backend **backends;
    unsigned nbackends;
};

struct te_region {
    char *name;
    te_shard **shards;
    unsigned nshards;
};

typedef struct te_site {
    char *name;                 /* first label under the domain */
    char *tenant_id;            /* "id" on the site line, else the name */
    te_shard *shard;
} te_site;

typedef struct te_listen {
    char *name;                 /* as written */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned tls : 1;           /* `listen ADDR tls;`: the tls block's */
} te_listen;

struct te_tls_conf;
struct te_tls;

typedef struct te_config {
    int refs;                   /* atomic; see te_config_ref/unref */
    char *path;                 /* the top file */

    unsigned workers;           /* resolved: "auto" is the CPU count */
    int log_level;              /* enum te_log_level */

    te_listen *listens;
    unsigned nlistens;

    char *zone;                 /* where this edge runs, may be NULL */
    char *domain;               /* sites are <site>.<domain> */

    te_region **regions;
    unsigned nregions;
    te_backend **backends;      /* every backend, by te_backend.index */
    unsigned nbackends;
    te_site **sites;            /* sorted by name for te_config_find_site */
    unsigned nsites;

    /* client side limits */
    size_t max_request_line;    /* client_max_request_line, 8k */
    size_t max_header_size;     /* client_max_header_size, 32k */
    unsigned max_headers;       /* client_max_headers, 100 */
    uint64_t max_body_size;     /* client_max_body_size, 16m */

    /* client side timeouts, milliseconds */
    unsigned header_timeout;    /* client_header_timeout, 10s */
    unsigned body_timeout;      /* client_body_timeout, 30s (idle) */
    unsigned keepalive_timeout; /* keepalive_timeout, 60s */
    unsigned send_timeout;      /* send_timeout, 30s (idle) */

    /* upstream */
    unsigned upstream_connect_timeout;  /* 3s */
    unsigned upstream_send_timeout;     /* 30s (idle) */
    unsigned upstream_read_timeout;     /* 60s (idle, incl. first byte) */
    unsigned upstream_keepalive;        /* idle connections kept, 32 */
    unsigned upstream_keepalive_timeout; /* 60s */

    size_t buffer_size;         /* per-direction high watermark, 64k */
    unsigned drain_timeout;     /* on SIGTERM, 10s */

    /* ---- tenant context service: `redis` and `tcs` (src/tcs.c) ---- */
    char *redis_name;           /* "127.0.0.1:6379" as written, or NULL */
    char *redis_host;           /* numeric address, no brackets */
    unsigned redis_port;
    char *redis_password;       /* NULL: no AUTH */
    unsigned redis_database;    /* 0 */
    unsigned redis_timeout;     /* per command, 500ms */
    unsigned redis_connect_timeout; /* connect and handshake, 1s */
    unsigned redis_heartbeat;   /* pub/sub liveness period, 1s */
    int tcs_store;              /* enum te_tcs_store, static */
    char *tcs_file;             /* store file: path, from the config dir */
    char *tcs_file_text;        /* its bytes, checked at load */
    size_t tcs_file_len;
    size_t tcs_cache;           /* entries per worker, 100000 */
    unsigned tcs_ttl;           /* fresh, 30s */
    unsigned tcs_stale;         /* then served while refreshing, 10m */
    unsigned tcs_negative_ttl;  /* unknown sites remembered, 5s */
    char *tcs_prefix;           /* Redis key and channel prefix, "tcs:" */

    /* ---- the module chain: chain, module, load_module, product,
     * internal_headers (src/module.c) ---- */
    struct te_chainconf *chain;

    /* ---- TLS: `listen ADDR tls` and the `tls { }` block (src/tls.c,
     * src/tls_conf.c) ---- */
    struct te_tls_conf *tls_conf; /* the block as written */
    struct te_tls *tls;           /* built at load when a listener has tls;
                                     holds a reference */

    /* ---- HTTP/2 (src/h2_conn.c) ---- */
    int http2;                  /* http2 on|off: ALPN offers h2, on */
    int h2c;                    /* h2c on|off: prior knowledge on
                                   cleartext listeners, off */
    unsigned h2_max_streams;    /* http2_max_concurrent_streams, 100 */
    size_t h2_max_header_list;  /* http2_max_header_list_size, 32k */
    size_t h2_max_frame_size;   /* http2_max_frame_size, 16k */
    size_t h2_stream_window;    /* http2_stream_window, 64k: request body
                                   bytes a stream may have in flight */
    unsigned h2_idle_timeout;   /* http2_idle_timeout, 3m: no stream open */
    /* Abuse limits, each a bucket of N events refilled at N per 10 s;
     * empty, the connection ends with GOAWAY ENHANCE_YOUR_CALM. */
    unsigned h2_max_resets;     /* http2_max_resets: client RST_STREAM,
                                   100 */
    unsigned h2_max_control;    /* http2_max_control_frames: SETTINGS,
                                   PING, PRIORITY, 1000 */
    unsigned h2_max_glitches;   /* http2_max_glitches: streams we reset,
                                   invalid frames, empty DATA, 100 */

    /* ---- passive health of backends, per worker (src/upstream.c) ---- */
    unsigned upstream_max_fails;    /* failures in a row: down, 3 */
    unsigned upstream_fail_timeout; /* first down period, 10s */
} te_config;

/* Where tenant contexts come from: `tcs { store ...; }`. */
enum te_tcs_store {
    TE_TCS_STORE_STATIC = 0, /* the `site` lines */
    TE_TCS_STORE_FILE,       /* a JSON file of tenant records */
    TE_TCS_STORE_REDIS       /* Redis, cached per worker */
};

/*
 * Load and validate the file at path (and its includes). On error returns
 * NULL and writes "file:line:col: message" into err. The result holds one
 * reference.
 */
te_config *te_config_load(const char *path, char *err, size_t errlen);

/* The same from text in memory; name stands for the file in messages and
 * is the base for relative includes. With name NULL the text is
 * "<memory>" and include is refused, so the fuzzer never opens files. */
te_config *te_config_parse(const char *name, const char *text, size_t len,
                           char *err, size_t errlen);

te_config *te_config_ref(te_config *cf);
void te_config_unref(te_config *cf);

/* Site by name (exact, case-insensitive); NULL if unknown. */
const te_site *te_config_find_site(const te_config *cf, const char *name,
                                   size_t len);

/* Parse "1234", "8k", "16m", "1g" into bytes; -1 on error. */
int te_parse_size(const char *s, size_t len, uint64_t *out);

/* Parse "250ms", "10s", "5m", "1h" (bare number: seconds) into
 * milliseconds; -1 on error or overflow of unsigned. */
int te_parse_duration(const char *s, size_t len, unsigned *out_ms);

#endif
