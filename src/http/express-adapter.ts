import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * Nest's Express adapter, with an HTTP server whose requests and responses are created as Express's
 * own objects.
 *
 * Express gives each request and response its methods (`req.is`, `res.status`, ...) by changing
 * the prototype of Node's objects as it receives them (`Object.setPrototypeOf` in `app.handle`).
 * V8 handles that change badly: with it, each minor garbage collection kept about 2 MB of the
 * requests' short-lived objects and moved them to the old generation, where only full collections
 * free them. In a toy of the service's request shape (Nest on Express, a global guard hashing the
 * key, a class-validator body, a JSON answer; 16 clients) the server spent 253-280 µs of CPU a
 * request that way and 161-177 µs with the objects created right, its collections' pauses 16-17 µs
 * a request against 4 (BENCHMARKS.md has the measurements). Node's server takes the constructors
 * to use; given ones whose prototype already is Express's, the change Express makes does nothing.
 */
export class PrototypeStableExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    const app = this.getInstance<Express>();
    const requestClass = bornWith(IncomingMessage, app.request);
    const responseClass = bornWith(ServerResponse, app.response);
    // Options this service does not use, and constructors that are classes, are left to Nest's
    // own server (Express then changes the prototypes itself, as it always did).
    if (
      options.httpsOptions ||
      options.forceCloseConnections ||
      options.return503OnClosing ||
      !requestClass ||
      !responseClass
    ) {
      super.initHttpServer(options);
      return;
    }
    this.httpServer = createServer({ IncomingMessage: requestClass, ServerResponse: responseClass }, app);
  }
}

/**
 * A constructor that runs `base` on an object whose prototype is `prototype` (which inherits from
 * `base.prototype`, as Express's request and response do). Undefined if `base` is a class, which
 * cannot run on an object made elsewhere (Node's are plain constructor functions).
 */
function bornWith<Constructor extends abstract new (...args: never[]) => object>(
  base: Constructor,
  prototype: object,
): Constructor | undefined {
  if (/^class\b/.test(Function.prototype.toString.call(base))) return undefined;
  const run = base as unknown as (this: object, ...args: unknown[]) => void;
  function Born(this: object, ...args: unknown[]): void {
    run.apply(this, args);
  }
  Born.prototype = prototype;
  return Born as unknown as Constructor;
}
