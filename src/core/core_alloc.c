/*
 * core_alloc.c - the one allocation wrapper.
 *
 * Every heap allocation of Guichet goes through here so that tests can make
 * the Nth allocation fail (gu_alloc_fail_after) and check that each caller
 * fails cleanly. The countdown is thread-local: a test in one thread never
 * disturbs server threads.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* 0 = no injection; n > 0 = allocations left before failing; -1 = failing */
static _Thread_local long fail_countdown;

static bool
should_fail(void)
{
    if (fail_countdown == 0)
        return false;
    if (fail_countdown < 0)
        return true;
    if (--fail_countdown == 0) {
        fail_countdown = -1;
        return true;
    }
    return false;
}

void
gu_alloc_fail_after(long n)
{
    fail_countdown = n > 0 ? n : -1;
}

void
gu_alloc_fail_reset(void)
{
    fail_countdown = 0;
}

void *
gu_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *
gu_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *
gu_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *
gu_strndup(const char *s, size_t n)
{
    char *d = gu_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
gu_strdup(const char *s)
{
    return s ? gu_strndup(s, strlen(s)) : NULL;
}

void
gu_free(void *p)
{
    free(p);
}
