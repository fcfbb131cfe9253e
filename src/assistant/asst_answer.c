/*
 * asst_answer.c - from a query to an answer: ranking with boosts, the
 * abstention decision, the relevant section of the best fiche, its links
 * and related questions, the commune's contacts, and the optional
 * rephrasing by a model.
 *
 * The section is picked by scoring every section of the chosen fiche
 * against the query's stems: a term counts more in the section's title
 * path than in its text, and more when few sections of the fiche hold it.
 * Section terms are computed once per fiche, on first use, and cached in
 * the bundle (an atomic pointer per fiche; a lost race frees its copy).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/asst_internal.h"

/* Below this many bytes, an answer without a matching section goes on
 * with the next sections. */
#define FILL_MAX 400

void
asst_policy_default(struct asst_policy *p)
{
    memset(p, 0, sizeof(*p));
    asst_abstain_default(&p->abstain); /* calibrated: asst_index.c */
    p->local_boost = 0.15f;
    p->topic_boost = 0.35f;
    p->local_wins = 0.85f;
    /* On the demo set (tests/data/demo_questions.tsv) plus off-topic
     * questions: answers whose fiche shares almost no trigram with the
     * question are mostly wrong or off-topic (rugby, weather); 0.10 sends
     * 3 of 4 off-topic ones and 2 of 12 wrong ones to a clarification,
     * for 5 of 147 right ones. */
    p->min_ngram = 0.10f;
    /* Off-topic questions (tests/data/demo_offtopic.txt: rugby, tarte
     * tatin, guitare…) share a common word or a repaired one with some
     * fiche; on the demo set, the right answers' coverage is mostly above
     * 0.4. 0.28 holds back 3 of 18 off-topic ones more, 2 of 165 demo
     * questions (held back in all: 0.091). */
    p->min_coverage = 0.28f;
    p->followup_terms = 2;
    p->clarify_max = 3;
    p->clarify_ratio = 0.6f;
}

enum asst_decision
asst_decide(const struct asst_policy *p, size_t n, float confidence,
            float margin, float ngram)
{
    if (n == 0 || confidence <= 0)
        return ASST_DECIDE_NOTHING;
    if (confidence < p->abstain.min_score ||
        (n > 1 && margin < p->abstain.min_margin) || ngram < p->min_ngram)
        return ASST_DECIDE_CLARIFY;
    return ASST_DECIDE_ANSWER;
}

size_t
asst_utf8_len(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    }
    return k;
}

/* ------------------------------------------------------------------ */
/* Ranking                                                            */
/* ------------------------------------------------------------------ */

static int
cmp_hit(const void *pa, const void *pb)
{
    const struct asst_hit *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

int
asst_rank(const struct asst_bundle *b, const struct asst_policy *t,
          struct gu_arena *a, const char *q, size_t qn, long prev,
          struct asst_ranked *out)
{
    struct asst_result r;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!b->ix)
        return 0;
    rc = asst_index_search(b->ix, a, q, qn, 10, &r);
    if (rc < 0)
        return rc;
    out->nterms = r.nterms;
    out->confidence = r.confidence;
    if (r.n == 0)
        return 0;
    for (size_t i = 0; i < r.n; i++) {
        struct asst_hit *h = &r.hits[i];

        if (h->doc < b->n && b->fiches[h->doc].origin == KB_LOCAL)
            h->score *= 1.0f + t->local_boost;
        if (prev >= 0 && h->doc == (uint32_t)prev)
            h->score *= 1.0f + t->topic_boost;
    }
    qsort(r.hits, r.n, sizeof(*r.hits), cmp_hit);
    out->hits = r.hits;
    out->n = r.n;
    /*
     * A local fiche close to the best one is the commune's word on the
     * same topic: it goes first, and the national fiches close to it are
     * not competitors for the margin.
     */
    float top = r.hits[0].score, close = top * t->local_wins;
    size_t loc = r.n;
    for (size_t i = 0; i < r.n && r.hits[i].score >= close; i++) {
        if (b->fiches[r.hits[i].doc].origin == KB_LOCAL) {
            loc = i;
            break;
        }
    }
    if (loc < r.n && t->local_wins > 0) {
        struct asst_hit h = r.hits[loc];
        memmove(&r.hits[1], &r.hits[0], loc * sizeof(*r.hits));
        r.hits[0] = h;
        float next = 0;
        for (size_t i = 1; i < r.n; i++) {
            const struct asst_hit *o = &r.hits[i];
            if (b->fiches[o->doc].origin == KB_LOCAL || o->score < close) {
                next = o->score;
                break;
            }
        }
        out->margin = h.score > 0 ? fmaxf(0, (h.score - next) / h.score) : 0;
        return 0;
    }
    if (r.n == 1)
        out->margin = 1;
    else if (r.hits[0].score > 0)
        out->margin = (r.hits[0].score - r.hits[1].score) / r.hits[0].score;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Section terms                                                       */
/* ------------------------------------------------------------------ */

static uint32_t
hash_str(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h ? h : 1;
}

static int
cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return a < b ? -1 : a > b;
}

/* Sorted distinct stem hashes of s, with counts when tf != NULL. */
static int
terms_of(const struct text_pipeline *tp, struct gu_arena *a, const char *s,
         uint32_t **out, uint16_t **tf, uint32_t *n)
{
    struct text_tokens tk;
    uint32_t *h;
    uint16_t *c = NULL;
    size_t m = 0;

    *out = NULL;
    *n = 0;
    if (tf)
        *tf = NULL;
    if (!s || !*s)
        return 0;
    if (text_analyze(tp, NULL, TEXT_MODE_INDEX, a, s, strlen(s), &tk) < 0)
        return GU_ENOMEM;
    if (tk.n == 0)
        return 0;
    uint32_t *tmp = gu_arena_alloc(a, tk.n * sizeof(*tmp));
    if (!tmp)
        return GU_ENOMEM;
    for (size_t i = 0; i < tk.n; i++)
        tmp[i] = hash_str(tk.v[i].stem);
    qsort(tmp, tk.n, sizeof(*tmp), cmp_u32);
    h = gu_malloc(tk.n * sizeof(*h));
    if (tf)
        c = gu_malloc(tk.n * sizeof(*c));
    if (!h || (tf && !c)) {
        gu_free(h);
        gu_free(c);
        return GU_ENOMEM;
    }
    for (size_t i = 0; i < tk.n;) {
        size_t j = i;
        while (j < tk.n && tmp[j] == tmp[i])
            j++;
        h[m] = tmp[i];
        if (c)
            c[m] = (uint16_t)(j - i > 65535 ? 65535 : j - i);
        m++;
        i = j;
    }
    *out = h;
    if (tf)
        *tf = c;
    *n = (uint32_t)m;
    return 0;
}

static void
ficheterms_free(struct asst_ficheterms *ft)
{
    if (!ft)
        return;
    for (size_t k = 0; k < ft->n; k++) {
        gu_free(ft->sec[k].text);
        gu_free(ft->sec[k].tf);
        gu_free(ft->sec[k].path);
    }
    gu_free(ft->sec);
    gu_free(ft->all);
    gu_free(ft);
}

/* Sorted union of the distinct hashes of ft's sections and of `extra`. */
static int
all_terms(struct asst_ficheterms *ft, const uint32_t *extra, uint32_t nextra)
{
    size_t n = nextra;

    for (size_t k = 0; k < ft->n; k++)
        n += ft->sec[k].ntext + ft->sec[k].npath;
    ft->all = gu_malloc((n ? n : 1) * sizeof(*ft->all));
    if (!ft->all)
        return GU_ENOMEM;
    n = 0;
    memcpy(ft->all, extra, nextra * sizeof(*extra));
    n = nextra;
    for (size_t k = 0; k < ft->n; k++) {
        const struct asst_secterms *st = &ft->sec[k];
        if (st->ntext)
            memcpy(ft->all + n, st->text, st->ntext * sizeof(*st->text));
        n += st->ntext;
        if (st->npath)
            memcpy(ft->all + n, st->path, st->npath * sizeof(*st->path));
        n += st->npath;
    }
    if (n)
        qsort(ft->all, n, sizeof(*ft->all), cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || ft->all[m - 1] != ft->all[i])
            ft->all[m++] = ft->all[i];
    }
    ft->nall = (uint32_t)m;
    return 0;
}

const struct asst_ficheterms *
asst_bundle_terms(struct asst_bundle *b, size_t i)
{
    struct asst_ficheterms *ft = atomic_load(&b->terms[i]), *expect = NULL;
    const struct kb_fiche *f = &b->fiches[i];
    struct gu_arena *a;

    if (ft)
        return ft;
    a = gu_arena_new(0);
    ft = gu_calloc(1, sizeof(*ft));
    if (!a || !ft)
        goto oom;
    ft->sec = gu_calloc(f->nsections ? f->nsections : 1, sizeof(*ft->sec));
    if (!ft->sec)
        goto oom;
    ft->n = f->nsections;
    for (size_t k = 0; k < f->nsections; k++) {
        struct asst_secterms *st = &ft->sec[k];

        if (terms_of(b->tp, a, f->sections[k].text, &st->text, &st->tf,
                     &st->ntext) < 0 ||
            terms_of(b->tp, a, f->sections[k].path, &st->path, NULL,
                     &st->npath) < 0)
            goto oom;
    }
    {
        const char *head = gu_arena_sprintf(
            a, "%s\n%s\n%s\n%s\n%s", f->title ? f->title : "",
            f->alt ? f->alt : "", f->description ? f->description : "",
            f->tags ? f->tags : "", f->context ? f->context : "");
        uint32_t *h = NULL, nh = 0;
        if (!head || terms_of(b->tp, a, head, &h, NULL, &nh) < 0 ||
            all_terms(ft, h, nh) < 0) {
            gu_free(h);
            goto oom;
        }
        gu_free(h);
    }
    gu_arena_free(a);
    if (!atomic_compare_exchange_strong(&b->terms[i], &expect, ft)) {
        ficheterms_free(ft);
        return expect;
    }
    return ft;
oom:
    gu_arena_free(a);
    ficheterms_free(ft);
    return NULL;
}

static long
find_u32(const uint32_t *v, uint32_t n, uint32_t x)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else if (v[mid] > x)
            hi = mid;
        else
            return (long)mid;
    }
    return -1;
}

float
asst_coverage(struct asst_bundle *b, struct gu_arena *a, size_t fi,
              const char *q, size_t qn)
{
    const struct asst_ficheterms *ft;
    const struct text_vocab *v;
    struct text_tokens tk;
    float total = 0, found = 0;

    if (!b->ix || fi >= b->n || !(ft = asst_bundle_terms(b, fi)))
        return 1;
    v = asst_index_vocab(b->ix);
    if (text_analyze(b->tp, v, TEXT_MODE_QUERY, a, q, qn, &tk) < 0)
        return 1;
    uint32_t *seen = gu_arena_alloc(a, (tk.n + 1) * sizeof(*seen));
    size_t nseen = 0;
    if (!seen)
        return 1;
    for (size_t i = 0; i < tk.n; i++) {
        const struct text_term *t = &tk.v[i];
        if (t->flags & (TEXT_TERM_CONCEPT | TEXT_TERM_NUMBER |
                        TEXT_TERM_DATE | TEXT_TERM_ALNUM))
            continue;
        uint32_t h = hash_str(t->stem);
        bool dup = false;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == h;
        if (dup)
            continue;
        seen[nseen++] = h;
        float w = 1;
        if (v && text_vocab_has_stem(v, t->stem, strlen(t->stem))) {
            /* Commoner words say less about the topic. */
            uint32_t c = text_vocab_word_count(v, t->word, strlen(t->word));
            w = 1.0f / (1.0f + 0.25f * log1pf((float)c));
        }
        total += w;
        if (find_u32(ft->all, ft->nall, h) >= 0)
            found += t->flags & TEXT_TERM_CORRECTED ? 0.5f * w : w;
    }
    return total > 0 ? found / total : 1;
}

/* Best section of fiche i for the query; -1 when none matches. */
static int
best_section(struct asst_bundle *b, struct gu_arena *a, size_t fi,
             const char *q, size_t qn, float *best_score)
{
    const struct asst_ficheterms *ft = asst_bundle_terms(b, fi);
    const struct kb_fiche *f = &b->fiches[fi];
    struct text_tokens tk;
    int best = -1;
    float bs = 0;

    *best_score = 0;
    if (!ft || ft->n == 0 || !q || qn == 0)
        return -1;
    if (text_analyze(b->tp, asst_index_vocab(b->ix), TEXT_MODE_QUERY, a, q, qn,
                     &tk) < 0 ||
        tk.n == 0)
        return -1;
    uint32_t *qh = gu_arena_alloc(a, tk.n * sizeof(*qh));
    float *sc = gu_arena_zalloc(a, ft->n * sizeof(*sc));
    if (!qh || !sc)
        return -1;
    for (size_t i = 0; i < tk.n; i++)
        qh[i] = hash_str(tk.v[i].stem);
    qsort(qh, tk.n, sizeof(*qh), cmp_u32);
    for (size_t i = 0; i < tk.n; i++) {
        if (i > 0 && qh[i] == qh[i - 1])
            continue;
        size_t df = 0;
        for (size_t k = 0; k < ft->n; k++) {
            if (find_u32(ft->sec[k].text, ft->sec[k].ntext, qh[i]) >= 0 ||
                find_u32(ft->sec[k].path, ft->sec[k].npath, qh[i]) >= 0)
                df++;
        }
        if (df == 0)
            continue;
        float w = logf(1.0f + (float)ft->n / (float)df);
        for (size_t k = 0; k < ft->n; k++) {
            const struct asst_secterms *st = &ft->sec[k];
            long p = find_u32(st->text, st->ntext, qh[i]);
            if (find_u32(st->path, st->npath, qh[i]) >= 0)
                sc[k] += 2.0f * w;
            if (p >= 0)
                sc[k] += w * (1.0f + logf((float)st->tf[p]));
        }
    }
    for (size_t k = 0; k < ft->n; k++) {
        /* Ties go to the earlier section (more general). */
        if (sc[k] > bs) {
            bs = sc[k];
            best = (int)k;
        }
    }
    (void)f;
    *best_score = bs;
    return best;
}

long
asst_followup_fiche(struct asst_bundle *b, struct gu_arena *a,
                    const struct asst_ranked *rk, long prev, const char *sq,
                    float ratio)
{
    long best;
    float bs = 0, ss;

    if (!rk || rk->n == 0)
        return prev;
    best = (long)rk->hits[0].doc;
    if (!sq || !*sq)
        return best;
    best_section(b, a, (size_t)best, sq, strlen(sq), &bs);
    /* The fiches of the topic: the ranked ones close to the first, and
     * the previous answer's. The follow-up's own words choose among
     * them; ties keep the ranking's choice. */
    for (size_t i = 1; i < rk->n && i < 4; i++) {
        long fi = (long)rk->hits[i].doc;
        if (fi != prev && rk->hits[i].score < ratio * rk->hits[0].score)
            continue;
        best_section(b, a, (size_t)fi, sq, strlen(sq), &ss);
        if (ss > bs * 1.05f) {
            bs = ss;
            best = fi;
        }
    }
    return best;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

/* Light Markdown to plain text: headings, emphasis, links, bullets. */
static void
md_plain(struct gu_buf *o, const char *s)
{
    bool bol = true;

    for (size_t i = 0; s[i];) {
        if (bol) {
            size_t j = i;
            while (s[j] == '#')
                j++;
            if (j > i && s[j] == ' ')
                i = j + 1;
            if ((s[i] == '*' || s[i] == '+') && s[i + 1] == ' ') {
                gu_buf_puts(o, "- ");
                i += 2;
            }
            bol = false;
            continue;
        }
        if ((s[i] == '*' && s[i + 1] == '*') ||
            (s[i] == '_' && s[i + 1] == '_')) {
            i += 2;
            continue;
        }
        if (s[i] == '[') {
            const char *close = strchr(s + i, ']');
            if (close && close[1] == '(' && strchr(close, ')')) {
                const char *rp = strchr(close, ')');
                gu_buf_append(o, s + i + 1, (size_t)(close - s - i - 1));
                gu_buf_puts(o, " (");
                gu_buf_append(o, close + 2, (size_t)(rp - close - 2));
                gu_buf_puts(o, ")");
                i = (size_t)(rp - s) + 1;
                continue;
            }
        }
        /* A run of plain characters at once. */
        size_t j = i;
        while (s[j] && s[j] != '\n' && s[j] != '*' && s[j] != '_' &&
               s[j] != '[')
            j++;
        if (j == i) {
            if (s[i] == '\n')
                bol = true;
            j = i + 1;
        }
        gu_buf_append(o, s + i, j - i);
        i = j;
    }
}

/* The commune's contacts as one block of text. */
static void
contacts(struct gu_buf *o, const struct store_commune *m)
{
    const char *parts[3];
    const char *labels[3] = {"Adresse : ", "Téléphone : ", "Horaires : "};

    if (!m)
        return;
    parts[0] = m->address;
    parts[1] = m->phone;
    parts[2] = m->hours;
    gu_buf_printf(o, "Mairie de %s", m->name ? m->name : "");
    for (int k = 0; k < 3; k++) {
        const char *p = parts[k];
        if (!p || !*p)
            continue;
        gu_buf_puts(o, "\n- ");
        gu_buf_puts(o, labels[k]);
        /* Multi-line values on one line. */
        bool sep = false;
        for (; *p; p++) {
            if (*p == '\n' || *p == '\r') {
                sep = true;
                continue;
            }
            if (sep && o->n && o->p[o->n - 1] != ' ')
                gu_buf_puts(o, ", ");
            sep = false;
            gu_buf_append(o, p, 1);
        }
    }
}

/* Replace « {{contacts_commune}} » markers. */
static char *
with_contacts(struct gu_arena *a, const char *s, const struct store_commune *m)
{
    static const char mark[] = "{{contacts_commune}}";
    struct gu_buf o;
    char *r;

    if (!strstr(s, mark))
        return gu_arena_strdup(a, s);
    gu_buf_init(&o);
    for (const char *p = s;;) {
        const char *q = strstr(p, mark);
        if (!q) {
            gu_buf_puts(&o, p);
            break;
        }
        gu_buf_append(&o, p, (size_t)(q - p));
        contacts(&o, m);
        p = q + sizeof(mark) - 1;
    }
    r = o.oom || !o.p ? NULL : gu_arena_strdup(a, o.p);
    gu_buf_fini(&o);
    return r;
}

/*
 * Cut s to at most `max` code points, at a sentence end when one is in
 * the last third, else at a space, adding " …".
 */
static char *
cut(struct gu_arena *a, const char *s, size_t max)
{
    size_t n = strlen(s), k = 0, i, last_sent = 0, last_space = 0;

    if (asst_utf8_len(s, n) <= max)
        return (char *)s;
    for (i = 0; i < n && k < max; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
        if ((s[i] == '.' || s[i] == '\n') && i + 1 < n &&
            (s[i + 1] == ' ' || s[i + 1] == '\n'))
            last_sent = i + 1;
        if (s[i] == ' ' || s[i] == '\n')
            last_space = i;
    }
    size_t at = last_sent > i * 2 / 3 ? last_sent : last_space ? last_space : i;
    while (at > 0 && ((unsigned char)s[at] & 0xC0) == 0x80)
        at--;
    return gu_arena_sprintf(a, "%.*s …", (int)at, s);
}

char *
asst_text_html(struct gu_arena *a, const char *s)
{
    struct gu_buf o;
    bool in_list = false;
    char *r;

    gu_buf_init(&o);
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        struct gu_str line = gu_str_trim((struct gu_str){p, n});

        if (line.n >= 2 && (gu_str_starts(line, "- ") ||
                            gu_str_starts(line, "\xe2\x80\xa2 "))) {
            size_t skip = line.p[0] == '-' ? 2 : 4;
            if (!in_list)
                gu_buf_puts(&o, "<ul>");
            in_list = true;
            gu_buf_puts(&o, "<li>");
            gu_buf_html(&o, line.p + skip, line.n - skip);
            gu_buf_puts(&o, "</li>");
        } else {
            if (in_list)
                gu_buf_puts(&o, "</ul>");
            in_list = false;
            if (line.n) {
                gu_buf_puts(&o, "<p>");
                gu_buf_html(&o, line.p, line.n);
                gu_buf_puts(&o, "</p>");
            }
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (in_list)
        gu_buf_puts(&o, "</ul>");
    r = o.oom ? NULL : gu_arena_strdup(a, o.p ? o.p : "");
    gu_buf_fini(&o);
    return r;
}

/* The last component of a title path. */
static const char *
last_part(const char *path)
{
    const char *p = path, *q;

    while ((q = strstr(p, " > ")))
        p = q + 3;
    return p;
}

/* Intro of a fiche: its description, else its untitled first section. */
static const char *
intro_of(const struct kb_fiche *f, int *intro_sec)
{
    *intro_sec = -1;
    for (size_t k = 0; k < f->nsections; k++) {
        if (!f->sections[k].path || !f->sections[k].path[0]) {
            *intro_sec = (int)k;
            break;
        }
    }
    if (f->description && *f->description)
        return f->description;
    if (*intro_sec >= 0)
        return f->sections[*intro_sec].text;
    return "";
}

static const char *
link_kind(enum kb_link_kind k)
{
    switch (k) {
    case KB_LINK_SERVICE:
        return "service";
    case KB_LINK_BOOKING:
        return "booking";
    default:
        return "reference";
    }
}

/* Source date of a fiche: its own, else the day of its last update. */
static const char *
source_date(struct gu_arena *a, const struct kb_fiche *f)
{
    char day[16];

    if (f->source_date && *f->source_date)
        return f->source_date;
    if (f->updated_at <= 0)
        return "";
    gu_time_iso(f->updated_at, day, sizeof(day));
    day[10] = '\0';
    return gu_arena_strdup(a, day);
}

/* Optional rephrasing by the model; keeps the extractive text on any
 * failure. */
static void
rephrase(struct asst_bundle *b, struct gu_arena *a, const struct gu_config *cfg,
         const char *q, const struct asst_ranked *rk, const char *title,
         const char *passage, const struct kb_fiche *f, struct asst_reply *out)
{
    struct asst_passage p[4];
    size_t n = 0;
    const char *gen = NULL;
    struct gu_err err;

    if (!cfg || !asst_llm_enabled(cfg))
        return;
    p[n++] = (struct asst_passage){title, passage};
    if (f->description && *f->description && !strstr(passage, f->description))
        p[n++] = (struct asst_passage){f->title, f->description};
    for (size_t i = 1; rk && i < rk->n && n < GU_ARRAY_LEN(p); i++) {
        const struct kb_fiche *g = &b->fiches[rk->hits[i].doc];
        if (g->description && *g->description)
            p[n++] = (struct asst_passage){g->title, g->description};
    }
    gu_err_clear(&err);
    if (asst_llm_rephrase(cfg, a, q, p, n, &gen, &err) < 0 || !gen) {
        gu_log_info("asst.llm", "kept=extractive code=%s",
                    gu_status_name(err.code));
        return;
    }
    char *html = asst_text_html(a, gen);
    if (!html)
        return;
    out->text = gen;
    out->html = html;
    out->generated = true;
}

int
asst_answer_build(struct asst_bundle *b, struct gu_arena *a,
                  const struct gu_config *cfg,
                  const struct store_commune *commune, long fi, const char *q,
                  const char *sq, const struct asst_ranked *rk,
                  struct asst_reply *out, struct asst_why *why)
{
    const struct kb_fiche *f = &b->fiches[fi];
    struct gu_buf t;
    float ss = 0;
    int intro_sec, sec;
    const char *intro, *path = "";
    int rc = 0;

    memset(out, 0, sizeof(*out));
    sec = best_section(b, a, (size_t)fi, sq, strlen(sq), &ss);
    if (sec < 0 && strcmp(sq, q) != 0)
        sec = best_section(b, a, (size_t)fi, q, strlen(q), &ss);
    intro = intro_of(f, &intro_sec);
    if (sec == intro_sec)
        sec = -1;
    if (sec < 0 && !*intro && f->nsections > 0)
        sec = 0; /* nothing else to show */
    gu_buf_init(&t);
    if (*intro)
        md_plain(&t, intro);
    if (sec >= 0) {
        const struct kb_section *s = &f->sections[sec];
        path = s->path ? s->path : "";
        if (t.n)
            gu_buf_puts(&t, "\n\n");
        if (*path) {
            gu_buf_puts(&t, last_part(path));
            gu_buf_puts(&t, " :\n");
        }
        md_plain(&t, s->text ? s->text : "");
    } else {
        /* No section stands out: a short intro is followed by the first
         * sections (a short fiche is then shown whole). */
        for (size_t k = 0; k < f->nsections && t.n < FILL_MAX; k++) {
            const struct kb_section *s = &f->sections[k];
            if ((int)k == intro_sec || !s->text || !*s->text)
                continue;
            if (t.n)
                gu_buf_puts(&t, "\n\n");
            if (s->path && *s->path) {
                gu_buf_puts(&t, last_part(s->path));
                gu_buf_puts(&t, " :\n");
            }
            md_plain(&t, s->text);
        }
    }
    if (t.oom) {
        gu_buf_fini(&t);
        return GU_ENOMEM;
    }
    char *text = with_contacts(a, t.p ? t.p : "", commune);
    gu_buf_fini(&t);
    if (!text)
        return GU_ENOMEM;
    text = cut(a, text, ASST_ANSWER_MAX);
    if (!text)
        return GU_ENOMEM;

    out->type = "answer";
    out->text = text;
    out->html = asst_text_html(a, text);
    out->has_fiche = true;
    out->fiche.id = f->id;
    out->fiche.title = f->title;
    out->fiche.section = path;
    out->fiche.origin = f->origin == KB_LOCAL ? "local" : "national";
    out->fiche.source_url = f->source_url ? f->source_url : "";
    out->fiche.source_date = source_date(a, f);
    out->feedback = true;

    out->links = gu_arena_zalloc(a, (f->nlinks + 1) * sizeof(*out->links));
    out->related = gu_arena_zalloc(a, (f->nlinks + 1) * sizeof(*out->related));
    if (!out->html || !out->links || !out->related || !out->fiche.source_date)
        return GU_ENOMEM;
    for (size_t k = 0; k < f->nlinks; k++) {
        const struct kb_link *l = &f->links[k];
        if (l->kind == KB_LINK_RELATED) {
            if (out->nrelated < 3 && l->label && *l->label)
                out->related[out->nrelated++] =
                    (struct asst_related){l->label, l->label};
            continue;
        }
        if (out->nlinks >= 5 || !l->url || !*l->url)
            continue;
        out->links[out->nlinks++] = (struct asst_link){
            l->kind == KB_LINK_BOOKING ? "Prendre rendez-vous"
            : l->label && *l->label    ? l->label
                                       : l->url,
            l->url, link_kind(l->kind)};
    }
    out->choices = gu_arena_alloc(a, sizeof(*out->choices));
    if (!out->choices)
        return GU_ENOMEM;
    out->choices[0] = (struct asst_choice){"agent", "Parler à un agent"};
    out->nchoices = 1;

    if (why) {
        why->fiche = fi;
        why->section = sec >= 0 ? f->sections[sec].ord : -1;
        why->section_score = ss;
        why->score = why->bm25 = why->margin = 0;
        for (size_t i = 0; rk && i < rk->n; i++) {
            if (rk->hits[i].doc == (uint32_t)fi) {
                why->score = rk->hits[i].score;
                why->bm25 = rk->hits[i].bm25;
                break;
            }
        }
        why->margin = rk ? rk->margin : 0;
    }
    rephrase(b, a, cfg, q, rk,
             *path ? gu_arena_sprintf(a, "%s > %s", f->title, path) : f->title,
             text, f, out);
    return rc;
}
