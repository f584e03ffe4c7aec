// HDF5's type, property-list and flag constants are C macros that expand to function calls
// or casts, which Swift cannot import. These inline functions expose the ones Scion uses.
#ifndef SCION_CHDF5_SHIM_H
#define SCION_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t scion_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t scion_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t scion_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t scion_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t scion_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t scion_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t scion_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned scion_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned scion_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned scion_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }

static inline hid_t scion_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t scion_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t scion_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t scion_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t scion_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t scion_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t scion_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t scion_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t scion_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t scion_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t scion_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t scion_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t scion_H5T_C_S1(void) { return H5T_C_S1; }

/// Turns off HDF5's habit of printing its error stack to stderr; Scion reads the stack itself.
static inline void scion_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// Number of HDF5 objects (files, groups, datasets, types, attributes) open in the process.
static inline long scion_h5_open_object_count(void) { return (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL); }

#endif
