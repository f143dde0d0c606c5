import type { BuildJson } from '../../api-contract/index.ts';
import { elapsed } from './build-text.ts';

/**
 * What `build --wait` shows while it waits. On a terminal: one line, redrawn as the build
 * changes and as time passes. Elsewhere (CI logs, pipes): one line per status change, so the
 * log reads as a history instead of a smear of carriage returns.
 */
export class WaitProgress {
  private last: BuildJson | null = null;
  private lastLine = '';
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream) {
    if (out.isTTY) this.timer = setInterval(() => this.redraw(), 1_000);
  }

  update(build: BuildJson): void {
    const changed = this.last === null || this.last.status !== build.status || this.last.attempts !== build.attempts;
    this.last = build;
    if (this.out.isTTY) this.redraw();
    else if (changed) this.out.write(this.line(build) + '\n');
  }

  /** Clears the redrawn line, leaving the terminal as it was. */
  stop(): void {
    clearInterval(this.timer);
    if (this.out.isTTY && this.lastLine !== '') this.out.write('\r\x1b[2K');
  }

  private redraw(): void {
    if (this.last === null) return;
    this.lastLine = this.line(this.last);
    this.out.write('\r\x1b[2K' + this.lastLine);
  }

  private line(build: BuildJson): string {
    const attempt = build.attempts > 0 ? `, attempt ${build.attempts}/${build.maxAttempts}` : '';
    const worker = build.status === 'RUNNING' && build.claimedBy ? ` on ${build.claimedBy}` : '';
    return `${build.id} ${build.service}: ${build.status}${worker}${attempt}, ${elapsed(Date.now() - this.started)} elapsed`;
  }
}
