/* Shared parts of our two probe clients: arguments, name resolution, TCP,
 * a minimal MQTT 3.1.1 round trip over an abstract TLS link, and the final
 * machine-readable line.  The TLS library specific parts live in
 * bearssl_client.c and mbedtls_client.c. */
#ifndef PROBE_COMMON_H
#define PROBE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_MAX_CAS 16

struct probe_options {
    const char *host;
    int port;
    const char *servername;
    const char *ca_files[PROBE_MAX_CAS];
    int ca_count;
    const char *cert_file;
    const char *key_file;
    const char *client_id;
    const char *topic;
    const char *payload;
    int timeout_ms;
};

/* Outcome of one run; printed once as `RESULT {json}` on stdout. */
struct probe_result {
    const char *layer;   /* dns, tcp, tls, mqtt-connack, mqtt-suback, closed-after-..., timeout, input, ok */
    const char *stage;   /* for timeout: what we were waiting for */
    const char *side;    /* tls: client-verify, server-alert, client-alert, closed, client-error */
    const char *reason;  /* tls client-verify: unknown-ca, expired, not-yet-valid, name-mismatch, other */
    int alert;           /* TLS alert number, -1 when none */
    int code;            /* library error or MQTT return code, -1 when none */
    char detail[512];
};

/* A TLS connection, seen by the MQTT code as a byte stream.
 * write_all: 0 done, -1 error or closed, -2 timeout.
 * read_some: >0 bytes, 0 closed by the peer, -1 error, -2 timeout. */
struct tls_link {
    void *ctx;
    int (*write_all)(void *ctx, const unsigned char *buf, size_t len, int64_t deadline_ms);
    int (*read_some)(void *ctx, unsigned char *buf, size_t len, int64_t deadline_ms);
    /* Why the link ended (for the detail text), or "" when it closed cleanly. */
    void (*describe_end)(void *ctx, char *out, size_t out_len);
};

int probe_parse_args(int argc, char **argv, struct probe_options *opts);
void probe_result_init(struct probe_result *r);
void probe_set(struct probe_result *r, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void probe_step(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int probe_finish(const struct probe_result *r, const char *library);

/* Milliseconds on a monotonic clock; deadlines are absolute values of it. */
int64_t probe_now_ms(void);

/* Resolve and connect; on failure fills r (layer dns / tcp / timeout) and returns -1. */
int probe_connect_tcp(const struct probe_options *o, struct probe_result *r);

/* Wait until fd is readable (POLLIN) or writable (POLLOUT): 1 ready, 0 timeout, -1 error. */
int probe_wait_fd(int fd, short events, int64_t deadline_ms);
/* Socket I/O bounded by a deadline: bytes, 0 on EOF (recv), -1 error, -2 timeout. */
long probe_send(int fd, const unsigned char *buf, size_t len, int64_t deadline_ms);
long probe_recv(int fd, unsigned char *buf, size_t len, int64_t deadline_ms);

/* After our write failed mid-handshake (the server closed on us), read what the server
 * sent before closing: the TLS alert number of a plaintext alert record, or -1. */
int probe_read_late_alert(int fd, int64_t deadline_ms);

/* Read a whole file; adds a NUL after the data (not counted in *len). NULL on failure. */
unsigned char *probe_read_file(const char *path, size_t *len);

const char *tls_alert_name(int alert);

/* CONNECT, SUBSCRIBE, PUBLISH and wait for our own message; fills r. 0 on a full round trip. */
int probe_mqtt_round_trip(struct tls_link *link, const struct probe_options *o,
                          struct probe_result *r);

#endif
