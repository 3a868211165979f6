/* Page-window reads for the finders: one reader call per page touched. */
#include "scan/cursor.h"
#include "scan/byte-order.h"

#include <string.h>

void
hw_cursor_init(HwCursor *c, const HwReader *r)
{
  c->r = r;
  c->base = G_MAXUINT64;
}

static gboolean
load(HwCursor *c, guint64 page)
{
  if (c->base == page)
    return TRUE;
  c->base = G_MAXUINT64;
  if (!hw_reader_read(c->r, page, c->buf, HW_CURSOR_PAGE))
    return FALSE;
  c->base = page;
  return TRUE;
}

int
hw_cursor_byte(HwCursor *c, guint64 addr)
{
  guint64 page = addr & ~(guint64)(HW_CURSOR_PAGE - 1);
  if (!load(c, page))
    return -1;
  return c->buf[addr - page];
}

gboolean
hw_cursor_read(HwCursor *c, guint64 addr, void *dst, gsize len)
{
  guint8 *out = dst;
  if (addr + len < addr)
    return FALSE;
  while (len > 0) {
    guint64 page = addr & ~(guint64)(HW_CURSOR_PAGE - 1);
    if (!load(c, page))
      return FALSE;
    gsize off = (gsize)(addr - page), n = MIN(len, HW_CURSOR_PAGE - off);
    memcpy(out, c->buf + off, n);
    out += n;
    addr += n;
    len -= n;
  }
  return TRUE;
}

gboolean
hw_cursor_u16le(HwCursor *c, guint64 addr, guint32 *v)
{
  guint8 b[2];
  if (!hw_cursor_read(c, addr, b, 2))
    return FALSE;
  *v = b[0] | (guint32)b[1] << 8;
  return TRUE;
}

gboolean
hw_cursor_u32le(HwCursor *c, guint64 addr, guint32 *v)
{
  guint8 b[4];
  if (!hw_cursor_read(c, addr, b, 4))
    return FALSE;
  *v = hw_le32(b);
  return TRUE;
}

gboolean
hw_cursor_u16be(HwCursor *c, guint64 addr, guint32 *v)
{
  guint8 b[2];
  if (!hw_cursor_read(c, addr, b, 2))
    return FALSE;
  *v = (guint32)b[0] << 8 | b[1];
  return TRUE;
}

gboolean
hw_cursor_u32be(HwCursor *c, guint64 addr, guint32 *v)
{
  guint8 b[4];
  if (!hw_cursor_read(c, addr, b, 4))
    return FALSE;
  *v = hw_be32(b);
  return TRUE;
}
