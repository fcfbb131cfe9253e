/*
 * core_arena.c - memory pools freed in one go (nginx's ngx_pool idea).
 *
 * An arena is a list of chunks; allocations bump a pointer in the current
 * chunk, and a request larger than a chunk gets a chunk of its own.
 * Deferred finalisers run in reverse order of registration when the arena
 * is freed, so foreign objects (statements, json_t, fds) die with it.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define ALIGN 16
#define DEFAULT_CHUNK 8192

struct chunk {
    struct chunk *next;
    size_t size, used;
    /* data follows, aligned */
    _Alignas(16) unsigned char data[];
};

struct defer {
    struct defer *next;
    gu_defer_fn fn;
    void *p;
};

struct gu_arena {
    struct chunk *head;
    struct chunk *base; /* the first chunk, kept by gu_arena_reset */
    struct defer *defers;
    size_t chunk_size;
    size_t total;
};

static struct chunk *
chunk_new(size_t size)
{
    struct chunk *c = gu_malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

struct gu_arena *
gu_arena_new(size_t hint)
{
    struct gu_arena *a = gu_malloc(sizeof(*a));
    if (!a)
        return NULL;
    a->chunk_size = hint ? hint : DEFAULT_CHUNK;
    a->head = a->base = chunk_new(a->chunk_size);
    if (!a->head) {
        gu_free(a);
        return NULL;
    }
    a->defers = NULL;
    a->total = 0;
    return a;
}

static void
run_defers(struct gu_arena *a)
{
    struct defer *d = a->defers;
    while (d) {
        struct defer *next = d->next;
        d->fn(d->p);
        d = next;
    }
    a->defers = NULL;
}

void
gu_arena_free(struct gu_arena *a)
{
    if (!a)
        return;
    gu_arena_reset(a); /* finalisers, every chunk but the first */
    gu_free(a->base);
    gu_free(a);
}

void
gu_arena_reset(struct gu_arena *a)
{
    if (!a)
        return;
    run_defers(a);
    struct chunk *c = a->head;
    while (c) {
        struct chunk *next = c->next;
        if (c != a->base)
            gu_free(c);
        c = next;
    }
    a->head = a->base;
    a->base->next = NULL;
    a->base->used = 0;
    a->total = 0;
}

void *
gu_arena_alloc(struct gu_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct chunk *c = a->head;
    if (c->size - c->used < need) {
        /* Big requests get their own chunk, inserted behind the head so
         * the head's free space is not wasted. */
        if (need > a->chunk_size / 4) {
            struct chunk *big = chunk_new(need);
            if (!big)
                return NULL;
            big->used = need;
            big->next = c->next;
            c->next = big;
            a->total += need;
            return big->data;
        }
        struct chunk *fresh = chunk_new(a->chunk_size);
        if (!fresh)
            return NULL;
        fresh->next = c;
        a->head = fresh;
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *
gu_arena_zalloc(struct gu_arena *a, size_t n)
{
    void *p = gu_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *
gu_arena_strndup(struct gu_arena *a, const char *s, size_t n)
{
    char *d = gu_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
gu_arena_strdup(struct gu_arena *a, const char *s)
{
    if (!s)
        return NULL;
    return gu_arena_strndup(a, s, strlen(s));
}

char *
gu_arena_vsprintf(struct gu_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *d = gu_arena_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *
gu_arena_sprintf(struct gu_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = gu_arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return d;
}

int
gu_arena_defer(struct gu_arena *a, gu_defer_fn fn, void *p)
{
    struct defer *d = gu_arena_alloc(a, sizeof(*d));
    if (!d) {
        fn(p);
        return GU_ENOMEM;
    }
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
    return 0;
}

size_t
gu_arena_used(const struct gu_arena *a)
{
    return a->total;
}
