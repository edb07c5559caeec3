import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Leaf } from '../../core/diff.js';
import { fail } from '../../core/errors.js';
import type { Json } from '../../core/json.js';
import { formatPath, parsePath } from '../../core/path.js';
import { classify } from '../../core/policy.js';
import { isRedactedPath } from '../../core/redact.js';
import type { Service } from '../../service/context.js';
import { resolveTarget } from '../../service/document.js';
import { callerOf } from '../auth.js';

const ExplainQuerySchema = z
  .object({
    path: z.string().min(1).max(1000),
    /** The new value as JSON text, to test value conditions such as `"to": [true]`. */
    value: z.string().max(10_000).optional(),
    target: z.string().min(1).max(63).optional(),
  })
  .strict();

/**
 * `GET /v1/policy/explain` (agents and owners): which rule decides a path, the tier and why — the
 * classifier proposals use, so an agent can learn before proposing what an owner will be asked.
 * Only the caller's own `value` is classified, never the document's current one: a rule's `from`
 * condition on a redacted path would otherwise answer questions about a secret.
 */
export const policyRoutes: FastifyPluginAsyncZod<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/v1/policy/explain',
    {
      schema: {
        summary: 'Which policy rule decides a path, its tier and why',
        tags: ['policy'],
        querystring: ExplainQuerySchema,
      },
    },
    async (request) => {
      callerOf(request);
      const { policy, name } = resolveTarget(service, request.query.target);
      let segments: ReturnType<typeof parsePath>;
      try {
        segments = parsePath(request.query.path);
      } catch (error) {
        fail('invalid_request', `Cannot read the path: ${(error as Error).message}`);
      }
      let after: Json | undefined;
      if (request.query.value !== undefined) {
        try {
          after = JSON.parse(request.query.value) as Json;
        } catch {
          fail('invalid_request', 'value must be JSON (for a string, quote it: "\\"off\\"").');
        }
      }
      const leaf: Leaf = { path: segments, op: 'add' };
      if (after !== undefined) leaf.after = after;
      const decision = classify(policy, leaf);
      return {
        target: name,
        path: formatPath(segments),
        mode: policy.mode,
        tier: decision.tier,
        ruleId: decision.ruleId,
        explain: decision.explain,
        restart: decision.restart,
        redacted: isRedactedPath(policy.redactPatterns, segments),
        refused: policy.mode === 'hard-block' && decision.tier !== 'allowlisted',
      };
    },
  );
};
