package pricing

import "github.com/carnivalhq/carnival/internal/jsonw"

// The quote endpoint writes a ≈ 20 KB Result per request; encoding/json's
// reflection was a fifth of the request's CPU. AppendJSON writes the same
// bytes by hand (json_test.go compares it with encoding/json on golden and
// random results): keep it in step with the struct tags in types.go.

// AppendJSON appends r as encoding/json marshals it; html escapes <, > and
// & in strings as json.Marshal does (false matches an Encoder with
// SetEscapeHTML(false)). A nil r is null.
//
// These are functions, not methods of Result: huma cannot add its $schema
// field to a response type that embeds a type with methods (promotion.Quote
// embeds *Result).
func AppendJSON(b []byte, r *Result, html bool) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	b = AppendJSONFields(b, r, html)
	return append(b, '}')
}

// AppendJSONFields appends r's fields without the enclosing braces, for a
// type that embeds a Result and adds fields of its own. r must not be nil.
func AppendJSONFields(b []byte, r *Result, html bool) []byte {
	b = append(b, `"lines":`...)
	if r.Lines == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Lines[i].appendJSON(b, html)
		}
		b = append(b, ']')
	}
	b = append(b, `,"totals":`...)
	b = r.Totals.appendJSON(b)
	b = append(b, `,"applied":`...)
	b = appendList(b, r.Applied, html, (*Applied).appendJSON)
	b = append(b, `,"not_applied":`...)
	b = appendList(b, r.NotApplied, html, (*NotApplied).appendJSON)
	b = append(b, `,"hints":`...)
	b = appendList(b, r.Hints, html, (*Hint).appendJSON)
	b = append(b, `,"caps":`...)
	b = appendList(b, r.Caps, html, (*Cap).appendJSON)
	b = append(b, `,"margin":`...)
	b = appendList(b, r.Margin, html, (*MarginFlag).appendJSON)
	b = append(b, `,"blocked":`...)
	return jsonw.Bool(b, r.Blocked)
}

// appendList appends a JSON array of v, or null for a nil slice.
func appendList[T any](b []byte, v []T, html bool, each func(*T, []byte, bool) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(&v[i], b, html)
	}
	return append(b, ']')
}

func (l *LineResult) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"sku_id":`...)
	b = jsonw.String(b, l.SKUID, html)
	if l.ProductID != "" {
		b = append(b, `,"product_id":`...)
		b = jsonw.String(b, l.ProductID, html)
	}
	if len(l.InputLines) > 0 {
		b = append(b, `,"input_lines":`...)
		b = jsonw.Ints(b, l.InputLines)
	}
	b = append(b, `,"quantity":`...)
	b = jsonw.Int(b, l.Quantity)
	b = append(b, `,"unit_list_price":`...)
	b = jsonw.Int(b, l.UnitListPrice)
	b = append(b, `,"list_amount":`...)
	b = jsonw.Int(b, l.ListAmount)
	b = append(b, `,"segments":`...)
	b = appendList(b, l.Segments, html, (*Segment).appendJSON)
	b = append(b, `,"item_discount":`...)
	b = jsonw.Int(b, l.ItemDiscount)
	b = append(b, `,"order_discount":`...)
	b = jsonw.Int(b, l.OrderDiscount)
	b = append(b, `,"coupon_discount":`...)
	b = jsonw.Int(b, l.CouponDiscount)
	b = append(b, `,"points_discount":`...)
	b = jsonw.Int(b, l.PointsDiscount)
	b = append(b, `,"payable":`...)
	b = jsonw.Int(b, l.Payable)
	if len(l.Parts) > 0 {
		b = append(b, `,"parts":`...)
		b = appendList(b, l.Parts, html, (*Part).appendJSON)
	}
	if l.Gift {
		b = append(b, `,"gift":true`...)
	}
	if l.GiftActivityID != "" {
		b = append(b, `,"gift_activity_id":`...)
		b = jsonw.String(b, l.GiftActivityID, html)
	}
	return append(b, '}')
}

func (s *Segment) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"unit_price":`...)
	b = jsonw.Int(b, s.UnitPrice)
	b = append(b, `,"quantity":`...)
	b = jsonw.Int(b, s.Quantity)
	b = append(b, `,"source":`...)
	b = jsonw.String(b, string(s.Source), html)
	if s.ActivityID != "" {
		b = append(b, `,"activity_id":`...)
		b = jsonw.String(b, s.ActivityID, html)
	}
	return append(b, '}')
}

func (p *Part) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"stage":`...)
	b = jsonw.String(b, string(p.Stage), html)
	if p.ID != "" {
		b = append(b, `,"id":`...)
		b = jsonw.String(b, p.ID, html)
	}
	b = append(b, `,"amount":`...)
	b = jsonw.Int(b, p.Amount)
	return append(b, '}')
}

func (t *Totals) appendJSON(b []byte) []byte {
	b = append(b, `{"goods_amount":`...)
	b = jsonw.Int(b, t.GoodsAmount)
	b = append(b, `,"item_discount":`...)
	b = jsonw.Int(b, t.ItemDiscount)
	b = append(b, `,"order_discount":`...)
	b = jsonw.Int(b, t.OrderDiscount)
	b = append(b, `,"coupon_discount":`...)
	b = jsonw.Int(b, t.CouponDiscount)
	b = append(b, `,"points_discount":`...)
	b = jsonw.Int(b, t.PointsDiscount)
	b = append(b, `,"points_used":`...)
	b = jsonw.Int(b, t.PointsUsed)
	b = append(b, `,"shipping":`...)
	b = jsonw.Int(b, t.Shipping)
	b = append(b, `,"shipping_discount":`...)
	b = jsonw.Int(b, t.ShippingDiscount)
	b = append(b, `,"payable":`...)
	b = jsonw.Int(b, t.Payable)
	return append(b, '}')
}

func (a *Applied) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"source":`...)
	b = jsonw.String(b, string(a.Source), html)
	b = append(b, `,"id":`...)
	b = jsonw.String(b, a.ID, html)
	if a.TemplateID != "" {
		b = append(b, `,"template_id":`...)
		b = jsonw.String(b, a.TemplateID, html)
	}
	b = append(b, `,"kind":`...)
	b = jsonw.String(b, string(a.Kind), html)
	b = append(b, `,"amount":`...)
	b = jsonw.Int(b, a.Amount)
	if len(a.Lines) > 0 {
		b = append(b, `,"lines":`...)
		b = jsonw.Ints(b, a.Lines)
	}
	b = append(b, `,"uses":`...)
	b = jsonw.Int(b, a.Uses)
	b = append(b, `,"budget":`...)
	b = jsonw.Int(b, a.Budget)
	if len(a.Gifts) > 0 {
		b = append(b, `,"gifts":`...)
		b = appendList(b, a.Gifts, html, (*GiftItem).appendJSON)
	}
	return append(b, '}')
}

func (g *GiftItem) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"sku_id":`...)
	b = jsonw.String(b, g.SKUID, html)
	b = append(b, `,"quantity":`...)
	b = jsonw.Int(b, g.Quantity)
	return append(b, '}')
}

func (n *NotApplied) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"source":`...)
	b = jsonw.String(b, string(n.Source), html)
	b = append(b, `,"id":`...)
	b = jsonw.String(b, n.ID, html)
	if n.Kind != "" {
		b = append(b, `,"kind":`...)
		b = jsonw.String(b, string(n.Kind), html)
	}
	b = append(b, `,"reason":`...)
	b = jsonw.String(b, string(n.Reason), html)
	if n.Shortfall != 0 {
		b = append(b, `,"shortfall":`...)
		b = jsonw.Int(b, n.Shortfall)
	}
	if n.ShortfallItems != 0 {
		b = append(b, `,"shortfall_items":`...)
		b = jsonw.Int(b, n.ShortfallItems)
	}
	if n.Winner != "" {
		b = append(b, `,"winner":`...)
		b = jsonw.String(b, n.Winner, html)
	}
	if n.SKUID != "" {
		b = append(b, `,"sku_id":`...)
		b = jsonw.String(b, n.SKUID, html)
	}
	return append(b, '}')
}

func (h *Hint) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"activity_id":`...)
	b = jsonw.String(b, h.ActivityID, html)
	b = append(b, `,"kind":`...)
	b = jsonw.String(b, string(h.Kind), html)
	if h.AddAmount != 0 {
		b = append(b, `,"add_amount":`...)
		b = jsonw.Int(b, h.AddAmount)
	}
	if h.AddItems != 0 {
		b = append(b, `,"add_items":`...)
		b = jsonw.Int(b, h.AddItems)
	}
	if h.SaveMore != 0 {
		b = append(b, `,"save_more":`...)
		b = jsonw.Int(b, h.SaveMore)
	}
	if len(h.Gifts) > 0 {
		b = append(b, `,"gifts":`...)
		b = appendList(b, h.Gifts, html, (*GiftItem).appendJSON)
	}
	if h.FreeShipping {
		b = append(b, `,"free_shipping":true`...)
	}
	return append(b, '}')
}

func (c *Cap) appendJSON(b []byte, html bool) []byte {
	b = append(b, '{')
	first := true
	if c.Source != "" {
		b = append(b, `"source":`...)
		b = jsonw.String(b, string(c.Source), html)
		first = false
	}
	if c.ID != "" {
		b = jsonw.Key(b, first, "id")
		b = jsonw.String(b, c.ID, html)
		first = false
	}
	b = jsonw.Key(b, first, "what")
	b = jsonw.String(b, c.What, html)
	b = append(b, `,"requested":`...)
	b = jsonw.Int(b, c.Requested)
	b = append(b, `,"allowed":`...)
	b = jsonw.Int(b, c.Allowed)
	return append(b, '}')
}

func (m *MarginFlag) appendJSON(b []byte, html bool) []byte {
	b = append(b, `{"line":`...)
	b = jsonw.Int(b, int64(m.Line))
	b = append(b, `,"sku_id":`...)
	b = jsonw.String(b, m.SKUID, html)
	b = append(b, `,"unit_payable":`...)
	b = jsonw.Int(b, m.UnitPayable)
	b = append(b, `,"floor_unit":`...)
	b = jsonw.Int(b, m.FloorUnit)
	b = append(b, `,"cost":`...)
	b = jsonw.Int(b, m.Cost)
	return append(b, '}')
}
