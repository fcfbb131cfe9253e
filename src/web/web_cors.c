/*
 * web_cors.c - cross-origin access to the chat API, for the widget that a
 * commune embeds on its own web site.
 *
 * Only the public routes of the widget (/api/v1/chat and below, and
 * /api/v1/tts and below for its « Écouter » button) are ever shared,
 * and only with the origins listed in `assistant.widget_origins`
 * (space- or comma-separated, "https://www.ma-commune.fr"). An allowed
 * Origin is echoed in Access-Control-Allow-Origin, never "*", never with
 * credentials: the chat is anonymous, and a session cookie must not ride
 * along with a request from another site. Any other origin gets no CORS
 * header at all and the browser keeps the answer from the page.
 *
 * Pure functions of their arguments: web_server.c calls them when it
 * routes (preflight) and when it adds the response headers.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web/web_internal.h"

/* The anonymous routes the widget calls: the chat, and the speech of its
 * « Écouter » button. */
static const char *const cors_prefixes[] = {"/api/v1/chat", "/api/v1/tts"};
/* An origin longer than this is not one we would list. */
#define CORS_MAX_ORIGIN 256

bool
web_cors_path(const char *path)
{
    if (!path)
        return false;
    for (size_t i = 0; i < GU_ARRAY_LEN(cors_prefixes); i++) {
        size_t n = strlen(cors_prefixes[i]);

        if (strncmp(path, cors_prefixes[i], n) == 0 &&
            (path[n] == 0 || path[n] == '/'))
            return true;
    }
    return false;
}

/*
 * Split an origin "scheme://host[:port]" (an optional trailing '/'
 * tolerated in the setting) into its scheme length and the host[:port]
 * part with a default port dropped. False when it is not an http(s)
 * origin: a path, a query, user info, a space or a control character.
 */
static bool
origin_parts(const char *s, size_t n, bool *https, const char **host,
             size_t *hn)
{
    const char *h;
    size_t rest;

    if (n > 0 && s[n - 1] == '/')
        n--;
    if (n == 0 || n > CORS_MAX_ORIGIN)
        return false;
    if (n > 8 && strncasecmp(s, "https://", 8) == 0) {
        *https = true;
        h = s + 8;
    } else if (n > 7 && strncasecmp(s, "http://", 7) == 0) {
        *https = false;
        h = s + 7;
    } else {
        return false;
    }
    rest = n - (size_t)(h - s);
    for (size_t i = 0; i < rest; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' ||
            c == '@' || c == '\\' || c == ',')
            return false;
    }
    /* "https://x:443" is the origin "https://x". */
    if (*https && rest > 4 && memcmp(h + rest - 4, ":443", 4) == 0)
        rest -= 4;
    else if (!*https && rest > 3 && memcmp(h + rest - 3, ":80", 3) == 0)
        rest -= 3;
    if (rest == 0 || h[0] == ':')
        return false;
    *host = h;
    *hn = rest;
    return true;
}

bool
web_cors_origin_allowed(const char *origin, const char *list)
{
    bool ohttps, lhttps;
    const char *oh, *p;
    size_t ohn;

    if (!origin || !list || !*list)
        return false;
    if (!origin_parts(origin, strlen(origin), &ohttps, &oh, &ohn))
        return false;
    /* A browser never sends a trailing slash: neither may a forger. */
    if (origin[strlen(origin) - 1] == '/')
        return false;
    p = list;
    while (*p) {
        const char *lh;
        size_t n, lhn;

        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if (origin_parts(p, n, &lhttps, &lh, &lhn) && lhttps == ohttps &&
            lhn == ohn && strncasecmp(lh, oh, ohn) == 0)
            return true;
        p += n;
    }
    return false;
}

const char *
web_cors_allow_origin(const struct http_req *req, const char *list)
{
    const char *origin;

    if (!req || !web_cors_path(req->path))
        return NULL;
    origin = http_header((struct http_req *)req, "Origin");
    return web_cors_origin_allowed(origin, list) ? origin : NULL;
}

int
web_cors_preflight(struct http_req *req, struct http_resp *resp,
                   const char *allow, const char *list)
{
    char methods[80];
    int rc;

    if ((rc = http_no_content(resp)) < 0)
        return rc;
    snprintf(methods, sizeof(methods), "%s, OPTIONS", allow);
    if ((rc = http_add_header(resp, "Allow", methods)) < 0)
        return rc;
    if (!web_cors_allow_origin(req, list))
        return 0;
    if ((rc = http_add_header(resp, "Access-Control-Allow-Methods",
                              "POST, GET")) < 0 ||
        (rc = http_add_header(resp, "Access-Control-Allow-Headers",
                              "Content-Type")) < 0 ||
        (rc = http_add_header(resp, "Access-Control-Max-Age", "600")) < 0)
        return rc;
    return 0;
}
