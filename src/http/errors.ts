import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CountersignError } from '../core/errors.js';

/** Request fields whose shape errors are patch errors rather than request errors. */
const patchFields = /^\/(patch|operations|replace|replacePaths)(\/|$)/;

/**
 * Every failure leaves as `{ error: { code, message, ...details } }` with a specific 4xx where
 * the caller can fix something; unexpected errors are logged and answered without internals.
 */
export function toErrorReply(error: unknown): CountersignError {
  if (error instanceof CountersignError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: issue.instancePath || '/',
      message: issue.message ?? 'is invalid',
    }));
    const isPatch = issues.every((issue) => patchFields.test(issue.path));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    return new CountersignError(isPatch ? 'invalid_patch' : 'invalid_request', `The request is not valid: ${summary}`, {
      issues,
    });
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CountersignError('payload_too_large', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CountersignError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new CountersignError('not_found', 'No proposal has an id that long.');
    case 'FST_ERR_BAD_URL':
      return new CountersignError('invalid_request', 'The URL is not valid.');
    case 'FST_ERR_RATE_LIMITED':
      return new CountersignError('rate_limited', 'Too many requests; slow down.');
  }
  if (fastifyError.statusCode === 429) return new CountersignError('rate_limited', 'Too many requests; slow down.');
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new CountersignError('invalid_request', fastifyError.message ?? 'The request is not valid.');
  }
  return new CountersignError('internal', 'Something went wrong inside countersign; the change was not made.');
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const reply_ = toErrorReply(error);
  if (reply_.code === 'internal') request.log.error({ err: error }, 'unexpected error');
  if (reply_.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
  const retryAfter = reply_.details.retryAfter;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  return reply.status(reply_.status).send(reply_.toBody());
}
