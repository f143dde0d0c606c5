import { buildListMessage } from '../../messages/build-messages.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { noMoreArgs, serviceArg } from './command-text.ts';

/** Builds a `/builds` answer lists. */
const recentBuilds = 10;

/** `/builds SERVICE`: the recent history, each with status and whether it can be deployed. Anyone may ask. */
export const buildsCommand: CommandHandler = async (ctx, request) => {
  const [serviceText, ...rest] = request.args;
  const service = serviceArg('builds', serviceText);
  noMoreArgs('builds', rest);
  const { builds } = await ctx.fleet.builds(service, recentBuilds);
  await replyToAsker(request.respond, buildListMessage(service, builds, ctx.now()));
};
