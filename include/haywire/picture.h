/* haywire: pictures: an RGBA canvas with a built-in font, PNG files, the RAM overview. */
#pragma once

#include <glib.h>
#include <haywire/scan.h>

G_BEGIN_DECLS

/* WIDTH x HEIGHT pixels, row-major, 4 bytes each (R, G, B, A). */
typedef struct {
  guint32 width, height;
  guint8 *rgba;
} HwCanvas;

/* A canvas filled with opaque black; NULL if a side is 0 or above 65535. */
HwCanvas *hw_canvas_new(guint32 width, guint32 height);
/* Free. */
void hw_canvas_free(HwCanvas *c);
/* Fill a rectangle with RGB (0xRRGGBB), clipped to the canvas. */
void hw_canvas_fill_rect(HwCanvas *c, gint64 x, gint64 y, gint64 w, gint64 h, guint32 rgb);
/* Draw TEXT (ASCII; others as a box) at X, Y with the 5x7 font scaled by SCALE, clipped;
 * returns the x after it. */
gint64 hw_canvas_draw_text(HwCanvas *c, gint64 x, gint64 y, const char *text, guint32 rgb,
                           guint scale);
/* Width in pixels of TEXT drawn at SCALE. */
gint64 hw_canvas_text_width(const char *text, guint scale);
/* Write the canvas as an 8-bit RGBA PNG file. */
gboolean hw_canvas_write_png(const HwCanvas *c, const char *path, GError **error);
/* Write WIDTH x HEIGHT RGBA8 pixels (rows STRIDE bytes apart) as a PNG file; a partial
 * file is removed on error. */
gboolean hw_png_write_rgba(const char *path, guint32 width, guint32 height, const guint8 *rgba,
                           gsize stride, GError **error);

/* One RAM range of the overview: N_PAGES class bytes (HwPageClass) from GPA. */
typedef struct {
  guint64 gpa;
  guint64 n_pages;
  const guint8 *classes;
} HwOverviewRange;

/* Draw the overview of RANGES: a 2x2 square per page, 512 pages per row, address labels,
 * TITLE on top and a legend with counts below. Class bytes out of range count as data. */
HwCanvas *hw_overview_draw(const HwOverviewRange *ranges, guint n_ranges, const char *title,
                           GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwCanvas, hw_canvas_free)

G_END_DECLS
