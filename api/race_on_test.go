//go:build race

package api

// tableSample thins the long sequential tables of requests (the authorization tables, every page
// in every language) under the race detector: they run every tableSample-th row, and `make test`
// runs them whole in its pass without the detector (Makefile, test-go). They send one request at a
// time, and the detector makes them five to six times slower, past CI's budget; the sampled rows
// still put their handlers under it.
const tableSample = 4
