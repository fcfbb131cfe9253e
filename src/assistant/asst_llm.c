/*
 * asst_llm.c - optional rephrasing by a language model the commune runs
 * itself (llama.cpp server, vLLM, Albert API): an OpenAI-compatible
 * POST .../v1/chat/completions through libcurl.
 *
 * Off while llm.url is empty. The model sees only redacted text: the
 * resident's question and the retrieved passages, numbered [1]..[n], and
 * is told to answer in French from those passages only, citing them. Its
 * text is kept only when it cites at least one passage and cites nothing
 * else; on any failure (connection, timeout, HTTP status, malformed
 * reply) the caller keeps the extractive answer.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst.h"

#define REPLY_MAX (256 * 1024)

static const char system_prompt[] =
    "Tu es l'assistant d'une mairie française. Réponds en français, "
    "simplement et brièvement (120 mots au plus), à la question de "
    "l'usager en t'appuyant UNIQUEMENT sur les passages numérotés fournis. "
    "Après chaque information, cite le passage entre crochets, par exemple "
    "[1]. Si les passages ne permettent pas de répondre, réponds "
    "exactement : JE NE SAIS PAS. N'invente ni montant, ni délai, ni "
    "adresse.";

bool
asst_llm_enabled(const struct gu_config *cfg)
{
    const char *u = cfg ? gu_config_str(cfg, "llm.url") : NULL;
    return u && *u;
}

uint64_t
asst_llm_citations(const char *s, size_t n)
{
    uint64_t set = 0;

    for (size_t i = 0; i + 2 < n + 1 && i < n; i++) {
        if (s[i] != '[')
            continue;
        size_t j = i + 1;
        unsigned v = 0;
        while (j < n && j < i + 4 && s[j] >= '0' && s[j] <= '9')
            v = v * 10 + (unsigned)(s[j++] - '0');
        if (j > i + 1 && j < n && s[j] == ']' && v >= 1 && v <= 64)
            set |= (uint64_t)1 << (v - 1);
    }
    return set;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
    struct gu_buf *b = ud;

    if (b->n + size * n > REPLY_MAX)
        return 0; /* too large: abort the transfer */
    if (gu_buf_append(b, p, size * n) < 0)
        return 0;
    return size * n;
}

/* The endpoint: llm.url as given when it ends with /chat/completions,
 * else with /v1/chat/completions (or /chat/completions after /v1). */
static char *
endpoint(struct gu_arena *a, const char *u)
{
    size_t n = strlen(u);

    while (n && u[n - 1] == '/')
        n--;
    if (n >= 17 && strncmp(u + n - 17, "/chat/completions", 17) == 0)
        return gu_arena_strndup(a, u, n);
    if (n >= 3 && strncmp(u + n - 3, "/v1", 3) == 0)
        return gu_arena_sprintf(a, "%.*s/chat/completions", (int)n, u);
    return gu_arena_sprintf(a, "%.*s/v1/chat/completions", (int)n, u);
}

int
asst_llm_rephrase(const struct gu_config *cfg, struct gu_arena *a,
                  const char *question, const struct asst_passage *p, size_t n,
                  const char **out, struct gu_err *err)
{
    struct curl_slist *hdr = NULL;
    struct gu_buf user, reply;
    json_t *req = NULL, *res = NULL;
    char *body = NULL;
    CURL *h = NULL;
    long status = 0, timeout;
    int rc = 0;

    *out = NULL;
    if (!asst_llm_enabled(cfg) || n == 0)
        return 0;
    if (n > 64)
        n = 64;
    timeout = gu_config_int(cfg, "llm.timeout_ms");
    gu_buf_init(&user);
    gu_buf_init(&reply);
    gu_buf_puts(&user, "Passages :\n");
    for (size_t i = 0; i < n; i++)
        gu_buf_printf(&user, "[%zu] %s\n%s\n\n", i + 1,
                      p[i].title ? p[i].title : "", p[i].text ? p[i].text : "");
    gu_buf_printf(&user, "Question de l'usager : %s\n", question);
    req =
        json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s?}], s:f, s:i, s:b}", "model",
                  gu_config_str(cfg, "llm.model"), "messages", "role", "system",
                  "content", system_prompt, "role", "user", "content", user.p,
                  "temperature", 0.1, "max_tokens", 500, "stream", 0);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    const char *url = endpoint(a, gu_config_str(cfg, "llm.url"));
    if (user.oom || !body || !url) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "llm: oom");
        goto out;
    }
    pthread_once(&curl_once, curl_init_once);
    h = curl_easy_init();
    if (!h) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "llm: curl init");
        goto out;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    const char *key = gu_config_str(cfg, "llm.api_key");
    if (key && *key) {
        char *auth = gu_arena_sprintf(a, "Authorization: Bearer %s", key);
        if (auth)
            hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "guichet");
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "llm: %s",
                        curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "llm: HTTP %ld", status);
        goto out;
    }
    res = json_loadb(reply.p ? reply.p : "", reply.n, 0, NULL);
    json_t *ch =
        res ? json_array_get(json_object_get(res, "choices"), 0) : NULL;
    const char *text = json_string_value(
        json_object_get(json_object_get(ch, "message"), "content"));
    if (!text) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "llm: malformed reply");
        goto out;
    }
    struct gu_str t = gu_str_trim(gu_str_c(text));
    uint64_t cites = asst_llm_citations(t.p, t.n);
    uint64_t allowed = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
    if (cites == 0 || (cites & ~allowed)) {
        rc = gu_err_set(err, GU_EINVAL, NULL, NULL, "llm: reply cites %s",
                        cites ? "unknown passages" : "nothing");
        goto out;
    }
    *out = gu_arena_strndup(a, t.p, t.n);
    if (!*out)
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "llm: oom");
out:
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    json_decref(req);
    json_decref(res);
    free(body);
    gu_buf_fini(&user);
    gu_buf_fini(&reply);
    return rc;
}
