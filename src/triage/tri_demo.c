/*
 * tri_demo.c - the demo commune's inbox (`guichet init --demo`): its
 * services, its default models, and a dozen realistic requests in
 * various states so that the agents' inbox is not empty on first visit.
 *
 * Every request goes through tri_intake() like a real one (redaction,
 * classification, urgency, duplicates, numbers); then some are moved on
 * - taken by the admin, waiting for the resident, resolved, rejected -
 * with the decision rows and thread messages an agent's work leaves, and
 * dated back a few hours or days. No resident e-mail address is used, so
 * nothing is queued for sending. Idempotent: a commune that already has
 * requests is left alone.
 */
#include "triage/tri_engine.h"

#include <stdio.h>
#include <string.h>

struct demo_req {
    enum tri_channel channel;
    const char *subject, *body, *address;
    double lat, lon;
    const char *name, *phone;
    int hours_ago;
    const char *status; /* NULL = as routed */
    const char *reply;  /* the agent's answer, or NULL */
    bool assign;        /* to the admin */
    const char *service; /* the agent's choice when the model had none */
};

/* Saint-Exemple-sur-Loire is fictitious; the coordinates are near the
   Loire, somewhere no street has these names. */
static const struct demo_req demo[] = {
    {TRI_WEB, "Nid-de-poule",
     "Bonjour, il y a un énorme nid-de-poule devant le 14 rue Victor Hugo, "
     "deux voitures ont déjà crevé cette semaine.",
     "14 rue Victor Hugo", 47.39021, 0.68912, "Paul Girard", "", 70, NULL,
     NULL, false, NULL},
    {TRI_TELEPHONE, "",
     "Message vocal : bonjour, le trou sur la route devant le 14 rue Victor "
     "Hugo s'agrandit avec la pluie, il faudrait le reboucher vite.",
     "14 rue Victor Hugo", 47.39025, 0.68917, "", "06 12 34 56 78", 30,
     NULL, NULL, false, NULL},
    {TRI_WEB, "",
     "La chaussée est défoncée rue Victor Hugo au niveau du numéro 14, un "
     "trou profond, attention aux vélos !",
     "14 rue Victor Hugo", 47.39019, 0.68909, "", "", 5, NULL, NULL, false, NULL},
    {TRI_WEB, "Fuite de gaz ?",
     "Ça sent très fort le gaz dans la rue des Forges depuis ce matin, "
     "devant l'école maternelle.",
     "rue des Forges", 0, 0, "Inès Moreau", "", 2, "en_cours", NULL, true,
     "police-municipale"},
    {TRI_COURRIEL, "Acte de naissance",
     "Bonjour, pourriez-vous m'envoyer une copie intégrale de mon acte de "
     "naissance ? Je suis né dans la commune en 1984. Merci.",
     "", 0, 0, "Julien Petit", "", 26, "resolue",
     "Bonjour, votre acte de naissance vous a été envoyé par courrier ce "
     "jour. Bonne journée.",
     true, NULL},
    {TRI_CHAT, "",
     "Comment inscrire ma fille à la cantine de l'école des Tilleuls à "
     "partir de la rentrée de janvier ?",
     "", 0, 0, "", "", 20, "attente",
     "Bonjour, pouvez-vous nous indiquer la classe de votre fille et nous "
     "envoyer un justificatif de domicile ? Merci.",
     true, NULL},
    {TRI_WEB, "",
     "Il y a des rats dans le local poubelles de la résidence des Lilas, "
     "les enfants jouent juste à côté.",
     "résidence des Lilas", 0, 0, "", "", 8, NULL, NULL, false, NULL},
    {TRI_GUICHET, "",
     "Demande de réservation de la salle des fêtes pour un repas "
     "d'association le samedi 7 mars.",
     "", 0, 0, "Association Les Amis du Vieux Moulin", "", 52, "en_cours",
     NULL, true, NULL},
    {TRI_WEB, "",
     "Mon voisin fait tourner sa tondeuse tous les dimanches à 8 h, que "
     "peut faire la mairie ?",
     "", 0, 0, "", "", 96, NULL, NULL, false, NULL},
    {TRI_API, "",
     "Je voudrais savoir si la commune aide à payer le chauffage cet "
     "hiver, je suis seule avec ma retraite de 900 euros.",
     "", 0, 0, "", "", 12, NULL, NULL, false, NULL},
    {TRI_WEB, "Question",
     "bonjour c quoi les horaires de la mairie le samedi ??", "", 0, 0, "",
     "", 40, NULL, NULL, false, NULL},
    {TRI_COURRIEL, "Offre exceptionnelle",
     "Gagnez un iPhone en cliquant ici ! Offre réservée aux mairies, "
     "répondez vite.",
     "", 0, 0, "", "", 60, "rejetee", NULL, false, NULL},
};

static int
agent_id(struct store_conn *c, struct gu_arena *a, const char *login,
         int64_t *id, struct gu_err *err)
{
    struct store_agent ag;
    int rc = store_agent_by_login(c, a, login, &ag, err);

    *id = rc == 0 ? ag.id : 0;
    if (rc == GU_ENOTFOUND) {
        gu_err_clear(err);
        return 0;
    }
    return rc;
}

/* Move a request on as an agent would, and date it back. */
static int
demo_work(struct store_conn *c, const char *insee, int64_t id,
          const struct demo_req *d, int64_t admin, const char *status_before,
          struct gu_err *err)
{
    int64_t now = gu_now(), back = (int64_t)d->hours_ago * 3600;
    int rc;

    if (d->assign && admin > 0) {
        struct store_val p[3] = {STORE_I(admin), STORE_I(id), STORE_T(insee)};

        rc = store_exec(c,
                        "UPDATE tri_requests SET assigned_to = ? WHERE id = ? "
                        "AND insee = ?",
                        p, 3, err);
        if (rc == 0)
            rc = tri_decision_add(c, insee, id, "attribution", "admin", "", 0,
                                  "", "agent", "admin", err);
        if (rc < 0)
            return rc;
    }
    if (d->service) {
        struct gu_arena *a = gu_arena_new(1024);
        struct tri_service s;

        if (!a)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        rc = tri_service_by_code(c, a, insee, d->service, &s, err);
        if (rc == 0) {
            struct store_val p[3] = {STORE_I(s.id), STORE_I(id),
                                     STORE_T(insee)};

            rc = store_exec(c,
                            "UPDATE tri_requests SET service_id = ?, "
                            "service_source = 'agent' WHERE id = ? AND "
                            "insee = ? AND service_id = 0",
                            p, 3, err);
        }
        if (rc == 0)
            rc = tri_decision_add(c, insee, id, "service", d->service, "", 0,
                                  "", "agent", "admin", err);
        gu_arena_free(a);
        if (rc < 0)
            return rc;
    }
    if (d->reply) {
        struct store_val p[5] = {STORE_T(insee), STORE_I(id),
                                 STORE_T(d->reply), STORE_T(d->reply),
                                 STORE_I(now - back / 2)};

        rc = store_exec(c,
                        "INSERT INTO tri_messages (insee, request_id, kind, "
                        "author, body, body_redacted, created_at) VALUES (?, "
                        "?, 'sortant', 'admin', ?, ?, ?)",
                        p, 5, err);
        if (rc < 0)
            return rc;
    }
    if (d->status) {
        bool closed = strcmp(d->status, "resolue") == 0 ||
                      strcmp(d->status, "rejetee") == 0;
        struct store_val p[6] = {STORE_T(d->status),
                                 STORE_I(closed ? now - back / 3 : 0),
                                 STORE_I(d->reply ? now - back / 2 : 0),
                                 STORE_I(now - back / 3),
                                 STORE_I(id),
                                 STORE_T(insee)};

        rc = store_exec(c,
                        "UPDATE tri_requests SET status = ?, resolved_at = ?, "
                        "first_reply_at = ?, updated_at = ? WHERE id = ? AND "
                        "insee = ?",
                        p, 6, err);
        if (rc == 0)
            rc = tri_decision_add(c, insee, id, "statut", d->status,
                                  status_before, 0, "", "agent", "admin", err);
        if (rc < 0)
            return rc;
    }
    {
        /* updated_at: when the agent acted (set above), else the
           request's own (back-dated) arrival */
        struct store_val p[5] = {STORE_I(back), STORE_I(back),
                                 STORE_I(d->status ? 1 : 0), STORE_I(back),
                                 STORE_I(id)};
        struct store_val p2[1] = {STORE_T(insee)};
        struct store_val all[6];

        memcpy(all, p, sizeof(p));
        all[5] = p2[0];
        rc = store_exec(c,
                        "UPDATE tri_requests SET created_at = created_at - ?, "
                        "due_at = due_at - ?, updated_at = CASE WHEN ? = 1 "
                        "THEN updated_at ELSE updated_at - ? END WHERE id = ? "
                        "AND insee = ?",
                        all, 6, err);
        if (rc == 0) {
            struct store_val q[3] = {STORE_I(back), STORE_I(id),
                                     STORE_T(insee)};

            rc = store_exec(c,
                            "UPDATE tri_decisions SET created_at = "
                            "created_at - ? WHERE request_id = ? AND insee = ? "
                            "AND kind IN ('service', 'urgence', 'doublon')",
                            q, 3, err);
        }
        if (rc == 0) {
            struct store_val q[3] = {STORE_I(back), STORE_I(id),
                                     STORE_T(insee)};

            rc = store_exec(c,
                            "UPDATE tri_messages SET created_at = created_at "
                            "- ? WHERE request_id = ? AND insee = ? AND kind "
                            "= 'evenement'",
                            q, 3, err);
        }
    }
    return rc;
}

int
tri_demo_seed(struct store *st, struct store_conn *c,
              const struct gu_config *cfg, const char *insee,
              struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(1 << 16);
    struct store_rows *r = NULL;
    struct store_val p[1] = {STORE_T(insee)};
    int64_t admin = 0;
    int rc, made = 0;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if ((rc = tri_services_seed(c, insee, err)) < 0)
        goto out;
    rc = store_query(c, a, "SELECT COUNT(*) FROM tri_requests WHERE insee = ?",
                     p, 1, &r, err);
    if (rc < 0 || store_int(r, 0, 0) > 0)
        goto out;
    if ((rc = agent_id(c, a, "admin", &admin, err)) < 0)
        goto out;
    for (size_t i = 0; i < GU_ARRAY_LEN(demo); i++) {
        const struct demo_req *d = &demo[i];
        struct tri_intake_req in;
        struct tri_intake_res res;

        memset(&in, 0, sizeof(in));
        in.insee = insee;
        in.channel = d->channel;
        in.subject = d->subject;
        in.body = d->body;
        in.address = *d->address ? d->address : NULL;
        in.lat = d->lat;
        in.lon = d->lon;
        in.contact_name = *d->name ? d->name : NULL;
        in.contact_phone = *d->phone ? d->phone : NULL;
        in.notify = false;
        in.origin = "demo";
        in.actor = "demo";
        rc = tri_intake(st, c, cfg, &in, a, &res, err);
        if (rc < 0)
            goto out;
        if ((rc = store_begin(c, err)) < 0)
            goto out;
        rc = demo_work(c, insee, res.id, d, admin,
                       tri_status_name(res.status), err);
        if (rc == 0)
            rc = store_commit(c, err);
        else
            store_rollback(c);
        if (rc < 0)
            goto out;
        made++;
    }
    rc = made;
out:
    gu_arena_free(a);
    return rc;
}
