package pricing

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// InputError is the error Quote returns for input it cannot price.
type InputError struct {
	// Field is a JSON path into Input, e.g. "lines[2].quantity".
	Field  string
	Detail string
}

func (e *InputError) Error() string { return "pricing: " + e.Field + ": " + e.Detail }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// MaxPoints bounds the points a request may name or hold.
const MaxPoints = money.MaxAmount

// settings are Settings with the defaults filled in.
type settings struct {
	pointValue, pointMultiple int64
	pointShare                money.Rate
	shipping                  money.Money
	floor                     money.Rate
	mode                      string
}

// DefaultShippingFee is the flat fee when the shop sets none.
const DefaultShippingFee money.Money = 1000

func resolveSettings(s Settings) (settings, error) {
	r := settings{
		pointValue:    cmp.Or(s.PointsValueFen, 1),
		pointMultiple: cmp.Or(s.PointsMultiple, 100),
		pointShare:    cmp.Or(s.PointsMaxShare, 5000),
		shipping:      DefaultShippingFee,
		floor:         cmp.Or(s.MarginFloor, money.Full),
		mode:          cmp.Or(s.MarginMode, MarginWarn),
	}
	if s.ShippingFee != nil {
		r.shipping = *s.ShippingFee
	}
	switch {
	case r.pointValue < 0 || r.pointValue > money.MaxAmount:
		return r, inputErr("settings.points_value_fen", "must be within 1..%d", money.MaxAmount)
	case r.pointMultiple < 0 || r.pointMultiple > MaxPoints:
		return r, inputErr("settings.points_multiple", "must be within 1..%d", MaxPoints)
	case r.pointShare < 0 || r.pointShare > money.Full:
		return r, inputErr("settings.points_max_share", "must be within 1..10000 bp")
	case r.shipping < 0 || r.shipping > money.MaxAmount:
		return r, inputErr("settings.shipping_fee", "must be within 0..%d", money.MaxAmount)
	case r.floor < 0 || r.floor > 10*money.Full:
		return r, inputErr("settings.margin_floor", "must be within 1..100000 bp")
	}
	switch r.mode {
	case MarginWarn, MarginBlock, MarginOff:
	default:
		return r, inputErr("settings.margin_mode", "must be warn, block or off")
	}
	return r, nil
}

// cline is a cart line after merging lines of the same SKU.
type cline struct {
	sku, product string
	cats         []string
	list, cost   money.Money
	qty, flash   int64
	flashPrice   money.Money
	flashAct     string
	inputs       []int
	segs         []Segment
	amount       money.Money // after stage 1
}

// actInfo is an activity with what the engine learnt about it once per quote.
type actInfo struct {
	a      *Activity
	pos    int // index in Input.Activities
	reason Reason
	idx    []int // result lines in scope
	usage  Usage
}

// quoter holds one quote's state. A Quoter keeps one between quotes so
// that its buffers are reused; nothing in a Result points into it.
type quoter struct {
	in    *Input
	set   settings
	lines []cline
	acts  []actInfo
	// outcome of stage 1 per activity position
	item []itemOutcome
	// order-level activities that passed the static checks, in
	// application order (priority desc, id asc)
	order []int
	cps   []couponInfo
	// scratch
	wbuf, pbuf []money.Money
	scratch    []money.Money
	runs       []unitRun
	idxBuf     []int
	inputsBuf  []int
	groups     []string
	// stage 1
	cands, byLine []itemCand
	lineStart     []int
	capLeft       []int64
	segBuf        []Segment
	itemLineBuf   []int
	// ways: wayPool holds every way struct ever used, with its buffers.
	wayPool       []*way
	nways         int
	stacked, excl []int
	allWays       []*way
	// coupon search
	search    couponSearch
	candBuf   []int
	noteIdx   []int32
	masks     []uint64
	orderKeys []orderKey
	floors    []money.Money
	co        couponOut
	onesBuf   []int
	perLine   []int
	// ids maps each SKU, product and category id of the cart to the
	// lines that carry it (a bit per line), so a scope is resolved with a
	// few lookups instead of comparing every id with every line. Not in
	// use (idsOn false) when the cart has more than 64 lines (then scopes
	// match line by line).
	ids   idTable
	idsOn bool
	// oneShot: the quoter serves one quote (Quote), so the result may
	// take its buffers instead of copies.
	oneShot bool
}

// idTable is a small open-addressing hash table from (kind, id) to a line
// bitmask, rebuilt for every quote without allocating once it has grown.
// slots hold 1 + an index into entries, 0 for empty.
type idTable struct {
	slots   []uint16
	entries []idEntry
	shift   uint
}

type idEntry struct {
	id   string
	kind uint8 // 1 SKU, 2 product, 3 category
	mask uint64
}

// idHash mixes the kind, the length and up to 16 bytes of the id: ids of
// one shop tend to differ near their ends, and a collision only costs a
// probe.
func idHash(kind uint8, id string) uint64 {
	n := len(id)
	var x, y uint64
	switch {
	case n >= 8:
		x, y = load64(id, 0), load64(id, n-8)
	case n >= 4:
		x, y = load32(id, 0), load32(id, n-4)
	case n > 0:
		x = uint64(id[0]) | uint64(id[n/2])<<8 | uint64(id[n-1])<<16
	}
	h := (x^uint64(n)<<56^uint64(kind)<<48)*0x9E3779B97F4A7C15 ^ y*0xC2B2AE3D27D4EB4F
	return h ^ h>>29
}

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func load32(s string, i int) uint64 {
	_ = s[i+3]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24
}

func (t *idTable) reset(n int) {
	size, shift := 16, uint(60)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	t.slots = grow(t.slots, size)
	clear(t.slots)
	if cap(t.entries) < n {
		t.entries = make([]idEntry, 0, n)
	}
	t.entries = t.entries[:0]
	t.shift = shift
}

func (t *idTable) add(kind uint8, id string, bit uint64) {
	mask := uint64(len(t.slots) - 1)
	for i := idHash(kind, id) >> t.shift; ; i = (i + 1) & mask {
		k := t.slots[i]
		if k == 0 {
			t.entries = append(t.entries, idEntry{id: id, kind: kind, mask: bit})
			t.slots[i] = uint16(len(t.entries))
			return
		}
		if e := &t.entries[k-1]; e.kind == kind && e.id == id {
			e.mask |= bit
			return
		}
	}
}

func (t *idTable) get(kind uint8, id string) uint64 {
	mask := uint64(len(t.slots) - 1)
	for i := idHash(kind, id) >> t.shift; ; i = (i + 1) & mask {
		k := t.slots[i]
		if k == 0 {
			return 0
		}
		if e := &t.entries[k-1]; e.kind == kind && e.id == id {
			return e.mask
		}
	}
}

func (q *quoter) indexIDs() {
	q.idsOn = false
	if len(q.lines) > 64 {
		return
	}
	n := 0
	for i := range q.lines {
		n += 2 + len(q.lines[i].cats)
	}
	if n > 1<<15 {
		return // the table indexes entries in 16 bits
	}
	q.ids.reset(n)
	q.idsOn = true
	for i := range q.lines {
		l := &q.lines[i]
		bit := uint64(1) << i
		q.ids.add(1, l.sku, bit)
		if l.product != "" {
			q.ids.add(2, l.product, bit)
		}
		for _, c := range l.cats {
			q.ids.add(3, c, bit)
		}
	}
}

func (q *quoter) mask(kind uint8, ids []string) uint64 {
	var m uint64
	for _, id := range ids {
		m |= q.ids.get(kind, id)
	}
	return m
}

// scopeLines appends the indexes of the lines in scope s to idx.
func (q *quoter) scopeLines(idx []int, s *Scope) []int {
	if !q.idsOn {
		return s.appendLines(idx, q.lines)
	}
	return appendMask(idx, q.scopeMask(s))
}

// scopeMask is the bitmask of the lines in scope s (with the index on).
func (q *quoter) scopeMask(s *Scope) uint64 {
	var m uint64
	if s.All {
		m = 1<<len(q.lines) - 1
	} else {
		m = q.mask(1, s.SKUIDs) | q.mask(2, s.ProductIDs) | q.mask(3, s.CategoryIDs)
	}
	return m &^ (q.mask(1, s.ExcludeSKUIDs) | q.mask(3, s.ExcludeCategoryIDs))
}

// appendMask appends the indexes of the bits set in m, ascending.
func appendMask(idx []int, m uint64) []int {
	for ; m != 0; m &= m - 1 {
		idx = append(idx, bits.TrailingZeros64(m))
	}
	return idx
}

// Quoter prices carts like Quote, keeping its working memory from one
// quote to the next, so that a goroutine pricing many carts allocates
// little more than the results it returns. The zero value is ready to
// use. A Quoter is not safe for concurrent use: give each goroutine (or
// each worker) its own. A Result it returns shares no memory with it or
// with later results. Between quotes it may still refer to parts of the
// last Input (ids, activities); it never reads or changes them.
type Quoter struct {
	q quoter
}

// Quote prices a cart exactly as the package-level Quote does.
func (qt *Quoter) Quote(in *Input) (*Result, error) {
	q := &qt.q
	res, err := q.quote(in)
	q.in = nil
	return res, err
}

// Quote prices a cart. It returns an error only for input it cannot price
// (an InputError naming the field): no lines, quantity outside
// 1..MaxQuantity, prices or costs outside 0..money.MaxAmount, a line amount
// or cart total above money.MaxAmount, flash units outside 0..quantity,
// negative points, or lines of the same SKU that disagree on price, cost,
// flash price or flash activity. Lines of the same SKU are merged into one
// result line (quantities and flash units add up) because quantity ladders,
// 第N件 and per-customer limits count units per SKU.
//
// Promotions and coupons whose own configuration fails Validate or
// ValidateTemplate are not errors: they are skipped and reported "invalid".
//
// Several exclusive activities: an exclusive activity combines with no
// other order-level activity, exclusive or not. So the candidate ways to
// price the order are "every non-exclusive activity" and "each exclusive
// activity alone". Each way runs stages 2, 3 and 5 in full (with its own
// best-coupon search); the way with the largest total discount (order +
// coupon + shipping discounts; points are a payment, not a discount) wins.
// Ties go to an exclusive way over the stacked one, and between exclusive
// ways to the higher priority, then the lower id. An exclusive way counts
// only when its activity actually applies.
func Quote(in *Input) (*Result, error) {
	q := &quoter{oneShot: true}
	return q.quote(in)
}

func (q *quoter) quote(in *Input) (*Result, error) {
	if in == nil {
		return nil, inputErr("input", "missing")
	}
	q.in = in
	var err error
	if q.set, err = resolveSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := q.mergeLines(); err != nil {
		return nil, err
	}
	if in.Points < 0 || in.Points > MaxPoints {
		return nil, inputErr("points", "must be within 0..%d", MaxPoints)
	}
	if in.PointsBalance < 0 || in.PointsBalance > MaxPoints {
		return nil, inputErr("points_balance", "must be within 0..%d", MaxPoints)
	}
	n := len(q.lines)
	q.wbuf = grow(q.wbuf, n)
	q.pbuf = grow(q.pbuf, n)
	q.scratch = grow(q.scratch, n)
	q.indexIDs()
	q.checkActivities()
	q.stage1()
	q.runs = reserve(q.runs, 2*len(q.segBuf))
	q.prepareCoupons()
	q.candidates() // the same for every way: into q.candBuf
	w, all := q.chooseWay()
	return q.finish(w, all), nil
}

// reserve returns s emptied, with room for n elements without regrowing.
func reserve[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// grow returns s with length n, reusing its array when it is big enough.
// The contents are not cleared.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (q *quoter) mergeLines() error {
	in := q.in
	if len(in.Lines) == 0 {
		return inputErr("lines", "a quote needs at least one line")
	}
	var total money.Money
	if cap(q.lines) < len(in.Lines) {
		q.lines = make([]cline, 0, len(in.Lines))
	}
	q.lines = q.lines[:0]
	q.inputsBuf = grow(q.inputsBuf, len(in.Lines))
	inputs := q.inputsBuf // backing for the single-line cases
	for i := range in.Lines {
		l := &in.Lines[i]
		f := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		switch {
		case l.SKUID == "":
			return inputErr(f("sku_id"), "required")
		case l.Quantity <= 0 || l.Quantity > MaxQuantity:
			return inputErr(f("quantity"), "must be within 1..%d", MaxQuantity)
		case l.ListPrice < 0 || l.ListPrice > money.MaxAmount:
			return inputErr(f("list_price"), "must be within 0..%d", money.MaxAmount)
		case l.Cost < 0 || l.Cost > money.MaxAmount:
			return inputErr(f("cost"), "must be within 0..%d", money.MaxAmount)
		case l.FlashUnits < 0 || l.FlashUnits > l.Quantity:
			return inputErr(f("flash_units"), "must be within 0..quantity")
		case l.FlashPrice < 0 || l.FlashPrice > money.MaxAmount:
			return inputErr(f("flash_price"), "must be within 0..%d", money.MaxAmount)
		}
		amt := satMul(l.ListPrice, l.Quantity)
		if amt > money.MaxAmount || total+amt > money.MaxAmount {
			return inputErr(f("quantity"), "the cart amount exceeds %d fen", money.MaxAmount)
		}
		total += amt
		inputs[i] = i
		j := -1 // the merged line of this SKU so far
		for k := range q.lines {
			if q.lines[k].sku == l.SKUID {
				j = k
				break
			}
		}
		if j < 0 {
			q.lines = append(q.lines, cline{
				sku: l.SKUID, product: l.ProductID, cats: l.CategoryIDs,
				list: l.ListPrice, cost: l.Cost, qty: l.Quantity,
				flash: l.FlashUnits, flashPrice: l.FlashPrice, flashAct: l.FlashActivityID,
				inputs: inputs[i : i+1 : i+1],
			})
			continue
		}
		c := &q.lines[j]
		if c.list != l.ListPrice || c.cost != l.Cost {
			return inputErr(f("list_price"), "SKU %s appears twice with different price or cost", l.SKUID)
		}
		if l.FlashUnits > 0 {
			if c.flash > 0 && (c.flashPrice != l.FlashPrice || c.flashAct != l.FlashActivityID) {
				return inputErr(f("flash_price"), "SKU %s appears twice with different flash sales", l.SKUID)
			}
			c.flashPrice, c.flashAct = l.FlashPrice, l.FlashActivityID
		}
		c.qty += l.Quantity
		c.flash += l.FlashUnits
		c.inputs = append(slices.Clip(c.inputs), i)
		if c.qty > MaxQuantity {
			return inputErr(f("quantity"), "SKU %s totals more than %d units", l.SKUID, MaxQuantity)
		}
	}
	return nil
}

func inWindow(now, from, until time.Time) Reason {
	if !from.IsZero() && now.Before(from) {
		return ReasonNotStarted
	}
	if !until.IsZero() && !now.Before(until) {
		return ReasonEnded
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, v := range a {
		if contains(b, v) {
			return true
		}
	}
	return false
}

func (s *Scope) matches(sku, product string, cats []string) bool {
	if contains(s.ExcludeSKUIDs, sku) || intersects(s.ExcludeCategoryIDs, cats) {
		return false
	}
	return s.All || contains(s.SKUIDs, sku) || (product != "" && contains(s.ProductIDs, product)) ||
		intersects(s.CategoryIDs, cats)
}

// appendLines appends the indexes of the lines in scope to idx.
func (s *Scope) appendLines(idx []int, lines []cline) []int {
	if s.All && len(s.ExcludeSKUIDs) == 0 && len(s.ExcludeCategoryIDs) == 0 {
		for i := range lines {
			idx = append(idx, i)
		}
		return idx
	}
	for i := range lines {
		l := &lines[i]
		if s.matches(l.sku, l.product, l.cats) {
			idx = append(idx, i)
		}
	}
	return idx
}

func (au *Audience) admits(c *Customer) bool {
	if len(au.Tiers) > 0 && !contains(au.Tiers, c.Tier) {
		return false
	}
	if len(au.Segments) > 0 && !intersects(au.Segments, c.Segments) {
		return false
	}
	if au.NewCustomersOnly && (c.ID == "" || !c.IsNew) {
		return false
	}
	return true
}

func exhausted(p *int64) bool { return p != nil && *p <= 0 }

// remaining returns *p or MaxInt64 when unlimited.
func remaining(p *int64) int64 {
	if p == nil {
		return math.MaxInt64
	}
	return max(*p, 0)
}

// overBudget reports whether d exceeds the money budget or the daily one.
func overBudget(u *Usage, d money.Money) bool {
	return d > remaining(u.Budget) || d > remaining(u.DailyBudget)
}

// checkActivities runs the checks that do not depend on other promotions:
// status, schedule, configuration, audience, scope, exhausted uses.
func (q *quoter) checkActivities() {
	in := q.in
	q.acts = grow(q.acts, len(in.Activities))
	q.order = reserve(q.order, len(in.Activities))
	q.masks = grow(q.masks, len(in.Activities))
	// First the checks that need no scope; with the scope index, each
	// survivor's scope mask too, so the line lists below fit exactly.
	nIdx := 0
	var e errs
	for i := range in.Activities {
		a := &in.Activities[i]
		ai := &q.acts[i]
		// Field by field, and pointers only where they change: while the
		// collector marks, every pointer stored costs a write barrier.
		ai.a, ai.pos = a, i
		if ai.reason != "" {
			ai.reason = ""
		}
		if ai.idx != nil {
			ai.idx = nil
		}
		if len(in.Usage) > 0 {
			ai.usage = in.Usage[a.ID]
		} else if ai.usage != (Usage{}) {
			ai.usage = Usage{}
		}
		switch a.Status {
		case StatusActive:
		case StatusPaused:
			ai.reason = ReasonPaused
		case StatusEnded:
			ai.reason = ReasonEnded
		case StatusDraft:
			ai.reason = ReasonDraft
		default:
			ai.reason = ReasonInvalid
		}
		if ai.reason != "" {
			continue
		}
		if r := inWindow(in.Now, a.StartsAt, a.EndsAt); r != "" {
			ai.reason = r
			continue
		}
		e = e[:0]
		validateActivity(a, &e)
		if len(e) > 0 {
			ai.reason = ReasonInvalid
			continue
		}
		if !a.Audience.admits(&in.Customer) ||
			(a.Kind == MemberPrice && tierRate(a, in.Customer.Tier) < 0) {
			ai.reason = ReasonAudience
			continue
		}
		if q.idsOn {
			q.masks[i] = q.scopeMask(&a.Scope)
			nIdx += bits.OnesCount64(q.masks[i])
		} else {
			nIdx += len(q.lines)
		}
	}
	// Every scope's line list is carved out of one buffer (coupons' too).
	if n := nIdx + len(in.Wallet)*len(q.lines); cap(q.idxBuf) < n {
		q.idxBuf = make([]int, 0, n)
	}
	q.idxBuf = q.idxBuf[:0]
	keys := reserve(q.orderKeys, len(q.acts))
	for i := range q.acts {
		ai := &q.acts[i]
		if ai.reason != "" {
			continue
		}
		a := ai.a
		start := len(q.idxBuf)
		if q.idsOn {
			q.idxBuf = appendMask(q.idxBuf, q.masks[i])
		} else {
			q.idxBuf = q.scopeLines(q.idxBuf, &a.Scope)
		}
		ai.idx = q.idxBuf[start:len(q.idxBuf):len(q.idxBuf)]
		if len(ai.idx) == 0 {
			ai.reason = ReasonScope
			continue
		}
		if exhausted(ai.usage.Uses) || exhausted(ai.usage.CustomerUses) {
			ai.reason = ReasonUsageLimit
			continue
		}
		if a.Kind.OrderLevel() {
			keys = append(keys, orderKey{prio: a.Priority, pos: i})
		}
	}
	// Priority desc, then id; equal ids keep input order. An insertion
	// sort: stable, and the keys come in a few dozen.
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0 && q.orderBefore(k, keys[j-1]); j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
	for _, k := range keys {
		q.order = append(q.order, k.pos)
	}
	q.orderKeys = keys
}

func (q *quoter) orderBefore(x, y orderKey) bool {
	if x.prio != y.prio {
		return x.prio > y.prio
	}
	return q.acts[x.pos].a.ID < q.acts[y.pos].a.ID
}

// orderKey sorts order-level activities into application order. It holds
// no pointers, so sorting moves no pointers.
type orderKey struct {
	prio int
	pos  int
}

func tierRate(a *Activity, tier string) money.Rate {
	if tier == "" {
		return -1
	}
	for _, tr := range a.TierRates {
		if tr.Tier == tier {
			return tr.Rate
		}
	}
	return -1
}
