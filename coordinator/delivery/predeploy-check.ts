import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildSandbox, type SandboxKind } from '../../lifecycle/index.ts';
import type { Service } from '../../queue/services/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';

/** Output kept from a check: its end, where the reason usually is. */
export const checkOutputLimit = 4_096;

export interface CheckOutcome {
  kind: 'command' | 'url';
  target: string;
  ok: boolean;
  /** At most checkOutputLimit characters (the end of it). */
  output: string;
  durationMs: number;
}

export interface CheckSpec {
  command: string | null;
  url: string | null;
  timeoutMs: number;
}

/**
 * Runs a service's pre-deploy check: a command, run by the coordinator in the builds' sandbox
 * (a fresh empty workspace, home and /tmp; the network as the service's builds have it) with
 * only FLEETCAST_SERVICE, FLEETCAST_BUILD_ID, FLEETCAST_COMMIT and FLEETCAST_DIGEST set, that must
 * exit 0; or an HTTP URL that must answer 2xx. A check that does not end in time fails.
 */
export class PredeployCheck {
  private sandbox: Promise<BuildSandbox> | undefined;

  /** The sandbox is made (and checked) at the first check command: a coordinator without bubblewrap starts, and only such a check fails. */
  constructor(private readonly kind: SandboxKind) {}

  async run(spec: CheckSpec, service: Service, build: Build): Promise<CheckOutcome> {
    const started = performance.now();
    const outcome = spec.url !== null ? await this.fetchUrl(spec.url, spec.timeoutMs) : await this.runCommand(spec.command ?? 'true', service, build, spec.timeoutMs);
    return { ...outcome, output: bound(outcome.output), durationMs: performance.now() - started };
  }

  private async fetchUrl(url: string, timeoutMs: number): Promise<Omit<CheckOutcome, 'durationMs'>> {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
      const body = await response.text();
      return { kind: 'url', target: url, ok: response.ok, output: `HTTP ${response.status} ${response.statusText}\n${body}` };
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      return { kind: 'url', target: url, ok: false, output: timedOut ? `no answer within ${timeoutMs} ms` : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}` };
    }
  }

  private async runCommand(command: string, service: Service, build: Build, timeoutMs: number): Promise<Omit<CheckOutcome, 'durationMs'>> {
    let sandbox: BuildSandbox;
    try {
      sandbox = await (this.sandbox ??= BuildSandbox.create(this.kind));
    } catch (err) {
      this.sandbox = undefined;
      return { kind: 'command', target: command, ok: false, output: (err as Error).message };
    }
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-check-'));
    const [workspace, home, tmp] = ['workspace', 'home', 'tmp'].map((dir) => path.join(root, dir));
    for (const dir of [workspace!, home!, tmp!]) fs.mkdirSync(dir, { mode: 0o700 });
    const [file, ...args] = sandbox.argv(command, { workspace: workspace!, home: home!, tmp: tmp!, readOnly: [], network: service.buildNetwork });
    const env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: home!,
      TMPDIR: sandbox.kind === 'bwrap' ? '/tmp' : tmp!,
      FLEETCAST_SERVICE: service.name,
      FLEETCAST_BUILD_ID: formatBuildId(build.id),
      FLEETCAST_COMMIT: build.commit,
      FLEETCAST_DIGEST: build.digest ?? '',
    };
    try {
      return await new Promise((resolve) => {
        const child = spawn(file!, args, { cwd: workspace!, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        const take = (chunk: Buffer) => {
          output = bound(output + chunk.toString('utf8'));
        };
        child.stdout!.on('data', take);
        child.stderr!.on('data', take);
        let timedOut = false;
        // The whole process group: what the check started goes with it.
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }, timeoutMs);
        const done = (ok: boolean, note: string) => {
          clearTimeout(timer);
          resolve({ kind: 'command', target: command, ok, output: note ? `${output}${output.endsWith('\n') || output === '' ? '' : '\n'}${note}` : output });
        };
        child.on('error', (err) => done(false, `could not start: ${err.message}`));
        child.on('close', (code, signal) => {
          if (timedOut) done(false, `killed: no result within ${timeoutMs} ms`);
          else done(code === 0, code === 0 ? '' : `exit ${code ?? signal}`);
        });
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
}

function bound(text: string): string {
  return text.length <= checkOutputLimit ? text : `…${text.slice(text.length - checkOutputLimit + 1)}`;
}
