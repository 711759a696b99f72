// Package storetest is the contract every storage engine passes: the same
// scenarios, run through the commerce service against a real database, on
// SQLite and on PostgreSQL.
package storetest

import (
	"context"
	"github.com/carnivalhq/carnival/internal/clock"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// Opener returns a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) *sqlstore.Store

// NewClock returns a test clock at a fixed instant (11 November 2026).
func NewClock() *clock.Settable {
	return clock.At(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
}

// Env is one test's service, clock and shop.
type Env struct {
	Store *sqlstore.Store
	Svc   *commerce.Service
	Clock *clock.Settable
	Shop  *commerce.Shop
	Admin commerce.Actor
}

// NewEnv opens a store and creates a shop in it.
func NewEnv(t *testing.T, open Opener) *Env {
	t.Helper()
	st := open(t)
	clk := NewClock()
	svc := commerce.NewService(st, commerce.Options{Now: clk.Now})
	shop, err := svc.CreateShop(context.Background(), "Test shop", "")
	if err != nil {
		t.Fatalf("create shop: %v", err)
	}
	return &Env{Store: st, Svc: svc, Clock: clk, Shop: shop, Admin: commerce.Actor{ShopID: shop.ID, KeyID: "key_test", Role: commerce.RoleAdmin}}
}

// Run runs the whole contract against open.
func Run(t *testing.T, open Opener) {
	t.Run("ShopsAndKeys", func(t *testing.T) { testShopsAndKeys(t, open) })
	t.Run("PaymentCallbackSecrets", func(t *testing.T) { testPaymentCallbackSecrets(t, open) })
	t.Run("Catalog", func(t *testing.T) { testCatalog(t, open) })
	t.Run("Customers", func(t *testing.T) { testCustomers(t, open) })
	t.Run("PartialCustomerWrites", func(t *testing.T) { testPartialCustomerWrites(t, open) })
	t.Run("PartialCatalogWrites", func(t *testing.T) { testPartialCatalogWrites(t, open) })
	t.Run("OrderLifecycle", func(t *testing.T) { testOrderLifecycle(t, open) })
	t.Run("PaymentTimeout", func(t *testing.T) { testPaymentTimeout(t, open) })
	t.Run("Refunds", func(t *testing.T) { testRefunds(t, open) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("Points", func(t *testing.T) { testPointsHolds(t, open) })
	t.Run("ConcurrentLastUnits", func(t *testing.T) { testConcurrentLastUnits(t, open) })
	t.Run("PayVersusTimeoutRace", func(t *testing.T) { testPayVersusTimeout(t, open) })
	t.Run("ConcurrentReplays", func(t *testing.T) { testConcurrentReplays(t, open) })
	t.Run("Tenancy", func(t *testing.T) { testTenancy(t, open) })
}

// SeedSKU creates one product with one SKU of the given price and stock.
func (e *Env) SeedSKU(t *testing.T, code string, price, stock int64) *commerce.SKU {
	t.Helper()
	skus, err := e.Svc.UpsertProducts(context.Background(), e.Admin, []commerce.ProductUpsert{{
		Code: "P-" + code, Name: "Product " + code,
		SKUs: []commerce.SKUUpsert{{Code: code, Price: price, Cost: price / 2, Stock: &stock}},
	}})
	if err != nil {
		t.Fatalf("seed sku %s: %v", code, err)
	}
	return &skus[0]
}

// SeedCustomer creates a customer.
func (e *Env) SeedCustomer(t *testing.T, ext string) *commerce.Customer {
	t.Helper()
	cs, err := e.Svc.UpsertCustomers(context.Background(), e.Admin, []commerce.Customer{{ExternalID: ext, Name: "张三丰", Phone: "13812345678", Email: "zhang@example.com", Tier: "gold"}})
	if err != nil {
		t.Fatalf("seed customer: %v", err)
	}
	return &cs[0]
}

func (e *Env) sku(t *testing.T, id string) *commerce.SKU {
	t.Helper()
	k, err := e.Svc.SKU(context.Background(), e.Shop.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := commerce.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}
