import type { FastifyError, FastifyInstance } from 'fastify';
import { FleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { toErrorJson } from './error-json.ts';

// fastify's own refusals of a request (its body parser, its limits), in words for people.
const fastifyRefusals: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request says Content-Type: application/json but has no body; send a JSON body, or no Content-Type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported Content-Type: send JSON with Content-Type: application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body does not match its Content-Length',
};

/**
 * The reply for any error: a FleetcastError keeps its code and HTTP status; a request fastify
 * refused (bad JSON, too large) is INVALID_INPUT with fastify's status; anything else is a
 * 500 INTERNAL that names the request id to look for in the logs — never a stack trace.
 */
export function replyError(err: unknown, requestId: string, logger: Logger): { status: number; error: FleetcastError } {
  if (err instanceof FleetcastError) {
    if (err.httpStatus >= 500) logger.warn({ err, requestId }, 'request failed');
    return { status: err.httpStatus, error: err };
  }
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (fastifyError.code && fastifyRefusals[fastifyError.code]) ?? fastifyError.message ?? 'bad request';
    return { status, error: new FleetcastError('INVALID_INPUT', message, { reason: fastifyError.code ?? null }) };
  }
  logger.error({ err, requestId }, 'request failed unexpectedly');
  return {
    status: 500,
    error: new FleetcastError('INTERNAL', `internal error; the coordinator logged it with request id ${requestId}`, { requestId }),
  };
}

export function installErrorReplies(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, error } = replyError(err, request.id, logger);
    void reply.code(status).type('application/json').send(toErrorJson(error));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new FleetcastError(
      'NOT_FOUND',
      `no such endpoint: ${request.method} ${request.url.split('?')[0]}; the API is described at GET /v1/openapi.json`,
    );
    void reply.code(404).send(toErrorJson(error));
  });
}
