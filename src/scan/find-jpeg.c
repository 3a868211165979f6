/* JPEG finder: SOI, then marker segments with their lengths, a frame header (SOF)
 * with sane dimensions, entropy-coded scans (FF00 stuffing, RSTn), through EOI; then
 * libjpeg decodes it. */
#include <haywire/image.h>
#include "scan/cursor.h"
#include "scan/decode.h"

#include <string.h>

#define MAX_FILE HW_IMAGE_MAX_FILE
#define MAX_SEGMENTS 10000u

static gboolean
is_sof(guint m)
{
  return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Markers that may appear between segments (not RSTn, not reserved ones). */
static gboolean
is_segment_marker(guint m)
{
  return is_sof(m) || m == 0xc4 || m == 0xcc || m == 0xda || m == 0xdb || m == 0xdd ||
         m == 0xdc || m == 0xde || m == 0xdf || m == 0xfe || (m >= 0xe0 && m <= 0xef);
}

/* Skip entropy-coded data from POS; leaves *pos at the FF of the next marker. */
static gboolean
skip_scan(HwCursor *c, guint64 start, guint64 *pos)
{
  guint8 buf[HW_CURSOR_PAGE];
  guint64 p = *pos;
  while (p - start < MAX_FILE) {
    gsize n = HW_CURSOR_PAGE - (gsize)(p % HW_CURSOR_PAGE);
    if (!hw_cursor_read(c, p, buf, n))
      return FALSE;
    /* A whole page of zero bytes decodes, but no encoder writes one: it is a page the
     * file does not own (a copy torn across non-adjacent physical pages). */
    if (n == HW_CURSOR_PAGE && buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0)
      return FALSE;
    const guint8 *ff = memchr(buf, 0xff, n);
    if (ff == NULL) {
      p += n;
      continue;
    }
    p += (guint64)(ff - buf);
    int next = hw_cursor_byte(c, p + 1);
    if (next < 0)
      return FALSE;
    if (next == 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      p += 2;              /* stuffed byte, or a restart marker inside the scan */
      continue;
    }
    if (next == 0xff) {    /* fill byte before a marker */
      p += 1;
      continue;
    }
    *pos = p;
    return TRUE;
  }
  return FALSE;
}

gboolean
hw_image_check_jpeg(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 soi[3];
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, soi, 3) || soi[0] != 0xff || soi[1] != 0xd8 || soi[2] != 0xff)
    return FALSE;

  guint64 pos = addr + 2;
  guint32 width = 0, height = 0;
  gboolean have_scan = FALSE;
  for (guint n = 0; n < MAX_SEGMENTS && pos - addr < MAX_FILE; n++) {
    int ff = hw_cursor_byte(&c, pos), m = hw_cursor_byte(&c, pos + 1);
    if (ff != 0xff || m < 0)
      return FALSE;
    if (m == 0xff) {       /* fill byte */
      pos++;
      continue;
    }
    if (m == 0xd9) {       /* EOI */
      if (width == 0 || !have_scan)
        return FALSE;
      *out = (HwImage){ .kind = HW_IMAGE_JPEG, .addr = addr, .size = pos + 2 - addr,
                        .width = width, .height = height, .confidence = 1.0 };
      return hw_decode_confirm(r, out);
    }
    if (!is_segment_marker((guint)m))
      return FALSE;
    guint32 len;
    if (!hw_cursor_u16be(&c, pos + 2, &len) || len < 2)
      return FALSE;
    if (is_sof((guint)m)) {
      guint8 f[6];
      if (width != 0 || !hw_cursor_read(&c, pos + 4, f, 6))
        return FALSE;   /* one frame per file */
      height = (guint32)f[1] << 8 | f[2];
      width = (guint32)f[3] << 8 | f[4];
      if ((f[0] != 8 && f[0] != 12 && f[0] != 16) || width == 0 || height == 0 ||
          f[5] < 1 || f[5] > 4 || len != 8 + 3u * f[5])
        return FALSE;
    }
    pos += 2 + len;
    if (m == 0xda) {       /* SOS: header, then entropy-coded data */
      if (width == 0)
        return FALSE;
      if (!skip_scan(&c, addr, &pos))
        return FALSE;
      have_scan = TRUE;
    }
  }
  return FALSE;
}
