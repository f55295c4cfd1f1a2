/*
 * control.c - requests from worker threads to the main loop (control.h).
 *
 * One atomic flag; no lock.  Several requests before the main loop
 * looks collapse into one reload, as repeated SIGUSR1 signals do.
 */
#include "control.h"
#include "os.h"

static long reload_wanted;    /* atomic */

void control_request_reload(void)
{
	os_atomic_store(&reload_wanted, 1);
}

int control_take_reload(void)
{
	if (os_atomic_load(&reload_wanted) == 0)
		return 0;
	os_atomic_store(&reload_wanted, 0);
	return 1;
}
