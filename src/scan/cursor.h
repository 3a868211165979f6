/* A page-sized read window over a HwReader, for finders that walk a file byte by
 * byte through an address space that may be physically scattered. */
#pragma once

#include <haywire/image.h>

#define HW_CURSOR_PAGE 4096u

typedef struct {
  const HwReader *r;
  guint64 base;                 /* address of buf[0]; G_MAXUINT64 when empty */
  guint8 buf[HW_CURSOR_PAGE];
} HwCursor;

/* Start a cursor over R. */
void hw_cursor_init(HwCursor *c, const HwReader *r);
/* The byte at ADDR, or -1 if it cannot be read. */
int hw_cursor_byte(HwCursor *c, guint64 addr);
/* Copy LEN bytes at ADDR to DST; FALSE if any cannot be read or ADDR + LEN wraps. */
gboolean hw_cursor_read(HwCursor *c, guint64 addr, void *dst, gsize len);
/* Little- and big-endian integers at ADDR; FALSE if unreadable. */
gboolean hw_cursor_u16le(HwCursor *c, guint64 addr, guint32 *v);
gboolean hw_cursor_u32le(HwCursor *c, guint64 addr, guint32 *v);
gboolean hw_cursor_u16be(HwCursor *c, guint64 addr, guint32 *v);
gboolean hw_cursor_u32be(HwCursor *c, guint64 addr, guint32 *v);
