/*
 * fuzz_service.c - whole client sessions of the protocol handlers
 * (proto_http.c, proto_socks.c, the mail proxies, ftppr, tlspr, auto,
 * the request parsing of admin):
 * the input is what a client sends, the service reads it from a socket
 * and answers, as in the daemon.  The first byte selects the service.
 * The configuration refuses every request after parsing (auth iponly,
 * deny *) and names an unreachable name server, so a session never
 * leaves the machine: what is fuzzed is the parsing and error paths of
 * each handler, with the helpers between them (client.c, sockio.c).
 * F-HTTP-01 F-SOCKS-01 F-MAIL-01 F-FTP-01 F-TLSPR-01
 */
#include "fuzz_util.h"
#include "client.h"
#include "conf.h"
#include "os.h"
#include "service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_INPUT 16384

static const char config[] =
	"internal 127.0.0.1\n"
	"nserver 127.0.0.1:9\n"
	"timeouts 1 1 1 1 1 1 1 1 1 1 1\n"
	"auth iponly\n"
	"deny *\n"
	"proxy -p3128\n"
	"socks -p1080\n"
	"pop3p -p1110\n"
	"smtpp -p1025\n"
	"imapp -p1143\n"
	"ftppr -p1021\n"
	"tlspr -p1443 -c1\n"
	"auto -p1111\n"
	"proxy -p3129 -H\n"
	"socks -p1081 -u2\n"
	"pop3p -p1112 -hmail.example\n"
	"tlspr -p1444 -Ximap -P143\n"
	"admin -p8080\n";

static struct conf_gen *gen;
static struct service **svcs;
static int nsvcs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int nerr = 0, i;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	gen = conf_load_mem(config, sizeof(config) - 1, "fuzz.cfg", CONF_RUN,
			    stderr, &nerr);
	if (gen == NULL || gen->nsvcs == 0) {
		fprintf(stderr, "fuzz_service: the config did not load\n");
		abort();
	}
	/* Services as the listener would set them up, without listening. */
	svcs = calloc((size_t)gen->nsvcs, sizeof(*svcs));
	if (svcs == NULL)
		abort();
	for (i = 0; i < gen->nsvcs; i++) {
		struct service *s = calloc(1, sizeof(*s));

		if (s == NULL)
			abort();
		s->conf = gen->svcs[i];
		s->gen = gen;
		s->sock = OS_BADSOCK;
		s->refs = 1;            /* ours: never released */
		s->local_fixed = 1;
		os_mutex_init(&s->cl_lock);
		svcs[i] = s;
	}
	nsvcs = gen->nsvcs;
	return 0;
}

/* The client side reads whatever the service answers, so the service
 * never blocks on a full socket.  FUZZ_SHOW=1 in the environment shows
 * the answers (to check what a corpus file reaches). */
static void *drain(void *arg)
{
	int fd = *(int *)arg;
	int show = getenv("FUZZ_SHOW") != NULL;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (show)
			fwrite(buf, 1, (size_t)n, stderr);
	if (show)
		fputs("\n----\n", stderr);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	struct service *svc;
	struct net_addr peer;
	struct client *cl;
	pthread_t t;
	int sv[2];

	if (size > MAX_INPUT)
		return 0;
	svc = svcs[sel % nsvcs];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	/* everything the client says, then its end of input */
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	if (pthread_create(&t, NULL, drain, &sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	net_parse_ip("127.0.0.1", &peer);
	net_set_port(&peer, 40000);
	cl = client_new(svc, sv[0], &peer);
	if (cl != NULL)
		client_main(cl);        /* closes sv[0] */
	else
		close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	return 0;
}
