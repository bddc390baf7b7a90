// Reverse map: the objects that own user pages (an anon_vma or a file's address_space) and the
// page each of their indices maps to. Migration rewrites the entry (kernel-model.md §3.1); the pair
// (object, index) a page belongs to is its content identity (§8.1 item 1).
//
// Each object owns a contiguous range of a 32-bit slot space from its creation, and a page
// stores one slot, base + index (PageArrays.slot, NO_OWNER for none): 4 bytes per page instead
// of an object id and an index. Only the rare paths (migration, reclaim, checks) map a slot
// back to its object, by binary search over the live objects' bases.
import { NO_OWNER, type PageArrays } from './page.js';

export enum ObjKind {
  ANON = 0,
  FILE = 1,
}

export interface MemObject {
  readonly id: number;
  readonly kind: ObjKind;
  /** its first slot: page `i` of the object has slot base + i (moves only when slots compact) */
  base: number;
  /** index -> pfn, -1 when not resident */
  pages: Int32Array;
  /** resident pages */
  nrResident: number;
  /** VMAs and inodes that refer to the object */
  users: number;
  /** the VMAs mapping a page cache (i_mmap), to unmap a page from all of them */
  readonly mappers: Set<{ unmapIndex(idx: number): void }>;
  /** a human label for views and blame: "anon:pid 42" or a file path */
  readonly label: string;
}

const MAX_OBJECT_ID = 0xffff;

export class Rmap {
  private readonly objects: (MemObject | undefined)[] = [undefined]; // id 0 = no owner
  private readonly freeIds: number[] = [];
  /** live objects by ascending base */
  private readonly byBase: MemObject[] = [];
  /** the next unused slot; slot 0 is NO_OWNER */
  private nextBase = 1;
  /** the object the last lookup found: migration walks runs of pages of one object */
  private last: MemObject | undefined;

  /** `slotLimit`: the size of the slot space (smaller only in tests, to force compaction). */
  constructor(
    private readonly pageArrays: PageArrays,
    private readonly slotLimit = 2 ** 32,
  ) {}

  /**
   * Whether an object of `nrPages` pages can be created: an id (at most 65535 objects live) and a
   * slot range are left. The model's limits: a system call that meets them fails with -ENOMEM,
   * as mmap does past vm.max_map_count.
   */
  hasRoom(nrPages: number): boolean {
    if (this.freeIds.length === 0 && this.objects.length > MAX_OBJECT_ID) return false;
    if (this.nextBase + nrPages > this.slotLimit) this.compact();
    return this.nextBase + nrPages <= this.slotLimit;
  }

  /** A new object; the caller has checked hasRoom(). */
  create(kind: ObjKind, nrPages: number, label: string): MemObject {
    if (!this.hasRoom(nrPages)) throw new Error(`rmap: no id or slots left for ${nrPages} pages`);
    const id = this.freeIds.pop() ?? this.objects.length;
    const obj: MemObject = {
      id,
      kind,
      base: this.nextBase,
      pages: new Int32Array(nrPages).fill(-1),
      nrResident: 0,
      users: 0,
      mappers: new Set(),
      label,
    };
    this.nextBase += nrPages;
    this.objects[id] = obj;
    this.byBase.push(obj);
    return obj;
  }

  /** Page `pfn` now holds index `idx` of `obj` (the caller sets obj.pages[idx]). */
  setOwner(pfn: number, obj: MemObject, idx: number): void {
    this.pageArrays.slot[pfn] = obj.base + idx;
  }

  /** Page `pfn` left its object but lives on, pinned or referenced (§5.3, C27). */
  clearOwner(pfn: number): void {
    this.pageArrays.slot[pfn] = NO_OWNER;
  }

  /** The object page `pfn` belongs to, if any (meaningful for allocated user pages only). */
  ownerOf(pfn: number): MemObject | undefined {
    const slot = this.pageArrays.slot[pfn]!;
    if (slot === NO_OWNER) return undefined;
    const hit = this.last;
    if (hit && slot >= hit.base && slot < hit.base + hit.pages.length) return hit;
    const obj = this.byBase[this.firstAbove(slot) - 1]; // the last one starting at or below it
    if (!obj || slot >= obj.base + obj.pages.length) return undefined; // a destroyed object's
    this.last = obj;
    return obj;
  }

  /** The index of page `pfn` in its object, or -1. */
  indexOf(pfn: number): number {
    const obj = this.ownerOf(pfn);
    return obj ? this.pageArrays.slot[pfn]! - obj.base : -1;
  }

  /** The id of the object page `pfn` belongs to, or NO_OWNER. */
  ownerId(pfn: number): number {
    return this.ownerOf(pfn)?.id ?? NO_OWNER;
  }

  /** The object is gone (all its pages were released by its owner). */
  destroy(obj: MemObject): void {
    if (obj.nrResident !== 0) throw new Error(`object ${obj.id} destroyed with resident pages`);
    this.objects[obj.id] = undefined;
    this.freeIds.push(obj.id);
    let i = this.firstAbove(obj.base - 1); // among equal bases (empty objects), find this one
    while (this.byBase[i] !== obj) i++;
    this.byBase.splice(i, 1);
    if (this.last === obj) this.last = undefined;
  }

  *all(): IterableIterator<MemObject> {
    for (const o of this.objects) if (o) yield o;
  }

  /** The position in byBase of the first object whose base is above `slot`. */
  private firstAbove(slot: number): number {
    const objs = this.byBase;
    let lo = 0;
    let hi = objs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (objs[mid]!.base <= slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Out of slots: renumber the live objects from 1 and rewrite their resident pages' slots. */
  private compact(): void {
    const slot = this.pageArrays.slot;
    let base = 1;
    for (const obj of this.byBase) {
      if (obj.base !== base) {
        const pages = obj.pages;
        for (let i = 0; i < pages.length; i++) if (pages[i]! >= 0) slot[pages[i]!] = base + i;
        obj.base = base;
      }
      base += obj.pages.length;
    }
    this.nextBase = base;
  }
}
