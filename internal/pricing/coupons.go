package pricing

import (
	"cmp"
	"slices"

	"github.com/carnivalhq/carnival/internal/money"
)

// couponInfo is a wallet coupon with what the engine learnt about it.
type couponInfo struct {
	c         *Coupon
	pos       int // wallet index
	named     bool
	reason    Reason // static reason it cannot be used, "" if usable
	idx       []int  // result lines in scope
	group     int
	stackable bool
	rank      int // 0 threshold_off, 1 percent, 2 shipping: application order
	usage     Usage
	// per way: the coupon alone on the way's amounts
	solo money.Money // goods discount; for shipping coupons its value bound
}

// Default stack groups.
const (
	GroupGoods    = "goods"
	GroupShipping = "shipping"
)

func couponRank(k Kind) int {
	switch k {
	case ThresholdOff:
		return 0
	case Percent:
		return 1
	}
	return 2
}

// expiry orders coupons: those that expire first, then lower ids; a
// coupon without an end expires last.
func expiryCompare(a, b *Coupon) int {
	switch {
	case a.ValidUntil.IsZero() && !b.ValidUntil.IsZero():
		return 1
	case !a.ValidUntil.IsZero() && b.ValidUntil.IsZero():
		return -1
	}
	if c := a.ValidUntil.Compare(b.ValidUntil); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// prepareCoupons resolves named codes and runs the static checks: status,
// validity window, template configuration, scope and exhausted uses. The
// candidates of the search are kept sorted by expiry.
func (q *quoter) prepareCoupons() {
	in := q.in
	q.cps = grow(q.cps, len(in.Wallet))
	clear(q.cps)
	groups := reserve(q.groups, 2)
	defer func() { q.groups = groups }()
	var e errs
	for i := range in.Wallet {
		c := &in.Wallet[i]
		ci := &q.cps[i]
		ci.c, ci.pos = c, i
		t := &c.Template
		g := t.StackGroup
		if g == "" {
			g = GroupGoods
			if t.Kind == Shipping {
				g = GroupShipping
			}
		}
		ci.group = slices.Index(groups, g)
		if ci.group < 0 {
			ci.group = len(groups)
			groups = append(groups, g)
		}
		ci.stackable, ci.rank = t.Stackable, couponRank(t.Kind)
		ci.usage = in.Usage[c.TemplateID]
		switch c.Status {
		case CouponAvailable:
		case CouponUsed, CouponLocked:
			ci.reason = ReasonUsed
			continue
		default:
			ci.reason = ReasonUnavailable
			continue
		}
		switch inWindow(in.Now, c.ValidFrom, c.ValidUntil) {
		case ReasonNotStarted:
			ci.reason = ReasonNotStarted
			continue
		case ReasonEnded:
			ci.reason = ReasonExpired
			continue
		}
		if c.Paused {
			ci.reason = ReasonPaused
			continue
		}
		e = e[:0]
		validateTemplate(t, &e)
		if len(e) > 0 {
			ci.reason = ReasonInvalid
			continue
		}
		start := len(q.idxBuf)
		q.idxBuf = q.scopeLines(q.idxBuf, &t.Scope)
		ci.idx = q.idxBuf[start:len(q.idxBuf):len(q.idxBuf)]
		if len(ci.idx) == 0 {
			ci.reason = ReasonScope
			continue
		}
		if exhausted(ci.usage.Uses) || exhausted(ci.usage.CustomerUses) {
			ci.reason = ReasonUsageLimit
		}
	}
	for _, code := range in.CouponCodes {
		for i := range q.cps {
			if c := q.cps[i].c; c.Code == code || c.ID == code {
				q.cps[i].named = true
				break
			}
		}
	}
}

// candidates returns the coupons the search may use, by expiry.
func (q *quoter) candidates() []int {
	out := reserve(q.candBuf, len(q.cps))
	for i := range q.cps {
		ci := &q.cps[i]
		if ci.reason == "" && (q.in.BestCoupons || ci.named) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b int) int { return expiryCompare(q.cps[a].c, q.cps[b].c) })
	q.candBuf = out
	return out
}

// solo prices coupon ci alone on cur: its goods discount, or for a
// shipping coupon the most it could cover. A zero result comes with the
// reason.
func (q *quoter) solo(ci *couponInfo, cur []money.Money) (money.Money, NotApplied) {
	t := &ci.c.Template
	E := sumOver(cur, ci.idx)
	if E < t.Threshold {
		return 0, NotApplied{Reason: ReasonThresholdNotMet, Shortfall: t.Threshold - E}
	}
	var d money.Money
	switch t.Kind {
	case ThresholdOff:
		d = min(t.Off, E)
	case Percent:
		d = min(rateDiscount(E, t.Rate), capOr(t.MaxDiscount))
	case Shipping:
		// Its real value depends on the goods coupons and free-shipping
		// activities around it; the search finds out. Here only a bound.
		d = min(q.set.shipping, capOr(t.MaxDiscount))
		if d <= 0 {
			return 0, NotApplied{Reason: ReasonNoDiscount}
		}
		return d, NotApplied{}
	}
	if d <= 0 {
		return 0, NotApplied{Reason: ReasonNoDiscount}
	}
	if overBudget(&ci.usage, d) {
		return 0, NotApplied{Reason: ReasonBudgetExhausted}
	}
	return d, NotApplied{}
}

// couponOut collects what the recorded evaluation of the chosen coupons
// gives the result.
type couponOut struct {
	// applied are the coupons, without Lines: those are the lines of
	// w.parts[spans[i][0]:spans[i][1]].
	applied []Applied
	spans   [][2]int
	ship    Applied // the free_shipping activity that waived the fee
	hasShip bool
}

// evalCoupons applies the coupons of combo (already in application order)
// to cur, cascading, then prices shipping (stage 5). It returns the goods
// discount, the shipping discount, the free_shipping activity that waived
// the fee (-1 if none) and ok=false when a coupon of the combo gives
// nothing or breaks a limit (such a combination is never chosen: the same
// one without that coupon is as good). With out != nil it records parts,
// caps, notes and hints into w and out.
func (q *quoter) evalCoupons(w *way, cur []money.Money, combo []int, out *couponOut) (goods, ship money.Money, waivedBy int, ok bool) {
	record := out != nil
	var usedBuf [8]struct {
		tpl  string
		n    int64
		paid money.Money
	}
	used := usedBuf[:0]
	use := func(ci *couponInfo, d money.Money) bool {
		for i := range used {
			if used[i].tpl == ci.c.TemplateID {
				used[i].n++
				used[i].paid += d
				return used[i].n <= remaining(ci.usage.Uses) && used[i].n <= remaining(ci.usage.CustomerUses) &&
					!overBudget(&ci.usage, used[i].paid)
			}
		}
		used = append(used, struct {
			tpl  string
			n    int64
			paid money.Money
		}{ci.c.TemplateID, 1, d})
		return !overBudget(&ci.usage, d)
	}
	fee := q.set.shipping
	var shipBuf [4]int
	shipCoupons := shipBuf[:0]
	for _, k := range combo {
		ci := &q.cps[k]
		t := &ci.c.Template
		if t.Kind == Shipping {
			shipCoupons = append(shipCoupons, k)
			continue
		}
		E := sumOver(cur, ci.idx)
		if E < t.Threshold || E == 0 {
			return 0, 0, -1, false
		}
		var d money.Money
		switch t.Kind {
		case ThresholdOff:
			d = t.Off
			if d > E {
				if record {
					w.caps = append(w.caps, Cap{Source: SourceCoupon, ID: ci.c.ID, What: "eligible_amount", Requested: d, Allowed: E})
				}
				d = E
			}
		case Percent:
			d = rateDiscount(E, t.Rate)
			if t.MaxDiscount > 0 && d > t.MaxDiscount {
				if record {
					w.caps = append(w.caps, Cap{Source: SourceCoupon, ID: ci.c.ID, What: "max_discount", Requested: d, Allowed: t.MaxDiscount})
				}
				d = t.MaxDiscount
			}
		}
		if d <= 0 || !use(ci, d) {
			return 0, 0, -1, false
		}
		n := len(w.parts)
		q.apportion(w, cur, d, ci.idx, partCoupon, k, record)
		goods += d
		if record {
			out.applied = append(out.applied, Applied{Source: SourceCoupon, ID: ci.c.ID, TemplateID: ci.c.TemplateID, Kind: t.Kind, Amount: d, Uses: 1, Budget: d})
			out.spans = append(out.spans, [2]int{n, len(w.parts)})
		}
	}

	// Stage 5: a free_shipping activity whose threshold the goods after
	// stage 3 meet waives the fee; otherwise shipping coupons cover it.
	waivedBy = -1
	left := fee
	for _, pos := range w.freeShip {
		ai := &q.acts[pos]
		switch {
		case waivedBy >= 0:
			if record {
				w.notApplied(ai, note{reason: noteStacking, winner: int32(waivedBy)})
			}
		case fee == 0:
			if record {
				w.notApplied(ai, note{reason: noteNoDiscount})
			}
		default:
			E := sumOver(cur, ai.idx)
			switch {
			case E < ai.a.Threshold:
				if record {
					w.notApplied(ai, note{reason: noteThresholdNotMet, shortfall: ai.a.Threshold - E})
					w.hints = append(w.hints, Hint{ActivityID: ai.a.ID, Kind: FreeShipping, AddAmount: ai.a.Threshold - E, SaveMore: fee, FreeShipping: true})
				}
			case overBudget(&ai.usage, fee):
				if record {
					w.notApplied(ai, note{reason: noteBudgetExhausted})
				}
			default:
				waivedBy, left = pos, 0
				if record {
					out.ship, out.hasShip = Applied{Source: SourceActivity, ID: ai.a.ID, Kind: FreeShipping, Amount: fee, Uses: 1, Budget: fee}, true
				}
			}
		}
	}
	for _, k := range shipCoupons {
		ci := &q.cps[k]
		t := &ci.c.Template
		if sumOver(cur, ci.idx) < t.Threshold {
			return 0, 0, -1, false
		}
		d := min(left, capOr(t.MaxDiscount))
		if d <= 0 || !use(ci, d) {
			return 0, 0, -1, false
		}
		left -= d
		if record {
			out.applied = append(out.applied, Applied{Source: SourceCoupon, ID: ci.c.ID, TemplateID: ci.c.TemplateID, Kind: Shipping, Amount: d, Uses: 1, Budget: d})
			out.spans = append(out.spans, [2]int{})
		}
	}
	return goods, fee - left, waivedBy, true
}

// couponSearch is the exact best-combination search for one way: a
// depth-first walk over the candidates (by expiry), each taken or left,
// that keeps at most one coupon per stack group unless all of the group's
// are stackable, and prunes a branch when even the sum of every remaining
// coupon's solo discount plus the whole shipping fee cannot reach the best
// found (a coupon never gives more inside a combination than alone, since
// amounts only go down as coupons cascade).
type couponSearch struct {
	// applyOrder: positions in cands in application order (nil: sort
	// each combination instead).
	applyOrder, applyBuf []int
	q                    *quoter
	w                    *way
	cands                []int
	suffix               []money.Money // sum of solo goods discounts of cands[k:]
	chosen               []int         // positions in cands, ascending
	count                []int         // coupons chosen per group
	nonStack             []int         // non-stackable coupons chosen per group
	combo                []int

	found     bool
	best      []int
	bestVal   money.Money
	bestGoods money.Money
	bestShip  money.Money
	bestWaive int
}

// searchCoupons finds the way's best coupons. It returns false, without
// searching, when the way's order discount plus every coupon's solo value
// plus the whole shipping fee stays under floor (floor < 0: always search).
func (q *quoter) searchCoupons(w *way, floor money.Money) bool {
	w.combo = w.combo[:0]
	w.couponGood, w.shipDisc = 0, 0
	s := &q.search
	s.q, s.w, s.bestWaive = q, w, -1
	n := len(q.cps)
	s.cands, s.chosen, s.combo, s.best = reserve(s.cands, n), reserve(s.chosen, n), reserve(s.combo, n), reserve(s.best, n)
	s.found, s.bestVal, s.bestGoods, s.bestShip = false, 0, 0, 0
	ngroups := 0
	for _, k := range q.candBuf {
		ci := &q.cps[k]
		ci.solo, _ = q.solo(ci, w.cur)
		if ci.solo > 0 {
			s.cands = append(s.cands, k)
		}
		ngroups = max(ngroups, ci.group+1)
	}
	s.suffix = grow(s.suffix, len(s.cands)+1)
	s.suffix[len(s.cands)] = 0
	for k := len(s.cands) - 1; k >= 0; k-- {
		ci := &q.cps[s.cands[k]]
		s.suffix[k] = s.suffix[k+1]
		if ci.rank < 2 {
			s.suffix[k] += ci.solo
		}
	}
	if floor >= 0 && w.order+s.suffix[0]+q.set.shipping < floor {
		return false
	}
	// With at most 12 candidates every combination is put in application
	// order by an insertion sort (what slices.SortFunc does for so few),
	// which is stable; so a combination's order is its candidates' order
	// in the whole list sorted the same way, computed here once.
	s.applyOrder = nil
	if len(s.cands) <= 12 {
		order := s.applyBuf[:0]
		for p := range s.cands {
			order = append(order, p)
		}
		for i := 1; i < len(order); i++ {
			for j := i; j > 0 && q.comboCompare(s.cands[order[j]], s.cands[order[j-1]]) < 0; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		s.applyBuf, s.applyOrder = order, order
	}
	s.count = grow(s.count, ngroups)
	s.nonStack = grow(s.nonStack, ngroups)
	clear(s.count)
	clear(s.nonStack)
	s.dfs(0, 0)
	for _, p := range s.best {
		w.combo = append(w.combo, s.cands[p])
	}
	q.sortCombo(w.combo)
	w.couponGood, w.shipDisc, w.waivedBy = s.bestGoods, s.bestShip, s.bestWaive
	return true
}

// sortCombo puts a combination in application order: threshold-off and
// cash coupons first, then percent, then shipping; each by expiry.
func (q *quoter) sortCombo(combo []int) {
	slices.SortFunc(combo, q.comboCompare)
}

func (q *quoter) comboCompare(a, b int) int {
	ca, cb := &q.cps[a], &q.cps[b]
	if c := cmp.Compare(ca.rank, cb.rank); c != 0 {
		return c
	}
	return expiryCompare(ca.c, cb.c)
}

func (s *couponSearch) dfs(k int, chosenSolo money.Money) {
	q := s.q
	if s.found && chosenSolo+s.suffix[k]+q.set.shipping < s.bestVal {
		return
	}
	if k == len(s.cands) {
		s.leaf()
		return
	}
	ci := &q.cps[s.cands[k]]
	g := ci.group
	if s.count[g] == 0 || (ci.stackable && s.nonStack[g] == 0) {
		s.count[g]++
		if !ci.stackable {
			s.nonStack[g]++
		}
		s.chosen = append(s.chosen, k)
		add := ci.solo
		if ci.rank == 2 {
			add = 0
		}
		s.dfs(k+1, chosenSolo+add)
		s.chosen = s.chosen[:len(s.chosen)-1]
		s.count[g]--
		if !ci.stackable {
			s.nonStack[g]--
		}
	}
	s.dfs(k+1, chosenSolo)
}

func (s *couponSearch) leaf() {
	q := s.q
	s.combo = s.combo[:0]
	if s.applyOrder != nil {
		// The chosen positions in application order, as sortCombo
		// would put them (see searchCoupons).
		var chosen uint64
		for _, p := range s.chosen {
			chosen |= 1 << p
		}
		for _, p := range s.applyOrder {
			if chosen&(1<<p) != 0 {
				s.combo = append(s.combo, s.cands[p])
			}
		}
	} else {
		for _, p := range s.chosen {
			s.combo = append(s.combo, s.cands[p])
		}
		q.sortCombo(s.combo)
	}
	copy(q.scratch, s.w.cur)
	goods, ship, waived, ok := q.evalCoupons(s.w, q.scratch, s.combo, nil)
	if !ok {
		return
	}
	val := goods + ship
	if s.found && (val < s.bestVal || (val == s.bestVal && !lexLess(s.chosen, s.best))) {
		return
	}
	s.found = true
	s.best = append(s.best[:0], s.chosen...)
	s.bestVal, s.bestGoods, s.bestShip, s.bestWaive = val, goods, ship, waived
}

// lexLess orders combinations by the expiry rank of their coupons: the one
// using an earlier-expiring coupon first wins; a prefix wins over longer.
func lexLess(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
