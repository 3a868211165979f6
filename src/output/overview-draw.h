/* The overview's drawing with a legend of the caller's (private to src/output): the
 * overview colours pages by class, the diff picture by change, on the same layout. */
#pragma once

#include <haywire/picture.h>

/* What the class bytes of a picture's pages mean: entry K is drawn in COLOURS[K] and
 * listed as NAMES[K]; a byte of N or above is drawn and counted as entry FALLBACK. */
typedef struct {
  guint n;                    /* 1..HW_PAGE_N_CLASSES entries */
  const guint32 *colours;     /* 0xRRGGBB */
  const char *const *names;
  guint fallback;             /* below N */
} HwOverviewLegend;

/* Check that RANGES can be drawn (their class bytes are not looked at): the same
 * HW_ERROR_INVALID_ARGUMENT and HW_ERROR_LIMIT errors as hw_overview_draw(). */
gboolean hw_overview_check(const HwOverviewRange *ranges, guint n_ranges, GError **error);
/* hw_overview_draw() with LEGEND instead of the page classes: the same layout, size and
 * errors whatever the legend; every page where hw_overview_locate() puts it. */
HwCanvas *hw_overview_draw_legend(const HwOverviewRange *ranges, guint n_ranges,
                                  const HwOverviewLegend *legend, const char *title,
                                  GError **error);
