package commerce

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/carnivalhq/carnival/internal/i18n"
	"github.com/carnivalhq/carnival/internal/netguard"
)

// Service is the commerce core's use cases over a Store. It is safe for
// concurrent use.
type Service struct {
	store Store
	now   func() time.Time
	newID func(prefix string) string
	// pricer prices carts for orders; nil means list prices.
	pricer Pricer
	// released are told about orders whose holds were released.
	released []func(ctx context.Context, shopID, orderID string)
	// orderEvents are told about order changes (events.go).
	orderEvents []func(ctx context.Context, e OrderEvent)
	// fulfilGates may refuse fulfilment (see gate.go).
	fulfilGates []FulfilGate
	// shops and keys are read on every storefront request; they change
	// rarely, so they are cached briefly (changes made through this
	// service take effect at once, others within cacheTTL).
	shops *ttlCache[*Shop]
	keys  *ttlCache[*APIKey]
	skus  *ttlCache[*SKU] // for quotes only
	// customers are for quotes only, each with the change stamp it was
	// read at; a quote serves one only while the stamp in the database is
	// the same (see customerFor).
	customers *ttlCache[stamped]
}

// skuCacheTTL bounds how stale a quote's prices or stock can be after a
// change made by another process; orders always read fresh.
const skuCacheTTL = time.Second

// customerCacheTTL only bounds how long an idle customer stays in memory:
// a cached customer is checked against its stamp on every quote.
const customerCacheTTL = time.Minute

// cacheTTL bounds how long a shop setting or a revoked key made by another
// process (another node, the CLI) can go unseen.
const cacheTTL = 5 * time.Second

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// Now is the clock; tests pass a fake one.
	Now func() time.Time
	// NewID makes prefixed sortable ids; tests may pass a deterministic one.
	NewID func(prefix string) string
}

// NewService returns a Service over store.
func NewService(store Store, opt Options) *Service {
	s := &Service{store: store, now: opt.Now, newID: opt.NewID, shops: newTTLCache[*Shop](cacheTTL), keys: newTTLCache[*APIKey](cacheTTL), skus: newTTLCache[*SKU](skuCacheTTL),
		customers: newTTLCache[stamped](customerCacheTTL)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = NewID
	}
	return s
}

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.now() }

// ID makes a new prefixed id with the service's generator.
func (s *Service) ID(prefix string) string { return s.newID(prefix) }

// NewID returns prefix_ULID in lower case: sortable by creation time.
func NewID(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// Actor identifies who makes a change, for the audit log.
type Actor struct {
	ShopID string
	KeyID  string
	Role   string
	// Name names an actor that is not a key (e.g. ActorPaymentCallback);
	// empty with no key is the server itself, "system".
	Name string
}

// ActorPaymentCallback is the actor of a payment the shop's signed
// payment-provider callback confirmed.
const ActorPaymentCallback = "payment_callback"

func (a Actor) String() string {
	switch {
	case a.KeyID != "":
		return "key:" + a.KeyID
	case a.Name != "":
		return a.Name
	}
	return "system"
}

// Audit builds an audit entry for a change an actor made, stamped with the
// service clock; the store writes it in the change's transaction.
func (s *Service) Audit(a Actor, action, entity, id string, before, after any) *AuditEntry {
	e := &AuditEntry{ID: s.newID("aud"), ShopID: a.ShopID, Actor: a.String(), Action: action, Entity: entity, EntityID: id, At: s.now().UTC()}
	if before != nil {
		e.Before, _ = json.Marshal(before)
	}
	if after != nil {
		e.After, _ = json.Marshal(after)
	}
	return e
}

// ---- shops and keys ----

// CreateShop creates a tenant.
func (s *Service) CreateShop(ctx context.Context, name, timeZone string) (*Shop, error) {
	if strings.TrimSpace(name) == "" {
		return nil, Invalid("name", "required", "a shop needs a name")
	}
	if err := checkText("name", name, true, MaxNameLen); err != nil {
		return nil, err
	}
	if timeZone == "" {
		timeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(timeZone); err != nil {
		return nil, Invalid("time_zone", "invalid_time_zone", "unknown time zone %q", timeZone)
	}
	sh := &Shop{ID: s.newID("shop"), Name: name, Currency: DefaultCurrency, TimeZone: timeZone, CreatedAt: s.now().UTC(),
		Settings: DefaultSettings()}
	if err := s.store.CreateShop(ctx, sh); err != nil {
		return nil, fmt.Errorf("create shop: %w", err)
	}
	return sh, nil
}

// Shop returns a shop (a copy the caller may change).
func (s *Service) Shop(ctx context.Context, id string) (*Shop, error) {
	if sh, ok := s.shops.get(id); ok {
		c := *sh
		return &c, nil
	}
	sh, err := s.store.GetShop(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("shop", id)
	}
	if err != nil {
		return nil, err
	}
	c := *sh
	s.shops.put(id, &c)
	return sh, nil
}

// SettingsPatch changes some settings; nil fields stay as they are.
type SettingsPatch struct {
	PaymentTimeoutSeconds *int64  `json:"payment_timeout_seconds,omitempty"`
	ShippingFee           *int64  `json:"shipping_fee,omitempty"`
	PointsValueFen        *int64  `json:"points_value_fen,omitempty"`
	PointsMultiple        *int64  `json:"points_multiple,omitempty"`
	PointsMaxShare        *int64  `json:"points_max_share_bp,omitempty"`
	MarginFloor           *int64  `json:"margin_floor_bp,omitempty"`
	MarginMode            *string `json:"margin_mode,omitempty"`
	// WebhookAllowlist replaces the list (an empty list clears it).
	WebhookAllowlist         *[]string `json:"webhook_allowlist,omitempty" maxItems:"50" doc:"Private destinations alert webhooks may reach anyway: CIDR prefixes (10.0.0.0/8), IP addresses, or host:port (127.0.0.1:9000, alerts.internal:8443). Loopback, link-local, private and unique-local addresses are refused without an entry."`
	MaxLineQuantity          *int64    `json:"max_line_quantity,omitempty" doc:"Most units of one SKU an order may hold (1-1000000; default 99)"`
	MaxOrderQuantity         *int64    `json:"max_order_quantity,omitempty" doc:"Most units an order may hold in all (1-1000000; default 200)"`
	MaxUnpaidOrders          *int64    `json:"max_unpaid_orders,omitempty" doc:"Most unpaid orders a customer may hold at once (1-1000; default 5)"`
	MaxAnonymousUnpaidOrders *int64    `json:"max_anonymous_unpaid_orders,omitempty" doc:"Most unpaid orders an anonymous caller (known by X-Device-Id, else client IP) may hold at once (1-1000; default 5)"`
	Language                 *string   `json:"language,omitempty" enum:"zh-CN,en" doc:"Language of alert messages, reviews and (unless a request's Accept-Language asks otherwise) error details: zh-CN (default) or en. Codes never change with it."`
}

// SetIfGiven sets *dst to *v when a partial write gave v (not nil).
func SetIfGiven[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (p SettingsPatch) apply(st ShopSettings) ShopSettings {
	set := SetIfGiven[int64]
	// A shop saved before the order caps existed has them at 0 (the
	// defaults): they become explicit, so that validation sees real values.
	e := st.Effective()
	st.MaxLineQuantity, st.MaxOrderQuantity = e.MaxLineQuantity, e.MaxOrderQuantity
	st.MaxUnpaidOrders, st.MaxAnonymousUnpaidOrders = e.MaxUnpaidOrders, e.MaxAnonymousUnpaidOrders
	set(&st.MaxLineQuantity, p.MaxLineQuantity)
	set(&st.MaxOrderQuantity, p.MaxOrderQuantity)
	set(&st.MaxUnpaidOrders, p.MaxUnpaidOrders)
	set(&st.MaxAnonymousUnpaidOrders, p.MaxAnonymousUnpaidOrders)
	set(&st.PaymentTimeoutSeconds, p.PaymentTimeoutSeconds)
	set(&st.ShippingFee, p.ShippingFee)
	set(&st.PointsValueFen, p.PointsValueFen)
	set(&st.PointsMultiple, p.PointsMultiple)
	set(&st.PointsMaxShare, p.PointsMaxShare)
	set(&st.MarginFloor, p.MarginFloor)
	if p.MarginMode != nil {
		st.MarginMode = *p.MarginMode
	}
	if p.WebhookAllowlist != nil {
		st.WebhookAllowlist = append([]string(nil), *p.WebhookAllowlist...)
	}
	st.Language = e.Language
	if p.Language != nil {
		st.Language = *p.Language
	}
	return st
}

// UpdateShopSettings validates and saves a change of name, time zone and
// settings, audited with before and after.
func (s *Service) UpdateShopSettings(ctx context.Context, a Actor, name, timeZone *string, patch SettingsPatch) (*Shop, error) {
	sh, err := s.Shop(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	before := *sh
	if name != nil {
		if strings.TrimSpace(*name) == "" {
			return nil, Invalid("name", "required", "a shop needs a name")
		}
		if err := checkText("name", *name, true, MaxNameLen); err != nil {
			return nil, err
		}
		sh.Name = *name
	}
	if timeZone != nil {
		if _, err := time.LoadLocation(*timeZone); err != nil || *timeZone == "" {
			return nil, Invalid("time_zone", "invalid_time_zone", "unknown time zone %q", *timeZone)
		}
		sh.TimeZone = *timeZone
	}
	st := patch.apply(sh.Settings)
	if err := validateSettings(st); err != nil {
		return nil, err
	}
	if patch.WebhookAllowlist != nil { // apply made st's list a fresh copy
		if err := canonicalAllowlist(st.WebhookAllowlist); err != nil {
			return nil, err
		}
	}
	sh.Settings = st
	if err := s.store.UpdateShop(ctx, sh, s.Audit(a, "update", "shop", sh.ID, before, sh)); err != nil {
		return nil, fmt.Errorf("update shop %s: %w", sh.ID, err)
	}
	s.shops.drop(sh.ID)
	return sh, nil
}

func validateSettings(st ShopSettings) error {
	switch {
	case st.PaymentTimeoutSeconds < 10 || st.PaymentTimeoutSeconds > 7*24*3600:
		return Invalid("settings.payment_timeout_seconds", "out_of_range", "payment timeout must be 10 to 604800 seconds")
	case st.ShippingFee < 0 || st.ShippingFee > 100_000_00:
		return Invalid("settings.shipping_fee", "out_of_range", "shipping fee must be 0 to 10000000 fen")
	case st.PointsValueFen < 1 || st.PointsValueFen > 10000:
		return Invalid("settings.points_value_fen", "out_of_range", "a point is worth 1 to 10000 fen")
	case st.PointsMultiple < 1 || st.PointsMultiple > 1_000_000:
		return Invalid("settings.points_multiple", "out_of_range", "points multiple must be 1 to 1000000")
	case st.PointsMaxShare < 0 || st.PointsMaxShare > 10000:
		return Invalid("settings.points_max_share_bp", "out_of_range", "points share must be 0 to 10000 bp")
	case st.MarginFloor < 0 || st.MarginFloor > 100000:
		return Invalid("settings.margin_floor_bp", "out_of_range", "margin floor must be 0 to 100000 bp")
	case st.MarginMode != "warn" && st.MarginMode != "block":
		return Invalid("settings.margin_mode", "invalid_enum", "margin mode is warn or block")
	case st.MaxLineQuantity < 1 || st.MaxLineQuantity > MaxQuantity:
		return Invalid("settings.max_line_quantity", "out_of_range", "max line quantity must be 1 to %d", MaxQuantity)
	case st.MaxOrderQuantity < 1 || st.MaxOrderQuantity > MaxQuantity:
		return Invalid("settings.max_order_quantity", "out_of_range", "max order quantity must be 1 to %d", MaxQuantity)
	case st.MaxUnpaidOrders < 1 || st.MaxUnpaidOrders > MaxUnpaidOrdersCap:
		return Invalid("settings.max_unpaid_orders", "out_of_range", "max unpaid orders must be 1 to %d", MaxUnpaidOrdersCap)
	case st.MaxAnonymousUnpaidOrders < 1 || st.MaxAnonymousUnpaidOrders > MaxUnpaidOrdersCap:
		return Invalid("settings.max_anonymous_unpaid_orders", "out_of_range", "max anonymous unpaid orders must be 1 to %d", MaxUnpaidOrdersCap)
	case !slices.Contains(i18n.Languages, st.Language):
		return Invalid("settings.language", "invalid_language", "language is zh-CN or en")
	}
	return nil
}

// canonicalAllowlist checks the webhook allowlist and rewrites its entries
// in canonical form.
func canonicalAllowlist(list []string) error {
	if len(list) > netguard.MaxAllowlist {
		return Invalid("settings.webhook_allowlist", "too_many", "at most %d entries", netguard.MaxAllowlist)
	}
	for i, e := range list {
		c, err := netguard.ParseEntry(e)
		if err != nil {
			return Invalid(fmt.Sprintf("settings.webhook_allowlist[%d]", i), "invalid_allowlist_entry", "%s", err.Error())
		}
		list[i] = c
	}
	return nil
}

// keyAlphabet is Crockford-like base32 in lower case: no padding, URL-safe.
var keyEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// HashKey is how API key secrets are stored: SHA-256 (keys carry 160 random
// bits, so a slow hash adds nothing).
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIKey makes a key for role in shop and returns its secret, which is
// shown once and stored only as a hash. The audit log records the system as
// its maker (the command line); CreateAPIKeyBy names the actor.
func (s *Service) CreateAPIKey(ctx context.Context, shopID, role, name string) (*APIKey, string, error) {
	return s.CreateAPIKeyBy(ctx, Actor{ShopID: shopID}, role, name)
}

// CreateAPIKeyBy makes a key for role in the actor's shop, audited with the
// actor (the audit entry carries the key's id, role and name, never its
// secret or hash).
func (s *Service) CreateAPIKeyBy(ctx context.Context, a Actor, role, name string) (*APIKey, string, error) {
	shopID := a.ShopID
	if !validRole(role) {
		return nil, "", Invalid("role", "invalid_enum", "role must be one of %s", strings.Join(Roles, ", "))
	}
	if err := checkText("name", name, false, MaxNameLen); err != nil {
		return nil, "", err
	}
	if _, err := s.Shop(ctx, shopID); err != nil {
		return nil, "", err
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	secret := KeyPrefix(role) + keyEncoding.EncodeToString(raw[:])
	k := &APIKey{ID: s.newID("key"), ShopID: shopID, Role: role, Name: name, Hash: HashKey(secret), CreatedAt: s.now().UTC()}
	// APIKey's JSON leaves the hash out; the secret is not in it at all.
	if err := s.store.CreateAPIKey(ctx, k, s.Audit(a, "create", "api_key", k.ID, nil, k)); err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return k, secret, nil
}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Authenticate resolves a secret to its key.
func (s *Service) Authenticate(ctx context.Context, secret string) (*APIKey, error) {
	if secret == "" {
		return nil, &Error{Kind: KindUnauthorized, Code: "unauthenticated", Detail: "send an API key as 'Authorization: Bearer <key>'"}
	}
	h := HashKey(secret)
	if k, ok := s.keys.get(string(h)); ok {
		return k, nil
	}
	k, err := s.store.APIKeyByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindUnauthorized, Code: "invalid_api_key", Detail: "the API key is unknown or revoked"}
	}
	if err != nil {
		return nil, err
	}
	s.keys.put(string(h), k)
	return k, nil
}

// ListAudit lists the audit log newest first, narrowed by f.
func (s *Service) ListAudit(ctx context.Context, shopID string, f AuditFilter, p Page) ([]AuditEntry, error) {
	for _, t := range []struct{ field, v string }{{"actor", f.Actor}, {"action", f.Action}, {"entity", f.Entity}, {"entity_id", f.EntityID}, {"cursor", p.Cursor}} {
		if err := checkText(t.field, t.v, false, 200); err != nil {
			return nil, err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, Invalid("to", "out_of_range", "to must be after from")
	}
	return s.store.ListAudit(ctx, shopID, f, p.Normalized())
}

// RevokeAPIKey revokes a key of the actor's shop, audited.
func (s *Service) RevokeAPIKey(ctx context.Context, a Actor, id string) error {
	err := s.store.RevokeAPIKey(ctx, a.ShopID, id, s.now().UTC(), s.Audit(a, "revoke", "api_key", id, nil, nil))
	if errors.Is(err, ErrNotFound) {
		return NotFound("api_key", id)
	}
	s.keys.clear()
	return err
}

// ListAPIKeys lists a shop's API keys (never their secrets).
func (s *Service) ListAPIKeys(ctx context.Context, shopID string) ([]APIKey, error) {
	return s.store.ListAPIKeys(ctx, shopID)
}
