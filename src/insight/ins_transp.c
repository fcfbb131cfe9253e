/*
 * ins_transp.c - the public transparency notice (CRPA art. L312-1-3):
 * for each algorithm Guichet runs for the commune, its purpose, the data
 * it uses, its main parameters read from the running configuration and
 * the database, the human oversight, and whether it takes decisions about
 * individuals. Built on each request: it says what runs now.
 *
 * Nothing personal is read: models' versions and dates, thresholds,
 * settings and counts.
 */
#include "insight/ins.h"
#include "assistant/asst.h"
#include "monitor/mon_detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void
param(json_t *arr, const char *name, const char *value)
{
    json_array_append_new(arr,
                          json_pack("{s:s, s:s}", "nom", name, "valeur", value));
}

static void
paramf(json_t *arr, const char *name, double v, int dec, const char *unit)
{
    char n[64], s[96];

    gu_num_fr(v, dec, GU_NUM_TRIM | GU_NUM_GROUP, "—", n, sizeof(n));
    snprintf(s, sizeof(s), "%s%s%s", n, unit && *unit ? "\xC2\xA0" : "",
             unit ? unit : "");
    param(arr, name, s);
}

static void
date_fr(int64_t t, char *buf, size_t cap)
{
    int64_t day;
    int minute, y, m, d;

    if (t <= 0) {
        snprintf(buf, cap, "—");
        return;
    }
    gu_tz_from_utc(GU_TZ_PARIS, t, &day, &minute);
    gu_day_to_ymd(day, &y, &m, &d);
    snprintf(buf, cap, "%02d/%02d/%04d", d, m, y);
}

static json_t *
algo(const char *id, const char *name, const char *purpose, const char *data,
     json_t *params, const char *oversight, bool individual,
     const char *individual_text, bool active)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:s, s:b}", "id", id,
                     "nom", name, "finalite", purpose, "donnees", data,
                     "parametres", params, "controle_humain", oversight,
                     "decision_individuelle", individual,
                     "decision_individuelle_texte", individual_text, "actif",
                     active);
}

static int
assistant_algo(const struct gu_config *cfg, json_t *list)
{
    struct asst_policy pol;
    json_t *p = json_array();

    if (!p)
        return GU_ENOMEM;
    asst_policy_default(&pol);
    param(p, "Classement",
          "BM25F sur les champs des fiches (titre, questions, texte) et "
          "similarité de trigrammes, fiches de la commune favorisées");
    paramf(p, "Seuil de confiance pour répondre", pol.abstain.min_score, 3,
           NULL);
    paramf(p, "Écart minimal avec la deuxième fiche", pol.abstain.min_margin,
           3, NULL);
    paramf(p, "Bonus des fiches locales", pol.local_boost * 100.0, 0, "%");
    paramf(p, "Choix proposés quand la question est ambiguë",
           (double)pol.clarify_max, 0, NULL);
    param(p, "Reformulation par un modèle de langue",
          cfg && *gu_config_str(cfg, "llm.url")
              ? "activée (service hébergé par la commune), la réponse reste "
                "tirée de la fiche citée"
              : "désactivée");
    if (cfg)
        paramf(p, "Conservation des conversations (texte expurgé)",
               (double)gu_config_int(cfg, "assistant.retention_days"), 0,
               "jours");
    json_array_append_new(
        list,
        algo("assistant", "Assistant des démarches (questions en ligne)",
             "Répondre aux questions des usagers sur les démarches à partir "
             "des fiches de la mairie et de service-public.fr, en citant la "
             "source ; s’abstenir et proposer un agent quand la réponse n’est "
             "pas sûre.",
             "La question de l’usager, expurgée de ses données personnelles "
             "avant tout enregistrement ; les fiches publiées.",
             p,
             "Les questions sans réponse sûre et celles que l’usager demande "
             "sont transmises à un agent, qui répond lui-même. Les agents "
             "voient pour chaque réponse la fiche, la section et les scores.",
             false,
             "Non : l’assistant informe, il ne décide rien. Il ne refuse "
             "jamais un service.",
             true));
    return 0;
}

static int
triage_algo(struct store_conn *c, struct gu_arena *a,
            const struct gu_config *cfg, const char *insee, json_t *list,
            struct gu_err *err)
{
    struct store_val pi[] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    json_t *p = json_array();
    char d[32], s[200];
    bool any = false;
    int rc;

    if (!p)
        return GU_ENOMEM;
    rc = store_query(c, a,
                     "SELECT kind, version, trained_on, corrections,"
                     " cv_accuracy, created_at FROM tri_models"
                     " WHERE insee = ? AND active = 1 ORDER BY kind",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < r->nrows; i++) {
        const char *kind = store_text(r, i, 0);
        date_fr(store_int(r, i, 5), d, sizeof(d));
        int len = snprintf(s, sizeof(s),
                           "version %s, entraîné le %s sur %lld exemples "
                           "dont %lld corrections d’agents",
                           store_text(r, i, 1), d,
                           (long long)store_int(r, i, 2),
                           (long long)store_int(r, i, 3));
        /* 0 = not measured (too few examples per class) */
        if (store_real(r, i, 4) > 0 && len > 0 && (size_t)len < sizeof(s))
            snprintf(s + len, sizeof(s) - (size_t)len,
                     ", exactitude en validation croisée %.0f %%",
                     store_real(r, i, 4) * 100.0);
        param(p,
              kind && strcmp(kind, "urgence") == 0
                  ? "Modèle d’urgence (modèle linéaire, liblinear)"
                  : "Modèle de service (modèle linéaire, liblinear)",
              s);
        any = true;
    }
    if (!any)
        param(p, "Modèle",
              "modèle par défaut, entraîné sur le jeu d’exemples fourni "
              "avec Guichet, à la première demande");
    rc = store_query(c, a,
                     "SELECT COUNT(*), MIN(threshold), MAX(threshold)"
                     " FROM tri_services WHERE insee = ? AND active = 1",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    if (r->nrows && store_int(r, 0, 0) > 0) {
        char lo[32], hi[32];
        gu_num_fr(store_real(r, 0, 1) * 100.0, 0, GU_NUM_TRIM, "—", lo,
                  sizeof(lo));
        gu_num_fr(store_real(r, 0, 2) * 100.0, 0, GU_NUM_TRIM, "—", hi,
                  sizeof(hi));
        snprintf(s, sizeof(s),
                 "%lld services ; orientation automatique quand la "
                 "probabilité atteint le seuil du service (de %s à %s %%), "
                 "sinon « à trier » par un agent",
                 (long long)store_int(r, 0, 0), lo, hi);
        param(p, "Seuils d’orientation", s);
    }
    if (cfg) {
        paramf(p, "Doublons : fenêtre",
               (double)gu_config_int(cfg, "triage.duplicate_days"), 0,
               "jours");
        paramf(p, "Doublons : distance",
               (double)gu_config_int(cfg, "triage.duplicate_meters"), 0, "m");
        paramf(p, "Réentraînement (heure de la nuit)",
               (double)gu_config_int(cfg, "triage.retrain_hour"), 0, "h");
    }
    json_array_append_new(
        list,
        algo("tri", "Tri des demandes et signalements",
             "Orienter chaque demande vers le service compétent, estimer "
             "son urgence et repérer les doublons, pour qu’elle soit traitée "
             "plus vite.",
             "L’objet et le texte de la demande, expurgés des données "
             "personnelles ; le lieu pour les doublons ; les corrections "
             "des agents pour le réentraînement.",
             p,
             "Un agent voit pour chaque demande le service proposé, la "
             "confiance et les mots qui ont pesé ; il corrige d’un clic et "
             "ses corrections entraînent le modèle suivant. Sous le seuil, "
             "un agent trie lui-même.",
             false,
             "Non : l’orientation est interne à la mairie ; la réponse à "
             "l’usager est toujours celle d’un agent.",
             true));
    return 0;
fail:
    json_decref(p);
    return rc;
}

static int
rdv_algo(struct store_conn *c, struct gu_arena *a, const struct gu_config *cfg,
         const char *insee, json_t *list, struct gu_err *err)
{
    struct store_val pi[] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    json_t *p = json_array();
    char d[32], s[200];
    bool model = false;
    int rc;

    if (!p)
        return GU_ENOMEM;
    rc = store_query(c, a,
                     "SELECT version, trained_at, samples FROM rdv_models"
                     " WHERE insee = ? AND kind = 'noshow'"
                     " ORDER BY version DESC LIMIT 1",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    if (r->nrows) {
        date_fr(store_int(r, 0, 1), d, sizeof(d));
        snprintf(s, sizeof(s),
                 "version %lld, entraîné le %s sur %lld rendez-vous passés",
                 (long long)store_int(r, 0, 0), d,
                 (long long)store_int(r, 0, 2));
        param(p, "Modèle (régression logistique)", s);
        model = true;
    } else {
        param(p, "Modèle", "aucun entraîné pour la commune : le risque "
                           "n’est pas calculé");
    }
    if (cfg) {
        paramf(p, "Rappel supplémentaire à partir d’un risque de",
               (double)gu_config_int(cfg, "rdv.extra_reminder_risk"), 0, "%");
        paramf(p, "Surréservation possible à partir d’un risque de",
               (double)gu_config_int(cfg, "rdv.overbook_risk"), 0, "%");
    }
    rc = store_query(c, a,
                     "SELECT COUNT(*) FROM rdv_motifs WHERE insee = ?"
                     " AND active = 1 AND overbook_max > 0",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    paramf(p, "Motifs autorisant la surréservation",
           (double)(r->nrows ? store_int(r, 0, 0) : 0), 0, NULL);
    json_array_append_new(
        list,
        algo("absences", "Risque d’absence aux rendez-vous",
             "Estimer le risque qu’un rendez-vous ne soit pas honoré, pour "
             "envoyer un rappel de plus et, si la commune l’a permis pour un "
             "motif, réattribuer le créneau.",
             "Le délai entre la réservation et le rendez-vous, le jour et "
             "l’heure, la confirmation du rappel, les absences passées de la "
             "même personne (empreinte de son adresse, effacée avec le "
             "rendez-vous).",
             p,
             "Les agents voient le risque dans l’agenda ; ils pointent "
             "présences et absences, qui entraînent le modèle.",
             true,
             "Oui, au sens où un score est calculé pour chaque rendez-vous : "
             "il ne sert qu’à envoyer un rappel ou à surréserver. Aucun score "
             "ne sert jamais à refuser un rendez-vous.",
             model));
    return 0;
fail:
    json_decref(p);
    return rc;
}

static int
forecast_algo(struct store_conn *c, struct gu_arena *a, const char *insee,
              json_t *list, struct gu_err *err)
{
    struct store_val pi[] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    json_t *p = json_array();
    char d[32], s[200];
    int rc;

    if (!p)
        return GU_ENOMEM;
    rc = store_query(c, a,
                     "SELECT s.name, s.kind, f.method, f.fitted_at, s.risk"
                     " FROM fc_series s JOIN fc_fits f ON f.series_id = s.id"
                     " WHERE s.insee = ? AND s.active = 1 ORDER BY s.name",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < r->nrows; i++) {
        date_fr(store_int(r, i, 3), d, sizeof(d));
        snprintf(s, sizeof(s),
                 "%s (%s) : méthode « %s » retenue par rétro-test le %s ; "
                 "risque de manque accepté %.1f %%",
                 store_text(r, i, 0), store_text(r, i, 1),
                 store_text(r, i, 2), d, store_real(r, i, 4) * 100.0);
        param(p, "Série", s);
    }
    if (r->nrows == 0)
        param(p, "Séries", "aucune série calculée");
    rc = store_query(c, a,
                     "SELECT kind, MAX(trained_at) FROM fc_models"
                     " WHERE insee = ? GROUP BY kind ORDER BY kind",
                     pi, 1, &r, err);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < r->nrows; i++) {
        date_fr(store_int(r, i, 1), d, sizeof(d));
        snprintf(s, sizeof(s), "séries « %s », entraîné le %s",
                 store_text(r, i, 0), d);
        param(p, "Arbres de gradient (XGBoost)", s);
    }
    json_array_append_new(
        list,
        algo("previsions", "Prévisions (cantines, eau, accueil)",
             "Prévoir les repas à commander, les consommations d’eau et la "
             "fréquentation, et recommander une commande selon le risque de "
             "manque choisi par la commune.",
             "Les comptages passés de chaque série, le calendrier (vacances "
             "scolaires, jours fériés), les effectifs, les menus et les "
             "événements saisis. Aucune donnée personnelle.",
             p,
             "La commande reste décidée par l’équipe de la cantine, qui voit "
             "la prévision, son intervalle et la comparaison avec sa propre "
             "prévision.",
             false, "Non : aucune personne n’est concernée.",
             r->nrows > 0));
    return 0;
fail:
    json_decref(p);
    return rc;
}

static int
monitor_algo(struct store_conn *c, struct gu_arena *a, const char *insee,
             json_t *list, struct gu_err *err)
{
    struct store_val pi[] = {STORE_T(insee)};
    struct store_rows *r = NULL;
    struct mon_params mp;
    json_t *p = json_array();
    char s[300];
    size_t n = 0;
    int rc;

    if (!p)
        return GU_ENOMEM;
    mon_params_default(&mp);
    n = (size_t)snprintf(s, sizeof(s), "%s", "");
    for (int i = 0; i < MON_DET_COUNT && n < sizeof(s); i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s%s", n ? ", " : "",
                              mon_detector_label((enum mon_detector)i),
                              mp.enabled[i] ? "" : " (sur demande)");
    param(p, "Détecteurs", s);
    paramf(p, "Sensibilité par défaut (0 calme, 1 alerte tôt)",
           mp.sensitivity, 2, NULL);
    paramf(p, "Score d’alerte correspondant", mon_params_threshold(&mp), 2,
           NULL);
    rc = store_query(c, a,
                     "SELECT COUNT(*), COALESCE(SUM(CASE WHEN params <> ''"
                     " THEN 1 ELSE 0 END), 0) FROM mon_sensors"
                     " WHERE insee = ? AND active = 1",
                     pi, 1, &r, err);
    if (rc < 0) {
        json_decref(p);
        return rc;
    }
    snprintf(s, sizeof(s), "%lld capteurs actifs, dont %lld avec des réglages "
                           "propres",
             (long long)(r->nrows ? store_int(r, 0, 0) : 0),
             (long long)(r->nrows ? store_int(r, 0, 1) : 0));
    param(p, "Capteurs", s);
    json_array_append_new(
        list,
        algo("surveillance", "Détection d’anomalies (réseaux et bâtiments)",
             "Repérer les mesures anormales des capteurs (fuites, pompes, "
             "chaudières) et ouvrir une alerte expliquée.",
             "Les mesures des capteurs de la commune. Aucune donnée "
             "personnelle.",
             p,
             "Chaque alerte est acquittée, résolue ou transformée en ticket "
             "par un agent, qui voit le graphique, les détecteurs et les "
             "seuils.",
             false, "Non : aucune personne n’est concernée.",
             r->nrows && store_int(r, 0, 0) > 0));
    return 0;
}

static void
voice_algo(const struct gu_config *cfg, json_t *list)
{
    json_t *p = json_array();
    const char *engine = cfg ? gu_config_str(cfg, "voice.engine") : "auto";
    const char *phone = cfg ? gu_config_str(cfg, "voice.phone_sip") : "";

    if (!p)
        return;
    param(p, "Moteur de synthèse", engine);
    param(p, "Standard téléphonique automatique",
          phone && *phone ? "activé (menu au clavier)" : "désactivé");
    json_array_append_new(
        list,
        algo("voix", "Synthèse vocale",
             "Lire à voix haute les réponses de l’assistant et les messages "
             "du standard téléphonique.",
             "Le texte à lire, sur le serveur de la commune ; rien n’est "
             "enregistré.",
             p,
             "Le texte lu est celui d’une fiche ou d’un message rédigé par "
             "la mairie ; le standard transfère à un agent sur demande.",
             false, "Non.", true));
}

int
ins_transparency_json(struct store_conn *c, struct gu_arena *a,
                      const struct gu_config *cfg, const char *insee,
                      json_t **out, struct gu_err *err)
{
    struct store_commune com;
    json_t *j = NULL, *list = NULL;
    const char *disc;
    int rc;

    *out = NULL;
    rc = store_commune_get(c, a, insee, &com, err);
    if (rc < 0)
        return rc;
    list = json_array();
    if (!list)
        return GU_ENOMEM;
    if ((rc = assistant_algo(cfg, list)) < 0 ||
        (rc = triage_algo(c, a, cfg, insee, list, err)) < 0 ||
        (rc = rdv_algo(c, a, cfg, insee, list, err)) < 0 ||
        (rc = forecast_algo(c, a, insee, list, err)) < 0 ||
        (rc = monitor_algo(c, a, insee, list, err)) < 0) {
        json_decref(list);
        return rc;
    }
    voice_algo(cfg, list);
    disc = asst_disclosure(a, com.name);
    j = json_pack(
        "{s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s}, s:s}", "commune", com.insee,
        "nom", com.name, "algorithmes", list, "mention_assistant",
        disc ? disc : "", "cadre_legal", "publication",
        "Code des relations entre le public et l’administration, article "
        "L312-1-3 : publication des règles des principaux traitements "
        "algorithmiques.",
        "explication",
        "Article R311-3-1-2 : toute personne faisant l’objet d’une décision "
        "prise sur le fondement d’un traitement algorithmique peut en "
        "demander les règles et les principales caractéristiques (degré et "
        "mode de contribution du traitement, données traitées et leurs "
        "sources, paramètres et leur pondération, opérations effectuées).",
        "ia",
        "Règlement européen sur l’IA, article 50 : l’usager est informé "
        "qu’il échange avec un système automatisé.",
        "demande_explication",
        "/demande?c=");
    if (!j)
        return GU_ENOMEM;
    json_object_set_new(
        j, "demande_explication",
        json_string(gu_arena_sprintf(a, "/demande?c=%s&categorie=explication",
                                     com.insee)));
    *out = j;
    return 0;
}
