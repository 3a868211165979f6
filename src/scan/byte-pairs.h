/* Where any of a few two-byte sequences occurs, in one vectorised pass (private to
 * scan/): the first filter of the image signature search. */
#pragma once

#include <glib.h>

#define HW_BYTE_PAIRS_MAX 5u

/* The offsets I < STARTS of BUF (readable up to AVAIL) at which BUF[I], BUF[I + 1] is
 * one of the N_PAIRS pairs (at most HW_BYTE_PAIRS_MAX), appended to OUT (gsize) while it
 * holds fewer than MAX entries. */
void hw_find_byte_pairs(const guint8 *buf, gsize starts, gsize avail, const guint8 (*pairs)[2],
                        guint n_pairs, GArray *out, guint max);
