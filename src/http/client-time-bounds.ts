import type { Server } from 'node:http';

/**
 * How often Node's HTTP server looks for clients past either bound (its own default: every 30 s,
 * which let a one-second bound hold a connection for half a minute).
 */
const CHECK_INTERVAL_MS = 250;

export interface ClientTimeBounds {
  /** How long a client may take to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** How long it may take to send the whole request, body included. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after an answer. */
  readonly keepAliveTimeoutMs: number;
}

/**
 * Bounds how long a client may take to send its request. One that sends a byte now and then
 * (slowloris, or a client stuck behind a bad network) holds one of the connections the server
 * keeps (TENANCY_HTTP_MAX_CONNECTIONS) for as long as it takes: at Node's own bounds, a minute for
 * headers and five for a body, so a few hundred such clients shut every other one out for that
 * long. Past a bound, the client is answered 408 (src/http/client-errors.ts) and its connection
 * closed; the request never reaches a handler. An answer is not bounded: an event stream's request
 * ended when its headers did. An idle keep-alive connection is closed after its own bound, which a
 * load balancer that keeps connections to the service needs above its idle timeout.
 *
 * Call before the server listens: Node starts its checks then, at the interval set here.
 */
export function boundClientTimes(server: Server, bounds: ClientTimeBounds): void {
  if (server.listening) throw new Error('the client time bounds must be set before the server listens');
  server.headersTimeout = bounds.headersTimeoutMs;
  server.requestTimeout = bounds.requestTimeoutMs;
  server.keepAliveTimeout = bounds.keepAliveTimeoutMs;
  // An option of http.createServer, which Nest's adapter calls without options; Node reads it from
  // the server when listening starts (the slow-clients fault test fails if that changes).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    CHECK_INTERVAL_MS;
}
