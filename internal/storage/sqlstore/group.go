package sqlstore

import (
	"context"
	"errors"
	"fmt"
)

// Group commit, for an engine with one writer (SQLite): writes queue up to
// one goroutine that runs every queued write in its own SAVEPOINT inside a
// single transaction and commits once. A write that fails rolls back to its
// savepoint and fails alone; the commit fsyncs once for the whole batch, and
// every caller hears back only after that commit, so an acknowledged write
// is as durable as the synchronous setting makes it.

// maxBatch bounds a batch so one slow write cannot hold many callers.
const maxBatch = 256

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

type grouper struct {
	reqs chan *writeReq
	quit chan struct{}
	gone chan struct{}
}

// StartGroupCommit switches Write to group commit. Call once, before use;
// Close stops it.
func (s *Store) StartGroupCommit() {
	g := &grouper{reqs: make(chan *writeReq, 4*maxBatch), quit: make(chan struct{}), gone: make(chan struct{})}
	s.group = g
	go s.groupLoop(g)
}

func (s *Store) groupWrite(ctx context.Context, fn func(*Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.group.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.group.gone:
		return errors.New("store closed")
	}
	// Once queued, wait for the verdict even if ctx ends: the write may be
	// committing, and the caller must not report failure for a write that
	// landed.
	return <-r.done
}

func (s *Store) groupLoop(g *grouper) {
	defer close(g.gone)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case <-g.quit:
			return
		case r := <-g.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*writeReq) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	t := &Tx{tx: tx, s: s}
	ctx := context.Background()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		errs[i] = runOne(t, r.fn)
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				tx.Rollback()
				fail(fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// runOne runs fn, turning a panic into an error so one bad write cannot
// take the writer down with the batch.
func runOne(t *Tx, fn func(*Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(t)
}
