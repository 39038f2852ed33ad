# METADATA
# title: 日期工具 / Date helpers
# description: |
#   Whole-calendar-day arithmetic on YYYY-MM-DD strings. Every duty counts days with these
#   functions so that "more than N days" means the same thing everywhere: 2025-01-01 to
#   2025-03-03 is 61 days.
package lib.dates

_ns_per_day := 86400000000000

# day returns the number of whole days from 1970-01-01 to the date string d. It is
# time.parse_ns(d) / _ns_per_day worked out through whole seconds: midnight's nanoseconds end in
# nine zeros, and the seconds of any date from 1901 to 2038 divide by 86400 as small integers,
# which OPA does several times faster than dividing the nanoseconds (a float quotient). Every
# duty turns dates into days, so this is the hottest function of an evaluation.
day(d) := to_number(trim_suffix(format_int(time.parse_ns("2006-01-02", d), 10), "000000000")) / 86400

# date returns the YYYY-MM-DD string of day number n.
date(n) := time.format([n * _ns_per_day, "UTC", "2006-01-02"])

# year returns the calendar year of the date string d as a number.
year(d) := to_number(substring(d, 0, 4))

# in_year returns the day number of month-day md ("MM-DD") in year y.
in_year(y, md) := day(sprintf("%d-%s", [y, md]))

# between returns the whole days from date a to date b (negative when b is before a).
between(a, b) := day(b) - day(a)
