/* Tests that check pictures: decode a PNG file to RGBA8 with libpng (asserts), and look
 * at RGBA8 pixels. */
#pragma once

#include <glib.h>
#include <haywire/picture.h>
#include <png.h>
#include <string.h>

/* The pixel at X, Y of RGBA rows WIDTH pixels wide, as 0xRRGGBB. */
static inline guint32
hw_test_rgb(const guint8 *rgba, guint width, guint x, guint y)
{
  const guint8 *p = rgba + ((gsize)y * width + x) * 4;
  return (guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2];
}

/* Pixels of colour RGB in [X0, X1) x [Y0, Y1) of canvas C, clipped to it. */
static inline guint
hw_test_count_colour(const HwCanvas *c, guint x0, guint y0, guint x1, guint y1, guint32 rgb)
{
  guint n = 0;
  for (guint y = y0; y < y1 && y < c->height; y++)
    for (guint x = x0; x < x1 && x < c->width; x++)
      n += hw_test_rgb(c->rgba, c->width, x, y) == rgb;
  return n;
}

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
