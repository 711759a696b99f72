package guard

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// event is one refusal on its way to the store.
type event struct {
	shop, scope, rule, dim, key, blockID string
	at                                   time.Time
}

type aggKey struct{ shop, scope, rule, dim, key, blockID string }

// recorder writes refusals in the background: Check hands each one over
// without waiting (a full queue drops it and counts the drop), and one
// goroutine folds identical refusals into one counted record and writes a
// batch each second, or sooner when a batch fills up.
type recorder struct {
	store Store
	newID func(string) string
	log   *slog.Logger
	batch int

	ch      chan event
	flushes chan chan struct{}
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once

	rateLimited, blocked, dropped atomic.Uint64
}

func newRecorder(store Store, newID func(string) string, log *slog.Logger, opts Options) *recorder {
	r := &recorder{store: store, newID: newID, log: log, batch: opts.BatchSize, ch: make(chan event, opts.QueueSize),
		flushes: make(chan chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	go r.run(opts.FlushEvery)
	return r
}

// add queues e, or drops and counts it when the queue is full.
func (r *recorder) add(e event) {
	if e.rule == RuleBlocked {
		r.blocked.Add(1)
	} else {
		r.rateLimited.Add(1)
	}
	select {
	case r.ch <- e:
	default:
		r.dropped.Add(1)
	}
}

// flush returns once everything queued before the call is written.
func (r *recorder) flush() {
	reply := make(chan struct{})
	select {
	case r.flushes <- reply:
		<-reply
	case <-r.done:
	}
}

func (r *recorder) close() {
	r.once.Do(func() { close(r.quit) })
	<-r.done
}

func (r *recorder) run(every time.Duration) {
	defer close(r.done)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	pending := map[aggKey]*RefusalRecord{}
	var counted int64 // events folded into pending
	take := func(e event) {
		k := aggKey{e.shop, e.scope, e.rule, e.dim, e.key, e.blockID}
		if rec := pending[k]; rec != nil {
			rec.Count++
			if e.at.After(rec.LastAt) {
				rec.LastAt = e.at
			}
			if e.at.Before(rec.FirstAt) {
				rec.FirstAt = e.at
			}
		} else {
			pending[k] = &RefusalRecord{ShopID: e.shop, Scope: e.scope, Rule: e.rule, Dimension: e.dim, Key: e.key, BlockID: e.blockID,
				Count: 1, FirstAt: e.at, LastAt: e.at}
		}
		counted++
	}
	write := func() {
		if len(pending) == 0 {
			return
		}
		recs := make([]RefusalRecord, 0, len(pending))
		for _, rec := range pending {
			rec.ID = r.newID("rfs")
			recs = append(recs, *rec)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := r.store.SaveRefusals(ctx, recs)
		cancel()
		if err != nil {
			r.dropped.Add(uint64(counted))
			r.log.Error("guard: write refusal records", "err", err, "records", len(recs), "refusals", counted)
		}
		clear(pending)
		counted = 0
	}
	drain := func() {
		for {
			select {
			case e := <-r.ch:
				take(e)
				if len(pending) >= r.batch {
					write()
				}
			default:
				write()
				return
			}
		}
	}
	for {
		select {
		case e := <-r.ch:
			take(e)
			if len(pending) >= r.batch {
				write()
			}
		case <-tick:
			write()
		case reply := <-r.flushes:
			drain()
			close(reply)
		case <-r.quit:
			drain()
			return
		}
	}
}
