// The attack of issue 18 against `fleetcast up` (real processes, the worker's bubblewrap
// sandbox): a build that prints its environment and tries to read up.json, the permissions
// file and the data directory's secrets shows none of them; a secret that reaches a build
// anyway is masked in its log; read tokens cannot read logs; a commit off the service's branch
// is refused, and builds only with an admin's audited override; webhook pushes to another
// branch are ignored with the reason.
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SampleRepo } from './support/git-repo.ts';
import { UpInstallation } from './support/up-installation.ts';

const webhookSecret = 'e2e-isolation-webhook-secret-0123456789';
const tokens = {
  reader: 'e2e-isolation-reader-token-0123456789',
  ci: 'e2e-isolation-ci-build-token-0123456789',
};

let fleet: UpInstallation;
let repo: SampleRepo;
let onMain: string;
let offBranch: string;

/** The build tries every way to the worker's secrets it can think of, then builds. */
const thiefScript = `#!/bin/sh
echo "--- env"; env
echo "--- files"
for f in "$UP_DIR/up.json" "$UP_DIR/../permissions.json" "$UP_DIR/secret" "$UP_DIR/api-token" "$UP_DIR/fleetcast.sqlite"; do
  cat "$f" 2>&1 | head -c 400; echo
done
echo "--- procs"; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -E 'FLEETCAST_(DATABASE_URL|DATA_DIR|WORKER_ID|PERMISSIONS|NATS_URL)' || echo "no worker variable in any visible environ"
echo "--- setting"; echo "deploy key: $DEPLOY_KEY"
mkdir -p out; echo app > "$FLEETCAST_OUT"
`;

beforeAll(async () => {
  repo = SampleRepo.create();
  onMain = repo.commit({ 'build.sh': thiefScript }, 'a build that looks around');
  repo.git('checkout', '--quiet', '-b', 'feature');
  offBranch = repo.commit({ 'build.sh': 'mkdir -p out; echo unreviewed > "$FLEETCAST_OUT"\n' }, 'authored under a trusted name, never merged');
  repo.git('checkout', '--quiet', 'main');
  fleet = await UpInstallation.start({
    regions: ['eu'],
    agentsPerRegion: 1,
    env: { FLEETCAST_WEBHOOK_SECRET: webhookSecret },
    permissions: {
      tokens: [
        { name: 'reader', token: tokens.reader, scopes: ['read'] },
        { name: 'ci', token: tokens.ci, scopes: ['build'] },
      ],
    },
  });
}, 150_000);

afterAll(async () => {
  await fleet?.stop();
  repo?.remove();
}, 60_000);

/** Every secret of the installation a build must never see. */
function installationSecrets(): Record<string, string> {
  const natsPasswords = [fleet.file.hub, ...Object.values(fleet.file.leaves)].flatMap((url) => [...url.matchAll(/:\/\/[^:@/]*:([^@/]+)@/g)].map((m) => m[1]!));
  return {
    adminToken: fleet.file.token,
    reader: tokens.reader,
    ci: tokens.ci,
    webhookSecret,
    clusterSecret: fs.readFileSync(path.join(fleet.dir, 'secret'), 'utf8').trim(),
    ...Object.fromEntries(natsPasswords.map((password, i) => [`nats${i}`, password])),
  };
}

async function log(id: string, token = fleet.file.token): Promise<{ status: number; text: string }> {
  const response = await fleet.fetch(`${fleet.file.apiUrl}/v1/builds/${id}/log`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

describe('build isolation through fleetcast up', () => {
  it("a build that prints its environment and reads the installation's files shows none of its secrets", async () => {
    await fleet.json([
      'service', 'add', 'thief', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app',
      // A build setting holding the admin token: the worker masks it in the log all the same.
      '--build-env', `UP_DIR=${fleet.dir}`, '--build-env', `DEPLOY_KEY=${fleet.file.token}`,
    ]);
    const service = await fleet.json(['service', 'show', 'thief']);
    expect(service.buildSettings).toEqual(['DEPLOY_KEY', 'UP_DIR']);
    expect(JSON.stringify(service)).not.toContain(fleet.file.token);

    const build = await fleet.json(['build', 'thief', onMain, '--wait']);
    expect(build.status).toBe('SUCCEEDED');
    const { status, text } = await log(build.id);
    expect(status).toBe(200);
    expect(text).toContain('--- env');
    for (const [name, secret] of Object.entries(installationSecrets())) expect(text.includes(secret), `${name} in the build log`).toBe(false);
    // The environment is the allow-list, not the worker's.
    expect(text).not.toMatch(/FLEETCAST_(DATABASE_URL|NATS_URL|PERMISSIONS|WEBHOOK_SECRET|DATA_DIR|WORKER_ID)=/);
    expect(text).toContain(`FLEETCAST_BUILD_ID=${build.id}`);
    // The data directory is not in the sandbox at all.
    expect(text).toContain(`cat: ${fleet.dir}/up.json: No such file or directory`);
    expect(text).toContain(`cat: ${fleet.dir}/../permissions.json: No such file or directory`);
    expect(text).toContain('no worker variable in any visible environ');
    expect(text).toContain('deploy key: [masked]');
  }, 120_000);

  it('a read token cannot read build logs; a build token can', async () => {
    const [build] = (await fleet.json(['builds', 'thief'])).builds;
    const refused = await log(build.id, tokens.reader);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('needs scope build') });
    expect((await log(build.id, tokens.ci)).status).toBe(200);
  });

  it("a commit off the service's branch is refused; a build token cannot override; an admin can, audited", async () => {
    await fleet.json(['service', 'add', 'app', '--repo', repo.dir, '--build', 'sh build.sh', '--artifact', 'out/app']);
    const refused = await fleet.json(['build', 'app', offBranch, '--wait'], 1);
    expect(refused.status).toBe('FAILED');
    expect(refused.failureReason).toMatch(/^NOT_ON_BRANCH: commit [0-9a-f]{12} is not on the branch main of service app; .*--override-branch/);

    const ci = await fleet.cli(['build', 'app', offBranch, '--override-branch', '--json'], { FLEETCAST_API_TOKEN: tokens.ci });
    expect(ci.code).toBe(3);
    expect(JSON.parse(ci.stdout).error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('needs scope admin') });

    const overridden = await fleet.json(['build', 'app', offBranch, '--override-branch', '--wait']);
    expect(overridden).toMatchObject({ status: 'SUCCEEDED', branchOverrideBy: 'local-admin', commit: offBranch });

    const db = new Sqlite(path.join(fleet.dir, 'fleetcast.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare(`SELECT actor, action, target, result, detail FROM audit WHERE action = 'build-override-branch' ORDER BY id`).all() as any[];
      expect(rows.map((r) => [r.actor, r.target, r.result])).toEqual([
        ['ci', 'app', 'refused'],
        ['local-admin', 'app', 'ok'],
      ]);
      expect(JSON.parse(rows[1].detail)).toMatchObject({ commit: offBranch, build: overridden.id });
    } finally {
      db.close();
    }
  }, 120_000);

  it('a webhook push to another branch queues nothing and says why', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/feature', after: offBranch, repository: { url: repo.dir } });
    const response = await fleet.fetch(`${fleet.file.apiUrl}/v1/hooks/git`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomBytes(8).toString('hex'),
        'x-hub-signature-256': 'sha256=' + createHmac('sha256', webhookSecret).update(body).digest('hex'),
      },
      body,
    });
    const reply = (await response.json()) as { builds: unknown[]; ignored?: string };
    expect(reply.builds).toEqual([]);
    expect(reply.ignored).toContain('branch feature');
  });
});
