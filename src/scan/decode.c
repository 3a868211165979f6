/* Found images decoded: the finders' last check, and hw_image_decode_rgba for viewers.
 * The file is copied out of the address space first and only the copy is decoded. */
#include <haywire/error.h>
#include "scan/decode.h"

HwDecodeFunc
hw_decode_for_kind(HwImageKind kind)
{
  switch (kind) {
  case HW_IMAGE_PNG: return hw_decode_png;
  case HW_IMAGE_JPEG: return hw_decode_jpeg;
  case HW_IMAGE_GIF: return hw_decode_gif;
  case HW_IMAGE_BMP: return hw_decode_bmp;
  case HW_IMAGE_WEBP: return hw_decode_webp;
  default: return NULL;
  }
}

gboolean
hw_decode_check_size(guint64 width, guint64 height, guint max_pixels, GError **error)
{
  if (width == 0 || height == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "a %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT
                " image has no pixels", width, height);
    return FALSE;
  }
  /* Both sides come from 32-bit fields at most: the product cannot overflow. */
  if (width > G_MAXUINT32 || height > G_MAXUINT32 || width * height > max_pixels) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT
                " pixels are more than the %u allowed", width, height, max_pixels);
    return FALSE;
  }
  return TRUE;
}

guint8 *
hw_decode_alloc_rgba(guint32 width, guint32 height, GError **error)
{
  guint8 *rgba = g_try_malloc((gsize)width * height * 4);
  if (rgba == NULL)
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for %ux%u RGBA pixels", width,
                height);
  return rgba;
}

/* LEN bytes at ADDR through R, in a new buffer the caller owns (g_free). */
static guint8 *
read_bytes(const HwReader *r, guint64 addr, guint64 len, GError **error)
{
  if (len == 0 || len > HW_IMAGE_MAX_FILE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%" G_GUINT64_FORMAT " bytes: "
                "not 1 to %u MiB", len, HW_IMAGE_MAX_FILE >> 20);
    return NULL;
  }
  if (addr + (len - 1) < addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "%" G_GUINT64_FORMAT " bytes at 0x%"
                G_GINT64_MODIFIER "x run past the end of the address space", len, addr);
    return NULL;
  }
  g_autofree guint8 *data = g_try_malloc((gsize)len);
  if (data == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for %" G_GUINT64_FORMAT " bytes",
                len);
    return NULL;
  }
  if (!hw_reader_read(r, addr, data, (gsize)len)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED, "cannot read %" G_GUINT64_FORMAT
                " bytes at 0x%" G_GINT64_MODIFIER "x", len, addr);
    return NULL;
  }
  return g_steal_pointer(&data);
}

gboolean
hw_decode_confirm(const HwReader *r, HwImage *out)
{
  HwDecodeFunc decode = hw_decode_for_kind(out->kind);
  if (decode == NULL)
    return FALSE;
  g_autofree guint8 *data = read_bytes(r, out->addr, out->size, NULL);
  guint32 width, height;
  if (data == NULL ||
      !decode(data, (gsize)out->size, HW_IMAGE_MAX_PIXELS, &width, &height, NULL, NULL))
    return FALSE;
  out->width = width;
  out->height = height;
  return TRUE;
}

/* Raw pixel rows of IMG read through R and converted. */
static guint8 *
decode_raw(const HwReader *r, const HwImage *img, guint max_pixels, GError **error)
{
  guint bits = hw_pixel_format_bits(img->format);
  if (bits == 0 || img->width == 0 || img->height == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "raw image: %ux%u pixels of "
                "format %d", img->width, img->height, (int)img->format);
    return NULL;
  }
  if (!hw_decode_check_size(img->width, img->height, max_pixels, error))
    return NULL;
  guint64 row = ((guint64)img->width * bits + 7) / 8;
  /* stride * (height - 1) < 2^32 * 2^26: no overflow before the size check. */
  guint64 span = (guint64)img->stride * (img->height - 1) + row;
  if (img->stride < row || span > HW_IMAGE_MAX_FILE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "raw image: rows %u bytes apart "
                "for rows of %" G_GUINT64_FORMAT " bytes, %u of them", img->stride, row,
                img->height);
    return NULL;
  }
  g_autofree guint8 *data = read_bytes(r, img->addr, span, error);
  if (data == NULL)
    return NULL;
  guint8 *rgba = hw_decode_alloc_rgba(img->width, img->height, error);
  if (rgba == NULL)
    return NULL;
  for (guint32 y = 0; y < img->height; y++)
    hw_pixels_to_rgba(img->format, data + (gsize)y * img->stride, 0, img->width,
                      rgba + (gsize)y * img->width * 4);
  return rgba;
}

guint8 *
hw_image_decode_rgba(const HwReader *r, const HwImage *img, guint max_pixels, guint *width,
                     guint *height, GError **error)
{
  if (r == NULL || r->read == NULL || img == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no reader or no image to decode");
    return NULL;
  }
  if (max_pixels == 0)
    max_pixels = HW_IMAGE_MAX_PIXELS;
  guint32 w = img->width, h = img->height;
  g_autofree guint8 *rgba = NULL;
  if (img->kind == HW_IMAGE_RAW) {
    rgba = decode_raw(r, img, max_pixels, error);
  } else {
    HwDecodeFunc decode = hw_decode_for_kind(img->kind);
    if (decode == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "unknown image kind %d",
                  (int)img->kind);
      return NULL;
    }
    g_autofree guint8 *data = read_bytes(r, img->addr, img->size, error);
    if (data == NULL || !decode(data, (gsize)img->size, max_pixels, &w, &h, &rgba, error)) {
      g_prefix_error(error, "%s at 0x%" G_GINT64_MODIFIER "x: ", hw_image_kind_name(img->kind),
                     img->addr);
      return NULL;
    }
  }
  if (rgba == NULL)
    return NULL;
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
  return g_steal_pointer(&rgba);
}
