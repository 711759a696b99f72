package commerce

import (
	"context"
	"sync"
	"time"
)

// zones caches time zones by name: time.LoadLocation reads and parses the
// zone database on every call, too slow for a quote or an ingested batch.
var zones sync.Map // name → *time.Location

// LoadLocation is time.LoadLocation with a process-wide cache. Names that
// fail to load are not cached.
func LoadLocation(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// Location is the shop's time zone; UTC when its name does not load
// (names are checked when saved, so only a zone database missing a name
// it once had gets there).
func (s *Shop) Location() *time.Location {
	if l, err := LoadLocation(s.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// ShopLocation is the time zone of shop id: the one its days are counted
// in and its times are answered in.
func (s *Service) ShopLocation(ctx context.Context, id string) (*time.Location, error) {
	sh, err := s.Shop(ctx, id)
	if err != nil {
		return nil, err
	}
	return sh.Location(), nil
}
