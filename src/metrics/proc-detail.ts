// What the TUI's process detail shows (enter on a process): its mappings as /proc/PID/maps lists
// them, with resident, CMA and locked pages, and its pins by holder and path. Built in the run's
// worker for the one process the user opened; the rest (VmLck, VmPin, limits, failures) is in the
// snapshot.
import type { Kernel } from '../kernel/kernel.js';
import { VM_LOCKED, VM_READ, VM_SHARED, VM_WRITE, type Vma } from '../kernel/mm/mmap.js';
import { PAGE_SIZE } from '../sim/units.js';

export interface ProcMapping {
  /** /proc/PID/maps: 'start-end perms offset dev inode path', addresses in hex */
  maps: string;
  /** pages of the mapping */
  pages: number;
  /** resident pages, and how many of them are in CMA */
  rss: number;
  in_cma: number;
  locked: boolean;
}

export interface ProcPin {
  via: string;
  id: number;
  pages: number;
  longterm: boolean;
  in_cma: number;
}

export interface ProcDetail {
  pid: number;
  mappings: ProcMapping[];
  pins: ProcPin[];
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** show_map_vma()'s line: the model's file-backed mappings have no device or inode numbers. */
function mapsLine(v: Vma): string {
  const perms = `${v.flags & VM_READ ? 'r' : '-'}${v.flags & VM_WRITE ? 'w' : '-'}-${v.flags & VM_SHARED ? 's' : 'p'}`;
  const path = v.inode ? v.inode.path : '';
  const offset = v.inode ? v.pgoff * PAGE_SIZE : 0;
  return `${hex(v.start * PAGE_SIZE, 8)}-${hex(v.end * PAGE_SIZE, 8)} ${perms} ${hex(offset, 8)} 00:00 0${path ? `  ${path}` : ''}`;
}

export function procDetail(k: Kernel, pid: number): ProcDetail | undefined {
  const task = k.tasks.get(pid);
  if (!task) return undefined;
  const mappings = task.mm.vmas.map((v) => {
    let rss = 0;
    let inCma = 0;
    for (let va = v.start; va < v.end; va++) {
      const pfn = v.pageAt(va);
      if (pfn < 0) continue;
      rss++;
      if (k.cmaOf(pfn)) inCma++;
    }
    return {
      maps: mapsLine(v),
      pages: v.pages,
      rss,
      in_cma: inCma,
      locked: (v.flags & VM_LOCKED) !== 0,
    };
  });
  const pins: ProcPin[] = [];
  for (const h of k.pins.all()) {
    if (h.pid !== pid) continue;
    const pfns = h.pfns.filter((pfn) => pfn >= 0); // not the zero page
    pins.push({
      via: typeof h.via === 'function' ? h.via() : h.via,
      id: h.id,
      pages: pfns.length,
      longterm: h.longterm,
      in_cma: pfns.filter((pfn) => k.cmaOf(pfn) !== undefined).length,
    });
  }
  return { pid, mappings, pins };
}
