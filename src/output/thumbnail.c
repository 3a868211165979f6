/* Thumbnails of found images: decoded to RGBA, box-filtered down, written as PNG. */
#include <haywire/carve.h>
#include <haywire/picture.h>
#include <haywire/error.h>

/* The average of the box [X0, X1) x [Y0, Y1) of RGBA (WIDTH pixels a row) into OUT,
 * colours weighted by alpha so that transparent pixels do not darken the edges. */
static void
box_average(const guint8 *rgba, guint32 width, guint32 x0, guint32 x1, guint32 y0,
            guint32 y1, guint8 out[4])
{
  guint64 sum[3] = { 0 }, alpha = 0, n = (guint64)(x1 - x0) * (y1 - y0);
  for (guint32 y = y0; y < y1; y++) {
    const guint8 *p = rgba + ((gsize)y * width + x0) * 4;
    for (guint32 x = x0; x < x1; x++, p += 4) {
      for (int c = 0; c < 3; c++)
        sum[c] += (guint64)p[c] * p[3];
      alpha += p[3];
    }
  }
  for (int c = 0; c < 3; c++)
    out[c] = alpha ? (guint8)((sum[c] + alpha / 2) / alpha) : 0;
  out[3] = (guint8)((alpha + n / 2) / n);
}

guint8 *
hw_thumbnail_scale(const guint8 *rgba, guint32 width, guint32 height, guint32 max_side,
                   guint32 *out_width, guint32 *out_height, GError **error)
{
  if (rgba == NULL || width == 0 || height == 0 || max_side == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no pixels to scale, or a "
                "thumbnail of %u pixels a side", max_side);
    return NULL;
  }
  guint32 tw = width, th = height;
  if (width > max_side || height > max_side) {
    /* The longer side becomes MAX_SIDE, the other is rounded, at least 1. */
    if (width >= height) {
      tw = max_side;
      th = (guint32)MAX(1, ((guint64)height * max_side + width / 2) / width);
    } else {
      th = max_side;
      tw = (guint32)MAX(1, ((guint64)width * max_side + height / 2) / height);
    }
  }
  guint8 *out = g_try_malloc((gsize)tw * th * 4);
  if (out == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for a %ux%u thumbnail", tw, th);
    return NULL;
  }
  /* TW <= WIDTH and TH <= HEIGHT: every box holds at least one pixel. */
  for (guint32 y = 0; y < th; y++) {
    guint32 y0 = (guint32)((guint64)y * height / th);
    guint32 y1 = (guint32)((guint64)(y + 1) * height / th);
    for (guint32 x = 0; x < tw; x++) {
      guint32 x0 = (guint32)((guint64)x * width / tw);
      guint32 x1 = (guint32)((guint64)(x + 1) * width / tw);
      box_average(rgba, width, x0, x1, y0, y1, out + ((gsize)y * tw + x) * 4);
    }
  }
  if (out_width != NULL)
    *out_width = tw;
  if (out_height != NULL)
    *out_height = th;
  return out;
}

gboolean
hw_carve_write_thumbnail(const HwReader *r, const HwImage *im, const char *path,
                         guint32 max_side, GError **error)
{
  guint width, height;
  guint32 tw, th;
  if (path == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no file for the thumbnail");
    return FALSE;
  }
  g_autofree guint8 *rgba = hw_image_decode_rgba(r, im, HW_IMAGE_MAX_PIXELS, &width, &height,
                                                 error);
  if (rgba == NULL)
    return FALSE;
  g_autofree guint8 *small = hw_thumbnail_scale(rgba, width, height, max_side, &tw, &th, error);
  if (small == NULL)
    return FALSE;
  return hw_png_write_rgba(path, tw, th, small, (gsize)tw * 4, error);
}
