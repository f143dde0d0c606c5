import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/index.ts';
import { Teardown } from './teardown.ts';

describe('Teardown', () => {
  it('undoes the steps newest first, once, however often it is run', async () => {
    const done: string[] = [];
    const teardown = new Teardown(silentLogger());
    teardown.add('database', () => done.push('database'));
    teardown.add('reaper', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      done.push('reaper');
    });
    teardown.add('api', () => done.push('api'));
    await Promise.all([teardown.run(), teardown.run()]);
    await teardown.run();
    expect(done).toEqual(['api', 'reaper', 'database']);
    expect(teardown.registered).toEqual([]);
  });

  it('runs the remaining steps when one fails', async () => {
    const done: string[] = [];
    const teardown = new Teardown(silentLogger());
    teardown.add('database', () => done.push('database'));
    teardown.add('stores', () => {
      throw new Error('bucket gone');
    });
    await teardown.run();
    expect(done).toEqual(['database']);
  });

  it('refuses a step registered after it ran', async () => {
    const teardown = new Teardown(silentLogger());
    await teardown.run();
    expect(() => teardown.add('late', () => undefined)).toThrow(/already run/);
  });
});
