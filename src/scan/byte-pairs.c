/* Two-byte sequences found 16 bytes at a time (GCC/Clang vector extensions: SSE2 or
 * NEON, else plain code). One pass for every image signature costs less than a memchr
 * per signature: single anchor bytes such as 0x89 (an x86 mov) or 'M' (a REX prefix)
 * are everywhere in code, their pairs rarely. */
#include "scan/byte-pairs.h"
#include "scan/cpu.h"

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

/* Offsets of the pair bytes set in the W-byte mask M (block at I) appended to OUT. */
static inline void
append_marked(const guint8 *m, guint w, gsize i, GArray *out, guint max)
{
  for (guint b = 0; b < w && out->len < max; b++)
    if (m[b]) {
      gsize off = i + b;
      g_array_append_val(out, off);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 32 bytes at a time where the CPU has AVX2 (chosen at run time: the build is for any
 * x86-64). The same test as the 16-byte loop below. */
typedef unsigned char V32 __attribute__((vector_size(32)));
typedef guint64 V4 __attribute__((vector_size(32)));

__attribute__((target("avx2"))) static gsize
pairs_avx2(const guint8 *buf, gsize starts, gsize avail, const guint8 (*pairs)[2], guint n_pairs,
           GArray *out, guint max)
{
  V32 first[HW_BYTE_PAIRS_MAX], second[HW_BYTE_PAIRS_MAX];
  for (guint k = 0; k < HW_BYTE_PAIRS_MAX; k++) {
    first[k] = (V32){ 0 } + pairs[k < n_pairs ? k : 0][0];
    second[k] = (V32){ 0 } + pairs[k < n_pairs ? k : 0][1];
  }
  gsize i = 0;
  for (; i + 32 <= starts && i + 33 <= avail && out->len < max; i += 32) {
    V32 v, w, m = { 0 };
    memcpy(&v, buf + i, 32);
    memcpy(&w, buf + i + 1, 32);
#pragma GCC unroll 8
    for (guint k = 0; k < HW_BYTE_PAIRS_MAX; k++)
      m |= (V32)(v == first[k]) & (V32)(w == second[k]);
    V4 q = (V4)m;
    if ((q[0] | q[1] | q[2] | q[3]) == 0)
      continue;
    guint8 bytes[32];
    memcpy(bytes, &m, 32);
    append_marked(bytes, 32, i, out, max);
  }
  return i;
}

#endif

void
hw_find_byte_pairs(const guint8 *buf, gsize starts, gsize avail, const guint8 (*pairs)[2],
                   guint n_pairs, GArray *out, guint max)
{
  V16 first[HW_BYTE_PAIRS_MAX], second[HW_BYTE_PAIRS_MAX];
  n_pairs = MIN(n_pairs, HW_BYTE_PAIRS_MAX);
  starts = MIN(starts, avail);
  if (n_pairs == 0)
    return;
  gsize i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (hw_cpu_has_avx2())
    i = pairs_avx2(buf, starts, avail, pairs, n_pairs, out, max);
#endif
  /* Always HW_BYTE_PAIRS_MAX pairs, the unused ones repeating the first, so that the
   * loop over them unrolls and the pairs stay in registers. */
  for (guint k = 0; k < HW_BYTE_PAIRS_MAX; k++) {
    first[k] = (V16){ 0 } + pairs[k < n_pairs ? k : 0][0];
    second[k] = (V16){ 0 } + pairs[k < n_pairs ? k : 0][1];
  }
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
    guint8 bytes[16];
    memcpy(bytes, &m, 16);
    append_marked(bytes, 16, i, out, max);
  }
  for (; i < starts && i + 1 < avail && out->len < max; i++)
    if (is_pair(buf + i, pairs, n_pairs))
      g_array_append_val(out, i);
}
