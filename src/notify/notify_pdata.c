/*
 * notify_pdata.c - the e-mails queued or sent to a resident, for the
 * rights of access and erasure (app_rights.c).
 *
 * notify_outbox keeps every message until notify_mail_purge(): its
 * address, subject, text and attachment (an .ics with the person's
 * name) are personal data. Export lists them; erasure deletes them,
 * including messages still queued (the person asked to be forgotten:
 * nothing more goes to that address).
 */
#include "notify/notify.h"

#include <string.h>

/* Messages to one address in one commune: more means a shared address
 * (the mairie's own) was asked for, which an agent must look at. */
#define PDATA_MAX 20000

int
notify_pdata_export(struct store_conn *c, struct gu_arena *a,
                    const char *insee, const char *email, json_t *out,
                    struct gu_err *err)
{
    struct store_rows *r = NULL;
    json_t *arr = json_array();
    int rc;

    if (json_object_set_new(out, "courriels", arr) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "notify pdata: oom");
    if (!email)
        return 0;
    {
        struct store_val p[] = {STORE_T(insee), STORE_T(email)};

        rc = store_query(c, a,
                         "SELECT id, kind, to_addr, subject, body, "
                         "attach_name, status, created_at, sent_at "
                         "FROM notify_outbox WHERE insee = ? AND "
                         "lower(trim(to_addr)) = ? ORDER BY id LIMIT 20001",
                         p, 2, &r, err);
    }
    if (rc < 0)
        return rc;
    if (r->nrows > PDATA_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL,
                          "Trop de courriels correspondent à cette adresse.",
                          "notify pdata: too many rows");
    for (size_t i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        const char *v;

        json_object_set_new(o, "id", json_integer(store_int(r, i, 0)));
        json_object_set_new(o, "type", json_string(store_text(r, i, 1)));
        json_object_set_new(o, "destinataire",
                            json_string(store_text(r, i, 2)));
        json_object_set_new(o, "objet", json_string(store_text(r, i, 3)));
        json_object_set_new(o, "texte", json_string(store_text(r, i, 4)));
        v = store_text(r, i, 5);
        json_object_set_new(o, "piece_jointe",
                            v && *v ? json_string(v) : json_null());
        json_object_set_new(o, "statut", json_string(store_text(r, i, 6)));
        json_object_set_new(o, "cree_le", gu_json_time(store_int(r, i, 7)));
        json_object_set_new(o, "envoye_le",
                            gu_json_time(store_int(r, i, 8)));
        if (json_array_append_new(arr, o) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL,
                              "notify pdata: oom");
    }
    return 0;
}

int
notify_pdata_erase(struct store_conn *c, const char *insee, const char *email,
                   int64_t *rows, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_T(email)};
    int64_t ch = 0;
    int rc;

    if (!email)
        return 0;
    rc = store_exec_changes(c,
                            "DELETE FROM notify_outbox WHERE insee = ? AND "
                            "lower(trim(to_addr)) = ?",
                            p, 2, &ch, err);
    if (rc == 0)
        *rows += ch;
    return rc;
}
