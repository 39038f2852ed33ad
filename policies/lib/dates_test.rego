package lib.dates_test

import data.lib.dates

# day must equal the nanoseconds of midnight divided by a day's, the definition it speeds up.
_plain_day(d) := time.parse_ns("2006-01-02", d) / dates._ns_per_day

test_day_is_nanoseconds_over_a_day if {
	ds := [
		"1970-01-01", "1970-01-02", "1969-12-31", "1901-12-14", "1901-12-13", "1900-02-28",
		"1900-03-01", "2000-02-29", "2000-03-01", "2024-02-29", "2025-01-01", "2025-03-03",
		"2025-12-31", "2038-01-19", "2038-01-20", "2100-03-01", "2199-12-31", "2262-04-11",
		"1677-09-22", "1899-12-31", "1900-01-01", "2200-01-01",
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

# The dates dutycheck accepts run from 1900-01-01 to 2199-12-31 (duty.MinDate, duty.MaxDate):
# day must count at both ends, and across 1900 and 2100, which are not leap years.
test_day_at_both_ends_of_the_accepted_range if {
	dates.day("1900-01-01") == -25567
	dates.day("1900-02-28") == -25509
	dates.day("1900-03-01") == -25508
	dates.day("2100-02-28") == 47540
	dates.day("2100-03-01") == 47541
	dates.day("2199-03-01") == 83700
	dates.day("2199-12-31") == 84005
	dates.date(-25567) == "1900-01-01"
	dates.date(84005) == "2199-12-31"
	dates.between("1900-01-01", "2199-12-31") == 109572
	dates.in_year(1900, "03-31") == -25478
	dates.in_year(2199, "12-31") == 84005
}

test_day_of_every_day_of_the_first_and_last_years if {
	wrong := [n |
		some start in [dates.day("1900-01-01"), dates.day("2199-01-01")]
		some n in numbers.range(start, start + 364)
		dates.day(dates.date(n)) != n
	]
	wrong == []
	dates.date(dates.day("1900-01-01") + 365) == "1901-01-01"
	dates.date(dates.day("2199-01-01") + 365) == "2200-01-01"
}

test_between_counts_whole_days if {
	dates.between("2025-01-01", "2025-03-03") == 61
	dates.between("2025-03-03", "2025-01-01") == -61
	dates.between("2024-02-28", "2024-03-01") == 2
}
