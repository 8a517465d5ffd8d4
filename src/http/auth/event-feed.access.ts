import { EventFeedHttpController } from '../events/events.http.controller.js';
import { declareRequirement, fromQuery } from './requires.decorator.js';

// The feed's tenantId filter is its target: a tenant key reads its own tenant's events only, and
// without a filter the feed spans all tenants, which only the operator may read.
declareRequirement(EventFeedHttpController, 'page', {
  permission: 'events:read',
  tenantId: fromQuery('tenantId'),
});
declareRequirement(EventFeedHttpController, 'stream', {
  permission: 'events:read',
  tenantId: fromQuery('tenantId'),
});
// The catalog describes event shapes, not any tenant's data.
declareRequirement(EventFeedHttpController, 'schemas', { permission: 'events:schemas' });

/** Imported for its effect by the HTTP module, so the declarations exist before the first request. */
export const EVENT_FEED_ACCESS_DECLARED = true;
