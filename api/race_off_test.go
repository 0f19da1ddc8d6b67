//go:build !race

package api

// tableSample: without the race detector the request tables run every row (see race_on_test.go).
const tableSample = 1
