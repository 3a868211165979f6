/* Guest RAM through QEMU's process on this host: HMP `gpa2hva`, /proc/PID/maps,
 * /proc/PID/fd and /proc/PID/mem (see qemu-process.h).
 *
 * The kernel guards these files with ptrace's access check: the same user as the
 * process (and the process dumpable), or CAP_SYS_PTRACE. /proc/PID/mem is checked in
 * attach mode, which Yama's kernel.yama.ptrace_scope restricts further; maps and fd/N
 * are checked in read mode, which Yama leaves alone. */
#include "guest/qemu-process.h"

#include <haywire/error.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_QUOTE 160                 /* bytes of untrusted text shown in a message */
#define MAX_REGION_NAME 256
#define MAX_MAPS_TEXT (64u << 20)
#define MAX_MAPS_LINES (1u << 20)
#define MAX_MAPS_LINE (4 * 4096 + 256) /* a PATH_MAX path with every byte escaped (\012) */
#define MAX_STATUS_TEXT (64u << 10)
#define MAX_FD_ENTRIES 65536u

static const char gpa2hva_prefix[] = "Host virtual address for ";
static const char deleted_suffix[] = " (deleted)";

void
hw_qemu_proc_mapping_free(HwQemuProcMapping *mapping)
{
  if (mapping == NULL)
    return;
  g_free(mapping->path);
  g_free(mapping);
}

/* ---- bounded field readers (on [*p, end), advancing *p) --------------------------------- */

static gboolean
take_hex(const char **p, const char *end, guint max_digits, guint64 *out)
{
  const char *s = *p;
  guint64 v = 0;
  guint n = 0;
  while (s < end && g_ascii_isxdigit(*s)) {
    if (++n > max_digits)
      return FALSE;
    v = v << 4 | (guint64)g_ascii_xdigit_value(*s);
    s++;
  }
  if (n == 0)
    return FALSE;
  *p = s;
  *out = v;
  return TRUE;
}

static gboolean
take_dec(const char **p, const char *end, guint64 max, guint64 *out)
{
  const char *s = *p;
  guint64 v = 0;
  while (s < end && g_ascii_isdigit(*s)) {
    guint d = (guint)(*s - '0');
    if (v > (max - d) / 10)
      return FALSE;
    v = v * 10 + d;
    s++;
  }
  if (s == *p)
    return FALSE;
  *p = s;
  *out = v;
  return TRUE;
}

static gboolean
take_str(const char **p, const char *end, const char *want)
{
  gsize n = strlen(want);
  if ((gsize)(end - *p) < n || memcmp(*p, want, n) != 0)
    return FALSE;
  *p += n;
  return TRUE;
}

/* The line at *NEXT: [*line, *end) without its '\n'; FALSE at the end of the text. */
static gboolean
next_line(const char **next, const char **line, const char **end)
{
  if (*next == NULL || **next == '\0')
    return FALSE;
  const char *nl = strchr(*next, '\n');
  *line = *next;
  *end = nl ? nl : *next + strlen(*next);
  *next = nl ? nl + 1 : NULL;
  return TRUE;
}

/* Untrusted text for a message: at most MAX_QUOTE bytes, escaped, in quotes. */
static char *
quote(const char *text, gsize len)
{
  gboolean cut = len > MAX_QUOTE;
  g_autofree char *head = g_strndup(text, cut ? MAX_QUOTE : len);
  g_autofree char *escaped = g_strescape(head, NULL);
  return g_strdup_printf("'%s%s'", escaped, cut ? "..." : "");
}

/* ---- gpa2hva ---------------------------------------------------------------------------- */

gboolean
hw_qemu_proc_parse_gpa2hva(const char *text, guint64 gpa, guint64 *hva, char **region,
                           GError **error)
{
  gsize line_len = strcspn(text, "\n");
  gsize shown_len = line_len;
  while (shown_len > 0 && g_ascii_isspace(text[shown_len - 1]))
    shown_len--;
  g_autofree char *shown = quote(text, shown_len);
  const char *rest = text + line_len;
  while (*rest != '\0' && g_ascii_isspace(*rest))
    rest++;

  if (!g_str_has_prefix(text, gpa2hva_prefix)) {
    if (shown_len == 0 && *rest == '\0') {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "gpa2hva 0x%" G_GINT64_MODIFIER "x: "
                  "empty answer", gpa);
    } else if (g_strstr_len(text, (gssize)line_len, "is not RAM") != NULL ||
               g_strstr_len(text, (gssize)line_len, "No memory is mapped at") != NULL) {
      /* QEMU 7.2: "Memory at address 0x%" HWADDR_PRIx "is not RAM" (no space). */
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE, "gpa2hva 0x%" G_GINT64_MODIFIER
                  "x: QEMU says %s", gpa, shown);
    } else {
      g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "gpa2hva 0x%" G_GINT64_MODIFIER "x: "
                  "QEMU answered %s", gpa, shown);
    }
    return FALSE;
  }

  /* "Host virtual address for 0x<gpa> (<region>) is 0x<hva>": the region name is what
   * lies between " (" and the last ") is " (a name may hold parentheses). */
  const char *why = NULL;
  const char *p = text + strlen(gpa2hva_prefix);
  const char *end = text + line_len;
  if (end > p && end[-1] == '\r')
    end--;
  guint64 answer_gpa = 0, answer_hva = 0;
  const char *name = NULL, *name_end = NULL;
  if (!take_str(&p, end, "0x") || !take_hex(&p, end, 16, &answer_gpa))
    why = "no guest-physical address";
  else if (!take_str(&p, end, " ("))
    why = "no region name";
  if (why == NULL) {
    name = p;
    for (gsize i = (gsize)(end - name); i-- > 0;) {
      if ((gsize)(end - name) - i >= 5 && memcmp(name + i, ") is ", 5) == 0) {
        name_end = name + i;
        break;
      }
    }
    if (name_end == NULL)
      why = "no \") is \" after the region name";
  }
  if (why == NULL) {
    p = name_end + 5;
    if (!take_str(&p, end, "0x") || !take_hex(&p, end, 16, &answer_hva) || p != end)
      why = "no host virtual address at the end";
    else if (*rest != '\0')
      why = "more than one line";
    else if (name_end == name)
      why = "empty region name";
    else if (name_end - name > MAX_REGION_NAME)
      why = "region name longer than 256 bytes";
    else if (answer_hva == 0)
      why = "host virtual address 0";
  }
  for (const char *c = name; why == NULL && c < name_end; c++) {
    if ((guchar)*c < 0x20 || *c == 0x7f)
      why = "control character in the region name";
  }
  if (why != NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "gpa2hva 0x%" G_GINT64_MODIFIER "x: %s in "
                "%s", gpa, why, shown);
    return FALSE;
  }
  if (answer_gpa != gpa) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "gpa2hva 0x%" G_GINT64_MODIFIER "x: the "
                "answer is about 0x%" G_GINT64_MODIFIER "x: %s", gpa, answer_gpa, shown);
    return FALSE;
  }
  *hva = answer_hva;
  if (region != NULL)
    *region = g_strndup(name, (gsize)(name_end - name));
  return TRUE;
}

/* ---- /proc/PID/maps --------------------------------------------------------------------- */

/* One maps line [line, end) into M (its path left NULL; [*path, *path + *path_len) is
 * the path's text); FALSE when it is malformed. The kernel's format is
 *   start-end perms offset major:minor inode [spaces path]
 * with hex numbers except the decimal inode. Spaces that begin a path cannot be told
 * from the padding before it (the kernel's paths begin with '/' or '['). */
static gboolean
parse_maps_line(const char *line, const char *end, HwQemuProcMapping *m, const char **path,
                gsize *path_len)
{
  const char *p = line;
  guint64 major, minor;
  memset(m, 0, sizeof(*m));
  if (end - line > MAX_MAPS_LINE)
    return FALSE;
  if (!take_hex(&p, end, 16, &m->start) || !take_str(&p, end, "-") ||
      !take_hex(&p, end, 16, &m->end) || !take_str(&p, end, " ") || end - p < 4)
    return FALSE;
  if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
      (p[2] != 'x' && p[2] != '-') || (p[3] != 's' && p[3] != 'p'))
    return FALSE;
  m->read = p[0] == 'r';
  m->write = p[1] == 'w';
  m->exec = p[2] == 'x';
  m->shared = p[3] == 's';
  p += 4;
  if (!take_str(&p, end, " ") || !take_hex(&p, end, 16, &m->file_off) ||
      !take_str(&p, end, " ") || !take_hex(&p, end, 8, &major) || !take_str(&p, end, ":") ||
      !take_hex(&p, end, 8, &minor) || !take_str(&p, end, " ") ||
      !take_dec(&p, end, G_MAXUINT64, &m->inode))
    return FALSE;
  if (p < end && *p != ' ')
    return FALSE;
  while (p < end && *p == ' ')
    p++;
  /* Both ends, in memory and in the file, must be representable. */
  if (m->start >= m->end || m->file_off > G_MAXUINT64 - (m->end - m->start))
    return FALSE;
  m->dev_major = (guint32)major;
  m->dev_minor = (guint32)minor;
  *path = p;
  *path_len = (gsize)(end - p);
  m->deleted = *path_len >= strlen(deleted_suffix) &&
               memcmp(end - strlen(deleted_suffix), deleted_suffix,
                      strlen(deleted_suffix)) == 0;
  return TRUE;
}

static HwQemuProcMapping *
mapping_copy(const HwQemuProcMapping *fields, const char *path, gsize path_len)
{
  HwQemuProcMapping *m = g_new(HwQemuProcMapping, 1);
  *m = *fields;
  m->path = g_strndup(path, path_len);
  return m;
}

static void
mapping_free_func(gpointer m)
{
  hw_qemu_proc_mapping_free(m);
}

GPtrArray *
hw_qemu_proc_parse_maps(const char *maps_text, guint *n_skipped, GError **error)
{
  g_autoptr(GPtrArray) mappings = g_ptr_array_new_with_free_func(mapping_free_func);
  const char *next = maps_text, *line, *end;
  guint skipped = 0, n_lines = 0;

  while (next_line(&next, &line, &end)) {
    if (++n_lines > MAX_MAPS_LINES) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "maps: more than %u lines", MAX_MAPS_LINES);
      return NULL;
    }
    HwQemuProcMapping m;
    const char *path;
    gsize path_len;
    if (!parse_maps_line(line, end, &m, &path, &path_len)) {
      skipped++;
      continue;
    }
    g_ptr_array_add(mappings, mapping_copy(&m, path, path_len));
  }
  if (n_skipped != NULL)
    *n_skipped = skipped;
  return g_steal_pointer(&mappings);
}

HwQemuProcMapping *
hw_qemu_proc_find_mapping(const char *maps_text, guint64 hva, GError **error)
{
  guint skipped = 0;
  g_autoptr(GPtrArray) all = hw_qemu_proc_parse_maps(maps_text, &skipped, error);
  if (all == NULL)
    return NULL;
  /* Every line is looked at: two containing HVA mean the text is not what the kernel
   * shows (its mappings never overlap), and no answer is better than a guess. */
  HwQemuProcMapping *found = NULL;
  guint at = 0;
  for (guint i = 0; i < all->len; i++) {
    HwQemuProcMapping *m = all->pdata[i];
    if (hva < m->start || hva >= m->end)
      continue;
    if (found != NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "maps: two mappings contain 0x%"
                  G_GINT64_MODIFIER "x: %" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x and %"
                  G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", hva, found->start, found->end,
                  m->start, m->end);
      return NULL;
    }
    found = m;
    at = i;
  }
  if (found == NULL) {
    if (skipped > 0)
      g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED, "maps: no mapping contains 0x%"
                  G_GINT64_MODIFIER "x (%u malformed lines skipped)", hva, skipped);
    else
      g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED, "maps: no mapping contains 0x%"
                  G_GINT64_MODIFIER "x", hva);
    return NULL;
  }
  return g_ptr_array_steal_index(all, at);   /* the caller's now, not the array's */
}

/* ---- /proc/PID/status ------------------------------------------------------------------- */

gboolean
hw_qemu_proc_parse_status_uid(const char *status_text, guint32 *uid, GError **error)
{
  const char *next = status_text, *line, *end;
  const char *found = NULL, *found_end = NULL;

  while (next_line(&next, &line, &end)) {
    if (end - line < 4 || memcmp(line, "Uid:", 4) != 0)
      continue;
    if (found != NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "status: two Uid: lines");
      return FALSE;
    }
    found = line;
    found_end = end;
  }
  if (found == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "status: no Uid: line");
    return FALSE;
  }
  /* "Uid:\treal\teffective\tsaved\tfilesystem"; (uid_t)-1 is no uid. */
  const char *p = found + 4;
  guint64 ids[4];
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    const char *before = p;
    while (p < found_end && (*p == ' ' || *p == '\t'))
      p++;
    if (p == before || !take_dec(&p, found_end, G_MAXUINT32 - 1u, &ids[i])) {
      g_autofree char *shown = quote(found, (gsize)(found_end - found));
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "status: malformed Uid: line %s", shown);
      return FALSE;
    }
  }
  while (p < found_end && (*p == ' ' || *p == '\t' || *p == '\r'))
    p++;
  if (p != found_end) {
    g_autofree char *shown = quote(found, (gsize)(found_end - found));
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "status: malformed Uid: line %s", shown);
    return FALSE;
  }
  *uid = (guint32)ids[0];
  return TRUE;
}

/* ---- reading /proc files, and what to say when that fails ------------------------------- */

/* The whole of PATH (at most MAX bytes) as a string; NULL with *E the errno of a failed
 * open or read, or 0 when the file is longer than MAX. */
static char *
read_bounded(const char *path, gsize max, int *e)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *e = errno;
    return NULL;
  }
  g_autoptr(GByteArray) buf = g_byte_array_new();
  guint8 chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *e = errno;
      close(fd);
      return NULL;
    }
    if (n == 0)
      break;
    if ((gsize)n > max - buf->len) {
      *e = 0;
      close(fd);
      return NULL;
    }
    g_byte_array_append(buf, chunk, (guint)n);
  }
  close(fd);
  g_byte_array_append(buf, (const guint8 *)"", 1);
  return (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
}

/* Yama's ptrace_scope, or -1 without Yama (or when it cannot be read). */
static int
read_ptrace_scope(void)
{
  int e;
  g_autofree char *text = read_bounded("/proc/sys/kernel/yama/ptrace_scope", 64, &e);
  if (text == NULL)
    return -1;
  const char *p = text;
  guint64 v;
  if (!take_dec(&p, text + strlen(text), 1000, &v))
    return -1;
  return (int)v;
}

char *
hw_qemu_proc_access_hint(gint64 qemu_uid, guint32 our_uid, gboolean attach, int ptrace_scope)
{
  GString *s = g_string_new("reading another process's files needs the same user as QEMU");
  if (qemu_uid >= 0)
    g_string_append_printf(s, " (uid %" G_GINT64_FORMAT "; this process runs as uid %u)",
                           qemu_uid, our_uid);
  else
    g_string_append_printf(s, " (this process runs as uid %u)", our_uid);
  g_string_append(s, " or root/CAP_SYS_PTRACE");
  if (attach && ptrace_scope > 0) {
    switch (ptrace_scope) {
    case 1:
      g_string_append(s, "; and kernel.yama.ptrace_scope is 1: only a process QEMU descends "
                      "from (one that started it) or one with CAP_SYS_PTRACE may "
                      "(sysctl kernel.yama.ptrace_scope=0 lifts this)");
      break;
    case 2:
      g_string_append(s, "; and kernel.yama.ptrace_scope is 2: only a process with "
                      "CAP_SYS_PTRACE may");
      break;
    case 3:
      g_string_append(s, "; and kernel.yama.ptrace_scope is 3: nobody may, not even root, "
                      "until the next boot");
      break;
    default:
      g_string_append_printf(s, "; and kernel.yama.ptrace_scope is %d", ptrace_scope);
      break;
    }
  } else if (qemu_uid >= 0 && (guint64)qemu_uid == our_uid && our_uid != 0) {
    g_string_append(s, "; the uids match, so QEMU is probably not dumpable (it changed user "
                    "or group, e.g. -run-with user=, or was started setuid): then only "
                    "CAP_SYS_PTRACE helps");
  } else if (our_uid == 0 && qemu_uid != 0) {
    g_string_append(s, "; this process is root without CAP_SYS_PTRACE (containers drop it)");
  }
  return g_string_free(s, FALSE);
}

static gboolean
process_exists(int pid)
{
  char path[32];
  struct stat st;
  g_snprintf(path, sizeof(path), "/proc/%d", pid);
  return stat(path, &st) == 0 || errno != ENOENT;
}

/* Set ERROR for E (an errno) from opening or reading a /proc/PID file; WHAT begins the
 * message ("cannot read QEMU's memory through /proc/1/mem"); ATTACH as for the hint. */
static void
set_proc_error(GError **error, int pid, int e, gboolean attach, const char *what)
{
  if (e == ENOENT && access("/proc/self", F_OK) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: /proc is not mounted", what);
  } else if ((e == ENOENT || e == ESRCH) && !process_exists(pid)) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no process %d", pid);
  } else if (e == EACCES || e == EPERM) {
    guint32 uid = 0;
    gint64 qemu_uid = hw_qemu_proc_get_uid(pid, &uid, NULL) ? (gint64)uid : -1;
    g_autofree char *hint = hw_qemu_proc_access_hint(qemu_uid, (guint32)geteuid(), attach,
                                                     attach ? read_ptrace_scope() : -1);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s: %s", what,
                g_strerror(e), hint);
  } else {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
  }
}

static gboolean
check_pid(int pid, GError **error)
{
  if (pid > 0)
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad process id %d", pid);
  return FALSE;
}

gboolean
hw_qemu_proc_get_uid(int pid, guint32 *uid, GError **error)
{
  if (!check_pid(pid, error))
    return FALSE;
  g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
  int e = 0;
  g_autofree char *text = read_bounded(path, MAX_STATUS_TEXT, &e);
  if (text == NULL && e == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%s is longer than %u bytes", path,
                MAX_STATUS_TEXT);
    return FALSE;
  }
  if (text == NULL) {
    /* Not set_proc_error: its permission hint asks for the uid. */
    if ((e == ENOENT || e == ESRCH) && !process_exists(pid))
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no process %d", pid);
    else
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot read %s: %s", path,
                  g_strerror(e));
    return FALSE;
  }
  if (!hw_qemu_proc_parse_status_uid(text, uid, error)) {
    g_prefix_error(error, "process %d: ", pid);
    return FALSE;
  }
  return TRUE;
}

HwQemuProcMapping *
hw_qemu_proc_read_mapping(int pid, guint64 hva, GError **error)
{
  if (!check_pid(pid, error))
    return NULL;
  g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
  int e = 0;
  g_autofree char *text = read_bounded(path, MAX_MAPS_TEXT, &e);
  if (text == NULL && e == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "%s is longer than %u bytes", path,
                MAX_MAPS_TEXT);
    return NULL;
  }
  if (text == NULL) {
    g_autofree char *what = g_strdup_printf("cannot read QEMU's memory mappings %s", path);
    set_proc_error(error, pid, e, FALSE, what);
    return NULL;
  }
  HwQemuProcMapping *m = hw_qemu_proc_find_mapping(text, hva, error);
  if (m == NULL)
    g_prefix_error(error, "process %d: ", pid);
  return m;
}

/* ---- the fd behind a mapping, and opening it -------------------------------------------- */

static gboolean
same_file(const struct stat *st, const HwQemuProcMapping *m)
{
  return major(st->st_dev) == m->dev_major && minor(st->st_dev) == m->dev_minor &&
         (guint64)st->st_ino == m->inode;
}

/* The fd number that NAME (a /proc/PID/fd entry) spells, or -1. */
static int
parse_fd_name(const char *name)
{
  const char *p = name;
  guint64 v;
  if (!take_dec(&p, name + strlen(name), G_MAXINT, &v) || *p != '\0' ||
      (name[0] == '0' && name[1] != '\0'))
    return -1;
  return (int)v;
}

gboolean
hw_qemu_proc_find_fd(int pid, const HwQemuProcMapping *mapping, int *fd, GError **error)
{
  if (!check_pid(pid, error))
    return FALSE;
  const char *mpath = mapping->path ? mapping->path : "";
  g_autofree char *shown = quote(mpath, strlen(mpath));
  if (mapping->inode == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "process %d: the mapping %"
                G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x (%s) has no file; its memory "
                "is only in /proc/%d/mem", pid, mapping->start, mapping->end, shown, pid);
    return FALSE;
  }
  g_autofree char *dir_path = g_strdup_printf("/proc/%d/fd", pid);
  DIR *dir = opendir(dir_path);
  if (dir == NULL) {
    int e = errno;
    g_autofree char *what = g_strdup_printf("cannot list QEMU's open files %s", dir_path);
    set_proc_error(error, pid, e, FALSE, what);
    return FALSE;
  }
  int best = -1;
  guint n_entries = 0, n_denied = 0;
  int denied_errno = 0;
  gboolean limited = FALSE;
  for (;;) {
    errno = 0;
    struct dirent *d = readdir(dir);
    if (d == NULL)
      break;
    if (++n_entries > MAX_FD_ENTRIES) {
      limited = TRUE;
      break;
    }
    int n = parse_fd_name(d->d_name);
    if (n < 0)
      continue;
    char path[64];
    struct stat st;
    g_snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, n);
    if (stat(path, &st) != 0) {
      /* Closed since the listing (ENOENT) is no news; a refusal is. */
      if (errno == EACCES || errno == EPERM) {
        n_denied++;
        denied_errno = errno;
      }
      continue;
    }
    if (same_file(&st, mapping) && (best < 0 || n < best))
      best = n;
  }
  int read_errno = errno;
  closedir(dir);
  if (best >= 0) {
    *fd = best;
    return TRUE;
  }
  if (limited) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "process %d: none of the first %u fds is "
                "the file of %s", pid, MAX_FD_ENTRIES, shown);
    return FALSE;
  }
  if (read_errno != 0) {
    g_autofree char *what = g_strdup_printf("cannot list QEMU's open files %s", dir_path);
    set_proc_error(error, pid, read_errno, FALSE, what);
    return FALSE;
  }
  if (n_denied > 0) {
    g_autofree char *what = g_strdup_printf("cannot look at %u of QEMU's open files in %s",
                                            n_denied, dir_path);
    set_proc_error(error, pid, denied_errno, FALSE, what);
    return FALSE;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "process %d has no fd open on the file of "
              "its mapping %" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x (%s, device "
              "%02x:%02x, inode %" G_GUINT64_FORMAT ")", pid, mapping->start, mapping->end,
              shown, mapping->dev_major, mapping->dev_minor, mapping->inode);
  return FALSE;
}

int
hw_qemu_proc_open_fd(int pid, int fd, GError **error)
{
  if (!check_pid(pid, error))
    return -1;
  if (fd < 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad fd number %d", fd);
    return -1;
  }
  char path[64];
  g_snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
  int r = open(path, O_RDONLY | O_CLOEXEC);
  if (r < 0) {
    int e = errno;
    g_autofree char *what = g_strdup_printf("cannot open QEMU's RAM file %s", path);
    set_proc_error(error, pid, e, FALSE, what);
  }
  return r;
}

int
hw_qemu_proc_open_mapping_file(int pid, const HwQemuProcMapping *mapping, GError **error)
{
  int n;
  if (!hw_qemu_proc_find_fd(pid, mapping, &n, error))
    return -1;
  int r = hw_qemu_proc_open_fd(pid, n, error);
  if (r < 0)
    return -1;
  struct stat st;
  if (fstat(r, &st) != 0 || !same_file(&st, mapping)) {
    close(r);
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "process %d: fd %d changed while it was "
                "opened (QEMU closed it)", pid, n);
    return -1;
  }
  return r;
}

int
hw_qemu_proc_open_mem(int pid, GError **error)
{
  if (!check_pid(pid, error))
    return -1;
  char path[32];
  g_snprintf(path, sizeof(path), "/proc/%d/mem", pid);
  int r = open(path, O_RDONLY | O_CLOEXEC);
  if (r < 0) {
    int e = errno;
    g_autofree char *what = g_strdup_printf("cannot read QEMU's memory through %s", path);
    set_proc_error(error, pid, e, TRUE, what);
  }
  return r;
}
