package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, ":8080", c.Addr)
	assert.Equal(t, "./data", c.DataDir)
	assert.Equal(t, "capmatch", c.MongoDB)
	assert.True(t, c.embedded())
	assert.True(t, c.Demo, "demo defaults to true in embedded mode")
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.Nil(t, c.SMTP, "no SMTP server: e-mails go to the outbox")
	assert.Equal(t, "http://localhost:8080", c.PublicURL)

	c, err = loadConfig(env(map[string]string{"MONGO_URI": "mongodb://db:27017/?replicaSet=rs0"}))
	require.NoError(t, err)
	assert.False(t, c.embedded())
	assert.False(t, c.Demo, "demo defaults to false on real servers")
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigValidation(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string // empty: valid
	}{
		{"addr ok", map[string]string{"CAPMATCH_ADDR": "127.0.0.1:9090"}, ""},
		{"addr port only", map[string]string{"CAPMATCH_ADDR": ":0"}, ""},
		{"addr no port", map[string]string{"CAPMATCH_ADDR": "localhost"}, "CAPMATCH_ADDR"},
		{"addr bad port", map[string]string{"CAPMATCH_ADDR": ":http-alt"}, "CAPMATCH_ADDR"},
		{"addr port too big", map[string]string{"CAPMATCH_ADDR": ":70000"}, "CAPMATCH_ADDR"},
		{"mongo uri scheme", map[string]string{"MONGO_URI": "postgres://x"}, "MONGO_URI"},
		{"mongo srv ok", map[string]string{"MONGO_URI": "mongodb+srv://cluster.example.org"}, ""},
		{"mongo db bad", map[string]string{"MONGO_DB": "cap.match"}, "MONGO_DB"},
		{"mongo db too long", map[string]string{"MONGO_DB": strings.Repeat("d", 64)}, "MONGO_DB"},
		{"redis ok", map[string]string{"REDIS_URL": "redis://localhost:6379/0"}, ""},
		{"redis bad scheme", map[string]string{"REDIS_URL": "http://localhost"}, "REDIS_URL"},
		{"redis tls ok", map[string]string{"REDIS_URL": "rediss://:pw@cache.example.org:6380/1"}, ""},
		{"redis unix ok", map[string]string{"REDIS_URL": "unix:///run/redis/redis.sock"}, ""},
		{"redis sentinel ok", map[string]string{"REDIS_URL": "redis+sentinel://:pw@s1:26379,s2:26379,s3/mymaster/0"}, ""},
		{"redis sentinel tls ok", map[string]string{"REDIS_URL": "rediss+sentinel://s1,s2/mymaster?sentinel_password=x"}, ""},
		{"redis sentinel no master", map[string]string{"REDIS_URL": "redis+sentinel://s1:26379,s2:26379"}, "REDIS_URL"},
		{"redis sentinel bad db", map[string]string{"REDIS_URL": "redis+sentinel://s1/mymaster/zero"}, "REDIS_URL"},
		{"redis sentinel from replicas", map[string]string{"REDIS_URL": "redis+sentinel://s1/mymaster?replica_only=true"}, "REDIS_URL"},
		{"redis cluster ok", map[string]string{"REDIS_URL": "redis+cluster://n1:7000,n2:7001,n3:7002"}, ""},
		{"redis cluster db", map[string]string{"REDIS_URL": "redis+cluster://n1:7000/1"}, "REDIS_URL"},
		{"redis cluster bad port", map[string]string{"REDIS_URL": "redis+cluster://n1:7000,n2:port"}, "REDIS_URL"},
		{"redis cluster unknown option", map[string]string{"REDIS_URL": "redis+cluster://n1:7000?poolsize=3"}, "REDIS_URL"},
		{"jwt short", map[string]string{"CAPMATCH_JWT_SECRET": "short"}, "CAPMATCH_JWT_SECRET"},
		{"jwt ok", map[string]string{"CAPMATCH_JWT_SECRET": secret}, ""},
		{"jwt previous ok", map[string]string{"CAPMATCH_JWT_SECRET": secret, "CAPMATCH_JWT_PREVIOUS_SECRET": strings.Repeat("p", 32)}, ""},
		{"jwt previous short", map[string]string{"CAPMATCH_JWT_SECRET": secret, "CAPMATCH_JWT_PREVIOUS_SECRET": "short"}, "CAPMATCH_JWT_PREVIOUS_SECRET"},
		{"jwt previous same", map[string]string{"CAPMATCH_JWT_SECRET": secret, "CAPMATCH_JWT_PREVIOUS_SECRET": secret}, "CAPMATCH_JWT_PREVIOUS_SECRET"},
		{"jwt previous alone", map[string]string{"CAPMATCH_JWT_PREVIOUS_SECRET": strings.Repeat("p", 32)}, "CAPMATCH_JWT_PREVIOUS_SECRET"},
		{"demo true", map[string]string{"CAPMATCH_DEMO": "true"}, ""},
		{"demo FALSE", map[string]string{"CAPMATCH_DEMO": "FALSE"}, ""},
		{"demo bad", map[string]string{"CAPMATCH_DEMO": "yes"}, "CAPMATCH_DEMO"},
		{"admin both", map[string]string{"CAPMATCH_ADMIN_EMAIL": "admin@example.org", "CAPMATCH_ADMIN_PASSWORD": "correct horse battery"}, ""},
		{"admin email only", map[string]string{"CAPMATCH_ADMIN_EMAIL": "admin@example.org"}, "CAPMATCH_ADMIN_PASSWORD"},
		{"admin password only", map[string]string{"CAPMATCH_ADMIN_PASSWORD": "correct horse battery"}, "CAPMATCH_ADMIN_EMAIL"},
		{"admin bad email", map[string]string{"CAPMATCH_ADMIN_EMAIL": "Admin <admin@example.org>", "CAPMATCH_ADMIN_PASSWORD": "correct horse battery"}, "CAPMATCH_ADMIN_EMAIL"},
		{"admin short password", map[string]string{"CAPMATCH_ADMIN_EMAIL": "admin@example.org", "CAPMATCH_ADMIN_PASSWORD": "short"}, "CAPMATCH_ADMIN_PASSWORD"},
		{"admin common password", map[string]string{"CAPMATCH_ADMIN_EMAIL": "admin@example.org", "CAPMATCH_ADMIN_PASSWORD": "password1234"}, "CAPMATCH_ADMIN_PASSWORD"},
		{"log level", map[string]string{"CAPMATCH_LOG_LEVEL": "debug"}, ""},
		{"log level bad", map[string]string{"CAPMATCH_LOG_LEVEL": "loud"}, "CAPMATCH_LOG_LEVEL"},
		{"profiler on loopback", map[string]string{"CAPMATCH_PPROF_ADDR": "127.0.0.1:6060"}, ""},
		{"profiler on localhost", map[string]string{"CAPMATCH_PPROF_ADDR": "localhost:6060"}, ""},
		{"profiler on every interface", map[string]string{"CAPMATCH_PPROF_ADDR": ":6060"}, "CAPMATCH_PPROF_ADDR"},
		{"profiler on a public address", map[string]string{"CAPMATCH_PPROF_ADDR": "0.0.0.0:6060"}, "CAPMATCH_PPROF_ADDR"},
		{"profiler without port", map[string]string{"CAPMATCH_PPROF_ADDR": "127.0.0.1"}, "CAPMATCH_PPROF_ADDR"},
		{"reconcile interval", map[string]string{"CAPMATCH_RECONCILE_INTERVAL": "5m"}, ""},
		{"rankings in memory", map[string]string{"CAPMATCH_RANKINGS_IN_MEMORY": "4096", "CAPMATCH_EXPLAINED_LINES": "8192"}, ""},
		{"rankings in memory not a number", map[string]string{"CAPMATCH_RANKINGS_IN_MEMORY": "lots"}, "CAPMATCH_RANKINGS_IN_MEMORY"},
		{"explained lines zero", map[string]string{"CAPMATCH_EXPLAINED_LINES": "0"}, "CAPMATCH_EXPLAINED_LINES"},
		{"reconcile interval not a duration", map[string]string{"CAPMATCH_RECONCILE_INTERVAL": "often"}, "CAPMATCH_RECONCILE_INTERVAL"},
		{"reconcile interval too short", map[string]string{"CAPMATCH_RECONCILE_INTERVAL": "10ms"}, "CAPMATCH_RECONCILE_INTERVAL"},
		{"embedded sync normal", map[string]string{"CAPMATCH_EMBEDDED_SYNC": "normal"}, ""},
		{"embedded sync full", map[string]string{"CAPMATCH_EMBEDDED_SYNC": "FULL"}, ""},
		{"embedded sync off", map[string]string{"CAPMATCH_EMBEDDED_SYNC": "off"}, "CAPMATCH_EMBEDDED_SYNC"},
		{"smtp ok", map[string]string{"CAPMATCH_SMTP_URL": "smtp://desk:secret@mail.example.org:587", "CAPMATCH_SMTP_FROM": "capmatch <noreply@capmatch.example.org>"}, ""},
		{"smtps ok", map[string]string{"CAPMATCH_SMTP_URL": "smtps://mail.example.org", "CAPMATCH_SMTP_FROM": "noreply@capmatch.example.org"}, ""},
		{"smtp bad scheme", map[string]string{"CAPMATCH_SMTP_URL": "http://mail.example.org", "CAPMATCH_SMTP_FROM": "noreply@capmatch.example.org"}, "CAPMATCH_SMTP_URL"},
		{"smtp no host", map[string]string{"CAPMATCH_SMTP_URL": "smtp://", "CAPMATCH_SMTP_FROM": "noreply@capmatch.example.org"}, "CAPMATCH_SMTP_URL"},
		{"smtp bad parameter", map[string]string{"CAPMATCH_SMTP_URL": "smtp://u:p@mail.example.org?tls=0", "CAPMATCH_SMTP_FROM": "noreply@capmatch.example.org"}, "CAPMATCH_SMTP_URL"},
		{"smtp without from", map[string]string{"CAPMATCH_SMTP_URL": "smtp://mail.example.org"}, "CAPMATCH_SMTP_FROM"},
		{"smtp bad from", map[string]string{"CAPMATCH_SMTP_URL": "smtp://mail.example.org", "CAPMATCH_SMTP_FROM": "capmatch"}, "CAPMATCH_SMTP_FROM"},
		{"public url ok", map[string]string{"CAPMATCH_PUBLIC_URL": "https://capmatch.example.org/"}, ""},
		{"public url relative", map[string]string{"CAPMATCH_PUBLIC_URL": "capmatch.example.org"}, "CAPMATCH_PUBLIC_URL"},
		{"public url with query", map[string]string{"CAPMATCH_PUBLIC_URL": "https://capmatch.example.org/?x=1"}, "CAPMATCH_PUBLIC_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.env))
			if tt.wantVar == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var ce *configError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.wantVar, ce.Var)
			assert.True(t, strings.HasPrefix(err.Error(), "configuration: "+tt.wantVar+": "), err.Error())
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

// TestSMTPURLErrorNeverShowsThePassword: a bad CAPMATCH_SMTP_URL is named in one line that does
// not repeat the URL (it may carry a password).
func TestSMTPURLErrorNeverShowsThePassword(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"CAPMATCH_SMTP_URL": "smtp://desk:hunter2-secret@mail.example.org:99999"}))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "configuration: CAPMATCH_SMTP_URL: "), err.Error())
	assert.NotContains(t, err.Error(), "hunter2-secret")
	c, err := loadConfig(env(map[string]string{"CAPMATCH_PUBLIC_URL": "https://capmatch.example.org/"}))
	require.NoError(t, err)
	assert.Equal(t, "https://capmatch.example.org", c.PublicURL)
}

// TestRedisURLErrorNeverShowsThePassword: a bad REDIS_URL, in any of its forms, is refused in
// one line that does not repeat the password.
func TestRedisURLErrorNeverShowsThePassword(t *testing.T) {
	for _, u := range []string{
		"redis://app:hunter2-secret@cache.example.org:6379/zero",
		"redis://app:hunter2-secret@cache example.org/0",
		"redis+sentinel://app:hunter2-secret@s1:26379,s2:port/mymaster",
		"redis+sentinel://app:hunter2-secret@s1:26379/mymaster?sentinel_password=hunter2-secret&pool_size=x",
		"redis+cluster://app:hunter2-secret@n1:7000/3",
	} {
		_, err := loadConfig(env(map[string]string{"REDIS_URL": u}))
		require.Error(t, err, u)
		assert.True(t, strings.HasPrefix(err.Error(), "configuration: REDIS_URL: "), err.Error())
		assert.NotContains(t, err.Error(), "hunter2-secret", u)
	}
}
