/*
 * test_core.c - unit tests of src/core: arenas, allocation failures,
 * strings, UTF-8, buffers, logging, time, crypto, JSON readers, config.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "harness.h"

static void
test_arena_basic(void)
{
    struct gu_arena *a = gu_arena_new(256);
    CHECK(a != NULL);
    char *s = gu_arena_strdup(a, "bonjour");
    CHECK_STR(s, "bonjour");
    /* Many small and a few big allocations, all usable and aligned. */
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = gu_arena_alloc(a, (size_t)(i % 37) + 1);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
    }
    char *big = gu_arena_zalloc(a, 100000);
    CHECK(big != NULL);
    CHECK_EQ(big[99999], 0);
    char *f = gu_arena_sprintf(a, "%s-%d", "rdv", 42);
    CHECK_STR(f, "rdv-42");
    CHECK(gu_arena_used(a) > 100000);
    gu_arena_free(a);
    gu_arena_free(NULL);
}

static int defer_order[4];
static int defer_n;

static void
record(void *p)
{
    defer_order[defer_n++] = *(int *)p;
}

static void
test_arena_defer_order(void)
{
    static int one = 1, two = 2, three = 3;
    defer_n = 0;
    struct gu_arena *a = gu_arena_new(0);
    CHECK_EQ(gu_arena_defer(a, record, &one), 0);
    CHECK_EQ(gu_arena_defer(a, record, &two), 0);
    CHECK_EQ(gu_arena_defer(a, record, &three), 0);
    gu_arena_free(a);
    CHECK_EQ(defer_n, 3);
    CHECK_EQ(defer_order[0], 3);
    CHECK_EQ(defer_order[2], 1);
}

static void
test_arena_reset(void)
{
    static int one = 1, two = 2;
    defer_n = 0;
    struct gu_arena *a = gu_arena_new(512);
    char *first = gu_arena_alloc(a, 16);
    CHECK(first != NULL);
    /* A second chunk, a big one of its own, and finalisers. */
    for (int i = 0; i < 100; i++)
        CHECK(gu_arena_alloc(a, 40) != NULL);
    CHECK(gu_arena_zalloc(a, 10000) != NULL);
    CHECK_EQ(gu_arena_defer(a, record, &one), 0);
    CHECK_EQ(gu_arena_defer(a, record, &two), 0);
    CHECK(gu_arena_used(a) > 10000);
    gu_arena_reset(a);
    CHECK_EQ(defer_n, 2);
    CHECK_EQ(defer_order[0], 2);
    CHECK_EQ(defer_order[1], 1);
    CHECK_EQ(gu_arena_used(a), 0);
    /* The first chunk serves again, from its start; finalisers ran once. */
    CHECK(gu_arena_alloc(a, 16) == first);
    char *s = gu_arena_strdup(a, "encore");
    CHECK_STR(s, "encore");
    gu_arena_reset(a);
    gu_arena_reset(a);
    CHECK(gu_arena_alloc(a, 600) != NULL); /* bigger than the first chunk */
    gu_arena_free(a);
    CHECK_EQ(defer_n, 2);
    gu_arena_reset(NULL);
}

static void
test_alloc_failure_injection(void)
{
    gu_alloc_fail_after(1);
    CHECK(gu_malloc(10) == NULL);
    CHECK(gu_malloc(10) == NULL); /* sticky until reset */
    gu_alloc_fail_reset();
    void *p = gu_malloc(10);
    CHECK(p != NULL);
    gu_free(p);

    /* Every failure point of an arena's life fails cleanly. */
    for (long n = 1; n < 8; n++) {
        gu_alloc_fail_after(n);
        struct gu_arena *a = gu_arena_new(64);
        if (a) {
            for (int i = 0; i < 20; i++)
                (void)gu_arena_alloc(a, 40);
        }
        gu_alloc_fail_reset();
        gu_arena_free(a);
    }
    /* A failed defer runs the finaliser at once. */
    static int v = 7;
    defer_n = 0;
    struct gu_arena *a = gu_arena_new(16);
    gu_alloc_fail_after(1);
    CHECK_EQ(gu_arena_defer(a, record, &v), GU_ENOMEM);
    gu_alloc_fail_reset();
    CHECK_EQ(defer_n, 1);
    gu_arena_free(a);
    CHECK_EQ(defer_n, 1);
}

static void
test_str(void)
{
    struct gu_str s = gu_str_trim(gu_str_c("  Mairie \t\n"));
    CHECK(gu_str_eq_c(s, "Mairie"));
    CHECK(gu_str_casecmp_c(GU_STR("Content-Type"), "content-type"));
    CHECK(!gu_str_casecmp_c(GU_STR("Content-Typ"), "content-type"));
    CHECK(gu_str_starts(GU_STR("/api/v1/x"), "/api/"));
    CHECK(!gu_str_starts(GU_STR("/ap"), "/api/"));
    CHECK(gu_str_eq_c(gu_str_c(NULL), ""));
}

static void
test_utf8(void)
{
    CHECK(gu_utf8_valid("carte d'identité ✓ 🇫🇷",
                        strlen("carte d'identité ✓ 🇫🇷")));
    CHECK(!gu_utf8_valid("\xc3", 1));             /* truncated */
    CHECK(!gu_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!gu_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!gu_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!gu_utf8_valid("\xff", 1));
    CHECK(gu_utf8_valid("", 0));
}

static void
test_parse_long(void)
{
    long v = 0;
    CHECK_EQ(gu_parse_long("42", 0, 100, &v), 0);
    CHECK_EQ(v, 42);
    CHECK_EQ(gu_parse_long("-3", -5, 5, &v), 0);
    CHECK_EQ(v, -3);
    CHECK_EQ(gu_parse_long("101", 0, 100, &v), GU_EINVAL);
    CHECK_EQ(gu_parse_long("4x", 0, 100, &v), GU_EINVAL);
    CHECK_EQ(gu_parse_long("", 0, 100, &v), GU_EINVAL);
    CHECK_EQ(gu_parse_long(" 4", 0, 100, &v), GU_EINVAL);
    CHECK_EQ(gu_parse_long("99999999999999999999", 0, 100, &v), GU_EINVAL);
}

static void
test_buf(void)
{
    struct gu_buf b;
    gu_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(gu_buf_printf(&b, "%d,", i), 0);
    CHECK(b.n > 3000);
    CHECK(strncmp(b.p, "0,1,2,", 6) == 0);
    gu_buf_fini(&b);
    gu_buf_init(&b);
    {
        const char *h = "<a href=\"x\">l'été & co</a>";
        CHECK_EQ(gu_buf_html(&b, h, strlen(h)), 0);
    }
    CHECK_STR(b.p, "&lt;a href=&quot;x&quot;&gt;l&#39;été &amp; co&lt;/a&gt;");
    gu_buf_fini(&b);
    /* OOM is sticky and reported. */
    gu_buf_init(&b);
    gu_alloc_fail_after(1);
    CHECK_EQ(gu_buf_puts(&b, "x"), GU_ENOMEM);
    gu_alloc_fail_reset();
    CHECK_EQ(gu_buf_puts(&b, "x"), GU_ENOMEM);
    CHECK(b.oom);
    gu_buf_fini(&b);
}

static void
test_errors(void)
{
    struct gu_err err;
    gu_err_clear(&err);
    int rc = gu_err_set(&err, GU_EINVAL, "email", "Adresse invalide.",
                        "bad email %d", 3);
    CHECK_EQ(rc, GU_EINVAL);
    CHECK_STR(err.field, "email");
    CHECK_STR(err.user, "Adresse invalide.");
    CHECK_STR(err.msg, "bad email 3");
    CHECK_STR(gu_status_name(GU_ENOTFOUND), "ENOTFOUND");
    CHECK_CONTAINS(gu_status_user(GU_EPERM), "droits");
    CHECK_EQ(gu_err_set(NULL, GU_EDB, NULL, NULL, "x"), GU_EDB);
    /* a French message longer than the buffer is cut on a character
       boundary, whatever the offset of the cut */
    for (int shift = 0; shift < 3; shift++) {
        char longmsg[600];
        size_t o = 0;

        for (int i = 0; i < shift; i++)
            longmsg[o++] = 'x';
        while (o + 3 < sizeof(longmsg)) {
            memcpy(longmsg + o, shift == 2 ? "\xe2\x82\xac" : "\xc3\xa9",
                   shift == 2 ? 3 : 2);
            o += shift == 2 ? 3 : 2;
        }
        longmsg[o] = '\0';
        gu_err_set(&err, GU_EINVAL, NULL, longmsg, NULL);
        CHECK(strlen(err.user) > 200);
        CHECK(gu_utf8_valid(err.user, strlen(err.user)));
    }
}

static void
test_log(void)
{
    enum gu_log_level lvl;
    CHECK_EQ(gu_log_level_parse("debug", &lvl), 0);
    CHECK_EQ(lvl, GU_LOG_DEBUG);
    CHECK_EQ(gu_log_level_parse("verbose", &lvl), GU_EINVAL);
    char q[32];
    CHECK_STR(gu_logq(q, sizeof(q), "a \"b\"\n"), "\"a \\\"b\\\" \"");
    gu_logq(q, 8, "abcdefghijkl");
    CHECK(strlen(q) < 8);
    gu_log_set_request_id("abc123");
    CHECK_STR(gu_log_request_id(), "abc123");
    gu_log_set_request_id(NULL);
    CHECK_STR(gu_log_request_id(), "");
}

static void
test_time(void)
{
    char buf[32];
    gu_time_iso(0, buf, sizeof(buf));
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    /* 2026-11-30 22:11 UTC is 23:11 in Paris (winter, UTC+1). */
    gu_time_fr(1796076660, buf, sizeof(buf));
    CHECK_STR(buf, "30/11/2026 23:11");
    /* 2026-07-14 10:00 UTC is 12:00 in Paris (summer, UTC+2). */
    gu_time_fr(1784023200, buf, sizeof(buf));
    CHECK_STR(buf, "14/07/2026 12:00");
    /* Summer time starts 2026-03-29 at 01:00 UTC. */
    gu_time_fr(1774746000 - 1, buf, sizeof(buf));
    CHECK_STR(buf, "29/03/2026 01:59");
    gu_time_fr(1774746000, buf, sizeof(buf));
    CHECK_STR(buf, "29/03/2026 03:00");
    CHECK(gu_now() > 1700000000);
}

static void
test_crypto(void)
{
    CHECK_EQ(gu_crypto_init(), 0);
    char t1[64], t2[64];
    CHECK_EQ(gu_random_token(t1, sizeof(t1), 32), 0);
    CHECK_EQ(gu_random_token(t2, sizeof(t2), 32), 0);
    CHECK_EQ(strlen(t1), 43);
    CHECK(strcmp(t1, t2) != 0);
    CHECK(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == 43);
    CHECK_EQ(gu_random_token(t1, 10, 32), GU_EINVAL);
    char h[65];
    gu_token_hash("abc", h);
    CHECK_STR(
        h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(gu_const_eq("abc", "abc"));
    CHECK(!gu_const_eq("abc", "abd"));
    CHECK(!gu_const_eq("abc", "abcd"));
    CHECK(!gu_const_eq(NULL, "a"));
    char hash[128];
    CHECK_EQ(gu_password_hash("correct horse battery", hash, sizeof(hash)), 0);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(gu_password_check(hash, "correct horse battery"));
    CHECK(!gu_password_check(hash, "correct horse batterie"));
    CHECK(!gu_password_check("garbage", "x"));
    char pw[32];
    CHECK_EQ(gu_password_generate(pw, sizeof(pw)), 0);
    CHECK_EQ(strlen(pw), 19);
    CHECK_EQ(pw[4], '-');
    CHECK_EQ(gu_password_generate(pw, 10), GU_EINVAL);
}

static void
test_json_readers(void)
{
    struct gu_err err;
    json_error_t je;
    json_t *o = json_loads("{\"login\":\"marie\",\"age\":12,\"n\":\"x\","
                           "\"ok\":true,\"nul\":null,\"long\":\"abcdef\"}",
                           0, &je);
    CHECK(o != NULL);
    const char *s = NULL;
    long v = 0;
    bool b = false;
    gu_err_clear(&err);
    CHECK_EQ(gu_json_str(o, "login", true, 64, &s, &err), 0);
    CHECK_STR(s, "marie");
    CHECK_EQ(gu_json_str(o, "age", true, 64, &s, &err), GU_EINVAL);
    CHECK_STR(err.field, "age");
    CHECK_CONTAINS(err.user, "doit être un texte");
    CHECK_EQ(gu_json_str(o, "absent", true, 64, &s, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "obligatoire");
    s = "inchangé";
    CHECK_EQ(gu_json_str(o, "nul", false, 64, &s, &err), 0);
    CHECK_STR(s, "inchangé");
    CHECK_EQ(gu_json_str(o, "long", true, 3, &s, &err), GU_EINVAL);
    CHECK_CONTAINS(err.user, "trop long");
    CHECK_EQ(gu_json_int(o, "age", true, 0, 100, &v, &err), 0);
    CHECK_EQ(v, 12);
    CHECK_EQ(gu_json_int(o, "age", true, 13, 100, &v, &err), GU_EINVAL);
    CHECK_EQ(gu_json_int(o, "n", true, 0, 100, &v, &err), GU_EINVAL);
    CHECK_EQ(gu_json_bool(o, "ok", true, &b, &err), 0);
    CHECK(b);
    CHECK_EQ(gu_json_bool(o, "login", true, &b, &err), GU_EINVAL);
    /* NUL inside a JSON string is refused. */
    json_t *z = json_loads("{\"a\":\"x\\u0000y\"}", JSON_ALLOW_NUL, &je);
    CHECK(z != NULL);
    CHECK_EQ(gu_json_str(z, "a", true, 64, &s, &err), GU_EINVAL);
    json_decref(z);
    struct gu_arena *a = gu_arena_new(0);
    CHECK(gu_json_arena(a, o) == o);
    gu_arena_free(a); /* releases o */
}

static void
test_config_defaults_and_env(void)
{
    struct gu_err err;
    struct gu_config *c = NULL;
    char *env[] = {"GUICHET_SERVER_THREADS=3", "GUICHET_LOG_LEVEL=debug",
                   "PATH=/bin", "GUICHET_UNKNOWN_THING=1", NULL};
    const char *over[] = {"server.listen=127.0.0.1:0", NULL};
    CHECK_EQ(gu_config_load(NULL, env, over, &c, &err), 0);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ(gu_config_int(c, "server.threads"), 3);
    CHECK_EQ(gu_config_origin(c, "server.threads"), GU_ORIGIN_ENV);
    CHECK_STR(gu_config_str(c, "log.level"), "debug");
    CHECK_STR(gu_config_str(c, "server.listen"), "127.0.0.1:0");
    CHECK_EQ(gu_config_origin(c, "server.listen"), GU_ORIGIN_CLI);
    CHECK_EQ(gu_config_int(c, "server.max_body"), 1024 * 1024);
    CHECK_EQ(gu_config_origin(c, "server.max_body"), GU_ORIGIN_DEFAULT);
    CHECK(!gu_config_bool(c, "server.trust_proxy"));
    CHECK(gu_config_file(c) == NULL);
    gu_config_free(c);
}

static void
test_config_errors_name_key_and_values(void)
{
    struct gu_err err;
    struct gu_config *c = NULL;
    char *env[] = {"GUICHET_LOG_LEVEL=verbose", NULL};
    CHECK_EQ(gu_config_load(NULL, env, NULL, &c, &err), GU_ECONFIG);
    CHECK(c == NULL);
    CHECK_STR(err.field, "log.level");
    CHECK_CONTAINS(err.user, "error, warn, info, debug");
    char *env2[] = {NULL};
    const char *over[] = {"server.threads=deux", NULL};
    CHECK_EQ(gu_config_load(NULL, env2, over, &c, &err), GU_ECONFIG);
    CHECK_STR(err.field, "server.threads");
    CHECK_CONTAINS(err.user, "de 0 à 256");
    const char *over2[] = {"serveur.listen=x", NULL};
    CHECK_EQ(gu_config_load(NULL, env2, over2, &c, &err), GU_ECONFIG);
    CHECK_CONTAINS(err.user, "Paramètre inconnu");
    const char *over3[] = {"server.max_body=12Q", NULL};
    CHECK_EQ(gu_config_load(NULL, env2, over3, &c, &err), GU_ECONFIG);
    CHECK_STR(err.field, "server.max_body");
    const char *over4[] = {"sansegal", NULL};
    CHECK_EQ(gu_config_load(NULL, env2, over4, &c, &err), GU_ECONFIG);
    CHECK_EQ(gu_config_load("/nonexistent/guichet.conf", env2, NULL, &c, &err),
             GU_ECONFIG);
}

static void
test_config_file_precedence(void)
{
    char dir[] = "/tmp/gu_test_confXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/guichet.conf", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("; commentaire\n[server]\nlisten = 0.0.0.0:9000\nthreads = 2\n"
          "max_body = 2M\n[log]\naccess = non\n",
          f);
    fclose(f);
    char data[300];
    snprintf(data, sizeof(data), "paths.data=%s", dir);
    const char *over[] = {data, NULL};
    char *env[] = {"GUICHET_SERVER_THREADS=4", NULL};
    struct gu_err err;
    struct gu_config *c = NULL;
    CHECK_EQ(gu_config_load(NULL, env, over, &c, &err), 0);
    if (c) {
        CHECK_STR(gu_config_file(c), path);
        CHECK_STR(gu_config_str(c, "server.listen"), "0.0.0.0:9000");
        CHECK_EQ(gu_config_origin(c, "server.listen"), GU_ORIGIN_FILE);
        CHECK_EQ(gu_config_int(c, "server.threads"), 4); /* env wins */
        CHECK_EQ(gu_config_int(c, "server.max_body"), 2 * 1024 * 1024);
        CHECK(!gu_config_bool(c, "log.access"));
        gu_config_free(c);
    }
    /* A syntax error names the line. */
    f = fopen(path, "w");
    if (f) {
        fputs("[server]\nlisten = x\n[oops\n", f);
        fclose(f);
    }
    CHECK_EQ(gu_config_load(path, env, NULL, &c, &err), GU_ECONFIG);
    CHECK_CONTAINS(err.user, "ligne 3");
    unlink(path);
    rmdir(dir);
}

static void
test_config_parse_string(void)
{
    struct gu_err err;
    struct gu_config *c = NULL;
    CHECK_EQ(gu_config_defaults(&c, &err), 0);
    if (!c)
        return;
    CHECK_EQ(gu_config_parse_string(c, "[security]\ncookie_secure=on\n", &err),
             0);
    CHECK_STR(gu_config_str(c, "security.cookie_secure"), "on");
    CHECK_EQ(gu_config_parse_string(c, "[security]\ncookie_secure=peut-être\n",
                                    &err),
             GU_ECONFIG);
    CHECK_CONTAINS(err.user, "auto, on, off");
    /* The table is complete: every key has French documentation. */
    size_t n;
    const struct gu_setting *s = gu_settings(&n);
    for (size_t i = 0; i < n; i++) {
        CHECK(s[i].doc && strlen(s[i].doc) > 10);
        CHECK(strchr(s[i].key, '.') != NULL);
    }
    gu_config_free(c);
}

TESTS(T(test_arena_basic), T(test_arena_defer_order), T(test_arena_reset),
      T(test_alloc_failure_injection), T(test_str), T(test_utf8),
      T(test_parse_long), T(test_buf), T(test_errors), T(test_log),
      T(test_time), T(test_crypto), T(test_json_readers),
      T(test_config_defaults_and_env),
      T(test_config_errors_name_key_and_values), T(test_config_file_precedence),
      T(test_config_parse_string))
