/*
 * portal.c - which commune the public portal shows, and the HTML pieces
 * of its home page that a template cannot express (lists, optional
 * blocks). No HTTP here: see portal_http.c.
 */
#include "portal/portal.h"

#include <string.h>

int
portal_commune_load(struct store_conn *c, struct gu_arena *a, const char *insee,
                    const char *default_insee, struct store_commune *out,
                    struct gu_err *err)
{
    struct store_commune *list = NULL;
    size_t count = 0;
    int rc;

    if (!insee && default_insee && default_insee[0])
        insee = default_insee;
    if (insee) {
        char msg[64];

        /* Malformed codes get the same answer as unknown ones. */
        if (store_insee_valid(insee)) {
            rc = store_commune_get(c, a, insee, out, err);
            if (rc != GU_ENOTFOUND)
                return rc;
        }
        if (strlen(insee) <= 16)
            snprintf(msg, sizeof(msg), "Commune inconnue : %s.", insee);
        else
            snprintf(msg, sizeof(msg), "Commune inconnue.");
        return gu_err_set(err, GU_ENOTFOUND, "insee", msg, "unknown commune");
    }
    rc = store_commune_list(c, a, &list, &count, err);
    if (rc < 0)
        return rc;
    if (count == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL,
                          "Aucune commune n’est encore configurée.",
                          "no commune configured");
    *out = list[0];
    return 0;
}

/* Copy a finished buffer into the arena; NULL if anything failed. */
static char *
buf_to_arena(struct gu_arena *a, struct gu_buf *b)
{
    char *s = NULL;

    if (!b->oom && b->p)
        s = gu_arena_strndup(a, b->p, b->n);
    gu_buf_fini(b);
    return s;
}

char *
portal_hours_html(struct gu_arena *a, const char *hours)
{
    struct gu_buf b;
    const char *p = hours ? hours : "";
    bool any = false;

    gu_buf_init(&b);
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        struct gu_str line = gu_str_trim((struct gu_str){p, n});

        if (line.n > 0) {
            if (!any)
                gu_buf_puts(&b, "<ul class=\"horaires\">");
            any = true;
            gu_buf_puts(&b, "<li>");
            gu_buf_html(&b, line.p, line.n);
            gu_buf_puts(&b, "</li>");
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (any)
        gu_buf_puts(&b, "</ul>");
    else
        gu_buf_puts(&b, "<p>Les horaires d’ouverture ne sont pas encore "
                        "publiés. Contactez la mairie.</p>");
    return buf_to_arena(a, &b);
}

/* Keep the characters a tel: URI may hold (digits and a leading +). */
static void
tel_uri(struct gu_buf *b, const char *phone)
{
    gu_buf_puts(b, "tel:");
    for (const char *p = phone; *p; p++) {
        if ((*p >= '0' && *p <= '9') || (*p == '+' && p == phone))
            gu_buf_append(b, p, 1);
    }
}

char *
portal_contact_html(struct gu_arena *a, const struct store_commune *m)
{
    struct gu_buf b;
    bool addr = m->address && m->address[0];
    bool tel = m->phone && m->phone[0];
    bool mail = m->email && m->email[0];

    gu_buf_init(&b);
    if (!addr && !tel && !mail) {
        gu_buf_puts(&b, "<p>Les coordonnées de la mairie ne sont pas "
                        "encore publiées.</p>");
        return buf_to_arena(a, &b);
    }
    gu_buf_puts(&b, "<dl class=\"contact\">");
    if (addr) {
        gu_buf_puts(&b, "<dt>Adresse</dt><dd><address>");
        gu_buf_html(&b, m->address, strlen(m->address));
        gu_buf_puts(&b, "</address></dd>");
    }
    if (tel) {
        gu_buf_puts(&b, "<dt>Téléphone</dt><dd><a href=\"");
        tel_uri(&b, m->phone);
        gu_buf_puts(&b, "\">");
        gu_buf_html(&b, m->phone, strlen(m->phone));
        gu_buf_puts(&b, "</a></dd>");
    }
    if (mail) {
        gu_buf_puts(&b, "<dt>Courriel</dt><dd><a href=\"mailto:");
        gu_buf_html(&b, m->email, strlen(m->email));
        gu_buf_puts(&b, "\">");
        gu_buf_html(&b, m->email, strlen(m->email));
        gu_buf_puts(&b, "</a></dd>");
    }
    gu_buf_puts(&b, "</dl>");
    return buf_to_arena(a, &b);
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

json_t *
portal_commune_json(const struct store_commune *m)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "insee", m->insee,
                     "name", nz(m->name), "zone", nz(m->zone), "hours",
                     nz(m->hours), "address", nz(m->address), "phone",
                     nz(m->phone), "email", nz(m->email));
}
