import type { FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * Every route is checked and serialised by zod. Given as factories when an instance is made
 * (`schemaController.compilersFactory`), rather than with setValidatorCompiler afterwards, they
 * keep fastify from loading its default ajv and fast-json-stringify compilers: about 1 MB of
 * heap the server would hold and never use. fastify types the factories after its ajv defaults;
 * at run time it takes any compiler, as setValidatorCompiler does.
 */
export const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as CompilersFactory;
