/* Little- and big-endian integers in a byte buffer, for the finders and decoders (private
 * to scan). */
#pragma once

#include <glib.h>

/* The 16-bit little-endian value at P. */
static inline guint32
hw_le16(const guint8 *p)
{
  return p[0] | (guint32)p[1] << 8;
}

/* The 32-bit little-endian value at P. */
static inline guint32
hw_le32(const guint8 *p)
{
  return hw_le16(p) | hw_le16(p + 2) << 16;
}

/* The 32-bit big-endian value at P (PNG's chunk lengths and sizes). */
static inline guint32
hw_be32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}
