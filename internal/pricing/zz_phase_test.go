package pricing

import (
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	in := benchInput()
	const N = 5000
	var d [6]time.Duration
	for i := 0; i < N; i++ {
		t0 := time.Now()
		q := &quoter{in: in}
		q.set, _ = resolveSettings(in.Settings)
		q.mergeLines()
		n := len(q.lines)
		q.wbuf = make([]int64, n)
		q.pbuf = make([]int64, n)
		q.scratch = make([]int64, n)
		q.checkActivities()
		t1 := time.Now()
		applied := q.stage1()
		q.prepareCoupons()
		t2 := time.Now()
		w, all := q.chooseWay()
		t3 := time.Now()
		q.finish(w, all, applied)
		t4 := time.Now()
		d[0] += t1.Sub(t0)
		d[1] += t2.Sub(t1)
		d[2] += t3.Sub(t2)
		d[3] += t4.Sub(t3)
	}
	t.Logf("check %v stage1 %v ways %v finish %v", d[0]/N, d[1]/N, d[2]/N, d[3]/N)
	// ways detail
	q := &quoter{in: in}
	q.set, _ = resolveSettings(in.Settings)
	q.mergeLines()
	n := len(q.lines)
	q.wbuf, q.pbuf, q.scratch = make([]int64, n), make([]int64, n), make([]int64, n)
	q.checkActivities()
	q.stage1()
	q.prepareCoupons()
	var s2, sc time.Duration
	var stacked []int
	for _, p := range q.order {
		if !q.acts[p].a.Exclusive {
			stacked = append(stacked, p)
		}
	}
	for i := 0; i < N; i++ {
		w := &way{excl: -1, allowed: stacked, cur: make([]int64, n), waivedBy: -1}
		for j := range q.lines {
			w.cur[j] = q.lines[j].amount
		}
		t0 := time.Now()
		q.stage2(w)
		t1 := time.Now()
		q.searchCoupons(w, -1)
		t2 := time.Now()
		s2 += t1.Sub(t0)
		sc += t2.Sub(t1)
	}
	t.Logf("stacked stage2 %v search %v (%d activities)", s2/N, sc/N, len(stacked))
}
