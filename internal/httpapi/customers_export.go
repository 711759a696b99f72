package httpapi

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// RecallCSVHeader is the recall export's header row. The columns are
// stable: new ones are only ever added at the end.
var RecallCSVHeader = []string{"customer_id", "external_id", "name", "phone", "email", "tier", "tags", "growth_value", "points",
	"marketing_consent", "last_paid_at", "first_paid_at", "created_at"}

// recallPage is how many customers one read of the export scans.
var recallPage = commerce.MaxRecallPage

type recallIn struct {
	DormantDays      int       `query:"dormant_days" minimum:"0" maximum:"3650" doc:"Keep customers with no paid order in the last N days (0: no such filter)"`
	NoPaidSince      time.Time `query:"no_paid_since" doc:"Keep customers with no paid order at or after this time (RFC 3339, any offset)"`
	EverPaid         string    `query:"ever_paid" enum:"true,false," doc:"true: only customers who have paid for an order; false: only those who never have"`
	Tier             string    `query:"tier" maxLength:"200" doc:"Keep customers of this member tier"`
	Tag              string    `query:"tag" maxLength:"64" doc:"Keep customers with this tag"`
	MarketingConsent string    `query:"marketing_consent" enum:"true,false," doc:"Keep customers whose marketing consent is this"`
}

func optBool(s string) *bool {
	if s == "" {
		return nil
	}
	v := s == "true"
	return &v
}

func (in *recallIn) filter(now time.Time) commerce.RecallFilter {
	f := commerce.RecallFilter{EverPaid: optBool(in.EverPaid), Tier: in.Tier, Tag: in.Tag, Consent: optBool(in.MarketingConsent)}
	cut := in.NoPaidSince
	if in.DormantDays > 0 {
		if d := now.AddDate(0, 0, -in.DormantDays); cut.IsZero() || d.Before(cut) {
			cut = d
		}
	}
	if !cut.IsZero() {
		cut = cut.UTC()
		f.NoPaidSince = &cut
	}
	return f
}

// registerCustomerExport serves the recall list as CSV.
func (s *Server) registerCustomerExport() {
	o := op("export-customers-csv", http.MethodGet, "/api/v1/customers/export.csv",
		"Export a recall list of customers with their contact data as CSV (admins and operators; audited)", "Customers", rolesWrite)
	o.Description = "The shop's customers the filters keep (all of them with none; never an erased one), one row each, in id order, " +
		"as UTF-8 CSV with a BOM and a header row of stable column names: " + strings.Join(RecallCSVHeader, ", ") + ". " +
		"Contact fields are in full; `marketing_consent` is `true` or `false` — message only customers with `true`. " +
		"`tags` are joined with `|`; times are RFC 3339 in the shop's time zone, empty when there is none; a cell starting with " +
		"= + - @ is prefixed with ' so spreadsheet programs do not run it. Every export is written to the audit log " +
		"(action export, entity customers) with the caller's key and the filter before any row is read. " +
		"`dormant_days` and `no_paid_since` together keep customers with no paid order since the earlier of the two. The answer is streamed."
	o.Responses = map[string]*huma.Response{"200": {Description: "The recall list", Content: map[string]*huma.MediaType{
		"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}}}}
	huma.Register(s.api, o, func(ctx context.Context, in *recallIn) (*huma.StreamResponse, error) {
		c := CallerFrom(ctx)
		f := in.filter(s.cfg.Commerce.Now())
		shop, err := s.cfg.Commerce.Shop(ctx, c.ShopID())
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		loc, err := time.LoadLocation(shop.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		if err := s.cfg.Commerce.StartRecallExport(ctx, c.Actor(), f); err != nil {
			return nil, s.fail(ctx, err)
		}
		first, next, err := s.cfg.Commerce.RecallPage(ctx, c.ShopID(), f, "", recallPage)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &huma.StreamResponse{Body: func(hc huma.Context) {
			s.writeRecall(hc, c.ShopID(), f, loc, first, next)
		}}, nil
	})
}

func (s *Server) writeRecall(hc huma.Context, shopID string, f commerce.RecallFilter, loc *time.Location, page []commerce.RecallRow, next string) {
	ctx := hc.Context()
	_, w := humago.Unwrap(hc)
	rc := http.NewResponseController(w)
	// A large export outlasts the server's write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
	hc.SetHeader("Content-Disposition", `attachment; filename="customers-recall.csv"`)
	hc.SetHeader("Cache-Control", "no-store")
	hc.SetStatus(http.StatusOK)
	out := hc.BodyWriter()
	if _, err := out.Write([]byte("\ufeff")); err != nil {
		return
	}
	cw := csv.NewWriter(out)
	cw.UseCRLF = true
	_ = cw.Write(RecallCSVHeader)
	when := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	for {
		for _, r := range page {
			created := r.CreatedAt
			_ = cw.Write([]string{r.ID, csvCell(r.ExternalID), csvCell(r.Name), csvCell(r.Phone), csvCell(r.Email), csvCell(r.Tier),
				csvCell(strings.Join(r.Tags, "|")), strconv.FormatInt(r.GrowthValue, 10), strconv.FormatInt(r.Points, 10),
				strconv.FormatBool(r.MarketingConsent), when(r.LastPaidAt), when(r.FirstPaidAt), when(&created)})
		}
		cw.Flush()
		if cw.Error() != nil || next == "" {
			return
		}
		_ = rc.Flush()
		var err error
		if page, next, err = s.cfg.Commerce.RecallPage(ctx, shopID, f, next, recallPage); err != nil {
			// The status is sent: all that is left is to stop short,
			// which the client sees as a truncated body.
			s.log.Error("customer export", "err", err, "shop", shopID)
			return
		}
	}
}

// csvCell keeps a cell a spreadsheet would run as a formula from being one.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
