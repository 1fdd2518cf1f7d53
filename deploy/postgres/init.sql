-- One database per service. Run by the postgres image on first start (docker-entrypoint-initdb.d, via psql);
-- safe to run again by hand: psql -U postgres -d postgres -f deploy/postgres/init.sql
-- Each service applies its own migrations to its database when it starts.
SELECT format('CREATE DATABASE %I', db)
  FROM unnest(ARRAY['intake', 'triage', 'notification', 'reporting', 'scheduler']) AS db
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = db)
\gexec
