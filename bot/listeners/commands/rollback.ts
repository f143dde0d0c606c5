import { isFleetcastError } from '../../../errors/index.ts';
import type { FleetApi } from '../../fleet/fleet-api.ts';
import { previewRefusal } from '../../fleet/preview-refusal.ts';
import type { SlackUser } from '../../slack/slack-user.ts';
import { rollbackPreview, type RollbackOutlook } from '../../messages/rollback-preview.ts';
import { newPlan } from '../../plans/plan.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { buildArg, noMoreArgs, serviceArg } from './command-text.ts';

/** During an incident the preview must not wait on a struggling coordinator: it shows what it learnt in this time. */
const outlookTimeoutMs = 2_500;

/**
 * `/rollback SERVICE [BUILD]`: the incident fast path — one confirmation, then the rollback and
 * the lock. The preview says what goes back where when the coordinator can tell; when it
 * cannot (its database is down), it says so and offers the rollback anyway: the coordinator
 * rolls back from the goal history without its database.
 */
export const rollbackCommand: CommandHandler = async (ctx, request) => {
  const [serviceText, toText, ...rest] = request.args;
  const service = serviceArg('rollback', serviceText);
  const to = toText === undefined ? null : buildArg('rollback', toText);
  noMoreArgs('rollback', rest);
  await ctx.permissions.check(request.user, 'rollback', service);
  const outlook = await rollbackOutlook(ctx.fleet, request.user, service, to);
  const plan = newPlan({ kind: 'rollback', service, build: to, regions: null, waves: null, user: request.user.id }, ctx.now());
  await replyToAsker(request.respond, rollbackPreview(plan, request.user, outlook));
};

/** The coordinator's preview of the rollback (the build it returns to, what each region runs, the commits removed); its refusal is thrown. */
async function rollbackOutlook(fleet: FleetApi, user: SlackUser, service: string, to: string | null): Promise<RollbackOutlook> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), outlookTimeoutMs)));
  const lookup = (async (): Promise<RollbackOutlook> => {
    const preview = await fleet.previewRollback(user, service, { ...(to === null ? {} : { to }) });
    const refusal = previewRefusal(preview);
    if (refusal) throw refusal;
    return { preview, target: preview.build.id, unknown: null };
  })();
  try {
    const result = await Promise.race([lookup, timeout]);
    if (result === 'timeout') return { preview: null, target: to, unknown: `the coordinator did not say within ${outlookTimeoutMs / 1000} s what each region runs; the rollback still uses the build deployed before` };
    return result;
  } catch (err) {
    // The coordinator's refusals stand (no such service or build, nothing to roll back to, not allowed…); a struggling coordinator (SQL or NATS down) only limits the preview.
    if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE') && !isFleetcastError(err, 'NATS_UNAVAILABLE') && !isFleetcastError(err, 'INTERNAL')) throw err;
    return { preview: null, target: to, unknown: `${(err as Error).message} — the coordinator rolls back from the goal history without it` };
  } finally {
    clearTimeout(timer);
    lookup.catch(() => undefined);
  }
}
