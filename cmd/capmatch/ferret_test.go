package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// serveFerret runs `capmatch ferretdb` with args and returns the URI it prints and its stop.
func serveFerret(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- ferretCommand(ctx, append([]string{"-dir", t.TempDir()}, args...), pw, io.Discard)
		_ = pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var uri string
	select {
	case uri = <-lines:
	case err := <-done:
		cancel()
		t.Fatalf("capmatch ferretdb ended before printing its URI: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("capmatch ferretdb printed no URI within 30 s")
	}
	stop := func() error { cancel(); return <-done }
	return uri, stop
}

func buildInfo(t *testing.T, uri string) bson.M {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	require.NoError(t, err)
	defer c.Disconnect(context.Background())
	var info bson.M
	require.NoError(t, c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info))
	return info
}

// TestFerretCommandServesThroughTheWriteProxy: `capmatch ferretdb` serves FerretDB through the
// write proxy (several API processes keep their conditional writes atomic), or without it with
// -direct.
func TestFerretCommandServesThroughTheWriteProxy(t *testing.T) {
	uri, stop := serveFerret(t)
	require.True(t, strings.HasPrefix(uri, "mongodb://127.0.0.1:"), uri)
	info := buildInfo(t, uri)
	assert.Contains(t, info, "ferretdbVersion")
	assert.Equal(t, "collection", info[embedded.ProxyField])
	require.NoError(t, stop())

	uri, stop = serveFerret(t, "-direct")
	info = buildInfo(t, uri)
	assert.Contains(t, info, "ferretdbVersion")
	assert.NotContains(t, info, embedded.ProxyField)
	require.NoError(t, stop())
}
