/* Numbers as the command line and the viewer's requests give them (see parse-number.h). */
#include "cli/parse-number.h"

#include <errno.h>
#include <string.h>

gboolean
hw_cli_parse_u64(const char *text, gboolean allow_suffix, guint64 *out, GError **error)
{
  const char *s = text;
  int base = 10;
  guint64 mult = 1;
  g_autofree char *body = NULL;

  if (text == NULL || *text == '\0')
    goto bad;
  if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X")) {
    base = 16;
    s += 2;
  }
  body = g_strdup(s);
  gsize n = strlen(body);
  if (allow_suffix && n > 0 && base == 10 && strchr("kKmMgG", body[n - 1])) {
    char c = g_ascii_toupper(body[n - 1]);
    mult = c == 'K' ? 1024ull : c == 'M' ? 1024ull * 1024 : 1024ull * 1024 * 1024;
    body[--n] = '\0';
  }
  if (n == 0 || n > 20)
    goto bad;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isxdigit(body[i]))
      goto bad;
    if (!g_ascii_isdigit(body[i]))
      base = 16;   /* bare hex such as ffffffff81000000 */
  }
  if (base == 16 && mult != 1)
    goto bad;
  errno = 0;
  char *end = NULL;
  guint64 v = g_ascii_strtoull(body, &end, base);
  if (errno != 0 || *end != '\0' || (mult > 1 && v > G_MAXUINT64 / mult))
    goto bad;
  *out = v * mult;
  return TRUE;
bad:
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "'%s' is not a valid %s", text,
              allow_suffix ? "length" : "address");
  return FALSE;
}
