/* haywire scan: find strings (ASCII and UTF-16LE), hex bytes with wildcards, regexes in
 * text, and images in guest memory, physical or one process's, with the guest paused so
 * the result is one snapshot. */
#include "cli/scan-session.h"

/* Move the patterns of LIST (consumed) to the end of PATTERNS. */
static void
take_patterns(GPtrArray *patterns, GPtrArray *list)
{
  for (guint k = 0; k < list->len; k++)
    g_ptr_array_add(patterns, g_steal_pointer(&list->pdata[k]));
  g_ptr_array_set_free_func(list, NULL);
  g_ptr_array_unref(list);
}

/* The patterns for --string, --hex and --regex (caller owns), or NULL with the usage
 * error printed and *RC its exit code. */
static GPtrArray *
build_patterns(char **strings, char **hex, char **regex, gboolean ignore_case, int *rc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) patterns =
      g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  for (guint i = 0; strings && strings[i]; i++) {
    GPtrArray *list = hw_pattern_list_for_string(strings[i], &error);
    if (list == NULL)
      goto bad;
    take_patterns(patterns, list);
  }
  for (guint i = 0; hex && hex[i]; i++) {
    HwPattern *p = hw_pattern_new_hex(hex[i], &error);
    if (p == NULL)
      goto bad;
    g_ptr_array_add(patterns, p);
  }
  for (guint i = 0; regex && regex[i]; i++) {
    HwPattern *p = hw_pattern_new_regex(regex[i], ignore_case, &error);
    if (p == NULL)
      goto bad;
    g_ptr_array_add(patterns, p);
  }
  return g_steal_pointer(&patterns);
bad:
  *rc = hw_cli_usage("scan", "%s", error->message);
  return NULL;
}

int
hw_cmd_scan(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean phys = FALSE;
  HwScanOptions o = { 0 };
  g_auto(GStrv) strings = NULL, hex = NULL, regex = NULL;
  gboolean ignore_case = FALSE;
  g_autofree char *find = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "phys", 'p', 0, G_OPTION_ARG_NONE, &phys, "scan all guest RAM and, in a Linux guest, "
      "every process (the default)", NULL },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &o.pid, "scan the address space of Linux process PID",
      "PID" },
    { "find", 'f', 0, G_OPTION_ARG_STRING, &find, "image kinds: png,jpeg,gif,bmp,webp,"
      "framebuffer or all (the default when no --string, --hex or --regex is given)", "KINDS" },
    { "string", 's', 0, G_OPTION_ARG_STRING_ARRAY, &strings, "find TEXT in ASCII/UTF-8 and "
      "UTF-16LE (repeatable)", "TEXT" },
    { "hex", 'x', 0, G_OPTION_ARG_STRING_ARRAY, &hex, "find these bytes: hex pairs, ?? for any "
      "byte, spaces optional, e.g. \"89 50 4e 47 ??\" (repeatable)", "HEX" },
    { "regex", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &regex, "find matches of the regular "
      "expression RE (PCRE) in runs of printable ASCII and UTF-16LE text (repeatable)", "RE" },
    { "ignore-case", 'i', 0, G_OPTION_ARG_NONE, &ignore_case, "--regex matches ignore case",
      NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &o.live, "do not pause the guest (results may be torn)",
      NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "threads for physical scans (default: "
      "one per core)", "N" },
    { NULL }
  };
  if (!hw_cli_parse("scan", NULL, "Scan guest memory for images, strings, bytes and "
                    "regexes. A regex is matched in each run of 4 to 4096 printable characters "
                    "(longer runs in pieces of 4096). By default the "
                    "guest is paused for the scan and resumed after it, so all hits come from "
                    "one state; the summary says which (paused by haywire, already paused, or "
                    "live) with QEMU's STOP/RESUME timestamps.", entries, &argc, &argv, &rc))
    return rc;
  /* Without --find, images are looked for unless only patterns were asked for. */
  gboolean only_patterns = (strings && strings[0]) || (hex && hex[0]) || (regex && regex[0]);
  if ((rc = hw_cli_scan_check("scan", argc, argv, phys, find,
                              only_patterns ? 0 : (1u << HW_IMAGE_N_KINDS) - 1, &o)) >= 0)
    return rc;
  if (ignore_case && !(regex && regex[0]))
    return hw_cli_usage("scan", "--ignore-case needs --regex");

  g_autoptr(GPtrArray) patterns = build_patterns(strings, hex, regex, ignore_case, &rc);
  if (patterns == NULL)
    return rc;
  o.patterns = patterns;
  o.follow = o.pid <= 0;   /* all RAM and every process, one hit per image with its owners */

  HwScanResult res;
  gboolean ok = hw_cli_scan_run(cli, &o, NULL, NULL, &res, &error);
  if (!ok && res.hits == NULL) {
    hw_cli_scan_result_clear(&res);
    return hw_cli_fail(error);
  }
  if (!ok)
    res.error = hw_cli_explain(error);
  for (guint i = 0; i < res.hits->len; i++) {
    if (cli->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      hw_cli_scan_hit_json(b, &o, &res, i);
      json_builder_set_member_name(b, "state");
      json_builder_add_string_value(b, res.state);
      json_builder_set_member_name(b, "epoch");
      json_builder_add_int_value(b, (gint64)res.epoch);
      json_builder_end_object(b);
      hw_cli_print_json(json_builder_get_root(b));
    } else {
      g_autofree char *line = hw_cli_scan_hit_text(&o, &res, i);
      printf("%s\n", line);
    }
  }
  hw_cli_scan_summary(cli, &o, &res, res.hits->len);
  hw_cli_scan_result_clear(&res);
  return ok ? HW_EXIT_OK : hw_cli_fail(error);
}
