/*
 * loadgen: the client side of the system benchmark (bench/run.sh). Four modes, each bounded in
 * count and time, each printing one line of key=value results on stdout:
 *
 *   loadgen rate     IP PORT [-n inflight=16] [-t seconds=4] [-m max=1000000] [-s size=100] [-T threads=1]
 *       short connections: connect, send SIZE bytes, read SIZE bytes and EOF, close; INFLIGHT at once.
 *       Latency of one connection = from socket() to the last response byte.
 *   loadgen pingpong IP PORT [-s size=64] [-m count=20000] [-t seconds=5] [-w warmup=1000]
 *       one persistent connection, SIZE bytes each way per round trip, one round trip at a time.
 *   loadgen hold     IP PORT [-n conns=1000] [-t seconds=60] [-s size=1]
 *       opens N connections, proves each end to end with a SIZE-byte echo, prints "ready", then
 *       holds them idle until SIGTERM or the time is up.
 *   loadgen probe    IP PORT [-s size=100] [-t seconds=20]
 *       retries one short exchange (as in rate) every millisecond until it succeeds; prints the
 *       CLOCK_REALTIME nanoseconds of the success, to time a proxy's start-up.
 *
 * Written for the benchmark only: epoll, non-blocking sockets, no allocation per connection, so
 * that the client is never what limits the connection rate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;
static int opt_inflight = -1, opt_threads = 1, opt_size = -1, opt_warmup = 1000;
static double opt_seconds = -1;
static long opt_max = -1;

static uint64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static double pct_us(const uint64_t *sorted, long n, double p) {
    if (n == 0) return 0;
    long i = (long)(p / 100.0 * (double)n + 0.999999) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return (double)sorted[i] / 1000.0;
}

static int new_socket(int nonblock) {
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---------- rate ---------- */

enum { CONNECTING, READING };

struct slot {
    int fd, state, got;
    uint64_t start;
};

struct worker {
    pthread_t thread;
    int inflight;
    uint64_t deadline;  /* stop opening at this CLOCK_MONOTONIC time */
    long budget;        /* stop opening after this many */
    long done, errors, opened, capacity;
    uint64_t *lat;
    uint64_t last_done;
};

static void slot_open(int ep, struct slot *s, struct worker *w) {
    s->start = now_ns(CLOCK_MONOTONIC);
    s->fd = new_socket(1);
    s->state = CONNECTING;
    s->got = 0;
    w->opened++;
    /* An immediate failure shows up as EPOLLERR on the first wait, like an asynchronous one. */
    (void)connect(s->fd, (struct sockaddr *)&target, sizeof target);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) die("epoll_ctl add");
}

static void *rate_worker(void *arg) {
    struct worker *w = arg;
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct slot *slots = calloc((size_t)w->inflight, sizeof *slots);
    for (int i = 0; i < w->inflight; i++) slots[i].fd = -1;
    char req[65536], buf[65536];
    memset(req, 'q', sizeof req);
    int active = 0;
    for (int i = 0; i < w->inflight && w->opened < w->budget; i++) {
        slot_open(ep, &slots[i], w);
        active++;
    }
    struct epoll_event evs[64];
    uint64_t hard_stop = w->deadline + 2000000000ull; /* in-flight connections get 2 s to finish */
    while (active > 0) {
        int n = epoll_wait(ep, evs, 64, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        uint64_t t = now_ns(CLOCK_MONOTONIC);
        if (t > hard_stop) break;
        for (int i = 0; i < n; i++) {
            struct slot *s = evs[i].data.ptr;
            int finished = 0;
            if (s->state == CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || (evs[i].events & (EPOLLERR | EPOLLHUP))) {
                    finished = 1;
                } else if (write(s->fd, req, (size_t)opt_size) != opt_size) {
                    finished = 1;
                } else {
                    s->state = READING;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                }
            } else {
                for (;;) {
                    ssize_t r = read(s->fd, buf, sizeof buf);
                    if (r > 0) {
                        s->got += (int)r;
                        if (s->got == opt_size) {
                            /* The exchange is complete: record it now, the close comes after. */
                            uint64_t lat = now_ns(CLOCK_MONOTONIC) - s->start;
                            if (w->done < w->capacity) w->lat[w->done] = lat;
                            w->done++;
                            w->last_done = now_ns(CLOCK_MONOTONIC);
                        } else if (s->got > opt_size) {
                            finished = 1; /* protocol error: more than asked for */
                            break;
                        }
                        continue;
                    }
                    /* EOF (the server closes after its answer) or an error ends the connection;
                       a reset after the full answer still counts as a completed exchange. */
                    if (r == 0 || errno != EAGAIN) finished = 1;
                    break;
                }
            }
            if (finished) {
                if (s->got != opt_size) w->errors++;
                close(s->fd);
                s->fd = -1;
                active--;
                if (now_ns(CLOCK_MONOTONIC) < w->deadline && w->opened < w->budget) {
                    slot_open(ep, s, w);
                    active++;
                }
            }
        }
    }
    for (int i = 0; i < w->inflight; i++)
        if (slots[i].fd >= 0) close(slots[i].fd);
    free(slots);
    close(ep);
    return NULL;
}

static int run_rate(void) {
    if (opt_size < 0) opt_size = 100;
    if (opt_seconds < 0) opt_seconds = 4;
    if (opt_max < 0) opt_max = 1000000;
    if (opt_inflight < 1) opt_inflight = 16;
    if (opt_threads < 1 || opt_threads > opt_inflight) opt_threads = 1;
    struct worker *ws = calloc((size_t)opt_threads, sizeof *ws);
    uint64_t start = now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < opt_threads; i++) {
        ws[i].inflight = opt_inflight / opt_threads + (i < opt_inflight % opt_threads);
        ws[i].deadline = start + (uint64_t)(opt_seconds * 1e9);
        ws[i].budget = opt_max / opt_threads;
        ws[i].capacity = ws[i].budget;
        ws[i].lat = malloc((size_t)ws[i].capacity * sizeof(uint64_t));
        if (!ws[i].lat) die("malloc");
        if (pthread_create(&ws[i].thread, NULL, rate_worker, &ws[i])) die("pthread_create");
    }
    long done = 0, errors = 0, opened = 0;
    uint64_t last = start;
    for (int i = 0; i < opt_threads; i++) {
        pthread_join(ws[i].thread, NULL);
        done += ws[i].done;
        errors += ws[i].errors;
        opened += ws[i].opened;
        if (ws[i].last_done > last) last = ws[i].last_done;
    }
    uint64_t *all = malloc((size_t)(done ? done : 1) * sizeof(uint64_t));
    long k = 0;
    for (int i = 0; i < opt_threads; i++) {
        long n = ws[i].done < ws[i].capacity ? ws[i].done : ws[i].capacity;
        memcpy(all + k, ws[i].lat, (size_t)n * sizeof(uint64_t));
        k += n;
    }
    qsort(all, (size_t)k, sizeof *all, cmp_u64);
    double secs = (double)(last - start) / 1e9;
    printf("mode=rate conns=%ld errors=%ld unfinished=%ld secs=%.3f conns_per_s=%.0f "
           "p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f inflight=%d threads=%d size=%d\n",
           done, errors, opened - done - errors, secs, secs > 0 ? (double)done / secs : 0,
           pct_us(all, k, 50), pct_us(all, k, 90), pct_us(all, k, 99), pct_us(all, k, 100),
           opt_inflight, opt_threads, opt_size);
    return done > 0 && errors == 0 ? 0 : 1;
}

/* ---------- pingpong ---------- */

static int write_all(int fd, const char *p, int n) {
    while (n > 0) {
        ssize_t w = write(fd, p, (size_t)n);
        if (w <= 0) return -1;
        p += w;
        n -= (int)w;
    }
    return 0;
}

static int read_all(int fd, char *p, int n) {
    while (n > 0) {
        ssize_t r = read(fd, p, (size_t)n);
        if (r <= 0) return -1;
        p += r;
        n -= (int)r;
    }
    return 0;
}

static int run_pingpong(void) {
    if (opt_size < 0) opt_size = 64;
    if (opt_seconds < 0) opt_seconds = 5;
    if (opt_max < 0) opt_max = 20000;
    int fd = new_socket(0);
    if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0) die("connect");
    char out[65536], in[65536];
    memset(out, 'p', sizeof out);
    uint64_t *lat = malloc((size_t)opt_max * sizeof(uint64_t));
    uint64_t start = now_ns(CLOCK_MONOTONIC), deadline = start + (uint64_t)(opt_seconds * 1e9);
    for (int i = 0; i < opt_warmup; i++)
        if (write_all(fd, out, opt_size) || read_all(fd, in, opt_size)) die("warm-up round trip");
    long n = 0;
    while (n < opt_max) {
        uint64_t t0 = now_ns(CLOCK_MONOTONIC);
        if (t0 > deadline) break;
        if (write_all(fd, out, opt_size) || read_all(fd, in, opt_size)) die("round trip");
        lat[n++] = now_ns(CLOCK_MONOTONIC) - t0;
    }
    close(fd);
    double sum = 0;
    for (long i = 0; i < n; i++) sum += (double)lat[i];
    qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
    printf("mode=pingpong round_trips=%ld size=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f\n",
           n, opt_size, pct_us(lat, n, 50), pct_us(lat, n, 90), pct_us(lat, n, 99), pct_us(lat, n, 100),
           n ? sum / (double)n / 1000.0 : 0);
    return n > 0 ? 0 : 1;
}

/* ---------- hold ---------- */

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int run_hold(void) {
    if (opt_seconds < 0) opt_seconds = 60;
    int n = opt_inflight > 0 ? opt_inflight : 1000;
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    int *fds = malloc((size_t)n * sizeof(int));
    int size = opt_size > 0 ? opt_size : 1;
    static char out[65536], in[65536];
    memset(out, 'h', sizeof out);
    for (int i = 0; i < n; i++) {
        fds[i] = new_socket(0);
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fds[i], (struct sockaddr *)&target, sizeof target) < 0) die("hold connect");
        /* Bytes there and back prove the connection is relayed end to end, not just accepted. */
        if (write_all(fds[i], out, size) || read_all(fds[i], in, size)) die("hold echo");
    }
    printf("mode=hold ready conns=%d\n", n);
    fflush(stdout);
    uint64_t deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)(opt_seconds * 1e9);
    while (!stop && now_ns(CLOCK_MONOTONIC) < deadline) usleep(20000);
    for (int i = 0; i < n; i++) close(fds[i]);
    return 0;
}

/* ---------- probe ---------- */

static int probe_once(void) {
    int fd = new_socket(1), ok = 0;
    char buf[4096];
    memset(buf, 'r', sizeof buf);
    if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) goto out;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, 500) != 1) goto out;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err || write(fd, buf, (size_t)opt_size) != opt_size) goto out;
    int got = 0;
    while (got < opt_size) {
        p.events = POLLIN;
        if (poll(&p, 1, 500) != 1) goto out;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) goto out;
        got += (int)r;
    }
    ok = got == opt_size;
out:
    close(fd);
    return ok;
}

static int run_probe(void) {
    if (opt_size < 0) opt_size = 100;
    if (opt_seconds < 0) opt_seconds = 20;
    uint64_t deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)(opt_seconds * 1e9);
    long attempts = 0;
    while (now_ns(CLOCK_MONOTONIC) < deadline) {
        attempts++;
        if (probe_once()) {
            printf("mode=probe ok_realtime_ns=%llu attempts=%ld\n",
                   (unsigned long long)now_ns(CLOCK_REALTIME), attempts);
            return 0;
        }
        usleep(1000);
    }
    printf("mode=probe ok_realtime_ns=0 attempts=%ld\n", attempts);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: loadgen rate|pingpong|hold|probe IP PORT [-n N] [-t SECONDS] [-m MAX] [-s SIZE] [-T THREADS] [-w WARMUP]\n");
        return 2;
    }
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
        fprintf(stderr, "loadgen: not an IPv4 address: '%s'\n", argv[2]);
        return 2;
    }
    int c;
    optind = 4;
    while ((c = getopt(argc, argv, "n:t:m:s:T:w:")) != -1) {
        switch (c) {
        case 'n': opt_inflight = atoi(optarg); break;
        case 't': opt_seconds = atof(optarg); break;
        case 'm': opt_max = atol(optarg); break;
        case 's': opt_size = atoi(optarg); break;
        case 'T': opt_threads = atoi(optarg); break;
        case 'w': opt_warmup = atoi(optarg); break;
        default: return 2;
        }
    }
    if (opt_size > 65536) {
        fprintf(stderr, "loadgen: -s must be at most 65536\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[1], "rate")) return run_rate();
    if (!strcmp(argv[1], "pingpong")) return run_pingpong();
    if (!strcmp(argv[1], "hold")) return run_hold();
    if (!strcmp(argv[1], "probe")) return run_probe();
    fprintf(stderr, "loadgen: unknown mode '%s'\n", argv[1]);
    return 2;
}
