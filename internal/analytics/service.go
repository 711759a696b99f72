package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Stored is an event with its shop and storage sequence.
type Stored struct {
	ShopID string
	Seq    int64
	Event
}

// Filter narrows a query to one channel and/or campaign.
type Filter struct {
	Channel, Campaign *string
}

// BucketCounters are the counters of one bucket.
type BucketCounters struct {
	Bucket int64
	Counters
}

// FunnelRow is the funnel of one channel ("" overall when not by channel).
type FunnelRow struct {
	Channel  string `json:"channel"`
	Visits   int64  `json:"visits"`
	Products int64  `json:"product_views"`
	Carts    int64  `json:"carts"`
	Orders   int64  `json:"orders"`
	Paid     int64  `json:"paid"`
}

// Store is what analytics needs from storage.
type Store interface {
	// AppendEvents stores events that are not stored yet (by shop and id)
	// durably, recording node as the node that stored them, and returns
	// the sequence of each, 0 for one already stored.
	AppendEvents(ctx context.Context, node string, evs []Stored) ([]int64, error)
	// ApplyDelta adds a delta to the rollups and moves the watermark of
	// its Node to its MaxSeq, in one transaction.
	ApplyDelta(ctx context.Context, d *Delta) error
	// Watermark is the last sequence stored by node whose event is in the
	// rollups.
	Watermark(ctx context.Context, node string) (int64, error)
	// EventsAfter reads the events stored by node after seq in order.
	EventsAfter(ctx context.Context, node string, seq int64, limit int) ([]Stored, error)
	RollupCounters(ctx context.Context, shopID, grain string, from, to int64, f Filter) ([]BucketCounters, error)
	Distincts(ctx context.Context, shopID string, fromDay, toDay int64, f Filter) (Distincts, error)
	Funnel(ctx context.Context, shopID string, fromDay, toDay int64, byChannel bool) ([]FunnelRow, error)
	// DaySketches reads the stored day sketches of the given kinds over
	// the local days [fromDay, toDay).
	DaySketches(ctx context.Context, shopID string, fromDay, toDay int64, f Filter, kinds []int) ([]SketchRow, error)
	// ShopDaySketches reads one sketch per day and (detailed) kind over
	// all channels and campaigns: the shop-wide row, or for a day and
	// kind without one (data from before shop-wide rows) the detailed
	// rows to merge. Rows carry the detailed kind.
	ShopDaySketches(ctx context.Context, shopID string, fromDay, toDay int64, kinds []int) ([]SketchRow, error)
	// CustomerDistincts counts repurchasers and new customers exactly,
	// for each day of [fromDay, toDay) with any and for the whole range
	// (UV and paying customers, from sketches, are left 0).
	CustomerDistincts(ctx context.Context, shopID string, fromDay, toDay int64, f Filter) (map[int64]Distincts, Distincts, error)
	CountEvents(ctx context.Context, shopID string) (int64, error)
}

// Options configure an Ingestor.
type Options struct {
	Now func() time.Time
	// Location returns a shop's time zone.
	Location func(ctx context.Context, shopID string) (*time.Location, error)
	Logger   *slog.Logger
	// FlushEvery is how often rollups are flushed; < 0: only by Flush.
	FlushEvery time.Duration
	// Node names this process among the nodes ingesting into one
	// database. Every node of a cluster needs a distinct name that stays
	// the same across restarts (a StatefulSet's pod name, say): the events
	// a node stored but had not flushed when it stopped are folded when a
	// node of the same name starts again. "" is right for a single node.
	Node string
}

type appendReq struct {
	evs  []Stored
	loc  []*time.Location
	seqs []int64
	err  error
	done chan struct{}
}

// Ingestor stores events durably and keeps rollups. One goroutine writes
// events, coalescing concurrent batches into one transaction, so the
// node's sequences commit in order and its watermark is exact. Several
// Ingestors with distinct node names may share one database: each folds
// the events it stored, and moves only its own watermark.
type Ingestor struct {
	st   Store
	opt  Options
	reqs chan *appendReq
	quit chan struct{}
	gone chan struct{}

	mu    sync.Mutex
	delta *Delta
	fmu   sync.Mutex // one flush at a time
}

// NewIngestor starts an Ingestor after folding into the rollups the events
// its node stored after its watermark (what a crash left unflushed).
// Events other nodes stored are theirs to fold.
func NewIngestor(ctx context.Context, st Store, opt Options) (*Ingestor, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.FlushEvery == 0 {
		opt.FlushEvery = time.Second
	}
	in := &Ingestor{st: st, opt: opt, reqs: make(chan *appendReq, 256), quit: make(chan struct{}), gone: make(chan struct{}), delta: NewDelta()}
	if err := in.rebuild(ctx); err != nil {
		return nil, err
	}
	go in.loop()
	return in, nil
}

func (in *Ingestor) rebuild(ctx context.Context) error {
	wm, err := in.st.Watermark(ctx, in.opt.Node)
	if err != nil {
		return fmt.Errorf("rollup watermark: %w", err)
	}
	locs := map[string]*time.Location{}
	for {
		evs, err := in.st.EventsAfter(ctx, in.opt.Node, wm, 10000)
		if err != nil {
			return fmt.Errorf("rebuild rollups: %w", err)
		}
		if len(evs) == 0 {
			return in.Flush(ctx)
		}
		for i := range evs {
			e := &evs[i]
			loc := locs[e.ShopID]
			if loc == nil {
				if loc, err = in.opt.Location(ctx, e.ShopID); err != nil {
					return fmt.Errorf("rebuild rollups: %w", err)
				}
				locs[e.ShopID] = loc
			}
			in.delta.Add(e.ShopID, loc, &e.Event, e.Seq)
			wm = e.Seq
		}
	}
}

// Ingest validates events for shopID, stores the valid ones durably, and
// returns how many were accepted, how many of those were already stored,
// and the rejected items. server admits the order flow's event types.
func (in *Ingestor) Ingest(ctx context.Context, shopID string, evs []Event, server bool) (accepted, dups int, rejected []Rejection, err error) {
	return in.ingest(ctx, shopID, evs, server, true)
}

// ingest is Ingest; aged false skips the MaxPast/MaxFuture limits (Backfill).
func (in *Ingestor) ingest(ctx context.Context, shopID string, evs []Event, server, aged bool) (accepted, dups int, rejected []Rejection, err error) {
	loc, err := in.opt.Location(ctx, shopID)
	if err != nil {
		return 0, 0, nil, err
	}
	now := in.opt.Now()
	req := &appendReq{done: make(chan struct{})}
	seen := make(map[string]bool, len(evs))
	for i := range evs {
		at := now
		if !aged {
			at = evs[i].TS // an event is never too old nor ahead of its own time
		}
		if r := Validate(&evs[i], at, server); r != nil {
			r.Index = i
			rejected = append(rejected, *r)
			continue
		}
		accepted++
		if seen[evs[i].ID] {
			dups++
			continue
		}
		seen[evs[i].ID] = true
		evs[i].TS = evs[i].TS.UTC().Truncate(time.Microsecond)
		req.evs = append(req.evs, Stored{ShopID: shopID, Event: evs[i]})
		req.loc = append(req.loc, loc)
	}
	if len(req.evs) == 0 {
		return accepted, dups, rejected, nil
	}
	select {
	case in.reqs <- req:
	case <-ctx.Done():
		return 0, 0, nil, ctx.Err()
	case <-in.gone:
		return 0, 0, nil, errors.New("ingestor closed")
	}
	select {
	case <-req.done:
	case <-in.gone:
		// Closed: the writer may have taken the batch before it stopped.
		select {
		case <-req.done:
		default:
			return 0, 0, nil, errors.New("ingestor closed")
		}
	}
	if req.err != nil {
		return 0, 0, nil, req.err
	}
	for _, s := range req.seqs {
		if s == 0 {
			dups++
		}
	}
	return accepted, dups, rejected, nil
}

// maxCoalesce bounds the events of one write transaction.
const maxCoalesce = 8000

func (in *Ingestor) loop() {
	defer close(in.gone)
	var tick <-chan time.Time
	if in.opt.FlushEvery > 0 {
		t := time.NewTicker(in.opt.FlushEvery)
		defer t.Stop()
		tick = t.C
	}
	flushDone := make(chan struct{}, 1)
	flushDone <- struct{}{}
	for {
		select {
		case <-in.quit:
			return
		case <-tick:
			select {
			case <-flushDone:
				go func() {
					if err := in.Flush(context.Background()); err != nil {
						in.opt.Logger.Error("flush rollups", "err", err)
					}
					flushDone <- struct{}{}
				}()
			default: // the previous flush is still running
			}
		case r := <-in.reqs:
			batch := []*appendReq{r}
			n := len(r.evs)
		more:
			for n < maxCoalesce {
				select {
				case r2 := <-in.reqs:
					batch = append(batch, r2)
					n += len(r2.evs)
				default:
					break more
				}
			}
			in.write(batch, n)
		}
	}
}

func (in *Ingestor) write(batch []*appendReq, n int) {
	all := make([]Stored, 0, n)
	for _, r := range batch {
		all = append(all, r.evs...)
	}
	seqs, err := in.st.AppendEvents(context.Background(), in.opt.Node, all)
	if err == nil {
		in.mu.Lock()
		i := 0
		for _, r := range batch {
			r.seqs = seqs[i : i+len(r.evs)]
			for j := range r.evs {
				if s := seqs[i+j]; s != 0 {
					in.delta.Add(r.evs[j].ShopID, r.loc[j], &r.evs[j].Event, s)
				}
			}
			i += len(r.evs)
		}
		in.mu.Unlock()
	}
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}

// Flush writes the rollups of every event stored so far.
func (in *Ingestor) Flush(ctx context.Context) error {
	in.fmu.Lock()
	defer in.fmu.Unlock()
	in.mu.Lock()
	d := in.delta
	in.delta = NewDelta()
	in.mu.Unlock()
	if d.Empty() {
		return nil
	}
	d.Node = in.opt.Node
	if err := in.st.ApplyDelta(ctx, d); err != nil {
		in.mu.Lock()
		d.Merge(in.delta)
		in.delta = d
		in.mu.Unlock()
		return err
	}
	return nil
}

// Close stops the writer and flushes what is left.
func (in *Ingestor) Close() error {
	close(in.quit)
	<-in.gone
	return in.Flush(context.Background())
}

// FilterOf is the filter of a query's channel and campaign, "" meaning
// any.
func FilterOf(channel, campaign string) Filter {
	var f Filter
	if channel != "" {
		f.Channel = &channel
	}
	if campaign != "" {
		f.Campaign = &campaign
	}
	return f
}
