// Package i18n is capmatch's one catalog of words: every message the API and the web UI show,
// in every language, and the rules for writing numbers, money, dates, lists and plurals in
// each (golang.org/x/text's CLDR data). It is presentation, so it lives beside the edges that
// speak to people (api, web, cmd) and not in the domain: the domain, the engine and the use
// cases say what happened as a stable code and named arguments (models.Arg), and this package
// turns them into words in the reader's language.
//
// # Files
//
// messages/<lang>.json holds the shared messages, one JSON object of key → text per language:
//
//	reason.<code>    a match factor's reason (matching.ReasonCodes)
//	problem.<code>   a validation problem (models.ProblemCodes)
//	notice.<kind>    a notification (service.NotificationKinds)
//	fmt.*, list.*, month.*, common.months   how dates, money, percentages, ranges, periods and
//	                 lists are written
//
// An edge may add a bundle of its own (the web adds web/i18n/<lang>.json, its pages' words);
// New refuses a key defined twice (one source of truth per message), a language one bundle has
// and another lacks, a key one language has and another lacks, an empty message, and a
// translation that names a placeholder the English message does not. English is the reference
// and the fallback.
//
// # Messages
//
// The web's page messages take positional arguments, {1}, {2} (Localizer.T), and count
// messages key.one/key.other (Localizer.N). Coded messages take named, kinded arguments
// (Localizer.Message): {name} writes the argument by its kind (a capability code as its
// label, usd as money, a date as the language's date, a list of codes as labels joined with
// list.and), {name,or} joins a list with list.or, and {name?text} writes text only when the
// argument is given (an optional reason). A coded message defined as plural forms
// (key.one, key.other, ...) is picked by its argument named count.
//
// # Adding a code, a kind or a language
//
//   - A reason, a problem or a notification kind: add the constant where it is produced and to
//     its list (matching.ReasonCodes, models.ProblemCodes, service.NotificationKinds), then its
//     message to messages/<lang>.json for every language; a notification kind also needs its
//     web heading "notifications.kind.<kind>" in web/i18n. Produce it with its arguments
//     (p.Add(field, models.ProblemX, models.Args{"max": models.ArgInt(200)}),
//     Notify(ctx, feed, KindX, args, ...)). TestEveryCodeHasAMessage fails until every catalog
//     has it. Never build an English sentence where a code will do, and never parse one.
//   - A kind of argument: a constant and a constructor in models/message.go, and how it is
//     written in Localizer.Arg.
//   - A language: messages/<lang>.json here and web/i18n/<lang>.json, each complete (the
//     loader and the tests say what is missing), and the language in models.SupportedLangs
//     so that the catalogue's labels follow; its plural rules and number formats come from
//     CLDR.
package i18n
