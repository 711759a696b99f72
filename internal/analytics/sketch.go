package analytics

import (
	"fmt"

	"github.com/axiomhq/hyperloglog"
	"github.com/cespare/xxhash/v2"
)

// Day sketches: one HyperLogLog (precision 14, sparse while small) per
// shop × local day × channel × campaign × funnel step, over merged
// visitors. Kind k counts the visitors whose visitor-day has step bit
// 1<<k (StepVisit … StepPaid), so kind 0 is UV; kind SketchPaying counts
// the customers with a paid order on that day. Sketches merge by
// register maximum: merging the same visitor-days twice changes nothing,
// so a delta can be applied again (after a crash) without counting twice.
//
// Each day also has shop-wide sketches, kind + SketchShopWide with channel
// and campaign "", the merge of all its channel × campaign sketches of
// that kind: an unfiltered read merges one sketch per day and kind.
// Filtered and by-channel reads use the detailed kinds only.
const (
	SketchKinds    = 5 // funnel steps: kinds 0 … 4
	SketchPaying   = 5
	SketchShopWide = 100
)

// SketchKey names one stored day sketch.
type SketchKey struct {
	ShopID            string
	Day               int64
	Channel, Campaign string
	Kind              int
}

// SketchRow is one stored day sketch as read back for a query.
type SketchRow struct {
	Day      int64
	Channel  string
	Campaign string
	Kind     int
	Sketch   []byte
}

// NewSketch returns an empty sketch of the precision every stored sketch has.
func NewSketch() *hyperloglog.Sketch { return hyperloglog.New14() }

// HashVisitor is the 64-bit hash a visitor id goes into a sketch with
// (stable across processes: stored sketches depend on it).
func HashVisitor(id string) uint64 { return xxhash.Sum64String(id) }

// BuildSketches folds visitor-days into day sketches. resolve maps a
// visitor id to the id it counts as (an anonymous id linked to a customer
// counts as the customer); it is called once per distinct visitor.
func BuildSketches(vd map[VisitorDayKey]int64, cd map[CustomerDayKey]*CustomerDay, resolve func(shopID, visitor string) (string, error)) (map[SketchKey]*hyperloglog.Sketch, error) {
	out := map[SketchKey]*hyperloglog.Sketch{}
	insert := func(sk SketchKey, h uint64) {
		for _, k := range []SketchKey{sk, {sk.ShopID, sk.Day, "", "", sk.Kind + SketchShopWide}} {
			s := out[k]
			if s == nil {
				s = NewSketch()
				out[k] = s
			}
			s.InsertHash(h)
		}
	}
	for k, c := range cd {
		if c.PaidOrders <= 0 {
			continue
		}
		insert(SketchKey{k.ShopID, k.Day, k.Channel, k.Campaign, SketchPaying}, HashVisitor("c:"+k.CustomerID))
	}
	hashes := map[[2]string]uint64{}
	for k, steps := range vd {
		hk := [2]string{k.ShopID, k.Visitor}
		h, ok := hashes[hk]
		if !ok {
			who, err := resolve(k.ShopID, k.Visitor)
			if err != nil {
				return nil, err
			}
			h = HashVisitor(who)
			hashes[hk] = h
		}
		for kind := 0; kind < SketchKinds; kind++ {
			if steps&(1<<kind) == 0 {
				continue
			}
			insert(SketchKey{k.ShopID, k.Day, k.Channel, k.Campaign, kind}, h)
		}
	}
	return out, nil
}

// MergeStored merges s into a stored sketch (nil: none yet) and returns
// the bytes to store.
func MergeStored(stored []byte, s *hyperloglog.Sketch) ([]byte, error) {
	if len(stored) > 0 {
		old := NewSketch()
		if err := old.UnmarshalBinary(stored); err != nil {
			return nil, fmt.Errorf("stored sketch: %w", err)
		}
		if err := old.Merge(s); err != nil {
			return nil, err
		}
		s = old
	}
	return s.MarshalBinary()
}

// sketchSet merges decoded sketches by a key.
type sketchSet[K comparable] map[K]*hyperloglog.Sketch

func (m sketchSet[K]) merge(k K, s *hyperloglog.Sketch) error {
	p := m[k]
	if p == nil {
		p = NewSketch()
		m[k] = p
	}
	return p.Merge(s)
}

func (m sketchSet[K]) estimate(k K) int64 {
	if s := m[k]; s != nil {
		return int64(s.Estimate())
	}
	return 0
}

func decodeSketch(b []byte) (*hyperloglog.Sketch, error) {
	s := NewSketch()
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("day sketch: %w", err)
	}
	return s, nil
}
