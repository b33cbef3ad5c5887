/*
 * arena.h: per-request memory, freed all at once when the request ends.
 *
 * Modules allocate per request (their storage, copies of strings, added
 * fields) and never free: the request's end resets the arena. The first
 * block is kept across resets, so a keep-alive connection whose requests
 * fit in it costs no malloc per request; what spilled over is freed at
 * the reset, so one big request does not pin memory for the connection's
 * life.
 */
#ifndef TE_ARENA_H
#define TE_ARENA_H

#include <stddef.h>

/* The block kept across requests, and the size above which one
 * allocation gets a block of its own. */
#define TE_ARENA_BLOCK 4096
#define TE_ARENA_BIG   1024

typedef struct te_arena_block te_arena_block;

typedef struct te_arena {
    te_arena_block *first; /* kept across resets; NULL until needed */
    te_arena_block *cur;   /* where small allocations go now */
    te_arena_block *spill; /* blocks freed at the next reset */
    size_t used;           /* bytes taken in cur */
} te_arena;

void te_arena_init(te_arena *a);

/* size bytes, zeroed, 16-byte aligned; NULL when out of memory (or size
 * would overflow). Lives until te_arena_reset. */
void *te_arena_alloc(te_arena *a, size_t size);

/* A NUL-terminated copy of len bytes of s; NULL when out of memory. */
char *te_arena_strndup(te_arena *a, const char *s, size_t len);

/* Forgets every allocation; keeps the first block. */
void te_arena_reset(te_arena *a);

/* Frees everything, the first block too. */
void te_arena_free(te_arena *a);

#endif
