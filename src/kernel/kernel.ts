// The simulated machine: physical memory, its zones and CMA areas, and the counters and trace
// buffer every kernel path reports to. Pure and deterministic: time comes from `clock`, randomness
// from the seeded streams.
import { RngStreams } from '../sim/rng.js';
import { PAGE_SIZE, parseSize } from '../sim/units.js';
import {
  ConfigError,
  DEFAULT_POLICIES,
  type KernelVersion,
  MAX_CMA_AREAS,
  MAX_PAGE_ORDER,
  MT,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  type Policies,
} from './config.js';
import { features } from './features.js';
import { applyLayout, type BootLayout } from './mm/boot_layout.js';
import { CmaArea } from './mm/cma_area.js';
import type { Inode } from './mm/mmap.js';
import { PageKind } from './mm/page.js';
import { PageAlloc, type Zone } from './mm/page_alloc.js';
import { Rmap } from './mm/rmap.js';
import { type Blocker, type Failure, PinRegistry } from './observe/blame.js';
import { PrintkLog } from './observe/printk.js';
import { LabelTally } from './observe/tally.js';
import { type TraceFields, TraceLog, type TraceName, type TraceRecord } from './observe/trace.js';
import { VmEvents } from './observe/vmstat.js';
import type { Task, UserStruct } from './task.js';

/** Sizes are bytes or strings such as '4GiB' (sim/units). */
export interface CmaAreaSpec {
  name: string;
  size: string | number;
  /** physical base address; default: top-down below the end of memory and earlier areas */
  base?: string | number;
  orderPerBit?: number;
  /**
   * Guaranteed CMA (§6 item 1): the area lends its pages only to discardable clean cache, never
   * to the buddy allocator, so cma_alloc never migrates and is never blocked by a pin.
   */
  gcma?: boolean;
}

/** The memory of the machine; its devices are DeviceSpec (boot.ts). */
export interface MemorySpec {
  memory: string | number;
  /** physical address where DRAM starts (4 MiB aligned), default 0 */
  dramBase?: string | number;
  /** ZONE_MOVABLE at the top of memory (movablecore=), default none (§1.3, §6 item 9) */
  movable?: string | number;
  /** memory the kernel keeps at boot (image, memmap, slab): never in the buddy */
  reserved?: string | number;
  /**
   * min_free_kbytes, the normal zone's WMARK_MIN (under 6.4 with a ZONE_MOVABLE, shared with it);
   * default sqrt(16 * lowmem kB) (§1.7)
   */
  minFree?: string | number;
  /**
   * CPUs, default 4: a task runs on CPU pid % cpus unless spawned with `{ cpu }` (the per-CPU
   * page lists of policy pcp=on)
   */
  cpus?: number;
  cma?: CmaAreaSpec[];
  /** boot in this state rather than with all managed memory free (§1.9, `cmascope import`) */
  layout?: BootLayout;
}

/** What the core boots from; boot.ts's KernelSpec adds the devices. */
export interface CoreSpec {
  machine: MemorySpec;
  version?: KernelVersion;
  policies?: Partial<Policies>;
  seed?: number;
}

export interface Clock {
  readonly now: number;
}

/** The model's largest machine: every pfn below 2^28 (1 TiB), with room in 32-bit arithmetic. */
const MAX_PFN = 1 << 28;

const MIB2 = PAGEBLOCK_NR_PAGES * PAGE_SIZE; // CMA_MIN_ALIGNMENT_BYTES (§2.1)

const pagesOf = (v: string | number, what: string): number =>
  Math.floor(parseSize(v, what) / PAGE_SIZE);

/**
 * calculate_min_free_kbytes(): min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to
 * [128, 262144] kB, in pages (pages_min). lowmem_kbytes is nr_free_buffer_pages(): managed less
 * WMARK_HIGH (not set yet at boot) of the zones up to ZONE_NORMAL, so no reserved memory and no
 * ZONE_MOVABLE, in 6.4 as in 6.18 (§1.7).
 */
function defaultMinPages(managed: number): number {
  const kbytes = Math.min(262144, Math.max(128, Math.floor(Math.sqrt(managed * 4 * 16))));
  return kbytes >> 2;
}

/**
 * __setup_per_zone_wmarks(): each zone's tmp = pages_min * managed / lowmem_pages; a lowmem zone's
 * WMARK_MIN is tmp, ZONE_MOVABLE's (6.6+: not lowmem) managed / 1024 clamped to
 * [SWAP_CLUSTER_MAX, 128]; 6.4 counts ZONE_MOVABLE as lowmem (only highmem is not), which gives it
 * a share of pages_min and the normal zone less. WMARK_LOW = min + gap and WMARK_HIGH = low + gap,
 * gap = max(tmp / 4, managed * watermark_scale_factor (10) / 10000) (§1.7).
 */
function setupPerZoneWmarks(zones: readonly Zone[], pagesMin: number, movableLowmem: boolean) {
  const lowmem = (i: number) => i === 0 || movableLowmem; // zones[1] is ZONE_MOVABLE
  let lowmemPages = 0;
  for (const [i, z] of zones.entries()) if (lowmem(i)) lowmemPages += z.managedPages;
  for (const [i, z] of zones.entries()) {
    const tmp = Math.floor((pagesMin * z.managedPages) / lowmemPages);
    z.minWatermark = lowmem(i) ? tmp : Math.min(128, Math.max(32, z.managedPages >> 10));
    const gap = Math.max(tmp >> 2, Math.floor((z.managedPages * 10) / 10000)); // mult_frac()
    z.lowWatermark = z.minWatermark + gap;
    z.highWatermark = z.lowWatermark + gap;
  }
}

export const DEFAULT_CPUS = 4;

export class Kernel {
  readonly version: KernelVersion;
  readonly policies: Policies;
  readonly rng: RngStreams;
  readonly alloc: PageAlloc;
  readonly rmap: Rmap;
  readonly vm = new VmEvents();
  readonly trace: TraceLog;
  /** the kernel log (dmesg) */
  readonly printkLog = new PrintkLog();
  readonly cma: CmaArea[] = [];
  /** who holds page references, for blame and the long-term label */
  readonly pins: PinRegistry;
  readonly tasks = new Map<number, Task>();
  /** named files (memfds have none) */
  readonly inodes = new Map<string, Inode>();
  /** user_structs by uid */
  readonly users = new Map<number, UserStruct>();
  nextPid = 100;
  /** O_DIRECT request ids, for blame */
  nextIoRequest = 1;
  /** every cma_alloc call that got as far as the window loop, with its simulated latency */
  readonly cmaCalls: { area: string; count: number; errno: number; latencyNs: number }[] = [];
  /** the holder of each of a failure's blocking_pfns when it failed (null: nobody nameable) */
  readonly blockers: (Blocker | null)[][] = [];
  /** every failed allocation or syscall, in order (docs/snapshot.md `failures[]`; observe/failures.ts) */
  readonly failures: Failure[] = [];
  /** failed cma_alloc calls since boot by [area, holder comm, via] of the first blocking page */
  readonly cmaAllocFailures = new LabelTally();
  /** memlock refusals since boot by [uid, counter, subsystem] */
  readonly memlockDenials = new LabelTally();
  private pid = 0;
  /** CPUs of the machine: a task runs on CPU pid % cpus unless pinned (Task.cpu) */
  readonly cpus: number;
  currentFatal = false;
  /** pages the kernel reserved at boot */
  readonly reservedPages: number;
  private pendingNs = 0;

  constructor(
    spec: CoreSpec,
    private readonly clock: Clock,
  ) {
    this.version = spec.version ?? '6.18';
    this.policies = { ...DEFAULT_POLICIES, ...spec.policies };
    this.rng = new RngStreams(spec.seed ?? 1);
    this.trace = new TraceLog(this.version);
    const m = spec.machine;
    const memPages = pagesOf(m.memory, 'memory size');
    const basePfn = pagesOf(m.dramBase ?? 0, 'DRAM base');
    const movablePages = pagesOf(m.movable ?? 0, 'ZONE_MOVABLE size');
    this.reservedPages = pagesOf(m.reserved ?? 0, 'reserved size');
    if (memPages === 0 || memPages % PAGEBLOCK_NR_PAGES) {
      throw new ConfigError(`memory size must be a non-zero multiple of 2MiB`);
    }
    if (basePfn + memPages > MAX_PFN) {
      throw new ConfigError(
        `memory '${m.memory}' ends above 1TiB (with the DRAM base), the model's limit`,
      );
    }
    if (basePfn % (1 << MAX_PAGE_ORDER)) throw new ConfigError('DRAM base must be 4MiB aligned');
    if (movablePages % (1 << MAX_PAGE_ORDER) || movablePages >= memPages) {
      throw new ConfigError('ZONE_MOVABLE size must be a multiple of 4MiB and smaller than memory');
    }
    const endPfn = basePfn + memPages;
    const movableStart = endPfn - movablePages;
    if (this.reservedPages >= movableStart - basePfn) {
      // the value last: it is the one the message's location points at (workload/errors.ts)
      throw new ConfigError(
        `memory '${m.memory}' leaves nothing to the buddy allocator after reserved '${m.reserved}'`,
      );
    }
    this.cpus = m.cpus ?? DEFAULT_CPUS;
    if (!Number.isInteger(this.cpus) || this.cpus < 1 || this.cpus > 1024)
      throw new ConfigError(
        // a string quoted, so that the message's location points at it (workload/errors.ts)
        `cpus must be an integer from 1 to 1024, not ${typeof m.cpus === 'string' ? `'${m.cpus}'` : m.cpus}`,
      );
    this.alloc = new PageAlloc(
      basePfn,
      endPfn,
      movableStart,
      this.policies.placement,
      this.rng.stream('placement'),
      this.policies.cmaEligibility === 'tagged-only',
      this.version,
      this.policies.pcp === 'on' ? this.cpus : 0,
    );
    this.rmap = new Rmap(this.alloc.pages);
    this.pins = new PinRegistry(this.alloc.pages);
    this.placeCmaAreas(m.cma ?? [], basePfn, movableStart);
    this.boot(basePfn, endPfn, movableStart, m.layout);
    // init_per_zone_wmark_min(), once the zones' managed pages are known
    const { zones } = this.alloc;
    setupPerZoneWmarks(
      zones,
      m.minFree === undefined
        ? defaultMinPages(zones[0]!.managedPages)
        : pagesOf(m.minFree, 'minFree'),
      !features(this.version).wmarkMovableNotLowmem,
    );
    // zone_pcp_update(): each zone's pcp batch and high from its managed pages and WMARK_LOW
    for (const [i, z] of zones.entries())
      this.alloc.pcp?.setZone(i, z.managedPages, z.lowWatermark);
  }

  /** cma_declare_contiguous(): validate and place each area (§2.1). */
  private placeCmaAreas(specs: CmaAreaSpec[], basePfn: number, movableStart: number): void {
    if (specs.length > MAX_CMA_AREAS) {
      throw new ConfigError(
        `too many CMA areas: ${specs.length} (CONFIG_CMA_AREAS is ${MAX_CMA_AREAS})`,
      );
    }
    let top = movableStart; // areas must lie in one zone: the normal one
    const names = new Set<string>();
    for (const s of specs) {
      if (s.name === '') throw new ConfigError("a CMA area needs a name: got ''");
      if (names.has(s.name)) throw new ConfigError(`duplicate CMA area name '${s.name}'`);
      names.add(s.name);
      const size = parseSize(s.size, `size of CMA area '${s.name}'`);
      if (size === 0 || size % MIB2)
        throw new ConfigError(`CMA area '${s.name}': size must be a non-zero multiple of 2MiB`);
      const opb = s.orderPerBit ?? 0;
      if (!Number.isInteger(opb) || opb < 0 || opb > PAGEBLOCK_ORDER) {
        throw new ConfigError(
          `CMA area '${s.name}': orderPerBit must be an integer from 0 to ${PAGEBLOCK_ORDER}`,
        );
      }
      const count = size / PAGE_SIZE;
      let base: number;
      if (s.base === undefined) {
        base = top - count; // top-down memblock placement
      } else {
        const bytes = parseSize(s.base, `base of CMA area '${s.name}'`);
        if (bytes % MIB2) throw new ConfigError(`CMA area '${s.name}': base must be 2MiB aligned`);
        base = bytes / PAGE_SIZE;
      }
      if (base < basePfn + this.reservedPages || base + count > movableStart) {
        throw new ConfigError(
          `CMA area '${s.name}' (${count >> 8} MiB) does not fit in the normal zone's free memory`,
        );
      }
      for (const other of this.cma) {
        if (base < other.basePfn + other.count && other.basePfn < base + count) {
          throw new ConfigError(`CMA areas '${other.name}' and '${s.name}' overlap`);
        }
      }
      this.cma.push(new CmaArea(this.cma.length, s.name, base, count, opb, s.gcma === true));
      top = Math.min(top, base);
    }
  }

  /** memblock_free_all() and cma_activate_area(): everything not reserved joins the buddy. */
  private boot(
    basePfn: number,
    endPfn: number,
    movableStart: number,
    layout: BootLayout | undefined,
  ): void {
    const a = this.alloc;
    const reservedEnd = basePfn + this.reservedPages;
    a.pages.kind.fill(PageKind.KERNEL, basePfn, reservedEnd);
    for (const c of this.cma) {
      if (c.gcma) a.pages.kind.fill(PageKind.GCMA, c.basePfn, c.basePfn + c.count); // reserved, not in the buddy
      for (
        let pb = c.basePfn >> PAGEBLOCK_ORDER;
        pb < (c.basePfn + c.count) >> PAGEBLOCK_ORDER;
        pb++
      ) {
        a.pbMt[pb] = MT.CMA; // init_cma_reserved_pageblock()
      }
    }
    if (layout) {
      // a captured state (§1.9): the same managed pages, in use but for the layout's free blocks
      for (const z of a.zones) z.managedPages = z.endPfn - Math.max(z.startPfn, reservedEnd);
      for (const c of this.cma) if (c.gcma) a.zoneOf(c.basePfn).managedPages -= c.count;
      applyLayout(a, this.rmap, this.cma, layout, reservedEnd, endPfn);
      return;
    }
    // free in runs that do not cross a zone or a CMA boundary
    const cuts = [reservedEnd, movableStart, endPfn];
    for (const c of this.cma) cuts.push(c.basePfn, c.basePfn + c.count);
    const sorted = [...new Set(cuts)]
      .filter((p) => p >= reservedEnd && p <= endPfn)
      .sort((x, y) => x - y);
    for (let i = 0; i + 1 < sorted.length; i++) {
      const lo = sorted[i]!;
      const hi = sorted[i + 1]!;
      const cma = this.cmaOf(lo);
      if (hi > lo && !cma?.gcma) a.bootFree(lo, hi);
    }
  }

  /** pid of the task whose syscall is running (0: none), for traces and -EINTR */
  get currentPid(): number {
    return this.pid;
  }

  /** The task now running; its CPU (the per-CPU page lists it uses) is its pin, else pid % cpus. */
  set currentPid(pid: number) {
    this.pid = pid;
    this.alloc.cpu = this.tasks.get(pid)?.cpu ?? pid % this.cpus;
  }

  /** totalram_pages(): the pages managed by the buddy allocator (MemTotal). */
  totalramPages(): number {
    return this.alloc.zones.reduce((n, z) => n + z.managedPages, 0);
  }

  cmaOf(pfn: number): CmaArea | undefined {
    return this.cma.find((c) => c.contains(pfn));
  }

  cmaByName(name: string): CmaArea | undefined {
    return this.cma.find((c) => c.name === name);
  }

  now(): number {
    return this.clock.now;
  }

  fatalSignalPending(): boolean {
    return this.currentFatal;
  }

  /** trace_<name>(fields): one record in the context of the current task. */
  tracepoint<N extends TraceName>(name: N, fields: TraceFields[N]): void {
    const pid = this.currentPid;
    const comm = pid ? (this.tasks.get(pid)?.comm ?? '<...>') : '<idle>';
    this.trace.emit({ t: this.clock.now, pid, comm, name, fields } as TraceRecord);
  }

  /** printk(level, text): a kernel log line (KERN_ERR, KERN_WARNING: observe/printk.ts). */
  printk(level: number, text: string): void {
    this.printkLog.log({ t: this.clock.now, level, text, afterTrace: this.trace.total });
  }

  /** Add simulated time spent by the running kernel path (kernel/cost.ts). */
  charge(ns: number): void {
    this.pendingNs += ns;
  }

  /** The time charged since the last call, to be slept by the calling task. */
  takeCharge(): number {
    const ns = this.pendingNs;
    this.pendingNs = 0;
    return ns;
  }
}
