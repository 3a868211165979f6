/* Hex patterns with wildcards and regexes over runs of text: parsing, the anchor byte,
 * masks, the run extractor, and scans across page, chunk and range ends, through
 * scattered process pages, with long runs and the hit limit. */
#include <haywire/haywire.h>
#include "scan-ram.h"
#include "scan/byte-pairs.h"
#include "scan/text-runs.h"

#include <string.h>

#define CHUNK (8u << 20)

static HwPattern *
hex(const char *text)
{
  g_autoptr(GError) error = NULL;
  HwPattern *p = hw_pattern_new_hex(text, &error);
  g_assert_no_error(error);
  return p;
}

static GPtrArray *
list_of(HwPattern *p)
{
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  g_ptr_array_add(list, p);
  return list;
}

static GPtrArray *
regex_list(const char *expr, gboolean ignore_case)
{
  g_autoptr(GError) error = NULL;
  HwPattern *p = hw_pattern_new_regex(expr, ignore_case, &error);
  g_assert_no_error(error);
  return list_of(p);
}

static GArray *
scan_phys(Ram *r, GPtrArray *pats, guint threads, gboolean *partial)
{
  g_autoptr(GError) error = NULL;
  GArray *hits = hw_scan_phys(r->mem, pats, 0, threads, NULL, NULL, partial, &error);
  g_assert_no_error(error);
  return hits;
}

static GArray *
scan_vmas(Ram *r, GPtrArray *pats, guint n_pages, gboolean *partial)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwMmu) mmu = ram_mmu(r);
  g_autoptr(GArray) vmas = ram_vmas(n_pages);
  GArray *hits = hw_scan_vmas(mmu, r->mem, vmas, pats, 0, partial, &error);
  g_assert_no_error(error);
  return hits;
}

static const HwScanHit *
hit(GArray *hits, guint i)
{
  return &g_array_index(hits, HwScanHit, i);
}

/* Put S in UTF-16LE at GPA. */
static void
put_utf16(Ram *r, guint64 gpa, const char *s)
{
  for (gsize i = 0; s[i]; i++) {
    r->ram[gpa + 2 * i] = (guint8)s[i];
    r->ram[gpa + 2 * i + 1] = 0;
  }
}

static void
test_hex_parse(void)
{
  static const struct {
    const char *text, *name;
    gsize len;
    gboolean mask;
  } good[] = {
    { "89 50 4e 47 ??", "89 50 4e 47 ??", 5, TRUE },
    { "89504E47??", "89 50 4e 47 ??", 5, TRUE },
    { "  ff\t\n00  ", "ff 00", 2, FALSE },
    { "41", "41", 1, FALSE },
    { "??41????", "?? 41 ?? ??", 4, TRUE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    HwPattern *p = hex(good[i].text);
    g_assert_cmpint(p->kind, ==, HW_PATTERN_HEX);
    g_assert_cmpstr(p->name, ==, good[i].name);
    g_assert_cmpstr(p->encoding, ==, "hex");
    g_assert_cmpuint(p->len, ==, good[i].len);
    g_assert_true((p->mask != NULL) == good[i].mask);
    hw_pattern_free(p);
  }
  HwPattern *p = hex("89 ?? 4e");
  g_assert_cmphex(p->mask[0], ==, 0x5);   /* bytes 0 and 2 matter */
  g_assert_cmphex(p->bytes[1], ==, 0);
  hw_pattern_free(p);
  /* 4096 bytes is the most. */
  g_autoptr(GString) big = g_string_new(NULL);
  for (guint i = 0; i < 4096; i++)
    g_string_append(big, "ab");
  p = hex(big->str);
  g_assert_cmpuint(p->len, ==, 4096);
  hw_pattern_free(p);
}

static void
test_hex_bad(void)
{
  g_autoptr(GString) big = g_string_new(NULL);
  for (guint i = 0; i < 4097; i++)
    g_string_append(big, "ab");
  const char *bad[] = {
    "", "   ", "??", "?? ??", "8", "123", "8 9", "zz", "0x12", "?", "?1", "4?", "12 ?",
    "12,34", "12 \xc3\xa9", big->str,
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(hw_pattern_new_hex(bad[i], &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
  g_assert_null(hw_pattern_new_hex(NULL, NULL));
}

static void
test_regex_bad(void)
{
  const char *bad[] = { "", "(", "[a-", "a{2,1}", "(?<n>a)(?<n>b)", "\\" };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(hw_pattern_new_regex(bad[i], FALSE, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
}

/* The anchor is a byte that matters, the rarest by the table: not 0x00 or 0xff when
 * another byte will do, 0xff before 0x00. */
static void
test_hex_anchor(void)
{
  static const struct {
    const char *text;
    gsize anchor;
  } cases[] = {
    { "00 00 ff 41", 3 }, { "ff 00", 0 }, { "00 ff", 1 }, { "?? 00 ff", 2 },
    { "00 ?? 00", 0 }, { "00 01 7a", 2 }, { "20 20 41 42", 2 }, { "?? ?? 00", 2 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    HwPattern *p = hex(cases[i].text);
    g_assert_cmpuint(p->anchor, ==, cases[i].anchor);
    hw_pattern_free(p);
  }
  /* Strings too: "AB" in UTF-16LE is 41 00 42 00, anchored on the A. */
  g_autoptr(GPtrArray) s = hw_pattern_list_for_string("AB", NULL);
  g_assert_cmpuint(((HwPattern *)s->pdata[1])->anchor, ==, 0);
}

static void
test_hex_matches(void)
{
  HwPattern *p = hex("89 ?? 4e ??");
  g_assert_true(hw_pattern_matches(p, (const guint8 *)"\x89\x00\x4e\xff", 4));
  g_assert_true(hw_pattern_matches(p, (const guint8 *)"\x89\x50\x4e\x47", 4));
  g_assert_false(hw_pattern_matches(p, (const guint8 *)"\x89\x50\x4f\x47", 4));
  g_assert_false(hw_pattern_matches(p, (const guint8 *)"\x89\x50\x4e", 3));   /* short */
  hw_pattern_free(p);
  g_autoptr(GPtrArray) re = regex_list("x", FALSE);
  g_assert_false(hw_pattern_matches(re->pdata[0], (const guint8 *)"x", 1));
}

/* A wildcard pattern anchored on its last byte, inside a page, across a page, across
 * the 8 MiB chunk boundary (anchor on either side), at RAM's end, and split across the
 * end of range A (not contiguous: no match): each found once, its bytes kept. */
static void
test_hex_boundaries(void)
{
  g_autoptr(Ram) r = ram_new();
  static const guint8 m[] = { 0x00, 0x11, 0xff, 0x22, 0x5a };
  const guint64 at[] = { 0x1234, 0x3000 - 2, CHUNK - 4, 2 * CHUNK - 1, RAM_A + RAM_B - 5 };
  for (gsize i = 0; i < G_N_ELEMENTS(at); i++) {
    memcpy(r->ram + at[i], m, 5);
    r->ram[at[i] + 1] = (guint8)i;   /* the wildcards */
    r->ram[at[i] + 3] = (guint8)(0x80 + i);
  }
  memcpy(r->ram + RAM_A - 2, m, 5);
  g_autoptr(GPtrArray) pats = list_of(hex("00 ?? ff ?? 5a"));
  g_assert_cmpuint(((HwPattern *)pats->pdata[0])->anchor, ==, 4);
  for (guint threads = 1; threads <= 3; threads++) {
    gboolean partial = TRUE;
    g_autoptr(GArray) hits = scan_phys(r, pats, threads, &partial);
    g_assert_false(partial);
    g_assert_cmpuint(hits->len, ==, G_N_ELEMENTS(at));
    for (guint i = 0; i < hits->len; i++) {
      guint64 gpa = i + 1 < hits->len ? at[i] : (1ull << 32) + RAM_B - 5;
      g_assert_cmphex(hit(hits, i)->gpa, ==, gpa);
      g_assert_cmpuint(hit(hits, i)->len, ==, 5);
      g_assert_nonnull(hit(hits, i)->bytes);
      g_assert_cmphex(hit(hits, i)->bytes[1], ==, i);
      g_assert_cmphex(hit(hits, i)->bytes[3], ==, 0x80 + i);
    }
  }
}

/* A hex pattern across two VA-adjacent pages lying far apart in RAM. */
static void
test_hex_vmas(void)
{
  g_autoptr(Ram) r = ram_new();
  ram_map_page(r, 0, 0x900000);
  ram_map_page(r, 1, 0x700000);
  memcpy(r->ram + 0x900000 + 4096 - 2, "\xde\xad", 2);
  memcpy(r->ram + 0x700000, "\x01\xef", 2);
  g_autoptr(GPtrArray) pats = list_of(hex("de ad ?? ef"));
  g_autoptr(GArray) hits = scan_vmas(r, pats, 2, NULL);
  g_assert_cmpuint(hits->len, ==, 1);
  g_assert_cmphex(hit(hits, 0)->va, ==, SCAN_VA + 4096 - 2);
  g_assert_cmphex(hit(hits, 0)->gpa, ==, 0x900000 + 4096 - 2);
  g_assert_cmpmem(hit(hits, 0)->bytes, 4, "\xde\xad\x01\xef", 4);
}

/* What the extractor reports, as "addr:a|u:text" lines. */
static void
collect_run(const char *text, gsize n, guint64 addr, gboolean utf16, gpointer data)
{
  g_string_append_printf(data, "%" G_GINT64_MODIFIER "x:%c:%.*s\n", addr, utf16 ? 'u' : 'a',
                         (int)n, text);
}

static char *
runs_of(const void *bytes, gsize len, guint64 own_start, guint64 own_end)
{
  GString *out = g_string_new(NULL);
  HwTextRuns *t = g_new(HwTextRuns, 1);
  hw_text_runs_init(t, 0, own_start, own_end, collect_run, out);
  hw_text_runs_feed(t, 0, bytes, len);
  hw_text_runs_finish(t);
  g_free(t);
  return g_string_free(out, FALSE);
}

static void
test_text_runs(void)
{
  /* Four characters make a run, three do not; a tab is text, a newline is not. */
  g_autofree char *a = runs_of("abc\x01" "abcd\x01" "a\tb c\ndef", 19, 0, 100);
  g_assert_cmpstr(a, ==, "4:a:abcd\n9:a:a\tb c\n");
  /* UTF-16LE at an odd address, and one with a non-zero high byte in it (cut). */
  static const guint8 w[] = { 0xff, 'W', 0, 'i', 0, 'd', 0, 'e', 0, 0, 'x', 0, 'y', 0x01,
                              'z', 0 };
  g_autofree char *u = runs_of(w, sizeof w, 0, 100);
  g_assert_cmpstr(u, ==, "1:u:Wide\n");
  /* Only runs starting in the window are reported; one that starts before it and goes
   * on into it is not. */
  g_autofree char *own = runs_of("abcdef\x01ghijkl\x01mnopqr", 20, 3, 10);
  g_assert_cmpstr(own, ==, "7:a:ghijkl\n");

  /* Fed in pieces: a run goes on across them; a gap reads as zeros (and completes a
   * UTF-16LE unit whose low byte came last), a break does not. */
  GString *out = g_string_new(NULL);
  HwTextRuns *t = g_new(HwTextRuns, 1);
  hw_text_runs_init(t, 0x1000, 0x1000, 0x9000, collect_run, out);
  hw_text_runs_feed(t, 0x1000, (const guint8 *)"xxxx-spl", 8);
  hw_text_runs_feed(t, 0x1008, (const guint8 *)"it\x01", 3);
  g_assert_false(hw_text_runs_pending(t));
  static const guint8 odd[] = { 0, 'o', 0, 'd', 0, 'd', 0, '!' };
  hw_text_runs_feed(t, 0x2000, odd, sizeof odd);
  g_assert_true(hw_text_runs_pending(t));
  hw_text_runs_feed(t, 0x3000, (const guint8 *)"abc", 3);   /* '!' gets its zero */
  hw_text_runs_break(t, 0x4000);
  hw_text_runs_feed(t, 0x4000, (const guint8 *)"q\0r\0s\0t", 7);   /* 't' waits */
  hw_text_runs_break(t, 0x5000);
  hw_text_runs_finish(t);
  g_free(t);
  g_autofree char *pieces = g_string_free(out, FALSE);
  g_assert_cmpstr(pieces, ==, "1000:a:xxxx-split\n2001:u:odd!\n");
}

/* Regex hits in ASCII and in UTF-16LE (both alignments), with their text, encoding and
 * length in memory; case folding on request. */
static void
test_regex_encodings(void)
{
  g_autoptr(Ram) r = ram_new();
  memcpy(r->ram + 0x5000, "login user=alice;", 17);
  put_utf16(r, 0x6000, "[user=bob]");
  put_utf16(r, 0x7001, "USER=carol");
  g_autoptr(GPtrArray) pats = regex_list("user=[a-z]+", FALSE);
  for (guint threads = 1; threads <= 2; threads++) {
    g_autoptr(GArray) hits = scan_phys(r, pats, threads, NULL);
    g_assert_cmpuint(hits->len, ==, 2);
    g_assert_cmpint(hit(hits, 0)->kind, ==, HW_HIT_REGEX);
    g_assert_cmphex(hit(hits, 0)->gpa, ==, 0x5006);
    g_assert_cmpstr(hit(hits, 0)->text, ==, "user=alice");
    g_assert_cmpstr(hit(hits, 0)->encoding, ==, "ascii");
    g_assert_cmpuint(hit(hits, 0)->len, ==, 10);
    g_assert_cmphex(hit(hits, 1)->gpa, ==, 0x6002);
    g_assert_cmpstr(hit(hits, 1)->text, ==, "user=bob");
    g_assert_cmpstr(hit(hits, 1)->encoding, ==, "utf-16le");
    g_assert_cmpuint(hit(hits, 1)->len, ==, 16);
  }
  g_autoptr(GPtrArray) folded = regex_list("user=[a-z]+", TRUE);
  g_autoptr(GArray) hits = scan_phys(r, folded, 2, NULL);
  g_assert_cmpuint(hits->len, ==, 3);
  g_assert_cmphex(hit(hits, 2)->gpa, ==, 0x7001);
  g_assert_cmpstr(hit(hits, 2)->text, ==, "USER=carol");
  /* Empty matches are not hits. */
  g_autoptr(GPtrArray) empty = regex_list("q*", FALSE);
  g_autoptr(GArray) none = scan_phys(r, empty, 2, NULL);
  g_assert_cmpuint(none->len, ==, 0);
}

/* Runs across a page boundary, across the 8 MiB chunk boundaries (starting well before
 * one, one byte or one unit before, in UTF-16LE at odd and even addresses), up to RAM's
 * end, and through the end of range A (two runs there): each found once, from any
 * number of threads. */
static void
test_regex_boundaries(void)
{
  g_autofree char *longer = g_strdup_printf("<<k2=%0600d>>", 0);
  const struct {
    guint64 gpa;     /* file offset: range B follows range A */
    const char *text;
    gboolean utf16;
  } layouts[2][5] = {
    { { 0x2000 - 5, "<<k1=page>>", FALSE }, { CHUNK - 300, longer, FALSE },
      { 2 * CHUNK - 1, "<<k3=one>>", FALSE }, { RAM_A + RAM_B - 10, "<<k6=end>>", FALSE },
      { 0, NULL, FALSE } },
    { { CHUNK - 9, "<<k4=odd>>", TRUE }, { 2 * CHUNK - 2, "<<k5=even>>", TRUE },
      { RAM_A + RAM_B - 20, "<<k7=end>>", TRUE }, { 0, NULL, FALSE }, { 0, NULL, FALSE } },
  };
  g_autoptr(GPtrArray) pats = regex_list("<<k[0-9]=[a-z0-9]*(>>)?", FALSE);
  for (guint l = 0; l < G_N_ELEMENTS(layouts); l++) {
    g_autoptr(Ram) r = ram_new();
    guint n = 0;
    for (; n < G_N_ELEMENTS(layouts[l]) && layouts[l][n].text; n++) {
      if (layouts[l][n].utf16)
        put_utf16(r, layouts[l][n].gpa, layouts[l][n].text);
      else
        memcpy(r->ram + layouts[l][n].gpa, layouts[l][n].text, strlen(layouts[l][n].text));
    }
    /* Through the end of range A: "<<k8=a" there, "b>>" in range B is too short a run. */
    memcpy(r->ram + RAM_A - 6, "<<k8=ab>>", 9);
    for (guint threads = 1; threads <= 3; threads++) {
      g_autoptr(GArray) hits = scan_phys(r, pats, threads, NULL);
      g_assert_cmpuint(hits->len, ==, n + 1);
      guint j = 0;
      for (guint i = 0; i < n; i++, j++) {
        guint64 gpa = layouts[l][i].gpa;
        if (j + 1 < hits->len && hit(hits, j)->gpa == RAM_A - 6) {
          g_assert_cmpstr(hit(hits, j)->text, ==, "<<k8=a");
          j++;
        }
        if (gpa >= RAM_A)
          gpa += (1ull << 32) - RAM_A;
        g_assert_cmphex(hit(hits, j)->gpa, ==, gpa);
        g_assert_cmpstr(hit(hits, j)->text, ==, layouts[l][i].text);
        g_assert_cmpstr(hit(hits, j)->encoding, ==, layouts[l][i].utf16 ? "utf-16le" : "ascii");
        g_assert_cmpuint(hit(hits, j)->len, ==,
                         strlen(layouts[l][i].text) * (layouts[l][i].utf16 ? 2 : 1));
      }
    }
  }
}

/* A process scan sees runs across VA-adjacent pages scattered in RAM (ASCII, and
 * UTF-16LE cut between a unit's bytes), not across an unmapped page. */
static void
test_regex_vmas(void)
{
  g_autoptr(Ram) r = ram_new();
  const guint64 pa[] = { 0x900000, 0x700000, 0xa00000, 0, 0xb00000 };
  for (guint i = 0; i < G_N_ELEMENTS(pa); i++)
    if (pa[i])
      ram_map_page(r, i, pa[i]);
  memcpy(r->ram + pa[0] + 4096 - 6, "token=", 6);
  memcpy(r->ram + pa[1], "abc123;", 7);
  put_utf16(r, pa[1] + 4096 - 9, "toke");   /* 't' at the odd address 4096 - 9 */
  r->ram[pa[1] + 4095] = 'n';              /* its zero high byte in the next page */
  put_utf16(r, pa[2] + 1, "=xyz");
  memcpy(r->ram + pa[2] + 4096 - 6, "token=", 6);
  memcpy(r->ram + pa[4], "qqq;", 4);       /* after the unmapped page 3: a new run */
  g_autoptr(GPtrArray) pats = regex_list("token=[a-z0-9]+", FALSE);
  g_autoptr(GArray) hits = scan_vmas(r, pats, G_N_ELEMENTS(pa), NULL);
  g_assert_cmpuint(hits->len, ==, 2);
  g_assert_cmphex(hit(hits, 0)->va, ==, SCAN_VA + 4096 - 6);
  g_assert_cmphex(hit(hits, 0)->gpa, ==, pa[0] + 4096 - 6);
  g_assert_cmpstr(hit(hits, 0)->text, ==, "token=abc123");
  g_assert_cmphex(hit(hits, 1)->va, ==, SCAN_VA + 2 * 4096 - 9);
  g_assert_cmpstr(hit(hits, 1)->encoding, ==, "utf-16le");
  g_assert_cmpstr(hit(hits, 1)->text, ==, "token=xyz");
  g_assert_cmpuint(hit(hits, 1)->len, ==, 18);
  /* "token=" at the end of page 2 runs into an unmapped page: no characters after. */
}

/* A run of 10000 characters is cut into pieces of 4096: matches in each piece, none
 * across a cut ("KEYS" is cut after "KE"); the same in a process scan. */
static void
test_regex_long_run(void)
{
  g_autoptr(Ram) r = ram_new();
  memset(r->ram + 0x10000, 'a', 10000);
  memcpy(r->ram + 0x10000 + 4094, "KEYS", 4);
  memcpy(r->ram + 0x10000 + 9000, "KEY=9", 5);
  for (guint i = 0; i < 3; i++)
    ram_map_page(r, i, 0x10000 + 4096 * i);
  g_autoptr(GPtrArray) pats = regex_list("a+|KEY=[0-9]|KEYS", FALSE);
  static const guint64 off[] = { 0, 4098, 8192, 9000, 9005 };
  static const guint64 len[] = { 4094, 4094, 808, 5, 995 };
  for (guint pass = 0; pass < 2; pass++) {
    g_autoptr(GArray) hits = pass ? scan_vmas(r, pats, 3, NULL) : scan_phys(r, pats, 2, NULL);
    g_assert_cmpuint(hits->len, ==, G_N_ELEMENTS(off));
    for (guint i = 0; i < hits->len; i++) {
      g_assert_cmphex(pass ? hit(hits, i)->va : hit(hits, i)->gpa, ==,
                      (pass ? SCAN_VA : 0x10000) + off[i]);
      g_assert_cmphex(hit(hits, i)->gpa, ==, 0x10000 + off[i]);
      g_assert_cmpuint(hit(hits, i)->len, ==, len[i]);
      g_assert_cmpuint(strlen(hit(hits, i)->text), ==, len[i]);
    }
    g_assert_cmpstr(hit(hits, 3)->text, ==, "KEY=9");
  }
}

/* More matches than the hit limit: the result is cut at 2^20 and partial. */
static void
test_regex_hit_limit(void)
{
  g_autoptr(Ram) r = ram_new();
  for (gsize i = 0; i + 3 <= (4u << 20); i += 3)
    memcpy(r->ram + 0x100000 + i, "ab ", 3);
  g_autoptr(GPtrArray) pats = regex_list("ab", FALSE);
  gboolean partial = FALSE;
  g_autoptr(GArray) hits = scan_phys(r, pats, 2, &partial);
  g_assert_true(partial);
  g_assert_cmpuint(hits->len, ==, 1u << 20);
  g_assert_cmphex(hit(hits, 0)->gpa, ==, 0x100000);
  g_assert_cmpstr(hit(hits, 0)->text, ==, "ab");
}

/* The vectorised pair search finds what a byte-by-byte search finds, at every block
 * edge and in the tail, never a start at or past STARTS, never reading past AVAIL. */
static void
test_byte_pairs(void)
{
  static const guint8 pairs[3][2] = { { 0x89, 'P' }, { 0xff, 0xd8 }, { 'B', 'M' } };
  GRand *rand = g_rand_new_with_seed(7);
  for (guint round = 0; round < 200; round++) {
    gsize avail = (gsize)g_rand_int_range(rand, 0, 300);
    gsize starts = (gsize)g_rand_int_range(rand, 0, (gint32)avail + 2);
    guint n_pairs = (guint)g_rand_int_range(rand, 1, 4);
    /* Exactly AVAIL bytes on the heap: a read past them is ASan's to see. */
    guint8 *buf = g_malloc(MAX(avail, 1));
    for (gsize i = 0; i < avail; i++) {
      const guint8 *pick = pairs[g_rand_int_range(rand, 0, 3)];
      buf[i] = g_rand_int_range(rand, 0, 4) ? pick[g_rand_int_range(rand, 0, 2)]
                                            : (guint8)g_rand_int(rand);
    }
    g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(gsize));
    hw_find_byte_pairs(buf, starts, avail, pairs, n_pairs, got, G_MAXUINT);
    guint k = 0;
    for (gsize i = 0; i < MIN(starts, avail) && i + 1 < avail; i++) {
      gboolean want = FALSE;
      for (guint p = 0; p < n_pairs; p++)
        want |= buf[i] == pairs[p][0] && buf[i + 1] == pairs[p][1];
      if (!want)
        continue;
      g_assert_cmpuint(k, <, got->len);
      g_assert_cmpuint(g_array_index(got, gsize, k), ==, i);
      k++;
    }
    g_assert_cmpuint(k, ==, got->len);
    /* The bound on what is kept. */
    g_autoptr(GArray) few = g_array_new(FALSE, FALSE, sizeof(gsize));
    hw_find_byte_pairs(buf, starts, avail, pairs, n_pairs, few, 2);
    g_assert_cmpuint(few->len, ==, MIN(got->len, 2));
    g_free(buf);
  }
  g_rand_free(rand);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scan/byte-pairs", test_byte_pairs);
  g_test_add_func("/scan/hex/parse", test_hex_parse);
  g_test_add_func("/scan/hex/bad", test_hex_bad);
  g_test_add_func("/scan/hex/anchor", test_hex_anchor);
  g_test_add_func("/scan/hex/matches", test_hex_matches);
  g_test_add_func("/scan/hex/boundaries", test_hex_boundaries);
  g_test_add_func("/scan/hex/vmas", test_hex_vmas);
  g_test_add_func("/scan/regex/bad", test_regex_bad);
  g_test_add_func("/scan/text-runs/extract", test_text_runs);
  g_test_add_func("/scan/regex/encodings", test_regex_encodings);
  g_test_add_func("/scan/regex/boundaries", test_regex_boundaries);
  g_test_add_func("/scan/regex/vmas", test_regex_vmas);
  g_test_add_func("/scan/regex/long-run", test_regex_long_run);
  g_test_add_func("/scan/regex/hit-limit", test_regex_hit_limit);
  return g_test_run();
}
