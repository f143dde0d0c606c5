import { z } from 'zod';

/** A signed Slack request a bot replica received: the signature and timestamp headers as sent. */
export const slackRequestBody = z
  .strictObject({
    signature: z.string().regex(/^v0=[0-9a-f]{64}$/, "the x-slack-signature header as Slack sent it: v0= and 64 hexadecimal characters"),
    timestamp: z.string().regex(/^[0-9]{1,12}$/, 'the x-slack-request-timestamp header as Slack sent it: seconds since the epoch'),
  })
  .meta({ id: 'SlackRequest' });

export const slackRequestSeenJson = z
  .object({
    firstTime: z.boolean().meta({ description: 'false: a bot replica reported this signed request before — a replay, to refuse' }),
  })
  .meta({ id: 'SlackRequestSeen' });

export type SlackRequestBody = z.output<typeof slackRequestBody>;
export type SlackRequestSeenJson = z.output<typeof slackRequestSeenJson>;
