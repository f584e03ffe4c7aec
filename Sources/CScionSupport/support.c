// stb_easy_font is a header-only library of static functions: compiled here, once, and exposed
// through the two functions declared in scion_support.h.
#include "scion_support.h"
#include <stb/stb_easy_font.h>

int scion_text_rects(const char *text, float x, float y, float *rects, int max_rects) {
    static char buffer[64 * 1024];
    // Each quad is 4 vertices of 16 bytes: float x, y, z and 4 color bytes.
    int quads = stb_easy_font_print(x, y, (char *)text, 0, buffer, sizeof buffer);
    int count = quads < max_rects ? quads : max_rects;
    for (int q = 0; q < count; q++) {
        float *v0 = (float *)(buffer + (q * 4 + 0) * 16);
        float *v2 = (float *)(buffer + (q * 4 + 2) * 16);
        rects[q * 4 + 0] = v0[0];
        rects[q * 4 + 1] = v0[1];
        rects[q * 4 + 2] = v2[0];
        rects[q * 4 + 3] = v2[1];
    }
    return count;
}

int scion_text_width(const char *text) { return stb_easy_font_width((char *)text); }
