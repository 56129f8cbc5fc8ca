/* The physical limit LogStream is measured against: the least work a receiver can do. It accepts TCP
 * connections and counts newlines with memchr, and counts UDP datagrams read with recvmmsg, on one epoll
 * thread. On SIGUSR1 it prints {"lines":N,"last":T}: lines so far and the CLOCK_MONOTONIC time in seconds of
 * the last one (Python's time.perf_counter() reads the same clock). Usage: raw-receiver --tcp PORT --udp PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t report_wanted = 0;
static void on_report(int signal) { (void)signal; report_wanted = 1; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int bound_socket(int type, int port) {
    int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0), on = 1, buffer = 32 << 20;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (type == SOCK_DGRAM) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); exit(1); }
    if (type == SOCK_STREAM) listen(fd, 1024);
    return fd;
}

int main(int argc, char **argv) {
    int tcp_port = 0, udp_port = 0;
    long long lines = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--tcp")) tcp_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--udp")) udp_port = atoi(argv[i + 1]);
    }
    int epoll = epoll_create1(0), tcp = bound_socket(SOCK_STREAM, tcp_port), udp = bound_socket(SOCK_DGRAM, udp_port);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = tcp};
    epoll_ctl(epoll, EPOLL_CTL_ADD, tcp, &event);
    event.data.fd = udp;
    epoll_ctl(epoll, EPOLL_CTL_ADD, udp, &event);
    struct sigaction action = {.sa_handler = on_report};
    sigaction(SIGUSR1, &action, NULL);  /* no SA_RESTART: epoll_wait returns and the report is printed */
    printf("ready\n");
    fflush(stdout);

    static char buffer[256 * 1024];
    enum { BATCH = 64, SLOT = 2048 };
    static char slots[BATCH][SLOT];
    struct mmsghdr messages[BATCH];
    struct iovec vectors[BATCH];
    double last = 0;
    struct epoll_event events[64];
    for (;;) {
        if (report_wanted) {
            report_wanted = 0;
            printf("{\"lines\":%lld,\"last\":%.6f}\n", lines, last);
            fflush(stdout);
        }
        int count = epoll_wait(epoll, events, 64, 50);  /* bounded: a report asked for just before it waits */
        if (count < 0) continue;
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == tcp) {
                int client;
                while ((client = accept4(tcp, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event added = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, client, &added);
                }
            } else if (fd == udp) {
                for (int j = 0; j < BATCH; j++) {
                    vectors[j] = (struct iovec){slots[j], SLOT};
                    memset(&messages[j], 0, sizeof messages[j]);
                    messages[j].msg_hdr.msg_iov = &vectors[j];
                    messages[j].msg_hdr.msg_iovlen = 1;
                }
                int received = recvmmsg(udp, messages, BATCH, MSG_DONTWAIT, NULL);
                if (received > 0) {
                    lines += received;
                    last = now();
                }
            } else {
                ssize_t n = read(fd, buffer, sizeof buffer);
                if (n <= 0) { close(fd); continue; }
                for (char *p = buffer, *end = buffer + n; (p = memchr(p, '\n', end - p)) != NULL; p++) lines++;
                last = now();
            }
        }
    }
}
