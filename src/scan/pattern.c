/* Byte patterns for the scan engine. */
#include <haywire/scan.h>
#include <haywire/error.h>

#include <string.h>

#define MAX_PATTERN 4096

void
hw_pattern_free(HwPattern *p)
{
  if (p == NULL)
    return;
  g_free(p->name);
  g_free(p->encoding);
  g_free(p->bytes);
  g_free(p);
}

static HwPattern *
pattern_new(const char *name, const char *encoding, const void *bytes, gsize len)
{
  HwPattern *p = g_new0(HwPattern, 1);
  p->name = g_strdup(name);
  p->encoding = g_strdup(encoding);
  p->bytes = g_memdup2(bytes, len);
  p->len = len;
  return p;
}

GPtrArray *
hw_pattern_list_for_string(const char *text, GError **error)
{
  gsize n = text ? strlen(text) : 0;
  if (n < 2 || n > MAX_PATTERN || !g_utf8_validate(text, -1, NULL)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "a search string must be valid UTF-8 of 2 to %d bytes", MAX_PATTERN);
    return NULL;
  }
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  g_ptr_array_add(list, pattern_new(text, "ascii", text, n));
  glong units = 0;
  g_autofree gunichar2 *utf16 = g_utf8_to_utf16(text, -1, NULL, &units, NULL);
  if (utf16 != NULL) {
    g_autofree guint8 *le = g_malloc((gsize)units * 2);
    for (glong i = 0; i < units; i++) {
      le[2 * i] = (guint8)(utf16[i] & 0xff);
      le[2 * i + 1] = (guint8)(utf16[i] >> 8);
    }
    g_ptr_array_add(list, pattern_new(text, "utf-16le", le, (gsize)units * 2));
  }
  return list;
}
