/* haywire: QMP client (QEMU Machine Protocol) over a unix or TCP socket. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _HwQmp HwQmp;

/* An asynchronous event with QEMU's own timestamp. */
typedef struct {
  char *name;        /* "STOP", "RESUME", ... */
  gint64 seconds;    /* QEMU's timestamp, wall clock */
  gint64 microseconds;
  JsonObject *data;  /* may be NULL */
} HwQmpEvent;

#define HW_QMP_DEFAULT_TIMEOUT_MS 10000

/* Connect to ADDR (unix socket path or HOST:PORT), read the greeting, negotiate capabilities. */
HwQmp *hw_qmp_connect(const char *addr, guint timeout_ms, GError **error);
/* Close the connection and free everything. */
void hw_qmp_free(HwQmp *qmp);
/* Set the time-out for each later command, in milliseconds. */
void hw_qmp_set_timeout(HwQmp *qmp, guint timeout_ms);
/* The QEMU version from the greeting, as "major.minor.micro". */
const char *hw_qmp_get_version(HwQmp *qmp);
/* The socket's file descriptor (for the signal-time resume path only); -1 when the
 * connection is closed. */
int hw_qmp_get_fd(HwQmp *qmp);
/* The pid of the process serving a unix socket (QEMU), from its credentials; 0 when not
 * known (TCP). */
int hw_qmp_get_peer_pid(HwQmp *qmp);
/* Whether the connection has no fd of its own to send "cont" on from a signal handler
 * (libvirt's pass-through): the signal guard then resumes from a thread. */
gboolean hw_qmp_can_cont_from_thread(HwQmp *qmp);
/* Send "cont" from any thread, outside this connection's order (best effort). */
void hw_qmp_cont_from_thread(HwQmp *qmp);
/* A QMP connection to libvirt domain NAME through libvirt's QEMU monitor pass-through
 * (URI: libvirt's connection URI, NULL: its default), never QEMU's socket itself; the
 * caller owns it. A domain that does not exist or does not run, or no libvirt daemon,
 * is HW_ERROR_CONNECT with libvirt's words. */
HwQmp *hw_qmp_connect_libvirt(const char *uri, const char *name, guint timeout_ms,
                              GError **error);
/* The address given to hw_qmp_connect (borrowed). */
const char *hw_qmp_get_address(HwQmp *qmp);
/* Close the connection and open a new one to the same address (greeting, capabilities):
 * after a connection that broke or stopped answering. Queued events are kept. An "fd:N"
 * socket cannot be reopened: HW_ERROR_UNSUPPORTED. */
gboolean hw_qmp_reconnect(HwQmp *qmp, GError **error);

/* Run COMMAND with ARGS (may be NULL, not consumed); return the "return" member. */
JsonNode *hw_qmp_execute(HwQmp *qmp, const char *command, JsonObject *args, GError **error);
/* Like hw_qmp_execute, and check that the return value is an object. */
JsonObject *hw_qmp_execute_object(HwQmp *qmp, const char *command, JsonObject *args, GError **error);
/* Run an HMP command line through human-monitor-command; CPU_INDEX < 0 leaves it out. */
char *hw_qmp_hmp(HwQmp *qmp, const char *command_line, int cpu_index, GError **error);

/* Take the oldest queued event, or NULL if none; free with hw_qmp_event_free. */
HwQmpEvent *hw_qmp_pop_event(HwQmp *qmp);
/* Read the socket for up to TIMEOUT_MS and queue any events that arrive. */
gboolean hw_qmp_poll_events(HwQmp *qmp, guint timeout_ms, GError **error);
/* Free an event. */
void hw_qmp_event_free(HwQmpEvent *event);

/* Typed getters for QMP replies: each fails with HW_ERROR_PROTOCOL naming the member. */
gboolean hw_json_get_string(JsonObject *obj, const char *member, const char **out, GError **error);
gboolean hw_json_get_int(JsonObject *obj, const char *member, gint64 *out, GError **error);
gboolean hw_json_get_bool(JsonObject *obj, const char *member, gboolean *out, GError **error);
gboolean hw_json_get_array(JsonObject *obj, const char *member, JsonArray **out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwQmp, hw_qmp_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwQmpEvent, hw_qmp_event_free)

G_END_DECLS
