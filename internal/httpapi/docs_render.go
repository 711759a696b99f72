package httpapi

import (
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// The reference page is plain server-rendered HTML: it works offline and
// behind firewalls, and needs no script from anywhere.
var docsTmpl = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2328;background:#fafafa}
header{background:#b4232a;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:6px 0 0;opacity:.9;max-width:960px}
nav{position:fixed;top:0;bottom:0;left:0;width:260px;overflow:auto;background:#fff;border-right:1px solid #ddd;padding:12px 16px;font-size:13px}
nav h3{margin:14px 0 4px;font-size:12px;text-transform:uppercase;color:#666}nav a{display:block;color:#1f2328;text-decoration:none;padding:2px 0}
main{margin-left:292px;padding:0 32px 64px}section.op{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:14px 18px;margin:16px 0}
.m{display:inline-block;min-width:62px;font:600 12px monospace;color:#fff;border-radius:4px;padding:2px 6px;text-align:center;margin-right:8px}
.GET{background:#1f6feb}.POST{background:#1a7f37}.PUT{background:#9a6700}.PATCH{background:#8250df}.DELETE{background:#cf222e}
code,.path{font-family:ui-monospace,Menlo,monospace}.path{font-weight:600}table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}
td,th{border-bottom:1px solid #eee;text-align:left;padding:4px 8px;vertical-align:top}th{color:#555;font-weight:600}.roles{color:#666;font-size:12px}
h2{margin-top:28px}
</style></head><body>
<nav><strong>{{.Title}}</strong> <span class="roles">v{{.Version}}</span>
<p><a href="/api/v1/openapi.json">openapi.json</a></p>
{{range .Tags}}<h3>{{.Name}}</h3>{{range .Ops}}<a href="#{{.ID}}">{{.Method}} {{.Path}}</a>{{end}}{{end}}</nav>
<main><header><h1>{{.Title}}</h1><p>{{.Description}}</p></header>
{{range .Tags}}<h2>{{.Name}}</h2>{{range .Ops}}
<section class="op" id="{{.ID}}"><div><span class="m {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span></div>
<p>{{.Summary}}</p>{{if .Roles}}<p class="roles">API key roles: {{.Roles}}</p>{{end}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>about</th></tr>{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Doc}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<p><strong>Request body</strong></p><table><tr><th>field</th><th>type</th><th>about</th></tr>{{range .Body}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.Doc}}</td></tr>{{end}}</table>{{end}}
{{if .Response}}<p><strong>Response {{.Status}}</strong></p><table><tr><th>field</th><th>type</th><th>about</th></tr>{{range .Response}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.Doc}}</td></tr>{{end}}</table>{{end}}
</section>{{end}}{{end}}
<h2>Errors</h2><p>Every error is <code>application/problem+json</code> (RFC 9457) with <code>status</code>, a stable <code>code</code>,
a human <code>detail</code> and, for bad input, the offending <code>field</code> (e.g. <code>lines[2].quantity</code>). Bad input is a 4xx and writes nothing.</p>
</main></body></html>`))

type docField struct{ Name, Type, Doc string }
type docOp struct {
	ID, Method, Path, Summary, Roles, Status string
	Params                                   []docField
	Body, Response                           []docField
}
type docTag struct {
	Name string
	Ops  []docOp
}

func renderDocs(w io.Writer, oa *huma.OpenAPI) {
	byTag := map[string][]docOp{}
	reg := oa.Components.Schemas
	for path, item := range oa.Paths {
		for method, o := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if o == nil {
				continue
			}
			d := docOp{ID: o.OperationID, Method: method, Path: path, Summary: o.Summary}
			if roles, ok := o.Metadata["roles"].([]string); ok {
				d.Roles = strings.Join(roles, ", ")
			}
			for _, p := range o.Parameters {
				d.Params = append(d.Params, docField{Name: p.Name, Type: schemaType(reg, p.Schema), Doc: p.Description})
			}
			if o.RequestBody != nil {
				if mt := o.RequestBody.Content["application/json"]; mt != nil {
					d.Body = fields(reg, mt.Schema, "", 0)
				}
			}
			for _, st := range []string{"200", "201"} {
				if r := o.Responses[st]; r != nil {
					if mt := r.Content["application/json"]; mt != nil {
						d.Status, d.Response = st, fields(reg, mt.Schema, "", 0)
					}
				}
			}
			tag := "Other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			byTag[tag] = append(byTag[tag], d)
		}
	}
	var tags []docTag
	for name, ops := range byTag {
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return ops[i].Method < ops[j].Method
		})
		tags = append(tags, docTag{Name: name, Ops: ops})
	}
	order := map[string]int{"Shop": 0, "Catalog": 1, "Customers": 2, "Orders": 3, "Pricing": 4, "Promotions": 5, "Coupons": 6}
	sort.Slice(tags, func(i, j int) bool {
		oi, iok := order[tags[i].Name]
		oj, jok := order[tags[j].Name]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return tags[i].Name < tags[j].Name
	})
	_ = docsTmpl.Execute(w, map[string]any{"Title": oa.Info.Title, "Version": oa.Info.Version, "Description": oa.Info.Description, "Tags": tags})
}

func deref(reg huma.Registry, s *huma.Schema) *huma.Schema {
	for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
		s = reg.SchemaFromRef(s.Ref)
	}
	return s
}

func schemaType(reg huma.Registry, s *huma.Schema) string {
	s = deref(reg, s)
	if s == nil {
		return ""
	}
	t := s.Type
	if t == "array" && s.Items != nil {
		return "array of " + schemaType(reg, s.Items)
	}
	if len(s.Enum) > 0 {
		var vs []string
		for _, e := range s.Enum {
			if str, ok := e.(string); ok && str != "" {
				vs = append(vs, str)
			}
		}
		t += " (" + strings.Join(vs, " | ") + ")"
	}
	if t == "" && s.Ref != "" {
		t = "object"
	}
	return t
}

// fields flattens an object schema into dotted rows, two levels deep.
func fields(reg huma.Registry, s *huma.Schema, prefix string, depth int) []docField {
	s = deref(reg, s)
	if s == nil || depth > 2 {
		return nil
	}
	if s.Type == "array" && s.Items != nil {
		return fields(reg, s.Items, prefix+"[]", depth)
	}
	var names []string
	for n := range s.Properties {
		if n == "$schema" {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var out []docField
	for _, n := range names {
		p := s.Properties[n]
		doc := p.Description
		if containsStr(s.Required, n) {
			doc = "required. " + doc
		}
		out = append(out, docField{Name: prefix + n, Type: schemaType(reg, p), Doc: strings.TrimSpace(doc)})
		out = append(out, fields(reg, p, prefix+n+".", depth+1)...)
	}
	return out
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
