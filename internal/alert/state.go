package alert

import "time"

// Touch is how often an unchanged unresolved alert's last_seen is
// refreshed: more often would rewrite every open alert on every round.
const Touch = 5 * time.Minute

func same(a *Alert, f *Finding) bool {
	return a.Severity == f.Severity && a.Value == f.Value && a.Message == f.Message &&
		(a.Expected == nil) == (f.Expected == nil) && (a.Expected == nil || *a.Expected == *f.Expected)
}

// Change is what one evaluation does to one fingerprint: Alert is the row
// to write (nil: nothing), Create whether it is new, Event the
// notification to send ("" for none).
type Change struct {
	Alert  *Alert
	Create bool
	Event  string
	// Was is the notified severity the update was decided on: the write
	// only applies while it is unchanged, so two evaluators cannot both
	// notify one escalation.
	Was string
}

// Step is the de-duplication state machine of one fingerprint. prev is its
// unresolved alert or, when there is none, its latest resolved one (nil
// when it never fired); f is what the rule sees now (nil: the condition
// does not hold).
//
//   - unresolved, still seen: updated in place (last seen, value, message,
//     severity; when none of them but last seen would change, at most every
//     Touch); a severity above the highest notified one notifies again
//     (escalated), the same or a lower one does not;
//   - unresolved, not seen: resolved, and notified;
//   - resolved or never fired, seen: a new alert (opened) unless the last
//     one resolved less than cooldown ago;
//   - resolved or never fired, not seen: nothing.
//
// newAlert makes the new alert's identity (id, shop, rule, fingerprint).
func Step(prev *Alert, f *Finding, now time.Time, cooldown time.Duration, newAlert func() *Alert) Change {
	open := prev != nil && prev.Status != StatusResolved
	switch {
	case open && f != nil:
		if Rank(f.Severity) <= Rank(prev.Notified) && same(prev, f) && now.Sub(prev.LastSeen) < Touch {
			return Change{} // nothing new: spare the write
		}
		a := *prev
		a.LastSeen, a.Value, a.Expected, a.Message, a.Severity = now, f.Value, f.Expected, f.Message, f.Severity
		ch := Change{Alert: &a, Was: prev.Notified}
		if Rank(f.Severity) > Rank(prev.Notified) {
			a.Notified = f.Severity
			ch.Event = EventEscalated
		}
		return ch
	case open:
		a := *prev
		t := now
		a.Status, a.ResolvedAt = StatusResolved, &t
		return Change{Alert: &a, Event: EventResolved, Was: prev.Notified}
	case f == nil:
		return Change{}
	case prev != nil && prev.ResolvedAt != nil && now.Before(prev.ResolvedAt.Add(cooldown)):
		return Change{}
	}
	a := newAlert()
	a.Subject, a.Severity, a.Notified, a.Status, a.Message, a.Value, a.Expected = f.Subject, f.Severity, f.Severity, StatusOpen, f.Message, f.Value, f.Expected
	a.FirstSeen, a.LastSeen = now, now
	return Change{Alert: a, Create: true, Event: EventOpened}
}
