/*
 * winservice.c - the Windows service entry points.
 *
 * `3proxy --install [cfg]` registers an auto-start service whose command
 * line is `"<exe>" "<full cfg path>" --service`; the service control
 * manager then starts it, and STOP / PAUSE / CONTINUE map to exit, stop
 * accepting, and reload.
 */
#ifdef _WIN32
#include "winservice.h"
#include "os.h"

#include <winsvc.h>

#include <stdio.h>
#include <string.h>

#define SVC_NAME "3proxy"
#define SVC_DISPLAY "3proxy tiny proxy server"

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static const struct winsvc_hooks *hooks;
static int (*run_fn)(void);
static int run_result;

static void set_state(DWORD state)
{
	status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	status.dwCurrentState = state;
	status.dwControlsAccepted = SERVICE_ACCEPT_STOP |
		SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PAUSE_CONTINUE;
	status.dwWin32ExitCode = NO_ERROR;
	status.dwWaitHint = 3000;
	if (status_handle != NULL)
		SetServiceStatus(status_handle, &status);
}

static void WINAPI control_handler(DWORD ctl)
{
	switch (ctl) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		set_state(SERVICE_STOP_PENDING);
		hooks->stop();
		break;
	case SERVICE_CONTROL_PAUSE:
		hooks->pause();
		set_state(SERVICE_PAUSED);
		break;
	case SERVICE_CONTROL_CONTINUE:
		hooks->resume();
		set_state(SERVICE_RUNNING);
		break;
	default:
		break;
	}
}

static void WINAPI service_main(DWORD argc, LPSTR *argv)
{
	(void)argc;
	(void)argv;
	status_handle = RegisterServiceCtrlHandlerA(SVC_NAME, control_handler);
	if (status_handle == NULL)
		return;
	set_state(SERVICE_RUNNING);
	run_result = run_fn();
	set_state(SERVICE_STOPPED);
}

int winsvc_dispatch(const struct winsvc_hooks *h, int (*run)(void))
{
	SERVICE_TABLE_ENTRYA table[2];

	hooks = h;
	run_fn = run;
	memset(table, 0, sizeof(table));
	table[0].lpServiceName = (LPSTR)SVC_NAME;
	table[0].lpServiceProc = service_main;
	if (!StartServiceCtrlDispatcherA(table)) {
		fprintf(stderr, "3proxy: not started by the service manager "
			"(error %lu)\n", (unsigned long)GetLastError());
		return 1;
	}
	return run_result;
}

int winsvc_install(const char *config_path)
{
	char exe[MAX_PATH], cfg[MAX_PATH], cmd[3 * MAX_PATH];
	SC_HANDLE scm, svc;

	if (GetModuleFileNameA(NULL, exe, sizeof(exe)) == 0 ||
	    GetFullPathNameA(config_path, sizeof(cfg), cfg, NULL) == 0) {
		fprintf(stderr, "3proxy: cannot resolve paths\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "\"%s\" \"%s\" --service", exe, cfg);
	scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (scm == NULL) {
		fprintf(stderr, "3proxy: cannot open the service manager "
			"(error %lu)\n", (unsigned long)GetLastError());
		return -1;
	}
	svc = CreateServiceA(scm, SVC_NAME, SVC_DISPLAY, SERVICE_ALL_ACCESS,
			     SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
			     SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, NULL,
			     NULL);
	if (svc == NULL) {
		fprintf(stderr, "3proxy: cannot create the service "
			"(error %lu)\n", (unsigned long)GetLastError());
		CloseServiceHandle(scm);
		return -1;
	}
	StartServiceA(svc, 0, NULL);
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return 0;
}

int winsvc_remove(void)
{
	SC_HANDLE scm, svc;
	int rc = 0;

	scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL)
		return -1;
	svc = OpenServiceA(scm, SVC_NAME, DELETE);
	if (svc == NULL || !DeleteService(svc)) {
		fprintf(stderr, "3proxy: cannot remove the service "
			"(error %lu)\n", (unsigned long)GetLastError());
		rc = -1;
	}
	if (svc != NULL)
		CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return rc;
}
#else
/* Nothing to do outside Windows; keep the translation unit non-empty. */
typedef int winsvc_posix_unused;
#endif
