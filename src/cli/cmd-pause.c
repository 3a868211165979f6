/* haywire pause: stop the guest's vCPUs and leave them stopped. */
#include "cli/cli.h"

int
hw_cmd_pause(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  gboolean was_running;
  if (!hw_cli_parse("pause", NULL, "Stop the guest (QMP stop) and confirm it with "
                    "query-status. The guest stays paused until 'haywire resume'.",
                    NULL, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("pause", "unexpected argument '%s'", argv[1]);
  if (!hw_guest_pause(cli->guest, &was_running, &error))
    return hw_cli_fail(error);
  hw_guest_keep_paused(cli->guest);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, "paused");
    json_builder_set_member_name(b, "changed");
    json_builder_add_boolean_value(b, was_running);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    printf(was_running ? "paused\n" : "already paused\n");
  }
  return HW_EXIT_OK;
}
