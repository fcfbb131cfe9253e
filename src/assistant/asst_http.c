/*
 * asst_http.c - HTTP face of the assistant: the public chat API
 * (docs/assistant-api.md) and the agents' hand-off inbox (page shell
 * /agent/assistant and its JSON API under /api/v1/assistant/).
 *
 * Handlers bound the input, read JSON with the gu_json_* readers, call
 * asst_*.c and write JSON. The public routes are rate-limited per IP
 * (assistant.rate_per_minute; the chat turn counts its own hit, per
 * address and commune, in asst_chat.c). Agents' routes are scoped to the
 * session's commune.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "assistant/asst_internal.h"
#include "web/http.h"

static void
ctx_init(struct asst_ctx *x, struct http_req *req)
{
    memset(x, 0, sizeof(*x));
    x->eng = asst_engine_of(store_conn_store(req->conn));
    x->conn = req->conn;
    x->arena = req->arena;
    x->cfg = req->cfg;
    x->request_id = req->request_id;
    x->client_ip = req->client_ip;
}

/* Bodies of the public routes are small. */
static int
body(struct http_req *req, json_t **out)
{
    size_t n = 0;

    http_body(req, &n);
    if (n > ASST_BODY_MAX)
        return gu_err_set(&req->err, GU_ETOOBIG, NULL,
                          "La requête dépasse 16 Kio.", "body too large");
    return http_body_json(req, out);
}

/* One hit of the per-IP limit (routes other than the chat turn). */
static int
rate(struct http_req *req, struct http_resp *resp)
{
    long limit = gu_config_int(req->cfg, "assistant.rate_per_minute");
    int retry = 0, rc;
    char key[96], v[16];

    if (limit <= 0 || !req->client_ip)
        return 0;
    snprintf(key, sizeof(key), "asst:%s", req->client_ip);
    rc = store_rate_hit(req->conn, key, (int)limit, 60, &retry, &req->err);
    if (rc == GU_ERATE) {
        snprintf(v, sizeof(v), "%d", retry > 0 ? retry : 60);
        http_add_header(resp, "Retry-After", v);
    }
    return rc;
}

/* ----- public chat API ----- */

static int
post_chat(struct http_req *req, struct http_resp *resp)
{
    struct asst_chat_in in;
    struct asst_chat_out out;
    struct asst_ctx x;
    json_t *b;
    int rc;

    if ((rc = body(req, &b)) < 0)
        return rc;
    memset(&in, 0, sizeof(in));
    if ((rc = gu_json_str(b, "commune", true, 5, &in.insee, &req->err)) < 0 ||
        (rc = gu_json_str(b, "conversation", false, 128, &in.conversation,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "message", false, ASST_BODY_MAX, &in.message,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "choice", false, 16, &in.choice, &req->err)) < 0)
        return rc;
    if (in.conversation && !*in.conversation)
        in.conversation = NULL;
    ctx_init(&x, req);
    if (!x.eng)
        return GU_ENOMEM;
    rc = asst_chat(&x, &in, &out, &req->err);
    if (rc == GU_ERATE)
        http_add_header(resp, "Retry-After", "60");
    if (rc < 0)
        return rc;
    /* The replies are JSON text already (asst_reply_dump): no jansson. */
    struct gu_buf o;
    gu_buf_init(&o);
    gu_buf_puts(&o, "{\"conversation\":");
    asst_json_str(&o, out.conversation);
    gu_buf_puts(&o, ",\"replies\":[");
    for (size_t i = 0; i < out.n; i++) {
        if (i)
            gu_buf_puts(&o, ",");
        gu_buf_puts(&o, out.raw[i]);
    }
    gu_buf_puts(&o, "],\"disclosure\":");
    asst_json_str(&o, out.disclosure);
    gu_buf_puts(&o, "}");
    rc = o.oom || !o.p ? GU_ENOMEM
                       : http_send(resp, 200, "application/json", o.p, o.n);
    gu_buf_fini(&o);
    return rc;
}

static int
post_feedback(struct http_req *req, struct http_resp *resp)
{
    const char *conv = NULL, *comment = NULL;
    struct asst_ctx x;
    long id = 0;
    bool useful = false;
    json_t *b;
    int rc;

    if ((rc = body(req, &b)) < 0 || (rc = rate(req, resp)) < 0)
        return rc;
    if ((rc = gu_json_str(b, "conversation", true, 128, &conv, &req->err)) <
            0 ||
        (rc = gu_json_int(b, "message_id", true, 1, LONG_MAX, &id, &req->err)) <
            0 ||
        (rc = gu_json_bool(b, "useful", true, &useful, &req->err)) < 0 ||
        (rc = gu_json_str(b, "comment", false, ASST_BODY_MAX, &comment,
                          &req->err)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = asst_feedback(&x, conv, id, useful, comment, &req->err);
    if (rc < 0)
        return rc;
    return http_no_content(resp);
}

static int
post_handoff(struct http_req *req, struct http_resp *resp)
{
    const char *conv = NULL, *email = NULL, *question = NULL;
    const char *ref = NULL, *tok = NULL;
    struct asst_ctx x;
    bool consent = false;
    json_t *b, *j;
    int rc;

    if ((rc = body(req, &b)) < 0 || (rc = rate(req, resp)) < 0)
        return rc;
    if ((rc = gu_json_str(b, "conversation", true, 128, &conv, &req->err)) <
            0 ||
        (rc = gu_json_str(b, "email", true, ASST_EMAIL_MAX, &email,
                          &req->err)) < 0 ||
        (rc = gu_json_str(b, "question", false, ASST_BODY_MAX, &question,
                          &req->err)) < 0)
        return rc;
    if (json_object_get(b, "consent") &&
        (rc = gu_json_bool(b, "consent", false, &consent, &req->err)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = asst_handoff_create(&x, conv, email, question, consent, &ref, &tok,
                             &req->err);
    if (rc < 0)
        return rc;
    j = json_pack("{s:s, s:s, s:s}", "reference", ref, "follow_url",
                  gu_arena_sprintf(req->arena, "/assistant/suivi/%s", tok),
                  "token", tok);
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 201, j);
}

static int
get_conversation(struct http_req *req, struct http_resp *resp)
{
    struct asst_ctx x;
    json_t *j = NULL;
    int rc;

    if ((rc = rate(req, resp)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = asst_history(&x, http_param(req, "conversation"), &j, &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, j);
}

static int
get_follow(struct http_req *req, struct http_resp *resp)
{
    struct asst_ctx x;
    json_t *j = NULL;
    int rc;

    if ((rc = rate(req, resp)) < 0)
        return rc;
    ctx_init(&x, req);
    rc = asst_handoff_follow(&x, http_param(req, "token"), &j, &req->err);
    if (rc < 0)
        return rc;
    return http_json(resp, 200, j);
}

/* ----- agents' inbox ----- */

static int
page_inbox(struct http_req *req, struct http_resp *resp)
{
    json_t *vars = json_pack("{s:s}", "insee", req->who.insee);

    if (!vars)
        return GU_ENOMEM;
    gu_json_arena(req->arena, vars);
    return http_template(req, resp, 200, "agent-assistant.html", vars);
}

static json_t *
handoff_json(struct http_req *req, const struct asst_handoff *h, bool full)
{
    json_t *j = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id",
        (json_int_t)h->id, "reference", h->reference, "status", h->status,
        "question", h->question, "answered_by", h->answered_by, "fiche_id",
        h->fiche_id, "created_at", gu_json_time(h->created_at), "updated_at",
        gu_json_time(h->updated_at), "answered_at",
        gu_json_time(h->answered_at));

    if (j && full) {
        json_object_set_new(j, "transcript", json_string(h->transcript));
        json_object_set_new(j, "answer", json_string(h->answer));
        /* The address only to those who may answer. */
        if (req->who.role >= STORE_ROLE_AGENT)
            json_object_set_new(j, "email", json_string(h->email));
    }
    return j;
}

static int
get_handoffs(struct http_req *req, struct http_resp *resp)
{
    struct asst_handoff_filter f;
    struct asst_handoff *list = NULL;
    struct asst_stats st;
    size_t n = 0;
    const char *s;
    long v;
    json_t *arr, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    memset(&f, 0, sizeof(f));
    f.limit = 50;
    f.status = http_query(req, "status");
    f.q = http_query(req, "q");
    if ((s = http_query(req, "before")) && *s) {
        if (gu_parse_long(s, 1, LONG_MAX, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "before",
                              "Le paramètre « before » doit être un "
                              "identifiant.",
                              "bad before");
        f.before_id = v;
    }
    if ((s = http_query(req, "limit")) && *s) {
        if (gu_parse_long(s, 1, 200, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "limit",
                              "Le paramètre « limit » doit être compris "
                              "entre 1 et 200.",
                              "bad limit");
        f.limit = (int)v;
    }
    rc = asst_handoff_list(req->conn, req->arena, req->who.insee, &f, &list, &n,
                           &req->err);
    if (rc < 0)
        return rc;
    rc = asst_stats_get(req->conn, req->who.insee, gu_now() - 30 * 86400, &st,
                        &req->err);
    if (rc < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = handoff_json(req, &list[i], false);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return GU_ENOMEM;
        }
    }
    if (!arr)
        return GU_ENOMEM;
    j = json_pack(
        "{s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
        "handoffs", arr, "next_before",
        n == (size_t)f.limit && n > 0 ? json_integer(list[n - 1].id)
                                      : json_null(),
        "stats", "nouveau", (json_int_t)st.handoffs_new, "en_cours",
        (json_int_t)st.handoffs_open, "repondu", (json_int_t)st.handoffs_done,
        "utile", (json_int_t)st.useful, "pas_utile", (json_int_t)st.not_useful,
        "conversations", (json_int_t)st.conversations, "reponses",
        (json_int_t)st.answers, "clarifications", (json_int_t)st.clarifications,
        "propositions_agent", (json_int_t)st.handoff_offers);
    if (!j)
        return GU_ENOMEM;
    return http_json(resp, 200, j);
}

/* ----- « Pourquoi ? » of the assistant's replies ----- */

/* A fiche's title for the explanation, looked up once per request. */
struct title_cache {
    const char *id[64];
    const char *title[64];
    size_t n;
};

static const char *
fiche_title(struct http_req *req, struct title_cache *tc, const char *id)
{
    struct kb_fiche f;
    struct gu_err e;
    const char *t = id;

    for (size_t i = 0; i < tc->n; i++) {
        if (strcmp(tc->id[i], id) == 0)
            return tc->title[i];
    }
    gu_err_clear(&e);
    if (kb_fiche_get(req->conn, req->arena, req->who.insee, id, &f, &e) ==
            0 &&
        f.title && *f.title)
        t = f.title;
    /* `id` may live in a JSON object freed before the next lookup */
    t = gu_arena_strdup(req->arena, t);
    if (tc->n < GU_ARRAY_LEN(tc->id) && t &&
        (tc->id[tc->n] = gu_arena_strdup(req->arena, id)))
        tc->title[tc->n++] = t;
    return t ? t : "";
}

static const char *
num2(struct http_req *req, double v)
{
    char buf[64];

    /* three decimals: 0,298 must not read « 0,30 » beside a 0,30 seuil */
    return gu_arena_strdup(
        req->arena, gu_num_fr(v, 3, GU_NUM_TRIM, "–", buf, sizeof(buf)));
}

/*
 * The explanation of a logged reply in the shape of web_why.c: what was
 * decided, from which fiche, against which thresholds, with the
 * candidates' scores and the index generation it was read from.
 */
static json_t *
reply_why(struct http_req *req, struct title_cache *tc,
          const struct asst_policy *pol, const struct asst_logged *m)
{
    json_t *w = m->why && *m->why ? json_loads(m->why, 0, NULL) : NULL;
    double conf = json_number_value(json_object_get(w, "confidence"));
    double margin = json_number_value(json_object_get(w, "margin"));
    double cover = json_number_value(json_object_get(w, "coverage"));
    json_int_t gen = json_integer_value(json_object_get(w, "generation"));
    bool followup = json_is_true(json_object_get(w, "followup"));
    const json_t *cands = json_object_get(w, "candidates");
    const char *summary, *title = NULL, *version;
    json_t *o, *c;
    size_t i;

    if (*m->fiche_id)
        title = fiche_title(req, tc, m->fiche_id);
    if (strcmp(m->type, "answer") == 0)
        summary = gu_arena_sprintf(
            req->arena,
            "Réponse tirée de la fiche « %s »%s%s%s : la confiance (%s) "
            "atteint le seuil (%s) et cette fiche devance la suivante de %s "
            "(écart minimal %s).",
            title ? title : m->fiche_id, *m->section ? ", partie « " : "",
            m->section, *m->section ? " »" : "", num2(req, conf),
            num2(req, pol->abstain.min_score), num2(req, margin),
            num2(req, pol->abstain.min_margin));
    else {
        /* The thresholds this reply fell short of, in plain French. */
        const char *why_not = "";
        if (conf < pol->abstain.min_score)
            why_not = gu_arena_sprintf(
                req->arena, "%s ; la confiance (%s) est sous le seuil (%s)",
                why_not, num2(req, conf), num2(req, pol->abstain.min_score));
        if (margin < pol->abstain.min_margin && why_not)
            why_not = gu_arena_sprintf(
                req->arena,
                "%s ; la meilleure fiche ne devance la suivante que de %s "
                "(minimum %s)",
                why_not, num2(req, margin), num2(req, pol->abstain.min_margin));
        if (json_object_get(w, "coverage") && cover < pol->min_coverage &&
            why_not)
            why_not = gu_arena_sprintf(
                req->arena,
                "%s ; la fiche ne couvre que %s de la question (minimum %s)",
                why_not, num2(req, cover), num2(req, pol->min_coverage));
        if (!why_not || !*why_not)
            why_not = " ; les fiches envisagées ne correspondaient pas assez";
        /* every reason starts with " ; ": the first one follows " : " */
        summary = gu_arena_sprintf(
            req->arena, "%s : %s.",
            strcmp(m->type, "clarify") == 0
                ? "L’assistant a demandé à l’habitant de préciser plutôt que "
                  "de choisir seul"
                : "L’assistant a proposé de transmettre la question à un "
                  "agent",
            why_not + 3);
    }
    version = gen > 0 ? gu_arena_sprintf(req->arena, "index des fiches n° %lld",
                                         (long long)gen)
                      : "";
    o = http_why_new(summary ? summary : "",
                     "classement BM25F et n-grammes de caractères", version,
                     m->at);
    if (!o) {
        json_decref(w);
        return NULL;
    }
    gu_json_arena(req->arena, o);
    json_array_foreach(cands, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));

        if (!id)
            continue;
        http_why_source(
            o, fiche_title(req, tc, id),
            gu_arena_sprintf(req->arena, "/agent/fiches/%s", id),
            json_number_value(json_object_get(c, "score")));
    }
    http_why_add(o, "Décision",
                 strcmp(m->type, "answer") == 0    ? "répondre"
                 : strcmp(m->type, "clarify") == 0 ? "demander de préciser"
                                                   : "proposer un agent");
    http_why_add(o, "Confiance",
                 gu_arena_sprintf(req->arena, "%s (seuil %s)",
                                  num2(req, conf),
                                  num2(req, pol->abstain.min_score)));
    http_why_add(o, "Avance sur la fiche suivante",
                 gu_arena_sprintf(req->arena, "%s (minimum %s)",
                                  num2(req, margin),
                                  num2(req, pol->abstain.min_margin)));
    if (w && json_object_get(w, "coverage"))
        http_why_add(o, "Part de la question couverte par la fiche",
                     gu_arena_sprintf(req->arena, "%s (minimum %s)",
                                      num2(req, cover),
                                      num2(req, pol->min_coverage)));
    if (followup)
        http_why_add(o, "Question de suivi",
                     "oui : le sujet de la question précédente a été "
                     "favorisé");
    json_decref(w);
    return o;
}

static json_t *
logged_json(struct http_req *req, struct title_cache *tc,
            const struct asst_policy *pol, const struct asst_logged *m)
{
    json_t *j = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s}", "id",
                          (json_int_t)m->id, "at", gu_json_time(m->at),
                          "question", m->question, "type", m->type,
                          "fiche_id", m->fiche_id, "section", m->section);
    json_t *w;

    if (!j)
        return NULL;
    json_object_set_new(j, "utile",
                        m->useful < 0 ? json_null()
                                      : json_boolean(m->useful == 1));
    json_object_set_new(j, "commentaire", json_string(m->comment));
    w = reply_why(req, tc, pol, m);
    json_object_set(j, "pourquoi", w ? w : json_null());
    return j;
}

/* The logged replies of one hand-off's conversation (id > 0) or of the
 * commune, as a JSON array (arena-owned). */
static int
logged_array(struct http_req *req, int64_t handoff, int64_t before,
             const char *type, size_t limit, json_t **out, int64_t *last)
{
    struct asst_engine *e = asst_engine_of(store_conn_store(req->conn));
    struct asst_policy pol;
    struct title_cache *tc;
    struct asst_logged *v = NULL;
    size_t n = 0;
    json_t *arr;
    int rc;

    if (e)
        pol = asst_engine_options(e)->policy;
    else
        asst_policy_default(&pol);
    rc = asst_logged_list(req->conn, req->arena, req->who.insee, handoff,
                          before, type, limit, &v, &n, &req->err);
    if (rc < 0)
        return rc;
    tc = gu_arena_zalloc(req->arena, sizeof(*tc));
    arr = json_array();
    if (!tc || !arr)
        return GU_ENOMEM;
    gu_json_arena(req->arena, arr);
    for (size_t i = 0; i < n; i++) {
        json_t *j = logged_json(req, tc, &pol, &v[i]);
        if (!j || json_array_append_new(arr, j) < 0)
            return GU_ENOMEM;
    }
    *out = arr;
    if (last)
        *last = n == limit && n ? v[n - 1].id : 0;
    return 0;
}

static int
get_replies(struct http_req *req, struct http_resp *resp)
{
    const char *type = http_query(req, "type");
    const char *s;
    int64_t before = 0, last = 0;
    long limit = 50;
    json_t *arr, *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (type && *type && strcmp(type, "answer") != 0 &&
        strcmp(type, "clarify") != 0 && strcmp(type, "handoff_offer") != 0)
        return gu_err_set(&req->err, GU_EINVAL, "type",
                          "Type inconnu : answer, clarify ou handoff_offer.",
                          "bad type");
    if ((s = http_query(req, "before")) && *s) {
        long v;
        if (gu_parse_long(s, 1, LONG_MAX, &v) < 0)
            return gu_err_set(&req->err, GU_EINVAL, "before",
                              "Le paramètre « before » doit être un "
                              "identifiant.",
                              "bad before");
        before = v;
    }
    if ((s = http_query(req, "limit")) && *s &&
        gu_parse_long(s, 1, ASST_LOGGED_MAX, &limit) < 0)
        return gu_err_set(&req->err, GU_EINVAL, "limit",
                          "Le paramètre « limit » va de 1 à 200.",
                          "bad limit");
    rc = logged_array(req, 0, before, type, (size_t)limit, &arr, &last);
    if (rc < 0)
        return rc;
    j = json_pack("{s:O, s:o}", "reponses", arr, "suivant",
                  last ? json_integer(last) : json_null());
    return j ? http_json(resp, 200, j) : GU_ENOMEM;
}

static int
get_handoff(struct http_req *req, struct http_resp *resp)
{
    struct asst_handoff h;
    int64_t id;
    json_t *j, *replies;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = asst_handoff_get(req->conn, req->arena, req->who.insee, id, &h,
                          &req->err);
    if (rc < 0)
        return rc;
    j = handoff_json(req, &h, true);
    if (!j)
        return GU_ENOMEM;
    gu_json_arena(req->arena, j);
    rc = logged_array(req, id, 0, NULL, ASST_LOGGED_MAX, &replies, NULL);
    if (rc < 0)
        return rc;
    json_object_set(j, "reponses", replies);
    return http_json(resp, 200, json_incref(j));
}

static int
patch_handoff(struct http_req *req, struct http_resp *resp)
{
    const char *status = NULL;
    int64_t id;
    json_t *b;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = http_body_json(req, &b)) < 0 ||
        (rc = gu_json_str(b, "status", true, 16, &status, &req->err)) < 0)
        return rc;
    rc = asst_handoff_set_status(req->conn, req->who.insee, id, status,
                                 http_actor(req), req->request_id, &req->err);
    if (rc < 0)
        return rc;
    return get_handoff(req, resp);
}

static int
post_answer(struct http_req *req, struct http_resp *resp)
{
    const char *answer = NULL;
    int64_t id;
    json_t *b;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0 ||
        (rc = http_body_json(req, &b)) < 0 ||
        (rc = gu_json_str(b, "answer", true, 4 * ASST_HANDOFF_ANSWER_MAX,
                          &answer, &req->err)) < 0)
        return rc;
    rc = asst_handoff_answer(req->conn, req->arena, req->who.insee, id, answer,
                             http_actor(req), req->request_id,
                             gu_config_str(req->cfg, "server.public_url"),
                             &req->err);
    if (rc < 0)
        return rc;
    return get_handoff(req, resp);
}

static int
post_fiche(struct http_req *req, struct http_resp *resp)
{
    const char *fid = NULL;
    int64_t id;
    json_t *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0 ||
        (rc = http_param_id(req, "id", &id)) < 0)
        return rc;
    rc = asst_handoff_to_fiche(req->conn, req->arena, req->who.insee, id,
                               http_actor(req), req->request_id, &fid,
                               &req->err);
    if (rc < 0)
        return rc;
    j = json_pack(
        "{s:s, s:s}", "fiche_id", fid ? fid : "", "edit_url",
        gu_arena_sprintf(req->arena, "/agent/fiches/%s", fid ? fid : ""));
    return j ? http_json(resp, 201, j) : GU_ENOMEM;
}

static int
post_reload(struct http_req *req, struct http_resp *resp)
{
    struct asst_engine *e = asst_engine_of(store_conn_store(req->conn));
    json_t *j;
    int rc;

    if ((rc = http_need_commune(req)) < 0)
        return rc;
    if (!e)
        return GU_ENOMEM;
    rc = asst_engine_reload(e, req->conn, req->who.insee, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "asst.reload", req->who.insee, NULL);
    j = json_pack("{s:I}", "generation",
                  (json_int_t)asst_engine_generation(e, req->who.insee));
    return j ? http_json(resp, 200, j) : GU_ENOMEM;
}

/* ----- table ----- */

#define REPLY_SCHEMA                                                           \
    "{\"type\":\"object\",\"required\":[\"type\",\"text\",\"choices\"],"       \
    "\"properties\":{\"id\":{\"type\":\"integer\"},"                           \
    "\"type\":{\"enum\":[\"greeting\",\"answer\",\"clarify\","                 \
    "\"handoff_offer\",\"handoff_done\",\"info\"]},"                           \
    "\"text\":{\"type\":\"string\"},\"html\":{\"type\":\"string\"},"           \
    "\"fiche\":{\"type\":\"object\"},\"links\":{\"type\":\"array\"},"          \
    "\"related\":{\"type\":\"array\"},\"choices\":{\"type\":\"array\"},"       \
    "\"feedback\":{\"type\":\"boolean\"}}}"

#define HANDOFF_SCHEMA                                                         \
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"      \
    "\"reference\":{\"type\":\"string\"},"                                     \
    "\"status\":{\"enum\":[\"nouveau\",\"en cours\",\"répondu\"]},"           \
    "\"question\":{\"type\":\"string\"},\"transcript\":{\"type\":\"string\"}," \
    "\"answer\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}}}"

static const struct http_route routes[] = {
    {"POST", "/api/v1/chat", HTTP_PUBLIC, post_chat, "assistant",
     "Envoyer un message à l’assistant (nouvelle conversation sans "
     "« conversation »)",
     "{\"type\":\"object\",\"required\":[\"commune\"],\"properties\":{"
     "\"commune\":{\"type\":\"string\"},"
     "\"conversation\":{\"type\":\"string\"},"
     "\"message\":{\"type\":\"string\",\"maxLength\":1000},"
     "\"choice\":{\"type\":\"string\"}}}",
     "{\"type\":\"object\",\"properties\":{"
     "\"conversation\":{\"type\":\"string\"},"
     "\"replies\":{\"type\":\"array\",\"items\":" REPLY_SCHEMA "},"
     "\"disclosure\":{\"type\":\"string\"}}}"},
    {"POST", "/api/v1/chat/feedback", HTTP_PUBLIC, post_feedback, "assistant",
     "Noter une réponse de l’assistant (utile / pas utile, commentaire)",
     "{\"type\":\"object\",\"required\":[\"conversation\",\"message_id\","
     "\"useful\"],\"properties\":{\"conversation\":{\"type\":\"string\"},"
     "\"message_id\":{\"type\":\"integer\"},"
     "\"useful\":{\"type\":\"boolean\"},"
     "\"comment\":{\"type\":\"string\",\"maxLength\":1000}}}",
     NULL},
    {"POST", "/api/v1/chat/handoff", HTTP_PUBLIC, post_handoff, "assistant",
     "Transmettre la question à un agent (courriel, consentement requis)",
     "{\"type\":\"object\",\"required\":[\"conversation\",\"email\","
     "\"consent\"],\"properties\":{\"conversation\":{\"type\":\"string\"},"
     "\"email\":{\"type\":\"string\",\"maxLength\":254},"
     "\"question\":{\"type\":\"string\",\"maxLength\":1000},"
     "\"consent\":{\"const\":true}}}",
     "{\"type\":\"object\",\"properties\":{"
     "\"reference\":{\"type\":\"string\"},"
     "\"follow_url\":{\"type\":\"string\"}}}"},
    {"GET", "/api/v1/chat/suivi/{token}", HTTP_PUBLIC, get_follow, "assistant",
     "Suivi d’une question transmise à un agent (page /assistant/suivi)", NULL,
     "{\"type\":\"object\",\"properties\":{"
     "\"reference\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
     "\"question\":{\"type\":\"string\"},\"answer\":{\"type\":\"string\"}}}"},
    {"GET", "/api/v1/chat/{conversation}", HTTP_PUBLIC, get_conversation,
     "assistant", "Historique d’une conversation (réponse de l’agent comprise)",
     NULL,
     "{\"type\":\"object\",\"properties\":{"
     "\"conversation\":{\"type\":\"string\"},"
     "\"replies\":{\"type\":\"array\"},"
     "\"handoff\":{\"type\":[\"object\",\"null\"]}}}"},

    {"GET", "/agent/assistant", HTTP_LECTEUR, page_inbox, "agent",
     "Questions transmises par l’assistant", NULL, NULL},
    {"GET", "/api/v1/assistant/handoffs", HTTP_LECTEUR, get_handoffs,
     "assistant",
     "Questions transmises aux agents (filtres : status, q, before, limit) "
     "et statistiques",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"handoffs\":{\"type\":\"array\","
     "\"items\":" HANDOFF_SCHEMA "},\"stats\":{\"type\":\"object\"}}}"},
    {"GET", "/api/v1/assistant/reponses", HTTP_LECTEUR, get_replies,
     "assistant",
     "Réponses de l’assistant, les plus récentes d’abord, chacune avec son "
     "« Pourquoi ? » (filtres : type, before, limit)",
     NULL,
     "{\"type\":\"object\",\"properties\":{\"reponses\":{\"type\":"
     "\"array\"},\"suivant\":{\"type\":[\"integer\",\"null\"]}}}"},
    {"GET", "/api/v1/assistant/handoffs/{id}", HTTP_LECTEUR, get_handoff,
     "assistant", "Détail d’une question transmise", NULL, HANDOFF_SCHEMA},
    {"PATCH", "/api/v1/assistant/handoffs/{id}", HTTP_AGENT, patch_handoff,
     "assistant", "Changer le statut d’une question transmise",
     "{\"type\":\"object\",\"required\":[\"status\"],\"properties\":{"
     "\"status\":{\"enum\":[\"nouveau\",\"en cours\",\"répondu\"]}}}",
     HANDOFF_SCHEMA},
    {"POST", "/api/v1/assistant/handoffs/{id}/answer", HTTP_AGENT, post_answer,
     "assistant", "Répondre à une question transmise (courriel à l’usager)",
     "{\"type\":\"object\",\"required\":[\"answer\"],\"properties\":{"
     "\"answer\":{\"type\":\"string\",\"maxLength\":20000}}}",
     HANDOFF_SCHEMA},
    {"POST", "/api/v1/assistant/handoffs/{id}/fiche", HTTP_AGENT, post_fiche,
     "assistant", "Créer une fiche locale à partir de la réponse", NULL,
     "{\"type\":\"object\",\"properties\":{"
     "\"fiche_id\":{\"type\":\"string\"}}}"},
    {"POST", "/api/v1/assistant/reload", HTTP_ADMIN, post_reload, "assistant",
     "Reconstruire maintenant l’index de l’assistant de la commune", NULL,
     "{\"type\":\"object\",\"properties\":{"
     "\"generation\":{\"type\":\"integer\"}}}"},
};

const struct http_routes asst_routes = {"assistant", routes,
                                        GU_ARRAY_LEN(routes)};
