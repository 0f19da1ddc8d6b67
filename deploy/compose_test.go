// Package deploy holds the container image and cluster manifests; its tests check them with the
// tools' own loaders, since no Docker engine or cluster runs where the tests do.
package deploy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestComposeFileIsValid loads docker-compose.yml with the Compose specification's own Go loader
// (schema validation, interpolation, consistency checks) and checks the wiring of the services.
func TestComposeFileIsValid(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv([]string{"CAPMATCH_JWT_SECRET=" + strings.Repeat("x", 48), "CAPMATCH_JWT_PREVIOUS_SECRET=" + strings.Repeat("p", 40)}),
		cli.WithConsistency(true),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := opts.LoadProject(ctx)
	require.NoError(t, err)

	for _, name := range []string{"mongo", "redis", "api"} {
		_, err := p.GetService(name)
		require.NoError(t, err, "service %s", name)
	}
	mongo, _ := p.GetService("mongo")
	assert.True(t, strings.HasPrefix(mongo.Image, "mongo:7"), "MongoDB 7")
	assert.Contains(t, strings.Join(mongo.Command, " "), "--replSet rs0", "single-node replica set")
	require.NotNil(t, mongo.HealthCheck)
	probe := strings.Join(mongo.HealthCheck.Test, " ")
	assert.Contains(t, probe, "rs.initiate", "the health check initiates the replica set")
	// Healthy means primary: rs.status().ok is 1 on a secondary and during an election, and the
	// API (depends_on: service_healthy) would then start against a store that refuses writes.
	assert.Contains(t, probe, "db.hello().isWritablePrimary", "healthy only when the node is the writable primary")
	assert.Regexp(t, `quit\(db\.hello\(\)\.isWritablePrimary \? 0 : 1\)`, probe, "a non-primary exits non-zero")
	assert.NotContains(t, probe, "rs.status().ok", "a replica set's ok is no readiness signal")

	redis, _ := p.GetService("redis")
	assert.True(t, strings.HasPrefix(redis.Image, "redis:7"), "Redis 7")
	require.NotNil(t, redis.HealthCheck)

	api, _ := p.GetService("api")
	require.NotNil(t, api.Build)
	assert.Equal(t, "deploy/Dockerfile", api.Build.Dockerfile)
	require.NotNil(t, api.HealthCheck)

	envOf := func(k string) string {
		v := api.Environment[k]
		require.NotNil(t, v, "api environment sets %s", k)
		return *v
	}
	mu, err := url.Parse(envOf("MONGO_URI"))
	require.NoError(t, err)
	assert.Equal(t, "mongodb", mu.Scheme)
	assert.Equal(t, "mongo", mu.Hostname(), "MONGO_URI points at the mongo service")
	assert.Equal(t, "rs0", mu.Query().Get("replicaSet"))
	ru, err := url.Parse(envOf("REDIS_URL"))
	require.NoError(t, err)
	assert.Equal(t, "redis", ru.Scheme)
	assert.Equal(t, "redis", ru.Hostname(), "REDIS_URL points at the redis service")
	assert.GreaterOrEqual(t, len(envOf("CAPMATCH_JWT_SECRET")), 32, "the secret from the environment is passed through")
	assert.Equal(t, strings.Repeat("p", 40), envOf("CAPMATCH_JWT_PREVIOUS_SECRET"), "the previous secret, for a rotation, is passed through")

	for _, dep := range []string{"mongo", "redis"} {
		d, ok := api.DependsOn[dep]
		require.True(t, ok, "api depends on %s", dep)
		assert.Equal(t, types.ServiceConditionHealthy, d.Condition)
	}
	assert.Contains(t, p.VolumeNames(), "mongo-data")
	assert.Contains(t, p.VolumeNames(), "redis-data")
}

// TestDockerfileIsMultiStageNonRoot checks the image recipe the compose file builds.
func TestDockerfileIsMultiStageNonRoot(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	s := string(b)
	assert.GreaterOrEqual(t, strings.Count(s, "\nFROM "), 1, "a second stage")
	assert.Contains(t, s, "AS build")
	assert.Contains(t, s, "USER nonroot")
	assert.Contains(t, s, "CGO_ENABLED=0")
	assert.Contains(t, s, "./cmd/capmatch")
}
