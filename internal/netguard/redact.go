package netguard

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// Mask replaces a secret in a redacted URL.
const Mask = "***"

// RedactURL hides the secrets a URL may carry — every query value and the
// user-info password — and keeps scheme, host, path and the query's
// names, so a reader still sees where it points. Text that is not an
// absolute URL comes back unchanged.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if i := strings.IndexAny(raw, "?#"); i >= 0 && strings.Contains(raw, "://") {
			return raw[:i] + "?" + Mask // unparseable: keep nothing after the path
		}
		return raw
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		parts := make([]string, 0, len(q))
		for _, kv := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(kv, "=")
			if k == "" {
				continue
			}
			parts = append(parts, k+"="+Mask)
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = Mask, ""
	}
	// url.URL escapes the mask in user info; show it as written.
	return strings.Replace(u.String(), ":%2A%2A%2A@", ":"+Mask+"@", 1)
}

// RedactJSON redacts every string in a JSON document that looks like a
// URL with something to hide (see RedactURL); other values are kept.
// Invalid JSON comes back as it was.
func RedactJSON(doc json.RawMessage) json.RawMessage {
	if len(doc) == 0 || !bytes.Contains(doc, []byte("://")) {
		return doc
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return doc
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return doc
	}
	return out
}

func redactValue(v any) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "://") {
			return RedactURL(t)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
		return t
	case map[string]any:
		for k, x := range t {
			t[k] = redactValue(x)
		}
		return t
	}
	return v
}
