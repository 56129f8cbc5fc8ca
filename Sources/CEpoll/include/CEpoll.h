// Plain wrappers for the Linux calls and structures Swift's Glibc module does not import (epoll, accept4,
// recvmmsg/sendmmsg, signalfd, eventfd, SO_RXQ_OVFL, SO_RCVBUFFORCE, mallinfo2). Each wrapper makes one call
// and returns its result with errno as the call left it: retries and error handling live in Swift
// (Reactor/Syscall.swift). _GNU_SOURCE is defined only in shim.c: defined in a header Swift imports, it
// clashes with SwiftGlibc's fd_set.
#ifndef CEPOLL_H
#define CEPOLL_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

int cepoll_create(void);
int cepoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int cepoll_wait(int epfd, struct epoll_event *events, int max_events, int timeout_ms);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int cepoll_accept(int fd, struct sockaddr_storage *peer);

/// Blocks the given signals for the process and returns a non-blocking signalfd that reports them.
int cepoll_signal_create(const int *signals, int count);
/// Reads one signalfd record into `*signal`: read's result (the record's size, or -1).
ssize_t cepoll_signal_read(int fd, uint32_t *signal);

/// recvmmsg (MSG_DONTWAIT) into `count` slots of `slot_size` bytes laid out back to back in `buffer`.
/// Fills lengths[i], flags[i] (MSG_TRUNC etc.) and sources[i]; returns the number of datagrams, or -1.
/// With SO_RXQ_OVFL on, `*kernel_drops` becomes the socket's drop count as of the last datagram read (the
/// kernel's running total of datagrams it discarded for a full receive buffer); otherwise it is left alone.
int cepoll_recv_datagrams(int fd, uint8_t *buffer, size_t slot_size, unsigned count,
                          uint32_t *lengths, uint32_t *flags, struct sockaddr_storage *sources, uint32_t *kernel_drops);

/// Asks the kernel to report its drop count with each datagram (SO_RXQ_OVFL); 0 on success.
int cepoll_report_udp_drops(int fd);

/// sendmmsg of `count` datagrams to one destination; returns how many were sent, or -1.
int cepoll_send_datagrams(int fd, const uint8_t *const *payloads, const uint32_t *lengths, unsigned count);

/// An eventfd (close-on-exec; non-blocking if asked): a counter one thread adds to and another waits on.
int cepoll_event_create(int nonblocking);

/// Names the calling thread (pthread_setname_np; at most 15 bytes are kept), as `top -H` and /proc show it.
int cepoll_name_thread(const char *name);

/// Socket options whose constants Swift imports inconsistently.
int cepoll_set_reuseaddr(int fd);
int cepoll_set_rcvbuf(int fd, int bytes);  // tries SO_RCVBUFFORCE first, then SO_RCVBUF
int cepoll_get_rcvbuf(int fd);              // the granted size, or -1

/// malloc's own figures (mallinfo2): bytes handed out (arenas and mmapped chunks) and bytes held free in the
/// arenas.
void cepoll_heap_figures(size_t *allocated, size_t *free_bytes);
/// malloc_trim(0): gives the kernel back the free pages inside malloc's arenas, not only at their tops.
void cepoll_heap_release(void);

#endif
