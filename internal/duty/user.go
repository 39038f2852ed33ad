package duty

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDisplayName is the longest display name (姓名) of a user, in characters.
const MaxDisplayName = 64

// CheckUser reports whether u may be stored as a user: a valid name, a known role, a
// department exactly for a department user, and a valid display name. Whether the department
// exists is the store's to check.
func CheckUser(u User) error {
	switch {
	case !ValidName(u.Name):
		return fmt.Errorf("user name %q: %w: expected %s", u.Name, ErrInvalid, NameRule)
	case !slices.Contains(UserRoles, u.Role):
		return fmt.Errorf("role %q: %w: expected one of %s", u.Role, ErrInvalid, strings.Join(UserRoles, ", "))
	case u.Role == RoleDepartment && u.Department == "":
		return fmt.Errorf("a department user needs a department: %w", ErrInvalid)
	case u.Role != RoleDepartment && u.Department != "":
		return fmt.Errorf("only a department user has a department: %w", ErrInvalid)
	}
	return CheckDisplayName(u.DisplayName)
}

// CheckDisplayName reports whether n may be a user's display name: at most MaxDisplayName
// characters, no leading or trailing space, no control or invisible character ("" is allowed).
func CheckDisplayName(n string) error {
	switch {
	case n != strings.TrimSpace(n):
		return fmt.Errorf("display_name %q: %w: no leading or trailing spaces", n, ErrInvalid)
	case !utf8.ValidString(n) || strings.IndexFunc(n, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return fmt.Errorf("display_name: %w: no control or invisible characters", ErrInvalid)
	case utf8.RuneCountInString(n) > MaxDisplayName:
		return fmt.Errorf("display_name: %w: at most %d characters", ErrInvalid, MaxDisplayName)
	}
	return nil
}
