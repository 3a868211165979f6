/* The picture layer: canvas, font, PNG files read back with libpng, the overview. */
#include <haywire/haywire.h>

#include <png.h>
#include <string.h>
#include <glib/gstdio.h>

static guint8 *
read_png(const char *path, guint *w, guint *h)
{
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  g_assert_true(png_image_begin_read_from_file(&img, path));
  img.format = PNG_FORMAT_RGBA;
  guint8 *px = g_malloc(PNG_IMAGE_SIZE(img));
  g_assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
  *w = img.width;
  *h = img.height;
  return px;
}

static gboolean
has_colour(const HwCanvas *c, guint x0, guint y0, guint x1, guint y1, guint32 rgb)
{
  for (guint y = y0; y < y1 && y < c->height; y++)
    for (guint x = x0; x < x1 && x < c->width; x++) {
      const guint8 *p = c->rgba + ((gsize)y * c->width + x) * 4;
      if (((guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2]) == rgb)
        return TRUE;
    }
  return FALSE;
}

static void
test_png_roundtrip(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(37, 11);
  for (gsize i = 0; i < (gsize)37 * 11 * 4; i++)
    c->rgba[i] = (guint8)(i * 7 + i / 13);
  g_autofree char *dir = g_dir_make_tmp("hw-pic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "a.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_canvas_write_png(c, path, &error));
  g_assert_no_error(error);
  guint w, h;
  g_autofree guint8 *px = read_png(path, &w, &h);
  g_assert_cmpuint(w, ==, 37);
  g_assert_cmpuint(h, ==, 11);
  g_assert_cmpmem(px, (gsize)w * h * 4, c->rgba, (gsize)37 * 11 * 4);
  g_unlink(path);
  g_rmdir(dir);
}

static void
test_png_errors(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(4, 4);
  g_autoptr(GError) error = NULL;
  g_assert_false(hw_canvas_write_png(c, "/nonexistent-dir/x.png", &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(hw_png_write_rgba("/tmp/never.png", 4, 4, c->rgba, 8, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_assert_null(hw_canvas_new(0, 5));
  g_assert_null(hw_canvas_new(5, 70000));
}

static void
test_text(void)
{
  g_autoptr(HwCanvas) c = hw_canvas_new(100, 30);
  gint64 end = hw_canvas_draw_text(c, 10, 10, "Ag0x%", 0xffffff, 2);
  g_assert_cmpint(end, ==, 10 + 5 * 6 * 2);
  g_assert_cmpint(hw_canvas_text_width("Ag0x%", 2), ==, (5 * 6 - 1) * 2);
  /* Inside the text's box some pixels are white; outside none are. */
  g_assert_true(has_colour(c, 10, 10, 70, 24, 0xffffff));
  g_assert_false(has_colour(c, 0, 0, 100, 10, 0xffffff));
  g_assert_false(has_colour(c, 0, 24, 100, 30, 0xffffff));
  g_assert_false(has_colour(c, 70, 0, 100, 30, 0xffffff));
  /* Clipped at every edge, unknown characters as boxes: no crash, still drawn. */
  hw_canvas_draw_text(c, -7, -3, "\x01\xff~ edge", 0x00ff00, 3);
  hw_canvas_draw_text(c, 95, 27, "WW", 0x0000ff, 1);
  hw_canvas_fill_rect(c, -5, -5, 1000, 2, 0xff0000);
  g_assert_true(has_colour(c, 0, 0, 100, 30, 0x00ff00));
  g_assert_true(has_colour(c, 95, 27, 100, 30, 0x0000ff));
}

static void
test_overview(void)
{
  /* Two ranges; page i of range A has class i % N, range B is all page tables. */
  g_autofree guint8 *a = g_malloc(3000), *b = g_malloc(700);
  for (guint i = 0; i < 3000; i++)
    a[i] = (guint8)(i % HW_PAGE_N_CLASSES);
  a[5] = 200;   /* out of range: drawn as data */
  memset(b, HW_PAGE_PAGETABLE, 700);
  HwOverviewRange ranges[] = { { 0, 3000, a }, { 1ull << 32, 700, b } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_overview_draw(ranges, 2, "test", &error);
  g_assert_no_error(error);
  g_assert_nonnull(c);
  g_assert_cmpuint(c->width, ==, 16 + 84 + 1024 + 16);
  /* Page 1 of range A (class data) at its 2x2 square; page 3 (entropy) next to it. */
  const guint x0 = 16 + 84, y0 = 16 + 26 + 16;
  const guint8 *p1 = c->rgba + ((gsize)y0 * c->width + x0 + 2) * 4;
  const guint8 *p3 = c->rgba + ((gsize)(y0 + 1) * c->width + x0 + 7) * 4;
  g_assert_cmpmem(p1, 3, ((guint8[]){ 0x4a, 0x6f, 0xa5 }), 3);
  g_assert_cmpmem(p3, 3, ((guint8[]){ 0xf0, 0x88, 0x3e }), 3);
  /* The legend (bottom 70 rows) shows every class's colour. */
  const guint32 colours[] = { 0x1f252d, 0x4a6fa5, 0x3fb950, 0xf0883e, 0xff4fd8, 0xffd33d };
  for (gsize k = 0; k < G_N_ELEMENTS(colours); k++)
    g_assert_true(has_colour(c, 0, c->height - 70, c->width, c->height, colours[k]));

  g_assert_null(hw_overview_draw(ranges, 0, "x", &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  /* 64 GiB is more rows than a picture may have. */
  HwOverviewRange huge = { 0, 16ull << 20, a };
  g_assert_null(hw_overview_draw(&huge, 1, "x", &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_LIMIT);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/output/png/roundtrip", test_png_roundtrip);
  g_test_add_func("/output/png/errors", test_png_errors);
  g_test_add_func("/output/canvas/text", test_text);
  g_test_add_func("/output/overview/draw", test_overview);
  return g_test_run();
}
