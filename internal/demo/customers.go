package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Member tiers, lowest first.
const (
	TierNormal   = "normal"
	TierSilver   = "silver"
	TierGold     = "gold"
	TierPlatinum = "platinum"
)

var (
	// The common surnames first: they are drawn more often.
	surnames    = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenChars  = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红鹏飞晨阳雪琳婷宇浩然子轩梓涵欣怡思雨佳琪嘉俊博文一诺雅若曦晓梅志宏海燕丹凯旭辉颖佩瑶天昊")
	phonePrefix = []string{"138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189",
		"133", "153", "180", "181", "177", "199"}
	otherZones = []string{"Asia/Hong_Kong", "Asia/Singapore", "America/Los_Angeles", "Europe/London", "Australia/Sydney"}
	favTags    = []string{"穿搭控", "美妆达人", "吃货", "居家党", "数码控"} // by top category
	extraTags  = []string{"学生党", "宝妈", "价格敏感", "夜猫子", "直播粉丝", "企业采购", "新客礼包", "晒单达人"}
)

// pointsGrant is an AdjustPoints call a customer gets after joining.
type pointsGrant struct {
	at     time.Time
	delta  int64
	reason string
}

// customerPlan is one planned customer with what ordering needs.
type customerPlan struct {
	c      commerce.Customer
	weight float64 // how often they order, Pareto-tailed
	fav    int     // favourite top category
	joinAt time.Time
	grants []pointsGrant
	id     string
}

// customerBatch is one UpsertCustomers call (at most MaxBulkItems).
type customerBatch struct {
	at       time.Time
	from, to int // customers[from:to]
}

// planCustomers plans n customers: half registered over the four weeks
// before the history starts, the rest joining day by day during it. They
// come back sorted by joining time, external ids in that order.
func planCustomers(r *rand.Rand, n int, start, now time.Time) ([]customerPlan, []customerBatch) {
	const preDays = 28
	days := max(1, int(now.Sub(start).Hours()/24))
	// One sign-up moment per day, at some hour of the day.
	day := func(k int) time.Time {
		at := start.AddDate(0, 0, k)
		if t := at.Add(time.Duration(r.IntN(12*60)) * time.Minute); t.Before(now) {
			at = t
		}
		return at
	}
	pre := n / 2
	joins := make([]time.Time, n)
	last := -1
	var at time.Time
	for i := range joins {
		k := i * preDays / max(pre, 1)
		if i >= pre {
			k = preDays + (i-pre)*days/max(n-pre, 1)
		}
		if k != last {
			at, last = day(k-preDays), k
		}
		joins[i] = at
	}

	cs := make([]customerPlan, n)
	noisy := make([]float64, n)
	for i := range cs {
		p := &cs[i]
		p.joinAt = joins[i]
		p.weight = math.Min(math.Pow(1-r.Float64(), -1/1.2), 60)
		noisy[i] = p.weight * math.Exp(0.5*r.NormFloat64())
		p.fav = pickWeighted(r, []float64{40, 25, 20, 8, 7})
		ext := fmt.Sprintf("u%d", 100001+i)
		c := commerce.Customer{
			ExternalID:       ext,
			Name:             chineseName(r),
			Phone:            phonePrefix[r.IntN(len(phonePrefix))] + fmt.Sprintf("%08d", r.IntN(100_000_000)),
			MarketingConsent: r.IntN(100) < 60,
			TimeZone:         commerce.DefaultTimeZone,
		}
		if r.IntN(100) < 35 {
			c.Email = ext + "@example.com"
		}
		switch x := r.IntN(100); {
		case x < 3:
			c.TimeZone = otherZones[r.IntN(len(otherZones))]
		case x < 10:
			c.TimeZone = ""
		}
		p.c = c
	}

	// Tiers follow how much a customer buys, loosely: top 3 % platinum,
	// next 9 % gold, next 18 % silver.
	rank := make([]int, n)
	for i := range rank {
		rank[i] = i
	}
	sort.SliceStable(rank, func(a, b int) bool { return noisy[rank[a]] > noisy[rank[b]] })
	for pos, i := range rank {
		p := &cs[i]
		share := float64(pos) / float64(n)
		switch {
		case share < 0.03:
			p.c.Tier, p.c.GrowthValue = TierPlatinum, 20000+int64(r.IntN(60000))
		case share < 0.12:
			p.c.Tier, p.c.GrowthValue = TierGold, 5000+int64(r.IntN(15000))
		case share < 0.30:
			p.c.Tier, p.c.GrowthValue = TierSilver, 1000+int64(r.IntN(4000))
		default:
			p.c.Tier, p.c.GrowthValue = TierNormal, int64(r.IntN(1000))
		}
		p.c.Tags = tagsFor(r, p, share)
		p.grants = grantsFor(r, p, now)
	}

	var batches []customerBatch
	for i := 0; i < n; {
		j := i
		for j < n && j-i < commerce.MaxBulkItems && cs[j].joinAt.Equal(cs[i].joinAt) {
			j++
		}
		batches = append(batches, customerBatch{at: cs[i].joinAt, from: i, to: j})
		i = j
	}
	return cs, batches
}

func chineseName(r *rand.Rand) string {
	// Squaring the draw favours the common surnames at the front.
	u := r.Float64()
	name := []rune{surnames[int(u*u*float64(len(surnames)))]}
	given := 1
	if r.IntN(100) < 70 {
		given = 2
	}
	for ; given > 0; given-- {
		name = append(name, givenChars[r.IntN(len(givenChars))])
	}
	return string(name)
}

func tagsFor(r *rand.Rand, p *customerPlan, share float64) []string {
	var tags []string
	if share < 0.12 {
		tags = append(tags, "高价值")
	}
	if p.weight > 4 {
		tags = append(tags, "复购")
	}
	if r.IntN(100) < 45 {
		tags = append(tags, favTags[p.fav])
	}
	if r.IntN(100) < 35 {
		tags = append(tags, extraTags[r.IntN(len(extraTags))])
	}
	return tags
}

// grantsFor gives some customers points: a sign-up gift, a tier gift, and
// now and then a redemption.
func grantsFor(r *rand.Rand, p *customerPlan, now time.Time) []pointsGrant {
	var gs []pointsGrant
	at := p.joinAt
	add := func(after time.Duration, delta int64, reason string) {
		at = at.Add(after)
		if at.Before(now) {
			gs = append(gs, pointsGrant{at: at, delta: delta, reason: reason})
		}
	}
	if r.IntN(100) < 30 {
		add(time.Duration(1+r.IntN(600))*time.Second, 100, "注册有礼 signup_gift")
	}
	if p.c.Tier != TierNormal {
		bonus := map[string]int64{TierSilver: 200, TierGold: 500, TierPlatinum: 1000}[p.c.Tier]
		add(time.Duration(1+r.IntN(20*24))*time.Hour, bonus, "会员等级礼包 tier_gift")
		if r.IntN(100) < 20 {
			add(time.Duration(1+r.IntN(20*24))*time.Hour, -bonus/2, "积分兑换 redeem_gift")
		}
	}
	return gs
}
