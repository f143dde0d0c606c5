import { lockedMessage, unlockedMessage } from '../../messages/lock-messages.ts';
import { replyInChannel } from '../reply.ts';
import type { CommandHandler } from './command-listener.ts';
import { noMoreArgs, serviceArg, usageError } from './command-text.ts';

/** `/lock SERVICE REASON`: said in the channel, and announced in the service's. */
export const lockCommand: CommandHandler = async (ctx, request) => {
  const [serviceText] = request.args;
  const service = serviceArg('lock', serviceText);
  const reason = request.text.trim().slice(serviceText!.length).trim();
  if (reason === '') throw usageError('lock', 'say why (it is shown to whoever tries to deploy)');
  await ctx.permissions.check(request.user, 'lock', service);
  const lock = await ctx.fleet.lock(request.user, service, reason);
  const message = lockedMessage(lock, request.user.id);
  await replyInChannel(request.respond, message);
  await ctx.announcer.announce(service, message, request.channel);
};

/** `/unlock SERVICE`. */
export const unlockCommand: CommandHandler = async (ctx, request) => {
  const [serviceText, ...rest] = request.args;
  const service = serviceArg('unlock', serviceText);
  noMoreArgs('unlock', rest);
  await ctx.permissions.check(request.user, 'lock', service);
  const lock = await ctx.fleet.unlock(request.user, service);
  const message = unlockedMessage(lock, request.user.id);
  await replyInChannel(request.respond, message);
  await ctx.announcer.announce(service, message, request.channel);
};
