package httpapi

import (
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// idempotencyHeader is the header order placement, flash buys, coupon
// grabs and claims, presale deposits and balances and group seats require.
const idempotencyHeader = "Idempotency-Key"

// requireIdempotency answers 428 idempotency_key_required, before anything
// is read or written, to an operation whose OpenAPI parameters make
// Idempotency-Key required when the request has none: a retry without a
// key would place a second order, buy twice or claim twice. The operation's
// documented parameters are the one list of which operations need it.
func (s *Server) requireIdempotency(ctx huma.Context, next func(huma.Context)) {
	if needsIdempotencyKey(ctx.Operation()) && strings.TrimSpace(ctx.Header(idempotencyHeader)) == "" {
		s.writeErr(ctx, &Problem{Status: http.StatusPreconditionRequired, Title: http.StatusText(http.StatusPreconditionRequired),
			Code: "idempotency_key_required", Field: idempotencyHeader,
			Detail: "send an Idempotency-Key header: a fresh unique value per attempt, the same value when you retry it"})
		return
	}
	next(ctx)
}

func needsIdempotencyKey(op *huma.Operation) bool {
	for _, p := range op.Parameters {
		if p.In == "header" && p.Required && strings.EqualFold(p.Name, idempotencyHeader) {
			return true
		}
	}
	return false
}

// documentIdempotency adds the 428 answer to the OpenAPI description of
// every operation that requires Idempotency-Key, with the schema of its
// other problems.
func documentIdempotency(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil || !needsIdempotencyKey(op) || op.Responses["428"] != nil || op.Responses["422"] == nil {
				continue
			}
			r := *op.Responses["422"]
			r.Description = "Precondition Required: the Idempotency-Key header is missing (code idempotency_key_required)"
			op.Responses["428"] = &r
		}
	}
}
