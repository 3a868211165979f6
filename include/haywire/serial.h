/* haywire: following a guest's serial log, a file QEMU writes what the guest prints to
 * (`-serial file:PATH`), for a line that matches a pattern. The text is the guest's:
 * untrusted, read in bounded pieces. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HwSerialLog HwSerialLog;

/* Follow the log at PATH (copied; the file may not exist yet) for a line REGEX matches
 * (a reference is taken); the caller owns the result. */
HwSerialLog *hw_serial_log_new(const char *path, GRegex *regex);
/* Free it. */
void hw_serial_log_free(HwSerialLog *log);
/* Look at what the log gained since the last look, at most 1 MiB of it; TRUE once a
 * line matched. A log that shrank was started afresh and is read again from its start. */
gboolean hw_serial_log_poll(HwSerialLog *log);
/* Search the N bytes at BUF as the log's next bytes: whole lines only (ending in \n,
 * a trailing \r dropped), unless FULL (BUF is a whole piece, a line longer than one is
 * searched in pieces). How many bytes were used: the rest is a line still being
 * written, to come again. */
gsize hw_serial_log_feed(HwSerialLog *log, const char *buf, gsize n, gboolean full);
/* The first line that matched (borrowed), or NULL. */
const char *hw_serial_log_get_line(HwSerialLog *log);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwSerialLog, hw_serial_log_free)

G_END_DECLS
