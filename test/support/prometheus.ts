import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { eventually } from './eventually.ts';

/** A scrape this often: a gate sees a new error rate within seconds, not the default minute. */
const scrapeIntervalS = 1;

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/**
 * A real Prometheus (Debian's `prometheus`, installed by ops/ensure-prometheus.sh) of the test's
 * own: a generated config that scrapes every target a file in `targetsDir` names (file-based
 * discovery, as the sample service writes them) every second, storage in a temporary dir, a port
 * the OS picked (read from its log). stop() kills it and removes the dir.
 */
export class TestPrometheus {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly log: string[],
  ) {}

  static async start(targetsDir: string): Promise<TestPrometheus> {
    if (spawnSync('prometheus', ['--version']).error) {
      throw new Error('prometheus is not installed: run  bash ops/ensure-prometheus.sh  (as root; it installs the Debian package)');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${scrapeIntervalS}s`,
        `  scrape_timeout: ${scrapeIntervalS}s`,
        `  evaluation_interval: ${scrapeIntervalS}s`,
        'scrape_configs:',
        '  - job_name: sample',
        '    file_sd_configs:',
        `      - files: [${JSON.stringify(path.join(targetsDir, '*.json'))}]`,
        '        refresh_interval: 1s',
        '',
      ].join('\n'),
    );
    const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    started.add(child);
    child.once('exit', () => started.delete(child));
    const log: string[] = [];
    let address: string | undefined;
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      log.push(line);
      // logfmt: msg="Listening on" address=127.0.0.1:45431 — the port the OS gave it.
      const match = /msg="Listening on" address=(\S+)/.exec(line);
      if (match) address = match[1];
    });
    const prometheus = new TestPrometheus('', child, dir, log);
    try {
      const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`prometheus exited (${code}): ${log.slice(-5).join('\n')}`))));
      exited.catch(() => {});
      const listening = await Promise.race([eventually(() => address, 20_000, 'prometheus to listen'), exited]);
      const url = `http://${listening}`;
      await eventually(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok, 20_000, 'prometheus to be ready');
      return new TestPrometheus(url, child, dir, log);
    } catch (err) {
      await prometheus.stop();
      throw err;
    }
  }

  /** The targets Prometheus scrapes now and whether each answered its last scrape. */
  async targets(): Promise<{ scrapeUrl: string; health: string }[]> {
    const answer = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: { scrapeUrl: string; health: string }[] } };
    return answer.data.activeTargets;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
