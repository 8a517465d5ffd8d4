import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { call, startServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { scratchDir, useCleanups, writeUntilTaken } from './fault-kit.js';

const run = promisify(execFile);
/** Mounting a filesystem, even in a namespace of the service's own, takes root. */
const asRoot = process.getuid?.() === 0;

/**
 * The disk under the database fills up (its logs, a backup, another program's files). PostgreSQL
 * still answers reads, and refuses every statement that needs a new page: "could not extend file
 * ...: No space left on device" (SQLSTATE 53100). Readiness's own probe is a read, which needs no
 * page: before, it answered "ok" while every write was refused.
 */
(asRoot ? describe : describe.skip)(
  'a database whose disk is full (needs root, to mount a small disk)',
  () => {
    const cleanup = useCleanups();

    it('writes answer 503 with Retry-After, readiness says the disk is full, and all carry on once space is freed', async () => {
      const disk = scratchDir(cleanup, 'tenancy-small-disk');
      await mkdir(disk);
      const service = await startServiceProcess({
        env: { DATABASE_URL: '', TENANCY_DATA_DIR: path.join(disk, 'data') },
        smallDisk: { directory: disk, size: '160m' },
      });
      cleanup(() => service.stop());
      // The disk is mounted where only the service's processes see it: enter their mount namespace.
      const onTheDisk = (script: string) =>
        run('nsenter', ['--target', String(service.child.pid), '--mount', '--', '/bin/sh', '-c', script]);
      const created = await call(service, 'POST', '/v1/tenants', { name: `Full disk ${randomUUID()}` });
      expect(created.status).toBe(201);
      const workspaces = `/v1/tenants/${String(created.body.tenantId)}/workspaces`;

      await onTheDisk(`dd if=/dev/zero of='${disk}/filler' bs=1M 2>/dev/null; df -k '${disk}'`);
      // Pages the tables already have take a few rows more: write until one needs a new page.
      const taken: { workspaceId: string; position: unknown }[] = [];
      let refused = await call(service, 'POST', workspaces, { name: 'during 0' });
      for (let attempt = 1; refused.status === 201 && attempt < 200; attempt++) {
        taken.push({ workspaceId: String(refused.body.workspaceId), position: refused.body.position });
        refused = await call(service, 'POST', workspaces, { name: `during ${attempt}` });
      }
      expect([refused.status, refused.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

      // Still serving reads, so degraded rather than down; and it says why writes are refused.
      const during = await call(service, 'GET', '/health/ready');
      expect([during.status, during.body.status]).toEqual([200, 'degraded']);
      expect(during.body.details).toEqual(
        expect.objectContaining({
          database: expect.objectContaining({
            status: 'degraded',
            sqlState: '53100',
            message: expect.stringContaining('No space left on device'),
          }),
        }),
      );

      await onTheDisk(`rm -f '${disk}/filler'`);
      const after = await writeUntilTaken(service, workspaces, { name: 'after' });
      expect(after.status).toBe(201);
      // Every write acknowledged while the disk was full is there, and readiness is ok again.
      for (const { workspaceId, position } of [...taken, after.body as (typeof taken)[number]]) {
        const read = await call(service, 'GET', `${workspaces}/${workspaceId}`, undefined, {
          'Min-Position': String(position),
        });
        expect(read.status).toBe(200);
      }
      let ready = during;
      await waitFor(async () => {
        ready = await call(service, 'GET', '/health/ready');
        return ready.body.status === 'ok';
      }, 30_000).catch(() => undefined);
      expect(ready.body).toEqual(expect.objectContaining({ status: 'ok' }));
      expect(await service.stop()).toBe(0);
    }, 120_000);
  },
);
