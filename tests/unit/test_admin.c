/*
 * test_admin.c - the administration and portal modules' logic: the last
 * admin rule, one-time passwords, password policy, audit entries written
 * with each change, CSV export, date filters, the portal's commune choice
 * and HTML pieces. Runs on an in-memory SQLite store.
 */
#include "harness.h"

#include "admin/admin.h"
#include "portal/portal.h"

#include <string.h>
#include "store_url.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct admin_ctx x;
    int64_t admin_id;
};

/* A migrated store with commune 99001 and its admin "admin". */
static int
fix_open(struct fix *f)
{
    const struct store_migration *core;
    struct store_commune m;
    struct gu_err err;
    size_t n = 0;
    int applied = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0)
        return -1;
    core = store_core_migrations(&n);
    if (store_migrate(f->s, &core, &n, 1, &applied, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0)
        return -1;
    f->a = gu_arena_new(0);
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    m.hours = "Lundi : 9 h – 12 h\n\n  Mardi : fermé  \n";
    m.address = "1 place de la Mairie\n99001 Saint-Exemple";
    m.phone = "02 47 00 00 00";
    m.email = "mairie@example.fr";
    if (!f->a || store_commune_create(f->c, &m, &err) < 0 ||
        store_agent_create(f->c, "admin", "Administratrice", "",
                           "mot de passe initial", false, "99001",
                           STORE_ROLE_ADMIN, &f->admin_id, &err) < 0)
        return -1;
    f->x.conn = f->c;
    f->x.arena = f->a;
    f->x.insee = "99001";
    f->x.actor_id = f->admin_id;
    f->x.actor = "admin";
    f->x.request_id = "req-1";
    return 0;
}

static void
fix_close(struct fix *f)
{
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
}

/* Number of audit entries of the commune with this action. */
static size_t
audit_count(struct fix *f, const char *action)
{
    struct store_audit_filter flt;
    struct store_audit *e = NULL;
    struct gu_err err;
    size_t n = 0;

    memset(&flt, 0, sizeof(flt));
    flt.insee = "99001";
    flt.action_prefix = action;
    flt.limit = 1000;
    if (store_audit_list(f->c, f->a, &flt, &e, &n, &err) < 0)
        return (size_t)-1;
    return n;
}

static void
test_create_and_list(void)
{
    struct fix f;
    struct gu_err err;
    struct admin_agent *list = NULL;
    char pw[ADMIN_OTP_CAP];
    int64_t id = 0;
    size_t n = 0;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(admin_agent_create(&f.x, "marie.d", "Marie D.", "m@ex.fr",
                                STORE_ROLE_AGENT, pw, sizeof(pw), &id, &err),
             0);
    CHECK(id > 0);
    CHECK(strlen(pw) >= 12);
    CHECK_EQ(audit_count(&f, "user.create"), 1);
    CHECK_EQ(admin_agent_list(&f.x, &list, &n, &err), 0);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (list[i].agent.id == id) {
            CHECK_EQ(list[i].role, STORE_ROLE_AGENT);
            CHECK(list[i].agent.must_change_password);
        }
    }
    /* Taken login, bad login, bad e-mail, bad role: nothing written. */
    CHECK_EQ(admin_agent_create(&f.x, "marie.d", "Autre", "",
                                STORE_ROLE_AGENT, pw, sizeof(pw), NULL,
                                &err),
             GU_ECONFLICT);
    CHECK_STR(err.field, "login");
    CHECK_EQ(admin_agent_create(&f.x, "Marie D", "X", "", STORE_ROLE_AGENT,
                                pw, sizeof(pw), NULL, &err),
             GU_EINVAL);
    CHECK_EQ(admin_agent_create(&f.x, "paul", "Paul", "pas-une-adresse",
                                STORE_ROLE_AGENT, pw, sizeof(pw), NULL,
                                &err),
             GU_EINVAL);
    CHECK_STR(err.field, "email");
    CHECK_EQ(admin_agent_create(&f.x, "paul", "  ", "", STORE_ROLE_AGENT,
                                pw, sizeof(pw), NULL, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "name");
    CHECK_EQ(admin_agent_create(&f.x, "paul", "Paul", "", STORE_ROLE_NONE,
                                pw, sizeof(pw), NULL, &err),
             GU_EINVAL);
    CHECK_EQ(audit_count(&f, "user.create"), 1);
    fix_close(&f);
}

static void
test_last_admin(void)
{
    struct fix f;
    struct gu_err err;
    struct admin_agent_change ch;
    struct admin_agent a;
    char pw[ADMIN_OTP_CAP];
    int64_t id = 0;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    memset(&ch, 0, sizeof(ch));
    ch.set_role = true;
    ch.role = STORE_ROLE_AGENT;
    CHECK_EQ(admin_agent_update(&f.x, f.admin_id, &ch, &err), GU_EPERM);
    CHECK_CONTAINS(err.user, "dernier administrateur");
    memset(&ch, 0, sizeof(ch));
    ch.set_disabled = true;
    ch.disabled = true;
    CHECK_EQ(admin_agent_update(&f.x, f.admin_id, &ch, &err), GU_EPERM);
    CHECK_EQ(audit_count(&f, "user.role"), 0);
    CHECK_EQ(audit_count(&f, "user.disable"), 0);

    /* With a second admin, the first may step down. */
    CHECK_EQ(admin_agent_create(&f.x, "second", "Second", "",
                                STORE_ROLE_ADMIN, pw, sizeof(pw), &id, &err),
             0);
    memset(&ch, 0, sizeof(ch));
    ch.set_role = true;
    ch.role = STORE_ROLE_AGENT;
    CHECK_EQ(admin_agent_update(&f.x, f.admin_id, &ch, &err), 0);
    CHECK_EQ(admin_agent_get(&f.x, f.admin_id, &a, &err), 0);
    CHECK_EQ(a.role, STORE_ROLE_AGENT);
    CHECK_EQ(audit_count(&f, "user.role"), 1);
    /* Now "second" is the last admin: nobody can disable them. */
    memset(&ch, 0, sizeof(ch));
    ch.set_disabled = true;
    ch.disabled = true;
    CHECK_EQ(admin_agent_update(&f.x, id, &ch, &err), GU_EPERM);
    /* Name and e-mail changes, and enabling, are fine. */
    memset(&ch, 0, sizeof(ch));
    ch.name = "Second Admin";
    ch.email = "second@ex.fr";
    CHECK_EQ(admin_agent_update(&f.x, id, &ch, &err), 0);
    CHECK_EQ(admin_agent_get(&f.x, id, &a, &err), 0);
    CHECK_STR(a.agent.name, "Second Admin");
    CHECK_EQ(audit_count(&f, "user.update"), 1);
    /* Unknown agent. */
    CHECK_EQ(admin_agent_update(&f.x, 9999, &ch, &err), GU_ENOTFOUND);
    fix_close(&f);
}

static void
test_passwords(void)
{
    struct fix f;
    struct gu_err err;
    struct admin_ctx me;
    struct store_agent ag;
    char pw[ADMIN_OTP_CAP];
    int64_t id = 0;

    CHECK_EQ(admin_password_policy("bob", "court", &err), GU_EINVAL);
    CHECK_STR(err.field, "new");
    CHECK_EQ(admin_password_policy("bob", "éééééééééééé", &err), 0);
    CHECK_EQ(admin_password_policy("bob", "ééééééééééé", &err), GU_EINVAL);
    CHECK_EQ(admin_password_policy("bob.martin.x", "bob.martin.x", &err),
             GU_EINVAL);
    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(admin_agent_create(&f.x, "bob", "Bob", "", STORE_ROLE_LECTEUR,
                                pw, sizeof(pw), &id, &err),
             0);
    me = f.x;
    me.actor_id = id;
    me.actor = "bob";
    CHECK_EQ(admin_password_change(&me, "faux", "un mot de passe neuf", 5,
                                   900, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "current");
    CHECK_EQ(admin_password_change(&me, pw, "trop court", 5, 900, &err),
             GU_EINVAL);
    CHECK_EQ(admin_password_change(&me, pw, "un mot de passe neuf", 5, 900,
                                   &err),
             0);
    CHECK_EQ(store_agent_get(f.c, f.a, id, &ag, &err), 0);
    CHECK(!ag.must_change_password);
    CHECK_EQ(audit_count(&f, "password.change"), 1);

    /* An admin reset gives a new one-time password to change. */
    CHECK_EQ(admin_agent_reset_password(&f.x, id, pw, sizeof(pw), &err), 0);
    CHECK_EQ(store_agent_get(f.c, f.a, id, &ag, &err), 0);
    CHECK(ag.must_change_password);
    CHECK_EQ(store_agent_authenticate(f.c, f.a, "bob", pw, 5, 900, &ag,
                                      &err),
             0);
    CHECK_EQ(audit_count(&f, "user.password_reset"), 1);
    fix_close(&f);
}

static void
test_commune_and_tokens(void)
{
    struct fix f;
    struct gu_err err;
    struct store_commune m, got;
    struct store_token *toks = NULL;
    char secret[128];
    int64_t tid = 0;
    size_t n = 0;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    memset(&m, 0, sizeof(m));
    m.phone = "pas un numéro";
    CHECK_EQ(admin_commune_update(&f.x, &m, &err), GU_EINVAL);
    CHECK_STR(err.field, "phone");
    m.phone = "+33 2 47 00 00 01";
    m.hours = "Lundi : 9 h – 12 h";
    CHECK_EQ(admin_commune_update(&f.x, &m, &err), 0);
    CHECK_EQ(store_commune_get(f.c, f.a, "99001", &got, &err), 0);
    CHECK_STR(got.phone, "+33 2 47 00 00 01");
    CHECK_STR(got.name, "Saint-Exemple-sur-Loire");
    CHECK_EQ(audit_count(&f, "commune.update"), 1);

    CHECK_EQ(admin_token_create(&f.x, "site", STORE_ROLE_LECTEUR, secret,
                                sizeof(secret), &tid, &err),
             0);
    CHECK(strncmp(secret, "gu_", 3) == 0);
    CHECK_EQ(admin_token_revoke(&f.x, tid, &err), 0);
    CHECK_EQ(store_token_list(f.c, f.a, "99001", &toks, &n, &err), 0);
    CHECK_EQ(n, 1);
    CHECK(n == 1 && toks[0].revoked);
    CHECK_EQ(admin_token_revoke(&f.x, 4242, &err), GU_ENOTFOUND);
    CHECK_EQ(audit_count(&f, "token."), 2);
    fix_close(&f);
}

static void
test_csv(void)
{
    struct store_audit e[2];
    struct gu_buf b;

    memset(e, 0, sizeof(e));
    e[0].at = 1780000000;
    e[0].insee = "99001";
    e[0].actor = "admin";
    e[0].action = "user.create";
    e[0].target = "marie";
    e[0].detail = "a;b \"c\"";
    e[0].request_id = "r1";
    e[1] = e[0];
    e[1].detail = "=HYPERLINK(\"x\")";
    gu_buf_init(&b);
    CHECK_EQ(admin_audit_csv(&b, e, 2, true), 0);
    CHECK(b.n > 3 && memcmp(b.p, "\xEF\xBB\xBF", 3) == 0);
    CHECK_CONTAINS(b.p, "date;commune;acteur;action;cible;détail;requête\r\n");
    CHECK_CONTAINS(b.p, ";\"a;b \"\"c\"\"\";r1\r\n");
    CHECK_CONTAINS(b.p, ";\"'=HYPERLINK(\"\"x\"\")\";");
    gu_buf_fini(&b);
}

static void
test_parse_time(void)
{
    struct gu_err err;
    int64_t t = 0;

    CHECK_EQ(admin_parse_time("1780000000", false, "since", &t, &err), 0);
    CHECK_EQ(t, 1780000000);
    /* Winter: Paris is UTC+1. 2026-01-15 00:00 Paris = 14 Jan 23:00Z. */
    CHECK_EQ(admin_parse_time("2026-01-15", false, "since", &t, &err), 0);
    CHECK_EQ(t, 1768431600);
    /* Summer: UTC+2. 2026-07-01 23:59:59 Paris = 21:59:59Z. */
    CHECK_EQ(admin_parse_time("2026-07-01", true, "until", &t, &err), 0);
    CHECK_EQ(t, 1782943199);
    CHECK_EQ(admin_parse_time("15/01/2026", false, "since", &t, &err),
             GU_EINVAL);
    CHECK_STR(err.field, "since");
    CHECK_EQ(admin_parse_time("2026-13-01", false, "until", &t, &err),
             GU_EINVAL);
}

static void
test_portal(void)
{
    struct fix f;
    struct gu_err err;
    struct store_commune m;
    char *html;

    if (fix_open(&f) < 0) {
        CHECK(!"fixture");
        return;
    }
    CHECK_EQ(portal_commune_load(f.c, f.a, NULL, "", &m, &err), 0);
    CHECK_STR(m.insee, "99001");
    CHECK_EQ(portal_commune_load(f.c, f.a, NULL, "99001", &m, &err), 0);
    CHECK_EQ(portal_commune_load(f.c, f.a, "12345", NULL, &m, &err),
             GU_ENOTFOUND);
    CHECK_STR(err.user, "Commune inconnue : 12345.");
    CHECK_EQ(portal_commune_load(f.c, f.a, "<script>", NULL, &m, &err),
             GU_ENOTFOUND);
    CHECK(strstr(err.user, "<script>") != NULL); /* escaped by templates */

    html = portal_hours_html(f.a, "Lundi : 9 h\n\n  Mardi <b>  \n");
    CHECK_STR(html, "<ul class=\"horaires\"><li>Lundi : 9 h</li>"
                    "<li>Mardi &lt;b&gt;</li></ul>");
    html = portal_hours_html(f.a, "");
    CHECK_CONTAINS(html, "pas encore");
    CHECK_EQ(portal_commune_load(f.c, f.a, "99001", NULL, &m, &err), 0);
    html = portal_contact_html(f.a, &m);
    CHECK_CONTAINS(html, "href=\"tel:0247000000\"");
    CHECK_CONTAINS(html, "mailto:mairie@example.fr");
    fix_close(&f);
}

TESTS(T(test_create_and_list), T(test_last_admin), T(test_passwords),
      T(test_commune_and_tokens), T(test_csv), T(test_parse_time),
      T(test_portal))
