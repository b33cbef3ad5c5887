/*
 * route.c: the static site map (Host -> site -> shard) and zone-aware
 * round-robin among a shard's backends.
 */
#include "route.h"

#include <string.h>
#include <strings.h>

/* The host without its port: "[v6]:p" -> "[v6]", "name:p" -> "name". */
static size_t host_without_port(const char *h, size_t n)
{
    size_t i = n;

    while (i > 0 && h[i - 1] != ':' && h[i - 1] != ']')
        i--;
    if (i == 0 || h[i - 1] != ':')
        return n;
    if (h[0] == '[' && (i < 2 || h[i - 2] != ']'))
        return n;
    return i - 1;
}

te_status te_route_site(const te_config *cf, te_request *r)
{
    size_t dlen, n, label;
    const char *h = r->host;
    const te_site *site;

    if (h == NULL || cf->domain == NULL)
        return TE_DECLINED;

    n = host_without_port(h, r->host_len);
    if (n > 0 && h[n - 1] == '.')
        n--;

    /* "<label>.<domain>": the domain at the end, one dot before it. */
    dlen = strlen(cf->domain);
    if (n < dlen + 2)
        return TE_DECLINED;
    label = n - dlen - 1;
    if (h[label] != '.' || strncasecmp(h + label + 1, cf->domain, dlen) != 0)
        return TE_DECLINED;
    if (memchr(h, '.', label) != NULL)
        return TE_DECLINED;

    site = te_config_find_site(cf, h, label);
    if (site == NULL || site->shard == NULL)
        return TE_DECLINED;

    r->site = site;
    r->tenant_id = site->tenant_id;
    r->shard = site->shard;
    return TE_OK;
}

static int in_zone(const te_backend *b, const char *zone)
{
    return zone != NULL && b->zone != NULL && strcmp(b->zone, zone) == 0;
}

/* The k-th backend (0-based) of sh whose zone membership is want. */
static const te_backend *nth_backend(const te_shard *sh, const char *zone,
                                     int want, unsigned k)
{
    for (unsigned i = 0; i < sh->nbackends; i++) {
        if (in_zone(sh->backends[i], zone) != want)
            continue;
        if (k-- == 0)
            return sh->backends[i];
    }
    return NULL;
}

const te_backend *te_route_backend(const te_shard *sh, const char *zone,
                                   unsigned rr, unsigned attempt)
{
    unsigned local = 0;

    if (sh == NULL || attempt >= sh->nbackends)
        return NULL;

    for (unsigned i = 0; i < sh->nbackends; i++)
        local += (unsigned)in_zone(sh->backends[i], zone);

    if (attempt < local)
        return nth_backend(sh, zone, 1, (rr + attempt) % local);

    attempt -= local;
    return nth_backend(sh, zone, 0, (rr + attempt) % (sh->nbackends - local));
}
