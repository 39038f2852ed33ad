package duty

import (
	"fmt"
	"time"
)

// Roles of dutycheck's users.
const (
	RoleAdmin        = "admin"         // users, tokens, audit and everything else
	RolePolicyEditor = "policy_editor" // policies and parameters, with impact previews
	RoleInspector    = "inspector"     // read everything, run scans, write records
	RoleDepartment   = "department"    // records and reports of one department subtree only
)

// UserRoles lists the roles.
var UserRoles = []string{RoleAdmin, RolePolicyEditor, RoleInspector, RoleDepartment}

// Action is something a user may be allowed to do.
type Action string

// The actions the access table speaks of.
const (
	ReadRecords   Action = "records.read"
	WriteRecords  Action = "records.write"
	RunScans      Action = "scans.run"
	ReadReports   Action = "reports.read"
	ReadPolicies  Action = "policies.read"
	WritePolicies Action = "policies.write" // change, validate, preview, activate
	ManageUsers   Action = "users.manage"
	ReadAudit     Action = "audit.read"
	DecideWaivers Action = "waivers.decide" // approve or reject a waiver someone else requested
)

// Permissions is the access table: role → allowed actions. A department user's actions are
// further limited to its subtree (Principal.Scope).
var Permissions = map[string][]Action{
	RoleAdmin:        {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies, WritePolicies, ManageUsers, ReadAudit, DecideWaivers},
	RolePolicyEditor: {ReadPolicies, WritePolicies},
	RoleInspector:    {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies, DecideWaivers},
	RoleDepartment:   {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies},
}

// Principal is who makes a request.
type Principal struct {
	User       string `json:"user"`
	Role       string `json:"role"`
	Department string `json:"department,omitempty"` // the subtree root of a department user
	// DisplayName is the user's name for people (姓名), "" when none was given.
	DisplayName string `json:"display_name,omitempty"`
	// Token is the id of the bearer token the principal signed in with (never its secret); a
	// browser session is bound to it.
	Token string `json:"-"`
	// Password is the stamp of the password the principal signed in with (never the password
	// or its hash), when it signed in by name and password: a browser session started so is
	// bound to it, and ends when the password is set again.
	Password string `json:"-"`
}

// Can reports whether the principal's role allows the action.
func (p Principal) Can(a Action) bool {
	for _, x := range Permissions[p.Role] {
		if x == a {
			return true
		}
	}
	return false
}

// Scope is the department subtree the principal is limited to, "" for all.
func (p Principal) Scope() string {
	if p.Role == RoleDepartment {
		return p.Department
	}
	return ""
}

// InScope reports whether department lies in the principal's subtree of tree (Reach.Department):
// always without a scope, never for no department. tree is read only when the principal has a
// scope.
func InScope(p Principal, department string, tree func() (*Tree, error)) (bool, error) {
	if p.Scope() == "" {
		return true, nil
	}
	if department == "" {
		return false, nil
	}
	t, err := tree()
	if err != nil {
		return false, err
	}
	return ReachOf(p, t).Department(department), nil
}

// Reach is the part of the department tree a principal may see: the subtree of its scope
// (Principal.Scope) for a department user, the whole tree for the others. It is the one
// statement of the scope rule: the store's scoped reads, the scans' scoping and the pages ask
// it, so that a record or a department a page shows is one the API would show. The zero Reach
// is the whole tree for Department and Record (a caller that reads the tree only for a scope).
type Reach struct {
	tree *Tree
	root string
	sub  map[string]bool // nil: the whole tree
}

// ReachOf is the part of tree the principal may see.
func ReachOf(p Principal, t *Tree) Reach {
	r := Reach{tree: t, root: p.Scope()}
	if r.root != "" {
		r.sub = t.Subtree(r.root)
	}
	return r
}

// Whole reports whether the reach is the whole tree (a principal without a scope).
func (r Reach) Whole() bool { return r.sub == nil }

// Department reports whether the department lies in the reach: any in the whole tree; in a
// subtree, its departments and never no department ("").
func (r Reach) Department(id string) bool { return r.sub == nil || r.sub[id] }

// Record reports whether the record d of collection lies in the reach: whether its department
// (DepartmentOfDoc, personDept giving a person's department) does. personDept is not called for
// the whole tree.
func (r Reach) Record(collection string, d Doc, personDept func(id string) string) bool {
	return r.sub == nil || r.sub[DepartmentOfDoc(collection, d, personDept)]
}

// Roots are the departments the principal's pages start from: the root of its subtree, or
// every organ.
func (r Reach) Roots() []string {
	if r.sub == nil {
		return r.tree.Organs()
	}
	return []string{r.root}
}

// Organs are the organs the principal may choose: its subtree's organ, or every organ.
func (r Reach) Organs() []string {
	if r.sub == nil {
		return r.tree.Organs()
	}
	return []string{r.tree.Organ(r.root)}
}

// MayChange reports whether the principal may change or delete the stored record d of
// collection, as far as the department tree goes (its role is checked apart, Principal.Can):
// any record in the whole tree; in a subtree, a record of it that satisfies no organ-level duty
// and no leader's (ScopedDeleteProblem, the rule the store applies to a department user's
// deletion). people holds at least the stored people d names in its person fields
// (LeadersNamed).
func (r Reach) MayChange(collection string, d Doc, people map[string]Doc) bool {
	if r.sub == nil {
		return true
	}
	return r.Record(collection, d, func(p string) string { return people[p].Str("department_id") }) &&
		ScopedDeleteProblem(collection, d.ID(), d, r.tree, people) == nil
}

// CheckTokenRequest checks a new token's name and expiry: a zero expires is none; another must
// lie after now.
func CheckTokenRequest(name string, expires, now time.Time) error {
	if !ValidName(name) {
		return fmt.Errorf("token name %q: %w: expected %s", name, ErrInvalid, NameRule)
	}
	if !expires.IsZero() && !expires.After(now) {
		return fmt.Errorf("expires_at %s: %w: a token's expiry must lie in the future", expires.UTC().Format(time.RFC3339), ErrInvalid)
	}
	return nil
}

// User is an account. Name is the sign-in name (an id: NameRule); DisplayName the person's
// name (姓名), shown on the pages.
type User struct {
	Name        string `json:"name" bson:"_id"`
	DisplayName string `json:"display_name,omitempty" bson:"display_name,omitempty"`
	Role        string `json:"role" bson:"role"`
	Department  string `json:"department,omitempty" bson:"department,omitempty"`
	CreatedAt   string `json:"created_at" bson:"created_at"`
	Disabled    bool   `json:"disabled,omitempty" bson:"disabled,omitempty"`
	// PasswordSet says whether the user has a password (kept apart from the user, as a hash):
	// filled in by the listings, never stored here.
	PasswordSet bool `json:"password_set,omitempty" bson:"-"`
}

// Token is a bearer token of a user; only a hash of its secret is stored.
type Token struct {
	ID        string `json:"id" bson:"_id"`
	User      string `json:"user" bson:"user"`
	Name      string `json:"name" bson:"name"`
	Hash      string `json:"-" bson:"hash"`
	CreatedAt string `json:"created_at" bson:"created_at"`
	RevokedAt string `json:"revoked_at,omitempty" bson:"revoked_at,omitempty"`
	// ExpiresAt, when set, is the moment (TimeFormat, UTC) from which the token is refused.
	ExpiresAt string `json:"expires_at,omitempty" bson:"expires_at,omitempty"`
	// Status is TokenActive, TokenRevoked or TokenExpired at the time of the listing; never
	// stored.
	Status string `json:"status,omitempty" bson:"-"`
}

// The states of a token in a listing.
const (
	TokenActive  = "active"
	TokenRevoked = "revoked"
	TokenExpired = "expired"
)

// StatusAt is the token's state at now (TimeFormat, UTC).
func (t Token) StatusAt(now string) string {
	switch {
	case t.RevokedAt != "":
		return TokenRevoked
	case t.ExpiresAt != "" && t.ExpiresAt <= now:
		return TokenExpired
	}
	return TokenActive
}

// AuditEntry is one change in the append-only audit trail.
type AuditEntry struct {
	ID         string   `json:"id" bson:"_id"`
	At         string   `json:"at" bson:"at"`
	Actor      string   `json:"actor" bson:"actor"`
	Action     string   `json:"action" bson:"action"`
	Collection string   `json:"collection" bson:"collection"`
	IDs        []string `json:"ids" bson:"ids"`
	// Before and After are hashes of each changed document before and after ("" when absent).
	Before []string `json:"before" bson:"before"`
	After  []string `json:"after" bson:"after"`
}

// System returns an all-powerful principal for the service's own work (imports at start, the
// command line against the store), named for the audit trail.
func System(name string) Principal { return Principal{User: name, Role: RoleAdmin} }

// OrganLevel reports why a department user may not write (create, change or delete) the record
// d of collection although it lies in its subtree: the record satisfies or creates a duty of the
// organ as a whole, whose result a department must not be able to change (DOMAIN.md). It returns
// the field at fault and why, or "", "" for a record of the department's own duties. deptKind
// returns the kind of a department ("" when unknown).
//
// Organ-level records are: people with a Party Group role (party_group_secretary,
// party_group_member) or rank bureau (the organ's leaders, who issue or sign level-1 letters
// and owe organ-level lists); departments of kind organ, party_committee, discipline_committee
// or special_committee (each owes organ-level meetings or lists); meetings of kind
// annual_conduct (counted for the organ) and joint meetings of a discipline committee (counted
// for the committee); responsibility lists of any level but department_heads and
// special_committee; and level-1 letters (issued by the Party Group secretary).
//
// References a department user's record makes to people or departments outside its subtree
// (a list's holder, a person's supervised departments) are checked by the store with the
// subtree at hand.
func OrganLevel(collection string, d Doc, deptKind func(id string) string) (field, why string) {
	if d == nil {
		return "", ""
	}
	switch collection {
	case "people":
		for _, r := range strs(d["roles"]) {
			if r == "party_group_secretary" || r == "party_group_member" {
				return "roles", fmt.Sprintf("names the Party Group role %q, which creates and satisfies organ-level duties; only an admin or an inspector may give, change or remove it", r)
			}
		}
		if d.Str("rank") == "bureau" {
			return "rank", "is \"bureau\": a bureau-level cadre is one of the organ's leaders, whose letters, record book and list are organ-level duties; only an admin or an inspector may write such a person"
		}
	case "departments":
		switch k := d.Str("kind"); k {
		case "organ", "party_committee", "discipline_committee", "special_committee":
			return "kind", fmt.Sprintf("is %q, a body with organ-level duties; only an admin or an inspector may create, change or delete it", k)
		}
	case "meetings":
		switch k := d.Str("kind"); {
		case k == "annual_conduct":
			return "kind", "is \"annual_conduct\", a meeting counted for the whole organ; only an admin or an inspector may write it"
		case k == "joint" && deptKind(d.Str("department_id")) == "discipline_committee":
			return "kind", "is \"joint\" at a discipline committee, a meeting counted for the organ's discipline committee; only an admin or an inspector may write it"
		}
	case "responsibility_lists":
		switch l := d.Str("level"); l {
		case "department_heads", "special_committee":
		default:
			return "level", fmt.Sprintf("is %q, a list owed at organ level; a department user writes only lists of level \"department_heads\" or \"special_committee\"", l)
		}
	case "appointments":
		if d.Str("rank") == "bureau" {
			return "rank", "is \"bureau\": appointing one of the organ's leaders creates organ-level duties (the pre-appointment talk, the level-1 letter); only an admin or an inspector may write it"
		}
	case "letters":
		if intOf(d["level"]) == 1 {
			return "level", "is 1: a level-1 letter is issued by the organ's Party Group secretary; only an admin or an inspector may write it"
		}
	}
	return "", ""
}

// leaderFields names, per collection, the field that names the person whose duty the record
// satisfies: a talk, an appointment or an integrity file is about its person, a record book
// about its holder, a letter about its signer.
var leaderFields = map[string]string{
	"talks": "person_id", "appointments": "person_id", "integrity_files": "person_id",
	"record_books": "holder_id", "letters": "signer_id",
}

// LeaderRecord reports why a department user may not write the record d of collection: it is
// the talk, appointment, integrity file, record book or signed letter of one of the organ's
// leaders (isLeader: a person with a Party Group role or rank bureau, see OrganLevel), whose
// duties are organ-level. It returns the field at fault and why, or "", "".
func LeaderRecord(collection string, d Doc, isLeader func(person string) bool) (field, why string) {
	f, ok := leaderFields[collection]
	if !ok || d == nil {
		return "", ""
	}
	if p := d.Str(f); p != "" && isLeader(p) {
		return f, fmt.Sprintf("names %q, one of the organ's leaders (a Party Group role or rank bureau), whose duties are organ-level; only an admin or an inspector may write their records", p)
	}
	return "", ""
}

// LeaderFields returns the person fields LeaderRecord reads, for loading the people they name.
func LeaderFields() []string { return []string{"person_id", "holder_id", "signer_id"} }

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func intOf(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
