// Package clock has the settable clock that tests and the demo seeder pass
// to services in place of time.Now: it never moves by itself.
package clock

import (
	"sync"
	"time"
)

// Settable is a clock that only moves when told to. Safe for concurrent use.
type Settable struct {
	mu sync.Mutex
	t  time.Time
}

// At returns a clock showing t.
func At(t time.Time) *Settable { return &Settable{t: t} }

// Now returns the clock's time.
func (c *Settable) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Settable) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Settable) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
