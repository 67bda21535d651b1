/**
 * Peak resident memory of this process (all its threads: the vCPU and channel workers too), two
 * ways: sampled `process.memoryUsage().rss` every few ms while a run goes, and the kernel's own
 * high-water mark (`resourceUsage().maxRSS`), which sees peaks between samples but only ever grows
 * over the process' life. The end-to-end benchmark therefore runs each case in a fresh process.
 */
export interface RssPeak {
  /** Highest sampled RSS, bytes. */
  sampledPeakBytes: number;
  samples: number;
  /** The process' RSS high-water mark so far, bytes (getrusage ru_maxrss). */
  maxRssBytes: number;
}

export class RssSampler {
  private peak = 0;
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 50): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): RssPeak {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { sampledPeakBytes: this.peak, samples: this.samples, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
    this.samples++;
  }
}
