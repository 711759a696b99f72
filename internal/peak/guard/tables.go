package guard

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const tableShards = 32

// blockKey is what a block applies to: blocks are per shop, not per scope.
type blockKey struct{ shop, dim, key string }

func (k blockKey) shard(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(k.shop)
	h.WriteString(k.key)
	return h.Sum64() % tableShards
}

// blockTable holds the active blocks in memory. Entries are never changed
// in place (a change replaces the *Block), so a reader may use one after
// letting go of the lock.
type blockTable struct {
	n      atomic.Int64 // entries held, so Check skips the lookups when there are none
	seed   maphash.Seed
	shards [tableShards]struct {
		mu sync.RWMutex
		m  map[blockKey]*Block
	}
}

func (t *blockTable) init() {
	t.seed = maphash.MakeSeed()
	for i := range t.shards {
		t.shards[i].m = map[blockKey]*Block{}
	}
}

func (t *blockTable) any() bool { return t.n.Load() > 0 }

// get returns the block of k active at now, or nil.
func (t *blockTable) get(k blockKey, now time.Time) *Block {
	sh := &t.shards[k.shard(t.seed)]
	sh.mu.RLock()
	b := sh.m[k]
	sh.mu.RUnlock()
	if b != nil && b.ActiveAt(now) {
		return b
	}
	return nil
}

// add stores b unless its key has an active block; it reports whether it did.
func (t *blockTable) add(b *Block, now time.Time) bool {
	k := blockKey{b.ShopID, b.Dimension, b.Key}
	sh := &t.shards[k.shard(t.seed)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[k]
	if old != nil && old.ActiveAt(now) {
		return false
	}
	if old == nil {
		t.n.Add(1)
	}
	sh.m[k] = b
	return true
}

// apply takes a block as the store has it: an active one replaces what the
// key holds unless that lasts longer; a lifted or expired one removes itself.
func (t *blockTable) apply(b *Block, now time.Time) {
	k := blockKey{b.ShopID, b.Dimension, b.Key}
	sh := &t.shards[k.shard(t.seed)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[k]
	if !b.ActiveAt(now) {
		if old != nil && old.ID == b.ID {
			delete(sh.m, k)
			t.n.Add(-1)
		}
		return
	}
	if old != nil && old.ID != b.ID && old.ActiveAt(now) && !old.Until.Before(b.Until) {
		return
	}
	if old == nil {
		t.n.Add(1)
	}
	cp := *b
	sh.m[k] = &cp
}

// remove forgets k's block, whichever it is.
func (t *blockTable) remove(k blockKey) {
	sh := &t.shards[k.shard(t.seed)]
	sh.mu.Lock()
	if _, ok := sh.m[k]; ok {
		delete(sh.m, k)
		t.n.Add(-1)
	}
	sh.mu.Unlock()
}

// sweep forgets blocks no longer active.
func (t *blockTable) sweep(now time.Time) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, b := range sh.m {
			if !b.ActiveAt(now) {
				delete(sh.m, k)
				t.n.Add(-1)
			}
		}
		sh.mu.Unlock()
	}
}

// failKey is what failures are counted under: per shop, scope, dimension
// and key.
type failKey struct{ shop, scope, dim, key string }

func (k failKey) shard(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(k.shop)
	h.WriteString(k.scope)
	h.WriteString(k.key)
	return h.Sum64() % tableShards
}

// failures are the times of a key's recent failures, oldest first, at most
// the policy's FailLimit of them.
type failures struct {
	times  []time.Time
	window time.Duration
}

type failTable struct {
	seed   maphash.Seed
	shards [tableShards]struct {
		mu sync.Mutex
		m  map[failKey]*failures
	}
}

func (t *failTable) init() {
	t.seed = maphash.MakeSeed()
	for i := range t.shards {
		t.shards[i].m = map[failKey]*failures{}
	}
}

// fail counts a failure of k at now under p (defaults filled in) unless
// blocked() says k's key is blocked already. It reports true, with the
// count, when this failure is the p.FailLimit-th within p.FailWindow; the
// count then starts again. The caller creates the block while no other
// failure of k can be counted, because blocked() is asked under k's lock.
func (t *failTable) fail(k failKey, now time.Time, p Policy, blocked func() bool) (int, bool) {
	sh := &t.shards[k.shard(t.seed)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if blocked() {
		return 0, false
	}
	f := sh.m[k]
	if f == nil {
		f = &failures{times: make([]time.Time, 0, min(p.FailLimit, 16))}
		sh.m[k] = f
	}
	f.window = p.FailWindow
	f.times = append(f.times, now)
	// Keep the failures within the window, and no more than the limit.
	cut := now.Add(-p.FailWindow)
	drop := 0
	for drop < len(f.times) && !f.times[drop].After(cut) {
		drop++
	}
	if extra := len(f.times) - drop - p.FailLimit; extra > 0 {
		drop += extra
	}
	if drop > 0 {
		f.times = append(f.times[:0], f.times[drop:]...)
	}
	if len(f.times) < p.FailLimit {
		return 0, false
	}
	n := len(f.times)
	delete(sh.m, k)
	return n, true
}

// sweep forgets keys whose last failure is out of its window.
func (t *failTable) sweep(now time.Time) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, f := range sh.m {
			if len(f.times) == 0 || !f.times[len(f.times)-1].After(now.Add(-f.window)) {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

func (t *failTable) size() int {
	n := 0
	for i := range t.shards {
		t.shards[i].mu.Lock()
		n += len(t.shards[i].m)
		t.shards[i].mu.Unlock()
	}
	return n
}
