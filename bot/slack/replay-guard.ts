import type { AnyMiddlewareArgs, BufferedIncomingMessage, Middleware, ReceiverProcessEventErrorHandlerArgs } from '@slack/bolt';
import { HTTPModuleFunctions } from '@slack/bolt';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { RecentKeys } from './recent-keys.ts';

/**
 * Bolt accepts a signed request for 5 minutes after its timestamp; within that window a copy
 * captured on the way would pass the signature check again. Signatures seen are remembered
 * for that window (and a little more, for clock skew) and a second one is rejected with 401.
 */
const signatureWindowMs = 6 * 60_000;

/** The replicas' shared memory of signed requests (the coordinator's, in SQL): false for one seen before. */
export type SharedReplayCheck = (signature: string, timestamp: string) => Promise<boolean>;

interface SignedRequest {
  signature: string;
  timestamp: string;
}

/**
 * Rejects HTTP requests replayed within Bolt's timestamp window. Bolt verifies the signature
 * and timestamp first; `extract` (Bolt's customPropertiesExtractor, called only for requests
 * that passed) hands the signature to `middleware`, which refuses one seen before;
 * `processEventErrorHandler` answers that refusal with 401, as Bolt does a bad signature.
 * With `shared`, a request new to this replica is checked against what every replica has seen,
 * so a copy sent to another replica is refused too; while the coordinator cannot answer, this
 * replica's own memory is the guard (and the request is served: Slack must not wait on it).
 */
export class ReplayGuard {
  private readonly seen: RecentKeys;

  constructor(
    private readonly logger: Logger,
    now?: () => number,
    private readonly shared: SharedReplayCheck | null = null,
  ) {
    this.seen = new RecentKeys({ ttlMs: signatureWindowMs, ...(now ? { now } : {}) });
  }

  readonly extract = (request: BufferedIncomingMessage): { fleetcastSignedRequest: SignedRequest } => ({
    fleetcastSignedRequest: { signature: String(request.headers['x-slack-signature']), timestamp: String(request.headers['x-slack-request-timestamp']) },
  });

  readonly middleware: Middleware<AnyMiddlewareArgs> = async ({ context, next }) => {
    const signed = context.fleetcastSignedRequest as SignedRequest | undefined;
    if (signed && !(this.seen.firstTime(`${signed.timestamp}:${signed.signature}`) && (await this.firstAcrossReplicas(signed)))) {
      this.logger.warn({ timestamp: signed.timestamp, retry: context.retryNum ?? null }, 'rejected a replayed Slack request (its signature was seen before)');
      throw new FleetcastError('UNAUTHORIZED', 'this signed Slack request was received before; a replay is refused');
    }
    await next();
  };

  private async firstAcrossReplicas(signed: SignedRequest): Promise<boolean> {
    if (!this.shared) return true;
    try {
      return await this.shared(signed.signature, signed.timestamp);
    } catch (err) {
      this.logger.warn({ err, timestamp: signed.timestamp }, "could not check the Slack request against the other bot replicas (coordinator unreachable?); only this replica's memory guards it");
      return true;
    }
  }

  readonly processEventErrorHandler = async (args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
    const { error, response } = args;
    const cause = (error as { original?: unknown }).original ?? error;
    if (isFleetcastError(cause, 'UNAUTHORIZED') && !response.headersSent) {
      response.writeHead(401);
      response.end();
      return false;
    }
    return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
  };
}
