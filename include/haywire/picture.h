/* haywire: pictures: an RGBA canvas with a built-in font, PNG files, the RAM overview. */
#pragma once

#include <glib.h>
#include <haywire/scan.h>
#include <haywire/linux.h>
#include <haywire/snapshot.h>

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
/* Draw TEXT (UTF-8; a character outside printable ASCII draws as a box) at X, Y with the
 * 5x7 font scaled by SCALE, clipped; returns the x after it (6 * SCALE per character). */
gint64 hw_canvas_draw_text(HwCanvas *c, gint64 x, gint64 y, const char *text, guint32 rgb,
                           guint scale);
/* Width in pixels of the ink of TEXT drawn at SCALE (no trailing space). */
gint64 hw_canvas_text_width(const char *text, guint scale);
/* Write the canvas as an 8-bit RGBA PNG file. */
gboolean hw_canvas_write_png(const HwCanvas *c, const char *path, GError **error);
/* Write WIDTH x HEIGHT RGBA8 pixels (rows STRIDE bytes apart) as a PNG file; a partial
 * file is removed on error. I/O errors are G_IO_ERROR, libpng's complaints HW_ERROR_FAILED. */
gboolean hw_png_write_rgba(const char *path, guint32 width, guint32 height, const guint8 *rgba,
                           gsize stride, GError **error);

/* One RAM range of the overview: N_PAGES class bytes (HwPageClass) from GPA. */
typedef struct {
  guint64 gpa;
  guint64 n_pages;
  const guint8 *classes;
} HwOverviewRange;

/* Pages per overview row (2 MiB), and the tallest overview picture in pixels. */
#define HW_OVERVIEW_PAGES_PER_ROW 512
#define HW_OVERVIEW_MAX_HEIGHT 16384

/* Draw the overview of RANGES: a 2x2 square per page, 512 pages per row, address labels,
 * TITLE (NULL: none) on top and a legend with counts below. Class bytes out of range are
 * drawn and counted as data. Beyond about 15.5 GiB pages shrink to single pixels; beyond
 * about 31 GiB the picture would exceed HW_OVERVIEW_MAX_HEIGHT: HW_ERROR_LIMIT. No ranges,
 * pages without classes or an address overflow: HW_ERROR_INVALID_ARGUMENT. */
HwCanvas *hw_overview_draw(const HwOverviewRange *ranges, guint n_ranges, const char *title,
                           GError **error);
/* Where hw_overview_draw() and hw_diff_draw() put the page holding GPA: top-left pixel *X,
 * *Y and the side *SIDE of its square; FALSE if GPA is in none of the RANGES or they cannot
 * be drawn. Only the ranges' GPA and N_PAGES count (CLASSES may be NULL). */
gboolean hw_overview_locate(const HwOverviewRange *ranges, guint n_ranges, guint64 gpa,
                            guint *x, guint *y, guint *side);
/* The legend's name of page class CLS ("high entropy"); "?" if CLS is not a class. */
const char *hw_overview_class_name(guint cls);
/* The overview's colour (0xRRGGBB) of page class CLS; data's for anything not a class. */
guint32 hw_overview_class_colour(guint cls);

/* hw_diff_colour() of a page that did not change (one past the HwPageChange values). */
#define HW_DIFF_UNCHANGED (HW_PAGE_VANISHED + 1)

/* Draw the change map of PAGES (a diff of snapshots, e.g. hw_snapshot_diff()) over
 * RANGES, on the overview's layout (each range's page where hw_overview_locate() puts it
 * for {gpa, size / 4 KiB}): pages coloured by hw_diff_colour(), TITLE (NULL: none), a
 * legend with counts; the caller owns the canvas. The overview's size limits and errors;
 * a page outside RANGES or an unknown change: HW_ERROR_INVALID_ARGUMENT. */
HwCanvas *hw_diff_draw(const HwRamRange *ranges, guint n_ranges, const HwPageDiff *pages,
                       guint n_pages, const char *title, GError **error);
/* The diff picture's colour (0xRRGGBB) of CHANGE, an HwPageChange; HW_DIFF_UNCHANGED's
 * (dark grey) for any other value. */
guint32 hw_diff_colour(guint change);

/* What the overview shows of all RAM, from one pass over it. */
typedef struct {
  GPtrArray *classes;    /* one byte array per RAM range, HwPageClass per page */
  guint n_images;        /* image hits marked */
  guint n_spaces;        /* process address spaces whose page tables were marked */
  gboolean tables_known; /* FALSE without a Linux model: no page-table class */
  gboolean partial;      /* image hits may be missing (see hw_scan_phys_run) */
} HwOverviewPages;

/* Classify every page of MEM and find the images in the same pass, then mark image
 * pages and, with LX (may be NULL), the page-table pages of the kernel and of every
 * process; the caller owns OUT (hw_overview_pages_clear). */
gboolean hw_overview_collect(const HwPhysMem *mem, HwLinux *lx, guint n_threads,
                             HwScanProgress progress, gpointer progress_data,
                             HwOverviewPages *out, GError **error);
/* Free what PAGES holds and zero it. */
void hw_overview_pages_clear(HwOverviewPages *pages);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwCanvas, hw_canvas_free)

G_END_DECLS
