package policy

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// denied lists the OPA built-ins a dutycheck policy may not call, with why. A policy sees its
// input (one organ's records as of a date) and the bundle's data, and nothing else: a scan must
// give the same violations for the same records and as-of date whenever and wherever it runs,
// and a policy editor must not reach the network, the host or the clock through a policy.
var denied = map[string]string{
	"http.send":              "it reaches the network",
	"net.lookup_ip_addr":     "it reaches the network (DNS)",
	"opa.runtime":            "it reads the host's environment and configuration",
	"time.now_ns":            "a scan depends only on its as-of date (input.as_of), not on the clock",
	"rand.intn":              "a scan must give the same result every time",
	"uuid.rfc4122":           "a scan must give the same result every time",
	"json.verify_schema":     "a schema may name remote references ($ref) it would fetch",
	"json.match_schema":      "a schema may name remote references ($ref) it would fetch",
	"providers.aws.sign_req": "it signs requests for the network",
}

// deniedPrefixes deny whole families: every net.* built-in (net.cidr_expand alone builds
// millions of addresses; none of them has a use over duty records).
var deniedPrefixes = map[string]string{
	"net.": "network built-ins have no use over duty records",
}

// deniedReason returns why builtin name is denied, or "".
func deniedReason(name string) string {
	if r, ok := denied[name]; ok {
		return r
	}
	for p, r := range deniedPrefixes {
		if strings.HasPrefix(name, p) {
			return r
		}
	}
	return ""
}

var (
	capsOnce sync.Once
	caps     *ast.Capabilities
)

// Capabilities returns the capability set of user policies: OPA's own for this version,
// without the denied built-ins, and with no host allowed for the network (schema fetches).
// Every bundle is compiled against it: the built-in one, a policy folder and API changes.
// Callers must not change the result.
func Capabilities() *ast.Capabilities {
	capsOnce.Do(func() {
		c := ast.CapabilitiesForThisVersion()
		c.Builtins = slices.DeleteFunc(slices.Clone(c.Builtins), func(b *ast.Builtin) bool {
			return deniedReason(b.Name) != ""
		})
		c.AllowNet = []string{}
		caps = c
	})
	return caps
}

// DeniedBuiltins lists the built-ins user policies may not call, sorted (for the README and
// for messages).
func DeniedBuiltins() []string {
	var out []string
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if deniedReason(b.Name) != "" {
			out = append(out, b.Name)
		}
	}
	sort.Strings(out)
	return out
}

// deniedCalls finds every reference to a denied built-in in the modules (a call, or a `with`
// that mocks it), so that the refusal names the file, line, column and the built-in rather than
// OPA's "undefined function". The compiler's capabilities refuse anything this misses.
func deniedCalls(modules map[string]*ast.Module) []duty.BundleProblem {
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	slices.Sort(names)
	var probs []duty.BundleProblem
	for _, n := range names {
		ast.WalkRefs(modules[n], func(r ast.Ref) bool {
			name := builtinName(r)
			if name == "" {
				return false
			}
			why := deniedReason(name)
			if why == "" || ast.BuiltinMap[name] == nil {
				return false
			}
			p := duty.BundleProblem{File: n, Kind: duty.BundleBuiltin, Message: "builtin " + name + " is not allowed in a dutycheck policy: " + why +
				"; a policy sees only its input and the bundle's data (README, \"What a policy may do\")"}
			if loc := r[0].Location; loc != nil {
				p.Row, p.Col = loc.Row, loc.Col
			}
			probs = append(probs, p)
			return false
		})
	}
	return probs
}

// builtinName is the dotted name a ref of plain string segments spells (http.send), or "".
func builtinName(r ast.Ref) string {
	v, ok := r[0].Value.(ast.Var)
	if !ok {
		return ""
	}
	parts := []string{string(v)}
	for _, t := range r[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return ""
		}
		parts = append(parts, string(s))
	}
	return strings.Join(parts, ".")
}
