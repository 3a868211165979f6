/* The overview picture: every page of guest RAM as a small square coloured by class,
 * 512 pages (2 MiB) per row, one block per RAM range, a title and a legend. */
#include <haywire/picture.h>
#include <haywire/error.h>

#define PER_ROW 512u
#define MARGIN 16
#define GUTTER 84          /* address labels left of the rows */
#define MAX_HEIGHT 16384u

#define BACKGROUND 0x101418
#define TITLE 0xe6edf3
#define MUTED 0x8b949e

static const guint32 colours[HW_PAGE_N_CLASSES] = {
  [HW_PAGE_ZERO] = 0x1f252d,
  [HW_PAGE_DATA] = 0x4a6fa5,
  [HW_PAGE_TEXT] = 0x3fb950,
  [HW_PAGE_ENTROPY] = 0xf0883e,
  [HW_PAGE_IMAGE] = 0xff4fd8,
  [HW_PAGE_PAGETABLE] = 0xffd33d,
};

static const char *names[HW_PAGE_N_CLASSES] = {
  [HW_PAGE_ZERO] = "zero",
  [HW_PAGE_DATA] = "data",
  [HW_PAGE_TEXT] = "text",
  [HW_PAGE_ENTROPY] = "high entropy",
  [HW_PAGE_IMAGE] = "image",
  [HW_PAGE_PAGETABLE] = "page table",
};

static guint
class_of(guint8 b)
{
  return b < HW_PAGE_N_CLASSES ? b : HW_PAGE_DATA;
}

static char *
size_text(guint64 bytes)
{
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
    return g_strdup_printf("%" G_GUINT64_FORMAT " GiB", bytes >> 30);
  return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
}

HwCanvas *
hw_overview_draw(const HwOverviewRange *ranges, guint n_ranges, const char *title,
                 GError **error)
{
  if (n_ranges == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no RAM to draw");
    return NULL;
  }
  guint64 rows = 0, counts[HW_PAGE_N_CLASSES] = { 0 }, total = 0;
  for (guint r = 0; r < n_ranges; r++)
    rows += (ranges[r].n_pages + PER_ROW - 1) / PER_ROW;
  /* Pages are 2x2 squares, or single pixels for guests too large for that. */
  guint px = rows * 2 <= 8192 ? 2 : 1;
  const gint64 title_h = 14 + 12, range_head = 16, range_gap = 14;
  const gint64 legend_rows = (HW_PAGE_N_CLASSES + 1) / 2, legend_h = 12 + legend_rows * 18;
  guint64 height = MARGIN + title_h + n_ranges * (range_head + range_gap) + rows * px +
                   legend_h + MARGIN;
  guint64 width = MARGIN + GUTTER + PER_ROW * px + MARGIN;
  if (height > MAX_HEIGHT) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%" G_GUINT64_FORMAT " rows of 2 MiB do not "
                "fit in a %u pixel high picture", rows, MAX_HEIGHT);
    return NULL;
  }
  for (guint r = 0; r < n_ranges; r++) {
    for (guint64 p = 0; p < ranges[r].n_pages; p++)
      counts[class_of(ranges[r].classes[p])]++;
    total += ranges[r].n_pages;
  }
  HwCanvas *c = hw_canvas_new((guint32)width, (guint32)height);
  hw_canvas_fill_rect(c, 0, 0, (gint64)width, (gint64)height, BACKGROUND);
  hw_canvas_draw_text(c, MARGIN, MARGIN, title, TITLE, 2);

  gint64 y = MARGIN + title_h;
  const gint64 x0 = MARGIN + GUTTER;
  for (guint r = 0; r < n_ranges; r++) {
    const HwOverviewRange *range = &ranges[r];
    g_autofree char *size = size_text(range->n_pages * 4096);
    g_autofree char *head = g_strdup_printf("0x%" G_GINT64_MODIFIER "x - 0x%" G_GINT64_MODIFIER
                                            "x  (%s)", range->gpa,
                                            range->gpa + range->n_pages * 4096 - 1, size);
    hw_canvas_draw_text(c, x0, y + 2, head, MUTED, 1);
    y += range_head;
    guint64 range_rows = (range->n_pages + PER_ROW - 1) / PER_ROW;
    for (guint64 row = 0; row < range_rows; row++) {
      if (row % 16 == 0) {   /* an address every 32 MiB */
        g_autofree char *label = g_strdup_printf("0x%09" G_GINT64_MODIFIER "x",
                                                 range->gpa + row * PER_ROW * 4096);
        hw_canvas_draw_text(c, MARGIN, y + (gint64)(row * px) - 2, label, MUTED, 1);
        hw_canvas_fill_rect(c, x0 - 6, y + (gint64)(row * px), 3, 1, MUTED);
      }
      for (guint64 col = 0; col < PER_ROW; col++) {
        guint64 p = row * PER_ROW + col;
        if (p >= range->n_pages)
          break;
        hw_canvas_fill_rect(c, x0 + (gint64)(col * px), y + (gint64)(row * px), px, px,
                            colours[class_of(range->classes[p])]);
      }
    }
    y += (gint64)(range_rows * px) + range_gap;
  }

  /* Legend: two columns of swatch, name, count and share. */
  y += 4;
  for (guint k = 0; k < HW_PAGE_N_CLASSES; k++) {
    gint64 lx = x0 + (k % 2) * 300, ly = y + (k / 2) * 18;
    hw_canvas_fill_rect(c, lx, ly, 12, 12, colours[k]);
    gint64 tx = hw_canvas_draw_text(c, lx + 18, ly + 3, names[k], TITLE, 1);
    double share = total ? 100.0 * counts[k] / total : 0.0;
    g_autofree char *count =
        share > 0 && share < 0.1
            ? g_strdup_printf("%" G_GUINT64_FORMAT " pages (<0.1%%)", counts[k])
            : g_strdup_printf("%" G_GUINT64_FORMAT " pages (%.1f%%)", counts[k], share);
    hw_canvas_draw_text(c, MAX(tx + 12, lx + 110), ly + 3, count, MUTED, 1);
  }
  return c;
}
