// service remove on a coordinator whose regions cannot be asked (no NATS hub): refused, since
// nobody can tell the service is unused; --force removes it anyway and says why in the audit.
// A bad force value is a bad request.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectAudit } from '../index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';

let c: TestCoordinator;

beforeAll(async () => {
  c = await startTestCoordinator('sqlite');
  expect((await c.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
});

afterAll(async () => {
  await c?.stop();
});

it('is refused while the regions cannot be asked, and forced removal records why', async () => {
  const refused = await c.request('DELETE', '/v1/services/api');
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('NATS_UNAVAILABLE');
  expect((await c.request('GET', '/v1/services/api')).status).toBe(200);

  const forced = await c.request('DELETE', '/v1/services/api?force=true');
  expect(forced.status, forced.text).toBe(200);
  expect(forced.json).toEqual({ name: 'api', removed: true, changed: true });
  const [row] = (await selectAudit(c.handle.db, 'api')).filter((r) => r.action === 'service-remove');
  expect(JSON.parse(String(row!.detail))).toMatchObject({ force: true, inUse: expect.any(String) });
});

it('refuses a bad force value', async () => {
  expect((await c.request('DELETE', '/v1/services/api?force=yes')).status).toBe(400);
});
