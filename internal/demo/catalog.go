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
	sizes       = []option{{"S", "S", 1}, {"M", "M", 1}, {"L", "L", 1}, {"XL", "XL", 1}, {"XXL", "XXL", 1.05}}
	capacities  = []option{{"30ml", "30", 0.65}, {"50ml", "50", 1}, {"100ml", "100", 1.7}}
	shades      = []option{{"#01 正红", "01", 1}, {"#02 豆沙", "02", 1}, {"#03 奶茶", "03", 1}, {"#04 枫叶", "04", 1}, {"#05 象牙白", "05", 1}, {"#06 自然色", "06", 1}}
	flavours    = []option{{"原味", "OR", 1}, {"香辣味", "SP", 1}, {"五香味", "WX", 1}, {"海盐味", "SS", 1}, {"藤椒味", "TJ", 1}}
	packs       = []option{{"单袋装", "1", 1}, {"家庭分享装", "F", 3.6}}
	teaWeights  = []option{{"50g", "50", 0.55}, {"100g", "100", 1}, {"250g", "250", 2.2}}
	potSizes    = []option{{"24cm", "24", 1}, {"26cm", "26", 1.1}, {"28cm", "28", 1.2}, {"30cm", "30", 1.3}}
	bedSizes    = []option{{"1.5m床", "150", 1}, {"1.8m床", "180", 1.15}, {"2.0m床", "200", 1.3}}
	techColours = []option{{"曜石黑", "BK", 1}, {"月光白", "WH", 1}, {"远峰蓝", "BL", 1}, {"薄荷绿", "GN", 1}}
)

// leaf is a sellable category with what its products look like: names,
// variant dimensions, price and cost ranges, and how much it sells.
type leaf struct {
	id, parent, name, prefix string
	names                    []string
	dims                     [][]option // one or two variant dimensions
	priceMin, priceMax       int64      // base price range, yuan
	costMin, costMax         float64    // cost as a share of price
	demand                   float64    // share of baskets relative to other leaves
	maxQty                   int64      // most units of one SKU on a line
}

type top struct{ id, name string }

var tops = []top{
	{"cat-apparel", "服饰"}, {"cat-beauty", "美妆"}, {"cat-food", "食品"}, {"cat-home", "家居"}, {"cat-digital", "数码"},
}

var leaves = []leaf{
	{id: "cat-apparel-women", parent: "cat-apparel", name: "女装", prefix: "FW",
		names: []string{"法式碎花连衣裙", "高腰阔腿牛仔裤", "针织开衫外套", "纯棉圆领T恤", "桑蚕丝衬衫", "百褶半身裙",
			"轻薄羽绒服", "双面羊绒大衣", "宽松休闲卫衣", "垂感西装外套", "冰丝防晒衫", "醋酸缎面半裙"},
		dims: [][]option{colours, sizes}, priceMin: 79, priceMax: 699, costMin: 0.35, costMax: 0.55, demand: 1.5, maxQty: 2},
	{id: "cat-apparel-men", parent: "cat-apparel", name: "男装", prefix: "FM",
		names: []string{"商务免烫衬衫", "修身弹力牛仔裤", "纯棉Polo衫", "连帽卫衣", "休闲夹克", "轻暖羽绒服",
			"速干运动短裤", "羊毛针织衫", "机能工装裤", "重磅纯棉T恤", "立领棉服", "九分休闲西裤"},
		dims: [][]option{colours, sizes}, priceMin: 89, priceMax: 799, costMin: 0.35, costMax: 0.55, demand: 0.9, maxQty: 2},
	{id: "cat-apparel-underwear", parent: "cat-apparel", name: "内衣", prefix: "FU",
		names: []string{"无钢圈文胸", "莫代尔内裤三条装", "纯棉睡衣套装", "德绒保暖内衣", "运动文胸",
			"男士平角内裤四条装", "真丝睡袍", "无痕背心", "船袜五双装", "珊瑚绒家居服"},
		dims: [][]option{colours, sizes}, priceMin: 39, priceMax: 299, costMin: 0.35, costMax: 0.5, demand: 0.7, maxQty: 3},
	{id: "cat-beauty-skincare", parent: "cat-beauty", name: "护肤", prefix: "BS",
		names: []string{"玻尿酸补水精华液", "烟酰胺焕亮面膜十片装", "氨基酸洁面乳", "修护保湿面霜", "清爽防晒乳SPF50+", "视黄醇淡纹眼霜",
			"舒缓爽肤水", "胶原蛋白精华霜", "温和卸妆油", "积雪草修护乳", "维C焕白精华", "男士控油洁面"},
		dims: [][]option{capacities}, priceMin: 89, priceMax: 599, costMin: 0.35, costMax: 0.45, demand: 1.2, maxQty: 2},
	{id: "cat-beauty-makeup", parent: "cat-beauty", name: "彩妆", prefix: "BM",
		names: []string{"丝绒哑光口红", "持妆粉底液", "柔焦散粉", "防水眼线笔", "十色眼影盘", "自然卷翘睫毛膏",
			"气垫BB霜", "哑光唇釉", "三色修容盘", "轻薄遮瑕液", "柔雾腮红", "控油定妆喷雾"},
		dims: [][]option{shades}, priceMin: 59, priceMax: 399, costMin: 0.35, costMax: 0.45, demand: 1.0, maxQty: 2},
	{id: "cat-food-snacks", parent: "cat-food", name: "零食", prefix: "SN",
		names: []string{"每日坚果", "手撕牛肉干", "麻辣鸭脖", "海苔脆片", "芒果干", "奶油夏威夷果",
			"乳酸菌小面包", "辣条大礼包", "蜜汁猪肉脯", "流心蛋黄酥", "魔芋爽", "薯片组合装"},
		dims: [][]option{flavours, packs}, priceMin: 10, priceMax: 59, costMin: 0.5, costMax: 0.7, demand: 1.6, maxQty: 6},
	{id: "cat-food-tea", parent: "cat-food", name: "茶饮", prefix: "TE",
		names: []string{"明前西湖龙井", "安溪铁观音", "云南普洱熟茶饼", "福鼎白茶", "正山小种红茶", "冻干咖啡粉",
			"茉莉花茶", "挂耳咖啡", "桂花乌龙冷泡茶", "武夷大红袍", "蜂蜜柚子茶", "燕麦奶"},
		dims: [][]option{teaWeights}, priceMin: 29, priceMax: 399, costMin: 0.4, costMax: 0.6, demand: 0.7, maxQty: 3},
	{id: "cat-home-kitchen", parent: "cat-home", name: "厨具", prefix: "HK",
		names: []string{"不粘炒锅", "珐琅铸铁锅", "304不锈钢汤锅", "陶瓷刀具套装", "智能电饭煲", "空气炸锅",
			"整竹砧板", "玻璃保鲜盒套装", "破壁料理机", "手冲咖啡壶", "耐高温硅胶锅铲", "电热水壶"},
		dims: [][]option{potSizes}, priceMin: 39, priceMax: 899, costMin: 0.45, costMax: 0.65, demand: 0.6, maxQty: 2},
	{id: "cat-home-bedding", parent: "cat-home", name: "床品", prefix: "HB",
		names: []string{"全棉四件套", "60支长绒棉床单", "大豆纤维被", "天然乳胶枕", "白鹅绒羽绒被", "桑蚕丝被",
			"记忆棉枕头", "天丝凉席三件套", "法兰绒毛毯", "防螨床垫保护罩"},
		dims: [][]option{bedSizes}, priceMin: 99, priceMax: 1299, costMin: 0.4, costMax: 0.6, demand: 0.4, maxQty: 2},
	{id: "cat-digital-earphones", parent: "cat-digital", name: "耳机", prefix: "DE",
		names: []string{"真无线降噪耳机", "头戴式降噪耳机", "运动蓝牙耳机", "骨传导耳机", "有线入耳式耳机", "电竞游戏耳机",
			"开放式蓝牙耳机", "儿童护耳耳机"},
		dims: [][]option{techColours}, priceMin: 199, priceMax: 1299, costMin: 0.55, costMax: 0.7, demand: 0.5, maxQty: 1},
	{id: "cat-digital-accessories", parent: "cat-digital", name: "配件", prefix: "DA",
		names: []string{"65W氮化镓充电器", "快充数据线", "20000mAh移动电源", "磁吸无线充电器", "液态硅胶手机壳", "钢化膜两片装",
			"桌面手机支架", "蓝牙自拍杆", "Type-C扩展坞", "车载充电器", "数码收纳包", "平板保护套"},
		dims: [][]option{techColours}, priceMin: 19, priceMax: 199, costMin: 0.4, costMax: 0.6, demand: 0.9, maxQty: 3},
}

// series tells apart products that reuse a name when a larger catalog than
// the name lists is asked for.
var series = []string{"", " 升级款", " Pro", " 经典款", " 轻享版", " 联名款", " 2代", " 3代"}

// skuPlan is one planned SKU with what the history generator needs.
type skuPlan struct {
	leaf    int
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
		round := k / len(l.names)
		name := l.names[k%len(l.names)] + series[round%len(series)]
		if round >= len(series) {
			name += fmt.Sprintf(" %d", round)
		}
		code := fmt.Sprintf("%s-%d", l.prefix, 1001+k)

		want := pickWeighted(r, []float64{30, 25, 25, 15, 5}) + 1 // 1..5 SKUs
		if want == 5 {
			want = 6
		}
		if left := n - len(cp.skus); want > left {
			want = left
		}
		combos := variants(r, l.dims, want)

		base := float64(l.priceMin) * math.Pow(float64(l.priceMax)/float64(l.priceMin), r.Float64())
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
				labels += " " + o.label
				codes += "-" + o.code
			}
			price := prettyPrice(base * mult)
			sp := skuPlan{
				leaf: li, top: topIndex(l.parent), code: codes, name: name + labels,
				price: price, cost: int64(math.Round(float64(price) * (costShare + 0.02*r.NormFloat64()))),
				active: status == commerce.SKUActive && r.IntN(100) >= 3,
				maxQty: l.maxQty,
			}
			sp.cost = min(max(sp.cost, price*35/100), price*70/100)
			// The first variants listed are the popular ones.
			sp.weight = l.demand * popularity / float64(vi+1) * (0.7 + 0.6*r.Float64())
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
	case x < 3:
		return 0, max(safety, 20)
	case x < 9:
		s := max(safety, 30)
		return int64(r.IntN(int(s))), s
	default:
		return int64(math.Round(20 * math.Pow(100, r.Float64()))), safety // 20..2000
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
