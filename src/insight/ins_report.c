/*
 * ins_report.c - the month's report as lines, JSON and CSV (see ins.h).
 *
 * One list of lines (ins_report_lines) feeds the page and the CSV, so
 * that both say the same thing under the same names; the JSON keeps the
 * structure of struct ins_report with French keys, like the rest of the
 * API.
 */
#include "insight/ins_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double
ins_share(int64_t a, int64_t b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

size_t
ins_report_lines(const struct ins_report *r, struct ins_line *out, size_t cap)
{
    size_t n = 0;
#define L(sec, key, label, kind, val)                                          \
    do {                                                                       \
        if (n < cap)                                                           \
            out[n++] = (struct ins_line){sec, key, label, kind, (double)(val)}; \
    } while (0)
    const char *s = "Assistant";
    L(s, "assistant.reponses", "Questions répondues automatiquement",
      INS_K_COUNT, r->asst.answers);
    L(s, "assistant.abstentions",
      "Questions sans réponse sûre (l’assistant a proposé un agent)",
      INS_K_COUNT, r->asst.abstentions);
    L(s, "assistant.taux_automatique", "Part des questions répondues",
      INS_K_PCT, ins_share(r->asst.answers,
                           r->asst.answers + r->asst.abstentions));
    L(s, "assistant.transmises", "Questions transmises à un agent",
      INS_K_COUNT, r->asst.handoffs);
    L(s, "assistant.delai_transmises",
      "Délai médian de réponse d’un agent aux questions transmises",
      INS_K_DUR, r->asst.handoff_median_s);
    L(s, "assistant.utile", "Réponses jugées utiles", INS_K_COUNT,
      r->asst.useful);
    L(s, "assistant.pas_utile", "Réponses jugées pas utiles", INS_K_COUNT,
      r->asst.not_useful);
    L(s, "assistant.satisfaction", "Satisfaction (utiles parmi les avis)",
      INS_K_PCT, ins_share(r->asst.useful, r->asst.useful + r->asst.not_useful));
    s = "Demandes";
    L(s, "demandes.recues", "Demandes reçues", INS_K_COUNT, r->tri.received);
    L(s, "demandes.orientees", "Demandes orientées automatiquement",
      INS_K_COUNT, r->tri.auto_routed);
    L(s, "demandes.corrigees", "dont corrigées par un agent", INS_K_COUNT,
      r->tri.corrected);
    L(s, "demandes.taux_correction", "Taux de correction", INS_K_PCT,
      ins_share(r->tri.corrected, r->tri.auto_routed));
    L(s, "demandes.delai_reponse",
      "Délai médian de première réponse à l’usager", INS_K_DUR,
      r->tri.reply_median_s);
    s = "Rendez-vous";
    L(s, "rdv.passes", "Rendez-vous passés", INS_K_COUNT, r->rdv.held);
    L(s, "rdv.honores", "Honorés", INS_K_COUNT, r->rdv.kept);
    L(s, "rdv.absents", "Absences sans prévenir", INS_K_COUNT, r->rdv.noshow);
    L(s, "rdv.excuses", "Absences excusées", INS_K_COUNT, r->rdv.excused);
    L(s, "rdv.non_pointes", "Non pointés (issue non saisie)", INS_K_COUNT,
      r->rdv.unmarked);
    L(s, "rdv.taux_absence", "Taux d’absence (parmi honorés et absents)",
      INS_K_PCT, ins_share(r->rdv.noshow, r->rdv.kept + r->rdv.noshow));
    L(s, "rdv.en_ligne", "Rendez-vous pris en ligne", INS_K_COUNT,
      r->rdv.online);
    L(s, "rdv.recuperes", "Créneaux réattribués par la liste d’attente",
      INS_K_COUNT, r->rdv.recovered);
    s = "Cantines";
    L(s, "cantines.jours", "Jours de service comparés", INS_K_COUNT,
      r->cant.days);
    L(s, "cantines.jours_retro",
      "dont jours en rétro-test (recommandation recalculée après coup)",
      INS_K_COUNT, r->cant.days_retro);
    L(s, "cantines.surplus_agents",
      "Repas en trop avec la prévision des agents", INS_K_MEALS,
      r->cant.staff_surplus);
    L(s, "cantines.surplus_guichet",
      "Repas en trop avec la recommandation de Guichet", INS_K_MEALS,
      r->cant.reco_surplus);
    L(s, "cantines.courts_agents", "Jours à court, prévision des agents",
      INS_K_COUNT, r->cant.staff_short);
    L(s, "cantines.courts_guichet", "Jours à court, recommandation Guichet",
      INS_K_COUNT, r->cant.reco_short);
    L(s, "cantines.repas_evites", "Repas non gaspillés", INS_K_MEALS,
      r->cant.meals_saved);
    L(s, "cantines.kg_evites", "Nourriture non gaspillée", INS_K_KG,
      r->cant.kg_saved);
    L(s, "cantines.euros_evites", "Valeur des repas non gaspillés",
      INS_K_EUR, r->cant.euros_saved);
    s = "Alertes";
    L(s, "alertes.ouvertes", "Alertes ouvertes", INS_K_COUNT, r->mon.opened);
    L(s, "alertes.prises_en_compte", "Acquittées ou résolues", INS_K_COUNT,
      r->mon.acknowledged);
    L(s, "alertes.fausses", "Fausses alertes (constat de l’agent)",
      INS_K_COUNT, r->mon.false_alarms);
    L(s, "alertes.non_precisees", "Résolues sans constat (non précisé)",
      INS_K_COUNT, r->mon.unqualified);
    L(s, "alertes.delai", "Délai médian de prise en compte", INS_K_DUR,
      r->mon.ack_median_s);
    s = "Économies";
    L(s, "economies.heures_reponses", "Heures : réponses automatiques",
      INS_K_HOURS, r->sav.hours_answers);
    L(s, "economies.heures_orientation", "Heures : orientation des demandes",
      INS_K_HOURS, r->sav.hours_routed);
    L(s, "economies.heures_rdv", "Heures : rendez-vous pris en ligne",
      INS_K_HOURS, r->sav.hours_booking);
    L(s, "economies.heures_total", "Heures d’agent épargnées", INS_K_HOURS,
      r->sav.hours_total);
    L(s, "economies.euros_temps", "Valeur du temps épargné", INS_K_EUR,
      r->sav.euros_time);
    L(s, "economies.euros_repas", "Valeur des repas non gaspillés",
      INS_K_EUR, r->sav.euros_meals);
    L(s, "economies.euros_total", "Total estimé", INS_K_EUR,
      r->sav.euros_total);
    L(s, "economies.heures_reutilisees",
      "Temps de guichet réutilisé (créneaux réattribués, hors total)",
      INS_K_HOURS, r->sav.hours_recovered);
#undef L
    return n;
}

const char *
ins_kind_unit(enum ins_kind k)
{
    switch (k) {
    case INS_K_PCT:
        return "%";
    case INS_K_DUR:
    case INS_K_HOURS:
        return "h";
    case INS_K_EUR:
        return "€";
    case INS_K_MEALS:
        return "repas";
    case INS_K_KG:
        return "kg";
    default:
        return "nombre";
    }
}

const char *
ins_value_fr(enum ins_kind k, double v, char *buf, size_t cap)
{
    char n[64];

    if (!isfinite(v)) {
        snprintf(buf, cap, "—");
        return buf;
    }
    switch (k) {
    case INS_K_PCT:
        gu_num_fr(v * 100.0, 0, GU_NUM_TRIM, "—", n, sizeof(n));
        snprintf(buf, cap, "%s\xC2\xA0%%", n);
        break;
    case INS_K_DUR: {
        long s = (long)llround(v), d = s / 86400, h = (s % 86400) / 3600,
             mi = (s % 3600) / 60;
        if (d > 0)
            snprintf(buf, cap, "%ld\xC2\xA0j %ld\xC2\xA0h", d, h);
        else if (h > 0)
            snprintf(buf, cap, "%ld\xC2\xA0h %02ld\xC2\xA0min", h, mi);
        else if (mi > 0)
            snprintf(buf, cap, "%ld\xC2\xA0min", mi);
        else
            snprintf(buf, cap, "%ld\xC2\xA0s", s);
        break;
    }
    case INS_K_HOURS:
        gu_num_fr(v, 1, GU_NUM_TRIM | GU_NUM_GROUP, "—", n, sizeof(n));
        snprintf(buf, cap, "%s\xC2\xA0h", n);
        break;
    case INS_K_EUR:
        gu_num_fr(v, 0, GU_NUM_TRIM | GU_NUM_GROUP, "—", n, sizeof(n));
        snprintf(buf, cap, "%s\xC2\xA0€", n);
        break;
    case INS_K_MEALS:
        gu_num_fr(v, 0, GU_NUM_TRIM | GU_NUM_GROUP, "—", n, sizeof(n));
        snprintf(buf, cap, "%s", n);
        break;
    case INS_K_KG:
        gu_num_fr(v, 0, GU_NUM_TRIM | GU_NUM_GROUP, "—", n, sizeof(n));
        snprintf(buf, cap, "%s\xC2\xA0kg", n);
        break;
    default:
        gu_num_fr(v, 0, GU_NUM_GROUP, "—", n, sizeof(n));
        snprintf(buf, cap, "%s", n);
        break;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static json_t *
real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
int_(int64_t v)
{
    return json_integer((json_int_t)v);
}

json_t *
ins_report_json(const struct ins_report *r)
{
    char key[16], label[40];
    json_t *j;

    ins_month_key(&r->month, key, sizeof(key));
    ins_month_label(&r->month, label, sizeof(label));
    j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "mois", json_string(key));
    json_object_set_new(j, "libelle", json_string(label));
    json_object_set_new(j, "vide", json_boolean(r->empty));
    json_object_set_new(
        j, "assistant",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "reponses_automatiques", int_(r->asst.answers),
                  "abstentions", int_(r->asst.abstentions), "clarifications",
                  int_(r->asst.clarifications), "transmises",
                  int_(r->asst.handoffs), "transmises_repondues",
                  int_(r->asst.handoffs_answered),
                  "delai_median_transmises_s",
                  real_or_null(r->asst.handoff_median_s), "utiles",
                  int_(r->asst.useful), "pas_utiles",
                  int_(r->asst.not_useful), "taux_automatique",
                  real_or_null(ins_share(r->asst.answers,
                                         r->asst.answers +
                                             r->asst.abstentions)),
                  "satisfaction",
                  real_or_null(ins_share(r->asst.useful,
                                         r->asst.useful +
                                             r->asst.not_useful))));
    json_object_set_new(
        j, "demandes",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "recues",
                  int_(r->tri.received), "orientees_auto",
                  int_(r->tri.auto_routed), "corrigees",
                  int_(r->tri.corrected), "taux_correction",
                  real_or_null(ins_share(r->tri.corrected,
                                         r->tri.auto_routed)),
                  "repondues", int_(r->tri.replied),
                  "delai_median_reponse_s",
                  real_or_null(r->tri.reply_median_s)));
    json_object_set_new(
        j, "rendez_vous",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "passes", int_(r->rdv.held), "honores", int_(r->rdv.kept),
                  "absents", int_(r->rdv.noshow), "excuses",
                  int_(r->rdv.excused), "non_pointes",
                  int_(r->rdv.unmarked), "annules", int_(r->rdv.cancelled),
                  "pris_en_ligne", int_(r->rdv.online),
                  "recuperes_liste_attente", int_(r->rdv.recovered),
                  "minutes_recuperees", int_(r->rdv.recovered_min),
                  "taux_absence",
                  real_or_null(ins_share(r->rdv.noshow,
                                         r->rdv.kept + r->rdv.noshow))));
    json_object_set_new(
        j, "cantines",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "cantines", int_(r->cant.series), "jours_compares",
                  int_(r->cant.days), "jours_retro_test",
                  int_(r->cant.days_retro), "jours_releves",
                  int_(r->cant.days_actual), "surplus_agents",
                  json_real(r->cant.staff_surplus), "surplus_guichet",
                  json_real(r->cant.reco_surplus), "jours_courts_agents",
                  int_(r->cant.staff_short), "jours_courts_guichet",
                  int_(r->cant.reco_short), "repas_evites",
                  json_real(r->cant.meals_saved), "kg_evites",
                  json_real(r->cant.kg_saved), "euros_evites",
                  json_real(r->cant.euros_saved)));
    json_object_set_new(
        j, "alertes",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "ouvertes",
                  int_(r->mon.opened), "prises_en_compte",
                  int_(r->mon.acknowledged), "resolues",
                  int_(r->mon.resolved), "fausses_alertes",
                  int_(r->mon.false_alarms), "resolues_sans_constat",
                  int_(r->mon.unqualified),
                  "delai_median_prise_en_compte_s",
                  real_or_null(r->mon.ack_median_s)));
    json_object_set_new(
        j, "economies",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "heures_reponses", json_real(r->sav.hours_answers),
                  "heures_orientation", json_real(r->sav.hours_routed),
                  "heures_rendez_vous", json_real(r->sav.hours_booking),
                  "heures_total", json_real(r->sav.hours_total),
                  "heures_guichet_reutilisees",
                  json_real(r->sav.hours_recovered), "euros_temps",
                  json_real(r->sav.euros_time), "euros_repas",
                  json_real(r->sav.euros_meals), "euros_total",
                  json_real(r->sav.euros_total)));
    return j;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

static void
csv_text(struct gu_buf *b, const char *s)
{
    gu_buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            gu_buf_puts(b, "\"\"");
        else
            gu_buf_append(b, s, 1);
    }
    gu_buf_puts(b, "\"");
}

static void
csv_num(struct gu_buf *b, enum ins_kind k, double v)
{
    char n[64];

    if (!isfinite(v))
        return;
    switch (k) {
    case INS_K_PCT:
        gu_buf_puts(b, gu_num_fr(v * 100.0, 1, GU_NUM_TRIM, "", n, sizeof(n)));
        break;
    case INS_K_DUR:
        gu_buf_puts(b, gu_num_fr(v / 3600.0, 2, GU_NUM_TRIM, "", n, sizeof(n)));
        break;
    case INS_K_COUNT:
        gu_buf_puts(b, gu_num_fr(v, 0, 0, "", n, sizeof(n)));
        break;
    default:
        gu_buf_puts(b, gu_num_fr(v, 2, GU_NUM_TRIM, "", n, sizeof(n)));
        break;
    }
}

void
ins_report_csv(struct gu_buf *b, const struct ins_report *r,
               const struct ins_report *prev, const struct ins_costs *k)
{
    struct ins_line a[INS_LINES_MAX], p[INS_LINES_MAX];
    size_t n = ins_report_lines(r, a, INS_LINES_MAX), np = 0;
    char m[16], mp[16];

    if (prev)
        np = ins_report_lines(prev, p, INS_LINES_MAX);
    ins_month_key(&r->month, m, sizeof(m));
    gu_buf_puts(b, "\xEF\xBB\xBF"); /* BOM: spreadsheets then read UTF-8 */
    gu_buf_printf(b, "Rubrique;Indicateur;Unité;%s", m);
    if (prev) {
        ins_month_key(&prev->month, mp, sizeof(mp));
        gu_buf_printf(b, ";%s", mp);
    }
    gu_buf_puts(b, "\r\n");
    for (size_t i = 0; i < n; i++) {
        csv_text(b, a[i].section);
        gu_buf_puts(b, ";");
        csv_text(b, a[i].label);
        gu_buf_puts(b, ";");
        csv_text(b, ins_kind_unit(a[i].kind));
        gu_buf_puts(b, ";");
        csv_num(b, a[i].kind, a[i].v);
        if (prev) {
            gu_buf_puts(b, ";");
            if (i < np)
                csv_num(b, p[i].kind, p[i].v);
        }
        gu_buf_puts(b, "\r\n");
    }
    /* The assumptions, so that the file says how euros were reached. */
    struct {
        const char *label, *unit;
        double v;
    } hyp[] = {
        {"Minutes par réponse automatique", "min", k->min_answer},
        {"Minutes par demande orientée", "min", k->min_routed},
        {"Minutes par rendez-vous en ligne", "min", k->min_booking},
        {"Coût horaire d’un agent", "€", k->hourly_cost},
        {"Coût d’un repas (par défaut)", "€", k->meal_cost},
        {"Poids d’un repas (par défaut)", "kg", k->meal_kg},
    };
    for (size_t i = 0; i < GU_ARRAY_LEN(hyp); i++) {
        char nb[64];
        csv_text(b, "Hypothèses");
        gu_buf_puts(b, ";");
        csv_text(b, hyp[i].label);
        gu_buf_puts(b, ";");
        csv_text(b, hyp[i].unit);
        gu_buf_printf(b, ";%s\r\n",
                      gu_num_fr(hyp[i].v, 3, GU_NUM_TRIM, "", nb, sizeof(nb)));
    }
}
