// A device file whose objects (RDMA memory regions, VFIO DMA mappings) live by handle until they
// are removed or the file's last reference goes (ib_uverbs_close, vfio_iommu_type1_release).
import type { Task } from '../task.js';
import { File, type FileKind } from './file.js';

export class HandleTable<T> {
  private readonly items = new Map<number, T>();
  private next = 1;

  constructor(private readonly release: (item: T) => void) {}

  /** Add the object `make` builds for its new handle; returns the handle. */
  add(make: (handle: number) => T): number {
    const handle = this.next++;
    this.items.set(handle, make(handle));
    return handle;
  }

  /** Release one object; false if there is no such handle. */
  remove(handle: number): boolean {
    const item = this.items.get(handle);
    if (item === undefined) return false;
    this.items.delete(handle);
    this.release(item);
    return true;
  }

  clear(): void {
    for (const handle of [...this.items.keys()]) this.remove(handle);
  }
}

const tables = new WeakMap<File, HandleTable<unknown>>();

/** open() of such a device: an fd whose last close releases every object. */
export function openHandleFile<T>(task: Task, kind: FileKind, release: (item: T) => void): number {
  const table = new HandleTable(release);
  const file = new File(kind, () => table.clear());
  tables.set(file, table as HandleTable<unknown>);
  return task.files.install(file);
}

/** The table behind `fd`, if it is an open device file of `kind`. */
export function handleTableOf<T>(
  task: Task,
  fd: number,
  kind: FileKind,
): HandleTable<T> | undefined {
  const file = task.files.get(fd);
  return file?.kind === kind ? (tables.get(file) as HandleTable<T> | undefined) : undefined;
}
