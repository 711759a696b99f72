package promotion

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Coupon template states.
//
//   - active: coupons are claimed, grabbed, issued and redeemed.
//   - paused: nothing is issued (409 template_paused) and the coupons
//     already in wallets do not apply (the quote says reason paused) until
//     the template is resumed — the way a paused promotion does not apply.
//   - ended: nothing is issued any more (409 template_ended), for good; the
//     coupons already claimed stay redeemable until their own validity
//     ends (停止发券: a customer keeps what was handed out).
const (
	TemplateActive = "active"
	TemplatePaused = "paused"
	TemplateEnded  = "ended"
)

// ErrNotActive is the store refusing to issue a coupon of a template that
// is not active (paused or ended since the caller read it).
var ErrNotActive = errors.New("coupon template is not active")

// notIssuing is the conflict a claim, grab or issue of a template that is
// not active meets.
func notIssuing(id, status string) error {
	switch status {
	case TemplatePaused:
		return commerce.Conflict("template_paused", "coupon template %s is paused: no coupons are issued until it is resumed", id)
	case TemplateEnded:
		return commerce.Conflict("template_ended", "coupon template %s has ended: no more coupons are issued", id)
	}
	return commerce.Conflict("template_not_active", "coupon template %s is %s", id, status)
}

// mayRedeem reports whether coupons of t may still apply at now, at once
// or later: active and paused templates (a paused one may be resumed), and
// ended ones while a coupon claimed before the end can still be valid.
// The margin guard counts these.
func mayRedeem(t *Template, now time.Time) bool {
	if t.Status != TemplateEnded {
		return true
	}
	if t.ValidDays > 0 {
		return now.Before(t.UpdatedAt.Add(time.Duration(t.ValidDays) * 24 * time.Hour))
	}
	return t.ValidUntil.IsZero() || now.Before(t.ValidUntil)
}

// SetTemplateStatus pauses (paused), resumes (active) or ends (ended) a
// coupon template, audited as pause, resume or end. Setting the state it
// is already in changes nothing; an ended template stays ended (409
// illegal_transition).
func (s *Service) SetTemplateStatus(ctx context.Context, a commerce.Actor, id, status string) (*Template, error) {
	action := ""
	switch status {
	case TemplatePaused:
		action = "pause"
	case TemplateActive:
		action = "resume"
	case TemplateEnded:
		action = "end"
	default:
		return nil, commerce.Invalid("status", "invalid_enum", "status is active, paused or ended")
	}
	for attempt := 0; ; attempt++ {
		t, err := s.Template(ctx, a.ShopID, id)
		if err != nil {
			return nil, err
		}
		if t.Status == status {
			return t, nil
		}
		if t.Status == TemplateEnded {
			return nil, commerce.Conflict("illegal_transition", "coupon template %s has ended", id)
		}
		before := *t
		t.Status, t.UpdatedAt = status, s.com.Now().UTC()
		err = s.store.SetTemplateStatus(ctx, t, before.Status, s.audit(a, action, "coupon_template", id, before, t))
		s.drop(a.ShopID)
		switch {
		case err == nil:
			return t, nil
		case errors.Is(err, commerce.ErrStale) && attempt < 3:
			continue // changed meanwhile: decide on what it is now
		case errors.Is(err, commerce.ErrNotFound):
			return nil, commerce.NotFound("coupon_template", id)
		}
		return nil, fmt.Errorf("set coupon template %s %s: %w", id, status, err)
	}
}
