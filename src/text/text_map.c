/*
 * text_map.c - string interning with open addressing (linear probing).
 *
 * Ids are dense and stable, so callers keep parallel arrays indexed by id
 * (counts, postings offsets) instead of storing values in the map.
 */
#include <string.h>

#include "text/text_internal.h"

uint32_t
text_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void
text_map_init(struct text_map *m)
{
    memset(m, 0, sizeof(*m));
}

void
text_map_fini(struct text_map *m)
{
    if (!m)
        return;
    gu_free(m->slots);
    gu_free(m->off);
    gu_free(m->len);
    gu_free(m->hash);
    gu_free(m->pool);
    memset(m, 0, sizeof(*m));
}

int32_t
text_map_find_h(const struct text_map *m, const char *k, size_t n, uint32_t h)
{
    if (!m->slots)
        return -1;
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slots[i];
        if (s == 0)
            return -1;
        if ((uint32_t)(s >> 32) != h)
            continue;
        uint32_t id = (uint32_t)s - 1;
        if (m->len[id] != n)
            continue;
        const char *q = m->pool + m->off[id];
        size_t j = 0;
        while (j < n && q[j] == k[j])
            j++;
        if (j == n)
            return (int32_t)id;
    }
}

int32_t
text_map_find(const struct text_map *m, const char *k, size_t n)
{
    return text_map_find_h(m, k, n, text_hash(k, n));
}

/* Double the slot table; keys keep their ids. */
static int
grow_slots(struct text_map *m)
{
    uint32_t ncap = m->slots ? (m->mask + 1) * 2 : 64;
    uint64_t *ns = gu_calloc(ncap, sizeof(*ns));

    if (!ns)
        return GU_ENOMEM;
    for (uint32_t id = 0; id < m->n; id++) {
        uint32_t i = m->hash[id] & (ncap - 1);
        while (ns[i])
            i = (i + 1) & (ncap - 1);
        ns[i] = (uint64_t)m->hash[id] << 32 | (id + 1);
    }
    gu_free(m->slots);
    m->slots = ns;
    m->mask = ncap - 1;
    return 0;
}

static int
grow_entries(struct text_map *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 32;
    uint32_t *o = gu_realloc(m->off, ncap * sizeof(*o));
    if (!o)
        return GU_ENOMEM;
    m->off = o;
    uint32_t *l = gu_realloc(m->len, ncap * sizeof(*l));
    if (!l)
        return GU_ENOMEM;
    m->len = l;
    uint32_t *h = gu_realloc(m->hash, ncap * sizeof(*h));
    if (!h)
        return GU_ENOMEM;
    m->hash = h;
    m->cap = ncap;
    return 0;
}

int32_t
text_map_intern(struct text_map *m, const char *k, size_t n, bool *added)
{
    int32_t id = text_map_find(m, k, n);

    if (added)
        *added = false;
    if (id >= 0)
        return id;
    if (n > UINT32_MAX / 2 || m->n >= INT32_MAX - 1)
        return -1;
    /* Keep the load factor under 1/2 so probes stay short. */
    if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
        if (grow_slots(m) < 0)
            return -1;
    }
    if (m->n == m->cap && grow_entries(m) < 0)
        return -1;
    if (m->pool_n + n + 1 > m->pool_cap) {
        size_t ncap = m->pool_cap ? m->pool_cap * 2 : 1024;
        while (ncap < m->pool_n + n + 1)
            ncap *= 2;
        char *np = gu_realloc(m->pool, ncap);
        if (!np)
            return -1;
        m->pool = np;
        m->pool_cap = ncap;
    }
    uint32_t nid = m->n;
    memcpy(m->pool + m->pool_n, k, n);
    m->pool[m->pool_n + n] = '\0';
    m->off[nid] = (uint32_t)m->pool_n;
    m->len[nid] = (uint32_t)n;
    m->hash[nid] = text_hash(k, n);
    m->pool_n += n + 1;
    uint32_t i = m->hash[nid] & m->mask;
    while (m->slots[i])
        i = (i + 1) & m->mask;
    m->slots[i] = (uint64_t)m->hash[nid] << 32 | (nid + 1);
    m->n++;
    if (added)
        *added = true;
    return (int32_t)nid;
}

const char *
text_map_key(const struct text_map *m, uint32_t id, size_t *n)
{
    if (n)
        *n = m->len[id];
    return m->pool + m->off[id];
}

int
text_edit_distance(const char *a, size_t an, const char *b, size_t bn,
                   int max)
{
    int d[64][64];

    if (an >= 64 || bn >= 64)
        return max + 1;
    if ((an > bn ? an - bn : bn - an) > (size_t)max)
        return max + 1;
    for (size_t i = 0; i <= an; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= bn; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= an; i++) {
        int rowmin = max + 1;
        for (size_t j = 1; j <= bn; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        /* Every later row is at least this row's minimum. */
        if (rowmin > max)
            return max + 1;
    }
    return d[an][bn] > max ? max + 1 : d[an][bn];
}
