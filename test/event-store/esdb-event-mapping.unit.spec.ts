import { describe, expect, it } from '@jest/globals';
import {
  ANY,
  AccessDeniedError,
  ErrorType,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { ConcurrencyError, type Position } from '../../src/event-store/event-store.port.js';
import {
  isStreamNotFound,
  isSystemEventType,
  recordPosition,
  toClientExpectedRevision,
  toClientPosition,
  toConcurrencyError,
  toEventData,
  toPortPosition,
  toRecordedEvent,
} from '../../src/event-store/esdb/esdb-event-mapping.js';
import { comparePositions, encodePosition } from '../../src/event-store/position.js';
import { record } from './esdb-fakes.js';

describe('EventStoreDB mapping: expected revisions', () => {
  it.each([
    ['any', ANY],
    ['no_stream', NO_STREAM],
    ['stream_exists', STREAM_EXISTS],
  ] as const)("'%s' becomes the client's %s constant", (expected, constant) => {
    expect(toClientExpectedRevision(expected)).toBe(constant);
  });

  it('a revision number becomes a bigint of the same value', () => {
    expect(toClientExpectedRevision(0)).toBe(0n);
    expect(toClientExpectedRevision(41)).toBe(41n);
  });
});

describe('EventStoreDB mapping: positions', () => {
  it('encodes (commit, prepare) as the port position, commit first', () => {
    expect(toPortPosition({ commit: 255n, prepare: 16n })).toBe(encodePosition(255n, 16n));
  });

  it('decodes a port position back to the same (commit, prepare)', () => {
    const position = { commit: 123_456_789_012n, prepare: 123_456_789_000n };
    expect(toClientPosition(toPortPosition(position))).toEqual(position);
  });

  it('orders by commit, then by prepare', () => {
    const a = toPortPosition({ commit: 10n, prepare: 99n });
    const b = toPortPosition({ commit: 11n, prepare: 0n });
    const c = toPortPosition({ commit: 11n, prepare: 5n });
    expect(comparePositions(a, b)).toBeLessThan(0);
    expect(comparePositions(b, c)).toBeLessThan(0);
  });

  it('refuses a string that is not a position', () => {
    expect(() => toClientPosition('12' as Position)).toThrow('Not a log position');
  });
});

describe('EventStoreDB mapping: events to append', () => {
  it('writes JSON events with the given id, type, data and metadata', () => {
    const id = '6f1c1f8e-3a0e-4a53-9b0c-1f0e2a3b4c5d';
    expect(
      toEventData({ id, type: 'TenantCreated', data: { tenantId: 't' }, metadata: { actor: 'a' } }),
    ).toEqual({
      id,
      contentType: 'application/json',
      type: 'TenantCreated',
      data: { tenantId: 't' },
      metadata: { actor: 'a' },
    });
  });

  it('generates a UUID when the event has none, and stores empty metadata as {}', () => {
    const first = toEventData({ type: 'A', data: {} });
    const second = toEventData({ type: 'A', data: {} });
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.id).not.toBe(second.id);
    expect(first.metadata).toEqual({});
  });
});

describe('EventStoreDB mapping: recorded events', () => {
  it('maps every field of a JSON event', () => {
    const created = new Date('2024-02-03T04:05:06.789Z');
    const mapped = toRecordedEvent(
      record({
        commit: 900,
        prepare: 880,
        type: 'WorkspaceCreated',
        streamId: 'tenant-42',
        revision: 7,
        data: { workspaceId: 'w' },
        metadata: { correlationId: 'c' },
        id: '11111111-2222-4333-8444-555555555555',
        created,
      }),
    );
    expect(mapped).toEqual({
      id: '11111111-2222-4333-8444-555555555555',
      type: 'WorkspaceCreated',
      data: { workspaceId: 'w' },
      metadata: { correlationId: 'c' },
      streamName: 'tenant-42',
      revision: 7,
      position: encodePosition(900n, 880n),
      recordedAt: created,
    });
    expect(typeof mapped?.revision).toBe('number');
  });

  it('keeps the revision a plain number for large streams', () => {
    expect(toRecordedEvent(record({ commit: 1, revision: 2_000_000 }))?.revision).toBe(2_000_000);
  });

  it('drops system events', () => {
    expect(toRecordedEvent(record({ commit: 1, type: '$statsCollected' }))).toBeUndefined();
    expect(toRecordedEvent(record({ commit: 1, type: '$>' }))).toBeUndefined();
    expect(isSystemEventType('$metadata')).toBe(true);
    expect(isSystemEventType('TenantCreated')).toBe(false);
  });

  it('drops records whose data is not a JSON object', () => {
    expect(
      toRecordedEvent(record({ commit: 1, isJson: false, data: new Uint8Array([1, 2]) })),
    ).toBeUndefined();
    expect(toRecordedEvent(record({ commit: 1, data: 'not an object' }))).toBeUndefined();
    expect(toRecordedEvent(record({ commit: 1, data: [1, 2] }))).toBeUndefined();
  });

  it('reads metadata that is missing or not a JSON object as {}', () => {
    expect(toRecordedEvent(record({ commit: 1, metadata: new Uint8Array([1]) }))?.metadata).toEqual({});
    const withoutMetadata = record({ commit: 1 });
    (withoutMetadata.event as { metadata: unknown }).metadata = undefined;
    expect(toRecordedEvent(withoutMetadata)?.metadata).toEqual({});
  });

  it('yields nothing for a resolved event without a record', () => {
    expect(toRecordedEvent({})).toBeUndefined();
    expect(recordPosition({})).toBeUndefined();
  });

  it('refuses an event without a log position rather than inventing one', () => {
    const old = record({ commit: 1 });
    (old.event as { position?: unknown }).position = undefined;
    expect(() => toRecordedEvent(old)).toThrow('without a log position');
  });

  it('gives the position of system records too, so cursors can move past them', () => {
    expect(recordPosition(record({ commit: 5, prepare: 4, type: '$metadata' }))).toBe(encodePosition(5n, 4n));
  });
});

describe('EventStoreDB mapping: errors', () => {
  const wrongVersion = (current: bigint | 'no_stream'): WrongExpectedVersionError =>
    new WrongExpectedVersionError(undefined, { streamName: 'tenant-1', expected: 3n, current });

  it('a wrong expected version becomes a ConcurrencyError with the actual revision', () => {
    const error = toConcurrencyError(wrongVersion(5n), 'tenant-1', 3);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamName: 'tenant-1', expected: 3, actual: 5 });
  });

  it("a missing stream reported as 'no_stream' becomes actual 'no_stream'", () => {
    expect(toConcurrencyError(wrongVersion('no_stream'), 's', 'stream_exists')?.actual).toBe('no_stream');
  });

  it('a missing stream reported as -1 becomes actual no_stream', () => {
    expect(toConcurrencyError(wrongVersion(-1n), 's', 0)?.actual).toBe('no_stream');
  });

  it('keeps the expectation as the caller wrote it', () => {
    expect(toConcurrencyError(wrongVersion(0n), 's', 'no_stream')?.expected).toBe('no_stream');
  });

  it('recognises the error by its type when the class identity is lost', () => {
    const lookalike = Object.assign(new Error('wrong'), {
      type: ErrorType.WRONG_EXPECTED_VERSION,
      actualVersion: 2n,
    });
    expect(toConcurrencyError(lookalike, 's', 1)?.actual).toBe(2);
  });

  it('leaves any other error alone', () => {
    expect(toConcurrencyError(new AccessDeniedError(), 's', 1)).toBeUndefined();
    expect(toConcurrencyError(new Error('boom'), 's', 1)).toBeUndefined();
  });

  it('recognises a missing stream by class or by type', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 's'))).toBe(true);
    expect(isStreamNotFound(Object.assign(new Error('x'), { type: ErrorType.STREAM_NOT_FOUND }))).toBe(true);
    expect(isStreamNotFound(new AccessDeniedError())).toBe(false);
  });
});
