package pricing

import (
	"slices"

	"github.com/carnivalhq/carnival/internal/money"
)

// chooseWay prices every way (see Quote on exclusives) and returns the best.
func (q *quoter) chooseWay() (best *way, all []*way) {
	var stacked []int
	var excl []int
	for _, pos := range q.order {
		if q.acts[pos].a.Exclusive {
			excl = append(excl, pos)
		} else {
			stacked = append(stacked, pos)
		}
	}
	// run prices one way. With from set it reuses from's coupons (the
	// same way priced again, now recording); with floor ≥ 0 it skips the
	// coupon search when even the best conceivable coupons could not
	// bring the way's value up to floor (value is then -1).
	run := func(ex int, allowed []int, record bool, from *way, floor money.Money) *way {
		w := &way{excl: ex, allowed: allowed, cur: make([]money.Money, len(q.lines)), waivedBy: -1, record: record}
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
			w.parts = make([]partRec, 0, n)
			w.hints = make([]Hint, 0, len(allowed)+1)
			w.notes = make([]note, 0, len(allowed)+1)
		}
		q.stage2(w)
		if from != nil {
			w.combo = slices.Clone(from.combo)
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
	stackedWay := run(-1, stacked, true, nil, -1)
	best = stackedWay
	for _, pos := range excl {
		floor := best.value
		if best != stackedWay {
			floor++ // an earlier exclusive way keeps ties
		}
		w := run(pos, []int{pos}, false, nil, floor)
		all = append(all, w)
		if w.applies && w.value >= floor {
			best = w
		}
	}
	all = append(all, stackedWay)
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
// result.
func (q *quoter) finish(w *way, all []*way, item []Applied) *Result {
	in := q.in
	res := &Result{Applied: make([]Applied, 0, len(item)+len(w.recs)+len(w.combo)+1)}
	res.Applied = append(res.Applied, item...)
	var co couponOut
	w.curBeforeCoupons = slices.Clone(w.cur)
	if _, _, _, ok := q.evalCoupons(w, w.cur, w.combo, &co); !ok {
		// The search only keeps combinations that evaluate; guard anyway.
		w.combo = w.combo[:0]
	}

	// Stage 4: points.
	var goods money.Money
	for _, c := range w.cur {
		goods += c
	}
	pointsUsed := min(in.Points, in.PointsBalance)
	if pointsUsed < in.Points {
		res.Caps = append(res.Caps, Cap{What: "points_balance", Requested: in.Points, Allowed: pointsUsed})
	}
	if share := money.MulRate(goods, q.set.pointShare) / q.set.pointValue; pointsUsed > share {
		res.Caps = append(res.Caps, Cap{What: "points_share", Requested: pointsUsed, Allowed: share})
		pointsUsed = share
	}
	if r := pointsUsed % q.set.pointMultiple; r != 0 {
		res.Caps = append(res.Caps, Cap{What: "points_multiple", Requested: pointsUsed, Allowed: pointsUsed - r})
		pointsUsed -= r
	}
	pointsDisc := pointsUsed * q.set.pointValue
	if pointsDisc > 0 {
		idx := make([]int, len(q.lines))
		for i := range idx {
			idx[i] = i
		}
		q.apportion(w, w.cur, pointsDisc, idx, partPoints, -1, true)
	}

	// Lines.
	gifts := 0
	for _, r := range w.recs {
		gifts += len(r.gifts)
	}
	res.Lines = make([]LineResult, len(q.lines), len(q.lines)+gifts)
	for i := range q.lines {
		l := &q.lines[i]
		lr := &res.Lines[i]
		lr.SKUID, lr.ProductID, lr.InputLines = l.sku, l.product, l.inputs
		lr.Quantity, lr.UnitListPrice, lr.ListAmount = l.qty, l.list, l.list*l.qty
		lr.Segments = l.segs
		lr.ItemDiscount = lr.ListAmount - l.amount
	}
	// Every line's parts are carved out of one buffer, in application order.
	perLine := make([]int, len(q.lines)+1)
	for _, p := range w.parts {
		perLine[p.line+1]++
	}
	stages := [...]Stage{partOrder: StageOrder, partCoupon: StageCoupon, partPoints: StagePoints}
	for i := 1; i < len(perLine); i++ {
		perLine[i] += perLine[i-1]
	}
	partBuf := make([]Part, len(w.parts))
	for i := range res.Lines {
		res.Lines[i].Parts = partBuf[perLine[i]:perLine[i]:perLine[i+1]]
	}
	for _, p := range w.parts {
		lr := &res.Lines[p.line]
		var id string
		switch p.stage {
		case partOrder:
			lr.OrderDiscount += p.amount
			id = q.acts[p.src].a.ID
		case partCoupon:
			lr.CouponDiscount += p.amount
			id = q.cps[p.src].c.ID
		case partPoints:
			lr.PointsDiscount += p.amount
		}
		lr.Parts = append(lr.Parts, Part{Stage: stages[p.stage], ID: id, Amount: p.amount})
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
	lineBuf := make([]int, 0, len(w.parts))
	for _, r := range w.recs {
		a := q.acts[r.pos].a
		start := len(lineBuf)
		for _, p := range w.parts[r.from:r.to] {
			lineBuf = append(lineBuf, int(p.line))
		}
		var lines []int
		if len(lineBuf) > start {
			lines = lineBuf[start:len(lineBuf):len(lineBuf)]
		}
		res.Applied = append(res.Applied, Applied{
			Source: SourceActivity, ID: a.ID, Kind: a.Kind, Amount: r.amount,
			Lines: lines, Uses: 1, Budget: r.amount, Gifts: r.gifts,
		})
		for _, g := range r.gifts {
			res.Lines = append(res.Lines, LineResult{SKUID: g.SKUID, Quantity: g.Quantity, Segments: []Segment{}, Gift: true, GiftActivityID: a.ID})
		}
	}
	res.Applied = append(res.Applied, co.applied...)
	if co.ship != nil {
		res.Applied = append(res.Applied, *co.ship)
	}
	for _, a := range res.Applied {
		if a.Kind == FreeShipping || a.Kind == Shipping {
			t.ShippingDiscount += a.Amount
		}
	}
	t.Payable += t.Shipping - t.ShippingDiscount

	q.reportActivities(res, w, all)
	q.reportCoupons(res, w)
	res.Hints = w.hints
	res.Caps = append(w.caps, res.Caps...)
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
func appendNotes(out []NotApplied, w *way, pos int) []NotApplied {
	for _, n := range w.notes {
		if n.pos == pos {
			out = append(out, n.na)
		}
	}
	return out
}

func (w *way) appliedActivity(pos int) bool {
	return w.waivedBy == pos || slices.ContainsFunc(w.recs, func(r orderRec) bool { return r.pos == pos })
}

// reportActivities explains every activity that did not apply, in input order.
func (q *quoter) reportActivities(res *Result, w *way, all []*way) {
	res.NotApplied = make([]NotApplied, 0, len(q.acts)-len(w.recs)+len(q.cps)+len(q.in.CouponCodes))
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
		if slices.Contains(w.allowed, i) {
			res.NotApplied = appendNotes(res.NotApplied, w, i)
			continue
		}
		// Not in the winning way: explain with its own way's reason when
		// it failed there anyway, else it lost on stacking.
		var own *way
		for _, o := range all {
			if slices.Contains(o.allowed, i) {
				own = o
				break
			}
		}
		if own != nil && !own.appliedActivity(i) && a.Kind != FreeShipping {
			if n := len(res.NotApplied); len(appendNotes(res.NotApplied, own, i)) > n {
				res.NotApplied = appendNotes(res.NotApplied, own, i)
				continue
			}
		}
		base.Reason, base.Winner = ReasonStacking, winner
		res.NotApplied = append(res.NotApplied, base)
	}
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
	under := func(i int) (money.Money, bool) {
		l := &q.lines[i]
		floor := money.MulRate(l.cost, q.set.floor)
		return floor, l.cost > 0 && lessThanProduct(res.Lines[i].Payable, floor, l.qty)
	}
	n := 0
	for i := range q.lines {
		if _, ok := under(i); ok {
			n++
		}
	}
	if n > 0 {
		res.Margin = make([]MarginFlag, 0, n)
	}
	for i := range q.lines {
		if floor, ok := under(i); ok {
			l := &q.lines[i]
			res.Margin = append(res.Margin, MarginFlag{Line: i, SKUID: l.sku, UnitPayable: res.Lines[i].Payable / l.qty, FloorUnit: floor, Cost: l.cost})
		}
	}
	res.Blocked = q.set.mode == MarginBlock && len(res.Margin) > 0
}
