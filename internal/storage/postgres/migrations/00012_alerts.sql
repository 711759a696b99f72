-- +goose Up
-- Alert rules. A rule's parameters depend on its kind and are edited as a
-- whole, so they are stored as one JSON document (spec).
CREATE TABLE alert_rules (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL REFERENCES shops (id),
    kind       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX alert_rules_shop ON alert_rules (shop_id, id);

-- Alerts. At most one unresolved alert per fingerprint (rule + subject):
-- while it is unresolved it is updated in place.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL REFERENCES shops (id),
    rule_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    notified    TEXT NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL,
    value       BIGINT NOT NULL,
    expected    BIGINT,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    ack_at      BIGINT,
    ack_by      TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT
);
CREATE UNIQUE INDEX alerts_unresolved ON alerts (shop_id, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX alerts_rule_unresolved ON alerts (rule_id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_fingerprint ON alerts (shop_id, fingerprint, resolved_at);
CREATE INDEX alerts_shop ON alerts (shop_id, id);

-- Webhooks. The secret signs deliveries, so it is kept (and shown once).
CREATE TABLE alert_webhooks (
    id           TEXT PRIMARY KEY,
    shop_id      TEXT NOT NULL REFERENCES shops (id),
    url          TEXT NOT NULL,
    description  TEXT NOT NULL,
    min_severity TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    deleted_at   BIGINT
);
CREATE INDEX alert_webhooks_shop ON alert_webhooks (shop_id, id);

-- The outbox: one row per notification × webhook, written in the
-- transaction that changes the alert. Its schedule lives here: a row is
-- due when pending, next_attempt_at has come and no lease is running.
CREATE TABLE alert_deliveries (
    id              TEXT PRIMARY KEY,
    shop_id         TEXT NOT NULL REFERENCES shops (id),
    webhook_id      TEXT NOT NULL REFERENCES alert_webhooks (id),
    alert_id        TEXT NOT NULL REFERENCES alerts (id),
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    leased_until    BIGINT,
    lease_token     TEXT NOT NULL DEFAULT '',
    last_status     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_webhook ON alert_deliveries (webhook_id, id);

-- Stock rules list the SKUs that have a safety stock.
CREATE INDEX skus_safety ON skus (shop_id) WHERE safety_stock > 0;

-- +goose Down
DROP INDEX skus_safety;
DROP TABLE alert_deliveries;
DROP TABLE alert_webhooks;
DROP TABLE alerts;
DROP TABLE alert_rules;
