/* BMP finder: "BM", then a file header and an info header that agree with each other:
 * known header size, one plane, a real depth and compression, pixels inside the file. */
#include <haywire/image.h>
#include "scan/cursor.h"

#include <string.h>

#define MAX_FILE (256u << 20)
#define MAX_SIDE 65535

static gboolean
known_header(guint32 size)
{
  return size == 12 || size == 40 || size == 52 || size == 56 || size == 108 || size == 124;
}

gboolean
hw_image_check_bmp(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 h[54];
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, h, 26) || h[0] != 'B' || h[1] != 'M')
    return FALSE;
#define LE16(o) ((guint32)h[o] | (guint32)h[(o) + 1] << 8)
#define LE32(o) (LE16(o) | LE16((o) + 2) << 16)
  guint32 file_size = LE32(2), offset = LE32(10), hsize = LE32(14);
  if (!known_header(hsize) || file_size > MAX_FILE || file_size < 14 + hsize ||
      offset < 14 + hsize || offset >= file_size)
    return FALSE;
  gint64 width, height;
  guint32 planes, bpp, compression = 0, image_size = 0;
  if (hsize == 12) {
    width = LE16(18);
    height = LE16(20);
    planes = LE16(22);
    bpp = LE16(24);
  } else {
    if (!hw_cursor_read(&c, addr + 26, h + 26, 54 - 26))
      return FALSE;
    width = (gint32)LE32(18);
    height = (gint32)LE32(22);
    planes = LE16(26);
    bpp = LE16(28);
    compression = LE32(30);
    image_size = LE32(34);
  }
#undef LE16
#undef LE32
  gboolean top_down = height < 0;
  guint64 w = (guint64)ABS(width), hh = (guint64)ABS(height);
  if (planes != 1 || width <= 0 || hh == 0 || w > MAX_SIDE || hh > MAX_SIDE)
    return FALSE;
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return FALSE;
  switch (compression) {
  case 0:
    break;
  case 1:   /* RLE8 */
  case 2:   /* RLE4 */
    if (bpp != (compression == 1 ? 8u : 4u) || top_down || image_size == 0)
      return FALSE;
    break;
  case 3:   /* BITFIELDS */
  case 6:   /* ALPHABITFIELDS */
    if (bpp != 16 && bpp != 32)
      return FALSE;
    break;
  default:
    return FALSE;
  }
  guint64 stride = (w * bpp + 31) / 32 * 4;
  if (compression == 0 || compression == 3 || compression == 6) {
    if ((guint64)offset + stride * hh > file_size)
      return FALSE;
  }
  if (image_size != 0 && image_size > file_size - offset)
    return FALSE;
  /* The whole file must be readable where it claims to be. */
  guint8 last;
  if (!hw_cursor_read(&c, addr + file_size - 1, &last, 1))
    return FALSE;
  *out = (HwImage){ .kind = HW_IMAGE_BMP, .addr = addr, .size = file_size,
                    .width = (guint32)w, .height = (guint32)hh, .confidence = 1.0 };
  return TRUE;
}
