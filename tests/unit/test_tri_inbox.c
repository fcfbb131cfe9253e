/*
 * test_tri_inbox.c - what agents do on requests (tri_inbox.c): status
 * rules, service corrections recorded as decisions, urgency, assignment,
 * cases, bulk actions (all or nothing), notes, replies by e-mail
 * (threading, fresh status link, templates' placeholders), status
 * e-mails, reply templates, and the retention purge (tri.purge).
 *
 * Requests are written straight into tri_requests so that each test
 * controls its starting state exactly; the inbox functions run on a real
 * in-memory SQLite store with every module's schema.
 */
#include "harness.h"

#include "app/app.h"
#include "triage/tri.h"

#include <stdlib.h>
#include "store_url.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    int64_t agent, lect, other, voirie, eau, voirie2;
};

static int
add_commune(struct fix *f, const char *insee, const char *name)
{
    struct store_commune m;
    struct gu_err err;

    memset(&m, 0, sizeof(m));
    memcpy(m.insee, insee, 6);
    m.name = name;
    m.zone = "B";
    m.hours = m.address = m.phone = m.email = "";
    return store_commune_create(f->c, &m, &err);
}

static int64_t
one_int(struct fix *f, const char *sql, int64_t arg)
{
    struct store_rows *r = NULL;
    struct gu_err err;
    struct store_val p[] = {STORE_I(arg)};

    if (store_query(f->c, f->a, sql, p, strchr(sql, '?') ? 1 : 0, &r, &err) <
            0 ||
        r->nrows == 0)
        return -999;
    return store_int(r, 0, 0);
}

static const char *
one_text(struct fix *f, const char *sql, int64_t arg)
{
    struct store_rows *r = NULL;
    struct gu_err err;
    struct store_val p[] = {STORE_I(arg)};

    if (store_query(f->c, f->a, sql, p, strchr(sql, '?') ? 1 : 0, &r, &err) <
            0 ||
        r->nrows == 0)
        return NULL;
    return store_text(r, 0, 0);
}

static int64_t
service_id(struct fix *f, const char *insee, const char *code)
{
    struct store_rows *r = NULL;
    struct gu_err err;
    struct store_val p[] = {STORE_T(insee), STORE_T(code)};

    if (store_query(f->c, f->a,
                    "SELECT id FROM tri_services WHERE insee = ? AND code = ?",
                    p, 2, &r, &err) < 0 ||
        r->nrows == 0)
        return 0;
    return store_int(r, 0, 0);
}

static int
fix_open(struct fix *f)
{
    struct gu_err err;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    gu_log_set_level(GU_LOG_WARN);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 ||
        gu_config_parse_string(f->cfg,
                               "[triage]\nreply_to = Mairie "
                               "<demandes@mairie.example>\n"
                               "[server]\npublic_url = "
                               "https://mairie.example/\n"
                               "[smtp]\nfrom = Mairie "
                               "<mairie@mairie.example>\n",
                               &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->a = gu_arena_new(0);
    if (!f->a || add_commune(f, "99001", "Saint-Exemple-sur-Loire") < 0 ||
        add_commune(f, "99002", "Autre-Exemple") < 0 ||
        tri_services_seed(f->c, "99001", &err) < 0 ||
        tri_services_seed(f->c, "99002", &err) < 0 ||
        store_agent_create(f->c, "agent1", "Agent Un", "", "Mot-de-passe-2026!",
                           false, "99001", STORE_ROLE_AGENT, &f->agent,
                           &err) < 0 ||
        store_agent_create(f->c, "lect1", "Lecteur", "", "Mot-de-passe-2026!",
                           false, "99001", STORE_ROLE_LECTEUR, &f->lect,
                           &err) < 0 ||
        store_agent_create(f->c, "autre1", "Autre", "", "Mot-de-passe-2026!",
                           false, "99002", STORE_ROLE_AGENT, &f->other,
                           &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    f->voirie = service_id(f, "99001", "voirie");
    f->eau = service_id(f, "99001", "eau-assainissement");
    f->voirie2 = service_id(f, "99002", "voirie");
    if (f->voirie <= 0 || f->eau <= 0 || f->voirie2 <= 0) {
        fprintf(stderr, "fixture: services not seeded\n");
        return -1;
    }
    return 0;
}

static void
fix_close(struct fix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* A request as the intake would leave it. */
struct req_in {
    const char *insee, *status, *email, *name;
    int64_t service;
    bool notify;
    int urgency;
    int64_t created_at;
};

static int64_t
add_request(struct fix *f, const struct req_in *q)
{
    static int counter;
    struct store_rows *r = NULL;
    struct gu_err err;
    char number[32], hash[65], tok[64];
    int64_t now = q->created_at ? q->created_at : gu_now() - 3600;

    snprintf(number, sizeof(number), "2026-%05d", ++counter);
    snprintf(tok, sizeof(tok), "jeton-%d", counter);
    gu_token_hash(tok, hash);
    struct store_val p[] = {
        STORE_T(q->insee ? q->insee : "99001"),
        STORE_T(number),
        STORE_T(q->status ? q->status : "nouvelle"),
        STORE_T("Nid de poule rue des Lilas, appelez le 06 12 34 56 78"),
        STORE_T("Nid de poule [téléphone]"),
        STORE_I(q->service),
        STORE_I(q->urgency),
        STORE_T(q->name ? q->name : ""),
        STORE_T(q->email ? q->email : ""),
        STORE_I(q->notify),
        STORE_T(hash),
        STORE_I(now + 72 * 3600),
        STORE_I(now),
        STORE_I(now)};
    if (store_query(f->c, f->a,
                    "INSERT INTO tri_requests (insee, number, channel, status,"
                    " subject, body, subject_redacted, body_redacted,"
                    " service_id, urgency, contact_name, contact_email,"
                    " notify, token_hash, due_at, created_at, updated_at)"
                    " VALUES (?, ?, 'web', ?, 'Nid de poule', ?, 'Nid de"
                    " poule', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    p, GU_ARRAY_LEN(p), &r, &err) < 0) {
        fprintf(stderr, "add_request: %s\n", err.msg);
        return -1;
    }
    return store_int(r, 0, 0);
}

static struct tri_change
nochange(void)
{
    struct tri_change ch = {-1, -1, -1, -1, -1};
    return ch;
}

static const char *
status_of(struct fix *f, int64_t id)
{
    return one_text(f, "SELECT status FROM tri_requests WHERE id = ?", id);
}

/* ------------------------------------------------------------------ */

static void
test_service_correction(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t id;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = add_request(&f, &(struct req_in){.status = "a_trier"});
    ch = nochange();
    ch.service_id = f.voirie;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    /* Routed by the agent: nouvelle, source agent, SLA from the service. */
    CHECK_STR(status_of(&f, id), "nouvelle");
    CHECK_STR(one_text(&f, "SELECT service_source FROM tri_requests WHERE id"
                           " = ?",
                       id),
              "agent");
    CHECK_EQ(one_int(&f,
                     "SELECT due_at - created_at FROM tri_requests WHERE id"
                     " = ?",
                     id),
             (int64_t)one_int(&f,
                              "SELECT sla_hours FROM tri_services WHERE id = ?",
                              f.voirie) *
                 3600);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_decisions WHERE request_id = ?"
                     " AND kind = 'service' AND source = 'agent' AND value ="
                     " 'voirie' AND previous = '' AND actor = 'agent1'",
                     id),
             1);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_decisions WHERE request_id = ?"
                     " AND kind = 'statut' AND value = 'nouvelle' AND"
                     " previous = 'a_trier'",
                     id),
             1);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM audit WHERE action = 'tri.update'"
                     " AND actor = 'agent1' AND target = 'tri_requests:' || ?",
                     id),
             1);
    /* A second correction keeps the previous value. */
    ch.service_id = f.eau;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_decisions WHERE request_id = ?"
                     " AND kind = 'service' AND value = 'eau-assainissement'"
                     " AND previous = 'voirie'",
                     id),
             1);
    /* A service of another commune, or none of that id: refused. */
    ch.service_id = f.voirie2;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_STR(err.field, "service");
    /* Back to à trier. */
    ch.service_id = 0;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_STR(status_of(&f, id), "a_trier");
    /* Another commune's agent cannot touch it. */
    ch.service_id = f.voirie2;
    CHECK_EQ(tri_update(f.c, f.cfg, "99002", id, &ch, "autre1", &err),
             GU_ENOTFOUND);
    /* Nothing asked. */
    ch = nochange();
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err),
             GU_EINVAL);
    fix_close(&f);
}

static void
test_status_rules(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t a, b;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    a = add_request(&f, &(struct req_in){.status = "a_trier"});
    b = add_request(&f, &(struct req_in){.service = f.voirie});
    /* Work needs a service; à trier has none. */
    ch = nochange();
    ch.status = TRI_EN_COURS;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", a, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_STR(err.field, "service");
    ch.status = TRI_A_TRIER;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_EINVAL);
    /* Spam can be rejected without a service. */
    ch.status = TRI_REJETEE;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", a, &ch, "agent1", &err), 0);
    CHECK(one_int(&f, "SELECT resolved_at FROM tri_requests WHERE id = ?", a) >
          0);
    /* Résolue stamps resolved_at. */
    ch.status = TRI_RESOLUE;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err), 0);
    CHECK(one_int(&f, "SELECT resolved_at FROM tri_requests WHERE id = ?", b) >
          0);
    /* Closed: no urgency, assignment or case change without reopening. */
    ch = nochange();
    ch.urgency = 2;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_ECONFLICT);
    ch = nochange();
    ch.assigned_to = f.agent;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_ECONFLICT);
    CHECK_EQ(one_int(&f, "SELECT urgency FROM tri_requests WHERE id = ?", b),
             0);
    /* ...but a service correction is kept (training data). */
    ch = nochange();
    ch.service_id = f.eau;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err), 0);
    CHECK_STR(status_of(&f, b), "resolue");
    /* Reopened explicitly, with the same call changing urgency. */
    ch = nochange();
    ch.status = TRI_EN_COURS;
    ch.urgency = 2;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err), 0);
    CHECK_STR(status_of(&f, b), "en_cours");
    CHECK_EQ(one_int(&f, "SELECT resolved_at FROM tri_requests WHERE id = ?", b),
             0);
    CHECK_EQ(one_int(&f, "SELECT urgency FROM tri_requests WHERE id = ?", b),
             2);
    /* Urgent: a quarter of the SLA, a day at most. */
    CHECK(one_int(&f, "SELECT due_at - created_at FROM tri_requests WHERE id ="
                      " ?",
                  b) <= 24 * 3600);
    /* Bad values. */
    ch = nochange();
    ch.urgency = 3;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_STR(err.field, "urgence");
    ch = nochange();
    ch.status = 9;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_EINVAL);
    fix_close(&f);
}

static void
test_assign(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t id;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = add_request(&f, &(struct req_in){.service = f.voirie});
    ch = nochange();
    ch.assigned_to = f.agent;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT assigned_to FROM tri_requests WHERE id = ?",
                     id),
             f.agent);
    /* A reader, another commune's agent, nobody: refused. */
    ch.assigned_to = f.lect;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_STR(err.field, "assigne");
    ch.assigned_to = f.other;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err),
             GU_EINVAL);
    ch.assigned_to = 99999;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err),
             GU_EINVAL);
    ch.assigned_to = 0;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT assigned_to FROM tri_requests WHERE id = ?",
                     id),
             0);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_decisions WHERE request_id = ?"
                     " AND kind = 'attribution'",
                     id),
             2);
    fix_close(&f);
}

static void
test_cases(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t a, b, c, x;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    a = add_request(&f, &(struct req_in){.service = f.voirie});
    b = add_request(&f, &(struct req_in){.service = f.voirie});
    c = add_request(&f, &(struct req_in){.service = f.voirie});
    x = add_request(&f, &(struct req_in){.insee = "99002",
                                          .service = f.voirie2});
    ch = nochange();
    ch.case_id = a;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err), 0);
    /* Joining a member joins its case (the first request). */
    ch.case_id = b;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", c, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?", b), a);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?", c), a);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_decisions WHERE kind ="
                     " 'doublon' AND request_id = ? AND source = 'agent'",
                     c),
             1);
    /* Itself, or another commune's request: refused. */
    ch.case_id = a;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", a, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_STR(err.field, "cas");
    ch.case_id = x;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", b, &ch, "agent1", &err),
             GU_EINVAL);
    /* The lead leaves: the oldest other request leads the rest. */
    ch.case_id = 0;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", a, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?", b), 0);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?", c), b);
    /* A member leaves. */
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", c, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?", c), 0);
    fix_close(&f);
}

static void
test_bulk(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t ids[3], big[TRI_BULK_MAX + 1];
    int64_t dec0;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    ids[0] = add_request(&f, &(struct req_in){.service = f.voirie});
    ids[1] = add_request(&f, &(struct req_in){.service = f.voirie});
    ids[2] = add_request(&f, &(struct req_in){.insee = "99002",
                                               .service = f.voirie2});
    dec0 = one_int(&f, "SELECT COUNT(*) FROM tri_decisions", 0);
    ch = nochange();
    ch.status = TRI_EN_COURS;
    ch.assigned_to = f.agent;
    /* One request of another commune: nothing at all changes. */
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", ids, 3, &ch, "agent1", &err),
             GU_ENOTFOUND);
    CHECK_CONTAINS(err.user, "Aucune demande n’a été modifiée");
    CHECK_STR(status_of(&f, ids[0]), "nouvelle");
    CHECK_STR(status_of(&f, ids[1]), "nouvelle");
    CHECK_EQ(one_int(&f, "SELECT COUNT(*) FROM tri_decisions", 0), dec0);
    CHECK(!store_in_tx(f.c));
    /* Bounds and shape. */
    for (size_t i = 0; i < GU_ARRAY_LEN(big); i++)
        big[i] = (int64_t)i + 1;
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", big, GU_ARRAY_LEN(big), &ch,
                      "agent1", &err),
             GU_ETOOBIG);
    int64_t dup[2] = {ids[0], ids[0]};
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", dup, 2, &ch, "agent1", &err),
             GU_EINVAL);
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", ids, 0, &ch, "agent1", &err),
             GU_EINVAL);
    /* The two of the commune. */
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", ids, 2, &ch, "agent1", &err), 0);
    CHECK_STR(status_of(&f, ids[0]), "en_cours");
    CHECK_STR(status_of(&f, ids[1]), "en_cours");
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM audit WHERE action = 'tri.bulk'",
                     0),
             1);
    /* Bulk join: the named request is the case. */
    ch = nochange();
    ch.case_id = ids[0];
    CHECK_EQ(tri_bulk(f.c, f.cfg, "99001", ids, 2, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?",
                     ids[1]),
             ids[0]);
    CHECK_EQ(one_int(&f, "SELECT case_id FROM tri_requests WHERE id = ?",
                     ids[0]),
             0);
    fix_close(&f);
}

/* The token in a status link of `text` hashes to the stored one. */
static bool
link_matches(struct fix *f, const char *text, int64_t id)
{
    const char *p = text ? strstr(text, "https://mairie.example/demande/suivi/")
                         : NULL;
    char tok[64], h[65];
    size_t n;

    if (!p)
        return false;
    p += strlen("https://mairie.example/demande/suivi/");
    n = strcspn(p, "\n ");
    if (n != TRI_TOKEN_LEN)
        return false;
    memcpy(tok, p, n);
    tok[n] = 0;
    gu_token_hash(tok, h);
    const char *stored =
        one_text(f, "SELECT token_hash FROM tri_requests WHERE id = ?", id);
    return stored && strcmp(stored, h) == 0;
}

static void
test_status_mail(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    int64_t id, quiet;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = add_request(&f, &(struct req_in){.service = f.voirie,
                                           .email = "jeanne@example.org",
                                           .name = "Jeanne Martin",
                                           .notify = true});
    quiet = add_request(&f, &(struct req_in){.service = f.voirie,
                                              .email = "paul@example.org",
                                              .notify = false});
    CHECK_EQ(tri_message_add(f.c, "99001", id, TRI_MSG_IN, "usager",
                             "jeanne@example.org", "Des nouvelles ?",
                             "<abc123@example.org>", NULL, 0, NULL, &err),
             0);
    ch = nochange();
    ch.status = TRI_RESOLUE;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", quiet, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM notify_outbox WHERE kind ="
                     " 'tri.status'",
                     0),
             1);
    const char *subject = one_text(
        &f, "SELECT subject FROM notify_outbox WHERE kind = 'tri.status'", 0);
    CHECK_CONTAINS(subject, "[Demande ");
    CHECK_CONTAINS(subject, "est résolue");
    const char *body = one_text(
        &f, "SELECT body FROM notify_outbox WHERE kind = 'tri.status'", 0);
    CHECK_CONTAINS(body, "Bonjour Jeanne Martin,");
    CHECK(link_matches(&f, body, id));
    CHECK_STR(one_text(&f,
                       "SELECT to_addr FROM notify_outbox WHERE kind ="
                       " 'tri.status'",
                       0),
              "jeanne@example.org");
    CHECK_STR(one_text(&f,
                       "SELECT in_reply_to FROM notify_outbox WHERE kind ="
                       " 'tri.status'",
                       0),
              "<abc123@example.org>");
    CHECK_CONTAINS(one_text(&f,
                            "SELECT reply_to FROM notify_outbox WHERE kind ="
                            " 'tri.status'",
                            0),
                   "demandes@mairie.example");
    /* Its Message-ID is kept in the thread so a reply finds the request. */
    const char *mid = one_text(
        &f, "SELECT message_id FROM notify_outbox WHERE kind = 'tri.status'",
        0);
    CHECK(mid && mid[0] == '<' && strstr(mid, "@mairie.example>"));
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_messages WHERE kind ="
                     " 'evenement' AND mail_message_id = (SELECT message_id"
                     " FROM notify_outbox WHERE kind = 'tri.status') AND"
                     " request_id = ?",
                     id),
             1);
    /* Reopening tells the resident too. */
    ch.status = TRI_EN_COURS;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", id, &ch, "agent1", &err), 0);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM notify_outbox WHERE kind ="
                     " 'tri.status' AND subject LIKE '%rouverte%'",
                     0),
             1);
    fix_close(&f);
}

static void
test_note(void)
{
    struct fix f;
    struct gu_err err;
    int64_t id, nid = 0;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = add_request(&f, &(struct req_in){.service = f.voirie});
    CHECK_EQ(tri_note(f.c, "99001", id,
                      "  Rappeler M. Durand au 06 12 34 56 78 demain.  ",
                      "agent1", &nid, &err),
             0);
    CHECK(nid > 0);
    CHECK_STR(one_text(&f, "SELECT body FROM tri_messages WHERE id = ?", nid),
              "Rappeler M. Durand au 06 12 34 56 78 demain.");
    const char *red =
        one_text(&f, "SELECT body_redacted FROM tri_messages WHERE id = ?", nid);
    CHECK(red && !strstr(red, "06 12 34 56 78"));
    CHECK_STR(one_text(&f, "SELECT kind FROM tri_messages WHERE id = ?", nid),
              "note");
    CHECK_EQ(tri_note(f.c, "99001", id, "   ", "agent1", &nid, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "texte");
    CHECK_EQ(tri_note(f.c, "99002", id, "x", "autre1", &nid, &err),
             GU_ENOTFOUND);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM audit WHERE action = 'tri.note'",
                     0),
             1);
    fix_close(&f);
}

static void
test_reply(void)
{
    struct fix f;
    struct gu_err err;
    int64_t id, none, mid = 0;
    int64_t msgs0;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    id = add_request(&f, &(struct req_in){.service = f.voirie,
                                           .email = "jeanne@example.org",
                                           .name = "Jeanne Martin"});
    none = add_request(&f, &(struct req_in){.service = f.voirie});
    CHECK_EQ(tri_reply(f.c, f.cfg, "99001", id,
                       "Bonjour {nom}, le service {service} de {commune} a "
                       "réparé la chaussée (demande {numero}). {inconnu}",
                       TRI_RESOLUE, false, "agent1", &mid, &err),
             0);
    CHECK(mid > 0);
    const char *body =
        one_text(&f, "SELECT body FROM tri_messages WHERE id = ?", mid);
    CHECK_CONTAINS(body, "Bonjour Jeanne Martin, le service Voirie de "
                         "Saint-Exemple-sur-Loire");
    CHECK_CONTAINS(body, "(demande 2026-");
    CHECK_CONTAINS(body, "{inconnu}");
    CHECK_STR(one_text(&f, "SELECT kind FROM tri_messages WHERE id = ?", mid),
              "sortant");
    CHECK_STR(status_of(&f, id), "resolue");
    CHECK(one_int(&f, "SELECT first_reply_at FROM tri_requests WHERE id = ?",
                  id) > 0);
    const char *subject = one_text(
        &f, "SELECT subject FROM notify_outbox WHERE kind = 'tri.reply'", 0);
    CHECK_CONTAINS(subject, "[Demande 2026-");
    CHECK_CONTAINS(subject, "] Nid de poule");
    const char *mail = one_text(
        &f, "SELECT body FROM notify_outbox WHERE kind = 'tri.reply'", 0);
    CHECK_CONTAINS(mail, "est résolue");
    CHECK(link_matches(&f, mail, id));
    /* One e-mail: the reply carries the status, no separate one. */
    CHECK_EQ(one_int(&f, "SELECT COUNT(*) FROM notify_outbox", 0), 1);
    CHECK_STR(one_text(&f,
                       "SELECT mail_message_id FROM tri_messages WHERE id = ?",
                       mid),
              one_text(&f,
                       "SELECT message_id FROM notify_outbox WHERE kind ="
                       " 'tri.reply'",
                       0));
    /* No address: refused unless the status page is enough. */
    msgs0 = one_int(&f, "SELECT COUNT(*) FROM tri_messages", 0);
    CHECK_EQ(tri_reply(f.c, f.cfg, "99001", none, "Réparé.", TRI_RESOLUE,
                       false, "agent1", &mid, &err),
             GU_EINVAL);
    CHECK_EQ(one_int(&f, "SELECT COUNT(*) FROM tri_messages", 0), msgs0);
    CHECK_STR(status_of(&f, none), "nouvelle");
    CHECK_EQ(tri_reply(f.c, f.cfg, "99001", none, "Réparé.", -1, true,
                       "agent1", &mid, &err),
             0);
    CHECK_EQ(one_int(&f, "SELECT COUNT(*) FROM notify_outbox", 0), 1);
    CHECK_EQ(tri_reply(f.c, f.cfg, "99001", none, "", -1, true, "agent1",
                       &mid, &err),
             GU_EINVAL);
    CHECK_EQ(tri_reply(f.c, f.cfg, "99002", id, "x", -1, true, "autre1", &mid,
                       &err),
             GU_ENOTFOUND);
    fix_close(&f);
}

static void
test_templates(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_template t, *list = NULL;
    size_t n = 0;
    int64_t id = 0, id2 = 0;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    memset(&t, 0, sizeof(t));
    memcpy(t.insee, "99001", 6);
    t.name = "Travaux programmés";
    t.body = "Bonjour {nom}, les travaux sont programmés.";
    t.service_id = f.voirie;
    CHECK_EQ(tri_template_save(f.c, &t, &id, &err), 0);
    CHECK(id > 0);
    t.name = "Autre";
    t.service_id = 0;
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), 0);
    t.name = "Travaux programmés";
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), GU_ECONFLICT);
    t.name = "";
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), GU_EINVAL);
    CHECK_STR(err.field, "nom");
    t.name = "Sans texte";
    t.body = " ";
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), GU_EINVAL);
    CHECK_STR(err.field, "texte");
    t.body = "x";
    t.service_id = f.voirie2;
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), GU_EINVAL);
    CHECK_EQ(tri_template_list(f.c, f.a, "99001", &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_STR(list[0].name, "Autre");
    CHECK_EQ(tri_template_list(f.c, f.a, "99002", &list, &n, &err), 0);
    CHECK_EQ(n, 0);
    /* Update and delete, scoped to the commune. */
    t.id = id;
    t.name = "Travaux (modifié)";
    t.body = "Texte modifié";
    t.service_id = 0;
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), 0);
    memcpy(t.insee, "99002", 6);
    CHECK_EQ(tri_template_save(f.c, &t, &id2, &err), GU_ENOTFOUND);
    CHECK_EQ(tri_template_delete(f.c, "99002", id, &err), GU_ENOTFOUND);
    CHECK_EQ(tri_template_delete(f.c, "99001", id, &err), 0);
    CHECK_EQ(tri_template_delete(f.c, "99001", id, &err), GU_ENOTFOUND);
    fix_close(&f);
}

static void
test_purge(void)
{
    struct fix f;
    struct gu_err err;
    struct tri_change ch;
    const struct notify_job *jobs;
    size_t nj = 0;
    notify_job_fn purge = NULL;
    int64_t old, recent, open_old, nid = 0;
    int64_t long_ago = gu_now() - 400 * 86400;

    if (fix_open(&f) < 0) {
        TH_FAIL("fixture");
        return;
    }
    jobs = tri_jobs(&nj);
    for (size_t i = 0; i < nj; i++)
        if (strcmp(jobs[i].name, "tri.purge") == 0)
            purge = jobs[i].fn;
    CHECK(purge != NULL);
    if (!purge) {
        fix_close(&f);
        return;
    }
    old = add_request(&f, &(struct req_in){.service = f.voirie,
                                            .status = "resolue",
                                            .email = "jeanne@example.org",
                                            .name = "Jeanne Martin",
                                            .created_at = long_ago});
    recent = add_request(&f, &(struct req_in){.service = f.voirie,
                                               .status = "resolue",
                                               .email = "paul@example.org"});
    open_old = add_request(&f, &(struct req_in){.service = f.voirie,
                                                 .email = "luc@example.org",
                                                 .created_at = long_ago});
    CHECK_EQ(tri_note(f.c, "99001", old, "Vu avec Mme Martin 06 12 34 56 78",
                      "agent1", &nid, &err),
             0);
    {
        struct store_val p[] = {STORE_I(long_ago + 86400), STORE_I(old),
                                STORE_I(gu_now() - 86400), STORE_I(recent)};
        CHECK_EQ(store_exec(f.c,
                            "UPDATE tri_requests SET resolved_at = CASE id"
                            " WHEN ?2 THEN ?1 WHEN ?4 THEN ?3 END WHERE id IN"
                            " (?2, ?4)",
                            p, 4, &err),
                 0);
        struct store_val q[] = {STORE_I(old), STORE_B("\xff\xd8\xff", 3)};
        CHECK_EQ(store_exec(f.c,
                            "INSERT INTO tri_attachments (insee, request_id,"
                            " filename, ctype, size, sha256, data,"
                            " created_at) VALUES ('99001', ?, 'Martin.jpg',"
                            " 'image/jpeg', 3, 'x', ?, 0)",
                            q, 2, &err),
                 0);
    }
    CHECK(purge(f.s, f.cfg, &err) >= 3);
    CHECK(one_int(&f, "SELECT anonymised_at FROM tri_requests WHERE id = ?",
                  old) > 0);
    CHECK_STR(one_text(&f,
                       "SELECT contact_email || contact_name || body ||"
                       " subject || address FROM tri_requests WHERE id = ?",
                       old),
              "");
    CHECK_EQ(one_int(&f,
                     "SELECT token_hash IS NULL FROM tri_requests WHERE id = ?",
                     old),
             1);
    /* Statistics keep the redacted text, the service and the dates. */
    CHECK_STR(one_text(&f,
                       "SELECT body_redacted FROM tri_requests WHERE id = ?",
                       old),
              "Nid de poule [téléphone]");
    CHECK_EQ(one_int(&f, "SELECT service_id FROM tri_requests WHERE id = ?",
                     old),
             f.voirie);
    CHECK_STR(one_text(&f, "SELECT body FROM tri_messages WHERE id = ?", nid),
              "");
    CHECK(strlen(one_text(&f,
                          "SELECT body_redacted FROM tri_messages WHERE id ="
                          " ?",
                          nid)) > 0);
    CHECK_EQ(one_int(&f,
                     "SELECT COUNT(*) FROM tri_attachments WHERE request_id ="
                     " ? AND data IS NULL AND filename = ''",
                     old),
             1);
    /* Recent or open: untouched. */
    CHECK_STR(one_text(&f,
                       "SELECT contact_email FROM tri_requests WHERE id = ?",
                       recent),
              "paul@example.org");
    CHECK_STR(one_text(&f,
                       "SELECT contact_email FROM tri_requests WHERE id = ?",
                       open_old),
              "luc@example.org");
    /* An anonymised request no longer changes; a second run finds
       nothing. */
    ch = nochange();
    ch.status = TRI_EN_COURS;
    CHECK_EQ(tri_update(f.c, f.cfg, "99001", old, &ch, "agent1", &err),
             GU_ECONFLICT);
    CHECK_EQ(purge(f.s, f.cfg, &err), 0);
    fix_close(&f);
}

TESTS(T(test_service_correction), T(test_status_rules), T(test_assign),
      T(test_cases), T(test_bulk), T(test_status_mail), T(test_note),
      T(test_reply), T(test_templates), T(test_purge))
