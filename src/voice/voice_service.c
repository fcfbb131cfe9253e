/*
 * voice_service.c - the phone line as a service: the [voice] phone
 * settings turned into a struct voice_phone and its transports, for
 * `guichet voice phone` and `guichet serve`.
 */
#include <stdio.h>
#include <string.h>

#include "voice/voice.h"
#include "voice/voice_phone.h"

struct voice_service {
    struct voice_phone *as_phone; /* AudioSocket cannot transfer */
    struct voice_as_server *as;
    struct voice_phone *sip_phone; /* SIP transfers (REFER) */
    struct voice_sip_server *sip;
    struct voice_asr *asr; /* NULL: keypad only */
};

#define SERVICE_WORKERS 2 /* per phone: new prompts, recognitions */

/* The commune the line serves: the setting, or the only one. */
static int
service_commune(struct store *st, const char *insee, char out[6],
                struct gu_err *err)
{
    struct store_conn *c = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct store_commune *list = NULL;
    size_t n = 0;
    int rc;

    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    if (insee && *insee) {
        if (strlen(insee) != 5) {
            gu_arena_free(a);
            return gu_err_set(err, GU_ECONFIG, "voice.phone_commune",
                              "Code INSEE de la commune du téléphone "
                              "invalide.",
                              "bad voice.phone_commune");
        }
        memcpy(out, insee, 6);
        gu_arena_free(a);
        return 0;
    }
    rc = store_acquire(st, &c, err);
    if (rc == 0)
        rc = store_commune_list(c, a, &list, &n, err);
    store_release(c);
    if (rc == 0 && n != 1)
        rc = gu_err_set(err, GU_ECONFIG, "voice.phone_commune",
                        n ? "Plusieurs communes : choisissez celle du "
                            "téléphone (--commune ou voice.phone_commune)."
                          : "Aucune commune : créez-la d'abord (guichet "
                            "init).",
                        "phone commune ambiguous (%zu communes)", n);
    if (rc == 0)
        memcpy(out, list[0].insee, 6);
    gu_arena_free(a);
    return rc;
}

/*
 * Speech recognition when the settings ask for it. Its absence is said
 * once, in French, in the log (with the reason: no library, a library
 * without Vosk's symbols, no model); the line works by keypad then.
 */
static struct voice_asr *
open_asr(const struct gu_config *cfg)
{
    struct voice_asr *r = NULL;
    struct voice_asr_status st;
    struct gu_err err;
    char q[600];

    gu_err_clear(&err);
    if (voice_asr_open(cfg, &r, &st, &err) < 0 || !r) {
        if (strcmp(st.engine, "none") == 0)
            gu_log_info("voice.asr.off", "raison=%s",
                        gu_logq(q, sizeof(q), st.reason));
        else
            gu_log_warn("voice.asr.missing", "engine=%s raison=%s",
                        st.engine, gu_logq(q, sizeof(q), st.reason));
        return NULL;
    }
    gu_log_info("voice.asr.ready", "engine=%s model=%s", st.engine,
                gu_logq(q, sizeof(q), st.model));
    return r;
}

/* The fixed prompts before the first call; a failing engine is logged
 * (calls then hear silence between keys: better than no line at all). */
static void
warm(struct voice_phone *ph)
{
    struct gu_err err;
    char q[160];
    int64_t t0 = gu_now_ms();
    int n;

    gu_err_clear(&err);
    n = voice_phone_warm(ph, &err);
    if (n < 0)
        gu_log_error("voice.phone.warm", "err=%s",
                     gu_logq(q, sizeof(q), err.msg));
    else
        gu_log_info("voice.phone.warm", "prompts=%d ms=%lld", n,
                    (long long)(gu_now_ms() - t0));
}

int
voice_service_start(struct store *st, const struct gu_config *cfg,
                    const char *insee, const char *audiosocket,
                    const char *sip, struct voice_service **out,
                    struct gu_err *err)
{
    struct voice_service *s = NULL;
    struct voice_phone_opts o;
    char commune[6];
    unsigned max = (unsigned)gu_config_int(cfg, "voice.phone_max_calls");
    int rc;

    *out = NULL;
    if (!audiosocket)
        audiosocket = gu_config_str(cfg, "voice.phone_audiosocket");
    if (!sip)
        sip = gu_config_str(cfg, "voice.phone_sip");
    if (!*audiosocket && !*sip)
        return 0; /* nothing to start */
    if (!insee)
        insee = gu_config_str(cfg, "voice.phone_commune");
    if ((rc = service_commune(st, insee, commune, err)) < 0)
        return rc;
    voice_tts_configure(cfg); /* voice.engine for the prompts */
    memset(&o, 0, sizeof(o));
    o.insee = commune;
    o.transfer_to = gu_config_str(cfg, "voice.phone_transfer_to");
    o.hours = gu_config_str(cfg, "voice.phone_hours");
    o.voicemail_s = (unsigned)gu_config_int(cfg, "voice.phone_voicemail_s");
    o.can_transfer = false;
    if (!(s = gu_calloc(1, sizeof(*s))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    s->asr = open_asr(cfg);
    o.asr = s->asr;
    o.workers = SERVICE_WORKERS;
    if (*audiosocket) {
        if ((rc = voice_phone_new(st, cfg, &o, &s->as_phone, err)) < 0)
            goto fail;
        warm(s->as_phone);
        if ((rc = voice_as_start(s->as_phone, audiosocket, max, &s->as,
                                 err)) < 0)
            goto fail;
    }
    o.can_transfer = true;
    if (*sip) {
        if ((rc = voice_phone_new(st, cfg, &o, &s->sip_phone, err)) < 0)
            goto fail;
        warm(s->sip_phone);
        if ((rc = voice_sip_start(s->sip_phone, sip, max, &s->sip, err)) < 0)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    voice_service_stop(s);
    return rc;
}

unsigned
voice_service_audiosocket_port(const struct voice_service *s)
{
    return s && s->as ? voice_as_port(s->as) : 0;
}

unsigned
voice_service_sip_port(const struct voice_service *s)
{
    return s && s->sip ? voice_sip_port(s->sip) : 0;
}

void
voice_service_stop(struct voice_service *s)
{
    if (!s)
        return;
    voice_sip_stop(s->sip);
    voice_as_stop(s->as);
    voice_phone_free(s->sip_phone);
    voice_phone_free(s->as_phone);
    voice_asr_free(s->asr); /* after the phones: their workers use it */
    gu_free(s);
}
