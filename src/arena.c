/*
 * arena.c: bump allocation in blocks; see arena.h for why.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ALIGN 16

struct te_arena_block {
    te_arena_block *next; /* in the spill list */
    size_t size;          /* bytes of data */
    _Alignas(ALIGN) unsigned char data[];
};

void te_arena_init(te_arena *a)
{
    memset(a, 0, sizeof(*a));
}

static te_arena_block *block_new(size_t size)
{
    te_arena_block *b;
    size_t total;

    if (!te_size_add(sizeof(*b), size, &total))
        return NULL;
    b = malloc(total);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    return b;
}

/* A block of its own for a big allocation, freed at the next reset. */
static void *alloc_big(te_arena *a, size_t size)
{
    te_arena_block *b = block_new(size);

    if (b == NULL)
        return NULL;
    b->next = a->spill;
    a->spill = b;
    return memset(b->data, 0, size);
}

/* cur is full: a fresh block (the first one, the first time). */
static int next_block(te_arena *a)
{
    te_arena_block *b;

    if (a->first == NULL) {
        a->first = block_new(TE_ARENA_BLOCK);
        if (a->first == NULL)
            return -1;
        a->cur = a->first;
        a->used = 0;
        return 0;
    }
    b = block_new(TE_ARENA_BLOCK);
    if (b == NULL)
        return -1;
    b->next = a->spill;
    a->spill = b;
    a->cur = b;
    a->used = 0;
    return 0;
}

void *te_arena_alloc(te_arena *a, size_t size)
{
    size_t rounded;
    void *p;

    if (size == 0)
        size = 1;
    if (!te_size_add(size, ALIGN - 1, &rounded))
        return NULL;
    rounded &= ~(size_t)(ALIGN - 1);
    if (rounded > TE_ARENA_BIG)
        return alloc_big(a, rounded);

    if (a->cur == NULL || a->cur->size - a->used < rounded)
        if (next_block(a) < 0)
            return NULL;
    p = a->cur->data + a->used;
    a->used += rounded;
    return memset(p, 0, rounded);
}

char *te_arena_strndup(te_arena *a, const char *s, size_t len)
{
    size_t n;
    char *out;

    if (!te_size_add(len, 1, &n))
        return NULL;
    out = te_arena_alloc(a, n);
    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

void te_arena_reset(te_arena *a)
{
    te_arena_block *b, *next;

    /* Bounded: each pass frees one block of the list. */
    for (b = a->spill; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->spill = NULL;
    a->cur = a->first;
    a->used = 0;
}

void te_arena_free(te_arena *a)
{
    te_arena_reset(a);
    free(a->first);
    te_arena_init(a);
}
