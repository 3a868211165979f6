/* The built-in 5x7 bitmap font (private to src/output). */
#pragma once

#include <glib.h>

#define HW_FONT_W 5
#define HW_FONT_H 7
#define HW_FONT_ADVANCE 6   /* glyph plus one column of space */

/* The 7 rows of CH's glyph (bit 4 = leftmost pixel); a box for unknown characters. */
const guint8 *hw_font_glyph(char ch);
/* Whether CH is drawn 2 rows lower, its tail below the baseline (g, p, q, y). */
gboolean hw_font_descends(char ch);
#define HW_FONT_DESCENT 2
