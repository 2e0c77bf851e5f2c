/* Probe client on BearSSL, loading data/ the way the ESP8266 core's WiFiClientSecure does:
 * each ca*.der becomes one trust anchor through br_x509_decoder (BearSSL::X509List),
 * cert.der is the client chain, private.der goes through br_skey_decoder
 * (BearSSL::PrivateKey: PKCS#1, SEC1 or PKCS#8), then br_ssl_client_init_full,
 * TLS 1.2 only, SNI = server name, certificate dates checked against time(). */
#include "probe_common.h"

#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bytes {
    unsigned char *data;
    size_t len;
};

struct bearssl_link {
    int fd;
    int socket_ended; /* the TCP connection failed or the peer closed it */
    int late_alert;   /* alert found after our write failed, -1 when none */
    br_ssl_client_context cc;
    br_x509_minimal_context xc;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* The ESP8266 core takes a buffer as DER only when it is exactly one DER SEQUENCE. */
static int is_exactly_one_der_object(const unsigned char *d, size_t len)
{
    size_t body, head;
    if (len < 2 || d[0] != 0x30)
        return 0;
    if (d[1] < 0x80) {
        body = d[1];
        head = 2;
    } else {
        size_t n = d[1] & 0x7f;
        if (n == 0 || n > 4 || len < 2 + n)
            return 0;
        body = 0;
        for (size_t i = 0; i < n; i++)
            body = body << 8 | d[2 + i];
        head = 2 + n;
    }
    return head + body == len;
}

static int load_der(const char *path, struct bytes *out, struct probe_result *r)
{
    out->data = probe_read_file(path, &out->len);
    if (!out->data) {
        probe_set(r, "input", "cannot read %s", path);
        return -1;
    }
    if (!is_exactly_one_der_object(out->data, out->len)) {
        probe_set(r, "input", "%s is not exactly one DER object (the ESP8266 reads DER only "
                              "when the outer length equals the file length)", path);
        return -1;
    }
    return 0;
}

static void append_dn(void *ctx, const void *buf, size_t len)
{
    struct bytes *dn = ctx;
    unsigned char *bigger = realloc(dn->data, dn->len + len);
    if (!bigger)
        abort();
    memcpy(bigger + dn->len, buf, len);
    dn->data = bigger;
    dn->len += len;
}

static unsigned char *copy_of(const unsigned char *src, size_t len)
{
    unsigned char *dst = malloc(len ? len : 1);
    if (!dst)
        abort();
    memcpy(dst, src, len);
    return dst;
}

/* One DER certificate -> one trust anchor, as BearSSL::X509List does it. */
static int der_to_trust_anchor(const struct bytes *der, br_x509_trust_anchor *ta)
{
    br_x509_decoder_context dc;
    struct bytes dn = {NULL, 0};
    const br_x509_pkey *pk;
    br_x509_decoder_init(&dc, append_dn, &dn);
    br_x509_decoder_push(&dc, der->data, der->len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (!pk)
        return -1;
    ta->dn.data = dn.data;
    ta->dn.len = dn.len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = copy_of(pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = copy_of(pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    } else {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = copy_of(pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    }
    return 0;
}

static int signer_key_type(const struct bytes *cert_der)
{
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, NULL, NULL);
    br_x509_decoder_push(&dc, cert_der->data, cert_der->len);
    return br_x509_decoder_get_signer_key_type(&dc);
}

struct client_identity {
    br_x509_certificate chain;
    br_skey_decoder_context key;
    int key_type;
    int issuer_key_type;
};

static int load_identity(const struct probe_options *o, struct client_identity *id,
                         struct probe_result *r)
{
    struct bytes cert, key;
    if (load_der(o->cert_file, &cert, r) || load_der(o->key_file, &key, r))
        return -1;
    id->chain.data = cert.data;
    id->chain.data_len = cert.len;
    id->issuer_key_type = signer_key_type(&cert);
    br_skey_decoder_init(&id->key);
    br_skey_decoder_push(&id->key, key.data, key.len);
    if (br_skey_decoder_last_error(&id->key) != 0) {
        r->code = br_skey_decoder_last_error(&id->key);
        probe_set(r, "input", "%s: BearSSL's key decoder rejects it (error %d): use an unencrypted "
                              "PKCS#8, PKCS#1 or SEC1 key", o->key_file, r->code);
        return -1;
    }
    id->key_type = br_skey_decoder_key_type(&id->key);
    return 0;
}

static int load_anchors(const struct probe_options *o, br_x509_trust_anchor *tas,
                        struct probe_result *r)
{
    for (int i = 0; i < o->ca_count; i++) {
        struct bytes der;
        if (load_der(o->ca_files[i], &der, r))
            return -1;
        if (der_to_trust_anchor(&der, &tas[i])) {
            probe_set(r, "input", "%s: BearSSL cannot decode this certificate", o->ca_files[i]);
            return -1;
        }
        free(der.data);
    }
    return 0;
}

/* ---- engine I/O, bounded by a deadline ---- */

/* Drive the engine until one of `want` states is reached: 0, -1 closed/failed, -2 timeout. */
static int pump(struct bearssl_link *l, unsigned want, int64_t deadline)
{
    br_ssl_engine_context *eng = &l->cc.eng;
    for (;;) {
        unsigned state = br_ssl_engine_current_state(eng);
        unsigned char *buf;
        size_t len;
        long n;
        if (state & BR_SSL_CLOSED)
            return -1;
        if (state & BR_SSL_SENDREC) {
            buf = br_ssl_engine_sendrec_buf(eng, &len);
            n = probe_send(l->fd, buf, len, deadline);
            if (n == -2)
                return -2;
            if (n <= 0) {
                l->socket_ended = 1;
                l->late_alert = probe_read_late_alert(l->fd, deadline);
                return -1;
            }
            br_ssl_engine_sendrec_ack(eng, (size_t)n);
            continue;
        }
        if (state & want)
            return 0;
        if (state & BR_SSL_RECVREC) {
            buf = br_ssl_engine_recvrec_buf(eng, &len);
            n = probe_recv(l->fd, buf, len, deadline);
            if (n == -2)
                return -2;
            if (n <= 0) {
                l->socket_ended = 1;
                return -1;
            }
            br_ssl_engine_recvrec_ack(eng, (size_t)n);
            continue;
        }
        /* Unread application data blocks the engine from taking more records. */
        if (state & BR_SSL_RECVAPP)
            return -1;
        br_ssl_engine_flush(eng, 0);
    }
}

static int link_write_all(void *ctx, const unsigned char *buf, size_t len, int64_t deadline)
{
    struct bearssl_link *l = ctx;
    br_ssl_engine_context *eng = &l->cc.eng;
    while (len) {
        size_t room;
        unsigned char *out;
        int rc = pump(l, BR_SSL_SENDAPP, deadline);
        if (rc)
            return rc;
        out = br_ssl_engine_sendapp_buf(eng, &room);
        if (room > len)
            room = len;
        memcpy(out, buf, room);
        br_ssl_engine_sendapp_ack(eng, room);
        buf += room;
        len -= room;
    }
    br_ssl_engine_flush(eng, 0);
    return pump(l, BR_SSL_SENDAPP | BR_SSL_RECVAPP, deadline);
}

static int link_read_some(void *ctx, unsigned char *buf, size_t len, int64_t deadline)
{
    struct bearssl_link *l = ctx;
    br_ssl_engine_context *eng = &l->cc.eng;
    size_t avail;
    unsigned char *in;
    int rc = pump(l, BR_SSL_RECVAPP, deadline);
    if (rc == -2)
        return -2;
    if (rc)
        return 0; /* ended: describe_end tells how */
    in = br_ssl_engine_recvapp_buf(eng, &avail);
    if (avail > len)
        avail = len;
    memcpy(buf, in, avail);
    br_ssl_engine_recvapp_ack(eng, avail);
    return (int)avail;
}

static const char *bearssl_error_name(int err)
{
    switch (err) {
    case BR_ERR_OK: return "closed cleanly";
    case BR_ERR_IO: return "connection closed (I/O error)";
    case BR_ERR_BAD_PARAM: return "bad parameter";
    case BR_ERR_UNSUPPORTED_VERSION: return "unsupported protocol version";
    case BR_ERR_BAD_CIPHER_SUITE: return "bad cipher suite";
    case BR_ERR_NO_CLIENT_AUTH: return "no client authentication possible";
    case BR_ERR_BAD_SIGNATURE: return "bad signature";
    case BR_ERR_WRONG_KEY_USAGE: return "wrong key usage";
    case BR_ERR_X509_EXPIRED: return "certificate expired or not yet valid";
    case BR_ERR_X509_BAD_SERVER_NAME: return "server name does not match the certificate";
    case BR_ERR_X509_NOT_TRUSTED: return "server chain does not end in a trusted anchor";
    case BR_ERR_X509_NOT_CA: return "a chain certificate is not a CA";
    case BR_ERR_X509_UNSUPPORTED: return "unsupported certificate feature";
    case BR_ERR_X509_WEAK_PUBLIC_KEY: return "public key too weak";
    default: return "BearSSL error";
    }
}

static void link_describe_end(void *ctx, char *out, size_t out_len)
{
    struct bearssl_link *l = ctx;
    int err = br_ssl_engine_last_error(&l->cc.eng);
    if (err == BR_ERR_OK && l->socket_ended)
        snprintf(out, out_len, "TCP connection closed without a TLS alert");
    else if (err >= BR_ERR_SEND_FATAL_ALERT)
        snprintf(out, out_len, "we sent alert %d (%s)", err - BR_ERR_SEND_FATAL_ALERT,
                 tls_alert_name(err - BR_ERR_SEND_FATAL_ALERT));
    else if (err >= BR_ERR_RECV_FATAL_ALERT)
        snprintf(out, out_len, "the server sent alert %d (%s)", err - BR_ERR_RECV_FATAL_ALERT,
                 tls_alert_name(err - BR_ERR_RECV_FATAL_ALERT));
    else if (err == BR_ERR_OK)
        out[0] = 0;
    else
        snprintf(out, out_len, "%s (BearSSL error %d)", bearssl_error_name(err), err);
}

/* Which side refused the handshake, from BearSSL's last error. */
static void classify_handshake_error(int err, int late_alert, const char *servername,
                                     struct probe_result *r)
{
    r->code = err;
    if (err == BR_ERR_OK && late_alert >= 0)
        err = BR_ERR_RECV_FATAL_ALERT + late_alert;
    if (err >= BR_ERR_SEND_FATAL_ALERT) {
        r->side = "client-alert";
        r->alert = err - BR_ERR_SEND_FATAL_ALERT;
        probe_set(r, "tls", "we sent alert %d (%s)", r->alert, tls_alert_name(r->alert));
    } else if (err >= BR_ERR_RECV_FATAL_ALERT) {
        r->side = "server-alert";
        r->alert = err - BR_ERR_RECV_FATAL_ALERT;
        probe_set(r, "tls", "the server refused the handshake: it sent alert %d (%s)", r->alert,
                  tls_alert_name(r->alert));
    } else if (err >= 32 && err < 64) {
        r->side = "client-verify";
        r->reason = err == BR_ERR_X509_NOT_TRUSTED       ? "unknown-ca"
                    : err == BR_ERR_X509_EXPIRED         ? "expired"
                    : err == BR_ERR_X509_BAD_SERVER_NAME ? "name-mismatch"
                                                         : "other";
        probe_set(r, "tls", "we refused the server's certificate for %s: %s (BearSSL error %d)",
                  servername, bearssl_error_name(err), err);
    } else if (err == BR_ERR_IO || err == BR_ERR_OK) {
        r->side = "closed";
        probe_set(r, "tls", "the server closed the connection during the handshake");
    } else {
        r->side = "client-error";
        probe_set(r, "tls", "%s (BearSSL error %d)", bearssl_error_name(err), err);
    }
}

static void setup_client(struct bearssl_link *l, br_x509_trust_anchor *tas, int ta_count,
                         struct client_identity *id)
{
    br_ssl_client_init_full(&l->cc, &l->xc, tas, (size_t)ta_count);
    br_ssl_engine_set_versions(&l->cc.eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_buffer(&l->cc.eng, l->iobuf, sizeof l->iobuf, 1);
    if (id->key_type == BR_KEYTYPE_RSA)
        br_ssl_client_set_single_rsa(&l->cc, &id->chain, 1, br_skey_decoder_get_rsa(&id->key),
                                     br_rsa_pkcs1_sign_get_default());
    else
        br_ssl_client_set_single_ec(&l->cc, &id->chain, 1, br_skey_decoder_get_ec(&id->key),
                                    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, id->issuer_key_type,
                                    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
}

int main(int argc, char **argv)
{
    static struct bearssl_link l;
    static br_x509_trust_anchor tas[PROBE_MAX_CAS];
    static struct client_identity id;
    struct probe_options o;
    struct probe_result r;
    struct tls_link link = {&l, link_write_all, link_read_some, link_describe_end};
    int rc;
    if (probe_parse_args(argc, argv, &o))
        return 2;
    probe_result_init(&r);
    if (load_anchors(&o, tas, &r) || load_identity(&o, &id, &r))
        return probe_finish(&r, "bearssl");
    if ((l.fd = probe_connect_tcp(&o, &r)) < 0)
        return probe_finish(&r, "bearssl");
    l.late_alert = -1;
    setup_client(&l, tas, o.ca_count, &id);
    br_ssl_client_reset(&l.cc, o.servername, 0);
    rc = pump(&l, BR_SSL_SENDAPP, probe_now_ms() + o.timeout_ms);
    if (rc == -2) {
        r.stage = "tls-handshake";
        probe_set(&r, "timeout", "TLS handshake did not finish within %d ms", o.timeout_ms);
    } else if (rc) {
        classify_handshake_error(br_ssl_engine_last_error(&l.cc.eng), l.late_alert, o.servername,
                                 &r);
    } else {
        probe_step("tls", "TLS 1.2 handshake done, cipher suite 0x%04x, server name %s",
                   l.cc.eng.session.cipher_suite, o.servername);
        probe_mqtt_round_trip(&link, &o, &r);
    }
    close(l.fd);
    return probe_finish(&r, "bearssl");
}
