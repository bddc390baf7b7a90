// What a workload records (`sys.record(key, value)`) becomes plain JSON in the snapshot, so that
// every output can print it and an NDJSON line parses back to the same snapshot
// (docs/snapshot.md "results"). Never throws: a snapshot must not take the monitor down.

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * A JSON copy of `v`:
 * - finite numbers, strings, booleans and null as they are; `undefined` becomes null;
 * - NaN and ±Infinity become the strings 'NaN', 'Infinity', '-Infinity'; bigints their decimal
 *   string;
 * - objects with `toJSON()` (Date, ...) are replaced by its result, as JSON.stringify does;
 * - arrays and typed arrays become arrays; a Set its values; a Map an object keyed by String(key);
 * - an Error becomes 'Name: message'; a function '[function name]'; a symbol its description;
 * - other objects keep their own enumerable string keys, in order (class instances such as Buf
 *   become plain objects); a cycle becomes the string '[circular]'.
 */
export function jsonValue(v: unknown): JsonValue {
  return copy(v, new Set());
}

function copy(v: unknown, path: Set<object>): JsonValue {
  switch (typeof v) {
    case 'undefined':
      return null;
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'symbol':
      return v.description ?? 'Symbol()';
    case 'function':
      return `[function ${v.name || 'anonymous'}]`;
  }
  if (v === null) return null;
  const o = v as object;
  if (path.has(o)) return '[circular]';
  path.add(o);
  try {
    return copyObject(o, path);
  } finally {
    path.delete(o);
  }
}

function copyObject(o: object, path: Set<object>): JsonValue {
  if ('toJSON' in o && typeof o.toJSON === 'function') {
    let j: unknown;
    try {
      j = o.toJSON();
    } catch (e) {
      return `[toJSON threw ${e instanceof Error ? e.message : String(e)}]`;
    }
    return j === o ? '[circular]' : copy(j, path);
  }
  if (Array.isArray(o)) return o.map((x) => copy(x, path));
  if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
    return Array.from(o as unknown as ArrayLike<number | bigint>, (x) => copy(x, path));
  }
  if (o instanceof Set) return [...o].map((x) => copy(x, path));
  if (o instanceof Error) return `${o.name}: ${o.message}`;
  const out: { [key: string]: JsonValue } = {};
  const entries =
    o instanceof Map ? [...o].map(([k, x]) => [String(k), x] as const) : Object.entries(o);
  for (const [k, x] of entries) {
    // an own '__proto__' key, as JSON.parse makes it, not a prototype change
    Object.defineProperty(out, k, {
      value: copy(x, path),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
