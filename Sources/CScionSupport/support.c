// CScionSupport is header-only; SwiftPM needs one source file per C target.
#include "scion_support.h"
