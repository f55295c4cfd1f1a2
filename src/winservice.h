/*
 * winservice.h - running as a Windows service (--install, --remove, and the
 * service control dispatcher).  Only built on Windows.
 */
#ifndef PX_WINSERVICE_H
#define PX_WINSERVICE_H

#ifdef _WIN32
/* What the service control handler asks of the main loop. */
struct winsvc_hooks {
	void (*stop)(void);      /* STOP, SHUTDOWN: orderly exit */
	void (*pause)(void);     /* PAUSE: stop accepting */
	void (*resume)(void);    /* CONTINUE: reload the configuration */
};

/* Register the service "3proxy" to run "<exe>" "<config>" --service.
 * Returns 0 or -1 (message on stderr). */
int winsvc_install(const char *config_path);
int winsvc_remove(void);
/* Hand the process to the service control manager; `run` is the daemon's
 * main loop, called on the service thread.  Returns run's result. */
int winsvc_dispatch(const struct winsvc_hooks *hooks, int (*run)(void));
#endif

#endif
