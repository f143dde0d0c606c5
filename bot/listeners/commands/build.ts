import { buildQueuedMessage } from '../../messages/build-messages.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { commitArg, noMoreArgs, serviceArg } from './command-text.ts';

/** `/build SERVICE COMMIT`: queues it (the same commit already queued or running is that build), and says so when it ends. */
export const buildCommand: CommandHandler = async (ctx, request) => {
  const [serviceText, commitText, ...rest] = request.args;
  const service = serviceArg('build', serviceText);
  const commit = commitArg('build', commitText);
  noMoreArgs('build', rest);
  await ctx.permissions.check(request.user, 'build', service);
  const { value: build, repeated } = await ctx.fleet.submitBuild(request.user, service, commit);
  await replyToAsker(request.respond, buildQueuedMessage(build, request.user.id, repeated, ctx.announcer.channelFor(service)));
  ctx.builds.start(build, request.respond);
};
