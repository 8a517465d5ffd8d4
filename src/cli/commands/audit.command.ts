import { ScopedReader } from '../../application/queries/scoped-reader.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { isKnownTenant, writeRespectingBackPressure } from '../output.js';
import { isoTimeOf, positiveIntegerOf } from '../option-values.js';

interface AuditRow {
  position: string;
  occurred_at: Date;
  event_type: string;
  workspace_id: string | null;
  actor: string | null;
  correlation_id: string | null;
}

export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'list who did what and when in a tenant, from the audit log',
  help: `Usage: tenancy audit --tenant <id> [--workspace <id>] [--since <ISO time>] [--actor <actor>] [--limit <n>] [--json]

Lists the tenant's audit log (one row per event: time, event, workspace, actor, correlation id)
in log order, read through the same tenant-scoped, row-level-secured role as the API.

Options:
  --tenant <id>     the tenant (required); one the event log does not know exits 1
  --workspace <id>  only events about this workspace
  --since <time>    only events that happened at or after this ISO 8601 time
  --actor <actor>   only events caused by this actor (e.g. operator, process:cascade-deletion)
  --limit <n>       at most this many rows (default 1000); when more match, stderr says so
  --json            one JSON object per line instead of a table
  -h, --help        show this help
`,
  options: {
    tenant: { type: 'string' },
    workspace: { type: 'string' },
    since: { type: 'string' },
    actor: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(options, _positionals, context) {
    const tenantId = typeof options.tenant === 'string' ? options.tenant.toLowerCase() : '';
    if (!isCanonicalUuid(tenantId)) throw new UsageError('--tenant <id> is required and must be a UUID');
    const workspaceId = typeof options.workspace === 'string' ? options.workspace.toLowerCase() : null;
    if (workspaceId !== null && !isCanonicalUuid(workspaceId))
      throw new UsageError('--workspace must be a UUID');
    const since = typeof options.since === 'string' ? (isoTimeOf(options.since) ?? null) : null;
    if (typeof options.since === 'string' && since === null)
      throw new UsageError('--since must be an ISO 8601 time');
    const limit = typeof options.limit === 'string' ? positiveIntegerOf(options.limit) : 1000;
    if (limit === undefined) throw new UsageError('--limit must be a positive integer');
    const actor = typeof options.actor === 'string' ? options.actor : null;

    // A tenant id that names no tenant (a typo) is an error, as for history and export, not an empty log.
    if (!(await isKnownTenant(await context.eventStore(), tenantId, context.stderr))) return 1;
    const reader = new ScopedReader(await context.database());
    const rows = await reader.read({ kind: 'tenant', tenantId }, async (client) => {
      // The tenant named as well as scoped: row-level security alone keeps the other tenants' rows
      // out, but only by filtering a walk of the whole log's audit rows; named, the read walks the
      // tenant's own index.
      const result = await client.query<AuditRow>(
        `SELECT position, occurred_at, event_type, workspace_id, actor, correlation_id FROM audit_log
         WHERE tenant_id = $5 AND ($1::uuid IS NULL OR workspace_id = $1)
           AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::text IS NULL OR actor = $3)
         ORDER BY position LIMIT $4`,
        // One more than asked for, to tell whether the limit cut the trail short.
        [workspaceId, since?.toISOString() ?? null, actor, limit + 1, tenantId],
      );
      return result.rows;
    });
    const more = rows.length > limit;
    for (const row of rows.slice(0, limit)) {
      const line =
        options.json === true
          ? JSON.stringify({
              position: row.position,
              occurredAt: row.occurred_at.toISOString(),
              type: row.event_type,
              workspaceId: row.workspace_id,
              actor: row.actor,
              correlationId: row.correlation_id,
            })
          : [
              row.occurred_at.toISOString(),
              row.event_type.padEnd(24),
              row.workspace_id ?? '-'.padEnd(36),
              row.actor ?? '-',
              row.correlation_id ?? '-',
            ].join('  ');
      await writeRespectingBackPressure(context.stdout, `${line}\n`);
    }
    if (rows.length === 0)
      await writeRespectingBackPressure(context.stderr, `No audit entries for tenant ${tenantId} match.\n`);
    // On stderr, so that stdout stays the rows; a trail cut short must not read as the whole one.
    if (more)
      await writeRespectingBackPressure(
        context.stderr,
        `Only the first ${limit === 1 ? 'entry' : `${limit} entries`}: more match; raise --limit to see them.\n`,
      );
    return 0;
  },
};
