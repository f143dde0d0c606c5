import type { RoleProcess } from './role-process.ts';

/**
 * `fleetcast up`'s live view of its processes: on a terminal a table redrawn every 2 s
 * (state, pid, restarts); elsewhere one line whenever a process changes state.
 */
export class StatusBoard {
  private readonly timer: NodeJS.Timeout;
  private drawn = 0;
  private readonly last = new Map<string, string>();

  constructor(
    private readonly processes: RoleProcess[],
    private readonly out: NodeJS.WriteStream,
  ) {
    this.timer = setInterval(() => this.draw(), 2_000);
    this.timer.unref();
    this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private draw(): void {
    if (!this.out.isTTY) {
      for (const p of this.processes) {
        const line = `${p.spec.name}: ${p.state}${p.pid ? ` (pid ${p.pid})` : ''}${p.restarts ? `, ${p.restarts} restarts` : ''}`;
        if (this.last.get(p.spec.name) !== line) this.out.write(line + '\n');
        this.last.set(p.spec.name, line);
      }
      return;
    }
    const width = Math.max(...this.processes.map((p) => p.spec.name.length));
    const lines = this.processes.map((p) => `  ${p.spec.name.padEnd(width)}  ${p.state.padEnd(11)}  ${String(p.pid ?? '-').padEnd(7)}  ${p.restarts ? `${p.restarts} restarts` : ''}`);
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    this.out.write(text);
    this.drawn = lines.length;
  }
}
