package duty

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
)

// Permissions is the access table: role → allowed actions. A department user's actions are
// further limited to its subtree (Principal.Scope).
var Permissions = map[string][]Action{
	RoleAdmin:        {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies, WritePolicies, ManageUsers, ReadAudit},
	RolePolicyEditor: {ReadPolicies, WritePolicies},
	RoleInspector:    {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies},
	RoleDepartment:   {ReadRecords, WriteRecords, RunScans, ReadReports, ReadPolicies},
}

// Principal is who makes a request.
type Principal struct {
	User       string `json:"user"`
	Role       string `json:"role"`
	Department string `json:"department,omitempty"` // the subtree root of a department user
	// Token is the id of the bearer token the principal signed in with (never its secret); a
	// browser session is bound to it.
	Token string `json:"-"`
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

// User is an account.
type User struct {
	Name       string `json:"name" bson:"_id"`
	Role       string `json:"role" bson:"role"`
	Department string `json:"department,omitempty" bson:"department,omitempty"`
	CreatedAt  string `json:"created_at" bson:"created_at"`
	Disabled   bool   `json:"disabled,omitempty" bson:"disabled,omitempty"`
}

// Token is a bearer token of a user; only a hash of its secret is stored.
type Token struct {
	ID        string `json:"id" bson:"_id"`
	User      string `json:"user" bson:"user"`
	Name      string `json:"name" bson:"name"`
	Hash      string `json:"-" bson:"hash"`
	CreatedAt string `json:"created_at" bson:"created_at"`
	RevokedAt string `json:"revoked_at,omitempty" bson:"revoked_at,omitempty"`
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
