# METADATA
# title: 日期工具 / Date helpers
# description: |
#   Whole-calendar-day arithmetic on YYYY-MM-DD strings. Every duty counts days with these
#   functions so that "more than N days" means the same thing everywhere: 2025-01-01 to
#   2025-03-03 is 61 days.
package lib.dates

_ns_per_day := 86400000000000

# day returns the number of whole days from 1970-01-01 to the date string d. It is
# time.parse_ns(d) / _ns_per_day worked out in small integers: a day is 864 × 10^11
# nanoseconds, so midnight's nanoseconds end in eleven zeros and, once they are cut off, what
# is left is the day number times 864, which OPA divides as a small integer (several times
# faster than dividing the nanoseconds, a float quotient, and than day-from-civil arithmetic
# over the date's digits). Every duty turns dates into days, so this is the hottest function of
# an evaluation.
#
# Defined for every date from 1677-09-22 to 2262-04-11 (the nanoseconds of an int64): the
# dates dutycheck accepts, 1900-01-01 to 2199-12-31 (duty.MinDate, duty.MaxDate), lie inside
# with more than 60 years to spare on each side, so a date a policy works out from an accepted
# date by a parameter's days (at most a few thousand) is countable too.
day(d) := to_number(trim_suffix(format_int(time.parse_ns("2006-01-02", d), 10), "00000000000")) / 864

# date returns the YYYY-MM-DD string of day number n.
date(n) := time.format([n * _ns_per_day, "UTC", "2006-01-02"])

# year returns the calendar year of the date string d as a number.
year(d) := to_number(substring(d, 0, 4))

# in_year returns the day number of month-day md ("MM-DD") in year y.
in_year(y, md) := day(sprintf("%d-%s", [y, md]))

# between returns the whole days from date a to date b (negative when b is before a).
between(a, b) := day(b) - day(a)
