-- +goose Up
-- Who moved money or points: a refund and a points ledger entry record
-- their actor ("key:<id>" for an API key, "system" for the server's own
-- jobs, "guard"...). Rows from before say ''.
ALTER TABLE refunds ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE points_moves ADD COLUMN actor TEXT NOT NULL DEFAULT '';

-- The audit log is read newest first and filtered by actor, action,
-- object and time; (shop_id, id) already serves the plain listing.
CREATE INDEX audit_log_shop_actor ON audit_log (shop_id, actor, id);
CREATE INDEX audit_log_shop_action ON audit_log (shop_id, action, id);
CREATE INDEX audit_log_shop_entity ON audit_log (shop_id, entity, id);
CREATE INDEX audit_log_shop_entity_id ON audit_log (shop_id, entity_id, id);
CREATE INDEX audit_log_shop_at ON audit_log (shop_id, at, id);

-- +goose Down
DROP INDEX audit_log_shop_at;
DROP INDEX audit_log_shop_entity_id;
DROP INDEX audit_log_shop_entity;
DROP INDEX audit_log_shop_action;
DROP INDEX audit_log_shop_actor;
ALTER TABLE points_moves DROP COLUMN actor;
ALTER TABLE refunds DROP COLUMN actor;
