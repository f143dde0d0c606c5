import { describe, expect, it } from 'vitest';
import { errorCodes, FleetcastError, type ErrorCode } from '../../errors/index.ts';
import { headline, refusalMessage } from './refusal.ts';

describe('refusals in Slack', () => {
  it('word every error code', () => {
    for (const code of Object.keys(errorCodes) as ErrorCode[]) expect(headline(code), code).toMatch(/^:[a-z_]+: \S/);
  });

  it('keep the mentions the bot wrote and show anything else as text', () => {
    const err = new FleetcastError('FORBIDDEN', '<@U0BOB> may not deploy api: ask <!subteam^S0ONCALL> or <!channel> & <https://evil|here>');
    const text = JSON.stringify(refusalMessage(err).blocks);
    expect(text).toContain('<@U0BOB> may not deploy api');
    expect(text).toContain('<!subteam^S0ONCALL>');
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil|here&gt;');
  });

  it('show the missing copies of a build that is not deployable, and how to unlock a locked service', () => {
    const copy = { region: 'ap', status: 'COPYING', attempts: 1, bytesCopied: 512, size: 2048, startedAt: null, finishedAt: null, error: null, removedAt: null };
    const notDeployable = JSON.stringify(refusalMessage(new FleetcastError('NOT_DEPLOYABLE', 'b4 is not deployable to ap yet', { missingRegions: ['ap'], copies: [copy] })).blocks);
    expect(notDeployable).toContain('*ap* COPYING 25% (512 B of 2 KiB)');
    const locked = JSON.stringify(refusalMessage(new FleetcastError('LOCKED', 'api is locked by x', { service: 'api', lockedBy: 'x', reason: 'r', since: 't' })).blocks);
    expect(locked).toContain('`/unlock api`');
  });

  it('turn an unexpected error into INTERNAL without its stack', () => {
    const message = refusalMessage(new TypeError('x is undefined'));
    expect(message.text).toContain('Something broke');
    expect(message.text).toContain('unexpected error: x is undefined');
  });
});
