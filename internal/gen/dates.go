package gen

import "sync"

// Dates are handled as day numbers (whole days since 1970-01-01, UTC), the same arithmetic the
// policies use, so "more than N days" in the generator means what it means in a scan.

// civil returns the day number of the calendar date y-m-d (proleptic Gregorian).
func civil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// ymd returns the calendar date of day number n.
func ymd(n int) (y, m, d int) {
	z := n + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// formatDay returns day number n as "YYYY-MM-DD".
func formatDay(n int) string {
	y, m, d := ymd(n)
	b := [10]byte{
		byte('0' + y/1000%10), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-',
		byte('0' + d/10), byte('0' + d%10),
	}
	return string(b[:])
}

// Boxed date strings are shared: a large dataset holds millions of dates, and boxing each one
// into an interface would allocate. The table covers every day the generator can produce.
var dateTable struct {
	once  sync.Once
	first int
	vals  []any
}

const (
	dateTableFrom = 1970
	dateTableTo   = 2200
)

// dateValue returns day number n as a boxed "YYYY-MM-DD" string.
func dateValue(n int) any {
	dateTable.once.Do(func() {
		first, last := civil(dateTableFrom, 1, 1), civil(dateTableTo, 12, 31)
		vals := make([]any, last-first+1)
		for i := range vals {
			vals[i] = formatDay(first + i)
		}
		dateTable.first, dateTable.vals = first, vals
	})
	if i := n - dateTable.first; i >= 0 && i < len(dateTable.vals) {
		return dateTable.vals[i]
	}
	return formatDay(n)
}
