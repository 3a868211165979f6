/* Tests that need image files: small ones made by the formats' own encoders (libpng,
 * libjpeg, giflib, libwebp) from a test pattern, each a new GByteArray (asserts). */
#pragma once

#include <glib.h>
#include <gif_lib.h>
#include <png.h>
#include <stdio.h>              /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <jpeglib.h>
#include <webp/encode.h>

/* The test pattern at X, Y of a W x H picture: a red-green gradient, blue 128, opaque
 * unless ALPHA (then alpha falls from 255 to 55 left to right: never 0, where lossless
 * WebP may change the colour). */
static inline void
hw_test_pattern(guint32 w, guint32 h, guint32 x, guint32 y, gboolean alpha, guint8 out[4])
{
  out[0] = (guint8)(x * 255 / MAX(w - 1, 1));
  out[1] = (guint8)(y * 255 / MAX(h - 1, 1));
  out[2] = 128;
  out[3] = alpha ? (guint8)(255 - x * 200 / MAX(w - 1, 1)) : 255;
}

/* The pattern as RGBA rows, packed; the caller frees. */
static inline guint8 *
hw_test_pattern_rgba(guint32 w, guint32 h, gboolean alpha)
{
  guint8 *rgba = g_malloc((gsize)w * h * 4);
  for (guint32 y = 0; y < h; y++)
    for (guint32 x = 0; x < w; x++)
      hw_test_pattern(w, h, x, y, alpha, rgba + ((gsize)y * w + x) * 4);
  return rgba;
}

static inline void
hw_test_png_write(png_structp png, png_bytep data, png_size_t len)
{
  g_byte_array_append(png_get_io_ptr(png), data, (guint)len);
}

static inline void
hw_test_png_flush(png_structp png)
{
}

/* The pattern as an 8-bit RGBA PNG, Adam7-interlaced if INTERLACE. */
static inline GByteArray *
hw_test_encode_png(guint32 w, guint32 h, gboolean interlace)
{
  GByteArray *a = g_byte_array_new();
  g_autofree guint8 *rgba = hw_test_pattern_rgba(w, h, TRUE);
  g_autofree png_bytep *rows = g_new(png_bytep, h);
  for (guint32 y = 0; y < h; y++)
    rows[y] = rgba + (gsize)y * w * 4;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  g_assert_nonnull(info);
  if (setjmp(png_jmpbuf(png)))
    g_error("libpng could not write the test PNG");
  png_set_write_fn(png, a, hw_test_png_write, hw_test_png_flush);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return a;
}

/* The pattern as a JPEG (RGB, or gray from its red channel), progressive if asked. */
static inline GByteArray *
hw_test_encode_jpeg(guint32 w, guint32 h, gboolean gray, gboolean progressive)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  unsigned long len = 0;
  g_autofree guint8 *rgba = hw_test_pattern_rgba(w, h, FALSE);
  g_autofree guint8 *row = g_malloc((gsize)w * 3);
  c.err = jpeg_std_error(&err);   /* errors exit the test: fine for our own files */
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &out, &len);
  c.image_width = w;
  c.image_height = h;
  c.input_components = gray ? 1 : 3;
  c.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  if (progressive)
    jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < h) {
    const guint8 *p = rgba + (gsize)c.next_scanline * w * 4;
    for (guint32 x = 0; x < w; x++)
      for (int k = 0; k < c.input_components; k++)
        row[x * (guint)c.input_components + (guint)k] = p[4 * x + (guint)k];
    JSAMPROW rows[1] = { row };
    jpeg_write_scanlines(&c, rows, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, out, (guint)len);
  free(out);
  return a;
}

/* The colour of palette entry I of the test GIFs. */
static inline void
hw_test_gif_colour(guint i, guint8 out[3])
{
  out[0] = (guint8)i, out[1] = (guint8)(255 - i), out[2] = (guint8)(i / 2);
}

/* Palette index at X, Y of the test GIFs. */
static inline guint8
hw_test_gif_index(guint32 x, guint32 y)
{
  return (guint8)((x * 7 + y * 3) & 0xff);
}

static inline int
hw_test_gif_write(GifFileType *gif, const GifByteType *data, int len)
{
  g_byte_array_append(gif->UserData, data, (guint)len);
  return len;
}

/* A one-frame GIF89a of hw_test_gif_index pixels, the frame interlaced if asked. */
static inline GByteArray *
hw_test_encode_gif(guint32 w, guint32 h, gboolean interlace)
{
  GByteArray *a = g_byte_array_new();
  int err = 0;
  GifFileType *gif = EGifOpen(a, hw_test_gif_write, &err);
  g_assert_nonnull(gif);
  GifColorType colours[256];
  for (guint i = 0; i < 256; i++) {
    guint8 c[3];
    hw_test_gif_colour(i, c);
    colours[i] = (GifColorType){ c[0], c[1], c[2] };
  }
  ColorMapObject *map = GifMakeMapObject(256, colours);
  g_assert_cmpint(EGifPutScreenDesc(gif, (int)w, (int)h, 8, 0, map), ==, GIF_OK);
  g_assert_cmpint(EGifPutImageDesc(gif, 0, 0, (int)w, (int)h, interlace, NULL), ==, GIF_OK);
  g_autofree GifByteType *line = g_malloc(w);
  /* An interlaced frame's lines go in pass order: 0, 8, ..; 4, 12, ..; 2, 6, ..; 1, 3, .. */
  static const guint32 start[4] = { 0, 4, 2, 1 }, step[4] = { 8, 8, 4, 2 };
  for (guint p = 0; p < (interlace ? 4u : 1u); p++)
    for (guint32 y = interlace ? start[p] : 0; y < h; y += interlace ? step[p] : 1) {
      for (guint32 x = 0; x < w; x++)
        line[x] = hw_test_gif_index(x, y);
      g_assert_cmpint(EGifPutLine(gif, line, (int)w), ==, GIF_OK);
    }
  g_assert_cmpint(EGifCloseFile(gif, &err), ==, GIF_OK);
  GifFreeMapObject(map);
  return a;
}

/* The pattern as a WebP: lossless with the pattern's alpha (VP8L), lossy and opaque
 * (VP8), or lossy with alpha (VP8X, ALPH, VP8). */
typedef enum { HW_TEST_WEBP_LOSSLESS, HW_TEST_WEBP_LOSSY, HW_TEST_WEBP_ALPHA } HwTestWebp;

static inline GByteArray *
hw_test_encode_webp(guint32 w, guint32 h, HwTestWebp kind)
{
  g_autofree guint8 *rgba = hw_test_pattern_rgba(w, h, kind != HW_TEST_WEBP_LOSSY);
  uint8_t *out = NULL;
  size_t len = kind == HW_TEST_WEBP_LOSSLESS
      ? WebPEncodeLosslessRGBA(rgba, (int)w, (int)h, (int)w * 4, &out)
      : WebPEncodeRGBA(rgba, (int)w, (int)h, (int)w * 4, 90, &out);
  g_assert_cmpuint(len, >, 0);
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, out, (guint)len);
  WebPFree(out);
  return a;
}
