package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
)

// markers reads the +optional and +required comment markers of the API
// types' fields from their source, as openapi-gen does: a field without
// omitempty is still optional when its comment says +optional (a pointer
// such as TypedLocalObjectReference.APIGroup, or StatefulSetOrdinals.Start).
// The source is found with `go list`, run in the current directory, which
// must be in this module (the API's versions are this module's).
type markers struct {
	byType map[string]map[string]string // "pkgpath.Type" → Go field name → "optional" or "required"
	parsed map[string]bool              // package paths read
	err    error                        // the first failure; later lookups answer nothing
}

// of returns the markers of struct type t's fields.
func (m *markers) of(t reflect.Type) map[string]string {
	pkg := t.PkgPath()
	if m.err != nil || !strings.HasPrefix(pkg, "k8s.io/") {
		return nil
	}
	if !m.parsed[pkg] {
		m.parsed[pkg] = true
		if err := m.parse(pkg); err != nil {
			m.err = err
			return nil
		}
	}
	return m.byType[pkg+"."+t.Name()]
}

// parse reads every struct type of package pkg.
func (m *markers) parse(pkg string) error {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return fmt.Errorf("go list %s (run this in deploy/check): %w", pkg, err)
	}
	dir := strings.TrimSpace(string(out))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return err
		}
		m.collect(pkg, f)
	}
	return nil
}

// collect records the markers of the fields of f's struct types.
func (m *markers) collect(pkg string, f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		fields := map[string]string{}
		for _, fld := range st.Fields.List {
			doc := fld.Doc.Text()
			mark := ""
			switch {
			case strings.Contains(doc, "+optional"):
				mark = "optional"
			case strings.Contains(doc, "+required"):
				mark = "required"
			}
			for _, id := range fld.Names {
				if mark != "" {
					fields[id.Name] = mark
				}
			}
		}
		m.byType[pkg+"."+ts.Name.Name] = fields
		return false
	})
}
