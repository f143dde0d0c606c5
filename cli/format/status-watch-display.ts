import type { ServiceStatusJson } from '../../api-contract/index.ts';
import { when } from './build-text.ts';
import { statusText } from './status-text.ts';

/**
 * What `fleetcast status --watch` shows. On a terminal, the status of every watched service,
 * redrawn from the top of the screen on each change (as watch(1) does: a table wider than the
 * terminal wraps, and only a full redraw stays tidy then). Elsewhere (pipes, CI logs), the status
 * of the service that changed, under the time it changed, so the output reads as a history.
 */
export class StatusWatchDisplay {
  private readonly statuses = new Map<string, ServiceStatusJson>();

  constructor(
    private readonly out: NodeJS.WriteStream,
    /** The services in the order they are shown. */
    private readonly services: readonly string[],
  ) {}

  update(status: ServiceStatusJson): void {
    this.statuses.set(status.service, status);
    const stamp = when(new Date().toISOString());
    if (!this.out.isTTY) {
      this.out.write(`-- ${stamp}\n${statusText(status)}\n\n`);
      return;
    }
    const shown = this.services.map((s) => this.statuses.get(s)).filter((s): s is ServiceStatusJson => s !== undefined);
    this.out.write(`\x1b[H\x1b[2J${stamp} · redrawn on every change · Ctrl-C to stop\n\n${shown.map(statusText).join('\n\n')}\n`);
  }
}
