/*
 * tri_intake.c - every channel's way into the inbox (see tri.h, steps
 * 1-6): validation, redaction, classification, urgency, duplicates,
 * number, status token, SLA, decisions, audit and the acknowledgement
 * e-mail; and the attachments of requests and messages.
 *
 * The slow parts that do not need the write lock (redaction key, the
 * model - trained at the commune's first request -, classification)
 * run before the transaction; everything that writes runs in one.
 */
#include "triage/tri_engine.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_MAX 300
#define MSGID_MAX 998
#define FILENAME_MAX_BYTES 120
#define ATTACH_OTHER_MAX 20   /* e-mails may carry more than the web form */
#define DUP_CANDIDATES 400    /* open requests compared, newest first */
#define DUP_COS_PLACE 0.18    /* text closeness when the place matches */
#define DUP_COS_TEXT 0.55     /* text closeness alone (no place to compare) */
#define DUP_CONCEPT_BONUS 0.4 /* same place, same object named */
#define CASE_REPEATED 3       /* reports of one case that raise urgency */
#define A_TRIER_SLA_H 48      /* time to sort a request nobody routed */
#define URGENCY_MODEL_P 0.6   /* the urgency model raises only when sure */
#define URGENCY_MODEL_P2 0.8  /* ...and to « urgente » when very sure */

/* ------------------------------------------------------------------ */
/* Urgency rules                                                       */
/* ------------------------------------------------------------------ */

/* Folded forms (text_fold: lower case, no accents, ' apostrophes). */
struct lex {
    const char *w;
    const char *kind; /* reason prefix */
    int level;        /* urgency it brings */
};

static const struct lex lexicon[] = {
    /* danger to people: immediate action */
    {"fuite de gaz", "danger", 2},
    {"odeur de gaz", "danger", 2},
    {"sent le gaz", "danger", 2},
    {"cable electrique", "danger", 2},
    {"cables electriques", "danger", 2},
    {"fil electrique", "danger", 2},
    {"fils electriques", "danger", 2},
    {"fils denudes", "danger", 2},
    {"cable arrache", "danger", 2},
    {"electrocut", "danger", 2},
    {"arbre tombe", "danger", 2},
    {"arbre est tombe", "danger", 2},
    {"arbre couche", "danger", 2},
    {"arbre arrache", "danger", 2},
    {"arbre deracine", "danger", 2},
    {"branche tombee", "danger", 2},
    {"branches tombees", "danger", 2},
    {"bloque la route", "danger", 2},
    {"bloque la chaussee", "danger", 2},
    {"route est bloquee", "danger", 2},
    {"menace de tomber", "danger", 2},
    {"risque de tomber", "danger", 2},
    {"pourrait tomber", "danger", 2},
    {"risque de s'effondrer", "danger", 2},
    {"commence a s'effondrer", "danger", 2},
    {"trou profond", "danger", 2},
    {"trou beant", "danger", 2},
    {"plaque d'egout", "danger", 2},
    {"bouche d'egout ouverte", "danger", 2},
    {"regard ouvert", "danger", 2},
    {"effondre", "danger", 2},
    {"eboulement", "danger", 2},
    {"affaissement", "danger", 1},
    {"un incendie", "danger", 2},
    {"debut d'incendie", "danger", 2},
    {"prend feu", "danger", 2},
    {"pris feu", "danger", 2},
    {"en feu", "danger", 2},
    {"au feu", "danger", 2},
    {"flammes", "danger", 2},
    {"fumee", "danger", 1},
    {"risque d'incendie", "danger", 1},
    {"explosion", "danger", 2},
    {"est entree dans", "danger", 2},
    {"inondation en cours", "danger", 2},
    {"inonde", "danger", 1},
    {"inondee", "danger", 1},
    {"jaillit", "danger", 2},
    {"geyser", "danger", 2},
    {"feu tricolore en panne", "danger", 2},
    {"feux tricolores en panne", "danger", 2},
    {"feux en panne", "danger", 2},
    {"feu en panne", "danger", 2},
    {"bloque au rouge", "danger", 2},
    {"contresens", "danger", 2},
    {"verglas", "danger", 2},
    {"verglace", "danger", 2},
    {"verglacee", "danger", 2},
    {"chien dangereux", "danger", 2},
    {"chien agressif", "danger", 2},
    {"morsure", "danger", 2},
    {"mordu", "danger", 2},
    {"divaguent", "danger", 2},
    {"echappes", "danger", 1},
    {"carabine", "danger", 2},
    {"fusil", "danger", 2},
    {"tire sur", "danger", 2},
    {"saigne", "danger", 2},
    {"tige metallique", "danger", 2},
    {"rambarde descellee", "danger", 2},
    {"barriere de securite", "danger", 2},
    {"plus de protection", "danger", 2},
    {"mur qui penche", "danger", 2},
    {"penche dangereusement", "danger", 2},
    {"pas monte dans le car", "danger", 2},
    {"enfant a disparu", "danger", 2},
    {"a disparu", "danger", 1},
    {"s'est perdu", "danger", 2},
    {"se perd", "danger", 2},
    {"ne repond pas", "danger", 1},
    {"dangereux", "danger", 1},
    {"dangereuse", "danger", 1},
    {"danger", "danger", 1},
    {"blesse", "danger", 1},
    {"accident", "danger", 1},
    {"chute", "danger", 1},
    {"trebuche", "danger", 1},
    {"glissant", "danger", 1},
    {"non cloture", "danger", 1},
    {"pas cloture", "danger", 1},
    {"poteau", "danger", 1},
    {"frelons", "danger", 1},
    /* people in distress */
    {"expulsion", "detresse", 2},
    {"expulse", "detresse", 2},
    {"expulsee", "detresse", 2},
    {"a la rue", "detresse", 2},
    {"sans abri", "detresse", 2},
    {"sans-abri", "detresse", 2},
    {"dorment dans leur voiture", "detresse", 2},
    {"dort dans sa voiture", "detresse", 2},
    {"dors dans ma voiture", "detresse", 2},
    {"violences", "detresse", 2},
    {"me frappe", "detresse", 2},
    {"suicide", "detresse", 2},
    {"plus rien a manger", "detresse", 2},
    {"sans chauffage", "detresse", 1},
    {"plus de chauffage", "detresse", 1},
    {"plus d'electricite", "detresse", 1},
    {"menace de couper", "detresse", 1},
    {"precarite", "detresse", 1},
    {"plus d'argent", "detresse", 1},
    /* health and hygiene */
    {"rat", "hygiene", 1},
    {"souris", "hygiene", 1},
    {"cafards", "hygiene", 1},
    {"blattes", "hygiene", 1},
    {"punaises de lit", "hygiene", 1},
    {"asticots", "hygiene", 1},
    {"moustiques", "hygiene", 1},
    {"seringue", "hygiene", 1},
    {"egout qui deborde", "hygiene", 1},
    {"egouts qui debordent", "hygiene", 1},
    {"egout deborde", "hygiene", 1},
    {"odeur d'egout", "hygiene", 1},
    {"refoulement", "hygiene", 1},
    {"refoule", "hygiene", 1},
    {"refoulent", "hygiene", 1},
    {"eaux usees", "hygiene", 1},
    {"nauseabond", "hygiene", 1},
    {"odeur insupportable", "hygiene", 1},
    {"odeur epouvantable", "hygiene", 1},
    {"puanteur", "hygiene", 1},
    {"ca pue", "hygiene", 1},
    {"cadavre", "hygiene", 1},
    {"animal mort", "hygiene", 1},
    {"chat mort", "hygiene", 1},
    {"chien mort", "hygiene", 1},
    {"dechets medicaux", "hygiene", 1},
    {"excrements", "hygiene", 1},
    {"insalubre", "hygiene", 1},
    {"moisissure", "hygiene", 1},
    {"croupissante", "hygiene", 1},
    {"toxique", "hygiene", 1},
    {"eau marron", "hygiene", 1},
    {"eau trouble", "hygiene", 1},
    {"eau non potable", "hygiene", 1},
    {"gout de terre", "hygiene", 1},
    {"plus d'eau au robinet", "hygiene", 1},
    {"plus d eau", "hygiene", 1},
    {"coupure d'eau", "hygiene", 1},
    {"intoxication", "hygiene", 2},
    {"viande crue", "hygiene", 1},
    /* people's safety */
    {"cambriolage", "securite", 1},
    {"rode", "securite", 1},
    {"fracturees", "securite", 1},
    {"trafic de drogue", "securite", 1},
    {"se battent", "securite", 1},
    {"bagarre", "securite", 1},
    {"s'est fait frapper", "securite", 1},
    {"rodeos", "securite", 1},
    /* legal time limits */
    {"decede", "delai", 1},
    {"decedee", "delai", 1},
    {"obseques", "delai", 1},
    /* who is exposed: raises a danger or hygiene reason by one */
    {"enfant", "vulnerable", 0},
    {"bebe", "vulnerable", 0},
    {"ecole", "vulnerable", 0},
    {"eleves", "vulnerable", 0},
    {"creche", "vulnerable", 0},
    {"personne agee", "vulnerable", 0},
    {"handicap", "vulnerable", 0},
    {"fauteuil roulant", "vulnerable", 0},
    {"enceinte", "vulnerable", 0},
    {"dialyse", "vulnerable", 0},
    /* the resident's own word: prioritaire, never urgente alone */
    {"urgent", "mention", 1},
    {"urgente", "mention", 1},
    {"urgence", "mention", 1},
    {"au plus vite", "mention", 1},
    {"des que possible", "mention", 1},
    {"au plus tot", "mention", 1},
    {"venez vite", "mention", 1},
};

/*
 * Words that make a date a deadline when they come just before it: a
 * limit (« avant », « d'ici », « pour »...) within a few words, or an
 * event the date is for (« mon vol », « le mariage »...) in the sentence.
 */
static const char *const limit_cues[] = {
    "avant", "d'ici", "pour", "au plus tard", "jusqu", "limite", "delai",
    "expire", "echeance", "urgent",
};
static const char *const event_cues[] = {
    "rendez-vous", "depart", "pars",    "part",     "vol",    "voyage",
    "mariage",     "obseques", "enterrement", "examen", "rentree",
    "demenage",    "avion",   "besoin", "faut",     "doit",   "dois",
    "termine",     "dernier", "election", "vote",   "scrutin",
};

static const char *const weekdays[] = {"lundi", "mardi",    "mercredi",
                                       "jeudi", "vendredi", "samedi",
                                       "dimanche"};
static const char *const months[] = {
    "janvier", "fevrier", "mars",      "avril",   "mai",      "juin",
    "juillet", "aout",    "septembre", "octobre", "novembre", "decembre"};

static bool
word_char(unsigned char ch)
{
    return isalnum(ch) || ch >= 0x80;
}

/* Does folded `t` contain `w` at `i`, starting a word and ending one
   (unless `w` is a prefix form such as "electrocut")? */
static bool
match_at(const char *t, size_t n, size_t i, const char *w, bool prefix)
{
    size_t k = strlen(w);

    if (i + k > n || memcmp(t + i, w, k) != 0)
        return false;
    if (i > 0 && word_char((unsigned char)t[i - 1]))
        return false;
    if (!prefix && i + k < n && word_char((unsigned char)t[i + k]) &&
        w[k - 1] != ' ') {
        /* a plural: « seringue » matches « seringues », « canal » not
           « canaux » (list both when it matters) */
        bool plural = (t[i + k] == 's' || t[i + k] == 'x') &&
                      (i + k + 1 >= n ||
                       !word_char((unsigned char)t[i + k + 1]));

        if (!plural)
            return false;
    }
    return true;
}

static bool
find_word(const char *t, size_t n, const char *w, bool prefix, size_t *at)
{
    size_t k = strlen(w);

    for (size_t i = 0; i + k <= n; i++) {
        if (t[i] == w[0] && match_at(t, n, i, w, prefix)) {
            if (at)
                *at = i;
            return true;
        }
    }
    return false;
}

static bool
cue_in(const char *t, size_t from, size_t pos, const char *const *cues,
       size_t ncues)
{
    for (size_t i = 0; i < ncues; i++) {
        const char *w = cues[i];
        size_t k = strlen(w);

        for (size_t j = from; j + k <= pos; j++) {
            if (memcmp(t + j, w, k) == 0 &&
                (j == 0 || !word_char((unsigned char)t[j - 1])) &&
                (j + k >= pos || !word_char((unsigned char)t[j + k]) ||
                 t[j + k] == 's'))
                return true;
        }
    }
    return false;
}

/* A limit word in the 24 bytes before `pos`, or an event word in the 60
   bytes before it within the same sentence. */
static bool
cue_before(const char *t, size_t pos)
{
    size_t near = pos > 24 ? pos - 24 : 0, far = pos > 60 ? pos - 60 : 0;

    for (size_t j = pos; j > far; j--) {
        if (t[j - 1] == '.' || t[j - 1] == '?' || t[j - 1] == '!') {
            far = j;
            break;
        }
    }
    if (near < far)
        near = far;
    return cue_in(t, near, pos, limit_cues, GU_ARRAY_LEN(limit_cues)) ||
           cue_in(t, far, pos, event_cues, GU_ARRAY_LEN(event_cues));
}

/* « le jeudi », « les samedis », « tous les dimanches »: a habit, not a
   date. */
static bool
habitual_before(const char *t, size_t pos)
{
    static const char *const h[] = {"le ", "les ", "chaque ", "tous les ",
                                    "du "};

    for (size_t i = 0; i < GU_ARRAY_LEN(h); i++) {
        size_t k = strlen(h[i]);

        if (pos >= k && memcmp(t + pos - k, h[i], k) == 0)
            return true;
    }
    return false;
}

static int
weekday_of(int64_t day)
{
    return gu_day_weekday(day);
}

static int64_t
days_from_num(const char *t, size_t n, size_t i, int64_t today, size_t *len)
{
    long d = 0, m = 0, y = 0;
    size_t j = i, k;
    int64_t when;
    int yy, mm, dd;

    gu_day_to_ymd(today, &yy, &mm, &dd);
    for (k = 0; j < n && isdigit((unsigned char)t[j]) && k < 2; j++, k++)
        d = d * 10 + (t[j] - '0');
    if (k == 0 || d < 1 || d > 31)
        return -1;
    if (j < n && (t[j] == '/' || t[j] == '.')) {
        j++;
        for (k = 0; j < n && isdigit((unsigned char)t[j]) && k < 2; j++, k++)
            m = m * 10 + (t[j] - '0');
        if (k == 0 || m < 1 || m > 12)
            return -1;
        if (j + 1 < n && (t[j] == '/' || t[j] == '.') &&
            isdigit((unsigned char)t[j + 1])) {
            j++;
            for (k = 0; j < n && isdigit((unsigned char)t[j]) && k < 4;
                 j++, k++)
                y = y * 10 + (t[j] - '0');
            if (k == 2)
                y += 2000;
            else if (k != 4)
                return -1;
        }
    } else {
        /* « 12 décembre », « 1er décembre » */
        if (j + 1 < n && t[j] == 'e' && t[j + 1] == 'r')
            j += 2;
        if (j >= n || t[j] != ' ')
            return -1;
        j++;
        for (size_t q = 0; q < GU_ARRAY_LEN(months); q++) {
            if (match_at(t, n, j, months[q], false)) {
                m = (long)q + 1;
                j += strlen(months[q]);
                break;
            }
        }
        if (m == 0)
            return -1;
    }
    if (j < n && isdigit((unsigned char)t[j]))
        return -1;
    *len = j - i;
    if (y == 0) {
        y = yy;
        if (!gu_date_valid((int)y, (int)m, (int)d))
            return -1;
        when = gu_day_from_ymd((int)y, (int)m, (int)d);
        if (when < today)
            when = gu_date_valid((int)y + 1, (int)m, (int)d)
                       ? gu_day_from_ymd((int)y + 1, (int)m, (int)d)
                       : -1;
    } else {
        if (!gu_date_valid((int)y, (int)m, (int)d))
            return -1;
        when = gu_day_from_ymd((int)y, (int)m, (int)d);
    }
    if (when < today)
        return -1;
    return when - today;
}

static int
add_reason(json_t *reasons, const char *kind, const char *detail)
{
    char buf[160];
    size_t n = json_array_size(reasons);

    snprintf(buf, sizeof(buf), "%s:%s", kind, detail);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_string_value(json_array_get(reasons, i)), buf) == 0)
            return 0;
    }
    if (n >= 12)
        return 0;
    return json_array_append_new(reasons, json_string(buf)) < 0 ? GU_ENOMEM
                                                                 : 0;
}

/*
 * Deadlines: a relative day (« demain », « vendredi ») or a date
 * (« 12/12 », « 3 décembre ») with a cue just before it (« avant »,
 * « pour », « d'ici »...). Returns the nearest deadline in days, or -1.
 */
static int64_t
nearest_deadline(const char *t, size_t n, int64_t today, char *what,
                 size_t cap)
{
    static const struct {
        const char *w;
        int days;
    } rel[] = {{"aujourd'hui", 0}, {"ce soir", 0},
               {"cet apres-midi", 0}, {"apres-demain", 2}, {"apres demain", 2},
               {"demain", 1},       {"cette semaine", -1}, {"ce week-end", -2},
               {"semaine prochaine", 7}};
    int64_t best = -1;

    for (size_t i = 0; i < n; i++) {
        int64_t days = -1;
        size_t len = 0;
        const char *w = NULL;

        if (i > 0 && word_char((unsigned char)t[i - 1]))
            continue;
        if (isdigit((unsigned char)t[i])) {
            days = days_from_num(t, n, i, today, &len);
            w = "date";
        } else {
            for (size_t k = 0; k < GU_ARRAY_LEN(rel) && days < 0; k++) {
                if (match_at(t, n, i, rel[k].w, false)) {
                    /* « demain » inside « après-demain » was taken first */
                    int wd = weekday_of(today);

                    days = rel[k].days >= 0 ? rel[k].days
                           : rel[k].days == -1 ? 7 - wd
                                               : (wd <= 6 ? 6 - wd : 0);
                    w = rel[k].w;
                    len = strlen(w);
                }
            }
            for (size_t k = 0; k < GU_ARRAY_LEN(weekdays) && days < 0; k++) {
                if (match_at(t, n, i, weekdays[k], false) &&
                    !habitual_before(t, i)) {
                    int d = (int)k + 1 - weekday_of(today);

                    days = d <= 0 ? d + 7 : d;
                    w = weekdays[k];
                    len = strlen(w);
                }
            }
        }
        if (days < 0)
            continue;
        if (cue_before(t, i) && (best < 0 || days < best)) {
            best = days;
            snprintf(what, cap, "%.*s", (int)(len < 40 ? len : 40), t + i);
            (void)w;
        }
        i += len ? len - 1 : 0;
    }
    return best;
}

int
tri_urgency_rules_at(const char *text, size_t n, int64_t today,
                     json_t *reasons)
{
    struct gu_arena *a = gu_arena_new(n * 2 + 256);
    char *t, what[64];
    size_t tn = 0;
    int level = 0, hazard = 0;
    bool vulnerable = false;
    int64_t dl;

    if (!a)
        return 0;
    t = text_fold(a, text, n < TRI_BODY_MAX ? n : TRI_BODY_MAX, &tn);
    if (!t) {
        gu_arena_free(a);
        return 0;
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(lexicon); i++) {
        const struct lex *x = &lexicon[i];
        bool prefix = strcmp(x->w, "electrocut") == 0 ||
                      strcmp(x->w, "nauseabond") == 0;

        if (!find_word(t, tn, x->w, prefix, NULL))
            continue;
        add_reason(reasons, x->kind, x->w);
        if (strcmp(x->kind, "vulnerable") == 0) {
            vulnerable = true;
            continue;
        }
        if (strcmp(x->kind, "danger") == 0 && x->level > hazard)
            hazard = x->level;
        if (x->level > level)
            level = x->level;
    }
    if (vulnerable && hazard > 0 && level < TRI_URGENCY_MAX)
        level++;
    dl = nearest_deadline(t, tn, today, what, sizeof(what));
    if (dl >= 0 && dl <= 7) {
        char buf[96];

        snprintf(buf, sizeof(buf), "%s (%lld j)", what, (long long)dl);
        add_reason(reasons, "echeance", buf);
        if (dl <= 2)
            level = TRI_URGENCY_MAX;
        else if (level < 1)
            level = 1;
    }
    gu_arena_free(a);
    return level;
}

int
tri_urgency_combine(int rules, int model, double p)
{
    /* The model raises what the rules found when it is fairly sure; to
       « urgente » (someone sent at once) only when it is very sure. */
    if (model > rules && p >= URGENCY_MODEL_P) {
        if (model >= TRI_URGENCY_MAX && p < URGENCY_MODEL_P2)
            model = 1;
        if (model > rules)
            return model;
    }
    return rules;
}

int
tri_urgency_rules(const char *text, size_t n, json_t *reasons)
{
    int64_t day;
    int minute;

    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &minute);
    return tri_urgency_rules_at(text, n, day, reasons);
}

/* ------------------------------------------------------------------ */
/* Attachments                                                         */
/* ------------------------------------------------------------------ */

enum ftype { F_NONE, F_IMAGE, F_PDF, F_WAV };

static enum ftype
sniff(const unsigned char *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return F_IMAGE;
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return F_IMAGE;
    if (n >= 8 && memcmp(d, "%PDF-", 5) == 0)
        return F_PDF;
    if (n >= 44 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0)
        return F_WAV;
    return F_NONE;
}

/* The last path component, without control characters, quotes or
   separators, at most FILENAME_MAX_BYTES, with the right extension. */
static const char *
clean_filename(struct gu_arena *a, const char *name, size_t idx,
               const char *ext)
{
    const char *base = name ? name : "";
    char buf[FILENAME_MAX_BYTES + 16];
    size_t o = 0, dot = 0;

    for (const char *p = base; *p; p++) {
        if (*p == '/' || *p == '\\')
            base = p + 1;
    }
    if (!gu_utf8_valid(base, strlen(base)))
        base = "";
    for (const char *p = base; *p && o < FILENAME_MAX_BYTES; p++) {
        unsigned char ch = (unsigned char)*p;

        if (ch < 0x20 || ch == 0x7F || strchr("\"<>:|?*;", ch))
            ch = '_';
        /* do not cut a UTF-8 sequence at the bound */
        if (ch >= 0x80 && (ch & 0xC0) == 0xC0 && o + 4 > FILENAME_MAX_BYTES)
            break;
        buf[o++] = (char)ch;
        if (ch == '.')
            dot = o;
    }
    while (o > 0 && (buf[0] == '.' || buf[0] == ' ')) {
        memmove(buf, buf + 1, --o);
        dot = dot ? dot - 1 : 0;
    }
    buf[o] = '\0';
    if (o == 0)
        return gu_arena_sprintf(a, "piece-%zu.%s", idx + 1, ext);
    if (dot && strcasecmp(buf + dot, ext) == 0)
        return gu_arena_strdup(a, buf);
    if (strcmp(ext, "jpg") == 0 && dot && strcasecmp(buf + dot, "jpeg") == 0)
        return gu_arena_strdup(a, buf);
    return gu_arena_sprintf(a, "%s.%s", buf, ext);
}

int
tri_attach_store(struct store_conn *c, struct gu_arena *a, const char *insee,
                 int64_t request_id, int64_t message_id,
                 const struct tri_attach_in *att, size_t n, struct gu_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const void *data = att[i].data;
        size_t size = att[i].size;
        const char *ctype = NULL, *ext, *fname;
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[65];
        enum ftype ft;
        int rc;

        if (!data || size == 0)
            return gu_err_set(err, GU_EINVAL, "pieces",
                              "Une pièce jointe est vide.", "empty attachment");
        if (size > TRI_ATTACH_BYTES)
            return gu_err_set(err, GU_ETOOBIG, "pieces",
                              "Une pièce jointe dépasse 8 Mo.",
                              "attachment too big (%zu)", size);
        ft = sniff(data, size);
        switch (ft) {
        case F_IMAGE:
            if (att[i].cleaned)
                ctype = ((const unsigned char *)data)[0] == 0xFF
                            ? "image/jpeg"
                            : "image/png";
            else if ((rc = tri_image_clean(a, att[i].data, att[i].size,
                                           &data, &size, &ctype, err)) < 0)
                return rc;
            ext = strcmp(ctype, "image/png") == 0 ? "png" : "jpg";
            break;
        case F_PDF:
            ctype = "application/pdf";
            ext = "pdf";
            break;
        case F_WAV:
            ctype = "audio/wav";
            ext = "wav";
            break;
        default:
            return gu_err_set(err, GU_EINVAL, "pieces",
                              "Type de fichier non accepté : joignez des "
                              "photos (JPEG ou PNG), des documents PDF ou des "
                              "messages vocaux (WAV).",
                              "attachment type refused");
        }
        fname = clean_filename(a, att[i].filename, i, ext);
        if (!fname)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        crypto_hash_sha256(h, data, size);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        struct store_val v[8] = {STORE_T(insee),     STORE_I(request_id),
                                 STORE_I(message_id), STORE_T(fname),
                                 STORE_T(ctype),     STORE_I((int64_t)size),
                                 STORE_T(hex),       STORE_B(data, size)};
        struct store_val w[1] = {STORE_I(gu_now())};
        struct store_val all[9];

        memcpy(all, v, sizeof(v));
        all[8] = w[0];
        rc = store_exec(c,
                        "INSERT INTO tri_attachments (insee, request_id, "
                        "message_id, filename, ctype, size, sha256, data, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        all, 9, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* A French phone number as its 10 national digits, or "+" and 8..15
   digits for another country. NULL when it is not a phone number. */
static const char *
norm_phone(struct gu_arena *a, const char *s)
{
    char d[24];
    size_t n = 0;
    bool plus = false;

    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n >= sizeof(d) - 1)
                return NULL;
            d[n++] = *p;
        } else if (*p == '+' && n == 0 && !plus) {
            plus = true;
        } else if (*p == '(' || *p == ')') {
            /* « +33 (0)6 12... » */
        } else if (!strchr(" .-/", *p)) {
            return NULL;
        }
    }
    d[n] = '\0';
    if (plus && n >= 11 && memcmp(d, "33", 2) == 0) {
        const char *rest = d + 2;

        if (*rest == '0')
            rest++;
        if (strlen(rest) == 9)
            return gu_arena_sprintf(a, "0%s", rest);
        return NULL;
    }
    if (!plus && n == 13 && memcmp(d, "0033", 4) == 0)
        return gu_arena_sprintf(a, "0%s", d + 4);
    if (!plus && n == 10 && d[0] == '0' && d[1] != '0')
        return gu_arena_strdup(a, d);
    if (plus && n >= 8 && n <= 15)
        return gu_arena_sprintf(a, "+%s", d);
    return NULL;
}

static char *
lower_dup(struct gu_arena *a, const char *s)
{
    struct gu_str t = gu_str_trim(gu_str_c(s));
    char *o = gu_arena_strndup(a, t.p, t.n);

    for (char *p = o; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return o;
}

struct checked {
    const char *subject, *body, *address, *name, *email, *phone, *origin,
        *msgid, *hint;
    int64_t hint_id;
};

static int
check_request(struct store_conn *c, struct gu_arena *a,
              const struct tri_intake_req *r, struct checked *k,
              struct gu_err *err)
{
    size_t amax;
    int rc;

    memset(k, 0, sizeof(*k));
    if ((rc = tri_check_insee(r->insee, err)) < 0)
        return rc;
    if ((unsigned)r->channel > TRI_API)
        return gu_err_set(err, GU_EINVAL, "canal", "Canal inconnu.",
                          "bad channel");
    if ((rc = tri_check_text(r->subject, "objet", "L'objet", false,
                             TRI_SUBJECT_MAX, false, err)) < 0 ||
        (rc = tri_check_text(r->body, "texte", "Le texte de la demande", true,
                             TRI_BODY_MAX, true, err)) < 0 ||
        (rc = tri_check_text(r->address, "adresse", "L'adresse", false,
                             TRI_ADDRESS_MAX, false, err)) < 0 ||
        (rc = tri_check_text(r->contact_name, "nom", "Le nom", false,
                             TRI_NAME_MAX, false, err)) < 0 ||
        (rc = tri_check_text(r->origin, "origine", "L'origine", false,
                             ORIGIN_MAX, false, err)) < 0 ||
        (rc = tri_check_text(r->mail_message_id, "message_id",
                             "L'identifiant du courriel", false, MSGID_MAX,
                             false, err)) < 0 ||
        (rc = tri_check_text(r->actor, "acteur", "L'auteur", false,
                             TRI_NAME_MAX, false, err)) < 0)
        return rc;
    if (!isfinite(r->lat) || !isfinite(r->lon) || r->lat < -90 ||
        r->lat > 90 || r->lon < -180 || r->lon > 180)
        return gu_err_set(err, GU_EINVAL, "lat",
                          "Position invalide : la latitude doit être entre "
                          "-90 et 90, la longitude entre -180 et 180.",
                          "bad position");
    if ((r->lat == 0) != (r->lon == 0))
        return gu_err_set(err, GU_EINVAL, r->lat == 0 ? "lat" : "lon",
                          "Position incomplète : donnez la latitude et la "
                          "longitude.",
                          "half a position");
    k->subject = gu_str_trim(gu_str_c(r->subject)).n
                     ? gu_arena_strdup(a, r->subject)
                     : "";
    k->body = r->body;
    k->address = r->address ? r->address : "";
    k->name = r->contact_name ? r->contact_name : "";
    k->origin = r->origin ? r->origin : "";
    k->msgid = r->mail_message_id ? r->mail_message_id : "";
    k->email = "";
    if (r->contact_email && gu_str_trim(gu_str_c(r->contact_email)).n) {
        k->email = lower_dup(a, r->contact_email);
        if (!k->email)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        if ((rc = tri_check_email(k->email, "courriel", err)) < 0)
            return rc;
    }
    k->phone = "";
    if (r->contact_phone && gu_str_trim(gu_str_c(r->contact_phone)).n) {
        if (strlen(r->contact_phone) > 40 ||
            !(k->phone = norm_phone(a, r->contact_phone)))
            return gu_err_set(err, GU_EINVAL, "telephone",
                              "Numéro de téléphone invalide (exemple : "
                              "06 12 34 56 78).",
                              "bad phone");
    }
    if (r->nattach > 0 && !r->attach)
        return gu_err_set(err, GU_EINVAL, "pieces", "Pièces jointes absentes.",
                          "nattach without attach");
    amax = r->channel == TRI_WEB ? TRI_ATTACH_MAX : ATTACH_OTHER_MAX;
    if (r->nattach > amax) {
        char msg[96];

        snprintf(msg, sizeof(msg), "Trop de pièces jointes (%zu au plus).",
                 amax);
        return gu_err_set(err, GU_ETOOBIG, "pieces", msg,
                          "too many attachments %zu", r->nattach);
    }
    for (size_t i = 0; i < r->nattach; i++) {
        if (r->attach[i].size > TRI_ATTACH_BYTES)
            return gu_err_set(err, GU_ETOOBIG, "pieces",
                              "Une pièce jointe dépasse 8 Mo.",
                              "attachment too big");
        if (!r->attach[i].data || r->attach[i].size == 0)
            return gu_err_set(err, GU_EINVAL, "pieces",
                              "Une pièce jointe est vide.", "empty attachment");
        if (sniff(r->attach[i].data, r->attach[i].size) == F_NONE)
            return gu_err_set(err, GU_EINVAL, "pieces",
                              "Type de fichier non accepté : joignez des "
                              "photos (JPEG ou PNG), des documents PDF ou des "
                              "messages vocaux (WAV).",
                              "attachment type refused");
    }
    k->hint = "";
    if (r->category_hint && *r->category_hint) {
        struct tri_service s;

        rc = tri_service_by_code(c, a, r->insee, r->category_hint, &s, err);
        if (rc == GU_ENOTFOUND)
            return gu_err_set(err, GU_EINVAL, "categorie",
                              "Catégorie inconnue : choisissez un des "
                              "services de la liste.",
                              "unknown hint");
        if (rc < 0)
            return rc;
        k->hint = s.code;
        k->hint_id = s.id;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Duplicates                                                          */
/* ------------------------------------------------------------------ */

/*
 * What a report is about, for reports at the same place. Residents
 * describe one pothole in words that share little (« nid-de-poule »,
 * « trou dans la chaussée », « la route est défoncée »): the cosine of
 * the texts alone misses them, and it may find a streetlight report at
 * the same address closer than any of them (same street, same «
 * devant le »). So at one place, reports that name the same object
 * join; reports that name different objects never do; the cosine
 * decides only when either names none.
 */
static const struct {
    const char *words[12];
} concepts[] = {
    {{"nid-de-poule", "nid de poule", "nids de poule", "nids-de-poule",
      "trou", "chaussee", "goudron", "enrobe", "bitume", "defoncee",
      "ornieres", "affaisse"}},
    {{"lampadaire", "eclairage", "candelabre", "reverbere", "eteint",
      "eteints", "clignote", "lumiere", "ampoule", NULL}},
    {{"panneau", "signalisation", "feu tricolore", "feux tricolores",
      "feu rouge", "marquage", "passage pieton", "stop", NULL}},
    {{"trottoir", "bordure", "pave", "paves", NULL}},
    {{"poubelle", "bac", "ordures", "encombrants", "depot sauvage",
      "dechets", "sacs", "conteneur", "benne", "collecte", NULL}},
    {{"fuite", "canalisation", "compteur", "robinet", "conduite",
      "bouche a cle", NULL}},
    {{"egout", "regard", "avaloir", "caniveau", "refoule", "deborde",
      NULL}},
    {{"arbre", "branche", "haie", "elagage", "racines", NULL}},
    {{"bruit", "tapage", "musique", "aboie", "aboiements", NULL}},
    {{"stationnement", "stationne", "garee", "ventouse", "epave", NULL}},
    {{"tag", "tags", "graffiti", "graffitis", NULL}},
    {{"jeux", "balancoire", "toboggan", "aire de jeux", NULL}},
    {{"rats", "rat", "nuisibles", "cafards", "frelons", "nid de frelons",
      NULL}},
    {{"neige", "verglas", "deneiger", "saler", NULL}},
};

/* Bit i set when the folded text names concept i. */
static unsigned
concepts_of(struct gu_arena *a, const char *s)
{
    size_t n = 0;
    char *t = text_fold(a, s, strlen(s) < TRI_BODY_MAX ? strlen(s)
                                                        : TRI_BODY_MAX,
                        &n);
    unsigned bits = 0;

    for (size_t i = 0; t && i < GU_ARRAY_LEN(concepts); i++) {
        for (size_t k = 0; k < 12 && concepts[i].words[k]; k++) {
            if (find_word(t, n, concepts[i].words[k], false, NULL)) {
                bits |= 1u << i;
                break;
            }
        }
    }
    return bits;
}

struct sparse {
    uint32_t *idx;
    float *val;
    size_t n;
    double norm;
};

static int
cmp_u32_pair(const void *x, const void *y)
{
    const uint64_t *a = x, *b = y;

    return (*a >> 32) < (*b >> 32) ? -1 : (*a >> 32) > (*b >> 32);
}

/* A sorted, merged copy of a featurised text in `a`. */
static int
to_sparse(struct gu_arena *a, const struct triage_fvec *v, struct sparse *s)
{
    uint64_t *tmp = gu_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*tmp));
    size_t o = 0;

    s->idx = gu_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*s->idx));
    s->val = gu_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*s->val));
    if (!tmp || !s->idx || !s->val)
        return GU_ENOMEM;
    for (size_t i = 0; i < v->n; i++) {
        union {
            float f;
            uint32_t u;
        } cv = {.f = v->val[i]};

        tmp[i] = ((uint64_t)v->idx[i] << 32) | cv.u;
    }
    qsort(tmp, v->n, sizeof(*tmp), cmp_u32_pair);
    s->norm = 0;
    for (size_t i = 0; i < v->n; i++) {
        union {
            float f;
            uint32_t u;
        } cv = {.u = (uint32_t)tmp[i]};
        uint32_t id = (uint32_t)(tmp[i] >> 32);

        if (o > 0 && s->idx[o - 1] == id) {
            s->val[o - 1] += cv.f;
        } else {
            s->idx[o] = id;
            s->val[o] = cv.f;
            o++;
        }
    }
    s->n = o;
    for (size_t i = 0; i < o; i++)
        s->norm += (double)s->val[i] * s->val[i];
    s->norm = sqrt(s->norm);
    return 0;
}

static double
cosine(const struct sparse *x, const struct sparse *y)
{
    double dot = 0;
    size_t i = 0, j = 0;

    if (x->norm <= 0 || y->norm <= 0)
        return 0;
    while (i < x->n && j < y->n) {
        if (x->idx[i] < y->idx[j]) {
            i++;
        } else if (x->idx[i] > y->idx[j]) {
            j++;
        } else {
            dot += (double)x->val[i] * y->val[j];
            i++;
            j++;
        }
    }
    return dot / (x->norm * y->norm);
}

static double
haversine_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) *
                   sin(dlon / 2);

    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* Folded address without punctuation, for equality ("12 rue X"). */
static const char *
addr_key(struct gu_arena *a, const char *s)
{
    size_t n = 0, o = 0;
    char *f, *k;

    if (!s || !*s)
        return "";
    f = text_fold(a, s, strlen(s), &n);
    if (!f)
        return "";
    k = gu_arena_alloc(a, n + 1);
    if (!k)
        return "";
    for (size_t i = 0; i < n; i++) {
        if (isalnum((unsigned char)f[i]))
            k[o++] = f[i];
    }
    k[o] = '\0';
    return k;
}

struct dup_in {
    const char *insee, *text, *service, *address;
    double lat, lon;
    int days, meters;
};

/*
 * The case the new request belongs to: 0 when none. Candidates are the
 * commune's open requests of the last `days` days, newest first; the
 * best-scoring close one wins.
 */
static int
find_duplicate(struct store *st, struct store_conn *c, struct gu_arena *a,
               const struct dup_in *d, int64_t *case_out, double *score_out,
               struct gu_err *err)
{
    const struct text_pipeline *tp = NULL;
    struct triage_scratch *sc = NULL;
    struct triage_fvec fv;
    struct sparse me;
    struct store_rows *r = NULL;
    const char *my_addr = addr_key(a, d->address);
    unsigned my_concepts = concepts_of(a, d->text);
    double best = 0;
    int64_t best_case = 0;
    int rc;

    *case_out = 0;
    *score_out = 0;
    if (d->days <= 0)
        return 0;
    /* Candidates: the same service (or none yet), and when the new
       request has a position, those near it or without one - the narrow
       set is what keeps an intake in milliseconds with a full inbox. */
    double dlat = d->meters / 111320.0,
           dlon = d->meters / (111320.0 * (cos(d->lat * M_PI / 180) > 0.01
                                               ? cos(d->lat * M_PI / 180)
                                               : 0.01));
    struct store_val p[10] = {STORE_T(d->insee),
                              STORE_I(gu_now() - (int64_t)d->days * 86400),
                              STORE_T(d->service),
                              STORE_T(d->service),
                              STORE_D(d->lat),
                              STORE_D(d->lat - dlat),
                              STORE_D(d->lat + dlat),
                              STORE_D(d->lon - dlon),
                              STORE_D(d->lon + dlon),
                              STORE_I(DUP_CANDIDATES)};

    rc = store_query(c, a,
                     "SELECT r.id, r.case_id, r.subject_redacted, "
                     "r.body_redacted, r.lat, r.lon, r.address, "
                     "COALESCE(s.code, '') FROM tri_requests r LEFT JOIN "
                     "tri_services s ON s.id = r.service_id AND s.insee = "
                     "r.insee WHERE r.insee = ? AND r.created_at >= ? AND "
                     "r.status NOT IN ('resolue', 'rejetee') AND "
                     "r.anonymised_at = 0 AND (? = '' OR s.code IS NULL OR "
                     "s.code = ?) AND (? = 0 OR r.lat = 0 OR (r.lat BETWEEN "
                     "? AND ? AND r.lon BETWEEN ? AND ?)) ORDER BY r.id DESC "
                     "LIMIT ?",
                     p, 10, &r, err);
    if (rc < 0 || r->nrows == 0)
        return rc;
    if (!(tp = tri_pipeline(st, err)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "pipeline");
    sc = triage_scratch_new();
    if (!sc) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    if (triage_featurize(tp, TRIAGE_BITS_DEFAULT, sc, d->text, strlen(d->text),
                         &fv) < 0 ||
        to_sparse(a, &fv, &me) < 0) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *svc = store_text(r, i, 7);
        double lat = store_real(r, i, 4), lon = store_real(r, i, 5);
        const char *addr = store_text(r, i, 6);
        bool have_place = false, same_place = false;
        char *text;
        struct sparse other;
        double cs, need;

        /* Another service's request is another matter (a pothole and the
           rubbish beside it), unless either is still to be sorted. */
        if (*svc && *d->service && strcmp(svc, d->service) != 0)
            continue;
        if (d->lat != 0 && lat != 0) {
            have_place = true;
            same_place = haversine_m(d->lat, d->lon, lat, lon) <= d->meters;
        } else if (*my_addr && addr && *addr) {
            have_place = true;
            same_place = strcmp(my_addr, addr_key(a, addr)) == 0;
        }
        if (have_place && !same_place)
            continue;
        need = same_place ? DUP_COS_PLACE : DUP_COS_TEXT;
        text = gu_arena_sprintf(a, "%s\n%s", store_text(r, i, 2),
                                store_text(r, i, 3));
        if (!text || triage_featurize(tp, TRIAGE_BITS_DEFAULT, sc, text,
                                      strlen(text), &fv) < 0 ||
            to_sparse(a, &fv, &other) < 0) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            goto out;
        }
        cs = cosine(&me, &other);
        if (same_place) {
            unsigned theirs = concepts_of(a, text);

            if (my_concepts && theirs) {
                if (!(my_concepts & theirs))
                    continue; /* a streetlight is not a pothole */
                cs += DUP_CONCEPT_BONUS;
            }
        }
        if (cs >= need && cs > best) {
            int64_t cid = store_int(r, i, 1);

            best = cs;
            best_case = cid > 0 ? cid : store_int(r, i, 0);
        }
    }
    *case_out = best_case;
    *score_out = best;
out:
    triage_scratch_free(sc);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The pipeline                                                        */
/* ------------------------------------------------------------------ */

static int
next_number(struct store_conn *c, struct gu_arena *a, const char *insee,
            int year, const char **out, struct gu_err *err)
{
    struct store_val p[2] = {STORE_T(insee), STORE_I(year)};
    struct store_rows *r = NULL;
    int rc;

    rc = store_query(c, a,
                     "INSERT INTO tri_counters (insee, year, last) VALUES (?, "
                     "?, 1) ON CONFLICT (insee, year) DO UPDATE SET last = "
                     "tri_counters.last + 1 RETURNING last",
                     p, 2, &r, err);
    if (rc < 0)
        return rc;
    *out = gu_arena_sprintf(a, "%04d-%05lld", year,
                            (long long)store_int(r, 0, 0));
    return *out ? 0 : gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
}

static const char *
channel_phrase(enum tri_channel ch)
{
    static const char *const p[] = {
        "Demande reçue par le formulaire en ligne.",
        "Demande reçue par courriel.",
        "Demande transmise par l'assistant en ligne.",
        "Message vocal reçu par téléphone.",
        "Demande enregistrée au guichet.",
        "Demande reçue par l'interface de programmation."};

    return (unsigned)ch < GU_ARRAY_LEN(p) ? p[ch] : "Demande reçue.";
}

/* The acknowledgement e-mail; its copy in the thread has no token. */
static int
send_ack(struct store_conn *c, struct gu_arena *a, const struct gu_config *cfg,
         const char *insee, const char *commune, int64_t req_id,
         const char *number, const char *token, const char *email,
         const char *service_name, const char *in_reply_to,
         struct gu_err *err)
{
    const char *base = gu_public_base(a, cfg);
    const char *reply_to = gu_config_str(cfg, "triage.reply_to");
    const char *mid = notify_message_id(a, cfg);
    const char *intro, *subject, *text, *copy, *where;
    struct notify_mail m;
    int64_t mail_id = 0;
    int rc;

    if (!base)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    where = *service_name
                ? gu_arena_sprintf(a,
                                   "Elle a été transmise au service « %s ».\n",
                                   service_name)
                : "Un agent va l'orienter vers le service concerné.\n";
    intro = gu_arena_sprintf(
        a,
        "Bonjour,\n\nLa mairie de %s a bien reçu votre demande. Elle porte "
        "le numéro %s : rappelez-le si vous nous écrivez à son sujet.\n%s\n",
        commune, number, where ? where : "");
    subject = gu_arena_sprintf(a, "[Demande %s] Votre demande a bien été reçue",
                               number);
    text = gu_arena_sprintf(
        a,
        "%sSuivez son avancement et ajoutez un message ou une précision "
        "à cette adresse :\n%s/demande/suivi/%s\n\nVous pouvez aussi "
        "répondre à ce courriel.\n\nCe message a été envoyé "
        "automatiquement ; ce lien est personnel, ne le partagez pas.\n",
        intro ? intro : "", base, token);
    copy = gu_arena_sprintf(a,
                            "Accusé de réception envoyé à l'usager (numéro "
                            "%s, lien de suivi personnel).",
                            number);
    if (!intro || !subject || !text || !copy || !mid)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    memset(&m, 0, sizeof(m));
    m.insee = insee;
    m.to = email;
    m.subject = subject;
    m.text = text;
    m.kind = "triage.ack";
    m.message_id = mid;
    m.in_reply_to = in_reply_to && *in_reply_to ? in_reply_to : NULL;
    m.reply_to = *reply_to ? reply_to : NULL;
    rc = notify_mail_queue(c, &m, &mail_id, err);
    if (rc < 0)
        return rc;
    struct store_val v[6] = {STORE_T(insee), STORE_I(req_id),  STORE_T(copy),
                             STORE_T(copy),  STORE_T(mid),     STORE_I(mail_id)};
    struct store_val all[7];

    memcpy(all, v, sizeof(v));
    all[6] = STORE_I(gu_now());
    return store_exec(c,
                      "INSERT INTO tri_messages (insee, request_id, kind, "
                      "author, body, body_redacted, mail_message_id, mail_id, "
                      "created_at) VALUES (?, ?, 'sortant', 'systeme', ?, ?, "
                      "?, ?, ?)",
                      all, 7, err);
}

struct plan {
    const char *subject_r, *body_r, *number, *token, *token_hash;
    struct tri_classified cl;
    struct tri_service svc; /* routed or suggested */
    bool have_svc, routed;
    const char *source; /* "modele", "usager" */
    int urgency;
    const char *urgency_source; /* "regle", or "modele" when it raised it */
    json_t *reasons;
    int64_t case_id;
    double case_score;
    size_t case_size;
};

static int
intake_tx(struct store *st, struct store_conn *c, const struct gu_config *cfg,
          const struct tri_intake_req *r, const struct checked *k,
          struct plan *pl, const struct store_commune *commune,
          struct gu_arena *a, struct tri_intake_res *out, struct gu_err *err)
{
    enum gu_tz tz = gu_tz_of_zone(commune->zone);
    int64_t now = gu_now(), day, id, due, sla_h;
    int minute, y, mo, d, rc;
    struct store_rows *rows = NULL;
    const char *status, *why, *reasons_txt;
    char *rj;

    gu_tz_from_utc(tz, now, &day, &minute);
    gu_day_to_ymd(day, &y, &mo, &d);
    if ((rc = next_number(c, a, r->insee, y, &pl->number, err)) < 0)
        return rc;

    /* Duplicates: inside the transaction, so two reports arriving at the
       same moment see each other. */
    {
        struct dup_in din = {
            .insee = r->insee,
            .text = gu_arena_sprintf(a, "%s\n%s", pl->subject_r, pl->body_r),
            .service = pl->have_svc ? pl->svc.code : "",
            .address = k->address,
            .lat = r->lat,
            .lon = r->lon,
            .days = (int)gu_config_int(cfg, "triage.duplicate_days"),
            .meters = (int)gu_config_int(cfg, "triage.duplicate_meters")};

        if (!din.text)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        rc = find_duplicate(st, c, a, &din, &pl->case_id, &pl->case_score,
                            err);
        if (rc < 0)
            return rc;
    }
    pl->case_size = 1;
    if (pl->case_id > 0) {
        struct store_val p[3] = {STORE_T(r->insee), STORE_I(pl->case_id),
                                 STORE_I(pl->case_id)};

        rc = store_query(c, a,
                         "SELECT COUNT(*), MAX(urgency) FROM tri_requests "
                         "WHERE insee = ? AND (id = ? OR case_id = ?)",
                         p, 3, &rows, err);
        if (rc < 0)
            return rc;
        pl->case_size = (size_t)store_int(rows, 0, 0) + 1;
        if (pl->case_size >= CASE_REPEATED) {
            char buf[32];
            int case_urg = (int)store_int(rows, 0, 1);

            snprintf(buf, sizeof(buf), "%zu", pl->case_size);
            add_reason(pl->reasons, "signalements", buf);
            if (case_urg > pl->urgency)
                pl->urgency = case_urg;
            if (pl->urgency < TRI_URGENCY_MAX)
                pl->urgency++;
        }
    }

    /* SLA: the service's, halved when prioritaire, a quarter (at most a
       day) when urgent. */
    sla_h = pl->routed ? pl->svc.sla_hours : A_TRIER_SLA_H;
    if (pl->urgency == 1)
        sla_h = sla_h / 2 > 0 ? sla_h / 2 : 1;
    else if (pl->urgency >= 2)
        sla_h = sla_h / 4 < 24 ? (sla_h / 4 > 0 ? sla_h / 4 : 1) : 24;
    due = now + sla_h * 3600;

    status = pl->routed ? "nouvelle" : "a_trier";
    why = pl->cl.why ? pl->cl.why : "[]";
    rj = json_dumps(pl->reasons, JSON_COMPACT);
    reasons_txt = rj ? gu_arena_strdup(a, rj) : NULL;
    free(rj);
    if (!reasons_txt)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    {
        struct store_val v[] = {
            STORE_T(r->insee),
            STORE_T(pl->number),
            STORE_T(tri_channel_name(r->channel)),
            STORE_T(status),
            STORE_T(k->subject),
            STORE_T(k->body),
            STORE_T(pl->subject_r),
            STORE_T(pl->body_r),
            STORE_T(k->hint),
            STORE_I(pl->routed ? pl->svc.id : 0),
            STORE_T(pl->source),
            STORE_D(pl->cl.p),
            STORE_T(pl->cl.version ? pl->cl.version : ""),
            STORE_T(why),
            STORE_I(pl->urgency),
            STORE_T(reasons_txt),
            STORE_I(pl->case_id),
            STORE_T(k->address),
            STORE_D(r->lat),
            STORE_D(r->lon),
            STORE_T(k->name),
            STORE_T(k->email),
            STORE_T(k->phone),
            STORE_I(r->notify ? 1 : 0),
            STORE_T(pl->token_hash),
            STORE_T(k->origin),
            STORE_I(due),
            STORE_I(now),
            STORE_I(now)};

        rc = store_query(
            c, a,
            "INSERT INTO tri_requests (insee, number, channel, status, "
            "subject, body, subject_redacted, body_redacted, category_hint, "
            "service_id, service_source, confidence, model_version, why, "
            "urgency, urgency_reasons, case_id, address, lat, lon, "
            "contact_name, contact_email, contact_phone, notify, token_hash, "
            "origin, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?) RETURNING id",
            v, GU_ARRAY_LEN(v), &rows, err);
        if (rc < 0)
            return rc;
        id = store_int(rows, 0, 0);
    }
    rc = tri_token_add(c, r->insee, id, pl->token_hash, err);
    if (rc < 0)
        return rc;

    /* Decisions, each with the model version that made it. */
    {
        const char *sv = pl->have_svc ? pl->svc.code : "";
        char u[8], cs[32];

        rc = tri_decision_add(c, r->insee, id, "service",
                              pl->routed ? sv : "",
                              pl->routed ? "" : sv, pl->cl.p, pl->cl.version,
                              pl->source, "ia", err);
        snprintf(u, sizeof(u), "%d", pl->urgency);
        if (rc == 0)
            rc = tri_decision_add(
                c, r->insee, id, "urgence", u, "",
                pl->cl.urgency >= 0 ? pl->cl.urgency_p : 1.0,
                pl->cl.urgency >= 0 ? pl->cl.version : "",
                pl->urgency_source,
                "ia", err);
        if (rc == 0 && pl->case_id > 0) {
            snprintf(cs, sizeof(cs), "%lld", (long long)pl->case_id);
            rc = tri_decision_add(c, r->insee, id, "doublon", cs, "",
                                  pl->case_score, "", "regle", "ia", err);
        }
        if (rc < 0)
            return rc;
    }
    /* A case reported often: its lead follows the raised urgency, with
       the reason and a decision. */
    if (pl->case_id > 0 && pl->case_size >= CASE_REPEATED) {
        struct store_val q[2] = {STORE_I(pl->case_id), STORE_T(r->insee)};
        struct store_rows *lead = NULL;

        rc = store_query(c, a,
                         "SELECT urgency, urgency_reasons FROM tri_requests "
                         "WHERE id = ? AND insee = ?",
                         q, 2, &lead, err);
        if (rc < 0)
            return rc;
        if (lead->nrows == 1 && store_int(lead, 0, 0) < pl->urgency) {
            json_t *lr = json_loads(store_text(lead, 0, 1), 0, NULL);
            char buf[32], prev[8], *txt;

            if (!json_is_array(lr)) {
                json_decref(lr);
                lr = json_array();
            }
            snprintf(buf, sizeof(buf), "%zu", pl->case_size);
            add_reason(lr, "signalements", buf);
            txt = lr ? json_dumps(lr, JSON_COMPACT) : NULL;
            json_decref(lr);
            if (!txt)
                return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
            struct store_val p[5] = {STORE_I(pl->urgency), STORE_T(txt),
                                     STORE_I(now), STORE_I(pl->case_id),
                                     STORE_T(r->insee)};

            rc = store_exec(c,
                            "UPDATE tri_requests SET urgency = ?, "
                            "urgency_reasons = ?, updated_at = ? WHERE id = "
                            "? AND insee = ?",
                            p, 5, err);
            free(txt);
            snprintf(buf, sizeof(buf), "%d", pl->urgency);
            snprintf(prev, sizeof(prev), "%d", (int)store_int(lead, 0, 0));
            if (rc == 0)
                rc = tri_decision_add(c, r->insee, pl->case_id, "urgence", buf,
                                      prev, 1.0, "", "regle", "ia", err);
            if (rc < 0)
                return rc;
        }
    }
    /* The thread starts with the reception (it carries the e-mail's
       Message-ID so that replies find the request). */
    {
        struct store_val v[6] = {STORE_T(r->insee),
                                 STORE_I(id),
                                 STORE_T(channel_phrase(r->channel)),
                                 STORE_T(channel_phrase(r->channel)),
                                 STORE_T(k->msgid),
                                 STORE_I(now)};

        rc = store_exec(c,
                        "INSERT INTO tri_messages (insee, request_id, kind, "
                        "author, body, body_redacted, mail_message_id, "
                        "created_at) VALUES (?, ?, 'evenement', 'systeme', ?, "
                        "?, ?, ?)",
                        v, 6, err);
        if (rc < 0)
            return rc;
    }
    if (r->nattach > 0 &&
        (rc = tri_attach_store(c, a, r->insee, id, 0, r->attach, r->nattach,
                               err)) < 0)
        return rc;
    if (*k->email) {
        rc = send_ack(c, a, cfg, r->insee, commune->name, id, pl->number,
                      pl->token, k->email,
                      pl->routed ? pl->svc.name : "", k->msgid, err);
        if (rc < 0)
            return rc;
    }
    {
        char *detail = gu_arena_sprintf(
            a,
            "{\"canal\":\"%s\",\"statut\":\"%s\",\"service\":\"%s\","
            "\"confiance\":%.3f,\"urgence\":%d,\"cas\":%lld,\"modele\":\"%s\"}",
            tri_channel_name(r->channel), status,
            pl->have_svc ? pl->svc.code : "", pl->cl.p, pl->urgency,
            (long long)pl->case_id, pl->cl.version ? pl->cl.version : "");

        if (!detail)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
        rc = store_audit_add(c, r->insee,
                             r->actor && *r->actor ? r->actor : "usager",
                             "triage.intake", pl->number, detail,
                             gu_log_request_id(), err);
        if (rc < 0)
            return rc;
    }
    out->id = id;
    out->number = pl->number;
    out->token = pl->token;
    out->status = pl->routed ? TRI_NOUVELLE : TRI_A_TRIER;
    out->service = pl->routed ? pl->svc.code : "";
    out->confidence = pl->cl.p;
    out->urgency = pl->urgency;
    out->case_id = pl->case_id;
    return 0;
}

int
tri_intake(struct store *st, struct store_conn *c, const struct gu_config *cfg,
           const struct tri_intake_req *r, struct gu_arena *a,
           struct tri_intake_res *out, struct gu_err *err)
{
    struct checked k;
    struct plan pl;
    struct store_commune commune;
    char tok[64], hash[65];
    const char *text;
    int rc, rule_level;

    memset(out, 0, sizeof(*out));
    memset(&pl, 0, sizeof(pl));
    if (store_in_tx(c))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "tri_intake inside a transaction");
    if ((rc = tri_check_insee(r->insee, err)) < 0)
        return rc;
    rc = store_commune_get(c, a, r->insee, &commune, err);
    if (rc == GU_ENOTFOUND)
        return gu_err_set(err, GU_EINVAL, "insee", "Commune inconnue.",
                          "unknown commune %s", r->insee);
    if (rc < 0)
        return rc;
    /* A commune that never had a taxonomy gets the default one (before
       the checks: the resident's category is one of its codes). */
    if ((rc = tri_services_seed(c, r->insee, err)) < 0 ||
        (rc = check_request(c, a, r, &k, err)) < 0)
        return rc;

    /* 2. redaction */
    if ((rc = tri_redact(c, a, r->insee, k.subject, &pl.subject_r, err)) < 0 ||
        (rc = tri_redact(c, a, r->insee, k.body, &pl.body_r, err)) < 0)
        return rc;
    text = gu_arena_sprintf(a, "%s\n%s", pl.subject_r, pl.body_r);
    if (!text)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");

    /* 3. classification of the redacted text */
    rc = tri_classify(st, c, a, r->insee, text, k.hint, &pl.cl, err);
    if (rc < 0)
        return rc;
    pl.source = "modele";
    if (*pl.cl.service &&
        tri_service_by_code(c, a, r->insee, pl.cl.service, &pl.svc, err) == 0) {
        pl.have_svc = true;
        pl.routed = pl.cl.p >= pl.svc.threshold;
    }
    if (!pl.routed && *k.hint) {
        /* The resident's choice routes only what the model finds
           plausible for it: its own guess, or a close second. */
        if (pl.cl.hint_p >= 0.2 || (pl.have_svc && strcmp(pl.svc.code, k.hint) == 0)) {
            if (tri_service_by_code(c, a, r->insee, k.hint, &pl.svc, err) ==
                0) {
                pl.have_svc = true;
                pl.routed = true;
                pl.source = "usager";
            }
        }
    }
    gu_err_clear(err);

    /* 4. urgency: rules on the redacted text (an address such as « rue
       des Écoles » or a name is not a hazard or an exposed school), then
       the model when it is sure */
    pl.reasons = json_array();
    if (!pl.reasons)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    gu_json_arena(a, pl.reasons);
    {
        const char *orig =
            gu_arena_sprintf(a, "%s\n%s", pl.subject_r, pl.body_r);

        rule_level = orig ? tri_urgency_rules(orig, strlen(orig), pl.reasons)
                          : 0;
    }
    pl.urgency = rule_level;
    pl.urgency_source = "regle";
    if (pl.cl.urgency > 0 && pl.cl.urgency_p >= URGENCY_MODEL_P) {
        char buf[48];
        int u = tri_urgency_combine(rule_level, pl.cl.urgency,
                                    pl.cl.urgency_p);

        snprintf(buf, sizeof(buf), "%d (p=%.2f)", pl.cl.urgency,
                 pl.cl.urgency_p);
        add_reason(pl.reasons, "modele", buf);
        if (u > pl.urgency) {
            pl.urgency = u;
            pl.urgency_source = "modele";
        }
    }

    /* 6. token (only its hash is stored) */
    if (gu_random_token(tok, sizeof(tok), 32) < 0)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL, "random token");
    gu_token_hash(tok, hash);
    pl.token = gu_arena_strdup(a, tok);
    pl.token_hash = gu_arena_strdup(a, hash);
    sodium_memzero(tok, sizeof(tok));
    if (!pl.token || !pl.token_hash)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");

    if ((rc = store_begin(c, err)) < 0)
        return rc;
    rc = intake_tx(st, c, cfg, r, &k, &pl, &commune, a, out, err);
    if (rc == 0)
        rc = store_commit(c, err);
    else
        store_rollback(c);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    gu_log_info("triage.intake",
                "insee=%s number=%s channel=%s status=%s service=%s "
                "p=%.3f urgency=%d case=%lld",
                r->insee, out->number, tri_channel_name(r->channel),
                tri_status_name(out->status),
                *out->service ? out->service : "-", out->confidence,
                out->urgency, (long long)out->case_id);
    return 0;
}
