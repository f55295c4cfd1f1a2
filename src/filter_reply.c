/*
 * filter_reply.c - what a client of a line protocol (smtpp, ftppr) is
 * told when a filter refused its session (plugins.md 5.4: "SMTP/FTP
 * 421 ... policy violation").
 *
 * SMTP and FTP both define 421 as "service closing the channel", so
 * one reply serves both; without it the client sees the connection
 * drop and retries the same message or command blindly.  HTTP answers
 * 503 on its own (proto_http.c).  No state.
 */
#include "filter.h"
#include "sockio.h"

#include <stdio.h>

int filter_refusal_send(os_sock_t s, const char *what, int timeout_ms)
{
	char line[128];
	int n = snprintf(line, sizeof(line),
			 "421 %s refused: policy violation\r\n", what);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return sockio_write_all(s, line, (size_t)n, timeout_ms) == 0 ? 0 : -1;
}
