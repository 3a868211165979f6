/*
 * The raw RGBA bitmap hwtest keeps in memory (shared with the host tests, which
 * compute the same pixels to check what haywire carves).  A smooth picture:
 * red grows to the right, green downwards, blue is a ring around the centre.
 */
#ifndef HWTEST_PIXELS_H
#define HWTEST_PIXELS_H

#define HWTEST_RAW_W 200
#define HWTEST_RAW_H 150

static inline void hwtest_raw_pixel(int x, int y, unsigned char px[4])
{
	int dx = x - HWTEST_RAW_W / 2, dy = y - HWTEST_RAW_H / 2;
	int d2 = (dx * dx + dy * dy) / 16;

	px[0] = (unsigned char)(x * 255 / (HWTEST_RAW_W - 1));
	px[1] = (unsigned char)(y * 255 / (HWTEST_RAW_H - 1));
	px[2] = (unsigned char)(d2 > 255 ? 255 - (d2 - 255) % 256 : d2);
	px[3] = 255;
}

#endif
