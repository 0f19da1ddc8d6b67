//go:build race

package api

// raceEnabled says the race detector is on. The long sequential tables of requests (the
// authorization tables, every page in every language) then leave their work to the pass of
// `make test` without it (Makefile, test-go): they send one request at a time, and the race
// detector makes them five to six times slower, past CI's budget.
const raceEnabled = true
