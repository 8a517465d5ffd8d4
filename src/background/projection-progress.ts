import { Injectable } from '@nestjs/common';
import type { Position } from '../event-store/event-store.port.js';

/**
 * In-process news of what the local projectors committed, so a read waiting for its Min-Position
 * wakes the moment the position is applied instead of on its next poll.
 */
@Injectable()
export class ProjectionProgress {
  private readonly waiters = new Set<() => void>();

  committed(_projection: string, _position: Position): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves on the next local commit or after `timeoutMs`. */
  nextCommit(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }
}
