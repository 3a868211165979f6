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

/* Parse one flat-view line of a RAM-like range: its range and region name (*NAME,
 * *NAME_LEN point into LINE); FALSE when it is none. */
static gboolean
parse_ram_line(const char *line, HwRamRange *out, const char **name_out, gsize *name_len_out)
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
  if (name_len == 0)
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
  *name_out = name;
  *name_len_out = name_len;
  return TRUE;
}

/* Parse one flat-view line; FALSE when it is not a range line of REGION. */
static gboolean
parse_range_line(const char *line, const char *region, HwRamRange *out)
{
  const char *name;
  gsize name_len;
  return parse_ram_line(line, out, &name, &name_len) && name_len == strlen(region) &&
         strncmp(name, region, name_len) == 0;
}

/* Call FN on each line of the flat view of address space "memory" in MTREE_TEXT
 * (chomped; FN may keep nothing of it); FALSE when there is no such view. */
typedef void (*LineFunc)(const char *line, gpointer data);
static gboolean
each_memory_line(const char *mtree_text, LineFunc fn, gpointer data)
{
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
    if (in_memory_view)
      fn(line, data);
  }
  return saw_memory_view;
}

typedef struct {
  const char *region;
  GArray *ranges;
} RegionLines;

static void
add_region_line(const char *line, gpointer data)
{
  RegionLines *rl = data;
  HwRamRange r;
  if (!parse_range_line(line, rl->region, &r))
    return;
  /* Merge with the previous range when both address and file offset continue. */
  if (rl->ranges->len > 0) {
    HwRamRange *prev = &g_array_index(rl->ranges, HwRamRange, rl->ranges->len - 1);
    if (prev->gpa + prev->size == r.gpa && prev->file_offset + prev->size == r.file_offset) {
      prev->size += r.size;
      return;
    }
  }
  g_array_append_val(rl->ranges, r);
}

GArray *
hw_ram_map_parse_mtree(const char *mtree_text, const char *region, GError **error)
{
  g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(HwRamRange));
  RegionLines rl = { region, ranges };
  if (!each_memory_line(mtree_text, add_region_line, &rl)) {
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

#define MAX_DEVICE_RANGES 64

typedef struct {
  const char *const *not_these;
  GArray *devices;
} DeviceLines;

static void
add_device_line(const char *line, gpointer data)
{
  DeviceLines *dl = data;
  HwRamRange r;
  const char *name;
  gsize name_len;
  if (dl->devices->len >= MAX_DEVICE_RANGES || !parse_ram_line(line, &r, &name, &name_len))
    return;
  for (guint i = 0; dl->not_these && dl->not_these[i]; i++)
    if (strlen(dl->not_these[i]) == name_len && strncmp(dl->not_these[i], name, name_len) == 0)
      return;
  HwDevicePiece d = { { r.gpa, r.size, 0, r.file_offset }, g_strndup(name, name_len) };
  g_array_append_val(dl->devices, d);
}

static void
clear_device(gpointer p)
{
  g_free((char *)((HwDevicePiece *)p)->name);
}

GArray *
hw_ram_map_parse_devices(const char *mtree_text, const char *const *not_these, GError **error)
{
  g_autoptr(GArray) devices = g_array_new(FALSE, FALSE, sizeof(HwDevicePiece));
  g_array_set_clear_func(devices, clear_device);
  DeviceLines dl = { not_these, devices };
  if (!each_memory_line(mtree_text, add_device_line, &dl)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                "info mtree -f shows no flat view for address space \"memory\"");
    return NULL;
  }
  return g_steal_pointer(&devices);
}
