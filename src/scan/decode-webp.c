/* WebP through libwebp, from memory: lossy (VP8) and lossless (VP8L) stills, with or
 * without the extended header. Animations need libwebpdemux's frame compositing and
 * are refused (HW_ERROR_UNSUPPORTED). */
#include <haywire/error.h>
#include "scan/decode.h"

#include <webp/decode.h>

static gboolean
fail(GError **error, VP8StatusCode status)
{
  static const char *const names[] = {
    [VP8_STATUS_OK] = "ok",
    [VP8_STATUS_OUT_OF_MEMORY] = "out of memory",
    [VP8_STATUS_INVALID_PARAM] = "invalid parameter",
    [VP8_STATUS_BITSTREAM_ERROR] = "bitstream error",
    [VP8_STATUS_UNSUPPORTED_FEATURE] = "unsupported feature",
    [VP8_STATUS_SUSPENDED] = "suspended",
    [VP8_STATUS_USER_ABORT] = "aborted",
    [VP8_STATUS_NOT_ENOUGH_DATA] = "not enough data",
  };
  const char *name = (guint)status < G_N_ELEMENTS(names) ? names[status] : "error";
  g_set_error(error, HW_ERROR, status == VP8_STATUS_OUT_OF_MEMORY ? HW_ERROR_LIMIT
              : HW_ERROR_DECODE, "libwebp: %s", name);
  return FALSE;
}

gboolean
hw_decode_webp(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
               guint32 *height, guint8 **rgba, GError **error)
{
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "libwebp: version mismatch");
    return FALSE;
  }
  VP8StatusCode status = WebPGetFeatures(data, len, &config.input);
  if (status != VP8_STATUS_OK)
    return fail(error, status);
  if (config.input.has_animation) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "libwebp: an animation");
    return FALSE;
  }
  if (!hw_decode_check_size((guint64)MAX(config.input.width, 0),
                            (guint64)MAX(config.input.height, 0), max_pixels, error))
    return FALSE;
  guint32 w = (guint32)config.input.width, h = (guint32)config.input.height;
  /* Decoded into our buffer, also when only checking: libwebp's own would be the same
   * size, and this way one free path serves both. */
  g_autofree guint8 *pixels = hw_decode_alloc_rgba(w, h, error);
  if (pixels == NULL)
    return FALSE;
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = pixels;
  config.output.u.RGBA.stride = (int)(w * 4);
  config.output.u.RGBA.size = (gsize)w * h * 4;
  status = WebPDecode(data, len, &config);
  WebPFreeDecBuffer(&config.output);   /* nothing of ours: the buffer is external */
  if (status != VP8_STATUS_OK)
    return fail(error, status);
  *width = w;
  *height = h;
  if (rgba != NULL)
    *rgba = g_steal_pointer(&pixels);
  return TRUE;
}
