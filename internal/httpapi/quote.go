package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/jsonw"
)

// quoteInBody is the body of POST /api/v1/quote, named so that its OpenAPI
// schema keeps the name QuoteInBody it had as an anonymous struct. The tags
// are the contract: huma turns them into the OpenAPI schema, and the slow
// path of quoteHandler validates against that schema.
type quoteInBody struct {
	CustomerID  string       `json:"customer_id,omitempty" maxLength:"64"`
	Lines       []cartLineIn `json:"lines" minItems:"1" maxItems:"200"`
	CouponCodes []string     `json:"coupon_codes,omitempty" maxItems:"20"`
	BestCoupons bool         `json:"best_coupons,omitempty" doc:"Choose the best combination from the customer's wallet (exact search)"`
	Points      int64        `json:"points,omitempty" minimum:"0" maximum:"1000000000"`
}

func (in *quoteInBody) request() *commerce.PlaceRequest {
	req := &commerce.PlaceRequest{CustomerID: in.CustomerID, CouponCodes: in.CouponCodes, BestCoupons: in.BestCoupons, Points: in.Points,
		Lines: make([]commerce.CartLine, len(in.Lines))}
	for i, l := range in.Lines {
		req.Lines[i] = commerce.CartLine{SKUID: l.SKUID, Quantity: l.Quantity}
	}
	return req
}

// Limits of the quote schema, repeated for the fast decoder; the tests
// compare every answer with huma's.
const (
	maxQuoteLines  = 200
	maxQuoteCodes  = 20
	maxIDLen       = 64
	maxLineQty     = 1_000_000
	maxQuotePoints = 1_000_000_000
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 256<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// quoteHandler serves the quote without huma's request pipeline, which
// parsed every body twice (once into map[string]any to validate it, once
// into the struct) and wrote the ≈ 20 KB answer through reflection. It
// keeps huma's contract: the same authentication, body limit, problem
// answers (built by huma's own validator on the rare invalid request), the
// same $schema link, and the same bytes in the answer.
func (s *Server) quoteHandler(op *huma.Operation) http.Handler {
	reqSchema := op.RequestBody.Content["application/json"].Schema
	required := op.RequestBody.Required
	ref := op.Responses["200"].Content["application/json"].Schema.Ref
	schemaPath := "/api/v1/schemas/" + path.Base(ref) + ".json"
	link := "<" + schemaPath + ">; rel=\"describedBy\""
	ps := s.cfg.Promotions
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, hctx, ok := s.plainAuth(op, w, r)
		if !ok {
			return
		}
		ctx := context.WithValue(r.Context(), keyCaller, caller)

		bp := getBuf()
		defer putBuf(bp)
		body, rerr := readBody(r.Body, (*bp)[:0], MaxBody)
		*bp = body
		if rerr != nil {
			s.writeProblem(hctx(), rerr)
			return
		}
		if len(body) == 0 && required {
			s.writeProblem(hctx(), huma.NewError(http.StatusBadRequest, "request body is required"))
			return
		}
		if err := checkBodyText(body); err != nil {
			s.writeProblem(hctx(), problemFrom(err))
			return
		}
		ct := r.Header.Get("Content-Type")
		var req *commerce.PlaceRequest
		if ct == "" || ct == "application/json" {
			req = decodeQuote(string(body))
		}
		if req == nil {
			in, perr := s.decodeQuoteSlow(ct, body, reqSchema)
			if perr != nil {
				s.writeProblem(hctx(), perr)
				return
			}
			req = in.request()
		}

		if err := anonymousOnly(caller, req); err != nil {
			s.writeProblem(hctx(), s.fail(ctx, err).(huma.StatusError))
			return
		}
		q, err := ps.Quote(ctx, caller.ShopID(), req)
		if err != nil {
			s.writeProblem(hctx(), s.fail(ctx, err).(huma.StatusError))
			return
		}
		accept, aerr := s.api.Negotiate(r.Header.Get("Accept"))
		if aerr != nil || accept != "application/json" || q == nil {
			s.writeResponse(hctx(), http.StatusOK, q)
			return
		}
		out := getBuf()
		defer putBuf(out)
		b := append((*out)[:0], `{"$schema":`...)
		b = jsonw.String(b, s.schemaURL(r, schemaPath), false)
		b = append(b, ',')
		b = q.AppendJSONFields(b, false)
		b = append(b, "}\n"...) // json.Encoder ends with a newline; so does huma
		*out = b
		h := w.Header()
		h.Set("Content-Type", accept)
		h.Add("Link", link)
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	})
}

// anonymousOnly refuses a publishable key's quote that names a customer or
// reaches into one's wallet or points: a page's key prices a cart for
// anyone, and learns nothing about a customer.
func anonymousOnly(c Caller, req *commerce.PlaceRequest) error {
	if c.Key == nil || c.Key.Role != commerce.RolePublishable {
		return nil
	}
	field := ""
	switch {
	case req.CustomerID != "":
		field = "customer_id"
	case len(req.CouponCodes) > 0:
		field = "coupon_codes"
	case req.BestCoupons:
		field = "best_coupons"
	case req.Points != 0:
		field = "points"
	default:
		return nil
	}
	return &commerce.Error{Kind: commerce.KindForbidden, Code: "publishable_key_customer_data", Field: field,
		Detail: "a publishable key quotes without a customer: leave out " + field + ", or quote from your server with the storefront secret key"}
}

// readBody reads at most limit bytes of body into buf. Like huma it refuses
// a body of limit bytes or more with 413.
func readBody(body io.Reader, buf []byte, limit int) ([]byte, huma.StatusError) {
	if body == nil {
		return buf, nil
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := min(cap(buf), limit) - len(buf)
		n, err := body.Read(buf[len(buf) : len(buf)+room])
		buf = buf[:len(buf)+n]
		if len(buf) >= limit {
			return buf, huma.NewError(http.StatusRequestEntityTooLarge, "request body is too large limit="+strconv.Itoa(limit)+" bytes")
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return buf, huma.NewError(http.StatusRequestTimeout, "request body read timeout")
			}
			// A client that stops sending mid-body is a bad request, not a
			// server error (huma answered 500 here).
			return buf, huma.NewError(http.StatusBadRequest, "cannot read request body", err)
		}
	}
}

// decodeQuoteSlow does what huma does with a body: parse it into any,
// validate that against the operation's schema (collecting every error),
// then decode it into the struct, with the API's decoder (decode.go), so
// the answer is the one huma gives.
func (s *Server) decodeQuoteSlow(ct string, body []byte, schema *huma.Schema) (*quoteInBody, huma.StatusError) {
	if ct == "" {
		ct = "application/json"
	}
	var parsed any
	if err := s.api.Unmarshal(ct, body, &parsed); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, huma.ErrUnknownContentType) {
			status = http.StatusUnsupportedMediaType
		}
		return nil, huma.NewError(status, "validation failed", &huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(body)})
	}
	pb := huma.NewPathBuffer(make([]byte, 0, 128), 0)
	pb.Push("body")
	res := &huma.ValidateResult{}
	huma.Validate(s.api.OpenAPI().Components.Schemas, schema, pb, huma.ModeWriteToServer, parsed, res)
	if len(res.Errors) > 0 {
		return nil, huma.NewError(http.StatusUnprocessableEntity, "validation failed", res.Errors...)
	}
	in := &quoteInBody{}
	if err := s.api.Unmarshal(ct, body, in); err != nil {
		return nil, huma.NewError(http.StatusUnprocessableEntity, "validation failed", &huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(body)})
	}
	return in, nil
}

// writeProblem writes an error the way huma writes the errors its
// operations return: content negotiation, the problem content type, the
// $schema link.
func (s *Server) writeProblem(ctx huma.Context, p huma.StatusError) {
	s.writeResponse(ctx, p.GetStatus(), p)
}

// writeResponse is huma's response writer for a body without headers.
func (s *Server) writeResponse(ctx huma.Context, status int, body any) {
	ct, err := s.api.Negotiate(ctx.Header("Accept"))
	if err != nil {
		ct = "application/json"
	}
	if f, ok := body.(huma.ContentTypeFilter); ok {
		ct = f.ContentType(ct)
	}
	ctx.SetHeader("Content-Type", ct)
	v, err := s.api.Transform(ctx, strconv.Itoa(status), body)
	if err != nil {
		s.log.Error("transform response", "err", err, "operation", ctx.Operation().OperationID)
		v = body
	}
	ctx.SetStatus(status)
	if err := s.api.Marshal(ctx.BodyWriter(), ct, v); err != nil {
		s.log.Warn("write response", "err", err, "operation", ctx.Operation().OperationID)
	}
}

// schemaURL is the $schema huma's link transformer puts in a body: the
// host the client used (X-Forwarded-Host, Forwarded, Host) and the path.
func (s *Server) schemaURL(r *http.Request, schemaPath string) string {
	host := r.Header.Get("X-Forwarded-Host")
	if host == "" {
		if fwd := r.Header.Get("Forwarded"); fwd != "" {
		parts:
			for part := range strings.SplitSeq(fwd, ",") {
				for d := range strings.SplitSeq(part, ";") {
					d = strings.TrimSpace(d)
					if strings.HasPrefix(strings.ToLower(d), "host=") {
						host = strings.Trim(d[5:], "\"")
						break parts
					}
				}
			}
		}
	}
	if host == "" {
		host = r.Host
	}
	if host == "" || strings.HasPrefix(host, "localhost") {
		if sv := s.api.OpenAPI().Servers; len(sv) > 0 && sv[0].URL != "" {
			host = sv[0].URL
		} else if host == "" {
			host = "localhost"
		}
	}
	if strings.Contains(host, "://") {
		return host + schemaPath
	}
	if r.TLS == nil && (strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127.0.0.1")) {
		return "http://" + host + schemaPath
	}
	return "https://" + host + schemaPath
}

// decodeQuote decodes the common quote body in one pass: the known keys
// once each, in their exact spelling, strings without escapes, integers
// without fraction or exponent, every schema limit met. Anything else (an
// invalid body, but also a valid one spelled unusually) returns nil and
// goes to decodeQuoteSlow, which answers exactly as huma did.
func decodeQuote(src string) *commerce.PlaceRequest {
	p := scanner{s: src}
	req := &commerce.PlaceRequest{}
	if !p.lit('{') {
		return nil
	}
	const (
		fCustomer = 1 << iota
		fLines
		fCodes
		fBest
		fPoints
	)
	seen := 0
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return nil
		}
		var f int
		switch key {
		case "customer_id":
			f = fCustomer
			if req.CustomerID, ok = p.str(); !ok || runes(req.CustomerID) > maxIDLen {
				return nil
			}
		case "lines":
			f = fLines
			if req.Lines, ok = p.lines(); !ok {
				return nil
			}
		case "coupon_codes":
			f = fCodes
			if req.CouponCodes, ok = p.strs(); !ok {
				return nil
			}
		case "best_coupons":
			f = fBest
			if req.BestCoupons, ok = p.boolean(); !ok {
				return nil
			}
		case "points":
			f = fPoints
			if req.Points, ok = p.int(); !ok || req.Points < 0 || req.Points > maxQuotePoints {
				return nil
			}
		default:
			return nil
		}
		if seen&f != 0 {
			return nil
		}
		seen |= f
		if p.lit(',') {
			continue
		}
		if !p.lit('}') {
			return nil
		}
		break
	}
	p.ws()
	if p.i != len(p.s) || seen&fLines == 0 {
		return nil
	}
	return req
}

func runes(s string) int {
	if len(s) <= maxIDLen {
		return len(s) // a rune is at least a byte: short strings are within any limit here
	}
	return utf8.RuneCountInString(s)
}

// scanner reads the JSON subset decodeQuote accepts.
type scanner struct {
	s string
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) lit(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid UTF-8.
func (p *scanner) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	high := false
	for j := p.i; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			out := p.s[p.i:j]
			if high && !utf8.ValidString(out) {
				return "", false
			}
			p.i = j + 1
			return out, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			high = true
		}
	}
	return "", false
}

// int reads an integer of at most 18 digits (no overflow), no fraction or
// exponent; what follows is checked by the caller's next expectation.
func (p *scanner) int() (int64, bool) {
	p.ws()
	j := p.i
	neg := j < len(p.s) && p.s[j] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		n = n*10 + int64(p.s[j]-'0')
		j++
	}
	if d := j - start; d == 0 || d > 18 || (d > 1 && p.s[start] == '0') {
		return 0, false
	}
	if j < len(p.s) && (p.s[j] == '.' || p.s[j] == 'e' || p.s[j] == 'E') {
		return 0, false
	}
	p.i = j
	if neg {
		n = -n
	}
	return n, true
}

func (p *scanner) boolean() (bool, bool) {
	p.ws()
	switch {
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, true
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, true
	}
	return false, false
}

func (p *scanner) strs() ([]string, bool) {
	if !p.lit('[') {
		return nil, false
	}
	out := []string{}
	if p.lit(']') {
		return out, true
	}
	for {
		v, ok := p.str()
		if !ok || len(out) == maxQuoteCodes {
			return nil, false
		}
		out = append(out, v)
		if p.lit(',') {
			continue
		}
		return out, p.lit(']')
	}
}

func (p *scanner) lines() ([]commerce.CartLine, bool) {
	if !p.lit('[') {
		return nil, false
	}
	out := make([]commerce.CartLine, 0, 16)
	for {
		if len(out) == maxQuoteLines || !p.lit('{') {
			return nil, false
		}
		var l commerce.CartLine
		haveSKU, haveQty := false, false
		for {
			key, ok := p.str()
			if !ok || !p.lit(':') {
				return nil, false
			}
			switch {
			case key == "sku_id" && !haveSKU:
				haveSKU = true
				if l.SKUID, ok = p.str(); !ok || l.SKUID == "" || runes(l.SKUID) > maxIDLen {
					return nil, false
				}
			case key == "quantity" && !haveQty:
				haveQty = true
				if l.Quantity, ok = p.int(); !ok || l.Quantity < 1 || l.Quantity > maxLineQty {
					return nil, false
				}
			default:
				return nil, false
			}
			if p.lit(',') {
				continue
			}
			if !p.lit('}') || !haveSKU || !haveQty {
				return nil, false
			}
			break
		}
		out = append(out, l)
		if p.lit(',') {
			continue
		}
		return out, p.lit(']')
	}
}
