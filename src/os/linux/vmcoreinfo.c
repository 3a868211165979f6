/* The kernel's vmcoreinfo: a page of "KEY=value" text (OSRELEASE, PAGESIZE,
 * SYMBOL(swapper_pg_dir), NUMBER(VA_BITS), ...) that Linux keeps in RAM for crash
 * tools. Where a recording lacks the registers that locate the page tables, it says
 * where they are without a profile. Guest-controlled text: bounded, only values with
 * digits count (the image's format strings hold "%lx" there instead), and a process
 * can plant look-alikes, so every candidate is returned for the caller to check. */
#include "os/linux/linux-private.h"

#include <string.h>

#define NOTE_MAX 65536u     /* VMCOREINFO_BYTES: one page, 64 KiB at most */
#define MAX_CANDIDATES 16u
#define KEY "OSRELEASE="

/* The kernel's copy starts a zeroed page of its own (vmcoreinfo_data) with OSRELEASE:
 * only such page starts count, and the text ends at the first byte that is not text. */
static gboolean
note_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  GPtrArray *found = data;
  gsize n = 0, max = MIN(avail, (gsize)NOTE_MAX);
  while (n < max && (g_ascii_isprint(p[n]) || p[n] == '\n'))
    n++;
  if (n > sizeof KEY && p[sizeof KEY - 1] != '%')   /* not the image's format string */
    g_ptr_array_add(found, g_strndup((const char *)p, n));
  return found->len >= MAX_CANDIDATES;
}

GPtrArray *
hw_linux_find_vmcoreinfo(HwLinux *lx)
{
  GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
  hw_linux_search_ram(lx, 0, G_MAXUINT64, KEY, sizeof KEY - 1, 4096, note_hit, found, NULL);
  return found;
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
