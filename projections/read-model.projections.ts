import { auditLogProjection } from './audit-log.projection.js';
import { membershipReadModelProjection } from './membership-read-model.projection.js';
import type { Projection } from './projection.js';
import { tenancyReadModelProjection } from './tenancy-read-model.projection.js';

/** Every projection that builds the read_model schema, in the order a rebuild applies them. */
export const READ_MODEL_PROJECTIONS: readonly Projection[] = [
  tenancyReadModelProjection,
  auditLogProjection,
  membershipReadModelProjection,
];

/** The schema holding the live read models. */
export const LIVE_READ_MODEL_SCHEMA = 'read_model';
