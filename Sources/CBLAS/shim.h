#ifndef SCION_CBLAS_SHIM_H
#define SCION_CBLAS_SHIM_H
#include <cblas.h>
#endif
