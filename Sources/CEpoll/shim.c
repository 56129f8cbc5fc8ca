#define _GNU_SOURCE
#include "CEpoll.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#define CEPOLL_MAX_BATCH 256

_Static_assert(sizeof(struct epoll_event) == 12, "Swift reads epoll_event as packed: 4 bytes of events, 8 of data");

int cepoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cepoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event = { .events = events, .data = { .u64 = data } };
    return epoll_ctl(epfd, op, fd, &event);
}

int cepoll_wait(int epfd, struct epoll_event *events, int max_events, int timeout_ms) {
    return epoll_wait(epfd, events, max_events, timeout_ms);
}

int cepoll_accept(int fd, struct sockaddr_storage *peer) {
    socklen_t length = sizeof(*peer);
    return accept4(fd, (struct sockaddr *)peer, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cepoll_signal_create(const int *signals, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) sigaddset(&mask, signals[i]);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

ssize_t cepoll_signal_read(int fd, uint32_t *signal) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n == (ssize_t)sizeof(info)) *signal = info.ssi_signo;
    return n;
}

int cepoll_recv_datagrams(int fd, uint8_t *buffer, size_t slot_size, unsigned count,
                          uint32_t *lengths, uint32_t *flags, struct sockaddr_storage *sources, uint32_t *kernel_drops) {
    struct mmsghdr messages[CEPOLL_MAX_BATCH];
    struct iovec vectors[CEPOLL_MAX_BATCH];
    /* Room for one SO_RXQ_OVFL message per datagram, aligned as cmsghdr requires. */
    union { char bytes[CMSG_SPACE(sizeof(uint32_t))]; struct cmsghdr align; } control[CEPOLL_MAX_BATCH];
    if (count > CEPOLL_MAX_BATCH) count = CEPOLL_MAX_BATCH;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = buffer + i * slot_size;
        vectors[i].iov_len = slot_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        messages[i].msg_hdr.msg_control = control[i].bytes;
        messages[i].msg_hdr.msg_controllen = sizeof control[i].bytes;
    }
    int received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < received; i++) {
        lengths[i] = messages[i].msg_len;
        flags[i] = (uint32_t)messages[i].msg_hdr.msg_flags;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c; c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(kernel_drops, CMSG_DATA(c), sizeof(uint32_t));
        }
    }
    return received;
}

int cepoll_report_udp_drops(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
}

int cepoll_send_datagrams(int fd, const uint8_t *const *payloads, const uint32_t *lengths, unsigned count) {
    struct mmsghdr messages[CEPOLL_MAX_BATCH];
    struct iovec vectors[CEPOLL_MAX_BATCH];
    if (count > CEPOLL_MAX_BATCH) count = CEPOLL_MAX_BATCH;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (void *)payloads[i];
        vectors[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, 0);
}

int cepoll_event_create(int nonblocking) {
    return eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
}

int cepoll_name_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
    return pthread_setname_np(pthread_self(), truncated);
}

int cepoll_set_reuseaddr(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
}

int cepoll_set_rcvbuf(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0) return 0;
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

int cepoll_get_rcvbuf(int fd) {
    int bytes = 0;
    socklen_t length = sizeof(bytes);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &length) < 0) return -1;
    return bytes;
}

void cepoll_heap_figures(size_t *allocated, size_t *free_bytes) {
    struct mallinfo2 info = mallinfo2();
    *allocated = info.uordblks + info.hblkhd;
    *free_bytes = info.fordblks;
}

void cepoll_heap_release(void) {
    malloc_trim(0);
}
