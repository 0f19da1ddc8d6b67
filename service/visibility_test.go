package service

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyTheVisibilityViewEnumeratesTheModel keeps every use case that lists, counts or sums
// objects of the read model on the visibility view (visibility.go): outside it, no code of
// this package calls the model's enumerating methods, so a derived view cannot forget to
// filter by the caller (issue 13.1: overlaps listed hidden projects because they were
// enumerated straight from the model). Looking one object up by id (Need, Offer, Project,
// Engagement) is allowed: the caller authorizes it with the policy.
func TestOnlyTheVisibilityViewEnumeratesTheModel(t *testing.T) {
	enumerating := map[string]bool{"Needs": true, "Offers": true, "AllNeeds": true, "AllOffers": true,
		"NeedStats": true, "Projects": true, "Engagements": true, "ExternalActivities": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "visibility.go" {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !enumerating[sel.Sel.Name] {
				return true
			}
			// x.Model.Method(...) or model.Method(...) on a *readmodel.Model.
			recv := ""
			switch r := sel.X.(type) {
			case *ast.SelectorExpr:
				recv = r.Sel.Name
			case *ast.Ident:
				recv = r.Name
			}
			if recv == "Model" || recv == "model" {
				assert.Failf(t, "the read model is enumerated outside the visibility view",
					"%s: %s.%s(...): enumerate through viewAs(model, actor) (or systemView for what no caller reads as such)",
					fset.Position(call.Pos()), recv, sel.Sel.Name)
			}
			return true
		})
	}
	assert.Greater(t, checked, 10)
}
