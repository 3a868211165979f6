/* Little-endian integers read from bytes that may be unaligned: guest memory, files,
 * what a peer sent. memcpy, so no alignment is assumed and sanitizers stay quiet. */
#pragma once

#include <glib.h>
#include <string.h>

static inline guint16
hw_le16(const guint8 *p)
{
  guint16 v;
  memcpy(&v, p, sizeof v);
  return GUINT16_FROM_LE(v);
}

static inline guint32
hw_le32(const guint8 *p)
{
  guint32 v;
  memcpy(&v, p, sizeof v);
  return GUINT32_FROM_LE(v);
}

static inline guint64
hw_le64(const guint8 *p)
{
  guint64 v;
  memcpy(&v, p, sizeof v);
  return GUINT64_FROM_LE(v);
}
