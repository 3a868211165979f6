/* QMP through libvirt: a libvirt-managed QEMU's monitor belongs to libvirtd, so commands
 * go through libvirt's QEMU monitor pass-through (virDomainQemuMonitorCommand) and events
 * come from its monitor-event callback, never from QEMU's socket. */
#include <haywire/qmp.h>
#include <haywire/error.h>
#include "transport/qmp-link.h"

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include <dirent.h>
#include <string.h>

#define MAX_PROCS 1000000   /* /proc entries looked at when finding QEMU's pid */

typedef struct {
  virConnectPtr conn;
  virDomainPtr dom;
  int callback;          /* monitor-event callback id, or -1 */
  HwQmp *qmp;            /* where events go (set once the connection exists) */
  int pid;               /* QEMU's, 0 until found */
  char uuid[VIR_UUID_STRING_BUFLEN];
} Link;

static void
ignore_errors(void *data, virErrorPtr error)
{
  (void)data;
  (void)error;   /* libvirt prints every error on stderr by default: we report them */
}

static void
set_libvirt_error(GError **error, int code, const char *what)
{
  const char *msg = virGetLastErrorMessage();
  g_set_error(error, HW_ERROR, code, "%s: %s", what, msg ? msg : "unknown libvirt error");
}

static void
on_timer_flag(int timer, void *opaque)
{
  (void)timer;
  *(gboolean *)opaque = TRUE;
}

static char *
link_exchange(gpointer data, const char *request, guint timeout_ms, GError **error)
{
  Link *l = data;
  char *reply = NULL;
  (void)timeout_ms;   /* libvirt applies its own monitor time-out */
  if (virDomainQemuMonitorCommand(l->dom, request, &reply, 0) < 0) {
    virErrorPtr e = virGetLastError();
    gboolean gone = e && (e->code == VIR_ERR_OPERATION_INVALID || e->code == VIR_ERR_NO_DOMAIN ||
                          e->code == VIR_ERR_SYSTEM_ERROR || e->code == VIR_ERR_RPC);
    set_libvirt_error(error, gone ? HW_ERROR_DISCONNECTED : HW_ERROR_FAILED,
                      "libvirt monitor command");
    return NULL;
  }
  char *copy = g_strdup(reply);
  free(reply);
  /* Let the events that came with the command in now, as a socket would have them
   * before the reply. */
  gboolean fired = FALSE;
  int t = virEventAddTimeout(0, on_timer_flag, &fired, NULL);
  for (guint rounds = 0; t >= 0 && !fired && rounds < 1000; rounds++)
    if (virEventRunDefaultImpl() < 0)
      break;
  if (t >= 0)
    virEventRemoveTimeout(t);
  return copy;
}

static void
on_event(virConnectPtr conn, virDomainPtr dom, const char *event, long long seconds,
         unsigned int micros, const char *details, void *opaque)
{
  Link *l = opaque;
  (void)conn;
  (void)dom;
  if (l->qmp)
    hw_qmp_queue_event_text(l->qmp, event, seconds, micros, details);
}

static gboolean
link_poll(gpointer data, HwQmp *qmp, guint timeout_ms, GError **error)
{
  Link *l = data;
  l->qmp = qmp;
  gboolean fired = FALSE;
  int t = virEventAddTimeout((int)MAX(timeout_ms, 1u), on_timer_flag, &fired, NULL);
  if (t < 0) {
    set_libvirt_error(error, HW_ERROR_FAILED, "libvirt event timer");
    return FALSE;
  }
  /* Runs one round of libvirt's loop at a time: events, then our timer. */
  for (guint rounds = 0; !fired && rounds < 100000; rounds++)
    if (virEventRunDefaultImpl() < 0)
      break;
  virEventRemoveTimeout(t);
  if (virConnectIsAlive(l->conn) != 1) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "the libvirt connection closed");
    return FALSE;
  }
  if (virDomainIsActive(l->dom) != 1) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "the libvirt domain stopped");
    return FALSE;
  }
  return TRUE;
}

static void
link_cont(gpointer data)
{
  Link *l = data;
  char *reply = NULL;
  if (virDomainQemuMonitorCommand(l->dom, "{\"execute\": \"cont\"}", &reply, 0) == 0)
    free(reply);
}

/* The QEMU process whose command line carries the domain's UUID (libvirt passes
 * -uuid): on this host only; 0 when there is none we can see. */
static int
find_qemu_pid(const char *uuid)
{
  DIR *d = opendir("/proc");
  if (d == NULL)
    return 0;
  int found = 0;
  struct dirent *e;
  for (guint n = 0; found == 0 && n < MAX_PROCS && (e = readdir(d)) != NULL; n++) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", e->d_name);
    g_autofree char *cmd = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &cmd, &len, NULL))
      continue;
    /* NUL-separated arguments: "-uuid" followed by the UUID. */
    for (gsize i = 0; i + 6 < len; i += strlen(cmd + i) + 1)
      if (strcmp(cmd + i, "-uuid") == 0 && i + 6 < len &&
          g_ascii_strcasecmp(cmd + i + 6, uuid) == 0) {
        found = (int)g_ascii_strtoll(e->d_name, NULL, 10);
        break;
      }
  }
  closedir(d);
  return found;
}

static int
link_peer_pid(gpointer data)
{
  Link *l = data;
  if (l->pid == 0)
    l->pid = find_qemu_pid(l->uuid);
  return l->pid;
}

static void
link_free(gpointer data)
{
  Link *l = data;
  if (l->callback >= 0)
    virConnectDomainQemuMonitorEventDeregister(l->conn, l->callback);
  if (l->dom)
    virDomainFree(l->dom);
  if (l->conn)
    virConnectClose(l->conn);
  g_free(l);
}

static const HwQmpLink libvirt_link = {
  link_exchange, link_poll, link_cont, link_peer_pid, link_free,
};

HwQmp *
hw_qmp_connect_libvirt(const char *uri, const char *name, guint timeout_ms, GError **error)
{
  static gsize once;
  if (g_once_init_enter(&once)) {
    virSetErrorFunc(NULL, ignore_errors);
    virEventRegisterDefaultImpl();   /* before any connection: events need the loop */
    g_once_init_leave(&once, 1);
  }
  if (name == NULL || name[0] == '\0') {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no libvirt domain name");
    return NULL;
  }
  Link *l = g_new0(Link, 1);
  l->callback = -1;
  l->conn = virConnectOpen(uri);
  if (l->conn == NULL) {
    set_libvirt_error(error, HW_ERROR_CONNECT, uri ? uri : "the default libvirt connection");
    link_free(l);
    return NULL;
  }
  l->dom = virDomainLookupByName(l->conn, name);
  if (l->dom == NULL) {
    g_autofree char *what = g_strdup_printf("libvirt domain %s", name);
    set_libvirt_error(error, HW_ERROR_CONNECT, what);
    link_free(l);
    return NULL;
  }
  if (virDomainIsActive(l->dom) != 1) {
    g_set_error(error, HW_ERROR, HW_ERROR_CONNECT, "libvirt domain %s is not running", name);
    link_free(l);
    return NULL;
  }
  if (virDomainGetUUIDString(l->dom, l->uuid) < 0)
    l->uuid[0] = '\0';
  l->callback = virConnectDomainQemuMonitorEventRegister(l->conn, l->dom, NULL, on_event, l,
                                                         NULL, 0);
  if (l->callback < 0) {
    set_libvirt_error(error, HW_ERROR_CONNECT, "libvirt monitor events");
    link_free(l);
    return NULL;
  }
  g_autofree char *addr = g_strdup_printf("libvirt domain %s", name);
  HwQmp *qmp = hw_qmp_new_linked(addr, &libvirt_link, l, timeout_ms, error);
  if (qmp != NULL)
    l->qmp = qmp;
  return qmp;
}
