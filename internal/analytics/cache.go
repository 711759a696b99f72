package analytics

import (
	"context"
	"maps"
	"time"

	"github.com/axiomhq/hyperloglog"
	lru "github.com/hashicorp/golang-lru/v2"
)

// ClosedAfterDays is how many local days back a day is closed: events
// reach the rollups up to MaxPast (7 days) late, order reconciliation
// looks back as far, so a day that ended more than 8 days ago in the
// shop's zone no longer changes and its merged sketches can be cached.
const ClosedAfterDays = 8

// Cache keeps the merged day sketches of closed days (one per shop ×
// filter × day × kind) across requests, bounded by an LRU. It is safe for
// concurrent use; a nil *Cache caches nothing. Days still open are always
// read from the store, so no invalidation is needed: a late event can
// only touch a day that is not cached. (A node that replays events older
// than that after a long outage leaves other nodes' caches short of
// them until their entries are evicted or the node restarts.)
type Cache struct {
	now func() time.Time
	lru *lru.Cache[cacheKey, daySketch]
	// cust keeps the exact customer counts (repurchasers, new customers)
	// of ranges of closed days: the comparison periods of a report
	// always are, and counting repurchasers is the costly read.
	cust *lru.Cache[rangeKey, customerRange]
}

type rangeKey struct {
	shop              string
	filtered          [2]bool
	channel, campaign string
	from, to          int64
}

// customerRange is a closed range's customer counts, per day and in all;
// shared (cached), so handed out as copies.
type customerRange struct {
	days map[int64]Distincts
	tot  Distincts
}

type cacheKey struct {
	shop              string
	filtered          [2]bool
	channel, campaign string
	day               int64
	kind              int
}

// daySketch is one day's merged sketch of a kind and its estimate. The
// sketch is shared (cached): it is only ever merged from, never into,
// and never estimated again (Estimate compacts a sparse sketch in place).
type daySketch struct {
	sk  *hyperloglog.Sketch
	est int64
}

// NewCache keeps up to size day sketches (a dense one is 16 KiB); now is
// the clock that says which days are closed.
func NewCache(size int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c, err := lru.New[cacheKey, daySketch](max(size, 1))
	if err != nil {
		panic(err) // only for size <= 0
	}
	cust, err := lru.New[rangeKey, customerRange](max(size/16, 16))
	if err != nil {
		panic(err)
	}
	return &Cache{now: now, lru: c, cust: cust}
}

// closedBefore is the first local day (YYYYMMDD) that is not closed yet:
// days before it are cacheable. 0 without a cache.
func (c *Cache) closedBefore(loc *time.Location) int64 {
	if c == nil || loc == nil {
		return 0
	}
	t := c.now().In(loc)
	return DayNum(time.Date(t.Year(), t.Month(), t.Day()-ClosedAfterDays, 0, 0, 0, 0, loc))
}

func (c *Cache) key(shopID string, f Filter, day int64, kind int) cacheKey {
	k := cacheKey{shop: shopID, day: day, kind: kind}
	if f.Channel != nil {
		k.filtered[0], k.channel = true, *f.Channel
	}
	if f.Campaign != nil {
		k.filtered[1], k.campaign = true, *f.Campaign
	}
	return k
}

func (c *Cache) get(k cacheKey) (daySketch, bool) { return c.lru.Get(k) }
func (c *Cache) add(k cacheKey, v daySketch)      { c.lru.Add(k, v) }

// Len is how many day sketches are cached.
func (c *Cache) Len() int { return c.lru.Len() }

// customerDistincts is Store.CustomerDistincts, kept for ranges of closed
// days (to at or before closedBefore) when there is a cache.
func (r Reader) customerDistincts(ctx context.Context, shopID string, from, to int64, loc *time.Location, f Filter) (map[int64]Distincts, Distincts, error) {
	c := r.Cache
	if c == nil || to > c.closedBefore(loc) {
		return r.St.CustomerDistincts(ctx, shopID, from, to, f)
	}
	dk := c.key(shopID, f, 0, 0)
	k := rangeKey{shop: shopID, filtered: dk.filtered, channel: dk.channel, campaign: dk.campaign, from: from, to: to}
	if v, ok := c.cust.Get(k); ok {
		return maps.Clone(v.days), v.tot, nil
	}
	days, tot, err := r.St.CustomerDistincts(ctx, shopID, from, to, f)
	if err != nil {
		return nil, Distincts{}, err
	}
	c.cust.Add(k, customerRange{days: maps.Clone(days), tot: tot})
	return days, tot, nil
}
