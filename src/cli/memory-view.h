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
