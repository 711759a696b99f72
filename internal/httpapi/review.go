package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/review"
)

type reviewOut struct{ Body *review.CampaignReview }

// fileOut is a rendered review: the body is written as-is.
type fileOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CSP                string `header:"Content-Security-Policy"`
	CacheControl       string `header:"Cache-Control"`
	Body               []byte
}

func (s *Server) registerReview() {
	const tag = "Campaigns"
	huma.Register(s.api, op("campaign-review", http.MethodGet, "/api/v1/campaigns/{id}/review",
		"The campaign's review (复盘): plan vs actual per KPI and phase, channel ROI, promotions, funnel, new vs returning customers, top SKUs, stock-outs", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*reviewOut, error) {
			r, err := s.review(ctx, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &reviewOut{Body: r}, nil
		})

	html := op("campaign-review-html", http.MethodGet, "/api/v1/campaigns/{id}/review.html",
		"The campaign's review as a printable HTML page in the shop's language (self-contained)", tag, rolesRead)
	html.Responses = map[string]*huma.Response{"200": {Description: "The review page", Content: map[string]*huma.MediaType{
		"text/html": {Schema: &huma.Schema{Type: huma.TypeString}}}}}
	huma.Register(s.api, html, func(ctx context.Context, in *idInput) (*fileOut, error) {
		r, err := s.review(ctx, in.ID)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		var b bytes.Buffer
		if err := review.HTML(&b, r); err != nil {
			return nil, s.fail(ctx, err)
		}
		return &fileOut{ContentType: "text/html; charset=utf-8", CacheControl: "no-store", CSP: cspPage, Body: b.Bytes()}, nil
	})

	csvOp := op("campaign-review-csv", http.MethodGet, "/api/v1/campaigns/{id}/review.csv",
		"The campaign's review as one CSV table with a section column (UTF-8 with BOM, money in yuan; header and notes in the shop's language, every other cell a code)", tag, rolesRead)
	csvOp.Responses = map[string]*huma.Response{"200": {Description: "The review table", Content: map[string]*huma.MediaType{
		"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}}}}
	huma.Register(s.api, csvOp, func(ctx context.Context, in *idInput) (*fileOut, error) {
		r, err := s.review(ctx, in.ID)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		var b bytes.Buffer
		if err := review.CSV(&b, r); err != nil {
			return nil, s.fail(ctx, err)
		}
		return &fileOut{ContentType: "text/csv; charset=utf-8", CacheControl: "no-store",
			ContentDisposition: `attachment; filename="` + asciiName("review-"+r.CampaignID) + `.csv"`, Body: b.Bytes()}, nil
	})
}

// review builds the report of the caller's campaign id as of now.
func (s *Server) review(ctx context.Context, id string) (*review.CampaignReview, error) {
	shopID := CallerFrom(ctx).ShopID()
	c, err := s.cfg.Campaigns.Get(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	shop, err := s.cfg.Commerce.Shop(ctx, shopID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(shop.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c.ShopID = shopID
	r, err := review.Build(ctx, s.cfg.Review, c, loc, s.cfg.Commerce.Now())
	if err != nil {
		return nil, err
	}
	return r.In(shop.Settings.Effective().Language), nil
}

// asciiName keeps letters, digits, '-' and '_' so a filename is safe in a
// header whatever an id holds.
func asciiName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
