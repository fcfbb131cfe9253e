/*
 * fuzz_json.c - libFuzzer target for request bodies: what
 * http_body_json() does (content type, UTF-8, duplicate keys, object at
 * top level) and the gu_json_* field readers handlers call next.
 *
 * Invariants: a refused body always carries a French message; a field
 * reader returns 0 or GU_EINVAL (with the field named), and a string it
 * hands out is valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"
#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rc(int rc, const struct gu_err *err)
{
    if (rc != 0 && rc != GU_EINVAL && rc != GU_ENOMEM)
        abort();
    if (rc == GU_EINVAL && (!err->user[0] || !err->field[0]))
        abort();
}

static void
readers(json_t *j)
{
    static const char *const keys[] = {"login", "password", "commune", "n",
                                       "b", "nom", ""};
    const char *key;
    json_t *v;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct gu_err err;
        const char *s = NULL;
        long l = 0;
        bool b = false;
        int rc;

        gu_err_clear(&err);
        rc = gu_json_str(j, keys[i], i % 2 == 0, 64, &s, &err);
        if (keys[i][0])
            check_rc(rc, &err);
        if (rc == 0 && s && !gu_utf8_valid(s, strlen(s)))
            abort();
        gu_err_clear(&err);
        rc = gu_json_int(j, keys[i], false, -1000, 1000, &l, &err);
        if (keys[i][0])
            check_rc(rc, &err);
        if (rc == 0 && (l < -1000 || l > 1000))
            abort();
        gu_err_clear(&err);
        rc = gu_json_bool(j, keys[i], false, &b, &err);
        if (keys[i][0])
            check_rc(rc, &err);
    }
    /* Every key of the input, as a string and an int. */
    json_object_foreach(j, key, v) {
        struct gu_err err;
        const char *s = NULL;
        long l = 0;
        (void)v;
        gu_err_clear(&err);
        gu_json_str(j, key, true, 1024, &s, &err);
        gu_err_clear(&err);
        gu_json_int(j, key, true, 0, 100, &l, &err);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;
    struct gu_err err;
    json_t *j = NULL;
    int rc;

    if (size > 65536)
        return 0;
    gu_err_clear(&err);
    rc = web_json_parse((const char *)data, size, "application/json", &j,
                        &err);
    if (rc == 0) {
        if (!json_is_object(j))
            abort();
        readers(j);
        json_decref(j);
    } else if (rc != GU_EINVAL || !err.user[0] || j) {
        abort();
    }

    /* The same body through the request API, as a handler sees it. */
    a = gu_arena_new(0);
    if (a) {
        struct http_req req;
        struct http_resp resp;
        struct web_reqdata d;
        struct web_kv hdr[1] = {{"Content-Type",
                                 "application/json; charset=utf-8"}};
        memset(&d, 0, sizeof(d));
        web_req_init(&req, &resp, a, &d);
        d.headers = hdr;
        d.nheaders = 1;
        char *copy = gu_arena_alloc(a, size + 1);
        if (copy) {
            memcpy(copy, data, size);
            copy[size] = 0;
        }
        d.body = copy;
        d.body_n = size;
        if (d.body && http_body_json(&req, &j) == 0) {
            readers(j);
            http_json(&resp, 200, json_incref(j));
        }
        gu_arena_free(a);
    }
    return 0;
}
