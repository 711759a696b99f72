package postgres_test

import (
	"testing"

	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func TestPostgresContract(t *testing.T) { storetest.Run(t, storetest.OpenPostgres) }

func TestPostgresOrderLimitsContract(t *testing.T) {
	storetest.RunOrderLimits(t, storetest.OpenPostgres)
}

func TestPostgresPromotionContract(t *testing.T) { storetest.RunPromotions(t, storetest.OpenPostgres) }

func TestPostgresPeakContract(t *testing.T) {
	storetest.RunPeak(t, storetest.OpenPostgres, func(*testing.T) peak.Engine { return peak.NewMemory() })
}
func TestPostgresGuardContract(t *testing.T) { storetest.RunGuard(t, storetest.OpenPostgres) }

func TestPostgresPresaleContract(t *testing.T) { storetest.RunPresales(t, storetest.OpenPostgres) }

func TestPostgresGroupBuyContract(t *testing.T) { storetest.RunGroupBuys(t, storetest.OpenPostgres) }

func TestPostgresCampaignContract(t *testing.T)  { storetest.RunCampaigns(t, storetest.OpenPostgres) }
func TestPostgresAnalyticsContract(t *testing.T) { storetest.RunAnalytics(t, storetest.OpenPostgres) }
func TestPostgresReviewContract(t *testing.T)    { storetest.RunReview(t, storetest.OpenPostgres) }

func TestPostgresAttributionContract(t *testing.T) {
	storetest.RunAttribution(t, storetest.OpenPostgres)
}
func TestPostgresAlertContract(t *testing.T) { storetest.RunAlerts(t, storetest.OpenPostgres) }
func TestPostgresAnalyticsViewsContract(t *testing.T) {
	storetest.RunAnalyticsViews(t, storetest.OpenPostgres)
}

func TestPostgresShopSketchesContract(t *testing.T) {
	storetest.RunShopSketches(t, storetest.OpenPostgres)
}

func TestPostgresAnalyticsNodesContract(t *testing.T) {
	storetest.RunAnalyticsNodes(t, storetest.PostgresNodes)
}

func TestPostgresAuditContract(t *testing.T) { storetest.RunAudit(t, storetest.OpenPostgres) }

func TestPostgresCustomerStampContract(t *testing.T) {
	storetest.RunCustomerStamps(t, storetest.OpenPostgres)
}
