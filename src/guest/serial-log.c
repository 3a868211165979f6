/* Following a serial log for a matching line: pieces of at most 1 MiB from where the
 * last look ended, whole lines only, so a line still being written is looked at again. */
#include <haywire/serial.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PIECE (1u << 20)

struct _HwSerialLog {
  char *path;
  GRegex *regex;
  goffset done;    /* bytes of the file searched, up to a line's end */
  char *line;      /* the first matching line */
};

HwSerialLog *
hw_serial_log_new(const char *path, GRegex *regex)
{
  HwSerialLog *log = g_new0(HwSerialLog, 1);
  log->path = g_strdup(path);
  log->regex = g_regex_ref(regex);
  return log;
}

void
hw_serial_log_free(HwSerialLog *log)
{
  if (log == NULL)
    return;
  g_free(log->path);
  g_regex_unref(log->regex);
  g_free(log->line);
  g_free(log);
}

const char *
hw_serial_log_get_line(HwSerialLog *log)
{
  return log->line;
}

gsize
hw_serial_log_feed(HwSerialLog *log, const char *buf, gsize n, gboolean full)
{
  const char *end = n ? memrchr(buf, '\n', n) : NULL;
  if (end == NULL && !full)
    return 0;
  gsize used = end ? (gsize)(end - buf) + 1 : n;
  /* Lines as text: a NUL the guest printed ends its line's text, nothing more. */
  for (gsize pos = 0; pos < used && log->line == NULL;) {
    const char *nl = memchr(buf + pos, '\n', used - pos);
    gsize len = nl ? (gsize)(nl - (buf + pos)) : used - pos;
    g_autofree char *line = g_strndup(buf + pos, len);
    g_strchomp(line);   /* serial logs end lines with \r\n */
    if (g_utf8_validate(line, -1, NULL) && g_regex_match(log->regex, line, 0, NULL))
      log->line = g_steal_pointer(&line);
    pos += len + 1;
  }
  return used;
}

gboolean
hw_serial_log_poll(HwSerialLog *log)
{
  if (log->line != NULL)
    return TRUE;
  FILE *f = fopen(log->path, "rb");
  if (f == NULL)
    return FALSE;   /* not made yet */
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && st.st_size < log->done)
    log->done = 0;
  g_autofree char *buf = g_malloc(PIECE);
  gsize n = fseeko(f, log->done, SEEK_SET) == 0 ? fread(buf, 1, PIECE, f) : 0;
  fclose(f);
  log->done += (goffset)hw_serial_log_feed(log, buf, n, n == PIECE);
  return log->line != NULL;
}
