import type { DeploymentProgressJson } from '../../api-contract/index.ts';
import { elapsed } from './build-text.ts';
import { progressLines } from './deploy-text.ts';

/**
 * What `deploy --wait`, `rollback --wait` and `deployment show --follow` show while they wait: on a terminal a block of one
 * line per region, redrawn in place; elsewhere (CI logs, pipes) a region's line each time it
 * changes, so the log reads as a history.
 */
export class DeployWaitProgress {
  private drawn = 0;
  private last: DeploymentProgressJson | null = null;
  private readonly printed = new Map<string, string>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream) {
    if (out.isTTY) this.timer = setInterval(() => this.redraw(), 1_000);
  }

  update(progress: DeploymentProgressJson): void {
    this.last = progress;
    if (this.out.isTTY) {
      this.redraw();
      return;
    }
    const header = `${progress.deployment.id} ${progress.deployment.status}`;
    for (const line of [header, ...progressLines(progress)]) {
      const key = line.trim().split(/\s+/)[0]!;
      if (this.printed.get(key) !== line) this.out.write(line + '\n');
      this.printed.set(key, line);
    }
  }

  /** Leaves the last drawing on the terminal. */
  stop(): void {
    clearInterval(this.timer);
  }

  private redraw(): void {
    if (!this.last) return;
    const lines = [`${this.last.deployment.id} ${this.last.deployment.service} ${this.last.deployment.build}: ${this.last.deployment.status}, ${elapsed(Date.now() - this.started)} elapsed`, ...progressLines(this.last)];
    // Up to the first line drawn last time, then each line cleared and written again.
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    this.out.write(text);
    this.drawn = lines.length;
  }
}
