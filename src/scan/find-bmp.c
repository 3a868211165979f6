/* BMP finder: "BM", then a file header and an info header that agree with each other:
 * known header size, one plane, a real depth and compression, pixels inside the file;
 * then our decoder reads it all. */
#include <haywire/image.h>
#include "scan/cursor.h"
#include "scan/decode.h"
#include "scan/byte-order.h"

#define MAX_FILE HW_IMAGE_MAX_FILE
#define MAX_SIDE 65535

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

static gboolean
known_header(guint32 size)
{
  return size == 12 || size == 40 || size == 52 || size == 56 || size == 108 || size == 124;
}

/* Whether depth and compression go together (RLE8 is 8-bit only, and so on). */
static gboolean
valid_depth(guint32 bpp, guint32 compression)
{
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return FALSE;
  switch (compression) {
  case BI_RGB:
    return TRUE;
  case BI_RLE8:
    return bpp == 8;
  case BI_RLE4:
    return bpp == 4;
  case BI_BITFIELDS:
  case BI_ALPHABITFIELDS:
    return bpp == 16 || bpp == 32;
  default:
    return FALSE;
  }
}

gboolean
hw_image_check_bmp(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 h[14 + 40];                    /* file header, then up to 40 header bytes */
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, h, 18) || h[0] != 'B' || h[1] != 'M')
    return FALSE;
  /* h[6..9] are reserved: usually 0, but writers put anything there. */
  guint32 file_size = hw_le32(h + 2), offset = hw_le32(h + 10), hsize = hw_le32(h + 14);
  if (!known_header(hsize) || file_size > MAX_FILE || offset < 14 + hsize ||
      offset >= file_size)
    return FALSE;
  if (!hw_cursor_read(&c, addr + 18, h + 18, MIN(hsize, 40) - 4))
    return FALSE;

  gint64 width, height;
  guint32 planes, bpp, compression = BI_RGB, image_size = 0;
  if (hsize == 12) {                    /* BITMAPCOREHEADER: unsigned 16-bit sides */
    width = hw_le16(h + 18);
    height = hw_le16(h + 20);
    planes = hw_le16(h + 22);
    bpp = hw_le16(h + 24);
  } else {
    width = (gint32)hw_le32(h + 18);
    height = (gint32)hw_le32(h + 22);
    planes = hw_le16(h + 26);
    bpp = hw_le16(h + 28);
    compression = hw_le32(h + 30);
    image_size = hw_le32(h + 34);
  }
  gboolean top_down = height < 0;
  guint64 w = (guint64)width, hh = (guint64)ABS(height);
  /* A negative width means nothing in any BMP version: refuse it. */
  if (planes != 1 || width <= 0 || hh == 0 || w > MAX_SIDE || hh > MAX_SIDE ||
      !valid_depth(bpp, compression))
    return FALSE;

  if (compression == BI_RLE8 || compression == BI_RLE4) {
    /* RLE rows run bottom-up, and only the image size says how long the data is. */
    if (top_down || image_size == 0)
      return FALSE;
  } else {
    /* A 40-byte header keeps its colour masks after it (3 or 4 of them). */
    guint32 masks = hsize != 40 ? 0 : compression == BI_BITFIELDS ? 12
                  : compression == BI_ALPHABITFIELDS ? 16 : 0;
    guint64 stride = (w * bpp + 31) / 32 * 4;
    if (offset < 14 + hsize + masks || (guint64)offset + stride * hh > file_size)
      return FALSE;
  }
  if (image_size > file_size - offset)
    return FALSE;
  /* The decoder reads the whole file: an unreadable page of it refuses it. */
  *out = (HwImage){ .kind = HW_IMAGE_BMP, .addr = addr, .size = file_size,
                    .width = (guint32)w, .height = (guint32)hh, .confidence = 1.0 };
  return hw_decode_confirm(r, out);
}
