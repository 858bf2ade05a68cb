// Command check validates the deployment files of deploy/ offline, with
// the libraries the real tools are built on; CI cannot reach the network
// those tools download from. It is a module of its own so that k8s.io/api
// and compose-go stay out of objstore's go.mod.
//
//	go run . schemas -out DIR     JSON schemas for kubeconform (schemas.go)
//	go run . compose FILE         load FILE as docker compose config does, print it as JSON (compose.go)
//	go run . dockerfile FILE      the checks of docker build --check (lint.go)
//
// # Schemas
//
// kubeconform's own schemas are downloaded from GitHub. These are derived
// by reflection from the Go types of the Kubernetes API (k8s.io/api, the
// types the API server itself decodes into), the way Kubernetes'
// openapi-gen derives its OpenAPI document: a field is named by its json
// tag, an inline struct adds its fields, and a field is required when its
// tag has no omitempty and its comment no +optional, or its comment says
// +required (openapi-gen's rule; the comments are read from the API's
// source, so run it in this directory: markers.go).
// Every object is closed (additionalProperties false), as kubeconform's
// -strict schemas are, so a misspelt or misplaced field fails. Types that
// encode themselves (quantities, int-or-string, times) get the schema of
// their JSON form. DIR/<kind>-<group>-<version>.json is written for each
// kind of kinds, the names kubeconform's schema-location template
// "DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json" asks for.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// kind is one resource kind a schema is written for.
type kind struct {
	group, version, name string
	typ                  reflect.Type
}

// kinds are the kinds deploy/kubernetes uses (and a few it may).
var kinds = []kind{
	{"", "v1", "Service", reflect.TypeFor[corev1.Service]()},
	{"", "v1", "Secret", reflect.TypeFor[corev1.Secret]()},
	{"", "v1", "ConfigMap", reflect.TypeFor[corev1.ConfigMap]()},
	{"", "v1", "ServiceAccount", reflect.TypeFor[corev1.ServiceAccount]()},
	{"apps", "v1", "StatefulSet", reflect.TypeFor[appsv1.StatefulSet]()},
	{"policy", "v1", "PodDisruptionBudget", reflect.TypeFor[policyv1.PodDisruptionBudget]()},
}

const usage = "usage: check schemas -out DIR | check compose FILE | check dockerfile FILE"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "schemas":
		fs := flag.NewFlagSet("schemas", flag.ExitOnError)
		out := fs.String("out", "", "directory to write the schemas to")
		_ = fs.Parse(os.Args[2:]) // ExitOnError: Parse exits on a bad flag
		if *out == "" {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		err = write(*out)
	case "compose":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		err = compose(context.Background(), os.Args[2], os.Stdout)
	case "dockerfile":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		err = lint(context.Background(), os.Args[2], os.Stdout)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(1)
	}
}

// write writes one schema file per kind into dir.
func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		s, err := k.schema()
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, k.fileName()), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// apiVersion is the kind's apiVersion field: "v1" or "group/v1".
func (k kind) apiVersion() string {
	if k.group == "" {
		return k.version
	}
	return k.group + "/" + k.version
}

// fileName is what kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json
// expands to for this kind.
func (k kind) fileName() string {
	suffix := "-" + k.version
	if k.group != "" {
		suffix = "-" + k.group + suffix
	}
	return strings.ToLower(k.name) + suffix + ".json"
}

// schema is the kind's type's schema with apiVersion and kind pinned.
func (k kind) schema() (map[string]any, error) {
	marks := &markers{byType: map[string]map[string]string{}, parsed: map[string]bool{}}
	s := (&builder{seen: map[reflect.Type]bool{}, marks: marks}).of(k.typ)
	if marks.err != nil {
		return nil, marks.err
	}
	props := s["properties"].(map[string]any)
	props["apiVersion"] = map[string]any{"type": "string", "enum": []string{k.apiVersion()}}
	props["kind"] = map[string]any{"type": "string", "enum": []string{k.name}}
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["required"] = append(s["required"].([]string), "apiVersion", "kind")
	s["x-kubernetes-group-version-kind"] = []map[string]string{{"group": k.group, "version": k.version, "kind": k.name}}
	return s, nil
}
