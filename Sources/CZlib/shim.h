// zlib, for gzipped IDX files (MNIST, Fashion-MNIST). inflateInit2 is a macro; the inline
// function below exposes gzip decoding to Swift.
#ifndef SCION_CZLIB_SHIM_H
#define SCION_CZLIB_SHIM_H
#include <zlib.h>

/// Initialises `stream` to decode gzip (and zlib) streams; returns a zlib status code.
static inline int scion_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 16 + MAX_WBITS); }
#endif
