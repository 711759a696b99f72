package pricing

import (
	"slices"

	"github.com/carnivalhq/carnival/internal/money"
)

// newWay takes a way from the pool, ready for a new pricing.
func (q *quoter) newWay(ex int, allowed []int, record bool) *way {
	if q.nways == len(q.wayPool) {
		if q.wayPool == nil {
			q.wayPool = make([]*way, 0, 2+len(q.excl))
		}
		q.wayPool = append(q.wayPool, new(way))
	}
	w := q.wayPool[q.nways]
	q.nways++
	w.reset(ex, allowed, len(q.lines), record)
	return w
}

// chooseWay prices every way (see Quote on exclusives) and returns the best.
func (q *quoter) chooseWay() (best *way, all []*way) {
	q.nways = 0
	stacked, excl := reserve(q.stacked, len(q.order)), reserve(q.excl, len(q.order))
	for _, pos := range q.order {
		if q.acts[pos].a.Exclusive {
			excl = append(excl, pos)
		} else {
			stacked = append(stacked, pos)
		}
	}
	q.stacked, q.excl = stacked, excl
	// run prices one way. With from set it reuses from's coupons (the
	// same way priced again, now recording); with floor ≥ 0 it skips the
	// coupon search when even the best conceivable coupons could not
	// bring the way's value up to floor (value is then -1).
	run := func(ex int, allowed []int, record bool, from *way, floor money.Money) *way {
		w := q.newWay(ex, allowed, record)
		for i := range q.lines {
			w.cur[i] = q.lines[i].amount
		}
		if record {
			// Room for every part the way can record, so it never regrows.
			n := 2 * len(q.lines)
			for _, pos := range allowed {
				n += len(q.acts[pos].idx)
			}
			for _, k := range from.comboOrNil() {
				n += len(q.cps[k].idx)
			}
			if cap(w.parts) < n {
				w.parts = make([]partRec, 0, n)
			}
			if cap(w.hints) < len(allowed)+1 {
				w.hints = make([]Hint, 0, len(allowed)+1)
			}
			if cap(w.notes) < len(allowed)+1 {
				w.notes = make([]note, 0, len(allowed)+1)
			}
		}
		q.stage2(w)
		if from != nil {
			w.combo = append(w.combo[:0], from.combo...)
			w.couponGood, w.shipDisc, w.waivedBy = from.couponGood, from.shipDisc, from.waivedBy
		} else if !q.searchCoupons(w, floor) {
			w.value = -1
			return w
		}
		w.value = w.order + w.couponGood + w.shipDisc
		w.applies = ex < 0 || w.appliedActivity(ex)
		return w
	}
	// The stacked way first (recording: it usually wins), so exclusive
	// ways that cannot reach it skip their coupon search. An exclusive way
	// wins ties with the stacked one, and with later exclusive ways (they
	// come by priority).
	all = reserve(q.allWays, len(excl)+1)
	stackedWay := run(-1, stacked, true, nil, -1)
	best = stackedWay
	for k, pos := range excl {
		floor := best.value
		if best != stackedWay {
			floor++ // an earlier exclusive way keeps ties
		}
		w := run(pos, excl[k:k+1:k+1], false, nil, floor)
		all = append(all, w)
		if w.applies && w.value >= floor {
			best = w
		}
	}
	all = append(all, stackedWay)
	q.allWays = all
	if best == stackedWay {
		return best, all
	}
	// Price the winning exclusive way again, recording its parts: the same
	// input gives the same amounts.
	kept := run(best.excl, best.allowed, true, best, -1)
	all[slices.Index(all, best)] = kept
	return kept, all
}

// finish records the chosen coupons, applies points, and assembles the
// result. Each of the result's slices is allocated once, at its final
// size, and shares nothing with the quoter.
func (q *quoter) finish(w *way, all []*way) *Result {
	in := q.in
	co := &q.co
	co.applied, co.spans, co.hasShip = reserve(co.applied, len(w.combo)), reserve(co.spans, len(w.combo)), false
	w.curBeforeCoupons = append(w.curBeforeCoupons[:0], w.cur...)
	if _, _, _, ok := q.evalCoupons(w, w.cur, w.combo, co); !ok {
		// The search only keeps combinations that evaluate; guard anyway.
		w.combo = w.combo[:0]
	}

	// Stage 4: points.
	var pointCapBuf [3]Cap
	pointCaps := pointCapBuf[:0]
	var goods money.Money
	for _, c := range w.cur {
		goods += c
	}
	pointsUsed := min(in.Points, in.PointsBalance)
	if pointsUsed < in.Points {
		pointCaps = append(pointCaps, Cap{What: "points_balance", Requested: in.Points, Allowed: pointsUsed})
	}
	if share := money.MulRate(goods, q.set.pointShare) / q.set.pointValue; pointsUsed > share {
		pointCaps = append(pointCaps, Cap{What: "points_share", Requested: pointsUsed, Allowed: share})
		pointsUsed = share
	}
	if r := pointsUsed % q.set.pointMultiple; r != 0 {
		pointCaps = append(pointCaps, Cap{What: "points_multiple", Requested: pointsUsed, Allowed: pointsUsed - r})
		pointsUsed -= r
	}
	pointsDisc := pointsUsed * q.set.pointValue
	if pointsDisc > 0 {
		idx := grow(q.onesBuf, len(q.lines))
		q.onesBuf = idx
		for i := range idx {
			idx[i] = i
		}
		q.apportion(w, w.cur, pointsDisc, idx, partPoints, -1, true)
	}

	// Sizes, so that every array of the result is allocated once.
	nItem, nInts, nSegs := 0, len(w.parts), 0
	for i := range q.acts {
		if out := &q.item[i]; out.units > 0 {
			nItem++
			nInts += len(out.lines)
		}
	}
	for i := range q.lines {
		nInts += len(q.lines[i].inputs)
		nSegs += len(q.lines[i].segs)
	}
	ints := make([]int, 0, nInts)
	carve := func(n int) []int {
		s := ints[len(ints) : len(ints)+n : len(ints)+n]
		ints = ints[:len(ints)+n]
		return s
	}
	segs := make([]Segment, 0, nSegs)

	res := &Result{Applied: make([]Applied, 0, nItem+len(w.recs)+len(co.applied)+1)}
	for i := range q.acts {
		out := &q.item[i]
		if out.units == 0 {
			continue
		}
		a := q.acts[i].a
		lines := carve(len(out.lines))
		copy(lines, out.lines)
		res.Applied = append(res.Applied, Applied{
			Source: SourceActivity, ID: a.ID, Kind: a.Kind, Amount: out.discount,
			Lines: lines, Uses: out.units, Budget: out.discount,
		})
	}

	// Lines.
	res.Lines = make([]LineResult, len(q.lines), len(q.lines)+len(w.given))
	for i := range q.lines {
		l := &q.lines[i]
		lr := &res.Lines[i]
		lr.SKUID, lr.ProductID = l.sku, l.product
		lr.InputLines = carve(len(l.inputs))
		copy(lr.InputLines, l.inputs)
		lr.Quantity, lr.UnitListPrice, lr.ListAmount = l.qty, l.list, l.list*l.qty
		k := len(segs)
		segs = append(segs, l.segs...)
		lr.Segments = segs[k:len(segs):len(segs)]
		lr.ItemDiscount = lr.ListAmount - l.amount
	}
	// Every line's parts are carved out of one buffer, in application order.
	perLine := grow(q.perLine, len(q.lines)+1)
	q.perLine = perLine
	clear(perLine)
	for _, p := range w.parts {
		perLine[p.line+1]++
	}
	stages := [...]Stage{partOrder: StageOrder, partCoupon: StageCoupon, partPoints: StagePoints}
	for i := 1; i < len(perLine); i++ {
		perLine[i] += perLine[i-1]
	}
	partBuf := make([]Part, len(w.parts))
	for i := range res.Lines {
		res.Lines[i].Parts = partBuf[perLine[i]:perLine[i+1]:perLine[i+1]]
	}
	next := perLine[:len(q.lines)] // each line's next free part
	for _, p := range w.parts {
		lr := &res.Lines[p.line]
		part := &partBuf[next[p.line]]
		next[p.line]++
		part.Stage, part.Amount = stages[p.stage], p.amount
		switch p.stage {
		case partOrder:
			lr.OrderDiscount += p.amount
			part.ID = q.acts[p.src].a.ID
		case partCoupon:
			lr.CouponDiscount += p.amount
			part.ID = q.cps[p.src].c.ID
		case partPoints:
			lr.PointsDiscount += p.amount
		}
	}
	t := &res.Totals
	for i := range res.Lines {
		lr := &res.Lines[i]
		lr.Payable = lr.ListAmount - lr.ItemDiscount - lr.OrderDiscount - lr.CouponDiscount - lr.PointsDiscount
		t.GoodsAmount += lr.ListAmount
		t.ItemDiscount += lr.ItemDiscount
		t.OrderDiscount += lr.OrderDiscount
		t.CouponDiscount += lr.CouponDiscount
		t.PointsDiscount += lr.PointsDiscount
		t.Payable += lr.Payable
	}
	t.PointsUsed = pointsUsed
	t.Shipping = q.set.shipping

	// Applied: order-level activities in application order, then coupons
	// and shipping.
	partLines := func(from, to int) []int {
		if to <= from {
			return nil
		}
		lines := carve(to - from)
		for k, p := range w.parts[from:to] {
			lines[k] = int(p.line)
		}
		return lines
	}
	var given []GiftItem
	if len(w.given) > 0 {
		given = slices.Clone(w.given)
	}
	for _, r := range w.recs {
		a := q.acts[r.pos].a
		var gifts []GiftItem
		if r.giftTo > r.giftFrom {
			gifts = given[r.giftFrom:r.giftTo:r.giftTo]
		}
		res.Applied = append(res.Applied, Applied{
			Source: SourceActivity, ID: a.ID, Kind: a.Kind, Amount: r.amount,
			Lines: partLines(r.from, r.to), Uses: 1, Budget: r.amount, Gifts: gifts,
		})
		for _, g := range gifts {
			res.Lines = append(res.Lines, LineResult{SKUID: g.SKUID, Quantity: g.Quantity, Segments: []Segment{}, Gift: true, GiftActivityID: a.ID})
		}
	}
	for k, a := range co.applied {
		a.Lines = partLines(co.spans[k][0], co.spans[k][1])
		res.Applied = append(res.Applied, a)
	}
	if co.hasShip {
		res.Applied = append(res.Applied, co.ship)
	}
	for _, a := range res.Applied {
		if a.Kind == FreeShipping || a.Kind == Shipping {
			t.ShippingDiscount += a.Amount
		}
	}
	t.Payable += t.Shipping - t.ShippingDiscount

	q.reportActivities(res, w, all)
	q.reportCoupons(res, w)
	if len(w.hints) > 0 {
		if q.oneShot {
			res.Hints = w.hints
		} else {
			res.Hints = slices.Clone(w.hints)
		}
	}
	if n := len(w.caps) + len(pointCaps); n > 0 {
		res.Caps = make([]Cap, 0, n)
		res.Caps = append(append(res.Caps, w.caps...), pointCaps...)
	}
	q.checkMargin(res)
	if res.Applied == nil {
		res.Applied = []Applied{}
	}
	if res.NotApplied == nil {
		res.NotApplied = []NotApplied{}
	}
	if res.Hints == nil {
		res.Hints = []Hint{}
	}
	if res.Caps == nil {
		res.Caps = []Cap{}
	}
	if res.Margin == nil {
		res.Margin = []MarginFlag{}
	}
	return res
}

func (w *way) comboOrNil() []int {
	if w == nil {
		return nil
	}
	return w.combo
}

// appendNotes appends way w's reasons for the activity at pos.
func (q *quoter) appendNotes(out []NotApplied, w *way, pos int) []NotApplied {
	for k := range w.notes {
		if w.notes[k].pos == pos {
			out = append(out, q.naOf(&w.notes[k]))
		}
	}
	return out
}

func (w *way) appliedActivity(pos int) bool {
	return w.waivedBy == pos || slices.ContainsFunc(w.recs, func(r orderRec) bool { return r.pos == pos })
}

// reportActivities explains every activity that did not apply, in input order.
func (q *quoter) reportActivities(res *Result, w *way, all []*way) {
	// The winner of a stacking conflict: the exclusive activity, or the
	// first activity that applied in the stacked way.
	winner := ""
	if w.excl >= 0 {
		winner = q.acts[w.excl].a.ID
	} else if len(w.recs) > 0 {
		winner = q.acts[w.recs[0].pos].a.ID
	} else if w.waivedBy >= 0 {
		winner = q.acts[w.waivedBy].a.ID
	}
	// w's notes by activity position (a counting sort, stable).
	noteIdx := grow(q.noteIdx, len(q.acts)+1+len(w.notes))
	q.noteIdx = noteIdx
	noteStart, noteOrder := noteIdx[:len(q.acts)+1], noteIdx[len(q.acts)+1:]
	clear(noteStart)
	for _, n := range w.notes {
		noteStart[n.pos+1]++
	}
	for i := 1; i < len(noteStart); i++ {
		noteStart[i] += noteStart[i-1]
	}
	for k, n := range w.notes {
		noteOrder[noteStart[n.pos]] = int32(k)
		noteStart[n.pos]++
	}
	// noteStart[pos] is now the end of pos's notes; they begin at the
	// end of pos-1's.
	// inWay is slices.Contains(o.allowed, i) for an order-level activity
	// that passed the static checks: an exclusive way holds only its
	// activity, the stacked way every non-exclusive one.
	inWay := func(o *way, i int) bool {
		if o.excl >= 0 {
			return o.excl == i
		}
		return !q.acts[i].a.Exclusive
	}
	// ownNotes is the way to explain a not-applied activity i that is not
	// in the winning way with: its own way, when it failed there anyway
	// (nil: it lost on stacking).
	ownNotes := func(i int) *way {
		var own *way
		for _, o := range all {
			if inWay(o, i) {
				own = o
				break
			}
		}
		if own != nil && !own.appliedActivity(i) && q.acts[i].a.Kind != FreeShipping {
			if slices.ContainsFunc(own.notes, func(n note) bool { return n.pos == i }) {
				return own
			}
		}
		return nil
	}
	// Count first, so that the result's array is allocated once at its
	// size and every entry is written once, straight into it.
	n := q.countCouponNotes(w)
	for i := range q.acts {
		ai := &q.acts[i]
		switch {
		case ai.reason != "":
			n++
		case ai.a.Kind.ItemLevel():
			if q.item[i].units == 0 {
				n++
			}
		case inWay(w, i):
			from := int32(0)
			if i > 0 {
				from = noteStart[i-1]
			}
			n += int(noteStart[i] - from)
		default:
			if own := ownNotes(i); own != nil {
				for _, nt := range own.notes {
					if nt.pos == i {
						n++
					}
				}
			} else {
				n++
			}
		}
	}
	if n > 0 {
		res.NotApplied = make([]NotApplied, 0, n)
	}
	for i := range q.acts {
		ai := &q.acts[i]
		a := ai.a
		base := NotApplied{Source: SourceActivity, ID: a.ID, Kind: a.Kind}
		if ai.reason != "" {
			base.Reason = ai.reason
			res.NotApplied = append(res.NotApplied, base)
			continue
		}
		if a.Kind.ItemLevel() {
			out := &q.item[i]
			switch {
			case out.units > 0:
				continue
			case out.shortItem > 0 && !out.candidate:
				base.Reason, base.ShortfallItems = ReasonThresholdNotMet, out.shortItem
			case out.winner != "":
				base.Reason, base.Winner = ReasonStacking, out.winner
			default:
				base.Reason = ReasonNoDiscount
			}
			res.NotApplied = append(res.NotApplied, base)
			continue
		}
		if inWay(w, i) {
			from := int32(0)
			if i > 0 {
				from = noteStart[i-1]
			}
			for _, k := range noteOrder[from:noteStart[i]] {
				res.NotApplied = append(res.NotApplied, q.naOf(&w.notes[k]))
			}
			continue
		}
		// Not in the winning way: explain with its own way's reason when
		// it failed there anyway, else it lost on stacking.
		if own := ownNotes(i); own != nil {
			res.NotApplied = q.appendNotes(res.NotApplied, own, i)
			continue
		}
		base.Reason, base.Winner = ReasonStacking, winner
		res.NotApplied = append(res.NotApplied, base)
	}
}

// countCouponNotes is how many entries reportCoupons appends.
func (q *quoter) countCouponNotes(w *way) int {
	in := q.in
	n := 0
	for i := range q.cps {
		if (q.cps[i].named || in.BestCoupons) && !slices.Contains(w.combo, i) {
			n++
		}
	}
	for k, code := range in.CouponCodes {
		if slices.Contains(in.CouponCodes[:k], code) {
			continue
		}
		if !slices.ContainsFunc(q.cps, func(ci couponInfo) bool { return ci.c.Code == code || ci.c.ID == code }) {
			n++
		}
	}
	return n
}

// reportCoupons explains every coupon that was named or, with BestCoupons,
// every wallet coupon that was not used; then the unknown codes.
func (q *quoter) reportCoupons(res *Result, w *way) {
	in := q.in
	for i := range q.cps {
		ci := &q.cps[i]
		if !ci.named && !in.BestCoupons {
			continue
		}
		if slices.Contains(w.combo, i) {
			continue
		}
		na := NotApplied{Source: SourceCoupon, ID: ci.c.ID, Kind: ci.c.Template.Kind}
		switch {
		case ci.reason != "":
			na.Reason = ci.reason
		default:
			solo, note := q.solo(ci, w.curBeforeCoupons)
			if solo == 0 {
				na.Reason, na.Shortfall = note.Reason, note.Shortfall
				break
			}
			na.Reason = ReasonNotCombinable
			for _, k := range w.combo {
				if q.cps[k].group == ci.group {
					na.Reason, na.Winner = ReasonStacking, q.cps[k].c.ID
					break
				}
			}
		}
		res.NotApplied = append(res.NotApplied, na)
	}
	for k, code := range in.CouponCodes {
		if slices.Contains(in.CouponCodes[:k], code) {
			continue
		}
		if !slices.ContainsFunc(q.cps, func(ci couponInfo) bool { return ci.c.Code == code || ci.c.ID == code }) {
			res.NotApplied = append(res.NotApplied, NotApplied{Source: SourceCoupon, ID: code, Reason: ReasonInvalidCode})
		}
	}
}

// checkMargin flags lines whose payable unit amount is under cost × floor.
func (q *quoter) checkMargin(res *Result) {
	if q.set.mode == MarginOff {
		return
	}
	// floors[i] is line i's floor unit amount, or -1 when it is not under.
	floors := grow(q.floors, len(q.lines))
	q.floors = floors
	n := 0
	for i := range q.lines {
		l := &q.lines[i]
		floors[i] = -1
		if l.cost > 0 {
			if floor := money.MulRate(l.cost, q.set.floor); lessThanProduct(res.Lines[i].Payable, floor, l.qty) {
				floors[i] = floor
				n++
			}
		}
	}
	if n > 0 {
		res.Margin = make([]MarginFlag, 0, n)
	}
	for i, floor := range floors {
		if floor >= 0 {
			l := &q.lines[i]
			res.Margin = append(res.Margin, MarginFlag{Line: i, SKUID: l.sku, UnitPayable: res.Lines[i].Payable / l.qty, FloorUnit: floor, Cost: l.cost})
		}
	}
	res.Blocked = q.set.mode == MarginBlock && len(res.Margin) > 0
}
