package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// RunAnalyticsNodes runs the multi-node ingestion contract: Ingestors
// with distinct node names on one database — flushing concurrently,
// crashing, restarting while another holds unflushed events — leave the
// same rollups, visitor and customer rows and sketches as one Ingestor
// fed the same events.
func RunAnalyticsNodes(t *testing.T, open NodesOpener) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, shanghai)
	newNode := func(t *testing.T, st analytics.Store, node string) *analytics.Ingestor {
		t.Helper()
		in, err := analytics.NewIngestor(context.Background(), st, analytics.Options{Now: clock.At(now).Now, FlushEvery: -1, Node: node,
			Location: func(context.Context, string) (*time.Location, error) { return shanghai, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	ingest := func(t *testing.T, in *analytics.Ingestor, evs []analytics.Event) {
		t.Helper()
		if _, _, _, err := in.Ingest(context.Background(), "shop_n", slices.Clone(evs), true); err != nil {
			t.Error(err)
		}
	}
	flush := func(t *testing.T, in *analytics.Ingestor) {
		t.Helper()
		if err := in.Flush(context.Background()); err != nil {
			t.Error(err)
		}
	}
	// events returns n events, each id with one content (a duplicate sent
	// to two nodes is the same event). No event carries both an anonymous
	// and a customer id: a link's arrival would make the sketches depend
	// on where flushes fall, which is documented and not what is tested.
	// Visitors are drawn from a pool of visitors: a large pool makes most
	// visitor-days appear once, so an update a flush loses stays lost.
	events := func(seed uint64, n, visitors int) []analytics.Event {
		rng := rand.New(rand.NewPCG(seed, 3))
		types := []string{analytics.PageView, analytics.ProductView, analytics.AddToCart, analytics.Search, analytics.CheckoutStart,
			analytics.OrderPlaced, analytics.OrderPaid, analytics.OrderRefunded, analytics.OrderCancelled}
		out := make([]analytics.Event, n)
		for i := range out {
			e := analytics.Event{ID: fmt.Sprintf("n%d", i), Type: types[rng.IntN(len(types))],
				TS: now.Add(-time.Duration(1+rng.IntN(4*24*60)) * time.Minute), SKUID: fmt.Sprintf("s%d", rng.IntN(3)),
				UTMSource: []string{"", "wx", "dy"}[rng.IntN(3)], UTMCampaign: []string{"", "d11"}[rng.IntN(2)]}
			switch e.Type {
			case analytics.OrderPlaced, analytics.OrderPaid, analytics.OrderRefunded, analytics.OrderCancelled:
				e.CustomerID = fmt.Sprintf("c%d", rng.IntN(12))
				e.OrderID = fmt.Sprintf("o%d", rng.IntN(200))
				e.Amount = int64(1 + rng.IntN(9999))
			default:
				if rng.IntN(3) == 0 {
					e.CustomerID = fmt.Sprintf("c%d", rng.IntN(12))
				} else {
					e.AnonymousID = fmt.Sprintf("a%d", rng.IntN(visitors))
				}
			}
			out[i] = e
		}
		return out
	}
	batches := func(rng *rand.Rand, evs []analytics.Event) [][]analytics.Event {
		var out [][]analytics.Event
		for lo := 0; lo < len(evs); {
			hi := min(len(evs), lo+1+rng.IntN(40))
			out = append(out, evs[lo:hi])
			lo = hi
		}
		return out
	}
	// single is what one node makes of evs.
	single := func(t *testing.T, evs []analytics.Event) map[string][]string {
		t.Helper()
		st, _ := open(t)
		in := newNode(t, st, "")
		for _, b := range batches(rand.New(rand.NewPCG(1, 1)), evs) {
			ingest(t, in, b)
		}
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
		return analyticsSnapshot(t, st)
	}
	same := func(t *testing.T, want, got map[string][]string) {
		t.Helper()
		if len(want["analytics_rollups"]) == 0 || len(want["analytics_sketches"]) == 0 || len(want["analytics_customer_days"]) == 0 {
			t.Fatalf("the reference has nothing to compare: %v", want)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("nodes differ from one node fed the same events (-one +nodes):\n%s", d)
		}
	}

	t.Run("two nodes flushing concurrently equal one node", func(t *testing.T) {
		evs := events(1, 3000, 2000)
		want := single(t, evs)
		st, stB := open(t)
		nodes := []*analytics.Ingestor{newNode(t, st, "node-a"), newNode(t, stB, "node-b")}
		rng := rand.New(rand.NewPCG(2, 2))
		// Interleaved: each batch goes to one node, a tenth to both (the
		// storefront retrying on another node); each node's batches are
		// sent and flushed by its own goroutines, racing the other's.
		work := make([][][]analytics.Event, 2)
		for _, b := range batches(rng, evs) {
			switch k := rng.IntN(10); {
			case k == 0:
				work[0] = append(work[0], b)
				work[1] = append(work[1], b)
			default:
				work[k%2] = append(work[k%2], b)
			}
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var flushers sync.WaitGroup
		for i, in := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j, b := range work[i] {
					ingest(t, in, b)
					if j%5 == 0 {
						flush(t, in)
					}
				}
			}()
			flushers.Add(1)
			go func() {
				defer flushers.Done()
				for {
					select {
					case <-stop:
						return
					default:
						flush(t, in)
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		flushers.Wait()
		for _, in := range nodes {
			if err := in.Close(); err != nil {
				t.Fatal(err)
			}
		}
		same(t, want, analyticsSnapshot(t, st))
	})

	t.Run("concurrent flushes from two processes merge every day sketch update", func(t *testing.T) {
		// Deltas of visitor-days only: no rollup row serialises the two
		// flushes before their sketch merge, only the flush lock does.
		mk := func(node string, i int) *analytics.Delta {
			d := analytics.NewDelta()
			for j := 0; j < 5; j++ {
				d.VisitorDays[analytics.VisitorDayKey{ShopID: "shop_n", Day: 20261111, Visitor: fmt.Sprintf("a:%s-%d-%d", node, i, j), Channel: "wx"}] = 1
			}
			d.Events, d.MaxSeq, d.Node = 5, int64(i+1), node
			return d
		}
		const rounds = 60
		ref, _ := open(t)
		for i := 0; i < rounds; i++ {
			for _, n := range []string{"node-a", "node-b"} {
				if err := ref.ApplyDelta(context.Background(), mk(n, i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		stA, stB := open(t)
		var wg sync.WaitGroup
		for k, st := range []*sqlstore.Store{stA, stB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					if err := st.ApplyDelta(context.Background(), mk([]string{"node-a", "node-b"}[k], i)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		want, got := analyticsSnapshot(t, ref)["analytics_sketches"], analyticsSnapshot(t, stA)["analytics_sketches"]
		if len(want) == 0 {
			t.Fatal("no sketch to compare")
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("concurrent flushes lost sketch updates (-sequential +concurrent):\n%s", d)
		}
	})

	t.Run("a node crashed before flushing folds its events when it restarts, after another flushed past them", func(t *testing.T) {
		evs := events(3, 900, 40)
		want := single(t, evs)
		st, stB := open(t)
		a, b := newNode(t, st, "node-a"), newNode(t, stB, "node-b")
		ingest(t, a, evs[:200])
		flush(t, a)
		ingest(t, b, evs[200:500]) // b's sequences, never flushed
		// b crashes: dropped without Close, its delta lost.
		ingest(t, a, evs[500:700])
		flush(t, a) // a's watermark passes b's sequences
		if wa, _ := st.Watermark(context.Background(), "node-a"); wa == 0 {
			t.Fatal("node-a's watermark did not move")
		}
		if wb, _ := st.Watermark(context.Background(), "node-b"); wb != 0 {
			t.Fatalf("node-b never flushed, its watermark is %d", wb)
		}
		b = newNode(t, stB, "node-b") // folds 200..500
		ingest(t, b, evs[700:])
		for _, in := range []*analytics.Ingestor{a, b} {
			if err := in.Close(); err != nil {
				t.Fatal(err)
			}
		}
		same(t, want, analyticsSnapshot(t, st))
	})

	t.Run("a node restarting while another holds unflushed events counts them once", func(t *testing.T) {
		evs := events(5, 900, 40)
		want := single(t, evs)
		st, stB := open(t)
		a, b := newNode(t, st, "node-a"), newNode(t, stB, "node-b")
		ingest(t, a, evs[:150])
		ingest(t, b, evs[150:400]) // held by b, unflushed
		ingest(t, a, evs[400:550]) // a crashes with these unflushed
		a = newNode(t, st, "node-a")
		ingest(t, a, evs[550:700])
		if err := a.Close(); err != nil { // a clean restart too
			t.Fatal(err)
		}
		a = newNode(t, st, "node-a")
		ingest(t, b, evs[700:])
		for _, in := range []*analytics.Ingestor{a, b} {
			if err := in.Close(); err != nil {
				t.Fatal(err)
			}
		}
		same(t, want, analyticsSnapshot(t, st))
	})
}

// NodesOpener opens a fresh, empty, migrated database twice, as two
// processes would: two stores with their own connections (and their own
// group commit). SQLite, one process's engine, gives one store twice.
type NodesOpener func(t *testing.T) (*sqlstore.Store, *sqlstore.Store)

// SQLiteNodes is the NodesOpener of SQLite.
func SQLiteNodes(t *testing.T) (*sqlstore.Store, *sqlstore.Store) {
	st := OpenSQLite(t)
	return st, st
}

// PostgresNodes is the NodesOpener of PostgreSQL: a second store on the
// fresh schema of OpenPostgres.
func PostgresNodes(t *testing.T) (*sqlstore.Store, *sqlstore.Store) {
	t.Helper()
	a := OpenPostgres(t)
	return a, SecondNode(t, a)
}

// analyticsSnapshot reads every derived analytics table as sorted rows,
// and each day sketch as its estimate (two sketches of one set may differ
// in bytes, not in estimate).
func analyticsSnapshot(t *testing.T, st *sqlstore.Store) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	for _, tbl := range []string{"analytics_rollups", "analytics_visitor_days", "analytics_customer_days", "analytics_identities",
		"analytics_first_paid", "analytics_repeat_pairs", "analytics_sku_days"} {
		rows, err := st.Query(ctx, `SELECT * FROM `+tbl)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out[tbl] = append(out[tbl], fmt.Sprintf("%v", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[tbl])
	}
	rows, err := st.Query(ctx, `SELECT shop_id, kind, day, channel, campaign, sketch FROM analytics_sketches`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var shop, ch, camp string
		var kind, day int64
		var b []byte
		if err := rows.Scan(&shop, &kind, &day, &ch, &camp, &b); err != nil {
			t.Fatal(err)
		}
		sk := analytics.NewSketch()
		if err := sk.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		out["analytics_sketches"] = append(out["analytics_sketches"], fmt.Sprint(shop, kind, day, ch, camp, "≈", sk.Estimate()))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out["analytics_sketches"])
	return out
}
