#ifndef SCION_ALLOCATION_COUNTER_H
#define SCION_ALLOCATION_COUNTER_H

/// Starts counting heap allocations made by the calling thread.
void scion_allocations_start(void);
/// Stops counting and returns how many allocations were made since the start.
long scion_allocations_stop(void);

#endif
