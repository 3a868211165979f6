/* Snapshots: take, save, load, diff over memory given as data; damaged files refused. */
#include <haywire/haywire.h>

#include <glib/gstdio.h>
#include <string.h>
#include <xxhash.h>

#define PAGES 16

static const HwRamRange ranges[] = { { 0, 8 * 4096, 0 }, { 0x100000, 8 * 4096, 8 * 4096 } };

static HwSnapshot *
take(guint8 *ram)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(ram, PAGES * 4096, ranges, 2, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) meta = json_object_new();
  json_object_set_int_member(meta, "epoch", 7);
  HwSnapshot *s = hw_snapshot_take(mem, NULL, meta, 2, &error);
  g_assert_no_error(error);
  return s;
}

static char *
save(HwSnapshot *s, const char *dir, const char *name)
{
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_snapshot_save(s, path, &error));
  g_assert_no_error(error);
  return path;
}

/* A page rewritten, one written where there were zeros, one zeroed: each reported as
 * such at its gpa, through a save and a load; a snapshot never differs from itself. */
static void
test_roundtrip_diff(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-snap-XXXXXX", NULL);
  g_autofree guint8 *ram = g_malloc0(PAGES * 4096);
  for (guint i = 0; i < 3 * 4096; i++)
    ram[4096 + i] = (guint8)(i * 7 + 3);
  g_autoptr(HwSnapshot) a = take(ram);
  ram[4096 + 100] ^= 0xff;                 /* page 1 changed */
  memset(ram + 2 * 4096, 0, 4096);         /* page 2 vanished */
  ram[9 * 4096 + 5] = 1;                   /* page 9 (gpa 0x101000) appeared */
  g_autoptr(HwSnapshot) b = take(ram);
  g_autofree char *pa = save(a, dir, "a"), *pb = save(b, dir, "b");
  g_autoptr(GError) error = NULL;
  g_autoptr(HwSnapshot) la = hw_snapshot_load(pa, &error);
  g_assert_no_error(error);
  g_autoptr(HwSnapshot) lb = hw_snapshot_load(pb, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(hw_snapshot_get_metadata(la), "epoch"), ==, 7);
  g_autoptr(GArray) d = hw_snapshot_diff(la, lb, &error);
  g_assert_no_error(error);
  static const HwPageDiff want[] = {
    { 0x1000, HW_PAGE_CHANGED }, { 0x2000, HW_PAGE_VANISHED }, { 0x101000, HW_PAGE_APPEARED },
  };
  g_assert_cmpuint(d->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < d->len; i++) {
    g_assert_cmphex(g_array_index(d, HwPageDiff, i).gpa, ==, want[i].gpa);
    g_assert_cmpint(g_array_index(d, HwPageDiff, i).change, ==, want[i].change);
  }
  g_autoptr(GArray) none = hw_snapshot_diff(lb, lb, &error);
  g_assert_cmpuint(none->len, ==, 0);
  g_unlink(pa);
  g_unlink(pb);
  g_rmdir(dir);
}

/* Damaged files: each refused with a message saying what is wrong, never a crash. */
static void
test_damaged(void)
{
  g_autofree guint8 *ram = g_malloc0(PAGES * 4096);
  ram[5] = 1;
  g_autoptr(HwSnapshot) s = take(ram);
  g_autofree char *dir = g_dir_make_tmp("hw-snap-XXXXXX", NULL);
  g_autofree char *path = save(s, dir, "good");
  g_autofree guint8 *good = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, (char **)&good, &len, NULL));
  static const struct {
    const char *name;
    gsize at;            /* byte to flip, or truncate to when FLIP is 0; -8, -12: from the
                          * end, -2: the middle */
    guint8 flip;
    const char *why;
  } cases[] = {
    { "empty", 0, 0, "no snapshot header" },
    { "header-only", 32, 0, "no snapshot header" },
    { "half", (gsize)-2, 0, "checksum" },
    { "magic", 0, 0x20, "no snapshot header" },
    { "version", 8, 0x02, "format version" },
    { "a-hash", (gsize)-12, 0x01, "checksum" },   /* in the tables' zstd frame */
    { "checksum", (gsize)-8, 0x01, "checksum" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree guint8 *bad = g_memdup2(good, len);
    gsize n = len;
    gsize at = cases[i].at == (gsize)-8    ? len - 8
               : cases[i].at == (gsize)-12 ? len - 12
               : cases[i].at == (gsize)-2  ? len / 2
                                           : cases[i].at;
    if (cases[i].flip)
      bad[at] ^= cases[i].flip;
    else
      n = at;
    g_autoptr(GError) error = NULL;
    g_autoptr(HwSnapshot) x = hw_snapshot_parse(n ? bad : NULL, n, cases[i].name, &error);
    g_assert_null(x);
    g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
    if (strstr(error->message, cases[i].why) == NULL)
      g_error("%s: %s", cases[i].name, error->message);
    g_assert_null(hw_snapshot_parse(n ? bad : NULL, n, cases[i].name, NULL));
  }
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_snapshot_load("/nonexistent/snap", &error));
  g_assert_nonnull(error);
  g_unlink(path);
  g_rmdir(dir);
}

/* Another VM's snapshot (another RAM map) is not diffed. */
static void
test_other_ram_map(void)
{
  g_autofree guint8 *ram = g_malloc0(PAGES * 4096);
  g_autoptr(HwSnapshot) a = take(ram);
  const HwRamRange one = { 0, PAGES * 4096, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(ram, PAGES * 4096, &one, 1, &error);
  g_autoptr(HwSnapshot) b = hw_snapshot_take(mem, NULL, NULL, 1, &error);
  g_assert_null(hw_snapshot_diff(a, b, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* Rewrite the checksum trailer after changing D (a forged or unlucky file). */
static void
reseal(guint8 *d, gsize len)
{
  guint64 sum = GUINT64_TO_LE(XXH3_64bits(d, len - 8));
  memcpy(d + len - 8, &sum, 8);
}

/* --data: the pages come back byte for byte, with the moment's registers, through a save
 * and a load; a damaged page is caught by its hash; hashes alone cannot be read. */
static void
test_data(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-snap-XXXXXX", NULL);
  g_autofree guint8 *ram = g_malloc0(PAGES * 4096);
  for (guint i = 0; i < 5 * 4096; i++)
    ram[3 * 4096 + i] = (guint8)(i * 13 + i / 4096);
  ram[9 * 4096 + 77] = 0x5a;
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(ram, PAGES * 4096, ranges, 2, &error);
  g_autoptr(JsonParser) jp = json_parser_new();
  g_assert_true(json_parser_load_from_data(jp, "{\"epoch\": 4, \"arch\": \"x86_64\", "
                "\"vcpus\": [{\"CR3\": \"0x1234000\", \"RIP\": \"0xffffffff81000000\"}]}", -1, NULL));
  JsonObject *meta = json_node_get_object(json_parser_get_root(jp));
  g_autoptr(HwSnapshot) s = hw_snapshot_take(mem, NULL, meta, 2, &error);
  g_assert_no_error(error);
  g_autofree char *plain = save(s, dir, "plain");
  g_assert_true(hw_snapshot_add_data(s, mem, 2, &error));
  g_assert_no_error(error);
  g_autofree char *path = save(s, dir, "data");

  g_autoptr(HwSnapshot) l = hw_snapshot_load(path, &error);
  g_assert_no_error(error);
  g_assert_true(hw_snapshot_has_data(l));
  g_autoptr(HwGuest) g = hw_snapshot_open_guest(l, path, 2, &error);
  g_assert_no_error(error);
  g_assert_true(hw_guest_is_offline(g));
  g_assert_cmpuint(hw_guest_get_epoch(g), ==, 4);
  g_assert_cmpuint(hw_guest_get_vcpu_count(g), ==, 1);
  g_autoptr(HwRegs) regs = hw_guest_read_regs(g, 0, &error);
  g_assert_no_error(error);
  guint64 cr3 = 0;
  g_assert_true(hw_regs_get(regs, "CR3", &cr3));
  g_assert_cmphex(cr3, ==, 0x1234000);
  guint8 page[4096];
  for (guint p = 0; p < PAGES; p++) {
    guint64 gpa = p < 8 ? p * 4096ull : 0x100000 + (p - 8) * 4096ull;
    g_assert_true(hw_physmem_read(hw_guest_get_physmem(g), gpa, page, 4096, &error));
    g_assert_cmpmem(page, 4096, ram + p * 4096, 4096);
  }

  g_autoptr(HwSnapshot) lp = hw_snapshot_load(plain, &error);
  g_assert_no_error(error);
  g_assert_false(hw_snapshot_has_data(lp));
  g_assert_null(hw_snapshot_open_guest(lp, plain, 1, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  /* One byte of the last frame changed, checksum resealed: its page no longer matches. */
  g_autofree guint8 *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, (char **)&bytes, &len, NULL));
  bytes[len - 8 - 3] ^= 0x40;
  reseal(bytes, len);
  g_autoptr(HwSnapshot) bad = hw_snapshot_parse(bytes, len, "bad", &error);
  if (bad != NULL)
    g_assert_null(hw_snapshot_open_guest(bad, "bad", 1, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "bad is not a usable snapshot"));
  g_clear_error(&error);
  /* The data section cut short, checksum resealed. */
  g_assert_null(hw_snapshot_parse(bytes, len - 16, "short", &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
  g_clear_error(&error);
  memmove(bytes + len - 24, bytes + len - 8, 8);
  reseal(bytes, len - 16);
  g_assert_null(hw_snapshot_parse(bytes, len - 16, "short", &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
  g_unlink(path);
  g_unlink(plain);
  g_rmdir(dir);
}

static void
put_le(GByteArray *b, guint64 v, guint n)
{
  for (guint i = 0; i < n; i++)
    g_byte_array_append(b, (const guint8[]){ (guint8)(v >> (8 * i)) }, 1);
}

/* The hashes and process pages travel in one zstd frame: a damaged one is refused (even
 * with the checksum resealed); a version 1 file (raw tables) still loads. */
static void
test_tables(void)
{
  g_autofree guint8 *ram = g_malloc0(PAGES * 4096);
  for (guint i = 0; i < PAGES * 4096; i += 4096 * 3)
    ram[i + 9] = (guint8)i;
  g_autoptr(HwSnapshot) s = take(ram);
  g_autofree char *dir = g_dir_make_tmp("hw-snap-XXXXXX", NULL);
  g_autofree char *path = save(s, dir, "t");
  g_autofree guint8 *bytes = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, (char **)&bytes, &len, NULL));
  g_autoptr(GError) error = NULL;
  guint64 packed;
  memcpy(&packed, bytes + 32, 8);
  packed = GUINT64_FROM_LE(packed);
  g_assert_cmpuint(packed, >, 8);
  g_assert_cmpuint(packed, <, len);
  for (gsize back = 9; back < 8 + packed; back++) {
    g_autofree guint8 *bad = g_memdup2(bytes, len);
    bad[len - back] ^= 0x10;
    reseal(bad, len);
    g_autoptr(HwSnapshot) x = hw_snapshot_parse(bad, len, "bad", &error);
    if (x == NULL) {
      g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
      if (strstr(error->message, "page hashes") == NULL)
        g_error("%" G_GSIZE_FORMAT ": %s", back, error->message);
    } else {
      /* zstd frames carry no checksum by default: a flipped literal decodes to another
       * hash, never to a crash. */
      g_assert_nonnull(hw_snapshot_get_hashes(x, 0));
    }
    g_clear_error(&error);
  }
  /* Version 1, by hand: header, ranges, metadata, raw hashes, no process pages. */
  g_autoptr(GByteArray) v1 = g_byte_array_new();
  g_byte_array_append(v1, (const guint8 *)"HWSNAP\r\n", 8);
  put_le(v1, 1, 4);
  put_le(v1, 2, 4);
  put_le(v1, 2, 8);
  put_le(v1, 0, 8);
  for (guint i = 0; i < 2; i++) {
    put_le(v1, ranges[i].gpa, 8);
    put_le(v1, ranges[i].size, 8);
  }
  g_byte_array_append(v1, (const guint8 *)"{}", 2);
  for (guint i = 0; i < 2; i++)
    for (guint p = 0; p < 8; p++)
      put_le(v1, hw_snapshot_get_hashes(s, i)[p], 8);
  put_le(v1, 0, 8);
  reseal(v1->data, v1->len);
  g_autoptr(HwSnapshot) old = hw_snapshot_parse(v1->data, v1->len, "v1", &error);
  g_assert_no_error(error);
  g_autoptr(GArray) d = hw_snapshot_diff(s, old, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(d->len, ==, 0);
  g_unlink(path);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/snapshot/roundtrip-diff", test_roundtrip_diff);
  g_test_add_func("/snapshot/damaged", test_damaged);
  g_test_add_func("/snapshot/other-ram-map", test_other_ram_map);
  g_test_add_func("/snapshot/data", test_data);
  g_test_add_func("/snapshot/tables", test_tables);
  return g_test_run();
}
