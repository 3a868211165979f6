/* The picture layer: canvas, font, PNG files read back with libpng, the overview.
 * HW_OVERVIEW_SAMPLE=path.png keeps the sample overview for a person to look at. */
#include <haywire/haywire.h>
#include "../common/read-png.h"
#include "output/font.h"

#include <png.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

/* ---- helpers ----------------------------------------------------------------------------- */

/* Pixels that are not opaque black in [X0, X1) x [Y0, Y1). */
static guint
count_ink(const HwCanvas *c, guint x0, guint y0, guint x1, guint y1)
{
  guint n = 0;
  for (guint y = y0; y < y1 && y < c->height; y++)
    for (guint x = x0; x < x1 && x < c->width; x++)
      n += hw_test_rgb(c->rgba, c->width, x, y) != 0 || c->rgba[((gsize) y * c->width + x) * 4 + 3] != 255;
  return n;
}

/* Write C to a fresh temporary directory, read it back, compare every byte. */
static void
assert_png_roundtrip(const HwCanvas *c, const char *copy_to)
{
  g_autofree char *dir = g_dir_make_tmp("hw-pic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "a.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_canvas_write_png(c, path, &error));
  g_assert_no_error(error);
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(path, &w, &h);
  g_assert_cmpuint(w, ==, c->width);
  g_assert_cmpuint(h, ==, c->height);
  g_assert_cmpmem(px, (gsize) w * h * 4, c->rgba, (gsize) c->width * c->height * 4);
  if (copy_to != NULL) {
    g_assert_true(hw_canvas_write_png(c, copy_to, &error));
    g_assert_no_error(error);
  }
  g_unlink(path);
  g_rmdir(dir);
}

/* ---- canvas ------------------------------------------------------------------------------ */

static void
test_canvas_new(void)
{
  static const guint32 bad[][2] = { { 0, 5 }, { 5, 0 }, { 0, 0 }, { 65536, 1 }, { 1, 65536 },
                                    { 70000, 70000 }, { G_MAXUINT32, 1 } };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_null(hw_canvas_new(bad[i][0], bad[i][1]));

  g_autoptr(HwCanvas) c = hw_canvas_new(7, 3);
  g_assert_cmpuint(c->width, ==, 7);
  g_assert_cmpuint(c->height, ==, 3);
  g_assert_cmpuint(count_ink(c, 0, 0, 7, 3), ==, 0);   /* opaque black */
  g_autoptr(HwCanvas) wide = hw_canvas_new(65535, 1);
  g_assert_nonnull(wide);
  hw_canvas_free(NULL);
}

static void
test_canvas_fill_clip(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(20, 10);
  hw_canvas_fill_rect(c, -5, -5, 10, 10, 0xff0000);      /* top-left corner: 5x5 inside */
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 20, 10, 0xff0000), ==, 25);
  hw_canvas_fill_rect(c, 17, 8, 100, 100, 0x00ff00);     /* bottom-right: 3x2 inside */
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 20, 10, 0x00ff00), ==, 6);
  /* Entirely outside, empty, negative or absurd: nothing drawn, nothing broken. */
  hw_canvas_fill_rect(c, 20, 0, 5, 5, 0x0000ff);
  hw_canvas_fill_rect(c, 0, 10, 5, 5, 0x0000ff);
  hw_canvas_fill_rect(c, -100, 0, 100, 5, 0x0000ff);
  hw_canvas_fill_rect(c, 3, 3, 0, 5, 0x0000ff);
  hw_canvas_fill_rect(c, 3, 3, -4, -4, 0x0000ff);
  hw_canvas_fill_rect(c, G_MININT64, G_MININT64, 10, 10, 0x0000ff);
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 20, 10, 0x0000ff), ==, 0);
  hw_canvas_fill_rect(c, G_MININT64 / 2, 4, G_MAXINT64, 1, 0x0000ff);   /* a full row */
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 20, 10, 0x0000ff), ==, 20);
}

static void
test_canvas_text(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(100, 30);
  gint64 end = hw_canvas_draw_text(c, 10, 10, "Ag0x%", 0xffffff, 2);
  g_assert_cmpint(end, ==, 10 + 5 * 6 * 2);
  g_assert_cmpint(hw_canvas_text_width("Ag0x%", 2), ==, (5 * 6 - 1) * 2);
  g_assert_cmpint(hw_canvas_text_width("", 3), ==, 0);
  g_assert_cmpint(hw_canvas_text_width(NULL, 3), ==, 0);
  /* Ink inside the text's box [10, 68) x [10, 28) (7 rows, and 2 more for the tail of
   * the g), none outside it; the g's tail is below the other letters' baseline. */
  g_assert_cmpuint(hw_test_count_colour(c, 10, 10, 68, 28, 0xffffff), >, 50);
  g_assert_cmpuint(count_ink(c, 0, 0, 100, 30), ==, count_ink(c, 10, 10, 68, 28));
  g_assert_cmpuint(count_ink(c, 10, 24, 22, 28), ==, 0);   /* under the A */
  g_assert_cmpuint(count_ink(c, 22, 24, 34, 28), >, 0);    /* under the g: its tail */

  /* A UTF-8 character is one box, the same as any other unknown character. */
  g_assert_cmpint(hw_canvas_text_width("\xc3\xa9", 1), ==, 5);
  g_autoptr(HwCanvas) a = hw_canvas_new(10, 10), b = hw_canvas_new(10, 10);
  g_assert_cmpint(hw_canvas_draw_text(a, 1, 1, "\xc3\xa9", 0xffffff, 1), ==, 7);
  hw_canvas_draw_text(b, 1, 1, "\x01", 0xffffff, 1);
  g_assert_cmpmem(a->rgba, 400, b->rgba, 400);
  g_assert_cmpuint(count_ink(a, 0, 0, 10, 10), ==, 2 * 5 + 2 * 5);   /* box outline */
}

static void
test_canvas_text_clip(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(100, 30);
  hw_canvas_draw_text(c, 0, 0, "big", 0xff00ff, 1000);   /* one pixel covers it all */
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 100, 30, 0xff00ff), ==, 100 * 30);
  hw_canvas_fill_rect(c, 0, 0, 100, 30, 0);
  /* Clipped at every edge, unknown characters as boxes: no crash, still drawn. */
  hw_canvas_draw_text(c, -7, -3, "\x01\xff~ edge", 0x00ff00, 3);
  hw_canvas_draw_text(c, 95, 27, "WW", 0x0000ff, 1);
  hw_canvas_draw_text(c, -1000, 5, "far left", 0xff0000, 1);
  hw_canvas_draw_text(c, 5, G_MAXINT64 / 2, "far down", 0xff0000, 1);
  hw_canvas_draw_text(c, 0, 0, NULL, 0xff00ff, 1);
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 100, 30, 0x00ff00), >, 0);
  g_assert_cmpuint(hw_test_count_colour(c, 95, 27, 100, 30, 0x0000ff), >, 0);
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, 100, 30, 0xff0000), ==, 0);
}

/* Every printable character has its own glyph; everything else is the box. */
static void
test_font_coverage(void)
{
  const guint8 *box = hw_font_glyph('\x01');
  g_assert_true(hw_font_glyph('\x7f') == box);
  g_assert_true(hw_font_glyph('\xc3') == box);
  for (int row = 0; row < HW_FONT_H; row++)
    g_assert_cmpuint(hw_font_glyph(' ')[row], ==, 0);
  for (char ch = 0x21; ch < 0x7f; ch++) {
    const guint8 *g = hw_font_glyph(ch);
    guint8 any = 0;
    for (int row = 0; row < HW_FONT_H; row++)
      any |= g[row];
    g_assert_true(any != 0 && (any & ~0x1f) == 0);
    g_assert_false(memcmp(g, box, HW_FONT_H) == 0);
    /* Distinct from every other glyph, so no two characters read alike. */
    for (char other = 0x21; other < ch; other++)
      if (memcmp(g, hw_font_glyph(other), HW_FONT_H) == 0)
        g_error("'%c' and '%c' have the same glyph", ch, other);
  }
}

/* ---- PNG --------------------------------------------------------------------------------- */

static void
test_png_roundtrip(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(37, 11);
  for (gsize i = 0; i < (gsize) 37 * 11 * 4; i++)
    c->rgba[i] = (guint8) (i * 7 + i / 13);   /* alpha varies too */
  assert_png_roundtrip(c, NULL);
}

static void
test_png_stride(void)
{
  /* Rows 64 bytes apart, 3 pixels (12 bytes) used: the padding must not leak in. */
  g_autofree guint8 *rgba = g_malloc0(64 * 5);
  for (guint y = 0; y < 5; y++)
    for (guint i = 0; i < 64; i++)
      rgba[y * 64 + i] = i < 12 ? (guint8) (y * 40 + i) : 0xee;
  g_autofree char *dir = g_dir_make_tmp("hw-pic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "s.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_png_write_rgba(path, 3, 5, rgba, 64, &error));
  g_assert_no_error(error);
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(path, &w, &h);
  g_assert_cmpuint(w, ==, 3);
  g_assert_cmpuint(h, ==, 5);
  for (guint y = 0; y < 5; y++)
    g_assert_cmpmem(px + y * 12, 12, rgba + y * 64, 12);
  g_unlink(path);
  g_rmdir(dir);
}

static void
test_png_errors(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-pic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "bad.png", NULL);
  g_autofree guint8 *rgba = g_malloc0((gsize) 1000001 * 4);
  const struct {
    const char *path;
    guint32 width, height;
    gsize stride;
    GQuark domain;
    gint code;
  } cases[] = {
    { "/nonexistent-dir/x.png", 4, 4, 16, G_IO_ERROR, G_IO_ERROR_NOT_FOUND },
    { dir, 4, 4, 16, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY },
    { path, 4, 4, 8, HW_ERROR, HW_ERROR_INVALID_ARGUMENT },         /* stride too short */
    { path, 0, 4, 16, HW_ERROR, HW_ERROR_INVALID_ARGUMENT },
    { path, 4, 0, 16, HW_ERROR, HW_ERROR_INVALID_ARGUMENT },
    /* Past libpng's width limit: its error, through setjmp, as a GError. */
    { path, 1000001, 1, (gsize) 1000001 * 4, HW_ERROR, HW_ERROR_FAILED },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("case %" G_GSIZE_FORMAT ": %s %ux%u", i, cases[i].path, cases[i].width,
                   cases[i].height);
    g_assert_false(hw_png_write_rgba(cases[i].path, cases[i].width, cases[i].height, rgba,
                                     cases[i].stride, &error));
    g_assert_error(error, cases[i].domain, cases[i].code);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));   /* no partial file left */
  }
  g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
  g_rmdir(dir);
}

/* A full disk, small file (fails at fclose) and large (fails inside libpng's writes). */
static void
test_png_no_space(void)
{
  struct stat st;
  if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode)) {
    g_test_skip("no /dev/full");
    return;
  }
  g_autoptr(GRand) rand = g_rand_new_with_seed(1);
  g_autoptr(HwCanvas) small = hw_canvas_new(4, 4), large = hw_canvas_new(256, 256);
  for (gsize i = 0; i < (gsize) 256 * 256 * 4; i++)
    large->rgba[i] = (guint8) g_rand_int(rand);   /* does not compress below stdio's buffer */
  const HwCanvas *canvases[] = { small, large };
  for (gsize i = 0; i < G_N_ELEMENTS(canvases); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_false(hw_canvas_write_png(canvases[i], "/dev/full", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
    g_assert_true(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));   /* not removed */
  }
}

/* ---- overview ---------------------------------------------------------------------------- */

static void
test_overview_draw(void)
{
  /* Two ranges: page i of A has class i % N (A ends in a partial row), B has runs. */
  const guint64 na = 20 * 512 + 100, nb = 3 * 512;
  g_autofree guint8 *a = g_malloc(na), *b = g_malloc(nb);
  for (guint64 i = 0; i < na; i++)
    a[i] = (guint8) (i % HW_PAGE_N_CLASSES);
  for (guint64 i = 0; i < nb; i++)
    b[i] = (guint8) (i / 200 % HW_PAGE_N_CLASSES);
  a[7] = 200;   /* not a class: drawn as data */
  HwOverviewRange ranges[] = { { 0, na, a }, { 1ull << 32, nb, b } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_overview_draw(ranges, 2, "guest RAM 42 MiB, paused", &error);
  g_assert_no_error(error);
  g_assert_nonnull(c);

  /* Dimensions: 1024 px of squares plus labels; one more row is 2 px more, no wider. */
  g_assert_cmpuint(c->width, >, 1024 + 60);
  g_assert_cmpuint(c->width, <, 1024 + 200);
  HwOverviewRange longer[] = { { 0, na + 512, a }, { 1ull << 32, nb, b } };
  g_autofree guint8 *a2 = g_malloc0(na + 512);
  longer[0].classes = a2;
  g_autoptr(HwCanvas) c2 = hw_overview_draw(longer, 2, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(c2->width, ==, c->width);
  g_assert_cmpuint(c2->height, ==, c->height + 2);

  /* Neighbours: the next page 2 px right, the next row 2 px down. */
  guint x0, y0, side, x, y;
  g_assert_true(hw_overview_locate(ranges, 2, 0, &x0, &y0, &side));
  g_assert_cmpuint(side, ==, 2);
  g_assert_true(hw_overview_locate(ranges, 2, 4096 + 17, &x, &y, &side));
  g_assert_cmpuint(x, ==, x0 + 2);
  g_assert_cmpuint(y, ==, y0);
  g_assert_true(hw_overview_locate(ranges, 2, 512 * 4096, &x, &y, &side));
  g_assert_cmpuint(x, ==, x0);
  g_assert_cmpuint(y, ==, y0 + 2);
  g_assert_false(hw_overview_locate(ranges, 2, na * 4096, &x, &y, &side));
  g_assert_false(hw_overview_locate(ranges, 2, (1ull << 32) + nb * 4096, &x, &y, &side));
  g_assert_false(hw_overview_locate(ranges, 0, 0, &x, &y, &side));

  /* Every page's whole square has its class's colour. */
  guint last_y = 0;
  for (guint r = 0; r < 2; r++)
    for (guint64 p = 0; p < ranges[r].n_pages; p++) {
      g_assert_true(hw_overview_locate(ranges, 2, ranges[r].gpa + p * 4096, &x, &y, &side));
      guint32 want = hw_overview_class_colour(ranges[r].classes[p]);
      g_assert_cmpuint(hw_test_count_colour(c, x, y, x + 2, y + 2, want), ==, 4);
      last_y = MAX(last_y, y + 2);
    }
  g_assert_cmphex(hw_overview_class_colour(200), ==, hw_overview_class_colour(HW_PAGE_DATA));
  /* Past the last page of A's partial row: background, not a page. */
  g_assert_true(hw_overview_locate(ranges, 2, (na - 1) * 4096, &x, &y, &side));
  g_assert_cmpuint(hw_test_count_colour(c, x + 2, y, x + 4, y + 2, hw_overview_class_colour(0)), ==, 0);

  /* The legend below the pages shows every class's colour, distinct from one another. */
  for (guint k = 0; k < HW_PAGE_N_CLASSES; k++) {
    g_assert_cmpuint(hw_test_count_colour(c, 0, last_y, c->width, c->height,
                                  hw_overview_class_colour(k)), >=, 16 * 16);
    for (guint j = 0; j < k; j++)
      g_assert_cmphex(hw_overview_class_colour(j), !=, hw_overview_class_colour(k));
  }
  g_assert_cmpstr(hw_overview_class_name(HW_PAGE_ENTROPY), ==, "high entropy");
  g_assert_cmpstr(hw_overview_class_name(HW_PAGE_N_CLASSES), ==, "?");
  /* The title is drawn at the top, above the first range. */
  g_assert_cmpuint(hw_test_count_colour(c, 0, 0, c->width, y0 - 20, 0xe6edf3), >, 100);
}

static void
test_overview_errors(void)
{
  g_autofree guint8 *zeros = g_malloc0(16ull << 20);
  const struct {
    HwOverviewRange range;
    guint n_ranges;
    gint code;
  } cases[] = {
    { { 0, 1, zeros }, 0, HW_ERROR_INVALID_ARGUMENT },                   /* no ranges */
    { { 0, 1, NULL }, 1, HW_ERROR_INVALID_ARGUMENT },                    /* no classes */
    { { G_MAXUINT64 - 4095, 2, zeros }, 1, HW_ERROR_INVALID_ARGUMENT },   /* wraps */
    { { 0, G_MAXUINT64, zeros }, 1, HW_ERROR_INVALID_ARGUMENT },
    { { 0, 16ull << 20, zeros }, 1, HW_ERROR_LIMIT },                    /* 64 GiB */
    { { 0, 8200ull * 2 * 512, zeros }, 1, HW_ERROR_LIMIT },              /* > 16384 rows */
    { { 0, 16300ull * 512, zeros }, 1, HW_ERROR_LIMIT },     /* rows fit, legend does not */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("case %" G_GSIZE_FORMAT, i);
    g_assert_null(hw_overview_draw(&cases[i].range, cases[i].n_ranges, "x", &error));
    g_assert_error(error, HW_ERROR, cases[i].code);
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_overview_draw(NULL, 1, "x", &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* 20 GiB still fits, one pixel per page. */
static void
test_overview_large(void)
{
  const guint64 n = 20ull << 18;
  g_autofree guint8 *classes = g_malloc0(n);
  classes[n - 1] = HW_PAGE_IMAGE;
  HwOverviewRange range = { 0, n, classes };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_overview_draw(&range, 1, "20 GiB", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(c->height, <=, HW_OVERVIEW_MAX_HEIGHT);
  guint x, y, side;
  g_assert_true(hw_overview_locate(&range, 1, (n - 1) * 4096, &x, &y, &side));
  g_assert_cmpuint(side, ==, 1);
  g_assert_cmphex(hw_test_rgb(c->rgba, c->width, x, y), ==, hw_overview_class_colour(HW_PAGE_IMAGE));
}

/* Runs of classes resembling a booted Linux guest, from a fixed seed. */
static void
fake_guest(guint8 *classes, guint64 n, guint64 kernel_at, GRand *rand)
{
  static const struct { guint cls; double p; guint max_run; } mix[] = {
    { HW_PAGE_ZERO, 0.22, 400 }, { HW_PAGE_DATA, 0.38, 300 }, { HW_PAGE_TEXT, 0.16, 120 },
    { HW_PAGE_ENTROPY, 0.10, 200 }, { HW_PAGE_IMAGE, 0.04, 60 },
    { HW_PAGE_PAGETABLE, 0.10, 3 },
  };
  guint64 p = 0;
  while (p < n) {
    double u = g_rand_double(rand);
    guint k = 0;
    while (k + 1 < G_N_ELEMENTS(mix) && u >= mix[k].p) {
      u -= mix[k].p;
      k++;
    }
    guint64 len = (guint64) g_rand_int_range(rand, 1, (gint32) mix[k].max_run + 1);
    for (guint64 i = 0; i < len && p < n; i++, p++)
      classes[p] = (guint8) mix[k].cls;
  }
  /* The kernel image: 10 MiB of text, 4 MiB of data, then its page tables. */
  for (guint64 i = 0; i < 3584 && kernel_at + i < n; i++)
    classes[kernel_at + i] = i < 2560 ? HW_PAGE_TEXT : i < 3560 ? HW_PAGE_DATA
                                                                : HW_PAGE_PAGETABLE;
  /* Free memory nobody touched since boot. */
  for (guint64 i = n * 5 / 8; i < n * 7 / 8; i++)
    classes[i] = HW_PAGE_ZERO;
}

/* A realistic picture: 384 MiB below the PCI hole, 128 MiB above 4 GiB. */
static void
test_overview_sample(void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(42);
  const guint64 na = 384 * 256, nb = 128 * 256;
  g_autofree guint8 *a = g_malloc(na), *b = g_malloc(nb);
  fake_guest(a, na, 4096, rand);
  fake_guest(b, nb, nb, rand);
  HwOverviewRange ranges[] = { { 0, na, a }, { 1ull << 32, nb, b } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_overview_draw(ranges, 2, "guest RAM 512 MiB, paused", &error);
  g_assert_no_error(error);
  assert_png_roundtrip(c, g_getenv("HW_OVERVIEW_SAMPLE"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/output/canvas/new", test_canvas_new);
  g_test_add_func("/output/canvas/fill-clip", test_canvas_fill_clip);
  g_test_add_func("/output/canvas/text", test_canvas_text);
  g_test_add_func("/output/canvas/text-clip", test_canvas_text_clip);
  g_test_add_func("/output/canvas/font", test_font_coverage);
  g_test_add_func("/output/png/roundtrip", test_png_roundtrip);
  g_test_add_func("/output/png/stride", test_png_stride);
  g_test_add_func("/output/png/errors", test_png_errors);
  g_test_add_func("/output/png/no-space", test_png_no_space);
  g_test_add_func("/output/overview/draw", test_overview_draw);
  g_test_add_func("/output/overview/errors", test_overview_errors);
  g_test_add_func("/output/overview/large", test_overview_large);
  g_test_add_func("/output/overview/sample", test_overview_sample);
  return g_test_run();
}
