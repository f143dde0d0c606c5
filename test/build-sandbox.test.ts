// The build sandbox (bubblewrap) around a real build command: what a build can see, read,
// write and reach. No database: the sandbox, the environment and the command runner only.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBuildCommand } from '../builder/build-command.ts';
import { buildEnvironment } from '../builder/build-environment.ts';
import { BuildSandbox } from '../builder/build-sandbox.ts';

let root: string;
let workspace: string;
let layout: { workspace: string; home: string; tmp: string; readOnly: string[]; network: boolean };
let sandbox: BuildSandbox;
/** A service on the worker's loopback that a build without network must not reach. */
let listener: net.Server;
let port: number;

beforeAll(async () => {
  sandbox = await BuildSandbox.create('bwrap');
  listener = net.createServer((socket) => socket.end('hello from the worker side\n'));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
});

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-sandbox-'));
  workspace = path.join(root, 'workspaces', 'b1-1');
  for (const dir of [workspace, path.join(root, 'scratch', 'home'), path.join(root, 'scratch', 'tmp')]) fs.mkdirSync(dir, { recursive: true });
  // What a worker's data directory holds next to the workspaces.
  fs.writeFileSync(path.join(root, 'up.json'), '{"token":"secret-admin-token-123456"}');
  fs.writeFileSync(path.join(root, 'secret'), 'cluster-secret-abcdefabcdefabcdef');
  layout = { workspace, home: path.join(root, 'scratch', 'home'), tmp: path.join(root, 'scratch', 'tmp'), readOnly: [], network: true };
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(command: string, settings: Record<string, string> = {}): Promise<{ code: number | null; lines: string[] }> {
  const lines: string[] = [];
  const env = buildEnvironment({ buildId: 'b1', service: 'api', commit: 'c'.repeat(40), out: path.join(workspace, 'out/app'), home: layout.home, tmp: '/tmp', settings });
  const result = await runBuildCommand({
    argv: sandbox.argv(command, layout),
    cwd: workspace,
    env,
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    onLine: (line) => lines.push(line),
  });
  if (result.outcome !== 'exited') throw new Error(`build ${result.outcome}`);
  return { code: result.code, lines };
}

describe('the build sandbox (bubblewrap)', () => {
  it('gives the build only the allow-listed environment and the service settings, never the worker variables', async () => {
    process.env.FLEETCAST_TEST_WORKER_SECRET = 'worker-only-value-0123456789';
    try {
      const { code, lines } = await run('env | sort', { NPM_CONFIG_REGISTRY: 'https://registry.example' });
      expect(code).toBe(0);
      const names = lines.map((line) => line.split('=')[0]).filter((name) => name !== '_' && name !== 'PWD' && name !== 'SHLVL');
      expect(names.sort()).toEqual(['FLEETCAST_BUILD_ID', 'FLEETCAST_COMMIT', 'FLEETCAST_OUT', 'FLEETCAST_SERVICE', 'HOME', 'LANG', 'NPM_CONFIG_REGISTRY', 'PATH', 'TMPDIR']);
      expect(lines.join('\n')).not.toContain('worker-only-value');
    } finally {
      delete process.env.FLEETCAST_TEST_WORKER_SECRET;
    }
  });

  it('sees the checkout but not the data directory around it, nor the worker processes', async () => {
    const { code, lines } = await run(
      [
        'cat ../../up.json 2>/dev/null && echo READ-UP-JSON',
        'cat ../../secret 2>/dev/null && echo READ-SECRET',
        `cat /proc/${process.pid}/environ 2>/dev/null && echo READ-WORKER-ENVIRON`,
        'ls /etc/mysql 2>/dev/null && echo SAW-ETC-MYSQL',
        'ls ..',
        'echo built > app.txt && echo WROTE-CHECKOUT',
        '(echo x > /usr/fleetcast-test) 2>/dev/null && echo WROTE-USR',
        'echo x > "$HOME/.cache-test" && echo WROTE-HOME',
        'echo x > "$TMPDIR/t" && echo WROTE-TMP',
        'echo "pids: $(ls /proc | grep -c "^[0-9]")"',
      ].join('; '),
    );
    expect(code).toBe(0);
    const output = lines.join('\n');
    expect(output).not.toMatch(/READ-UP-JSON|READ-SECRET|READ-WORKER-ENVIRON|SAW-ETC-MYSQL|WROTE-USR|secret-admin-token|cluster-secret/);
    expect(lines).toEqual(expect.arrayContaining(['WROTE-CHECKOUT', 'WROTE-HOME', 'WROTE-TMP', 'b1-1']));
    // Its own pid namespace: the shell, ls, grep and bubblewrap's init — not the machine's.
    expect(Number(/pids: (\d+)/.exec(output)![1])).toBeLessThan(10);
    expect(fs.readFileSync(path.join(workspace, 'app.txt'), 'utf8')).toBe('built\n');
    expect(fs.existsSync('/usr/fleetcast-test')).toBe(false);
  });

  it('reaches the network when the service allows it, and nothing at all when it does not', async () => {
    const probe = `if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; head -1 <&3' 2>/dev/null; then echo REACHED; else echo UNREACHABLE; fi`;
    expect((await run(probe)).lines).toContain('hello from the worker side');
    layout.network = false;
    expect((await run(probe)).lines).toEqual(['UNREACHABLE']);
  });

  it('shows read-only folders read-only', async () => {
    const shared = path.join(root, 'objects');
    fs.mkdirSync(shared);
    fs.writeFileSync(path.join(shared, 'pack'), 'objects');
    layout.readOnly = [shared];
    const { lines } = await run(`cat ${shared}/pack; echo; (echo x > ${shared}/pack) 2>/dev/null && echo WROTE-OBJECTS`);
    expect(lines).toEqual(['objects']);
  });
});
