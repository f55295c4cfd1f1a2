/*
 * service.h - services: the settings a service line snapshots, and the
 * running listener built from them.
 */
#ifndef PX_SERVICE_H
#define PX_SERVICE_H

#include <stdint.h>
#include "net.h"
#include "conf.h"

struct client;
struct service;
struct connback;
struct tls_svc;
struct filter_chain;
struct metrics_svc;

/* One protocol handler (proto_*.c).  A TCP handler runs on the worker
 * thread and returns 0 or an errcode.h code; it never frees the client.
 * A datagram service instead runs its own loop on the listener thread. */
struct proto {
	const char *cmd;          /* config command, e.g. "tcppm" */
	const char *logname;      /* %N, e.g. "TCPPM" */
	uint16_t default_port;    /* 0: given positionally */
	int socktype;             /* SOCK_STREAM or SOCK_DGRAM */
	int positional;           /* takes LOCALPORT HOST PORT */
	int (*handle)(struct client *cl);
	void (*dgram_run)(struct service *svc);
};

/* Look a protocol up by its config command; NULL if none. */
const struct proto *proto_find(const char *cmd);

/* Settings in force at the service line (immutable once built). */
struct svc_conf {
	const struct proto *proto;
	const char *cmdname;         /* as written on the line */
	char *where;                 /* "file:line" */
	struct net_addr listen;      /* address and port */
	char *listen_text;           /* -i text, for messages */
	int port_given;              /* -p was used */
	struct net_addr external4, external6;
	int maxconn;
	int backlog;
	size_t stacksize;            /* final worker stack size */
	size_t bufsize;              /* -b */
	enum net_family_pref family; /* -4 -6 -46 -64 */
	unsigned opts_client, opts_server, opts_listen, opts_connback;
	int silent;                  /* -t */
	int user_mode;               /* -u: 1 never, 2 always, 0 default */
	int anonymous;               /* -a[N] */
	int splice;                  /* -s[N]: -1 default, 0 off, 1 on */
	int halfclose;               /* -C: 0 end at first close, 1 keep */
	int proxy_header;            /* -H */
	int transparent;             /* -T */
	int check_level;             /* -c */
	int single_packet;           /* udppm -s */
	int no_starttls;             /* -x */
	int starttls;                /* -X: enum starttls_proto, 0 none */
	char *default_host;          /* -h */
	uint16_t default_port_opt;   /* -P */
	char *target_host;           /* tcppm/udppm positional */
	uint16_t target_port;
	char *connback_client;       /* -r */
	char *connback_listen;       /* -R */
	char *nat_ext, *nat_int;     /* -Ne -Ni */
	char *bind_dev_in, *bind_dev_out; /* -Di -De */
	char *netns_in, *netns_out;  /* -ni -ne */
	int netns_in_fd, netns_out_fd; /* their files, NETNS_NONE if none */
	int grace_traf, grace_num, grace_delay; /* -g */
	int udp_mode;                /* -U */
	struct log_sink *log;        /* NULL: not logged (refcounted) */
	char *logformat;
	uint64_t logdump_in, logdump_out;
	int force;
	int maxseg;
	struct acl *acl;             /* ACL at the line (refcounted), or NULL */
	struct auth_conf *auth;      /* auth chain + authcache, owned */
	struct net_addr fake4, fake6; /* dnspr -F answers; len 0 = unset */
	struct tls_svc *tls;         /* ssl_serv / ssl_cli (tls.h), owned;
					NULL = no TLS */
	struct filter_chain *filters; /* filter.h, owned; NULL = none */
};

/* Parse the options of a service line into a new svc_conf built from the
 * cursor.  Reports problems through conf_error and returns NULL. */
struct svc_conf *svc_conf_parse(struct conf_ctx *ctx, int argc, char **argv);
void svc_conf_free(struct svc_conf *sc);

/* A running listener. */
struct service {
	struct svc_conf *conf;      /* owned by gen */
	struct conf_gen *gen;       /* referenced while the service runs */
	os_sock_t sock;
	int refs;                   /* atomic: listener + each client */
	int active;                 /* atomic: clients being served */
	int stop;                   /* atomic: set to make the loop end */
	os_thread_t *thread;
	struct service *next;       /* in main.c's list (main thread only) */
	/* Admin /S: the registry of running services (service.c's run_lock)
	 * and this service's connected clients (cl_lock).  Lock order:
	 * run_lock, then cl_lock. */
	struct service *run_next, *run_prev;
	os_mutex_t cl_lock;
	struct client *clients;     /* under cl_lock */
	struct connback *connback;  /* -R listener (connback.c), or NULL */
	/* Set by the listener before its first accept: */
	int local_fixed;            /* accepted sockets' local address is
				       conf->listen: no getsockname() */
	int nodelay_inherited;      /* accepted sockets inherit TCP_NODELAY
				       from the listening socket */
	int shared_accept;          /* atomic: workers accept too */
	int acceptors;              /* atomic: workers inside accept4() */
	struct metrics_svc *metrics; /* admin /metrics (metrics.h), or NULL */
};

/* Start a listener thread for sc.  Bind is tried once now (so the
 * common case reports errors at start-up) and then retried by the
 * thread with back-off, as 3proxy does.  Returns NULL on failure. */
struct service *service_start(struct svc_conf *sc, struct conf_gen *gen);
/* Ask the listener to stop without waiting for it.  Stopping many
 * services: ask each first, then service_stop() each, so their accept
 * polls (up to 250 ms) run out together rather than one after another. */
void service_request_stop(struct service *svc);
/* For a worker whose client has finished: the client of the next
 * connection waiting in the backlog, accepted on this thread, or NULL
 * (none waiting, the service stopping, maxconn reached, or a service
 * whose listener alone accepts). */
struct client *service_next_client(struct service *svc);
/* Stop accepting and close the listening socket; clients keep running,
 * each holding its own reference to the generation. */
void service_stop(struct service *svc);

/* Datagram services: receive on the service socket until `stop`, handing
 * each datagram to fn (buf is reused after fn returns).  Then wait until
 * *busy (an atomic count of the service's workers, which answer from the
 * service socket) drops to 0, so the socket outlives them. */
typedef void (*service_dgram_fn)(void *arg, const void *buf, size_t n,
				 const struct net_addr *peer);
void service_dgram_loop(struct service *svc, size_t bufsize,
			service_dgram_fn fn, void *arg, const int *busy);

/* Admin /S.  service_foreach calls fn for every running service (from
 * service_start until service_stop) while holding the registry lock, so
 * fn must not block: it renders into memory.  service_foreach_client
 * does the same for the clients of one service under its cl_lock.  A
 * non-zero return from fn stops the walk and is returned. */
typedef int (*service_visit_fn)(void *arg, struct service *svc);
typedef int (*service_client_fn)(void *arg, const struct client *cl);
int service_foreach(service_visit_fn fn, void *arg);
int service_foreach_client(struct service *svc, service_client_fn fn,
			   void *arg);
/* Link / unlink a client in its service's list (client.c). */
void service_client_add(struct service *svc, struct client *cl);
void service_client_remove(struct service *svc, struct client *cl);

/* Clients hold a reference to their service (client.c). */
void service_ref(struct service *svc);
void service_release(struct service *svc);

/* Write a listener message ("Accepting connections ...") as a record. */
void service_log(struct service *svc, int err, const char *fmt, ...)
	PX_PRINTF(3, 4);

/* Effective timeout of a slot for this generation, in milliseconds. */
int svc_timeout_ms(const struct conf_gen *gen, enum conf_timeout slot);

#endif
