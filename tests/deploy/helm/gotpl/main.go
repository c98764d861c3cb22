// gotpl renders a chart's templates with Go's text/template and Sprig, set up
// as Helm's engine sets them up (missingkey=zero, Sprig's functions without
// env/expandenv, Helm's include, toYaml and required, "<no value>" printed as
// ""). tests/deploy/helm/check.py builds it, when Debian's golang-go and
// golang-github-masterminds-sprig-dev are installed, and checks that the
// Python renderer (render.py) gives the same text for every case: the real
// template engine on the same data, short of Helm itself.
//
// Input on stdin, JSON: {"values", "chart", "release", "namespace"} with
// values already merged (numbers are float64, as Helm reads values files).
// Output on stdout, JSON: {"out": {"templates/FILE": text}} or {"error": msg}.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v2"
)

type input struct {
	Values    map[string]interface{} `json:"values"`
	Chart     map[string]interface{} `json:"chart"`
	Release   string                 `json:"release"`
	Namespace string                 `json:"namespace"`
}

// toYAML is Helm's toYaml: sigs.k8s.io/yaml, which marshals to JSON and
// converts that to YAML with go-yaml v2 (keys in JSON's sorted order).
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var doc interface{}
	if len(j) > 0 && j[0] == '{' {
		var ms yaml.MapSlice
		if err := yaml.Unmarshal(j, &ms); err != nil {
			return ""
		}
		doc = ms
	} else if err := yaml.Unmarshal(j, &doc); err != nil {
		return ""
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func emit(v interface{}) {
	j, _ := json.Marshal(v)
	fmt.Println(string(j))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gotpl TEMPLATES_DIR < input.json")
		os.Exit(2)
	}
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	name, _ := in.Chart["Name"].(string)
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		} else if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	t.Funcs(funcs)
	files, _ := filepath.Glob(filepath.Join(os.Args[1], "*"))
	sort.Strings(files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			emit(map[string]string{"error": err.Error()})
			return
		}
		if _, err := t.New(name + "/templates/" + filepath.Base(f)).Parse(string(src)); err != nil {
			emit(map[string]string{"error": err.Error()})
			return
		}
	}
	out := map[string]string{}
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "_") {
			continue
		}
		tn := name + "/templates/" + base
		top := map[string]interface{}{
			"Values": in.Values,
			"Release": map[string]interface{}{
				"Name": in.Release, "Namespace": in.Namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Chart":    in.Chart,
			"Template": map[string]interface{}{"Name": tn, "BasePath": name + "/templates"},
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tn, top); err != nil {
			emit(map[string]string{"error": err.Error()})
			return
		}
		out["templates/"+base] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	emit(map[string]interface{}{"out": out})
}
