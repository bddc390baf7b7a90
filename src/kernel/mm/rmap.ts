// Reverse map: the objects that own user pages (an anon_vma or a file's address_space) and the
// page each of their indices maps to. Migration rewrites the entry (spec §3.1); the pair
// (object id, index) stored on the page is its content identity (§8.1 item 1).

export enum ObjKind {
  ANON = 0,
  FILE = 1,
}

export interface MemObject {
  readonly id: number;
  readonly kind: ObjKind;
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

export class Rmap {
  private readonly objects: (MemObject | undefined)[] = [undefined]; // id 0 = no owner
  private readonly freeIds: number[] = [];

  create(kind: ObjKind, nrPages: number, label: string): MemObject {
    const id = this.freeIds.pop() ?? this.objects.length;
    if (id > 0xffff) throw new Error('too many memory objects (limit 65535)');
    const obj: MemObject = {
      id,
      kind,
      pages: new Int32Array(nrPages).fill(-1),
      nrResident: 0,
      users: 0,
      mappers: new Set(),
      label,
    };
    this.objects[id] = obj;
    return obj;
  }

  get(id: number): MemObject {
    const obj = this.objects[id];
    if (!obj) throw new Error(`no memory object ${id}`);
    return obj;
  }

  /** The object is gone (all its pages were released by its owner). */
  destroy(obj: MemObject): void {
    if (obj.nrResident !== 0) throw new Error(`object ${obj.id} destroyed with resident pages`);
    this.objects[obj.id] = undefined;
    this.freeIds.push(obj.id);
  }

  *all(): IterableIterator<MemObject> {
    for (const o of this.objects) if (o) yield o;
  }
}
