/* The guest-physical to file-offset map, read from QEMU's `info mtree -f`.
 *
 * In the flat view every alias is resolved: a line names the backing region and,
 * after '@', the offset inside it, which for a memory backend is the file offset:
 *   0000000100000000-000000017fffffff (prio 0, ram): ram0 @0000000080000000
 */
#include <haywire/physmem.h>
#include <haywire/error.h>

#include <stdlib.h>
#include <string.h>

#define MAX_MTREE_LINES 200000

static gboolean
parse_hex(const char *s, const char **end, guint64 *out)
{
  char *e = NULL;
  if (!g_ascii_isxdigit(*s))
    return FALSE;
  guint64 v = g_ascii_strtoull(s, &e, 16);
  if (e == s || e - s > 16)
    return FALSE;
  *out = v;
  *end = e;
  return TRUE;
}

/* Parse one flat-view line; FALSE when it is not a range line of REGION. */
static gboolean
parse_range_line(const char *line, const char *region, HwRamRange *out)
{
  const char *p = line, *e;
  guint64 start, last, off = 0;

  while (*p == ' ')
    p++;
  if (!parse_hex(p, &e, &start) || *e != '-')
    return FALSE;
  if (!parse_hex(e + 1, &e, &last) || last < start)
    return FALSE;
  const char *attrs = strstr(e, " (");
  const char *colon = attrs ? strstr(attrs, "): ") : NULL;
  if (colon == NULL)
    return FALSE;
  /* Only RAM-like ranges: "ram", "rom" (PAM shadows of the same RAM), "romd". */
  g_autofree char *attr = g_strndup(attrs + 2, colon - attrs - 2);
  const char *type = strrchr(attr, ' ');
  type = type ? type + 1 : attr;
  if (strcmp(type, "ram") != 0 && strcmp(type, "rom") != 0 && strcmp(type, "romd") != 0)
    return FALSE;
  const char *name = colon + 3;
  gsize name_len = strcspn(name, " \t");
  if (name_len != strlen(region) || strncmp(name, region, name_len) != 0)
    return FALSE;
  const char *at = name + name_len;
  while (*at == ' ')
    at++;
  if (*at == '@' && !parse_hex(at + 1, &e, &off))
    return FALSE;
  /* Both ends (address and file offset) must be representable: no wrap through 2^64. */
  if (last == G_MAXUINT64 || off > G_MAXUINT64 - (last - start + 1))
    return FALSE;
  out->gpa = start;
  out->size = last - start + 1;
  out->file_offset = off;
  return TRUE;
}

GArray *
hw_ram_map_parse_mtree(const char *mtree_text, const char *region, GError **error)
{
  g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(HwRamRange));
  gboolean in_memory_view = FALSE, saw_memory_view = FALSE;

  /* Line by line, without splitting the whole text first (g_strsplit with a limit sizes
   * its array for the limit: megabytes for every call). */
  const char *next = mtree_text;
  for (guint i = 0; next != NULL && *next != '\0' && i < MAX_MTREE_LINES; i++) {
    const char *nl = strchr(next, '\n');
    g_autofree char *copy = nl ? g_strndup(next, (gsize)(nl - next)) : g_strdup(next);
    next = nl ? nl + 1 : NULL;
    const char *line = g_strchomp(copy);  /* HMP text ends lines with \r\n */
    if (g_str_has_prefix(line, "FlatView")) {
      if (saw_memory_view && in_memory_view)
        break;
      in_memory_view = FALSE;
      continue;
    }
    if (strstr(line, " AS \"memory\"") != NULL || g_str_has_prefix(line, "AS \"memory\"")) {
      in_memory_view = saw_memory_view = TRUE;
      continue;
    }
    if (!in_memory_view)
      continue;
    HwRamRange r;
    if (!parse_range_line(line, region, &r))
      continue;
    /* Merge with the previous range when both address and file offset continue. */
    if (ranges->len > 0) {
      HwRamRange *prev = &g_array_index(ranges, HwRamRange, ranges->len - 1);
      if (prev->gpa + prev->size == r.gpa && prev->file_offset + prev->size == r.file_offset) {
        prev->size += r.size;
        continue;
      }
    }
    g_array_append_val(ranges, r);
  }
  if (!saw_memory_view) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                "info mtree -f shows no flat view for address space \"memory\"");
    return NULL;
  }
  if (ranges->len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                "info mtree -f maps no RAM of region \"%s\"", region);
    return NULL;
  }
  return g_steal_pointer(&ranges);
}
