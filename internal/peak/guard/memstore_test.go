package guard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// memStore is a Store in memory, for the guard's own tests; the SQL stores
// pass the same behaviour in storetest.
type memStore struct {
	mu       sync.Mutex
	blocks   []Block
	refusals []RefusalRecord
	audit    []commerce.AuditEntry
	policies map[string]Policy
	// hold, when set, makes SaveRefusals wait until it is closed.
	hold chan struct{}
	// saveErr, when set, is what SaveBlock answers (a store that refuses).
	saveErr error
}

func newMemStore() *memStore { return &memStore{policies: map[string]Policy{}} }

func (m *memStore) SaveBlock(_ context.Context, b *Block, a *commerce.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.blocks = append(m.blocks, *b)
	m.audit = append(m.audit, *a)
	return nil
}

func (m *memStore) LiftBlock(_ context.Context, shopID, id string, at time.Time, actor string, a *commerce.AuditEntry) (*Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.blocks, func(b Block) bool { return b.ShopID == shopID && b.ID == id })
	if i < 0 {
		return nil, commerce.ErrNotFound
	}
	if m.blocks[i].LiftedAt != nil {
		return nil, commerce.ErrStale
	}
	target := m.blocks[i]
	for j := range m.blocks {
		b := &m.blocks[j]
		if b.ShopID == shopID && b.Dimension == target.Dimension && b.Key == target.Key && b.LiftedAt == nil {
			b.LiftedAt, b.LiftedBy, b.UpdatedAt = &at, actor, at
		}
	}
	m.audit = append(m.audit, *a)
	out := m.blocks[i]
	return &out, nil
}

func (m *memStore) ActiveBlocks(_ context.Context, now time.Time) ([]Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Block
	for _, b := range m.blocks {
		if b.ActiveAt(now) {
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *memStore) BlocksChangedSince(_ context.Context, since time.Time) ([]Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Block
	for _, b := range m.blocks {
		if !b.UpdatedAt.Before(since) {
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *memStore) ListBlocks(_ context.Context, shopID string, activeAt *time.Time, p commerce.Page) ([]Block, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Block
	for _, b := range slices.Backward(m.blocks) {
		if b.ShopID == shopID && (activeAt == nil || b.ActiveAt(*activeAt)) && (p.Cursor == "" || b.ID < p.Cursor) && len(out) < p.Limit {
			out = append(out, b)
		}
	}
	return out, nil
}

func (m *memStore) SaveRefusals(_ context.Context, rs []RefusalRecord) error {
	if m.hold != nil {
		<-m.hold
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refusals = append(m.refusals, rs...)
	return nil
}

func (m *memStore) ListRefusals(_ context.Context, shopID string, f RefusalFilter, p commerce.Page) ([]RefusalRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []RefusalRecord
	for _, r := range slices.Backward(m.refusals) {
		if r.ShopID == shopID && (f.Scope == "" || f.Scope == r.Scope) && (f.Rule == "" || f.Rule == r.Rule) && len(out) < p.Limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) GuardPolicy(_ context.Context, shopID string) (*Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.policies[shopID]
	if !ok {
		return nil, commerce.ErrNotFound
	}
	return &p, nil
}

func (m *memStore) SaveGuardPolicy(_ context.Context, shopID string, p Policy, _ time.Time, a *commerce.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.policies[shopID] = p
	m.audit = append(m.audit, *a)
	return nil
}

func (m *memStore) blocksOf(dim, key string) []Block {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Block
	for _, b := range m.blocks {
		if b.Dimension == dim && b.Key == key {
			out = append(out, b)
		}
	}
	return out
}

func (m *memStore) auditActions() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, a := range m.audit {
		out = append(out, a.Action)
	}
	return strings.Join(out, ",")
}
