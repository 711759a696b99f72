package httpapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

type fuzzLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
	Price    *uint8 `json:"price,omitempty"`
}

type fuzzIn struct {
	Name   string            `json:"name"`
	At     time.Time         `json:"at"`
	Lines  []fuzzLine        `json:"lines"`
	Flags  map[string]bool   `json:"flags"`
	Any    any               `json:"any"`
	Rate   float64           `json:"rate"`
	Nested struct{ N int32 } `json:"nested"`
}

// FuzzUnmarshalJSON: whatever the body, the API's decoder either decodes
// it as encoding/json does or explains why at a location inside the body,
// in words free of Go identifiers, without panicking.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{`{"lines":[{"quantity":1.0}]}`, `{"at":5}`, `{"at":"x"}`, `{"flags":{"a":1}}`, `{"any":[1e400]}`,
		`{"rate":1e999}`, `{"nested":{"N":3000000000}}`, `{"lines":[{"price":-1}]}`, `{"lines":{}}`, `[`, `{"name":"a","name":5}`,
		`{"lines":[{"sku_id":5}]}`, strings.Repeat("[", 40) + "1e400" + strings.Repeat("]", 40)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want fuzzIn
		werr := json.Unmarshal(body, &want)
		var got fuzzIn
		err := unmarshalJSON(body, &got)
		if (err == nil) != (werr == nil) {
			t.Fatalf("err %v, encoding/json %v", err, werr)
		}
		if err == nil {
			return
		}
		var de *decodeError
		if !errors.As(err, &de) || de.Loc == "" || !strings.HasPrefix(de.Loc, "body") {
			t.Fatalf("err %v is not located", err)
		}
		for _, w := range []string{"Go ", "of type", "json:", "struct", "int8", "int32", "int64", "float64", "UnmarshalJSON", "time.", "fuzz"} {
			if strings.Contains(de.Msg, w) {
				t.Fatalf("message %q says %q", de.Msg, w)
			}
		}
		back, ok := parseDecodeError(de.Error())
		if !ok || back.Loc != de.Loc || back.Msg != de.Msg || back.Syntax != de.Syntax {
			t.Fatalf("round trip %+v → %+v", de, back)
		}
		if de.Syntax {
			return
		}
		if de.Loc == "body" && de.Msg == "the body does not match the schema" {
			t.Fatalf("not located: %v (encoding/json: %v)", de, werr)
		}
	})
}

func TestLocateStopsDeep(t *testing.T) {
	deep := strings.Repeat("[", 5000) + "1e400" + strings.Repeat("]", 5000)
	start := time.Now()
	err := unmarshalJSON([]byte(deep), new(any))
	var de *decodeError
	if !errors.As(err, &de) || de.Loc != "body" || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}
