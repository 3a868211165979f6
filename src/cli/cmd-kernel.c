/* haywire kernel: what kernel discovery found in guest RAM. */
#include "cli/cli.h"

int
hw_cmd_kernel(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  if (!hw_cli_parse("kernel", NULL, "Show what discovery found in guest RAM: version banner, "
                    "KASLR slide, BTF blob, init_task, paging mode, and how long it took "
                    "(cold, or warm from the per-boot cache; --no-cache forces cold).",
                    NULL, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("kernel", "unexpected argument '%s'", argv[1]);
  if (!hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  HwLinux *lx = hw_cli_linux(cli, &error);
  if (!hw_cli_release_after(cli, lx != NULL, &error))
    return hw_cli_fail(error);
  const HwLinuxInfo *i = hw_linux_get_info(lx);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "banner");
    json_builder_add_string_value(b, i->banner);
    g_autofree char *slide = g_strdup_printf("%s0x%" G_GINT64_MODIFIER "x",
                                             i->kaslr_slide < 0 ? "-" : "",
                                             (guint64)ABS(i->kaslr_slide));
    json_builder_set_member_name(b, "kaslr_slide");
    json_builder_add_string_value(b, slide);
    hw_cli_json_hex(b, "text_va", i->text_va);
    hw_cli_json_hex(b, "text_gpa", i->text_gpa);
    hw_cli_json_hex(b, "btf_gpa", i->btf_gpa);
    hw_cli_json_hex(b, "btf_size", i->btf_size);
    json_builder_set_member_name(b, "btf_types");
    json_builder_add_int_value(b, i->btf_types);
    hw_cli_json_hex(b, "init_task", i->init_task_va);
    hw_cli_json_hex(b, "init_task_gpa", i->init_task_gpa);
    hw_cli_json_hex(b, "kernel_pgd", i->kernel_pgd_gpa);
    json_builder_set_member_name(b, "paging_levels");
    json_builder_add_int_value(b, i->paging_levels);
    json_builder_set_member_name(b, "page_size");
    json_builder_add_int_value(b, (gint64)i->page_size);
    json_builder_set_member_name(b, "arch");
    json_builder_add_string_value(b, hw_guest_get_arch_name(cli->guest));
    json_builder_set_member_name(b, "from_cache");
    json_builder_add_boolean_value(b, i->from_cache);
    json_builder_set_member_name(b, "discovery_ms");
    json_builder_add_double_value(b, i->discovery_ms);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  printf("banner:      %s\n", i->banner);
  printf("kernel text: 0x%" G_GINT64_MODIFIER "x (physical 0x%" G_GINT64_MODIFIER
         "x), KASLR slide %s0x%" G_GINT64_MODIFIER "x\n", i->text_va, i->text_gpa,
         i->kaslr_slide < 0 ? "-" : "", (guint64)ABS(i->kaslr_slide));
  printf("BTF:         %" G_GUINT64_FORMAT " bytes, %u types, at physical 0x%"
         G_GINT64_MODIFIER "x\n", i->btf_size, i->btf_types, i->btf_gpa);
  printf("init_task:   0x%" G_GINT64_MODIFIER "x (physical 0x%" G_GINT64_MODIFIER "x)\n",
         i->init_task_va, i->init_task_gpa);
  printf("paging:      %u-level, %" G_GUINT64_FORMAT " KiB pages, kernel page tables at 0x%"
         G_GINT64_MODIFIER "x\n", i->paging_levels, i->page_size >> 10, i->kernel_pgd_gpa);
  printf("discovery:   %.1f ms (%s)\n", i->discovery_ms, i->from_cache ? "warm, from cache"
                                                                        : "cold");
  return HW_EXIT_OK;
}
