/**
 * Reads PostgreSQL's binary COPY format (a header, then per row: a 16-bit field count and per
 * field a 32-bit length, -1 for NULL, and the bytes; a count of -1 ends it) from a stream's
 * pieces, which split rows anywhere. Binary because it frames each value by its length: text
 * passes as it is, whatever it holds (line breaks, quotes, backslashes), with nothing to unescape.
 */
export class BinaryCopyRows {
  private rest: Buffer | null = null;
  private headerRead = false;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /**
   * Calls `row` for each whole row in what has come so far, with the buffer and each field's
   * [start, end) in it (start -1 for NULL); keeps a row's beginning until its end arrives.
   */
  push(piece: Buffer, row: (buf: Buffer, starts: readonly number[], ends: readonly number[]) => void): void {
    const buf = this.rest ? Buffer.concat([this.rest, piece]) : piece;
    let pos = 0;
    if (!this.headerRead) {
      // 11-byte signature, 32-bit flags, 32-bit length of a header extension, the extension.
      if (buf.length < 19) return this.keep(buf, 0);
      const extension = buf.readUInt32BE(15);
      if (buf.length < 19 + extension) return this.keep(buf, 0);
      pos = 19 + extension;
      this.headerRead = true;
    }
    for (;;) {
      if (pos + 2 > buf.length) break;
      const count = buf.readInt16BE(pos);
      if (count === -1) {
        pos += 2;
        break;
      }
      let p = pos + 2;
      let whole = true;
      for (let i = 0; i < count; i++) {
        if (p + 4 > buf.length) {
          whole = false;
          break;
        }
        const length = buf.readInt32BE(p);
        p += 4;
        if (length < 0) {
          this.starts[i] = -1;
          this.ends[i] = -1;
          continue;
        }
        if (p + length > buf.length) {
          whole = false;
          break;
        }
        this.starts[i] = p;
        this.ends[i] = p + length;
        p += length;
      }
      if (!whole) break;
      this.starts.length = count;
      this.ends.length = count;
      row(buf, this.starts, this.ends);
      pos = p;
    }
    this.keep(buf, pos);
  }

  /** True when no partial row is waiting (checked at the end of a COPY). */
  get complete(): boolean {
    return this.rest === null && this.headerRead;
  }

  private keep(buf: Buffer, from: number): void {
    // A copy, not a view: the view would keep the whole piece alive.
    this.rest = from < buf.length ? Buffer.from(buf.subarray(from)) : null;
  }
}
