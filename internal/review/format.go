package review

import (
	"strconv"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/i18n"
)

// Yuan formats fen as yuan with two decimals, "-1234.56", by integer
// arithmetic (no float ever touches money).
func Yuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/100, 10) + "." + pad2(u%100)
	if neg {
		return "-" + s
	}
	return s
}

// YuanDisplay formats fen for people: "¥1,234.56", "-¥0.05".
func YuanDisplay(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := "¥" + group(strconv.FormatUint(u/100, 10)) + "." + pad2(u%100)
	if neg {
		return "-" + s
	}
	return s
}

// Count formats a count with thousands separators: "12,345".
func Count(n int64) string {
	if n < 0 {
		return "-" + group(strconv.FormatUint(uint64(-n), 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// Percent formats bp as a percentage with two decimals, without the sign:
// 1234 → "12.34" (the same digits as fen in yuan).
func Percent(bp int64) string { return Yuan(bp) }

// Multiple formats bp as a multiple with two decimals: 25000 → "2.50".
func Multiple(bp int64) string {
	neg := bp < 0
	u := uint64(bp)
	if neg {
		u = -u
	}
	// two decimals of bp/10000, rounded half up: hundredths = bp/100.
	h := (u + 50) / 100
	s := strconv.FormatUint(h/100, 10) + "." + pad2(h%100)
	if neg {
		return "-" + s
	}
	return s
}

func pad2(v uint64) string {
	if v < 10 {
		return "0" + strconv.FormatUint(v, 10)
	}
	return strconv.FormatUint(v, 10)
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	out := make([]byte, 0, len(digits)+len(digits)/3)
	lead := len(digits) % 3
	if lead > 0 {
		out = append(out, digits[:lead]...)
	}
	for i := lead; i < len(digits); i += 3 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i:i+3]...)
	}
	return string(out)
}

// Display formats a KPI value for the HTML page: money as ¥, rates as %,
// ROI as a multiple, counts grouped; "—" when absent.
func Display(kpi string, v *int64) string {
	if v == nil {
		return "—"
	}
	switch {
	case kpi == campaign.KPIROI:
		return Multiple(*v) + "×"
	case UnitOf(kpi) == UnitFen:
		return YuanDisplay(*v)
	case UnitOf(kpi) == UnitBP:
		return Percent(*v) + "%"
	}
	return Count(*v)
}

// plain formats a KPI value for the CSV and names its unit there.
func plain(kpi string, v *int64) string {
	if v == nil {
		return ""
	}
	switch {
	case kpi == campaign.KPIROI:
		return Multiple(*v)
	case UnitOf(kpi) == UnitFen:
		return Yuan(*v)
	case UnitOf(kpi) == UnitBP:
		return Percent(*v)
	}
	return strconv.FormatInt(*v, 10)
}

func csvUnit(kpi string) string {
	switch {
	case kpi == campaign.KPIROI:
		return "x"
	case UnitOf(kpi) == UnitFen:
		return "CNY"
	case UnitOf(kpi) == UnitBP:
		return "%"
	}
	return "count"
}

// label is the name of code in lang from the catalogue, key prefix+code
// (kpi., pace., phase., step.); the code itself when it has none.
func label(lang, prefix, code string) string {
	if key := prefix + code; i18n.Has(lang, key) {
		return i18n.T(lang, key)
	}
	return code
}
