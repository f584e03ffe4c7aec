// Debian's libstb: stb_image (decode PNG/JPEG/PPM/...), stb_image_write (PNG), stb_image_resize.
// Declarations only; the implementations are in libstb.so.
#ifndef SCION_CSTB_SHIM_H
#define SCION_CSTB_SHIM_H
#include <stb_image.h>
#include <stb_image_write.h>
#include <stb_image_resize.h>
#endif
