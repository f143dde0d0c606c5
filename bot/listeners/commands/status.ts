import { statusMessage } from '../../messages/status-message.ts';
import { replyToAsker } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { noMoreArgs, serviceArg } from './command-text.ts';

/** `/status SERVICE`: each region's goal and its machines, and the lock. Anyone may ask. */
export const statusCommand: CommandHandler = async (ctx, request) => {
  const [serviceText, ...rest] = request.args;
  const service = serviceArg('status', serviceText);
  noMoreArgs('status', rest);
  await replyToAsker(request.respond, statusMessage(await ctx.fleet.status(service), ctx.now()));
};
