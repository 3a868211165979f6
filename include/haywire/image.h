/* haywire: images in guest memory: encoded files (PNG, JPEG, GIF, BMP, WebP) and raw
 * pixels. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest image file the finders accept (and the most an image check reads). */
#define HW_IMAGE_MAX_FILE (256u << 20)
/* The most pixels a finder's decoder accepts (64 Mpixel: 256 MiB of RGBA). */
#define HW_IMAGE_MAX_PIXELS (64u << 20)

/* How pixels are laid out in memory, byte by byte (rgba8888: R, G, B, A). */
typedef enum {
  HW_PIXEL_RGB888,
  HW_PIXEL_BGR888,
  HW_PIXEL_RGBA8888,
  HW_PIXEL_BGRA8888,
  HW_PIXEL_XRGB8888,   /* little-endian 32-bit 0xXXRRGGBB: bytes B, G, R, X */
  HW_PIXEL_RGB565,     /* little-endian 16-bit: RRRRRGGG GGGBBBBB */
  HW_PIXEL_GRAY8,
  HW_PIXEL_MONO1,      /* 1 bit per pixel, most significant bit first, 1 = white */
  HW_PIXEL_N_FORMATS
} HwPixelFormat;

/* What a finder found. */
typedef enum {
  HW_IMAGE_PNG,
  HW_IMAGE_JPEG,
  HW_IMAGE_GIF,
  HW_IMAGE_BMP,
  HW_IMAGE_RAW,        /* pixels without a header: a framebuffer or decoded bitmap */
  HW_IMAGE_WEBP,       /* after RAW: the fuzz corpora hold these values as bytes */
  HW_IMAGE_N_KINDS
} HwImageKind;

/* An image found at ADDR (in the address space it was read from). */
typedef struct {
  HwImageKind kind;
  guint64 addr;
  guint64 size;        /* bytes: the whole file for encoded images, stride * height for raw */
  guint32 width;
  guint32 height;
  guint32 stride;      /* raw only: bytes per row */
  HwPixelFormat format;/* raw only */
  double confidence;   /* 1.0 for a fully validated file; 0..1 for raw pixels */
} HwImage;

/* Reads LEN bytes at ADDR into BUF; FALSE if any of them cannot be read. */
typedef gboolean (*HwReadFunc)(gpointer ctx, guint64 addr, void *buf, gsize len);

/* An address space to read candidate images from (physical RAM, or a process). */
typedef struct {
  HwReadFunc read;
  gpointer ctx;
  gint64 *budget;      /* bytes the checks may still read, shared by threads (atomic);
                        * NULL: no limit. A guest planting signatures cannot make a
                        * scan read more than this. */
} HwReader;

/* Read through R, charging LEN bytes to its budget; FALSE if unreadable or spent. */
gboolean hw_reader_read(const HwReader *r, guint64 addr, void *buf, gsize len);

/* Name of a pixel format ("rgb888", ...). */
const char *hw_pixel_format_name(HwPixelFormat f);
/* Parse a pixel format name; FALSE if unknown. */
gboolean hw_pixel_format_parse(const char *name, HwPixelFormat *out);
/* Bits per pixel of F. */
guint hw_pixel_format_bits(HwPixelFormat f);
/* Name of an image kind ("png", ..., "framebuffer" for raw). */
const char *hw_image_kind_name(HwImageKind k);
/* Parse a comma-separated list of kinds ("png,jpeg", "all") into a bit mask of
 * (1 << HwImageKind); FALSE with an error for an unknown name. */
gboolean hw_image_kinds_parse(const char *list, guint *mask, GError **error);

/* Validate a PNG file starting at ADDR (signature, IHDR, every chunk's CRC, IEND). */
gboolean hw_image_check_png(const HwReader *r, guint64 addr, HwImage *out);
/* Validate a JPEG file at ADDR (SOI, marker segments, SOF dimensions, scan data, EOI). */
gboolean hw_image_check_jpeg(const HwReader *r, guint64 addr, HwImage *out);
/* Validate a GIF file at ADDR (header, logical screen, blocks through the trailer). */
gboolean hw_image_check_gif(const HwReader *r, guint64 addr, HwImage *out);
/* Validate a BMP file at ADDR (file header and info header consistent). */
gboolean hw_image_check_bmp(const HwReader *r, guint64 addr, HwImage *out);
/* Validate a WebP file at ADDR (RIFF header, a VP8, VP8L or VP8X chunk first, every
 * chunk inside the RIFF size). */
gboolean hw_image_check_webp(const HwReader *r, guint64 addr, HwImage *out);
/* The check above for KIND (not HW_IMAGE_RAW, which has no file to check: FALSE). */
gboolean hw_image_check(HwImageKind kind, const HwReader *r, guint64 addr, HwImage *out);
/* Each check above, once the structure holds, reads the whole file through R and has it
 * decoded (libpng, libjpeg, giflib, libwebp, our own BMP reader): only a file that
 * decodes, with at most HW_IMAGE_MAX_PIXELS pixels, is found, and its width and height
 * are the decoder's. OUT is theirs to fill; nothing is returned to own. */

/* Decode image IMG, read through R (charged to its budget), to RGBA8: an encoded file
 * with its format's decoder, raw pixels with IMG's format and stride. Images over
 * MAX_PIXELS pixels (0: HW_IMAGE_MAX_PIXELS) are refused before pixels are allocated.
 * *WIDTH and *HEIGHT get the size. Returns WIDTH * HEIGHT * 4 bytes (R, G, B, A, rows
 * packed) that the caller owns (g_free); NULL with HW_ERROR_INVALID_ARGUMENT (no reader
 * or image, an unknown kind, a bad raw layout, a file of 0 or over HW_IMAGE_MAX_FILE
 * bytes), HW_ERROR_OUT_OF_RANGE (the bytes wrap around the address space),
 * HW_ERROR_UNMAPPED (unreadable, or the budget is spent), HW_ERROR_DECODE (the decoder
 * refuses the file) or HW_ERROR_LIMIT (too many pixels, no memory). */
guint8 *hw_image_decode_rgba(const HwReader *r, const HwImage *img, guint max_pixels,
                             guint *width, guint *height, GError **error);

/* A row stride at which raw pixels line up: a width to try. */
typedef struct {
  HwPixelFormat format;
  guint32 stride;      /* bytes from one row to the next */
  guint32 width;       /* pixels of a row inside it (the rest looks like row padding) */
  guint32 offset;      /* bytes from the range's start to the first column of a row */
  double fit;          /* 0..1: the share of smooth samples whose byte a stride below
                        * continues them (1: the rows line up everywhere) */
} HwStrideGuess;

/* The strides at which pixels of format F in [ADDR, ADDR + LEN), read through R (its
 * first 4 MiB, charged to R's budget), line up best, best first, as the raw finder
 * judges them, leaving out multiples of a stride given (they line up as well): at most
 * MAX guesses in OUT (the caller's); returns how many (0 when the range is too short,
 * unreadable or featureless, or F has no whole bytes per pixel). */
guint hw_image_guess_strides(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f,
                             HwStrideGuess *out, guint max);

/* Convert WIDTH pixels of format F from SRC (starting at bit BIT_OFFSET for sub-byte
 * formats) to RGBA8 in DST (4 * WIDTH bytes). */
void hw_pixels_to_rgba(HwPixelFormat f, const guint8 *src, guint bit_offset, guint width,
                       guint8 *dst);

G_END_DECLS
