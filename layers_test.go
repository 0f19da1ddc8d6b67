package capmatch_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/capmatch/capmatch"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestLayers enforces the import rules of the architecture (README, "Architecture"):
//   - models imports the standard library only;
//   - matching imports models and the standard library;
//   - i18n (the catalog of words, presentation) imports models, the standard library and
//     golang.org/x/text; the edges use it, the application layer only through models.Texts;
//   - service (the application layer) imports models, matching, its own packages and no adapter,
//     no edge and no driver; nor net or net/http: the network is an adapter's (webhook
//     delivery is adapters/webhooks, behind models.Webhooks);
//   - api and web import the application layer and models, never an adapter or the engine;
//   - an adapter imports models (and its dependency), never the application layer or an edge;
//   - only cmd/ wires adapters in; test-support packages (named *test) and tests may too;
//   - internal/stacktest, the test stack (service.App on in-process adapters) that the api,
//     web, service and load-tool tests and the benchmarks share, wires adapters into the
//     application layer as cmd/ does; it is test support, so no package's own code imports it
//     (only its tests do), and no production binary carries it.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	local := func(imp string) (string, bool) {
		if imp == module || strings.HasPrefix(imp, module+"/") {
			return strings.TrimPrefix(strings.TrimPrefix(imp, module), "/"), true
		}
		return "", false
	}
	stdlib := func(imp string) bool { return !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") }
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, p := range pkgs {
		self, _ := local(p.ImportPath)
		for _, imp := range p.Imports {
			dep, isLocal := local(imp)
			bad := ""
			switch {
			case self == "models":
				if !stdlib(imp) {
					bad = "models imports the standard library only"
				}
			case self == "matching":
				if !stdlib(imp) && dep != "models" {
					bad = "matching imports models and the standard library only"
				}
			case under(self, "i18n"):
				if !stdlib(imp) && dep != "models" && !strings.HasPrefix(imp, "golang.org/x/text") {
					bad = "the catalog imports models, the standard library and golang.org/x/text only"
				}
			case under(self, "service") && !strings.HasSuffix(self, "test"):
				if isLocal && !(dep == "models" || dep == "matching" || under(dep, "service")) {
					bad = "the application layer imports models, matching and its own packages only"
				}
				if !isLocal && !stdlib(imp) && !strings.HasPrefix(imp, "golang.org/x/") {
					bad = "the application layer uses no driver or third-party library but golang.org/x"
				}
				if imp == "net" || under(imp, "net/http") {
					bad = "the application layer opens no connection of its own: net and net/http belong to adapters"
				}
			case self == "api" || self == "web":
				if isLocal && (under(dep, "adapters") || dep == "matching" || under(dep, "cmd")) {
					bad = "api and web call the application layer with models types, never an adapter or the engine"
				}
			case under(self, "adapters") && !strings.HasSuffix(self, "test"):
				if isLocal && (under(dep, "service") || dep == "api" || dep == "web" || under(dep, "cmd")) {
					bad = "an adapter implements ports of models; it never imports the application layer or an edge"
				}
			}
			if dep == "internal/stacktest" && isLocal {
				bad = "internal/stacktest is test support: only tests import it"
			}
			if isLocal && under(dep, "adapters") && !under(self, "cmd") && !under(self, "adapters") &&
				!strings.HasSuffix(self, "test") && self != "bench" && self != "reliability" && bad == "" {
				bad = "only cmd/ wires adapters in"
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, bad)
			}
		}
	}
}
