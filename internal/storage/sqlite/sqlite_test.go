package sqlite_test

import (
	"testing"

	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func open(t *testing.T) *sqlstore.Store { return storetest.OpenSQLite(t) }

func TestSQLiteContract(t *testing.T) { storetest.Run(t, open) }

func TestSQLiteOrderLimitsContract(t *testing.T) { storetest.RunOrderLimits(t, open) }

func TestSQLitePromotionContract(t *testing.T) { storetest.RunPromotions(t, open) }

func TestSQLitePeakContract(t *testing.T) {
	storetest.RunPeak(t, open, func(*testing.T) peak.Engine { return peak.NewMemory() })
}
func TestSQLiteGuardContract(t *testing.T) { storetest.RunGuard(t, open) }

func TestSQLitePresaleContract(t *testing.T) { storetest.RunPresales(t, open) }

func TestSQLiteGroupBuyContract(t *testing.T) { storetest.RunGroupBuys(t, open) }

func TestSQLiteCampaignContract(t *testing.T)  { storetest.RunCampaigns(t, open) }
func TestSQLiteAnalyticsContract(t *testing.T) { storetest.RunAnalytics(t, open) }
func TestSQLiteReviewContract(t *testing.T)    { storetest.RunReview(t, open) }

func TestSQLiteAttributionContract(t *testing.T)    { storetest.RunAttribution(t, open) }
func TestSQLiteAlertContract(t *testing.T)          { storetest.RunAlerts(t, open) }
func TestSQLiteAnalyticsViewsContract(t *testing.T) { storetest.RunAnalyticsViews(t, open) }

func TestSQLiteShopSketchesContract(t *testing.T) { storetest.RunShopSketches(t, open) }

func TestSQLiteAnalyticsNodesContract(t *testing.T) {
	storetest.RunAnalyticsNodes(t, storetest.SQLiteNodes)
}

func TestSQLiteAuditContract(t *testing.T) { storetest.RunAudit(t, open) }

func TestSQLiteCustomerStampContract(t *testing.T) { storetest.RunCustomerStamps(t, open) }
