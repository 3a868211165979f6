/* Patterns for the scan engine: strings in two encodings, hex bytes with wildcards,
 * regular expressions over runs of text; and the byte matcher they share. */
#include <haywire/scan.h>
#include <haywire/error.h>

#include <string.h>

#define MAX_PATTERN 4096
#define MAX_REGEX 4096     /* bytes of the expression itself */

void
hw_pattern_free(HwPattern *p)
{
  if (p == NULL)
    return;
  g_free(p->name);
  g_free(p->encoding);
  g_free(p->bytes);
  g_free(p->mask);
  if (p->regex)
    g_regex_unref(p->regex);
  g_free(p);
}

static gboolean
byte_matters(const HwPattern *p, gsize i)
{
  return p->mask == NULL || (p->mask[i / 8] >> (i % 8) & 1) != 0;
}

/* How common byte B is in guest RAM, roughly (lower is rarer): zeros fill memory,
 * 0xff fills kernel pointers and erased data, and small integers, ASCII spaces and
 * the commonest x86 opcodes follow. */
static guint
byte_cost(guint8 b)
{
  static const guint8 common[] = { 0x20, 0x30, 0x40, 0x48, 0x65, 0x74, 0x7f, 0x80,
                                   0x89, 0x8b, 0xc0, 0xcc, 0xe8, 0xfe };
  if (b == 0x00)
    return 3;
  if (b == 0xff)
    return 2;
  if (b < 0x10 || memchr(common, b, sizeof common) != NULL)
    return 1;
  return 0;
}

/* The index of P's rarest byte that matters, the first of equals. */
static gsize
choose_anchor(const HwPattern *p)
{
  gsize best = p->len;
  for (gsize i = 0; i < p->len; i++)
    if (byte_matters(p, i) &&
        (best == p->len || byte_cost(p->bytes[i]) < byte_cost(p->bytes[best])))
      best = i;
  return best;
}

static HwPattern *
pattern_new(HwPatternKind kind, const char *name, const char *encoding, const void *bytes,
            gsize len, guint8 *mask)
{
  HwPattern *p = g_new0(HwPattern, 1);
  p->kind = kind;
  p->name = g_strdup(name);
  p->encoding = g_strdup(encoding);
  p->bytes = g_memdup2(bytes, len);
  p->len = len;
  p->mask = mask;
  p->anchor = choose_anchor(p);
  return p;
}

gboolean
hw_pattern_matches(const HwPattern *p, const guint8 *buf, gsize avail)
{
  if (p->kind == HW_PATTERN_REGEX || avail < p->len)
    return FALSE;
  if (p->mask == NULL)
    return memcmp(buf, p->bytes, p->len) == 0;
  for (gsize i = 0; i < p->len; i++)
    if (byte_matters(p, i) && buf[i] != p->bytes[i])
      return FALSE;
  return TRUE;
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
  g_ptr_array_add(list, pattern_new(HW_PATTERN_STRING, text, "ascii", text, n, NULL));
  glong units = 0;
  g_autofree gunichar2 *utf16 = g_utf8_to_utf16(text, -1, NULL, &units, NULL);
  if (utf16 != NULL) {
    g_autofree guint8 *le = g_malloc((gsize)units * 2);
    for (glong i = 0; i < units; i++) {
      le[2 * i] = (guint8)(utf16[i] & 0xff);
      le[2 * i + 1] = (guint8)(utf16[i] >> 8);
    }
    g_ptr_array_add(list, pattern_new(HW_PATTERN_STRING, text, "utf-16le", le,
                                      (gsize)units * 2, NULL));
  }
  return list;
}

static gboolean
hex_fail(GError **error, const char *what, gsize at)
{
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad hex pattern: %s at character %"
              G_GSIZE_FORMAT, what, at + 1);
  return FALSE;
}

/* Parse TEXT's byte pairs and "??" into BYTES (wildcards as 0) and WILD (1 per "??"). */
static gboolean
hex_parse(const char *text, GByteArray *bytes, GByteArray *wild, GError **error)
{
  for (gsize i = 0; text[i] != '\0';) {
    if (g_ascii_isspace(text[i])) {
      i++;
      continue;
    }
    if (bytes->len == MAX_PATTERN)
      return hex_fail(error, "more than 4096 bytes", i);
    guint8 b = 0, w = 0;
    if (text[i] == '?' && text[i + 1] == '?') {
      w = 1;
    } else if (g_ascii_isxdigit(text[i]) && g_ascii_isxdigit(text[i + 1])) {
      b = (guint8)(g_ascii_xdigit_value(text[i]) << 4 | g_ascii_xdigit_value(text[i + 1]));
    } else if (g_ascii_isxdigit(text[i]) || text[i] == '?') {
      /* One digit alone (a space or the end after it), or "?x" */
      gboolean lone = text[i + 1] == '\0' || g_ascii_isspace(text[i + 1]);
      return hex_fail(error, lone ? "a byte needs two hex digits (or ?\?)"
                                  : "a byte is two hex digits or ??", i);
    } else {
      return hex_fail(error, "not a hex digit, ?? or space", i);
    }
    g_byte_array_append(bytes, &b, 1);
    g_byte_array_append(wild, &w, 1);
    i += 2;
  }
  return TRUE;
}

HwPattern *
hw_pattern_new_hex(const char *text, GError **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new(), wild = g_byte_array_new();
  if (text == NULL || !hex_parse(text, bytes, wild, error))
    return NULL;
  gsize n = bytes->len, n_wild = 0;
  for (gsize i = 0; i < n; i++)
    n_wild += wild->data[i];
  if (n == 0 || n_wild == n) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad hex pattern: %s",
                n == 0 ? "no bytes" : "only wildcards (at least one byte must be given)");
    return NULL;
  }
  /* The name is the pattern written out evenly: "89 50 4e 47 ??". */
  g_autoptr(GString) name = g_string_new(NULL);
  g_autofree guint8 *mask = n_wild ? g_malloc0((n + 7) / 8) : NULL;
  for (gsize i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c(name, ' ');
    if (wild->data[i])
      g_string_append(name, "??");
    else
      g_string_append_printf(name, "%02x", bytes->data[i]);
    if (mask && !wild->data[i])
      mask[i / 8] |= (guint8)(1u << (i % 8));
  }
  return pattern_new(HW_PATTERN_HEX, name->str, "hex", bytes->data, n,
                     g_steal_pointer(&mask));
}

HwPattern *
hw_pattern_new_regex(const char *expr, gboolean ignore_case, GError **error)
{
  gsize n = expr ? strlen(expr) : 0;
  if (n == 0 || n > MAX_REGEX) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "a regular expression must have 1 to %d bytes", MAX_REGEX);
    return NULL;
  }
  GError *re_error = NULL;
  GRegexCompileFlags flags = G_REGEX_OPTIMIZE | (ignore_case ? G_REGEX_CASELESS : 0);
  GRegex *re = g_regex_new(expr, flags, G_REGEX_MATCH_DEFAULT, &re_error);
  if (re == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad regular expression: %s",
                re_error->message);
    g_error_free(re_error);
    return NULL;
  }
  HwPattern *p = g_new0(HwPattern, 1);
  p->kind = HW_PATTERN_REGEX;
  p->name = g_strdup(expr);
  p->regex = re;
  return p;
}
