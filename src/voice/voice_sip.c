/*
 * voice_sip.c - the phone bot as a SIP user agent (Debian's libre): it
 * answers INVITEs on a UDP address, negotiates G.711 (PCMU or PCMA, the
 * caller's first choice) and RFC 4733 telephone-events in SDP, exchanges
 * 20 ms RTP packets, hangs up with BYE, and transfers with REFER.
 *
 * Transfer (RFC 3515): the bot sends REFER and keeps the call (silence)
 * until the transferee reports, in a NOTIFY whose message/sipfrag body is
 * the status of its call to the agent, a 2xx: then it hangs up (BYE). A
 * REFER refused or unanswered, a final sipfrag status of 300 or more, or
 * no success within REFER_TIMEOUT_MS, and the call goes back to the menu
 * (voice_call_transfer_failed: the caller hears it in French, then the
 * voicemail).
 *
 * Threads. libre's objects live in one thread that runs re_main(): SIP
 * transactions, RTP sockets and the 20 ms timers of every call. The menu
 * (voice_call) runs in that thread too, between packets; new prompts are
 * synthesised and speech is recognised by the phone's worker threads
 * (voice_call.c), so those never delay the packets; store work (slots, a
 * booking, an assistant's answer) still runs here. Other threads talk to
 * the loop only through an mqueue (stop).
 *
 * libre's umbrella re.h cannot be included beside jansson (both define
 * JSON_STRING...), so the headers used are listed one by one.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "voice/voice_phone.h"

#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_msg.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_main.h>
#include <re_mem.h>
#include <re_mqueue.h>
#include <re_rtp.h>
#include <re_sdp.h>
#include <re_uri.h>
#include <re_sip.h>
#include <re_sipsess.h>
#include <re_tmr.h>

#define MQ_STOP 1
#define RTP_PORT_MIN 20000
#define RTP_PORT_MAX 40000
#define STOP_GRACE_MS 3000
#define REFER_TIMEOUT_MS 30000 /* REFER sent -> NOTIFY 2xx (the agent's
                                  phone rings meanwhile) */

enum xfer {
    XFER_NONE = 0,
    XFER_WAIT_ACCEPT, /* REFER sent, no final response yet */
    XFER_WAIT_NOTIFY, /* 2xx to REFER: waiting for the sipfrag 2xx */
};

struct voice_sip_server {
    struct voice_phone *ph;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
    int start_err;
    char addr[64];
    unsigned port;
    unsigned max;
    unsigned calls_total; /* under lock */

    /* Loop thread only. */
    struct sip *sip;
    struct sipsess_sock *sock;
    struct sip_lsnr *notify_lsnr;
    struct mqueue *mq;
    struct list calls;
    unsigned ncalls;
    struct sa laddr;
    struct tmr stop_tmr;
    bool stopping;
    /* Loop health, logged at stop (bench/phone): the latest a call's
     * packet was sent after its due time, and the longest step of a call
     * (a tick or an inbound packet, menu included) in the loop thread,
     * and the longest interval between two packets of a call. */
    uint64_t max_late_ms, max_step_ms, max_gap_ms;
};

struct scall {
    struct le le;
    struct voice_sip_server *srv;
    struct sipsess *sess;
    struct rtp_sock *rtp;
    struct sdp_session *sdp;
    struct sdp_media *media;
    struct voice_call *call;
    struct tmr tmr;
    struct sa raddr;
    enum voice_law law;
    int tel_pt; /* -1 = none */
    uint32_t ts;
    uint64_t next; /* jiffies of the next packet */
    bool marker;
    uint64_t last_tx; /* jiffies of the last packet sent */
    bool ending;
    struct voice_telev_rx telev;
    enum xfer xfer;
    struct sip_request *refer; /* pending REFER (libre clears it when the
                                  transaction ends) */
    uint64_t xfer_deadline;    /* jiffies */
    char id[80];
    char peer[64]; /* host that sent the INVITE: a bare transfer number
                      is referred to it (sip:NUMBER@peer) */
};

static void call_end(struct scall *sc, bool bye);

static void
scall_destructor(void *arg)
{
    struct scall *sc = arg;

    tmr_cancel(&sc->tmr);
    list_unlink(&sc->le);
    /* A REFER still pending: libre keeps its transaction and drops our
     * response handler. */
    sc->refer = mem_deref(sc->refer);
    voice_call_free(sc->call); /* files a voicemail being recorded */
    sc->call = NULL;
    mem_deref(sc->sess);
    mem_deref(sc->rtp);
    mem_deref(sc->sdp);
}

/* The transfer did not happen: the menu says so and takes a message. */
static void
transfer_failed(struct scall *sc, const char *why, int code)
{
    gu_log_info("voice.sip.transfer", "call=%s result=%s code=%d", sc->id,
                why, code);
    sc->xfer = XFER_NONE;
    sc->refer = mem_deref(sc->refer);
    voice_call_transfer_failed(sc->call);
}

static void
refer_resp_h(int err, const struct sip_msg *msg, void *arg)
{
    struct scall *sc = arg;

    if (sc->ending || sc->xfer == XFER_NONE)
        return;
    if (err || !msg) {
        sc->refer = NULL; /* the transaction is over */
        transfer_failed(sc, "no_answer", 0);
        return;
    }
    if (msg->scode < 200)
        return;
    sc->refer = NULL;
    if (msg->scode < 300) {
        gu_log_info("voice.sip.refer_accepted", "call=%s code=%u", sc->id,
                    msg->scode);
        if (sc->xfer == XFER_WAIT_ACCEPT)
            sc->xfer = XFER_WAIT_NOTIFY;
        return;
    }
    transfer_failed(sc, "refused", msg->scode);
}

static void start_transfer(struct scall *sc);

/* The 20 ms clock of a call: one packet out, the menu's action. */
static void
tick(void *arg)
{
    struct scall *sc = arg;
    int16_t pcm[VOICE_FRAME];
    struct mbuf *mb;
    enum voice_action act = VOICE_ACT_CONTINUE;
    uint64_t now = tmr_jiffies();
    struct voice_sip_server *srv = sc->srv;

    if (now > sc->next && now - sc->next > srv->max_late_ms)
        srv->max_late_ms = now - sc->next;
    if (sc->last_tx && now - sc->last_tx > srv->max_gap_ms)
        srv->max_gap_ms = now - sc->last_tx;
    sc->last_tx = now;
    if (sc->xfer != XFER_NONE) {
        /* Waiting for the transferee: silence, the menu is paused. */
        memset(pcm, 0, sizeof(pcm));
        if (now >= sc->xfer_deadline)
            transfer_failed(sc, "timeout", 0);
    } else {
        act = voice_call_audio_out(sc->call, pcm);
    }
    mb = mbuf_alloc(RTP_HEADER_SIZE + VOICE_FRAME);
    if (mb) {
        mb->pos = RTP_HEADER_SIZE;
        mb->end = RTP_HEADER_SIZE + VOICE_FRAME;
        voice_g711_encode(sc->law, pcm, VOICE_FRAME, mb->buf + mb->pos);
        rtp_send(sc->rtp, &sc->raddr, false, sc->marker, (uint8_t)sc->law,
                 sc->ts, mb);
        sc->marker = false;
        mem_deref(mb);
    }
    sc->ts += VOICE_FRAME;
    sc->next += 20;
    if (sc->next + 200 < now)
        sc->next = now; /* far behind: resync rather than burst */

    if (tmr_jiffies() - now > srv->max_step_ms)
        srv->max_step_ms = tmr_jiffies() - now;
    if (act == VOICE_ACT_HANGUP) {
        call_end(sc, true);
        return;
    }
    if (act == VOICE_ACT_TRANSFER)
        start_transfer(sc);
    tmr_start(&sc->tmr, sc->next > now ? sc->next - now : 0, tick, sc);
}

/* REFER to the transfer number; the call waits for the outcome. */
static void
start_transfer(struct scall *sc)
{
    const char *to = voice_call_transfer_to(sc->call);
    bool uri = strncmp(to, "sip:", 4) == 0 || strchr(to, '@') != NULL;
    int err = sc->sess ? 0 : ENOTCONN;

    if (!err)
        err = sip_drequestf(
            &sc->refer, sc->srv->sip, true, "REFER",
            sipsess_dialog(sc->sess), 0, NULL, NULL, refer_resp_h, sc,
            "Refer-To: <%s%s%s%s>\r\nContent-Length: 0\r\n\r\n",
            strncmp(to, "sip:", 4) == 0 ? "" : "sip:", to, uri ? "" : "@",
            uri ? "" : sc->peer);
    gu_log_info("voice.sip.refer", "call=%s ok=%d", sc->id, err == 0);
    if (err) {
        transfer_failed(sc, "not_sent", 0);
        return;
    }
    sc->xfer = XFER_WAIT_ACCEPT;
    sc->xfer_deadline = tmr_jiffies() + REFER_TIMEOUT_MS;
}

/*
 * NOTIFY in a call's dialog (the implicit subscription of a REFER): its
 * message/sipfrag body starts with the status line of the transferee's
 * call to the agent, "SIP/2.0 200 OK". sipsess does not take NOTIFY, so
 * this listener does.
 */
static bool
notify_h(const struct sip_msg *msg, void *arg)
{
    struct voice_sip_server *srv = arg;
    struct scall *sc = NULL;
    const char *body;
    size_t n;
    unsigned code = 0;

    if (pl_strcmp(&msg->met, "NOTIFY") != 0)
        return false;
    for (struct le *le = list_head(&srv->calls); le; le = le->next) {
        struct scall *x = le->data;
        if (pl_strcmp(&msg->callid, x->id) == 0) {
            sc = x;
            break;
        }
    }
    if (!sc || sc->ending) {
        sip_treply(NULL, srv->sip, msg, 481,
                   "Call/Transaction Does Not Exist");
        return true;
    }
    sip_treply(NULL, srv->sip, msg, 200, "OK");
    if (sc->xfer == XFER_NONE)
        return true;
    body = (const char *)mbuf_buf(msg->mb);
    n = mbuf_get_left(msg->mb);
    if (n >= 11 && strncmp(body, "SIP/2.0 ", 8) == 0 && body[8] >= '1' &&
        body[8] <= '6' && body[9] >= '0' && body[9] <= '9' &&
        body[10] >= '0' && body[10] <= '9')
        code = (unsigned)((body[8] - '0') * 100 + (body[9] - '0') * 10 +
                          (body[10] - '0'));
    if (code < 200)
        return true; /* 100 Trying, 180 Ringing: the agent's phone rings */
    if (code < 300) {
        gu_log_info("voice.sip.transfer", "call=%s result=ok code=%u", sc->id,
                    code);
        call_end(sc, true);
        return true;
    }
    transfer_failed(sc, "refused", (int)code);
    return true;
}

static void
call_end(struct scall *sc, bool bye)
{
    struct voice_sip_server *srv = sc->srv;

    if (sc->ending)
        return;
    sc->ending = true;
    tmr_cancel(&sc->tmr);
    gu_log_info("voice.sip.end", "call=%s state=%s bye=%d", sc->id,
                voice_call_state(sc->call), bye);
    srv->ncalls--;
    /* Destroying an established sipsess sends BYE (bye: the bot hangs
     * up); when the peer closed it, close_h already dropped it. */
    mem_deref(sc);
}

static void
rtp_recv(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
         void *arg)
{
    struct scall *sc = arg;
    size_t n = mbuf_get_left(mb);
    int16_t pcm[1024];
    uint64_t t0 = tmr_jiffies();
    char d;

    (void)src;
    if (sc->ending)
        return;
    if (hdr->pt == (uint8_t)sc->law) {
        if (n > 1024)
            n = 1024;
        voice_g711_decode(sc->law, mbuf_buf(mb), n, pcm);
        voice_call_audio_in(sc->call, pcm, n);
    } else if (sc->tel_pt >= 0 && hdr->pt == sc->tel_pt) {
        if (voice_telev_recv(&sc->telev, hdr->ts, mbuf_buf(mb), n, &d) == 1)
            voice_call_digit(sc->call, d);
    }
    if (tmr_jiffies() - t0 > sc->srv->max_step_ms)
        sc->srv->max_step_ms = tmr_jiffies() - t0;
}

static int
offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
    struct scall *sc = arg;
    int err = sdp_decode(sc->sdp, msg->mb, true);

    return err ? err : sdp_encode(descp, sc->sdp, false);
}

static int
answer_h(const struct sip_msg *msg, void *arg)
{
    (void)msg;
    (void)arg;
    return 0;
}

static void
estab_h(const struct sip_msg *msg, void *arg)
{
    struct scall *sc = arg;
    (void)msg;
    gu_log_info("voice.sip.established", "call=%s", sc->id);
}

static void
close_h(int err, const struct sip_msg *msg, void *arg)
{
    struct scall *sc = arg;

    (void)msg;
    gu_log_info("voice.sip.closed", "call=%s err=%d", sc->id, err);
    sc->sess = mem_deref(sc->sess);
    call_end(sc, false);
}

static bool
format_ok(const struct sdp_format *f, enum voice_law *law)
{
    if (f->pt == 0 || (f->name && strcasecmp(f->name, "PCMU") == 0)) {
        *law = VOICE_PCMU;
        return true;
    }
    if (f->pt == 8 || (f->name && strcasecmp(f->name, "PCMA") == 0)) {
        *law = VOICE_PCMA;
        return true;
    }
    return false;
}

static void
conn_h(const struct sip_msg *msg, void *arg)
{
    struct voice_sip_server *srv = arg;
    struct scall *sc = NULL;
    struct mbuf *answer = NULL;
    const struct sdp_format *f, *tel;
    char caller[40] = "";
    struct gu_err gerr;
    int err;

    if (srv->stopping || srv->ncalls >= srv->max) {
        gu_log_warn("voice.sip.busy", "max_calls=%u", srv->max);
        sip_treply(NULL, srv->sip, msg, 486, "Busy Here");
        return;
    }
    if (!mbuf_get_left(msg->mb)) {
        sip_treply(NULL, srv->sip, msg, 488, "Not Acceptable Here");
        return;
    }
    sc = mem_zalloc(sizeof(*sc), scall_destructor);
    if (!sc) {
        sip_treply(NULL, srv->sip, msg, 500, "Server Error");
        return;
    }
    sc->srv = srv;
    sc->tel_pt = -1;
    pl_strcpy(&msg->callid, sc->id, sizeof(sc->id));
    if (sa_ntop(&msg->src, sc->peer, sizeof(sc->peer)) != 0)
        snprintf(sc->peer, sizeof(sc->peer), "127.0.0.1");
    pl_strcpy(&msg->from.uri.user, caller, sizeof(caller));

    err = rtp_listen(&sc->rtp, IPPROTO_UDP, &srv->laddr, RTP_PORT_MIN,
                     RTP_PORT_MAX, false, rtp_recv, NULL, sc);
    if (!err)
        err = sdp_session_alloc(&sc->sdp, &srv->laddr);
    if (!err)
        err = sdp_media_add(&sc->media, sc->sdp, "audio",
                            sa_port(rtp_local(sc->rtp)), "RTP/AVP");
    if (!err)
        err = sdp_format_add(NULL, sc->media, false, "0", "PCMU", 8000, 1,
                             NULL, NULL, NULL, false, NULL);
    if (!err)
        err = sdp_format_add(NULL, sc->media, false, "8", "PCMA", 8000, 1,
                             NULL, NULL, NULL, false, NULL);
    if (!err)
        err = sdp_format_add(NULL, sc->media, false, "101",
                             "telephone-event", 8000, 1, NULL, NULL, NULL,
                             false, "0-15");
    if (!err)
        err = sdp_decode(sc->sdp, msg->mb, true);
    if (err) {
        sip_treply(NULL, srv->sip, msg, 488, "Not Acceptable Here");
        goto fail;
    }
    /* The caller's first audio format we also have. */
    f = sdp_media_rformat(sc->media, NULL);
    if (!f || !format_ok(f, &sc->law)) {
        sip_treply(NULL, srv->sip, msg, 488, "Not Acceptable Here");
        goto fail;
    }
    tel = sdp_media_rformat(sc->media, "telephone-event");
    if (tel)
        sc->tel_pt = tel->pt;
    sc->raddr = *sdp_media_raddr(sc->media);
    if ((err = sdp_encode(&answer, sc->sdp, false)) != 0) {
        sip_treply(NULL, srv->sip, msg, 500, "Server Error");
        goto fail;
    }
    gu_err_clear(&gerr);
    if (voice_call_new(srv->ph, caller, sc->id, &sc->call, &gerr) < 0) {
        sip_treply(NULL, srv->sip, msg, 500, "Server Error");
        goto fail;
    }
    err = sipsess_accept(&sc->sess, srv->sock, msg, 200, "OK", "guichet",
                         "application/sdp", answer, NULL, NULL, false,
                         offer_h, answer_h, estab_h, NULL, NULL, close_h, sc,
                         "Allow: INVITE, ACK, BYE, CANCEL, REFER, "
                         "NOTIFY\r\n");
    answer = mem_deref(answer);
    if (err) {
        sip_treply(NULL, srv->sip, msg, 500, "Server Error");
        goto fail;
    }
    list_append(&srv->calls, &sc->le, sc);
    srv->ncalls++;
    pthread_mutex_lock(&srv->lock);
    srv->calls_total++;
    pthread_mutex_unlock(&srv->lock);
    gu_log_info("voice.sip.answer", "call=%s law=%s events=%d", sc->id,
                sc->law == VOICE_PCMA ? "PCMA" : "PCMU", sc->tel_pt);
    sc->marker = true;
    sc->next = tmr_jiffies();
    tmr_start(&sc->tmr, 0, tick, sc);
    return;
fail:
    mem_deref(answer);
    mem_deref(sc);
}

static void
stop_now(void *arg)
{
    (void)arg;
    re_cancel();
}

static void
on_sip_exit(void *arg)
{
    (void)arg;
    re_cancel();
}

static void
mq_h(int id, void *data, void *arg)
{
    struct voice_sip_server *srv = arg;
    struct le *le;

    (void)data;
    if (id != MQ_STOP)
        return;
    srv->stopping = true;
    /* Every call hangs up (BYE); voicemails are filed. */
    while ((le = list_head(&srv->calls)) != NULL)
        call_end(le->data, true);
    tmr_start(&srv->stop_tmr, STOP_GRACE_MS, stop_now, srv);
    sip_close(srv->sip, false); /* exit handler once the BYEs are done */
}

static void *
sip_main(void *arg)
{
    struct voice_sip_server *srv = arg;
    struct sa la;
    int err;

    err = libre_init();
    if (!err)
        err = sa_decode(&srv->laddr, srv->addr, strlen(srv->addr));
    if (!err)
        err = sip_alloc(&srv->sip, NULL, 32, 32, 32, "Guichet", on_sip_exit,
                        srv);
    if (!err)
        err = sip_transp_add(srv->sip, SIP_TRANSP_UDP, &srv->laddr);
    if (!err)
        err = sip_transp_laddr(srv->sip, &la, SIP_TRANSP_UDP, NULL);
    if (!err)
        err = sip_listen(&srv->notify_lsnr, srv->sip, true, notify_h, srv);
    if (!err)
        err = sipsess_listen(&srv->sock, srv->sip, 32, conn_h, srv);
    if (!err)
        err = mqueue_alloc(&srv->mq, mq_h, srv);
    pthread_mutex_lock(&srv->lock);
    srv->start_err = err;
    srv->port = err ? 0 : sa_port(&la);
    srv->ready = true;
    pthread_cond_signal(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    if (!err)
        re_main(NULL);
    tmr_cancel(&srv->stop_tmr);
    srv->sock = mem_deref(srv->sock);
    srv->notify_lsnr = mem_deref(srv->notify_lsnr);
    srv->sip = mem_deref(srv->sip);
    srv->mq = mem_deref(srv->mq);
    libre_close();
    return NULL;
}

int
voice_sip_start(struct voice_phone *ph, const char *addr, unsigned max_calls,
                struct voice_sip_server **out, struct gu_err *err)
{
    struct voice_sip_server *s;

    *out = NULL;
    if (!addr || !strchr(addr, ':') || strlen(addr) >= 64)
        return gu_err_set(err, GU_EINVAL, "voice.phone_sip",
                          "Adresse SIP invalide : écrivez par exemple "
                          "127.0.0.1:5060.",
                          "bad sip address");
    if (max_calls == 0 || max_calls > 500)
        return gu_err_set(err, GU_EINVAL, "voice.phone_max_calls",
                          "Nombre d'appels simultanés entre 1 et 500.",
                          "bad max_calls");
    if (!(s = gu_calloc(1, sizeof(*s))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    s->ph = ph;
    s->max = max_calls;
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, sip_main, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        gu_free(s);
        return gu_err_set(err, GU_EIO, NULL, NULL, "sip thread");
    }
    pthread_mutex_lock(&s->lock);
    while (!s->ready)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->start_err) {
        int e = s->start_err;
        pthread_join(s->thread, NULL);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        gu_free(s);
        return gu_err_set(err, GU_EIO, "voice.phone_sip",
                          "Impossible d'écouter en SIP à cette adresse "
                          "(port déjà pris ?).",
                          "sip listen %s: %s", addr, strerror(e));
    }
    gu_log_info("voice.sip.listen", "addr=%s port=%u max_calls=%u", addr,
                s->port, max_calls);
    *out = s;
    return 0;
}

unsigned
voice_sip_port(const struct voice_sip_server *s)
{
    return s->port;
}

unsigned
voice_sip_calls(struct voice_sip_server *s)
{
    unsigned n;

    pthread_mutex_lock(&s->lock);
    n = s->calls_total;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void
voice_sip_stop(struct voice_sip_server *s)
{
    if (!s)
        return;
    mqueue_push(s->mq, MQ_STOP, NULL);
    pthread_join(s->thread, NULL);
    /* The loop thread has been joined: its counters can be read. */
    gu_log_info("voice.sip.stop",
                "calls=%u max_gap_ms=%llu max_late_ms=%llu max_step_ms=%llu",
                s->calls_total, (unsigned long long)s->max_gap_ms,
                (unsigned long long)s->max_late_ms,
                (unsigned long long)s->max_step_ms);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    gu_free(s);
}
