-- Up Migration

-- Two roles, neither owning a table nor bypassing row-level security:
--   tenancy_api        reads the read models, only the rows of the tenant set in app.tenant_id;
--   tenancy_projector  writes them.
-- The service switches to them per transaction (SET LOCAL ROLE), so it needs no extra logins.
-- Roles belong to the whole cluster: another database of the same server may create them first.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenancy_api') THEN
    CREATE ROLE tenancy_api NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenancy_projector') THEN
    CREATE ROLE tenancy_projector NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
  -- A non-superuser service login must be a member to SET ROLE; a superuser needs nothing.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT tenancy_api, tenancy_projector TO %I', current_user);
  END IF;
END $$;

-- Lets a projection statement fail loudly when what it expects is not there (a parent row, say),
-- instead of silently changing nothing.
CREATE FUNCTION rm_assert(p_condition boolean, p_message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_condition IS NOT TRUE THEN
    RAISE EXCEPTION 'read model: %', p_message USING ERRCODE = 'P0004';
  END IF;
  RETURN true;
END;
$$;

-- Moves a projection's checkpoint from where its writer believes it is, or fails (ES412) so that
-- the batch it closes rolls back: lets a whole batch, checkpoint included, travel in one round
-- trip. `checkpoints` resolves through the search path, like the projections' tables.
CREATE FUNCTION rm_move_checkpoint(p_projection text, p_expected text, p_position text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_expected IS NULL THEN
    INSERT INTO checkpoints (projection, position, updated_at) VALUES (p_projection, p_position, now())
    ON CONFLICT (projection) DO NOTHING;
  ELSE
    UPDATE checkpoints SET position = p_position, updated_at = now()
    WHERE projection = p_projection AND position = p_expected;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the checkpoint of % moved', p_projection USING ERRCODE = 'ES412';
  END IF;
END;
$$;

CREATE FUNCTION rm_forbid_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
    RAISE EXCEPTION 'tenant_id of a % row never changes', TG_TABLE_NAME USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END;
$$;

-- Creates the read-model tables in a schema of their own. The live read models are the schema
-- read_model; a replay builds a fresh schema with this same function and swaps it in, and verify
-- builds a scratch one to compare. One definition, so the three can never drift apart.
CREATE FUNCTION rm_create_schema(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  v_table text;
BEGIN
  EXECUTE format('CREATE SCHEMA %I', p_schema);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO tenancy_api, tenancy_projector', p_schema);

  EXECUTE format($ddl$
    CREATE TABLE %I.tenants (
      tenant_id uuid PRIMARY KEY,
      name text NOT NULL,
      status text NOT NULL CHECK (status IN ('active', 'deleting', 'deleted')),
      root_workspace_id uuid,
      workspace_count integer NOT NULL DEFAULT 0 CHECK (workspace_count >= 0),
      deletion_total integer,
      deletion_done integer,
      revision bigint NOT NULL,
      created_position text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.tenants (created_position, tenant_id)', p_schema);

  EXECUTE format($ddl$
    CREATE TABLE %1$I.workspaces (
      tenant_id uuid NOT NULL,
      workspace_id uuid NOT NULL,
      parent_workspace_id uuid,
      name text NOT NULL,
      is_root boolean NOT NULL,
      depth integer NOT NULL CHECK (depth >= 0),
      path uuid[] NOT NULL,
      child_count integer NOT NULL DEFAULT 0 CHECK (child_count >= 0),
      status text NOT NULL CHECK (status IN ('live', 'deleting')),
      deletion_total integer,
      deletion_done integer,
      revision bigint NOT NULL,
      created_position text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, workspace_id),
      -- A parent deleted before its children fails loudly instead of leaving orphans.
      FOREIGN KEY (tenant_id, parent_workspace_id) REFERENCES %1$I.workspaces (tenant_id, workspace_id) ON DELETE RESTRICT,
      CHECK ((parent_workspace_id IS NULL) = is_root)
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.workspaces (tenant_id, created_position, workspace_id)', p_schema);
  EXECUTE format('CREATE INDEX ON %I.workspaces (tenant_id, parent_workspace_id, created_position, workspace_id)', p_schema);

  EXECUTE format($ddl$
    CREATE TABLE %I.audit_log (
      position text PRIMARY KEY,
      tenant_id uuid NOT NULL,
      workspace_id uuid,
      stream_revision bigint NOT NULL,
      event_type text NOT NULL,
      actor text,
      correlation_id text,
      causation_id text,
      occurred_at timestamptz NOT NULL,
      -- An audit row about a workspace always names it.
      CHECK (workspace_id IS NOT NULL OR event_type NOT LIKE 'Workspace%%')
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.audit_log (tenant_id, position)', p_schema);
  EXECUTE format('CREATE INDEX ON %I.audit_log (tenant_id, workspace_id, position)', p_schema);

  -- Where each projection stands, written in the same transaction as the rows it produced.
  EXECUTE format($ddl$
    CREATE TABLE %I.checkpoints (
      projection text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )$ddl$, p_schema);

  -- Events a projection could not apply after its retries; the projection stops there.
  EXECUTE format($ddl$
    CREATE TABLE %I.projection_failures (
      projection text NOT NULL,
      position text NOT NULL,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      attempts integer NOT NULL,
      error text NOT NULL,
      failed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (projection, position)
    )$ddl$, p_schema);

  FOREACH v_table IN ARRAY ARRAY['tenants', 'workspaces', 'audit_log'] LOOP
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', p_schema, v_table);
    EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', p_schema, v_table);
    -- app.tenant_id is set per transaction (set_config(..., true)); unset, it matches nothing.
    -- app.all_tenants is set only for operator requests that list across tenants.
    EXECUTE format($ddl$
      CREATE POLICY tenant_isolation ON %I.%I FOR SELECT TO tenancy_api
      USING (
        tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
        OR current_setting('app.all_tenants', true) = 'on'
      )$ddl$, p_schema, v_table);
    EXECUTE format('CREATE POLICY projector_writes ON %I.%I FOR ALL TO tenancy_projector USING (true) WITH CHECK (true)', p_schema, v_table);
    EXECUTE format('GRANT SELECT ON %I.%I TO tenancy_api', p_schema, v_table);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO tenancy_projector', p_schema, v_table);
    EXECUTE format(
      'CREATE TRIGGER tenant_id_never_changes BEFORE UPDATE OF tenant_id ON %I.%I FOR EACH ROW EXECUTE FUNCTION rm_forbid_tenant_change()',
      p_schema, v_table);
  END LOOP;
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.checkpoints, %I.projection_failures TO tenancy_projector', p_schema, p_schema);
  EXECUTE format('GRANT SELECT ON %I.checkpoints TO tenancy_api', p_schema);
END;
$fn$;

SELECT rm_create_schema('read_model');

-- Checkpoints of the process managers. Not part of the read models: a replay of the read models
-- must not make the process managers act again.
CREATE TABLE process_checkpoints (
  process text PRIMARY KEY,
  position text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE process_failures (
  process text NOT NULL,
  position text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  attempts integer NOT NULL,
  error text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (process, position)
);

-- Down Migration
DROP TABLE process_failures;
DROP TABLE process_checkpoints;
DROP SCHEMA read_model CASCADE;
DROP FUNCTION rm_create_schema(text);
DROP FUNCTION rm_forbid_tenant_change();
DROP FUNCTION rm_move_checkpoint(text, text, text);
DROP FUNCTION rm_assert(boolean, text);
