-- Up Migration

-- Members, groups and grants of each tenant (the membership projection), with the same row-level
-- security as every other read-model table: forced, the API role sees only the rows of the tenant
-- set in app.tenant_id, the projector role writes. A replay's fresh schema and verify's scratch
-- schema get them through rm_create_schema, redefined below; the live schema gets them at the end.

-- Row-level security of one tenant-owned read-model table, in one definition.
CREATE FUNCTION rm_isolate_tenant_rows(p_schema text, p_table text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', p_schema, p_table);
  EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', p_schema, p_table);
  EXECUTE format($ddl$
    CREATE POLICY tenant_isolation ON %I.%I FOR SELECT TO tenancy_api
    USING (
      tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
      OR current_setting('app.all_tenants', true) = 'on'
    )$ddl$, p_schema, p_table);
  EXECUTE format('CREATE POLICY projector_writes ON %I.%I FOR ALL TO tenancy_projector USING (true) WITH CHECK (true)', p_schema, p_table);
  EXECUTE format('GRANT SELECT ON %I.%I TO tenancy_api', p_schema, p_table);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO tenancy_projector', p_schema, p_table);
  EXECUTE format(
    'CREATE TRIGGER tenant_id_never_changes BEFORE UPDATE OF tenant_id ON %I.%I FOR EACH ROW EXECUTE FUNCTION rm_forbid_tenant_change()',
    p_schema, p_table);
END;
$fn$;

CREATE FUNCTION rm_create_membership_tables(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  v_table text;
BEGIN
  -- The projection's guard: the last tenant-stream revision it applied, per tenant, so that an event
  -- delivered again changes nothing.
  EXECUTE format($ddl$
    CREATE TABLE %I.membership_revisions (
      tenant_id uuid PRIMARY KEY,
      revision bigint NOT NULL
    )$ddl$, p_schema);

  EXECUTE format($ddl$
    CREATE TABLE %I.members (
      tenant_id uuid NOT NULL,
      user_id text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9._:@|-]{1,255}$'),
      display_name text,
      added_position text NOT NULL,
      added_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, user_id)
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.members (tenant_id, added_position, user_id)', p_schema);

  EXECUTE format($ddl$
    CREATE TABLE %I.member_groups (
      tenant_id uuid NOT NULL,
      group_id uuid NOT NULL,
      name text NOT NULL,
      member_count integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
      created_position text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, group_id)
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.member_groups (tenant_id, created_position, group_id)', p_schema);

  -- Memberships go before their group or member does (the events say so); a projection that forgot
  -- one fails at the end of its statement instead of leaving it behind.
  EXECUTE format($ddl$
    CREATE TABLE %1$I.group_members (
      tenant_id uuid NOT NULL,
      group_id uuid NOT NULL,
      user_id text NOT NULL,
      added_position text NOT NULL,
      added_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, group_id, user_id),
      FOREIGN KEY (tenant_id, group_id) REFERENCES %1$I.member_groups (tenant_id, group_id),
      FOREIGN KEY (tenant_id, user_id) REFERENCES %1$I.members (tenant_id, user_id)
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.group_members (tenant_id, group_id, added_position, user_id)', p_schema);
  EXECUTE format('CREATE INDEX ON %I.group_members (tenant_id, user_id)', p_schema);

  -- Active grants, an API key's own role included (origin 'apiKey'). No foreign key to the
  -- workspaces: they belong to another projection, which may be ahead or behind this one.
  EXECUTE format($ddl$
    CREATE TABLE %I.grants (
      tenant_id uuid NOT NULL,
      grant_id uuid NOT NULL,
      principal_type text NOT NULL CHECK (principal_type IN ('user', 'group', 'apiKey')),
      principal_id text NOT NULL,
      role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
      workspace_id uuid,
      origin text NOT NULL CHECK (origin IN ('grant', 'apiKey')),
      granted_position text NOT NULL,
      granted_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, grant_id),
      UNIQUE (tenant_id, principal_type, principal_id, workspace_id)
    )$ddl$, p_schema);
  EXECUTE format('CREATE INDEX ON %I.grants (tenant_id, granted_position, grant_id)', p_schema);
  EXECUTE format('CREATE INDEX ON %I.grants (tenant_id, principal_type, principal_id, granted_position)', p_schema);
  EXECUTE format('CREATE INDEX ON %I.grants (tenant_id, workspace_id, granted_position)', p_schema);

  FOREACH v_table IN ARRAY ARRAY['membership_revisions', 'members', 'member_groups', 'group_members', 'grants'] LOOP
    PERFORM rm_isolate_tenant_rows(p_schema, v_table);
  END LOOP;
END;
$fn$;

CREATE OR REPLACE FUNCTION rm_create_schema(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
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
  -- Members, groups and grants (0004).
  PERFORM rm_create_membership_tables(p_schema);
END;
$fn$;

SELECT rm_create_membership_tables('read_model');

-- Down Migration
-- rm_create_schema as 0002 defined it, without the membership tables.
CREATE OR REPLACE FUNCTION rm_create_schema(p_schema text) RETURNS void LANGUAGE plpgsql AS $fn$
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
DROP TABLE read_model.grants, read_model.group_members, read_model.member_groups, read_model.members,
  read_model.membership_revisions;
DROP FUNCTION rm_create_membership_tables(text);
DROP FUNCTION rm_isolate_tenant_rows(text, text);
