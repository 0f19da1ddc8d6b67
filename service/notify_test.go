package service

import (
	"context"
	"testing"

	"github.com/capmatch/capmatch/models"
)

func TestNilNotificationsAreHarmless(t *testing.T) {
	var s *Notifications
	s.Notify(context.Background(), "org", KindProposal, nil, "need", "n")
	s.NeedTransitioned(context.Background(), models.NeedSubmit, &models.Need{})
	s.OfferPublished(context.Background(), &models.Offer{})
	s.Run(context.Background())
	if st := s.WebhookStats(); st != (models.WebhookStats{}) {
		t.Errorf("nil notifications count deliveries: %+v", st)
	}
}
