/* WebP finder: "RIFF", its size, "WEBP", then a VP8, VP8L or VP8X chunk whose own
 * header is right, every chunk inside the RIFF size up to its end; then libwebp. */
#include <haywire/image.h>
#include "scan/cursor.h"
#include "scan/decode.h"

#include <string.h>
#include "scan/byte-order.h"

#define MAX_FILE HW_IMAGE_MAX_FILE
#define MAX_CHUNKS 100000u

static gboolean
is_fourcc(const guint8 t[4])
{
  for (int i = 0; i < 4; i++)
    if (!g_ascii_isalnum(t[i]) && t[i] != ' ')
      return FALSE;
  return TRUE;
}

/* The first chunk (type T, SIZE bytes, data starting D) must be an image's. */
static gboolean
valid_first(const guint8 t[4], guint32 size, const guint8 d[10])
{
  if (memcmp(t, "VP8X", 4) == 0)
    return size == 10;
  if (memcmp(t, "VP8L", 4) == 0)
    return size >= 5 && d[0] == 0x2f;            /* the lossless signature byte */
  if (memcmp(t, "VP8 ", 4) == 0)                 /* a key frame and its start code */
    return size >= 10 && (d[0] & 1) == 0 && d[3] == 0x9d && d[4] == 0x01 && d[5] == 0x2a;
  return FALSE;
}

gboolean
hw_image_check_webp(const HwReader *r, guint64 addr, HwImage *out)
{
  HwCursor c;
  guint8 h[12 + 8 + 10];
  hw_cursor_init(&c, r);
  if (!hw_cursor_read(&c, addr, h, sizeof h) || memcmp(h, "RIFF", 4) != 0 ||
      memcmp(h + 8, "WEBP", 4) != 0)
    return FALSE;
  guint64 size = 8 + (guint64)hw_le32(h + 4);
  if (size < sizeof h || size > MAX_FILE || addr + (size - 1) < addr ||
      !valid_first(h + 12, hw_le32(h + 16), h + 20))
    return FALSE;

  /* Chunks: type, size, data padded to even; each step moves at least 8 bytes. */
  guint64 pos = 12;
  for (guint n = 0; n < MAX_CHUNKS && pos < size; n++) {
    guint8 ch[8];
    if (pos + 8 > size || !hw_cursor_read(&c, addr + pos, ch, 8) || !is_fourcc(ch))
      return FALSE;
    guint32 len = hw_le32(ch + 4);
    if ((guint64)len > size - pos - 8)
      return FALSE;
    pos += 8 + (guint64)len + (len & 1);
  }
  /* The last chunk's pad byte may be missing from the RIFF size. */
  if (pos != size && pos != size + 1)
    return FALSE;
  *out = (HwImage){ .kind = HW_IMAGE_WEBP, .addr = addr, .size = size, .confidence = 1.0 };
  return hw_decode_confirm(r, out);
}
