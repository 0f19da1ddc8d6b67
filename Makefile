# capmatch: the commands developers and CI run.
GO ?= go
PKGS ?= ./...

.PHONY: run test vet build bench fmt clean

run: ## serve on :8080 with the embedded default
	$(GO) run ./cmd/capmatch

build: ## build the binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/capmatch ./cmd/capmatch

vet:
	$(GO) vet $(PKGS)

test: vet ## the whole test suite, with the race detector
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

bench: ## Go benchmarks (figures go to BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
