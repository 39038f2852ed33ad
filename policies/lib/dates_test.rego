package lib.dates_test

import data.lib.dates

# day must equal the nanoseconds of midnight divided by a day's, the definition it speeds up.
_plain_day(d) := time.parse_ns("2006-01-02", d) / dates._ns_per_day

test_day_is_nanoseconds_over_a_day if {
	ds := [
		"1970-01-01", "1970-01-02", "1969-12-31", "1901-12-14", "1901-12-13", "1900-02-28",
		"1900-03-01", "2000-02-29", "2000-03-01", "2024-02-29", "2025-01-01", "2025-03-03",
		"2025-12-31", "2038-01-19", "2038-01-20", "2100-03-01", "2262-04-11",
	]
	wrong := [[d, dates.day(d), _plain_day(d)] | some d in ds; dates.day(d) != _plain_day(d)]
	wrong == []
}

test_day_of_every_day_of_a_leap_year if {
	start := dates.day("2024-01-01")
	wrong := [n |
		some n in numbers.range(start, start + 366)
		dates.day(dates.date(n)) != n
	]
	wrong == []
}

test_between_counts_whole_days if {
	dates.between("2025-01-01", "2025-03-03") == 61
	dates.between("2025-03-03", "2025-01-01") == -61
	dates.between("2024-02-28", "2024-03-01") == 2
}

test_day_of_a_malformed_date_is_undefined if {
	not dates.day("2025-02-30")
	not dates.day("2025-1-01")
}
