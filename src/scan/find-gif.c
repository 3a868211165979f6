/* GIF finder: header, logical screen, colour tables, then every block (extensions,
 * images inside the screen, data sub-blocks) through the trailer. */
#include <haywire/image.h>
#include "scan/cursor.h"

#include <string.h>

#define MAX_FILE (256u << 20)
#define MAX_BLOCKS 65536u

/* Skip data sub-blocks from *POS (length byte, data, ..., zero). */
static gboolean
skip_sub_blocks(HwCursor *c, guint64 start, guint64 *pos)
{
  for (guint n = 0; *pos - start < MAX_FILE && n < MAX_FILE / 256; n++) {
    int len = hw_cursor_byte(c, *pos);
    if (len < 0)
      return FALSE;
    *pos += 1 + (guint)len;
    if (len == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
hw_image_check_gif(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 h[13];
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, h, sizeof h) || memcmp(h, "GIF8", 4) != 0 ||
      (h[4] != '7' && h[4] != '9') || h[5] != 'a')
    return FALSE;
  guint32 width = h[6] | (guint32)h[7] << 8, height = h[8] | (guint32)h[9] << 8;
  if (width == 0 || height == 0)
    return FALSE;
  guint64 pos = addr + sizeof h;
  if (h[10] & 0x80)
    pos += 3u << ((h[10] & 7) + 1);   /* global colour table */

  guint images = 0;
  for (guint n = 0; n < MAX_BLOCKS && pos - addr < MAX_FILE; n++) {
    int kind = hw_cursor_byte(&c, pos);
    if (kind == 0x3b) {                /* trailer */
      if (images == 0)
        return FALSE;
      *out = (HwImage){ .kind = HW_IMAGE_GIF, .addr = addr, .size = pos + 1 - addr,
                        .width = width, .height = height, .confidence = 1.0 };
      return TRUE;
    }
    if (kind == 0x21) {                /* extension: label, then sub-blocks */
      if (hw_cursor_byte(&c, pos + 1) < 0)
        return FALSE;
      pos += 2;
    } else if (kind == 0x2c) {         /* image descriptor */
      guint8 d[10];
      if (!hw_cursor_read(&c, pos, d, sizeof d))
        return FALSE;
      guint32 left = d[1] | (guint32)d[2] << 8, top = d[3] | (guint32)d[4] << 8;
      guint32 w = d[5] | (guint32)d[6] << 8, hh = d[7] | (guint32)d[8] << 8;
      if (w == 0 || hh == 0 || left + w > width || top + hh > height)
        return FALSE;
      pos += sizeof d;
      if (d[9] & 0x80)
        pos += 3u << ((d[9] & 7) + 1);  /* local colour table */
      int lzw = hw_cursor_byte(&c, pos);
      if (lzw < 2 || lzw > 8)
        return FALSE;
      pos++;
      images++;
    } else {
      return FALSE;
    }
    if (!skip_sub_blocks(&c, addr, &pos))
      return FALSE;
  }
  return FALSE;
}
