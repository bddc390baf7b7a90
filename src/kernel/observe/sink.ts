// Where the kernel's printf conversions write (lib/vsprintf.c): a string, for the few lines a view
// shows, or bytes, for a whole trace (`run --trace`). Each output format is written once, against
// Sink, and so prints the same either way.

/** A string written often (a task's context, an event's name), its UTF-8 made once. */
export class Text {
  readonly utf8: Uint8Array;

  constructor(readonly text: string) {
    this.utf8 = Buffer.from(text, 'utf8');
  }
}

export abstract class Sink {
  /** %s (constant text too) */
  abstract str(s: string): this;
  /** %s of a Text */
  abstract put(t: Text): this;
  /** %d, %u, %lu of an integer; `width` pads with zeros (%06lu) */
  abstract dec(n: number, width?: number): this;
  /** %x of an integer >= 0; `width` pads with zeros (%010lx) */
  abstract hex(n: number, width?: number): this;

  /** %lx of an unsigned long: -1 is ULONG_MAX. */
  lx(n: number): this {
    return n === -1 ? this.str('ffffffffffffffff') : this.hex(n);
  }
}

export class StringSink extends Sink {
  text = '';

  str(s: string): this {
    this.text += s;
    return this;
  }

  put(t: Text): this {
    this.text += t.text;
    return this;
  }

  dec(n: number, width = 0): this {
    this.text += String(n).padStart(width, '0');
    return this;
  }

  hex(n: number, width = 0): this {
    this.text += n.toString(16).padStart(width, '0');
    return this;
  }
}

/** The text of what `write` writes to a sink. */
export function sprint(write: (o: Sink) => void): string {
  const o = new StringSink();
  write(o);
  return o.text;
}

/** Strings this long or longer are copied from their UTF-8 kept in a cache of this many. */
const CACHED = 8;
const CACHE_SIZE = 1024;
/** The longest number: '-' and 16 digits (2^53). */
const NUMBER_BYTES = 17;
const DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * UTF-8 into a buffer that grows as needed, digits written without making strings (the hot path
 * of `run --trace`: a record is a few dozen conversions).
 */
export class ByteSink extends Sink {
  private buf: Buffer;
  /** bytes written */
  length = 0;
  private readonly cache = new Map<string, Uint8Array>();

  constructor(private readonly capacity: number) {
    super();
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** The bytes written, in a buffer of their own (transferable); the sink starts afresh. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafeSlow(this.capacity);
    this.length = 0;
    return out;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  str(s: string): this {
    if (s.length >= CACHED) return this.copy(this.encoded(s));
    this.room(3 * s.length);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // ASCII byte by byte; the rest of a string with any other character, encoded by Buffer
      if (c >= 0x80) {
        this.length = at + buf.write(s.slice(i), at, 'utf8');
        return this;
      }
      buf[at++] = c;
    }
    this.length = at;
    return this;
  }

  /** The UTF-8 of `s`, kept for the next time (a format's constants, a cma area's name). */
  private encoded(s: string): Uint8Array {
    let b = this.cache.get(s);
    if (b === undefined) {
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      b = Buffer.from(s, 'utf8');
      this.cache.set(s, b);
    }
    return b;
  }

  put(t: Text): this {
    return this.copy(t.utf8);
  }

  private copy(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  dec(n: number, width = 0): this {
    this.room(NUMBER_BYTES + width);
    if (n < 0) {
      this.buf[this.length++] = 0x2d; // '-'
      n = -n;
    }
    return this.digits(n, 10, width);
  }

  hex(n: number, width = 0): this {
    this.room(NUMBER_BYTES + width);
    return this.digits(n, 16, width);
  }

  /** `n` >= 0 in base `base`, at least `width` digits; the last digit first. */
  private digits(n: number, base: number, width: number): this {
    // below 2^31 (counts, pfns, microseconds) in integers, faster than in doubles
    const small = n <= 0x7fffffff;
    let len = 1;
    for (let m = n; m >= base; len++) m = small ? (m / base) | 0 : Math.floor(m / base);
    if (len < width) len = width;
    const buf = this.buf;
    const end = this.length + len;
    for (let at = end - 1; at >= this.length; at--) {
      const q = small ? (n / base) | 0 : Math.floor(n / base);
      buf[at] = DIGITS[n - q * base]!;
      n = q;
    }
    this.length = end;
    return this;
  }
}
