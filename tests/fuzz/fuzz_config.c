/*
 * fuzz_config.c: libFuzzer target for the configuration parser.
 *
 * The input is parsed as unnamed text (name NULL), which refuses every
 * include, so fuzzing never opens, reads or writes a file. A snapshot that
 * parses is walked and released, so ASan sees its links and LSan its
 * frees.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every link a worker would follow. */
static void walk(const te_config *cf)
{
    unsigned i, j, k;

    for (i = 0; i < cf->nregions; i++) {
        for (j = 0; j < cf->regions[i]->nshards; j++) {
            const te_shard *sh = cf->regions[i]->shards[j];
            for (k = 0; k < sh->nbackends; k++) {
                if (sh->backends[k]->shard != sh ||
                    cf->backends[sh->backends[k]->index] != sh->backends[k])
                    __builtin_trap();
            }
        }
    }
    for (i = 0; i < cf->nsites; i++) {
        const te_site *s = cf->sites[i];
        if (te_config_find_site(cf, s->name, strlen(s->name)) != s ||
            s->shard == NULL)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    te_config *cf;

    cf = te_config_parse(NULL, (const char *)data, size, err, sizeof(err));
    if (cf == NULL) {
        if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
            __builtin_trap();
        return 0;
    }
    walk(cf);
    te_config_find_site(cf, (const char *)data, size < 64 ? size : 64);
    te_config_unref(te_config_ref(cf));
    te_config_unref(cf);
    return 0;
}
