-- Up Migration

-- One row per stream: its current revision. Appends lock this row, which serialises writers of
-- one stream (so a stream's revisions never have gaps) and lets the expected-revision check be a
-- single conditional UPDATE.
CREATE TABLE event_streams (
  stream_name text PRIMARY KEY,
  revision bigint NOT NULL
);

-- The log. global_position is taken at INSERT, not at COMMIT, so on its own it is not a safe
-- resume point: readers order and resume by (transaction_id, global_position) and only read rows
-- whose transaction is older than every transaction still running (see es_read_after).
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_name text NOT NULL,
  stream_revision bigint NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (transaction_id, global_position),
  CONSTRAINT events_stream_revision_unique UNIQUE (stream_name, stream_revision),
  CONSTRAINT events_event_id_unique UNIQUE (event_id)
);

-- Appends one or more events in one statement (one round trip, all-or-nothing).
-- p_expected: 'any' | 'no_stream' | 'stream_exists' | a revision as text.
-- A failed expectation raises SQLSTATE ES409 with the actual revision (or 'no_stream') as DETAIL:
-- callers map the code, never the message text.
CREATE FUNCTION es_append(
  p_stream text,
  p_expected text,
  p_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[]
) RETURNS TABLE (next_revision bigint, transaction_id xid8, global_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_count int := cardinality(p_ids);
  v_revision bigint;
  v_actual bigint;
BEGIN
  IF v_count IS NULL OR v_count = 0 THEN
    RAISE EXCEPTION 'es_append: no events' USING ERRCODE = '22023';
  END IF;

  IF p_expected = 'no_stream' THEN
    INSERT INTO event_streams (stream_name, revision) VALUES (p_stream, v_count - 1)
    ON CONFLICT (stream_name) DO NOTHING
    RETURNING revision INTO v_revision;
  ELSIF p_expected = 'any' THEN
    INSERT INTO event_streams (stream_name, revision) VALUES (p_stream, v_count - 1)
    ON CONFLICT (stream_name) DO UPDATE SET revision = event_streams.revision + v_count
    RETURNING revision INTO v_revision;
  ELSIF p_expected = 'stream_exists' THEN
    UPDATE event_streams SET revision = revision + v_count
    WHERE stream_name = p_stream
    RETURNING revision INTO v_revision;
  ELSE
    UPDATE event_streams SET revision = revision + v_count
    WHERE stream_name = p_stream AND revision = p_expected::bigint
    RETURNING revision INTO v_revision;
  END IF;

  IF v_revision IS NULL THEN
    SELECT s.revision INTO v_actual FROM event_streams s WHERE s.stream_name = p_stream;
    RAISE EXCEPTION 'wrong expected revision for stream %', p_stream
      USING ERRCODE = 'ES409', DETAIL = coalesce(v_actual::text, 'no_stream');
  END IF;

  RETURN QUERY
  WITH inserted AS (
    INSERT INTO events (stream_name, stream_revision, event_id, event_type, data, metadata)
    SELECT p_stream, v_revision - v_count + u.ord, u.id, u.type, u.data, u.metadata
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u (id, type, data, metadata, ord)
    ORDER BY u.ord
    RETURNING events.transaction_id, events.global_position
  )
  SELECT v_revision, i.transaction_id, i.global_position
  FROM inserted i
  ORDER BY i.global_position DESC
  LIMIT 1;
END;
$$;

-- Down Migration
DROP FUNCTION es_append(text, text, uuid[], text[], jsonb[], jsonb[]);
DROP TABLE events;
DROP TABLE event_streams;
