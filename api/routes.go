package api

import (
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// routes is the whole route table, in one place, so that what the server answers can be read
// top to bottom. The OpenAPI test fails when a route here is missing from openapi.yaml.
func (s *Server) routes(app *fiber.App) {
	s.middleware(app)

	app.Get("/healthz", s.handleHealthz())
	app.Get("/readyz", s.handleReadyz())
	app.Get("/metrics", s.handleMetrics())
	app.Get("/docs", s.handleDocs())
	app.Use("/docs/assets", docsAssets())

	v1 := app.Group("/api/v1")
	v1.Get("/openapi.json", s.handleOpenAPI())

	// Identity and access.
	auth := s.requireAuth
	session := s.requireSession // also for an account that must still change its password
	v1.Post("/auth/login", s.handleLogin())
	v1.Post("/auth/refresh", s.handleRefresh())
	v1.Post("/auth/password-reset", s.handleResetPassword())
	v1.Post("/auth/logout", session, s.handleLogout())
	v1.Get("/me", session, s.handleMe())
	v1.Post("/me/password", session, s.handleChangePassword())
	v1.Post("/organizations", auth, s.handleCreateOrg())
	v1.Get("/organizations", auth, s.handleListOrgs())
	v1.Get("/organizations/:id", auth, s.handleGetOrg())
	v1.Get("/organizations/:id/webhook", auth, s.handleGetWebhook())
	v1.Put("/organizations/:id/webhook", auth, s.handlePutWebhook())
	v1.Delete("/organizations/:id/webhook", auth, s.handleDeleteWebhook())
	v1.Post("/users", auth, s.handleCreateUser())
	v1.Get("/users", auth, s.handleListUsers())
	v1.Get("/users/:id", auth, s.handleGetUser())
	v1.Post("/users/:id/disable", auth, s.handleSetDisabled(true))
	v1.Post("/users/:id/enable", auth, s.handleSetDisabled(false))
	v1.Post("/users/:id/password-reset", auth, s.handleIssuePasswordReset())
	v1.Get("/audit", auth, s.handleAudit())

	// The catalogue of vocabularies (public: forms and public pages need it).
	v1.Get("/catalogue", s.handleCatalogue())
	v1.Get("/questionnaire", s.handleQuestionnaire())

	// Needs, posted by ministries.
	v1.Post("/needs", auth, s.handleCreateNeed())
	v1.Get("/needs", auth, s.handleListNeeds())
	v1.Get("/needs/:id", auth, s.handleGetNeed())
	v1.Get("/needs/:id/matches", auth, s.handleNeedMatches())
	v1.Patch("/needs/:id", auth, s.handlePatchNeed())
	v1.Post("/needs/:id/submit", auth, s.handleNeedTransition(models.NeedSubmit))
	v1.Post("/needs/:id/approve", auth, s.handleNeedTransition(models.NeedApprove))
	v1.Post("/needs/:id/reject", auth, s.handleNeedTransition(models.NeedReject))
	v1.Post("/needs/:id/withdraw", auth, s.handleNeedTransition(models.NeedWithdraw))

	// Offers, posted by donors.
	v1.Post("/offers", auth, s.handleCreateOffer())
	v1.Get("/offers", auth, s.handleListOffers())
	v1.Get("/offers/:id", auth, s.handleGetOffer())
	v1.Get("/offers/:id/matches", auth, s.handleOfferMatches())
	v1.Patch("/offers/:id", auth, s.handlePatchOffer())
	v1.Post("/offers/:id/publish", auth, s.handleOfferTransition(models.OfferPublish))
	v1.Post("/offers/:id/close", auth, s.handleOfferTransition(models.OfferClose))

	// Matching.
	v1.Get("/matching/weights", auth, s.handleGetWeights())
	v1.Put("/matching/weights", auth, s.handlePutWeights())
	v1.Get("/matching/allocation", auth, s.handleAllocation())

	// Engagements and projects.
	v1.Post("/engagements", auth, s.handleProposeEngagement())
	v1.Get("/engagements", auth, s.handleListEngagements())
	v1.Get("/engagements/:id", auth, s.handleGetEngagement())
	v1.Post("/engagements/:id/accept", auth, s.handleAcceptEngagement())
	v1.Post("/engagements/:id/decline", auth, s.handleCloseEngagement(false))
	v1.Post("/engagements/:id/withdraw", auth, s.handleCloseEngagement(true))
	v1.Post("/engagements/:id/cancel", auth, s.handleCancelEngagement())
	v1.Post("/engagements/:id/messages", auth, s.handleEngagementMessage())
	v1.Post("/projects", auth, s.handleCreateProject())
	v1.Get("/projects", auth, s.handleListProjects())
	v1.Get("/projects/:id", auth, s.handleGetProject())
	v1.Patch("/projects/:id", auth, s.handlePatchProject())
	v1.Post("/projects/:id/status", auth, s.handleProjectStatus())
	v1.Post("/projects/:id/transactions", auth, s.handleAddTransaction())
	v1.Get("/reports/funding", auth, s.handleFundingReport())
	v1.Get("/reports/overlaps", auth, s.handleOverlaps())
	v1.Get("/export/iati.xml", auth, s.handleIATIExport())

	// Notifications: the caller's in-app feed.
	v1.Get("/notifications", auth, s.handleListNotifications())
	v1.Post("/notifications/read-all", auth, s.handleReadAllNotifications())
	v1.Post("/notifications/:id/read", auth, s.handleReadNotification())

	// Countries.
	v1.Get("/countries", auth, s.handleListCountries())
	v1.Get("/countries/:iso", auth, s.handleGetCountry())
	v1.Patch("/countries/:iso/readiness", auth, s.handlePatchReadiness())
	v1.Get("/countries/:iso/external-activities", auth, s.handleCountryExternal())
	v1.Get("/countries/:iso/readiness/history", auth, s.handleReadinessHistory())
	v1.Post("/countries/:iso/sources", auth, s.handleAddSource())
	v1.Patch("/countries/:iso/sources/:id", auth, s.handlePatchSource())
	v1.Delete("/countries/:iso/sources/:id", auth, s.handleDeleteSource())

	// Self-assessments (the country's ministries and coordinators only).
	v1.Get("/countries/:iso/assessments", auth, s.handleListAssessments())
	v1.Post("/countries/:iso/assessments", auth, s.handleSubmitAssessment())
	v1.Get("/countries/:iso/assessments/:id", auth, s.handleGetAssessment())
	v1.Post("/countries/:iso/assessments/:id/proposals", auth, s.handleProposeFromAssessment())

	// Points of Contact (personal data: see models.CanSeePoCs) and communication checks.
	v1.Get("/countries/:iso/pocs", auth, s.handleListPoCs())
	v1.Post("/countries/:iso/pocs", auth, s.handleCreatePoC())
	v1.Get("/countries/:iso/pocs/:id", auth, s.handleGetPoC())
	v1.Patch("/countries/:iso/pocs/:id", auth, s.handlePatchPoC())
	v1.Delete("/countries/:iso/pocs/:id", auth, s.handleDeletePoC())
	v1.Get("/countries/:iso/poc-checks", auth, s.handleCountryChecks())
	v1.Post("/poc-checks", auth, s.handleRunPoCCheck())
	v1.Get("/poc-checks", auth, s.handleListPoCChecks())
	v1.Get("/poc-checks/:id", auth, s.handleGetPoCCheck())
	v1.Post("/poc-checks/:id/close", auth, s.handleClosePoCCheck())
	v1.Post("/poc-acks", s.handleAcknowledge()) // no sign-in: the signed token is the credential
	v1.Get("/outbox", auth, s.handleOutbox())

	// Bulk import (coordinators), and IATI activity files (coordinators, donors; streamed).
	v1.Post("/import/needs", auth, s.handleImportNeeds())
	v1.Post("/import/offers", auth, s.handleImportOffers())
	v1.Post("/import/iati", auth, s.handleImportIATI())

	// Open data: what an anonymous visitor may see, as files and a read API, without signing
	// in, rate-limited per client address (the data dictionary is the web page /open-data).
	for _, ds := range service.Datasets {
		app.Get("/open-data/"+ds.Name+".csv", s.handleOpenData(ds, "csv"))
		app.Get("/open-data/"+ds.Name+".json", s.handleOpenData(ds, "json"))
	}
	v1.Get("/public/needs", s.handlePublicNeeds())
	v1.Get("/public/offers", s.handlePublicOffers())
	v1.Get("/public/countries", s.handlePublicCountries())

	// Web UI.
	ui := s.webUI()
	app.Use("/static", ui.Assets())
	app.Get("/favicon.ico", ui.Favicon())
	app.Get("/", ui.Home())
	app.Get("/lang/:code", ui.SetLanguage())
	app.Get("/signin", ui.SignInPage())
	app.Post("/signin", ui.SignIn())
	app.Post("/signout", ui.SignOut())
	app.Get("/account/password", ui.ChangePasswordPage())
	app.Post("/account/password", ui.ChangePassword())
	app.Get("/reset", ui.ResetPasswordPage())
	app.Post("/reset", ui.ResetPassword())
	app.Get("/coordinator/users", ui.Accounts())
	app.Post("/coordinator/users/:id/reset", ui.IssueResetLink())
	app.Get("/needs", ui.Needs())
	app.Get("/needs/:id", ui.Need())
	app.Get("/needs/:id/withdraw", ui.ConfirmWithdrawNeed())
	app.Post("/needs/:id/:action", ui.NeedTransition())
	app.Get("/offers", ui.Offers())
	app.Get("/offers/:id", ui.Offer())
	app.Get("/offers/:id/close", ui.ConfirmCloseOffer())
	app.Post("/offers/:id/:action", ui.OfferTransition())
	app.Get("/countries", ui.Countries())
	app.Get("/countries/:iso", ui.Country())
	app.Get("/countries/:iso/readiness", ui.ReadinessForm())
	app.Post("/countries/:iso/readiness", ui.SaveReadiness())
	app.Get("/countries/:iso/pocs/new", ui.NewPoC())
	app.Post("/countries/:iso/pocs", ui.CreatePoC())
	app.Get("/countries/:iso/pocs/:id/edit", ui.EditPoC())
	app.Post("/countries/:iso/pocs/:id/edit", ui.UpdatePoC())
	app.Post("/countries/:iso/pocs/:id/delete", ui.DeletePoC())
	app.Get("/countries/:iso/assessments", ui.Assessments())
	app.Get("/countries/:iso/assessments/new", ui.NewAssessment())
	app.Post("/countries/:iso/assessments", ui.SubmitAssessment())
	app.Get("/countries/:iso/assessments/:id", ui.Assessment())
	app.Post("/countries/:iso/assessments/:id/proposals", ui.ProposeFromAssessment())
	app.Get("/countries/:iso/sources/new", ui.NewSource())
	app.Post("/countries/:iso/sources", ui.CreateSource())
	app.Get("/countries/:iso/sources/:id/edit", ui.EditSource())
	app.Post("/countries/:iso/sources/:id/edit", ui.UpdateSource())
	app.Post("/countries/:iso/sources/:id/delete", ui.DeleteSource())
	app.Get("/map", ui.Map())
	app.Get("/open-data", ui.OpenData())
	app.Get("/ministry", ui.MinistryHome())
	app.Get("/ministry/needs/new", ui.NewNeed())
	app.Post("/ministry/needs", ui.CreateNeed())
	app.Get("/ministry/needs/:id/edit", ui.EditNeed())
	app.Post("/ministry/needs/:id/edit", ui.UpdateNeed())
	app.Get("/donor", ui.DonorHome())
	app.Get("/donor/offers/new", ui.NewOffer())
	app.Post("/donor/offers", ui.CreateOffer())
	app.Get("/donor/offers/:id/edit", ui.EditOffer())
	app.Post("/donor/offers/:id/edit", ui.UpdateOffer())
	app.Get("/coordinator", ui.CoordinatorHome())
	app.Get("/coordinator/weights", ui.WeightsEditor())
	app.Post("/coordinator/weights", ui.SaveWeights())
	app.Get("/coordinator/funding", ui.Funding())
	app.Get("/coordinator/poc-checks", ui.PoCChecks())
	app.Post("/coordinator/poc-checks", ui.RunPoCCheck())
	app.Get("/coordinator/poc-checks/:id", ui.PoCCheck())
	app.Post("/coordinator/poc-checks/:id/close", ui.ClosePoCCheck())
	app.Get("/coordinator/outbox", ui.Outbox())
	// The acknowledgement link of a communication check: no sign-in; the GET only shows a
	// confirmation page, the POST from it acknowledges (mail scanners fetch links).
	app.Get("/ack/:token", ui.AckPage())
	app.Post("/ack/:token", ui.Acknowledge())
	app.Get("/engagements", ui.Engagements())
	app.Post("/engagements", ui.ProposeEngagement())
	app.Get("/engagements/:id", ui.Engagement())
	app.Get("/engagements/:id/cancel", ui.ConfirmCancelEngagement())
	app.Post("/engagements/:id/:action", ui.EngagementAction())
	app.Get("/projects", ui.Projects())
	app.Post("/projects", ui.StartProject())
	app.Get("/projects/:id", ui.Project())
	app.Post("/projects/:id/transactions", ui.AddTransaction())
	app.Post("/projects/:id/status", ui.SetProjectStatus())
	app.Post("/projects/:id/results", ui.AddResult())
	app.Post("/projects/:id/documents", ui.AddDocument())
	app.Get("/coordinator/allocation", ui.Allocation())
	app.Get("/export/iati.xml", ui.IATIExport())
	app.Get("/notifications", ui.Notifications())
	app.Post("/notifications/read-all", ui.ReadAllNotifications())
	app.Use(ui.NotFound())
}
