package web

import (
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Page is what every template sees: the language, the user, the CSRF token and the page's own
// data in D. Its methods translate texts and codes for the templates.
type Page struct {
	Lang      string
	Title     string
	User      *duty.Principal
	CSRF      string
	CSRFField string
	D         any

	h    *handler
	path *url.URL
}

// T returns the text of key in the page's language.
func (p *Page) T(key string, args ...any) string { return text(p.Lang, key, args...) }

// HTMLLang is the value of the html lang attribute.
func (p *Page) HTMLLang() string {
	if p.Lang == langEN {
		return "en"
	}
	return "zh-CN"
}

// OtherLang is the language the switch leads to.
func (p *Page) OtherLang() string {
	if p.Lang == langEN {
		return "zh-CN"
	}
	return "en"
}

// LangURL is the current page in the other language.
func (p *Page) LangURL() string {
	u := *p.path
	q := u.Query()
	if p.Lang == langEN {
		q.Set("lang", langZH)
	} else {
		q.Set("lang", langEN)
	}
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// Sev, Level, Coll and Kind label codes.
func (p *Page) Sev(s string) string   { return duty.Names.EnumText("severity", s, p.Lang) }
func (p *Page) Level(c string) string { return code(p.Lang, "level", c) }
func (p *Page) Coll(c string) string  { return code(p.Lang, "coll", c) }
func (p *Page) Kind(c string) string  { return code(p.Lang, "kind", c) }

// Reason labels a reason of a policy from the bundle's METADATA (policy "" for any policy that
// labels it), or shows the code when no policy does.
func (p *Page) Reason(policy, reason string) string {
	if c := p.catalogue(); c != nil {
		return c.ReasonLabel(policy, reason, p.Lang)
	}
	return reason
}

// catalogue is the bundle in force, or nil when the page has none.
func (p *Page) catalogue() duty.PolicyCatalogue {
	if p.h == nil || p.h.Policies == nil {
		return nil
	}
	return p.h.Policies.Catalogue()
}

// Msg picks a violation message in the page's language (falling back to the other).
func (p *Page) Msg(m duty.Message) string {
	if p.Lang == langEN && m.EN != "" || m.ZH == "" {
		return m.EN
	}
	return m.ZH
}

// PolicyTitle is a policy's title from its METADATA, in the page's language.
func (p *Page) PolicyTitle(id string) string {
	if c := p.catalogue(); c != nil {
		return c.PolicyTitle(id, p.Lang)
	}
	return id
}

// Can reports whether the user may do the action (an Action's string).
func (p *Page) Can(action string) bool { return p.User != nil && p.User.Can(duty.Action(action)) }

// RoleName labels the user's role.
func (p *Page) RoleName() string {
	if p.User == nil {
		return ""
	}
	return text(p.Lang, "role."+p.User.Role)
}

// Nav reports whether the page belongs to the navigation item.
func (p *Page) Nav(item string) bool {
	path := p.path.Path
	revisions := strings.HasPrefix(path, "/policies/revisions") || strings.HasPrefix(path, "/policies/diff")
	switch item {
	case "overview":
		return path == "/" || strings.HasPrefix(path, "/departments/")
	case "records":
		return strings.HasPrefix(path, "/records") || strings.HasPrefix(path, "/people/") || strings.HasPrefix(path, "/new/")
	case "sheets":
		return strings.HasPrefix(path, "/sheets")
	case "scans":
		return strings.HasPrefix(path, "/scans")
	case "ledger":
		return strings.HasPrefix(path, "/ledger") || strings.HasPrefix(path, "/cases/")
	case "policies":
		return strings.HasPrefix(path, "/policies") && !revisions
	case "revisions":
		return revisions
	}
	return false
}

// With returns the page with other data, for partial templates that need the page's methods.
func (p *Page) With(d any) *Page {
	c := *p
	c.D = d
	return &c
}

var funcs = template.FuncMap{
	"day":   day,
	"stamp": stamp,
	"short": func(s string) string {
		if len(s) > 10 {
			return s[:10]
		}
		return s
	},
	"add": func(a, b int) int { return a + b },
	"details": func(d map[string]any) string {
		if len(d) == 0 {
			return ""
		}
		return duty.DetailString(d)
	},
	"recordURL":  recordURL,
	"severities": func() []string { return duty.Severities },
	"esc":        url.PathEscape,
}

func recordURL(r duty.Ref) string {
	return "/records/" + url.PathEscape(r.Collection) + "/" + url.PathEscape(r.ID)
}

// parsePages parses each page template with the layout and the partials.
func parsePages(assets map[string]string) map[string]*template.Template {
	f := template.FuncMap{}
	for k, v := range funcs {
		f[k] = v
	}
	f["asset"] = func(name string) string { return "/static/" + name + "?v=" + assets[name] }
	base := template.Must(template.New("").Funcs(f).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		pages[name] = t
	}
	return pages
}

// assetHashes fingerprints the static files so that their URLs change with their content.
func assetHashes() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:4])
		return nil
	})
	return out
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}
