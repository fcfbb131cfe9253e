/*
 * core.h - the bottom layer every other module builds on.
 *
 * Memory (one allocation wrapper, arenas), errors (negative GU_E* codes and
 * an error object carrying an English log message and a French user
 * message), string views and buffers, logfmt logging, the settings table
 * and its configuration, passwords and random tokens (libsodium), JSON
 * helpers (jansson) and a few time helpers.
 *
 * Nothing here knows about HTTP, SQL or any domain.
 */
#ifndef GU_CORE_H
#define GU_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define GU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define GU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define GU_UNUSED __attribute__((unused))
#else
#define GU_PRINTF(f, a)
#define GU_UNUSED
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * Status functions return 0 on success or one of these negative codes.
 * web/ is the only place that maps them to HTTP statuses.
 */
enum gu_status {
    GU_OK = 0,
    GU_ENOMEM = -1,    /* allocation failed */
    GU_EINVAL = -2,    /* invalid input (400/422) */
    GU_ENOTFOUND = -3, /* no such object (404) */
    GU_ECONFLICT = -4, /* already exists / concurrent change (409) */
    GU_EAUTH = -5,     /* not authenticated (401) */
    GU_EPERM = -6,     /* authenticated but not allowed (403) */
    GU_ETOOBIG = -7,   /* over a size or count limit (413) */
    GU_ERATE = -8,     /* rate limited or locked out (429) */
    GU_EIO = -9,       /* file or network I/O failed */
    GU_EDB = -10,      /* storage failed (500/503) */
    GU_EBUSY = -11,    /* temporarily unavailable (503) */
    GU_ECONFIG = -12,  /* configuration error (exit code 2) */
    GU_EINTERNAL = -13 /* a bug: invariant broken */
};

/*
 * Error details. Caller-owned (usually on the stack or in a request).
 * `msg` is English for logs, `user` is French for people and may be empty
 * (then a generic French sentence for the code is used), `field` names the
 * offending input field or configuration key when there is one.
 */
struct gu_err {
    int code;
    char msg[256];
    char user[256];
    char field[64];
};

/* Reset to "no error". */
void gu_err_clear(struct gu_err *err);

/*
 * Record an error and return `code` so callers can write
 * `return gu_err_set(err, GU_EINVAL, "email", "Adresse e-mail invalide.",
 *                    "bad email %s", x);`
 * `err` may be NULL. `field` and `user` may be NULL.
 */
int gu_err_set(struct gu_err *err, int code, const char *field,
               const char *user, const char *fmt, ...) GU_PRINTF(5, 6);

/* Short English name of a code ("ENOTFOUND"). Never NULL. */
const char *gu_status_name(int code);

/* Generic French sentence for a code, used when err->user is empty. */
const char *gu_status_user(int code);

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/*
 * All heap allocation goes through these so tests can inject failures.
 * They return NULL on failure (never abort). gu_free(NULL) is a no-op.
 */
void *gu_malloc(size_t n);
void *gu_calloc(size_t count, size_t size);
void *gu_realloc(void *p, size_t n);
char *gu_strdup(const char *s);
char *gu_strndup(const char *s, size_t n);
void gu_free(void *p);

/*
 * Test hook: the Nth allocation from now (1 = the next one) fails, and so
 * does every later one until gu_alloc_fail_reset(). Thread-local.
 */
void gu_alloc_fail_after(long n);
void gu_alloc_fail_reset(void);

/* ------------------------------------------------------------------ */
/* Arenas                                                              */
/* ------------------------------------------------------------------ */

/*
 * A memory pool freed in one go. Each request owns one; everything made
 * for the request comes from it. Not thread-safe: one owner at a time.
 */
struct gu_arena;

typedef void (*gu_defer_fn)(void *p);

/* New arena whose first chunk holds `hint` bytes (0 = 8 KiB). NULL on OOM. */
struct gu_arena *gu_arena_new(size_t hint);

/* Run deferred finalisers (last registered first), free all. NULL ok. */
void gu_arena_free(struct gu_arena *a);

/*
 * Run the finalisers and forget every allocation, keeping the first
 * chunk (`hint` bytes) for the next owner: an arena handed from thread
 * to thread and reused costs no malloc or free. NULL ok.
 */
void gu_arena_reset(struct gu_arena *a);

/* Aligned (16) allocation; NULL on OOM. Memory is NOT zeroed. */
void *gu_arena_alloc(struct gu_arena *a, size_t n);
/* Zeroed allocation; NULL on OOM. */
void *gu_arena_zalloc(struct gu_arena *a, size_t n);
char *gu_arena_strdup(struct gu_arena *a, const char *s);
char *gu_arena_strndup(struct gu_arena *a, const char *s, size_t n);
char *gu_arena_sprintf(struct gu_arena *a, const char *fmt, ...)
    GU_PRINTF(2, 3);
char *gu_arena_vsprintf(struct gu_arena *a, const char *fmt, va_list ap);

/*
 * Call fn(p) when the arena is freed: statements, json_t, file
 * descriptors (wrap in a small function)... Returns GU_ENOMEM on failure,
 * in which case fn(p) has been called immediately.
 */
int gu_arena_defer(struct gu_arena *a, gu_defer_fn fn, void *p);

/* Bytes handed out so far (for metrics and tests). */
size_t gu_arena_used(const struct gu_arena *a);

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

/* A view: not NUL-terminated, does not own its bytes. */
struct gu_str {
    const char *p;
    size_t n;
};

#define GU_STR(lit) ((struct gu_str){(lit), sizeof(lit) - 1})

struct gu_str gu_str_c(const char *s); /* view of a C string (NULL -> empty) */
bool gu_str_eq(struct gu_str a, struct gu_str b);
bool gu_str_eq_c(struct gu_str a, const char *b);
bool gu_str_casecmp_c(struct gu_str a, const char *b); /* ASCII, true=equal */
bool gu_str_starts(struct gu_str a, const char *prefix);
struct gu_str gu_str_trim(struct gu_str a); /* ASCII whitespace */

/* Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? */
bool gu_utf8_valid(const char *p, size_t n);

/*
 * Parse a decimal integer with bounds. The whole string must be a number.
 * Returns GU_EINVAL otherwise. (We never use atoi.)
 */
int gu_parse_long(const char *s, long min, long max, long *out);

/* Growable heap buffer, always NUL-terminated when p != NULL. */
struct gu_buf {
    char *p;
    size_t n;   /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* sticky: an append failed */
};

void gu_buf_init(struct gu_buf *b);
void gu_buf_fini(struct gu_buf *b); /* frees p */
int gu_buf_append(struct gu_buf *b, const void *p, size_t n);
int gu_buf_puts(struct gu_buf *b, const char *s);
int gu_buf_printf(struct gu_buf *b, const char *fmt, ...) GU_PRINTF(2, 3);
/* Append with HTML escaping of & < > " ' */
int gu_buf_html(struct gu_buf *b, const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* Logging (logfmt on stderr)                                          */
/* ------------------------------------------------------------------ */

enum gu_log_level {
    GU_LOG_ERROR = 0,
    GU_LOG_WARN = 1,
    GU_LOG_INFO = 2,
    GU_LOG_DEBUG = 3
};

/* Set once at start (and on reload). */
void gu_log_set_level(enum gu_log_level lvl);
enum gu_log_level gu_log_get_level(void);
/* Parse "error|warn|info|debug"; returns GU_EINVAL otherwise. */
int gu_log_level_parse(const char *s, enum gu_log_level *out);

/* The current thread's request id, added to every line ("" = none). */
void gu_log_set_request_id(const char *id);
const char *gu_log_request_id(void);

/*
 * One logfmt line: `ts=... level=info msg=event reqid=... <kv>` where kv
 * is a printf format producing `key=value` pairs. Values with spaces must
 * be quoted by the caller with gu_logq().
 */
void gu_log(enum gu_log_level lvl, const char *event, const char *kvfmt, ...)
    GU_PRINTF(3, 4);

#define gu_log_error(ev, ...) gu_log(GU_LOG_ERROR, ev, __VA_ARGS__)
#define gu_log_warn(ev, ...) gu_log(GU_LOG_WARN, ev, __VA_ARGS__)
#define gu_log_info(ev, ...) gu_log(GU_LOG_INFO, ev, __VA_ARGS__)
#define gu_log_debug(ev, ...) gu_log(GU_LOG_DEBUG, ev, __VA_ARGS__)

/*
 * Quote a value for logfmt into buf (escapes " \ and control chars,
 * truncates to cap). Returns buf.
 */
const char *gu_logq(char *buf, size_t cap, const char *s);

/* ------------------------------------------------------------------ */
/* Time, random, passwords                                            */
/* ------------------------------------------------------------------ */

int64_t gu_now(void);    /* unix seconds */
int64_t gu_now_ms(void); /* monotonic milliseconds */
/* "2026-11-30T22:11:35Z" into buf (>= 21 bytes). */
void gu_time_iso(int64_t t, char *buf, size_t cap);
/* "30/11/2026 23:11" in Europe/Paris into buf (>= 17 bytes). */
void gu_time_fr(int64_t t, char *buf, size_t cap);

/* Initialise libsodium. Call once at start; GU_EINTERNAL on failure. */
int gu_crypto_init(void);
/* `nbytes` random bytes as URL-safe base64 (no padding) into out. */
int gu_random_token(char *out, size_t cap, size_t nbytes);
/* Whether `t` looks like a token of gu_random_token(): exactly `len`
 * URL-safe base64 characters (43 for 32 bytes). NULL is not one. */
bool gu_token_shape(const char *t, size_t len);
/* SHA-256 hex digest (65 bytes with NUL) of a token, for storage. */
void gu_token_hash(const char *token, char out[65]);
/* Constant-time string equality. */
bool gu_const_eq(const char *a, const char *b);
/* argon2id (libsodium, interactive limits) into out (>= 128 bytes). */
int gu_password_hash(const char *pw, char *out, size_t cap);
/* true when pw matches the stored hash. */
bool gu_password_check(const char *hash, const char *pw);
/* A readable one-time password (e.g. "xkcd-wq7m-93tz-kp4d"), >= 24 bytes. */
int gu_password_generate(char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* JSON helpers                                                        */
/* ------------------------------------------------------------------ */

/*
 * Field readers for request bodies: each checks type and bounds and fills
 * err (field name + French message) on failure. `required` false means a
 * missing or null field leaves *out untouched and returns 0.
 */
int gu_json_str(json_t *obj, const char *key, bool required, size_t maxlen,
                const char **out, struct gu_err *err);
int gu_json_int(json_t *obj, const char *key, bool required, long min, long max,
                long *out, struct gu_err *err);
int gu_json_bool(json_t *obj, const char *key, bool required, bool *out,
                 struct gu_err *err);

/* A unix time as an ISO 8601 JSON string; JSON null when t <= 0. */
json_t *gu_json_time(int64_t t);

/* Defer json_decref(j) to the arena; returns j (NULL passes through). */
json_t *gu_json_arena(struct gu_arena *a, json_t *j);

/* ------------------------------------------------------------------ */
/* Files embedded at build time (tools/embed.c)                        */
/* ------------------------------------------------------------------ */

/* One embedded file. Static, read-only, NUL-terminated after `size`. */
struct gu_asset {
    const char *path;  /* relative to its folder: "css/guichet.css" */
    const char *ctype; /* content type */
    const unsigned char *data;
    size_t size;
    const char *etag; /* quoted strong ETag */
};

/* The demo commune's data (data/demo/: fiches, synonyms...). */
const struct gu_asset *gu_demo_find(const char *path);
const struct gu_asset *gu_demo_all(size_t *count);

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

enum gu_set_type {
    GU_SET_STR,
    GU_SET_INT,
    GU_SET_BOOL,
    GU_SET_ENUM, /* one of `allowed` ("a|b|c") */
    GU_SET_SIZE  /* bytes, accepts 10k, 5M, 1G */
};

/* Where a value came from, shown by `guichet config`. */
enum gu_set_origin {
    GU_ORIGIN_DEFAULT,
    GU_ORIGIN_FILE,
    GU_ORIGIN_ENV,
    GU_ORIGIN_CLI
};

/*
 * One row of the settings table. Static, read-only. The table in
 * core_settings.c is the single source for parsing, validation, --help and
 * `guichet config`. The INI key is "section.name" (file section [section]),
 * the environment variable GUICHET_SECTION_NAME.
 */
struct gu_setting {
    const char *key; /* "server.listen" */
    enum gu_set_type type;
    const char *def;     /* default as text */
    long min, max;       /* INT/SIZE bounds */
    const char *allowed; /* ENUM values "a|b|c"; else NULL */
    const char *doc;     /* French one-line description */
};

/* The settings table and its length. */
const struct gu_setting *gu_settings(size_t *count);

/*
 * Effective configuration: one value per setting, with its origin. Built
 * once by gu_config_load(), then read-only; a reload builds a new one and
 * swaps it. Owned by whoever loaded it; free with gu_config_free().
 */
struct gu_config;

/*
 * Load defaults, then `path` (NULL = DATA_DIR/guichet.conf if present),
 * then GUICHET_* environment variables from `envp` (NULL = environ), then
 * the `overrides` ("key=value", NULL-terminated, may be NULL) given on the
 * command line. Validates everything. On error returns GU_ECONFIG with
 * err->field = the key and err->user = a French message naming the
 * allowed values; *out is NULL.
 */
int gu_config_load(const char *path, char *const *envp,
                   const char *const *overrides, struct gu_config **out,
                   struct gu_err *err);
void gu_config_free(struct gu_config *c);

/* A configuration holding only the defaults (for tests and tools). */
int gu_config_defaults(struct gu_config **out, struct gu_err *err);
/*
 * Apply INI text on top of `c` (origin "fichier"), validating each value.
 * Used by the config fuzz target and tests. GU_ECONFIG on bad input; `c`
 * may then hold the values applied before the error.
 */
int gu_config_parse_string(struct gu_config *c, const char *text,
                           struct gu_err *err);
/* Typed getters. The key must exist in the table (asserted). */
const char *gu_config_str(const struct gu_config *c, const char *key);
/*
 * server.public_url without its trailing slashes, copied into `a`: the
 * base of the links sent to residents ("" when unset or cfg is NULL:
 * relative links). NULL only when the copy fails.
 */
const char *gu_public_base(struct gu_arena *a, const struct gu_config *cfg);
long gu_config_int(const struct gu_config *c, const char *key);
bool gu_config_bool(const struct gu_config *c, const char *key);
enum gu_set_origin gu_config_origin(const struct gu_config *c, const char *key);
/* The config file actually read, or NULL. */
const char *gu_config_file(const struct gu_config *c);
const char *gu_origin_name(enum gu_set_origin o); /* "défaut", "fichier"... */

/* ------------------------------------------------------------------ */
/* French calendar                                                     */
/* ------------------------------------------------------------------ */

/*
 * Dates are day numbers: days since 1970-01-01 (negative before). They
 * carry no time zone: a day is a civil day in the commune.
 */
int64_t gu_day_from_ymd(int y, int m, int d);
void gu_day_to_ymd(int64_t day, int *y, int *m, int *d);
/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int gu_day_weekday(int64_t day);
/* True when y-m-d is a real date (1 <= m <= 12, day in month). */
bool gu_date_valid(int y, int m, int d);
/*
 * Parse "2026-11-30" or "30/11/2026" (also "30-11-2026", "30.11.2026").
 * GU_EINVAL on anything else or an impossible date.
 */
int gu_date_parse(const char *s, int64_t *day);
/* "2026-11-30" into buf (>= 11 bytes). */
void gu_day_iso(int64_t day, char *buf, size_t cap);
/* Day number of Easter Sunday (Gregorian, anonymous algorithm). */
int64_t gu_easter(int year);

/* Which public-holiday rules apply (set per commune from its zone). */
enum gu_holiday_rules {
    GU_HOL_METROPOLE = 0,
    GU_HOL_ALSACE_MOSELLE, /* + Vendredi saint, Saint-Étienne */
    GU_HOL_GUADELOUPE,     /* + abolition de l'esclavage, 27 mai */
    GU_HOL_MARTINIQUE,     /* 22 mai */
    GU_HOL_GUYANE,         /* 10 juin */
    GU_HOL_REUNION,        /* 20 décembre */
    GU_HOL_MAYOTTE         /* 27 avril */
};

/* French name of the public holiday on `day`, or NULL if none. */
const char *gu_holiday(int64_t day, enum gu_holiday_rules rules);

/* French names: weekday 1 (lundi) .. 7, month 1 (janvier) .. 12; "" out of range. */
const char *gu_weekday_fr(int weekday);
const char *gu_month_fr(int month);
/* « jeudi 3 décembre 2026 », « mardi 1er décembre 2026 » (>= 40 bytes). */
void gu_day_fr(int64_t day, char *buf, size_t cap);
/* « 9 h 30 », « 10 h » from minutes since midnight (>= 12 bytes). */
void gu_hm_fr(int minute, char *buf, size_t cap);
/* « jeudi 3 décembre 2026 à 9 h 30 » (>= 56 bytes); minute may exceed a
   day (1440 = midnight of the next day). */
void gu_when_fr(int64_t day, int minute, char *buf, size_t cap);
/* « 20 minutes », « 1 minute », « 1 h », « 1 h 15 » (>= 16 bytes). */
void gu_duration_fr(int minutes, char *buf, size_t cap);
/*
 * A number the French way into buf (>= 64 bytes for any double): decimal
 * comma, `decimals` decimals (0..9); GU_NUM_TRIM drops trailing zeros (and
 * the comma), GU_NUM_GROUP puts narrow no-break spaces (U+202F) between
 * thousands (« 1 234,5 »; never for files meant to be read back). A value
 * that rounds to zero is « 0 », never « -0 ». `nan` is written when v is
 * not finite. Returns buf.
 */
enum { GU_NUM_TRIM = 1u << 0, GU_NUM_GROUP = 1u << 1 };
const char *gu_num_fr(double v, int decimals, unsigned flags, const char *nan,
                      char *buf, size_t cap);

/*
 * The holiday rules of a commune: Alsace-Moselle for the départements 57,
 * 67 and 68 (from the INSEE code), the overseas rules from the zone
 * (STORE_ZONES values), metropolitan rules otherwise.
 */
enum gu_holiday_rules gu_holiday_rules_for(const char *insee,
                                           const char *zone);

/*
 * Civil time of a commune. Metropolitan France and Corsica follow the EU
 * summer-time rule (CET/CEST, switching at 01:00 UTC on the last Sunday
 * of March and of October); the overseas zones have fixed offsets. No TZ
 * variable or tzdata is involved, so results never depend on the server.
 */
enum gu_tz {
    GU_TZ_PARIS = 0, /* +01:00 / +02:00 */
    GU_TZ_ANTILLES,  /* Guadeloupe, Martinique: -04:00 */
    GU_TZ_GUYANE,    /* -03:00 */
    GU_TZ_REUNION,   /* +04:00 */
    GU_TZ_MAYOTTE    /* +03:00 */
};
/* The time zone of a commune's zone ("B", "reunion"...); Paris if unknown. */
enum gu_tz gu_tz_of_zone(const char *zone);
/* IANA name ("Europe/Paris", "America/Guadeloupe"...) for iCalendar. */
const char *gu_tz_name(enum gu_tz tz);
/* Offset from UTC in minutes (east positive) at the instant `utc`. */
int gu_tz_offset_min(enum gu_tz tz, int64_t utc);
/*
 * Local civil time (day number, minutes since local midnight, 0..1439) to
 * unix seconds. A time in the spring-forward gap is taken with the winter
 * offset (so it lands one hour later); in the autumn overlap, the first
 * (summer) occurrence.
 */
int64_t gu_tz_to_utc(enum gu_tz tz, int64_t day, int minute);
/* Unix seconds to local civil time. */
void gu_tz_from_utc(enum gu_tz tz, int64_t utc, int64_t *day, int *minute);
/* "2026-12-03T09:30:00+01:00" (RFC 3339 with the local offset), >= 26 bytes. */
void gu_tz_iso(enum gu_tz tz, int64_t day, int minute, char *buf, size_t cap);
/*
 * Parse "2026-12-03T09:30", "2026-12-03T09:30:00", with an optional
 * offset ("+01:00", "Z": then converted to the zone's civil time) or a
 * space instead of "T". GU_EINVAL on anything else, an impossible date or
 * a time out of range.
 */
int gu_tz_parse(enum gu_tz tz, const char *s, int64_t *day, int *minute);

#endif
