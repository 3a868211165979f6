/* Thumbnails: the box filter's sizes (aspect kept, longer side at most the limit, small
 * pictures as they are) and averages (alpha-weighted), and thumbnail files of found
 * images written from memory; an image that does not decode gets no file. */
#include <haywire/haywire.h>
#include "../common/encode-images.h"
#include "../common/read-png.h"

#include <string.h>
#include <glib/gstdio.h>
#include "buf-reader.h"

static const struct {
  guint32 width, height, side, want_w, want_h;
} sizes[] = {
  { 1000, 500, 128, 128, 64 },
  { 500, 1000, 128, 64, 128 },
  { 300, 200, 128, 128, 85 },     /* 85.33 rounded */
  { 100, 50, 128, 100, 50 },      /* fits: kept */
  { 128, 128, 128, 128, 128 },
  { 129, 1, 128, 128, 1 },
  { 1, 5000, 128, 1, 128 },
  { 5000, 3, 128, 128, 1 },       /* 0.08 rounds to 0: at least 1 */
  { 7, 5, 1, 1, 1 },
};

static void
test_scale_sizes(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autofree guint8 *rgba = g_malloc0((gsize)sizes[i].width * sizes[i].height * 4);
    guint32 w = 0, h = 0;
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *small = hw_thumbnail_scale(rgba, sizes[i].width, sizes[i].height,
                                                  sizes[i].side, &w, &h, &error);
    g_assert_no_error(error);
    g_assert_nonnull(small);
    g_assert_cmpuint(w, ==, sizes[i].want_w);
    g_assert_cmpuint(h, ==, sizes[i].want_h);
  }
  g_autoptr(GError) error = NULL;
  guint8 px[4] = { 0 };
  g_assert_null(hw_thumbnail_scale(px, 1, 1, 0, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_null(hw_thumbnail_scale(px, 0, 1, 8, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_null(hw_thumbnail_scale(NULL, 1, 1, 8, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* 4x2 to 2x1: each output pixel the average of a 2x2 box, colours weighted by alpha. */
static void
test_scale_average(void)
{
  static const guint8 in[2][4][4] = {
    { { 100, 0, 0, 255 }, { 200, 0, 0, 255 }, { 255, 0, 0, 255 }, { 0, 255, 0, 0 } },
    { { 100, 40, 0, 255 }, { 200, 40, 0, 255 }, { 255, 0, 0, 255 }, { 0, 0, 255, 0 } },
  };
  static const guint8 want[2][4] = { { 150, 20, 0, 255 }, { 255, 0, 0, 128 } };
  guint32 w, h;
  g_autofree guint8 *out = hw_thumbnail_scale(&in[0][0][0], 4, 2, 2, &w, &h, NULL);
  g_assert_cmpuint(w, ==, 2);
  g_assert_cmpuint(h, ==, 1);
  g_assert_cmpmem(out, 8, want, sizeof want);
}


/* A 300x200 PNG and a 50x40 JPEG in memory: thumbnails of 128x85 and 50x40. */
static void
test_write(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-thumb-XXXXXX", NULL);
  g_assert_nonnull(dir);
  const struct {
    HwImageKind kind;
    GByteArray *file;
    guint want_w, want_h;
  } cases[] = {
    { HW_IMAGE_PNG, hw_test_encode_png(300, 200, FALSE), 128, 85 },
    { HW_IMAGE_JPEG, hw_test_encode_jpeg(50, 40, FALSE, FALSE), 50, 40 },
    { HW_IMAGE_GIF, hw_test_encode_gif(40, 300, TRUE), 17, 128 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GByteArray) file = cases[i].file;
    Buf b = { file->data, file->len };
    HwReader r = { buf_read, &b, NULL };
    HwImage im = { .kind = cases[i].kind, .addr = 0, .size = file->len };
    g_autofree char *path = g_build_filename(dir, "t.thumb.png", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(hw_carve_write_thumbnail(&r, &im, path, HW_THUMBNAIL_SIDE, &error));
    g_assert_no_error(error);
    guint w, h;
    g_autofree guint8 *rgba = hw_test_read_png(path, &w, &h);
    g_assert_cmpuint(w, ==, cases[i].want_w);
    g_assert_cmpuint(h, ==, cases[i].want_h);
    g_unlink(path);

    /* Cut short: no thumbnail, no file. */
    im.size = file->len / 2;
    g_assert_false(hw_carve_write_thumbnail(&r, &im, path, HW_THUMBNAIL_SIDE, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_DECODE);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  }
  g_assert_false(hw_carve_write_thumbnail(NULL, NULL, NULL, 128, NULL));
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/output/thumbnail/scale/sizes", test_scale_sizes);
  g_test_add_func("/output/thumbnail/scale/average", test_scale_average);
  g_test_add_func("/output/thumbnail/write", test_write);
  return g_test_run();
}
