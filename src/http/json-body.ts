import type { FastifyInstance } from 'fastify';
import { CountersignError } from '../core/errors.js';
import { inspectJson, type JsonLimits } from '../core/json.js';

/**
 * Replaces fastify's JSON parser so that every body is parsed by `JSON.parse` and then walked
 * once for forbidden keys, depth and size before any route sees it.
 */
export function registerJsonBodyParser(app: FastifyInstance, limits: JsonLimits): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const message = error instanceof RangeError ? 'The body is nested too deeply.' : 'The body is not valid JSON.';
      return done(new CountersignError('invalid_request', message), undefined);
    }
    const issue = inspectJson(value, limits);
    if (issue?.code === 'forbidden_key') {
      return done(
        new CountersignError('forbidden_key', `The key "${issue.key}" is not allowed anywhere in a request.`, {
          key: issue.key,
          pointer: issue.pointer,
        }),
        undefined,
      );
    }
    if (issue?.code === 'too_deep') {
      return done(
        new CountersignError('invalid_request', `The body is nested deeper than ${issue.maxDepth} levels.`),
        undefined,
      );
    }
    if (issue?.code === 'too_many_keys') {
      return done(
        new CountersignError('invalid_request', `The body has more than ${issue.maxKeys} keys and elements.`),
        undefined,
      );
    }
    done(null, value);
  });
}
