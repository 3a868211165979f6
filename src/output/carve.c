/* Carving: the bytes of a found image read back through a reader, raw pixel rows turned
 * into RGBA, and either written to a file. The image description comes from a scan of
 * guest memory (or from a caller): every size is checked before it is used. */
#include <haywire/carve.h>
#include <haywire/picture.h>
#include <haywire/error.h>

guint64
hw_carve_row_bytes(HwPixelFormat f, guint32 width)
{
  return ((guint64)width * hw_pixel_format_bits(f) + 7) / 8;
}

gboolean
hw_carve_pixels_check(HwPixelFormat f, guint32 width, guint32 height, guint64 stride,
                      guint64 *span, GError **error)
{
  guint64 row = hw_carve_row_bytes(f, width), total;
  if (hw_pixel_format_bits(f) == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "unknown pixel format %d", (int)f);
    return FALSE;
  }
  if (width == 0 || height == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "a %ux%u picture has no pixels",
                width, height);
    return FALSE;
  }
  if ((guint64)width * height > HW_CARVE_MAX_PIXELS) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%ux%u pixels are more than the %u a "
                "picture may have", width, height, HW_CARVE_MAX_PIXELS);
    return FALSE;
  }
  if (stride < row) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "rows %" G_GUINT64_FORMAT " bytes "
                "apart are shorter than a row of %u %s pixels (%" G_GUINT64_FORMAT " bytes)",
                stride, width, hw_pixel_format_name(f), row);
    return FALSE;
  }
  if (!g_uint64_checked_mul(&total, stride, height - 1) ||
      !g_uint64_checked_add(&total, total, row) || total > HW_CARVE_MAX_BYTES) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%u rows %" G_GUINT64_FORMAT " bytes apart "
                "cover more than %u MiB of memory", height, stride, HW_CARVE_MAX_BYTES >> 20);
    return FALSE;
  }
  if (span != NULL)
    *span = total;
  return TRUE;
}

guint8 *
hw_carve_pixels_to_rgba(HwPixelFormat f, guint32 width, guint32 height, guint64 stride,
                        const guint8 *data, gsize len, GError **error)
{
  guint64 span;
  if (!hw_carve_pixels_check(f, width, height, stride, &span, error))
    return NULL;
  if (data == NULL || len < span) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%" G_GSIZE_FORMAT " bytes of "
                "pixels, but the rows cover %" G_GUINT64_FORMAT, data ? len : 0, span);
    return NULL;
  }
  /* Both bounded by the checks: span by HW_CARVE_MAX_BYTES, pixels by ..._MAX_PIXELS. */
  gsize row_rgba = (gsize)width * 4;
  guint8 *rgba = g_try_malloc(row_rgba * height);
  if (rgba == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for %ux%u RGBA pixels", width,
                height);
    return NULL;
  }
  for (guint32 y = 0; y < height; y++)
    hw_pixels_to_rgba(f, data + (gsize)(y * stride), 0, width, rgba + (gsize)y * row_rgba);
  return rgba;
}

const char *
hw_carve_extension(HwImageKind kind)
{
  switch (kind) {
  case HW_IMAGE_PNG: return "png";
  case HW_IMAGE_JPEG: return "jpg";
  case HW_IMAGE_GIF: return "gif";
  case HW_IMAGE_BMP: return "bmp";
  case HW_IMAGE_RAW: return "png";
  case HW_IMAGE_WEBP: return "webp";
  default: return "bin";
  }
}

guint8 *
hw_carve_read(const HwReader *r, const HwImage *im, gsize *len, GError **error)
{
  guint64 n;
  if (r == NULL || r->read == NULL || im == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no reader or no image to carve");
    return NULL;
  }
  if (im->kind == HW_IMAGE_RAW) {
    if (!hw_carve_pixels_check(im->format, im->width, im->height, im->stride, &n, error)) {
      g_prefix_error(error, "raw image: ");
      return NULL;
    }
  } else if ((guint)im->kind < HW_IMAGE_N_KINDS) {
    if (im->size == 0) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "empty %s file",
                  hw_image_kind_name(im->kind));
      return NULL;
    }
    if (im->size > HW_CARVE_MAX_BYTES) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%s file of %" G_GUINT64_FORMAT " bytes: "
                  "more than %u MiB", hw_image_kind_name(im->kind), im->size,
                  HW_CARVE_MAX_BYTES >> 20);
      return NULL;
    }
    n = im->size;
  } else {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "unknown image kind %d",
                (int)im->kind);
    return NULL;
  }
  if (im->addr + (n - 1) < im->addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "%" G_GUINT64_FORMAT " bytes at 0x%"
                G_GINT64_MODIFIER "x run past the end of the address space", n, im->addr);
    return NULL;
  }
  g_autofree guint8 *data = g_try_malloc((gsize)n);
  if (data == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for the image's %" G_GUINT64_FORMAT
                " bytes", n);
    return NULL;
  }
  if (!hw_reader_read(r, im->addr, data, (gsize)n)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED, "cannot read the image's %" G_GUINT64_FORMAT
                " bytes at 0x%" G_GINT64_MODIFIER "x", n, im->addr);
    return NULL;
  }
  if (len != NULL)
    *len = (gsize)n;
  return g_steal_pointer(&data);
}

gboolean
hw_carve_write(const HwReader *r, const HwImage *im, const char *path, GError **error)
{
  gsize n;
  if (path == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no file to carve into");
    return FALSE;
  }
  g_autofree guint8 *data = hw_carve_read(r, im, &n, error);
  if (data == NULL)
    return FALSE;
  if (im->kind != HW_IMAGE_RAW)
    return g_file_set_contents(path, (const char *)data, (gssize)n, error);
  g_autofree guint8 *rgba = hw_carve_pixels_to_rgba(im->format, im->width, im->height,
                                                    im->stride, data, n, error);
  if (rgba == NULL)
    return FALSE;
  return hw_png_write_rgba(path, im->width, im->height, rgba, (gsize)im->width * 4, error);
}
