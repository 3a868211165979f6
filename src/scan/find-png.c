/* PNG finder: signature, IHDR first, every chunk's CRC, through IEND, then libpng. A
 * stray signature in memory fails the first CRC with odds of 2^-32. */
#include <haywire/image.h>
#include "scan/byte-order.h"
#include "scan/cursor.h"
#include "scan/decode.h"

#include <string.h>
#include <zlib.h>

#define MAX_FILE HW_IMAGE_MAX_FILE
#define MAX_CHUNKS 100000u

static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static gboolean
is_chunk_type(const guint8 t[4])
{
  for (int i = 0; i < 4; i++)
    if (!g_ascii_isalpha(t[i]))
      return FALSE;
  return (t[2] & 0x20) == 0;   /* the reserved bit is upper case in every valid chunk */
}

/* CRC of the chunk type and LEN data bytes at ADDR, read a page at a time. */
static gboolean
chunk_crc(HwCursor *c, guint64 addr, guint32 len, guint32 *crc_out)
{
  guint8 buf[HW_CURSOR_PAGE];
  uLong crc = crc32(0, Z_NULL, 0);
  guint64 left = 4 + (guint64)len;
  while (left > 0) {
    gsize n = (gsize)MIN(left, (guint64)sizeof buf);
    if (!hw_cursor_read(c, addr, buf, n))
      return FALSE;
    crc = crc32(crc, buf, (uInt)n);
    addr += n;
    left -= n;
  }
  *crc_out = (guint32)crc;
  return TRUE;
}

static gboolean
valid_ihdr(const guint8 d[13], guint32 *w, guint32 *h)
{
  *w = hw_be32(d);
  *h = hw_be32(d + 4);
  guint depth = d[8], colour = d[9];
  if (*w == 0 || *h == 0 || *w > 0x7fffffffu || *h > 0x7fffffffu)
    return FALSE;
  if (d[10] != 0 || d[11] != 0 || d[12] > 1)   /* compression, filter, interlace */
    return FALSE;
  switch (colour) {
  case 0:
    return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
  case 3:
    return depth == 1 || depth == 2 || depth == 4 || depth == 8;
  case 2: case 4: case 6:
    return depth == 8 || depth == 16;
  default:
    return FALSE;
  }
}

gboolean
hw_image_check_png(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 head[8];
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, head, 8) || memcmp(head, signature, 8) != 0)
    return FALSE;

  guint64 pos = addr + 8;
  guint32 width = 0, height = 0;
  for (guint n = 0; n < MAX_CHUNKS; n++) {
    guint32 len, crc, want;
    guint8 type[4];
    if (!hw_cursor_u32be(&c, pos, &len) || !hw_cursor_read(&c, pos + 4, type, 4))
      return FALSE;
    if (len > 0x7fffffffu || pos - addr + 12 + (guint64)len > MAX_FILE || !is_chunk_type(type))
      return FALSE;
    gboolean ihdr = memcmp(type, "IHDR", 4) == 0;
    if ((n == 0) != ihdr)
      return FALSE;
    if (ihdr) {
      guint8 d[13];
      if (len != 13 || !hw_cursor_read(&c, pos + 8, d, 13) || !valid_ihdr(d, &width, &height))
        return FALSE;
    }
    if (!chunk_crc(&c, pos + 4, len, &crc) || !hw_cursor_u32be(&c, pos + 8 + len, &want) ||
        crc != want)
      return FALSE;
    pos += 12 + (guint64)len;
    if (memcmp(type, "IEND", 4) == 0) {
      if (len != 0)
        return FALSE;
      *out = (HwImage){ .kind = HW_IMAGE_PNG, .addr = addr, .size = pos - addr,
                        .width = width, .height = height, .confidence = 1.0 };
      return hw_decode_confirm(r, out);
    }
  }
  return FALSE;
}
