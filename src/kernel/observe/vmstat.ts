// /proc/vmstat event counters that the simulation keeps (kernel-model.md §1.8, §2.6); the free-page counts
// come from the zones.

export class VmEvents {
  cma_alloc_success = 0;
  cma_alloc_fail = 0;
  pgmigrate_success = 0;
  pgmigrate_fail = 0;
  nr_foll_pin_acquired = 0;
  nr_foll_pin_released = 0;
}
