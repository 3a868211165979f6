/* The decoders behind the finders and hw_image_decode_rgba. Each takes one whole file
 * held in memory (a copy out of the guest: it cannot change while it is decoded) and
 * either accepts all of it or refuses it; none trusts a length or a size it reads. */
#pragma once

#include <haywire/image.h>

/* Decode the file of LEN bytes at DATA. TRUE if it decodes completely and has at most
 * MAX_PIXELS pixels (checked before any pixel buffer is allocated); *WIDTH and *HEIGHT
 * get its size. With RGBA non-NULL, *RGBA gets WIDTH * HEIGHT * 4 bytes (R, G, B, A,
 * rows packed) that the caller owns (g_free). FALSE with HW_ERROR_DECODE (the file does
 * not decode), HW_ERROR_LIMIT (too many pixels, no memory) or HW_ERROR_UNSUPPORTED. */
typedef gboolean (*HwDecodeFunc)(const guint8 *data, gsize len, guint max_pixels,
                                 guint32 *width, guint32 *height, guint8 **rgba,
                                 GError **error);

gboolean hw_decode_png(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
                       guint32 *height, guint8 **rgba, GError **error);
gboolean hw_decode_jpeg(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
                        guint32 *height, guint8 **rgba, GError **error);
gboolean hw_decode_gif(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
                       guint32 *height, guint8 **rgba, GError **error);
gboolean hw_decode_webp(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
                        guint32 *height, guint8 **rgba, GError **error);
gboolean hw_decode_bmp(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
                       guint32 *height, guint8 **rgba, GError **error);

/* The decoder for encoded files of KIND; NULL for raw pixels and unknown kinds. */
HwDecodeFunc hw_decode_for_kind(HwImageKind kind);

/* Fail with HW_ERROR_LIMIT unless WIDTH x HEIGHT is 1 .. MAX_PIXELS pixels (a zero side
 * is HW_ERROR_DECODE); the decoders call it before they allocate pixels. */
gboolean hw_decode_check_size(guint64 width, guint64 height, guint max_pixels, GError **error);
/* A new WIDTH x HEIGHT RGBA8 buffer (checked by hw_decode_check_size) that the caller
 * owns (g_free); NULL with HW_ERROR_LIMIT when there is no memory for it. */
guint8 *hw_decode_alloc_rgba(guint32 width, guint32 height, GError **error);

/* The last step of a finder: read all of the file OUT describes through R (charged to
 * its budget) and decode it with HW_IMAGE_MAX_PIXELS; TRUE if the decoder accepts it,
 * with OUT's width and height then set from the decoder. */
gboolean hw_decode_confirm(const HwReader *r, HwImage *out);
