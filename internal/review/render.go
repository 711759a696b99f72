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
)

//go:embed templates/review.html
var pageSrc string

var page = template.Must(template.New("review").Funcs(funcs(time.UTC)).Parse(pageSrc))

func funcs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"yuan":     YuanDisplay,
		"count":    Count,
		"countp":   func(v *int64) string { return orDash(v, Count) },
		"pct":      func(v *int64) string { return orDash(v, func(x int64) string { return Percent(x) + "%" }) },
		"multiple": func(v *int64) string { return orDash(v, func(x int64) string { return Multiple(x) + "×" }) },
		"val":      Display,
		"kpi":      func(k string) string { return label(KPILabels, k) },
		"status":   func(s string) string { return label(StatusLabels, s) },
		"phase":    func(k string) string { return label(PhaseLabels, k) },
		"step":     func(s string) string { return label(StepLabels, s) },
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

// HTML renders the report as a self-contained printable page: bilingual
// headings, money as ¥1,234.56, rates as %, pace statuses coloured, no
// external assets. Every value is escaped by html/template.
func HTML(w io.Writer, r *CampaignReview) error {
	loc := r.location()
	t, err := page.Clone()
	if err != nil {
		return err
	}
	notes := map[string]string{}
	for _, n := range r.Notes {
		notes[n.Section] = "暂无数据 " + n.Note
	}
	var buf bytes.Buffer
	err = t.Funcs(funcs(loc)).Execute(&buf, struct {
		R         *CampaignReview
		Note      map[string]string
		Generated string
		Covers    string
		Note2     string
	}{r, notes, r.GeneratedAt.In(loc).Format("2006-01-02 15:04"), r.Window.span(loc), CoversNote})
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// CoversNote says that every figure is bounded by the review's window.
const CoversNote = "所有数字只计此区间内发生的 every figure counts only what happened in this window"

// span is the window as shop-local "from – to" minutes.
func (c Coverage) span(loc *time.Location) string {
	const f = "2006-01-02 15:04"
	return c.From.In(loc).Format(f) + " – " + c.To.In(loc).Format(f)
}

// CSVHeader is the CSV's header row.
var CSVHeader = []string{"section", "item", "metric", "target", "target_to_date", "value", "unit", "rate_pct", "status", "note"}

// BOM starts the CSV so spreadsheet programs read it as UTF-8.
const BOM = "\ufeff"

// CSV renders the report as one table with a section column, behind a
// UTF-8 BOM. Money is yuan with two decimals, rates percent with two.
func CSV(w io.Writer, r *CampaignReview) error {
	var buf bytes.Buffer
	buf.WriteString(BOM)
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	// row writes a row without a target-to-date (every row but a KPI's).
	row := func(cells ...string) { _ = cw.Write(append(cells[:4:4], append([]string{""}, cells[4:]...)...)) }
	_ = cw.Write(CSVHeader)
	loc := r.location()
	prov := ""
	if r.Provisional {
		prov = "provisional 进行中"
	}
	row("campaign", text(r.Name), "window", "", r.FirstDay+" – "+r.LastDay, r.TimeZone, "", r.Status, prov)
	row("campaign", text(r.Name), "covers", "", r.Window.span(loc), r.Window.TimeZone, "", "", CoversNote)
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
		row(SecFunnel, f.Step, "visitors", "", itoa(f.Visitors), "count", pctCell(f.FromPrevious), "", "rate_pct = from previous step; from visit "+pctCell(f.FromVisit))
	}
	if c := r.Customers; c != nil {
		row(SecCustomers, "paying", "customers", "", itoa(c.Paying), "count", "", "", "")
		row(SecCustomers, "new", "customers", "", itoa(c.New), "count", pctCell(c.NewShare), "", "rate_pct = share of paying")
		row(SecCustomers, "returning", "customers", "", itoa(c.Returning), "count", "", "", "")
	}
	for _, s := range r.TopSKUs {
		item := text(s.Name + " (" + s.SKUID + ")")
		row(SecTopSKUs, item, "units", "", itoa(s.Units), "count", "", "", "")
		row(SecTopSKUs, item, "paid_amount", "", Yuan(s.PaidAmount), "CNY", "", "", "")
		row(SecTopSKUs, item, "product_views", "", itoa(s.ProductViews), "count", pctCell(s.Conversion), "", "rate_pct = conversion")
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
