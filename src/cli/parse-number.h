/* Addresses and lengths typed by a user or sent by the viewer's page: no other
 * dependency, so the fuzz targets take it as it is. */
#pragma once

#include <haywire/haywire.h>

/* Parse an address or length: 0x-prefixed hex, hex with a-f digits, or decimal, with an
 * optional K/M/G suffix when ALLOW_SUFFIX. */
gboolean hw_cli_parse_u64(const char *text, gboolean allow_suffix, guint64 *out, GError **error);
