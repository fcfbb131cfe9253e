/*
 * test_voice_http.c - POST /api/v1/tts and GET /api/v1/tts/moteurs on the
 * real server (voice_http.c): the WAV that comes back (header, rate,
 * duration of real speech), each engine installed, the 8 kHz telephone
 * rate, the French errors (400, 413, 422 with champ, 503 for an engine
 * that is not installed) and the per-address rate limit (429).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http/http_support.h"
#include "voice/voice.h"

static struct hs_server srv;

static int
post(int port, const char *body, struct hs_resp *r)
{
    return hs_request(port, "POST", "/api/v1/tts",
                      "Content-Type: application/json", body, strlen(body),
                      r);
}

/* A well-formed WAV of `rate` Hz; its duration in seconds, or -1. */
static double
wav_seconds(const struct hs_resp *r, unsigned rate)
{
    const unsigned char *w = (const unsigned char *)r->body;
    double rms = 0;
    size_t n;

    if (r->body_n < 44 || memcmp(w, "RIFF", 4) != 0 ||
        memcmp(w + 8, "WAVEfmt ", 8) != 0 || memcmp(w + 36, "data", 4) != 0)
        return -1;
    if (th_le32(w + 4) != r->body_n - 8 || th_le32(w + 40) != r->body_n - 44 ||
        th_le16(w + 20) != 1 || th_le16(w + 22) != 1 || th_le16(w + 34) != 16 ||
        th_le32(w + 24) != rate || th_le32(w + 28) != rate * 2)
        return -1;
    n = (r->body_n - 44) / 2;
    for (size_t i = 0; i < n; i++) {
        double v = (int16_t)th_le16(w + 44 + 2 * i);
        rms += v * v;
    }
    /* speech, not silence */
    if (n == 0 || sqrt(rms / (double)n) < 300)
        return -1;
    return (double)n / rate;
}

static void
test_engines_list(void)
{
    struct hs_resp r;
    json_t *j, *list;
    int espeak = 0;

    CHECK_EQ(hs_request(srv.port, "GET", "/api/v1/tts/moteurs", NULL, NULL,
                        0, &r),
             0);
    CHECK_EQ(r.status, 200);
    j = hs_json(&r);
    CHECK(j != NULL);
    list = json_object_get(j, "moteurs");
    CHECK(json_array_size(list) == 2);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *nom = json_string_value(json_object_get(e, "nom"));

        CHECK(nom != NULL);
        if (nom && strcmp(nom, "espeak-ng") == 0) {
            espeak = 1;
            CHECK(json_is_true(json_object_get(e, "disponible")));
            CHECK_EQ(json_integer_value(json_object_get(e, "debit")), 22050);
        }
        if (nom && strcmp(nom, "pico") == 0)
            CHECK_EQ(json_is_true(json_object_get(e, "disponible")),
                     voice_engine_available(VOICE_ENGINE_PICO) != 0);
    }
    CHECK(espeak);
    CHECK_STR(json_string_value(json_object_get(j, "auto")),
              voice_engine_available(VOICE_ENGINE_PICO) ? "pico"
                                                        : "espeak-ng");
    json_decref(j);
    hs_resp_fini(&r);
}

static void
test_wav_espeak(void)
{
    struct hs_resp r;
    char ct[64] = "";
    double s;

    CHECK_EQ(post(srv.port,
                  "{\"texte\": \"Bonjour, la mairie ouvre à 9h. Votre "
                  "rendez-vous est le 3/12 à 14h30.\", \"moteur\": "
                  "\"espeak-ng\"}",
                  &r),
             0);
    CHECK_EQ(r.status, 200);
    CHECK(hs_header(&r, "Content-Type", 0, ct, sizeof(ct)) != NULL);
    CHECK_STR(ct, "audio/wav");
    s = wav_seconds(&r, 22050);
    CHECK(s > 2 && s < 20);
    hs_resp_fini(&r);

    /* 8 kHz for the telephone, faster */
    CHECK_EQ(post(srv.port,
                  "{\"texte\": \"Bonjour, la mairie ouvre à 9h.\", "
                  "\"moteur\": \"espeak-ng\", \"debit\": 8000, "
                  "\"vitesse\": 150}",
                  &r),
             0);
    CHECK_EQ(r.status, 200);
    s = wav_seconds(&r, 8000);
    CHECK(s > 0.5 && s < 10);
    hs_resp_fini(&r);
}

/* GET with the query string: what the widget's <audio src> loads */
static void
test_get(void)
{
    struct hs_resp r;

    CHECK_EQ(hs_request(srv.port, "GET",
                        "/api/v1/tts?texte=Rendez-vous%20le%203%2F12%20%C3%A0"
                        "%2014h30.&moteur=espeak-ng&debit=16000",
                        NULL, NULL, 0, &r),
             0);
    CHECK_EQ(r.status, 200);
    CHECK(wav_seconds(&r, 16000) > 1);
    hs_resp_fini(&r);
    CHECK_EQ(hs_request(srv.port, "GET", "/api/v1/tts?texte=Oui&debit=12",
                        NULL, NULL, 0, &r),
             0);
    CHECK_EQ(r.status, 422);
    CHECK_CONTAINS(r.body, "debit");
    hs_resp_fini(&r);
}

static void
test_wav_pico(void)
{
    struct hs_resp r;
    double s;

    CHECK_EQ(post(srv.port,
                  "{\"texte\": \"Votre carte d'identité est prête.\", "
                  "\"moteur\": \"pico\"}",
                  &r),
             0);
    if (voice_engine_available(VOICE_ENGINE_PICO)) {
        CHECK_EQ(r.status, 200);
        s = wav_seconds(&r, 16000);
        CHECK(s > 1 && s < 10);
    } else {
        /* not installed: a French 503 that says how to get it */
        CHECK_EQ(r.status, 503);
        CHECK_CONTAINS(r.body, "libttspico");
        CHECK_CONTAINS(r.body, "\"champ\"");
    }
    hs_resp_fini(&r);
    /* AUTO always answers: Pico or espeak-ng */
    CHECK_EQ(post(srv.port, "{\"texte\": \"Bonjour.\"}", &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK(wav_seconds(&r, voice_engine_available(VOICE_ENGINE_PICO)
                              ? 16000
                              : 22050) > 0.2);
    hs_resp_fini(&r);
}

static void
test_errors(void)
{
    static const struct {
        const char *body;
        int status;
        const char *says;
    } cases[] = {
        {"{\"texte\": ", 400, "JSON"},
        {"{}", 422, "texte"},
        {"{\"texte\": \"\"}", 422, "texte"},
        {"{\"texte\": 12}", 422, "texte"},
        {"{\"texte\": \"Bonjour\", \"moteur\": \"festival\"}", 422,
         "Moteur inconnu"},
        {"{\"texte\": \"Bonjour\", \"vitesse\": 10}", 422, "vitesse"},
        {"{\"texte\": \"Bonjour\", \"debit\": 1000}", 422, "debit"},
    };
    struct hs_resp r;
    char *big;
    size_t n;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(post(srv.port, cases[i].body, &r), 0);
        if (r.status != cases[i].status)
            TH_FAIL("%s -> %d", cases[i].body, r.status);
        CHECK_CONTAINS(r.body, cases[i].says);
        CHECK(hs_header(&r, "Content-Type", 0, (char[64]){0}, 64) &&
              strstr(r.head, "application/problem+json"));
        hs_resp_fini(&r);
    }
    /* a text over VOICE_TEXT_MAX: 413, in French */
    big = malloc(VOICE_TEXT_MAX + 64);
    n = (size_t)snprintf(big, 32, "{\"texte\": \"");
    memset(big + n, 'a', VOICE_TEXT_MAX + 1);
    n += VOICE_TEXT_MAX + 1;
    memcpy(big + n, "\"}", 3);
    CHECK_EQ(post(srv.port, big, &r), 0);
    CHECK_EQ(r.status, 413);
    CHECK_CONTAINS(r.body, "2000 octets");
    hs_resp_fini(&r);
    free(big);
    /* a body over 16 KiB: 413 before parsing */
    big = malloc(20000);
    memset(big, ' ', 19999);
    big[19999] = '\0';
    big[0] = '{';
    big[19998] = '}';
    CHECK_EQ(post(srv.port, big, &r), 0);
    CHECK_EQ(r.status, 413);
    hs_resp_fini(&r);
    free(big);
}

/*
 * voice.rate_per_minute on a server of its own with a limit of 3: 200s
 * then a French 429 with Retry-After. The window is a fixed minute: a
 * burst across its end may need up to 2 x limit + 1 requests.
 */
static void
test_rate_limit(void)
{
    static const char *const ov[] = {"voice.rate_per_minute=3", NULL};
    struct hs_server s2;
    struct hs_resp r;
    int ok = 0, limited = 0;

    if (hs_server_start(&s2, ov) != 0) {
        TH_FAIL("rate-limit server did not start");
        return;
    }
    for (int i = 0; i < 7 && !limited; i++) {
        if (post(s2.port, "{\"texte\": \"Oui.\", \"moteur\": \"espeak-ng\"}",
                 &r) != 0) {
            TH_FAIL("no response to request %d", i + 1);
            break;
        }
        if (r.status == 200) {
            ok++;
        } else {
            CHECK_EQ(r.status, 429);
            CHECK_CONTAINS(r.body, "Trop de demandes");
            CHECK(hs_header(&r, "Retry-After", 0, (char[16]){0}, 16) !=
                  NULL);
            limited = 1;
        }
        hs_resp_fini(&r);
    }
    CHECK(limited);
    CHECK(ok >= 3 && ok <= 6);
    /* the engines' list is not limited */
    CHECK_EQ(hs_request(s2.port, "GET", "/api/v1/tts/moteurs", NULL, NULL, 0,
                        &r),
             0);
    CHECK_EQ(r.status, 200);
    hs_resp_fini(&r);
    hs_server_stop(&s2);
}

/* The routes are documented in the OpenAPI document. */
static void
test_openapi(void)
{
    struct hs_resp r;

    CHECK_EQ(hs_request(srv.port, "GET", "/api/v1/openapi.json", NULL, NULL,
                        0, &r),
             0);
    CHECK_EQ(r.status, 200);
    CHECK_CONTAINS(r.body, "/api/v1/tts");
    CHECK_CONTAINS(r.body, "/api/v1/tts/moteurs");
    CHECK_CONTAINS(r.body, "Lire un texte à voix haute");
    hs_resp_fini(&r);
}

static void
test_start(void)
{
    if (hs_server_start(&srv, NULL) != 0)
        TH_FAIL("server did not start");
}

static void
test_stop(void)
{
    hs_server_stop(&srv);
}

TESTS(T(test_start), T(test_engines_list), T(test_wav_espeak), T(test_get),
      T(test_wav_pico), T(test_errors), T(test_rate_limit), T(test_openapi),
      T(test_stop))
