// A scripted stand-in for a language model: an OpenAI-compatible chat completions endpoint
// (the only part of a live agent turn that is not real). OpenClaw always streams, so the
// stub answers in SSE chunks. The first request of a turn gets one `exec` tool call whose
// command is the text after "run: " in the user's message; the request that carries the
// tool's result gets a plain answer, and the stub records that result so a test can see
// what the model was told (for a blocked call: countersign's reason, word for word).
import { createServer, type Server } from 'node:http';

type Message = { role: string; content?: unknown; tool_call_id?: string };
export type StubModel = {
  url: string;
  toolResults: string[];
  requests: number;
  /** One line per request: the tools offered and the last message's role, for failure messages. */
  log: string[];
  close: () => Promise<void>;
};

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

function sse(chunks: unknown[]): string {
  return `${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`;
}

function chunk(id: string, delta: Record<string, unknown>, finish: string | null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'stub-1',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

export async function startStubModel(): Promise<StubModel> {
  const state = { toolResults: [] as string[], requests: 0, calls: 0, log: [] as string[] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (part: string) => {
      body += part;
    });
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      state.requests += 1;
      const parsed = JSON.parse(body) as { messages?: Message[]; tools?: Array<{ function?: { name?: string } }> };
      const messages = parsed.messages ?? [];
      const last = messages[messages.length - 1];
      state.log.push(
        `#${state.requests} last=${last?.role} tools=${(parsed.tools ?? []).map((tool) => tool.function?.name).join(',')} text=${text(last?.content).slice(0, 300)}`,
      );
      const id = `chatcmpl-${state.requests}`;
      let chunks: unknown[];
      // OpenClaw appends its own context as a later user message, so neither "the last message"
      // nor "the first request" tells where the turn is: the user message that asked is the last
      // one saying "run: …", and a tool result after it means the call was made already.
      const asked = messages.findLastIndex((message) => message.role === 'user' && /run: /.test(text(message.content)));
      const result = messages.findLastIndex((message, index) => index > asked && message.role === 'tool');
      const command =
        asked === -1 ? undefined : [...text(messages[asked]?.content).matchAll(/run: (.+)$/gm)].at(-1)?.[1];
      if (asked !== -1 && result !== -1) {
        state.toolResults.push(text(messages[result]?.content));
        chunks = [chunk(id, { role: 'assistant', content: 'The command was handled.' }, null), chunk(id, {}, 'stop')];
      } else {
        state.calls += 1;
        // Other callers of the model (OpenClaw's background memory tasks) get a plain answer.
        chunks =
          command === undefined
            ? [chunk(id, { role: 'assistant', content: 'Nothing to do.' }, null), chunk(id, {}, 'stop')]
            : [
                chunk(
                  id,
                  {
                    role: 'assistant',
                    tool_calls: [
                      {
                        index: 0,
                        id: `call_${state.calls}`,
                        type: 'function',
                        function: { name: 'exec', arguments: JSON.stringify({ command }) },
                      },
                    ],
                  },
                  null,
                ),
                chunk(id, {}, 'tool_calls'),
              ];
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }).end(sse(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get toolResults() {
      return state.toolResults;
    },
    get requests() {
      return state.requests;
    },
    get log() {
      return state.log;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
