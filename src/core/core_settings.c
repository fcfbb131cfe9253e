/*
 * core_settings.c - the table of every setting Guichet reads.
 *
 * This table is the single source for parsing (file, environment, command
 * line), validation, `guichet --help` and `guichet config`. Adding a
 * setting is adding a row; a domain reads it with gu_config_*().
 */
#include "core/core.h"

static const struct gu_setting settings[] = {
    {"paths.data", GU_SET_STR, "var", 0, 0, NULL,
     "Dossier des données de l'instance (base, sauvegardes, fichiers)."},
    {"store.url", GU_SET_STR, "", 0, 0, NULL,
     "Base de données : « sqlite:CHEMIN » ; vide = sqlite:<données>/"
     "guichet.db."},
    {"server.listen", GU_SET_STR, "127.0.0.1:8080", 0, 0, NULL,
     "Adresse et port d'écoute HTTP (HÔTE:PORT)."},
    {"server.threads", GU_SET_INT, "0", 0, 256, NULL,
     "Nombre de fils de traitement HTTP ; 0 = nombre de cœurs."},
    {"server.max_connections", GU_SET_INT, "512", 4, 100000, NULL,
     "Nombre maximal de connexions simultanées."},
    {"server.max_body", GU_SET_SIZE, "1M", 1024, 1L << 30, NULL,
     "Taille maximale du corps d'une requête (ex. 1M, 512k)."},
    {"server.max_header_bytes", GU_SET_SIZE, "32k", 4096, 1L << 20, NULL,
     "Taille maximale de la ligne de requête et des en-têtes."},
    {"server.timeout", GU_SET_INT, "30", 1, 3600, NULL,
     "Délai d'inactivité d'une connexion, en secondes."},
    {"server.frame_ancestors", GU_SET_STR, "'self'", 0, 0, NULL,
     "Sites autorisés à intégrer Guichet dans une iframe (valeur CSP "
     "frame-ancestors, ex. 'self' https://www.ma-commune.fr)."},
    {"server.trust_proxy", GU_SET_BOOL, "false", 0, 0, NULL,
     "Faire confiance aux en-têtes X-Forwarded-For et X-Forwarded-Proto "
     "(derrière un proxy inverse)."},
    {"server.public_url", GU_SET_STR, "", 0, 0, NULL,
     "Adresse publique du service (ex. https://guichet.ma-commune.fr), "
     "utilisée dans les liens envoyés."},
    {"server.metrics_from", GU_SET_STR, "127.0.0.1/8, ::1", 0, 0, NULL,
     "Adresses autorisées à lire /metrics : liste d'adresses IP ou de "
     "réseaux (ex. 127.0.0.1/8, 10.0.0.0/24), « * » pour toutes."},
    {"security.session_ttl", GU_SET_INT, "28800", 60, 2592000, NULL,
     "Durée de validité d'une session d'agent, en secondes."},
    {"security.cookie_secure", GU_SET_ENUM, "auto", 0, 0, "auto|on|off",
     "Attribut Secure des cookies : auto (si TLS), on, off."},
    {"security.login_max_failures", GU_SET_INT, "5", 1, 100, NULL,
     "Échecs de connexion consécutifs avant verrouillage du compte."},
    {"security.lockout_minutes", GU_SET_INT, "15", 1, 1440, NULL,
     "Durée du verrouillage d'un compte, en minutes."},
    {"security.login_ip_per_minute", GU_SET_INT, "20", 1, 10000, NULL,
     "Tentatives de connexion permises par adresse IP et par minute."},
    {"log.level", GU_SET_ENUM, "info", 0, 0, "error|warn|info|debug",
     "Niveau de journalisation."},
    {"log.access", GU_SET_BOOL, "true", 0, 0, NULL,
     "Journaliser chaque requête HTTP (une ligne logfmt)."},
    {"commune.default", GU_SET_STR, "", 0, 0, NULL,
     "Code INSEE de la commune servie à l'adresse « / » ; vide = la "
     "première."},
    {"assistant.widget_origins", GU_SET_STR, "", 0, 0, NULL,
     "Sites autorisés à utiliser le widget de l'assistant (CORS), séparés "
     "par des espaces, ex. https://www.ma-commune.fr ; vide = aucun autre "
     "site que Guichet lui-même."},
    {"assistant.retention_days", GU_SET_INT, "90", 1, 3650, NULL,
     "Durée de conservation des conversations de l'assistant (texte "
     "expurgé) et des questions transmises aux agents, en jours."},
    {"assistant.rate_per_minute", GU_SET_INT, "30", 0, 1000000, NULL,
     "Messages à l'assistant permis par adresse IP et par minute ; 0 = "
     "sans limite."},
    {"llm.url", GU_SET_STR, "", 0, 0, NULL,
     "Adresse d'un service de génération compatible OpenAI hébergé par la "
     "commune (ex. http://127.0.0.1:8081/v1) ; vide = génération "
     "désactivée."},
    {"llm.model", GU_SET_STR, "", 0, 0, NULL,
     "Nom du modèle demandé au service de génération."},
    {"llm.api_key", GU_SET_STR, "", 0, 0, NULL,
     "Clé d'accès au service de génération (en-tête Authorization), "
     "vide = aucune."},
    {"llm.timeout_ms", GU_SET_INT, "8000", 100, 120000, NULL,
     "Délai maximal d'une génération, en millisecondes ; au-delà, la "
     "réponse extraite de la fiche est gardée."},
    {"smtp.url", GU_SET_STR, "", 0, 0, NULL,
     "Serveur d'envoi des courriels : smtp://HÔTE:PORT ou smtps://HÔTE:PORT "
     "; vide = aucun envoi (les messages restent en file)."},
    {"smtp.from", GU_SET_STR, "", 0, 0, NULL,
     "Expéditeur des courriels, ex. Mairie de Saint-Exemple "
     "<mairie@saint-exemple.fr>."},
    {"smtp.user", GU_SET_STR, "", 0, 0, NULL,
     "Identifiant SMTP ; vide = pas d'authentification."},
    {"smtp.password", GU_SET_STR, "", 0, 0, NULL, "Mot de passe SMTP."},
    {"smtp.starttls", GU_SET_BOOL, "true", 0, 0, NULL,
     "Exiger STARTTLS avec smtp:// (à ne désactiver que pour un relais sur "
     "la machine locale)."},
    {"smtp.timeout_ms", GU_SET_INT, "30000", 1000, 600000, NULL,
     "Délai maximal d'un envoi SMTP, en millisecondes."},
    {"notify.retention_days", GU_SET_INT, "90", 1, 3650, NULL,
     "Durée de conservation des courriels (envoyés, en échec ou encore en "
     "file), en jours."},
    {"rdv.retention_days", GU_SET_INT, "730", 30, 3650, NULL,
     "Rendez-vous : durée de conservation des coordonnées des usagers "
     "après la date du rendez-vous, en jours (ensuite anonymisés)."},
    {"rdv.log_retention_days", GU_SET_INT, "183", 7, 3650, NULL,
     "Rendez-vous : durée de conservation du journal des notifications "
     "(courriels, SMS), en jours."},
    {"rdv.offer_hours", GU_SET_INT, "24", 1, 168, NULL,
     "Liste d'attente : durée pendant laquelle un créneau libéré reste "
     "réservé à la personne à qui il est proposé, en heures."},
    {"rdv.max_offers", GU_SET_INT, "3", 1, 20, NULL,
     "Liste d'attente : nombre maximal de propositions par inscription."},
    {"rdv.sms_url", GU_SET_STR, "", 0, 0, NULL,
     "SMS : adresse HTTP(S) du service d'envoi, appelée en POST avec "
     "{\"to\",\"text\"} en JSON ; vide = pas de SMS par ce moyen."},
    {"rdv.sms_command", GU_SET_STR, "", 0, 0, NULL,
     "SMS : commande lancée avec le numéro et le texte en arguments "
     "(ex. /usr/local/bin/envoi-sms) ; vide = pas de SMS par ce moyen."},
    {"rdv.extra_reminder_risk", GU_SET_INT, "40", 0, 100, NULL,
     "Risque d'absence (en %) à partir duquel un rappel supplémentaire est "
     "envoyé quatre jours avant ; 0 = jamais."},
    {"rdv.overbook_risk", GU_SET_INT, "60", 1, 100, NULL,
     "Risque d'absence (en %) à partir duquel un créneau déjà pris peut "
     "recevoir une réservation en surnombre, pour les motifs qui "
     "l'autorisent."},
    {"rdv.rate_book_ip", GU_SET_INT, "20", 0, 1000000, NULL,
     "Rendez-vous : réservations en ligne permises par adresse IP et par "
     "heure ; 0 = sans limite."},
    {"rdv.rate_manage_ip", GU_SET_INT, "60", 0, 1000000, NULL,
     "Rendez-vous : déplacements, annulations et confirmations par lien "
     "permis par adresse IP et par heure ; 0 = sans limite."},
    {"triage.retention_days", GU_SET_INT, "365", 30, 3650, NULL,
     "Demandes : durée de conservation des coordonnées et du texte "
     "original après la clôture, en jours (ensuite anonymisées)."},
    {"triage.duplicate_days", GU_SET_INT, "30", 0, 365, NULL,
     "Demandes : ancienneté maximale, en jours, d'une demande ouverte à "
     "laquelle un nouveau signalement peut être rattaché comme doublon ; "
     "0 = pas de regroupement."},
    {"triage.duplicate_meters", GU_SET_INT, "80", 5, 5000, NULL,
     "Demandes : distance maximale, en mètres, entre deux signalements "
     "localisés pour les regrouper."},
    {"triage.reply_to", GU_SET_STR, "", 0, 0, NULL,
     "Demandes : adresse Reply-To des réponses aux usagers (la boîte que "
     "l'import de courriels relève) ; vide = smtp.from."},
    {"triage.rate_ip", GU_SET_INT, "20", 0, 1000000, NULL,
     "Demandes : dépôts en ligne permis par adresse IP et par heure ; "
     "0 = sans limite."},
    {"triage.retrain_hour", GU_SET_INT, "3", 0, 23, NULL,
     "Demandes : heure locale du réentraînement nocturne du modèle de tri "
     "avec les corrections des agents."},
    {"triage.mail_batch", GU_SET_INT, "100", 1, 10000, NULL,
     "Demandes : courriels importés au plus par source à chaque relève "
     "(les suivants le sont à la relève d'après)."},
    {"triage.mail_timeout_ms", GU_SET_INT, "30000", 1000, 600000, NULL,
     "Demandes : délai maximal d'un échange avec le serveur IMAP, en "
     "millisecondes."},
    {"triage.map_tiles", GU_SET_STR, "", 0, 0, NULL,
     "Demandes : modèle d'adresse des tuiles de la carte du formulaire "
     "/demande, avec {z}, {x} et {y} (ex. https://tuiles.exemple.fr/{z}/{x}/"
     "{y}.png) ; vide = pas de carte et aucune connexion vers l'extérieur "
     "(la position reste possible par le bouton « Utiliser ma position »)."},
    {"server.max_upload", GU_SET_SIZE, "32M", 1024, 1L << 30, NULL,
     "Taille maximale d'un envoi multipart/form-data (photos jointes à une "
     "demande) ; les autres corps restent limités par server.max_body."},
    {"rdv.rate_wait_ip", GU_SET_INT, "10", 0, 1000000, NULL,
     "Rendez-vous : inscriptions sur la liste d'attente permises par "
     "adresse IP et par heure ; 0 = sans limite."},
    {"rdv.rate_wait_commune", GU_SET_INT, "200", 0, 1000000, NULL,
     "Rendez-vous : inscriptions sur la liste d'attente permises par "
     "commune et par heure, toutes adresses confondues ; 0 = sans limite."},
    {"ants.url", GU_SET_STR, "", 0, 0, NULL,
     "ANTS : adresse de l'API de coordination anti-doublons (ex. "
     "https://api-coordination.rendezvouspasseport.ants.gouv.fr/api) ; "
     "vide = pas de vérification ni de déclaration."},
    {"ants.token", GU_SET_STR, "", 0, 0, NULL,
     "ANTS : jeton de l'éditeur pour l'API de coordination (en-tête "
     "x-rdv-opt-auth-token). Secret."},
    {"ants.hub_token", GU_SET_STR, "", 0, 0, NULL,
     "ANTS : jeton attendu du moteur de recherche national (en-tête "
     "X-HUB-RDV-AUTH-TOKEN) ; vide = points d'accès ANTS fermés. Secret."},
    {"ants.timeout_ms", GU_SET_INT, "4000", 100, 15000, NULL,
     "ANTS : délai maximal d'une vérification, en millisecondes (au-delà, "
     "la réservation est refusée par prudence)."},
    {"monitor.mqtt_host", GU_SET_STR, "", 0, 0, NULL,
     "Surveillance : serveur MQTT (broker) d'où viennent les mesures des "
     "capteurs ; vide = pas d'abonnement MQTT."},
    {"monitor.mqtt_port", GU_SET_INT, "1883", 1, 65535, NULL,
     "Surveillance : port du serveur MQTT (8883 en général avec TLS)."},
    {"monitor.mqtt_user", GU_SET_STR, "", 0, 0, NULL,
     "Surveillance : identifiant MQTT ; vide = connexion anonyme."},
    {"monitor.mqtt_password_file", GU_SET_STR, "", 0, 0, NULL,
     "Surveillance : fichier contenant le mot de passe MQTT (première "
     "ligne), lisible du seul compte de Guichet."},
    {"monitor.mqtt_topic", GU_SET_STR, "guichet/+/capteurs/+", 0, 0, NULL,
     "Surveillance : motif d'abonnement MQTT ; un message sur "
     "guichet/{insee}/capteurs/{code} est une mesure du capteur {code} de "
     "la commune {insee}."},
    {"monitor.mqtt_tls", GU_SET_BOOL, "false", 0, 0, NULL,
     "Surveillance : connexion TLS au serveur MQTT (certificats du système "
     "ou monitor.mqtt_cafile)."},
    {"monitor.mqtt_cafile", GU_SET_STR, "", 0, 0, NULL,
     "Surveillance : fichier PEM des autorités de confiance pour le TLS "
     "MQTT ; vide = celles du système."},
    {"monitor.mqtt_client_id", GU_SET_STR, "", 0, 0, NULL,
     "Surveillance : identifiant de client MQTT ; vide = « guichet- » "
     "suivi du numéro de processus."},
    {"monitor.webhook_timeout_ms", GU_SET_INT, "10000", 500, 120000, NULL,
     "Surveillance : délai maximal d'un envoi de webhook d'alerte, en "
     "millisecondes."},
    {"monitor.webhook_attempts", GU_SET_INT, "6", 1, 20, NULL,
     "Surveillance : tentatives d'envoi d'un webhook d'alerte avant "
     "abandon (délai doublé à chaque échec, à partir d'une minute)."},
    {"voice.engine", GU_SET_ENUM, "auto", 0, 0, "auto|pico|espeak-ng",
     "Voix : moteur de synthèse vocale ; auto = SVOX Pico s'il est "
     "installé (paquets non libres libttspico0, libttspico-data), sinon "
     "espeak-ng."},
    {"voice.pico_lang_dir", GU_SET_STR, "/usr/share/pico/lang", 0, 0, NULL,
     "Voix : dossier des fichiers de langue de SVOX Pico (fr-FR_ta.bin, "
     "fr-FR_nk0_sg.bin) ; lu au premier usage, un changement demande un "
     "redémarrage."},
    {"voice.rate_per_minute", GU_SET_INT, "20", 0, 100000, NULL,
     "Voix : lectures à voix haute (POST /api/v1/tts) permises par adresse "
     "IP et par minute ; 0 = sans limite."},
    {"voice.phone_commune", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : code INSEE de la commune dont l'assistant téléphonique "
     "répond ; vide = la seule commune de l'instance."},
    {"voice.phone_audiosocket", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : adresse et port (HÔTE:PORT) du serveur AudioSocket que "
     "`guichet serve` démarre pour Asterisk ; vide = pas de téléphone."},
    {"voice.phone_sip", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : adresse et port UDP (HÔTE:PORT) de l'agent SIP que "
     "`guichet serve` démarre ; vide = pas d'agent SIP."},
    {"voice.phone_transfer_to", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : numéro ou adresse SIP d'un agent, vers lequel la touche "
     "0 transfère l'appel aux heures de transfert ; vide = messagerie."},
    {"voice.phone_hours", GU_SET_STR, "lu-ve 08:30-12:00 13:30-17:00", 0, 0,
     NULL,
     "Téléphone : heures où la touche 0 transfère vers un agent (jours lu "
     "ma me je ve sa di, plages HH:MM-HH:MM, groupes séparés par « ; ») ; "
     "en dehors, et les jours fériés, l'appelant laisse un message."},
    {"voice.phone_voicemail_s", GU_SET_INT, "120", 10, 600, NULL,
     "Téléphone : durée maximale d'un message vocal, en secondes."},
    {"voice.phone_max_calls", GU_SET_INT, "20", 1, 500, NULL,
     "Téléphone : appels simultanés au plus (les suivants sont refusés)."},
    {"voice.asr_engine", GU_SET_ENUM, "none", 0, 0, "none|vosk",
     "Téléphone : moteur de reconnaissance de la parole pour les menus "
     "(vosk, chargé au démarrage par dlopen) ; none = clavier seulement."},
    {"voice.asr_model", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : dossier du modèle de reconnaissance français (par "
     "exemple /var/lib/guichet/vosk-model-small-fr-0.22)."},
    {"voice.asr_library", GU_SET_STR, "", 0, 0, NULL,
     "Téléphone : chemin de la bibliothèque du moteur de reconnaissance ; "
     "vide = libvosk.so, cherchée par le chargeur du système."},
    {"insight.minutes_answer", GU_SET_INT, "5", 0, 240, NULL,
     "Rapport d'impact : minutes d'agent épargnées par une question "
     "répondue par l'assistant (défaut des communes, modifiable par "
     "chacune)."},
    {"insight.minutes_routed", GU_SET_INT, "3", 0, 240, NULL,
     "Rapport d'impact : minutes épargnées par une demande orientée "
     "automatiquement vers le bon service."},
    {"insight.minutes_booking", GU_SET_INT, "4", 0, 240, NULL,
     "Rapport d'impact : minutes épargnées par un rendez-vous pris en "
     "ligne (au lieu d'un appel à l'accueil)."},
    {"insight.hourly_cost", GU_SET_INT, "30", 0, 500, NULL,
     "Rapport d'impact : coût complet d'une heure d'agent, en euros."},
    {"insight.meal_cost_cents", GU_SET_INT, "300", 0, 5000, NULL,
     "Rapport d'impact : coût d'un repas de cantine en centimes, quand la "
     "série de la cantine n'en donne pas."},
    {"insight.meal_grams", GU_SET_INT, "400", 0, 5000, NULL,
     "Rapport d'impact : poids d'un repas en grammes, quand la série de "
     "la cantine n'en donne pas."},
};

const struct gu_setting *
gu_settings(size_t *count)
{
    *count = GU_ARRAY_LEN(settings);
    return settings;
}
