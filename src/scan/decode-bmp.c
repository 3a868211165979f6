/* BMP by its headers, our own reader: core (12-byte) and info (40 to 124-byte) headers;
 * 1, 4 and 8-bit palettes, 16-bit 555, 24-bit and 32-bit pixels, BI_BITFIELDS and
 * BI_ALPHABITFIELDS masks for 16 and 32 bits, and RLE8/RLE4 runs. Every offset and size
 * is checked against the copy before it is used. */
#include <haywire/error.h>
#include "scan/decode.h"

#include <string.h>
#include "scan/byte-order.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

typedef struct {
  const guint8 *data;
  gsize len;
  guint32 width, height;
  gboolean top_down;
  guint32 bpp, compression;
  guint64 offset;               /* of the pixels */
  guint64 end;                  /* of the pixels: the image size if given, else the file */
  const guint8 *palette;        /* ENTRY bytes per colour, blue first */
  guint32 colours, entry;
  guint32 mask[4];              /* red, green, blue, alpha; zero: none */
  guint8 *rgba;                 /* NULL: only check */
} Bmp;

static gboolean
bad(GError **error, const char *what)
{
  g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "bmp: %s", what);
  return FALSE;
}

/* The masks of 16- and 32-bit pixels: from the header, after a 40-byte header, or the
 * defaults of BI_RGB. *AFTER gets the mask bytes that follow the header. */
static gboolean
read_masks(Bmp *b, guint32 hsize, guint64 *after, GError **error)
{
  *after = 0;
  if (b->compression == BI_RGB) {
    static const guint32 rgb16[4] = { 0x7c00, 0x03e0, 0x001f, 0 };
    static const guint32 rgb32[4] = { 0xff0000, 0x00ff00, 0x0000ff, 0 };
    memcpy(b->mask, b->bpp == 16 ? rgb16 : rgb32, sizeof b->mask);
    return TRUE;
  }
  guint n = b->compression == BI_ALPHABITFIELDS ? 4 : 3;
  const guint8 *p = b->data + 14 + 40;   /* inside a 52-byte or larger header */
  if (hsize == 40) {
    *after = 4 * n;
    if (14 + 40 + *after > b->len)
      return bad(error, "colour masks past the end");
  } else if (hsize < 52) {
    return bad(error, "bit fields without masks");
  } else if (hsize >= 56) {
    n = 4;
  }
  for (guint i = 0; i < n; i++)
    b->mask[i] = hw_le32(p + 4 * i);
  if (b->bpp == 16)
    for (guint i = 0; i < 4; i++)
      b->mask[i] &= 0xffff;
  return TRUE;
}

static gboolean
parse(Bmp *b, guint max_pixels, GError **error)
{
  const guint8 *d = b->data;
  if (b->len < 18 || d[0] != 'B' || d[1] != 'M')
    return bad(error, "no BM header");
  guint32 hsize = hw_le32(d + 14);
  if (hsize != 12 && hsize != 40 && hsize != 52 && hsize != 56 && hsize != 108 && hsize != 124)
    return bad(error, "unknown header size");
  if (14 + (guint64)hsize > b->len)
    return bad(error, "header past the end");
  gint64 w, h;
  guint32 planes;
  if (hsize == 12) {
    w = hw_le16(d + 18), h = hw_le16(d + 20), planes = hw_le16(d + 22), b->bpp = hw_le16(d + 24);
    b->compression = BI_RGB;
  } else {
    w = (gint32)hw_le32(d + 18), h = (gint32)hw_le32(d + 22);
    planes = hw_le16(d + 26), b->bpp = hw_le16(d + 28), b->compression = hw_le32(d + 30);
  }
  guint64 image_size = hsize == 12 ? 0 : hw_le32(d + 34);
  guint32 used = hsize == 12 ? 0 : hw_le32(d + 46);
  b->top_down = h < 0;
  if (planes != 1 || w <= 0 || h == 0)
    return bad(error, "no planes or no pixels");
  if (!hw_decode_check_size((guint64)w, (guint64)ABS(h), max_pixels, error))
    return FALSE;
  b->width = (guint32)w, b->height = (guint32)ABS(h);

  guint32 c = b->compression, bpp = b->bpp;
  gboolean ok = (c == BI_RGB && (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 ||
                                 bpp == 32)) ||
                (c == BI_RLE8 && bpp == 8 && !b->top_down) ||
                (c == BI_RLE4 && bpp == 4 && !b->top_down) ||
                ((c == BI_BITFIELDS || c == BI_ALPHABITFIELDS) && (bpp == 16 || bpp == 32));
  if (!ok)
    return bad(error, "unsupported depth or compression");
  guint64 masks = 0;
  if ((bpp == 16 || bpp == 32) && !read_masks(b, hsize, &masks, error))
    return FALSE;

  b->offset = hw_le32(d + 10);
  if (bpp <= 8) {
    b->colours = used ? used : 1u << bpp;
    b->entry = hsize == 12 ? 3 : 4;
    if (b->colours > 1u << bpp)
      return bad(error, "more colours than the depth holds");
    guint64 at = 14 + (guint64)hsize + masks;
    if (at + (guint64)b->colours * b->entry > MIN(b->offset, (guint64)b->len))
      return bad(error, "palette past the pixels");
    b->palette = d + at;
  }
  if (b->offset < 14 + (guint64)hsize + masks || b->offset >= b->len)
    return bad(error, "pixels outside the file");
  b->end = b->len;
  if (image_size > 0 && image_size <= b->len - b->offset)
    b->end = b->offset + image_size;
  else if (c == BI_RLE8 || c == BI_RLE4)
    return bad(error, "run-length data without its size");
  return TRUE;
}

static void
put(Bmp *b, guint32 x, guint32 y, guint8 r, guint8 g, guint8 bl, guint8 a)
{
  if (b->rgba == NULL || x >= b->width || y >= b->height)
    return;
  guint32 row = b->top_down ? y : b->height - 1 - y;
  guint8 *p = b->rgba + ((gsize)row * b->width + x) * 4;
  p[0] = r, p[1] = g, p[2] = bl, p[3] = a;
}

/* Palette colour I at (X, Y); an index past the palette is black. */
static void
put_index(Bmp *b, guint32 x, guint32 y, guint i)
{
  if (i >= b->colours) {
    put(b, x, y, 0, 0, 0, 255);
    return;
  }
  const guint8 *e = b->palette + (gsize)i * b->entry;
  put(b, x, y, e[2], e[1], e[0], 255);
}

/* The bits of V under MASK scaled to 0..255 (DEF when there is no mask). */
static guint8
channel(guint32 v, guint32 mask, guint8 def)
{
  if (mask == 0)
    return def;
  guint shift = (guint)__builtin_ctz(mask);
  guint64 max = mask >> shift;
  return (guint8)(((guint64)(v & mask) >> shift) * 255 / max);
}

static gboolean
decode_rows(Bmp *b, GError **error)
{
  guint64 stride = ((guint64)b->width * b->bpp + 31) / 32 * 4;
  if (b->offset + stride * b->height > b->len)
    return bad(error, "pixels past the end");
  if (b->rgba == NULL)
    return TRUE;        /* nothing left to fail: every row is inside the file */
  for (guint32 y = 0; y < b->height; y++) {
    const guint8 *row = b->data + b->offset + (gsize)(stride * y);
    for (guint32 x = 0; x < b->width; x++) {
      switch (b->bpp) {
      case 1: case 4: case 8: {
        guint bit = x * b->bpp;
        guint i = (row[bit / 8] >> (8 - b->bpp - bit % 8)) & ((1u << b->bpp) - 1);
        put_index(b, x, y, i);
        break;
      }
      case 24:
        put(b, x, y, row[3 * x + 2], row[3 * x + 1], row[3 * x], 255);
        break;
      default: {
        guint32 v = b->bpp == 16 ? hw_le16(row + 2 * x) : hw_le32(row + 4 * x);
        put(b, x, y, channel(v, b->mask[0], 0), channel(v, b->mask[1], 0),
            channel(v, b->mask[2], 0), channel(v, b->mask[3], 255));
        break;
      }
      }
    }
  }
  return TRUE;
}

/* How many of N pixels from (X, Y) on land in the picture (none when only checking).
 * Rows and columns only grow, so each pixel is drawn at most once. */
static guint
inside(const Bmp *b, guint64 x, guint64 y, guint n)
{
  if (b->rgba == NULL || y >= b->height || x >= b->width)
    return 0;
  return (guint)MIN((guint64)n, b->width - x);
}

/* RLE8 and RLE4: pairs (count, value) and escapes (0: end of line, 1: end of bitmap,
 * 2: delta, 3..255: literal pixels padded to 16 bits), from the bottom row up. Pixels
 * outside the picture are dropped, ones never drawn stay transparent. Each step eats
 * at least two bytes: the loop ends with the data. */
static gboolean
decode_rle(Bmp *b, GError **error)
{
  gboolean four = b->compression == BI_RLE4;
  const guint8 *d = b->data;
  guint64 pos = b->offset, end = b->end;
  guint64 x = 0, y = 0;
  while (pos + 2 <= end) {
    guint n = d[pos], v = d[pos + 1];
    pos += 2;
    if (n > 0) {
      for (guint i = 0; i < inside(b, x, y, n); i++)
        put_index(b, (guint32)(x + i), (guint32)y, four ? (i & 1 ? v & 15 : v >> 4) : v);
      x += n;
    } else if (v == 0) {
      x = 0, y++;
    } else if (v == 1) {
      return TRUE;
    } else if (v == 2) {
      if (pos + 2 > end)
        break;
      x += d[pos], y += d[pos + 1];
      pos += 2;
    } else {
      guint64 bytes = four ? (v + 1) / 2 : v;
      if (pos + bytes > end)
        break;
      for (guint i = 0; i < inside(b, x, y, v); i++) {
        guint byte = d[pos + (four ? i / 2 : i)];
        put_index(b, (guint32)(x + i), (guint32)y, four ? (i & 1 ? byte & 15 : byte >> 4) : byte);
      }
      x += v;
      pos += bytes + (bytes & 1);
    }
  }
  return bad(error, "run-length data without its end");
}

gboolean
hw_decode_bmp(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
              guint32 *height, guint8 **rgba, GError **error)
{
  Bmp b = { .data = data, .len = len };
  if (!parse(&b, max_pixels, error))
    return FALSE;
  g_autofree guint8 *pixels = NULL;
  gboolean rle = b.compression == BI_RLE8 || b.compression == BI_RLE4;
  if (rgba != NULL) {
    if ((pixels = hw_decode_alloc_rgba(b.width, b.height, error)) == NULL)
      return FALSE;
    memset(pixels, 0, (gsize)b.width * b.height * 4);
    b.rgba = pixels;
  }
  if (!(rle ? decode_rle(&b, error) : decode_rows(&b, error)))
    return FALSE;
  *width = b.width;
  *height = b.height;
  if (rgba != NULL)
    *rgba = g_steal_pointer(&pixels);
  return TRUE;
}
