package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// userCommand implements `capmatch user create`, which creates an account from a shell (for
// example the first coordinator of a production deployment). The password comes from the
// CAPMATCH_USER_PASSWORD environment variable so that it stays out of the process list and
// shell history.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, app *service.App) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: capmatch user create --email E --name N --role R (--org ID | --org-name NAME --org-type TYPE [--country CC])")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "e-mail address (sign-in name)")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "", "ministry, donor, coordinator or admin")
	orgID := fs.String("org", "", "id of an existing organization")
	orgName := fs.String("org-name", "", "create a new organization with this name")
	orgType := fs.String("org-type", "", "type of the new organization: government, donor, implementer or coordinator")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 country of a new government organization")
	mustChange := fs.Bool("must-change-password", true,
		"the account must choose its own password at first sign-in (you chose this one); false for your own account")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	password := getenv("CAPMATCH_USER_PASSWORD")
	if password == "" {
		return errors.New("set the new account's password in CAPMATCH_USER_PASSWORD")
	}
	if *orgID == "" {
		if *orgName == "" {
			return errors.New("give --org ID or --org-name and --org-type")
		}
		o, err := app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: *orgName, Type: models.OrgType(*orgType), Country: *country})
		if err != nil {
			return explain(err)
		}
		*orgID = o.ID
		fmt.Fprintf(stdout, "created organization %s (%s)\n", o.ID, o.Name)
	}
	u, err := app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: *email, Password: password, Name: *name,
		Role: models.Role(*role), OrganizationID: *orgID, MustChangePassword: *mustChange})
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(stdout, "created %s account %s for %s\n", u.Role, u.ID, u.Email)
	if u.MustChangePassword {
		fmt.Fprintln(stdout, "it must choose its own password at first sign-in")
	}
	return nil
}

// explain turns a validation error into one readable line, each field's problem written in
// English from the catalog.
func explain(err error) error {
	var de *models.Error
	if errors.As(err, &de) && len(de.Fields) > 0 {
		msg := de.Detail
		for _, f := range i18n.Default().For("en").FieldErrors(de.Fields) {
			msg += fmt.Sprintf("; %s: %s", f.Field, f.Message)
		}
		return errors.New(msg)
	}
	return err
}
