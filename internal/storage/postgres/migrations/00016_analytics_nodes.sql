-- +goose Up
-- Several nodes ingest into one database: each raw event records the node
-- that stored it, and each node keeps its own watermark (the last of ITS
-- sequences folded into the rollups). A node restarting re-folds only its
-- own events after its watermark: another node's unflushed events are in
-- that node's memory, and one global watermark could pass a crashed
-- node's events without them ever being folded. The single-node name is
-- '' and inherits the old global watermark.
ALTER TABLE analytics_events ADD COLUMN node TEXT NOT NULL DEFAULT '';

CREATE TABLE analytics_node_watermarks (
    node TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO analytics_node_watermarks (node, seq) SELECT '', seq FROM analytics_watermark WHERE id = 1;
DROP TABLE analytics_watermark;

-- A customer's first payment is the earliest (by time, then channel and
-- campaign), not the first to be flushed: two nodes flush in any order.
-- Rows from before keep 0, so they stay first on their day.
ALTER TABLE analytics_first_paid ADD COLUMN ts BIGINT NOT NULL DEFAULT 0;

-- +goose Down
CREATE TABLE analytics_watermark (
    id  INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO analytics_watermark (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM analytics_node_watermarks WHERE node = '';
DROP TABLE analytics_node_watermarks;
ALTER TABLE analytics_first_paid DROP COLUMN ts;
ALTER TABLE analytics_events DROP COLUMN node;
