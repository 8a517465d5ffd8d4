export const TENANT_STREAM_PREFIX = 'tenant-';

/** One stream per tenant: the tenant aggregate owns its whole workspace tree. */
export function tenantStreamName(tenantId: string): string {
  return TENANT_STREAM_PREFIX + tenantId;
}

/** For subscribers to the global log: the tenantId of a tenant stream, undefined for any other stream. */
export function tenantIdOfStream(streamName: string): string | undefined {
  return streamName.startsWith(TENANT_STREAM_PREFIX) && streamName.length > TENANT_STREAM_PREFIX.length
    ? streamName.slice(TENANT_STREAM_PREFIX.length)
    : undefined;
}
