/* A reader (HwReader) over a byte buffer, for tests that feed finders and decoders
 * synthetic files. */
#pragma once

#include <haywire/image.h>
#include <string.h>

typedef struct {
  const guint8 *data;
  gsize len;
} Buf;

/* HwReadFunc over the Buf at CTX: FALSE for any byte outside it. */
static inline gboolean
buf_read(gpointer ctx, guint64 addr, void *out, gsize len)
{
  const Buf *b = ctx;
  if (addr > b->len || len > b->len - addr)
    return FALSE;
  memcpy(out, b->data + addr, len);
  return TRUE;
}
