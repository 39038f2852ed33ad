package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// accountRoutes registers the first-start setup page, every user's own account page, and the
// admin pages of users, tokens and the audit trail. Every admin page needs the role admin (others are 403); every change goes
// through the store's methods the API uses too (PutUser with its last-admin rule, SetPassword,
// CreateTokenUntil, RevokeToken), which audit it.
func (h *handler) accountRoutes() {
	h.mux.HandleFunc("GET /setup", h.public(h.setupForm))
	h.mux.HandleFunc("POST /setup", h.public(h.setup))
	h.route("GET /admin/users", duty.ManageUsers, h.usersPage)
	h.route("POST /admin/users", duty.ManageUsers, h.createUser)
	h.route("GET /admin/users/{name}", duty.ManageUsers, h.userPage)
	h.route("POST /admin/users/{name}", duty.ManageUsers, h.saveUser)
	h.route("POST /admin/users/{name}/password", duty.ManageUsers, h.resetPassword)
	h.route("POST /admin/users/{name}/tokens", duty.ManageUsers, h.issueToken)
	h.route("GET /admin/tokens", duty.ManageUsers, h.tokensPage)
	h.route("POST /admin/tokens/{id}/revoke", duty.ManageUsers, h.revokeToken)
	h.route("GET /admin/audit", duty.ReadAudit, h.auditPage)
	h.route("GET /account", "", h.account)
	h.route("POST /account/password", "", h.changePassword)
}

// userForm is the user form as typed, with the problems found beside each field.
type userForm struct {
	Name, DisplayName, Role, Department string
	Disabled                            bool
	Errors                              map[string]string // field → message
	Error                               string            // about the whole form
	Notice                              string
}

type userRow struct {
	U          duty.User
	Department string // the department's name
}

type usersPage struct {
	Users       []userRow
	Form        userForm
	Roles       []option
	Departments []option
}

type tokenRow struct {
	T    duty.Token
	User string // the user's display name, or its name
}

type userPage struct {
	U           duty.User
	Form        userForm
	Roles       []option
	Departments []option
	Tokens      []tokenRow
	PwError     string
	TokenForm   tokenForm
}

type tokenForm struct {
	Name, Expiry, Error string
}

// roleOptions are the roles, labelled, with selected chosen.
func roleOptions(lang, selected string) []option {
	out := make([]option, 0, len(duty.UserRoles))
	for _, r := range duty.UserRoles {
		out = append(out, option{Value: r, Label: text(lang, "role."+r), Selected: r == selected})
	}
	return out
}

// deptPicker lists the departments by name, indented by depth, with "no department" first.
func (h *handler) deptPicker(rq *request, selected string) ([]option, *orgTree, error) {
	tree, err := h.tree(rq.ctx)
	if err != nil {
		return nil, nil, err
	}
	opts := h.departmentOptions(rq, tree, selected)
	if len(opts) > 0 && opts[0].Value == "" {
		opts[0].Label = text(rq.lang, "users.department.none")
	}
	return opts, tree, nil
}

func deptName(tree *orgTree, id string) string {
	if d := tree.Department(id); d != nil && d.Str("name") != "" {
		return d.Str("name")
	}
	return id
}

// readUserForm reads the user form posted for name and checks it, with messages in the page's
// language beside the fields; the user is valid when the form has no Errors.
func readUserForm(rq *request, name string) (duty.User, userForm) {
	f := rq.r.PostForm
	form := userForm{Name: name, DisplayName: strings.TrimSpace(f.Get("display_name")), Role: f.Get("role"),
		Department: f.Get("department"), Disabled: f.Get("disabled") != "", Errors: map[string]string{}}
	if !duty.ValidName(name) {
		form.Errors["name"] = text(rq.lang, "users.bad.name")
	}
	if duty.CheckDisplayName(form.DisplayName) != nil {
		form.Errors["display_name"] = text(rq.lang, "users.bad.display")
	}
	if !slices.Contains(duty.UserRoles, form.Role) {
		form.Role = duty.RoleInspector
	}
	switch {
	case form.Role != duty.RoleDepartment:
		form.Department = ""
	case form.Department == "":
		form.Errors["department"] = text(rq.lang, "users.bad.dept")
	}
	return duty.User{Name: name, DisplayName: form.DisplayName, Role: form.Role, Department: form.Department, Disabled: form.Disabled}, form
}

// putUser saves a user through the store, turning its refusals into the form's messages; ok is
// false when the form shows a problem.
func (h *handler) putUser(rq *request, u duty.User, form *userForm) (bool, error) {
	err := h.Store.PutUser(rq.ctx, rq.p.User, u)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, duty.ErrConflict):
		form.Error = text(rq.lang, "users.last.admin")
	case errors.Is(err, duty.ErrInvalid):
		form.Errors["department"] = text(rq.lang, "users.dept.unknown")
	default:
		return false, err
	}
	return false, nil
}

func (h *handler) usersPage(rq *request) error {
	return h.showUsers(rq, http.StatusOK, userForm{Role: duty.RoleInspector})
}

func (h *handler) showUsers(rq *request, status int, form userForm) error {
	users, err := h.Store.Users(rq.ctx)
	if err != nil {
		return err
	}
	depts, tree, err := h.deptPicker(rq, form.Department)
	if err != nil {
		return err
	}
	page := usersPage{Form: form, Roles: roleOptions(rq.lang, form.Role), Departments: depts}
	for _, u := range users {
		row := userRow{U: u}
		if u.Department != "" {
			row.Department = deptName(tree, u.Department)
		}
		page.Users = append(page.Users, row)
	}
	return h.render(rq, status, "admin_users", text(rq.lang, "users.title"), page)
}

// createUser makes a new user, with its first password when one is given.
func (h *handler) createUser(rq *request) error {
	name := strings.TrimSpace(rq.r.PostForm.Get("name"))
	u, form := readUserForm(rq, name)
	u.Disabled, form.Disabled = false, false
	pw := ""
	if rq.r.PostForm.Get("password") != "" || rq.r.PostForm.Get("confirm") != "" {
		var msg string
		if pw, msg = newPassword(rq); msg != "" {
			form.Errors["password"] = msg
		}
	}
	if _, ok := form.Errors["name"]; !ok {
		switch _, err := h.Store.GetUser(rq.ctx, name); {
		case err == nil:
			form.Errors["name"] = text(rq.lang, "users.exists")
		case !errors.Is(err, duty.ErrNotFound):
			return err
		}
	}
	if len(form.Errors) > 0 {
		return h.showUsers(rq, http.StatusUnprocessableEntity, form)
	}
	if ok, err := h.putUser(rq, u, &form); err != nil || !ok {
		if err != nil {
			return err
		}
		return h.showUsers(rq, http.StatusUnprocessableEntity, form)
	}
	if pw != "" {
		if err := h.Store.SetPassword(rq.ctx, rq.p.User, name, pw); err != nil {
			return err
		}
	}
	return rq.redirect("/admin/users/" + url.PathEscape(name) + "?done=created")
}

// notices are the messages a user page shows after a change (?done=…).
var notices = map[string]string{"created": "users.created.ok", "saved": "users.saved", "reset": "users.reset.ok"}

func (h *handler) userPage(rq *request) error {
	u, err := h.Store.GetUser(rq.ctx, rq.r.PathValue("name"))
	if err != nil {
		return err
	}
	form := userForm{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Department: u.Department, Disabled: u.Disabled}
	if key, ok := notices[rq.r.URL.Query().Get("done")]; ok {
		form.Notice = text(rq.lang, key, u.Name)
	}
	return h.showUser(rq, http.StatusOK, u, userPage{Form: form})
}

// showUser renders a user's page: its details form (page.Form), the password reset and its
// tokens with the form to issue one.
func (h *handler) showUser(rq *request, status int, u *duty.User, page userPage) error {
	var err error
	if u.PasswordSet, err = h.Store.HasPassword(rq.ctx, u.Name); err != nil {
		return err
	}
	page.U = *u
	if page.Departments, _, err = h.deptPicker(rq, page.Form.Department); err != nil {
		return err
	}
	page.Roles = roleOptions(rq.lang, page.Form.Role)
	tokens, err := h.Store.Tokens(rq.ctx, u.Name)
	if err != nil {
		return err
	}
	slices.Reverse(tokens) // newest first
	for _, t := range tokens {
		page.Tokens = append(page.Tokens, tokenRow{T: t, User: u.Name})
	}
	return h.render(rq, status, "admin_user", nameOf(*u), page)
}

func (h *handler) saveUser(rq *request) error {
	old, err := h.Store.GetUser(rq.ctx, rq.r.PathValue("name"))
	if err != nil {
		return err
	}
	u, form := readUserForm(rq, old.Name)
	if len(form.Errors) == 0 {
		ok, err := h.putUser(rq, u, &form)
		if err != nil {
			return err
		}
		if ok {
			return rq.redirect("/admin/users/" + url.PathEscape(old.Name) + "?done=saved")
		}
	}
	return h.showUser(rq, http.StatusUnprocessableEntity, old, userPage{Form: form})
}

func (h *handler) resetPassword(rq *request) error {
	u, err := h.Store.GetUser(rq.ctx, rq.r.PathValue("name"))
	if err != nil {
		return err
	}
	pw, msg := newPassword(rq)
	if msg != "" {
		form := userForm{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Department: u.Department, Disabled: u.Disabled}
		return h.showUser(rq, http.StatusUnprocessableEntity, u, userPage{Form: form, PwError: msg})
	}
	if err := h.Store.SetPassword(rq.ctx, rq.p.User, u.Name, pw); err != nil {
		return err
	}
	if u.Name == rq.p.User {
		return rq.redirect("/login") // one's own reset ends one's own session too
	}
	return rq.redirect("/admin/users/" + url.PathEscape(u.Name) + "?done=reset")
}

type newTokenPage struct {
	User   duty.User
	Token  duty.Token
	Secret string
}

// issueToken makes a token for the user and shows its secret, once.
func (h *handler) issueToken(rq *request) error {
	u, err := h.Store.GetUser(rq.ctx, rq.r.PathValue("name"))
	if err != nil {
		return err
	}
	f := rq.r.PostForm
	tf := tokenForm{Name: strings.TrimSpace(f.Get("token_name")), Expiry: strings.TrimSpace(f.Get("expiry"))}
	var expires time.Time
	if !duty.ValidName(tf.Name) {
		tf.Error = text(rq.lang, "tokens.bad.name")
	} else if tf.Expiry != "" {
		// Valid through the day given: refused from the start of the next day, server time.
		day, err := time.ParseInLocation(time.DateOnly, tf.Expiry, time.Local)
		if err != nil {
			tf.Error = text(rq.lang, "tokens.bad.expiry")
		}
		expires = day.AddDate(0, 0, 1)
	}
	var t *duty.Token
	var secret string
	if tf.Error == "" {
		t, secret, err = h.Store.CreateTokenUntil(rq.ctx, rq.p.User, u.Name, tf.Name, expires)
		switch {
		case errors.Is(err, duty.ErrInvalid):
			tf.Error = text(rq.lang, "tokens.bad.expiry")
		case err != nil:
			return err
		}
	}
	if tf.Error != "" {
		form := userForm{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Department: u.Department, Disabled: u.Disabled}
		return h.showUser(rq, http.StatusUnprocessableEntity, u, userPage{Form: form, TokenForm: tf})
	}
	return h.render(rq, http.StatusCreated, "admin_newtoken", text(rq.lang, "tokens.new.title"), newTokenPage{User: *u, Token: *t, Secret: secret})
}

type tokensPage struct {
	Tokens []tokenRow
	Notice string
}

func (h *handler) tokensPage(rq *request) error {
	tokens, err := h.Store.Tokens(rq.ctx, "")
	if err != nil {
		return err
	}
	users, err := h.Store.Users(rq.ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.Name] = nameOf(u)
	}
	page := tokensPage{}
	if id := rq.r.URL.Query().Get("revoked"); id != "" {
		page.Notice = text(rq.lang, "tokens.revoked.ok", id)
	}
	slices.Reverse(tokens)
	for _, t := range tokens {
		n := names[t.User]
		if n == "" {
			n = t.User
		}
		page.Tokens = append(page.Tokens, tokenRow{T: t, User: n})
	}
	return h.render(rq, http.StatusOK, "admin_tokens", text(rq.lang, "tokens.title"), page)
}

// revokeToken revokes a token and goes back to the page the form came from (the token list
// or a user's page).
func (h *handler) revokeToken(rq *request) error {
	id := rq.r.PathValue("id")
	if err := h.Store.RevokeToken(rq.ctx, rq.p.User, id); err != nil {
		return err
	}
	back := localPath(rq.r.PostForm.Get("back"))
	if back == "/" {
		back = "/admin/tokens"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	return rq.redirect(back + sep + "revoked=" + url.QueryEscape(id))
}

// auditPageSize is the number of entries of one page of the audit trail.
const auditPageSize = 50

type auditFilter struct {
	Actor, Action, Record, From, To string
}

type auditRow struct {
	E          duty.AuditEntry
	Actor      string // with the display name when the actor is a user that has one
	Action     string // labelled
	Collection string // labelled
	IDs        string
	Changes    []string // "before → after" per id
}

type auditPage struct {
	Filter  auditFilter
	Actions []option
	Actors  []string
	Rows    []auditRow
	Error   string
	Next    string // the URL of the next page, "" on the last
	First   string // the URL of the first page, "" on it
}

// auditActions are the actions the filter offers, in this order.
var auditActions = []string{"records.put", "records.delete", "user.put", "user.password", "token.create", "token.revoke",
	"policy.seed", "policy.change", "policy.activate", "policy.adopt", "policy.preview", "webhook.create", "webhook.delete",
	"waiver.request", "waiver.approve", "waiver.reject", "waiver.revoke", "case.open", "case.start", "case.submit", "case.close",
	"case.recheck_failed"}

// actionLabel labels an action of the audit trail, or shows its code when it has no label.
func actionLabel(lang, action string) string {
	if _, ok := messages["act."+action]; ok {
		return text(lang, "act."+action)
	}
	return action
}

func (h *handler) auditPage(rq *request) error {
	q := rq.r.URL.Query()
	f := auditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action"), Record: strings.TrimSpace(q.Get("record")),
		From: q.Get("from"), To: q.Get("to")}
	page := auditPage{Filter: f, Actions: []option{{Value: "", Label: text(rq.lang, "audit.all"), Selected: f.Action == ""}}}
	known := false
	for _, a := range auditActions {
		page.Actions = append(page.Actions, option{Value: a, Label: actionLabel(rq.lang, a), Selected: a == f.Action})
		known = known || a == f.Action
	}
	if !known && f.Action != "" {
		page.Actions = append(page.Actions, option{Value: f.Action, Label: f.Action, Selected: true})
	}
	users, err := h.Store.Users(rq.ctx)
	if err != nil {
		return err
	}
	display := map[string]string{}
	for _, u := range users {
		page.Actors = append(page.Actors, u.Name)
		display[u.Name] = nameOf(u)
	}
	from, to, err := duty.AuditDays(f.From, f.To, time.Local)
	if err != nil {
		page.Error = text(rq.lang, "audit.bad.date")
		return h.render(rq, http.StatusUnprocessableEntity, "admin_audit", text(rq.lang, "audit.title"), page)
	}
	before := q.Get("before")
	entries, more, err := h.Store.AuditSearch(rq.ctx, duty.AuditQuery{Actor: f.Actor, Action: f.Action, Record: f.Record,
		From: from, To: to, Before: before, Limit: auditPageSize})
	if err != nil {
		return err
	}
	for _, e := range entries {
		row := auditRow{E: e, Actor: cmp.Or(display[e.Actor], e.Actor), Action: actionLabel(rq.lang, e.Action), Collection: collLabel(rq.lang, e.Collection),
			IDs: strings.Join(e.IDs, "、")}
		for i := range e.IDs {
			b, a := at(e.Before, i), at(e.After, i)
			row.Changes = append(row.Changes, orDash(b)+" → "+orDash(a))
		}
		page.Rows = append(page.Rows, row)
	}
	link := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "record": f.Record, "from": f.From, "to": f.To} {
		if v != "" {
			link.Set(k, v)
		}
	}
	if before != "" {
		page.First = "/admin/audit?" + link.Encode()
	}
	if more {
		link.Set("before", entries[len(entries)-1].ID)
		page.Next = "/admin/audit?" + link.Encode()
	}
	return h.render(rq, http.StatusOK, "admin_audit", text(rq.lang, "audit.title"), page)
}

// collLabel labels the collection of an audit entry: a record collection by its name, users and
// tokens by theirs, anything else by its code.
func collLabel(lang, c string) string {
	if _, ok := codes["coll."+c]; ok {
		return code(lang, "coll", c)
	}
	if _, ok := messages["audit.coll."+c]; ok {
		return text(lang, "audit.coll."+c)
	}
	return c
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// nameOf is how the pages name a user: the display name with the user name, or the user name.
func nameOf(u duty.User) string {
	if u.DisplayName == "" {
		return u.Name
	}
	return fmt.Sprintf("%s（%s）", u.DisplayName, u.Name)
}

// Here is the path of the page, for forms that lead back to it.
func (p *Page) Here() string { return p.path.Path }

// AdminNav reports whether the page is the admin page item ("users", "tokens", "audit"), or,
// with "", any admin page of users, tokens and the audit trail.
func (p *Page) AdminNav(item string) bool {
	path := p.path.Path
	if item == "" {
		return strings.HasPrefix(path, "/admin/") && !strings.HasPrefix(path, "/admin/webhooks")
	}
	return strings.HasPrefix(path, "/admin/"+item)
}

type accountPage struct {
	U       duty.User
	Scope   string // the department's name, for a department user
	PwError string
}

// account shows the signed-in user's own account, with the form to change its password.
func (h *handler) account(rq *request) error {
	return h.showAccount(rq, http.StatusOK, "")
}

func (h *handler) showAccount(rq *request, status int, pwError string) error {
	u, err := h.Store.GetUser(rq.ctx, rq.p.User)
	if err != nil {
		return err
	}
	if u.PasswordSet, err = h.Store.HasPassword(rq.ctx, u.Name); err != nil {
		return err
	}
	page := accountPage{U: *u, PwError: pwError}
	if u.Department != "" {
		tree, err := h.tree(rq.ctx)
		if err != nil {
			return err
		}
		page.Scope = deptName(tree, u.Department)
	}
	return h.render(rq, status, "account", text(rq.lang, "account.title"), page)
}

// changePassword changes the signed-in user's own password. The current password is checked
// like a sign-in, with its lock-out per account and per address, so that a session left open
// cannot be used to guess it; a user without a password (signed in with a token) cannot set one
// here, lest a stolen token become a password that outlives its revocation.
func (h *handler) changePassword(rq *request) error {
	_, status, err := h.checkPassword(rq, rq.p.User, rq.r.PostForm.Get("current"))
	switch {
	case err != nil:
		return err
	case status == http.StatusTooManyRequests:
		return h.showAccount(rq, status, text(rq.lang, "signin.locked"))
	case status != 0:
		return h.showAccount(rq, http.StatusUnprocessableEntity, text(rq.lang, "account.bad.current"))
	}
	pw, msg := newPassword(rq)
	if msg != "" {
		return h.showAccount(rq, http.StatusUnprocessableEntity, msg)
	}
	if err := h.Store.SetPassword(rq.ctx, rq.p.User, rq.p.User, pw); err != nil {
		return err
	}
	return rq.redirect("/login?password=changed")
}
