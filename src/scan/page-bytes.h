/* What the passes over RAM share about one 4 KiB page of the mapping, private to scan. */
#pragma once

#include <haywire/physmem.h>

/* Whether the HW_PAGE_SIZE bytes at P (8-byte aligned) are all zero. */
static inline gboolean
hw_page_is_zero(const guint8 *p)
{
  const guint64 *w = (const guint64 *)(const void *)p;
  guint64 acc = w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
  if (acc != 0)
    return FALSE;   /* most data pages: decided by the first cache line */
  for (guint i = 8; i < HW_PAGE_SIZE / 8; i += 8)
    acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
  return acc == 0;
}
