/* One load client for every server of tools/bench/serve_bench.py, so that Strata, Redis, and FastAPI are
 * measured the same way: the same connections, pacing, key draws, clock and percentiles; only the bytes of
 * the protocol differ.
 *
 *   cc -O2 -o paced_client paced_client.c
 *   paced_client MODE PORT CONNECTIONS SECONDS PACE_MS MSNO_FILE [SEED]
 *
 * MODE   resp       HGETALL m:MSNO (Redis: the vector stored under the msno)
 *        features   GET /v1/features/MSNO (percent-encoded), HTTP/1.1 keep-alive
 *        score      POST /v1/score {"msno": ["MSNO"]}
 *        healthz    GET /healthz
 * CONNECTIONS connections to 127.0.0.1:PORT, each with one request in flight, for a msno drawn uniformly from
 * MSNO_FILE (one per line) by xorshift64 from SEED. With PACE_MS > 0 each connection waits a random
 * 0.5..1.5 x PACE_MS ms, in whole ms, after each answer before its next request, so about
 * CONNECTIONS * 1000 / PACE_MS requests per second (pacing, not a constant-rate schedule); 0: back to back
 * (saturation). Latency runs from the write of a request to the last byte of its complete answer; no
 * coordinated-omission correction. An answer that is not a 200 (HTTP) or a non-empty array (RESP) counts
 * as an error. Prints one JSON line: counts and exact percentiles in microseconds (every latency kept and
 * sorted). One thread, poll(2).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { RESP, FEATURES, SCORE, HEALTHZ };

typedef struct {
    int fd;
    int busy;           /* a request is in flight */
    int64_t sent_ns;    /* when it was written */
    int64_t next_ns;    /* when the next one may be written */
    char *buf;
    size_t len, cap;
} Conn;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t next_random(void) { /* xorshift64 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static long line_end(const char *p, size_t n, size_t from) {
    for (size_t i = from; i + 1 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n') return (long)i;
    return -1;
}

/* Bytes of one complete RESP reply at p[at..n), 0 when incomplete, -1 when malformed. */
static long resp_length(const char *p, size_t n, size_t at) {
    if (at >= n) return 0;
    long end = line_end(p, n, at);
    if (end < 0) return 0;
    char type = p[at];
    long value = strtol(p + at + 1, NULL, 10);
    size_t next = (size_t)end + 2;
    switch (type) {
    case '+': case '-': case ':': return (long)(next - at);
    case '$':
        if (value < 0) return (long)(next - at);
        if (next + (size_t)value + 2 > n) return 0;
        return (long)(next + (size_t)value + 2 - at);
    case '*': {
        size_t pos = next;
        for (long i = 0; i < value; i++) {
            long part = resp_length(p, n, pos);
            if (part <= 0) return part;
            pos += (size_t)part;
        }
        return (long)(pos - at);
    }
    default: return -1;
    }
}

/* Bytes of one complete HTTP/1.1 response with a Content-Length at p[0..n), 0 when incomplete, -1 when it
 * has none (this client reads no chunked bodies). *status gets the status code. */
static long http_length(const char *p, size_t n, int *status) {
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - p) + 4;
    *status = n > 12 ? atoi(p + 9) : 0;
    long length = -1;
    for (const char *line = memchr(p, '\n', head); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
        if (strncasecmp(line + 1, "content-length:", 15) == 0) length = strtol(line + 16, NULL, 10);
    }
    if (length < 0) return -1;
    return head + (size_t)length <= n ? (long)(head + (size_t)length) : 0;
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double percentile(const int64_t *v, size_t n, double q) {
    if (n == 0) return 0;
    size_t rank = (size_t)((q / 100.0) * (double)n + 0.999999999); /* nearest rank */
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)v[rank - 1] / 1000.0;
}

static int request_for(int mode, const char *msno, char *out, size_t cap) {
    char encoded[512];
    size_t e = 0;
    for (const char *s = msno; *s && e + 4 < sizeof encoded; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') encoded[e++] = (char)ch;
        else e += (size_t)snprintf(encoded + e, 4, "%%%02X", ch);
    }
    encoded[e] = 0;
    switch (mode) {
    case RESP: {
        char key[300];
        int kl = snprintf(key, sizeof key, "m:%s", msno);
        return snprintf(out, cap, "*2\r\n$7\r\nHGETALL\r\n$%d\r\n%s\r\n", kl, key);
    }
    case FEATURES: return snprintf(out, cap, "GET /v1/features/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", encoded);
    case HEALTHZ: return snprintf(out, cap, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    default: {
        char body[400];
        int bl = snprintf(body, sizeof body, "{\"msno\":[\"%s\"]}", msno);
        return snprintf(out, cap, "POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", bl, body);
    }
    }
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: paced_client resp|features|score|healthz PORT CONNECTIONS SECONDS PACE_MS MSNO_FILE [SEED]\n");
        return 2;
    }
    int mode = strcmp(argv[1], "resp") == 0 ? RESP : strcmp(argv[1], "features") == 0 ? FEATURES
             : strcmp(argv[1], "score") == 0 ? SCORE : strcmp(argv[1], "healthz") == 0 ? HEALTHZ : -1;
    int port = atoi(argv[2]), conns = atoi(argv[3]);
    double seconds = atof(argv[4]), pace_ms = atof(argv[5]);
    if (argc > 7) rng_state ^= (uint64_t)atoll(argv[7]) * 0x9E3779B97F4A7C15ULL;
    if (mode < 0 || conns < 1 || seconds <= 0) {
        fprintf(stderr, "paced_client: bad arguments\n");
        return 2;
    }
    FILE *file = fopen(argv[6], "r");
    if (!file) {
        perror(argv[6]);
        return 1;
    }
    size_t keys = 0, keys_cap = 1024;
    char **msno = malloc(keys_cap * sizeof(char *));
    char line[512];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        if (keys == keys_cap) msno = realloc(msno, (keys_cap *= 2) * sizeof(char *));
        msno[keys++] = strdup(line);
    }
    fclose(file);
    if (keys == 0) {
        fprintf(stderr, "paced_client: %s lists no msno\n", argv[6]);
        return 1;
    }

    Conn *c = calloc((size_t)conns, sizeof(Conn));
    struct pollfd *fds = calloc((size_t)conns, sizeof(struct pollfd));
    size_t cap = 1 << 20, count = 0;
    int64_t *lat = malloc(cap * sizeof(int64_t));
    long errors = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < conns; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c[i].fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            return 1;
        }
        c[i].cap = 1 << 16;
        c[i].buf = malloc(c[i].cap);
    }
    int64_t start = now_ns(), stop = start + (int64_t)(seconds * 1e9);
    for (int i = 0; i < conns; i++) c[i].next_ns = start;
    char request[1024];
    for (;;) {
        int64_t now = now_ns();
        if (now >= stop) break;
        int64_t wake = stop;
        for (int i = 0; i < conns; i++) {
            if (!c[i].busy && c[i].next_ns <= now) {
                int rl = request_for(mode, msno[next_random() % keys], request, sizeof request);
                c[i].sent_ns = now_ns();
                if (write(c[i].fd, request, (size_t)rl) != rl) {
                    perror("write");
                    return 1;
                }
                c[i].busy = 1;
                c[i].len = 0;
            }
            if (!c[i].busy && c[i].next_ns < wake) wake = c[i].next_ns;
            fds[i].fd = c[i].busy ? c[i].fd : -1;
            fds[i].events = POLLIN;
            fds[i].revents = 0;
        }
        now = now_ns();
        int timeout = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
        int ready = poll(fds, (nfds_t)conns, timeout);
        if (ready < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int i = 0; i < conns && ready > 0; i++) {
            if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            if (c[i].cap - c[i].len < 4096) {
                c[i].cap *= 2;
                c[i].buf = realloc(c[i].buf, c[i].cap);
            }
            ssize_t got = read(c[i].fd, c[i].buf + c[i].len, c[i].cap - c[i].len);
            if (got <= 0) {
                fprintf(stderr, "paced_client: connection %d closed\n", i);
                return 1;
            }
            c[i].len += (size_t)got;
            int status = 0;
            long whole = mode == RESP ? resp_length(c[i].buf, c[i].len, 0) : http_length(c[i].buf, c[i].len, &status);
            if (whole == 0) continue;
            int64_t done = now_ns();
            if (whole < 0) {
                fprintf(stderr, "paced_client: an answer this client cannot read on connection %d\n", i);
                return 1;
            }
            if (mode == RESP ? (c[i].buf[0] != '*' || c[i].buf[1] == '0') : status != 200) errors++;
            if (count == cap) {
                cap *= 2;
                lat = realloc(lat, cap * sizeof(int64_t));
            }
            lat[count++] = done - c[i].sent_ns;
            c[i].busy = 0;
            double wait_ms = pace_ms > 0 ? (double)(long)(pace_ms * (0.5 + (double)(next_random() % 1000000) / 1e6) + 0.5) : 0;
            c[i].next_ns = done + (int64_t)(wait_ms * 1e6);
        }
    }
    int64_t elapsed = now_ns() - start;
    qsort(lat, count, sizeof(int64_t), compare);
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)lat[i];
    printf("{\"requests\":%zu,\"duration_us\":%lld,\"errors\":%ld,\"latency_us\":{\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
           "\"p99\":%.3f,\"p99_9\":%.3f,\"p99_99\":%.3f,\"max\":%.3f}}\n",
           count, (long long)(elapsed / 1000), errors, count ? (double)lat[0] / 1000.0 : 0, count ? sum / (double)count / 1000.0 : 0,
           percentile(lat, count, 50), percentile(lat, count, 90), percentile(lat, count, 99), percentile(lat, count, 99.9),
           percentile(lat, count, 99.99), count ? (double)lat[count - 1] / 1000.0 : 0);
    return 0;
}
