package pricing

import (
	"cmp"
	"math"
	"slices"

	"github.com/carnivalhq/carnival/internal/money"
)

// itemOutcome is what stage 1 did with one item-level activity.
type itemOutcome struct {
	units     int64
	discount  money.Money
	lines     []int
	candidate bool   // some line was offered its price
	winner    string // who beat it, when it got no unit
	shortItem int64  // ladder: fewest more units to reach the first step
}

// itemCand is one stage-1 price offered to one line. It holds no
// pointers: the id that breaks ties is looked up by candID.
type itemCand struct {
	line  int
	price money.Money
	prio  int
	pos   int // activity position; -1 for the flash price
}

// candCompare orders a line's candidates: lowest price, higher priority,
// lower id.
func (q *quoter) candCompare(a, b *itemCand) int {
	if a.price != b.price {
		return cmp.Compare(a.price, b.price)
	}
	if a.prio != b.prio {
		return cmp.Compare(b.prio, a.prio)
	}
	return cmp.Compare(q.candID(a), q.candID(b))
}

// candID is the id of the activity (or flash sale) offering c.
func (q *quoter) candID(c *itemCand) string {
	if c.pos < 0 {
		return q.lines[c.line].flashAct
	}
	return q.acts[c.pos].a.ID
}

// itemPrice is activity a's unit price for line l, or -1 when it has none.
func (q *quoter) itemPrice(a *Activity, l *cline) money.Money {
	switch a.Kind {
	case LimitedTime:
		if a.Price > 0 {
			return a.Price
		}
		return money.MulRate(l.list, a.Rate)
	case MemberPrice:
		r := tierRate(a, q.in.Customer.Tier)
		if r < 0 {
			return -1
		}
		return money.MulRate(l.list, r)
	case QuantityLadder:
		best, bestQty := money.Money(-1), int64(0)
		for _, s := range a.Ladder {
			if s.MinQty <= l.qty && s.MinQty > bestQty {
				best, bestQty = s.UnitPrice, s.MinQty
			}
		}
		return best
	}
	return -1
}

// stage1 picks the unit price of every unit: the lowest candidate wins,
// ties to the higher priority, then the lower id; the flash price wins ties
// (those units were reserved for it). Units beyond an activity's capacity
// (per-customer quantity limit, remaining uses) fall to the next candidate,
// splitting the line into segments. An activity whose total discount
// exceeds its remaining budget is dropped whole and stage 1 runs again
// (at most once per activity: dropping only ever removes candidates).
func (q *quoter) stage1() {
	q.item = grow(q.item, len(q.acts))
	n := len(q.lines)
	nItemLines := 0
	for i := range q.acts {
		if !q.acts[i].a.Kind.ItemLevel() {
			// Only units is read for other kinds; it stays 0.
			q.item[i].units = 0
			continue
		}
		q.item[i] = itemOutcome{}
		n += len(q.acts[i].idx)
		nItemLines += len(q.acts[i].idx)
	}
	// Each activity's winning lines are carved out of one buffer.
	q.itemLineBuf = grow(q.itemLineBuf, nItemLines)
	off := 0
	for i := range q.acts {
		if q.acts[i].a.Kind.ItemLevel() {
			k := len(q.acts[i].idx)
			q.item[i].lines = q.itemLineBuf[off : off : off+k]
			off += k
		}
	}
	cands := grow(q.cands, n)[:0]
	for i := range q.acts {
		ai := &q.acts[i]
		if ai.reason != "" || !ai.a.Kind.ItemLevel() {
			continue
		}
		out := &q.item[i]
		for _, li := range ai.idx {
			l := &q.lines[li]
			p := q.itemPrice(ai.a, l)
			if p < 0 {
				if ai.a.Kind == QuantityLadder && len(ai.a.Ladder) > 0 {
					short := ai.a.Ladder[0].MinQty - l.qty
					for _, s := range ai.a.Ladder {
						short = min(short, s.MinQty-l.qty)
					}
					if out.shortItem == 0 || short < out.shortItem {
						out.shortItem = short
					}
				}
				continue
			}
			if p >= l.list {
				continue
			}
			out.candidate = true
			cands = append(cands, itemCand{line: li, price: p, prio: ai.a.Priority, pos: i})
		}
	}
	for li := range q.lines {
		l := &q.lines[li]
		if l.flash > 0 && l.flashPrice < l.list {
			cands = append(cands, itemCand{line: li, price: l.flashPrice, prio: math.MaxInt, pos: -1})
		}
	}
	q.cands = cands
	// Group by line (a counting sort, stable), then order each line's few
	// candidates: lowest price, higher priority, lower id.
	start := grow(q.lineStart, 2*len(q.lines)+1)
	q.lineStart = start
	next := start[len(q.lines)+1:]
	start = start[:len(q.lines)+1]
	clear(start)
	for _, c := range cands {
		start[c.line+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	byLine := grow(q.byLine, len(cands))
	q.byLine = byLine
	copy(next, start[:len(q.lines)])
	for _, c := range cands {
		byLine[next[c.line]] = c
		next[c.line]++
	}
	cands = byLine
	// Every line's segments are carved out of one buffer: at most one
	// per candidate, plus the flash and list ones.
	q.segBuf = grow(q.segBuf, len(cands)+2*len(q.lines))
	for li := range q.lines {
		lc := cands[start[li]:start[li+1]]
		q.lines[li].segs = q.segBuf[start[li]+2*li : start[li]+2*li : start[li+1]+2*li+2]
		if len(lc) <= 12 {
			// What slices.SortFunc does with so few: an insertion sort.
			for i := 1; i < len(lc); i++ {
				c := lc[i]
				j := i
				for ; j > 0 && q.candCompare(&c, &lc[j-1]) < 0; j-- {
					lc[j] = lc[j-1]
				}
				lc[j] = c
			}
			continue
		}
		slices.SortFunc(lc, func(a, b itemCand) int { return q.candCompare(&a, &b) })
	}
	capLeft := grow(q.capLeft, len(q.acts))
	q.capLeft = capLeft
	for {
		for i := range q.acts {
			ai := &q.acts[i]
			if !ai.a.Kind.ItemLevel() {
				continue
			}
			capLeft[i] = min(remaining(ai.usage.Uses), remaining(ai.usage.CustomerUses))
			if ai.a.PerCustomerQtyLimit > 0 {
				capLeft[i] = min(capLeft[i], ai.a.PerCustomerQtyLimit)
			}
			out := &q.item[i]
			out.units, out.discount, out.lines, out.winner = 0, 0, out.lines[:0], ""
		}
		q.assignUnitPrices(cands, capLeft)
		dropped := false
		for i := range q.acts {
			ai, out := &q.acts[i], &q.item[i]
			if ai.reason == "" && out.units > 0 && overBudget(&ai.usage, out.discount) {
				ai.reason = ReasonBudgetExhausted
				dropped = true
			}
		}
		if !dropped {
			break
		}
		cands = slices.DeleteFunc(cands, func(c itemCand) bool {
			return c.pos >= 0 && q.acts[c.pos].reason != ""
		})
	}
}

// assignUnitPrices fills every line's segments from the sorted candidates.
func (q *quoter) assignUnitPrices(cands []itemCand, capLeft []int64) {
	k := 0
	for li := range q.lines {
		l := &q.lines[li]
		l.segs = l.segs[:0]
		normal, flash := l.qty-l.flash, l.flash
		for ; k < len(cands) && cands[k].line == li; k++ {
			c := &cands[k]
			var take int64
			if c.pos < 0 {
				take, flash = flash, 0
				if take > 0 {
					l.segs = addSegment(l.segs, Segment{UnitPrice: c.price, Quantity: take, Source: Flash, ActivityID: q.candID(c)})
				}
				continue
			}
			out := &q.item[c.pos]
			if normal+flash == 0 {
				if out.units == 0 && out.winner == "" && len(l.segs) > 0 {
					out.winner = l.segs[0].ActivityID
				}
				continue
			}
			// Limited prices go to normal units first: flash units have
			// their own price to fall back on.
			n := min(normal, capLeft[c.pos])
			normal -= n
			capLeft[c.pos] -= n
			f := min(flash, capLeft[c.pos])
			flash -= f
			capLeft[c.pos] -= f
			take = n + f
			if take == 0 {
				continue
			}
			a := q.acts[c.pos].a
			l.segs = addSegment(l.segs, Segment{UnitPrice: c.price, Quantity: take, Source: a.Kind, ActivityID: a.ID})
			out.units += take
			out.discount += (l.list - c.price) * take
			if len(out.lines) == 0 || out.lines[len(out.lines)-1] != li {
				out.lines = append(out.lines, li)
			}
		}
		if rest := normal + flash; rest > 0 {
			l.segs = addSegment(l.segs, Segment{UnitPrice: l.list, Quantity: rest, Source: List})
		}
		l.amount = 0
		for _, s := range l.segs {
			l.amount += s.UnitPrice * s.Quantity
		}
	}
}

func addSegment(segs []Segment, s Segment) []Segment {
	for i := range segs {
		if segs[i].ActivityID == s.ActivityID && segs[i].Source == s.Source && segs[i].UnitPrice == s.UnitPrice {
			segs[i].Quantity += s.Quantity
			return segs
		}
	}
	return append(segs, s)
}
