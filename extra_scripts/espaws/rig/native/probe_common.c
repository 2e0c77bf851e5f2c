/* Arguments, DNS, TCP, minimal MQTT 3.1.1 and the result line, shared by both clients. */
#define _GNU_SOURCE
#include "probe_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MQTT_MAX_PACKET = 65536, MQTT_KEEPALIVE_S = 60, MQTT_PACKET_ID = 1 };
enum { PKT_CONNACK = 2, PKT_PUBLISH = 3, PKT_SUBACK = 9 };

static int usage(const char *why)
{
    fprintf(stderr, "error: %s\nusage: CLIENT --host H [--port 8883] [--servername NAME] --ca FILE "
                    "[--ca FILE ...] --cert FILE --key FILE [--client-id ID] [--topic T] "
                    "[--payload P] [--timeout-ms MS]\n", why);
    return -1;
}

int probe_parse_args(int argc, char **argv, struct probe_options *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'},       {"port", required_argument, 0, 'p'},
        {"servername", required_argument, 0, 's'}, {"ca", required_argument, 0, 'a'},
        {"cert", required_argument, 0, 'c'},       {"key", required_argument, 0, 'k'},
        {"client-id", required_argument, 0, 'i'},  {"topic", required_argument, 0, 't'},
        {"payload", required_argument, 0, 'm'},    {"timeout-ms", required_argument, 0, 'w'},
        {0, 0, 0, 0}};
    int ch;
    memset(o, 0, sizeof *o);
    o->port = 8883;
    o->client_id = "aws-iot-probe";
    o->topic = "aws-iot-probe/echo";
    o->payload = "probe";
    o->timeout_ms = 10000;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 's': o->servername = optarg; break;
        case 'a':
            if (o->ca_count == PROBE_MAX_CAS)
                return usage("too many --ca files");
            o->ca_files[o->ca_count++] = optarg;
            break;
        case 'c': o->cert_file = optarg; break;
        case 'k': o->key_file = optarg; break;
        case 'i': o->client_id = optarg; break;
        case 't': o->topic = optarg; break;
        case 'm': o->payload = optarg; break;
        case 'w': o->timeout_ms = atoi(optarg); break;
        default: return usage("unknown option");
        }
    }
    if (!o->host || !o->cert_file || !o->key_file || o->ca_count == 0)
        return usage("--host, --ca, --cert and --key are required");
    if (o->port <= 0 || o->port > 65535 || o->timeout_ms <= 0)
        return usage("--port and --timeout-ms must be positive");
    if (!o->servername)
        o->servername = o->host;
    return 0;
}

void probe_result_init(struct probe_result *r)
{
    memset(r, 0, sizeof *r);
    r->layer = "internal";
    r->alert = -1;
    r->code = -1;
}

void probe_set(struct probe_result *r, const char *layer, const char *fmt, ...)
{
    va_list ap;
    r->layer = layer;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

void probe_step(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("STEP %s ok ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json_field(const char *name, const char *value)
{
    if (!value)
        return;
    printf(",\"%s\":", name);
    print_json_string(value);
}

int probe_finish(const struct probe_result *r, const char *library)
{
    printf("RESULT {\"layer\":");
    print_json_string(r->layer);
    print_json_field("library", library);
    print_json_field("stage", r->stage);
    print_json_field("side", r->side);
    print_json_field("reason", r->reason);
    if (r->alert >= 0) {
        printf(",\"alert\":%d", r->alert);
        print_json_field("alert_name", tls_alert_name(r->alert));
    }
    if (r->code != -1)
        printf(",\"code\":%d", r->code);
    print_json_field("detail", r->detail);
    printf("}\n");
    fflush(stdout);
    return strcmp(r->layer, "ok") == 0 ? 0 : 1;
}

int64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int probe_wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - probe_now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int n;
        if (left <= 0)
            return 0;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

long probe_send(int fd, const unsigned char *buf, size_t len, int64_t deadline_ms)
{
    for (;;) {
        long n;
        int ready = probe_wait_fd(fd, POLLOUT, deadline_ms);
        if (ready <= 0)
            return ready == 0 ? -2 : -1;
        /* MSG_NOSIGNAL: a peer that closed after its alert must not kill us with SIGPIPE. */
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno != EINTR && errno != EAGAIN)
            return -1;
    }
}

long probe_recv(int fd, unsigned char *buf, size_t len, int64_t deadline_ms)
{
    for (;;) {
        long n;
        int ready = probe_wait_fd(fd, POLLIN, deadline_ms);
        if (ready <= 0)
            return ready == 0 ? -2 : -1;
        n = recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno != EINTR && errno != EAGAIN)
            return -1;
    }
}

int probe_read_late_alert(int fd, int64_t deadline_ms)
{
    unsigned char buf[4096];
    size_t used = 0, at = 0;
    long n;
    /* A short wait is enough: the alert was sent before the close that broke our write. */
    int64_t until = probe_now_ms() + 1000;
    if (until > deadline_ms)
        until = deadline_ms;
    while (used < sizeof buf && (n = probe_recv(fd, buf + used, sizeof buf - used, until)) > 0)
        used += (size_t)n;
    /* Walk the records: type, version (2), length (2), body. Alert = type 21, 2 bytes. */
    while (at + 5 <= used) {
        size_t len = (size_t)buf[at + 3] << 8 | buf[at + 4];
        if (buf[at] == 21 && len == 2 && at + 7 <= used)
            return buf[at + 6];
        at += 5 + len;
    }
    return -1;
}

unsigned char *probe_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, used = 0;
    if (!f)
        return NULL;
    for (;;) {
        size_t n;
        if (used + 4096 + 1 > cap) {
            unsigned char *bigger = realloc(buf, cap = used + 65536);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[used] = 0;
    *len = used;
    return buf;
}

/* Connect with a bounded wait: a non-blocking connect, then poll for writability. */
static int connect_bounded(const struct addrinfo *ai, int64_t deadline_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int flags, ready;
    socklen_t errlen = sizeof *err;
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        *err = 0;
        return fd;
    }
    if (errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return -1;
    }
    ready = probe_wait_fd(fd, POLLOUT, deadline_ms);
    if (ready <= 0) {
        *err = ready == 0 ? ETIMEDOUT : errno;
        close(fd);
        return -1;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &errlen);
    if (*err) {
        close(fd);
        return -1;
    }
    return fd;
}

int probe_connect_tcp(const struct probe_options *o, struct probe_result *r)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list, *ai;
    char port[16], addr[NI_MAXHOST] = "?";
    int rc, fd = -1, err = 0;
    int64_t deadline = probe_now_ms() + o->timeout_ms;
    snprintf(port, sizeof port, "%d", o->port);
    rc = getaddrinfo(o->host, port, &hints, &list);
    if (rc != 0) {
        probe_set(r, "dns", "cannot resolve %s: %s", o->host, gai_strerror(rc));
        r->code = rc;
        return -1;
    }
    getnameinfo(list->ai_addr, list->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST);
    probe_step("dns", "%s -> %s", o->host, addr);
    for (ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_bounded(ai, deadline, &err);
        if (fd >= 0)
            getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST);
    }
    freeaddrinfo(list);
    if (fd < 0) {
        if (err == ETIMEDOUT) {
            r->stage = "tcp-connect";
            probe_set(r, "timeout", "no TCP answer from %s port %d within %d ms", o->host, o->port,
                      o->timeout_ms);
        } else {
            probe_set(r, "tcp", "cannot connect to %s port %d: %s", o->host, o->port, strerror(err));
        }
        r->code = err;
        return -1;
    }
    probe_step("tcp", "connected to %s port %d", addr, o->port);
    return fd;
}

const char *tls_alert_name(int alert)
{
    switch (alert) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown_alert";
    }
}

/* ---- MQTT 3.1.1: just the packets a probe needs ---- */

struct packet {
    unsigned char type;
    unsigned char flags;
    unsigned char body[MQTT_MAX_PACKET];
    size_t len;
};

struct writer {
    unsigned char buf[MQTT_MAX_PACKET];
    size_t len;
};

static void put_byte(struct writer *w, unsigned char b)
{
    if (w->len < sizeof w->buf)
        w->buf[w->len++] = b;
}

static void put_u16(struct writer *w, unsigned v)
{
    put_byte(w, (unsigned char)(v >> 8));
    put_byte(w, (unsigned char)v);
}

static void put_string(struct writer *w, const char *s)
{
    size_t n = strlen(s);
    put_u16(w, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        put_byte(w, (unsigned char)s[i]);
}

/* Fixed header + variable-length "remaining length" + body. */
static int send_packet(struct tls_link *link, unsigned char first, const struct writer *body,
                       int64_t deadline)
{
    unsigned char head[5];
    size_t n = 0, rest = body->len;
    static unsigned char out[MQTT_MAX_PACKET + 5];
    head[n++] = first;
    do {
        unsigned char digit = rest % 128;
        rest /= 128;
        head[n++] = digit | (rest ? 0x80 : 0);
    } while (rest);
    memcpy(out, head, n);
    memcpy(out + n, body->buf, body->len);
    return link->write_all(link->ctx, out, n + body->len, deadline);
}

static int read_exact(struct tls_link *link, unsigned char *buf, size_t len, int64_t deadline)
{
    while (len) {
        int n = link->read_some(link->ctx, buf, len, deadline);
        if (n <= 0)
            return n;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

/* 1 packet read, 0 closed, -1 error, -2 timeout, -3 protocol error. */
static int read_packet(struct tls_link *link, struct packet *p, int64_t deadline)
{
    unsigned char b;
    size_t len = 0;
    int shift = 0, rc;
    if ((rc = read_exact(link, &b, 1, deadline)) <= 0)
        return rc;
    p->type = b >> 4;
    p->flags = b & 0x0f;
    do {
        if ((rc = read_exact(link, &b, 1, deadline)) <= 0)
            return rc;
        len |= (size_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 28);
    if (len > sizeof p->body)
        return -3;
    p->len = len;
    return len ? read_exact(link, p->body, len, deadline) : 1;
}

static const char *connack_meaning(int code)
{
    switch (code) {
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "unknown return code";
    }
}

/* Fill r for a read that did not give a packet while waiting in `stage`. */
static void set_read_failure(struct tls_link *link, struct probe_result *r, int rc,
                             const char *closed_layer, const char *stage, const char *awaited,
                             int timeout_ms)
{
    char why[256] = "";
    if (rc == -1)
        rc = 0; /* a failed read or write means the link ended: report it as closed */
    if (rc == -2) {
        r->stage = stage;
        probe_set(r, "timeout", "no answer within %d ms while waiting for %s", timeout_ms,
                  awaited);
    } else if (rc == -3) {
        probe_set(r, "mqtt-protocol", "malformed MQTT packet while waiting for %s", awaited);
    } else {
        link->describe_end(link->ctx, why, sizeof why);
        probe_set(r, closed_layer, "the server closed the connection while we waited for %s%s%s",
                  awaited, why[0] ? ": " : "", why);
    }
}

static int topic_matches(const struct packet *p, const char *topic, const char *payload)
{
    size_t tlen, offset;
    if (p->len < 2)
        return 0;
    tlen = (size_t)p->body[0] << 8 | p->body[1];
    offset = 2 + tlen + ((p->flags & 0x06) ? 2 : 0);  /* QoS > 0 carries a packet id */
    return offset <= p->len && tlen == strlen(topic) && memcmp(p->body + 2, topic, tlen) == 0 &&
           p->len - offset == strlen(payload) &&
           memcmp(p->body + offset, payload, p->len - offset) == 0;
}

/* Wait for a packet of `type` (others, e.g. foreign PUBLISHes, are skipped). */
static int await_packet(struct tls_link *link, struct packet *p, unsigned char type,
                        int64_t deadline)
{
    for (;;) {
        int rc = read_packet(link, p, deadline);
        if (rc != 1 || p->type == type)
            return rc;
    }
}

static int mqtt_connect(struct tls_link *link, const struct probe_options *o,
                        struct probe_result *r, struct packet *p)
{
    struct writer w = {.len = 0};
    int64_t deadline = probe_now_ms() + o->timeout_ms;
    int rc;
    put_string(&w, "MQTT");
    put_byte(&w, 4);    /* protocol level 3.1.1 */
    put_byte(&w, 0x02); /* clean session, no user name (the certificate is the identity) */
    put_u16(&w, MQTT_KEEPALIVE_S);
    put_string(&w, o->client_id);
    rc = send_packet(link, 0x10, &w, deadline);
    if (rc == 0)
        rc = read_packet(link, p, deadline);
    if (rc != 1) {
        set_read_failure(link, r, rc, "closed-after-connect", "connack", "CONNACK",
                         o->timeout_ms);
        return -1;
    }
    if (p->type != PKT_CONNACK || p->len != 2) {
        probe_set(r, "mqtt-protocol", "expected CONNACK, got packet type %d", p->type);
        return -1;
    }
    if (p->body[1] != 0) {
        r->code = p->body[1];
        probe_set(r, "mqtt-connack", "CONNACK return code %d: %s", p->body[1],
                  connack_meaning(p->body[1]));
        return -1;
    }
    probe_step("mqtt-connect", "CONNACK accepted, client id %s", o->client_id);
    return 0;
}

static int mqtt_subscribe(struct tls_link *link, const struct probe_options *o,
                          struct probe_result *r, struct packet *p)
{
    struct writer w = {.len = 0};
    int64_t deadline = probe_now_ms() + o->timeout_ms;
    int rc;
    put_u16(&w, MQTT_PACKET_ID);
    put_string(&w, o->topic);
    put_byte(&w, 0); /* QoS 0, as PubSubClient subscribes by default */
    rc = send_packet(link, 0x82, &w, deadline);
    if (rc == 0)
        rc = await_packet(link, p, PKT_SUBACK, deadline);
    if (rc != 1) {
        set_read_failure(link, r, rc, "closed-after-subscribe", "suback", "SUBACK",
                         o->timeout_ms);
        return -1;
    }
    if (p->len < 3 || p->body[2] == 0x80) {
        r->code = p->len < 3 ? -1 : 0x80;
        probe_set(r, "mqtt-suback", "the broker refused the subscription to %s (SUBACK 0x80)",
                  o->topic);
        return -1;
    }
    probe_step("mqtt-subscribe", "SUBACK granted QoS %d on %s", p->body[2], o->topic);
    return 0;
}

static int mqtt_publish_and_echo(struct tls_link *link, const struct probe_options *o,
                                 struct probe_result *r, struct packet *p)
{
    struct writer w = {.len = 0};
    int64_t deadline = probe_now_ms() + o->timeout_ms;
    int rc;
    put_string(&w, o->topic);
    for (const char *c = o->payload; *c; c++)
        put_byte(&w, (unsigned char)*c);
    rc = send_packet(link, 0x30, &w, deadline);
    for (;;) {
        if (rc == 0)
            rc = await_packet(link, p, PKT_PUBLISH, deadline);
        if (rc != 1) {
            set_read_failure(link, r, rc, "closed-after-publish", "echo",
                             "our PUBLISH to come back", o->timeout_ms);
            return -1;
        }
        if (topic_matches(p, o->topic, o->payload))
            break;
        rc = 0; /* someone else's message: keep waiting */
    }
    probe_step("mqtt-publish", "PUBLISH to %s came back (%zu bytes)", o->topic, strlen(o->payload));
    return 0;
}

int probe_mqtt_round_trip(struct tls_link *link, const struct probe_options *o,
                          struct probe_result *r)
{
    static struct packet p;
    struct writer disconnect = {.len = 0};
    if (mqtt_connect(link, o, r, &p) || mqtt_subscribe(link, o, r, &p) ||
        mqtt_publish_and_echo(link, o, r, &p))
        return -1;
    send_packet(link, 0xe0, &disconnect, probe_now_ms() + o->timeout_ms);
    probe_set(r, "ok", "CONNECT, SUBSCRIBE and PUBLISH round trip on %s", o->topic);
    return 0;
}
