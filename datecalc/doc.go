// Package datecalc holds the calendar arithmetic of emailsched: a compact
// civil Date, inclusive date intervals, anniversaries with the Feb 29 rule,
// and the stable hash that makes plans reproducible across machines.
//
// # Civil dates
//
// Birthdays, effective dates and send dates are civil dates, never instants:
// a Date has no time of day and no time zone. Convert an instant with
// FromTime (in the instant's own location) or Today (in a given location).
//
// # Normalisation rules
//
//   - Parse accepts YYYY-MM-DD and ignores a time part that follows a space
//     or a 'T' ("1955-05-01 00:00:00" is 1955-05-01); nothing else is
//     normalised.
//   - New rejects dates that do not exist instead of rolling them over.
//   - AnniversaryIn and NextAnniversary turn Feb 29 into Feb 28 in years that
//     are not leap years, in every direction (the year before and the year
//     after alike).
//   - AddDays clamps to years 1-9999; all methods keep the zero Date zero.
//
// # The stable hash
//
// StableHash is FNV-1a 64 over "{contact_id}_{email_type}_{event_year}" and
// is part of the storage contract; Spread and Jitter derive the catch-up day
// and the smoothing jitter from it.
package datecalc
