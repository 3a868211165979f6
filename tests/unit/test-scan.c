/* The scan engine over synthetic RAM: chunk and page boundaries, zero pages, encodings,
 * RAM-range ends, and per-process scans across physically scattered pages. */
#include <haywire/haywire.h>
#include "scan-ram.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

static GArray *
scan(Ram *r, const char *text, guint threads)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string(text, &error);
  g_assert_no_error(error);
  GArray *hits = hw_scan_phys(r->mem, pats, 0, threads, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  return hits;
}

static void
test_phys_boundaries(void)
{
  g_autoptr(Ram) r = ram_new();
  static const char m[] = "NEEDLE-42";
  /* Inside a page, across a page, across the 8 MiB chunk boundary, at RAM's last bytes,
   * and split across the end of range A into range B (must not match: not contiguous). */
  const guint64 at[] = { 0x1234, 0x2000 - 4, (8u << 20) - 3, RAM_A + RAM_B - 9 };
  for (gsize i = 0; i < G_N_ELEMENTS(at); i++)
    memcpy(r->ram + at[i], m, 9);
  memcpy(r->ram + RAM_A - 4, m, 9);
  for (guint threads = 1; threads <= 3; threads++) {
    g_autoptr(GArray) hits = scan(r, m, threads);
    g_assert_cmpuint(hits->len, ==, 4);
    g_assert_cmphex(g_array_index(hits, HwScanHit, 0).gpa, ==, 0x1234);
    g_assert_cmphex(g_array_index(hits, HwScanHit, 1).gpa, ==, 0x2000 - 4);
    g_assert_cmphex(g_array_index(hits, HwScanHit, 2).gpa, ==, (8u << 20) - 3);
    g_assert_cmphex(g_array_index(hits, HwScanHit, 3).gpa, ==, (1ull << 32) + RAM_B - 9);
  }
}

static void
test_phys_utf16(void)
{
  g_autoptr(Ram) r = ram_new();
  static const guint8 w[] = { 'h', 0, 0xe9, 0, 'y', 0 };   /* "héy" in UTF-16LE */
  memcpy(r->ram + 0x5000, w, sizeof w);
  memcpy(r->ram + 0x9000, "h\xc3\xa9y", 4);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string("h\xc3\xa9y", &error);
  g_autoptr(GArray) hits = hw_scan_phys(r->mem, pats, 0, 2, NULL, NULL, NULL, &error);
  g_assert_cmpuint(hits->len, ==, 2);
  const HwScanHit *a = &g_array_index(hits, HwScanHit, 0), *b = &g_array_index(hits, HwScanHit, 1);
  g_assert_cmphex(a->gpa, ==, 0x5000);
  g_assert_cmpstr(((HwPattern *)pats->pdata[a->pattern])->encoding, ==, "utf-16le");
  g_assert_cmphex(b->gpa, ==, 0x9000);
  g_assert_cmpstr(((HwPattern *)pats->pdata[b->pattern])->encoding, ==, "ascii");
}

/* A match starting in a non-zero page may end in an all-zero page. */
static void
test_phys_into_zero_page(void)
{
  g_autoptr(Ram) r = ram_new();
  static const guint8 w[] = { 'A', 0, 'B', 0 };
  memcpy(r->ram + 0x3000 - 3, w, 3);   /* the last 0 falls in the zero page 0x3000 */
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string("AB", &error);
  g_autoptr(GArray) hits = hw_scan_phys(r->mem, pats, 0, 1, NULL, NULL, NULL, &error);
  g_assert_cmpuint(hits->len, ==, 1);
  g_assert_cmphex(g_array_index(hits, HwScanHit, 0).gpa, ==, 0x3000 - 3);
}

static void
test_bad_strings(void)
{
  const char *bad[] = { "", "x", "\xff\xfe" };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(hw_pattern_list_for_string(bad[i], &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
}

/* Virtual scan: two VA-adjacent pages mapped to far-apart, reversed physical pages. */
static void
test_vmas_scattered(void)
{
  g_autoptr(Ram) r = ram_new();
  const guint64 pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000, pt = 0x103000;
  const guint64 va = 0x400000, pa0 = 0x900000, pa1 = 0x700000;
  guint64 e;
#define PUT(gpa, val) (e = (val), memcpy(r->ram + (gpa), &e, 8))
  PUT(pml4 + 8 * ((va >> 39) & 511), pdpt | 7);
  PUT(pdpt + 8 * ((va >> 30) & 511), pd | 7);
  PUT(pd + 8 * ((va >> 21) & 511), pt | 7);
  PUT(pt + 8 * ((va >> 12) & 511), pa0 | 7);
  PUT(pt + 8 * (((va >> 12) & 511) + 1), pa1 | 7);
  /* page 2 of the VMA is not present: nothing may run across it */
#undef PUT
  memcpy(r->ram + pa0 + 4096 - 5, "SPLIT", 5);
  memcpy(r->ram + pa1, "-ACROSS", 7);
  memcpy(r->ram + pa1 + 4096 - 3, "SPL", 3);
  g_autoptr(HwMmu) mmu = hw_mmu_new_x86_64(r->mem, &(HwX86Paging){ .cr3 = pml4, .nxe = TRUE });
  g_autoptr(GArray) vmas = g_array_new(FALSE, TRUE, sizeof(HwVma));
  HwVma v = { .start = va, .end = va + 3 * 4096 };
  g_array_append_val(vmas, v);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string("SPLIT-ACROSS", &error);
  g_autoptr(GArray) hits = hw_scan_vmas(mmu, r->mem, vmas, pats, 0, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hits->len, ==, 1);
  g_assert_cmphex(g_array_index(hits, HwScanHit, 0).va, ==, va + 4096 - 5);
  g_assert_cmphex(g_array_index(hits, HwScanHit, 0).gpa, ==, pa0 + 4096 - 5);
  /* The physical scan cannot see it: the halves are not adjacent in RAM. */
  g_autoptr(GArray) phys = hw_scan_phys(r->mem, pats, 0, 1, NULL, NULL, NULL, &error);
  g_assert_cmpuint(phys->len, ==, 0);
}

/* A 1 TiB VMA with one page mapped at its end: the scan skips the holes the page walk
 * finds (512 GiB, 1 GiB, 2 MiB at a time) instead of trying 2^28 pages. */
static void
test_vmas_huge_hole(void)
{
  g_autoptr(Ram) r = ram_new();
  const guint64 pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000, pt = 0x103000;
  const guint64 va = (1ull << 40) - 4096, pa = 0x900000;
  guint64 e;
#define PUT(gpa, val) (e = (val), memcpy(r->ram + (gpa), &e, 8))
  PUT(pml4 + 8 * ((va >> 39) & 511), pdpt | 7);
  PUT(pdpt + 8 * ((va >> 30) & 511), pd | 7);
  PUT(pd + 8 * ((va >> 21) & 511), pt | 7);
  PUT(pt + 8 * ((va >> 12) & 511), pa | 7);
#undef PUT
  memcpy(r->ram + pa + 100, "FAR-AWAY", 8);
  g_autoptr(HwMmu) mmu = hw_mmu_new_x86_64(r->mem, &(HwX86Paging){ .cr3 = pml4, .nxe = TRUE });
  g_autoptr(GArray) vmas = g_array_new(FALSE, TRUE, sizeof(HwVma));
  HwVma v = { .start = 0, .end = 1ull << 40 };
  g_array_append_val(vmas, v);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string("FAR-AWAY", &error);
  /* (Without the skips this is 2^28 page walks: minutes, past the test's time-out.) */
  g_autoptr(GArray) hits = hw_scan_vmas(mmu, r->mem, vmas, pats, 0, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hits->len, ==, 1);
  g_assert_cmphex(g_array_index(hits, HwScanHit, 0).va, ==, va + 100);

  HwTranslation t;
  g_assert_false(hw_mmu_translate(mmu, 0x1000, &t, NULL));
  g_assert_cmphex(hw_mmu_hole_end(mmu, 0x1000, &t), ==, 1ull << 39);
  g_assert_false(hw_mmu_translate(mmu, va - 4096, &t, NULL));
  g_assert_cmphex(hw_mmu_hole_end(mmu, va - 4096, &t), ==, va);
}

/* A sparse memory file: only written stretches are scanned, holes stay holes. */
static void
test_sparse_file(void)
{
  /* On tmpfs when there is one: that is where QEMU's memory files live, and where a
   * read through the mapping allocates a hole. */
  g_autofree char *dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                             ? g_mkdtemp(g_strdup("/dev/shm/hw-scan-XXXXXX"))
                             : g_dir_make_tmp("hw-scan-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "ram", NULL);
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(ftruncate(fd, 4 << 20), ==, 0);
  g_assert_cmpint(pwrite(fd, "..SPARSE-HIT..", 14, (2 << 20) + 100), ==, 14);
  close(fd);
  const HwRamRange range = { 0, 4 << 20, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open(path, &range, 1, &error);
  g_assert_no_error(error);
  guint64 ds = 0, de = 0;
  g_assert_true(hw_physmem_next_data(mem, 0, 4 << 20, &ds, &de));
  /* tmpfs and most file systems track holes per page or block; accept any granularity
   * that still skips the first MiB and covers the write. */
  g_assert_cmpuint(ds, >=, 1 << 20);
  g_assert_cmpuint(ds, <=, (2 << 20) + 100);
  g_assert_cmpuint(de, >=, (2 << 20) + 114);
  g_autoptr(GPtrArray) pats = hw_pattern_list_for_string("SPARSE-HIT", &error);
  g_autoptr(GArray) hits = hw_scan_phys(mem, pats, 0, 2, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hits->len, ==, 1);
  g_assert_cmphex(g_array_index(hits, HwScanHit, 0).gpa, ==, (2 << 20) + 102);

  /* Reading across holes through the data map: zeros and the data, and the file
   * allocates nothing more (a plain read through the mapping would). */
  struct stat before, after;
  g_assert_cmpint(stat(path, &before), ==, 0);
  g_autoptr(HwExtents) map = hw_physmem_get_extents(mem);
  g_autofree guint8 *buf = g_malloc(3 << 20);
  g_assert_true(hw_extents_read(map, mem, 0, buf, 3 << 20, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf + (2 << 20) + 100, 14, "..SPARSE-HIT..", 14);
  for (gsize i = 0; i < (2 << 20) + 100; i++)
    g_assert_cmpuint(buf[i], ==, 0);
  g_assert_cmpint(stat(path, &after), ==, 0);
  g_assert_cmpint(after.st_blocks, ==, before.st_blocks);
  /* Out of RAM: the same error as hw_physmem_read. */
  g_assert_false(hw_extents_read(map, mem, (4 << 20) - 8, buf, 16, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
  unlink(path);
  rmdir(dir);
}

/* Page hashes of a sparse file: holes marked as holes and not read (the file allocates
 * nothing), a written zero page as zero, pages of data by their XXH3-64 (equal pages
 * equal, one byte apart different); the same with 1 and 2 threads; a file cut short
 * is refused. */
static void
test_page_hashes(void)
{
  g_autofree char *dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                             ? g_mkdtemp(g_strdup("/dev/shm/hw-hash-XXXXXX"))
                             : g_dir_make_tmp("hw-hash-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "ram", NULL);
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  g_assert_cmpint(fd, >=, 0);
  const gsize size = 16 << 20;   /* two chunks */
  g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
  guint8 page[4096];
  memset(page, 0, sizeof page);
  g_assert_cmpint(pwrite(fd, page, sizeof page, 9 << 20), ==, 4096);   /* written zeros */
  for (guint i = 0; i < sizeof page; i++)
    page[i] = (guint8)(i * 7 + 1);
  g_assert_cmpint(pwrite(fd, page, sizeof page, 1 << 20), ==, 4096);
  g_assert_cmpint(pwrite(fd, page, sizeof page, 12 << 20), ==, 4096);
  page[100] ^= 1;
  g_assert_cmpint(pwrite(fd, page, sizeof page, (12 << 20) + 4096), ==, 4096);
  const HwRamRange range = { 0, size, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open(path, &range, 1, &error);
  g_assert_no_error(error);
  struct stat before, after;
  g_assert_cmpint(fstat(fd, &before), ==, 0);
  for (guint threads = 1; threads <= 2; threads++) {
    g_autoptr(GPtrArray) hashes = hw_scan_page_hashes(mem, threads, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(hashes->len, ==, 1);
    const guint64 *h = g_ptr_array_index(hashes, 0);
    g_assert_cmphex(h[0], ==, HW_PAGE_HASH_HOLE);
    g_assert_cmphex(h[(1 << 20) / 4096], >, HW_PAGE_HASH_HOLE);
    g_assert_cmphex(h[(1 << 20) / 4096], ==, h[(12 << 20) / 4096]);
    g_assert_cmphex(h[(12 << 20) / 4096], !=, h[(12 << 20) / 4096 + 1]);
    g_assert_cmphex(h[(12 << 20) / 4096 + 1], >, HW_PAGE_HASH_HOLE);
    g_assert_cmphex(h[(9 << 20) / 4096], ==, HW_PAGE_HASH_ZERO);
    g_assert_cmphex(h[size / 4096 - 1], ==, HW_PAGE_HASH_HOLE);
  }
  g_assert_cmpint(fstat(fd, &after), ==, 0);
  g_assert_cmpint(after.st_blocks, ==, before.st_blocks);
  g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
  g_assert_null(hw_scan_page_hashes(mem, 2, NULL, NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_assert_null(hw_scan_page_hashes(mem, 2, NULL, NULL, NULL));
  close(fd);
  unlink(path);
  rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scan/page-hashes", test_page_hashes);
  g_test_add_func("/scan/phys/boundaries", test_phys_boundaries);
  g_test_add_func("/scan/phys/utf16", test_phys_utf16);
  g_test_add_func("/scan/phys/into-zero-page", test_phys_into_zero_page);
  g_test_add_func("/scan/pattern/bad", test_bad_strings);
  g_test_add_func("/scan/vmas/scattered", test_vmas_scattered);
  g_test_add_func("/scan/vmas/huge-hole", test_vmas_huge_hole);
  g_test_add_func("/scan/phys/sparse-file", test_sparse_file);
  return g_test_run();
}
