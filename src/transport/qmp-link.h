/* Inside the transport layer: a QMP connection whose messages travel through someone
 * else's channel (libvirt's monitor pass-through) instead of a socket of our own. The
 * link exchanges one command for its reply and delivers events by itself. */
#pragma once

#include <haywire/qmp.h>

typedef struct {
  /* Send REQUEST (one JSON object, no "id") and return the reply's text (caller frees),
   * or NULL with HW_ERROR_DISCONNECTED (link gone) or another code. */
  char *(*exchange)(gpointer data, const char *request, guint timeout_ms, GError **error);
  /* Wait up to TIMEOUT_MS for events, handing each to hw_qmp_queue_event_text. */
  gboolean (*poll)(gpointer data, HwQmp *qmp, guint timeout_ms, GError **error);
  /* Continue the guest from any thread (the signal guard's resumer); best effort. */
  void (*cont)(gpointer data);
  /* QEMU's pid, or 0 when not known. */
  int (*peer_pid)(gpointer data);
  void (*free)(gpointer data);
} HwQmpLink;

/* A QMP connection over LINK (DATA is the link's, freed with the connection); ADDR
 * names it in messages. Reads QEMU's version; the caller owns the result. */
HwQmp *hw_qmp_new_linked(const char *addr, const HwQmpLink *link, gpointer data,
                         guint timeout_ms, GError **error);
/* Queue an event that came over a link: NAME, QEMU's timestamp, and its "data" member
 * as JSON text (may be NULL; untrusted: parsed, dropped when it is not an object). */
void hw_qmp_queue_event_text(HwQmp *qmp, const char *name, gint64 seconds,
                             gint64 microseconds, const char *details);
