/* The kernel's vmcoreinfo: a page of "KEY=value" text (OSRELEASE, PAGESIZE,
 * SYMBOL(swapper_pg_dir), NUMBER(VA_BITS), ...) that Linux keeps in RAM for crash
 * tools. Where a recording lacks the registers that locate the page tables, it says
 * where they are without a profile. Guest-controlled text: bounded, and only values
 * with digits count (the image's format strings hold "%lx" there instead). */
#include "os/linux/linux-private.h"

#include <string.h>

#define NOTE_MAX 4096u      /* VMCOREINFO_BYTES: one page */
#define KEY "SYMBOL(swapper_pg_dir)="

typedef struct {
  char *text;
} Found;

/* The printable text around a key hit: back to the first non-text byte (at most a page),
 * forward to the next. */
static gboolean
note_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  Found *f = data;
  gsize n = sizeof KEY - 1;
  if (n >= avail || !g_ascii_isxdigit(p[n]))
    return FALSE;
  guint8 buf[2 * NOTE_MAX];
  guint64 from = gpa >= NOTE_MAX ? gpa - NOTE_MAX : 0;
  /* The page before may not be RAM: then start at the hit. */
  if (!hw_physmem_read(lx->mem, from, buf, NOTE_MAX, NULL))
    from = gpa;
  gsize before = (gsize)(gpa - from), len = before;
  if (before)
    hw_physmem_read(lx->mem, from, buf, before, NULL);
  gsize after = MIN(avail, (gsize)NOTE_MAX);
  memcpy(buf + before, p, after);
  len += after;
  gsize s = before, e = before;
  while (s > 0 && (g_ascii_isprint(buf[s - 1]) || buf[s - 1] == '\n'))
    s--;
  while (e < len && (g_ascii_isprint(buf[e]) || buf[e] == '\n'))
    e++;
  f->text = g_strndup((const char *)buf + s, e - s);
  return TRUE;
}

char *
hw_linux_find_vmcoreinfo(HwLinux *lx)
{
  Found f = { NULL };
  hw_linux_search_ram(lx, 0, G_MAXUINT64, KEY, sizeof KEY - 1, 1, note_hit, &f, NULL);
  return f.text;
}

gboolean
hw_linux_vmcoreinfo_number(const char *text, const char *key, guint64 *out)
{
  gsize klen = strlen(key);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, klen) != 0 || line[klen] != '=')
      continue;
    const char *v = line + klen + 1;
    gboolean hex = g_str_has_prefix(key, "SYMBOL(") || g_str_has_prefix(v, "0x");
    if (g_str_has_prefix(v, "0x"))
      v += 2;
    gsize n = strspn(v, hex ? "0123456789abcdefABCDEF" : "0123456789");
    if (n == 0 || n > 16 || (v[n] != '\n' && v[n] != '\0'))
      return FALSE;
    g_autofree char *digits = g_strndup(v, n);
    return g_ascii_string_to_unsigned(digits, hex ? 16 : 10, 0, G_MAXUINT64, out, NULL);
  }
  return FALSE;
}
