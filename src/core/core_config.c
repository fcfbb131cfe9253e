/*
 * core_config.c - the effective configuration.
 *
 * Precedence: defaults < guichet.conf (INI, libinih) < GUICHET_*
 * environment < command-line overrides. Every value is validated against
 * its row of the settings table once, here; then the configuration is
 * read-only. A reload builds a new one.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"

extern char **environ;

struct value {
    char *text; /* as given (owned) */
    long num;   /* INT, SIZE, BOOL (0/1) */
    enum gu_set_origin origin;
};

struct gu_config {
    const struct gu_setting *table;
    size_t n;
    struct value *vals;
    char *file; /* the file read, or NULL */
};

static long
setting_index(const struct gu_config *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->table[i].key, key) == 0)
            return (long)i;
    }
    return -1;
}

static int
parse_bool(const char *s, long *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "oui"};
    static const char *const no[] = {"false", "no", "off", "0", "non"};
    for (size_t i = 0; i < GU_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return GU_EINVAL;
}

static int
parse_size(const char *s, long *out)
{
    if (!*s || !isdigit((unsigned char)*s))
        return GU_EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0)
        return GU_EINVAL;
    long long mult = 1;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'k':
            mult = 1024;
            break;
        case 'm':
            mult = 1024 * 1024;
            break;
        case 'g':
            mult = 1024LL * 1024 * 1024;
            break;
        default:
            return GU_EINVAL;
        }
        end++;
        if (tolower((unsigned char)*end) == 'b' ||
            tolower((unsigned char)*end) == 'o')
            end++;
        if (*end)
            return GU_EINVAL;
    }
    if (v > (1LL << 40) / mult)
        return GU_EINVAL;
    *out = (long)(v * mult);
    return 0;
}

/* Allowed-values text for messages: "a|b|c" -> "a, b, c". */
static void
allowed_list(const char *allowed, char *buf, size_t cap)
{
    size_t o = 0;
    for (const char *p = allowed; *p && o + 3 < cap; p++) {
        if (*p == '|') {
            buf[o++] = ',';
            buf[o++] = ' ';
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
}

/* Validate `text` for setting `s`; on success *num holds its number. */
static int
check_value(const struct gu_setting *s, const char *text, long *num,
            struct gu_err *err)
{
    char user[512], allowed[160];
    *num = 0;
    switch (s->type) {
    case GU_SET_STR:
        if (strlen(text) > 1024 || !gu_utf8_valid(text, strlen(text)))
            goto bad_str;
        return 0;
    case GU_SET_BOOL:
        if (parse_bool(text, num) == 0)
            return 0;
        snprintf(user, sizeof(user),
                 "Valeur invalide pour %s : « %.60s ». Valeurs permises : "
                 "true, false (ou oui, non).",
                 s->key, text);
        break;
    case GU_SET_ENUM:
        for (const char *p = s->allowed; p && *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (strlen(text) == len && strncmp(p, text, len) == 0)
                return 0;
            p = bar ? bar + 1 : p + len;
        }
        allowed_list(s->allowed, allowed, sizeof(allowed));
        snprintf(user, sizeof(user),
                 "Valeur invalide pour %s : « %.60s ». Valeurs permises : "
                 "%s.",
                 s->key, text, allowed);
        break;
    case GU_SET_INT:
        if (gu_parse_long(text, s->min, s->max, num) == 0)
            return 0;
        snprintf(user, sizeof(user),
                 "Valeur invalide pour %s : « %.60s ». Valeurs permises : "
                 "un nombre entier de %ld à %ld.",
                 s->key, text, s->min, s->max);
        break;
    case GU_SET_SIZE:
        if (parse_size(text, num) == 0 && *num >= s->min && *num <= s->max)
            return 0;
        snprintf(user, sizeof(user),
                 "Valeur invalide pour %s : « %.60s ». Valeurs permises : "
                 "une taille de %ld à %ld octets (ex. 512k, 1M).",
                 s->key, text, s->min, s->max);
        break;
    default:
        return gu_err_set(err, GU_EINTERNAL, s->key, NULL, "bad type");
    }
    return gu_err_set(err, GU_ECONFIG, s->key, user, "invalid value for %s",
                      s->key);
bad_str:
    snprintf(user, sizeof(user),
             "Valeur invalide pour %s : texte trop long ou mal encodé "
             "(UTF-8 attendu, 1024 octets au plus).",
             s->key);
    return gu_err_set(err, GU_ECONFIG, s->key, user, "invalid value for %s",
                      s->key);
}

static int
set_value(struct gu_config *c, const char *key, const char *text,
          enum gu_set_origin origin, struct gu_err *err)
{
    long i = setting_index(c, key);
    if (i < 0) {
        char user[256];
        snprintf(user, sizeof(user),
                 "Paramètre inconnu : « %.80s ». La commande « guichet "
                 "config » liste les paramètres.",
                 key);
        return gu_err_set(err, GU_ECONFIG, key, user, "unknown key %s", key);
    }
    long num;
    int rc = check_value(&c->table[i], text, &num, err);
    if (rc)
        return rc;
    char *copy = gu_strdup(text);
    if (!copy)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "config: oom");
    gu_free(c->vals[i].text);
    c->vals[i].text = copy;
    c->vals[i].num = num;
    c->vals[i].origin = origin;
    return 0;
}

struct file_ctx {
    struct gu_config *c;
    struct gu_err *err;
    int rc;
};

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct file_ctx *ctx = user;
    if (ctx->rc)
        return 0;
    char key[160];
    if (section && *section)
        snprintf(key, sizeof(key), "%s.%s", section, name);
    else
        snprintf(key, sizeof(key), "%s", name);
    ctx->rc = set_value(ctx->c, key, value, GU_ORIGIN_FILE, ctx->err);
    return ctx->rc == 0;
}

/* "server.max_body" -> "GUICHET_SERVER_MAX_BODY" */
static void
env_name(const char *key, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "GUICHET_");
    for (const char *p = key; *p && o + 1 < cap; p++)
        buf[o++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    buf[o] = '\0';
}

static const char *
env_lookup(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    }
    return NULL;
}

int
gu_config_parse_string(struct gu_config *c, const char *text,
                       struct gu_err *err)
{
    struct file_ctx ctx = {c, err, 0};
    int line = ini_parse_string(text, on_ini, &ctx);
    if (ctx.rc)
        return ctx.rc;
    if (line != 0) {
        char user[160];
        snprintf(user, sizeof(user),
                 "Fichier de configuration illisible : erreur de syntaxe "
                 "ligne %d.",
                 line);
        return gu_err_set(err, GU_ECONFIG, NULL, user, "ini syntax line %d",
                          line);
    }
    return 0;
}

static struct gu_config *
config_new(void)
{
    struct gu_config *c = gu_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->table = gu_settings(&c->n);
    c->vals = gu_calloc(c->n, sizeof(*c->vals));
    if (!c->vals) {
        gu_free(c);
        return NULL;
    }
    return c;
}

int
gu_config_defaults(struct gu_config **out, struct gu_err *err)
{
    *out = NULL;
    struct gu_config *c = config_new();
    if (!c)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "config: oom");
    for (size_t i = 0; i < c->n; i++) {
        int rc = set_value(c, c->table[i].key, c->table[i].def,
                           GU_ORIGIN_DEFAULT, err);
        if (rc) {
            gu_config_free(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

int
gu_config_load(const char *path, char *const *envp,
               const char *const *overrides, struct gu_config **out,
               struct gu_err *err)
{
    struct gu_config *c = NULL;
    int rc = gu_config_defaults(&c, err);
    if (rc)
        goto out;
    if (!envp)
        envp = environ;

    /* The data folder decides where the default config file is, so find
     * it first from the higher-precedence sources. */
    const char *data = NULL;
    for (const char *const *o = overrides; o && *o; o++) {
        if (strncmp(*o, "paths.data=", 11) == 0)
            data = *o + 11;
    }
    if (!data)
        data = env_lookup(envp, "GUICHET_PATHS_DATA");
    char defpath[4096];
    bool explicit_path = path != NULL;
    if (!path) {
        snprintf(defpath, sizeof(defpath), "%s/guichet.conf",
                 data ? data : gu_config_str(c, "paths.data"));
        struct stat st;
        if (stat(defpath, &st) == 0)
            path = defpath;
    }
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f) {
            char user[256];
            snprintf(user, sizeof(user),
                     "Impossible d'ouvrir le fichier de configuration "
                     "« %.150s ».",
                     path);
            rc = gu_err_set(err, explicit_path ? GU_ECONFIG : GU_EIO, NULL,
                            user, "open %s: %s", path, strerror(errno));
            goto out;
        }
        struct file_ctx ctx = {c, err, 0};
        int line = ini_parse_file(f, on_ini, &ctx);
        fclose(f);
        if (ctx.rc) {
            rc = ctx.rc;
            goto out;
        }
        if (line != 0) {
            char user[256];
            snprintf(user, sizeof(user),
                     "Erreur de syntaxe dans « %.150s », ligne %d.", path,
                     line);
            rc = gu_err_set(err, GU_ECONFIG, NULL, user, "ini syntax %s:%d",
                            path, line);
            goto out;
        }
        c->file = gu_strdup(path);
        if (!c->file) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "config: oom");
            goto out;
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        char name[128];
        env_name(c->table[i].key, name, sizeof(name));
        const char *v = env_lookup(envp, name);
        if (v) {
            rc = set_value(c, c->table[i].key, v, GU_ORIGIN_ENV, err);
            if (rc)
                goto out;
        }
    }
    for (const char *const *o = overrides; o && *o; o++) {
        const char *eq = strchr(*o, '=');
        if (!eq) {
            char user[256];
            snprintf(user, sizeof(user),
                     "Option --set invalide : « %.80s ». Forme attendue : "
                     "clé=valeur.",
                     *o);
            rc = gu_err_set(err, GU_ECONFIG, NULL, user, "bad override");
            goto out;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *o), *o);
        rc = set_value(c, key, eq + 1, GU_ORIGIN_CLI, err);
        if (rc)
            goto out;
    }
out:
    if (rc) {
        gu_config_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

void
gu_config_free(struct gu_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        gu_free(c->vals[i].text);
    gu_free(c->vals);
    gu_free(c->file);
    gu_free(c);
}

static const struct value *
lookup(const struct gu_config *c, const char *key)
{
    long i = setting_index(c, key);
    /* Asking for a key that is not in the table is a bug, not input. */
    if (i < 0) {
        gu_log_error("config", "unknown_key=%s", key);
        abort();
    }
    return &c->vals[i];
}

const char *
gu_config_str(const struct gu_config *c, const char *key)
{
    return lookup(c, key)->text;
}

const char *
gu_public_base(struct gu_arena *a, const struct gu_config *cfg)
{
    const char *u = cfg ? gu_config_str(cfg, "server.public_url") : "";
    size_t n = u ? strlen(u) : 0;

    while (n && u[n - 1] == '/')
        n--;
    return gu_arena_strndup(a, u ? u : "", n);
}

long
gu_config_int(const struct gu_config *c, const char *key)
{
    return lookup(c, key)->num;
}

bool
gu_config_bool(const struct gu_config *c, const char *key)
{
    return lookup(c, key)->num != 0;
}

enum gu_set_origin
gu_config_origin(const struct gu_config *c, const char *key)
{
    return lookup(c, key)->origin;
}

const char *
gu_config_file(const struct gu_config *c)
{
    return c->file;
}

const char *
gu_origin_name(enum gu_set_origin o)
{
    switch (o) {
    case GU_ORIGIN_DEFAULT:
        return "défaut";
    case GU_ORIGIN_FILE:
        return "fichier";
    case GU_ORIGIN_ENV:
        return "environnement";
    case GU_ORIGIN_CLI:
        return "ligne de commande";
    }
    return "?";
}
