// The build cache on real files: what counts as verified, what a restart may reuse without
// hashing, and garbage collection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/index.ts';
import { storeArtifact, type TestArtifact } from '../../test/support/agent-artifacts.ts';
import { AgentLayout } from './agent-layout.ts';
import { BuildCache } from './build-cache.ts';

let dir: string;
let layout: AgentLayout;
let cache: BuildCache;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-cache-'));
  layout = new AgentLayout(dir);
  cache = new BuildCache(layout, silentLogger());
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function installed(n: number, bytes = 10_000): Promise<TestArtifact> {
  const artifact = await storeArtifact([], 'api', n, bytes);
  const goal = artifact.goal('eu');
  fs.mkdirSync(layout.buildDir('api', goal.build), { recursive: true });
  fs.writeFileSync(layout.partial('api', goal.build), artifact.bytes);
  await cache.install(goal, layout.partial('api', goal.build), { fromPeers: bytes - 100, fromBucket: 100 });
  return artifact;
}

describe('BuildCache', () => {
  it('trusts a marked file without hashing it, re-hashes one that changed, and drops one that no longer matches', async () => {
    const a = await installed(1);
    expect(await cache.installed('api', 'b1')).toMatchObject({ goal: { digest: a.digest }, fetched: { fromPeers: 9_900, fromBucket: 100 } });
    // Becoming current again keeps the record of where the bytes came from.
    expect((await cache.touch((await cache.installed('api', 'b1'))!)).fetched).toEqual({ fromPeers: 9_900, fromBucket: 100 });
    const file = layout.artifact('api', 'b1', 'api');
    // Same bytes, new mtime: hashed again and kept.
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(file, later, later);
    expect((await cache.installed('api', 'b1'))?.goal.digest).toBe(a.digest);
    // Changed bytes: removed, build dir and all.
    fs.writeFileSync(file, Buffer.alloc(10_000));
    expect(await cache.installed('api', 'b1')).toBeUndefined();
    expect(fs.existsSync(layout.buildDir('api', 'b1'))).toBe(false);
  });

  it('never trusts an unmarked file: it is hashed against the goal and marked, or removed', async () => {
    const a = await storeArtifact([], 'api', 2, 5_000);
    const goal = a.goal('eu');
    fs.mkdirSync(layout.buildDir('api', 'b2'), { recursive: true });
    fs.writeFileSync(layout.artifact('api', 'b2', 'api'), a.bytes);
    expect(await cache.installed('api', 'b2')).toBeUndefined();
    expect((await cache.installedFor(goal, false))?.goal.build).toBe('b2');
    expect(fs.existsSync(layout.marker('api', 'b2'))).toBe(true);

    const b = await storeArtifact([], 'api', 3, 5_000);
    fs.mkdirSync(layout.buildDir('api', 'b3'), { recursive: true });
    fs.writeFileSync(layout.artifact('api', 'b3', 'api'), Buffer.alloc(5_000));
    expect(await cache.installedFor(b.goal('eu'), false)).toBeUndefined();
    expect(fs.existsSync(layout.artifact('api', 'b3', 'api'))).toBe(false);
  });

  it('collects beyond K by last use, never a protected build, and drops superseded partial downloads', async () => {
    for (const n of [1, 2, 3, 4]) {
      await installed(n);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct last-use times
    }
    fs.mkdirSync(layout.buildDir('api', 'b9'), { recursive: true });
    fs.writeFileSync(layout.partial('api', 'b9'), 'half');
    // b1 runs (protected) though it is the least recently used.
    const removed = await cache.collect('api', { protect: new Set(['b1']), keep: 3, minFreeBytes: 0 });
    expect(removed.sort()).toEqual(['b2', 'b9']);
    expect((await cache.builds('api')).sort()).toEqual(['b1', 'b3', 'b4']);
    // Under the watermark only the protected ones stay.
    expect((await cache.collect('api', { protect: new Set(['b1', 'b4']), keep: 3, minFreeBytes: Number.MAX_SAFE_INTEGER })).sort()).toEqual(['b3']);
    expect((await cache.builds('api')).sort()).toEqual(['b1', 'b4']);
  });
});
