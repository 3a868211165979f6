/* Runs of printable text in a byte stream, for the regex scans. */
#include "scan/text-runs.h"

#include <string.h>

static gboolean
printable(guint8 b)
{
  return (b >= 0x20 && b <= 0x7e) || b == '\t';
}

static void
track_end(HwTextRuns *t, HwTextTrack *k, gboolean utf16)
{
  if (k->in_run && k->owned && k->n > 0 && k->total >= HW_TEXT_MIN_RUN)
    t->func(k->buf, k->n, k->start, utf16, t->data);
  k->in_run = FALSE;
  k->n = 0;
  k->total = 0;
}

/* One character of track K: C (IS_TEXT: printable) at AT. */
static void
track_char(HwTextRuns *t, HwTextTrack *k, gboolean utf16, gboolean is_text, guint8 c,
           guint64 at)
{
  if (!is_text) {
    track_end(t, k, utf16);
    return;
  }
  if (!k->in_run) {
    k->in_run = TRUE;
    k->owned = at >= t->own_start && at < t->own_end;
    k->start = at;
  } else if (k->n == HW_TEXT_MAX_RUN) {
    /* A long run goes on in a new piece (total stays: the run is long enough). */
    if (k->owned)
      t->func(k->buf, k->n, k->start, utf16, t->data);
    k->n = 0;
    k->start = at;
  }
  if (k->owned)
    k->buf[k->n++] = (char)c;
  k->total++;
}

/* The byte B at AT for the UTF-16LE track K whose units start at addresses of parity
 * P: a low byte is held until its high byte comes. */
static void
track_utf16(HwTextRuns *t, HwTextTrack *k, guint p, guint8 b, guint64 at)
{
  if ((at & 1) == p) {
    k->have_low = TRUE;
    k->low = b;
    k->low_at = at;
    return;
  }
  if (!k->have_low || k->low_at + 1 != at) {
    k->have_low = FALSE;
    return;   /* no low byte before it: not the end of a unit we saw */
  }
  k->have_low = FALSE;
  track_char(t, k, TRUE, b == 0 && printable(k->low), k->low, k->low_at);
}

void
hw_text_runs_init(HwTextRuns *t, guint64 addr, guint64 own_start, guint64 own_end,
                  HwTextRunFunc func, gpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS(t->track); i++) {
    HwTextTrack *k = &t->track[i];
    k->in_run = k->owned = k->have_low = FALSE;
    k->n = 0;
    k->total = 0;
  }
  t->addr = addr;
  t->own_start = own_start;
  t->own_end = own_end;
  t->func = func;
  t->data = data;
}

static void
feed_byte(HwTextRuns *t, guint8 b, guint64 at)
{
  track_char(t, &t->track[0], FALSE, printable(b), b, at);
  track_utf16(t, &t->track[1], 0, b, at);
  track_utf16(t, &t->track[2], 1, b, at);
}

void
hw_text_runs_feed(HwTextRuns *t, guint64 addr, const guint8 *buf, gsize len)
{
  if (addr != t->addr) {
    /* The skipped bytes are zeros: the first ends every run (and completes a unit
     * whose low byte came last), the rest can start none. */
    feed_byte(t, 0, t->addr);
    hw_text_runs_break(t, addr);
  }
  for (gsize i = 0; i < len; i++)
    feed_byte(t, buf[i], addr + i);
  t->addr = addr + len;
}

void
hw_text_runs_break(HwTextRuns *t, guint64 next)
{
  hw_text_runs_finish(t);
  t->addr = next;
}

gboolean
hw_text_runs_pending(const HwTextRuns *t)
{
  for (guint i = 0; i < G_N_ELEMENTS(t->track); i++)
    if (t->track[i].in_run && t->track[i].owned)
      return TRUE;
  return FALSE;
}

void
hw_text_runs_finish(HwTextRuns *t)
{
  for (guint i = 0; i < G_N_ELEMENTS(t->track); i++) {
    track_end(t, &t->track[i], i > 0);
    t->track[i].have_low = FALSE;
  }
}
