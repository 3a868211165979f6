/* The serial-log line search: lines that come in parts, \r\n ends, a log that starts
 * afresh, lines longer than a piece, bytes that are not text. */
#include <haywire/haywire.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

static char *
temp_log(void)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp("hw-serial-XXXXXX", &path, &error);
  g_assert_no_error(error);
  close(fd);
  return path;
}

static void
append(const char *path, const char *bytes, gsize n)
{
  FILE *f = fopen(path, "ab");
  g_assert_nonnull(f);
  g_assert_cmpuint(fwrite(bytes, 1, n, f), ==, n);
  fclose(f);
}

/* A line in two writes matches only once whole; \r\n is one line end. */
static void
test_partial_line(void)
{
  g_autofree char *path = temp_log();
  g_autoptr(GRegex) re = g_regex_new("^HWGUEST-READY$", 0, 0, NULL);
  g_autoptr(HwSerialLog) log = hw_serial_log_new(path, re);
  g_assert_false(hw_serial_log_poll(log));
  append(path, "boot\r\nHWGUEST-RE", 16);
  g_assert_false(hw_serial_log_poll(log));
  append(path, "ADY\r\n", 5);
  g_assert_true(hw_serial_log_poll(log));
  g_assert_cmpstr(hw_serial_log_get_line(log), ==, "HWGUEST-READY");
  g_unlink(path);
}

/* Not there yet, then there; a log cut back to empty is read again from its start. */
static void
test_missing_then_restarted(void)
{
  g_autofree char *path = temp_log();
  g_unlink(path);
  g_autoptr(GRegex) re = g_regex_new("login:", 0, 0, NULL);
  g_autoptr(HwSerialLog) log = hw_serial_log_new(path, re);
  g_assert_false(hw_serial_log_poll(log));
  append(path, "an old boot, long gone, that ran to here\n", 41);
  g_assert_false(hw_serial_log_poll(log));
  g_assert_cmpint(truncate(path, 0), ==, 0);
  append(path, "login: \n", 8);
  g_assert_true(hw_serial_log_poll(log));
  g_assert_cmpstr(hw_serial_log_get_line(log), ==, "login:");
  g_unlink(path);
}

/* A line of 3 MiB is searched in pieces, and a line after it still found; lines that
 * are not UTF-8 or hold a NUL do not derail the search. */
static void
test_long_and_binary(void)
{
  g_autofree char *path = temp_log();
  g_autoptr(GRegex) re = g_regex_new("^found$", 0, 0, NULL);
  g_autoptr(HwSerialLog) log = hw_serial_log_new(path, re);
  gsize big = 3u << 20;
  g_autofree char *junk = g_malloc(big);
  memset(junk, 'x', big);
  append(path, junk, big);
  append(path, "\n\xff\xfe found\nfo\0und\nfound\n", 24);
  guint polls = 0;
  while (!hw_serial_log_poll(log) && polls < 10)
    polls++;
  g_assert_cmpstr(hw_serial_log_get_line(log), ==, "found");
  g_assert_cmpuint(polls, >=, 3);   /* a piece at a time */
  /* Fed directly: whole lines only unless the piece is full. */
  g_autoptr(HwSerialLog) fed = hw_serial_log_new(path, re);
  g_assert_cmpuint(hw_serial_log_feed(fed, "fou", 3, FALSE), ==, 0);
  g_assert_cmpuint(hw_serial_log_feed(fed, "fou", 3, TRUE), ==, 3);
  g_assert_null(hw_serial_log_get_line(fed));
  g_assert_cmpuint(hw_serial_log_feed(fed, "a\nfound\nb", 9, FALSE), ==, 8);
  g_assert_cmpstr(hw_serial_log_get_line(fed), ==, "found");
  g_unlink(path);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/guest/serial/partial-line", test_partial_line);
  g_test_add_func("/guest/serial/missing-then-restarted", test_missing_then_restarted);
  g_test_add_func("/guest/serial/long-and-binary", test_long_and_binary);
  return g_test_run();
}
