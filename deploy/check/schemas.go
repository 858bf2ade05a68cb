package main

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// quantityPattern is the syntax of a resource.Quantity ("500m", "2Gi",
// "1e3"), as the API server's OpenAPI document gives it.
const quantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

// special are the schemas of the API types that encode themselves as
// something other than their Go fields, by package path and type name.
var special = map[string]map[string]any{
	"k8s.io/apimachinery/pkg/api/resource.Quantity": {"anyOf": []any{
		map[string]any{"type": "string", "pattern": quantityPattern},
		map[string]any{"type": "number"},
	}},
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": {"anyOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "integer"},
	}},
	"k8s.io/apimachinery/pkg/apis/meta/v1.Time":      {"type": "string", "format": "date-time"},
	"k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime": {"type": "string", "format": "date-time"},
	"k8s.io/apimachinery/pkg/apis/meta/v1.Duration":  {"type": "string"},
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// builder turns Go types into JSON schemas, every nested type inlined
// (kubeconform's "standalone" form).
type builder struct {
	seen  map[reflect.Type]bool // the structs being built: a type that contains itself is left open
	marks *markers              // the fields' +optional and +required comments
}

// of returns the schema of t.
func (b *builder) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := special[t.PkgPath()+"."+t.Name()]; ok {
		return s
	}
	if t.Kind() != reflect.String && (t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)) {
		return map[string]any{} // encodes itself in a form not known here (e.g. raw JSON): anything
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"} // base64, as encoding/json writes []byte
		}
		return map[string]any{"type": "array", "items": b.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.of(t.Elem())}
	case reflect.Struct:
		return b.object(t)
	}
	return map[string]any{} // interfaces: anything
}

// object is the closed schema of struct t.
func (b *builder) object(t reflect.Type) map[string]any {
	if b.seen[t] {
		return map[string]any{"type": "object"}
	}
	b.seen[t] = true
	defer delete(b.seen, t)
	props := map[string]any{}
	required := []string{}
	b.fields(t, props, &required)
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// fields adds the JSON fields of struct t to props, inline structs'
// fields included, and the names of those required to required.
func (b *builder) fields(t reflect.Type, props map[string]any, required *[]string) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			b.fields(ft, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = b.of(f.Type)
		req := !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero")
		switch b.marks.of(t)[f.Name] {
		case "optional":
			req = false
		case "required":
			req = true
		}
		if req {
			*required = append(*required, name)
		}
	}
}
