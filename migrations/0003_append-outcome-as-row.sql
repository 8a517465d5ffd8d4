-- Up Migration

-- Appends like es_append, but reports a failed expectation as a row (appended = false, with the
-- stream's actual revision, NULL for no stream) instead of raising. A raised error is the normal
-- outcome of a conflict between service instances, and node-postgres's pool destroys a client
-- whose query failed: every conflict then cost a new backend and login.
CREATE FUNCTION es_try_append(
  p_stream text,
  p_expected text,
  p_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[]
) RETURNS TABLE (
  appended boolean,
  next_revision bigint,
  transaction_id xid8,
  global_position bigint,
  actual_revision bigint
)
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
    RETURN QUERY SELECT false, NULL::bigint, NULL::xid8, NULL::bigint, v_actual;
    RETURN;
  END IF;

  RETURN QUERY
  WITH inserted AS (
    INSERT INTO events (stream_name, stream_revision, event_id, event_type, data, metadata)
    SELECT p_stream, v_revision - v_count + u.ord, u.id, u.type, u.data, u.metadata
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u (id, type, data, metadata, ord)
    ORDER BY u.ord
    RETURNING events.transaction_id, events.global_position
  )
  SELECT true, v_revision, i.transaction_id, i.global_position, v_revision
  FROM inserted i
  ORDER BY i.global_position DESC
  LIMIT 1;
END;
$$;

-- es_append keeps its contract (raise ES409 on a failed expectation) for writers of an earlier
-- release still running during an upgrade; the rule itself now lives in es_try_append alone.
CREATE OR REPLACE FUNCTION es_append(
  p_stream text,
  p_expected text,
  p_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[]
) RETURNS TABLE (next_revision bigint, transaction_id xid8, global_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_outcome record;
BEGIN
  SELECT * INTO v_outcome FROM es_try_append(p_stream, p_expected, p_ids, p_types, p_data, p_metadata);
  IF NOT v_outcome.appended THEN
    RAISE EXCEPTION 'wrong expected revision for stream %', p_stream
      USING ERRCODE = 'ES409', DETAIL = coalesce(v_outcome.actual_revision::text, 'no_stream');
  END IF;
  RETURN QUERY SELECT v_outcome.next_revision, v_outcome.transaction_id, v_outcome.global_position;
END;
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION es_append(
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

DROP FUNCTION es_try_append(text, text, uuid[], text[], jsonb[], jsonb[]);
