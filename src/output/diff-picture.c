/* The diff picture: the pages that differ between two snapshots, on the overview's layout
 * (a square per page, 512 per row, a block per RAM range), coloured by their change over
 * the unchanged pages in dark grey, with a legend that counts each. */
#include <haywire/picture.h>
#include <haywire/error.h>
#include "output/overview-draw.h"

#include <string.h>

/* Entry K is HwPageChange K, the last one (HW_DIFF_UNCHANGED) the pages that did not
 * change: dim, so that the few that did stand out. */
static const guint32 colours[] = {
  [HW_PAGE_CHANGED] = 0xff9b26,     /* orange */
  [HW_PAGE_APPEARED] = 0x3fb950,    /* green */
  [HW_PAGE_VANISHED] = 0xf85149,    /* red */
  [HW_DIFF_UNCHANGED] = 0x353c45,   /* dark grey, a step above the background */
};

static const char *const names[] = {
  [HW_PAGE_CHANGED] = "changed",
  [HW_PAGE_APPEARED] = "appeared",
  [HW_PAGE_VANISHED] = "vanished",
  [HW_DIFF_UNCHANGED] = "unchanged",
};

G_STATIC_ASSERT(G_N_ELEMENTS(colours) == HW_DIFF_UNCHANGED + 1);
G_STATIC_ASSERT(G_N_ELEMENTS(names) == G_N_ELEMENTS(colours));
G_STATIC_ASSERT(G_N_ELEMENTS(colours) <= HW_PAGE_N_CLASSES);

static const HwOverviewLegend legend = {
  G_N_ELEMENTS(colours), colours, names, HW_DIFF_UNCHANGED,
};

guint32
hw_diff_colour(guint change)
{
  return colours[change < HW_DIFF_UNCHANGED ? change : HW_DIFF_UNCHANGED];
}

static gboolean
holds(const HwOverviewRange *range, guint64 gpa)
{
  return gpa >= range->gpa && (gpa - range->gpa) / HW_PAGE_SIZE < range->n_pages;
}

HwCanvas *
hw_diff_draw(const HwRamRange *ranges, guint n_ranges, const HwPageDiff *pages,
             guint n_pages, const char *title, GError **error)
{
  if (ranges == NULL || n_ranges == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no RAM to draw");
    return NULL;
  }
  if (pages == NULL && n_pages > 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%u diff pages missing",
                n_pages);
    return NULL;
  }
  /* The layout first: it bounds the pages (at most 16384 rows of 512) before we allocate
   * a class byte for each. */
  g_autofree HwOverviewRange *map = g_new0(HwOverviewRange, n_ranges);
  for (guint r = 0; r < n_ranges; r++)
    map[r] = (HwOverviewRange) { ranges[r].gpa, ranges[r].size / HW_PAGE_SIZE, NULL };
  if (!hw_overview_check(map, n_ranges, error))
    return NULL;
  g_autofree guint64 *first = g_new(guint64, n_ranges);   /* range r's first class byte */
  guint64 total = 0;
  for (guint r = 0; r < n_ranges; r++) {
    first[r] = total;
    total += map[r].n_pages;
  }
  g_autofree guint8 *classes = g_malloc(total > 0 ? total : 1);
  memset(classes, HW_DIFF_UNCHANGED, total);

  /* A diff comes sorted by gpa, like the ranges: look in the last page's range first. */
  guint r = 0;
  for (guint i = 0; i < n_pages; i++) {
    const HwPageDiff *d = &pages[i];
    if ((guint) d->change >= HW_DIFF_UNCHANGED) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "diff page 0x%" G_GINT64_MODIFIER "x: unknown change %d", d->gpa,
                  (int) d->change);
      return NULL;
    }
    if (!holds(&map[r], d->gpa)) {
      for (r = 0; r < n_ranges && !holds(&map[r], d->gpa); r++)
        ;
      if (r == n_ranges) {
        g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                    "diff page 0x%" G_GINT64_MODIFIER "x is outside the RAM ranges", d->gpa);
        return NULL;
      }
    }
    classes[first[r] + (d->gpa - map[r].gpa) / HW_PAGE_SIZE] = (guint8) d->change;
  }
  for (guint k = 0; k < n_ranges; k++)
    map[k].classes = classes + first[k];
  return hw_overview_draw_legend(map, n_ranges, &legend, title, error);
}
