/*
 * ins_priv.h - what the insight module's files share: the report as a
 * list of labelled lines, so that the page, the CSV and the tests read
 * the same figures under the same French names.
 */
#ifndef GUICHET_INS_PRIV_H
#define GUICHET_INS_PRIV_H

#include "insight/ins.h"

enum ins_kind {
    INS_K_COUNT = 0, /* a whole number */
    INS_K_PCT,       /* a share in [0, 1], NAN = not computable */
    INS_K_DUR,       /* seconds, NAN = nothing to take a median of */
    INS_K_HOURS,
    INS_K_EUR,
    INS_K_MEALS,     /* may have decimals (sums of recommendations) */
    INS_K_KG
};

struct ins_line {
    const char *section; /* « Assistant », « Demandes »... */
    const char *key;     /* stable English-free id: "assistant.reponses" */
    const char *label;   /* French label */
    enum ins_kind kind;
    double v;
};

#define INS_LINES_MAX 64

/* The report's lines in reading order; returns how many. */
size_t ins_report_lines(const struct ins_report *r, struct ins_line *out,
                        size_t cap);
/* The unit of a kind as the CSV names it (« % », « h », « € »...). */
const char *ins_kind_unit(enum ins_kind k);
/* A value of a kind in French for people (« 62 % », « 2 h 15 min »,
   « 1 234,50 € », « — » when NAN) into buf. */
const char *ins_value_fr(enum ins_kind k, double v, char *buf, size_t cap);

/* Share a/b, NAN when b == 0. */
double ins_share(int64_t a, int64_t b);

/*
 * What every view of a month needs (pages, CSV, JSON): the pending chat
 * writes flushed, the commune's cost assumptions into *k, the figures of
 * month m into *r and of the month before into *prev (ins_pages.c).
 */
int ins_report_pair(struct http_req *req, const struct store_commune *com,
                    const struct ins_month *m, int64_t now,
                    struct ins_costs *k, struct ins_report *r,
                    struct ins_report *prev);

/* Pages (ins_pages.c). */
int ins_page_report(struct http_req *req, struct http_resp *resp);
int ins_page_month(struct http_req *req, struct http_resp *resp);
int ins_page_csv(struct http_req *req, struct http_resp *resp);
int ins_page_settings(struct http_req *req, struct http_resp *resp);
int ins_post_settings(struct http_req *req, struct http_resp *resp);
int ins_page_transparency(struct http_req *req, struct http_resp *resp);
int ins_post_explain(struct http_req *req, struct http_resp *resp);

#endif
