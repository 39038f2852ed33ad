package conformance

import (
	"fmt"
	"time"
)

// day is a calendar day counted from 1970-01-01, so that "N days after" is plain arithmetic on
// whole calendar days, as DOMAIN.md asks.
type day int

const dateLayout = "2006-01-02"

// parseDay reads a YYYY-MM-DD date.
func parseDay(s string) (day, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return 0, fmt.Errorf("date %q: %w", s, err)
	}
	return day(t.Unix() / 86400), nil
}

// mustDay is parseDay for dates the package writes itself.
func mustDay(s string) day {
	d, err := parseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String formats d as YYYY-MM-DD.
func (d day) String() string {
	return time.Unix(int64(d)*86400, 0).UTC().Format(dateLayout)
}

// year is the calendar year of d.
func (d day) year() int {
	return time.Unix(int64(d)*86400, 0).UTC().Year()
}

// dayOf is the day month/dd of year y.
func dayOf(y int, month time.Month, dd int) day {
	return day(time.Date(y, month, dd, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
