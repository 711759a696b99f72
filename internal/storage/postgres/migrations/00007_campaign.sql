-- +goose Up
-- Campaign plans. The plan (targets, day weights, phases) and the attached
-- promotion and coupon-template ids are edited as a whole, so they are
-- stored as JSON documents; channels, spend and milestones have their own
-- rows because they are added one by one.
CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY,
    shop_id       TEXT NOT NULL REFERENCES shops (id),
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    alert_line_bp BIGINT NOT NULL,
    plan          TEXT NOT NULL,
    attachments   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    ended_at      BIGINT
);
CREATE INDEX campaigns_shop ON campaigns (shop_id, id);
CREATE INDEX campaigns_window ON campaigns (shop_id, starts_at, ends_at);

-- UTM codes are unique in a campaign so visits attribute to one channel.
CREATE TABLE campaign_channels (
    id           TEXT PRIMARY KEY,
    shop_id      TEXT NOT NULL REFERENCES shops (id),
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    utm_source   TEXT NOT NULL,
    utm_medium   TEXT NOT NULL,
    utm_campaign TEXT NOT NULL,
    budget       BIGINT NOT NULL CHECK (budget >= 0),
    created_at   BIGINT NOT NULL,
    UNIQUE (campaign_id, utm_source, utm_medium, utm_campaign)
);

-- idem_key is NULL without an Idempotency-Key (NULLs never collide).
CREATE TABLE campaign_spend (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL REFERENCES shops (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    channel_id  TEXT NOT NULL REFERENCES campaign_channels (id),
    day         TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    note        TEXT NOT NULL,
    idem_key    TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (channel_id, idem_key)
);
CREATE INDEX campaign_spend_channel ON campaign_spend (channel_id, day);

-- A milestone is due offset_days from the campaign's start day, or on due_on.
CREATE TABLE campaign_milestones (
    id          TEXT PRIMARY KEY,
    shop_id     TEXT NOT NULL REFERENCES shops (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    name        TEXT NOT NULL,
    offset_days BIGINT,
    due_on      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    done_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX campaign_milestones_campaign ON campaign_milestones (campaign_id, id);

-- +goose Down
DROP TABLE campaign_milestones;
DROP TABLE campaign_spend;
DROP TABLE campaign_channels;
DROP TABLE campaigns;
