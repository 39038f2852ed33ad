// Package policies embeds the built-in Rego bundle: the ten duties, their tests, the shared
// libraries, the parameters and the settings (the ledger's parameters, settings/ledger.rego).
// It is the default when no --policies folder is given, and the first revision of the policy
// store.
package policies

import "embed"

// FS holds the bundle's files (*.rego and data.json). labels/data.json is the catalogue of the
// collections' fields and enumerated values in Chinese and English (data.labels in Rego).
//
//go:embed duty lib params labels settings
var FS embed.FS
