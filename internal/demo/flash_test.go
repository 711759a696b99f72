package demo

import (
	"context"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

func TestDemoFlashSaleIsLiveAndSells(t *testing.T) {
	s := seedSmall(t)
	ctx := context.Background()
	ps := promotion.New(s.st, s.svc)
	fl := peak.NewFlash(s.st, s.svc, peak.NewMemory(), peak.Options{})
	res, err := SeedFlash(ctx, fl, ps, s.svc, s.res.Shop.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sale, err := fl.Sale(ctx, s.res.Shop.ID, res.Live)
	if err != nil {
		t.Fatal(err)
	}
	if sale.Phase != peak.PhaseLive || len(sale.Items) == 0 {
		t.Fatalf("demo sale %+v is not live", sale)
	}
	custs := s.cs
	if len(custs) == 0 {
		t.Fatal("no demo customers")
	}
	it := sale.Items[0]
	o, _, err := fl.Buy(ctx, s.res.Shop.ID, sale.ID, peak.BuyRequest{SKUID: it.SKUID, CustomerID: custs[0].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Lines[0].Payable > it.FlashPrice || o.Lines[0].ItemDiscount == 0 {
		t.Fatalf("flash order line %+v, flash price %d", o.Lines[0], it.FlashPrice)
	}
	if _, _, err := peak.NewGrabs(peak.NewMemory(), ps, nil).Grab(ctx, s.res.Shop.ID, res.GrabTemplate, custs[0].ID, ""); err != nil {
		t.Fatalf("grab the demo coupon: %v", err)
	}
}
