/*
 * origdst.h - the original destination of a redirected TCP connection
 * (TransparentPlugin).
 */
#ifndef TP_ORIGDST_H
#define TP_ORIGDST_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#endif

/* The original destination of the connection on socket fd, in *ss
 * (*len: its size in, the address length out).  Returns 0, or -1 when
 * the connection has none (not redirected, not TCP over IP). */
int origdst_get(intptr_t fd, struct sockaddr_storage *ss, size_t *len);

/* 1 when a and b are the same IPv4/IPv6 address and port, else 0 (an
 * IPv4-mapped IPv6 address equals its IPv4 form). */
int origdst_same(const struct sockaddr *a, const struct sockaddr *b);

#endif
