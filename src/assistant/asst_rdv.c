/*
 * asst_rdv.c - the next free appointment slots under an answer.
 *
 * When the fiche of an answer links to the commune's booking page for a
 * motif (« Prendre rendez-vous » -> /rdv?motif=cni), the reply also lists
 * the first free slots of that motif, each a link to the booking page
 * with the slot already chosen (/rdv?c=...&motif=...&lieu=...&creneau=...):
 * the resident books in two clicks, at 10 p.m., without an agent. The
 * slots come from the same rdv_slots() the booking page and the API use;
 * the page checks the slot again when the resident books, so a slot taken
 * meanwhile is simply refused there with the next free ones.
 *
 * The booking link gets the commune (?c=INSEE) if it lacks it. Nothing
 * else is added when the motif is unknown, not public, or has no free
 * slot, or when the appointment tables cannot be read: the answer stands
 * on its own.
 *
 * The slots of a motif found are remembered for the engine's check_ms
 * (3 s by default), like the commune's record and its fiches: the most
 * asked questions (CNI, passeport) link to the same motif, and reading
 * the motif, the places, the opening hours and the bookings again for
 * each answer was a fifth of the server's time under load. A slot taken
 * within that delay is refused by the booking page, which offers the next
 * free ones. "Nothing to show" is never remembered: a commune that has
 * just set its appointments up shows them at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "assistant/asst_internal.h"
#include "rdv/rdv.h"

#define SLOT_LINKS 3
#define SLOT_CACHE_MAX 64 /* (commune, motif) pairs remembered */

struct slot_entry {
    char insee[6];
    char code[65];
    int64_t at_ms;
    size_t n;
    struct asst_link links[SLOT_LINKS]; /* strings in `a` */
    struct gu_arena *a;
};

struct slot_cache {
    pthread_mutex_t mu;
    struct slot_entry v[SLOT_CACHE_MAX];
    size_t n;
};

static void *
slot_cache_make(struct store *s)
{
    struct slot_cache *k = gu_calloc(1, sizeof(*k));

    (void)s;
    if (k)
        pthread_mutex_init(&k->mu, NULL);
    return k;
}

static void
slot_cache_free(void *p)
{
    struct slot_cache *k = p;

    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        gu_arena_free(k->v[i].a);
    pthread_mutex_destroy(&k->mu);
    gu_free(k);
}

/* Slot links `src` copied into `dst` with their strings in `a`; false on
 * OOM. */
static bool
links_copy(struct gu_arena *a, const struct asst_link *src, size_t n,
           struct asst_link *dst)
{
    for (size_t j = 0; j < n; j++) {
        dst[j].label = gu_arena_strdup(a, src[j].label);
        dst[j].url = gu_arena_strdup(a, src[j].url);
        dst[j].kind = "creneau";
        if (!dst[j].label || !dst[j].url)
            return false;
    }
    return true;
}

/* The remembered slot links of (insee, code) copied into `a`: 1 found
 * (*n links in *out), 0 not remembered or too old, GU_ENOMEM. */
static int
slot_cache_get(struct slot_cache *k, int ttl_ms, struct gu_arena *a,
               const char *insee, const char *code, struct asst_link *out,
               size_t *n)
{
    int64_t now = gu_now_ms();
    int rc = 0;

    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < k->n; i++) {
        const struct slot_entry *e = &k->v[i];
        if (strcmp(e->insee, insee) != 0 || strcmp(e->code, code) != 0)
            continue;
        if (now - e->at_ms >= ttl_ms)
            break;
        *n = e->n;
        rc = links_copy(a, e->links, e->n, out) ? 1 : GU_ENOMEM;
        break;
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

/* Remember the slot links of (insee, code); a failure only costs the next
 * answer a read. */
static void
slot_cache_put(struct slot_cache *k, const char *insee, const char *code,
               const struct asst_link *links, size_t n)
{
    struct gu_arena *na = gu_arena_new(1024);
    struct slot_entry e = {.at_ms = gu_now_ms(), .n = n, .a = na};

    if (!na)
        return;
    snprintf(e.insee, sizeof(e.insee), "%s", insee);
    snprintf(e.code, sizeof(e.code), "%s", code);
    if (!links_copy(na, links, n, e.links)) {
        gu_arena_free(na);
        return;
    }
    pthread_mutex_lock(&k->mu);
    size_t i = 0, oldest = 0;
    while (i < k->n && (strcmp(k->v[i].insee, insee) != 0 ||
                        strcmp(k->v[i].code, code) != 0)) {
        if (k->v[i].at_ms < k->v[oldest].at_ms)
            oldest = i;
        i++;
    }
    if (i == k->n && k->n < SLOT_CACHE_MAX)
        k->n++;
    else if (i == k->n)
        i = oldest;
    gu_arena_free(k->v[i].a);
    k->v[i] = e;
    pthread_mutex_unlock(&k->mu);
}

/* The motif code of a booking link ("/rdv?motif=cni&x=y" -> "cni"). */
static bool
motif_code(const char *url, char *code, size_t cap)
{
    const char *q = url ? strchr(url, '?') : NULL;
    size_t n = 0;

    if (!q || strncmp(url, "/rdv", 4) != 0)
        return false;
    for (const char *p = q + 1; p && *p;
         p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, "motif=", 6) != 0)
            continue;
        p += 6;
        while (p[n] && p[n] != '&' && n + 1 < cap) {
            char ch = p[n];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_'))
                return false;
            code[n] = ch;
            n++;
        }
        code[n] = '\0';
        return n > 0 && (p[n] == '\0' || p[n] == '&');
    }
    return false;
}

static const char *
place_name(const struct rdv_place *pl, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (pl[i].id == id)
            return pl[i].name;
    return "";
}

int
asst_slot_links(const struct asst_ctx *x, const struct store_commune *m,
                struct asst_reply *r)
{
    struct gu_arena *a = x->arena;
    struct rdv_motif mo;
    struct rdv_slot *v = NULL;
    struct rdv_place *pl = NULL;
    size_t nv = 0, np = 0, at = 0;
    struct gu_err err;
    char code[65];
    int64_t today;
    int minute;
    bool found = false;

    for (size_t i = 0; i < r->nlinks && !found; i++) {
        if (strcmp(r->links[i].kind, "booking") == 0 &&
            motif_code(r->links[i].url, code, sizeof(code))) {
            found = true;
            at = i + 1;
        }
    }
    if (!found || !x->conn)
        return 0;
    /* The booking link itself names the commune too: on an instance
     * serving several, /rdv alone would open the default one. */
    const char *burl = r->links[at - 1].url;
    if (!strstr(burl, "?c=") && !strstr(burl, "&c=")) {
        const char *u = gu_arena_sprintf(a, "/rdv?c=%s&%s", m->insee,
                                         strchr(burl, '?') + 1);
        if (!u)
            return GU_ENOMEM;
        r->links[at - 1].url = u;
    }
    int ttl = asst_engine_check_ms(x->eng);
    struct slot_cache *k =
        ttl > 0 ? store_ext(store_conn_store(x->conn), "asst.slots",
                            slot_cache_make, slot_cache_free)
                : NULL;
    struct asst_link found_links[SLOT_LINKS];
    size_t nl = 0;
    int hit =
        k ? slot_cache_get(k, ttl, a, m->insee, code, found_links, &nl) : 0;
    if (hit < 0)
        return hit;
    if (!hit) {
        gu_err_clear(&err);
        if (rdv_motif_by_code(x->conn, a, m->insee, code, &mo, &err) < 0 ||
            !mo.active || mo.audience != RDV_PUBLIC)
            return 0;
        gu_tz_from_utc(gu_tz_of_zone(m->zone), gu_now(), &today, &minute);
        struct rdv_slot_query q = {.insee = m->insee,
                                   .motif_id = mo.id,
                                   .from_day = today,
                                   .to_day = today + mo.max_delay_d,
                                   .people = 1,
                                   .limit = SLOT_LINKS,
                                   .one_per_time = true};
        if (rdv_slots(x->conn, a, &q, &v, &nv, &err) < 0 || nv == 0 ||
            rdv_place_list(x->conn, a, m->insee, false, &pl, &np, &err) < 0) {
            if (err.msg[0])
                gu_log_debug("asst.slots", "motif=%s err=%s", code,
                             gu_status_name(err.code));
            return 0;
        }
        for (size_t j = 0; j < nv && j < SLOT_LINKS; j++) {
            char when[64], day[16];
            gu_when_fr(v[j].day, v[j].start_min, when, sizeof(when));
            gu_day_iso(v[j].day, day, sizeof(day));
            const char *label = gu_arena_sprintf(
                a, "%s — %s", when, place_name(pl, np, v[j].place_id));
            const char *url = gu_arena_sprintf(
                a, "/rdv?c=%s&motif=%s&lieu=%lld&creneau=%sT%02d:%02d",
                m->insee, code, (long long)v[j].place_id, day,
                v[j].start_min / 60, v[j].start_min % 60);
            if (!label || !url)
                return GU_ENOMEM;
            found_links[nl++] = (struct asst_link){label, url, "creneau"};
        }
        if (k)
            slot_cache_put(k, m->insee, code, found_links, nl);
    }
    if (nl == 0)
        return 0;

    struct asst_link *links =
        gu_arena_zalloc(a, (r->nlinks + nl) * sizeof(*links));
    if (!links)
        return GU_ENOMEM;
    memcpy(links, r->links, at * sizeof(*links));
    memcpy(links + at, found_links, nl * sizeof(*links));
    memcpy(links + at + nl, r->links + at, (r->nlinks - at) * sizeof(*links));
    r->links = links;
    r->nlinks += nl;
    return 0;
}
