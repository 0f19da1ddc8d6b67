//go:build race

package main

// raceEnabled says the race detector is on. It slows the in-process server's store (FerretDB
// on a Go SQLite) by an order of magnitude (writes took seconds at 26/s), so the real-server
// tests ask for lower rates under it.
const raceEnabled = true
