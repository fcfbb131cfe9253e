/*
 * test_app_rights.c - residents' rights across modules (app_rights.c and
 * the modules' pdata functions): one person with a booking to come, a
 * past booking, a waiting-list entry, an SMS, a hand-off from the chat,
 * requests with messages and an attachment, and e-mails; another person
 * and another commune beside them. Export finds everything of hers and
 * nothing of anyone else's; erasure leaves nothing of hers anywhere in
 * the database (every text column of every table is searched), frees
 * her slot, touches nobody else, and is all or nothing.
 */
#include "harness.h"
#include "app/app_rights.h"
#include "privacy/privacy.h"
#include "rdv_fixture.h"
#include "store_url.h"

static int64_t
future_monday(void)
{
    int64_t d = gu_now() / 86400 + 8;

    while (gu_day_weekday(d) != 1 || gu_holiday(d, GU_HOL_METROPOLE) ||
           gu_holiday(d + 1, GU_HOL_METROPOLE))
        d++;
    return d;
}

static int
fx_open(struct rfix *f)
{
    struct gu_err err;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->own_cfg, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->cfg = f->own_cfg;
    f->a = gu_arena_new(0);
    if (!f->a || rfix_commune(f, "99001", "Saint-Exemple-sur-Loire", "B") < 0 ||
        rfix_commune(f, "99002", "Autre-Exemple", "A") < 0 ||
        rfix_setup(f) < 0)
        return -1;
    return 0;
}

static int64_t
q1(struct rfix *f, const char *sql, const char *arg)
{
    struct store_val p[1] = {STORE_T(arg)};
    struct store_rows *r = NULL;
    struct gu_err err;

    if (store_query(f->c, f->a, sql, p, arg ? 1 : 0, &r, &err) < 0) {
        fprintf(stderr, "q1: %s\n", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

/* Statements separated by ';' (none inside the literals used here). */
static int
exec(struct rfix *f, const char *sql)
{
    struct gu_err err;

    while (*sql) {
        const char *e = strchr(sql, ';');
        char *one = gu_arena_strndup(f->a, sql, e ? (size_t)(e - sql)
                                                  : strlen(sql));

        if (!one || store_exec(f->c, one, NULL, 0, &err) < 0) {
            fprintf(stderr, "exec: %s\n%s\n", one ? err.msg : "oom", sql);
            return -1;
        }
        sql = e ? e + 1 : sql + strlen(sql);
    }
    return 0;
}

static int64_t
book(struct rfix *f, int64_t day, int start, const char *name,
     const char *email, const char *phone)
{
    struct rdv_book_req r;
    struct rdv_booked out;
    struct gu_err err;

    memset(&r, 0, sizeof(r));
    r.insee = "99001";
    r.motif_id = f->motif;
    r.place_id = f->place;
    r.day = day;
    r.start_min = start;
    r.people = 1;
    r.name = name;
    r.email = email;
    r.phone = phone;
    r.ants_ids = "";
    r.consent = true;
    r.channel = RDV_WEB;
    r.actor = "public";
    if (rdv_book(f->c, f->cfg, &r, &out, &err) < 0) {
        fprintf(stderr, "book: %s\n", err.msg);
        return 0;
    }
    return out.id;
}

struct people {
    int64_t future, past, paul_booking, camille_req, paul_req;
};

/*
 * Camille Martin: camille.martin@exemple.fr, 06 12 34 56 78, written
 * differently in each table. Paul Durand beside her, and Camille again
 * in commune 99002 (another commune's data: out of reach).
 */
static int
populate(struct rfix *f, struct people *p)
{
    struct gu_err err;
    struct rdv_wait_req w;
    struct rdv_booked wb;
    int64_t day = future_monday();
    char sql[1024];

    p->future = book(f, day, 600, "Camille Martin",
                     "camille.martin@exemple.fr", "06.12.34.56.78");
    p->paul_booking =
        book(f, day, 630, "Paul Durand", "paul.durand@exemple.fr", "");
    p->past = rfix_book_raw(f, f->motif, f->place, f->k1, day - 35, 600, 615);
    if (!p->future || !p->paul_booking || !p->past)
        return -1;
    snprintf(sql, sizeof(sql),
             "UPDATE rdv_bookings SET name = 'Camille MARTIN', email = '', "
             "phone = '+33 6 12 34 56 78', status = 3, note = 'venue avec "
             "sa fille' WHERE id = %lld",
             (long long)p->past);
    if (exec(f, sql) < 0)
        return -1;
    memset(&w, 0, sizeof(w));
    w.insee = "99001";
    w.motif_id = f->motif;
    w.people = 1;
    w.name = "Camille Martin";
    w.email = "Camille.Martin@exemple.fr";
    w.phone = "";
    w.ants_ids = "";
    w.consent = true;
    if (rdv_wait_join(f->c, f->cfg, &w, &wb, &err) < 0) {
        fprintf(stderr, "wait: %s\n", err.msg);
        return -1;
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO rdv_sms_queue (insee, booking_id, phone, text, "
             "next_try_at, created_at) VALUES ('99001', 0, '+33612345678', "
             "'Rappel : rendez-vous lundi', 0, 0), ('99001', %lld, "
             "'0700000001', 'Rappel Paul', 0, 0)",
             (long long)p->paul_booking);
    if (exec(f, sql) < 0)
        return -1;
    /* the chat: a conversation handed over with her address */
    if (exec(f,
             "INSERT INTO asst_conversations (id, insee, token_hash, "
             "created_at, updated_at) VALUES (70, '99001', 'h70', 0, 0), "
             "(71, '99001', 'h71', 0, 0);"
             "INSERT INTO asst_messages (conversation_id, insee, at, question,"
             " type, payload) VALUES (70, '99001', 0, 'carte grise perdue',"
             " 'reponse', '{}'), (71, '99001', 0, 'horaires piscine',"
             " 'reponse', '{}');"
             "INSERT INTO asst_handoffs (insee, conversation_id, follow_hash,"
             " email, question, transcript, created_at, updated_at) VALUES"
             " ('99001', 70, 'f70', 'camille.martin@exemple.fr', 'Ma carte "
             "grise est perdue, que faire ?', 'Camille Martin a écrit…', 0, 0),"
             " ('99001', 71, 'f71', 'paul.durand@exemple.fr', 'Horaires ?',"
             " '', 0, 0)") < 0)
        return -1;
    /* the inbox */
    if (exec(f,
             "INSERT INTO tri_requests (id, insee, number, channel, status,"
             " subject, body, subject_redacted, body_redacted, address,"
             " contact_name, contact_email, contact_phone, token_hash,"
             " created_at, updated_at) VALUES"
             " (501, '99001', '2026-00001', 'web', 'nouvelle', 'Trottoir',"
             " 'Bonjour, je suis Camille Martin, 06 12 34 56 78, le trottoir"
             " est cassé.', 'Trottoir', 'Bonjour, je suis [nom·1a2b3c4d],"
             " [téléphone·5e6f7a8b], le trottoir est cassé.', '3 rue des"
             " Lilas', 'Camille Martin', 'camille.martin@exemple.fr',"
             " '0612345678', 'tok501', 0, 0),"
             " (502, '99001', '2026-00002', 'web', 'nouvelle', 'Bruit',"
             " 'Bruit la nuit, Paul Durand', 'Bruit', 'Bruit la nuit, [nom]',"
             " '', 'Paul Durand', 'paul.durand@exemple.fr', '', 'tok502', 0,"
             " 0),"
             " (503, '99002', '2026-00001', 'web', 'nouvelle', 'Autre',"
             " 'Camille Martin dans une autre commune', 'Autre', 'x', '',"
             " 'Camille Martin', 'camille.martin@exemple.fr', '0612345678',"
             " 'tok503', 0, 0);"
             "INSERT INTO tri_messages (insee, request_id, kind, author,"
             " from_addr, body, body_redacted, created_at) VALUES"
             " ('99001', 501, 'sortant', 'agent1', '', 'Bonjour Mme Martin,"
             " nous intervenons.', 'Bonjour Mme [nom], nous intervenons.', 0),"
             " ('99001', 501, 'entrant', 'usager',"
             " 'camille.martin@exemple.fr', 'Merci ! Camille', 'Merci ! [nom]',"
             " 0),"
             " ('99001', 502, 'entrant', 'usager',"
             " 'Camille.Martin@exemple.fr', 'Moi aussi j''entends le bruit,"
             " Camille Martin', 'x', 0),"
             " ('99001', 502, 'sortant', 'agent1', '', 'Bonjour M. Durand', 'x',"
             " 0);"
             "INSERT INTO tri_attachments (insee, request_id, filename, ctype,"
             " size, sha256, data, created_at) VALUES ('99001', 501,"
             " 'trottoir-camille.jpg', 'image/jpeg', 4, 'abcd', X'FFD8FFD9',"
             " 0)") < 0)
        return -1;
    {
        struct notify_mail m = {.insee = "99001",
                                .to = "camille.martin@exemple.fr",
                                .subject = "[Demande 2026-00001] Trottoir",
                                .text = "Bonjour Camille Martin, ...",
                                .kind = "triage.reply"};

        if (notify_mail_queue(f->c, &m, NULL, &err) < 0) {
            fprintf(stderr, "mail: %s\n", err.msg);
            return -1;
        }
    }
    p->camille_req = 501;
    p->paul_req = 502;
    return 0;
}

/* How many text cells of the whole database contain `needle` (any case),
 * in commune 99001's rows or rows without a commune. */
static int64_t
anywhere(struct rfix *f, const char *needle, const char *except_insee)
{
    const char **tabs = NULL, **cols = NULL;
    size_t ntabs = 0, ncols = 0;
    struct gu_err err;
    int64_t hits = 0;

    if (store_tables(f->c, f->a, &tabs, &ntabs, &err) < 0)
        return -1;
    for (size_t i = 0; i < ntabs; i++) {
        const char *tab = tabs[i];
        char sql[512];
        bool has_insee = false;

        if (store_columns(f->c, f->a, tab, &cols, &ncols, &err) < 0)
            return -1;
        for (size_t k = 0; k < ncols; k++)
            has_insee |= strcmp(cols[k], "insee") == 0;
        for (size_t k = 0; k < ncols; k++) {
            struct store_val p[2] = {STORE_T(needle), STORE_T(except_insee)};
            struct store_rows *r = NULL;

            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM \"%s\" WHERE"
                     " instr(lower(CAST(\"%s\" AS TEXT)), lower(?)) > 0%s",
                     tab, cols[k], has_insee ? " AND insee <> ?" : "");
            if (store_query(f->c, f->a, sql, p, has_insee ? 2 : 1, &r,
                            &err) < 0)
                return -1;
            if (store_int(r, 0, 0) > 0)
                fprintf(stderr, "  « %s » in %s.%s (%lld)\n", needle, tab,
                        cols[k],
                        (long long)store_int(r, 0, 0));
            hits += store_int(r, 0, 0);
        }
    }
    return hits;
}

static json_t *
do_export(struct rfix *f, const char *email, const char *phone)
{
    struct app_subject who;
    struct gu_err err;
    json_t *doc = NULL;

    if (app_subject_make(f->a, "99001", email, phone, &who, &err) < 0 ||
        app_rights_export(f->c, f->a, &who, "admin", "req-1", &doc, &err) < 0)
        fprintf(stderr, "export: %s\n", err.msg);
    return doc;
}

static int64_t
resume(json_t *doc, const char *member)
{
    return json_integer_value(
        json_object_get(json_object_get(doc, "resume"), member));
}

static void
test_subject(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct app_subject w;
    struct gu_err err;

    CHECK_EQ(app_subject_make(a, "99001", " Marie@Exemple.FR ", NULL, &w,
                              &err),
             0);
    CHECK_STR(w.email, "marie@exemple.fr");
    CHECK(w.phone == NULL);
    CHECK_EQ(app_subject_make(a, "99001", "", "+33 6 12 34 56 78", &w, &err),
             0);
    CHECK_STR(w.phone, "0612345678");
    CHECK(w.email == NULL);
    CHECK_EQ(app_subject_make(a, "99001", NULL, NULL, &w, &err), GU_EINVAL);
    CHECK_STR(err.field, "courriel");
    CHECK_EQ(app_subject_make(a, "99001", "marie", NULL, &w, &err), GU_EINVAL);
    CHECK_STR(err.field, "courriel");
    CHECK_EQ(app_subject_make(a, "99001", NULL, "12 34", &w, &err), GU_EINVAL);
    CHECK_STR(err.field, "telephone");
    CHECK_EQ(app_subject_make(a, "9x", "m@e.fr", NULL, &w, &err), GU_EINVAL);
    gu_arena_free(a);
}

static void
test_export(void)
{
    struct rfix f;
    struct people p;
    json_t *doc;
    char *s;

    if (fx_open(&f) < 0 || populate(&f, &p) < 0) {
        TH_FAIL("fixture");
        rfix_close(&f);
        return;
    }
    doc = do_export(&f, "Camille.Martin@exemple.fr", "06 12 34 56 78");
    CHECK(doc != NULL);
    if (!doc)
        goto out;
    /* rdv: 2 bookings (one found by phone only) + 1 entry + 1 SMS + ... */
    CHECK_EQ(json_array_size(json_object_get(
                 json_object_get(json_object_get(doc, "donnees"), "rdv"),
                 "rendez_vous")),
             2);
    CHECK_EQ(json_array_size(json_object_get(
                 json_object_get(json_object_get(doc, "donnees"), "rdv"),
                 "liste_attente")),
             1);
    CHECK_EQ(json_array_size(json_object_get(
                 json_object_get(json_object_get(doc, "donnees"), "rdv"),
                 "sms")),
             1);
    CHECK_EQ(json_array_size(json_object_get(
                 json_object_get(json_object_get(doc, "donnees"), "demandes"),
                 "demandes")),
             1);
    CHECK_EQ(json_array_size(json_object_get(
                 json_object_get(json_object_get(doc, "donnees"), "demandes"),
                 "messages_sur_d_autres_demandes")),
             1);
    CHECK_EQ(resume(doc, "assistant"), 1);
    /* the rdv confirmation and the reply: two e-mails */
    CHECK_EQ(resume(doc, "courriels"), 2);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(doc, "recherche"), "courriel")),
              "camille.martin@exemple.fr");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(doc, "commune"), "insee")),
              "99001");
    s = json_dumps(doc, 0);
    CHECK_CONTAINS(s, "le trottoir est cassé");
    CHECK_CONTAINS(s, "venue avec sa fille");
    CHECK_CONTAINS(s, "carte grise perdue"); /* the conversation */
    CHECK_CONTAINS(s, "Rappel : rendez-vous lundi");
    CHECK_CONTAINS(s, "\"contenu_base64\": \"/9j/2Q==\"");
    CHECK(strstr(s, "paul") == NULL && strstr(s, "Paul") == NULL &&
          strstr(s, "Durand") == NULL);
    CHECK(strstr(s, "autre commune") == NULL);
    CHECK(strstr(s, "horaires piscine") == NULL);
    free(s);
    /* the audit: one entry, counts only */
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM audit WHERE action ="
                " 'personne.export' AND detail LIKE '%rdv=%' AND"
                " detail NOT LIKE '%camille%' AND request_id = ?",
                "req-1"),
             1);
    /* by phone alone: the bookings, the SMS, the request; not the mails */
    doc = do_export(&f, NULL, "+33612345678");
    CHECK(doc != NULL);
    /* the two bookings, the SMS, the confirmation in the notify log */
    CHECK_EQ(resume(doc, "rdv"), 4);
    CHECK_EQ(resume(doc, "demandes"), 1);
    CHECK_EQ(resume(doc, "courriels"), 0);
    CHECK_EQ(resume(doc, "assistant"), 0);
    /* nobody */
    doc = do_export(&f, "personne@exemple.fr", NULL);
    CHECK(doc && json_integer_value(json_object_get(doc, "total")) == 0);
out:
    rfix_close(&f);
}

static void
test_erase(void)
{
    struct rfix f;
    struct people p;
    struct app_subject who;
    struct app_erase_result res;
    struct gu_err err;
    struct rdv_booking b;
    json_t *doc;
    int64_t paul_units;

    if (fx_open(&f) < 0 || populate(&f, &p) < 0) {
        TH_FAIL("fixture");
        rfix_close(&f);
        return;
    }
    paul_units = q1(&f,
                    "SELECT count(*) FROM rdv_units WHERE booking_id IN"
                    " (SELECT id FROM rdv_bookings WHERE name = ?)",
                    "Paul Durand");
    CHECK(paul_units > 0);
    CHECK(anywhere(&f, "camille", "99002") > 0); /* the probe works */
    CHECK_EQ(app_subject_make(f.a, "99001", "camille.martin@exemple.fr",
                              "0612345678", &who, &err),
             0);
    CHECK_EQ(app_rights_erase(f.c, &who, "admin", "req-2", &res, &err), 0);
    CHECK(res.rows > 0);
    CHECK_EQ(res.n, 4);
    /* nothing of hers left in commune 99001, in any table */
    CHECK_EQ(anywhere(&f, "camille", "99002"), 0);
    CHECK_EQ(anywhere(&f, "12 34 56 78", "99002"), 0);
    CHECK_EQ(anywhere(&f, "12.34.56.78", "99002"), 0);
    CHECK_EQ(anywhere(&f, "612345678", "99002"), 0);
    CHECK_EQ(anywhere(&f, "trottoir-camille", "99002"), 0);
    CHECK_EQ(anywhere(&f, "venue avec sa fille", "99002"), 0);
    CHECK_EQ(anywhere(&f, "carte grise", "99002"), 0);
    /* no keyed tag left that her key could link */
    CHECK_EQ(anywhere(&f, "\xc2\xb7" "5e6f7a8b", "99002"), 0);
    /* her booking to come is cancelled, its slot free again */
    CHECK_EQ(rdv_get(f.c, f.a, "99001", p.future, &b, &err), 0);
    CHECK_EQ(b.status, RDV_CANCELLED);
    CHECK_STR(b.name, "");
    CHECK_EQ(q1(&f, "SELECT count(*) FROM rdv_units WHERE booking_id = ?",
                gu_arena_sprintf(f.a, "%lld", (long long)p.future)),
             0);
    /* the past one stays as it was (history), anonymised */
    CHECK_EQ(rdv_get(f.c, f.a, "99001", p.past, &b, &err), 0);
    CHECK_EQ(b.status, RDV_PRESENT);
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM rdv_waitlist WHERE status = ? AND"
                " email = ''",
                "retiré"),
             1);
    /* the request stays for statistics, anonymised, plain placeholders */
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM tri_requests WHERE id = 501 AND"
                " anonymised_at > 0 AND body = '' AND token_hash IS NULL AND"
                " body_redacted LIKE ?",
                "%[téléphone]%"),
             1);
    /* nobody else touched */
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM rdv_units WHERE booking_id IN"
                " (SELECT id FROM rdv_bookings WHERE name = ?)",
                "Paul Durand"),
             paul_units);
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM tri_requests WHERE id = 502 AND"
                " contact_email = ? AND body <> '' AND anonymised_at = 0",
                "paul.durand@exemple.fr"),
             1);
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM tri_messages WHERE request_id = 502 AND"
                " body = ?",
                "Bonjour M. Durand"),
             1);
    CHECK_EQ(q1(&f, "SELECT count(*) FROM asst_handoffs WHERE email = ?",
                "paul.durand@exemple.fr"),
             1);
    CHECK_EQ(q1(&f, "SELECT count(*) FROM asst_messages WHERE question = ?",
                "horaires piscine"),
             1);
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM rdv_tokens WHERE booking_id IN (SELECT"
                " id FROM rdv_bookings WHERE name = ?)",
                "Paul Durand"),
             1);
    CHECK_EQ(q1(&f, "SELECT count(*) FROM rdv_sms_queue WHERE text = ?",
                "Rappel Paul"),
             1);
    CHECK_EQ(q1(&f, "SELECT count(*) FROM notify_outbox WHERE to_addr = ?",
                "paul.durand@exemple.fr"),
             1);
    /* the other commune keeps its own request */
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM tri_requests WHERE insee = '99002' AND"
                " contact_email = ?",
                "camille.martin@exemple.fr"),
             1);
    /* the audit: counts, nobody named */
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM audit WHERE action ="
                " 'personne.effacement' AND detail LIKE '%rdv=%' AND"
                " detail NOT LIKE '%camille%' AND detail NOT LIKE '%0612%'"
                " AND request_id = ?",
                "req-2"),
             1);
    /* export now finds nothing; erasing again changes nothing */
    doc = do_export(&f, "camille.martin@exemple.fr", "0612345678");
    CHECK(doc && json_integer_value(json_object_get(doc, "total")) == 0);
    CHECK_EQ(app_rights_erase(f.c, &who, "admin", NULL, &res, &err), 0);
    CHECK_EQ(res.rows, 0);
    rfix_close(&f);
}

/* A module failing half-way leaves everything as it was. */
static void
test_erase_atomic(void)
{
    struct rfix f;
    struct people p;
    struct app_subject who;
    struct app_erase_result res;
    struct gu_err err;
    struct rdv_booking b;
    int64_t before;

    if (fx_open(&f) < 0 || populate(&f, &p) < 0) {
        TH_FAIL("fixture");
        rfix_close(&f);
        return;
    }
    /* the assistant comes last in the module list: make it fail */
    CHECK_EQ(th_fail_trigger(f.c, "no_del", "DELETE", "asst_handoffs"), 0);
    before = anywhere(&f, "camille", "99002");
    CHECK_EQ(app_subject_make(f.a, "99001", "camille.martin@exemple.fr",
                              NULL, &who, &err),
             0);
    CHECK(app_rights_erase(f.c, &who, "admin", NULL, &res, &err) < 0);
    CHECK_EQ(res.rows, 0);
    CHECK(!store_in_tx(f.c));
    CHECK_EQ(anywhere(&f, "camille", "99002"), before);
    CHECK_EQ(rdv_get(f.c, f.a, "99001", p.future, &b, &err), 0);
    CHECK_EQ(b.status, RDV_CONFIRMED);
    CHECK_EQ(q1(&f,
                "SELECT count(*) FROM audit WHERE action = ?",
                "personne.effacement"),
             0);
    /* unknown commune */
    CHECK_EQ(app_subject_make(f.a, "99009", "camille.martin@exemple.fr",
                              NULL, &who, &err),
             0);
    CHECK_EQ(app_rights_erase(f.c, &who, "admin", NULL, &res, &err),
             GU_ENOTFOUND);
    rfix_close(&f);
}

TESTS(T(test_subject), T(test_export), T(test_erase), T(test_erase_atomic))
