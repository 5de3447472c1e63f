/*
 * echod: the server side of the system benchmark (bench/run.sh). Runs until SIGTERM/SIGINT.
 *
 *   echod rr   PORT [-s size=100] [-T threads=2]
 *       per connection: read SIZE bytes, answer SIZE bytes, close (the server closes first, so
 *       TIME_WAIT stays on the server and the client never runs out of ephemeral ports).
 *   echod echo PORT [-T threads=1]
 *       echoes everything on persistent connections (ping-pong latency, idle connections).
 *
 * Listens on 0.0.0.0:PORT; each thread has its own SO_REUSEPORT listener and epoll set, and no
 * memory is allocated per connection (state is indexed by file descriptor).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 262144

static int port, size = 100, echo_mode;
static int got[MAX_FD]; /* bytes read so far per connection, rr mode */

static void die(const char *what) {
    fprintf(stderr, "echod: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listener(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(fd, 4096) < 0) die("listen");
    return fd;
}

/* Writes everything, waiting for room when the socket buffer is full (only small messages here). */
static int write_all(int fd, const char *p, ssize_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, (size_t)n);
        if (w > 0) {
            p += w;
            n -= w;
        } else if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, 5000) != 1) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static void *serve(void *arg) {
    (void)arg;
    int lfd = listener(), ep = epoll_create1(0), one = 1;
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[128];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static __thread char buf[65536];
    memset(buf, 'a', sizeof buf);
    for (;;) {
        int n = epoll_wait(ep, evs, 128, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0) break;
                    if (c >= MAX_FD) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    got[c] = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && errno == EAGAIN) continue;
            if (r <= 0) {
                close(fd);
                continue;
            }
            if (echo_mode) {
                if (write_all(fd, buf, r)) close(fd);
                continue;
            }
            got[fd] += (int)r;
            if (got[fd] >= size) {
                write_all(fd, buf, size);
                close(fd);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "rr") && strcmp(argv[1], "echo"))) {
        fprintf(stderr, "usage: echod rr|echo PORT [-s SIZE] [-T THREADS]\n");
        return 2;
    }
    echo_mode = !strcmp(argv[1], "echo");
    port = atoi(argv[2]);
    int threads = echo_mode ? 1 : 2, c;
    optind = 3;
    while ((c = getopt(argc, argv, "s:T:")) != -1) {
        if (c == 's') size = atoi(optarg);
        else if (c == 'T') threads = atoi(optarg);
        else return 2;
    }
    if (size < 1 || size > 65536) {
        fprintf(stderr, "echod: -s must be 1..65536\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl = {MAX_FD, MAX_FD};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pthread_t t[64];
    if (threads < 1 || threads > 64) threads = 1;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, serve, NULL)) die("pthread_create");
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return 0;
}
