/*
 * siphash.h: SipHash-2-4, a keyed hash for tables whose keys come from
 * clients.
 *
 * A per-worker table keyed by Host-derived names with a fixed hash can be
 * flooded with colliding names until every lookup walks one long chain.
 * With a random secret key per table, an attacker cannot predict which
 * names collide.
 */
#ifndef TE_SIPHASH_H
#define TE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define TE_SIPHASH_KEY_LEN 16

/* SipHash-2-4 of <len> bytes at <data> under the 16-byte <key>. */
uint64_t te_siphash(const uint8_t key[TE_SIPHASH_KEY_LEN], const void *data,
                    size_t len);

#endif
