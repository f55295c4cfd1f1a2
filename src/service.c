/*
 * service.c - one listener thread per service line.
 *
 * The listener binds (retrying with back-off while the port is busy),
 * accepts while fewer than maxconn clients are active, and starts one
 * detached worker thread per client (client.c); a worker done with its
 * client takes the next waiting connection itself when there is one
 * (service_next_client).  A service is
 * refcounted: the listener holds one reference and every client one, so
 * a client that outlives a reload can still read its service.
 */
#include "service.h"
#include "netns.h"
#include "client.h"
#include "connback.h"
#include "errcode.h"
#include "log.h"
#include "logformat.h"
#include "metrics.h"
#include "os.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#define ACCEPT_POLL_MS 250         /* how often the loop sees `stop` */
#define FULL_WAIT_MS 5             /* re-check interval at maxconn */
#define BIND_RETRY_START_MS 100
#define BIND_RETRY_MAX_MS 10000

/* The running services, for admin /S: the main thread adds and removes
 * (service_start, service_stop) while admin workers walk.  Guards the
 * run_next / run_prev links and `running` only. */
static os_mutex_t run_lock = OS_MUTEX_INIT;
static struct service *running;

int svc_timeout_ms(const struct conf_gen *gen, enum conf_timeout slot)
{
	return gen->timeouts[slot] * 1000;
}

void service_log(struct service *svc, int err, const char *fmt, ...)
{
	const struct svc_conf *sc = svc->conf;
	struct log_record rec;
	char text[512], line[LOGFORMAT_MAXLINE];
	size_t n;
	va_list ap;

	if (sc->log == NULL || sc->silent)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&rec, 0, sizeof(rec));
	os_realtime(&rec.now);
	rec.service = sc->proto->logname;
	rec.port = net_get_port(&sc->listen);
	rec.err = err;
	rec.client = &sc->listen;
	rec.local = &sc->listen;
	rec.text = text;
	rec.sql_quote = log_sink_is_sql(sc->log);   /* log &DSN */
	n = logformat_expand(line, sizeof(line), sc->logformat, &rec);
	log_sink_write(sc->log, line, n);
}

static void service_unref(struct service *svc)
{
	if (os_atomic_dec(&svc->refs) != 0)
		return;
	connback_free(svc);
	conf_gen_unref(svc->gen);
	os_mutex_destroy(&svc->cl_lock);
	free(svc);
}

void service_ref(struct service *svc)
{
	os_atomic_inc(&svc->refs);
}

void service_release(struct service *svc)
{
	service_unref(svc);
}

/* Bind, retrying with a doubling delay while the address is busy.
 * Returns 0 once listening, -1 if stopped or on a permanent error. */
static int listen_with_retry(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	unsigned delay = BIND_RETRY_START_MS;
	char ebuf[128];
	const char *what = "socket";
	int err = 0;

	while (!os_atomic_load(&svc->stop)) {
		/* -ni: the listening socket is made in that namespace */
		netns_thread_use(sc->netns_in_fd);
		svc->sock = net_listen(&sc->listen, sc->proto->socktype,
				       sc->backlog, sc->opts_listen,
				       sc->maxseg, &err, &what);
		netns_thread_use(NETNS_NONE);
		if (svc->sock != OS_BADSOCK)
			return 0;
		service_log(svc, ERR_BIND, "%s(): %s", what,
			    os_strerror(err, ebuf, sizeof(ebuf)));
		if (strcmp(what, "bind") != 0)
			return -1;
		os_sleep_ms(delay);
		if (delay < BIND_RETRY_MAX_MS)
			delay *= 2;
	}
	return -1;
}

/* Linux: the listening socket is non-blocking and the loop accepts
 * until the backlog is empty, so a busy listener does not poll() before
 * every accept.  accept4() does not pass O_NONBLOCK on to the new
 * socket (accept() never does on Linux); elsewhere accepted sockets may
 * inherit it, so there the listener stays blocking and polls first. */
#if defined(__linux__) && defined(SOCK_CLOEXEC)
#define ACCEPT_DRAIN 1
#endif

/* Accept one waiting connection and make its client.  Returns 1 when a
 * connection was taken (*out = its client, or NULL when there was no
 * memory for it), 0 when none was waiting, -1 on an error (logged unless
 * quiet: workers leave that to the listener, which meets the same error
 * and pauses between tries, so a full descriptor table is not logged by
 * every worker that finishes). */
static int accept_client(struct service *svc, struct client **out,
			 int quiet)
{
	const struct svc_conf *sc = svc->conf;
	struct sockaddr_storage ss;
	os_socklen_t sl = sizeof(ss);
	struct net_addr peer;
	os_sock_t fd;
	char ebuf[128];

	*out = NULL;
#ifdef ACCEPT_DRAIN
	fd = accept4(svc->sock, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
#else
	fd = accept(svc->sock, (struct sockaddr *)&ss, &sl);
#endif
	if (fd == OS_BADSOCK) {
		int err = os_sock_errno();

		if (os_errno_is_wouldblock(err) || os_errno_is_intr(err))
			return 0;
		if (quiet)
			return -1;
		service_log(svc, 0, "accept(): %s",
			    os_strerror(err, ebuf, sizeof(ebuf)));
		return -1;
	}
	net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
	net_sockopts_apply(fd, sc->opts_client, sc->maxseg);
	if (net_family(&peer) != AF_UNIX && !svc->nodelay_inherited)
		net_nodelay(fd);
	*out = client_new(svc, fd, &peer);
	if (*out == NULL)
		os_sock_close(fd);
	return 1;
}

/* Returns 1 if a connection was taken, 0 if none was waiting (or on an
 * error, after logging it). */
static int accept_one(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	struct client *cl;
	char ebuf[128];
	int rc = accept_client(svc, &cl, 0);

	if (rc < 0)
		os_sleep_ms(10);   /* EMFILE and friends: let descriptors
				      free up */
	if (cl == NULL)
		return rc > 0;
	if (os_thread_detached(client_main, cl, sc->stacksize) != 0) {
		service_log(svc, 0, "pthread_create(): %s",
			    os_strerror(errno, ebuf, sizeof(ebuf)));
		client_finish(cl, ERR_NOMEM);
	}
	return 1;
}

/* Work done once on the listening socket instead of on every accepted
 * one.  A socket bound to one address and port (not a wildcard, not
 * IP_TRANSPARENT, which accepts for foreign addresses) gives every
 * accepted socket that local address.  Linux copies TCP_NODELAY from
 * the listener to accepted sockets; other systems may not, so there each
 * accepted socket still gets it. */
static void stream_setup(struct service *svc)
{
	const struct net_addr *l = &svc->conf->listen;
	int fam = net_family(l);

	svc->local_fixed = (fam == AF_INET || fam == AF_INET6) &&
			   !net_is_any(l) && net_get_port(l) != 0 &&
			   !(svc->conf->opts_listen & NET_OPT_IP_TRANSPARENT);
#ifdef __linux__
	if (fam == AF_INET || fam == AF_INET6) {
		net_nodelay(svc->sock);
		svc->nodelay_inherited = 1;
	}
#endif
}

static void stream_loop(struct service *svc)
{
	const struct svc_conf *sc = svc->conf;
	unsigned full_waits = 0;
	os_pollfd_t pfd;
	int drain = 0;

#ifdef ACCEPT_DRAIN
	drain = os_sock_nonblock(svc->sock, 1) == 0;
	/* from now on workers may accept too (service_next_client) */
	os_atomic_store(&svc->shared_accept, drain);
#endif
	while (!os_atomic_load(&svc->stop)) {
		if (os_atomic_load(&svc->active) >= sc->maxconn) {
			/* Leave the connection in the kernel's backlog until
			 * a slot frees, as 3proxy does. */
			if (full_waits++ % 5000 == 0)
				service_log(svc, 0, "Warning: too many connected "
					    "clients (%d/%d)",
					    os_atomic_load(&svc->active),
					    sc->maxconn);
			os_sleep_ms(FULL_WAIT_MS);
			continue;
		}
		pfd.fd = svc->sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* take what is queued; poll only once the backlog is empty */
		if (drain && accept_one(svc))
			continue;
		if (os_poll(&pfd, 1, ACCEPT_POLL_MS) <= 0)
			continue;
		/* a client that woke the poll is taken even if `stop` came
		 * meanwhile: closing the socket now would reset it (during a
		 * reload the old generation still serves it) */
		(void)accept_one(svc);
	}
}

static void listener_main(void *arg)
{
	struct service *svc = arg;

	/* -r: connect out instead of listening (connback.c) */
	if (svc->conf->connback_client != NULL &&
	    svc->conf->proto->socktype == SOCK_STREAM) {
		connback_client_loop(svc);
		return;
	}
	if (listen_with_retry(svc) != 0)
		return;
	/* -Di: accept only what arrives through this device. */
	if (net_bind_device(svc->sock, svc->conf->bind_dev_in) != 0) {
		service_log(svc, ERR_BIND, "failed to bind device");
		return;
	}
	if (svc->conf->connback_listen != NULL)
		connback_listen_start(svc);   /* -R */
	service_log(svc, 0, "Accepting connections [%lu/%lu]",
		    os_process_id(), os_thread_id());
	if (svc->conf->proto->socktype == SOCK_STREAM) {
		stream_setup(svc);
		stream_loop(svc);
	}
	else
		svc->conf->proto->dgram_run(svc);
	service_log(svc, 0, "Exiting thread");
}

void service_dgram_loop(struct service *svc, size_t bufsize,
			service_dgram_fn fn, void *arg, const int *busy)
{
	char *buf = malloc(bufsize);
	os_pollfd_t pfd;

	while (buf != NULL && !os_atomic_load(&svc->stop)) {
		struct sockaddr_storage ss;
		os_socklen_t sl = sizeof(ss);
		struct net_addr peer;
		long n;

		pfd.fd = svc->sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (os_poll(&pfd, 1, ACCEPT_POLL_MS) <= 0)
			continue;
		n = recvfrom(svc->sock, buf, (int)bufsize, 0,
			     (struct sockaddr *)&ss, &sl);
		if (n < 0)
			continue;
		net_from_sockaddr(&peer, (struct sockaddr *)&ss, sl);
		fn(arg, buf, (size_t)n, &peer);
	}
	free(buf);
	/* Workers answer from the service socket: they must be done before
	 * it is closed.  Each sees `stop` within one poll interval. */
	while (os_atomic_load(busy) > 0)
		os_sleep_ms(10);
}

struct service *service_start(struct svc_conf *sc, struct conf_gen *gen)
{
	struct service *svc = calloc(1, sizeof(*svc));

	if (svc == NULL)
		return NULL;
	svc->conf = sc;
	svc->gen = gen;
	svc->sock = OS_BADSOCK;
	svc->refs = 1;
	os_mutex_init(&svc->cl_lock);
	conf_gen_ref(gen);
	/* the same name and address as before a reload: counts go on */
	svc->metrics = metrics_service_attach(sc);
	if (os_thread_joinable(&svc->thread, listener_main, svc,
			       sc->stacksize) != 0) {
		metrics_service_detach(svc->metrics);
		conf_gen_unref(gen);
		os_mutex_destroy(&svc->cl_lock);
		free(svc);
		return NULL;
	}
	os_mutex_lock(&run_lock);
	svc->run_next = running;
	if (running != NULL)
		running->run_prev = svc;
	running = svc;
	os_mutex_unlock(&run_lock);
	return svc;
}

static void run_unlink(struct service *svc)
{
	os_mutex_lock(&run_lock);
	if (svc->run_prev != NULL)
		svc->run_prev->run_next = svc->run_next;
	else if (running == svc)
		running = svc->run_next;
	if (svc->run_next != NULL)
		svc->run_next->run_prev = svc->run_prev;
	svc->run_next = svc->run_prev = NULL;
	os_mutex_unlock(&run_lock);
}

int service_foreach(service_visit_fn fn, void *arg)
{
	struct service *s;
	int rc = 0;

	os_mutex_lock(&run_lock);
	for (s = running; s != NULL && rc == 0; s = s->run_next)
		rc = fn(arg, s);
	os_mutex_unlock(&run_lock);
	return rc;
}

int service_foreach_client(struct service *svc, service_client_fn fn,
			   void *arg)
{
	struct client *c;
	int rc = 0;

	os_mutex_lock(&svc->cl_lock);
	for (c = svc->clients; c != NULL && rc == 0; c = c->svc_next)
		rc = fn(arg, c);
	os_mutex_unlock(&svc->cl_lock);
	return rc;
}

void service_client_add(struct service *svc, struct client *cl)
{
	os_mutex_lock(&svc->cl_lock);
	cl->svc_prev = NULL;
	cl->svc_next = svc->clients;
	if (svc->clients != NULL)
		svc->clients->svc_prev = cl;
	svc->clients = cl;
	cl->listed = 1;
	os_mutex_unlock(&svc->cl_lock);
}

void service_client_remove(struct service *svc, struct client *cl)
{
	os_mutex_lock(&svc->cl_lock);
	if (cl->svc_prev != NULL)
		cl->svc_prev->svc_next = cl->svc_next;
	else
		svc->clients = cl->svc_next;
	if (cl->svc_next != NULL)
		cl->svc_next->svc_prev = cl->svc_prev;
	cl->svc_next = cl->svc_prev = NULL;
	cl->listed = 0;
	os_mutex_unlock(&svc->cl_lock);
}

/* A worker whose client has finished takes the next connection from
 * the backlog itself, when one is waiting, instead of leaving it to the
 * listener: under load that saves the hand-over to another thread (two
 * futex calls and a thread switch per connection).  Only where the
 * listening socket is non-blocking (shared_accept).
 * The socket must not be closed while a worker is inside accept4():
 * a worker counts itself in `acceptors` before it reads `stop`, and
 * service_stop() sets `stop` before it waits for `acceptors` to drop to
 * 0 (all sequentially consistent), so each worker either sees `stop` or
 * is waited for. */
struct client *service_next_client(struct service *svc)
{
	struct client *cl = NULL;

	if (!os_atomic_load(&svc->shared_accept))
		return NULL;
	os_atomic_inc(&svc->acceptors);
	if (!os_atomic_load(&svc->stop) &&
	    os_atomic_load(&svc->active) < svc->conf->maxconn)
		(void)accept_client(svc, &cl, 1);
	os_atomic_dec(&svc->acceptors);
	return cl;
}

void service_request_stop(struct service *svc)
{
	os_atomic_store(&svc->stop, 1);
}

void service_stop(struct service *svc)
{
	run_unlink(svc);
	metrics_service_detach(svc->metrics);
	os_atomic_store(&svc->stop, 1);
	os_thread_join(svc->thread);
	svc->thread = NULL;
	connback_stop(svc);
	while (os_atomic_load(&svc->acceptors) != 0)
		os_sleep_ms(1);     /* a worker is inside accept4() */
	if (svc->sock != OS_BADSOCK) {
		os_sock_close(svc->sock);
		svc->sock = OS_BADSOCK;
#ifndef _WIN32
		if (net_family(&svc->conf->listen) == AF_UNIX) {
			const struct sockaddr_un *un =
				(const struct sockaddr_un *)&svc->conf->listen.ss;

			if (un->sun_path[0] != '\0')
				unlink(un->sun_path);
		}
#endif
	}
	service_unref(svc);
}
