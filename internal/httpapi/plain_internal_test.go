package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// mustPanic runs f and answers what it panicked with; the test fails if
// f returns normally.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		p := recover()
		if p == nil {
			t.Fatal("start-up went on; want it to fail")
		}
		msg = fmt.Sprint(p)
	}()
	f()
	return ""
}

// An operation served by a plain handler cannot come up on an API whose
// adapter does not install it: it would answer every request with 500.
func TestPlainOperationWithoutItsHandlerFailsAtStartUp(t *testing.T) {
	s := &Server{mux: http.NewServeMux()}
	s.api = huma.NewAPI(huma.DefaultConfig("t", "1"), humago.NewAdapter(s.mux, ""))
	msg := mustPanic(t, s.registerAnalytics)
	if !strings.Contains(msg, "ingest-events") {
		t.Errorf("panic %q does not name the operation", msg)
	}
}

// newPlainServer is a Server on a plain adapter with nothing registered.
func newPlainServer() (*Server, *plainAdapter) {
	s := &Server{mux: http.NewServeMux()}
	pa := &plainAdapter{Adapter: humago.NewAdapter(s.mux, ""), mux: s.mux,
		plain: map[string]func(*huma.Operation) http.Handler{}, served: map[string]bool{}}
	s.api = huma.NewAPI(huma.DefaultConfig("t", "1"), pa)
	return s, pa
}

// An operation marked plain-only whose handler was never installed stops
// registration, even on the plain adapter.
func TestPlainOnlyOperationNeedsItsHandler(t *testing.T) {
	s, _ := newPlainServer()
	o := op("stream-x", http.MethodGet, "/x", "x", "X", nil)
	o.Metadata[plainOnly] = true
	msg := mustPanic(t, func() {
		huma.Register(s.api, o, func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
	})
	if !strings.Contains(msg, "stream-x") {
		t.Errorf("panic %q does not name the operation", msg)
	}
}

// A plain handler no operation took is a wiring mistake too; once its
// operation is registered, the plain handler serves it.
func TestPlainHandlerWithoutItsOperation(t *testing.T) {
	s, pa := newPlainServer()
	served := func(*huma.Operation) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	}
	s.servePlain("stream-x", served)
	err := pa.check()
	if err == nil || !strings.Contains(err.Error(), "stream-x") {
		t.Fatalf("check = %v, want it to name stream-x", err)
	}
	registerPlain[struct{}, struct{}](s, op("stream-x", http.MethodGet, "/x", "x", "X", nil), served)
	if err := pa.check(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("GET /x = %d, want the plain handler's %d", rec.Code, http.StatusTeapot)
	}
}
