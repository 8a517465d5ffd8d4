import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { PrototypeStableExpressAdapter } from './express-adapter.js';

describe('PrototypeStableExpressAdapter', () => {
  it("creates each request and response as Express's own objects, which Express then uses unchanged", async () => {
    const app = express();
    app.post('/v1/things/:id', express.json(), (request, response) => {
      response
        .status(201)
        .json({ id: request.params.id, json: request.is('json'), body: request.body as unknown });
    });
    const adapter = new PrototypeStableExpressAdapter(app);
    adapter.initHttpServer({});
    const server = adapter.getHttpServer() as Server;
    // Ahead of Express's own listener: the objects as the server made them.
    const born: string[] = [];
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      born.push(
        `${String(Object.getPrototypeOf(request) === app.request)} ${String(Object.getPrototypeOf(response) === app.response)}`,
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      for (const id of ['a', 'b']) {
        const answer = await fetch(`http://127.0.0.1:${port}/v1/things/${id}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ n: 1 }),
        });
        expect(answer.status).toBe(201);
        expect(await answer.json()).toEqual({ id, json: 'json', body: { n: 1 } });
      }
      expect(born).toEqual(['true true', 'true true']);
    } finally {
      server.close();
      await once(server, 'close');
    }
  });
});
