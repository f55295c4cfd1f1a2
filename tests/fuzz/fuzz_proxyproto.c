/*
 * fuzz_proxyproto.c - PROXY protocol v1 header lines (proxyproto.c),
 * as the service reads them from a listed source (-H).  Lengths past
 * PROXYPROTO_MAXLINE are passed too: the parser must refuse them.
 */
#include "fuzz_util.h"
#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;
	struct net_addr src, dst;

	line = (char *)fuzz_dup(data, size);
	if (line == NULL)
		return 0;
	proxyproto_parse(line, size, &src, &dst);
	free(line);
	return 0;
}
