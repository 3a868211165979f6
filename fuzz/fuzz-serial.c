/* Fuzz the serial-log line search: the guest writes the log, so its bytes are arbitrary
 * (no line ends, huge lines, NULs, \r, invalid UTF-8). The first byte picks a pattern
 * and the piece sizes; the rest is fed as the log's bytes, in pieces, as the poll would. */
#include <haywire/haywire.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static const char *const patterns[] = { "^HWGUEST-READY$", "login:", "^$", "(a|b)*c", "." };

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  guint sel = data[0];
  g_autoptr(GRegex) re = g_regex_new(patterns[sel % G_N_ELEMENTS(patterns)], 0, 0, NULL);
  g_autoptr(HwSerialLog) log = hw_serial_log_new("/nonexistent/serial.log", re);
  const char *buf = (const char *)data + 1;
  gsize left = size - 1, piece = 1 + (sel >> 3) * 7;
  /* What was not used comes again in front of the next piece, as with the file. */
  while (left > 0 && hw_serial_log_get_line(log) == NULL) {
    gsize n = MIN(piece, left);
    gsize used = hw_serial_log_feed(log, buf, n, n == left || n == piece);
    if (used > n)
      __builtin_trap();
    if (used == 0)
      break;
    buf += used;
    left -= used;
  }
  const char *line = hw_serial_log_get_line(log);
  if (line != NULL && (strchr(line, '\n') != NULL || !g_utf8_validate(line, -1, NULL)))
    __builtin_trap();
  hw_serial_log_poll(log);   /* no file: nothing read, nothing changed */
  return 0;
}
