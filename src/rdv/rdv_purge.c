/*
 * rdv_purge.c - retention of the appointment domain (see rdv_purge() in
 * rdv.h). Run by `guichet purge` and the daily job rdv.purge.
 *
 *   - bookings whose day is more than rdv.retention_days old are
 *     anonymised: name, e-mail, phone, pré-demande numbers, note and the
 *     person hash cleared, anonymised_at set; their tokens are deleted
 *     (every link to them then answers « lien invalide »). The row stays
 *     for statistics (motif, day, time, status);
 *   - waiting-list entries finished (or last changed) more than
 *     rdv.retention_days ago are anonymised the same way, with their
 *     tokens;
 *   - the notification log and the SMS queue (phone numbers and texts)
 *     are deleted after rdv.log_retention_days (six months by default);
 *   - the ANTS declaration queue (pré-demande numbers) after
 *     rdv.retention_days.
 * All in one transaction: a purge is never half-applied.
 */
#include "rdv/rdv_internal.h"

#include <string.h>

int
rdv_purge(struct store *s, const struct gu_config *cfg, int64_t now,
          struct gu_err *err)
{
    int64_t keep_days = gu_config_int(cfg, "rdv.retention_days");
    int64_t log_days = gu_config_int(cfg, "rdv.log_retention_days");
    int64_t cut_day, cut_at, log_at, changes = 0, total = 0;
    struct store_conn *c = NULL;
    int rc;

    if (now <= 0)
        now = gu_now();
    /* Day numbers are civil days; a day's margin covers every zone. */
    cut_day = now / 86400 - keep_days - 1;
    cut_at = now - keep_days * 86400;
    log_at = now - log_days * 86400;
    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    if ((rc = store_begin(c, err)) < 0)
        goto out;

    struct store_val pb[2] = {STORE_I(now), STORE_I(cut_day)};
    rc = store_exec_changes(c,
                            "UPDATE rdv_bookings SET name = '', email = '', "
                            "phone = '', ants_ids = '', note = '', "
                            "person_hash = '', anonymised_at = ? "
                            "WHERE day < ? AND anonymised_at = 0",
                            pb, 2, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc = store_exec_changes(c,
                            "DELETE FROM rdv_tokens WHERE booking_id IN "
                            "(SELECT id FROM rdv_bookings WHERE "
                            "anonymised_at > 0)",
                            NULL, 0, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;

    struct store_val pw[1] = {STORE_I(cut_at)};
    rc = store_exec_changes(c,
                            "UPDATE rdv_waitlist SET name = '', email = '', "
                            "phone = '', ants_ids = '' WHERE updated_at < ? "
                            "AND (name <> '' OR email <> '' OR phone <> '' "
                            "OR ants_ids <> '')",
                            pw, 1, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc = store_exec_changes(c,
                            "DELETE FROM rdv_tokens WHERE wait_id IN "
                            "(SELECT id FROM rdv_waitlist WHERE email = '')",
                            NULL, 0, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    /* Expired tokens of live bookings (offers, reminders) are dead
       weight: nothing can use them any more. */
    rc = store_exec_changes(c,
                            "DELETE FROM rdv_tokens WHERE expires_at > 0 AND "
                            "expires_at < ?",
                            (struct store_val[]){STORE_I(now)}, 1, &changes,
                            err);
    if (rc < 0)
        goto rollback;
    total += changes;

    struct store_val pl[1] = {STORE_I(log_at)};
    rc = store_exec_changes(c, "DELETE FROM rdv_notify_log WHERE at < ?", pl, 1,
                            &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc = store_exec_changes(c, "DELETE FROM rdv_sms_queue WHERE created_at < ?",
                            pl, 1, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;
    rc =
        store_exec_changes(c, "DELETE FROM rdv_ants_queue WHERE created_at < ?",
                           pw, 1, &changes, err);
    if (rc < 0)
        goto rollback;
    total += changes;

    rc = store_commit(c, err);
    if (rc < 0)
        goto rollback;
    rc = total > 0x7fffffff ? 0x7fffffff : (int)total;
    goto out;
rollback:
    store_rollback(c);
out:
    store_release(c);
    return rc;
}

int
rdv_purge_job(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    return rdv_purge(s, cfg, gu_now(), err);
}
