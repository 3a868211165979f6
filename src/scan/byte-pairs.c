/* Two-byte sequences found 16 bytes at a time (GCC/Clang vector extensions: SSE2 or
 * NEON, else plain code). One pass for every image signature costs less than a memchr
 * per signature: single anchor bytes such as 0x89 (an x86 mov) or 'M' (a REX prefix)
 * are everywhere in code, their pairs rarely. */
#include "scan/byte-pairs.h"

#include <string.h>

typedef unsigned char V16 __attribute__((vector_size(16)));
typedef guint64 V2 __attribute__((vector_size(16)));

static inline gboolean
is_pair(const guint8 *p, const guint8 (*pairs)[2], guint n)
{
  for (guint k = 0; k < n; k++)
    if (p[0] == pairs[k][0] && p[1] == pairs[k][1])
      return TRUE;
  return FALSE;
}

void
hw_find_byte_pairs(const guint8 *buf, gsize starts, gsize avail, const guint8 (*pairs)[2],
                   guint n_pairs, GArray *out, guint max)
{
  V16 first[HW_BYTE_PAIRS_MAX], second[HW_BYTE_PAIRS_MAX];
  n_pairs = MIN(n_pairs, HW_BYTE_PAIRS_MAX);
  starts = MIN(starts, avail);
  if (n_pairs == 0)
    return;
  /* Always HW_BYTE_PAIRS_MAX pairs, the unused ones repeating the first, so that the
   * loop over them unrolls and the pairs stay in registers. */
  for (guint k = 0; k < HW_BYTE_PAIRS_MAX; k++) {
    first[k] = (V16){ 0 } + pairs[k < n_pairs ? k : 0][0];
    second[k] = (V16){ 0 } + pairs[k < n_pairs ? k : 0][1];
  }
  gsize i = 0;
  /* Blocks whose 16 starts and the byte after them are readable. */
  for (; i + 16 <= starts && i + 17 <= avail && out->len < max; i += 16) {
    V16 v, w, m = { 0 };
    memcpy(&v, buf + i, 16);
    memcpy(&w, buf + i + 1, 16);
#pragma GCC unroll 8
    for (guint k = 0; k < HW_BYTE_PAIRS_MAX; k++)
      m |= (V16)(v == first[k]) & (V16)(w == second[k]);
    V2 halves = (V2)m;
    if ((halves[0] | halves[1]) == 0)
      continue;
    for (guint b = 0; b < 16 && out->len < max; b++)
      if (m[b]) {
        gsize off = i + b;
        g_array_append_val(out, off);
      }
  }
  for (; i < starts && i + 1 < avail && out->len < max; i++)
    if (is_pair(buf + i, pairs, n_pairs))
      g_array_append_val(out, i);
}
