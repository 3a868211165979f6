/* GIF finder: header, logical screen, colour tables, then every block (extensions,
 * images inside the screen, data sub-blocks) through the trailer; then giflib decodes
 * it. */
#include <haywire/image.h>
#include "scan/cursor.h"
#include "scan/decode.h"

#include <string.h>
#include "scan/byte-order.h"

#define MAX_FILE HW_IMAGE_MAX_FILE
#define MAX_BLOCKS 65536u      /* image descriptors and extensions, trailer not counted */

/* The byte at offset OFF of the file at ADDR; -1 if unreadable, past the size cap, or
 * if ADDR + OFF wraps (offsets stay relative so a file near the top of a 64-bit
 * address space cannot continue at address 0). */
static int
byte_at(HwCursor *c, guint64 addr, guint64 off)
{
  if (off >= MAX_FILE || addr + off < addr)
    return -1;
  return hw_cursor_byte(c, addr + off);
}

static gboolean
read_at(HwCursor *c, guint64 addr, guint64 off, void *dst, gsize len)
{
  if (off + len > MAX_FILE || addr + off < addr)
    return FALSE;
  return hw_cursor_read(c, addr + off, dst, len);
}

/* Bytes of the colour table announced by PACKED (global or local): 3 * 2^(n+1). */
static guint32
colour_table_size(guint8 packed)
{
  return packed & 0x80 ? 3u << ((packed & 7) + 1) : 0;
}

/* Skip data sub-blocks at *OFF: length byte, data, ..., zero length. */
static gboolean
skip_sub_blocks(HwCursor *c, guint64 addr, guint64 *off)
{
  /* Each step moves at least one byte and byte_at stops at MAX_FILE. */
  for (guint32 n = 0; n < MAX_FILE; n++) {
    int len = byte_at(c, addr, *off);
    if (len < 0)
      return FALSE;
    *off += 1 + (guint)len;
    if (len == 0)
      return TRUE;
  }
  return FALSE;
}

/* The image descriptor at *OFF (0x2c, left, top, width, height, packed), its local
 * colour table and LZW code size; leaves *OFF at its first data sub-block. */
static gboolean
skip_image_header(HwCursor *c, guint64 addr, guint64 *off, guint32 width, guint32 height)
{
  guint8 d[10];
  if (!read_at(c, addr, *off, d, sizeof d))
    return FALSE;
  guint32 left = hw_le16(d + 1), top = hw_le16(d + 3), w = hw_le16(d + 5), h = hw_le16(d + 7);
  if (w == 0 || h == 0 || left + w > width || top + h > height)
    return FALSE;
  *off += sizeof d + colour_table_size(d[9]);
  int lzw = byte_at(c, addr, *off);
  if (lzw < 2 || lzw > 8)
    return FALSE;
  *off += 1;
  return TRUE;
}

gboolean
hw_image_check_gif(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 h[13];
  hw_cursor_init(&c, r);
  if (!read_at(&c, addr, 0, h, sizeof h) ||
      (memcmp(h, "GIF87a", 6) != 0 && memcmp(h, "GIF89a", 6) != 0))
    return FALSE;
  guint32 width = hw_le16(h + 6), height = hw_le16(h + 8);
  if (width == 0 || height == 0)
    return FALSE;
  guint64 off = sizeof h + colour_table_size(h[10]);

  guint images = 0;
  for (guint32 blocks = 0; blocks <= MAX_BLOCKS; blocks++) {
    switch (byte_at(&c, addr, off)) {
    case 0x3b:                          /* trailer */
      if (images == 0)
        return FALSE;
      *out = (HwImage){ .kind = HW_IMAGE_GIF, .addr = addr, .size = off + 1,
                        .width = width, .height = height, .confidence = 1.0 };
      return hw_decode_confirm(r, out);
    case 0x21:                          /* extension: label, then sub-blocks */
      if (blocks == MAX_BLOCKS || byte_at(&c, addr, off + 1) < 0)
        return FALSE;
      off += 2;
      break;
    case 0x2c:
      if (blocks == MAX_BLOCKS || !skip_image_header(&c, addr, &off, width, height))
        return FALSE;
      images++;
      break;
    default:
      return FALSE;
    }
    if (!skip_sub_blocks(&c, addr, &off))
      return FALSE;
  }
  return FALSE;
}
