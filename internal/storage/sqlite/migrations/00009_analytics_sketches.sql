-- +goose Up
-- HyperLogLog sketches (axiomhq/hyperloglog, precision 14) of the merged
-- visitors of one shop-local day × channel × campaign × funnel step
-- (kind 0 visit … 4 paid): UV and funnels over any range merge a few
-- hundred of these instead of counting visitor-day rows.
CREATE TABLE analytics_sketches (
    shop_id  TEXT NOT NULL,
    day      BIGINT NOT NULL,
    channel  TEXT NOT NULL,
    campaign TEXT NOT NULL,
    kind     INTEGER NOT NULL,
    sketch   BLOB NOT NULL,
    PRIMARY KEY (shop_id, kind, day, channel, campaign)
);

-- +goose Down
DROP TABLE analytics_sketches;
