/* haywire: images out of guest memory: found images carved into files, and any memory
 * drawn as pixels. Every size here comes from the guest or a user: each function checks
 * it (zero, overflow, limits) and fails with a GError, never with a crash; ERROR may be
 * NULL everywhere. */
#pragma once

#include <glib.h>
#include <haywire/image.h>

G_BEGIN_DECLS

/* The most bytes of memory one carved image or one rendered picture may cover. */
#define HW_CARVE_MAX_BYTES HW_IMAGE_MAX_FILE
/* The most pixels one converted picture may have (16384 x 16384: 1 GiB of RGBA). */
#define HW_CARVE_MAX_PIXELS (1u << 28)

/* Bytes of one row of WIDTH pixels of F (1-bit rows rounded up to whole bytes); 0 for
 * an unknown format. */
guint64 hw_carve_row_bytes(HwPixelFormat f, guint32 width);
/* Check the layout of raw pixel rows: F known, WIDTH and HEIGHT at least 1 and at most
 * HW_CARVE_MAX_PIXELS pixels, STRIDE at least one row's bytes; *SPAN (may be NULL) gets
 * the bytes the rows cover, STRIDE * (HEIGHT - 1) + one row, at most HW_CARVE_MAX_BYTES.
 * Fails with HW_ERROR_INVALID_ARGUMENT or HW_ERROR_LIMIT. */
gboolean hw_carve_pixels_check(HwPixelFormat f, guint32 width, guint32 height, guint64 stride,
                               guint64 *span, GError **error);
/* Convert raw pixel rows (F, WIDTH x HEIGHT, rows STRIDE bytes apart, checked as by
 * hw_carve_pixels_check) from DATA (LEN bytes, at least their span) to RGBA8. Returns a
 * new buffer of WIDTH * HEIGHT * 4 bytes, rows packed tightly, that the caller owns
 * (g_free); NULL on error (HW_ERROR_LIMIT also when there is no memory for it). */
guint8 *hw_carve_pixels_to_rgba(HwPixelFormat f, guint32 width, guint32 height, guint64 stride,
                                const guint8 *data, gsize len, GError **error);

/* The file name extension of a carved image of KIND: "png", "jpg", "gif", "bmp", "webp",
 * and "png" for raw pixels (carved as PNG); a static string, not to be freed. */
const char *hw_carve_extension(HwImageKind kind);
/* Read image IM's bytes through R (charged to its budget, if it has one): an encoded
 * file's IM->size bytes (1 .. HW_CARVE_MAX_BYTES), raw pixels' rows (their span, see
 * hw_carve_pixels_check; IM->size is not used); *LEN (may be NULL) gets the count.
 * Returns a new buffer that the caller owns (g_free); NULL with HW_ERROR_INVALID_ARGUMENT
 * (no reader or image, an unknown kind, an empty file, bad raw layout), HW_ERROR_LIMIT
 * (too large, no memory), HW_ERROR_OUT_OF_RANGE (the bytes wrap around the address
 * space) or HW_ERROR_UNMAPPED (some byte cannot be read). */
guint8 *hw_carve_read(const HwReader *r, const HwImage *im, gsize *len, GError **error);
/* Write image IM, read through R, to PATH: an encoded file byte for byte, raw pixels as
 * an RGBA PNG. Fails as hw_carve_read does, then with the file's errors (G_IO_ERROR; a
 * partial PNG is removed). Nothing is returned to own. */
gboolean hw_carve_write(const HwReader *r, const HwImage *im, const char *path, GError **error);

/* The longest side of the thumbnails `carve --thumbnails` writes. */
#define HW_THUMBNAIL_SIDE 128u

/* Box-filter WIDTH x HEIGHT RGBA8 pixels (rows packed) down so that the longer side is
 * at most MAX_SIDE, the aspect kept (the shorter side rounded, at least 1); a picture
 * that fits keeps its size. *OUT_WIDTH and *OUT_HEIGHT (may be NULL) get the size.
 * Returns new pixels (rows packed) that the caller owns (g_free); NULL with
 * HW_ERROR_INVALID_ARGUMENT (no pixels, MAX_SIDE 0) or HW_ERROR_LIMIT (no memory). */
guint8 *hw_thumbnail_scale(const guint8 *rgba, guint32 width, guint32 height, guint32 max_side,
                           guint32 *out_width, guint32 *out_height, GError **error);
/* Decode image IM through R (hw_image_decode_rgba, at most HW_IMAGE_MAX_PIXELS) and write
 * it to PATH as an RGBA PNG of at most MAX_SIDE pixels a side (hw_thumbnail_scale). Fails
 * as those and hw_png_write_rgba do; nothing is returned to own. */
gboolean hw_carve_write_thumbnail(const HwReader *r, const HwImage *im, const char *path,
                                  guint32 max_side, GError **error);

/* Memory as a render reads it: bytes from an address on, and which of its pages could
 * be read. */
typedef struct _HwRenderMemory HwRenderMemory;

/* Pages of the read address space that a render reads and flags one by one. */
#define HW_RENDER_PAGE 4096u
/* The longest side of a rendered picture (after scaling), and the largest scale. */
#define HW_RENDER_MAX_SIDE 16384u
#define HW_RENDER_MAX_SCALE 16u

/* Read LEN bytes (1 .. HW_CARVE_MAX_BYTES) at ADDR through R a page at a time (pieces
 * end at HW_RENDER_PAGE boundaries of the address space); a page that cannot be read is
 * zeros, flagged and counted, not an error. Returns a new HwRenderMemory that the caller
 * owns (hw_render_memory_free); NULL with HW_ERROR_INVALID_ARGUMENT (no reader, LEN 0),
 * HW_ERROR_LIMIT (LEN too large, no memory) or HW_ERROR_OUT_OF_RANGE (ADDR + LEN wraps). */
HwRenderMemory *hw_render_memory_read(const HwReader *r, guint64 addr, guint64 len,
                                      GError **error);
/* Whether the byte at ADDR was read into M (FALSE outside M); nothing to own. */
gboolean hw_render_memory_readable(const HwRenderMemory *m, guint64 addr);
/* Bytes of M that could not be read (drawn hatched). */
guint64 hw_render_memory_get_unreadable(const HwRenderMemory *m);
/* M's bytes, borrowed (M owns them, zeros where unreadable); *LEN (may be NULL) gets
 * their count. */
const guint8 *hw_render_memory_get_data(const HwRenderMemory *m, gsize *len);
/* Free M (NULL is fine). */
void hw_render_memory_free(HwRenderMemory *m);

/* How a render draws memory. */
typedef struct {
  HwPixelFormat format;
  guint32 width, height;   /* pixels per row, rows */
  guint64 stride;          /* bytes from one row's start to the next; at least a row's */
  guint32 scale;           /* each pixel drawn as a SCALE x SCALE square: 1..16 */
  gboolean keep_alpha;     /* keep the alpha bytes of rgba8888/bgra8888 (else opaque) */
} HwRenderLayout;

/* Draw M's bytes from its first on as L says: (WIDTH * SCALE) x (HEIGHT * SCALE) RGBA8
 * pixels, rows packed tightly, each pixel whose first byte could not be read hatched in
 * dark diagonal stripes; *OUT_WIDTH and *OUT_HEIGHT (may be NULL) get the picture's
 * size. Returns a new buffer that the caller owns (g_free); NULL with
 * HW_ERROR_INVALID_ARGUMENT (no memory or layout, bad layout or scale, M shorter than the
 * rows' span) or HW_ERROR_LIMIT (too large, a side over HW_RENDER_MAX_SIDE). */
guint8 *hw_render_draw(const HwRenderMemory *m, const HwRenderLayout *l, guint32 *out_width,
                       guint32 *out_height, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwRenderMemory, hw_render_memory_free)

G_END_DECLS
