import pg from 'pg';

/** One append as es_try_append takes it: the stream, the expectation, and its events' columns. */
export interface AppendRequest {
  readonly streamName: string;
  /** 'any' | 'no_stream' | 'stream_exists' | a revision as text. */
  readonly expected: string;
  readonly ids: readonly string[];
  readonly types: readonly string[];
  /** JSON text. */
  readonly data: readonly string[];
  /** JSON text. */
  readonly metadata: readonly string[];
}

export interface AppendOutcomeRow {
  appended: boolean;
  next_revision: number | null;
  transaction_id: string | null;
  global_position: number | null;
  actual_revision: number | null;
}

interface Waiting {
  readonly request: AppendRequest;
  settle(outcome: Settled): void;
}

/** What one append came to. */
type Settled = { readonly row: AppendOutcomeRow } | { readonly error: unknown };

/**
 * Append statements one process may have under way at once. One would send every append of the
 * process through a single backend; two was measured (BENCHMARKS.md, group commit).
 */
const MAX_IN_FLIGHT = 2;
/** The most appends, and the most events, one statement carries (a larger append goes alone). */
const MAX_APPENDS = 100;
const MAX_EVENTS = 1_000;

const OUTCOME_COLUMNS = 'appended, next_revision, transaction_id::text, global_position, actual_revision';

const APPEND_ONE = {
  name: 'es_try_append',
  text: `SELECT ${OUTCOME_COLUMNS}
         FROM es_try_append($1, $2, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])`,
};

const APPEND_MANY = {
  name: 'es_try_append_batch',
  text: `SELECT ord, ${OUTCOME_COLUMNS}
         FROM es_try_append_batch($1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb[])`,
};

/**
 * Group commit for the appends of one process. While fewer than MAX_IN_FLIGHT append statements
 * are under way an append is sent at once, alone, as before; the appends that arrive while the
 * limit is reached wait for the next free slot and then go together, in one statement and one
 * transaction (migration 0009): one round trip and one commit for all of them. Under load that is
 * what PostgreSQL's CPU and the socket writes went to; at a light load nothing waits.
 *
 * Each append keeps its own outcome: a failed expectation fails that one alone (a row, as for one
 * append). An error that one append's content causes rolls the whole statement back, and each of
 * its appends is then sent on its own, so that only the one at fault fails; any other error (the
 * connection lost, a timeout) reaches them all, each then as uncertain as a single append whose
 * answer was lost. The appends of a statement are sorted by stream (those of one stream keep their
 * order), so that two statements lock stream rows in the same order and never wait for each other
 * in a cycle.
 */
export class AppendBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly pool: pg.Pool) {}

  async append(request: AppendRequest): Promise<AppendOutcomeRow> {
    const outcome =
      this.inFlight < MAX_IN_FLIGHT && this.waiting.length === 0
        ? ((await this.send([request]))[0] as Settled)
        : await new Promise<Settled>((settle) => this.waiting.push({ request, settle }));
    if ('error' in outcome) throw outcome.error;
    return outcome.row;
  }

  /** Sends what waits while a slot is free. */
  private drain(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const batch = this.takeBatch();
      void this.send(batch.map((each) => each.request)).then((outcomes) =>
        batch.forEach((each, index) => each.settle(outcomes[index] as Settled)),
      );
    }
  }

  /** The oldest waiting appends, as many as one statement carries (at least one). */
  private takeBatch(): Waiting[] {
    let events = 0;
    let count = 0;
    for (const each of this.waiting) {
      const size = each.request.ids.length;
      if (count > 0 && (count === MAX_APPENDS || events + size > MAX_EVENTS)) break;
      events += size;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  /** What each request came to, in the order given; never rejects. */
  private async send(requests: readonly AppendRequest[]): Promise<Settled[]> {
    this.inFlight += 1;
    try {
      if (requests.length === 1) return [await settled(this.appendOne(requests[0] as AppendRequest))];
      try {
        return (await this.appendMany(requests)).map((row) => ({ row }));
      } catch (error) {
        if (!isFaultOfOneAppend(error)) return requests.map(() => ({ error }));
        // Rolled back as a whole: each on its own, and only the one at fault fails.
        return await Promise.all(requests.map((request) => settled(this.appendOne(request))));
      }
    } finally {
      this.inFlight -= 1;
      this.drain();
    }
  }

  private async appendOne(request: AppendRequest): Promise<AppendOutcomeRow> {
    const { rows } = await this.pool.query<AppendOutcomeRow>({
      ...APPEND_ONE,
      values: [
        request.streamName,
        request.expected,
        request.ids,
        request.types,
        request.data,
        request.metadata,
      ],
    });
    const row = rows[0];
    if (!row) throw new Error(`es_try_append returned nothing for ${request.streamName}`);
    return row;
  }

  private async appendMany(requests: readonly AppendRequest[]): Promise<AppendOutcomeRow[]> {
    // Array#sort is stable: the appends of one stream keep the order they came in.
    const order = requests
      .map((request, index) => ({ request, index }))
      .sort((a, b) => compareText(a.request.streamName, b.request.streamName));
    const sorted = order.map((each) => each.request);
    const { rows } = await this.pool.query<AppendOutcomeRow & { ord: number }>({
      ...APPEND_MANY,
      values: [
        sorted.map((request) => request.streamName),
        sorted.map((request) => request.expected),
        sorted.map((request) => request.ids.length),
        sorted.flatMap((request) => request.ids),
        sorted.flatMap((request) => request.types),
        sorted.flatMap((request) => request.data),
        sorted.flatMap((request) => request.metadata),
      ],
    });
    if (rows.length !== requests.length) {
      throw new Error(`es_try_append_batch answered ${rows.length} of ${requests.length} appends`);
    }
    const outcomes: AppendOutcomeRow[] = new Array<AppendOutcomeRow>(requests.length);
    for (const { ord, ...row } of rows) {
      const placed = order[ord - 1];
      if (placed === undefined)
        throw new Error(`es_try_append_batch answered for an append ${ord} it was not given`);
      outcomes[placed.index] = row;
    }
    return outcomes;
  }
}

/**
 * An error that one append's content causes (a data exception such as a value jsonb cannot hold,
 * an integrity violation such as a duplicate event id): the server rolled the statement back, and
 * each append on its own will tell which. Anything else (a lost or terminated connection, a
 * timeout, a lock not granted) reaches every append of the statement as it would have reached
 * each one alone.
 */
function isFaultOfOneAppend(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || error.code === undefined) return false;
  const errorClass = error.code.slice(0, 2);
  return errorClass === '22' || errorClass === '23';
}

/** By code unit, the same in every process: what fixes the order in which rows are locked. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function settled(append: Promise<AppendOutcomeRow>): Promise<Settled> {
  try {
    return { row: await append };
  } catch (error) {
    return { error };
  }
}
