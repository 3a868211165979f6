/* Run-state history and epochs from QMP events (see history.h). */
#include <haywire/history.h>

#include <string.h>

#define MAX_EVENTS 65536u

struct _HwHistory {
  GArray *events;       /* HwRunEvent, oldest first */
  guint dropped;        /* events dropped from the front */
  guint64 epoch;
  gboolean running;
};

/* Events after which the guest runs / does not run. */
static const char *const starts[] = { "RESUME", "WAKEUP", NULL };
static const char *const stops[] = { "STOP", "SUSPEND", "SUSPEND_DISK", "SHUTDOWN",
                                     "GUEST_PANICKED", NULL };
/* Events that never change guest memory by themselves: a paused guest keeps its epoch.
 * Anything else seen while paused (RESET, DEVICE_DELETED of a DIMM, MIGRATION, an event
 * newer than this list) may have: the epoch moves on. */
static const char *const harmless[] = {
  "STOP", "SHUTDOWN", "POWERDOWN", "SUSPEND", "SUSPEND_DISK", "GUEST_PANICKED",
  "GUEST_CRASHLOADED", "WATCHDOG", "RTC_CHANGE", "DEVICE_TRAY_MOVED", "BLOCK_IO_ERROR",
  "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED", "BLOCK_JOB_ERROR", "BLOCK_JOB_READY",
  "BLOCK_JOB_PENDING", "JOB_STATUS_CHANGE", "BLOCK_WRITE_THRESHOLD", "NIC_RX_FILTER_CHANGED",
  "VNC_CONNECTED", "VNC_INITIALIZED", "VNC_DISCONNECTED", "SPICE_CONNECTED",
  "SPICE_INITIALIZED", "SPICE_DISCONNECTED", "SPICE_MIGRATE_COMPLETED", "QUORUM_FAILURE",
  "QUORUM_REPORT_BAD", "BALLOON_CHANGE", "ACPI_DEVICE_OST", "GUEST_PVSHUTDOWN", NULL
};

static void
clear_event(HwRunEvent *r)
{
  g_free(r->name);
  if (r->data)
    json_object_unref(r->data);
}

static gboolean
in_list(const char *const *list, const char *name)
{
  for (guint i = 0; list[i]; i++)
    if (strcmp(list[i], name) == 0)
      return TRUE;
  return FALSE;
}

HwHistory *
hw_history_new(gboolean running)
{
  HwHistory *h = g_new0(HwHistory, 1);
  h->events = g_array_new(FALSE, FALSE, sizeof(HwRunEvent));
  h->epoch = 1;
  h->running = running;
  return h;
}

void
hw_history_free(HwHistory *h)
{
  if (h == NULL)
    return;
  for (guint i = 0; i < h->events->len; i++)
    clear_event(&g_array_index(h->events, HwRunEvent, i));
  g_array_unref(h->events);
  g_free(h);
}

void
hw_history_record(HwHistory *h, const HwQmpEvent *e)
{
  const char *name = e->name ? e->name : "?";
  gboolean was_running = h->running;
  if (in_list(starts, name))
    h->running = TRUE;
  else if (in_list(stops, name))
    h->running = FALSE;
  /* Memory may start changing (the guest runs again), or changed under a paused guest. */
  if ((h->running && !was_running) || (!was_running && !in_list(harmless, name)))
    h->epoch++;
  if (h->events->len == MAX_EVENTS) {
    /* Drop the oldest eighth at once: one move per 8192 events, not one per event. */
    guint k = MAX_EVENTS / 8;
    for (guint i = 0; i < k; i++)
      clear_event(&g_array_index(h->events, HwRunEvent, i));
    g_array_remove_range(h->events, 0, k);
    h->dropped += k;
  }
  HwRunEvent r = { g_strdup(name), e->seconds, e->microseconds, h->epoch, h->running,
                   e->data ? json_object_ref(e->data) : NULL };
  g_array_append_val(h->events, r);
}

void
hw_history_set_running(HwHistory *h, gboolean running)
{
  if (running && !h->running)
    h->epoch++;   /* it ran without our seeing the RESUME */
  h->running = running;
}

guint64
hw_history_get_epoch(const HwHistory *h)
{
  return h->epoch;
}

gboolean
hw_history_is_running(const HwHistory *h)
{
  return h->running;
}

const HwRunEvent *
hw_history_get_events(const HwHistory *h, guint *n)
{
  *n = h->events->len;
  return (const HwRunEvent *)(const void *)h->events->data;
}

const HwRunEvent *
hw_history_get_event(const HwHistory *h, guint index)
{
  if (index < h->dropped || index - h->dropped >= h->events->len)
    return NULL;
  return &g_array_index(h->events, HwRunEvent, index - h->dropped);
}

guint
hw_history_get_count(const HwHistory *h)
{
  return h->dropped + h->events->len;
}

const HwRunEvent *
hw_history_find_last(const HwHistory *h, const char *name, guint from)
{
  guint first = from > h->dropped ? from - h->dropped : 0;
  for (guint i = h->events->len; i > first; i--) {
    const HwRunEvent *r = &g_array_index(h->events, HwRunEvent, i - 1);
    if (strcmp(r->name, name) == 0)
      return r;
  }
  return NULL;
}

gboolean
hw_history_changed_since(const HwHistory *h, guint64 epoch)
{
  return h->running || h->epoch != epoch;
}
