/**
 * The sender's XBZRLE page cache, after QEMU's migration/page_cache.c: direct-mapped by page
 * number, floor(capacityBytes / pageSizeBytes) entries, each a page-number tag and the bytes the
 * target holds for that page (as last sent). The bytes live in a region of a wasm memory, so the
 * encode kernel diffs the new version against them in place.
 *
 * Any entry count is taken, indexed by page number modulo entries (QEMU accepts only powers of
 * two, where that is its `& (entries - 1)`; the qemu pre-copy loop asks for one).
 *
 * Generations: given the migration's sync count (QEMU's dirty-sync-count), a hit stamps its entry
 * with it, and an insert refuses to evict an entry of another page stamped in this generation or
 * the one before (page_cache.c's cache_insert, CACHED_PAGE_LIFETIME 2). Without a generation
 * (codecs that see no syncs), a miss always replaces the entry.
 *
 * One spare slot beyond the entries lets the encoder stage a new version and then make it the
 * entry's bytes by swapping slot indexes instead of copying a page.
 */
/** Generations an entry is kept from eviction after it was inserted or hit (page_cache.c). */
export const CACHED_PAGE_LIFETIME = 2;

export class XbzrleCache {
  /** Entries: pages the cache can hold. */
  readonly entries: number;
  /** Page number cached in each entry, -1 for none (page numbers reach 2^32 - 1: no u32 sentinel). */
  private readonly tags: Float64Array;
  /** Slot (page-sized place in the region) holding each entry's bytes. */
  private readonly slotOf: Uint32Array;
  /** Generation each entry was inserted or last hit in. */
  private readonly ages: Float64Array;
  private spare: number;
  private occupied = 0;

  /** Bytes of region needed: entries plus the spare slot (nothing when no entry fits). */
  static regionBytes(capacityBytes: number, pageSizeBytes: number): number {
    const entries = Math.floor(capacityBytes / pageSizeBytes);
    return entries === 0 ? 0 : (entries + 1) * pageSizeBytes;
  }

  /**
   * `bytes` views the whole memory; the region of regionBytes(capacityBytes, pageSizeBytes)
   * starts at basePtr.
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly basePtr: number,
    readonly pageSizeBytes: number,
    capacityBytes: number,
  ) {
    if (!Number.isInteger(capacityBytes) || capacityBytes < 0)
      throw new RangeError(`xbzrle cache capacity must be a whole number of bytes >= 0, got ${capacityBytes}`);
    this.entries = Math.floor(capacityBytes / pageSizeBytes);
    if (basePtr + XbzrleCache.regionBytes(capacityBytes, pageSizeBytes) > bytes.length) {
      throw new RangeError(`xbzrle cache of ${this.entries} pages does not fit its memory`);
    }
    this.tags = new Float64Array(this.entries).fill(-1);
    this.ages = new Float64Array(this.entries);
    this.slotOf = Uint32Array.from({ length: this.entries }, (_, i) => i);
    this.spare = this.entries;
  }

  /** Pages cached now. */
  get size(): number {
    return this.occupied;
  }

  /**
   * Where the cached bytes of pageNumber start in the memory, or -1 when it is not cached. A hit
   * in a generation stamps the entry with it (cache_is_cached).
   */
  lookup(pageNumber: number, generation?: number): number {
    if (this.entries === 0) return -1;
    const entry = pageNumber % this.entries;
    if (this.tags[entry] !== pageNumber) return -1;
    if (generation !== undefined) this.ages[entry] = generation;
    return this.slotPtr(this.slotOf[entry]);
  }

  /**
   * Caches a copy of `page` as pageNumber's, evicting whatever shared its entry; in a generation,
   * not an entry of another page inserted or hit in it or the one before. Says whether it cached.
   */
  insert(pageNumber: number, page: Uint8Array, generation?: number): boolean {
    if (this.entries === 0) return false;
    this.checkLength(page);
    const entry = pageNumber % this.entries;
    const tag = this.tags[entry];
    if (generation !== undefined) {
      if (tag !== -1 && tag !== pageNumber && this.ages[entry] + CACHED_PAGE_LIFETIME > generation) return false;
      this.ages[entry] = generation;
    }
    if (tag === -1) this.occupied++;
    this.tags[entry] = pageNumber;
    this.bytes.set(page, this.slotPtr(this.slotOf[entry]));
    return true;
  }

  /** If pageNumber is cached, overwrites its bytes with `page`; says whether it was. */
  updateIfCached(pageNumber: number, page: Uint8Array): boolean {
    const ptr = this.lookup(pageNumber);
    if (ptr < 0) return false;
    this.checkLength(page);
    this.bytes.set(page, ptr);
    return true;
  }

  /** The spare slot: stage a page's new version here, then commitSpare() it. */
  sparePtr(): number {
    if (this.entries === 0) throw new RangeError('an xbzrle cache of no entries has no spare slot');
    return this.slotPtr(this.spare);
  }

  /** Makes the spare slot's bytes those of cached pageNumber; its old slot becomes the spare. */
  commitSpare(pageNumber: number): void {
    const entry = pageNumber % this.entries;
    if (this.entries === 0 || this.tags[entry] !== pageNumber) throw new RangeError(`page ${pageNumber} is not cached`);
    const old = this.slotOf[entry];
    this.slotOf[entry] = this.spare;
    this.spare = old;
  }

  private slotPtr(slot: number): number {
    return this.basePtr + slot * this.pageSizeBytes;
  }

  private checkLength(page: Uint8Array): void {
    if (page.length !== this.pageSizeBytes)
      throw new RangeError(`page of ${page.length} bytes in a cache of ${this.pageSizeBytes}-byte pages`);
  }
}
