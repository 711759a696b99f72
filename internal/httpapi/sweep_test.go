package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/review"
)

// newFullEnv is newEnvOn with every optional service served (alerts and
// campaign reviews too), so the OpenAPI document lists every operation.
func newFullEnv(t *testing.T, engine string) *env {
	e := newEnvOn(t, engine, nil, 25800)
	cfg := e.cfg
	cfg.Alerts = alert.New(e.store, e.svc, alert.Options{Campaigns: e.cfg.Campaigns, Metrics: e.store, Logger: slog.New(slog.NewTextHandler(testLog, nil))})
	cfg.Review = review.NewSources(cfg.Campaigns, e.store, e.store)
	srv := httptest.NewServer(httpapi.New(cfg).Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	return e
}

// A malformed value the sweep sends: raw is what goes into a JSON string
// literal, plain into a path, query or header. text marks values the text
// rule must refuse with 422 invalid_text.
type badValue struct {
	name  string
	plain string
	raw   string // JSON string literal, quotes included
	text  bool
	// header: whether an HTTP client can send it in a header at all
	// (NUL and C0 controls cannot be sent: net/http refuses them).
	header bool
}

var overlong = strings.Repeat("长", 3000)

var badValues = []badValue{
	{"NUL", "a\x00b", `"a\u0000b"`, true, false},
	{"invalid UTF-8", "\xff\xfe", "\"\xff\xfe\"", true, true},
	{"C0 control", "a\x01b", `"a\u0001b"`, true, false},
	{"lone surrogate", "", `"\ud800"`, true, false},
	{"overlong", overlong, `"` + overlong + `"`, false, true},
}

const sentinel = "@@SWEEP@@"

// TestNoByteCausesA5xx sweeps every operation of the published OpenAPI
// document with malformed values in each path parameter, query parameter,
// header parameter and string field of its request body, on both engines:
// none may answer 5xx; the text rule's breaches answer 422 invalid_text
// naming the parameter or JSON path; and nothing is written.
func TestNoByteCausesA5xx(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newFullEnv(t, engine)
			sw := &sweep{e: e}
			sw.run(t)
			t.Logf("%s: %d operations, %d requests, %d answered 5xx", engine, sw.ops, sw.requests, sw.fivexx)
			if sw.ops < 100 {
				t.Errorf("only %d operations swept; the OpenAPI document lists more", sw.ops)
			}
		})
	}
}

type sweep struct {
	e        *env
	schemas  map[string]any
	ops      int
	requests int
	fivexx   int
}

func (sw *sweep) run(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	sw.e.do("", "GET", "/api/v1/openapi.json", nil).json(t, &doc)
	sw.schemas = doc.Components.Schemas
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		for method, op := range doc.Paths[path] {
			sw.ops++
			sw.operation(t, strings.ToUpper(method), path, op)
		}
	}
}

// fingerprint counts the rows of every table and keeps the shop's own
// row, so an insert anywhere or an update of the shop shows.
func (sw *sweep) fingerprint(t *testing.T) string {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if sw.e.store.Dialect().Name == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := sw.e.store.Reader().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var parts []string
	for _, tb := range tables {
		parts = append(parts, fmt.Sprintf("(SELECT COUNT(*) FROM %s)", tb))
	}
	vals := make([]any, len(tables))
	ns := make([]int64, len(tables))
	for i := range ns {
		vals[i] = &ns[i]
	}
	if err := sw.e.store.Reader().QueryRow("SELECT " + strings.Join(parts, ", ")).Scan(vals...); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, tb := range tables {
		fmt.Fprintf(&b, "%s=%d ", tb, ns[i])
	}
	var name, tz, settings string
	sw.e.store.Reader().QueryRow(`SELECT name, time_zone, settings FROM shops`).Scan(&name, &tz, &settings)
	fmt.Fprintf(&b, "shop=%q,%q,%q", name, tz, settings)
	return b.String()
}

func (sw *sweep) operation(t *testing.T, method, path string, op map[string]any) {
	id, _ := op["operationId"].(string)
	var params []map[string]any
	if ps, ok := op["parameters"].([]any); ok {
		for _, p := range ps {
			params = append(params, p.(map[string]any))
		}
	}
	var bodySchema map[string]any
	if rb, ok := op["requestBody"].(map[string]any); ok {
		if c, ok := rb["content"].(map[string]any)["application/json"].(map[string]any); ok {
			bodySchema, _ = c["schema"].(map[string]any)
		}
	}
	var base any
	if bodySchema != nil {
		base = sw.sample(bodySchema, 0)
	}
	role := commerce.RoleAdmin
	before := sw.fingerprint(t)

	// send one request with target replaced by v and checks the answer.
	send := func(target, kind string, v badValue, mutate func(u *url.URL, hdr map[string]string) []byte) {
		u := &url.URL{Path: path}
		hdr := map[string]string{}
		for _, p := range params {
			if p["in"] == "path" {
				u.Path = strings.ReplaceAll(u.Path, "{"+p["name"].(string)+"}", "x1")
			}
		}
		body := mutate(u, hdr)
		if body == nil && base != nil {
			body, _ = json.Marshal(base)
		}
		var hs []string
		for k, v := range hdr {
			hs = append(hs, k, v)
		}
		var rbody any
		if body != nil {
			rbody = body
		}
		r := sw.e.do(role, method, u.EscapedPath()+"?"+u.RawQuery, rbody, hs...)
		sw.requests++
		if r.status == 403 && role == commerce.RoleAdmin && strings.Contains(string(r.body), "forbidden_role") {
			role = commerce.RoleStorefront
			r = sw.e.do(role, method, u.EscapedPath()+"?"+u.RawQuery, rbody, hs...)
			sw.requests++
		}
		label := fmt.Sprintf("%s %s (%s) %s %s=%s", method, path, id, role, kind, target)
		if r.status >= 500 {
			sw.fivexx++
			t.Errorf("%s: %s → %d %s", label, v.name, r.status, r.body)
			return
		}
		if r.status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %s → %d with content type %q", label, v.name, r.status, r.header.Get("Content-Type"))
		}
		if !v.text {
			return
		}
		if id == "ingest-events" && r.status == 200 && strings.Contains(string(r.body), `"code":"invalid_text"`) {
			return // the batch rejects the item alone
		}
		var p struct {
			Code, Field string
		}
		json.Unmarshal(r.body, &p)
		if r.status != 422 || p.Code != "invalid_text" || p.Field != target {
			t.Errorf("%s: %s → %d %s, want 422 invalid_text at %s", label, v.name, r.status, r.body, target)
		}
	}

	for _, p := range params {
		name, in := p["name"].(string), p["in"].(string)
		for _, v := range badValues {
			if v.plain == "" || (in == "header" && !v.header) {
				continue
			}
			send(name, in, v, func(u *url.URL, hdr map[string]string) []byte {
				switch in {
				case "path":
					u.Path = strings.ReplaceAll(path, "{"+name+"}", v.plain)
					for _, o := range params {
						if o["in"] == "path" {
							u.Path = strings.ReplaceAll(u.Path, "{"+o["name"].(string)+"}", "x1")
						}
					}
					u.RawPath = ""
				case "query":
					u.RawQuery = url.Values{name: {v.plain}}.Encode()
				case "header":
					hdr[name] = v.plain
				}
				return nil
			})
		}
	}
	if bodySchema != nil {
		for _, target := range sw.stringPaths(bodySchema, nil, 0) {
			for _, v := range badValues {
				if target[len(target)-1] == "$schema" && !v.text {
					continue // huma ignores $schema: the rest of the body is valid and would be stored
				}
				send(pathString(target), "body", v, func(*url.URL, map[string]string) []byte {
					doc := sw.sample(bodySchema, 0)
					doc = sw.setAt(doc, bodySchema, target, sentinel)
					b, _ := json.Marshal(doc)
					return bytes.Replace(b, []byte(`"`+sentinel+`"`), []byte(v.raw), 1)
				})
			}
		}
	}
	if after := sw.fingerprint(t); after != before {
		t.Errorf("%s %s (%s) wrote with malformed input:\nbefore %s\nafter  %s", method, path, id, before, after)
	}
}

func pathString(segs []any) string {
	var b strings.Builder
	for _, s := range segs {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func (sw *sweep) resolve(s map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s, _ = sw.schemas[ref[strings.LastIndexByte(ref, '/')+1:]].(map[string]any)
	}
	return s
}

func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				return x.(string)
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return ""
}

// sample builds a small valid-looking value of schema s: required fields
// only, examples and defaults where the schema has them.
func (sw *sweep) sample(s map[string]any, depth int) any {
	s = sw.resolve(s)
	if s == nil || depth > 8 {
		return nil
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if d, ok := s["default"]; ok {
		return d
	}
	if en, ok := s["enum"].([]any); ok && len(en) > 0 {
		return en[0]
	}
	switch typeOf(s) {
	case "object":
		o := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if ps, ok := props[r.(string)].(map[string]any); ok {
				o[r.(string)] = sw.sample(ps, depth+1)
			}
		}
		return o
	case "array":
		items, _ := s["items"].(map[string]any)
		if mi, _ := s["minItems"].(float64); mi > 0 && items != nil {
			return []any{sw.sample(items, depth+1)}
		}
		return []any{}
	case "string":
		switch s["format"] {
		case "date-time":
			return "2026-11-11T00:00:00+08:00"
		case "date":
			return "2026-11-11"
		case "uri":
			return "https://example.com/"
		}
		return "x1"
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		return 1
	case "boolean":
		return false
	}
	return nil
}

// stringPaths lists the paths of the string fields of s (array items at
// index 0), optional ones too.
func (sw *sweep) stringPaths(s map[string]any, prefix []any, depth int) [][]any {
	s = sw.resolve(s)
	if s == nil || depth > 8 {
		return nil
	}
	var out [][]any
	switch typeOf(s) {
	case "object":
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, sw.stringPaths(props[k].(map[string]any), append(append([]any{}, prefix...), k), depth+1)...)
		}
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			out = append(out, sw.stringPaths(items, append(append([]any{}, prefix...), 0), depth+1)...)
		}
	case "string":
		out = append(out, prefix)
	}
	return out
}

// setAt sets the value at path in doc (built from schema s), creating
// what is missing.
func (sw *sweep) setAt(doc any, s map[string]any, path []any, v any) any {
	s = sw.resolve(s)
	if len(path) == 0 {
		return v
	}
	switch seg := path[0].(type) {
	case string:
		o, ok := doc.(map[string]any)
		if !ok {
			o = map[string]any{}
		}
		props, _ := s["properties"].(map[string]any)
		ps, _ := props[seg].(map[string]any)
		cur, ok := o[seg]
		if !ok {
			cur = sw.sample(ps, 0)
		}
		o[seg] = sw.setAt(cur, ps, path[1:], v)
		return o
	case int:
		a, _ := doc.([]any)
		items, _ := s["items"].(map[string]any)
		if len(a) == 0 {
			a = []any{sw.sample(items, 0)}
		}
		a[0] = sw.setAt(a[0], items, path[1:], v)
		return a
	}
	return doc
}

// TestTheDomainRefusesWhatTheAPIRefuses calls the services directly, as a
// caller that is not the API would: names, descriptions and ids with NUL,
// control characters or invalid UTF-8 are refused with invalid_text on
// both engines, and nothing is stored.
func TestTheDomainRefusesWhatTheAPIRefuses(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			ctx := context.Background()
			admin := commerce.Actor{ShopID: e.shop.ID, KeyID: "key_test", Role: commerce.RoleAdmin}
			as := alert.New(e.store, e.svc, alert.Options{Campaigns: e.cfg.Campaigns, Metrics: e.store, Logger: slog.New(slog.NewTextHandler(testLog, nil))})
			ps := e.cfg.Promotions
			sw := &sweep{e: e}
			before := sw.fingerprint(t)
			for _, bad := range []string{"a\x00b", "\xff\xfe", "a\x01b", "a\nb"} {
				name := bad
				cases := []struct {
					what, field string
					err         error
				}{}
				add := func(what, field string, err error) {
					cases = append(cases, struct {
						what, field string
						err         error
					}{what, field, err})
				}
				_, err := e.svc.CreateShop(ctx, name, "")
				add("create shop", "name", err)
				_, err = e.svc.UpdateShopSettings(ctx, admin, &name, nil, commerce.SettingsPatch{})
				add("rename shop", "name", err)
				_, _, err = e.svc.CreateAPIKey(ctx, e.shop.ID, commerce.RoleAnalyst, name)
				add("key name", "name", err)
				_, err = as.CreateRule(ctx, admin, alert.RuleInput{Name: name, Kind: alert.KindStock})
				add("alert rule name", "name", err)
				_, err = ps.SaveTemplate(ctx, admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: name, Kind: pricing.ThresholdOff,
					Scope: pricing.Scope{All: true}, Threshold: 1000, Off: 100}})
				add("coupon template name", "name", err)
				_, _, err = ps.SavePromotion(ctx, admin, &promotion.Promotion{Activity: pricing.Activity{Name: "ok", Kind: pricing.ThresholdOff,
					Scope: pricing.Scope{SKUIDs: []string{e.sku.ID, name}}, Tiers: []pricing.Tier{{Threshold: 1000, Off: 100}}}}, true)
				add("promotion scope.sku_ids", "scope.sku_ids[1]", err)
				_, _, err = ps.SavePromotion(ctx, admin, &promotion.Promotion{Activity: pricing.Activity{Name: name, Kind: pricing.ThresholdOff,
					Scope: pricing.Scope{All: true}, Tiers: []pricing.Tier{{Threshold: 1000, Off: 100}}}}, true)
				add("promotion name", "name", err)
				if bad != "a\nb" { // a description is free text: a line break is fine
					_, err = as.CreateWebhook(ctx, admin, alert.WebhookInput{URL: "https://hooks.example.com/x", Description: name})
					add("webhook description", "description", err)
				}
				for _, c := range cases {
					ce, ok := commerce.AsError(c.err)
					if !ok || ce.Code != "invalid_text" || ce.Field != c.field {
						t.Errorf("%s %q: %v, want invalid_text at %s", c.what, bad, c.err, c.field)
					}
				}
			}
			if after := sw.fingerprint(t); after != before {
				t.Errorf("refused input was stored:\nbefore %s\nafter  %s", before, after)
			}
			if _, err := as.CreateWebhook(ctx, admin, alert.WebhookInput{URL: "https://hooks.example.com/x", Description: "line one\nline two"}); err != nil {
				t.Errorf("a two-line description: %v", err)
			}
		})
	}
}
