package review

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/i18n"
)

//go:embed templates/review.html
var pageSrc string

var page = template.Must(template.New("review").Funcs(funcs(time.UTC, i18n.Default)).Parse(pageSrc))

func funcs(loc *time.Location, lang string) template.FuncMap {
	return template.FuncMap{
		"t":        func(key string) string { return i18n.T(lang, key) },
		"yuan":     YuanDisplay,
		"count":    Count,
		"countp":   func(v *int64) string { return orDash(v, Count) },
		"pct":      func(v *int64) string { return orDash(v, func(x int64) string { return Percent(x) + "%" }) },
		"multiple": func(v *int64) string { return orDash(v, func(x int64) string { return Multiple(x) + "×" }) },
		"val":      Display,
		"kpi":      func(k string) string { return label(lang, "kpi.", k) },
		"status":   func(s string) string { return label(lang, "pace.", s) },
		"phase":    func(k string) string { return label(lang, "phase.", k) },
		"step":     func(s string) string { return label(lang, "step.", s) },
		"localtime": func(v any) string {
			switch t := v.(type) {
			case time.Time:
				return t.In(loc).Format("2006-01-02 15:04")
			case *time.Time:
				if t != nil {
					return t.In(loc).Format("2006-01-02 15:04")
				}
			}
			return "—"
		},
	}
}

func orDash(v *int64, f func(int64) string) string {
	if v == nil {
		return "—"
	}
	return f(*v)
}

// location is the report's shop zone (UTC when unknown).
func (r *CampaignReview) location() *time.Location {
	if loc, err := time.LoadLocation(r.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// HTML renders the report as a self-contained printable page in the
// review's language (r.Language): money as ¥1,234.56, rates as %, pace
// statuses coloured, no external assets. Every value is escaped by
// html/template.
func HTML(w io.Writer, r *CampaignReview) error {
	loc, lang := r.location(), i18n.Or(r.Language)
	t, err := page.Clone()
	if err != nil {
		return err
	}
	notes := map[string]string{}
	for _, n := range r.Notes {
		notes[n.Section] = n.Note
	}
	var buf bytes.Buffer
	err = t.Funcs(funcs(loc, lang)).Execute(&buf, struct {
		R         *CampaignReview
		Lang      string
		Note      map[string]string
		Generated string
		Covers    string
	}{r, lang, notes, r.GeneratedAt.In(loc).Format("2006-01-02 15:04"), r.Window.span(loc)})
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// span is the window as shop-local "from – to" minutes.
func (c Coverage) span(loc *time.Location) string {
	const f = "2006-01-02 15:04"
	return c.From.In(loc).Format(f) + " – " + c.To.In(loc).Format(f)
}

// CSVHeader is the CSV's header row in English (its column codes).
var CSVHeader = CSVHeaderIn(i18n.En)

// CSVHeaderIn is the CSV's header row in lang.
func CSVHeaderIn(lang string) []string {
	cols := []string{"section", "item", "metric", "target", "target_to_date", "value", "unit", "rate_pct", "status", "note"}
	for i, c := range cols {
		cols[i] = i18n.T(lang, "review.csv."+c)
	}
	return cols
}

// BOM starts the CSV so spreadsheet programs read it as UTF-8.
const BOM = "\ufeff"

// CSV renders the report as one table with a section column, behind a
// UTF-8 BOM. Money is yuan with two decimals, rates percent with two. The
// header and the notes are in the review's language; sections, items,
// metrics, units and statuses are codes, the same in every language.
func CSV(w io.Writer, r *CampaignReview) error {
	lang := i18n.Or(r.Language)
	var buf bytes.Buffer
	buf.WriteString(BOM)
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	// row writes a row without a target-to-date (every row but a KPI's).
	row := func(cells ...string) { _ = cw.Write(append(cells[:4:4], append([]string{""}, cells[4:]...)...)) }
	_ = cw.Write(CSVHeaderIn(lang))
	loc := r.location()
	prov := ""
	if r.Provisional {
		prov = i18n.T(lang, "review.csv.provisional")
	}
	row("campaign", text(r.Name), "window", "", r.FirstDay+" – "+r.LastDay, r.TimeZone, "", r.Status, prov)
	row("campaign", text(r.Name), "covers", "", r.Window.span(loc), r.Window.TimeZone, "", "", i18n.T(lang, "review.covers_note"))
	kpis := func(section, item string, ks []PlanRow) {
		for _, k := range ks {
			_ = cw.Write([]string{section, item, k.KPI, plain(k.KPI, k.Target), plain(k.KPI, k.TargetToDate), plain(k.KPI, k.Actual), csvUnit(k.KPI),
				pctCell(k.Attainment), k.Status, ""})
		}
	}
	kpis(SecPlan, "campaign", r.KPIs)
	for _, p := range r.Phases {
		item := p.Kind
		if p.Name != "" {
			item += " " + text(p.Name)
		}
		kpis(SecPhases, item, p.KPIs)
	}
	for _, c := range r.Channels {
		note := text(c.UTMSource + "/" + c.UTMMedium + "/" + c.UTMCampaign)
		row(SecChannels, text(c.Channel), "budget", "", Yuan(c.Budget), "CNY", "", "", note)
		row(SecChannels, text(c.Channel), "spend", "", Yuan(c.Spend), "CNY", "", "", note)
		row(SecChannels, text(c.Channel), "uv", "", itoa(c.UV), "count", "", "", note)
		row(SecChannels, text(c.Channel), "orders", "", itoa(c.Orders), "count", "", "", note)
		row(SecChannels, text(c.Channel), "paid_amount", "", Yuan(c.PaidAmount), "CNY", "", "", note)
		row(SecChannels, text(c.Channel), "roi", "", multCell(c.ROI), "x", "", "", note)
	}
	for _, p := range r.Promotions {
		item := text(p.Name + " (" + p.ID + ")")
		row(SecPromotions, item, "orders", "", itoa(p.Orders), "count", "", "", p.Kind)
		row(SecPromotions, item, "discount_cost", "", Yuan(p.DiscountCost), "CNY", "", "", p.Kind)
		if p.Issued != nil {
			row(SecPromotions, item, "issued", "", itoa(*p.Issued), "count", "", "", p.Kind)
		}
		if p.Redeemed != nil {
			row(SecPromotions, item, "redeemed", "", itoa(*p.Redeemed), "count", "", "", p.Kind)
		}
		row(SecPromotions, item, "redemption", "", "", "", pctCell(p.Redemption), "", p.Kind)
	}
	for _, f := range r.Funnel {
		row(SecFunnel, f.Step, "visitors", "", itoa(f.Visitors), "count", pctCell(f.FromPrevious), "", i18n.T(lang, "review.csv.from_previous", pctCell(f.FromVisit)))
	}
	if c := r.Customers; c != nil {
		row(SecCustomers, "paying", "customers", "", itoa(c.Paying), "count", "", "", "")
		row(SecCustomers, "new", "customers", "", itoa(c.New), "count", pctCell(c.NewShare), "", i18n.T(lang, "review.csv.new_share"))
		row(SecCustomers, "returning", "customers", "", itoa(c.Returning), "count", "", "", "")
	}
	for _, s := range r.TopSKUs {
		item := text(s.Name + " (" + s.SKUID + ")")
		row(SecTopSKUs, item, "units", "", itoa(s.Units), "count", "", "", "")
		row(SecTopSKUs, item, "paid_amount", "", Yuan(s.PaidAmount), "CNY", "", "", "")
		row(SecTopSKUs, item, "product_views", "", itoa(s.ProductViews), "count", pctCell(s.Conversion), "", i18n.T(lang, "review.csv.conversion"))
	}
	for _, s := range r.StockOuts {
		at := ""
		if s.At != nil {
			at = s.At.In(loc).Format("2006-01-02 15:04")
		}
		status := "restocked"
		if s.Out {
			status = "still_out"
		}
		note := s.Source
		if s.SaleID != "" {
			note += " " + s.SaleID
		}
		row(SecStockOuts, text(s.Name+" ("+s.SKUID+")"), "out_at", "", at, "", "", status, note)
	}
	for _, n := range r.Notes {
		row(n.Section, "", "", "", "", "", "", "", n.Note)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func pctCell(v *int64) string {
	if v == nil {
		return ""
	}
	return Percent(*v)
}

func multCell(v *int64) string {
	if v == nil {
		return ""
	}
	return Multiple(*v)
}

// text guards a free-text cell against spreadsheet formula injection: a
// cell starting with = + - @ or a control character is prefixed with '.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
