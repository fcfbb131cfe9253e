/*
 * portal.h - the public portal of a commune: which commune to show and
 * the pieces of its home page.
 *
 * The logic here knows nothing of HTTP; portal_http.c holds the route
 * table (`portal_routes`) and turns these results into pages and JSON.
 * Everything returned lives in the arena passed in.
 */
#ifndef GU_PORTAL_H
#define GU_PORTAL_H

#include "core/core.h"
#include "store/store.h"

/*
 * Load the commune to show into *out.
 *  - `insee` non-NULL: that commune; GU_ENOTFOUND with the French message
 *    "Commune inconnue : <insee>." when the code is malformed or unknown.
 *  - `insee` NULL: `default_insee` when non-empty (the "commune.default"
 *    setting), otherwise the first commune by name; GU_ENOTFOUND when the
 *    instance has no commune yet.
 * Strings of *out live in `a`.
 */
int portal_commune_load(struct store_conn *c, struct gu_arena *a,
                        const char *insee, const char *default_insee,
                        struct store_commune *out, struct gu_err *err);

/*
 * Opening hours (free text, one line per day or period) as an HTML list,
 * every line escaped: "<ul class=\"horaires\"><li>...</li></ul>", or a
 * French sentence in a <p> when empty. Arena string; NULL on OOM.
 */
char *portal_hours_html(struct gu_arena *a, const char *hours);

/*
 * The contact block (address, phone as a tel: link, e-mail as a mailto:
 * link) as escaped HTML, or a <p> saying that no contact is published.
 * Arena string; NULL on OOM.
 */
char *portal_contact_html(struct gu_arena *a, const struct store_commune *m);

/*
 * The commune's public information as a JSON object (insee, name, zone,
 * hours, address, phone, email). New reference; NULL on OOM.
 */
json_t *portal_commune_json(const struct store_commune *m);

/* The portal's route table (portal_http.c), registered by main.c. */
struct http_routes;
extern const struct http_routes portal_routes;

#endif
