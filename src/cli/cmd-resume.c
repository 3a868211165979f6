/* haywire resume: let the guest's vCPUs run again. */
#include "cli/cli.h"

int
hw_cmd_resume(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  gboolean running;
  if (!hw_cli_parse("resume", NULL, "Continue the guest (QMP cont) and confirm it with "
                    "query-status.", NULL, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("resume", "unexpected argument '%s'", argv[1]);
  g_autofree char *status = hw_guest_query_status(cli->guest, &running, &error);
  if (status == NULL)
    return hw_cli_fail(error);
  if (!running && !hw_guest_resume(cli->guest, &error))
    return hw_cli_fail(error);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, "running");
    json_builder_set_member_name(b, "changed");
    json_builder_add_boolean_value(b, !running);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    printf(running ? "already running\n" : "resumed\n");
  }
  return HW_EXIT_OK;
}
