package commerce

import (
	"sync"
	"time"
)

// ttlCache is a small map whose entries expire after ttl. It uses the wall
// clock, not the service clock: it bounds staleness, it does not model
// business time.
type ttlCache[V any] struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(k string) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(k string, v V) {
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[k] = ttlEntry[V]{v: v, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
}

func (c *ttlCache[V]) drop(k string) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *ttlCache[V]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
