/*
 * voice_http.c - HTTP face of the voice: speech synthesis for the chat's
 * « écouter » button and any client (docs/voice.md).
 *
 *   POST /api/v1/tts           {"texte", "moteur", "vitesse", "debit"}
 *                              -> audio/wav (16-bit mono PCM)
 *   GET  /api/v1/tts?texte=&moteur=&vitesse=&debit=   the same, for an
 *                              <audio src> (the chat's « écouter »)
 *   GET  /api/v1/tts/moteurs   the engines and which one « auto » picks
 *   GET  /api/v1/tts/reconnaissance   the phone's speech recognition
 *                              plug-in: found or not, and why
 *
 * Public, like the chat: rate-limited per client address
 * (voice.rate_per_minute, a synthesis costs CPU), body and text bounded
 * (413 beyond), French problem+json errors (422 with `champ`, 503 when
 * the engine asked for is not installed).
 */
#include <stdio.h>
#include <string.h>

#include "voice/voice.h"
#include "voice/voice_phone.h"

/* A text of VOICE_TEXT_MAX bytes fits, even JSON-escaped (\uXXXX). */
#define BODY_MAX (16u * 1024u)

static int
rate(struct http_req *req, struct http_resp *resp)
{
    long limit = gu_config_int(req->cfg, "voice.rate_per_minute");
    int retry = 0, rc;
    char key[96], v[16];

    if (limit <= 0 || !req->client_ip)
        return 0;
    snprintf(key, sizeof(key), "tts:%s", req->client_ip);
    rc = store_rate_hit(req->conn, key, (int)limit, 60, &retry, &req->err);
    if (rc == GU_ERATE) {
        snprintf(v, sizeof(v), "%d", retry > 0 ? retry : 60);
        http_add_header(resp, "Retry-After", v);
        gu_err_set(&req->err, GU_ERATE, NULL,
                   "Trop de demandes de lecture à voix haute : réessayez "
                   "dans une minute.",
                   "tts rate limit");
    }
    return rc;
}

/* Synthesise and answer the WAV; the arguments as the client sent them. */
static int
speak(struct http_req *req, struct http_resp *resp, const char *text,
      const char *engine, long speed, long hz)
{
    struct voice_tts_opts o;
    struct voice_audio au;
    unsigned char *wav;
    size_t len;
    int rc;

    if (!text || !*text)
        return gu_err_set(&req->err, GU_EINVAL, "texte",
                          "Le champ « texte » est obligatoire.",
                          "tts no text");
    if (strlen(text) > VOICE_TEXT_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, "texte",
                          "Le texte à lire dépasse 2000 octets : "
                          "découpez-le.",
                          "tts text %zu bytes", strlen(text));
    memset(&o, 0, sizeof(o));
    if (voice_engine_parse(engine, &o.engine) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "moteur",
                          "Moteur inconnu (permis : auto, pico, espeak-ng).",
                          "tts bad engine");
    o.speed = (int)speed;
    o.rate = (unsigned)hz;
    voice_tts_configure(req->cfg);
    if ((rc = voice_tts(req->arena, &o, text, &au, &req->err)) < 0)
        return rc;
    if ((rc = voice_wav(req->arena, &au, &wav, &len, &req->err)) < 0)
        return rc;
    /* The same text gives the same audio: a client may keep it. */
    http_add_header(resp, "Cache-Control", "private, max-age=3600");
    return http_send(resp, 200, "audio/wav", (const char *)wav, len);
}

static int
post_tts(struct http_req *req, struct http_resp *resp)
{
    const char *text = NULL, *engine = NULL;
    size_t n = 0;
    long speed = 100, hz = 0;
    json_t *b;
    int rc;

    http_body(req, &n);
    if (n > BODY_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La requête dépasse 16 Kio.", "tts body too large");
    if ((rc = rate(req, resp)) < 0)
        return rc;
    if ((rc = http_body_json(req, &b)) < 0)
        return rc;
    if ((rc = gu_json_str(b, "texte", true, BODY_MAX, &text, &req->err)) < 0 ||
        (rc = gu_json_str(b, "moteur", false, 16, &engine, &req->err)) < 0 ||
        (rc = gu_json_int(b, "vitesse", false, 50, 200, &speed, &req->err)) <
            0 ||
        (rc = gu_json_int(b, "debit", false, 8000, 48000, &hz, &req->err)) <
            0)
        return rc;
    return speak(req, resp, text, engine, speed, hz);
}

/* A query argument as a bounded integer; `dflt` when absent. */
static int
query_long(struct http_req *req, const char *name, long min, long max,
           long dflt, long *out)
{
    const char *v = http_query(req, name);

    *out = dflt;
    if (!v || !*v)
        return 0;
    if (gu_parse_long(v, min, max, out) < 0) {
        char user[160];

        snprintf(user, sizeof(user),
                 "Le champ « %s » doit être un entier de %ld à %ld.", name,
                 min, max);
        return gu_err_set(&req->err, GU_EINVAL, name, user, "tts bad %s",
                          name);
    }
    return 0;
}

/*
 * The same as a GET with the arguments in the query string: what an
 * <audio src> can load directly (the widget's « écouter » button), with
 * no blob: URL for the page's Content-Security-Policy to refuse.
 */
static int
get_tts(struct http_req *req, struct http_resp *resp)
{
    long speed, hz;
    int rc;

    if ((rc = rate(req, resp)) < 0)
        return rc;
    if ((rc = query_long(req, "vitesse", 50, 200, 100, &speed)) < 0 ||
        (rc = query_long(req, "debit", 8000, 48000, 0, &hz)) < 0)
        return rc;
    return speak(req, resp, http_query(req, "texte"),
                 http_query(req, "moteur"), speed, hz);
}

static int
get_engines(struct http_req *req, struct http_resp *resp)
{
    static const enum voice_engine all[] = {VOICE_ENGINE_PICO,
                                            VOICE_ENGINE_ESPEAK};
    json_t *o, *list;
    const char *pick;

    voice_tts_configure(req->cfg);
    list = json_array();
    for (size_t i = 0; i < GU_ARRAY_LEN(all); i++) {
        bool ok = voice_engine_available(all[i]) != 0;

        json_array_append_new(
            list,
            json_pack("{s:s, s:b, s:i, s:s}", "nom",
                      voice_engine_name(all[i]), "disponible", ok, "debit",
                      ok ? (int)voice_engine_rate(all[i]) : 0, "licence",
                      all[i] == VOICE_ENGINE_PICO ? "non libre" : "libre"));
    }
    pick = voice_engine_name(VOICE_ENGINE_AUTO);
    o = json_pack("{s:o, s:s?}", "moteurs", list, "auto", pick);
    if (!o)
        return GU_ENOMEM;
    return http_json(resp, 200, o);
}

/*
 * The speech recognition plug-in's state (voice_phone.h): engine asked
 * for, library and model found, and why not, in French. The model is not
 * loaded here (it takes seconds): its directory is checked. Public like
 * the synthesis engines' list (a dlopen of a library already mapped is
 * cheap; one that is missing fails fast).
 */
static int
get_asr(struct http_req *req, struct http_resp *resp)
{
    struct voice_asr_status st;
    json_t *o;

    voice_asr_probe(req->cfg, false, &st);
    o = json_pack("{s:s, s:b, s:b, s:b, s:s?, s:s?, s:s?}", "moteur",
                  st.engine, "bibliotheque_trouvee", st.library_found,
                  "modele_trouve", st.model_found, "disponible", st.ready,
                  "bibliotheque", *st.library ? st.library : NULL, "modele",
                  *st.model ? st.model : NULL, "raison",
                  *st.reason ? st.reason : NULL);
    if (!o)
        return GU_ENOMEM;
    return http_json(resp, 200, o);
}

#define ENGINE_ENUM "[\"auto\", \"pico\", \"espeak-ng\"]"

static const struct http_route routes[] = {
    {"POST", "/api/v1/tts", HTTP_PUBLIC, post_tts, "voix",
     "Lire un texte à voix haute : normalisation du français puis synthèse "
     "(SVOX Pico ou espeak-ng), réponse audio/wav",
     "{\"type\": \"object\", \"required\": [\"texte\"], \"properties\": {"
     "\"texte\": {\"type\": \"string\", \"maxLength\": 2000},"
     "\"moteur\": {\"type\": \"string\", \"enum\": " ENGINE_ENUM "},"
     "\"vitesse\": {\"type\": \"integer\", \"minimum\": 50, "
     "\"maximum\": 200, \"default\": 100},"
     "\"debit\": {\"type\": \"integer\", \"minimum\": 8000, "
     "\"maximum\": 48000}}}",
     "{\"type\": \"string\", \"format\": \"binary\", "
     "\"contentMediaType\": \"audio/wav\"}"},
    {"GET", "/api/v1/tts", HTTP_PUBLIC, get_tts, "voix",
     "Lire un texte à voix haute, paramètres dans l'adresse (texte, "
     "moteur, vitesse, debit) : pour un élément <audio>",
     NULL,
     "{\"type\": \"string\", \"format\": \"binary\", "
     "\"contentMediaType\": \"audio/wav\"}"},
    {"GET", "/api/v1/tts/moteurs", HTTP_PUBLIC, get_engines, "voix",
     "Moteurs de synthèse vocale installés et celui que « auto » choisit",
     NULL,
     "{\"type\": \"object\", \"properties\": {"
     "\"moteurs\": {\"type\": \"array\", \"items\": {\"type\": \"object\", "
     "\"properties\": {\"nom\": {\"type\": \"string\"}, "
     "\"disponible\": {\"type\": \"boolean\"}, "
     "\"debit\": {\"type\": \"integer\"}, "
     "\"licence\": {\"type\": \"string\"}}}},"
     "\"auto\": {\"type\": [\"string\", \"null\"]}}}"},
    {"GET", "/api/v1/tts/reconnaissance", HTTP_PUBLIC, get_asr, "voix",
     "État de la reconnaissance de la parole du téléphone : moteur réglé, "
     "bibliothèque et modèle trouvés, et sinon pourquoi",
     NULL,
     "{\"type\": \"object\", \"properties\": {"
     "\"moteur\": {\"type\": \"string\", \"enum\": [\"none\", \"vosk\"]}, "
     "\"disponible\": {\"type\": \"boolean\"}, "
     "\"bibliotheque_trouvee\": {\"type\": \"boolean\"}, "
     "\"modele_trouve\": {\"type\": \"boolean\"}, "
     "\"bibliotheque\": {\"type\": \"string\"}, "
     "\"modele\": {\"type\": \"string\"}, "
     "\"raison\": {\"type\": \"string\"}}}"},
};

const struct http_routes voice_routes = {"voice", routes,
                                         GU_ARRAY_LEN(routes)};
