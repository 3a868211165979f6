/* The overview picture: every page of guest RAM as a small square coloured by class,
 * 512 pages (2 MiB) per row, one block per RAM range, a title and a legend. */
#include <haywire/picture.h>
#include <haywire/error.h>
#include "output/overview-draw.h"

#define PER_ROW ((guint64) HW_OVERVIEW_PAGES_PER_ROW)
#define PAGE_SIZE HW_PAGE_SIZE
#define LABEL_EVERY 16        /* rows between address labels: 32 MiB */

/* Vertical layout, in pixels. */
#define MARGIN 20
#define TITLE_H 44            /* title (scale 2), subtitle, space */
#define RANGE_HEAD 14         /* the range's own label above its rows */
#define RANGE_GAP 18          /* after each range */
#define BAR_H 10              /* composition bar at the top of the legend */
#define ENTRY_H 34            /* one legend line: swatch, name, counts */

#define BACKGROUND 0x101418
#define TITLE 0xe6edf3
#define LABEL 0x8b949e
#define MUTED 0x5c6670
#define OUTLINE 0x30363d

static const guint32 colours[HW_PAGE_N_CLASSES] = {
  [HW_PAGE_ZERO] = 0x1f252d,      /* barely off the background: nothing there */
  [HW_PAGE_DATA] = 0x4f6d96,
  [HW_PAGE_TEXT] = 0x3fb950,
  [HW_PAGE_ENTROPY] = 0xf0883e,
  [HW_PAGE_IMAGE] = 0xff4fd8,
  [HW_PAGE_PAGETABLE] = 0xffd33d,
};

static const char *const names[HW_PAGE_N_CLASSES] = {
  [HW_PAGE_ZERO] = "zero",
  [HW_PAGE_DATA] = "data",
  [HW_PAGE_TEXT] = "text",
  [HW_PAGE_ENTROPY] = "high entropy",
  [HW_PAGE_IMAGE] = "image",
  [HW_PAGE_PAGETABLE] = "page table",
};

static const HwOverviewLegend class_legend = {
  HW_PAGE_N_CLASSES, colours, names, HW_PAGE_DATA,
};

/* Where everything goes; computed once from the ranges alone (whatever the legend: its
 * room is the overview's, the largest, so that one layout serves every picture). */
typedef struct {
  guint px;               /* side of a page's square */
  guint legend_cols;      /* 3 beside 1024 pixels of squares, 2 beside 512 */
  guint digits;           /* hex digits of the address labels */
  gint64 map_x;           /* left edge of the page rows */
  gint64 ranges_y;        /* top of the first range's label */
  gint64 legend_y;
  guint64 width, height;
  guint64 total_pages;
} Layout;

const char *
hw_overview_class_name(guint cls)
{
  return cls < HW_PAGE_N_CLASSES ? names[cls] : "?";
}

guint32
hw_overview_class_colour(guint cls)
{
  return colours[cls < HW_PAGE_N_CLASSES ? cls : HW_PAGE_DATA];
}

static guint64
range_rows(const HwOverviewRange *range)
{
  return range->n_pages / PER_ROW + (range->n_pages % PER_ROW != 0);
}

/* The legend's height in COLS columns, for the largest legend (the classes'). */
static guint64
legend_height(guint cols)
{
  return (HW_PAGE_N_CLASSES + cols - 1) / cols * ENTRY_H;
}

static gboolean
layout_compute(const HwOverviewRange *ranges, guint n_ranges, Layout *l, GError **error)
{
  guint64 rows = 0, max_last = 0;

  *l = (Layout) { 0 };
  if (ranges == NULL || n_ranges == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no RAM to draw");
    return FALSE;
  }
  for (guint r = 0; r < n_ranges; r++) {
    const HwOverviewRange *range = &ranges[r];
    if (range->n_pages > (G_MAXUINT64 - range->gpa) / PAGE_SIZE) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range at 0x%" G_GINT64_MODIFIER "x runs past the end of the "
                  "address space", range->gpa);
      return FALSE;
    }
    /* Each range is under 2^52 pages, so neither sum can wrap before we check it. */
    rows += range_rows(range);
    l->total_pages += range->n_pages;
    if (range->n_pages > 0)
      max_last = MAX(max_last, range->gpa + (range->n_pages * PAGE_SIZE - 1));
    if (rows > HW_OVERVIEW_MAX_HEIGHT) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "more than %u rows of 2 MiB do not fit "
                  "in a picture", HW_OVERVIEW_MAX_HEIGHT);
      return FALSE;
    }
  }

  /* 2x2 squares while they fit, single pixels for the largest guests. */
  guint64 fixed = MARGIN + TITLE_H + (guint64) n_ranges * (RANGE_HEAD + RANGE_GAP) +
                  BAR_H + 14 + MARGIN;
  l->px = 2;
  l->legend_cols = 3;
  if (fixed + legend_height(l->legend_cols) + rows * 2 > HW_OVERVIEW_MAX_HEIGHT) {
    l->px = 1;
    l->legend_cols = 2;
  }
  l->height = fixed + legend_height(l->legend_cols) + rows * l->px;
  if (l->height > HW_OVERVIEW_MAX_HEIGHT) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%" G_GUINT64_FORMAT " rows of 2 MiB in %u "
                "ranges do not fit in a picture %u pixels high", rows, n_ranges,
                HW_OVERVIEW_MAX_HEIGHT);
    return FALSE;
  }
  l->digits = 8;
  while (l->digits < 16 && max_last >> (4 * l->digits) != 0)
    l->digits++;
  g_autofree char *widest = g_strdup_printf("0x%0*d", (int) l->digits, 0);
  l->map_x = MARGIN + hw_canvas_text_width(widest, 1) + 12;
  l->width = (guint64) l->map_x + PER_ROW * l->px + MARGIN;
  l->ranges_y = MARGIN + TITLE_H;
  l->legend_y = l->ranges_y + (gint64) n_ranges * (RANGE_HEAD + RANGE_GAP) +
                (gint64) (rows * l->px);
  return TRUE;
}

gboolean
hw_overview_check(const HwOverviewRange *ranges, guint n_ranges, GError **error)
{
  Layout l;
  return layout_compute(ranges, n_ranges, &l, error);
}

gboolean
hw_overview_locate(const HwOverviewRange *ranges, guint n_ranges, guint64 gpa, guint *x,
                   guint *y, guint *side)
{
  Layout l;
  if (!layout_compute(ranges, n_ranges, &l, NULL))
    return FALSE;
  gint64 top = l.ranges_y;
  for (guint r = 0; r < n_ranges; r++) {
    const HwOverviewRange *range = &ranges[r];
    top += RANGE_HEAD;
    if (gpa >= range->gpa && (gpa - range->gpa) / PAGE_SIZE < range->n_pages) {
      guint64 page = (gpa - range->gpa) / PAGE_SIZE;
      *x = (guint) (l.map_x + (gint64) (page % PER_ROW * l.px));
      *y = (guint) (top + (gint64) (page / PER_ROW * l.px));
      *side = l.px;
      return TRUE;
    }
    top += (gint64) (range_rows(range) * l.px) + RANGE_GAP;
  }
  return FALSE;
}

static char *
size_text(guint64 bytes)
{
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
    return g_strdup_printf("%" G_GUINT64_FORMAT " GiB", bytes >> 30);
  if (bytes >= (1ull << 30))
    return g_strdup_printf("%.1f GiB", (double) bytes / (1ull << 30));
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
    return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
  if (bytes >= (1ull << 20))
    return g_strdup_printf("%.1f MiB", (double) bytes / (1ull << 20));
  return g_strdup_printf("%" G_GUINT64_FORMAT " KiB", bytes >> 10);
}

static char *
share_text(guint64 count, guint64 total)
{
  double share = total ? 100.0 * (double) count / (double) total : 0.0;
  return share > 0 && share < 0.1 ? g_strdup("<0.1%") : g_strdup_printf("%.1f%%", share);
}

/* One range: its label, then its rows of squares with an address every 32 MiB. */
static gint64
draw_range(HwCanvas *c, const Layout *l, const HwOverviewLegend *legend,
           const HwOverviewRange *range, gint64 y, guint64 counts[HW_PAGE_N_CLASSES])
{
  g_autofree char *size = size_text(range->n_pages * PAGE_SIZE);
  g_autofree char *head = range->n_pages == 0
      ? g_strdup_printf("0x%" G_GINT64_MODIFIER "x  (empty)", range->gpa)
      : g_strdup_printf("0x%" G_GINT64_MODIFIER "x - 0x%" G_GINT64_MODIFIER "x  (%s)",
                        range->gpa, range->gpa + (range->n_pages * PAGE_SIZE - 1), size);
  hw_canvas_draw_text(c, l->map_x, y, head, LABEL, 1);
  y += RANGE_HEAD;

  guint64 n_rows = range_rows(range);
  for (guint64 row = 0; row < n_rows; row++) {
    gint64 row_y = y + (gint64) (row * l->px);
    if (row % LABEL_EVERY == 0) {
      g_autofree char *label = g_strdup_printf("0x%0*" G_GINT64_MODIFIER "x", (int) l->digits,
                                               range->gpa + row * PER_ROW * PAGE_SIZE);
      hw_canvas_draw_text(c, MARGIN, row_y - 3 + l->px / 2, label, MUTED, 1);
      hw_canvas_fill_rect(c, l->map_x - 7, row_y, 4, l->px > 1 ? l->px : 1, MUTED);
    }
    for (guint64 col = 0; col < PER_ROW; col++) {
      guint64 p = row * PER_ROW + col;
      if (p >= range->n_pages)
        break;
      guint k = range->classes[p] < legend->n ? range->classes[p] : legend->fallback;
      counts[k]++;
      hw_canvas_fill_rect(c, l->map_x + (gint64) (col * l->px), row_y, l->px, l->px,
                          legend->colours[k]);
    }
  }
  return y + (gint64) (n_rows * l->px) + RANGE_GAP;
}

/* A bar of the entries' shares, then a swatch, name, count and share for each entry. */
static void
draw_legend(HwCanvas *c, const Layout *l, const HwOverviewLegend *legend,
            const guint64 counts[HW_PAGE_N_CLASSES])
{
  const gint64 bar_w = (gint64) (PER_ROW * l->px);
  gint64 widths[HW_PAGE_N_CLASSES] = { 0 }, used = 0;
  guint widest = 0;

  /* Every entry present gets at least 2 pixels of bar, so rare ones stay visible; the
   * most common entry gives up what that costs. */
  for (guint k = 0; k < legend->n && l->total_pages > 0; k++) {
    if (counts[k] == 0)
      continue;
    widths[k] = MAX(2, (gint64) ((double) counts[k] / (double) l->total_pages * bar_w + 0.5));
    used += widths[k];
    if (counts[k] > counts[widest])
      widest = k;
  }
  if (used > 0)
    widths[widest] = MAX(widths[widest] + bar_w - used, 1);
  gint64 x = l->map_x;
  for (guint k = 0; k < legend->n; k++) {
    hw_canvas_fill_rect(c, x, l->legend_y, widths[k], BAR_H, legend->colours[k]);
    x += widths[k];
  }

  const gint64 col_w = bar_w / l->legend_cols;
  const guint name_scale = l->px > 1 ? 2 : 1;
  for (guint k = 0; k < legend->n; k++) {
    gint64 ex = l->map_x + (gint64) (k % l->legend_cols) * col_w;
    gint64 ey = l->legend_y + BAR_H + 14 + (gint64) (k / l->legend_cols) * ENTRY_H;
    g_autofree char *size = size_text(counts[k] * PAGE_SIZE);
    g_autofree char *share = share_text(counts[k], l->total_pages);
    g_autofree char *stats = g_strdup_printf("%" G_GUINT64_FORMAT " pages, %s, %s", counts[k],
                                             size, share);
    /* The outline keeps the zero swatch visible on the background. */
    hw_canvas_fill_rect(c, ex - 1, ey - 1, 18, 18, OUTLINE);
    hw_canvas_fill_rect(c, ex, ey, 16, 16, legend->colours[k]);
    hw_canvas_draw_text(c, ex + 24, ey + 1, legend->names[k], TITLE, name_scale);
    hw_canvas_draw_text(c, ex + 24, ey + 1 + 7 * (gint64) name_scale + 4, stats, LABEL, 1);
  }
}

HwCanvas *
hw_overview_draw_legend(const HwOverviewRange *ranges, guint n_ranges,
                        const HwOverviewLegend *legend, const char *title, GError **error)
{
  Layout l;
  guint64 counts[HW_PAGE_N_CLASSES] = { 0 };

  g_assert(legend != NULL && legend->n > 0 && legend->n <= HW_PAGE_N_CLASSES &&
           legend->fallback < legend->n);
  for (guint r = 0; ranges != NULL && r < n_ranges; r++)
    if (ranges[r].n_pages > 0 && ranges[r].classes == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range at 0x%" G_GINT64_MODIFIER "x has no page classes", ranges[r].gpa);
      return NULL;
    }
  if (!layout_compute(ranges, n_ranges, &l, error))
    return NULL;
  g_autoptr(HwCanvas) c = hw_canvas_new((guint32) l.width, (guint32) l.height);
  if (c == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for a %" G_GUINT64_FORMAT "x%"
                G_GUINT64_FORMAT " picture", l.width, l.height);
    return NULL;
  }
  hw_canvas_fill_rect(c, 0, 0, (gint64) l.width, (gint64) l.height, BACKGROUND);

  if (title != NULL)
    hw_canvas_draw_text(c, MARGIN, MARGIN, title, TITLE, 2);
  g_autofree char *total = size_text(l.total_pages * PAGE_SIZE);
  g_autofree char *sub = g_strdup_printf("%s in %u range%s; one square per 4 KiB page, "
                                         "2 MiB per row", total, n_ranges,
                                         n_ranges == 1 ? "" : "s");
  hw_canvas_draw_text(c, MARGIN, MARGIN + 14 + 8, sub, LABEL, 1);

  gint64 y = l.ranges_y;
  for (guint r = 0; r < n_ranges; r++)
    y = draw_range(c, &l, legend, &ranges[r], y, counts);
  draw_legend(c, &l, legend, counts);
  return g_steal_pointer(&c);
}

HwCanvas *
hw_overview_draw(const HwOverviewRange *ranges, guint n_ranges, const char *title,
                 GError **error)
{
  return hw_overview_draw_legend(ranges, n_ranges, &class_legend, title, error);
}
