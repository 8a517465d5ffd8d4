import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

export interface ShutdownNotice {
  readonly signal: string;
  readonly at: Date;
  readonly stopsAt: Date;
}

/**
 * What graceful shutdown needs of the HTTP layer: how many requests are in flight, a way to end the
 * long-lived event streams, and keep-alive connections that stop being reused once draining
 * started (a keep-alive client would otherwise keep a closing server busy for ever).
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  private inFlight = 0;
  private lastArrival = 0;
  private draining = false;
  /** When a stop signal came, and when the service stops taking connections. */
  private stopping: ShutdownNotice | undefined;
  private readonly idleWaiters = new Set<() => void>();
  private readonly streams = new Set<AbortController>();

  /** Express middleware counting requests until their response is finished or abandoned. */
  readonly track = (_request: Request, response: Response, next: NextFunction): void => {
    this.inFlight++;
    this.lastArrival = Date.now();
    if (this.draining || this.stopping) response.setHeader('Connection', 'close');
    response.once('close', () => {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of [...this.idleWaiters]) wake();
    });
    next();
  };

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** A long-lived response (an event stream) that shutdown ends by aborting it. */
  openStream(): AbortController {
    const stream = new AbortController();
    this.streams.add(stream);
    if (this.draining) stream.abort();
    stream.signal.addEventListener('abort', () => this.streams.delete(stream), { once: true });
    return stream;
  }

  /**
   * A stop signal came; the service still serves until `stopsAt`. Readiness says so (a load
   * balancer takes the instance out), and every answer closes its connection, so that keep-alive
   * clients open their next one elsewhere. Event streams go on until draining begins.
   */
  announce(notice: ShutdownNotice): void {
    this.stopping = notice;
  }

  /** The stop announced, if one was. */
  get shutdown(): ShutdownNotice | undefined {
    return this.stopping;
  }

  /** From now on responses close their connection, and open event streams end. */
  begin(): void {
    this.draining = true;
    for (const stream of [...this.streams]) stream.abort();
  }

  /** Open streams would keep the HTTP server from ever closing. */
  beforeApplicationShutdown(): void {
    this.begin();
  }

  /**
   * Resolves once no request has arrived for `quietMs` (or at `deadline`): a request a client sent
   * over an idle keep-alive connection just before the signal may still be on its way, and closing
   * that connection now would reset it.
   */
  async quiet(quietMs: number, deadline: number): Promise<void> {
    for (;;) {
      const wait = Math.min(this.lastArrival + quietMs, deadline) - Date.now();
      if (wait <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Resolves once no request is in flight, or after `timeoutMs` with how many still were. */
  async idle(timeoutMs: number): Promise<number> {
    if (this.inFlight === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      this.idleWaiters.add(done);
      timer = setTimeout(done, timeoutMs);
    });
    return this.inFlight;
  }
}
