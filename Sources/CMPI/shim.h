// Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are C macros that
// take the address of library globals, which Swift cannot import. These inline functions
// expose the ones Scion uses. Only the MPI build (`make mpi`, package trait MPI) imports this.
#ifndef SCION_CMPI_SHIM_H
#define SCION_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm scion_MPI_COMM_WORLD(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype scion_MPI_FLOAT(void) { return MPI_FLOAT; }
static inline MPI_Datatype scion_MPI_DOUBLE(void) { return MPI_DOUBLE; }
static inline MPI_Op scion_MPI_SUM(void) { return MPI_SUM; }
static inline void *scion_MPI_IN_PLACE(void) { return MPI_IN_PLACE; }
static inline int scion_MPI_SUCCESS(void) { return MPI_SUCCESS; }
static inline MPI_Status *scion_MPI_STATUSES_IGNORE(void) { return MPI_STATUSES_IGNORE; }
static inline int scion_MPI_THREAD_FUNNELED(void) { return MPI_THREAD_FUNNELED; }
#endif
