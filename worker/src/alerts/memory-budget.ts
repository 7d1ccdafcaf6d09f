import type { WindowMemory } from './series-window.ts';

/**
 * The alert engine's share of a tenant object's memory (128 MB for everything the object holds: live
 * sockets and their unacknowledged frames, presence, the notifier, the runtime itself). Past it the
 * engine does not grow: new windows are not opened (their rule × series pairs go unwatched and are
 * counted), windows at the 1 s live cadence keep fewer points (`WindowMemory`), and no new threshold
 * or rate alert is opened. docs/decisions.md, "Alerts", has the figures.
 */
export const ALERT_MEMORY_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * New windows are opened only while this share of the budget is free, so that windows already open
 * can still grow (live cadence) and alerts can still open.
 */
export const WINDOW_HEADROOM_SHARE = 0.25;

/**
 * What the engine charges, measured in Node 24 (V8 heap plus ArrayBuffers, after full collections,
 * 2,000 hosts: docs/decisions.md, "Alerts") and rounded up. A window: its object, its array's header
 * and its place in its host's list (~270 B measured), on top of its points (`SeriesWindow.openingBytes`
 * when it opens, then what it is granted). A host: its record, its lists of windows and forecast
 * series, its share of label sets and series names (~450 B measured), plus a byte per rule for scope
 * answers. An alert instance: its record, strings and index entries (~1.7 KiB measured).
 */
export const WINDOW_OVERHEAD_BYTES = 384;
export const HOST_OVERHEAD_BYTES = 1024;
export const INSTANCE_BYTES = 2560;

/**
 * The engine's account of its memory, checked before it grows. Windows and instances are charged
 * when they are made and released when they go; hosts are counted as they are known (a host is
 * never refused: host down must speak for it).
 */
export class MemoryBudget implements WindowMemory {
  readonly limitBytes: number;
  #charged = 0;
  readonly #uncharged: () => number;

  /** `uncharged`: what the engine holds that is counted rather than charged (its hosts). */
  constructor(limitBytes: number, uncharged: () => number) {
    this.limitBytes = limitBytes;
    this.#uncharged = uncharged;
  }

  get usedBytes(): number {
    return this.#charged + this.#uncharged();
  }

  /** Whether `bytes` more fit, leaving `headroom` free. */
  fits(bytes: number, headroom = 0): boolean {
    return this.usedBytes + bytes <= this.limitBytes - headroom;
  }

  /** For a new window: charged only while the headroom stays free. */
  admitWindow(bytes: number): boolean {
    if (!this.fits(bytes, this.limitBytes * WINDOW_HEADROOM_SHARE)) return false;
    this.#charged += bytes;
    return true;
  }

  /** Charges what must be kept whatever the budget (stored instances, host-down alerts). */
  charge(bytes: number): void {
    this.#charged += bytes;
  }

  release(bytes: number): void {
    this.#charged -= bytes;
  }

  // WindowMemory: a window growing past what it opened with (its points at the live cadence).
  grow(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.#charged += bytes;
    return true;
  }

  shrink(bytes: number): void {
    this.release(bytes);
  }
}
