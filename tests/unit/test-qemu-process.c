/* Guest RAM through QEMU's process: gpa2hva answers, /proc/PID/maps and status text
 * (made up and hostile), the permission advice, and the real thing on this test process:
 * a memfd found through its own /proc/self/maps and /proc/PID/fd, read back through the
 * reopened file and through /proc/PID/mem. */
#include "guest/qemu-process.h"

#include <haywire/error.h>

#include <errno.h>
#include <gio/gio.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* Above PID_MAX_LIMIT (4194304): no process ever has this pid. */
#define NO_SUCH_PID 0x7ffffff0

/* ---- gpa2hva ---------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *text;
  guint64 gpa;
  guint64 hva;
  const char *region;
} Gpa2hvaGoodCase;

static const Gpa2hvaGoodCase gpa2hva_good[] = {
  /* QEMU 7.2, the machine's RAM region and a backend's. */
  { "pc-ram", "Host virtual address for 0x1000 (pc.ram) is 0x7f6812001000\r\n",
    0x1000, 0x7f6812001000, "pc.ram" },
  { "backend-id", "Host virtual address for 0x100000000 (ram0) is 0x7f6892000000\r\n",
    0x100000000, 0x7f6892000000, "ram0" },
  { "lf", "Host virtual address for 0x0 (ram0) is 0x7f6812000000\n", 0, 0x7f6812000000,
    "ram0" },
  { "no-line-end", "Host virtual address for 0x0 (ram0) is 0x7f6812000000", 0,
    0x7f6812000000, "ram0" },
  { "blank-lines-after", "Host virtual address for 0x0 (ram0) is 0x1000\r\n\r\n\n", 0,
    0x1000, "ram0" },
  { "largest-numbers",
    "Host virtual address for 0xffffffffffffffff (ram0) is 0xffffffffffffffff\r\n",
    G_MAXUINT64, G_MAXUINT64, "ram0" },
  { "sixteen-digits-leading-zeros",
    "Host virtual address for 0x0000000000001000 (ram0) is 0x00007f6812001000\r\n",
    0x1000, 0x7f6812001000, "ram0" },
  { "upper-case-hex", "Host virtual address for 0xABC (ram0) is 0x7F00\r\n", 0xabc, 0x7f00,
    "ram0" },
  /* The name runs to the last ") is ": names may hold parentheses and even that. */
  { "parentheses-in-name", "Host virtual address for 0x0 (a (b) c) is 0x7f00\r\n", 0,
    0x7f00, "a (b) c" },
  { "is-in-name", "Host virtual address for 0x0 (x) is 0x1) is 0x7f00\r\n", 0, 0x7f00,
    "x) is 0x1" },
  { "space-in-name", "Host virtual address for 0x0 (my ram) is 0x7f00\r\n", 0, 0x7f00,
    "my ram" },
};

static void
test_gpa2hva_good(gconstpointer data)
{
  const Gpa2hvaGoodCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *region = NULL;
  guint64 hva = 0;

  g_assert_true(hw_qemu_proc_parse_gpa2hva(c->text, c->gpa, &hva, &region, &error));
  g_assert_no_error(error);
  g_assert_cmphex(hva, ==, c->hva);
  g_assert_cmpstr(region, ==, c->region);
  /* The region is optional. */
  hva = 0;
  g_assert_true(hw_qemu_proc_parse_gpa2hva(c->text, c->gpa, &hva, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmphex(hva, ==, c->hva);
}

typedef struct {
  const char *name;
  const char *text;
  guint64 gpa;
  gint code;           /* HwError */
  const char *quoted;     /* the message must hold this (a piece of the text) */
} Gpa2hvaBadCase;

static const Gpa2hvaBadCase gpa2hva_bad[] = {
  { "empty", "", 0x1000, HW_ERROR_PROTOCOL, "empty" },
  { "blank", "\r\n", 0x1000, HW_ERROR_PROTOCOL, "empty" },
  /* QEMU 7.2's refusals (its "not RAM" message lacks a space). */
  { "not-ram", "Memory at address 0xfee00000is not RAM\r\n", 0xfee00000,
    HW_ERROR_OUT_OF_RANGE, "0xfee00000is not RAM" },
  { "not-mapped", "No memory is mapped at address 0xfffffffff000\r\n", 0xfffffffff000,
    HW_ERROR_OUT_OF_RANGE, "No memory is mapped" },
  { "invalid-parameter", "Invalid parameter 'addr'\r\n", 0x1000, HW_ERROR_FAILED,
    "Invalid parameter" },
  { "unknown-command", "unknown command: 'gpa2hva'\r\n", 0x1000, HW_ERROR_FAILED,
    "unknown command" },
  { "garbage", "\x01\x02\xff\xfe garbage", 0x1000, HW_ERROR_FAILED, "garbage" },
  { "leading-space", " Host virtual address for 0x1000 (ram0) is 0x7f00\r\n", 0x1000,
    HW_ERROR_FAILED, "Host virtual" },
  { "prefix-only", "Host virtual address for ", 0x1000, HW_ERROR_PROTOCOL, "for" },
  { "gpa-17-digits", "Host virtual address for 0x10000000000000000 (ram0) is 0x7f00\r\n",
    0, HW_ERROR_PROTOCOL, "0x10000000000000000" },
  { "gpa-zero-padded-17", "Host virtual address for 0x00000000000001000 (ram0) is 0x7f00",
    0x1000, HW_ERROR_PROTOCOL, "guest-physical" },
  { "hva-17-digits", "Host virtual address for 0x1000 (ram0) is 0x10000000000000000\r\n",
    0x1000, HW_ERROR_PROTOCOL, "host virtual" },
  { "gpa-no-0x", "Host virtual address for 1000 (ram0) is 0x7f00\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "guest-physical" },
  { "gpa-negative", "Host virtual address for -0x1000 (ram0) is 0x7f00\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "guest-physical" },
  { "no-region", "Host virtual address for 0x1000 is 0x7f6812001000\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "region" },
  { "region-unclosed", "Host virtual address for 0x1000 (ram0 is 0x7f6812001000\r\n",
    0x1000, HW_ERROR_PROTOCOL, ") is" },
  { "empty-region", "Host virtual address for 0x1000 () is 0x7f6812001000\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "empty region" },
  { "control-in-region", "Host virtual address for 0x1000 (ra\x1bm0) is 0x7f00\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "control" },
  { "no-hva", "Host virtual address for 0x1000 (ram0) is \r\n", 0x1000,
    HW_ERROR_PROTOCOL, "host virtual" },
  { "hva-nil", "Host virtual address for 0x1000 (ram0) is (nil)\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "(nil)" },
  { "hva-zero", "Host virtual address for 0x1000 (ram0) is 0x0\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "address 0" },
  { "hva-no-0x", "Host virtual address for 0x1000 (ram0) is 7f6812001000\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "host virtual" },
  { "junk-after-hva", "Host virtual address for 0x1000 (ram0) is 0x7f00 extra\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "extra" },
  { "second-line", "Host virtual address for 0x1000 (ram0) is 0x7f00\r\nmore\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "more than one line" },
  { "other-gpa", "Host virtual address for 0x2000 (ram0) is 0x7f00\r\n", 0x1000,
    HW_ERROR_PROTOCOL, "about 0x2000" },
  { "truncated", "Host virtual address for 0x1000 (ram0", 0x1000, HW_ERROR_PROTOCOL,
    "ram0" },
};

static void
test_gpa2hva_bad(gconstpointer data)
{
  const Gpa2hvaBadCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *region = NULL;
  guint64 hva = 0x5555;

  g_assert_false(hw_qemu_proc_parse_gpa2hva(c->text, c->gpa, &hva, &region, &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_nonnull(strstr(error->message, c->quoted));
  g_assert_cmphex(hva, ==, 0x5555);
  g_assert_null(region);
}

/* Long answers are quoted in part; a long region name is refused. */
static void
test_gpa2hva_long(void)
{
  g_autoptr(GError) error = NULL;
  guint64 hva;
  g_autoptr(GString) text = g_string_new("Invalid ");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c(text, 'x');
  g_assert_false(hw_qemu_proc_parse_gpa2hva(text->str, 0, &hva, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
  g_assert_cmpuint(strlen(error->message), <, 300);
  g_assert_nonnull(strstr(error->message, "...'"));
  g_clear_error(&error);

  g_autofree char *name256 = g_strnfill(256, 'r');
  g_autofree char *name257 = g_strnfill(257, 'r');
  g_autofree char *ok = g_strdup_printf("Host virtual address for 0x0 (%s) is 0x7f00\r\n",
                                        name256);
  g_autofree char *region = NULL;
  g_assert_true(hw_qemu_proc_parse_gpa2hva(ok, 0, &hva, &region, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(region, ==, name256);
  g_autofree char *bad = g_strdup_printf("Host virtual address for 0x0 (%s) is 0x7f00\r\n",
                                         name257);
  g_assert_false(hw_qemu_proc_parse_gpa2hva(bad, 0, &hva, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
  g_assert_cmpuint(strlen(error->message), <, 300);
}

/* ---- /proc/PID/maps text ---------------------------------------------------------------- */

/* Like the kernel prints it (paths padded to column 73; an anonymous line ends in a
 * space). */
#define MAPS_LINES                                                                        \
  "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234567                    "            \
  "/usr/bin/qemu-system-x86_64\n"                                                         \
  "7f6812000000-7f6832000000 rw-s 00000000 00:01 2048                       "            \
  "/memfd:memory-backend-memfd (deleted)\n"                                               \
  "7f6832000000-7f6832001000 rw-p 00000000 00:00 0 \n"                                    \
  "7f6840000000-7f6840100000 rw-s 00200000 08:02 99                         "            \
  "/var/lib/my vm/ram file\n"                                                             \
  "7f6850000000-7f6850001000 r-xp 00001000 103:1a 18446744073709551615      "            \
  "/opt/a  b (deleted) c\n"                                                               \
  "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"    \
  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

#define MAPS_N_LINES 7

typedef struct {
  const char *name;
  guint64 hva;
  guint64 start, end;
  const char *perms;      /* "rwxs" letters or '-' */
  guint64 file_off;
  guint32 dev_major, dev_minor;
  guint64 inode;
  const char *path;
  gboolean deleted;
} MapsFindCase;

static const MapsFindCase maps_find_cases[] = {
  { "memfd-first-byte", 0x7f6812000000, 0x7f6812000000, 0x7f6832000000, "rw-s", 0, 0, 1,
    2048, "/memfd:memory-backend-memfd (deleted)", TRUE },
  { "memfd-inside", 0x7f6812345678, 0x7f6812000000, 0x7f6832000000, "rw-s", 0, 0, 1, 2048,
    "/memfd:memory-backend-memfd (deleted)", TRUE },
  { "memfd-last-byte", 0x7f6831ffffff, 0x7f6812000000, 0x7f6832000000, "rw-s", 0, 0, 1,
    2048, "/memfd:memory-backend-memfd (deleted)", TRUE },
  /* The end is exclusive: the next mapping begins there. */
  { "end-is-next-start", 0x7f6832000000, 0x7f6832000000, 0x7f6832001000, "rw-p", 0, 0, 0, 0,
    "", FALSE },
  { "binary", 0x55d0c0a00abc, 0x55d0c0a00000, 0x55d0c0a01000, "r--p", 0, 0xfd, 1, 1234567,
    "/usr/bin/qemu-system-x86_64", FALSE },
  { "path-with-spaces", 0x7f6840000000, 0x7f6840000000, 0x7f6840100000, "rw-s", 0x200000,
    8, 2, 99, "/var/lib/my vm/ram file", FALSE },
  /* Three-digit major, largest inode; " (deleted)" only counts at the end. */
  { "deleted-inside-path", 0x7f6850000fff, 0x7f6850000000, 0x7f6850001000, "r-xp", 0x1000,
    0x103, 0x1a, G_MAXUINT64, "/opt/a  b (deleted) c", FALSE },
  { "stack", 0x7ffd00020fff, 0x7ffd00000000, 0x7ffd00021000, "rw-p", 0, 0, 0, 0, "[stack]",
    FALSE },
  { "top-of-address-space", 0xffffffffff600000, 0xffffffffff600000, 0xffffffffff601000,
    "--xp", 0, 0, 0, 0, "[vsyscall]", FALSE },
};

static void
assert_mapping(const HwQemuProcMapping *m, const MapsFindCase *c)
{
  g_assert_nonnull(m);
  g_assert_cmphex(m->start, ==, c->start);
  g_assert_cmphex(m->end, ==, c->end);
  g_assert_cmpint(m->read, ==, c->perms[0] == 'r');
  g_assert_cmpint(m->write, ==, c->perms[1] == 'w');
  g_assert_cmpint(m->exec, ==, c->perms[2] == 'x');
  g_assert_cmpint(m->shared, ==, c->perms[3] == 's');
  g_assert_cmphex(m->file_off, ==, c->file_off);
  g_assert_cmphex(m->dev_major, ==, c->dev_major);
  g_assert_cmphex(m->dev_minor, ==, c->dev_minor);
  g_assert_cmpuint(m->inode, ==, c->inode);
  g_assert_cmpstr(m->path, ==, c->path);
  g_assert_cmpint(m->deleted, ==, c->deleted);
}

/* Reverse the lines of TEXT (each ending in '\n'). */
static char *
reverse_lines(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  g_autoptr(GString) out = g_string_new(NULL);
  for (guint i = n; i-- > 0;) {
    if (lines[i][0] != '\0')
      g_string_append_printf(out, "%s\n", lines[i]);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
test_maps_find(gconstpointer data)
{
  const MapsFindCase *c = data;
  g_autoptr(GError) error = NULL;

  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(MAPS_LINES, c->hva, &error);
  g_assert_no_error(error);
  assert_mapping(m, c);

  /* The kernel's order is not relied on. */
  g_autofree char *reversed = reverse_lines(MAPS_LINES);
  g_autoptr(HwQemuProcMapping) r = hw_qemu_proc_find_mapping(reversed, c->hva, &error);
  g_assert_no_error(error);
  assert_mapping(r, c);

  /* The same mapping is in the full parse. */
  guint skipped = 99;
  g_autoptr(GPtrArray) all = hw_qemu_proc_parse_maps(MAPS_LINES, &skipped, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, MAPS_N_LINES);
  g_assert_cmpuint(skipped, ==, 0);
  guint hits = 0;
  for (guint i = 0; i < all->len; i++) {
    const HwQemuProcMapping *a = g_ptr_array_index(all, i);
    if (c->hva >= a->start && c->hva < a->end) {
      assert_mapping(a, c);
      hits++;
    }
  }
  g_assert_cmpuint(hits, ==, 1);
}

static const guint64 unmapped_hvas[] = {
  0, 0x55d0c0a01000, 0x7f6811ffffff, 0x7f6832001000, 0x7ffd00021000, 0xffffffffff601000,
  G_MAXUINT64,
};

static void
test_maps_unmapped(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(unmapped_hvas); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(MAPS_LINES, unmapped_hvas[i],
                                                               &error);
    g_assert_null(m);
    g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping("", 0x1000, &error);
  g_assert_null(m);
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
}

/* Text in no kernel's format: overlapping lines. Only an address in both is refused. */
static void
test_maps_overlap(void)
{
  static const char text[] =
    "7f0000002000-7f0000004000 rw-s 00000000 00:01 2                          /b\n"
    "7f0000000000-7f0000003000 rw-s 00000000 00:01 1                          /a\n";
  g_autoptr(GError) error = NULL;

  g_autoptr(HwQemuProcMapping) a = hw_qemu_proc_find_mapping(text, 0x7f0000001fff, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(a->path, ==, "/a");
  g_autoptr(HwQemuProcMapping) b = hw_qemu_proc_find_mapping(text, 0x7f0000003000, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(b->path, ==, "/b");
  g_autoptr(HwQemuProcMapping) both = hw_qemu_proc_find_mapping(text, 0x7f0000002000, &error);
  g_assert_null(both);
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
  g_clear_error(&error);
  /* An exact duplicate is refused as well. */
  g_autofree char *twice = g_strconcat(MAPS_LINES, MAPS_LINES, NULL);
  g_autoptr(HwQemuProcMapping) dup = hw_qemu_proc_find_mapping(twice, 0x7f6812000000, &error);
  g_assert_null(dup);
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
}

typedef struct {
  const char *name;
  const char *line;       /* a malformed line, all but its fault covering 5000...0 */
} MapsHostileCase;

#define H_PATH "                         /h"
static const MapsHostileCase maps_hostile[] = {
  { "start-17-digits", "00000500000000000-500000001000 rw-s 00000000 00:01 7" H_PATH },
  { "end-17-digits", "500000000000-00000500000001000 rw-s 00000000 00:01 7" H_PATH },
  { "start-0x", "0x500000000000-500000001000 rw-s 00000000 00:01 7" H_PATH },
  { "start-negative", "-500000000000-500000001000 rw-s 00000000 00:01 7" H_PATH },
  { "no-dash", "500000000000 500000001000 rw-s 00000000 00:01 7" H_PATH },
  { "no-end", "500000000000- rw-s 00000000 00:01 7" H_PATH },
  { "end-below-start", "500000001000-500000000000 rw-s 00000000 00:01 7" H_PATH },
  { "empty-range", "500000000000-500000000000 rw-s 00000000 00:01 7" H_PATH },
  { "perms-unknown", "500000000000-500000001000 rw-q 00000000 00:01 7" H_PATH },
  { "perms-upper-case", "500000000000-500000001000 Rw-s 00000000 00:01 7" H_PATH },
  { "perms-swapped", "500000000000-500000001000 wr-s 00000000 00:01 7" H_PATH },
  { "perms-short", "500000000000-500000001000 rws 00000000 00:01 7" H_PATH },
  { "perms-long", "500000000000-500000001000 rw-ss 00000000 00:01 7" H_PATH },
  { "tab-separator", "500000000000-500000001000\trw-s 00000000 00:01 7" H_PATH },
  { "two-spaces", "500000000000-500000001000  rw-s 00000000 00:01 7" H_PATH },
  { "no-offset", "500000000000-500000001000 rw-s 00:01 7" H_PATH },
  { "offset-17-digits", "500000000000-500000001000 rw-s 00000000000000000 00:01 7" H_PATH },
  { "offset-wraps", "500000000000-500000001000 rw-s fffffffffffff001 00:01 7" H_PATH },
  { "dev-no-colon", "500000000000-500000001000 rw-s 00000000 0001 7" H_PATH },
  { "dev-major-9-digits", "500000000000-500000001000 rw-s 00000000 000000001:01 7" H_PATH },
  { "dev-minor-empty", "500000000000-500000001000 rw-s 00000000 00: 7" H_PATH },
  { "dev-not-hex", "500000000000-500000001000 rw-s 00000000 0g:01 7" H_PATH },
  { "no-inode", "500000000000-500000001000 rw-s 00000000 00:01" },
  { "inode-hex", "500000000000-500000001000 rw-s 00000000 00:01 7a" H_PATH },
  { "inode-overflows", "500000000000-500000001000 rw-s 00000000 00:01 18446744073709551616"
    H_PATH },
  { "inode-negative", "500000000000-500000001000 rw-s 00000000 00:01 -7" H_PATH },
  { "path-glued-to-inode", "500000000000-500000001000 rw-s 00000000 00:01 7/h" },
  { "truncated", "500000000000" },
  { "empty", "" },
  { "spaces", "        " },
  { "garbage", "\x01\x02\x03\xff\xfe" },
};

/* Good lines around the hostile one: each is skipped and counted, its neighbours kept. */
static void
test_maps_hostile(gconstpointer data)
{
  const MapsHostileCase *c = data;
  g_autofree char *text = g_strdup_printf(
    "400000000000-400000001000 rw-s 00000000 00:01 5                          /before\n"
    "%s\n"
    "500000001000-500000002000 rw-s 00000000 00:01 6                          /after\n",
    c->line);
  g_autoptr(GError) error = NULL;

  guint skipped = 0;
  g_autoptr(GPtrArray) all = hw_qemu_proc_parse_maps(text, &skipped, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 2);
  g_assert_cmpuint(skipped, ==, 1);
  g_assert_cmpstr(((HwQemuProcMapping *)g_ptr_array_index(all, 0))->path, ==, "/before");
  g_assert_cmpstr(((HwQemuProcMapping *)g_ptr_array_index(all, 1))->path, ==, "/after");

  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(text, 0x500000000000, &error);
  g_assert_null(m);
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  g_assert_nonnull(strstr(error->message, "1 malformed"));
  g_clear_error(&error);
  g_autoptr(HwQemuProcMapping) after = hw_qemu_proc_find_mapping(text, 0x500000001000,
                                                                 &error);
  g_assert_no_error(error);
  g_assert_cmpstr(after->path, ==, "/after");
}

/* The same line with a good fault-free form is taken: the table above tests faults. */
static void
test_maps_hostile_control(void)
{
  static const char line[] = "500000000000-500000001000 rw-s 00000000 00:01 7" H_PATH;
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(line, 0x500000000000, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(m->path, ==, "/h");
}

/* A path of 16 KiB is taken; a line over the bound (and a huge one) is skipped. */
static void
test_maps_long_lines(void)
{
  g_autofree char *long_path = g_strnfill(16 * 1024, 'p');
  g_autofree char *huge_path = g_strnfill(1u << 20, 'p');
  g_autofree char *text = g_strdup_printf(
    "500000000000-500000001000 rw-s 00000000 00:01 7 /%s\n"
    "600000000000-600000001000 rw-s 00000000 00:01 8 /%s\n"
    "700000000000-700000001000 rw-s 00000000 00:01 9 /%s%s\n",
    long_path, huge_path, long_path, long_path);
  g_autoptr(GError) error = NULL;

  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(text, 0x500000000000, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(strlen(m->path), ==, 16 * 1024 + 1);
  guint skipped = 0;
  g_autoptr(GPtrArray) all = hw_qemu_proc_parse_maps(text, &skipped, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 1);
  g_assert_cmpuint(skipped, ==, 2);
}

/* More lines than the bound: HW_ERROR_LIMIT, also when they are all malformed. */
static void
test_maps_too_many_lines(void)
{
  g_autofree char *text = g_strnfill((1u << 20) + 1, '\n');
  g_autoptr(GError) error = NULL;

  g_autoptr(GPtrArray) all = hw_qemu_proc_parse_maps(text, NULL, &error);
  g_assert_null(all);
  g_assert_error(error, HW_ERROR, HW_ERROR_LIMIT);
  g_clear_error(&error);
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_find_mapping(text, 0, &error);
  g_assert_null(m);
  g_assert_error(error, HW_ERROR, HW_ERROR_LIMIT);
  /* Exactly the bound is fine. */
  text[1u << 20] = '\0';
  g_clear_error(&error);
  g_autoptr(GPtrArray) bound = hw_qemu_proc_parse_maps(text, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(bound->len, ==, 0);
}

/* ---- /proc/PID/status text -------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *text;
  gboolean ok;
  guint32 uid;
} StatusCase;

#define STATUS_HEAD "Name:\tqemu-system-x86\nUmask:\t0022\nState:\tS (sleeping)\n"
#define STATUS_TAIL "Gid:\t1000\t1000\t1000\t1000\nFDSize:\t128\n"

static const StatusCase status_cases[] = {
  { "user", STATUS_HEAD "Uid:\t1000\t1000\t1000\t1000\n" STATUS_TAIL, TRUE, 1000 },
  { "root", STATUS_HEAD "Uid:\t0\t0\t0\t0\n" STATUS_TAIL, TRUE, 0 },
  { "setuid", "Uid:\t1000\t0\t0\t0", TRUE, 1000 },
  { "largest", "Uid:\t4294967294\t0\t0\t0\n", TRUE, 4294967294u },
  { "spaces", "Uid: 5 5 5 5 \n", TRUE, 5 },
  { "no-uid-line", STATUS_HEAD STATUS_TAIL, FALSE, 0 },
  { "empty", "", FALSE, 0 },
  { "three-fields", "Uid:\t1000\t1000\t1000\n", FALSE, 0 },
  { "five-fields", "Uid:\t1000\t1000\t1000\t1000\t1000\n", FALSE, 0 },
  { "glued", "Uid:1000\t1000\t1000\t1000\n", FALSE, 0 },
  { "no-uid", "Uid:\t4294967295\t0\t0\t0\n", FALSE, 0 },
  { "overflow", "Uid:\t99999999999999999999999\t0\t0\t0\n", FALSE, 0 },
  { "negative", "Uid:\t-1\t0\t0\t0\n", FALSE, 0 },
  { "junk", "Uid:\t1000\t1000\t1000\t1000x\n", FALSE, 0 },
  { "two-lines", "Uid:\t1\t1\t1\t1\nUid:\t2\t2\t2\t2\n", FALSE, 0 },
  { "indented", " Uid:\t1\t1\t1\t1\n", FALSE, 0 },
};

static void
test_status(gconstpointer data)
{
  const StatusCase *c = data;
  g_autoptr(GError) error = NULL;
  guint32 uid = 77;

  gboolean ok = hw_qemu_proc_parse_status_uid(c->text, &uid, &error);
  if (c->ok) {
    g_assert_no_error(error);
    g_assert_true(ok);
    g_assert_cmpuint(uid, ==, c->uid);
  } else {
    g_assert_false(ok);
    g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
    g_assert_cmpuint(uid, ==, 77);
  }
}

/* ---- the advice on permission errors ---------------------------------------------------- */

typedef struct {
  const char *name;
  gint64 qemu_uid;
  guint32 our_uid;
  gboolean attach;
  int ptrace_scope;
  const char *has[3];
  const char *lacks;
} HintCase;

static const HintCase hint_cases[] = {
  { "other-user", 1000, 1001, FALSE, -1,
    { "QEMU (uid 1000; this process runs as uid 1001)", "root/CAP_SYS_PTRACE", NULL },
    "yama" },
  { "uid-unknown", -1, 1001, FALSE, -1, { "this process runs as uid 1001", NULL }, "uid -1" },
  { "same-user-not-dumpable", 1000, 1000, FALSE, -1, { "not dumpable", NULL }, "yama" },
  { "root-without-cap", 1000, 0, FALSE, -1, { "root without CAP_SYS_PTRACE", NULL }, "yama" },
  { "yama-1", 1000, 1000, TRUE, 1,
    { "kernel.yama.ptrace_scope is 1", "descends from", "ptrace_scope=0" }, "dumpable" },
  { "yama-2", 1000, 1000, TRUE, 2, { "kernel.yama.ptrace_scope is 2", "CAP_SYS_PTRACE", NULL },
    NULL },
  { "yama-3", 0, 0, TRUE, 3, { "kernel.yama.ptrace_scope is 3", "nobody", NULL }, NULL },
  { "yama-odd", 1000, 1000, TRUE, 7, { "kernel.yama.ptrace_scope is 7", NULL }, NULL },
  { "yama-0", 1000, 1001, TRUE, 0, { "uid 1000", NULL }, "yama" },
  /* Yama restricts ptrace attach (/proc/PID/mem), not reading fd/N or maps. */
  { "yama-not-for-read", 1000, 1001, FALSE, 2, { "uid 1000", NULL }, "yama" },
};

static void
test_hint(gconstpointer data)
{
  const HintCase *c = data;
  g_autofree char *hint = hw_qemu_proc_access_hint(c->qemu_uid, c->our_uid, c->attach,
                                                   c->ptrace_scope);
  for (guint i = 0; i < G_N_ELEMENTS(c->has) && c->has[i] != NULL; i++) {
    if (strstr(hint, c->has[i]) == NULL)
      g_error("hint '%s' lacks '%s'", hint, c->has[i]);
  }
  if (c->lacks != NULL && strstr(hint, c->lacks) != NULL)
    g_error("hint '%s' has '%s'", hint, c->lacks);
}

/* ---- the real thing: this process's own memfd ------------------------------------------- */

#define RAM_SIZE (4u << 20)
#define PATTERN_OFF 0x123456u

static const guint8 ram_pattern[16] = "haywire-pattern";

/* A 4 MiB memfd mapped shared, with the pattern at PATTERN_OFF; *FD its fd. */
static guint8 *
make_ram(int *fd)
{
  *fd = memfd_create("hwtest-ram", 0);
  g_assert_cmpint(*fd, >=, 0);
  g_assert_cmpint(ftruncate(*fd, RAM_SIZE), ==, 0);
  guint8 *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  g_assert_true(ram != MAP_FAILED);
  memcpy(ram + PATTERN_OFF, ram_pattern, sizeof(ram_pattern));
  return ram;
}

static void
assert_pread(int fd, guint64 off, const guint8 *want, gsize len)
{
  guint8 got[64];
  g_assert_cmpuint(len, <=, sizeof(got));
  g_assert_cmpint(pread(fd, got, len, (off_t)off), ==, (gssize)len);
  g_assert_cmpmem(got, len, want, len);
}

static void
test_self_memfd(void)
{
  int memfd;
  guint8 *ram = make_ram(&memfd);
  guint64 hva = (guint64)(guintptr)(ram + PATTERN_OFF);
  int pid = getpid();
  g_autoptr(GError) error = NULL;
  struct stat st;
  g_assert_cmpint(fstat(memfd, &st), ==, 0);

  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(pid, hva, &error);
  g_assert_no_error(error);
  g_assert_cmphex(m->start, ==, (guint64)(guintptr)ram);
  g_assert_cmphex(m->end, ==, (guint64)(guintptr)ram + RAM_SIZE);
  g_assert_true(m->read && m->write && !m->exec && m->shared);
  g_assert_cmphex(m->file_off, ==, 0);
  g_assert_cmpuint(m->dev_major, ==, major(st.st_dev));
  g_assert_cmpuint(m->dev_minor, ==, minor(st.st_dev));
  g_assert_cmpuint(m->inode, ==, st.st_ino);
  g_assert_cmpstr(m->path, ==, "/memfd:hwtest-ram (deleted)");
  g_assert_true(m->deleted);

  int found = -1;
  g_assert_true(hw_qemu_proc_find_fd(pid, m, &found, &error));
  g_assert_no_error(error);
  g_assert_cmpint(found, ==, memfd);

  /* Through a new open file of the memfd: the bytes at the mapping's file offset. */
  int file = hw_qemu_proc_open_fd(pid, found, &error);
  g_assert_no_error(error);
  g_assert_cmpint(file, >=, 0);
  g_assert_cmpint(file, !=, memfd);
  assert_pread(file, m->file_off + (hva - m->start), ram_pattern, sizeof(ram_pattern));
  /* Shared: a write through the mapping shows in the file. */
  ram[PATTERN_OFF] = 'H';
  assert_pread(file, m->file_off + (hva - m->start), (const guint8 *)"H", 1);
  close(file);
  file = hw_qemu_proc_open_mapping_file(pid, m, &error);
  g_assert_no_error(error);
  assert_pread(file, PATTERN_OFF + 1, ram_pattern + 1, sizeof(ram_pattern) - 1);
  close(file);

  /* Through /proc/PID/mem at the host virtual address. */
  int mem = hw_qemu_proc_open_mem(pid, &error);
  g_assert_no_error(error);
  g_assert_cmpint(mem, >=, 0);
  assert_pread(mem, hva, (const guint8 *)"Haywire-pattern", sizeof(ram_pattern));
  close(mem);

  g_assert_cmpint(munmap(ram, RAM_SIZE), ==, 0);
  close(memfd);
}

/* A mapping of the memfd's second half: the file offset of an address counts from the
 * mapping's offset. */
static void
test_self_offset(void)
{
  int memfd;
  guint8 *ram = make_ram(&memfd);
  const gsize half = RAM_SIZE / 2;
  memcpy(ram + half + 0x10, ram_pattern, sizeof(ram_pattern));
  guint8 *upper = mmap(NULL, half, PROT_READ, MAP_SHARED, memfd, (off_t)half);
  g_assert_true(upper != MAP_FAILED);
  guint64 hva = (guint64)(guintptr)(upper + 0x10);
  g_autoptr(GError) error = NULL;

  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(getpid(), hva, &error);
  g_assert_no_error(error);
  g_assert_cmphex(m->start, ==, (guint64)(guintptr)upper);
  g_assert_cmphex(m->file_off, ==, half);
  g_assert_true(m->read && !m->write && m->shared);
  int file = hw_qemu_proc_open_mapping_file(getpid(), m, &error);
  g_assert_no_error(error);
  assert_pread(file, m->file_off + (hva - m->start), ram_pattern, sizeof(ram_pattern));
  close(file);

  munmap(upper, half);
  munmap(ram, RAM_SIZE);
  close(memfd);
}

/* Anonymous memory has no file; a file whose fd was closed after mmap has no fd. */
static void
test_self_no_fd(void)
{
  g_autoptr(GError) error = NULL;
  const gsize size = 1u << 20;
  guint8 *anon = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true(anon != MAP_FAILED);
  anon[0] = 1;
  g_autoptr(HwQemuProcMapping) a = hw_qemu_proc_read_mapping(getpid(), (guintptr)anon,
                                                             &error);
  g_assert_no_error(error);
  g_assert_cmpuint(a->inode, ==, 0);
  int fd = -1;
  g_assert_false(hw_qemu_proc_find_fd(getpid(), a, &fd, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "/mem"));
  g_clear_error(&error);
  munmap(anon, size);

  int memfd;
  guint8 *ram = make_ram(&memfd);
  close(memfd);
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(getpid(), (guintptr)ram, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(m->inode, !=, 0);
  g_assert_false(hw_qemu_proc_find_fd(getpid(), m, &fd, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
  g_assert_cmpint(hw_qemu_proc_open_mapping_file(getpid(), m, NULL), ==, -1);
  munmap(ram, RAM_SIZE);
}

static void
test_self_uid(void)
{
  g_autoptr(GError) error = NULL;
  guint32 uid = 12345;
  g_assert_true(hw_qemu_proc_get_uid(getpid(), &uid, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(uid, ==, getuid());
}

/* Mapped nowhere in this process: the page at 0. An fd not open: G_IO_ERROR. */
static void
test_self_missing(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(getpid(), 0, &error);
  g_assert_null(m);
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
  g_clear_error(&error);
  g_assert_cmpint(hw_qemu_proc_open_fd(getpid(), 999999, &error), ==, -1);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "/fd/999999"));
}

static void
test_no_process(void)
{
  const HwQemuProcMapping file = { .start = 0x1000, .end = 0x2000, .inode = 5, .path = "/x" };
  g_autofree char *want = g_strdup_printf("no process %d", NO_SUCH_PID);
  GError *errors[6] = { NULL };
  int fd;
  guint32 uid;

  g_assert_cmpint(hw_qemu_proc_open_mem(NO_SUCH_PID, &errors[0]), ==, -1);
  g_assert_cmpint(hw_qemu_proc_open_fd(NO_SUCH_PID, 3, &errors[1]), ==, -1);
  g_assert_null(hw_qemu_proc_read_mapping(NO_SUCH_PID, 0x1000, &errors[2]));
  g_assert_false(hw_qemu_proc_find_fd(NO_SUCH_PID, &file, &fd, &errors[3]));
  g_assert_false(hw_qemu_proc_get_uid(NO_SUCH_PID, &uid, &errors[4]));
  g_assert_cmpint(hw_qemu_proc_open_mapping_file(NO_SUCH_PID, &file, &errors[5]), ==, -1);
  for (guint i = 0; i < G_N_ELEMENTS(errors); i++) {
    g_assert_error(errors[i], HW_ERROR, HW_ERROR_NOT_FOUND);
    g_assert_cmpstr(errors[i]->message, ==, want);
    g_error_free(errors[i]);
  }
}

static void
test_bad_pid(void)
{
  static const int pids[] = { 0, -1, G_MININT };
  for (gsize i = 0; i < G_N_ELEMENTS(pids); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(hw_qemu_proc_open_mem(pids[i], &error), ==, -1);
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(hw_qemu_proc_open_fd(getpid(), -1, &error), ==, -1);
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* ---- refused access ----------------------------------------------------------------------
 * As root: a child that drops to uid 65534 tries this process's files. Otherwise: this
 * process tries pid 1's (another user's, normally root's). Either way the kernel says
 * EACCES, and the message must say what is missing. */

#define NOBODY 65534

typedef struct {
  int mem_code, fd_code, maps_code;   /* G_IO_ERROR codes, -1: not G_IO_ERROR */
  char *mem_msg, *fd_msg, *maps_msg;
} DeniedResult;

static void
code_and_message(GError *error, int *code, char **msg)
{
  *code = error != NULL && error->domain == G_IO_ERROR ? error->code : -1;
  *msg = g_strdup(error != NULL ? error->message : "(no error)");
}

static void
try_denied(int pid, int fd, guint64 hva, DeniedResult *r)
{
  g_autoptr(GError) e_mem = NULL, e_fd = NULL, e_maps = NULL;
  int got = hw_qemu_proc_open_mem(pid, &e_mem);
  if (got >= 0)
    close(got);
  got = hw_qemu_proc_open_fd(pid, fd, &e_fd);
  if (got >= 0)
    close(got);
  g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(pid, hva, &e_maps);
  code_and_message(e_mem, &r->mem_code, &r->mem_msg);
  code_and_message(e_fd, &r->fd_code, &r->fd_msg);
  code_and_message(e_maps, &r->maps_code, &r->maps_msg);
}

static void
write_all(int fd, const char *s)
{
  gsize len = strlen(s) + 1;   /* with its NUL: the separator */
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n <= 0)
      _exit(3);
    s += n;
    len -= (gsize)n;
  }
}

/* Run try_denied on this process from a child running as NOBODY; FALSE (with *WHY) when
 * the child cannot drop to that uid here. */
static gboolean
denied_from_child(int fd, guint64 hva, DeniedResult *r, char **why)
{
  int pipe_fds[2];
  g_assert_cmpint(pipe(pipe_fds), ==, 0);
  int parent = getpid();
  pid_t child = fork();
  g_assert_cmpint(child, >=, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
      write_all(pipe_fds[1], g_strerror(errno));
      _exit(2);
    }
    DeniedResult cr;
    try_denied(parent, fd, hva, &cr);
    char *codes = g_strdup_printf("%d %d %d", cr.mem_code, cr.fd_code, cr.maps_code);
    write_all(pipe_fds[1], codes);
    write_all(pipe_fds[1], cr.mem_msg);
    write_all(pipe_fds[1], cr.fd_msg);
    write_all(pipe_fds[1], cr.maps_msg);
    g_free(codes);
    g_free(cr.mem_msg);
    g_free(cr.fd_msg);
    g_free(cr.maps_msg);
    _exit(0);
  }
  close(pipe_fds[1]);
  g_autoptr(GByteArray) out = g_byte_array_new();
  guint8 buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof(buf))) > 0)
    g_byte_array_append(out, buf, (guint)n);
  close(pipe_fds[0]);
  int status = 0;
  g_assert_cmpint(waitpid(child, &status, 0), ==, child);
  g_assert_true(WIFEXITED(status));
  g_byte_array_append(out, (const guint8 *)"", 1);
  if (WEXITSTATUS(status) == 2) {
    *why = g_strdup_printf("cannot drop to uid %d here: %s", NOBODY, (char *)out->data);
    return FALSE;
  }
  g_assert_cmpint(WEXITSTATUS(status), ==, 0);
  /* Four NUL-terminated strings. */
  const char *p = (const char *)out->data, *end = p + out->len;
  const char *parts[4];
  for (guint i = 0; i < 4; i++) {
    g_assert_true(p < end);
    parts[i] = p;
    p += strlen(p) + 1;
  }
  g_assert_cmpint(sscanf(parts[0], "%d %d %d", &r->mem_code, &r->fd_code, &r->maps_code),
                  ==, 3);
  r->mem_msg = g_strdup(parts[1]);
  r->fd_msg = g_strdup(parts[2]);
  r->maps_msg = g_strdup(parts[3]);
  return TRUE;
}

static void
assert_has(const char *message, const char *piece)
{
  if (strstr(message, piece) == NULL)
    g_error("message '%s' lacks '%s'", message, piece);
}

static void
test_permission_denied(void)
{
  int memfd;
  guint8 *ram = make_ram(&memfd);
  guint64 hva = (guint64)(guintptr)ram;
  DeniedResult r = { 0 };
  int target;
  g_autofree char *why = NULL;

  if (geteuid() == 0) {
    target = getpid();
    if (!denied_from_child(memfd, hva, &r, &why)) {
      munmap(ram, RAM_SIZE);
      close(memfd);
      g_test_skip(why);
      return;
    }
  } else {
    guint32 init_uid = 0;
    target = 1;
    if (!hw_qemu_proc_get_uid(1, &init_uid, NULL) || init_uid == geteuid()) {
      munmap(ram, RAM_SIZE);
      close(memfd);
      g_test_skip("not root, and pid 1 is not another user's process");
      return;
    }
    try_denied(1, 0, 0x1000, &r);
  }
  g_autofree char *mem_what = g_strdup_printf("cannot read QEMU's memory through /proc/%d/mem: "
                                              "Permission denied: ", target);
  g_autofree char *fd_what = g_strdup_printf("cannot open QEMU's RAM file /proc/%d/fd/", target);
  g_autofree char *maps_what = g_strdup_printf("/proc/%d/maps: Permission denied", target);
  g_test_message("%s", r.mem_msg);
  g_test_message("%s", r.fd_msg);
  g_test_message("%s", r.maps_msg);
  g_assert_cmpint(r.mem_code, ==, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpint(r.fd_code, ==, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpint(r.maps_code, ==, G_IO_ERROR_PERMISSION_DENIED);
  assert_has(r.mem_msg, mem_what);
  assert_has(r.fd_msg, fd_what);
  assert_has(r.maps_msg, maps_what);
  const char *msgs[] = { r.mem_msg, r.fd_msg, r.maps_msg };
  for (gsize i = 0; i < G_N_ELEMENTS(msgs); i++) {
    assert_has(msgs[i], "needs the same user as QEMU (uid ");
    assert_has(msgs[i], "root/CAP_SYS_PTRACE");
  }
  if (geteuid() == 0) {
    assert_has(r.mem_msg, "(uid 0; this process runs as uid 65534)");
    assert_has(r.fd_msg, "(uid 0; this process runs as uid 65534)");
  }
  /* Yama, when the host has it switched on, is named for /proc/PID/mem only. */
  g_autofree char *scope = NULL;
  if (g_file_get_contents("/proc/sys/kernel/yama/ptrace_scope", &scope, NULL, NULL) &&
      atoi(scope) > 0)
    assert_has(r.mem_msg, "kernel.yama.ptrace_scope is ");
  g_assert_null(strstr(r.fd_msg, "yama"));
  g_free(r.mem_msg);
  g_free(r.fd_msg);
  g_free(r.maps_msg);
  munmap(ram, RAM_SIZE);
  close(memfd);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS(gpa2hva_good); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/gpa2hva/good/%s",
                                            gpa2hva_good[i].name);
    g_test_add_data_func(path, &gpa2hva_good[i], test_gpa2hva_good);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(gpa2hva_bad); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/gpa2hva/bad/%s",
                                            gpa2hva_bad[i].name);
    g_test_add_data_func(path, &gpa2hva_bad[i], test_gpa2hva_bad);
  }
  g_test_add_func("/guest/qemu-process/gpa2hva/long", test_gpa2hva_long);
  for (gsize i = 0; i < G_N_ELEMENTS(maps_find_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/maps/find/%s",
                                            maps_find_cases[i].name);
    g_test_add_data_func(path, &maps_find_cases[i], test_maps_find);
  }
  g_test_add_func("/guest/qemu-process/maps/unmapped", test_maps_unmapped);
  g_test_add_func("/guest/qemu-process/maps/overlap", test_maps_overlap);
  for (gsize i = 0; i < G_N_ELEMENTS(maps_hostile); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/maps/hostile/%s",
                                            maps_hostile[i].name);
    g_test_add_data_func(path, &maps_hostile[i], test_maps_hostile);
  }
  g_test_add_func("/guest/qemu-process/maps/hostile-control", test_maps_hostile_control);
  g_test_add_func("/guest/qemu-process/maps/long-lines", test_maps_long_lines);
  g_test_add_func("/guest/qemu-process/maps/too-many-lines", test_maps_too_many_lines);
  for (gsize i = 0; i < G_N_ELEMENTS(status_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/status/%s",
                                            status_cases[i].name);
    g_test_add_data_func(path, &status_cases[i], test_status);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(hint_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/qemu-process/hint/%s",
                                            hint_cases[i].name);
    g_test_add_data_func(path, &hint_cases[i], test_hint);
  }
  g_test_add_func("/guest/qemu-process/self/memfd", test_self_memfd);
  g_test_add_func("/guest/qemu-process/self/file-offset", test_self_offset);
  g_test_add_func("/guest/qemu-process/self/no-fd", test_self_no_fd);
  g_test_add_func("/guest/qemu-process/self/uid", test_self_uid);
  g_test_add_func("/guest/qemu-process/self/missing", test_self_missing);
  g_test_add_func("/guest/qemu-process/no-process", test_no_process);
  g_test_add_func("/guest/qemu-process/bad-pid", test_bad_pid);
  g_test_add_func("/guest/qemu-process/permission-denied", test_permission_denied);
  return g_test_run();
}
