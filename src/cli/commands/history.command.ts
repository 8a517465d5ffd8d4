import { tenantAtPoint, type HistoryPoint } from '../../application/queries/tenant-at-point.js';
import { isPastTheLog, NOT_OF_THIS_LOG } from '../../application/queries/written-position.js';
import { isPosition } from '../../event-store/position.js';
import { isCanonicalUuid } from '../../tenancy/uuid.js';
import { UsageError, type CliCommand } from '../cli-command.js';
import { isKnownTenant, writeRespectingBackPressure } from '../output.js';
import { renderTenantTree } from '../tenant-tree.render.js';
import { isoTimeOf } from '../option-values.js';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';

export function parseHistoryPoint(value: string): HistoryPoint {
  if (isPosition(value)) return { position: value };
  const time = isoTimeOf(value);
  if (time !== undefined) return { time };
  throw new UsageError(`--at must be a log position or an ISO 8601 time, not '${value}'`);
}

export const historyCommand: CliCommand = {
  name: 'history',
  summary: "print a tenant's workspace tree, members and grants as they were at a point of the log",
  help: `Usage: tenancy history --tenant <tenantId> [--at <position | ISO time>] [--json]

Rebuilds the tenant's workspace tree, members, groups and grants from its event stream (not from
the read models), as they were after the last event at or before --at (default: now), and prints
the tree indented, followed by the members, groups and grants.

Options:
  --tenant <id>   the tenant's id (a UUID)
  --at <point>    a log position (as the API and the feed report them), inclusive, or an ISO 8601
                  time such as 2025-03-01T12:00:00Z, compared with the time the store recorded events;
                  a position after the log's last event is refused (exit 1), a later time is now
  --json          print JSON instead: the tenant, its live workspaces (parents before children),
                  members, groups and grants
  -h, --help      show this help
`,
  options: {
    tenant: { type: 'string' },
    at: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(options, _positionals, context) {
    const tenantId = typeof options.tenant === 'string' ? options.tenant.toLowerCase() : undefined;
    if (tenantId === undefined || !isCanonicalUuid(tenantId)) {
      throw new UsageError('--tenant <id> is required and must be a UUID');
    }
    const point = typeof options.at === 'string' ? parseHistoryPoint(options.at) : undefined;
    const store = await context.eventStore();
    if (!(await isKnownTenant(store, tenantId, context.stderr))) return 1;
    // As the feed refuses it: an empty answer would read as "this is the tenant then".
    if (point !== undefined && 'position' in point && (await isPastTheLog(store, point.position))) {
      throw new Error(`--at ${point.position} ${NOT_OF_THIS_LOG}`);
    }
    // Display names are revealed while the person's key exists (docs/personal-data.md).
    const tenant = await tenantAtPoint(
      store,
      tenantId,
      point,
      new PersonalDataVault(await context.database()),
    );
    await writeRespectingBackPressure(
      context.stdout,
      options.json === true ? `${JSON.stringify(tenant, null, 2)}\n` : renderTenantTree(tenant),
    );
    return 0;
  },
};
