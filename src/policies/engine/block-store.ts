/** Blocks of bits, all of one size, one after the other in one array that grows by doubling. */
export class BlockStore {
  /** Read it after allocate(): that may have replaced it with a bigger array. */
  bits: Uint32Array;
  private used = 0;

  constructor(
    private readonly size: number,
    initialBlocks: number,
  ) {
    this.bits = new Uint32Array(size * initialBlocks);
  }

  /** Where a new block of zeros starts. */
  allocate(): number {
    if (this.used + this.size > this.bits.length) {
      const grown = new Uint32Array(Math.max(2 * this.bits.length, this.used + this.size));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.used += this.size;
    return this.used - this.size;
  }

  clear(): void {
    this.used = 0;
    this.bits.fill(0);
  }
}
