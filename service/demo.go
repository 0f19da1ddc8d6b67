package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/demo"
)

// LoadDemo loads the demo data set into a store that holds no needs of its own, and returns the
// demo accounts so that start-up can print them. It is idempotent: every demo object has a
// fixed id (users a fixed e-mail), so a load interrupted by a crash completes on the next start.
// It reports loaded=false when the store already holds other data or a completed demo load.
func (a *App) LoadDemo(ctx context.Context, today models.Date) ([]demo.Account, bool, error) {
	d := demo.Build(today)
	if done, err := a.store.GetOrCreateSetting(ctx, "demo_probe", []byte("-")); err != nil {
		return nil, false, err
	} else if string(done) == "loaded" {
		return d.Accounts, false, nil
	}
	needs, err := a.store.ListNeeds(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, n := range needs {
		if !strings.HasPrefix(n.ID, "need-") {
			return nil, false, nil // real data: leave it alone
		}
	}
	ignoreDup := func(err error) error {
		if errors.Is(err, models.ErrConflict) {
			return nil
		}
		return err
	}
	for i := range d.Orgs {
		if err := ignoreDup(a.store.CreateOrg(ctx, &d.Orgs[i])); err != nil {
			return nil, false, fmt.Errorf("demo organization %s: %w", d.Orgs[i].ID, err)
		}
	}
	userByOrg := map[string]string{}
	for _, acc := range d.Accounts {
		// The demo's published passwords are simple on purpose and are not forced to change:
		// the demo is for trying capmatch on one's own machine (SECURITY.md, residual risks).
		u, err := a.Accounts.createUser(ctx, nil, UserInput{Email: acc.Email, Password: acc.Password, Name: acc.Name, Role: acc.Role, OrganizationID: acc.OrgKey}, false)
		switch {
		case err == nil:
			userByOrg[acc.OrgKey] = u.ID
		case errors.Is(err, models.ErrConflict):
			if u, gerr := a.store.GetUserByEmail(ctx, EmailKey(acc.Email)); gerr == nil {
				userByOrg[acc.OrgKey] = u.ID
			}
		default:
			return nil, false, fmt.Errorf("demo account %s: %w", acc.Email, err)
		}
	}
	for i := range d.Needs {
		n := &d.Needs[i]
		n.Normalize()
		if uid, ok := userByOrg[n.OrganizationID]; ok {
			n.CreatedBy = uid
		}
		if err := ignoreDup(a.store.CreateNeed(ctx, n)); err != nil {
			return nil, false, fmt.Errorf("demo need %s: %w", n.ID, err)
		}
	}
	for i := range d.Offers {
		o := &d.Offers[i]
		o.Normalize()
		if uid, ok := userByOrg[o.OrganizationID]; ok {
			o.CreatedBy = uid
		}
		if err := ignoreDup(a.store.CreateOffer(ctx, o)); err != nil {
			return nil, false, fmt.Errorf("demo offer %s: %w", o.ID, err)
		}
	}
	for i := range d.Readiness {
		if err := ignoreDup(a.store.PutCountryProfile(ctx, &d.Readiness[i], 0)); err != nil {
			return nil, false, fmt.Errorf("demo readiness %s: %w", d.Readiness[i].ISO, err)
		}
	}
	for i := range d.PoCs {
		dir := &d.PoCs[i]
		for j := range dir.Items {
			p := &dir.Items[j]
			uid, _, err := a.PoCs.linkOf(ctx, dir.ISO, p.Email)
			if err != nil {
				return nil, false, fmt.Errorf("demo points of contact %s: %w", dir.ISO, err)
			}
			p.UserID = uid
		}
		if err := ignoreDup(a.store.PutPoCDirectory(ctx, dir, 0)); err != nil {
			return nil, false, fmt.Errorf("demo points of contact %s: %w", dir.ISO, err)
		}
		for _, p := range dir.Items {
			if p.UserID != "" {
				if err := a.store.PutPoCLink(ctx, p.UserID, dir.ISO); err != nil {
					return nil, false, fmt.Errorf("demo points of contact %s: %w", dir.ISO, err)
				}
			}
		}
	}
	if err := a.store.MarkSetting(ctx, "demo_probe", []byte("loaded")); err != nil {
		return nil, false, err
	}
	// Bring this replica's model up to date; others reconcile.
	if err := a.Sync.Reconcile(ctx); err != nil {
		return nil, false, err
	}
	return d.Accounts, true, nil
}
