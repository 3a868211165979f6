/* Image kinds and pixel formats: names, sizes, and conversion to RGBA8. */
#include <haywire/image.h>
#include <haywire/error.h>

#include <string.h>

static const struct {
  const char *name;
  guint bits;
} formats[HW_PIXEL_N_FORMATS] = {
  [HW_PIXEL_RGB888] = { "rgb888", 24 },
  [HW_PIXEL_BGR888] = { "bgr888", 24 },
  [HW_PIXEL_RGBA8888] = { "rgba8888", 32 },
  [HW_PIXEL_BGRA8888] = { "bgra8888", 32 },
  [HW_PIXEL_XRGB8888] = { "xrgb8888", 32 },
  [HW_PIXEL_RGB565] = { "rgb565", 16 },
  [HW_PIXEL_GRAY8] = { "gray8", 8 },
  [HW_PIXEL_MONO1] = { "mono1", 1 },
};

static const char *kinds[HW_IMAGE_N_KINDS] = {
  [HW_IMAGE_PNG] = "png",
  [HW_IMAGE_JPEG] = "jpeg",
  [HW_IMAGE_GIF] = "gif",
  [HW_IMAGE_BMP] = "bmp",
  [HW_IMAGE_RAW] = "framebuffer",
  [HW_IMAGE_WEBP] = "webp",
};

gboolean
hw_reader_read(const HwReader *r, guint64 addr, void *buf, gsize len)
{
  if (r->budget != NULL && __atomic_sub_fetch(r->budget, (gint64)MIN(len, (gsize)G_MAXINT64),
                                              __ATOMIC_RELAXED) < 0)
    return FALSE;
  return r->read(r->ctx, addr, buf, len);
}

const char *
hw_pixel_format_name(HwPixelFormat f)
{
  return (guint)f < HW_PIXEL_N_FORMATS ? formats[f].name : "?";
}

gboolean
hw_pixel_format_parse(const char *name, HwPixelFormat *out)
{
  for (guint i = 0; i < HW_PIXEL_N_FORMATS; i++)
    if (g_ascii_strcasecmp(name, formats[i].name) == 0) {
      *out = (HwPixelFormat)i;
      return TRUE;
    }
  /* Common spellings. */
  if (g_ascii_strcasecmp(name, "1-bit") == 0 || g_ascii_strcasecmp(name, "1bit") == 0) {
    *out = HW_PIXEL_MONO1;
    return TRUE;
  }
  if (g_ascii_strcasecmp(name, "gray") == 0 || g_ascii_strcasecmp(name, "grey8") == 0) {
    *out = HW_PIXEL_GRAY8;
    return TRUE;
  }
  return FALSE;
}

guint
hw_pixel_format_bits(HwPixelFormat f)
{
  return (guint)f < HW_PIXEL_N_FORMATS ? formats[f].bits : 0;
}

const char *
hw_image_kind_name(HwImageKind k)
{
  return (guint)k < HW_IMAGE_N_KINDS ? kinds[k] : "?";
}

gboolean
hw_image_kinds_parse(const char *list, guint *mask, GError **error)
{
  g_auto(GStrv) names = g_strsplit(list, ",", -1);
  *mask = 0;
  for (guint i = 0; names[i]; i++) {
    const char *n = g_strstrip(names[i]);
    gboolean found = FALSE;
    if (g_ascii_strcasecmp(n, "all") == 0) {
      *mask |= (1u << HW_IMAGE_N_KINDS) - 1;
      continue;
    }
    for (guint k = 0; k < HW_IMAGE_N_KINDS; k++)
      if (g_ascii_strcasecmp(n, kinds[k]) == 0 ||
          (k == HW_IMAGE_JPEG && g_ascii_strcasecmp(n, "jpg") == 0) ||
          (k == HW_IMAGE_RAW && g_ascii_strcasecmp(n, "raw") == 0)) {
        *mask |= 1u << k;
        found = TRUE;
      }
    if (!found) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "unknown image kind '%s' "
                  "(known: png, jpeg, gif, bmp, webp, framebuffer, all)", n);
      return FALSE;
    }
  }
  if (*mask == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no image kind given");
    return FALSE;
  }
  return TRUE;
}

void
hw_pixels_to_rgba(HwPixelFormat f, const guint8 *src, guint bit_offset, guint width,
                  guint8 *dst)
{
  for (guint x = 0; x < width; x++, dst += 4) {
    guint8 r = 0, g = 0, b = 0, a = 255;
    switch (f) {
    case HW_PIXEL_RGB888:
      r = src[3 * x], g = src[3 * x + 1], b = src[3 * x + 2];
      break;
    case HW_PIXEL_BGR888:
      b = src[3 * x], g = src[3 * x + 1], r = src[3 * x + 2];
      break;
    case HW_PIXEL_RGBA8888:
      r = src[4 * x], g = src[4 * x + 1], b = src[4 * x + 2], a = src[4 * x + 3];
      break;
    case HW_PIXEL_BGRA8888:
      b = src[4 * x], g = src[4 * x + 1], r = src[4 * x + 2], a = src[4 * x + 3];
      break;
    case HW_PIXEL_XRGB8888:
      b = src[4 * x], g = src[4 * x + 1], r = src[4 * x + 2];
      break;
    case HW_PIXEL_RGB565: {
      guint v = src[2 * x] | (guint)src[2 * x + 1] << 8;
      r = (guint8)(((v >> 11) & 31) * 255 / 31);
      g = (guint8)(((v >> 5) & 63) * 255 / 63);
      b = (guint8)((v & 31) * 255 / 31);
      break;
    }
    case HW_PIXEL_GRAY8:
      r = g = b = src[x];
      break;
    case HW_PIXEL_MONO1: {
      guint bit = bit_offset + x;
      r = g = b = (src[bit / 8] >> (7 - bit % 8)) & 1 ? 255 : 0;
      break;
    }
    default:
      break;
    }
    dst[0] = r, dst[1] = g, dst[2] = b, dst[3] = a;
  }
}
