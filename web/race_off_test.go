//go:build !race

package web_test

// tableSample: without the race detector the request tables run every row (see race_on_test.go).
const tableSample = 1
