# capmatch: the commands developers and CI run.
GO ?= go
PKGS ?= ./...

.PHONY: run test test-go vet build bench fuzz fmt clean vuln lint-api lint-api-deps lint-api-run generate

run: ## serve on :8080 with the embedded default
	$(GO) run ./cmd/capmatch

build: ## build the binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/capmatch ./cmd/capmatch

vet:
	$(GO) vet $(PKGS)

test: ## the whole test suite: installs what it needs (.ci/deps.sh), starts a throwaway redis-server, go vet, go test -race
	./.ci/deps.sh
	./.ci/with-redis.sh $(MAKE) --no-print-directory test-go

# The sequential tables of requests (they send one request at a time) run whole in a second pass
# without the race detector, which makes them five to six times slower: under -race they run a
# sample of their rows (tableSample in api/ and web/).
RACE_FREE_TABLES = ^(TestAuthorizationTable|TestWebAuthorizationTable|TestEveryPageRendersInEveryLanguage)$$

test-go: vet ## go test -race on every package, then the request tables without it (REDIS_URL: a real Redis, else in-process)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -timeout 20m -run '$(RACE_FREE_TABLES)' ./api/ ./web/

.PHONY: test-soak
test-soak: ## reliability scenarios (issue 8) with 10x longer load phases and outages, plus the slow ones; needs redis-server
	CAPMATCH_SOAK=1 $(GO) test -count=1 -v -timeout 30m ./reliability/

FUZZTIME ?= 10s
# Every fuzz target, as package:Target. CI runs each for a few seconds; run longer locally.
FUZZ_TARGETS = ./api:FuzzDecode ./models:FuzzNeedValidate ./service:FuzzCursor ./adapters/iati:FuzzWrite ./matching:FuzzScore

fuzz: ## run every fuzz target for FUZZTIME (seed corpora live in each package's testdata/fuzz)
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# govulncheck: known vulnerabilities (Go vulnerability database) in code capmatch can call. Pinned;
# CI installs the same version into .ci/bin and passes GOVULNCHECK=.ci/bin/govulncheck.
GOVULNCHECK_VERSION ?= v1.9.0
GOVULNCHECK ?= $(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

vuln: ## govulncheck on every package (needs the vulnerability database online)
	$(GOVULNCHECK) $(PKGS)

# The OpenAPI linters: Redocly CLI (recommended rules, warnings as errors) and Spectral
# (recommended OpenAPI rules, failing on warnings), at the versions pinned in
# .ci/lint-api/package.json and package-lock.json, installed by npm into .ci/lint-api/node_modules
# (gitignored). Needs node and npm. The linters' telemetry and update checks are off.
LINT_API_DIR = .ci/lint-api
LINT_API_ENV = REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

lint-api: lint-api-deps lint-api-run ## lint api/openapi.yaml with Redocly and Spectral (pinned; installs them with npm)

lint-api-deps: ## install the pinned OpenAPI linters into .ci/lint-api/node_modules
	cd $(LINT_API_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

lint-api-run: ## run the installed OpenAPI linters on api/openapi.yaml
	cd $(LINT_API_DIR) && $(LINT_API_ENV) npx --no-install redocly lint --config ../../api/redocly.yaml ../../api/openapi.yaml
	cd $(LINT_API_DIR) && $(LINT_API_ENV) npx --no-install spectral lint --ruleset ../../api/.spectral.yaml --fail-severity=warn ../../api/openapi.yaml

generate: ## regenerate committed code (the API client from api/openapi.yaml)
	$(GO) generate ./api/client

bench: ## Go benchmarks (figures go to BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
