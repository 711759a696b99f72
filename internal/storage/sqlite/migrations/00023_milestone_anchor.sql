-- +goose Up
-- A relative milestone counts its offset_days from an anchor day: the
-- campaign's first day (start, as before), its last day (end) or its
-- preheat phase's first day (preheat; 7 days before the start without
-- one). The default 预热 and 复盘 milestones made before were T-7 and T+1
-- from the start; they follow the preheat phase and the end now.
ALTER TABLE campaign_milestones ADD COLUMN anchor TEXT NOT NULL DEFAULT 'start';
UPDATE campaign_milestones SET anchor = 'end' WHERE name = '复盘 review' AND offset_days = 1;
UPDATE campaign_milestones SET anchor = 'preheat', offset_days = 0 WHERE name = '预热 preheat starts' AND offset_days = -7;

-- +goose Down
UPDATE campaign_milestones SET anchor = 'start', offset_days = -7 WHERE anchor = 'preheat' AND offset_days = 0 AND name = '预热 preheat starts';
ALTER TABLE campaign_milestones DROP COLUMN anchor;
