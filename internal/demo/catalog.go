package demo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// option is one value of a variant dimension: its label in the SKU name,
// its code in the SKU code, and how it scales the product's base price.
type option struct {
	label, code string
	mult        float64
}

var (
	colours = []option{{"黑色", "BK", 1}, {"白色", "WH", 1}, {"米杏色", "BG", 1}, {"藏青色", "NV", 1}, {"烟灰色", "GY", 1},
		{"樱花粉", "PK", 1}, {"卡其色", "KH", 1}, {"酒红色", "WR", 1}}
	sizes        = []option{{"S", "S", 1}, {"M", "M", 1}, {"L", "L", 1}, {"XL", "XL", 1}, {"XXL", "XXL", 1.05}}
	oneSize      = []option{{"均码", "F", 1}}
	capacities   = []option{{"30ml", "30", 0.65}, {"50ml", "50", 1}, {"100ml", "100", 1.7}}
	maskPacks    = []option{{"10片装", "10", 1}, {"20片装", "20", 1.8}}
	lipShades    = []option{{"#01 正红", "01", 1}, {"#02 豆沙", "02", 1}, {"#03 奶茶", "03", 1}, {"#04 枫叶", "04", 1}, {"#05 烂番茄", "05", 1}}
	baseShades   = []option{{"#00 象牙白", "00", 1}, {"#01 亮肤色", "01", 1}, {"#02 自然色", "02", 1}, {"#03 小麦色", "03", 1}}
	eyeColours   = []option{{"黑色", "BK", 1}, {"棕色", "BR", 1}}
	palettes     = []option{{"#01 大地色", "01", 1}, {"#02 蜜桃粉", "02", 1}, {"#03 焦糖橘", "03", 1}}
	blushShades  = []option{{"#01 蜜桃", "01", 1}, {"#02 玫瑰", "02", 1}, {"#03 杏色", "03", 1}}
	sprayCaps    = []option{{"50ml", "50", 1}, {"100ml", "100", 1.6}}
	flavours     = []option{{"原味", "OR", 1}, {"香辣味", "SP", 1}, {"五香味", "WX", 1}, {"海盐味", "SS", 1}, {"藤椒味", "TJ", 1}}
	snackPacks   = []option{{"单袋装", "1", 1}, {"量贩装", "F", 2.8}}
	teaWeights   = []option{{"50g", "50", 0.55}, {"100g", "100", 1}, {"250g", "250", 2.2}}
	teaCakes     = []option{{"357g饼", "357", 1}, {"七子饼整提", "7P", 6.5}}
	coffeeBoxes  = []option{{"24颗", "24", 1}, {"48颗", "48", 1.8}}
	dripBags     = []option{{"10片装", "10", 1}, {"30片装", "30", 2.6}}
	coldBrews    = []option{{"7包装", "7", 1}, {"21包装", "21", 2.6}}
	jars         = []option{{"500g", "500", 1}, {"1kg", "1K", 1.8}}
	oatMilks     = []option{{"250ml×12", "12", 1}, {"1L×6", "6L", 1.4}}
	potSizes     = []option{{"24cm", "24", 1}, {"26cm", "26", 1.1}, {"28cm", "28", 1.2}, {"30cm", "30", 1.3}}
	homeColours  = []option{{"奶油白", "WH", 1}, {"雾霾蓝", "BL", 1}, {"燕麦色", "OT", 1}, {"石墨灰", "GY", 1}}
	cookerCaps   = []option{{"3L", "3L", 0.85}, {"4L", "4L", 1}, {"5L", "5L", 1.15}}
	boardSizes   = []option{{"小号", "S", 0.8}, {"中号", "M", 1}, {"大号", "L", 1.3}}
	boxSets      = []option{{"3件套", "3", 1}, {"5件套", "5", 1.5}, {"10件套", "10", 2.4}}
	kettleCaps   = []option{{"600ml", "600", 1}, {"1L", "1L", 1.25}}
	bedSizes     = []option{{"1.5m床", "150", 1}, {"1.8m床", "180", 1.15}, {"2.0m床", "200", 1.3}}
	pillowPacks  = []option{{"单只装", "1", 1}, {"一对装", "2", 1.85}}
	blankets     = []option{{"150×200cm", "150", 1}, {"200×230cm", "200", 1.4}}
	techColours  = []option{{"曜石黑", "BK", 1}, {"月光白", "WH", 1}, {"远峰蓝", "BL", 1}, {"薄荷绿", "GN", 1}}
	cableLengths = []option{{"1m", "1M", 1}, {"1.5m", "15M", 1.2}, {"2m", "2M", 1.4}}
	glassKinds   = []option{{"高清版", "HD", 1}, {"防窥版", "PV", 1.5}}
)

// item is a product name with the shelf price of its base variant (yuan)
// and, when they differ from the leaf's, its variant dimensions.
type item struct {
	name string
	yuan float64
	dims [][]option
}

func dims(d ...[]option) [][]option { return d }

// leaf is a sellable category with what its products look like: names and
// prices, variant dimensions, the price range its base prices stay in,
// cost shares, and how much it sells.
type leaf struct {
	id, parent, name, prefix string
	items                    []item
	dims                     [][]option // one or two variant dimensions
	priceMin, priceMax       float64    // base price range, yuan
	costMin, costMax         float64    // cost as a share of price
	demand                   float64    // share of baskets relative to other leaves
	maxQty                   int64      // most units of one SKU on a line
}

type top struct{ id, name string }

var tops = []top{
	{"cat-apparel", "服饰"}, {"cat-beauty", "美妆"}, {"cat-food", "食品"}, {"cat-home", "家居"}, {"cat-digital", "数码"},
}

// The names avoid the absolute terms the Advertising Law bans (最, 第一 …).
var leaves = []leaf{
	{id: "cat-apparel-women", parent: "cat-apparel", name: "女装", prefix: "FW",
		items: []item{{"法式碎花连衣裙", 259, nil}, {"高腰阔腿牛仔裤", 199, nil}, {"针织开衫外套", 229, nil}, {"纯棉圆领T恤", 79, nil},
			{"桑蚕丝衬衫", 459, nil}, {"百褶半身裙", 169, nil}, {"轻薄羽绒服", 499, nil}, {"双面羊绒大衣", 699, nil},
			{"宽松休闲卫衣", 159, nil}, {"垂感西装外套", 359, nil}, {"冰丝防晒衫", 99, nil}, {"醋酸缎面半裙", 289, nil}},
		dims: dims(colours, sizes), priceMin: 79, priceMax: 699, costMin: 0.38, costMax: 0.55, demand: 1.5, maxQty: 2},
	{id: "cat-apparel-men", parent: "cat-apparel", name: "男装", prefix: "FM",
		items: []item{{"商务免烫衬衫", 199, nil}, {"修身弹力牛仔裤", 229, nil}, {"纯棉Polo衫", 149, nil}, {"连帽卫衣", 189, nil},
			{"休闲夹克", 329, nil}, {"轻暖羽绒服", 599, nil}, {"速干运动短裤", 89, nil}, {"羊毛针织衫", 399, nil},
			{"机能工装裤", 259, nil}, {"重磅纯棉T恤", 99, nil}, {"立领棉服", 459, nil}, {"九分休闲西裤", 239, nil}},
		dims: dims(colours, sizes), priceMin: 89, priceMax: 799, costMin: 0.38, costMax: 0.55, demand: 0.9, maxQty: 2},
	{id: "cat-apparel-underwear", parent: "cat-apparel", name: "内衣", prefix: "FU",
		items: []item{{"无钢圈文胸", 129, nil}, {"莫代尔内裤三条装", 79, nil}, {"纯棉睡衣套装", 169, nil}, {"德绒保暖内衣", 139, nil},
			{"运动文胸", 119, nil}, {"男士平角内裤四条装", 89, nil}, {"真丝睡袍", 299, nil}, {"无痕背心", 59, nil},
			{"船袜五双装", 39, dims(colours, oneSize)}, {"珊瑚绒家居服", 149, nil}},
		dims: dims(colours, sizes), priceMin: 39, priceMax: 299, costMin: 0.38, costMax: 0.5, demand: 0.7, maxQty: 3},
	{id: "cat-beauty-skincare", parent: "cat-beauty", name: "护肤", prefix: "BS",
		items: []item{{"玻尿酸补水精华液", 299, nil}, {"烟酰胺焕亮面膜", 129, dims(maskPacks)}, {"氨基酸洁面乳", 89, nil},
			{"修护保湿面霜", 359, nil}, {"清爽防晒乳SPF50+", 159, nil}, {"视黄醇淡纹眼霜", 459, nil}, {"舒缓爽肤水", 169, nil},
			{"胶原蛋白精华霜", 599, nil}, {"温和卸妆油", 139, nil}, {"积雪草修护乳", 199, nil}, {"维C焕亮精华", 329, nil},
			{"男士控油洁面", 89, nil}},
		dims: dims(capacities), priceMin: 89, priceMax: 599, costMin: 0.37, costMax: 0.47, demand: 1.2, maxQty: 2},
	{id: "cat-beauty-makeup", parent: "cat-beauty", name: "彩妆", prefix: "BM",
		items: []item{{"丝绒哑光口红", 239, nil}, {"持妆粉底液", 399, dims(baseShades)}, {"柔焦散粉", 289, dims(baseShades)},
			{"防水眼线笔", 89, dims(eyeColours)}, {"十色眼影盘", 359, dims(palettes)}, {"自然卷翘睫毛膏", 129, dims(eyeColours)},
			{"气垫BB霜", 259, dims(baseShades)}, {"哑光唇釉", 179, nil}, {"三色修容盘", 199, dims(palettes)},
			{"轻薄遮瑕液", 159, dims(baseShades)}, {"柔雾腮红", 149, dims(blushShades)}, {"控油定妆喷雾", 119, dims(sprayCaps)}},
		dims: dims(lipShades), priceMin: 59, priceMax: 399, costMin: 0.37, costMax: 0.47, demand: 1.0, maxQty: 2},
	{id: "cat-food-snacks", parent: "cat-food", name: "零食", prefix: "SN",
		items: []item{{"每日坚果", 49, dims(snackPacks)}, {"手撕牛肉干", 39, nil}, {"麻辣鸭脖", 29, nil}, {"海苔脆片", 12.9, nil},
			{"芒果干", 19.9, dims(snackPacks)}, {"奶油夏威夷果", 35, dims(snackPacks)}, {"乳酸菌小面包", 25, dims(snackPacks)},
			{"辣条大礼包", 19.9, nil}, {"蜜汁猪肉脯", 32, nil}, {"流心蛋黄酥", 29.9, dims(snackPacks)}, {"魔芋爽", 9.9, nil},
			{"薯片组合装", 25, nil}},
		dims: dims(flavours, snackPacks), priceMin: 9.9, priceMax: 59, costMin: 0.5, costMax: 0.68, demand: 1.6, maxQty: 6},
	{id: "cat-food-tea", parent: "cat-food", name: "茶饮", prefix: "TE",
		items: []item{{"明前西湖龙井", 399, nil}, {"安溪铁观音", 159, nil}, {"云南普洱熟茶", 199, dims(teaCakes)}, {"福鼎白茶", 259, nil},
			{"正山小种红茶", 139, nil}, {"冻干咖啡", 69, dims(coffeeBoxes)}, {"茉莉花茶", 59, nil}, {"挂耳咖啡", 49, dims(dripBags)},
			{"桂花乌龙冷泡茶", 39, dims(coldBrews)}, {"武夷大红袍", 299, nil}, {"蜂蜜柚子茶", 35, dims(jars)}, {"燕麦奶", 59, dims(oatMilks)}},
		dims: dims(teaWeights), priceMin: 29, priceMax: 399, costMin: 0.4, costMax: 0.6, demand: 0.7, maxQty: 3},
	{id: "cat-home-kitchen", parent: "cat-home", name: "厨具", prefix: "HK",
		items: []item{{"不粘炒锅", 199, nil}, {"珐琅铸铁锅", 699, nil}, {"304不锈钢汤锅", 259, nil}, {"陶瓷刀具套装", 159, dims(homeColours)},
			{"智能电饭煲", 399, dims(cookerCaps)}, {"空气炸锅", 299, dims(homeColours)}, {"整竹砧板", 59, dims(boardSizes)},
			{"玻璃保鲜盒", 79, dims(boxSets)}, {"破壁料理机", 599, dims(homeColours)}, {"手冲咖啡壶", 129, dims(kettleCaps)},
			{"耐高温硅胶锅铲", 39, dims(homeColours)}, {"电热水壶", 139, dims(homeColours)}},
		dims: dims(potSizes), priceMin: 39, priceMax: 899, costMin: 0.45, costMax: 0.65, demand: 0.6, maxQty: 2},
	{id: "cat-home-bedding", parent: "cat-home", name: "床品", prefix: "HB",
		items: []item{{"全棉四件套", 399, nil}, {"60支长绒棉床单", 259, nil}, {"大豆纤维被", 299, nil}, {"天然乳胶枕", 199, dims(pillowPacks)},
			{"白鹅绒羽绒被", 1299, nil}, {"桑蚕丝被", 899, nil}, {"记忆棉枕头", 159, dims(pillowPacks)}, {"天丝凉席三件套", 359, nil},
			{"法兰绒毛毯", 129, dims(blankets)}, {"防螨床垫保护罩", 149, nil}},
		dims: dims(bedSizes), priceMin: 99, priceMax: 1299, costMin: 0.4, costMax: 0.6, demand: 0.4, maxQty: 2},
	{id: "cat-digital-earphones", parent: "cat-digital", name: "耳机", prefix: "DE",
		items: []item{{"真无线降噪耳机", 899, nil}, {"头戴式降噪耳机", 1299, nil}, {"运动蓝牙耳机", 299, nil}, {"骨传导耳机", 599, nil},
			{"有线入耳式耳机", 199, nil}, {"电竞游戏耳机", 399, nil}, {"开放式蓝牙耳机", 499, nil}, {"儿童护耳耳机", 249, nil}},
		dims: dims(techColours), priceMin: 199, priceMax: 1299, costMin: 0.55, costMax: 0.68, demand: 0.5, maxQty: 1},
	{id: "cat-digital-accessories", parent: "cat-digital", name: "配件", prefix: "DA",
		items: []item{{"65W氮化镓充电器", 129, nil}, {"快充数据线", 29, dims(cableLengths)}, {"20000mAh移动电源", 159, nil},
			{"磁吸无线充电器", 99, nil}, {"液态硅胶手机壳", 49, nil}, {"钢化膜两片装", 29, dims(glassKinds)}, {"桌面手机支架", 39, nil},
			{"蓝牙自拍杆", 69, nil}, {"Type-C扩展坞", 199, nil}, {"车载充电器", 59, nil}, {"数码收纳包", 45, nil}, {"平板保护套", 89, nil}},
		dims: dims(techColours), priceMin: 19, priceMax: 199, costMin: 0.4, costMax: 0.6, demand: 0.9, maxQty: 3},
}

// series tells apart products that reuse a name when a larger catalog than
// the name lists is asked for.
var series = []string{"", " 升级款", " Pro", " 经典款", " 轻享版", " 联名款", " 2代", " 3代"}

// skuPlan is one planned SKU with what the history generator needs.
type skuPlan struct {
	top     int
	code    string
	name    string
	price   int64
	cost    int64
	active  bool
	weight  float64 // share of baskets among active SKUs
	maxQty  int64
	target  int64 // stock wanted at the present
	safety  int64
	initial int64 // stock at catalog creation (filled in by the simulation)
	restock int64 // units arriving at restockAt (0: none)
	id      string
}

type catalogPlan struct {
	categories []commerce.Category
	products   []commerce.ProductUpsert
	skus       []skuPlan
	// skuOf[i][j] is the index in skus of products[i].SKUs[j].
	skuOf [][]int
}

func categoryTree() []commerce.Category {
	var cats []commerce.Category
	for _, t := range tops {
		cats = append(cats, commerce.Category{ID: t.id, Name: t.name})
	}
	for _, l := range leaves {
		cats = append(cats, commerce.Category{ID: l.id, ParentID: l.parent, Name: l.name})
	}
	return cats
}

func topIndex(id string) int {
	for i, t := range tops {
		if t.id == id {
			return i
		}
	}
	return -1
}

// planCatalog builds exactly n SKUs, taking product names from the leaves in
// turn so that even a small catalog has every category.
func planCatalog(r *rand.Rand, n int) *catalogPlan {
	cp := &catalogPlan{categories: categoryTree()}
	next := make([]int, len(leaves)) // next name per leaf
	for li := 0; len(cp.skus) < n; li = (li + 1) % len(leaves) {
		l := &leaves[li]
		k := next[li]
		next[li]++
		round := k / len(l.items)
		it := l.items[k%len(l.items)]
		name := it.name + series[round%len(series)]
		if round >= len(series) {
			name += fmt.Sprintf(" %d", round)
		}
		code := fmt.Sprintf("%s-%d", l.prefix, 1001+k)
		vdims := it.dims
		if vdims == nil {
			vdims = l.dims
		}

		want := pickWeighted(r, []float64{30, 25, 25, 15, 5}) + 1 // 1..5 SKUs
		if want == 5 {
			want = 6
		}
		if left := n - len(cp.skus); want > left {
			want = left
		}
		combos := variants(r, vdims, want)

		// A later series of the same name sells a little higher.
		base := it.yuan * (0.92 + 0.16*r.Float64()) * (1 + 0.1*float64(min(round, 3)))
		base = min(max(base, l.priceMin), l.priceMax)
		costShare := l.costMin + (l.costMax-l.costMin)*r.Float64()
		popularity := math.Exp(r.NormFloat64() * 1.1)
		if r.IntN(100) < 8 {
			popularity *= 0.02 // a slow mover
		}
		status := commerce.SKUActive
		if r.IntN(100) < 2 {
			status = commerce.SKUInactive // a discontinued product
		}
		p := commerce.ProductUpsert{Code: code, Name: name, CategoryID: l.id, Status: status}
		var idx []int
		for vi, c := range combos {
			mult, labels, codes := 1.0, "", code
			for _, o := range c {
				mult *= o.mult
				codes += "-" + o.code
				if o.label != oneSize[0].label {
					labels += " " + o.label
				}
			}
			price := prettyPrice(base * mult)
			sp := skuPlan{
				top: topIndex(l.parent), code: codes, name: name + labels,
				price: price, cost: int64(math.Round(float64(price) * (costShare + 0.02*r.NormFloat64()))),
				active: status == commerce.SKUActive && r.IntN(100) >= 3,
				maxQty: l.maxQty,
			}
			sp.cost = min(max(sp.cost, price*35/100), price*70/100)
			// Cheaper things sell more often, and the first variants listed
			// are the popular ones.
			sp.weight = l.demand * popularity * math.Pow(float64(price)/10000, -0.6) / float64(vi+1) * (0.7 + 0.6*r.Float64())
			if !sp.active {
				sp.weight = 0
			}
			sp.target, sp.safety = stockTarget(r)
			st := commerce.SKUActive
			if !sp.active {
				st = commerce.SKUInactive
			}
			p.SKUs = append(p.SKUs, commerce.SKUUpsert{Code: sp.code, Name: sp.name, Price: sp.price, Cost: sp.cost,
				SafetyStock: sp.safety, Status: st})
			idx = append(idx, len(cp.skus))
			cp.skus = append(cp.skus, sp)
		}
		cp.products = append(cp.products, p)
		cp.skuOf = append(cp.skuOf, idx)
	}
	return cp
}

// variants picks want option combinations over one or two dimensions: a
// run of neighbouring sizes, a few colours.
func variants(r *rand.Rand, dims [][]option, want int) [][]option {
	if len(dims) == 1 {
		d := dims[0]
		want = min(want, len(d))
		start := r.IntN(len(d) - want + 1)
		out := make([][]option, want)
		for i := range out {
			out[i] = []option{d[start+i]}
		}
		return out
	}
	a, b := dims[0], dims[1]
	// Factor want as na × nb within the dimensions, preferring fewer of a.
	var na, nb int
	for x := 1; x <= len(a); x++ {
		if want%x == 0 && want/x <= len(b) {
			na, nb = x, want/x
			if r.IntN(2) == 0 {
				break
			}
		}
	}
	if na == 0 {
		na, nb = 1, min(want, len(b))
	}
	firstA := r.Perm(len(a))[:na]
	startB := r.IntN(len(b) - nb + 1)
	var out [][]option
	for _, i := range firstA {
		for j := 0; j < nb; j++ {
			out = append(out, []option{a[i], b[startB+j]})
		}
	}
	return out
}

// prettyPrice turns yuan into a shelf price in fen: ¥x.90 under ¥100,
// ¥x9 above (¥129, ¥599).
func prettyPrice(yuan float64) int64 {
	if yuan < 10 {
		return 990
	}
	if yuan < 100 {
		return int64(math.Floor(yuan))*100 + 90
	}
	return (int64(math.Ceil(yuan/10))*10 - 1) * 100
}

// stockTarget is the free stock a SKU should have at the present and its
// safety stock: mostly comfortable, a few below safety stock, a few sold out.
func stockTarget(r *rand.Rand) (target, safety int64) {
	safety = int64(r.IntN(10)+1) * 10
	if r.IntN(100) < 15 {
		safety = 0
	}
	switch x := r.IntN(100); {
	case x < 2:
		return 0, max(safety, 20)
	case x < 6:
		s := max(safety, 30)
		return int64(r.IntN(int(s))), s
	default:
		return int64(math.Round(100 * math.Pow(20, r.Float64()))), safety // 100..2000
	}
}

// pickWeighted returns an index with probability proportional to w.
func pickWeighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.Float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}
