/*
 * rdv_api.c - two small reads and writes the JSON API needs that the
 * first contract lacked (declared in rdv.h next to their kin): an agent's
 * note on a booking, and a waiting-list entry seen through its link's
 * token. Domain code, no HTTP; same rules as rdv_book.c and rdv_wait.c
 * (French validation, tenancy by insee, GU_ENOTFOUND for anything that
 * does not lead to a row).
 */
#include "rdv/rdv_internal.h"

#include <string.h>

int
rdv_set_note(struct store_conn *c, const char *insee, int64_t id,
             const char *note, struct gu_err *err)
{
    int64_t changes = 0;
    int rc;

    rc = rdv_check_text(note, "note", "La note", false, RDV_TEXT_MAX, true,
                        err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_T(note ? note : ""), STORE_I(gu_now()),
                            STORE_T(insee), STORE_I(id)};
    rc = store_exec_changes(c,
                            "UPDATE rdv_bookings SET note = ?, updated_at = ?"
                            " WHERE insee = ? AND id = ? AND"
                            " anonymised_at = 0",
                            p, GU_ARRAY_LEN(p), &changes, err);
    if (rc == 0 && changes == 0)
        rc = gu_err_set(err, GU_ENOTFOUND, NULL, "Rendez-vous introuvable.",
                        "rdv: no booking %lld in %s", (long long)id, insee);
    return rc;
}

int
rdv_wait_get(struct store_conn *c, struct gu_arena *a, const char *token,
             struct rdv_wait *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    char hash[65];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!token || strlen(token) != RDV_TOKEN_LEN)
        return gu_err_set(err, GU_ENOTFOUND, NULL, NULL, "rdv: bad token");
    gu_token_hash(token, hash);
    struct store_val p[] = {STORE_T(hash), STORE_I(gu_now())};
    rc = store_query(c, a,
                     "SELECT w.id, w.insee, w.motif_id, w.place_id, w.people,"
                     " w.before_day, w.status, w.offers, w.booking_id,"
                     " w.created_at"
                     " FROM rdv_tokens t JOIN rdv_waitlist w"
                     " ON w.id = t.wait_id AND w.insee = t.insee"
                     " WHERE t.hash = ? AND t.wait_id <> 0"
                     " AND (t.expires_at = 0 OR t.expires_at > ?)"
                     " AND w.status <> 'retiré'",
                     p, GU_ARRAY_LEN(p), &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0)
        return gu_err_set(err, GU_ENOTFOUND, NULL, NULL,
                          "rdv: unknown waiting-list token");
    out->id = store_int(r, 0, 0);
    rdv_insee_copy(out->insee, store_text(r, 0, 1));
    out->motif_id = store_int(r, 0, 2);
    out->place_id = store_int(r, 0, 3);
    out->people = (int)store_int(r, 0, 4);
    out->before_day = store_int(r, 0, 5);
    out->status = store_text(r, 0, 6);
    out->offers = (int)store_int(r, 0, 7);
    out->booking_id = store_int(r, 0, 8);
    out->created_at = store_int(r, 0, 9);
    return 0;
}
