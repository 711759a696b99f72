package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Editing a plan piece by piece: attaching and detaching promotions and
// coupon templates without resending the plan, editing and deleting
// channels and milestones, and deleting a campaign nothing references.

// AttachKind names an attachment list of a campaign.
type AttachKind string

// Attachment lists.
const (
	AttachPromotion      AttachKind = "promotion"       // promotion_ids
	AttachCouponTemplate AttachKind = "coupon_template" // coupon_template_ids
)

// ErrTooManyAttachments is the store refusing an attachment beyond
// MaxAttachments.
var ErrTooManyAttachments = errors.New("too many attachments")

// InUseError is the store refusing to delete what is still referenced:
// how many of each kind of reference there are (only kinds with some).
type InUseError struct {
	References map[string]int64
}

func (e *InUseError) Error() string {
	kinds := make([]string, 0, len(e.References))
	for k, n := range e.References {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	return "still referenced by " + strings.Join(kinds, ", ")
}

// EditStore is what editing plans piece by piece needs from storage. Every
// write carries its audit entry, written in the same transaction.
type EditStore interface {
	// SetAttached adds ref to (attach) or removes it from the campaign's
	// list of kind, writing audit only when that changes the list, and
	// reports whether it did: ErrNotFound without the campaign, ErrStale
	// when it has ended, ErrTooManyAttachments past MaxAttachments.
	// Concurrent changes of one campaign all land.
	SetAttached(ctx context.Context, shopID, campaignID string, kind AttachKind, ref string, attach bool, at time.Time, audit *commerce.AuditEntry) (bool, error)
	// UpdateChannel stores a channel's kind, name, UTM codes and budget:
	// ErrNotFound, ErrStale when its campaign has ended, ErrDuplicate when
	// its UTM codes are another channel's in the campaign.
	UpdateChannel(ctx context.Context, ch *Channel, audit *commerce.AuditEntry) error
	// DeleteChannel deletes a channel with no spend entries: ErrNotFound,
	// ErrStale when its campaign has ended, *InUseError (spend_entries).
	DeleteChannel(ctx context.Context, shopID, campaignID, id string, audit *commerce.AuditEntry) error
	// UpdateMilestone stores a milestone's name, due rule and owner
	// (ErrNotFound).
	UpdateMilestone(ctx context.Context, m *Milestone, audit *commerce.AuditEntry) error
	// DeleteMilestone deletes a milestone (ErrNotFound).
	DeleteMilestone(ctx context.Context, shopID, campaignID, id string, audit *commerce.AuditEntry) error
	// DeleteCampaign deletes a campaign with its channels and milestones
	// unless something references it (*InUseError naming promotions,
	// coupon_templates, spend_entries, orders — placed under one of its
	// channels' utm_source and utm_campaign —, alert_rules, open_alerts):
	// ErrNotFound without it.
	DeleteCampaign(ctx context.Context, shopID, id string, audit *commerce.AuditEntry) error
}

func (k AttachKind) field() string {
	if k == AttachCouponTemplate {
		return "coupon_template_id"
	}
	return "promotion_id"
}

// checkRef reports whether ref is one of the shop's promotions or coupon
// templates (404 otherwise).
func (s *Service) checkRef(ctx context.Context, shopID string, kind AttachKind, ref string) error {
	if s.promos == nil {
		return nil
	}
	var err error
	switch kind {
	case AttachPromotion:
		_, err = s.promos.Promotion(ctx, shopID, ref)
	case AttachCouponTemplate:
		_, err = s.promos.Template(ctx, shopID, ref)
	default:
		return fmt.Errorf("unknown attachment kind %q", kind)
	}
	return err
}

// Attach attaches one of the shop's promotions or coupon templates to a
// campaign that has not ended. Attaching what is attached changes nothing.
func (s *Service) Attach(ctx context.Context, a commerce.Actor, campaignID string, kind AttachKind, ref string) (*Campaign, error) {
	return s.setAttached(ctx, a, campaignID, kind, ref, true)
}

// Detach detaches a promotion or coupon template from a campaign that has
// not ended. Detaching what is not attached changes nothing; an id that is
// neither attached nor the shop's is 404.
func (s *Service) Detach(ctx context.Context, a commerce.Actor, campaignID string, kind AttachKind, ref string) (*Campaign, error) {
	return s.setAttached(ctx, a, campaignID, kind, ref, false)
}

func (s *Service) setAttached(ctx context.Context, a commerce.Actor, campaignID string, kind AttachKind, ref string, attach bool) (*Campaign, error) {
	if err := commerce.CheckText(kind.field(), ref, true, commerce.MaxCodeLen); err != nil {
		return nil, err
	}
	c, err := s.Get(ctx, a.ShopID, campaignID)
	if err != nil {
		return nil, err
	}
	attached := c.PromotionIDs
	if kind == AttachCouponTemplate {
		attached = c.CouponTemplateIDs
	}
	if err := s.checkRef(ctx, a.ShopID, kind, ref); err != nil {
		// A detach may drop an id that is attached, whatever became of it.
		if attach || !containsID(attached, ref) {
			return nil, err
		}
	}
	if c.Status == StatusEnded {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended; its plan no longer changes", campaignID)
	}
	action := "detach_" + string(kind)
	if attach {
		action = "attach_" + string(kind)
	}
	_, err = s.store.SetAttached(ctx, a.ShopID, campaignID, kind, ref, attach, s.com.Now().UTC(),
		s.com.Audit(a, action, "campaign", campaignID, nil, map[string]string{kind.field(): ref}))
	switch {
	case errors.Is(err, commerce.ErrStale):
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended; its plan no longer changes", campaignID)
	case errors.Is(err, commerce.ErrNotFound):
		return nil, commerce.NotFound("campaign", campaignID)
	case errors.Is(err, ErrTooManyAttachments):
		e := commerce.Conflict("too_many_attachments", "a campaign has at most %d promotions and %d coupon templates attached", MaxAttachments, MaxAttachments)
		e.Field = kind.field()
		return nil, e
	case err != nil:
		return nil, fmt.Errorf("%s %s on campaign %s: %w", action, ref, campaignID, err)
	}
	return s.Get(ctx, a.ShopID, campaignID)
}

func containsID(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// ChannelPatch edits a channel: a field left out (or null) stays as it is.
type ChannelPatch struct {
	Kind        *string      `json:"kind,omitempty" enum:"onsite,paid_ads,kol,private,sms,email,other"`
	Name        *string      `json:"name,omitempty" maxLength:"200"`
	UTMSource   *string      `json:"utm_source,omitempty" maxLength:"64" doc:"Orders and visits attribute to the channel by utm_source and utm_campaign: changing them changes which orders count for it, past ones included"`
	UTMMedium   *string      `json:"utm_medium,omitempty" maxLength:"64"`
	UTMCampaign *string      `json:"utm_campaign,omitempty" maxLength:"64"`
	Budget      *money.Money `json:"budget,omitempty" doc:"Planned budget in fen"`
}

// UpdateChannel edits a channel of a campaign that has not ended: only the
// fields present change; the result is checked like a new channel.
func (s *Service) UpdateChannel(ctx context.Context, a commerce.Actor, campaignID, channelID string, p ChannelPatch) (*Channel, error) {
	c, ch, err := s.channel(ctx, a.ShopID, campaignID, channelID)
	if err != nil {
		return nil, err
	}
	in := ChannelInput{Kind: ch.Kind, Name: ch.Name, UTMSource: ch.UTMSource, UTMMedium: ch.UTMMedium, UTMCampaign: ch.UTMCampaign, Budget: ch.Budget}
	commerce.SetIfGiven(&in.Kind, p.Kind)
	commerce.SetIfGiven(&in.Name, p.Name)
	commerce.SetIfGiven(&in.UTMSource, p.UTMSource)
	commerce.SetIfGiven(&in.UTMMedium, p.UTMMedium)
	commerce.SetIfGiven(&in.UTMCampaign, p.UTMCampaign)
	commerce.SetIfGiven(&in.Budget, p.Budget)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if c.Status == StatusEnded {
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended", campaignID)
	}
	before := *ch
	after := before
	after.Kind, after.Name, after.UTMSource, after.UTMMedium, after.UTMCampaign, after.Budget = in.Kind, in.Name, in.UTMSource, in.UTMMedium, in.UTMCampaign, in.Budget
	if after == before {
		return ch, nil
	}
	err = s.store.UpdateChannel(ctx, &after, s.com.Audit(a, "update", "campaign_channel", channelID, before, after))
	switch {
	case errors.Is(err, commerce.ErrDuplicate):
		e := commerce.Conflict("utm_taken", "another channel of the campaign has these UTM codes")
		e.Field = "utm_source"
		return nil, e
	case errors.Is(err, commerce.ErrStale):
		return nil, commerce.Conflict("campaign_ended", "campaign %s has ended", campaignID)
	case errors.Is(err, commerce.ErrNotFound):
		return nil, commerce.NotFound("channel", channelID)
	case err != nil:
		return nil, fmt.Errorf("update channel %s: %w", channelID, err)
	}
	_, got, err := s.channel(ctx, a.ShopID, campaignID, channelID)
	return got, err
}

// DeleteChannel deletes a channel of a campaign that has not ended, while
// no spend is posted on it (409 channel_has_spend: the spend is the
// campaign's cost and its ROI's denominator).
func (s *Service) DeleteChannel(ctx context.Context, a commerce.Actor, campaignID, channelID string) error {
	c, ch, err := s.channel(ctx, a.ShopID, campaignID, channelID)
	if err != nil {
		return err
	}
	if c.Status == StatusEnded {
		return commerce.Conflict("campaign_ended", "campaign %s has ended", campaignID)
	}
	err = s.store.DeleteChannel(ctx, a.ShopID, campaignID, channelID, s.com.Audit(a, "delete", "campaign_channel", channelID, ch, nil))
	var inUse *InUseError
	switch {
	case errors.As(err, &inUse):
		e := commerce.Conflict("channel_has_spend", "channel %s has %d spend entries; its spend is the campaign's cost and stays", channelID, inUse.References["spend_entries"])
		e.Extra = map[string]any{"references": inUse.References}
		return e
	case errors.Is(err, commerce.ErrStale):
		return commerce.Conflict("campaign_ended", "campaign %s has ended", campaignID)
	case errors.Is(err, commerce.ErrNotFound):
		return commerce.NotFound("channel", channelID)
	case err != nil:
		return fmt.Errorf("delete channel %s: %w", channelID, err)
	}
	return nil
}

// MilestonePatch edits a milestone: a field left out (or null) stays as it
// is. offset_days or due_on replaces the due rule (not both); owner ""
// clears the owner.
type MilestonePatch struct {
	Name       *string `json:"name,omitempty" maxLength:"200"`
	OffsetDays *int64  `json:"offset_days,omitempty" minimum:"-366" maximum:"366" doc:"Due this many days from the campaign's start day (replaces due_on)"`
	DueOn      *string `json:"due_on,omitempty" doc:"Due on this date, 2006-01-02 (replaces offset_days)"`
	Anchor     *string `json:"anchor,omitempty" enum:"start,end,preheat" doc:"What offset_days counts from (with offset_days, given now or kept): start, end or preheat"`
	Owner      *string `json:"owner,omitempty" maxLength:"200" doc:"\"\" clears it"`
}

// UpdateMilestone edits a milestone; only the fields present change.
func (s *Service) UpdateMilestone(ctx context.Context, a commerce.Actor, campaignID, id string, p MilestonePatch) (*Milestone, error) {
	m, err := s.Milestone(ctx, a.ShopID, campaignID, id)
	if err != nil {
		return nil, err
	}
	if p.OffsetDays != nil && p.DueOn != nil {
		return nil, commerce.Invalid("due_on", "ambiguous_due", "give offset_days or due_on, not both")
	}
	in := MilestoneInput{Name: m.Name, OffsetDays: m.OffsetDays, Anchor: m.Anchor, Owner: m.Owner}
	if m.OffsetDays == nil {
		in.DueOn = m.DueOn
	}
	commerce.SetIfGiven(&in.Name, p.Name)
	commerce.SetIfGiven(&in.Owner, p.Owner)
	switch {
	case p.OffsetDays != nil:
		in.OffsetDays, in.DueOn = p.OffsetDays, ""
	case p.DueOn != nil:
		in.OffsetDays, in.DueOn, in.Anchor = nil, *p.DueOn, ""
	}
	commerce.SetIfGiven(&in.Anchor, p.Anchor)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	before := *m
	after := Milestone{ID: m.ID, ShopID: a.ShopID, CampaignID: m.CampaignID, Name: in.Name, OffsetDays: in.OffsetDays, Anchor: in.Anchor, DueOn: in.DueOn, Owner: in.Owner,
		DoneAt: m.DoneAt, CreatedAt: m.CreatedAt}
	err = s.store.UpdateMilestone(ctx, &after, s.com.Audit(a, "update", "campaign_milestone", id, before, after))
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("milestone", id)
	}
	if err != nil {
		return nil, fmt.Errorf("update milestone %s: %w", id, err)
	}
	return s.Milestone(ctx, a.ShopID, campaignID, id)
}

// DeleteMilestone deletes a milestone.
func (s *Service) DeleteMilestone(ctx context.Context, a commerce.Actor, campaignID, id string) error {
	m, err := s.Milestone(ctx, a.ShopID, campaignID, id)
	if err != nil {
		return err
	}
	err = s.store.DeleteMilestone(ctx, a.ShopID, campaignID, id, s.com.Audit(a, "delete", "campaign_milestone", id, m, nil))
	if errors.Is(err, commerce.ErrNotFound) {
		return commerce.NotFound("milestone", id)
	}
	if err != nil {
		return fmt.Errorf("delete milestone %s: %w", id, err)
	}
	return nil
}

// Delete deletes a campaign — one that was only a test — with its channels
// and milestones, while nothing references it; otherwise 409
// campaign_in_use with extra.references naming what does and how many.
func (s *Service) Delete(ctx context.Context, a commerce.Actor, id string) error {
	c, err := s.Get(ctx, a.ShopID, id)
	if err != nil {
		return err
	}
	err = s.store.DeleteCampaign(ctx, a.ShopID, id, s.com.Audit(a, "delete", "campaign", id, c, nil))
	var inUse *InUseError
	switch {
	case errors.As(err, &inUse):
		e := commerce.Conflict("campaign_in_use", "campaign %s is %s: detach, delete or keep them", id, inUse.Error())
		e.Extra = map[string]any{"references": inUse.References}
		return e
	case errors.Is(err, commerce.ErrNotFound):
		return commerce.NotFound("campaign", id)
	case err != nil:
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	return nil
}
