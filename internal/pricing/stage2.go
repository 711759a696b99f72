package pricing

import (
	"cmp"
	"slices"

	"github.com/carnivalhq/carnival/internal/money"
)

// partRec is one discount's share of one line. It holds no pointers so
// the way's part list is cheap to allocate and for the collector to skip.
type partRec struct {
	line   int32
	stage  uint8 // partOrder, partCoupon, partPoints
	src    int32 // activity position, coupon index, or -1 for points
	amount money.Money
}

const (
	partOrder uint8 = iota
	partCoupon
	partPoints
)

// orderRec is an order-level activity that applied in a way.
type orderRec struct {
	pos      int
	amount   money.Money
	from, to int // its parts in way.parts (recording ways only)
	// its gifts in way.given
	giftFrom, giftTo int
}

// note is a NotApplied for the activity at pos, kept without pointers (so
// recording it costs no write barriers); naOf spells it out.
type note struct {
	pos    int
	reason noteReason
	// winner: the activity position that won (stacking); gift: the tier
	// and gift index of the SKU out of stock (out_of_stock).
	winner, tier, gift int32
	shortfall          money.Money
	shortfallItems     int64
}

// noteReason is a note's Reason.
type noteReason uint8

const (
	noteThresholdNotMet noteReason = iota
	noteNoDiscount
	noteBudgetExhausted
	noteStacking
	noteOutOfStock
)

// naOf spells note n out as the NotApplied it stands for.
func (q *quoter) naOf(n *note) NotApplied {
	a := q.acts[n.pos].a
	na := NotApplied{Source: SourceActivity, ID: a.ID, Kind: a.Kind, Shortfall: n.shortfall, ShortfallItems: n.shortfallItems}
	switch n.reason {
	case noteThresholdNotMet:
		na.Reason = ReasonThresholdNotMet
	case noteNoDiscount:
		na.Reason = ReasonNoDiscount
	case noteBudgetExhausted:
		na.Reason = ReasonBudgetExhausted
	case noteStacking:
		na.Reason, na.Winner = ReasonStacking, q.acts[n.winner].a.ID
	case noteOutOfStock:
		na.Reason, na.SKUID = ReasonOutOfStock, a.Tiers[n.tier].Gifts[n.gift].SKUID
	}
	return na
}

// way is one way of pricing stages 2, 3 and 5: a set of order-level
// activities (all non-exclusive ones, or one exclusive one) and the best
// coupons on top.
type way struct {
	excl    int   // position of the exclusive activity, -1 for the stacked way
	allowed []int // activity positions in application order
	// freeShip: the free_shipping ones among allowed, in order (stage 5)
	freeShip []int
	cur      []money.Money
	// curBeforeCoupons keeps the amounts after stage 2 for reporting.
	curBeforeCoupons []money.Money
	recs             []orderRec
	parts            []partRec
	notes            []note
	hints            []Hint
	caps             []Cap
	gifts            []GiftItem // gift stock taken so far
	given            []GiftItem // the gifts of recs, in rec order
	order            money.Money

	combo      []int // chosen coupons (indexes into quoter.cps)
	couponGood money.Money
	shipDisc   money.Money
	waivedBy   int // free_shipping activity that waived the fee, -1 if none
	value      money.Money
	applies    bool // the exclusive activity applied (always true for stacked)
	// record: keep parts, line lists, hints and caps. Only the kept way
	// records; the others only need their amounts and reasons.
	record bool
}

// reset readies w (possibly used by an earlier way or quote) for a new way.
func (w *way) reset(excl int, allowed []int, n int, record bool) {
	w.excl, w.allowed = excl, allowed
	w.cur = grow(w.cur, n)
	w.curBeforeCoupons = w.curBeforeCoupons[:0]
	w.recs, w.parts, w.notes = reserve(w.recs, len(allowed)), w.parts[:0], reserve(w.notes, min(len(allowed), 4))
	w.hints, w.caps, w.gifts, w.given = w.hints[:0], w.caps[:0], w.gifts[:0], w.given[:0]
	w.order, w.combo, w.couponGood, w.shipDisc = 0, w.combo[:0], 0, 0
	w.waivedBy, w.value, w.applies, w.record = -1, 0, false, record
}

// hint and cap record only on the way that is being kept.
func (w *way) hint(h Hint) {
	if w.record {
		w.hints = append(w.hints, h)
	}
}

func (w *way) cap(c Cap) {
	if w.record {
		w.caps = append(w.caps, c)
	}
}

func (w *way) notApplied(ai *actInfo, n note) {
	n.pos = ai.pos
	w.notes = append(w.notes, n)
}

// unitRun is count units of one line, each currently worth price.
type unitRun struct {
	price money.Money
	count int64
	line  int
}

// appendRuns splits line li's current amount over its units: over its
// stage-1 segments in proportion (largest remainder), then evenly within
// each segment, the odd fen on the first units.
func (q *quoter) appendRuns(runs []unitRun, li int, cur money.Money) []unitRun {
	l := &q.lines[li]
	var amtBuf, wBuf [4]money.Money
	amts, ws := amtBuf[:0], wBuf[:0]
	if len(l.segs) > len(amtBuf) {
		amts, ws = make([]money.Money, 0, len(l.segs)), make([]money.Money, 0, len(l.segs))
	}
	for _, s := range l.segs {
		ws = append(ws, s.UnitPrice*s.Quantity)
		amts = append(amts, 0)
	}
	if len(ws) == 1 {
		amts[0] = cur
	} else if cur > 0 {
		allocate(amts, cur, ws)
	}
	for k, s := range l.segs {
		base, extra := amts[k]/s.Quantity, amts[k]%s.Quantity
		if extra > 0 {
			runs = append(runs, unitRun{price: base + 1, count: extra, line: li})
		}
		if s.Quantity-extra > 0 {
			runs = append(runs, unitRun{price: base, count: s.Quantity - extra, line: li})
		}
	}
	return runs
}

// sortRunsDesc sorts runs by price, highest first, keeping the order of
// equal prices. A cart's runs are a few dozen at most, so an insertion
// sort on the price, with no comparison function to call, is the quick
// way; long lists take the library's stable sort.
func sortRunsDesc(runs []unitRun) {
	if len(runs) > 64 {
		slices.SortStableFunc(runs, func(a, b unitRun) int { return cmp.Compare(b.price, a.price) })
		return
	}
	for i := 1; i < len(runs); i++ {
		r := runs[i]
		j := i
		for ; j > 0 && runs[j-1].price < r.price; j-- {
			runs[j] = runs[j-1]
		}
		runs[j] = r
	}
}

// apportion splits d over the lines idx by their current amounts, lowers
// them and records the parts. d must not exceed their sum.
func (q *quoter) apportion(w *way, cur []money.Money, d money.Money, idx []int, stage uint8, src int, record bool) {
	if d <= 0 {
		return
	}
	ws, ps := q.wbuf[:len(idx)], q.pbuf[:len(idx)]
	for k, li := range idx {
		ws[k] = cur[li]
	}
	allocate(ps, d, ws)
	for k, li := range idx {
		if ps[k] == 0 {
			continue
		}
		cur[li] -= ps[k]
		if record {
			w.parts = append(w.parts, partRec{line: int32(li), stage: stage, src: int32(src), amount: ps[k]})
		}
	}
}

func sumOver(cur []money.Money, idx []int) money.Money {
	var s money.Money
	for _, li := range idx {
		s += cur[li]
	}
	return s
}

func (q *quoter) itemsOver(idx []int) int64 {
	var n int64
	for _, li := range idx {
		n += q.lines[li].qty
	}
	return n
}

// stage2 applies the way's activities in order, each on the current
// amounts its predecessors left (cascading). Free shipping waits for stage 5.
func (q *quoter) stage2(w *way) {
	w.freeShip = w.freeShip[:0]
	for _, pos := range w.allowed {
		ai := &q.acts[pos]
		if ai.a.Kind == FreeShipping {
			w.freeShip = append(w.freeShip, pos)
			continue
		}
		q.applyOrderActivity(w, ai)
	}
}

func (q *quoter) applyOrderActivity(w *way, ai *actInfo) {
	a := ai.a
	E := sumOver(w.cur, ai.idx)
	var d money.Money
	var perLine []money.Money // nth_item: discount per idx entry
	switch a.Kind {
	case ThresholdOff:
		var off money.Money
		if a.Repeat {
			t := a.Tiers[0]
			if E < t.Threshold {
				w.notApplied(ai, note{reason: noteThresholdNotMet, shortfall: t.Threshold - E})
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: t.Threshold - E, SaveMore: min(t.Off, capOr(a.MaxOff))})
				return
			}
			n := E / t.Threshold
			off = satMul(n, t.Off)
			if a.MaxOff > 0 && off >= a.MaxOff {
				if off > a.MaxOff {
					w.cap(Cap{Source: SourceActivity, ID: a.ID, What: "max_off", Requested: off, Allowed: a.MaxOff})
					off = a.MaxOff
				}
			} else {
				next := min(satMul(n+1, t.Off), capOr(a.MaxOff))
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: (n+1)*t.Threshold - E, SaveMore: next - off})
			}
		} else {
			best, next := tierAt(a.Tiers, E)
			if best < 0 {
				w.notApplied(ai, note{reason: noteThresholdNotMet, shortfall: a.Tiers[next].Threshold - E})
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: a.Tiers[next].Threshold - E, SaveMore: min(a.Tiers[next].Off, a.Tiers[next].Threshold)})
				return
			}
			off = a.Tiers[best].Off
			if next >= 0 {
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: a.Tiers[next].Threshold - E, SaveMore: a.Tiers[next].Off - min(off, E)})
			}
		}
		if off > E {
			w.cap(Cap{Source: SourceActivity, ID: a.ID, What: "eligible_amount", Requested: off, Allowed: E})
			off = E
		}
		d = off
	case ThresholdPercent:
		var best, next int
		if a.ByItems {
			items := q.itemsOver(ai.idx)
			best, next = -1, -1
			for k, t := range a.Tiers {
				if t.MinItems <= items {
					if best < 0 || t.MinItems > a.Tiers[best].MinItems {
						best = k
					}
				} else if next < 0 || t.MinItems < a.Tiers[next].MinItems {
					next = k
				}
			}
			if best < 0 {
				w.notApplied(ai, note{reason: noteThresholdNotMet, shortfallItems: a.Tiers[next].MinItems - items})
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddItems: a.Tiers[next].MinItems - items, SaveMore: rateDiscount(E, a.Tiers[next].Rate)})
				return
			}
			d = rateDiscount(E, a.Tiers[best].Rate)
			if next >= 0 {
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddItems: a.Tiers[next].MinItems - items, SaveMore: max(rateDiscount(E, a.Tiers[next].Rate)-d, 0)})
			}
		} else {
			best, next = tierAt(a.Tiers, E)
			if best < 0 {
				t := a.Tiers[next]
				w.notApplied(ai, note{reason: noteThresholdNotMet, shortfall: t.Threshold - E})
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: t.Threshold - E, SaveMore: rateDiscount(t.Threshold, t.Rate)})
				return
			}
			d = rateDiscount(E, a.Tiers[best].Rate)
			if next >= 0 {
				t := a.Tiers[next]
				w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: t.Threshold - E, SaveMore: max(rateDiscount(t.Threshold, t.Rate)-d, 0)})
			}
		}
	case NthItem:
		perLine = q.pbuf[:len(ai.idx)]
		var maxQty int64
		for k, li := range ai.idx {
			perLine[k] = 0
			maxQty = max(maxQty, q.lines[li].qty)
			if q.lines[li].qty < a.N {
				continue
			}
			runs := q.appendRuns(q.runs[:0], li, w.cur[li])
			sortRunsDesc(runs)
			var pos int64
			for _, r := range runs {
				cnt := (pos+r.count)/a.N - pos/a.N
				pos += r.count
				perLine[k] += cnt * rateDiscount(r.price, a.Rate)
			}
			q.runs = runs
			d += perLine[k]
		}
		if maxQty < a.N {
			w.notApplied(ai, note{reason: noteThresholdNotMet, shortfallItems: a.N - maxQty})
			return
		}
	case BuyXGetY:
		runs := q.runs[:0]
		for _, li := range ai.idx {
			runs = q.appendRuns(runs, li, w.cur[li])
		}
		sortRunsDesc(runs)
		q.runs = runs
		m := a.X + a.Y
		freeUpTo := func(n int64) int64 { return (n/m)*a.Y + max(0, n%m-a.X) }
		var pos int64
		for _, r := range runs {
			cnt := freeUpTo(pos+r.count) - freeUpTo(pos)
			pos += r.count
			d += cnt * rateDiscount(r.price, a.Rate)
		}
		if pos < m {
			w.notApplied(ai, note{reason: noteThresholdNotMet, shortfallItems: m - pos})
			w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddItems: m - pos})
			return
		}
	case Gift:
		q.applyGift(w, ai, E)
		return
	}
	if d <= 0 {
		w.notApplied(ai, note{reason: noteNoDiscount})
		return
	}
	if overBudget(&ai.usage, d) {
		w.notApplied(ai, note{reason: noteBudgetExhausted})
		return
	}
	rec := orderRec{pos: ai.pos, amount: d, from: len(w.parts)}
	if perLine != nil {
		for k, li := range ai.idx {
			if perLine[k] > 0 {
				w.cur[li] -= perLine[k]
				if w.record {
					w.parts = append(w.parts, partRec{line: int32(li), stage: partOrder, src: int32(ai.pos), amount: perLine[k]})
				}
			}
		}
	} else {
		q.apportion(w, w.cur, d, ai.idx, partOrder, ai.pos, w.record)
	}
	rec.to = len(w.parts)
	w.order += d
	w.recs = append(w.recs, rec)
}

func capOr(c money.Money) money.Money {
	if c <= 0 {
		return money.MaxAmount
	}
	return c
}

// tierAt returns the highest tier whose threshold amount ≤ e and the
// lowest one above e (-1 when none).
func tierAt(tiers []Tier, e money.Money) (best, next int) {
	best, next = -1, -1
	for k, t := range tiers {
		if t.Threshold <= e {
			if best < 0 || t.Threshold > tiers[best].Threshold {
				best = k
			}
		} else if next < 0 || t.Threshold < tiers[next].Threshold {
			next = k
		}
	}
	return best, next
}

func (w *way) giftTaken(sku string) int64 {
	for _, g := range w.gifts {
		if g.SKUID == sku {
			return g.Quantity
		}
	}
	return 0
}

func (w *way) takeGift(sku string, n int64) {
	for i := range w.gifts {
		if w.gifts[i].SKUID == sku {
			w.gifts[i].Quantity += n
			return
		}
	}
	w.gifts = append(w.gifts, GiftItem{SKUID: sku, Quantity: n})
}

// applyGift gives the highest tier met. A gift SKU without enough stock
// (after gifts of earlier activities in this quote) is left out and
// reported out_of_stock; the activity applies when any gift is given.
func (q *quoter) applyGift(w *way, ai *actInfo, E money.Money) {
	a := ai.a
	best, next := tierAt(a.Tiers, E)
	if next >= 0 {
		w.hint(Hint{ActivityID: a.ID, Kind: a.Kind, AddAmount: a.Tiers[next].Threshold - E, Gifts: a.Tiers[next].Gifts})
	}
	if best < 0 {
		w.notApplied(ai, note{reason: noteThresholdNotMet, shortfall: a.Tiers[next].Threshold - E})
		return
	}
	rec := orderRec{pos: ai.pos, giftFrom: len(w.given)}
	for k, g := range a.Tiers[best].Gifts {
		if q.in.GiftStock[g.SKUID]-w.giftTaken(g.SKUID) < g.Quantity {
			w.notApplied(ai, note{reason: noteOutOfStock, tier: int32(best), gift: int32(k)})
			continue
		}
		w.takeGift(g.SKUID, g.Quantity)
		w.given = append(w.given, g)
	}
	rec.giftTo = len(w.given)
	if rec.giftTo > rec.giftFrom {
		w.recs = append(w.recs, rec)
	} else {
		w.given = w.given[:rec.giftFrom]
	}
}
