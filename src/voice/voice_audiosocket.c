/*
 * voice_audiosocket.c - Asterisk AudioSocket server: a town's Asterisk or
 * FreePBX routes a call with `AudioSocket(uuid, host:port)` (dialplan) and
 * Guichet's bot answers it.
 *
 * Protocol (Asterisk's res_audiosocket): a TCP stream of frames, type
 * (1 byte), payload length (2 bytes, big-endian), payload. 0x01 the
 * call's UUID (16 bytes, first frame), 0x10 audio (signed linear 16-bit
 * little-endian, 8 kHz mono, 20 ms = 320 bytes usually), 0x03 a DTMF
 * digit (one ASCII byte, newer Asterisk), 0x00 hangup, 0xff error. The
 * same frames go back with our audio; 0x00 hangs up.
 *
 * Threads: one accept thread; one thread per call, in a fixed table of
 * max_calls slots (a call beyond is answered with an error frame and
 * closed). A call thread paces its audio at 20 ms a frame on the
 * monotonic clock and reads what arrives meanwhile (poll). Stop: a pipe
 * wakes the accept thread and every call thread; each call sends a
 * hangup frame, files its voicemail if one was being recorded
 * (voice_call_free), and is joined.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "voice/voice_phone.h"

#define AS_HANGUP 0x00
#define AS_UUID 0x01
#define AS_DTMF 0x03
#define AS_AUDIO 0x10
#define AS_ERROR 0xff
#define AS_PAYLOAD_MAX 4096u
#define AS_FIRST_FRAME_MS 5000 /* the UUID must come within this */
#define AS_LINGER_MS 1000 /* reading the peer's rest before close */
#define AS_LINGER_MAX_BYTES (256u << 10)
#define AS_READ_MS 5000        /* the rest of a frame once it started */

struct slot {
    struct voice_as_server *srv;
    pthread_t thread;
    int fd;
    bool used;         /* thread started, not joined yet */
    atomic_bool done;  /* thread finished, may be joined */
};

struct voice_as_server {
    struct voice_phone *ph;
    int lfd;
    int wake[2]; /* pipe: readable once stop is asked */
    unsigned port;
    pthread_t accept_thread;
    atomic_bool stop;
    atomic_uint calls;
    unsigned max;
    pthread_mutex_t lock; /* slots */
    struct slot *slots;
};

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of buf; false on error. */
static bool
write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool
send_frame(int fd, unsigned type, const void *payload, size_t n)
{
    unsigned char h[3] = {(unsigned char)type, (unsigned char)(n >> 8),
                          (unsigned char)(n & 0xff)};
    return write_all(fd, h, 3) && (n == 0 || write_all(fd, payload, n));
}

/*
 * Read exactly n bytes within ms milliseconds, waking on stop.
 * 1 done, 0 peer closed or timeout, -1 error or stop.
 */
static int
read_exact(struct voice_as_server *s, int fd, void *buf, size_t n, int ms)
{
    unsigned char *p = buf;
    int64_t until = mono_ms() + ms;

    while (n) {
        int64_t left = until - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pf[2] = {{fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        int r = poll(pf, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || pf[1].revents)
            return -1;
        if (!pf[0].revents)
            continue;
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

static void
uuid_text(const unsigned char *u, char *out, size_t cap)
{
    snprintf(out, cap,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
}

/* One call, start to end. */
static void
serve_call(struct voice_as_server *s, int fd)
{
    unsigned char h[3], payload[AS_PAYLOAD_MAX];
    int16_t pcm[AS_PAYLOAD_MAX / 2], out[VOICE_FRAME];
    unsigned char wire[VOICE_FRAME * 2];
    struct voice_call *c = NULL;
    struct gu_err err;
    char id[40];
    const char *why = "fin";
    int64_t next;

    gu_err_clear(&err);
    /* The UUID first. */
    if (read_exact(s, fd, h, 3, AS_FIRST_FRAME_MS) != 1 || h[0] != AS_UUID ||
        (h[1] << 8 | h[2]) != 16 ||
        read_exact(s, fd, payload, 16, AS_READ_MS) != 1) {
        gu_log_warn("voice.as.refused", "reason=no_uuid");
        send_frame(fd, AS_ERROR, NULL, 0);
        return;
    }
    uuid_text(payload, id, sizeof(id));
    if (voice_call_new(s->ph, NULL, id, &c, &err) < 0) {
        gu_log_error("voice.as.refused", "call=%s reason=call_new", id);
        send_frame(fd, AS_ERROR, NULL, 0);
        return;
    }

    next = mono_ms();
    for (;;) {
        int64_t now = mono_ms();
        if (now >= next) {
            enum voice_action act = voice_call_audio_out(c, out);
            for (size_t i = 0; i < VOICE_FRAME; i++) {
                uint16_t v = (uint16_t)out[i];
                wire[2 * i] = (unsigned char)(v & 0xff);
                wire[2 * i + 1] = (unsigned char)(v >> 8);
            }
            if (!send_frame(fd, AS_AUDIO, wire, sizeof(wire))) {
                why = "ecriture";
                break;
            }
            if (act != VOICE_ACT_CONTINUE) {
                /* AudioSocket cannot transfer: the phone is made with
                 * can_transfer false, so this is a hang-up. */
                send_frame(fd, AS_HANGUP, NULL, 0);
                why = "raccroche_bot";
                break;
            }
            next += 20;
            if (now - next > 200)
                next = now; /* far behind (a slow synthesis): resync */
            continue;
        }
        struct pollfd pf[2] = {{fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        int r = poll(pf, 2, (int)(next - now));
        if (r < 0 && errno != EINTR) {
            why = "poll";
            break;
        }
        if (r <= 0)
            continue;
        if (pf[1].revents) {
            send_frame(fd, AS_HANGUP, NULL, 0);
            why = "arret";
            break;
        }
        if (!pf[0].revents)
            continue;
        if (read_exact(s, fd, h, 3, AS_READ_MS) != 1) {
            why = "deconnexion";
            break;
        }
        size_t n = (size_t)h[1] << 8 | h[2];
        if (n > AS_PAYLOAD_MAX) {
            send_frame(fd, AS_ERROR, NULL, 0);
            why = "trame_trop_longue";
            break;
        }
        if (n && read_exact(s, fd, payload, n, AS_READ_MS) != 1) {
            why = "deconnexion";
            break;
        }
        if (h[0] == AS_HANGUP) {
            why = "raccroche_appelant";
            break;
        } else if (h[0] == AS_ERROR) {
            why = "erreur_asterisk";
            break;
        } else if (h[0] == AS_AUDIO) {
            size_t k = n / 2;
            for (size_t i = 0; i < k; i++)
                pcm[i] = (int16_t)(uint16_t)(payload[2 * i] |
                                             payload[2 * i + 1] << 8);
            voice_call_audio_in(c, pcm, k);
        } else if (h[0] == AS_DTMF && n >= 1) {
            voice_call_digit(c, (char)payload[0]);
        }
        /* Other types (a second UUID...) are ignored. */
    }
    gu_log_info("voice.as.end", "call=%s reason=%s state=%s", id, why,
                voice_call_state(c));
    voice_call_free(c);
}

/*
 * Close after our last frame: send FIN, then read what the peer still
 * sends (bounded in bytes and time) before close(). Closing with unread
 * input makes the kernel answer RST, which can destroy our last frame
 * (the 0xff error) before the peer has read it.
 */
static void
close_gracefully(int fd, int linger_ms)
{
    unsigned char sink[4096];
    int64_t until = mono_ms() + linger_ms;
    size_t total = 0;

    if (shutdown(fd, SHUT_WR) == 0) {
        while (total < AS_LINGER_MAX_BYTES) {
            struct pollfd pf = {fd, POLLIN, 0};
            int64_t left = until - mono_ms();
            ssize_t k;
            if (left < 0 || poll(&pf, 1, (int)left) <= 0)
                break;
            k = read(fd, sink, sizeof(sink));
            if (k <= 0)
                break; /* the peer closed too, or an error */
            total += (size_t)k;
        }
    }
    close(fd);
}

static void *
call_main(void *arg)
{
    struct slot *sl = arg;

    serve_call(sl->srv, sl->fd);
    close_gracefully(sl->fd, AS_LINGER_MS);
    sl->fd = -1;
    atomic_store(&sl->done, true);
    return NULL;
}

/* Join finished calls; a free slot or NULL. Locked. */
static struct slot *
free_slot(struct voice_as_server *s)
{
    struct slot *free_one = NULL;

    for (unsigned i = 0; i < s->max; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->used && atomic_load(&sl->done)) {
            pthread_join(sl->thread, NULL);
            sl->used = false;
        }
        if (!sl->used && !free_one)
            free_one = sl;
    }
    return free_one;
}

static void *
accept_main(void *arg)
{
    struct voice_as_server *s = arg;

    for (;;) {
        struct pollfd pf[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        int r = poll(pf, 2, 1000);
        if (atomic_load(&s->stop) || (r > 0 && pf[1].revents))
            break;
        pthread_mutex_lock(&s->lock);
        free_slot(s); /* reap finished calls even when idle */
        pthread_mutex_unlock(&s->lock);
        if (r <= 0 || !pf[0].revents)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_mutex_lock(&s->lock);
        struct slot *sl = free_slot(s);
        if (sl) {
            sl->srv = s;
            sl->fd = fd;
            atomic_store(&sl->done, false);
            if (pthread_create(&sl->thread, NULL, call_main, sl) == 0) {
                sl->used = true;
                atomic_fetch_add(&s->calls, 1);
            } else {
                sl = NULL;
            }
        }
        pthread_mutex_unlock(&s->lock);
        if (!sl) {
            gu_log_warn("voice.as.busy", "max_calls=%u", s->max);
            send_frame(fd, AS_ERROR, NULL, 0);
            /* the accepting thread: only what has already arrived */
            close_gracefully(fd, 0);
        }
    }
    return NULL;
}

/* "host:port" -> IPv4 address (numeric host). */
static int
parse_addr(const char *addr, struct sockaddr_in *sa, struct gu_err *err)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    char host[64];
    long port;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (!colon || (size_t)(colon - addr) >= sizeof(host) ||
        gu_parse_long(colon + 1, 0, 65535, &port) < 0)
        goto bad;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa->sin_addr) != 1)
        goto bad;
    sa->sin_port = htons((uint16_t)port);
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "voice.phone_audiosocket",
                      "Adresse d'écoute invalide : écrivez par exemple "
                      "127.0.0.1:9092.",
                      "bad audiosocket address");
}

int
voice_as_start(struct voice_phone *ph, const char *addr, unsigned max_calls,
               struct voice_as_server **out, struct gu_err *err)
{
    struct voice_as_server *s = NULL;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int rc, one = 1;

    *out = NULL;
    if ((rc = parse_addr(addr, &sa, err)) < 0)
        return rc;
    if (max_calls == 0 || max_calls > 500)
        return gu_err_set(err, GU_EINVAL, "voice.phone_max_calls",
                          "Nombre d'appels simultanés entre 1 et 500.",
                          "bad max_calls");
    if (!(s = gu_calloc(1, sizeof(*s))) ||
        !(s->slots = gu_calloc(max_calls, sizeof(*s->slots)))) {
        gu_free(s);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    }
    s->ph = ph;
    s->max = max_calls;
    s->lfd = -1;
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (pipe(s->wake) < 0 ||
        (s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(s->lfd, 64) < 0 ||
        getsockname(s->lfd, (struct sockaddr *)&sa, &len) < 0) {
        rc = gu_err_set(err, GU_EIO, "voice.phone_audiosocket",
                        "Impossible d'écouter à cette adresse (port déjà "
                        "pris ?).",
                        "audiosocket listen %s: %s", addr, strerror(errno));
        goto fail;
    }
    s->port = ntohs(sa.sin_port);
    if (pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "accept thread");
        goto fail;
    }
    gu_log_info("voice.as.listen", "addr=%s port=%u max_calls=%u", addr,
                s->port, max_calls);
    *out = s;
    return 0;
fail:
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    pthread_mutex_destroy(&s->lock);
    gu_free(s->slots);
    gu_free(s);
    return rc;
}

unsigned
voice_as_port(const struct voice_as_server *s)
{
    return s->port;
}

unsigned
voice_as_calls(const struct voice_as_server *s)
{
    return atomic_load(&((struct voice_as_server *)s)->calls);
}

void
voice_as_stop(struct voice_as_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    if (write(s->wake[1], "x", 1) < 0) {
        /* The accept thread also polls the stop flag every second. */
    }
    pthread_join(s->accept_thread, NULL);
    for (unsigned i = 0; i < s->max; i++)
        if (s->slots[i].used)
            pthread_join(s->slots[i].thread, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->lock);
    gu_log_info("voice.as.stop", "calls=%u", atomic_load(&s->calls));
    gu_free(s->slots);
    gu_free(s);
}
