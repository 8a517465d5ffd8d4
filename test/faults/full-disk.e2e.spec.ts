import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { call, PROJECT_ROOT, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { scratchDir, useCleanups, writeUntilTaken } from './fault-kit.js';

const run = promisify(execFile);
/** Mounting a filesystem, even in a namespace of the service's own, takes root. */
const asRoot = process.getuid?.() === 0;

type Answer = Awaited<ReturnType<typeof call>>;

/**
 * The disk under the embedded PostgreSQL fills up (its logs, a backup, another program's files).
 * The server still answers reads, and refuses every statement that needs a new page: "could not
 * extend file ...: No space left on device" (SQLSTATE 53100). Once its write-ahead log needs a new
 * file too, it stops (PANIC), and cannot start again until space is freed.
 */
(asRoot ? describe : describe.skip)(
  'a database whose disk is full (needs root, to mount a small disk)',
  () => {
    const cleanup = useCleanups();

    /** The service on its embedded PostgreSQL, on a disk of its own, with one tenant. */
    const onASmallDisk = async () => {
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
      const port = /embedded PostgreSQL at postgres:\/\/\S+@127\.0\.0\.1:(\d+)\//.exec(service.output())?.[1];
      return {
        /** A connection of its own to the service's embedded server, as an operator's psql. */
        connect: async () => {
          const client = new pg.Client({
            connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/tenancy`,
          });
          client.on('error', () => undefined);
          await client.connect();
          return client;
        },
        service,
        workspaces: `/v1/tenants/${String(created.body.tenantId)}/workspaces`,
        /** Fills the disk, leaving `room` KiB free. */
        fill: (room = 0) =>
          onTheDisk(
            `dd if=/dev/zero of='${disk}/filler' bs=1K count=$(( $(df -k '${disk}' | awk 'NR==2 {print $4}') - ${room} )) 2>/dev/null; true`,
          ),
        free: () => onTheDisk(`rm -f '${disk}/filler'`),
        /** The CLI as an operator runs it beside the service, on the same embedded server. */
        tenancy: (args: string[]) =>
          run(
            'nsenter',
            [
              '--target',
              String(service.child.pid),
              '--mount',
              '--',
              process.execPath,
              path.join(PROJECT_ROOT, 'bin', 'tenancy.js'),
              ...args,
            ],
            {
              cwd: PROJECT_ROOT,
              env: { ...process.env, DATABASE_URL: '', TENANCY_DATA_DIR: path.join(disk, 'data') },
            },
          ).then(
            ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
            (error: { code: number; stdout: string; stderr: string }) => error,
          ),
      };
    };

    /** Every write acknowledged is there once the disk has room again, and readiness is ok. */
    const expectAllThere = async (service: ServiceProcess, workspaces: string, taken: Answer[]) => {
      for (const answer of taken) {
        const read = await call(
          service,
          'GET',
          `${workspaces}/${String(answer.body.workspaceId)}`,
          undefined,
          {
            'Min-Position': String(answer.body.position),
          },
        );
        expect([read.status, read.body.name]).toEqual([200, answer.body.name]);
      }
      let ready = await call(service, 'GET', '/health/ready');
      await waitFor(async () => {
        ready = await call(service, 'GET', '/health/ready');
        return ready.body.status === 'ok';
      }, 30_000).catch(() => undefined);
      expect(ready.body).toEqual(expect.objectContaining({ status: 'ok' }));
    };

    it('writes answer 503 with Retry-After, readiness says the disk is full, and all carry on once space is freed', async () => {
      const { service, workspaces, fill, free } = await onASmallDisk();
      await fill();
      // Pages the tables already have take a few rows more: write until one needs a new page.
      const taken: Answer[] = [];
      let refused = await call(service, 'POST', workspaces, { name: 'during 0' });
      for (let attempt = 1; refused.status === 201 && attempt < 200; attempt++) {
        taken.push(refused);
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

      await free();
      const after = await writeUntilTaken(service, workspaces, { name: 'after' });
      expect(after.status).toBe(201);
      await expectAllThere(service, workspaces, [...taken, after]);
      expect(await service.stop()).toBe(0);
    }, 120_000);

    it('once the server stops for want of room in its write-ahead log, readiness and the log say why, and it is started again once space is freed', async () => {
      const { service, workspaces, fill, free, connect } = await onASmallDisk();
      const before = await call(service, 'POST', workspaces, { name: 'before' });
      expect(before.status).toBe(201);
      await fill();
      // Write-ahead log and nothing else, until it needs a new file: the server panics and stops.
      const direct = await connect();
      const stopped = await (async () => {
        for (let i = 0; i < 400; i++) {
          await direct.query(`SELECT pg_logical_emit_message(false, 'filler', repeat('x', 100000))`);
        }
        return 'still running';
      })().catch((error: unknown) => (error as Error).message);
      await direct.end().catch(() => undefined);
      expect(stopped).not.toBe('still running');

      let ready = await call(service, 'GET', '/health/ready');
      await waitFor(async () => {
        ready = await call(service, 'GET', '/health/ready');
        return JSON.stringify(ready.body).includes('No space left on device');
      }, 15_000).catch(() => undefined);
      expect([ready.status, ready.body.status]).toEqual([503, 'error']);
      expect(ready.body.details).toEqual(
        expect.objectContaining({
          database: expect.objectContaining({
            status: 'down',
            embeddedServer: expect.stringMatching(/^not running: .*No space left on device/),
          }),
        }),
      );
      expect(service.output()).toMatch(
        /"level":"warn".*PostgreSQL exited \(code 1\): .*No space left on device/,
      );

      await free();
      const after = await writeUntilTaken(service, workspaces, { name: 'after' });
      expect(after.status).toBe(201);
      await expectAllThere(service, workspaces, [before, after]);
      expect(service.output()).toMatch(/PostgreSQL is running again on port/);
      expect(await service.stop()).toBe(0);
    }, 120_000);

    it('a replay that runs out of room exits 1, says where its work is kept and how to go on, and resumes once space is freed', async () => {
      const { service, workspaces, fill, free, tenancy, connect } = await onASmallDisk();
      // Some megabytes of read models, in eight at a time.
      const created = (
        await Promise.all(
          Array.from({ length: 8 }, async (_, lane) => {
            const answers: Answer[] = [];
            for (let i = 0; i < 300; i++)
              answers.push(await call(service, 'POST', workspaces, { name: `w ${lane}.${i}` }));
            return answers;
          }),
        )
      ).flat();
      expect(new Set(created.map((answer) => answer.status))).toEqual(new Set([201]));
      // Every read model done with them: the projectors write nothing more into the room left.
      const last = created
        .map((answer) => String(answer.body.position))
        .sort()
        .at(-1)!;
      const caughtUp = await call(service, 'GET', workspaces, undefined, { 'Min-Position': last });
      expect(caughtUp.status).toBe(200);
      // Room for about half of what the replay rebuilds: its empty tables fit, its load does not.
      const direct = await connect();
      const { rows } = await direct.query<{ bytes: string }>(
        `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'read_model' AND c.relkind = 'r'`,
      );
      await direct.end();
      const live = Number(rows[0]?.bytes);
      expect(live).toBeGreaterThan(2 * 1024 * 1024);
      await fill(Math.round(live / 2 / 1024));
      const failed = await tenancy(['replay']);
      expect(failed.code).toBe(1);
      const lines = failed.stderr.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(/^tenancy replay: .*No space left on device/);
      expect(lines.at(-2)).toMatch(
        /^tenancy replay: stopped; what it rebuilt is kept in schema read_model_replay \([\d.]+ MB\): `tenancy replay` resumes it once the cause below is put right/,
      );

      await free();
      const resumed = await tenancy(['replay']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/tenancy-read-model: \d+ events replayed \(resumed\), swapped in/);
      expect((await tenancy(['verify'])).code).toBe(0);
      expect(await service.stop()).toBe(0);
    }, 120_000);
  },
);
