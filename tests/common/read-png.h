/* Tests that check pictures: decode a PNG file to RGBA8 with libpng (asserts). */
#pragma once

#include <glib.h>
#include <png.h>
#include <string.h>

static inline guint8 *
hw_test_read_png(const char *path, guint *width, guint *height)
{
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  g_assert_true(png_image_begin_read_from_file(&img, path));
  img.format = PNG_FORMAT_RGBA;
  guint8 *px = g_malloc(PNG_IMAGE_SIZE(img));
  g_assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
  *width = img.width;
  *height = img.height;
  return px;
}
