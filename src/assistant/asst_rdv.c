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
 */
#include <string.h>

#include "assistant/asst_internal.h"
#include "rdv/rdv.h"

#define SLOT_LINKS 3

/* The motif code of a booking link ("/rdv?motif=cni&x=y" -> "cni"). */
static bool
motif_code(const char *url, char *code, size_t cap)
{
    const char *q = url ? strchr(url, '?') : NULL;
    size_t n = 0;

    if (!q || strncmp(url, "/rdv", 4) != 0)
        return false;
    for (const char *p = q + 1; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
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

    struct asst_link *links =
        gu_arena_zalloc(a, (r->nlinks + nv) * sizeof(*links));
    if (!links)
        return GU_ENOMEM;
    memcpy(links, r->links, at * sizeof(*links));
    for (size_t k = 0; k < nv; k++) {
        char when[64], day[16];
        gu_when_fr(v[k].day, v[k].start_min, when, sizeof(when));
        gu_day_iso(v[k].day, day, sizeof(day));
        const char *label =
            gu_arena_sprintf(a, "%s — %s", when,
                             place_name(pl, np, v[k].place_id));
        const char *url = gu_arena_sprintf(
            a, "/rdv?c=%s&motif=%s&lieu=%lld&creneau=%sT%02d:%02d", m->insee,
            code, (long long)v[k].place_id, day, v[k].start_min / 60,
            v[k].start_min % 60);
        if (!label || !url)
            return GU_ENOMEM;
        links[at + k] = (struct asst_link){label, url, "creneau"};
    }
    memcpy(links + at + nv, r->links + at, (r->nlinks - at) * sizeof(*links));
    r->links = links;
    r->nlinks += nv;
    return 0;
}
