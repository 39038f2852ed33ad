package duty

// Kind is the JSON type a field must have.
type Kind int

// The field kinds of the schema.
const (
	String  Kind = iota // a non-empty string
	Text                // any string, possibly empty
	Date                // a YYYY-MM-DD calendar date
	Bool                // true or false
	Int                 // an integer
	Strings             // an array of non-empty strings
	Objects             // an array of objects, each checked against Field.Fields
)

// Field describes one field of a collection's documents.
type Field struct {
	Name     string
	Kind     Kind
	Optional bool     // may be absent (DOMAIN.md "?")
	Enum     []string // allowed values of a String or of each element of Strings
	Ref      string   // the collection an id (or each id of Strings) must name
	Min, Max int64    // inclusive range of an Int, when Max > 0
	Fields   []Field  // the fields of each element of Objects; an "id" field is unique within the array
}

// Collection describes one of the ten collections of DOMAIN.md.
type Collection struct {
	Name   string
	Fields []Field
	// DateField is the field by which a document dated after as_of is ignored, "" for none.
	DateField string
	// Nested lists the arrays whose elements are dated: array field → date field of an element.
	Nested map[string]string
	// OrganVia names the reference that places a document in an organ: a field naming a
	// department or a person. Departments themselves are placed by their root.
	OrganVia string
}

// The ranks, roles and kinds of DOMAIN.md.
var (
	Ranks           = []string{"bureau", "division", "section", "staff"}
	Roles           = []string{"party_group_secretary", "party_group_member", "department_head", "discipline_member"}
	DepartmentKinds = []string{"organ", "party_committee", "discipline_committee", "special_committee", "office", "division", "unit", "branch"}
	TalkKinds       = []string{"general", "pre_appointment", "reminder", "petition_verification"}
	ListLevels      = []string{"party_group", "party_group_secretary", "leaders", "party_committee", "discipline_committee", "department_heads", "special_committee"}
)

// Collections is the schema of the ten collections, in load order (a collection refers only to
// itself and to collections before it).
var Collections = []*Collection{
	{Name: "departments", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "name", Kind: String},
		{Name: "kind", Kind: String, Enum: DepartmentKinds},
		{Name: "parent_id", Kind: String, Optional: true, Ref: "departments"},
		{Name: "discipline_member_id", Kind: String, Optional: true, Ref: "people"},
	}},
	{Name: "people", OrganVia: "department_id", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "name", Kind: String},
		{Name: "department_id", Kind: String, Ref: "departments"},
		{Name: "rank", Kind: String, Enum: Ranks},
		{Name: "roles", Kind: Strings, Enum: Roles},
		{Name: "supervises", Kind: Strings, Optional: true, Ref: "departments"},
		{Name: "active", Kind: Bool},
		{Name: "left_on", Kind: Date, Optional: true},
	}},
	{Name: "appointments", OrganVia: "person_id", DateField: "effective_on", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "person_id", Kind: String, Ref: "people"},
		{Name: "department_id", Kind: String, Ref: "departments"},
		{Name: "position", Kind: String},
		{Name: "rank", Kind: String, Enum: Ranks},
		{Name: "effective_on", Kind: Date},
	}},
	{Name: "talks", OrganVia: "person_id", DateField: "held_on", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "kind", Kind: String, Enum: TalkKinds},
		{Name: "person_id", Kind: String, Ref: "people"},
		{Name: "conducted_by", Kind: String, Optional: true, Ref: "people"},
		{Name: "held_on", Kind: Date},
		{Name: "recorded", Kind: Bool, Optional: true},
	}},
	{Name: "letters", OrganVia: "signer_id", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "year", Kind: Int, Min: MinYear, Max: MaxYear},
		{Name: "level", Kind: Int, Min: 1, Max: 3},
		{Name: "issuer_id", Kind: String, Ref: "people"},
		{Name: "signer_id", Kind: String, Ref: "people"},
		{Name: "signed_on", Kind: Date, Optional: true},
		{Name: "signed_by_issuer", Kind: Bool},
		{Name: "signed_by_signer", Kind: Bool},
	}},
	{Name: "record_books", OrganVia: "holder_id", DateField: "issued_on",
		Nested: map[string]string{"entries": "date", "inspections": "date"},
		Fields: []Field{
			{Name: "id", Kind: String},
			{Name: "year", Kind: Int, Min: MinYear, Max: MaxYear},
			{Name: "holder_id", Kind: String, Ref: "people"},
			{Name: "issued_on", Kind: Date},
			{Name: "tasks", Kind: Objects, Fields: []Field{
				{Name: "id", Kind: String},
				{Name: "title", Kind: Text},
				{Name: "due_on", Kind: Date},
			}},
			{Name: "entries", Kind: Objects, Fields: []Field{
				{Name: "date", Kind: Date},
				{Name: "task_id", Kind: String, Optional: true},
				{Name: "content", Kind: Text},
			}},
			{Name: "inspections", Kind: Objects, Fields: []Field{
				{Name: "date", Kind: Date},
				{Name: "inspector_id", Kind: String, Ref: "people"},
				{Name: "findings", Kind: Text, Optional: true},
			}},
		}},
	{Name: "suggestions", OrganVia: "department_id", DateField: "issued_on", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "department_id", Kind: String, Ref: "departments"},
		{Name: "issued_on", Kind: Date},
		{Name: "items", Kind: Objects, Fields: []Field{
			{Name: "id", Kind: String},
			{Name: "text", Kind: Text},
			{Name: "due_on", Kind: Date},
			{Name: "status", Kind: String, Enum: []string{"open", "closed"}},
			{Name: "closed_on", Kind: Date, Optional: true},
			{Name: "evidence", Kind: Text, Optional: true},
		}},
	}},
	{Name: "meetings", OrganVia: "department_id", DateField: "held_on", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "kind", Kind: String},
		{Name: "department_id", Kind: String, Ref: "departments"},
		{Name: "held_on", Kind: Date},
	}},
	{Name: "responsibility_lists", OrganVia: "department_id", Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "year", Kind: Int, Min: MinYear, Max: MaxYear},
		{Name: "level", Kind: String, Enum: ListLevels},
		{Name: "department_id", Kind: String, Ref: "departments"},
		{Name: "holder_id", Kind: String, Optional: true, Ref: "people"},
		{Name: "items", Kind: Strings},
	}},
	{Name: "integrity_files", OrganVia: "person_id", Nested: map[string]string{"major_matters": "event_on"}, Fields: []Field{
		{Name: "id", Kind: String},
		{Name: "person_id", Kind: String, Ref: "people"},
		{Name: "updated_on", Kind: Date},
		{Name: "major_matters", Kind: Objects, Fields: []Field{
			{Name: "id", Kind: String},
			{Name: "kind", Kind: Text},
			{Name: "event_on", Kind: Date},
			{Name: "reported_on", Kind: Date, Optional: true},
		}},
	}},
}

var byName = func() map[string]*Collection {
	m := make(map[string]*Collection, len(Collections))
	for _, c := range Collections {
		m[c.Name] = c
	}
	return m
}()

// Lookup returns the collection named name, or nil when there is none.
func Lookup(name string) *Collection { return byName[name] }

// OrganField is the field the store adds to every record to say which organ it belongs to.
// It is never part of a Doc handed to policies or users.
const OrganField = "_organ"
