/* Runs of printable text in a stream of bytes fed in address order, private to scan:
 * ASCII and UTF-16LE (at even and at odd addresses), as HW_TEXT_MIN_RUN and
 * HW_TEXT_MAX_RUN in <haywire/scan.h> define them. The stream may be fed page by page
 * from scattered places (a process's pages): a run is followed across the pieces. */
#pragma once

#include <haywire/scan.h>

/* A run (or a piece of a long one) found: N ASCII characters at TEXT (not
 * NUL-terminated, valid until it returns), starting at address ADDR; UTF16: in memory as
 * UTF-16LE, two bytes a character. */
typedef void (*HwTextRunFunc)(const char *text, gsize n, guint64 addr, gboolean utf16,
                              gpointer data);

/* One encoding's run in progress. */
typedef struct {
  gboolean in_run;
  gboolean owned;       /* the run started in [own_start, own_end): reported */
  guint64 start;        /* of the piece in BUF */
  guint64 total;        /* characters of the run so far */
  gsize n;              /* characters in BUF */
  gboolean have_low;    /* UTF-16LE: the low byte of a unit was fed, at LOW_AT */
  guint8 low;
  guint64 low_at;
  char buf[HW_TEXT_MAX_RUN];
} HwTextTrack;

/* The extractor; callers own it (it holds no allocations). */
typedef struct {
  HwTextTrack track[3];   /* ASCII, UTF-16LE at even addresses, at odd addresses */
  guint64 addr;           /* of the next byte expected */
  guint64 own_start, own_end;   /* runs starting here are reported */
  HwTextRunFunc func;
  gpointer data;
} HwTextRuns;

/* Start at ADDR, reporting the runs that start in [OWN_START, OWN_END) to FUNC: bytes
 * fed before OWN_START tell a run going on from before (not reported) from a new one. */
void hw_text_runs_init(HwTextRuns *t, guint64 addr, guint64 own_start, guint64 own_end,
                       HwTextRunFunc func, gpointer data);
/* Feed the LEN bytes at BUF, which are at address ADDR; the bytes between the last fed
 * and ADDR (if any) read as zeros. */
void hw_text_runs_feed(HwTextRuns *t, guint64 addr, const guint8 *buf, gsize len);
/* Nothing can be read up to address NEXT (an unmapped page): the runs end here. */
void hw_text_runs_break(HwTextRuns *t, guint64 next);
/* Whether a reported run is still open: the caller feeds on (past OWN_END) until not. */
gboolean hw_text_runs_pending(const HwTextRuns *t);
/* End the runs open: report the owned ones. */
void hw_text_runs_finish(HwTextRuns *t);
