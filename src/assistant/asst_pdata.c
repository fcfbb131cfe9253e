/*
 * asst_pdata.c - what the assistant holds about a resident, for the
 * rights of access and erasure (app_rights.c).
 *
 * The chat stores only redacted questions and no contact; a person
 * becomes identifiable when they hand a question over to an agent with
 * their e-mail address (asst_handoffs: address, question, transcript,
 * the agent's answer). Those hand-offs are found by address; the
 * conversation each came from is theirs too (its messages are exported
 * with it). Erasure deletes the hand-offs and their conversations.
 */
#include "assistant/asst.h"

#include <string.h>

#define PDATA_MAX 5000 /* hand-offs of one address in one commune */

static json_t *
jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");

    return j ? j : json_string("");
}

static int
handoffs(struct store_conn *c, struct gu_arena *a, const char *insee,
         const char *email, struct store_rows **r, struct gu_err *err)
{
    struct store_val p[] = {STORE_T(insee), STORE_T(email)};
    int rc = store_query(c, a,
                         "SELECT id, conversation_id, question, transcript,"
                         " status, answer, answered_by, answered_at,"
                         " created_at, updated_at, email FROM asst_handoffs"
                         " WHERE insee = ? AND lower(trim(email)) = ?"
                         " ORDER BY id LIMIT 5001",
                         p, 2, r, err);

    if (rc == 0 && (*r)->nrows > PDATA_MAX)
        rc = gu_err_set(err, GU_ETOOBIG, NULL,
                        "Trop de demandes transmises correspondent à cette "
                        "adresse.",
                        "asst pdata: too many hand-offs");
    return rc;
}

static int
export_conversation(struct store_conn *c, struct gu_arena *a, int64_t conv,
                    json_t *arr, struct gu_err *err)
{
    struct store_val p[] = {STORE_I(conv)};
    struct store_rows *r = NULL;
    int rc = store_query(c, a,
                         "SELECT at, question, type, fiche_id, useful,"
                         " comment FROM asst_messages WHERE"
                         " conversation_id = ? ORDER BY id LIMIT 1000",
                         p, 1, &r, err);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct store_val *u = store_cell(r, i, 4);
        json_t *o = json_object();

        json_object_set_new(o, "date", gu_json_time(store_int(r, i, 0)));
        json_object_set_new(o, "question", jstr(store_text(r, i, 1)));
        json_object_set_new(o, "type_reponse", jstr(store_text(r, i, 2)));
        json_object_set_new(o, "fiche", jstr(store_text(r, i, 3)));
        json_object_set_new(o, "utile",
                            !u || u->type == STORE_NULL
                                ? json_null()
                                : json_boolean(store_int(r, i, 4) != 0));
        json_object_set_new(o, "commentaire", jstr(store_text(r, i, 5)));
        if (json_array_append_new(arr, o) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst pdata: oom");
    }
    return 0;
}

int
asst_pdata_export(struct store_conn *c, struct gu_arena *a, const char *insee,
                  const char *email, json_t *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    json_t *m = json_object(), *arr = json_array();
    int rc;

    json_object_set_new(m, "transmissions", arr);
    if (json_object_set_new(out, "assistant", m) < 0)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst pdata: oom");
    if (!email)
        return 0;
    if ((rc = handoffs(c, a, insee, email, &r, err)) < 0)
        return rc;
    for (size_t i = 0; i < r->nrows; i++) {
        json_t *o = json_object(), *conv = json_array();
        int64_t cid = store_int(r, i, 1);

        json_object_set_new(o, "id", json_integer(store_int(r, i, 0)));
        json_object_set_new(o, "courriel", jstr(store_text(r, i, 10)));
        json_object_set_new(o, "question", jstr(store_text(r, i, 2)));
        json_object_set_new(o, "echange", jstr(store_text(r, i, 3)));
        json_object_set_new(o, "statut", jstr(store_text(r, i, 4)));
        json_object_set_new(o, "reponse", jstr(store_text(r, i, 5)));
        json_object_set_new(o, "repondu_par", jstr(store_text(r, i, 6)));
        json_object_set_new(o, "repondu_le",
                            gu_json_time(store_int(r, i, 7)));
        json_object_set_new(o, "cree_le", gu_json_time(store_int(r, i, 8)));
        json_object_set_new(o, "modifie_le",
                            gu_json_time(store_int(r, i, 9)));
        json_object_set_new(o, "conversation", conv);
        if (json_array_append_new(arr, o) < 0)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst pdata: oom");
        if (cid > 0 && (rc = export_conversation(c, a, cid, conv, err)) < 0)
            return rc;
    }
    return 0;
}

static int
exec_n(struct store_conn *c, const char *sql, const struct store_val *p,
       size_t n, int64_t *rows, struct gu_err *err)
{
    int64_t ch = 0;
    int rc = store_exec_changes(c, sql, p, n, &ch, err);

    if (rc == 0)
        *rows += ch;
    return rc;
}

int
asst_pdata_erase(struct store_conn *c, const char *insee, const char *email,
                 int64_t *rows, struct gu_err *err)
{
    struct gu_arena *a;
    struct store_rows *r = NULL;
    int rc;

    if (!email)
        return 0;
    if (!(a = gu_arena_new(0)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst pdata: oom");
    if ((rc = handoffs(c, a, insee, email, &r, err)) < 0)
        goto out;
    for (size_t i = 0; i < r->nrows; i++) {
        struct store_val ph[] = {STORE_I(store_int(r, i, 0))};
        struct store_val pc[] = {STORE_I(store_int(r, i, 1)), STORE_T(insee)};

        /* the conversation's messages explicitly: no reliance on the
           foreign keys' cascade being switched on */
        if ((rc = exec_n(c, "DELETE FROM asst_handoffs WHERE id = ?", ph, 1,
                         rows, err)) < 0 ||
            (store_int(r, i, 1) > 0 &&
             ((rc = exec_n(c,
                           "DELETE FROM asst_messages WHERE"
                           " conversation_id = ? AND insee = ?",
                           pc, 2, rows, err)) < 0 ||
              (rc = exec_n(c,
                           "DELETE FROM asst_conversations WHERE id = ? AND"
                           " insee = ?",
                           pc, 2, rows, err)) < 0)))
            goto out;
    }
out:
    gu_arena_free(a);
    return rc;
}
