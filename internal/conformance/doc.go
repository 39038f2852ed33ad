// Package conformance is an independent, executable reading of DOMAIN.md, so that the Rego
// policies are tested against the text, boundary by boundary, and not against their own
// fixtures.
//
// Expected is a plain-Go implementation of the ten duties, written from DOMAIN.md's words
// without reading the policies, that says which violations a scan must report;
// ExpectedWarnings says which warnings. The datasets come from the one generator,
// internal/gen, in its boundary mode (gen.Options{Boundaries: true}): random but valid
// organisations whose dates sit on and around every boundary of every duty relative to an
// as_of date.
//
// The package's tests compare Expected with the engine (internal/scan) over many seeds and
// as_of dates, for the whole dataset and for one department's subtree, and check that every
// policy and reason of DOMAIN.md occurred, so that they cannot pass vacuously; they also check
// the report's order (department, policy, subject id, details; warnings by fails_on first).
// TestConformanceMutated does the same on boundary datasets that random edits have taken where the
// generator never goes (flags flipped, people moved across organs, dates anywhere). Flags:
// -conformance.seeds N (seeds per date, default 6) and -conformance.dump DIR (write the
// dataset of each disagreeing case there); -short runs one seed per date.
package conformance
