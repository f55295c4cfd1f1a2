/*
 * control.h - requests from worker threads to the main loop.
 *
 * The admin /R page (services.md 14) asks for the same reload as
 * SIGUSR1 (cli.md 3).  Workers cannot run a reload themselves: it stops
 * every listener, including the one they were accepted on.  They set a
 * flag; main.c polls it with its signal flags, about ten times a second.
 */
#ifndef PX_CONTROL_H
#define PX_CONTROL_H

/* Ask the main loop to reload the configuration.  Any thread. */
void control_request_reload(void);
/* Main loop: 1 (and clear the request) if a reload was asked for. */
int control_take_reload(void);

#endif
