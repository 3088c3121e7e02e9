// Package demodata generates organisations to plan: contacts as dirty as
// the ones in the field (missing and unreadable fields, ZIP codes that
// disagree with the state, history of every status, stored plans,
// engagement, campaign targets) and a campaign catalogue, deterministically
// from a seed, in contact-ID order and without holding them all in memory
// (GenerateSeq). Tests, benchmarks, the fixture databases of
// store/sqlite/sqlitefixture and the example programs use it; it does not
// import package testing.
package demodata
