package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/capmatch/capmatch/models"
)

// jwtSecret returns the access-token signing key: CAPMATCH_JWT_SECRET when set; otherwise one
// generated once and kept, in the data dir for the embedded default, or in the store when the
// store is shared, so that every replica signs with the same key.
func jwtSecret(ctx context.Context, cfg config, settings models.SettingStore) ([]byte, string, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), "environment", nil
	}
	fresh := make([]byte, 48)
	if _, err := rand.Read(fresh); err != nil {
		return nil, "", err
	}
	encoded := []byte(base64.RawStdEncoding.EncodeToString(fresh))
	if !cfg.embedded() {
		v, err := settings.GetOrCreateSetting(ctx, "jwt_secret", encoded)
		if err != nil {
			return nil, "", fmt.Errorf("jwt secret in store: %w", err)
		}
		return v, "store", nil
	}
	path := filepath.Join(cfg.DataDir, "jwt-secret")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, "", fmt.Errorf("%s: the kept JWT secret is shorter than 32 bytes; delete it to generate a new one", path)
		}
		return []byte(s), "data dir", nil
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(path, append(encoded, '\n'), 0o600); err != nil {
			return nil, "", fmt.Errorf("keep jwt secret: %w", err)
		}
		return encoded, "generated", nil
	default:
		return nil, "", fmt.Errorf("read jwt secret: %w", err)
	}
}
