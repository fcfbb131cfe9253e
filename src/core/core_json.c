/*
 * core_json.c - field readers for JSON request bodies.
 *
 * Each reader checks presence, type and bounds, and on failure fills the
 * error with the field's name and a French sentence a person can act on.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* "Le champ « key » <tail>" */
static int
field_err(struct gu_err *err, const char *key, const char *tail,
          const char *why)
{
    char user[256];
    snprintf(user, sizeof(user), "Le champ « %s » %s", key, tail);
    return gu_err_set(err, GU_EINVAL, key, user, "field %s: %s", key, why);
}

static json_t *
get(json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

int
gu_json_str(json_t *obj, const char *key, bool required, size_t maxlen,
            const char **out, struct gu_err *err)
{
    json_t *v = get(obj, key);
    if (!v) {
        if (required)
            return field_err(err, key, "est obligatoire.", "missing");
        return 0;
    }
    if (!json_is_string(v))
        return field_err(err, key, "doit être un texte.", "not a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n))
        return field_err(err, key, "contient un caractère interdit.",
                         "NUL byte");
    if (n > maxlen) {
        char user[256];
        snprintf(user, sizeof(user),
                 "Le champ « %s » est trop long (%zu caractères au plus).", key,
                 maxlen);
        return gu_err_set(err, GU_EINVAL, key, user, "field %s too long", key);
    }
    if (required && n == 0)
        return field_err(err, key, "ne peut pas être vide.", "empty");
    *out = s;
    return 0;
}

int
gu_json_int(json_t *obj, const char *key, bool required, long min, long max,
            long *out, struct gu_err *err)
{
    json_t *v = get(obj, key);
    if (!v) {
        if (required)
            return field_err(err, key, "est obligatoire.", "missing");
        return 0;
    }
    if (!json_is_integer(v))
        return field_err(err, key, "doit être un nombre entier.",
                         "not an integer");
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) {
        char user[256];
        snprintf(user, sizeof(user),
                 "Le champ « %s » doit être compris entre %ld et %ld.", key,
                 min, max);
        return gu_err_set(err, GU_EINVAL, key, user, "field %s out of range",
                          key);
    }
    *out = (long)x;
    return 0;
}

int
gu_json_bool(json_t *obj, const char *key, bool required, bool *out,
             struct gu_err *err)
{
    json_t *v = get(obj, key);
    if (!v) {
        if (required)
            return field_err(err, key, "est obligatoire.", "missing");
        return 0;
    }
    if (!json_is_boolean(v))
        return field_err(err, key, "doit valoir true ou false.",
                         "not a boolean");
    *out = json_is_true(v);
    return 0;
}

static void
decref(void *p)
{
    json_decref(p);
}

json_t *
gu_json_arena(struct gu_arena *a, json_t *j)
{
    if (!j)
        return NULL;
    if (gu_arena_defer(a, decref, j) != 0)
        return NULL;
    return j;
}

json_t *
gu_json_time(int64_t t)
{
    char iso[32];

    if (t <= 0)
        return json_null();
    gu_time_iso(t, iso, sizeof(iso));
    return json_string(iso);
}
