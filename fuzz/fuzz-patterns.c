/* Fuzz the pattern scans: the hex parser on the input's first bytes as text, then a hex
 * pattern and a regex the 24-byte header picks, scanned over the rest of the input as
 * RAM; and the text-run extractor over the same bytes fed whole and fed in pieces of
 * sizes the header gives, which must report the same runs. Every hit is checked
 * against the memory it names. */
#include <haywire/haywire.h>
#include "scan/text-runs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)

typedef struct {
  guint8 hex_len;       /* 1-16 bytes of the hex pattern (mod 16, + 1) */
  guint8 flags;         /* bit 0: ignore case; bits 4-7: which regex */
  guint16 wild;         /* bit i: byte i of the pattern is ?? */
  guint8 hex[16];
  guint8 piece[4];      /* the sizes the runs are fed in: 1-256 bytes (+ 1) */
} Header;

static const char *const regexes[] = {
  "[a-z]+", "\\d{2,}", "(a|b)*c", "K.Y", "^.{3}", "[[:upper:]]+[0-9]", "x*", "(?i)haywire",
  "\\s", ".{4000,}", "(.)\\1", "a.*b.*c", "[^ ]+=[^ ]+", "\\t", "$", "ab|cd|ef",
};

static void
collect(const char *text, gsize n, guint64 addr, gboolean utf16, gpointer data)
{
  g_string_append_printf(data, "%" G_GUINT64_FORMAT ":%d:%" G_GSIZE_FORMAT ":", addr, utf16, n);
  g_string_append_len(data, text, (gssize)n);
  g_string_append_c(data, '\n');
}

/* The runs of RAM fed whole, or in pieces of the header's sizes. */
static char *
runs_of(const guint8 *ram, gsize len, const Header *h, gboolean pieces)
{
  GString *out = g_string_new(NULL);
  HwTextRuns *t = g_new(HwTextRuns, 1);
  hw_text_runs_init(t, 0, 0, len, collect, out);
  for (gsize off = 0, i = 0; off < len; i++) {
    gsize n = pieces ? MIN((gsize)h->piece[i % 4] + 1, len - off) : len;
    hw_text_runs_feed(t, off, ram + off, n);
    off += n;
  }
  hw_text_runs_finish(t);
  g_free(t);
  return g_string_free(out, FALSE);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  Header h;
  if (size < sizeof h || size > FUZZ_MAX_INPUT)
    return 0;
  memcpy(&h, data, sizeof h);

  /* The parser on raw text: anything may come back, or an error. */
  g_autofree char *text = g_strndup((const char *)data, MIN(size, 64u));
  HwPattern *raw = hw_pattern_new_hex(text, NULL);
  hw_pattern_free(raw);

  GPtrArray *pats = g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  GString *hex = g_string_new(NULL);
  gsize hex_len = h.hex_len % 16 + 1;
  for (gsize i = 0; i < hex_len; i++)
    g_string_append_printf(hex, (h.wild >> i & 1) ? "??" : "%02x", h.hex[i]);
  HwPattern *p = hw_pattern_new_hex(hex->str, NULL);
  g_string_free(hex, TRUE);
  if (p != NULL)
    g_ptr_array_add(pats, p);
  p = hw_pattern_new_regex(regexes[h.flags >> 4], h.flags & 1, NULL);
  if (p == NULL)
    abort();
  g_ptr_array_add(pats, p);

  /* RAM is whole pages: pad with zeros. */
  gsize len = size - sizeof h, ram_size = (len + 4095) & ~(gsize)4095;
  if (ram_size == 0)
    ram_size = 4096;
  guint8 *ram = g_malloc0(ram_size);
  memcpy(ram, data + sizeof h, len);
  HwRamRange range = { 0, ram_size, 0 };
  HwPhysMem *mem = hw_physmem_new_from_data(ram, ram_size, &range, 1, NULL);
  GArray *hits = mem ? hw_scan_phys(mem, pats, 0, 1, NULL, NULL, NULL, NULL) : NULL;
  for (guint i = 0; hits && i < hits->len; i++) {
    const HwScanHit *hit = &g_array_index(hits, HwScanHit, i);
    const HwPattern *pat = g_ptr_array_index(pats, hit->pattern);
    if (hit->gpa >= ram_size || hit->len > ram_size - hit->gpa)
      abort();
    if (hit->kind == HW_HIT_STRING && !hw_pattern_matches(pat, ram + hit->gpa, hit->len))
      abort();
    if (hit->kind == HW_HIT_REGEX) {
      gboolean utf16 = strcmp(hit->encoding, "utf-16le") == 0;
      gsize n = strlen(hit->text);
      if (hit->len != n * (utf16 ? 2 : 1))
        abort();
      for (gsize k = 0; k < n; k++)
        if (ram[hit->gpa + k * (utf16 ? 2 : 1)] != (guint8)hit->text[k] ||
            (utf16 && ram[hit->gpa + 2 * k + 1] != 0))
          abort();
    }
  }
  if (hits != NULL)
    g_array_unref(hits);
  g_ptr_array_unref(pats);

  g_autofree char *whole = runs_of(ram, ram_size, &h, FALSE);
  g_autofree char *pieces = runs_of(ram, ram_size, &h, TRUE);
  if (strcmp(whole, pieces) != 0)
    abort();
  hw_physmem_free(mem);
  g_free(ram);
  return 0;
}
