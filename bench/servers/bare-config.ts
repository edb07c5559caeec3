/**
 * Child process for bench/config.ts, the floor: a bare fastify GET route that sends a
 * pre-serialised body read from FILE (the bytes countersign sends), and one that answers 304.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { listenForBench } from '../lib/listen.js';

const file = process.argv[2];
if (!file) throw new Error('usage: bare-config.ts FILE');
const body = readFileSync(file, 'utf8');
const server = Fastify();
server.get('/v1/config', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
server.get('/v1/config-304', async (_request, reply) => reply.header('etag', '"x"').status(304).send());
await listenForBench(server);
