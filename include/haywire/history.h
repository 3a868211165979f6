/* haywire: the guest's run-state history from QMP events, and epochs: an epoch names a
 * stretch of time in which guest memory cannot change once the guest is paused. It
 * moves on at every RESUME, WAKEUP and RESET, and at any event of a paused guest that
 * may change memory (hot-unplug, migration, or one we do not know). */
#pragma once

#include <glib.h>
#include <haywire/qmp.h>

G_BEGIN_DECLS

/* One event as recorded. */
typedef struct {
  char *name;            /* QEMU's event name ("STOP", ...), unknown ones too */
  gint64 seconds;        /* QEMU's timestamp */
  gint64 microseconds;
  guint64 epoch;         /* the epoch from this event on */
  gboolean running;      /* whether the guest runs from this event on, as events tell */
  JsonObject *data;      /* QEMU's "data" member (a reference), or NULL */
} HwRunEvent;

typedef struct _HwHistory HwHistory;

/* A history starting at epoch 1 with the guest RUNNING or not (query-status). */
HwHistory *hw_history_new(gboolean running);
/* Free it. */
void hw_history_free(HwHistory *h);
/* Record E (copied): epoch and run state follow from it. */
void hw_history_record(HwHistory *h, const HwQmpEvent *e);
/* Correct the run state from a query-status answer (an event we never saw). */
void hw_history_set_running(HwHistory *h, gboolean running);
/* The current epoch (1 at the start). */
guint64 hw_history_get_epoch(const HwHistory *h);
/* Whether the guest runs now, as far as the events tell. */
gboolean hw_history_is_running(const HwHistory *h);
/* The recorded events, oldest first (borrowed; past 65536 the oldest eighth is dropped). */
const HwRunEvent *hw_history_get_events(const HwHistory *h, guint *n);
/* The newest event named NAME recorded at index FROM or later, or NULL (borrowed). */
const HwRunEvent *hw_history_find_last(const HwHistory *h, const char *name, guint from);
/* The event recorded INDEX-th (counting dropped ones from 0), or NULL when it was
 * dropped or is not recorded yet (borrowed). */
const HwRunEvent *hw_history_get_event(const HwHistory *h, guint index);
/* Events recorded so far, counting dropped ones: an index for hw_history_find_last. */
guint hw_history_get_count(const HwHistory *h);
/* Whether memory may differ from what it was in EPOCH: the epoch moved, or the guest
 * runs. */
gboolean hw_history_changed_since(const HwHistory *h, guint64 epoch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwHistory, hw_history_free)

G_END_DECLS
