/* One scan as scan and carve run it: pause, scan, hand the hits over while the guest
 * is still paused (carve copies bytes then), resume, and say which state it was. */
#pragma once

#include "cli/cli.h"

typedef struct {
  int pid;              /* > 0: that process's address space; else physical RAM */
  gboolean live;
  int threads;
  guint images;         /* mask of 1 << HwImageKind */
  GPtrArray *patterns;  /* HwPattern*, may be NULL */
  gboolean follow;      /* physical scans: every process too, hits with their owners */
} HwScanOptions;

typedef struct {
  GArray *hits;         /* HwScanHit */
  const char *state;    /* "paused-by-haywire", "already-paused", "live", "recorded" */
  double paused_ms;
  gboolean partial;     /* hits may be missing (see hw_scan_phys) */
  char *stop_ts, *resume_ts;   /* QEMU event timestamps, or NULL */
  char *error;          /* set by the caller when the scan failed with hits kept */
  guint64 epoch;        /* the epoch the scan read (history.h) */
  gboolean torn;        /* --live, and the guest ran or the epoch moved meanwhile */
  GArray *changed;      /* --live: gpas (guint64) of the pages that changed meanwhile */
  guint8 *hit_torn;     /* --live: per hit, whether a page it spans changed */
  GArray *owners;       /* with follow: HwScanOwner, sorted by hit; else NULL */
  gboolean followed;    /* with follow: the processes were scanned too */
} HwScanResult;

/* Called with the hits while the guest is still paused; READER reads the scanned
 * address space. FALSE (with ERROR set) fails the scan. */
typedef gboolean (*HwScanUse)(HwCli *cli, const HwScanOptions *o, GArray *hits,
                              const HwReader *reader, gpointer data, GError **error);

/* Check the options scan and carve share (no stray argument, --phys or --pid, bounds)
 * and parse --find FIND into O->images (DEFAULT_IMAGES without it): -1 when all is
 * well, else the exit code, the message printed. */
int hw_cli_scan_check(const char *cmd, int argc, char **argv, gboolean phys, const char *find,
                      guint default_images, HwScanOptions *o);
/* Run the scan; RES is filled on success. On failure without USE, RES may still hold
 * the hits found before it (the memory or QEMU vanished; partial set) and the caller
 * clears it; with USE nothing is left in it. */
gboolean hw_cli_scan_run(HwCli *cli, const HwScanOptions *o, HwScanUse use, gpointer data,
                         HwScanResult *res, GError **error);
/* Free what RES holds. */
void hw_cli_scan_result_clear(HwScanResult *res);
/* A JSON object for hit I of RES (without closing it): kind, addresses, size, image
 * fields, and for --live whether it is torn. */
void hw_cli_scan_hit_json(JsonBuilder *b, const HwScanOptions *o, const HwScanResult *res,
                          guint i);
/* One line of text for hit I of RES. */
char *hw_cli_scan_hit_text(const HwScanOptions *o, const HwScanResult *res, guint i);
/* The closing summary (JSON object, or a line on stderr). */
void hw_cli_scan_summary(HwCli *cli, const HwScanOptions *o, const HwScanResult *res,
                         guint n_hits);
