/* The viewer's request parameters (src/cli/serve-params.c): stream requests as JSON
 * objects of plain values, and the number and flag getters every request goes
 * through, on good input and on everything a hostile page could send instead. */
#include "cli/serve-params.h"

#include <haywire/haywire.h>
#include <string.h>

static GHashTable *
parse(const char *text, GError **error)
{
  return hw_serve_stream_request(text, strlen(text), error);
}

/* Strings stay, whole numbers become decimal, booleans 1 and 0; the getters read them
 * as they read a query. */
static void
test_request_values(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) q = parse("{\"addr\": \"0x7f0000001000\", \"width\": 64, \"live\": true,"
                                  " \"phys\": false, \"format\": \"rgba8888\", \"seq\": 0}",
                                  &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_hash_table_lookup(q, "width"), ==, "64");
  g_assert_cmpstr(g_hash_table_lookup(q, "live"), ==, "1");
  g_assert_cmpstr(g_hash_table_lookup(q, "phys"), ==, "0");
  guint64 v = 0;
  gboolean f = FALSE;
  g_assert_true(hw_serve_param_u64(q, "addr", 0, G_MAXUINT64, &v, &error));
  g_assert_cmphex(v, ==, 0x7f0000001000);
  g_assert_true(hw_serve_param_u64(q, "width", 0, 100, &v, &error));
  g_assert_cmpuint(v, ==, 64);
  g_assert_true(hw_serve_param_u64(q, "height", 7, 100, &v, &error));   /* absent: default */
  g_assert_cmpuint(v, ==, 7);
  g_assert_true(hw_serve_param_flag(q, "live", &f, &error) && f);
  g_assert_true(hw_serve_param_flag(q, "phys", &f, &error) && !f);
  g_assert_false(hw_serve_param_u64(q, "width", 0, 63, &v, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "width: at most 63"));
  g_clear_error(&error);
  g_assert_false(hw_serve_param_flag(q, "format", &f, &error));
  g_assert_nonnull(strstr(error->message, "format: 0 or 1"));
}

/* What is not an object of plain values, or is over the limits, is refused. */
static void
test_request_refused(void)
{
  g_autofree char *many = NULL;
  GString *m = g_string_new("{");
  for (guint i = 0; i <= HW_SERVE_REQUEST_MEMBERS; i++)
    g_string_append_printf(m, "%s\"k%u\": 1", i ? ", " : "", i);
  g_string_append(m, "}");
  many = g_string_free(m, FALSE);
  g_autofree char *long_value = g_strdup_printf("{\"addr\": \"%0*d\"}", HW_SERVE_VALUE_MAX + 1,
                                                1);
  g_autofree char *long_name = g_strdup_printf("{\"%0*d\": 1}", HW_SERVE_VALUE_MAX + 1, 1);
  g_autofree char *huge = g_strnfill(HW_SERVE_REQUEST_MAX + 1, ' ');
  const char *const bad[] = {
    "", "not json", "[1, 2]", "\"addr\"", "42", "null", "{\"addr\": {\"x\": 1}}",
    "{\"addr\": [1]}", "{\"width\": 1.5}", "{\"seq\": -1}", "{\"addr\": null}",
    "{\"addr\": \"0x1\"", many, long_value, long_name, huge,
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) q = parse(bad[i], &error);
    if (q != NULL)
      g_error("accepted: %.80s", bad[i]);
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
  /* A NUL inside the bytes: refused, not read as a shorter text. */
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_serve_stream_request("{\"a\": 1}\0{}", 11, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* Numbers as the command line takes them; anything else, or too long, refused. */
static void
test_numbers(void)
{
  g_autoptr(GHashTable) q = g_hash_table_new(g_str_hash, g_str_equal);
  static const struct {
    const char *text;
    gboolean ok;
    guint64 value;
  } cases[] = {
    { "0", TRUE, 0 }, { "4096", TRUE, 4096 }, { "0x1000", TRUE, 0x1000 },
    { "ffffffff81000000", TRUE, 0xffffffff81000000ull },
    { "18446744073709551615", TRUE, G_MAXUINT64 },
    { "18446744073709551616", FALSE, 0 }, { "-1", FALSE, 0 }, { "1k", FALSE, 0 },
    { "0x", FALSE, 0 }, { "12 ", FALSE, 0 }, { "zz", FALSE, 0 },
    { "0000000000000000000000001", FALSE, 0 },   /* over 24 characters */
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_hash_table_replace(q, (gpointer)"n", (gpointer)cases[i].text);
    guint64 v = 0;
    g_autoptr(GError) error = NULL;
    gboolean ok = hw_serve_param_u64(q, "n", 0, G_MAXUINT64, &v, &error);
    if (ok != cases[i].ok || (ok && v != cases[i].value))
      g_error("'%s': %s %" G_GUINT64_FORMAT, cases[i].text, ok ? "took" : "refused", v);
    if (!ok)
      g_assert_nonnull(strstr(error->message, "n: not a number"));
  }
  /* An empty value is the default, as a missing one; no table at all too. */
  g_hash_table_replace(q, (gpointer)"n", (gpointer)"");
  guint64 v = 1;
  g_assert_true(hw_serve_param_u64(q, "n", 9, 10, &v, NULL));
  g_assert_cmpuint(v, ==, 9);
  g_assert_true(hw_serve_param_u64(NULL, "n", 8, 10, &v, NULL));
  g_assert_cmpuint(v, ==, 8);
  gboolean f = TRUE;
  g_assert_true(hw_serve_param_flag(NULL, "f", &f, NULL));
  g_assert_false(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/serve/params/request-values", test_request_values);
  g_test_add_func("/serve/params/request-refused", test_request_refused);
  g_test_add_func("/serve/params/numbers", test_numbers);
  return g_test_run();
}
