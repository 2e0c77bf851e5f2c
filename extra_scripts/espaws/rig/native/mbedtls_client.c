/* Probe client on mbedTLS 2.28, loading data/ the way arduino-esp32's WiFiClientSecure
 * does: each PEM file as NUL-terminated text, parsed with length strlen + 1 by
 * mbedtls_x509_crt_parse / mbedtls_pk_parse_key; verification required, TLS 1.2,
 * SNI = server name. */
#include "probe_common.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mbedtls_link {
    int fd;
    int64_t deadline;    /* for the BIO callbacks, set before each library call */
    int socket_ended;    /* the TCP connection failed or the peer closed it */
    int last_error;      /* last mbedTLS error from a read or write */
    int late_alert;      /* alert found after our write failed, -1 when none */
    mbedtls_ssl_context ssl;
};

struct tls_material {
    mbedtls_x509_crt cas;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
};

static void error_text(int err, char *out, size_t len)
{
    mbedtls_strerror(err, out, len);
}

/* Read a PEM file and parse it as the ESP32 does: text up to the first NUL, length strlen+1. */
static int parse_pem_file(const char *path, int is_key, void *target, struct probe_result *r)
{
    size_t len;
    char why[160];
    char *text = (char *)probe_read_file(path, &len);
    int rc;
    if (!text) {
        probe_set(r, "input", "cannot read %s", path);
        return -1;
    }
    rc = is_key ? mbedtls_pk_parse_key(target, (unsigned char *)text, strlen(text) + 1, NULL, 0)
                : mbedtls_x509_crt_parse(target, (unsigned char *)text, strlen(text) + 1);
    free(text);
    /* Like the ESP32 client, only a negative result is an error (a positive one counts
     * certificates that failed while others parsed). */
    if (rc < 0) {
        error_text(rc, why, sizeof why);
        r->code = rc;
        probe_set(r, "input", "%s: mbedTLS cannot parse it: %s (-0x%04x)", path, why, -rc);
        return -1;
    }
    return 0;
}

static int send_cb(void *ctx, const unsigned char *buf, size_t len)
{
    struct mbedtls_link *l = ctx;
    long n = probe_send(l->fd, buf, len, l->deadline);
    if (n == -2)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    if (n <= 0) {
        l->socket_ended = 1;
        l->late_alert = probe_read_late_alert(l->fd, l->deadline);
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

static int recv_timeout_cb(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    struct mbedtls_link *l = ctx;
    long n;
    (void)timeout_ms; /* our own deadline bounds the whole step */
    n = probe_recv(l->fd, buf, len, l->deadline);
    if (n == -2)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    if (n <= 0) {
        l->socket_ended = 1;
        return n == 0 ? 0 : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)n;
}

static int link_write_all(void *ctx, const unsigned char *buf, size_t len, int64_t deadline)
{
    struct mbedtls_link *l = ctx;
    l->deadline = deadline;
    while (len) {
        int n = mbedtls_ssl_write(&l->ssl, buf, len);
        if (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (n == MBEDTLS_ERR_SSL_TIMEOUT)
            return -2;
        if (n < 0) {
            l->last_error = n;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int link_read_some(void *ctx, unsigned char *buf, size_t len, int64_t deadline)
{
    struct mbedtls_link *l = ctx;
    l->deadline = deadline;
    for (;;) {
        int n = mbedtls_ssl_read(&l->ssl, buf, len);
        if (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (n == MBEDTLS_ERR_SSL_TIMEOUT)
            return -2;
        if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_SSL_CONN_EOF)
            return 0;
        if (n < 0) {
            l->last_error = n;
            return 0; /* ended: describe_end tells how */
        }
        return n;
    }
}

static void link_describe_end(void *ctx, char *out, size_t out_len)
{
    struct mbedtls_link *l = ctx;
    char why[160];
    if (l->last_error == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        int alert = l->ssl.in_msg[1];
        snprintf(out, out_len, "the server sent alert %d (%s)", alert, tls_alert_name(alert));
    } else if (l->last_error) {
        error_text(l->last_error, why, sizeof why);
        snprintf(out, out_len, "%s (-0x%04x)", why, -l->last_error);
    } else if (l->socket_ended) {
        snprintf(out, out_len, "TCP connection closed without a TLS alert");
    } else {
        out[0] = 0;
    }
}

static const char *verify_reason(uint32_t flags)
{
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return "unknown-ca";
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        return "expired";
    if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        return "not-yet-valid";
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        return "name-mismatch";
    return "other";
}

/* Which side refused the handshake, from mbedTLS's error and state. */
static void classify_handshake_error(struct mbedtls_link *l, int err, const char *servername,
                                     struct probe_result *r)
{
    char why[256];
    r->code = err;
    if (err == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&l->ssl);
        int n;
        r->side = "client-verify";
        r->reason = verify_reason(flags);
        n = mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
        while (n > 0 && (why[n - 1] == '\n'))
            why[--n] = 0;
        for (char *c = why; *c; c++)
            if (*c == '\n')
                *c = ';';
        probe_set(r, "tls", "we refused the server's certificate for %s: %s", servername, why);
    } else if (err == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || l->late_alert >= 0) {
        r->side = "server-alert";
        r->alert = l->late_alert >= 0 ? l->late_alert : l->ssl.in_msg[1];
        probe_set(r, "tls", "the server refused the handshake: it sent alert %d (%s)", r->alert,
                  tls_alert_name(r->alert));
    } else if (l->socket_ended || err == MBEDTLS_ERR_SSL_CONN_EOF ||
               err == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        r->side = "closed";
        probe_set(r, "tls", "the server closed the connection during the handshake");
    } else {
        r->side = "client-error";
        error_text(err, why, sizeof why);
        probe_set(r, "tls", "mbedTLS handshake error: %s (-0x%04x)", why, -err);
    }
}

static int load_material(const struct probe_options *o, struct tls_material *m,
                         struct probe_result *r)
{
    for (int i = 0; i < o->ca_count; i++)
        if (parse_pem_file(o->ca_files[i], 0, &m->cas, r))
            return -1;
    return parse_pem_file(o->cert_file, 0, &m->cert, r) || parse_pem_file(o->key_file, 1, &m->key, r)
               ? -1
               : 0;
}

static int configure(const struct probe_options *o, struct tls_material *m,
                     struct mbedtls_link *l, struct probe_result *r)
{
    static const char personalisation[] = "aws-iot-probe";
    int rc = mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy,
                                   (const unsigned char *)personalisation, sizeof personalisation);
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(&m->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc == 0) {
        mbedtls_ssl_conf_authmode(&m->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&m->conf, &m->cas, NULL);
        mbedtls_ssl_conf_rng(&m->conf, mbedtls_ctr_drbg_random, &m->drbg);
        mbedtls_ssl_conf_min_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_max_version(&m->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_read_timeout(&m->conf, (uint32_t)o->timeout_ms);
        rc = mbedtls_ssl_conf_own_cert(&m->conf, &m->cert, &m->key);
    }
    if (rc == 0)
        rc = mbedtls_ssl_setup(&l->ssl, &m->conf);
    if (rc == 0)
        rc = mbedtls_ssl_set_hostname(&l->ssl, o->servername);
    if (rc != 0) {
        char why[160];
        error_text(rc, why, sizeof why);
        r->code = rc;
        probe_set(r, "tls", "mbedTLS set-up failed: %s (-0x%04x)", why, -rc);
        r->side = "client-error";
        return -1;
    }
    mbedtls_ssl_set_bio(&l->ssl, l, send_cb, NULL, recv_timeout_cb);
    return 0;
}

static int handshake(struct mbedtls_link *l, int timeout_ms)
{
    int rc;
    l->deadline = probe_now_ms() + timeout_ms;
    do
        rc = mbedtls_ssl_handshake(&l->ssl);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    return rc;
}

int main(int argc, char **argv)
{
    static struct mbedtls_link l;
    static struct tls_material m;
    struct probe_options o;
    struct probe_result r;
    struct tls_link link = {&l, link_write_all, link_read_some, link_describe_end};
    int rc;
    if (probe_parse_args(argc, argv, &o))
        return 2;
    probe_result_init(&r);
    mbedtls_x509_crt_init(&m.cas);
    mbedtls_x509_crt_init(&m.cert);
    mbedtls_pk_init(&m.key);
    mbedtls_entropy_init(&m.entropy);
    mbedtls_ctr_drbg_init(&m.drbg);
    mbedtls_ssl_config_init(&m.conf);
    mbedtls_ssl_init(&l.ssl);
    l.late_alert = -1;
    if (load_material(&o, &m, &r))
        return probe_finish(&r, "mbedtls");
    if ((l.fd = probe_connect_tcp(&o, &r)) < 0)
        return probe_finish(&r, "mbedtls");
    if (configure(&o, &m, &l, &r) == 0) {
        rc = handshake(&l, o.timeout_ms);
        if (rc == MBEDTLS_ERR_SSL_TIMEOUT) {
            r.stage = "tls-handshake";
            probe_set(&r, "timeout", "TLS handshake did not finish within %d ms", o.timeout_ms);
        } else if (rc != 0) {
            classify_handshake_error(&l, rc, o.servername, &r);
        } else {
            probe_step("tls", "%s handshake done, %s, server name %s",
                       mbedtls_ssl_get_version(&l.ssl), mbedtls_ssl_get_ciphersuite(&l.ssl),
                       o.servername);
            probe_mqtt_round_trip(&link, &o, &r);
            mbedtls_ssl_close_notify(&l.ssl);
        }
    }
    close(l.fd);
    mbedtls_ssl_free(&l.ssl);
    mbedtls_ssl_config_free(&m.conf);
    mbedtls_ctr_drbg_free(&m.drbg);
    mbedtls_entropy_free(&m.entropy);
    mbedtls_pk_free(&m.key);
    mbedtls_x509_crt_free(&m.cert);
    mbedtls_x509_crt_free(&m.cas);
    return probe_finish(&r, "mbedtls");
}
