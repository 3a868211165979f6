/* Guest memory drawn as pixels: what `render` writes to a PNG and what the viewer's
 * memory view shows, checked with the same limits for both. */
#pragma once

#include "cli/cli.h"

typedef struct {
  HwRenderLayout layout;   /* format, width, height, stride (0: a row's bytes), scale */
  guint64 addr;            /* virtual, or guest-physical with PHYS */
  gboolean phys;
  int pid;                 /* > 0: ADDR is in this Linux process's address space */
  int cpu;                 /* else through this vCPU's page tables */
  gboolean live;           /* read without pausing the guest */
} HwMemoryView;

/* Check V against the limits (sides, scale, stride, bytes covered, wrap-around), fill
 * in a zero stride, and set *TOTAL to the bytes it covers; FALSE with a message for the
 * user (HW_ERROR_INVALID_ARGUMENT or HW_ERROR_LIMIT) in *ERROR. */
gboolean hw_memory_view_check(HwMemoryView *v, guint64 *total, GError **error);
/* Read V's memory (pausing the guest unless V is live, resuming after) and draw it:
 * RGBA rows of *WIDTH x *HEIGHT pixels that the caller owns (g_free), unreadable pages
 * hatched and their bytes in *UNREADABLE; *STATE (static) says which moment the pixels
 * show. V must have passed hw_memory_view_check. NULL with *ERROR. */
guint8 *hw_memory_view_draw(HwCli *cli, const HwMemoryView *v, guint32 *width, guint32 *height,
                            guint64 *unreadable, const char **state, GError **error);
/* Width guesses for the LEN bytes at V's address (its first 4 MiB; V's layout is not
 * used), for each of the N_FORMATS FORMATS in turn, each format's best first (at most
 * PER_FORMAT of each), all read in one pause: at most MAX in OUT (the caller's).
 * Returns how many; G_MAXUINT with *ERROR if the address space cannot be opened. The
 * guest is paused around the reads unless V is live; *STATE (static) says which moment
 * they saw. */
guint hw_memory_view_guess(HwCli *cli, const HwMemoryView *v, guint64 len,
                           const HwPixelFormat *formats, guint n_formats, guint per_format,
                           HwStrideGuess *out, guint max, const char **state, GError **error);

/* The most bytes one peek shows. */
#define HW_MEMORY_PEEK_MAX 1024u

/* Bytes under the viewer's cursor, and the page they are in. */
typedef struct {
  guint64 addr;
  guint len;
  guint8 bytes[HW_MEMORY_PEEK_MAX];
  guint8 readable[HW_MEMORY_PEEK_MAX];   /* 1 where the byte could be read */
  gboolean has_gpa;                      /* ADDR translated (or physical): GPA is its */
  guint64 gpa;
  const char *state;                     /* the moment they come from (static) */
} HwMemoryPeek;

/* Called while the guest is still paused for a peek (P filled in). */
typedef void (*HwMemoryPeekFunc)(HwCli *cli, const HwMemoryPeek *p, gpointer data);

/* Read LEN bytes (at most HW_MEMORY_PEEK_MAX) at V's address, in V's address space
 * (its layout is not used), unreadable pages marked, and translate the address; then
 * call WHILE_PAUSED (may be NULL) in the same pause. The guest is paused around it all
 * unless V is live. FALSE with *ERROR when the address space cannot be opened or the
 * memory vanished. OUT is the caller's. */
gboolean hw_memory_view_peek(HwCli *cli, const HwMemoryView *v, guint len, HwMemoryPeek *out,
                             HwMemoryPeekFunc while_paused, gpointer data, GError **error);
