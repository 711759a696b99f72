package commerce

import "context"

// FulfilGate may refuse to fulfil a paid order: a peak path whose orders
// must wait for something beyond payment (a group buy's group completing)
// registers one. It returns a domain error (a conflict naming why) to
// refuse, nil to allow. Gates see the order with its holds.
type FulfilGate func(ctx context.Context, o *Order) error

// OnFulfil registers a gate every fulfilment must pass. Register before
// serving.
func (s *Service) OnFulfil(g FulfilGate) {
	s.fulfilGates = append(s.fulfilGates, g)
}

// checkFulfil runs the gates. A gate should only allow a state that cannot
// be undone (a completed group stays complete), so allowing here and
// fulfilling in a later transaction cannot race.
func (s *Service) checkFulfil(ctx context.Context, shopID, id string) error {
	if len(s.fulfilGates) == 0 {
		return nil
	}
	o, err := s.Order(ctx, shopID, id)
	if err != nil {
		return err
	}
	for _, g := range s.fulfilGates {
		if err := g(ctx, o); err != nil {
			return err
		}
	}
	return nil
}
