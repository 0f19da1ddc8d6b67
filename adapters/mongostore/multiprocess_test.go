package mongostore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests below run the store in two child processes (this test binary, re-executed), as two
// API processes would: separate mongostore.Store instances, separate connection pools, and
// separate in-process document locks, so nothing in-process can make them pass.

const childEnv = "CAPMATCH_STORE_CHILD"

// storeChild is a child's main: it opens the store like an API process does, says how it makes
// conditional writes atomic, waits for "go" on stdin, runs n concurrent operations and prints
// "win <id>" for each that succeeded.
func storeChild() int {
	ctx := context.Background()
	n, _ := strconv.Atoi(os.Getenv("CHILD_N"))
	s, err := mongostore.Open(ctx, os.Getenv("CHILD_URI"), os.Getenv("CHILD_DB"), mongostore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("fatal", err)
		return 1
	}
	defer s.Close(ctx)
	fmt.Println("ready", s.ConditionalWrites())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("fatal", err)
		return 1
	}
	id, tag := os.Getenv("CHILD_ID"), os.Getenv("CHILD_TAG")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s-%02d", tag, i)
			var err error
			switch os.Getenv("CHILD_OP") {
			case "reserve":
				_, err = s.ReserveOfferSlot(ctx, id, name, 100_000, time.Now())
			case "replace":
				err = s.ReplaceNeed(ctx, &models.Need{ID: id, Title: name, Version: 2}, 1)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				fmt.Println("win", name)
			case errors.Is(err, models.ErrConflict):
				fmt.Println("lost", name)
			default:
				fmt.Println("error", name, strings.ReplaceAll(err.Error(), "\n", " "))
			}
		}()
	}
	wg.Wait()
	return 0
}

// child is one running child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	mode  string
}

func startChild(t *testing.T, uri, db, op, id, tag string, n int) *child {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_URI="+uri, "CHILD_DB="+db, "CHILD_OP="+op,
		"CHILD_ID="+id, "CHILD_TAG="+tag, "CHILD_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 2*n+4)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case l := <-c.lines:
		mode, ok := strings.CutPrefix(l, "ready ")
		require.True(t, ok, "child %s: %s", tag, l)
		c.mode = mode
	case <-time.After(30 * time.Second):
		t.Fatalf("child %s did not open the store within 30 s", tag)
	}
	return c
}

// raceInChildren starts two children on the store at uri, lets them run n operations each at
// once, and returns the names of the operations that succeeded and the children's write mode.
func raceInChildren(t *testing.T, uri, db, op, id string, n int) (wins []string, mode string) {
	t.Helper()
	a := startChild(t, uri, db, op, id, "a", n)
	b := startChild(t, uri, db, op, id, "b", n)
	require.Equal(t, a.mode, b.mode)
	for _, c := range []*child{a, b} {
		_, err := io.WriteString(c.stdin, "go\n")
		require.NoError(t, err)
	}
	for _, c := range []*child{a, b} {
		timeout := time.After(60 * time.Second)
		for done := false; !done; {
			select {
			case l, ok := <-c.lines:
				if !ok {
					done = true
					break
				}
				switch {
				case strings.HasPrefix(l, "win "):
					wins = append(wins, strings.TrimPrefix(l, "win "))
				case strings.HasPrefix(l, "lost "):
				default:
					t.Errorf("child: %s", l)
				}
			case <-timeout:
				t.Fatal("a child did not finish within 60 s")
			}
		}
		require.NoError(t, c.cmd.Wait())
	}
	return wins, a.mode
}

// reserveInTwoProcesses runs 20 reservations (10 from each child) on a fresh offer with 3
// slots and returns the winners and the offer as stored.
func reserveInTwoProcesses(t *testing.T, uri string, round int) ([]string, *models.Offer, string) {
	t.Helper()
	db := storetest.NewDBName()
	s := storetest.OpenAt(t, uri, db)
	ctx := context.Background()
	id := fmt.Sprintf("o-%d", round)
	require.NoError(t, s.CreateOffer(ctx, openOffer(id, 3, 1_000_000)))
	wins, mode := raceInChildren(t, uri, db, "reserve", id, 10)
	o, err := s.GetOffer(ctx, id)
	require.NoError(t, err)
	return wins, o, mode
}

// TestReservationsAcrossProcessesThroughTheWriteProxy: two store processes behind the write
// proxy make 20 concurrent reservations on an offer with 3 slots: exactly 3 succeed, and the
// stored counters agree with them.
func TestReservationsAcrossProcessesThroughTheWriteProxy(t *testing.T) {
	uri := storetest.ProxyURI()
	if uri == "" {
		uri = storetest.URI() // MongoDB: atomic by itself
	}
	for round := range 3 {
		wins, o, mode := reserveInTwoProcesses(t, uri, round)
		assert.NotEqual(t, "in-process-locks", mode, "behind the proxy the store puts the condition in the filter")
		assert.Len(t, wins, 3, "round %d: exactly 3 of 20 reservations from two processes succeed", round)
		assert.Equal(t, 3, o.EngagementsUsed, "round %d", round)
		assert.EqualValues(t, 300_000, o.BudgetCommitted, "round %d", round)
		assert.ElementsMatch(t, wins, o.Reservations, "round %d: the stored reservations are the winners", round)
	}
}

// TestVersionedWritesAcrossProcessesThroughTheWriteProxy: two store processes behind the write
// proxy replace one need from the same version 20 times at once: one write wins and is stored.
func TestVersionedWritesAcrossProcessesThroughTheWriteProxy(t *testing.T) {
	uri := storetest.ProxyURI()
	if uri == "" {
		uri = storetest.URI()
	}
	for round := range 3 {
		db := storetest.NewDBName()
		s := storetest.OpenAt(t, uri, db)
		ctx := context.Background()
		require.NoError(t, s.CreateNeed(ctx, &models.Need{ID: "n1", Title: "v1", Version: 1}))
		wins, _ := raceInChildren(t, uri, db, "replace", "n1", 10)
		require.Len(t, wins, 1, "round %d: one of 20 writers of version 1 wins", round)
		got, err := s.GetNeed(ctx, "n1")
		require.NoError(t, err)
		assert.Equal(t, wins[0], got.Title, "round %d: the acknowledged write is the one stored", round)
	}
}

// TestReservationsAcrossProcessesWithoutTheWriteProxy is the control: the same two processes
// straight on FerretDB, where each process's lock knows nothing of the other's, overbook the
// offer or lose updates. It proves that the proxy is what makes the test above pass. Against
// MongoDB (CAPMATCH_TEST_MONGO_URI) there is no race to show, and it checks exactly 3.
func TestReservationsAcrossProcessesWithoutTheWriteProxy(t *testing.T) {
	uri := storetest.DirectURI()
	if uri == "" {
		wins, o, _ := reserveInTwoProcesses(t, storetest.URI(), 0)
		assert.Len(t, wins, 3)
		assert.Equal(t, 3, o.EngagementsUsed)
		return
	}
	const rounds = 5
	broken := 0
	for round := range rounds {
		wins, o, mode := reserveInTwoProcesses(t, uri, round)
		require.Equal(t, "in-process-locks", mode)
		ok := len(wins) == 3 && o.EngagementsUsed == 3 && len(o.Reservations) == 3
		if !ok {
			broken++
		}
		t.Logf("FIGURE without the proxy, round %d: %d of 20 reservations succeeded on 3 slots; stored engagements_used %d, %d reservations, $%d committed",
			round, len(wins), o.EngagementsUsed, len(o.Reservations), o.BudgetCommitted)
	}
	t.Logf("FIGURE without the proxy: %d of %d rounds overbooked or lost a reservation", broken, rounds)
	assert.Positive(t, broken, "two processes straight on FerretDB race (if this fails, FerretDB made conditional writes atomic and the proxy may go)")
}

// TestConditionalWritesBehindTheWriteProxy runs every conditional write once each way through
// the proxy, where the store sends the whole condition in the filter and FerretDB evaluates it
// (arrays, nulls, binary values), instead of checking it on a read under an in-process lock.
func TestConditionalWritesBehindTheWriteProxy(t *testing.T) {
	uri := storetest.ProxyURI()
	if uri == "" {
		uri = storetest.URI()
	}
	s := storetest.OpenAt(t, uri, storetest.NewDBName())
	require.False(t, s.Serialized())
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)

	// Offers: a slot, a release (array membership), a close, a versioned edit.
	require.NoError(t, s.CreateOffer(ctx, openOffer("o1", 1, 500_000)))
	o, err := s.ReserveOfferSlot(ctx, "o1", "e1", 100_000, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"e1"}, o.Reservations)
	_, err = s.ReserveOfferSlot(ctx, "o1", "e2", 100_000, now)
	assert.ErrorIs(t, err, models.ErrConflict, "no slot left")
	o, ok, err := s.CloseFullOffer(ctx, "o1", now)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, models.OfferClosed, o.Status)
	o, err = s.ReleaseOfferSlot(ctx, "o1", "e1", 100_000, now)
	require.NoError(t, err)
	assert.Empty(t, o.Reservations)
	o, err = s.ReleaseOfferSlot(ctx, "o1", "e1", 100_000, now)
	require.NoError(t, err)
	assert.Equal(t, 0, o.EngagementsUsed, "a second release changes nothing")
	edit := *o
	edit.Title, edit.Version = "Renamed", o.Version+1
	require.NoError(t, s.ReplaceOffer(ctx, &edit, o.Version))
	assert.ErrorIs(t, s.ReplaceOffer(ctx, &edit, o.Version), models.ErrConflict)
	assert.ErrorIs(t, s.ReplaceOffer(ctx, &models.Offer{ID: "nope", Version: 2}, 1), models.ErrNotFound)

	// Refresh tokens: retired once (retired_at: null matches an unset field), then a reuse.
	require.NoError(t, s.CreateRefreshToken(ctx, &models.RefreshToken{Hash: "h1", FamilyID: "f", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	rt, err := s.RetireRefreshToken(ctx, "h1", now)
	require.NoError(t, err)
	assert.Nil(t, rt.RetiredAt, "the token as it was before")
	_, err = s.RetireRefreshToken(ctx, "h1", now)
	assert.ErrorIs(t, err, models.ErrConflict, "reuse")

	// Settings: a swap from the current value (a binary comparison) wins once.
	_, err = s.GetOrCreateSetting(ctx, "k", []byte("a"))
	require.NoError(t, err)
	swapped, err := s.SwapSetting(ctx, "k", []byte("a"), []byte("b"))
	require.NoError(t, err)
	assert.True(t, swapped)
	swapped, err = s.SwapSetting(ctx, "k", []byte("a"), []byte("c"))
	require.NoError(t, err)
	assert.False(t, swapped)

	// Versioned replaces and the notification feed.
	require.NoError(t, s.CreateNeed(ctx, &models.Need{ID: "n1", Title: "v1", Version: 1}))
	require.NoError(t, s.ReplaceNeed(ctx, &models.Need{ID: "n1", Title: "v2", Version: 2}, 1))
	assert.ErrorIs(t, s.ReplaceNeed(ctx, &models.Need{ID: "n1", Title: "v2'", Version: 2}, 1), models.ErrConflict)
	for i := range 3 {
		require.NoError(t, s.AppendNotifications(ctx, "org-1", []models.Notification{{ID: strconv.Itoa(i), Kind: "k", CreatedAt: now}}, 2))
	}
	feed, err := s.NotificationFeed(ctx, "org-1")
	require.NoError(t, err)
	require.Len(t, feed, 2)
	assert.Equal(t, "2", feed[1].ID)
}
