// CScionBF16 is header-only (include/scion_bf16.h, compiled where ScionBF16 imports it, for its
// instruction set); SwiftPM needs one source file per C target.
