/* Regex patterns over runs of text: GRegex (PCRE2) on each run, a hit per match. */
#include "scan/text-match.h"

#include <string.h>

gboolean
hw_text_match_wanted(GPtrArray *patterns)
{
  for (guint k = 0; patterns && k < patterns->len; k++)
    if (((const HwPattern *)g_ptr_array_index(patterns, k))->kind == HW_PATTERN_REGEX)
      return TRUE;
  return FALSE;
}

gboolean
hw_text_match_keep(HwTextMatch *m, gsize n)
{
  if (__atomic_sub_fetch(&m->keep, (gint64)n, __ATOMIC_RELAXED) >= 0)
    return TRUE;
  g_atomic_int_set(&m->missed, 1);
  return FALSE;
}

static void
add_match(HwTextMatch *m, guint k, const char *text, gint from, gint to, guint64 addr,
          gboolean utf16, GArray *out)
{
  gsize n = (gsize)(to - from);
  if (out->len >= m->max_hits) {
    g_atomic_int_set(&m->missed, 1);
    return;
  }
  if (!hw_text_match_keep(m, n + 1))
    return;
  guint64 at = addr + (guint64)from * (utf16 ? 2 : 1);
  HwScanHit h = { .kind = HW_HIT_REGEX, .pattern = k, .len = n * (utf16 ? 2 : 1),
                  .encoding = utf16 ? "utf-16le" : "ascii", .text = g_strndup(text + from, n) };
  if (m->virt)
    h.va = at;
  else
    h.gpa = at;
  g_array_append_val(out, h);
}

void
hw_text_match_run(HwTextMatch *m, const char *text, gsize n, guint64 addr, gboolean utf16,
                  GArray *out)
{
  for (guint k = 0; k < m->patterns->len; k++) {
    const HwPattern *p = g_ptr_array_index(m->patterns, k);
    if (p->kind != HW_PATTERN_REGEX)
      continue;
    GMatchInfo *info = NULL;
    GError *error = NULL;
    /* Empty matches say nothing about memory (and "x*" has one at every byte). */
    g_regex_match_full(p->regex, text, (gssize)n, 0, G_REGEX_MATCH_NOTEMPTY, &info, &error);
    while (error == NULL && g_match_info_matches(info)) {
      gint from = 0, to = 0;
      if (g_match_info_fetch_pos(info, 0, &from, &to) && to > from)
        add_match(m, k, text, from, to, addr, utf16, out);
      g_match_info_next(info, &error);
    }
    if (error != NULL) {
      g_atomic_int_set(&m->missed, 1);   /* PCRE2's match or depth limit */
      g_error_free(error);
    }
    g_match_info_free(info);
  }
}
